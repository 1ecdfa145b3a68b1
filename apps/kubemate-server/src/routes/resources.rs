//! Namespaced objects of every catalogued kind: list, create, get, replace, delete.

use axum::{Json, extract::State, http::StatusCode};
use kubemate_core::{
    DeleteOutcome, DynamicObject, ListOptions, WriteOptions,
    catalog::{Kind, Operation},
    resources,
};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{DeleteQuery, Deleted, KubeObject, WriteQuery, namespaced_kind, require_op};
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
    /// The list options. The view is checked here; the selectors are checked by the list
    /// operation once the caller is authorized, before any cluster call.
    pub fn options(&self) -> ApiResult<ListOptions> {
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

/// Lists the objects of `kind` in `ns` (`""`: cluster scope), as whole objects or table rows.
pub(crate) async fn list_objects(
    state: &AppState,
    user: &AuthUser,
    audit: &Audit,
    kind: &Kind,
    ns: &str,
    query: &ListQuery,
) -> ApiResult<Value> {
    let list = resources::List {
        rt: kind.resource_type(),
        ns: ns.to_owned(),
        opts: query.options()?,
    };
    let value = if query.summary() {
        let op = resources::ListSummaries(list);
        serde_json::to_value(state.run(user, audit, &op).await?)
    } else {
        serde_json::to_value(state.run(user, audit, &list).await?)
    };
    value.map_err(ApiError::internal)
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
    audit: Audit,
    State(state): State<AppState>,
    Params(query): Params<ListQuery>,
) -> ApiResult<Json<Value>> {
    let kind = namespaced_kind(&plural)?;
    let value = list_objects(&state, &user, &audit, kind, &ns, &query).await?;
    Ok(Json(value))
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
    Body(obj): Body<DynamicObject>,
) -> ApiResult<(StatusCode, Json<DynamicObject>)> {
    let kind = namespaced_kind(&plural)?;
    if let Some(name) = obj.metadata.name.as_deref().filter(|n| !n.is_empty()) {
        kind.check_name(name)?;
    }
    audit.update(|e| e.name = obj.metadata.name.clone());
    require_op(kind, Operation::Create)?;
    let op = resources::Create {
        rt: kind.resource_type(),
        ns: ns.to_string(),
        obj,
        opts: WriteOptions {
            dry_run: query.dry_run,
        },
    };
    let created = state.run(&user, &audit, &op).await?;
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
    audit: Audit,
    State(state): State<AppState>,
) -> ApiResult<Json<DynamicObject>> {
    let kind = namespaced_kind(&plural)?;
    check_name(kind, &name)?;
    let op = resources::Get {
        rt: kind.resource_type(),
        ns: ns.to_string(),
        name: name.to_string(),
    };
    Ok(Json(state.run(&user, &audit, &op).await?))
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
    Body(obj): Body<DynamicObject>,
) -> ApiResult<Json<DynamicObject>> {
    let kind = namespaced_kind(&plural)?;
    check_name(kind, &name)?;
    require_op(kind, Operation::Update)?;
    let op = resources::Update {
        rt: kind.resource_type(),
        ns: ns.to_string(),
        name: name.to_string(),
        obj,
        opts: WriteOptions {
            dry_run: query.dry_run,
        },
    };
    Ok(Json(state.run(&user, &audit, &op).await?))
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
    let op = resources::Delete {
        rt: kind.resource_type(),
        ns: ns.to_string(),
        name: name.to_string(),
        orphan: query.orphan,
    };
    Ok(deleted(state.run(&user, &audit, &op).await?))
}

pub(crate) fn deleted(outcome: DeleteOutcome) -> (StatusCode, Json<Deleted>) {
    match outcome {
        DeleteOutcome::Deleted => (StatusCode::OK, Json(Deleted { status: "Deleted" })),
        DeleteOutcome::Pending(_) => (StatusCode::ACCEPTED, Json(Deleted { status: "Pending" })),
    }
}
