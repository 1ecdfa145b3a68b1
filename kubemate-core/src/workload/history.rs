//! Rollout history and rollback, with `kubectl rollout history/undo` semantics.
//!
//! A Deployment's revisions are its ReplicaSets, numbered by their
//! `deployment.kubernetes.io/revision` annotation; a StatefulSet's or DaemonSet's are its
//! ControllerRevisions, numbered by `.revision`, whose `.data` holds the pod template.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::PodTemplateSpec;
use kube::core::{DynamicObject, ObjectMeta};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{
    WorkloadKind, controlled, get_workload, invalid_field, is_paused, name_of, require,
    selector_of, uid_of,
};
use crate::{
    ClusterClient, Error, ErrorKind, ResourceType, Result, WriteOptions, catalog::Operation,
};

/// The annotation numbering a Deployment's ReplicaSets.
pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";
/// The annotation recording why a revision was made.
pub const CHANGE_CAUSE_ANNOTATION: &str = "kubernetes.io/change-cause";
/// The label the Deployment controller adds to each ReplicaSet's template.
const POD_TEMPLATE_HASH_LABEL: &str = "pod-template-hash";

/// Deployment annotations a rollback keeps from the Deployment rather than taking from the
/// ReplicaSet, as kubectl does.
const ANNOTATIONS_TO_SKIP: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION_ANNOTATION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];

/// One revision of a workload's rollout history.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    /// The revision number.
    pub revision: i64,
    /// The `kubernetes.io/change-cause` annotation, if any (kubectl shows `<none>`).
    pub change_cause: Option<String>,
    /// The images of the template's containers, in order.
    pub images: Vec<String>,
    /// When the revision's object was created (RFC 3339).
    pub created: Option<String>,
    /// True for the revision whose template the workload runs now.
    pub current: bool,
    /// The ReplicaSet (Deployment) or ControllerRevision (StatefulSet, DaemonSet) recording it.
    pub source: String,
    /// The pod template of the revision.
    pub template: PodTemplateSpec,
}

/// What a rollback did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "camelCase")]
pub enum RollbackOutcome {
    /// The workload's template was replaced by the revision's; a rollout follows.
    RolledBack {
        /// The revision rolled back to.
        revision: i64,
    },
    /// The workload already runs that revision's template; nothing was written.
    Skipped {
        /// The revision asked for.
        revision: i64,
    },
}

impl std::fmt::Display for RollbackOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RollbackOutcome::RolledBack { .. } => f.write_str("rolled back"),
            RollbackOutcome::Skipped { revision } => write!(
                f,
                "skipped rollback (current template already matches revision {revision})"
            ),
        }
    }
}

/// A revision as read from the cluster, before it is summarized.
struct Entry {
    revision: i64,
    meta: ObjectMeta,
    /// The pod template, as stored (no field dropped by a typed round trip).
    template: Value,
}

/// Drops what does not make two templates different: nulls, empty maps and lists (Go's
/// semantic equality treats nil and empty alike), the strategic-merge `$patch` directive and
/// the `pod-template-hash` label.
fn normalized(template: &Value) -> Value {
    fn strip(v: &Value) -> Option<Value> {
        match v {
            Value::Null => None,
            Value::Object(map) => {
                let out: Map<String, Value> = map
                    .iter()
                    .filter_map(|(k, v)| strip(v).map(|v| (k.clone(), v)))
                    .collect();
                (!out.is_empty()).then_some(Value::Object(out))
            }
            Value::Array(items) => {
                let out: Vec<Value> = items
                    .iter()
                    .map(|v| strip(v).unwrap_or(Value::Null))
                    .collect();
                (!out.is_empty()).then_some(Value::Array(out))
            }
            other => Some(other.clone()),
        }
    }
    let mut t = without_patch_directive(template);
    if let Some(labels) = t
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(POD_TEMPLATE_HASH_LABEL);
    }
    strip(&t).unwrap_or(Value::Null)
}

fn without_patch_directive(template: &Value) -> Value {
    let mut t = template.clone();
    if let Some(map) = t.as_object_mut() {
        map.remove("$patch");
    }
    t
}

fn same_template(a: &Value, b: &Value) -> bool {
    normalized(a) == normalized(b)
}

fn template_of(obj: &DynamicObject) -> Value {
    obj.data
        .pointer("/spec/template")
        .cloned()
        .unwrap_or(Value::Null)
}

pub(super) fn controller_revisions() -> ResourceType {
    ResourceType::new(
        "apps",
        "v1",
        "ControllerRevision",
        "controllerrevisions",
        true,
    )
}

