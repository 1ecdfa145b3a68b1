//! Workload verbs: scale, restart, pause and resume, rollout history and rollback, and a
//! workload's Pods and events.
//!
//! Each verb is authorized for every Kubernetes request it makes (a restart reads then
//! patches; a rollback reads the workload and its ReplicaSets or ControllerRevisions, then
//! replaces it), so the impersonated calls never meet a refusal Kubemate did not foresee.

use axum::{Json, extract::State};
use kubemate_core::{
    Scale,
    catalog::{Kind, Operation},
    events::EventSummary,
    workload::{self, Outcome, PodSummary, Revision, RollbackOutcome, WorkloadKind},
};
use kubemate_rbac::Request;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{namespaced_kind, object_error, require_op};
use crate::{
    audit::Audit,
    auth::AuthUser,
    error::{ApiError, ApiResult, ErrorBody},
    extract::Body,
    params::{ObjectPath, ValidPath, check_name},
    state::AppState,
};

/// The routes of this area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(scale))
        .routes(routes!(restart))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(revisions))
        .routes(routes!(rollback))
        .routes(routes!(events))
        .routes(routes!(pods))
}

/// A workload kind named by its plural: unknown plurals are 404, kinds that are not workloads
/// 422.
pub(crate) fn workload_kind(plural: &str) -> ApiResult<(WorkloadKind, &'static Kind)> {
    let kind = namespaced_kind(plural)?;
    let wk = WorkloadKind::of(&kind.resource_type())?;
    Ok((wk, kind))
}

/// What reading a workload's members takes: the workload, its ReplicaSets (Deployments) and
/// its Pods.
pub(crate) fn member_reads<'a>(wk: WorkloadKind, kind: &'a Kind, ns: &'a str) -> Vec<Request<'a>> {
    let mut reqs = vec![Request::namespaced("get", kind.group, kind.plural, ns)];
    if wk == WorkloadKind::Deployment {
        reqs.push(Request::namespaced("list", "apps", "replicasets", ns));
    }
    reqs.push(Request::namespaced("list", "", "pods", ns));
    reqs
}

/// What reading a workload's history takes.
fn history_reads<'a>(wk: WorkloadKind, kind: &'a Kind, ns: &'a str) -> Vec<Request<'a>> {
    let mut reqs = vec![Request::namespaced("get", kind.group, kind.plural, ns)];
    if wk == WorkloadKind::Deployment {
        reqs.push(Request::namespaced("list", "apps", "replicasets", ns));
    } else {
        reqs.push(Request::namespaced(
            "list",
            "apps",
            "controllerrevisions",
            ns,
        ));
    }
    reqs
}

/// The body of a scale.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ScaleBody {
    /// Desired replicas.
    #[schema(minimum = 0)]
    #[serde(deserialize_with = "crate::extract::integer")]
    pub replicas: i32,
}

/// The body of a rollback.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RollbackBody {
    /// The revision to go back to; absent or 0 for the one before the current.
    #[serde(default, deserialize_with = "crate::extract::optional_integer")]
    #[schema(minimum = 0)]
    pub revision: Option<i64>,
}

/// What a restart did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Restarted {
    /// The `kubectl.kubernetes.io/restartedAt` value written.
    pub restarted_at: String,
}

/// What a pause or resume did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Changed {
    /// `changed`, or `unchanged` when it already was so.
    #[schema(value_type = String)]
    pub result: Outcome,
}

type Target = ValidPath<ObjectPath>;

/// Sets the desired replicas (Deployments, StatefulSets, ReplicaSets).
#[utoipa::path(put, path = "/api/v1/namespaces/{ns}/{plural}/{name}/scale", tag = "workloads",
    params(("ns" = String, Path), ("plural" = String, Path), ("name" = String, Path)),
    request_body = ScaleBody,
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, description = "Not scalable", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn scale(
    ValidPath(ObjectPath { ns, plural, name }): Target,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
    Body(body): Body<ScaleBody>,
) -> ApiResult<Json<Scale>> {
    let (wk, kind) = workload_kind(&plural)?;
    check_name(kind, &name)?;
    require_op(kind, Operation::Scale)?;
    user.require_visible(&ns, kind, &name)?;
    let sub = format!("{}/scale", kind.plural);
    user.allow(&[Request::namespaced("patch", kind.group, &sub, &ns)])?;
    if body.replicas < 0 {
        return Err(ApiError::invalid_field(
            "replicas",
            format!("{} must be greater than or equal to 0", body.replicas),
        ));
    }
    audit.begin().await?;
    let client = state.rbac.client_for(&user.name)?;
    let scaled = workload::scale(&*client, wk, &ns, &name, body.replicas)
        .await
        .map_err(object_error(kind, &name))?;
    Ok(Json(scaled))
}

