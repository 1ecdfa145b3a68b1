//! The routes, one module per area. Each handler authenticates (the [`AuthUser`] extractor),
//! parses its input and hands a core operation to the pipeline ([`crate::pipeline`]), which
//! authorizes what the operation declares, audits, and runs it: reads with the server's
//! client, writes with the client impersonating the caller's ServiceAccount.
//!
//! [`AuthUser`]: crate::auth::AuthUser

use kubemate_core::{
    Code,
    catalog::{self, Kind, Operation},
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;

pub mod apps;
pub mod audit;
pub mod cluster;
pub mod health;
pub mod logs;
pub mod namespaces;
pub mod resources;
pub mod roles;
pub mod session;
pub mod users;
pub mod workloads;

/// Declares a schema that is any JSON object, for bodies whose shape belongs to Kubernetes or
/// to a library type without a schema of its own.
macro_rules! object_schema {
    ($(#[$doc:meta])* $name:ident, $description:literal) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .description(Some($description))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

object_schema!(
    /// A Kubernetes object as JSON.
    KubeObject,
    "A Kubernetes object: apiVersion, kind, metadata and the kind's own fields"
);

/// What a delete did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Deleted {
    /// `Deleted`, or `Pending` while finalizers run.
    pub status: &'static str,
}

fn unknown_resource(plural: &str) -> ApiError {
    ApiError::new(
        Code::NotFound,
        format!("the server doesn't have a resource type \"{plural}\""),
    )
}

/// The catalog kind of a namespaced plural.
pub(crate) fn namespaced_kind(plural: &str) -> Result<&'static Kind, ApiError> {
    match catalog::by_plural(plural) {
        Some(k) if k.namespaced => Ok(k),
        _ => Err(unknown_resource(plural)),
    }
}

/// The catalog kind of a cluster-scoped plural (namespaces have routes of their own).
pub(crate) fn cluster_kind(plural: &str) -> Result<&'static Kind, ApiError> {
    match catalog::by_plural(plural) {
        Some(k) if !k.namespaced && k.plural != "namespaces" => Ok(k),
        _ => Err(unknown_resource(plural)),
    }
}

/// Refuses (422) an operation the catalog does not offer on a kind.
pub(crate) fn require_op(kind: &Kind, op: Operation) -> Result<(), ApiError> {
    if kind.supports(op) {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::Unsupported,
            format!("{op:?} is not supported on {}", kind.kind).to_lowercase(),
        ))
    }
}

/// The query of a write.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct WriteQuery {
    /// Validate on the apiserver without persisting.
    #[serde(default)]
    pub dry_run: bool,
}

/// The query of a delete.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Leave the object's dependents in place.
    #[serde(default)]
    pub orphan: bool,
}
