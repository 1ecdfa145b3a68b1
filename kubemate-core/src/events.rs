//! Events: by namespace, by involved object, and the cluster's current warnings — newest
//! first, with repeats folded together as Kubernetes aggregates them.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Event;
use serde::Serialize;

use crate::{
    ClusterClient, ClusterClientExt, ListOptions, Result,
    access::{Access, Operation, Target},
};

/// The object an event is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvolvedObject {
    /// Its kind.
    pub kind: String,
    /// Its namespace ("" for cluster-scoped objects).
    pub namespace: String,
    /// Its name.
    pub name: String,
}

/// One event as the console and CLI show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventSummary {
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Short machine-readable reason, e.g. `FailedScheduling`.
    pub reason: String,
    /// Human-readable message.
    pub message: String,
    /// How many times it happened (summed over folded repeats).
    pub count: i32,
    /// When it first happened (RFC 3339), if known.
    pub first_seen: Option<String>,
    /// When it last happened (RFC 3339), if known.
    pub last_seen: Option<String>,
    /// The object it is about.
    pub involved: InvolvedObject,
    /// The component that reported it.
    pub source: String,
    /// Namespace of the Event object itself.
    pub namespace: String,
}

impl EventSummary {
    /// True for a Warning event.
    pub fn is_warning(&self) -> bool {
        self.type_ == "Warning"
    }
}

fn time_of(t: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>) -> Option<String> {
    t.map(|t| t.0.to_string())
}

fn summarize(e: Event) -> EventSummary {
    let last = time_of(e.last_timestamp.as_ref())
        .or_else(|| e.event_time.as_ref().map(|t| t.0.to_string()))
        .or_else(|| {
            e.series
                .as_ref()
                .and_then(|s| s.last_observed_time.as_ref())
                .map(|t| t.0.to_string())
        })
        .or_else(|| time_of(e.metadata.creation_timestamp.as_ref()));
    let first = time_of(e.first_timestamp.as_ref())
        .or_else(|| e.event_time.as_ref().map(|t| t.0.to_string()))
        .or_else(|| last.clone());
    let count = e
        .series
        .as_ref()
        .and_then(|s| s.count)
        .or(e.count)
        .unwrap_or(1)
        .max(1);
    EventSummary {
        type_: e.type_.unwrap_or_else(|| "Normal".to_owned()),
        reason: e.reason.unwrap_or_default(),
        message: e.message.unwrap_or_default(),
        count,
        first_seen: first,
        last_seen: last,
        involved: InvolvedObject {
            kind: e.involved_object.kind.unwrap_or_default(),
            namespace: e.involved_object.namespace.unwrap_or_default(),
            name: e.involved_object.name.unwrap_or_default(),
        },
        source: e
            .reporting_component
            .filter(|c| !c.is_empty())
            .or_else(|| e.source.and_then(|s| s.component))
            .unwrap_or_default(),
        namespace: e.metadata.namespace.unwrap_or_default(),
    }
}

/// Folds repeats (same object, type, reason and message) into one, summing counts and keeping
/// the first and last times; sorts newest first.
pub fn fold(events: impl IntoIterator<Item = Event>) -> Vec<EventSummary> {
    let mut folded: BTreeMap<(InvolvedObject, String, String, String), EventSummary> =
        BTreeMap::new();
    for e in events.into_iter().map(summarize) {
        let key = (
            e.involved.clone(),
            e.type_.clone(),
            e.reason.clone(),
            e.message.clone(),
        );
        match folded.get_mut(&key) {
            Some(seen) => {
                seen.count += e.count;
                if e.first_seen < seen.first_seen && e.first_seen.is_some() {
                    seen.first_seen = e.first_seen;
                }
                if e.last_seen > seen.last_seen {
                    seen.last_seen = e.last_seen;
                }
            }
            None => {
                folded.insert(key, e);
            }
        }
    }
    let mut out: Vec<EventSummary> = folded.into_values().collect();
    // RFC 3339 UTC timestamps sort as strings.
    out.sort_by(|a, b| {
        b.last_seen
            .cmp(&a.last_seen)
            .then_with(|| a.reason.cmp(&b.reason))
    });
    out
}

