//! Workload verbs: scale, restart, pause and resume, rollout history and rollback, and the
//! Pods, events and logs of a workload.
//!
//! Everything works through a [`ClusterClient`], so the same calls run against a real cluster,
//! the fake cluster and a mock. Rollout semantics follow `kubectl rollout`: a Deployment's
//! history is its ReplicaSets' `deployment.kubernetes.io/revision` annotations, a StatefulSet's
//! or DaemonSet's is its ControllerRevisions. Writes that depend on what was read carry the
//! resourceVersion of that read, so a concurrent change makes them fail with
//! [`ErrorKind::Conflict`] instead of being silently overwritten. Bad input fails before any
//! request with a stable [`ErrorKind`].

use k8s_openapi::api::core::v1::Pod;
use kube::core::{DynamicObject, ObjectMeta, Selector};
use serde::Serialize;
use serde_json::{Value, json};

use crate::{
    ClusterClient, Error, ErrorKind, ListOptions, ResourceType, Result, Scale,
    catalog::{self, Operation},
    names,
};

mod history;
mod logs;
mod ops;
mod pods;

pub use history::{Revision, RollbackOutcome, history, rollback};
pub use logs::{
    DEFAULT_WORKLOAD_TAIL, MAX_FOLLOWED_PODS, PodLog, WorkloadLogs, follow_logs, follow_pod_logs,
    logs, pod_logs,
};
pub use ops::{
    Events, FollowLogs, FollowPodLogs, History, Logs, PodLogs, Pods, Restart, Rollback, SetPaused,
    SetReplicas, WorkloadRef,
};
pub use pods::{PodSummary, events, human_duration, pods, summarize_pod};

/// The annotation `kubectl rollout restart` sets on the pod template.
pub const RESTARTED_AT_ANNOTATION: &str = "kubectl.kubernetes.io/restartedAt";

/// The kinds that own Pods and that the workload verbs accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum WorkloadKind {
    /// `apps/v1` Deployment.
    Deployment,
    /// `apps/v1` StatefulSet.
    StatefulSet,
    /// `apps/v1` DaemonSet.
    DaemonSet,
    /// `apps/v1` ReplicaSet.
    ReplicaSet,
    /// `batch/v1` Job (Pods, events and logs only).
    Job,
}

impl WorkloadKind {
    /// Every workload kind.
    pub const ALL: [WorkloadKind; 5] = [
        WorkloadKind::Deployment,
        WorkloadKind::StatefulSet,
        WorkloadKind::DaemonSet,
        WorkloadKind::ReplicaSet,
        WorkloadKind::Job,
    ];

    /// The kind name, e.g. `Deployment`.
    pub fn kind(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::ReplicaSet => "ReplicaSet",
            WorkloadKind::Job => "Job",
        }
    }

    /// The workload kind of a name kubectl accepts (`deploy`, `deployments`, `Deployment`,
    /// `deployments.apps`, ...). Any other kind is [`ErrorKind::Unsupported`].
    pub fn parse(name: &str) -> Result<Self> {
        catalog::find(name)
            .and_then(|k| Self::from_kind_name(k.kind))
            .ok_or_else(|| not_a_workload(name))
    }

    /// The workload kind of a resource type; any other type is [`ErrorKind::Unsupported`].
    pub fn of(rt: &ResourceType) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|k| {
                let own = k.resource_type();
                own.group == rt.group && own.plural == rt.plural
            })
            .ok_or_else(|| not_a_workload(&rt.qualified_plural()))
    }

    fn from_kind_name(kind: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.kind() == kind)
    }

    /// The resource type of this kind.
    pub fn resource_type(self) -> ResourceType {
        match self {
            WorkloadKind::Deployment => {
                ResourceType::new("apps", "v1", "Deployment", "deployments", true)
            }
            WorkloadKind::StatefulSet => {
                ResourceType::new("apps", "v1", "StatefulSet", "statefulsets", true)
            }
            WorkloadKind::DaemonSet => {
                ResourceType::new("apps", "v1", "DaemonSet", "daemonsets", true)
            }
            WorkloadKind::ReplicaSet => {
                ResourceType::new("apps", "v1", "ReplicaSet", "replicasets", true)
            }
            WorkloadKind::Job => ResourceType::new("batch", "v1", "Job", "jobs", true),
        }
    }

    /// True when the resource catalog offers `op` on this kind.
    pub fn supports(self, op: Operation) -> bool {
        catalog::find(self.kind()).is_some_and(|k| k.supports(op))
    }

    /// `plural.group`, as the apiserver and kubectl name the resource in messages.
    fn qualified(self) -> String {
        self.resource_type().qualified_plural()
    }
}

