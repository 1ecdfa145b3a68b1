//! The caller's namespaces: only those their roles cover, never the others.

use axum::{Json, extract::State};
use futures::future::join_all;
use kubemate_core::{
    DynamicObject, ErrorKind, ListOptions, ResourceType, catalog,
    resources::{self, Summary},
};
use kubemate_rbac::{Decision, Namespaces, Request};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::KubeObject;
use crate::{
    auth::AuthUser,
    error::{ApiError, ApiResult, ErrorBody},
    params::{NamespacePath, ValidPath},
    state::AppState,
};

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get))
}

fn namespace_type() -> ResourceType {
    catalog::by_plural("namespaces")
        .map(|k| k.resource_type())
        .unwrap_or_else(|| ResourceType::new("", "v1", "Namespace", "namespaces", false))
}

/// A page of namespace rows.
#[derive(Debug, Serialize, ToSchema)]
pub struct NamespaceList {
    /// The namespaces, by name.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Summary>,
}

/// The existing namespaces among those `user` may use: one list when they may use all, one
/// read per namespace otherwise (never every namespace of the cluster for a user of one).
pub(crate) async fn visible(state: &AppState, user: &AuthUser) -> ApiResult<Vec<Summary>> {
    let rt = namespace_type();
    match user.namespaces() {
        Namespaces::All => {
            let page = resources::list_summaries(&*state.cluster, &rt, "", &ListOptions::default())
                .await?;
            Ok(page.items)
        }
        Namespaces::Only(names) => {
            let reads = names.iter().map(|n| state.cluster.get(&rt, "", n));
            let mut out = Vec::new();
            for found in join_all(reads).await {
                match found {
                    Ok(obj) => out.push(resources::summarize(&rt, &obj)),
                    Err(e) if e.is(ErrorKind::NotFound) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(out)
        }
    }
}

/// The namespaces the caller may use.
#[utoipa::path(get, path = "/api/v1/namespaces", tag = "namespaces",
    responses((status = 200, body = NamespaceList), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(user: AuthUser, State(state): State<AppState>) -> ApiResult<Json<NamespaceList>> {
    Ok(Json(NamespaceList {
        items: visible(&state, &user).await?,
    }))
}

/// True when `user` may read namespace `ns`: a role in that namespace (as for the list), or
/// the permission to `get namespaces` there.
fn may_read(user: &AuthUser, ns: &str) -> bool {
    user.sees(ns)
        || user.policy.authorize(
            &user.name,
            &Request::namespaced("get", "", "namespaces", ns),
        ) == Decision::Allow
}

/// One namespace the caller may use; any other is a 404, existing or not.
#[utoipa::path(get, path = "/api/v1/namespaces/{ns}", tag = "namespaces",
    params(("ns" = String, Path)),
    responses((status = 200, body = KubeObject), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    ValidPath(NamespacePath { ns }): ValidPath<NamespacePath>,
    user: AuthUser,
    State(state): State<AppState>,
) -> ApiResult<Json<DynamicObject>> {
    if !may_read(&user, &ns) {
        return Err(ApiError::not_found("namespaces", &ns).denied());
    }
    let obj = state
        .cluster
        .get(&namespace_type(), "", &ns)
        .await
        .map_err(|e| {
            if e.is(ErrorKind::NotFound) {
                ApiError::not_found("namespaces", &ns)
            } else {
                e.into()
            }
        })?;
    Ok(Json(obj))
}
