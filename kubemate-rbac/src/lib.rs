//! Kubemate's permission model.
//!
//! Users and roles are custom resources (group `kubemate.io`): [`User`] and [`Role`]. They
//! are the single source of truth, from which Kubemate
//!
//! - derives Kubernetes RBAC objects ([`derive()`]) and keeps the cluster in line with them
//!   ([`reconcile()`]): a ServiceAccount per user, a Role or ClusterRole per role and the
//!   bindings between them;
//! - decides requests in memory ([`Policy`]): may this user do this verb on this resource in
//!   this namespace, which namespaces and console sections may they see, are they an
//!   administrator; with the same answers as the apiserver gives for the derived RBAC;
//! - refuses escalation: nobody grants more than they hold, nor changes their own roles;
//! - logs users in ([`Rbac::login`]) with argon2id password hashes and signed, expiring,
//!   revocable tokens, whose signing key can be rotated ([`Rbac::rotate_token_key`]).
//!
//! [`Rbac`] gathers the operations on a cluster; [`Rbac::client_for`] gives the client that
//! impersonates a user's ServiceAccount, so that Kubernetes enforces the same permissions
//! even if Kubemate's own check failed. Everything reaches the cluster through
//! [`kubemate_core::ClusterClient`].

pub mod authorizer;
pub mod crd;
pub mod derive;
pub mod error;
pub mod ops;
pub mod password;
pub mod reconcile;
pub mod resources;
pub mod service;
pub mod token;

pub use authorizer::{AdminArea, Decision, Policy, Request, menu};
pub use crd::{crd_yaml, crds, install_crds};
pub use derive::{Derived, derive};
pub use error::{DenyReason, Error, Result};
pub use password::Password;
pub use reconcile::{Report, Scope, reconcile};
pub use resources::{
    ADMIN_ROLE, Namespaces, PasswordHash, Role, RoleSpec, Rule, User, UserSpec, UserStatus,
};
pub use service::keyring::verify_token;
pub use service::{Actor, Bootstrap, Config, Login, NewUser, Rbac, Rotation, impersonating_client};
pub use token::{Claims, KeyRing, Token, TokenKey};

#[cfg(any(test, feature = "test-util"))]
pub mod testing;