impl std::fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.kind())
    }
}

fn not_a_workload(name: &str) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "\"{name}\" is not a workload kind (one of Deployment, StatefulSet, DaemonSet, ReplicaSet, Job)"
        ),
    )
}

/// What a verb that may already be in effect did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// The workload was changed.
    Changed,
    /// The workload was already in the requested state; nothing was written.
    Unchanged,
}

fn verb_name(op: Operation) -> &'static str {
    match op {
        Operation::Scale => "scale",
        Operation::Restart => "restart",
        Operation::Pause => "pause and resume",
        Operation::Rollback => "rollout history and rollback",
        Operation::Logs => "logs",
        _ => "this operation",
    }
}

/// Refuses `op` on a kind the catalog does not offer it on, before any request.
fn require(kind: WorkloadKind, op: Operation) -> Result<()> {
    if kind.supports(op) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Unsupported,
            format!("{} is not supported on a {kind}", verb_name(op)),
        ))
    }
}

/// Validates a namespace and an object name, so that a malformed one fails as `Invalid` before
/// any request (an empty namespace would otherwise mean "all namespaces").
pub(crate) fn validate_target(kind: &str, ns: &str, name: &str) -> Result<()> {
    names::validate_dns1123_label(kind, "metadata.namespace", ns)?;
    names::validate_dns1123_subdomain(kind, "metadata.name", name)
}

pub(crate) fn invalid_field(field: &str, message: String) -> Error {
    Error::invalid(
        format!("{field}: {message}"),
        vec![crate::Cause {
            field: field.to_owned(),
            reason: "FieldValueInvalid".to_owned(),
            message,
        }],
    )
}

/// Reads a workload after validating its coordinates.
async fn get_workload(
    client: &dyn ClusterClient,
    kind: WorkloadKind,
    ns: &str,
    name: &str,
) -> Result<DynamicObject> {
    validate_target(kind.kind(), ns, name)?;
    client.get(&kind.resource_type(), ns, name).await
}

fn resource_version(obj: &DynamicObject) -> Result<String> {
    obj.metadata
        .resource_version
        .clone()
        .filter(|rv| !rv.is_empty())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Internal,
                "the cluster returned an object without a resourceVersion",
            )
        })
}

fn is_paused(obj: &DynamicObject) -> bool {
    obj.data
        .pointer("/spec/paused")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The workload's `spec.selector` in label-selector syntax, for list calls.
fn selector_of(kind: WorkloadKind, obj: &DynamicObject) -> Result<String> {
    let name = obj.metadata.name.as_deref().unwrap_or_default();
    let raw = obj.data.pointer("/spec/selector").cloned().ok_or_else(|| {
        Error::new(
            ErrorKind::Internal,
            format!("{} \"{name}\" has no spec.selector", kind.qualified()),
        )
    })?;
    let typed: k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector =
        serde_json::from_value(raw).map_err(|e| {
            Error::new(
                ErrorKind::Internal,
                format!(
                    "{} \"{name}\" has a malformed selector: {e}",
                    kind.qualified()
                ),
            )
        })?;
    let selector = Selector::try_from(typed).map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            format!(
                "{} \"{name}\" has a malformed selector: {e}",
                kind.qualified()
            ),
        )
    })?;
    Ok(selector.to_string())
}