/// The events of a namespace ("" for all namespaces), newest first.
pub async fn in_namespace(client: &dyn ClusterClient, ns: &str) -> Result<Vec<EventSummary>> {
    let events: Vec<Event> = client.list_all_as(ns, &ListOptions::default()).await?;
    Ok(fold(events))
}

/// The events about one object, newest first.
pub async fn for_object(
    client: &dyn ClusterClient,
    ns: &str,
    kind: &str,
    name: &str,
) -> Result<Vec<EventSummary>> {
    let selector = format!("involvedObject.kind={kind},involvedObject.name={name}");
    let events: Vec<Event> = client
        .list_all_as(ns, &ListOptions::fields(selector))
        .await?;
    Ok(fold(events))
}

/// The events about any of `objects` (kind, name) in one namespace, newest first, with one
/// request to the cluster.
pub async fn for_objects(
    client: &dyn ClusterClient,
    ns: &str,
    objects: &[(String, String)],
) -> Result<Vec<EventSummary>> {
    let wanted: BTreeSet<(&str, &str)> = objects
        .iter()
        .map(|(k, n)| (k.as_str(), n.as_str()))
        .collect();
    let events: Vec<Event> = client.list_all_as(ns, &ListOptions::default()).await?;
    Ok(fold(events.into_iter().filter(|e| {
        wanted.contains(&(
            e.involved_object.kind.as_deref().unwrap_or_default(),
            e.involved_object.name.as_deref().unwrap_or_default(),
        ))
    })))
}

/// The cluster's current Warning events in `ns` ("" for all namespaces), newest first.
pub async fn warnings(client: &dyn ClusterClient, ns: &str) -> Result<Vec<EventSummary>> {
    let events: Vec<Event> = client
        .list_all_as(ns, &ListOptions::fields("type=Warning"))
        .await?;
    Ok(fold(events))
}

/// The events of a namespace ([`in_namespace`]), or only its warnings ([`warnings`]).
#[derive(Debug, Clone, Default)]
pub struct ListEvents {
    /// The namespace ("" for all namespaces).
    pub ns: String,
    /// Only the Warning events.
    pub warnings: bool,
}

impl Operation for ListEvents {
    type Output = Vec<EventSummary>;

    fn target(&self) -> Target {
        Target::new("list", "events").ns(&self.ns)
    }

    fn access(&self) -> Vec<Access> {
        vec![Access::core("list", "events", &self.ns)]
    }

    fn mutates(&self) -> bool {
        false
    }

    async fn run(&self, client: &dyn ClusterClient) -> Result<Vec<EventSummary>> {
        if self.warnings {
            warnings(client, &self.ns).await
        } else {
            in_namespace(client, &self.ns).await
        }
    }
}

#[cfg(all(test, feature = "test-util"))]
mod tests {
    use super::*;
    use crate::FakeCluster;

    const EVENTS: &str = include_str!("events/fixtures/shop.yaml");

    #[tokio::test]
    async fn events_fold_repeats_and_sort_newest_first() {
        let fake = FakeCluster::from_yaml(EVENTS).expect("seed");
        let all = in_namespace(&fake, "shop").await.expect("events");
        let reasons: Vec<_> = all.iter().map(|e| e.reason.as_str()).collect();
        assert_eq!(reasons, ["ScalingReplicaSet", "BackOff", "Pulled"]);
        let backoff = &all[1];
        assert_eq!(backoff.count, 8);
        assert_eq!(backoff.first_seen.as_deref(), Some("2026-11-28T09:00:00Z"));
        assert_eq!(backoff.last_seen.as_deref(), Some("2026-11-28T12:00:00Z"));
        assert_eq!(all[0].count, 1, "a missing count is one occurrence");

        let warnings = warnings(&fake, "").await.expect("warnings");
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].is_warning());

        let pod = for_object(&fake, "shop", "Pod", "web-1")
            .await
            .expect("pod events");
        assert_eq!(pod.len(), 1);
        let several = for_objects(
            &fake,
            "shop",
            &[
                ("Deployment".into(), "web".into()),
                ("Pod".into(), "web-1".into()),
            ],
        )
        .await
        .expect("several");
        assert_eq!(several.len(), 2);
    }
}
