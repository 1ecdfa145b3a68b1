//! [`FakeCluster`]: an in-memory [`ClusterClient`] for unit tests and the demo mode.
//!
//! It behaves like client-go's fake clientset: it stores deep copies, assigns uid,
//! resourceVersion, creationTimestamp and generation, lists in etcd's order, pages, watches,
//! and answers with the apiserver's error kinds. It deliberately stops there: no admission, no
//! controllers (beyond removing the dependents of a deleted owner and the contents of a deleted
//! namespace), no server-side apply field ownership. The conformance suite
//! (`crate::conformance`, feature `test-util`) holds it to the real apiserver's behaviour.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use async_trait::async_trait;
use futures::{StreamExt, stream};
use kube::core::DynamicObject;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

use crate::{
    ApplyOptions, ClusterClient, DeleteOptions, DeleteOutcome, DiscoveredResource, Error,
    ErrorKind, Identity, ListOptions, LogOptions, LogStream, ObjectList, Propagation, ResourceType,
    Result, Scale, WatchEvent, WatchOptions, WatchStream, WriteOptions,
};

mod store;
mod types;

use store::{Change, ChangeKind, Filter, State};

/// The demo dataset, file by file, in load order.
pub const DEMO: &[(&str, &str)] = &[
    ("00-cluster.yaml", include_str!("../demo/00-cluster.yaml")),
    ("10-shop.yaml", include_str!("../demo/10-shop.yaml")),
    ("20-payments.yaml", include_str!("../demo/20-payments.yaml")),
    (
        "30-analytics.yaml",
        include_str!("../demo/30-analytics.yaml"),
    ),
    ("40-system.yaml", include_str!("../demo/40-system.yaml")),
    ("50-events.yaml", include_str!("../demo/50-events.yaml")),
];

/// The kind of call, for failure injection and the record of actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// `discover`.
    Discover,
    /// `get`.
    Get,
    /// `list`.
    List,
    /// `create`.
    Create,
    /// `replace`.
    Replace,
    /// `merge_patch`.
    Patch,
    /// `apply`.
    Apply,
    /// `delete`.
    Delete,
    /// `watch`.
    Watch,
    /// `get_scale` and `set_scale`.
    Scale,
    /// `merge_patch_status`.
    Status,
    /// `logs` and `follow_logs`.
    Logs,
}

impl Verb {
    /// True for verbs that change the cluster.
    pub fn is_write(self) -> bool {
        matches!(
            self,
            Verb::Create | Verb::Replace | Verb::Patch | Verb::Apply | Verb::Delete | Verb::Status
        )
    }
}

/// One call the fake received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// What was called.
    pub verb: Verb,
    /// The impersonated identity, if the call came through [`ClusterClient::impersonate`].
    pub identity: Option<Identity>,
    /// The plural of the resource (`pods` for logs, empty for discovery).
    pub resource: String,
    /// The namespace ("" for cluster scope or all namespaces).
    pub namespace: String,
    /// The object name, if the call named one.
    pub name: String,
}

#[derive(Debug)]
struct Failure {
    verb: Option<Verb>,
    resource: Option<String>,
    kind: ErrorKind,
    remaining: usize,
}

#[derive(Debug, Clone)]
struct LogLine {
    key: (String, String, String),
    time: String,
    text: String,
}

#[derive(Debug, Default)]
struct Logs {
    current: BTreeMap<(String, String, String), Vec<(String, String)>>,
    previous: BTreeMap<(String, String, String), Vec<(String, String)>>,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
    changes: broadcast::Sender<Arc<Change>>,
    logs: Mutex<Logs>,
    log_lines: broadcast::Sender<LogLine>,
    failures: Mutex<Vec<Failure>>,
    actions: Mutex<Vec<Action>>,
}

/// An in-memory cluster. Clones share the same state.
#[derive(Debug, Clone)]
pub struct FakeCluster {
    inner: Arc<Inner>,
    identity: Option<Identity>,
}

impl Default for FakeCluster {
    fn default() -> Self {
        Self::new()
    }
}

