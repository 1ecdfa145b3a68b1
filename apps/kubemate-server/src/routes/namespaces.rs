//! The caller's namespaces: only those their roles cover, never the others. Both routes run a
//! core operation through the pipeline's namespace reads ([`AppState::run_namespaces`]).

use axum::{Json, extract::State};
use kubemate_core::{
    DynamicObject,
    resources::{self, Summary, namespace_type},
};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::KubeObject;
use crate::{
    audit::Audit,
    auth::AuthUser,
    error::{ApiResult, ErrorBody},
    params::{NamespacePath, ValidPath},
    pipeline::namespaces_of,
    state::AppState,
};

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get))
}

/// A page of namespace rows.
#[derive(Debug, Serialize, ToSchema)]
pub struct NamespaceList {
    /// The namespaces, by name.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Summary>,
}

/// The namespaces the caller may use.
#[utoipa::path(get, path = "/api/v1/namespaces", tag = "namespaces",
    responses((status = 200, body = NamespaceList), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
) -> ApiResult<Json<NamespaceList>> {
    let items = state
        .run_namespaces(&user, &audit, &namespaces_of(&user))
        .await?;
    Ok(Json(NamespaceList { items }))
}

/// One namespace the caller may use; any other is a 404, existing or not.
#[utoipa::path(get, path = "/api/v1/namespaces/{ns}", tag = "namespaces",
    params(("ns" = String, Path)),
    responses((status = 200, body = KubeObject), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    ValidPath(NamespacePath { ns }): ValidPath<NamespacePath>,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
) -> ApiResult<Json<DynamicObject>> {
    let op = resources::Get {
        rt: namespace_type(),
        ns: String::new(),
        name: ns.into_string(),
    };
    Ok(Json(state.run_namespaces(&user, &audit, &op).await?))
}