/// The revisions of a workload, as kubectl collects them, sorted by revision. Duplicated
/// numbers keep the last one listed, as kubectl's map does.
async fn entries(
    client: &dyn ClusterClient,
    kind: WorkloadKind,
    ns: &str,
    workload: &DynamicObject,
) -> Result<Vec<Entry>> {
    let selector = selector_of(kind, workload)?;
    let owner = [uid_of(workload)];
    let mut by_revision = BTreeMap::new();
    if kind == WorkloadKind::Deployment {
        let rt = WorkloadKind::ReplicaSet.resource_type();
        for rs in controlled(client, &rt, ns, &selector, &owner).await? {
            // kubectl reads a missing annotation as revision 0 and skips an unparsable one.
            let revision = match rs
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(REVISION_ANNOTATION))
            {
                None => 0,
                Some(v) => match v.parse::<i64>() {
                    Ok(n) => n,
                    Err(_) => continue,
                },
            };
            let template = template_of(&rs);
            by_revision.insert(
                revision,
                Entry {
                    revision,
                    meta: rs.metadata,
                    template,
                },
            );
        }
    } else {
        for cr in controlled(client, &controller_revisions(), ns, &selector, &owner).await? {
            let Some(revision) = cr.data.get("revision").and_then(Value::as_i64) else {
                continue;
            };
            let Some(template) = cr.data.pointer("/data/spec/template") else {
                continue;
            };
            let template = without_patch_directive(template);
            by_revision.insert(
                revision,
                Entry {
                    revision,
                    meta: cr.metadata,
                    template,
                },
            );
        }
    }
    Ok(by_revision.into_values().collect())
}

fn summarize(entry: &Entry, current: bool) -> Result<Revision> {
    let template: PodTemplateSpec =
        serde_json::from_value(entry.template.clone()).map_err(|e| {
            Error::new(
                ErrorKind::Internal,
                format!(
                    "revision {} ({}) has a malformed pod template: {e}",
                    entry.revision,
                    name_of(&entry.meta)
                ),
            )
        })?;
    let images = template
        .spec
        .as_ref()
        .map(|s| {
            s.containers
                .iter()
                .map(|c| c.image.clone().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default();
    Ok(Revision {
        revision: entry.revision,
        change_cause: entry
            .meta
            .annotations
            .as_ref()
            .and_then(|a| a.get(CHANGE_CAUSE_ANNOTATION))
            .filter(|c| !c.is_empty())
            .cloned(),
        images,
        created: entry
            .meta
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.to_string()),
        current,
        source: name_of(&entry.meta).to_owned(),
        template,
    })
}

/// The rollout history of a Deployment, StatefulSet or DaemonSet, oldest revision first, as
/// `kubectl rollout history` lists it. The revision whose template the workload runs now is
/// marked `current`.
pub async fn history(
    client: &dyn ClusterClient,
    kind: WorkloadKind,
    ns: &str,
    name: &str,
) -> Result<Vec<Revision>> {
    require(kind, Operation::Rollback)?;
    let workload = get_workload(client, kind, ns, name).await?;
    let entries = entries(client, kind, ns, &workload).await?;
    let running = template_of(&workload);
    // Should two revisions hold the same template, the newest is the one in use.
    let current = entries
        .iter()
        .rev()
        .find(|e| same_template(&e.template, &running))
        .map(|e| e.revision);
    entries
        .iter()
        .map(|e| summarize(e, Some(e.revision) == current))
        .collect()
}

fn revision_not_found(revision: i64) -> Error {
    Error::new(
        ErrorKind::RevisionNotFound,
        format!("unable to find specified revision {revision} in history"),
    )
}

/// Picks the revision to roll back to: the one asked for, or the one before the newest.
fn target<'a>(
    kind: WorkloadKind,
    name: &str,
    entries: &'a [Entry],
    to_revision: i64,
) -> Result<&'a Entry> {
    if to_revision > 0 {
        return entries
            .iter()
            .find(|e| e.revision == to_revision)
            .ok_or_else(|| revision_not_found(to_revision));
    }
    match entries.len().checked_sub(2).map(|i| &entries[i]) {
        Some(previous) => Ok(previous),
        None if kind == WorkloadKind::Deployment => Err(Error::new(
            ErrorKind::RevisionNotFound,
            format!("no rollout history found for deployment \"{name}\""),
        )),
        None => Err(Error::new(
            ErrorKind::RevisionNotFound,
            "no last revision to roll back to",
        )),
    }
}