/// Locks a mutex, recovering from a panic in another holder: the fake's state stays usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn to_object(v: Value) -> Result<DynamicObject> {
    Ok(serde_json::from_value(v)?)
}

fn to_value(obj: &DynamicObject) -> Result<Value> {
    Ok(serde_json::to_value(obj)?)
}

fn event_of(change: &Change) -> Result<WatchEvent> {
    let obj = to_object(change.object.clone())?;
    Ok(match change.kind {
        ChangeKind::Added => WatchEvent::Added(obj),
        ChangeKind::Modified => WatchEvent::Modified(obj),
        ChangeKind::Deleted => WatchEvent::Deleted(obj),
    })
}

fn parse_rv(rv: &str) -> Result<u64> {
    rv.parse().map_err(|_| {
        Error::new(
            ErrorKind::BadRequest,
            format!("invalid resource version: \"{rv}\""),
        )
    })
}

/// The selector string of a workload's `spec.selector.matchLabels`, as the scale subresource
/// reports it.
fn selector_string(obj: &Value) -> Option<String> {
    let labels = obj.pointer("/spec/selector/matchLabels")?.as_object()?;
    Some(
        labels
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(","),
    )
}

fn scale_of(obj: &Value) -> Scale {
    Scale {
        replicas: obj
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1) as i32,
        current_replicas: obj
            .pointer("/status/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(0) as i32,
        selector: selector_string(obj),
        resource_version: obj
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .map(str::to_owned),
    }
}

impl FakeCluster {
    /// An empty cluster (no namespaces, no nodes).
    pub fn new() -> Self {
        let (changes, _) = broadcast::channel(1024);
        let (log_lines, _) = broadcast::channel(1024);
        FakeCluster {
            inner: Arc::new(Inner {
                state: Mutex::new(State::new()),
                changes,
                logs: Mutex::new(Logs::default()),
                log_lines,
                failures: Mutex::new(Vec::new()),
                actions: Mutex::new(Vec::new()),
            }),
            identity: None,
        }
    }

    /// The demo cluster: three nodes, tenant namespaces with workloads, storage and events
    /// (the YAML files of `kubemate-core/demo/`). The server's demo mode boots from it.
    pub fn demo() -> Result<Self> {
        let fake = Self::new();
        for (file, yaml) in DEMO {
            fake.seed_yaml(yaml)
                .map_err(|e| Error::new(e.kind(), format!("{file}: {}", e.message())))?;
        }
        Ok(fake)
    }

    /// A cluster seeded from multi-document YAML.
    pub fn from_yaml(yaml: &str) -> Result<Self> {
        let fake = Self::new();
        fake.seed_yaml(yaml)?;
        Ok(fake)
    }

    /// Stores the objects of a multi-document YAML (a `List` is expanded) as they are, keeping
    /// their uid, timestamps and status, as a restore would. Namespaces must come before their
    /// contents and CustomResourceDefinitions before their resources. Returns how many objects
    /// were stored; on error, the objects before the failing one stay.
    pub fn seed_yaml(&self, yaml: &str) -> Result<usize> {
        let mut count = 0;
        for (i, doc) in serde_yaml::Deserializer::from_str(yaml).enumerate() {
            let value = Value::deserialize(doc).map_err(|e| {
                Error::new(ErrorKind::BadRequest, format!("document {}: {e}", i + 1))
            })?;
            if value.is_null() {
                continue;
            }
            let items = if value.get("kind").and_then(Value::as_str) == Some("List") {
                value
                    .get("items")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            } else {
                vec![value]
            };
            for item in items {
                self.seed_one(item).map_err(|e| {
                    Error::new(e.kind(), format!("document {}: {}", i + 1, e.message()))
                })?;
                count += 1;
            }
        }
        Ok(count)
    }

    fn seed_one(&self, obj: Value) -> Result<()> {
        let api_version = obj
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
        let mut state = lock(&self.inner.state);
        let info = state.type_of(api_version, kind)?;
        let ns = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let (_, change) = state.create(&info, &ns, obj, false, true)?;
        self.publish(change);
        Ok(())
    }

