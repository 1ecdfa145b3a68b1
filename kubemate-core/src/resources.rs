//! Generic operations on every catalogued kind and on custom resources: list, get, create,
//! update with optimistic concurrency, delete, and one-line summaries for tables.

use kube::core::DynamicObject;
use serde::Serialize;
use serde_json::Value;

use crate::{
    ClusterClient, DeleteOptions, DeleteOutcome, Error, ErrorKind, ListOptions, Propagation,
    ResourceType, Result, WriteOptions,
};

/// One row of a resource table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Object name.
    pub name: String,
    /// Namespace; `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    /// Kind.
    pub kind: String,
    /// Creation time (RFC 3339), from which tables show the age.
    pub created: Option<String>,
    /// Status in a word or two, as kubectl's STATUS column shows it.
    pub status: String,
    /// Readiness as `ready/desired`, for kinds that have it.
    pub ready: Option<String>,
}

/// A page of summaries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryPage {
    /// The rows.
    pub items: Vec<Summary>,
    /// Token for the next page.
    pub continue_token: Option<String>,
    /// resourceVersion of the list.
    pub resource_version: String,
}

fn int(v: &Value, pointer: &str) -> Option<i64> {
    v.pointer(pointer).and_then(Value::as_i64)
}

fn text<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn condition_true(v: &Value, kind: &str) -> bool {
    v.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.get("type").and_then(Value::as_str) == Some(kind)
                    && c.get("status").and_then(Value::as_str) == Some("True")
            })
        })
}

fn ratio(ready: Option<i64>, desired: Option<i64>) -> Option<String> {
    Some(format!("{}/{}", ready.unwrap_or(0), desired.unwrap_or(0)))
}

fn pod_status(obj: &DynamicObject, v: &Value) -> (String, Option<String>) {
    let statuses = v
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let total = v
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map_or(statuses.len(), Vec::len);
    let ready = statuses
        .iter()
        .filter(|s| s.get("ready").and_then(Value::as_bool) == Some(true))
        .count();
    // kubectl shows the most telling container reason over the phase.
    let reason = statuses.iter().find_map(|s| {
        text(s, "/state/waiting/reason")
            .or_else(|| text(s, "/state/terminated/reason"))
            .map(str::to_owned)
    });
    let status = if obj.metadata.deletion_timestamp.is_some() {
        "Terminating".to_owned()
    } else {
        reason
            .or_else(|| text(v, "/status/reason").map(str::to_owned))
            .or_else(|| text(v, "/status/phase").map(str::to_owned))
            .unwrap_or_else(|| "Pending".to_owned())
    };
    (status, Some(format!("{ready}/{total}")))
}

/// The table row of an object.
pub fn summarize(rt: &ResourceType, obj: &DynamicObject) -> Summary {
    let v = &obj.data;
    let phase = || text(v, "/status/phase").unwrap_or_default().to_owned();
    let (status, ready) = match (rt.group.as_str(), rt.plural.as_str()) {
        ("", "pods") => pod_status(obj, v),
        ("apps", "deployments") => {
            let desired = int(v, "/spec/replicas").or(Some(1));
            let ready = int(v, "/status/readyReplicas");
            let status = if v.pointer("/spec/paused") == Some(&Value::Bool(true)) {
                "Paused"
            } else if ready.unwrap_or(0) >= desired.unwrap_or(0) {
                "Available"
            } else {
                "Progressing"
            };
            (status.to_owned(), ratio(ready, desired))
        }
        ("apps", "statefulsets") | ("apps", "replicasets") => {
            let desired = int(v, "/spec/replicas").or(Some(1));
            let ready = int(v, "/status/readyReplicas");
            let status = if ready.unwrap_or(0) >= desired.unwrap_or(0) {
                "Ready"
            } else {
                "Progressing"
            };
            (status.to_owned(), ratio(ready, desired))
        }
        ("apps", "daemonsets") => {
            let desired = int(v, "/status/desiredNumberScheduled");
            let ready = int(v, "/status/numberReady");
            let status = if ready.unwrap_or(0) >= desired.unwrap_or(0) {
                "Ready"
            } else {
                "Progressing"
            };
            (status.to_owned(), ratio(ready, desired))
        }
        ("batch", "jobs") => {
            let status = if condition_true(v, "Complete") {
                "Complete"
            } else if condition_true(v, "Failed") {
                "Failed"
            } else if v.pointer("/spec/suspend") == Some(&Value::Bool(true)) {
                "Suspended"
            } else {
                "Running"
            };
            let completions = int(v, "/spec/completions").or(Some(1));
            (
                status.to_owned(),
                ratio(int(v, "/status/succeeded"), completions),
            )
        }
        ("batch", "cronjobs") => {
            let active = v
                .pointer("/status/active")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let status = if v.pointer("/spec/suspend") == Some(&Value::Bool(true)) {
                "Suspended".to_owned()
            } else if active > 0 {
                format!("Active({active})")
            } else {
                "Scheduled".to_owned()
            };
            (status, None)
        }
        ("", "services") => (
            text(v, "/spec/type").unwrap_or("ClusterIP").to_owned(),
            None,
        ),
        ("", "nodes") => {
            let mut status = if condition_true(v, "Ready") {
                "Ready".to_owned()
            } else {
                "NotReady".to_owned()
            };
            if v.pointer("/spec/unschedulable") == Some(&Value::Bool(true)) {
                status.push_str(",SchedulingDisabled");
            }
            (status, None)
        }
        ("", "namespaces") | ("", "persistentvolumeclaims") | ("", "persistentvolumes") => {
            (phase(), None)
        }
        ("autoscaling", "horizontalpodautoscalers") => (
            format!(
                "{}/{} replicas",
                int(v, "/status/currentReplicas").unwrap_or(0),
                int(v, "/status/desiredReplicas").unwrap_or(0)
            ),
            None,
        ),
        ("", "events") => (
            format!(
                "{} {}",
                text(v, "/type").unwrap_or("Normal"),
                text(v, "/reason").unwrap_or_default()
            ),
            None,
        ),
        ("", "configmaps") | ("", "secrets") => {
            let keys = ["data", "binaryData", "stringData"]
                .iter()
                .filter_map(|k| v.get(*k).and_then(Value::as_object))
                .map(serde_json::Map::len)
                .sum::<usize>();
            (format!("{keys} keys"), None)
        }
        _ => (String::new(), None),
    };
    Summary {
        name: obj.metadata.name.clone().unwrap_or_default(),
        namespace: obj.metadata.namespace.clone(),
        kind: rt.kind.clone(),
        created: obj
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.to_string()),
        status,
        ready,
    }
}