/// Restarts every Pod (`kubectl rollout restart`).
#[utoipa::path(post, path = "/api/v1/namespaces/{ns}/{plural}/{name}/restart", tag = "workloads",
    params(("ns" = String, Path), ("plural" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = Restarted), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn restart(
    ValidPath(ObjectPath { ns, plural, name }): Target,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
) -> ApiResult<Json<Restarted>> {
    let (wk, kind) = workload_kind(&plural)?;
    check_name(kind, &name)?;
    require_op(kind, Operation::Restart)?;
    user.require_visible(&ns, kind, &name)?;
    user.allow(&[
        Request::namespaced("get", kind.group, kind.plural, &ns),
        Request::namespaced("patch", kind.group, kind.plural, &ns),
    ])?;
    audit.begin().await?;
    let client = state.rbac.client_for(&user.name)?;
    let restarted_at = workload::restart(&*client, wk, &ns, &name)
        .await
        .map_err(object_error(kind, &name))?;
    Ok(Json(Restarted { restarted_at }))
}

async fn set_paused(
    user: AuthUser,
    audit: Audit,
    state: AppState,
    ObjectPath { ns, plural, name }: ObjectPath,
    paused: bool,
) -> ApiResult<Json<Changed>> {
    let (wk, kind) = workload_kind(&plural)?;
    check_name(kind, &name)?;
    require_op(kind, Operation::Pause)?;
    user.require_visible(&ns, kind, &name)?;
    user.allow(&[
        Request::namespaced("get", kind.group, kind.plural, &ns),
        Request::namespaced("patch", kind.group, kind.plural, &ns),
    ])?;
    audit.begin().await?;
    let client = state.rbac.client_for(&user.name)?;
    let result = if paused {
        workload::pause(&*client, wk, &ns, &name).await
    } else {
        workload::resume(&*client, wk, &ns, &name).await
    }
    .map_err(object_error(kind, &name))?;
    Ok(Json(Changed { result }))
}

/// Pauses a Deployment's rollouts.
#[utoipa::path(post, path = "/api/v1/namespaces/{ns}/{plural}/{name}/pause", tag = "workloads",
    params(("ns" = String, Path), ("plural" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = Changed), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn pause(
    ValidPath(target): Target,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
) -> ApiResult<Json<Changed>> {
    set_paused(user, audit, state, target, true).await
}

/// Resumes a paused Deployment.
#[utoipa::path(post, path = "/api/v1/namespaces/{ns}/{plural}/{name}/resume", tag = "workloads",
    params(("ns" = String, Path), ("plural" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = Changed), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn resume(
    ValidPath(target): Target,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
) -> ApiResult<Json<Changed>> {
    set_paused(user, audit, state, target, false).await
}

/// The rollout history, oldest revision first (`kubectl rollout history`).
#[utoipa::path(get, path = "/api/v1/namespaces/{ns}/{plural}/{name}/revisions", tag = "workloads",
    params(("ns" = String, Path), ("plural" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = Vec<Object>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revisions(
    ValidPath(ObjectPath { ns, plural, name }): Target,
    user: AuthUser,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<Revision>>> {
    let (wk, kind) = workload_kind(&plural)?;
    check_name(kind, &name)?;
    require_op(kind, Operation::Rollback)?;
    user.require_visible(&ns, kind, &name)?;
    user.allow(&history_reads(wk, kind, &ns))?;
    let history = workload::history(&*state.cluster, wk, &ns, &name)
        .await
        .map_err(object_error(kind, &name))?;
    Ok(Json(history))
}

/// Rolls back to a revision (`kubectl rollout undo`).
#[utoipa::path(post, path = "/api/v1/namespaces/{ns}/{plural}/{name}/rollback", tag = "workloads",
    params(("ns" = String, Path), ("plural" = String, Path), ("name" = String, Path)),
    request_body = RollbackBody,
    responses((status = 200, body = Object), (status = 404, description = "Missing workload or revision", body = ErrorBody),
              (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rollback(
    ValidPath(ObjectPath { ns, plural, name }): Target,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
    Body(body): Body<RollbackBody>,
) -> ApiResult<Json<RollbackOutcome>> {
    let (wk, kind) = workload_kind(&plural)?;
    check_name(kind, &name)?;
    require_op(kind, Operation::Rollback)?;
    user.require_visible(&ns, kind, &name)?;
    let mut reqs = history_reads(wk, kind, &ns);
    reqs.push(Request::namespaced("update", kind.group, kind.plural, &ns));
    user.allow(&reqs)?;
    audit.begin().await?;
    let client = state.rbac.client_for(&user.name)?;
    let outcome = workload::rollback(&*client, wk, &ns, &name, body.revision)
        .await
        .map_err(object_error(kind, &name))?;
    Ok(Json(outcome))
}

/// The events of a workload, its ReplicaSets and its Pods, newest first.
#[utoipa::path(get, path = "/api/v1/namespaces/{ns}/{plural}/{name}/events", tag = "workloads",
    params(("ns" = String, Path), ("plural" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = Vec<Object>), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn events(
    ValidPath(ObjectPath { ns, plural, name }): Target,
    user: AuthUser,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<EventSummary>>> {
    let (wk, kind) = workload_kind(&plural)?;
    check_name(kind, &name)?;
    user.require_visible(&ns, kind, &name)?;
    let mut reqs = member_reads(wk, kind, &ns);
    reqs.push(Request::namespaced("list", "", "events", &ns));
    user.allow(&reqs)?;
    let events = workload::events(&*state.cluster, wk, &ns, &name)
        .await
        .map_err(object_error(kind, &name))?;
    Ok(Json(events))
}

/// The Pods of a workload.
#[utoipa::path(get, path = "/api/v1/namespaces/{ns}/{plural}/{name}/pods", tag = "workloads",
    params(("ns" = String, Path), ("plural" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = Vec<Object>), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn pods(
    ValidPath(ObjectPath { ns, plural, name }): Target,
    user: AuthUser,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<PodSummary>>> {
    let (wk, kind) = workload_kind(&plural)?;
    check_name(kind, &name)?;
    user.require_visible(&ns, kind, &name)?;
    user.allow(&member_reads(wk, kind, &ns))?;
    let pods = workload::pods(&*state.cluster, wk, &ns, &name)
        .await
        .map_err(object_error(kind, &name))?;
    Ok(Json(pods))
}
