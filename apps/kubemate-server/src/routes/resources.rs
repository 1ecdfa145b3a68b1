//! Namespaced objects of every catalogued kind: list, create, get, replace, delete.

use axum::{Json, extract::State, http::StatusCode};
use kubemate_core::{
    DeleteOutcome, DynamicObject, ListOptions, WriteOptions,
    catalog::{Kind, Operation},
    resources,
    selector::{FieldSelector, LabelSelector},
};
use kubemate_rbac::Request;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    DeleteQuery, Deleted, KubeObject, WriteQuery, namespaced_kind, object_error, require_op,
};
use crate::{
    audit::Audit,
    auth::AuthUser,
    error::{ApiError, ApiResult, ErrorBody},
    extract::{Body, Params},
    params::{CollectionPath, ObjectPath, ValidPath, check_name},
    state::AppState,
};

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, replace, delete))
}

/// The query of a list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Label selector, Kubernetes syntax (`app=web,tier in (a,b)`).
    pub label_selector: Option<String>,
    /// Field selector, Kubernetes syntax (`status.phase=Running`).
    pub field_selector: Option<String>,
    /// Page size.
    #[param(value_type = Option<u64>, minimum = 0, maximum = 4_294_967_295_u64)]
    pub limit: Option<u32>,
    /// Continue token of the previous page.
    #[serde(rename = "continue")]
    #[param(rename = "continue")]
    pub continue_token: Option<String>,
    /// `summary` for table rows instead of whole objects.
    #[param(schema_with = crate::openapi::list_view)]
    pub view: Option<String>,
}

impl ListQuery {
    /// The list options, selectors checked first so a malformed one costs no cluster call.
    pub fn options(&self) -> ApiResult<ListOptions> {
        if let Some(s) = &self.label_selector {
            LabelSelector::parse(s)?;
        }
        if let Some(s) = &self.field_selector {
            FieldSelector::parse(s)?;
        }
        if let Some(v) = self
            .view
            .as_deref()
            .filter(|v| *v != "summary" && *v != "full")
        {
            return Err(ApiError::invalid_field(
                "view",
                format!("\"{v}\" is not one of summary, full"),
            ));
        }
        Ok(ListOptions {
            label_selector: self.label_selector.clone(),
            field_selector: self.field_selector.clone(),
            limit: self.limit,
            continue_token: self.continue_token.clone(),
        })
    }

    /// True when table rows are asked for.
    pub fn summary(&self) -> bool {
        self.view.as_deref() == Some("summary")
    }
}

/// Lists with the server's client (after authorization), as whole objects or table rows.
pub(crate) async fn list_objects(
    state: &AppState,
    kind: &Kind,
    ns: &str,
    query: &ListQuery,
) -> ApiResult<Value> {
    let opts = query.options()?;
    let rt = kind.resource_type();
    let value = if query.summary() {
        serde_json::to_value(resources::list_summaries(&*state.cluster, &rt, ns, &opts).await?)
    } else {
        serde_json::to_value(state.cluster.list(&rt, ns, &opts).await?)
    };
    value.map_err(ApiError::internal)
}

/// Checks a body's name and namespace against the path and fills in what it leaves out.
pub(crate) fn align(
    obj: &mut DynamicObject,
    ns: Option<&str>,
    name: Option<&str>,
) -> ApiResult<()> {
    if let Some(ns) = ns {
        match obj.metadata.namespace.as_deref() {
            Some(given) if !given.is_empty() && given != ns => {
                return Err(ApiError::invalid_field(
                    "metadata.namespace",
                    format!("\"{given}\" does not match the namespace of the path, \"{ns}\""),
                ));
            }
            _ => obj.metadata.namespace = Some(ns.to_owned()),
        }
    }
    if let Some(name) = name {
        match obj.metadata.name.as_deref() {
            Some(given) if given != name => {
                return Err(ApiError::invalid_field(
                    "metadata.name",
                    format!("\"{given}\" does not match the name of the path, \"{name}\""),
                ));
            }
            _ => obj.metadata.name = Some(name.to_owned()),
        }
    }
    Ok(())
}

/// Lists the objects of a kind in a namespace.
#[utoipa::path(get, path = "/api/v1/namespaces/{ns}/{plural}", tag = "resources",
    params(("ns" = String, Path, description = "Namespace"),
           ("plural" = String, Path, description = "Resource, e.g. deployments"), ListQuery),
    responses((status = 200, description = "The objects (or rows with view=summary)", body = Object),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, description = "Namespace not visible or verb not allowed", body = ErrorBody),
              (status = 404, description = "Unknown resource type", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    ValidPath(CollectionPath { ns, plural }): ValidPath<CollectionPath>,
    user: AuthUser,
    State(state): State<AppState>,
    Params(query): Params<ListQuery>,
) -> ApiResult<Json<Value>> {
    let kind = namespaced_kind(&plural)?;
    user.require_namespace(&ns)?;
    user.allow(&[Request::namespaced("list", kind.group, kind.plural, &ns)])?;
    Ok(Json(list_objects(&state, kind, &ns, &query).await?))
}

