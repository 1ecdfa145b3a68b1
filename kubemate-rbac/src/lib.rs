//! Kubemate's permission model.
//!
//! This crate will own the `User` and `Role` custom resources (group `kubemate.io`), the
//! Kubernetes RBAC objects derived from them (ServiceAccounts, Roles, ClusterRoles and their
//! bindings), the authorizer that decides whether a user may perform a verb on a kind in a
//! namespace, password hashing and the signed login tokens. It reaches the cluster only through
//! `kubemate_core::ClusterClient`.
