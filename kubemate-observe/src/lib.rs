//! Kubemate's observability.
//!
//! This crate will own the clients for the Prometheus, Loki and Alertmanager HTTP APIs, the
//! dashboard aggregation (cluster CPU, memory, disk, pods, nodes, warnings, alerts), alert rules
//! for metrics and for logs, and the periodic cluster inspection against best practices. It
//! reaches the cluster only through `kubemate_core::ClusterClient`.
