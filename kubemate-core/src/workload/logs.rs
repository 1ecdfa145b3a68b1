//! Container logs: of one Pod, and of every Pod of a workload.

use futures::{StreamExt, stream};
use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;

use super::{WorkloadKind, invalid_field, members, name_of, validate_target};
use crate::{ClusterClient, Error, ErrorKind, LogOptions, LogStream, Result, names};

/// Lines per Pod when a workload's logs are read without `tail_lines` (kubectl's default with a
/// selector), so a large workload cannot flood the caller.
pub const DEFAULT_WORKLOAD_TAIL: i64 = 10;

/// The most Pods whose logs [`follow_logs`] follows at once; each one is a long-lived request.
pub const MAX_FOLLOWED_PODS: usize = 10;

/// How many Pods' logs are requested at the same time.
const CONCURRENT_REQUESTS: usize = 4;

/// The annotation naming the container kubectl picks when none is given.
const DEFAULT_CONTAINER_ANNOTATION: &str = "kubectl.kubernetes.io/default-container";

fn validate_options(opts: &LogOptions) -> Result<()> {
    if let Some(tail) = opts.tail_lines.filter(|t| *t < 0) {
        return Err(invalid_field(
            "tailLines",
            format!("Invalid value: {tail}: must be greater than or equal to 0"),
        ));
    }
    if let Some(since) = opts.since_seconds.filter(|s| *s <= 0) {
        return Err(invalid_field(
            "sinceSeconds",
            format!("Invalid value: {since}: must be greater than 0"),
        ));
    }
    if let Some(limit) = opts.limit_bytes.filter(|l| *l <= 0) {
        return Err(invalid_field(
            "limitBytes",
            format!("Invalid value: {limit}: must be greater than 0"),
        ));
    }
    if let Some(container) = &opts.container {
        names::validate_dns1123_label("Pod", "container", container)?;
    }
    Ok(())
}

/// A Pod's log: the last lines (`tail_lines`), the lines of the last `since_seconds`, a chosen
/// container (required when the Pod has several), or the previous instance of a restarted
/// container (`previous`).
pub async fn pod_logs(
    client: &dyn ClusterClient,
    ns: &str,
    pod: &str,
    opts: &LogOptions,
) -> Result<String> {
    validate_target("Pod", ns, pod)?;
    validate_options(opts)?;
    client.logs(ns, pod, opts).await
}

/// A Pod's log as a stream of lines that keeps growing while the container writes.
pub async fn follow_pod_logs(
    client: &dyn ClusterClient,
    ns: &str,
    pod: &str,
    opts: &LogOptions,
) -> Result<LogStream> {
    validate_target("Pod", ns, pod)?;
    validate_options(opts)?;
    client.follow_logs(ns, pod, opts).await
}

/// The log of one Pod of a workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodLog {
    /// The Pod.
    pub pod: String,
    /// The container read.
    pub container: String,
    /// Its lines, oldest first.
    pub lines: Vec<String>,
    /// Why there is no log for this Pod (e.g. its container has not started), if so.
    pub error: Option<String>,
}

impl PodLog {
    /// The prefix kubectl's `--prefix` puts before each line: `[pod/<pod>/<container>]`.
    pub fn prefix(&self) -> String {
        prefix(&self.pod, &self.container)
    }
}

fn prefix(pod: &str, container: &str) -> String {
    format!("[pod/{pod}/{container}]")
}

/// The logs of every Pod of a workload, by Pod name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadLogs {
    /// One entry per Pod.
    pub pods: Vec<PodLog>,
}

