//! Kubemate's tenant gateways.
//!
//! This crate will own the per-namespace Traefik entry point, the GatewayClass and Gateway
//! created for each tenant namespace, HTTPRoutes (hosts, path matches, weighted backends for
//! canary releases), legacy Traefik IngressRoutes and their conversion, and the Traefik
//! middlewares for rate limiting and circuit breaking. It reaches the cluster only through
//! `kubemate_core::ClusterClient`.
