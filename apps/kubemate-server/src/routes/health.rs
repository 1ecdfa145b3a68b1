//! Liveness and readiness probes: no token, no audit record.

use axum::{Json, extract::State};
use kubemate_core::{Code, ResourceType};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    error::{ApiError, ApiResult, ErrorBody},
    state::AppState,
};

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// A probe's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The server can serve: the cluster answers and Kubemate's namespace and token key are there.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    let ns = ResourceType::new("", "v1", "Namespace", "namespaces", false);
    state
        .cluster
        .get(&ns, "", &state.rbac.config().namespace)
        .await
        .map_err(|e| ApiError::new(Code::Unavailable, "").with_detail(e))?;
    state
        .rbac
        .token_keys()
        .await
        .map_err(|e| ApiError::new(Code::Unavailable, "").with_detail(e))?;
    Ok(Json(Health { status: "ok" }))
}