    /// Makes the next `times` calls of `verb` (any verb if `None`) on `resource` (a plural; any
    /// if `None`) fail with `kind`.
    pub fn fail(&self, verb: Option<Verb>, resource: Option<&str>, kind: ErrorKind, times: usize) {
        lock(&self.inner.failures).push(Failure {
            verb,
            resource: resource.map(str::to_owned),
            kind,
            remaining: times,
        });
    }

    /// Every call received so far, oldest first.
    pub fn actions(&self) -> Vec<Action> {
        lock(&self.inner.actions).clone()
    }

    /// The calls among [`actions`](Self::actions) that change the cluster or its scale:
    /// create, replace, patch, apply, delete, status and scale (the fake records reading a scale
    /// and setting it as one verb, so a read of the scale counts too), oldest first.
    pub fn writes(&self) -> Vec<Action> {
        lock(&self.inner.actions)
            .iter()
            .filter(|a| a.verb.is_write() || a.verb == Verb::Scale)
            .cloned()
            .collect()
    }

    /// Appends a line to a container's log (and to followers of it).
    pub fn push_log(&self, ns: &str, pod: &str, container: &str, line: &str) {
        let entry = LogLine {
            key: (ns.to_owned(), pod.to_owned(), container.to_owned()),
            time: store::now(),
            text: line.to_owned(),
        };
        lock(&self.inner.logs)
            .current
            .entry(entry.key.clone())
            .or_default()
            .push((entry.time.clone(), entry.text.clone()));
        let _ = self.inner.log_lines.send(entry);
    }

    /// Appends a line to the log of a container's previous (terminated) instance.
    pub fn push_previous_log(&self, ns: &str, pod: &str, container: &str, line: &str) {
        lock(&self.inner.logs)
            .previous
            .entry((ns.to_owned(), pod.to_owned(), container.to_owned()))
            .or_default()
            .push((store::now(), line.to_owned()));
    }

    fn publish(&self, change: Option<Change>) {
        if let Some(change) = change {
            // No receiver is not an error: nobody is watching.
            let _ = self.inner.changes.send(Arc::new(change));
        }
    }

    fn begin(&self, verb: Verb, resource: &str, ns: &str, name: &str) -> Result<()> {
        // The same lock as the real client's: a request never leaves for a name that is not
        // one URL segment.
        let named = !matches!(
            verb,
            Verb::Discover | Verb::List | Verb::Create | Verb::Watch
        );
        if verb != Verb::Discover {
            let rt = ResourceType::new("", "v1", "", resource, true);
            crate::names::check_address(&rt, ns, name, named)?;
        }
        lock(&self.inner.actions).push(Action {
            verb,
            identity: self.identity.clone(),
            resource: resource.to_owned(),
            namespace: ns.to_owned(),
            name: name.to_owned(),
        });
        let mut failures = lock(&self.inner.failures);
        if let Some(f) = failures.iter_mut().find(|f| {
            f.remaining > 0
                && f.verb.is_none_or(|v| v == verb)
                && f.resource.as_deref().is_none_or(|r| r == resource)
        }) {
            f.remaining -= 1;
            return Err(Error::new(
                f.kind,
                format!("injected failure of {verb:?} on {resource}"),
            ));
        }
        Ok(())
    }

    /// Runs a write on the state under the lock and publishes its change.
    fn write(
        &self,
        rt: &ResourceType,
        op: impl FnOnce(&mut State, &types::TypeInfo) -> Result<(Value, Option<Change>)>,
    ) -> Result<DynamicObject> {
        let mut state = lock(&self.inner.state);
        let info = state.type_info(rt)?;
        let (mut obj, change) = op(&mut state, &info)?;
        self.publish(change);
        obj["apiVersion"] = rt.api_version().into();
        to_object(obj)
    }

