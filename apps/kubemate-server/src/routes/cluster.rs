//! Cluster-scoped objects: nodes (with their capacity and allocation), persistent volumes,
//! storage classes, and (administrators only) custom resource definitions.

use axum::{Json, extract::State, http::StatusCode};
use kubemate_core::{
    DynamicObject, WriteOptions,
    catalog::{Kind, Operation},
    nodes, resources,
};
use kubemate_rbac::{AdminArea, Request};
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    DeleteQuery, Deleted, KubeObject, WriteQuery, cluster_kind, object_error, require_op,
    resources::{ListQuery, align, deleted, list_objects},
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

/// Resolves the kind and checks the admin-only area and the verbs.
fn authorize(user: &AuthUser, plural: &str, verbs: &[&str]) -> ApiResult<&'static Kind> {
    let kind = cluster_kind(plural)?;
    if kind.plural == "customresourcedefinitions" {
        user.require_area(AdminArea::CustomResources)?;
    }
    let mut requests: Vec<Request<'_>> = verbs
        .iter()
        .map(|v| Request::cluster(v, kind.group, kind.plural))
        .collect();
    // Node views count the Pods of every namespace and show the node's events.
    if is_nodes(kind) && verbs.contains(&"get") {
        requests.push(Request::cluster("list", "", "pods"));
        requests.push(Request::cluster("list", "", "events"));
    } else if is_nodes(kind) && verbs.contains(&"list") {
        requests.push(Request::cluster("list", "", "pods"));
    }
    user.allow(&requests)?;
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
    State(state): State<AppState>,
    Params(query): Params<ListQuery>,
) -> ApiResult<Json<Value>> {
    let kind = authorize(&user, &plural, &["list"])?;
    if is_nodes(kind) {
        query.options()?;
        let (items, totals) = nodes::list(&*state.cluster).await?;
        return Ok(Json(
            serde_json::json!({ "items": items, "totals": totals }),
        ));
    }
    Ok(Json(list_objects(&state, kind, "", &query).await?))
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
    Body(mut obj): Body<DynamicObject>,
) -> ApiResult<(StatusCode, Json<DynamicObject>)> {
    audit.update(|e| e.name = obj.metadata.name.clone());
    let kind = authorize(&user, &plural, &["create"])?;
    if let Some(name) = obj.metadata.name.as_deref().filter(|n| !n.is_empty()) {
        kind.check_name(name)?;
    }
    require_op(kind, Operation::Create)?;
    obj.metadata.namespace = None;
    audit.begin().await?;
    let client = state.rbac.client_for(&user.name)?;
    let opts = WriteOptions {
        dry_run: query.dry_run,
    };
    let created = resources::create(&*client, &kind.resource_type(), "", &obj, &opts).await?;
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
    State(state): State<AppState>,
) -> ApiResult<Json<Value>> {
    let kind = authorize(&user, &plural, &["get"])?;
    check_name(kind, &name)?;
    let value = if is_nodes(kind) {
        let detail = nodes::get(&*state.cluster, &name)
            .await
            .map_err(object_error(kind, &name))?;
        serde_json::to_value(detail)
    } else {
        let obj = state
            .cluster
            .get(&kind.resource_type(), "", &name)
            .await
            .map_err(object_error(kind, &name))?;
        serde_json::to_value(obj)
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
    Body(mut obj): Body<DynamicObject>,
) -> ApiResult<Json<DynamicObject>> {
    let kind = authorize(&user, &plural, &["update"])?;
    check_name(kind, &name)?;
    require_op(kind, Operation::Update)?;
    align(&mut obj, None, Some(&name))?;
    obj.metadata.namespace = None;
    audit.begin().await?;
    let client = state.rbac.client_for(&user.name)?;
    let opts = WriteOptions {
        dry_run: query.dry_run,
    };
    let updated = resources::update(&*client, &kind.resource_type(), "", &obj, &opts)
        .await
        .map_err(object_error(kind, &name))?;
    Ok(Json(updated))
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
    let kind = authorize(&user, &plural, &["delete"])?;
    check_name(kind, &name)?;
    require_op(kind, Operation::Delete)?;
    audit.begin().await?;
    let client = state.rbac.client_for(&user.name)?;
    let outcome = resources::delete(&*client, &kind.resource_type(), "", &name, query.orphan)
        .await
        .map_err(object_error(kind, &name))?;
    Ok(deleted(outcome))
}