/// True when `uid` is the controller of the object (`metav1.IsControlledBy`).
fn controlled_by(meta: &ObjectMeta, uid: &str) -> bool {
    meta.owner_references
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|r| r.controller == Some(true) && r.uid == uid)
}

fn uid_of(obj: &DynamicObject) -> &str {
    obj.metadata.uid.as_deref().unwrap_or_default()
}

fn name_of(meta: &ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or_default()
}

/// Every object of a list, following continue tokens.
async fn list_all(
    client: &dyn ClusterClient,
    rt: &ResourceType,
    ns: &str,
    opts: ListOptions,
) -> Result<Vec<DynamicObject>> {
    let mut opts = opts;
    let mut out = Vec::new();
    loop {
        let page = client.list(rt, ns, &opts).await?;
        out.extend(page.items);
        match page.continue_token {
            Some(token) if !token.is_empty() => opts.continue_token = Some(token),
            _ => return Ok(out),
        }
    }
}

/// The objects of `rt` matching the workload's selector that it controls.
async fn controlled(
    client: &dyn ClusterClient,
    rt: &ResourceType,
    ns: &str,
    selector: &str,
    owner_uids: &[&str],
) -> Result<Vec<DynamicObject>> {
    let items = list_all(client, rt, ns, ListOptions::labels(selector)).await?;
    Ok(items
        .into_iter()
        .filter(|o| owner_uids.iter().any(|uid| controlled_by(&o.metadata, uid)))
        .collect())
}

/// A workload with the ReplicaSets (Deployments only) and Pods it controls.
struct Members {
    replica_sets: Vec<DynamicObject>,
    pods: Vec<Pod>,
}

/// Reads a workload and what it controls: for a Deployment, only the Pods of its own
/// ReplicaSets, so that a Pod matching the selector by accident is never counted.
async fn members(
    client: &dyn ClusterClient,
    kind: WorkloadKind,
    ns: &str,
    name: &str,
) -> Result<Members> {
    let workload = get_workload(client, kind, ns, name).await?;
    let selector = selector_of(kind, &workload)?;
    let replica_sets = if kind == WorkloadKind::Deployment {
        controlled(
            client,
            &WorkloadKind::ReplicaSet.resource_type(),
            ns,
            &selector,
            &[uid_of(&workload)],
        )
        .await?
    } else {
        Vec::new()
    };
    let owners: Vec<&str> = if kind == WorkloadKind::Deployment {
        replica_sets.iter().map(uid_of).collect()
    } else {
        vec![uid_of(&workload)]
    };
    let pods = if owners.is_empty() {
        Vec::new()
    } else {
        let pod_type = ResourceType::new("", "v1", "Pod", "pods", true);
        controlled(client, &pod_type, ns, &selector, &owners)
            .await?
            .into_iter()
            .map(crate::client::from_dynamic)
            .collect::<Result<Vec<Pod>>>()?
    };
    Ok(Members { replica_sets, pods })
}

/// Sets the desired replicas of a Deployment, StatefulSet or ReplicaSet through its `scale`
/// subresource. Other kinds are [`ErrorKind::Unsupported`] and a negative count is
/// [`ErrorKind::Invalid`] naming `replicas` ([`check_replicas`]); neither makes a request.
pub async fn scale(
    client: &dyn ClusterClient,
    kind: WorkloadKind,
    ns: &str,
    name: &str,
    replicas: i32,
) -> Result<Scale> {
    require(kind, Operation::Scale)?;
    validate_target(kind.kind(), ns, name)?;
    check_replicas(replicas)?;
    client
        .set_scale(&kind.resource_type(), ns, name, replicas)
        .await
}

