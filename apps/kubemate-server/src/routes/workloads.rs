//! Workload verbs: scale, restart, pause and resume, rollout history and rollback, and a
//! workload's Pods and events.
//!
//! Each verb is a core operation that declares every Kubernetes request it makes (a restart
//! reads then patches; a rollback reads the workload and its ReplicaSets or
//! ControllerRevisions, then replaces it); the pipeline ([`crate::pipeline`]) authorizes them
//! all, so the impersonated calls never meet a refusal Kubemate did not foresee.

use axum::{Json, extract::State};
use kubemate_core::{
    Scale,
    catalog::{Kind, Operation},
    events::EventSummary,
    workload::{self, Outcome, PodSummary, Revision, RollbackOutcome, WorkloadKind, WorkloadRef},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{namespaced_kind, require_op};
use crate::{
    audit::Audit,
    auth::AuthUser,
    error::{ApiResult, ErrorBody},
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

/// The workload a path names, checked: a known workload kind that offers `op` (when given),
/// and a valid name for it.
fn workload_ref(
    ObjectPath { ns, plural, name }: ObjectPath,
    op: Option<Operation>,
) -> ApiResult<WorkloadRef> {
    let (wk, kind) = workload_kind(&plural)?;
    check_name(kind, &name)?;
    if let Some(op) = op {
        require_op(kind, op)?;
    }
    Ok(WorkloadRef::new(wk, &ns, &name))
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
    ValidPath(path): Target,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
    Body(body): Body<ScaleBody>,
) -> ApiResult<Json<Scale>> {
    let op = workload::SetReplicas {
        workload: workload_ref(path, Some(Operation::Scale))?,
        replicas: body.replicas,
    };
    Ok(Json(state.run(&user, &audit, &op).await?))
}

/// Restarts every Pod (`kubectl rollout restart`).
#[utoipa::path(post, path = "/api/v1/namespaces/{ns}/{plural}/{name}/restart", tag = "workloads",
    params(("ns" = String, Path), ("plural" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = Restarted), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn restart(
    ValidPath(path): Target,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
) -> ApiResult<Json<Restarted>> {
    let op = workload::Restart(workload_ref(path, Some(Operation::Restart))?);
    let restarted_at = state.run(&user, &audit, &op).await?;
    Ok(Json(Restarted { restarted_at }))
}

async fn set_paused(
    user: AuthUser,
    audit: Audit,
    state: AppState,
    path: ObjectPath,
    paused: bool,
) -> ApiResult<Json<Changed>> {
    let op = workload::SetPaused {
        workload: workload_ref(path, Some(Operation::Pause))?,
        paused,
    };
    let result = state.run(&user, &audit, &op).await?;
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
    ValidPath(path): Target,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<Revision>>> {
    let op = workload::History(workload_ref(path, Some(Operation::Rollback))?);
    Ok(Json(state.run(&user, &audit, &op).await?))
}

/// Rolls back to a revision (`kubectl rollout undo`).
#[utoipa::path(post, path = "/api/v1/namespaces/{ns}/{plural}/{name}/rollback", tag = "workloads",
    params(("ns" = String, Path), ("plural" = String, Path), ("name" = String, Path)),
    request_body = RollbackBody,
    responses((status = 200, body = Object), (status = 404, description = "Missing workload or revision", body = ErrorBody),
              (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rollback(
    ValidPath(path): Target,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
    Body(body): Body<RollbackBody>,
) -> ApiResult<Json<RollbackOutcome>> {
    let op = workload::Rollback {
        workload: workload_ref(path, Some(Operation::Rollback))?,
        revision: body.revision,
    };
    Ok(Json(state.run(&user, &audit, &op).await?))
}

/// The events of a workload, its ReplicaSets and its Pods, newest first.
#[utoipa::path(get, path = "/api/v1/namespaces/{ns}/{plural}/{name}/events", tag = "workloads",
    params(("ns" = String, Path), ("plural" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = Vec<Object>), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn events(
    ValidPath(path): Target,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<EventSummary>>> {
    let op = workload::Events(workload_ref(path, None)?);
    Ok(Json(state.run(&user, &audit, &op).await?))
}

/// The Pods of a workload.
#[utoipa::path(get, path = "/api/v1/namespaces/{ns}/{plural}/{name}/pods", tag = "workloads",
    params(("ns" = String, Path), ("plural" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = Vec<Object>), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn pods(
    ValidPath(path): Target,
    user: AuthUser,
    audit: Audit,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<PodSummary>>> {
    let op = workload::Pods(workload_ref(path, None)?);
    Ok(Json(state.run(&user, &audit, &op).await?))
}
