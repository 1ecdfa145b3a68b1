//! The Pods of a workload, summarized as `kubectl get pods` shows them, and its events.

use k8s_openapi::{
    api::core::v1::{ContainerStatus, Pod},
    jiff::Timestamp,
};
use serde::Serialize;

use super::{WorkloadKind, members, name_of};
use crate::{ClusterClient, Result, events};

/// One Pod as the console and CLI list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSummary {
    /// The Pod's name.
    pub name: String,
    /// The status kubectl shows: the phase, or a more telling reason such as
    /// `CrashLoopBackOff`, `Init:0/1`, `Completed` or `Terminating`.
    pub status: String,
    /// The Pod's phase (`Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`).
    pub phase: String,
    /// Ready containers.
    pub ready_containers: u32,
    /// Containers in the Pod (sidecar init containers included, as kubectl counts them).
    pub total_containers: u32,
    /// Container restarts.
    pub restarts: i32,
    /// The node it runs on, once scheduled.
    pub node: Option<String>,
    /// When it was created (RFC 3339).
    pub created: Option<String>,
    /// Its age as kubectl prints it (`45s`, `3m12s`, `5h`, `2d3h`).
    pub age: Option<String>,
    /// Its containers' names, for choosing whose logs to read.
    pub containers: Vec<String>,
}

impl PodSummary {
    /// Ready containers as `x/y`.
    pub fn ready(&self) -> String {
        format!("{}/{}", self.ready_containers, self.total_containers)
    }
}

/// A duration as kubectl prints ages (`duration.HumanDuration`); negative beyond clock skew is
/// `<invalid>`.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".to_owned();
    }
    if seconds < 0 {
        return "0s".to_owned();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let days = (hours / 24) % 365;
        return if days == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{days}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

fn terminated_reason(prefix: &str, status: &ContainerStatus) -> Option<String> {
    let t = status.state.as_ref()?.terminated.as_ref()?;
    Some(match t.reason.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => format!("{prefix}{r}"),
        None => match t.signal.filter(|s| *s != 0) {
            Some(signal) => format!("{prefix}Signal:{signal}"),
            None => format!("{prefix}ExitCode:{}", t.exit_code),
        },
    })
}

fn condition_true(pod: &Pod, type_: &str) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == type_ && c.status == "True"))
}

/// Summarizes a Pod with kubectl's rules for the STATUS, READY and RESTARTS columns; `now`
/// gives its age.
pub fn summarize_pod(pod: &Pod, now: Timestamp) -> PodSummary {
    let spec = pod.spec.clone().unwrap_or_default();
    let status = pod.status.clone().unwrap_or_default();
    let phase = status.phase.clone().unwrap_or_default();
    let mut reason = status
        .reason
        .clone()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| phase.clone());
    let init_specs = spec.init_containers.as_deref().unwrap_or_default();
    let is_sidecar = |name: &str| {
        init_specs
            .iter()
            .any(|c| c.name == name && c.restart_policy.as_deref() == Some("Always"))
    };
    let sidecars = init_specs
        .iter()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"))
        .count();
    let total = u32::try_from(spec.containers.len() + sidecars).unwrap_or(u32::MAX);
    let mut ready = 0u32;
    let mut restarts = 0i32;

    let mut initializing = false;
    let init_statuses = status
        .init_container_statuses
        .as_deref()
        .unwrap_or_default();
    for (i, c) in init_statuses.iter().enumerate() {
        restarts += c.restart_count;
        let state = c.state.clone().unwrap_or_default();
        if let Some(t) = &state.terminated
            && t.exit_code == 0
        {
            continue;
        }
        if is_sidecar(&c.name) && c.started == Some(true) {
            if c.ready {
                ready += 1;
            }
            continue;
        }
        if state.terminated.is_some() {
            reason = terminated_reason("Init:", c).unwrap_or_default();
        } else if let Some(w) = state
            .waiting
            .as_ref()
            .and_then(|w| w.reason.as_deref())
            .filter(|r| !r.is_empty() && *r != "PodInitializing")
        {
            reason = format!("Init:{w}");
        } else {
            reason = format!("Init:{i}/{}", init_specs.len());
        }
        initializing = true;
        break;
    }

    if !initializing || condition_true(pod, "Initialized") {
        restarts = init_statuses
            .iter()
            .filter(|c| is_sidecar(&c.name))
            .map(|c| c.restart_count)
            .sum();
        let mut has_running = false;
        for c in status
            .container_statuses
            .as_deref()
            .unwrap_or_default()
            .iter()
            .rev()
        {
            restarts += c.restart_count;
            let state = c.state.clone().unwrap_or_default();
            if let Some(w) = state
                .waiting
                .as_ref()
                .and_then(|w| w.reason.as_deref())
                .filter(|r| !r.is_empty())
            {
                reason = w.to_owned();
            } else if state.terminated.is_some() {
                reason = terminated_reason("", c).unwrap_or_default();
            } else if c.ready && state.running.is_some() {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if condition_true(pod, "Ready") {
                "Running".to_owned()
            } else {
                "NotReady".to_owned()
            };
        }
    }

    if pod.metadata.deletion_timestamp.is_some() {
        if status.reason.as_deref() == Some("NodeLost") {
            reason = "Unknown".to_owned();
        } else if phase != "Succeeded" && phase != "Failed" {
            reason = "Terminating".to_owned();
        }
    }

    let created = pod.metadata.creation_timestamp.as_ref().map(|t| t.0);
    PodSummary {
        name: name_of(&pod.metadata).to_owned(),
        status: reason,
        phase,
        ready_containers: ready,
        total_containers: total,
        restarts,
        node: spec.node_name.clone().filter(|n| !n.is_empty()),
        created: created.map(|t| t.to_string()),
        age: created.map(|t| human_duration(now.duration_since(t).as_secs())),
        containers: spec.containers.iter().map(|c| c.name.clone()).collect(),
    }
}