    fn pod_container(&self, ns: &str, pod: &str, opts: &LogOptions) -> Result<String> {
        let state = lock(&self.inner.state);
        let info = state.type_info(&ResourceType::new("", "v1", "Pod", "pods", true))?;
        let obj = state.lookup(&info, ns, pod)?;
        let names: Vec<String> = ["/spec/containers", "/spec/initContainers"]
            .iter()
            .filter_map(|p| obj.pointer(p).and_then(Value::as_array))
            .flatten()
            .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect();
        match &opts.container {
            Some(c) if names.contains(c) => Ok(c.clone()),
            Some(c) => Err(Error::new(
                ErrorKind::BadRequest,
                format!("container {c} is not valid for pod {pod}"),
            )),
            None if names.len() == 1 => Ok(names[0].clone()),
            None => Err(Error::new(
                ErrorKind::BadRequest,
                format!(
                    "a container name must be specified for pod {pod}, choose one of: [{}]",
                    names.join(" ")
                ),
            )),
        }
    }

    fn log_lines(&self, ns: &str, pod: &str, opts: &LogOptions) -> Result<(String, Vec<String>)> {
        let container = self.pod_container(ns, pod, opts)?;
        let key = (ns.to_owned(), pod.to_owned(), container.clone());
        let logs = lock(&self.inner.logs);
        let lines = if opts.previous {
            logs.previous.get(&key).ok_or_else(|| {
                Error::new(
                    ErrorKind::BadRequest,
                    format!(
                        "previous terminated container \"{container}\" in pod \"{pod}\" not found"
                    ),
                )
            })?
        } else {
            logs.current.get(&key).map(Vec::as_slice).unwrap_or(&[])
        };
        let since = opts.since_seconds.map(|s| {
            k8s_openapi::jiff::Timestamp::now()
                .checked_sub(k8s_openapi::jiff::SignedDuration::from_secs(s))
                .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or_default()
        });
        let mut out: Vec<String> = lines
            .iter()
            .filter(|(time, _)| since.as_ref().is_none_or(|s| time >= s))
            .map(|(time, text)| {
                if opts.timestamps {
                    format!("{time} {text}")
                } else {
                    text.clone()
                }
            })
            .collect();
        if let Some(tail) = opts.tail_lines {
            let tail = usize::try_from(tail.max(0)).unwrap_or(0);
            if out.len() > tail {
                out.drain(..out.len() - tail);
            }
        }
        Ok((container, out))
    }
}

#[async_trait]
impl ClusterClient for FakeCluster {
    async fn discover(&self) -> Result<Vec<DiscoveredResource>> {
        self.begin(Verb::Discover, "", "", "")?;
        let state = lock(&self.inner.state);
        Ok(state
            .types
            .values()
            .flat_map(types::TypeInfo::discovered)
            .collect())
    }

    async fn get(&self, rt: &ResourceType, ns: &str, name: &str) -> Result<DynamicObject> {
        self.begin(Verb::Get, &rt.plural, ns, name)?;
        let state = lock(&self.inner.state);
        let info = state.type_info(rt)?;
        let mut obj = state
            .lookup(&info, if info.namespaced { ns } else { "" }, name)?
            .clone();
        obj["apiVersion"] = rt.api_version().into();
        to_object(obj)
    }

    async fn list(&self, rt: &ResourceType, ns: &str, opts: &ListOptions) -> Result<ObjectList> {
        self.begin(Verb::List, &rt.plural, ns, "")?;
        let state = lock(&self.inner.state);
        let info = state.type_info(rt)?;
        let filter = Filter::new(
            &info,
            opts.label_selector.as_deref(),
            opts.field_selector.as_deref(),
        )?;
        let (list_rv, start_after) = match opts.continue_token.as_deref().filter(|t| !t.is_empty())
        {
            Some(token) => {
                let (rv, key) = token.split_once(':').ok_or_else(|| {
                    Error::new(ErrorKind::BadRequest, "continue key is not valid")
                })?;
                (parse_rv(rv)?, Some(key.to_owned()))
            }
            None => (state.rv, None),
        };
        let limit = opts.limit.filter(|l| *l > 0).map(|l| l as usize);
        let ns = if info.namespaced { ns } else { "" };
        let mut items = Vec::new();
        let mut last_key = None;
        let mut more = false;
        for (key, obj) in state.select(&info, ns, start_after.as_deref(), &filter) {
            if limit.is_some_and(|l| items.len() == l) {
                more = true;
                break;
            }
            let mut obj = obj.clone();
            obj["apiVersion"] = rt.api_version().into();
            items.push(to_object(obj)?);
            last_key = Some(key.clone());
        }
        Ok(ObjectList {
            items,
            resource_version: list_rv.to_string(),
            continue_token: match (more, last_key) {
                (true, Some(key)) => Some(format!("{list_rv}:{key}")),
                _ => None,
            },
        })
    }