/// The one check of a desired replica count: [`ErrorKind::Invalid`] naming the field
/// `replicas` when it is negative. [`scale`] and its operation ([`SetReplicas`]) both use
/// it, so the API and the library refuse the same input with the same cause.
pub fn check_replicas(replicas: i32) -> Result<()> {
    if replicas < 0 {
        return Err(invalid_field(
            "replicas",
            format!("Invalid value: {replicas}: must be greater than or equal to 0"),
        ));
    }
    Ok(())
}

fn rfc3339_now(fraction: bool) -> String {
    let format = if fraction {
        "%Y-%m-%dT%H:%M:%S%.3fZ"
    } else {
        "%Y-%m-%dT%H:%M:%SZ"
    };
    k8s_openapi::jiff::Timestamp::now()
        .strftime(format)
        .to_string()
}

/// Restarts every Pod of a Deployment, StatefulSet or DaemonSet as `kubectl rollout restart`
/// does: it stamps the pod template with [`RESTARTED_AT_ANNOTATION`] set to the current
/// RFC 3339 time, which starts a rollout. A paused Deployment is refused (resume it first).
/// Returns the timestamp written.
pub async fn restart(
    client: &dyn ClusterClient,
    kind: WorkloadKind,
    ns: &str,
    name: &str,
) -> Result<String> {
    require(kind, Operation::Restart)?;
    let obj = get_workload(client, kind, ns, name).await?;
    if kind == WorkloadKind::Deployment && is_paused(&obj) {
        return Err(Error::new(
            ErrorKind::BadRequest,
            format!(
                "{} \"{name}\" can't restart paused deployment (run rollout resume first)",
                kind.qualified()
            ),
        ));
    }
    let previous = obj
        .data
        .pointer("/spec/template/metadata/annotations")
        .and_then(|a| a.get(RESTARTED_AT_ANNOTATION))
        .and_then(Value::as_str);
    let mut restarted_at = rfc3339_now(false);
    if previous == Some(restarted_at.as_str()) {
        // A second restart within the same second would write the same value, change nothing
        // and roll nothing; sub-second precision is still RFC 3339.
        restarted_at = rfc3339_now(true);
    }
    let patch = json!({
        "metadata": {"resourceVersion": resource_version(&obj)?},
        "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT_ANNOTATION: restarted_at}}}},
    });
    client
        .merge_patch(&kind.resource_type(), ns, name, &patch, &Default::default())
        .await?;
    Ok(restarted_at)
}

async fn set_paused(
    client: &dyn ClusterClient,
    kind: WorkloadKind,
    ns: &str,
    name: &str,
    paused: bool,
) -> Result<Outcome> {
    require(kind, Operation::Pause)?;
    let obj = get_workload(client, kind, ns, name).await?;
    if is_paused(&obj) == paused {
        return Ok(Outcome::Unchanged);
    }
    let patch = json!({
        "metadata": {"resourceVersion": resource_version(&obj)?},
        "spec": {"paused": paused},
    });
    client
        .merge_patch(&kind.resource_type(), ns, name, &patch, &Default::default())
        .await?;
    Ok(Outcome::Changed)
}

/// Pauses a Deployment's rollouts (`spec.paused`): template changes wait until it is resumed.
/// Pausing a paused Deployment writes nothing and returns [`Outcome::Unchanged`].
pub async fn pause(
    client: &dyn ClusterClient,
    kind: WorkloadKind,
    ns: &str,
    name: &str,
) -> Result<Outcome> {
    set_paused(client, kind, ns, name, true).await
}

/// Resumes a paused Deployment, letting a pending rollout proceed. Resuming a Deployment that
/// is not paused writes nothing and returns [`Outcome::Unchanged`].
pub async fn resume(
    client: &dyn ClusterClient,
    kind: WorkloadKind,
    ns: &str,
    name: &str,
) -> Result<Outcome> {
    set_paused(client, kind, ns, name, false).await
}

#[cfg(all(test, feature = "test-util"))]
mod tests;