/// The Pods of a workload, by name: those matching its selector that it controls — for a
/// Deployment, those of the ReplicaSets it owns.
pub async fn pods(
    client: &dyn ClusterClient,
    kind: WorkloadKind,
    ns: &str,
    name: &str,
) -> Result<Vec<PodSummary>> {
    let members = members(client, kind, ns, name).await?;
    let now = Timestamp::now();
    let mut out: Vec<PodSummary> = members.pods.iter().map(|p| summarize_pod(p, now)).collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The events of a workload, of its ReplicaSets (Deployments) and of its Pods, newest first,
/// with repeats folded; one events request.
pub async fn events(
    client: &dyn ClusterClient,
    kind: WorkloadKind,
    ns: &str,
    name: &str,
) -> Result<Vec<events::EventSummary>> {
    let members = members(client, kind, ns, name).await?;
    let mut objects = vec![(kind.kind().to_owned(), name.to_owned())];
    objects.extend(
        members
            .replica_sets
            .iter()
            .map(|rs| ("ReplicaSet".to_owned(), name_of(&rs.metadata).to_owned())),
    );
    objects.extend(
        members
            .pods
            .iter()
            .map(|p| ("Pod".to_owned(), name_of(&p.metadata).to_owned())),
    );
    events::for_objects(client, ns, &objects).await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(value: serde_json::Value) -> Pod {
        serde_json::from_value(value).expect("pod")
    }

    fn status_of(value: serde_json::Value) -> (String, String, i32) {
        let s = summarize_pod(&pod(value), Timestamp::now());
        (s.status.clone(), s.ready(), s.restarts)
    }

    fn cs(name: &str, ready: bool, restarts: i32, state: serde_json::Value) -> serde_json::Value {
        json!({"name": name, "ready": ready, "restartCount": restarts, "image": "x",
            "imageID": "", "state": state})
    }

    #[test]
    fn pod_status_follows_kubectls_columns() {
        let one = json!({"containers": [{"name": "main"}]});
        let init = json!({"initContainers": [{"name": "setup"}], "containers": [{"name": "main"}]});
        let mut sidecar = cs("mesh", true, 2, json!({"running": {}}));
        sidecar["started"] = json!(true);
        let cases = [
            (
                json!({"spec": one, "status": {"phase": "Pending"}}),
                ("Pending", "0/1", 0),
            ),
            (
                json!({"spec": init, "status": {"phase": "Pending",
                    "initContainerStatuses": [cs("setup", false, 0, json!({"running": {}}))]}}),
                ("Init:0/1", "0/1", 0),
            ),
            (
                json!({"spec": init, "status": {"phase": "Pending",
                    "initContainerStatuses": [cs("setup", false, 3,
                        json!({"waiting": {"reason": "CrashLoopBackOff"}}))]}}),
                ("Init:CrashLoopBackOff", "0/1", 3),
            ),
            (
                json!({"spec": init, "status": {"phase": "Failed",
                    "initContainerStatuses": [cs("setup", false, 0,
                        json!({"terminated": {"exitCode": 2}}))]}}),
                ("Init:ExitCode:2", "0/1", 0),
            ),
            (
                json!({"spec": one, "status": {"phase": "Succeeded",
                    "containerStatuses": [cs("main", false, 0,
                        json!({"terminated": {"exitCode": 0, "reason": "Completed"}}))]}}),
                ("Completed", "0/1", 0),
            ),
            (
                json!({"spec": one, "status": {"phase": "Running",
                    "containerStatuses": [cs("main", false, 1,
                        json!({"terminated": {"exitCode": 137, "signal": 9}}))]}}),
                ("Signal:9", "0/1", 1),
            ),
            (
                json!({"metadata": {"deletionTimestamp": "2026-11-28T10:00:00Z"},
                    "spec": one, "status": {"phase": "Running",
                    "containerStatuses": [cs("main", true, 0, json!({"running": {}}))]}}),
                ("Terminating", "1/1", 0),
            ),
            (
                json!({"spec": {"initContainers": [{"name": "mesh", "restartPolicy": "Always"}],
                        "containers": [{"name": "main"}]},
                    "status": {"phase": "Running",
                        "conditions": [{"type": "Initialized", "status": "True"}],
                        "initContainerStatuses": [sidecar],
                        "containerStatuses": [cs("main", true, 1, json!({"running": {}}))]}}),
                ("Running", "2/2", 3),
            ),
        ];
        for (value, (status, ready, restarts)) in cases {
            assert_eq!(
                status_of(value.clone()),
                (status.to_owned(), ready.to_owned(), restarts),
                "{value}"
            );
        }
    }

    #[test]
    fn ages_print_like_kubectl() {
        for (secs, want) in [
            (-5, "<invalid>"),
            (-1, "0s"),
            (45, "45s"),
            (119, "119s"),
            (120, "2m"),
            (192, "3m12s"),
            (600, "10m"),
            (3 * 3600 - 1, "179m"),
            (5 * 3600 + 60, "5h1m"),
            (30 * 3600, "30h"),
            (51 * 3600, "2d3h"),
            (10 * 86400, "10d"),
            (3 * 365 * 86400 + 86400, "3y1d"),
            (9 * 365 * 86400, "9y"),
        ] {
            assert_eq!(human_duration(secs), want, "{secs}s");
        }
    }
}