/// Creates an object in a namespace (as the caller's ServiceAccount).
#[utoipa::path(post, path = "/api/v1/namespaces/{ns}/{plural}", tag = "resources",
    params(("ns" = String, Path), ("plural" = String, Path), WriteQuery),
    request_body = KubeObject,
    responses((status = 201, body = KubeObject), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody),
              (status = 404, description = "Unknown resource type", body = ErrorBody),
              (status = 409, body = ErrorBody),
              (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    ValidPath(CollectionPath { ns, plural }): ValidPath<CollectionPath>,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
    Params(query): Params<WriteQuery>,
    Body(mut obj): Body<DynamicObject>,
) -> ApiResult<(StatusCode, Json<DynamicObject>)> {
    let kind = namespaced_kind(&plural)?;
    if let Some(name) = obj.metadata.name.as_deref().filter(|n| !n.is_empty()) {
        kind.check_name(name)?;
    }
    audit.update(|e| e.name = obj.metadata.name.clone());
    require_op(kind, Operation::Create)?;
    user.require_namespace(&ns)?;
    user.allow(&[Request::namespaced("create", kind.group, kind.plural, &ns)])?;
    align(&mut obj, Some(&ns), None)?;
    audit.begin().await?;
    let client = state.rbac.client_for(&user.name)?;
    let opts = WriteOptions {
        dry_run: query.dry_run,
    };
    let created = resources::create(&*client, &kind.resource_type(), &ns, &obj, &opts).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Reads one object.
#[utoipa::path(get, path = "/api/v1/namespaces/{ns}/{plural}/{name}", tag = "resources",
    params(("ns" = String, Path), ("plural" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = KubeObject),
              (status = 404, description = "Missing, or in a namespace the caller cannot see", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    ValidPath(ObjectPath { ns, plural, name }): ValidPath<ObjectPath>,
    user: AuthUser,
    State(state): State<AppState>,
) -> ApiResult<Json<DynamicObject>> {
    let kind = namespaced_kind(&plural)?;
    check_name(kind, &name)?;
    user.require_visible(&ns, kind, &name)?;
    user.allow(&[Request::namespaced("get", kind.group, kind.plural, &ns)])?;
    let obj = state
        .cluster
        .get(&kind.resource_type(), &ns, &name)
        .await
        .map_err(object_error(kind, &name))?;
    Ok(Json(obj))
}

/// Replaces an object. The body must carry the resourceVersion it was read at: a stale one is
/// a 409, so no one's change is silently overwritten.
#[utoipa::path(put, path = "/api/v1/namespaces/{ns}/{plural}/{name}", tag = "resources",
    params(("ns" = String, Path), ("plural" = String, Path), ("name" = String, Path), WriteQuery),
    request_body = KubeObject,
    responses((status = 200, body = KubeObject), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, description = "Stale resourceVersion", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn replace(
    ValidPath(ObjectPath { ns, plural, name }): ValidPath<ObjectPath>,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
    Params(query): Params<WriteQuery>,
    Body(mut obj): Body<DynamicObject>,
) -> ApiResult<Json<DynamicObject>> {
    let kind = namespaced_kind(&plural)?;
    check_name(kind, &name)?;
    require_op(kind, Operation::Update)?;
    user.require_visible(&ns, kind, &name)?;
    user.allow(&[Request::namespaced("update", kind.group, kind.plural, &ns)])?;
    align(&mut obj, Some(&ns), Some(&name))?;
    audit.begin().await?;
    let client = state.rbac.client_for(&user.name)?;
    let opts = WriteOptions {
        dry_run: query.dry_run,
    };
    let updated = resources::update(&*client, &kind.resource_type(), &ns, &obj, &opts)
        .await
        .map_err(object_error(kind, &name))?;
    Ok(Json(updated))
}

/// Deletes an object; its dependents follow in the background unless `orphan`.
#[utoipa::path(delete, path = "/api/v1/namespaces/{ns}/{plural}/{name}", tag = "resources",
    params(("ns" = String, Path), ("plural" = String, Path), ("name" = String, Path), DeleteQuery),
    responses((status = 200, body = Deleted), (status = 202, description = "Finalizers running", body = Deleted),
              (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(
    ValidPath(ObjectPath { ns, plural, name }): ValidPath<ObjectPath>,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
    Params(query): Params<DeleteQuery>,
) -> ApiResult<(StatusCode, Json<Deleted>)> {
    let kind = namespaced_kind(&plural)?;
    check_name(kind, &name)?;
    require_op(kind, Operation::Delete)?;
    user.require_visible(&ns, kind, &name)?;
    user.allow(&[Request::namespaced("delete", kind.group, kind.plural, &ns)])?;
    audit.begin().await?;
    let client = state.rbac.client_for(&user.name)?;
    let outcome = resources::delete(&*client, &kind.resource_type(), &ns, &name, query.orphan)
        .await
        .map_err(object_error(kind, &name))?;
    Ok(deleted(outcome))
}

pub(crate) fn deleted(outcome: DeleteOutcome) -> (StatusCode, Json<Deleted>) {
    match outcome {
        DeleteOutcome::Deleted => (StatusCode::OK, Json(Deleted { status: "Deleted" })),
        DeleteOutcome::Pending(_) => (StatusCode::ACCEPTED, Json(Deleted { status: "Pending" })),
    }
}
