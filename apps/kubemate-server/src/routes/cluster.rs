//! Cluster-scoped objects: nodes (with their capacity and allocation), persistent volumes,
//! storage classes, and (administrators only) custom resource definitions.

use axum::{Json, extract::State, http::StatusCode};
use kubemate_core::{
    DynamicObject, WriteOptions,
    access::Operation as _,
    catalog::{Kind, Operation},
    nodes, resources,
};
use kubemate_rbac::AdminArea;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    DeleteQuery, Deleted, KubeObject, WriteQuery, cluster_kind, require_op,
    resources::{ListQuery, deleted, list_objects},
};
use crate::{
    audit::Audit,
    auth::AuthUser,
    error::{ApiError, ApiResult, ErrorBody},
    extract::{Body, Params},
    params::{ClusterCollectionPath, ClusterObjectPath, ValidPath, check_name},
    state::AppState,
};

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, replace, delete))
}

fn is_nodes(kind: &Kind) -> bool {
    kind.plural == "nodes" && kind.group.is_empty()
}

/// Resolves the kind and checks the admin-only area (the requests themselves are the
/// operation's to declare).
fn resolve(user: &AuthUser, plural: &str) -> ApiResult<&'static Kind> {
    let kind = cluster_kind(plural)?;
    if kind.plural == "customresourcedefinitions" {
        user.require_area(AdminArea::CustomResources)?;
    }
    Ok(kind)
}

/// Lists the objects of a cluster-scoped kind (nodes: summaries with allocation and totals).
#[utoipa::path(get, path = "/api/v1/{plural}", tag = "cluster",
    params(("plural" = String, Path, description = "nodes, persistentvolumes, storageclasses, customresourcedefinitions"), ListQuery),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    ValidPath(ClusterCollectionPath { plural }): ValidPath<ClusterCollectionPath>,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
    Params(query): Params<ListQuery>,
) -> ApiResult<Json<Value>> {
    let kind = resolve(&user, &plural)?;
    if is_nodes(kind) {
        // The node view is the whole cluster: a query is checked, not applied.
        resources::List {
            rt: kind.resource_type(),
            ns: String::new(),
            opts: query.options()?,
        }
        .validate()?;
        let (items, totals) = state.run(&user, &audit, &nodes::ListNodes).await?;
        return Ok(Json(
            serde_json::json!({ "items": items, "totals": totals }),
        ));
    }
    Ok(Json(
        list_objects(&state, &user, &audit, kind, "", &query).await?,
    ))
}

/// Creates a cluster-scoped object.
#[utoipa::path(post, path = "/api/v1/{plural}", tag = "cluster",
    params(("plural" = String, Path), WriteQuery), request_body = KubeObject,
    responses((status = 201, body = KubeObject), (status = 403, body = ErrorBody),
              (status = 404, description = "Unknown resource type", body = ErrorBody),
              (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    ValidPath(ClusterCollectionPath { plural }): ValidPath<ClusterCollectionPath>,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
    Params(query): Params<WriteQuery>,
    Body(obj): Body<DynamicObject>,
) -> ApiResult<(StatusCode, Json<DynamicObject>)> {
    audit.update(|e| e.name = obj.metadata.name.clone());
    let kind = resolve(&user, &plural)?;
    if let Some(name) = obj.metadata.name.as_deref().filter(|n| !n.is_empty()) {
        kind.check_name(name)?;
    }
    require_op(kind, Operation::Create)?;
    let op = resources::Create {
        rt: kind.resource_type(),
        ns: String::new(),
        obj,
        opts: WriteOptions {
            dry_run: query.dry_run,
        },
    };
    let created = state.run(&user, &audit, &op).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Reads one cluster-scoped object (a node: with its Pods' demand and its events).
#[utoipa::path(get, path = "/api/v1/{plural}/{name}", tag = "cluster",
    params(("plural" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = KubeObject), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    ValidPath(ClusterObjectPath { plural, name }): ValidPath<ClusterObjectPath>,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
) -> ApiResult<Json<Value>> {
    let kind = resolve(&user, &plural)?;
    check_name(kind, &name)?;
    let value = if is_nodes(kind) {
        serde_json::to_value(
            state
                .run(
                    &user,
                    &audit,
                    &nodes::GetNode {
                        name: name.to_string(),
                    },
                )
                .await?,
        )
    } else {
        let op = resources::Get {
            rt: kind.resource_type(),
            ns: String::new(),
            name: name.to_string(),
        };
        serde_json::to_value(state.run(&user, &audit, &op).await?)
    };
    Ok(Json(value.map_err(ApiError::internal)?))
}

/// Replaces a cluster-scoped object (resourceVersion required, as for namespaced ones).
#[utoipa::path(put, path = "/api/v1/{plural}/{name}", tag = "cluster",
    params(("plural" = String, Path), ("name" = String, Path), WriteQuery), request_body = KubeObject,
    responses((status = 200, body = KubeObject), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn replace(
    ValidPath(ClusterObjectPath { plural, name }): ValidPath<ClusterObjectPath>,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
    Params(query): Params<WriteQuery>,
    Body(obj): Body<DynamicObject>,
) -> ApiResult<Json<DynamicObject>> {
    let kind = resolve(&user, &plural)?;
    check_name(kind, &name)?;
    require_op(kind, Operation::Update)?;
    let op = resources::Update {
        rt: kind.resource_type(),
        ns: String::new(),
        name: name.to_string(),
        obj,
        opts: WriteOptions {
            dry_run: query.dry_run,
        },
    };
    Ok(Json(state.run(&user, &audit, &op).await?))
}

/// Deletes a cluster-scoped object.
#[utoipa::path(delete, path = "/api/v1/{plural}/{name}", tag = "cluster",
    params(("plural" = String, Path), ("name" = String, Path), DeleteQuery),
    responses((status = 200, body = Deleted), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(
    ValidPath(ClusterObjectPath { plural, name }): ValidPath<ClusterObjectPath>,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
    Params(query): Params<DeleteQuery>,
) -> ApiResult<(StatusCode, Json<Deleted>)> {
    let kind = resolve(&user, &plural)?;
    check_name(kind, &name)?;
    require_op(kind, Operation::Delete)?;
    let op = resources::Delete {
        rt: kind.resource_type(),
        ns: String::new(),
        name: name.to_string(),
        orphan: query.orphan,
    };
    Ok(deleted(state.run(&user, &audit, &op).await?))
}