/// The Deployment's annotations after a rollback, computed as kubectl does: the bookkeeping
/// annotations stay the Deployment's, everything else (the change-cause above all) comes from
/// the revision's ReplicaSet.
fn rolled_back_annotations(
    deployment: &ObjectMeta,
    replica_set: &ObjectMeta,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(own) = &deployment.annotations {
        for key in ANNOTATIONS_TO_SKIP {
            if let Some(v) = own.get(*key) {
                out.insert((*key).to_owned(), v.clone());
            }
        }
    }
    if let Some(theirs) = &replica_set.annotations {
        for (k, v) in theirs {
            if !ANNOTATIONS_TO_SKIP.contains(&k.as_str()) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

/// Rolls a Deployment, StatefulSet or DaemonSet back to `to_revision`, or to the revision
/// before the newest one when it is `None` or `Some(0)` (as `kubectl rollout undo` does).
///
/// An unknown revision, or none to roll back to, is [`ErrorKind::RevisionNotFound`] ("unable to find specified revision N in
/// history"), a negative one [`ErrorKind::Invalid`], a paused Deployment
/// [`ErrorKind::BadRequest`]. Rolling back to the template already in use writes nothing and
/// returns [`RollbackOutcome::Skipped`]. The write replaces the workload with the
/// resourceVersion that was read, so a concurrent change makes it fail with
/// [`ErrorKind::Conflict`].
pub async fn rollback(
    client: &dyn ClusterClient,
    kind: WorkloadKind,
    ns: &str,
    name: &str,
    to_revision: Option<i64>,
) -> Result<RollbackOutcome> {
    require(kind, Operation::Rollback)?;
    let to_revision = to_revision.unwrap_or(0);
    if to_revision < 0 {
        return Err(invalid_field(
            "toRevision",
            format!(
                "Invalid value: {to_revision}: must be a revision number, or 0 for the previous revision"
            ),
        ));
    }
    let workload = get_workload(client, kind, ns, name).await?;
    let entries = entries(client, kind, ns, &workload).await?;
    let target = target(kind, name, &entries, to_revision)?;
    if kind == WorkloadKind::Deployment && is_paused(&workload) {
        return Err(Error::new(
            ErrorKind::BadRequest,
            "you cannot rollback a paused deployment; resume it first and try again",
        ));
    }
    if same_template(&target.template, &template_of(&workload)) {
        return Ok(RollbackOutcome::Skipped {
            revision: target.revision,
        });
    }
    let mut template = target.template.clone();
    let mut updated = workload.clone();
    if kind == WorkloadKind::Deployment {
        if let Some(labels) = template
            .pointer_mut("/metadata/labels")
            .and_then(Value::as_object_mut)
        {
            labels.remove(POD_TEMPLATE_HASH_LABEL);
        }
        updated.metadata.annotations =
            Some(rolled_back_annotations(&workload.metadata, &target.meta));
    }
    match updated.data.get_mut("spec").and_then(Value::as_object_mut) {
        Some(spec) => {
            spec.insert("template".to_owned(), template);
        }
        None => {
            return Err(Error::new(
                ErrorKind::Internal,
                format!("{kind} \"{name}\" has no spec"),
            ));
        }
    }
    // Omitted managedFields leave the server's bookkeeping as it is.
    updated.metadata.managed_fields = None;
    // The replace carries the resourceVersion read, so anyone's change in between is a
    // Conflict, never a lost update; but the controller's own status writes (which a workload
    // in rollout makes all the time) change nothing the rollback decided on: retry on those.
    let mut read = workload;
    for attempt in 1.. {
        let written = client
            .replace(
                &kind.resource_type(),
                ns,
                &updated,
                &WriteOptions::default(),
            )
            .await;
        match written {
            Err(e) if e.is(ErrorKind::Conflict) && attempt < 3 => {
                let live = get_workload(client, kind, ns, name).await?;
                if !same_but_status(&read, &live) {
                    return Err(e);
                }
                updated.metadata.resource_version = live.metadata.resource_version.clone();
                read = live;
            }
            other => {
                other?;
                break;
            }
        }
    }
    Ok(RollbackOutcome::RolledBack {
        revision: target.revision,
    })
}

/// True when `a` and `b` differ at most in their status and the server's bookkeeping.
fn same_but_status(a: &DynamicObject, b: &DynamicObject) -> bool {
    a.metadata.labels == b.metadata.labels
        && a.metadata.annotations == b.metadata.annotations
        && a.metadata.deletion_timestamp == b.metadata.deletion_timestamp
        && a.data.get("spec") == b.data.get("spec")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn templates_compare_like_go_semantic_equality_ignoring_the_hash() {
        let a = json!({"metadata": {"labels": {"app": "web", "pod-template-hash": "abc"},
            "creationTimestamp": null},
            "spec": {"containers": [{"name": "main", "image": "app:1", "env": []}]}});
        let b = json!({"$patch": "replace", "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "main", "image": "app:1"}]}});
        assert!(same_template(&a, &b));
        let c = json!({"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "main", "image": "app:2"}]}});
        assert!(!same_template(&a, &c));
    }

    #[test]
    fn rollback_annotations_keep_bookkeeping_and_take_the_rest_from_the_replica_set() {
        let meta = |pairs: &[(&str, &str)]| ObjectMeta {
            annotations: Some(
                pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ),
            ..Default::default()
        };
        let deployment = meta(&[
            (REVISION_ANNOTATION, "3"),
            (CHANGE_CAUSE_ANNOTATION, "image 2"),
            ("team", "shop"),
        ]);
        let rs = meta(&[
            (REVISION_ANNOTATION, "1"),
            (CHANGE_CAUSE_ANNOTATION, "image 1"),
            ("deployment.kubernetes.io/desired-replicas", "2"),
        ]);
        let out = rolled_back_annotations(&deployment, &rs);
        assert_eq!(out.get(REVISION_ANNOTATION).map(String::as_str), Some("3"));
        assert_eq!(
            out.get(CHANGE_CAUSE_ANNOTATION).map(String::as_str),
            Some("image 1")
        );
        assert!(!out.contains_key("deployment.kubernetes.io/desired-replicas"));
        assert!(
            !out.contains_key("team"),
            "kubectl replaces the annotations"
        );
    }
}