    async fn create(
        &self,
        rt: &ResourceType,
        ns: &str,
        obj: &DynamicObject,
        opts: &WriteOptions,
    ) -> Result<DynamicObject> {
        let name = obj.metadata.name.clone().unwrap_or_default();
        self.begin(Verb::Create, &rt.plural, ns, &name)?;
        let value = to_value(obj)?;
        self.write(rt, |state, info| {
            state.create(info, ns, value, opts.dry_run, false)
        })
    }

    async fn replace(
        &self,
        rt: &ResourceType,
        ns: &str,
        obj: &DynamicObject,
        opts: &WriteOptions,
    ) -> Result<DynamicObject> {
        let name = obj.metadata.name.clone().unwrap_or_default();
        self.begin(Verb::Replace, &rt.plural, ns, &name)?;
        if name.is_empty() {
            return Err(Error::new(
                ErrorKind::BadRequest,
                "metadata.name is required",
            ));
        }
        let value = to_value(obj)?;
        let rv = obj.metadata.resource_version.clone();
        self.write(rt, |state, info| {
            state.update(info, ns, &name, value, rv.as_deref(), false, opts.dry_run)
        })
    }

    async fn merge_patch(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        patch: &Value,
        opts: &WriteOptions,
    ) -> Result<DynamicObject> {
        self.begin(Verb::Patch, &rt.plural, ns, name)?;
        if !patch.is_object() {
            return Err(Error::new(
                ErrorKind::BadRequest,
                "a merge patch must be a JSON object",
            ));
        }
        self.write(rt, |state, info| {
            let ns = if info.namespaced { ns } else { "" };
            let mut current = state.lookup(info, ns, name)?.clone();
            let rv = patch
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| {
                    current
                        .pointer("/metadata/resourceVersion")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                });
            store::merge(&mut current, patch);
            state.update(info, ns, name, current, rv.as_deref(), false, opts.dry_run)
        })
    }

    async fn apply(
        &self,
        rt: &ResourceType,
        ns: &str,
        obj: &DynamicObject,
        opts: &ApplyOptions,
    ) -> Result<DynamicObject> {
        let name = obj.metadata.name.clone().unwrap_or_default();
        self.begin(Verb::Apply, &rt.plural, ns, &name)?;
        if name.is_empty() {
            return Err(Error::new(
                ErrorKind::BadRequest,
                "metadata.name is required",
            ));
        }
        let mut value = to_value(obj)?;
        value["apiVersion"] = rt.api_version().into();
        value["kind"] = rt.kind.clone().into();
        self.write(rt, |state, info| {
            let ns = if info.namespaced { ns } else { "" };
            match state.lookup(info, ns, &name) {
                Ok(current) => {
                    let mut merged = current.clone();
                    let rv = value
                        .pointer("/metadata/resourceVersion")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .or_else(|| {
                            current
                                .pointer("/metadata/resourceVersion")
                                .and_then(Value::as_str)
                                .map(str::to_owned)
                        });
                    store::merge(&mut merged, &value);
                    state.update(info, ns, &name, merged, rv.as_deref(), false, opts.dry_run)
                }
                Err(e) if e.is(ErrorKind::NotFound) => {
                    state.create(info, ns, value, opts.dry_run, false)
                }
                Err(e) => Err(e),
            }
        })
    }

    async fn delete(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<DeleteOutcome> {
        self.begin(Verb::Delete, &rt.plural, ns, name)?;
        let mut state = lock(&self.inner.state);
        let info = state.type_info(rt)?;
        let ns = if info.namespaced { ns } else { "" };
        let current = state.lookup(&info, ns, name)?.clone();
        if let Some(expected) = &opts.resource_version {
            let actual = current
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str);
            if actual != Some(expected.as_str()) {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    format!(
                        "Operation cannot be fulfilled on {} \"{name}\": the ResourceVersion in the precondition ({expected}) does not match the ResourceVersion in record ({}). The object might have been modified",
                        info.qualified_plural(),
                        actual.unwrap_or_default()
                    ),
                ));
            }
        }
        let has_finalizers = current
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty());
        if opts.dry_run {
            return Ok(if has_finalizers {
                DeleteOutcome::Pending(Box::new(to_object(current)?))
            } else {
                DeleteOutcome::Deleted
            });
        }
        if has_finalizers {
            let (obj, change) = state.mark_deleting(&info, ns, name)?;
            self.publish(change);
            return Ok(DeleteOutcome::Pending(Box::new(to_object(obj)?)));
        }
        let orphan = opts.propagation == Some(Propagation::Orphan);
        let before = state.rv;
        let (_, _) = state.remove(&info, ns, name, orphan)?;
        // Publish every change the removal made (the object, dependents, namespace contents).
        let changes: Vec<Change> = state
            .history
            .iter()
            .filter(|c| c.rv > before)
            .cloned()
            .collect();
        for change in changes {
            self.publish(Some(change));
        }
        Ok(DeleteOutcome::Deleted)
    }

    async fn watch(&self, rt: &ResourceType, ns: &str, opts: &WatchOptions) -> Result<WatchStream> {
        self.begin(Verb::Watch, &rt.plural, ns, "")?;
        let state = lock(&self.inner.state);
        let info = state.type_info(rt)?;
        let filter = Filter::new(
            &info,
            opts.label_selector.as_deref(),
            opts.field_selector.as_deref(),
        )?;
        let ns = if info.namespaced {
            ns.to_owned()
        } else {
            String::new()
        };
        let key = (info.group.clone(), info.plural.clone());
        let rx = self.inner.changes.subscribe();
        let relevant = {
            let key = key.clone();
            let ns = ns.clone();
            let filter = filter.clone();
            move |c: &Change| {
                c.key == key && (ns.is_empty() || c.namespace == ns) && filter.matches(&c.object)
            }
        };
        let start = opts
            .resource_version
            .as_deref()
            .filter(|rv| !rv.is_empty() && *rv != "0");
        let initial: Vec<Result<WatchEvent>> = match start {
            None => state
                .select(&info, &ns, None, &filter)
                .map(|(_, v)| {
                    let mut v = v.clone();
                    v["apiVersion"] = rt.api_version().into();
                    to_object(v).map(WatchEvent::Added)
                })
                .collect(),
            Some(rv) => {
                let rv = parse_rv(rv)?;
                if rv < state.oldest_resumable() {
                    return Err(Error::new(
                        ErrorKind::Gone,
                        format!(
                            "too old resource version: {rv} ({})",
                            state.oldest_resumable()
                        ),
                    ));
                }
                state
                    .history
                    .iter()
                    .filter(|c| c.rv > rv && relevant(c))
                    .map(event_of)
                    .collect()
            }
        };
        let after = state.rv;
        drop(state);
        let api_version = rt.api_version();
        let live = BroadcastStream::new(rx).filter_map(move |msg| {
            let out = match msg {
                Ok(change) if change.rv > after && relevant(&change) => Some(event_of(&change)),
                Ok(_) => None,
                Err(_) => Some(Err(Error::new(
                    ErrorKind::Gone,
                    "watch fell too far behind; restart it from a fresh list",
                ))),
            };
            futures::future::ready(out)
        });
        let stream = stream::iter(initial).chain(live).map(move |event| {
            // Objects are stored in one version; the watcher sees the version it asked for.
            let in_version = |mut o: DynamicObject| {
                if let Some(t) = o.types.as_mut() {
                    t.api_version = api_version.clone();
                }
                o
            };
            event.map(|e| match e {
                WatchEvent::Added(o) => WatchEvent::Added(in_version(o)),
                WatchEvent::Modified(o) => WatchEvent::Modified(in_version(o)),
                WatchEvent::Deleted(o) => WatchEvent::Deleted(in_version(o)),
                bookmark @ WatchEvent::Bookmark(_) => bookmark,
            })
        });
        Ok(match opts.timeout_seconds {
            Some(secs) => stream
                .take_until(tokio::time::sleep(Duration::from_secs(u64::from(secs))))
                .boxed(),
            None => stream.boxed(),
        })
    }

    async fn get_scale(&self, rt: &ResourceType, ns: &str, name: &str) -> Result<Scale> {
        self.begin(Verb::Scale, &rt.plural, ns, name)?;
        let state = lock(&self.inner.state);
        let info = state.type_info(rt)?;
        if !info.scale {
            return Err(Error::new(
                ErrorKind::NotFound,
                "the server could not find the requested resource",
            ));
        }
        Ok(scale_of(state.lookup(&info, ns, name)?))
    }

    async fn set_scale(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        replicas: i32,
    ) -> Result<Scale> {
        self.begin(Verb::Scale, &rt.plural, ns, name)?;
        if replicas < 0 {
            return Err(Error::invalid(
                format!(
                    "Scale.autoscaling \"{name}\" is invalid: spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0"
                ),
                vec![crate::Cause {
                    field: "spec.replicas".to_owned(),
                    reason: "FieldValueInvalid".to_owned(),
                    message: format!(
                        "Invalid value: {replicas}: must be greater than or equal to 0"
                    ),
                }],
            ));
        }
        let obj = self.write(rt, |state, info| {
            if !info.scale {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    "the server could not find the requested resource",
                ));
            }
            let mut current = state.lookup(info, ns, name)?.clone();
            current["spec"]["replicas"] = replicas.into();
            state.update(info, ns, name, current, None, false, false)
        })?;
        Ok(scale_of(&to_value(&obj)?))
    }

    async fn merge_patch_status(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        patch: &Value,
    ) -> Result<DynamicObject> {
        self.begin(Verb::Status, &rt.plural, ns, name)?;
        self.write(rt, |state, info| {
            if !info.status {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    "the server could not find the requested resource",
                ));
            }
            let ns = if info.namespaced { ns } else { "" };
            let mut current = state.lookup(info, ns, name)?.clone();
            if let Some(status) = patch.get("status") {
                let mut merged = current
                    .get("status")
                    .cloned()
                    .unwrap_or_else(|| serde_json::json!({}));
                store::merge(&mut merged, status);
                current["status"] = merged;
            }
            let rv = patch
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .map(str::to_owned);
            state.update(info, ns, name, current, rv.as_deref(), true, false)
        })
    }

    async fn logs(&self, ns: &str, pod: &str, opts: &LogOptions) -> Result<String> {
        self.begin(Verb::Logs, "pods", ns, pod)?;
        let (_, lines) = self.log_lines(ns, pod, opts)?;
        let mut out = lines.join("\n");
        if !out.is_empty() {
            out.push('\n');
        }
        if let Some(limit) = opts.limit_bytes {
            let limit = usize::try_from(limit.max(0)).unwrap_or(0);
            if out.len() > limit {
                let mut cut = limit;
                while !out.is_char_boundary(cut) {
                    cut -= 1;
                }
                out.truncate(cut);
            }
        }
        Ok(out)
    }

    async fn follow_logs(&self, ns: &str, pod: &str, opts: &LogOptions) -> Result<LogStream> {
        self.begin(Verb::Logs, "pods", ns, pod)?;
        let rx = self.inner.log_lines.subscribe();
        let (container, lines) = self.log_lines(ns, pod, opts)?;
        let key = (ns.to_owned(), pod.to_owned(), container);
        let timestamps = opts.timestamps;
        let live = BroadcastStream::new(rx).filter_map(move |msg| {
            futures::future::ready(match msg {
                Ok(line) if line.key == key => Some(Ok(if timestamps {
                    format!("{} {}", line.time, line.text)
                } else {
                    line.text
                })),
                _ => None,
            })
        });
        Ok(stream::iter(lines.into_iter().map(Ok)).chain(live).boxed())
    }

    fn impersonate(&self, identity: &Identity) -> Result<Arc<dyn ClusterClient>> {
        Ok(Arc::new(FakeCluster {
            inner: Arc::clone(&self.inner),
            identity: Some(identity.clone()),
        }))
    }
}

#[cfg(test)]
mod tests;