impl WorkloadLogs {
    /// Every line prefixed with its Pod and container, Pod after Pod, as one text.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for p in &self.pods {
            let prefix = p.prefix();
            for line in &p.lines {
                out.push_str(&prefix);
                out.push(' ');
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

/// The container to read in `pod`: the one asked for, else the Pod's default-container
/// annotation, else its first container (kubectl's choice).
fn container_for(pod: &Pod, opts: &LogOptions) -> String {
    if let Some(c) = &opts.container {
        return c.clone();
    }
    let containers = pod
        .spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or_default();
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(DEFAULT_CONTAINER_ANNOTATION))
        .filter(|d| containers.iter().any(|c| &c.name == *d))
        .cloned()
        .or_else(|| containers.first().map(|c| c.name.clone()))
        .unwrap_or_default()
}

/// A per-Pod failure worth reporting beside the other Pods' logs rather than failing the whole
/// request: the container is not running (yet), or the Pod went away meanwhile.
fn is_per_pod(e: &Error) -> bool {
    matches!(e.kind(), ErrorKind::BadRequest | ErrorKind::NotFound)
}

fn per_pod_options(pod: &Pod, opts: &LogOptions) -> (String, LogOptions) {
    let container = container_for(pod, opts);
    let opts = LogOptions {
        container: Some(container.clone()),
        tail_lines: opts.tail_lines.or(Some(DEFAULT_WORKLOAD_TAIL)),
        ..opts.clone()
    };
    (container, opts)
}

async fn pod_log(
    client: &dyn ClusterClient,
    ns: &str,
    pod: &Pod,
    opts: &LogOptions,
) -> Result<PodLog> {
    let pod_name = name_of(&pod.metadata).to_owned();
    let (container, opts) = per_pod_options(pod, opts);
    match client.logs(ns, &pod_name, &opts).await {
        Ok(text) => Ok(PodLog {
            pod: pod_name,
            container,
            lines: text.lines().map(str::to_owned).collect(),
            error: None,
        }),
        Err(e) if is_per_pod(&e) => Ok(PodLog {
            pod: pod_name,
            container,
            lines: Vec::new(),
            error: Some(e.message().to_owned()),
        }),
        Err(e) => Err(e),
    }
}

/// The logs of every Pod of a workload (see [`pods`](super::pods) for which Pods): each Pod's
/// last [`DEFAULT_WORKLOAD_TAIL`] lines unless `tail_lines` says otherwise, of the chosen
/// container or each Pod's default one. A Pod whose log cannot be read (container not started,
/// no previous instance) carries the reason in [`PodLog::error`]; other failures fail the call.
pub async fn logs(
    client: &dyn ClusterClient,
    kind: WorkloadKind,
    ns: &str,
    name: &str,
    opts: &LogOptions,
) -> Result<WorkloadLogs> {
    validate_options(opts)?;
    let mut members = members(client, kind, ns, name).await?;
    members
        .pods
        .sort_by(|a, b| name_of(&a.metadata).cmp(name_of(&b.metadata)));
    // The futures are built first so that the stream holds no closure over borrowed Pods:
    // a closure there makes the whole future impossible to prove `Send` (rust-lang/rust#102211),
    // which a server handler needs.
    let reads: Vec<_> = members
        .pods
        .iter()
        .map(|pod| pod_log(client, ns, pod, opts))
        .collect();
    let results: Vec<Result<PodLog>> = stream::iter(reads)
        .buffered(CONCURRENT_REQUESTS)
        .collect()
        .await;
    Ok(WorkloadLogs {
        pods: results.into_iter().collect::<Result<_>>()?,
    })
}

/// Follows the logs of every Pod of a workload as one stream of lines, each prefixed with
/// `[pod/<pod>/<container>]`. Pods whose container cannot be followed yet are left out; if no
/// Pod can be followed, the first failure is returned. More than [`MAX_FOLLOWED_PODS`] Pods is
/// [`ErrorKind::BadRequest`]: follow a single Pod instead.
pub async fn follow_logs(
    client: &dyn ClusterClient,
    kind: WorkloadKind,
    ns: &str,
    name: &str,
    opts: &LogOptions,
) -> Result<LogStream> {
    validate_options(opts)?;
    let members = members(client, kind, ns, name).await?;
    if members.pods.len() > MAX_FOLLOWED_PODS {
        return Err(Error::new(
            ErrorKind::BadRequest,
            format!(
                "{kind} \"{name}\" has {} pods; following more than {MAX_FOLLOWED_PODS} at once is not allowed, follow one pod instead",
                members.pods.len()
            ),
        ));
    }
    let mut streams = Vec::new();
    let mut first_error = None;
    for pod in &members.pods {
        let pod_name = name_of(&pod.metadata);
        let (container, opts) = per_pod_options(pod, opts);
        match client.follow_logs(ns, pod_name, &opts).await {
            Ok(lines) => {
                let prefix = prefix(pod_name, &container);
                streams.push(
                    lines
                        .map(move |line| line.map(|l| format!("{prefix} {l}")))
                        .boxed(),
                );
            }
            Err(e) if is_per_pod(&e) => {
                first_error.get_or_insert(e);
            }
            Err(e) => return Err(e),
        }
    }
    match (streams.is_empty(), first_error) {
        (true, Some(e)) => Err(e),
        _ => Ok(stream::select_all(streams).boxed()),
    }
}