/// A page of table rows.
pub async fn list_summaries(
    client: &dyn ClusterClient,
    rt: &ResourceType,
    ns: &str,
    opts: &ListOptions,
) -> Result<SummaryPage> {
    let page = client.list(rt, ns, opts).await?;
    Ok(SummaryPage {
        items: page.items.iter().map(|o| summarize(rt, o)).collect(),
        continue_token: page.continue_token,
        resource_version: page.resource_version,
    })
}

fn check_type(rt: &ResourceType, obj: &DynamicObject) -> Result<()> {
    if let Some(types) = &obj.types {
        let matches = (types.api_version.is_empty() || types.api_version == rt.api_version())
            && (types.kind.is_empty() || types.kind == rt.kind);
        if !matches {
            return Err(Error::new(
                ErrorKind::BadRequest,
                format!(
                    "the object is a {} {}, not a {} {}",
                    types.api_version,
                    types.kind,
                    rt.api_version(),
                    rt.kind
                ),
            ));
        }
    }
    Ok(())
}

/// Creates an object of `rt` in `ns`; its apiVersion and kind, if set, must be `rt`'s.
pub async fn create(
    client: &dyn ClusterClient,
    rt: &ResourceType,
    ns: &str,
    obj: &DynamicObject,
    opts: &WriteOptions,
) -> Result<DynamicObject> {
    check_type(rt, obj)?;
    client.create(rt, ns, obj, opts).await
}

/// Updates an object. It must carry the resourceVersion it was read at: an update of a stale
/// copy is a `Conflict`, so no one's change is silently overwritten.
pub async fn update(
    client: &dyn ClusterClient,
    rt: &ResourceType,
    ns: &str,
    obj: &DynamicObject,
    opts: &WriteOptions,
) -> Result<DynamicObject> {
    check_type(rt, obj)?;
    if obj
        .metadata
        .resource_version
        .as_deref()
        .is_none_or(str::is_empty)
    {
        return Err(Error::invalid(
            "metadata.resourceVersion is required: send back the object as it was read",
            vec![crate::Cause {
                field: "metadata.resourceVersion".to_owned(),
                reason: "FieldValueRequired".to_owned(),
                message: "Required value".to_owned(),
            }],
        ));
    }
    client.replace(rt, ns, obj, opts).await
}

/// Deletes an object; dependents are collected in the background unless `orphan`.
pub async fn delete(
    client: &dyn ClusterClient,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    orphan: bool,
) -> Result<DeleteOutcome> {
    let opts = DeleteOptions {
        propagation: Some(if orphan {
            Propagation::Orphan
        } else {
            Propagation::Background
        }),
        ..Default::default()
    };
    client.delete(rt, ns, name, &opts).await
}

mod ops;
pub use ops::{Create, Delete, Get, List, ListSummaries, Namespaces, Update, namespace_type};

#[cfg(all(test, feature = "test-util"))]
mod tests;
