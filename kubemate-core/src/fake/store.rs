//! The fake's state: objects as JSON, a global resourceVersion, and the change history.

use std::collections::{BTreeMap, VecDeque};

use k8s_openapi::jiff::{Timestamp, Unit};
use serde_json::{Map, Value, json};

use super::types::{self, TypeInfo, TypeKey};
use crate::{
    Error, ErrorKind, ResourceType, Result,
    names::{validate_dns1123_label, validate_dns1123_subdomain},
    selector::{FieldSelector, LabelSelector},
};

/// How many changes the fake remembers for watches that resume from a resourceVersion.
const HISTORY: usize = 4096;

/// A recorded change, as watches see it.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub rv: u64,
    pub key: TypeKey,
    pub namespace: String,
    pub kind: ChangeKind,
    pub object: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

#[derive(Debug)]
pub(crate) struct State {
    pub rv: u64,
    pub types: BTreeMap<TypeKey, TypeInfo>,
    /// Objects by type, then by storage key (`ns/name` or `name`), in etcd's order.
    pub objects: BTreeMap<TypeKey, BTreeMap<String, Value>>,
    pub history: VecDeque<Change>,
}

pub(crate) fn now() -> String {
    Timestamp::now()
        .round(Unit::Second)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

fn storage_key(ns: &str, name: &str) -> String {
    if ns.is_empty() {
        name.to_owned()
    } else {
        format!("{ns}/{name}")
    }
}

fn meta(obj: &Value, field: &str) -> Option<String> {
    obj.get("metadata")?.get(field)?.as_str().map(str::to_owned)
}

fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    match obj.get_mut("metadata") {
        Some(Value::Object(m)) => m,
        _ => unreachable!("metadata was just made an object"),
    }
}

/// RFC 7386 JSON merge patch.
pub(crate) fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// The value of a dotted field path, as the apiserver's field selectors read it.
fn field_value(obj: &Value, path: &str) -> String {
    let mut cur = obj;
    for part in path.split('.') {
        match cur.get(part) {
            Some(v) => cur = v,
            None => return String::new(),
        }
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A compiled label + field filter for list and watch.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    labels: Option<LabelSelector>,
    fields: FieldSelector,
}

impl Filter {
    pub fn new(info: &TypeInfo, labels: Option<&str>, fields: Option<&str>) -> Result<Filter> {
        let labels = labels.map(LabelSelector::parse).transpose()?;
        let fields = fields
            .map(FieldSelector::parse)
            .transpose()?
            .unwrap_or_default();
        for req in &fields.0 {
            let known = matches!(req.field.as_str(), "metadata.name" | "metadata.namespace")
                || info.fields.contains(&req.field.as_str());
            if !known {
                return Err(Error::new(
                    ErrorKind::BadRequest,
                    format!(
                        "field label not supported: {} for {}",
                        req.field, info.plural
                    ),
                ));
            }
        }
        Ok(Filter { labels, fields })
    }

    pub fn matches(&self, obj: &Value) -> bool {
        if let Some(sel) = &self.labels {
            let labels: BTreeMap<String, String> = obj
                .pointer("/metadata/labels")
                .and_then(|l| serde_json::from_value(l.clone()).ok())
                .unwrap_or_default();
            if !sel.matches(&labels) {
                return false;
            }
        }
        self.fields
            .0
            .iter()
            .all(|req| (field_value(obj, &req.field) == req.value) == req.equals)
    }
}

impl State {
    pub fn new() -> State {
        State {
            rv: 1,
            types: types::builtins(),
            objects: BTreeMap::new(),
            history: VecDeque::new(),
        }
    }

    /// The served type a request names, or the apiserver's 404.
    pub fn type_info(&self, rt: &ResourceType) -> Result<TypeInfo> {
        self.types
            .get(&(rt.group.clone(), rt.plural.clone()))
            .filter(|t| t.versions.contains(&rt.version))
            .cloned()
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    "the server could not find the requested resource",
                )
            })
    }

    /// The type of an object by its apiVersion and kind.
    pub fn type_of(&self, api_version: &str, kind: &str) -> Result<TypeInfo> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        self.types
            .values()
            .find(|t| t.group == group && t.kind == kind && t.versions.iter().any(|v| v == version))
            .cloned()
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    format!("no matches for kind \"{kind}\" in version \"{api_version}\""),
                )
            })
    }

    fn key(info: &TypeInfo) -> TypeKey {
        (info.group.clone(), info.plural.clone())
    }

    pub fn lookup(&self, info: &TypeInfo, ns: &str, name: &str) -> Result<&Value> {
        self.objects
            .get(&Self::key(info))
            .and_then(|m| m.get(&storage_key(ns, name)))
            .ok_or_else(|| Error::not_found(&info.plural, name))
    }

    fn namespace_exists(&self, ns: &str) -> bool {
        self.objects
            .get(&(String::new(), "namespaces".to_owned()))
            .is_some_and(|m| m.contains_key(ns))
    }

    /// Checks the namespace part of a request: present exactly for namespaced kinds, matching
    /// the object's own, and existing.
    pub fn check_namespace(&self, info: &TypeInfo, ns: &str, obj: Option<&Value>) -> Result<()> {
        if !info.namespaced {
            return Ok(());
        }
        if ns.is_empty() {
            return Err(Error::new(
                ErrorKind::BadRequest,
                "a namespace is required for namespaced resources",
            ));
        }
        if let Some(obj_ns) = obj.and_then(|o| meta(o, "namespace"))
            && !obj_ns.is_empty()
            && obj_ns != ns
        {
            return Err(Error::new(
                ErrorKind::BadRequest,
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        if !self.namespace_exists(ns) {
            return Err(Error::not_found("namespaces", ns));
        }
        Ok(())
    }

    fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    fn record(&mut self, info: &TypeInfo, ns: &str, kind: ChangeKind, object: Value) -> Change {
        let change = Change {
            rv: self.rv,
            key: Self::key(info),
            namespace: ns.to_owned(),
            kind,
            object,
        };
        self.history.push_back(change.clone());
        if self.history.len() > HISTORY {
            self.history.pop_front();
        }
        change
    }

    /// The oldest resourceVersion a watch can resume from.
    pub fn oldest_resumable(&self) -> u64 {
        self.history.front().map(|c| c.rv - 1).unwrap_or(self.rv)
    }

    fn validate_name(info: &TypeInfo, name: &str) -> Result<()> {
        if info.is("", "namespaces") {
            validate_dns1123_label(&info.kind, "metadata.name", name)
        } else if info.group == "rbac.authorization.k8s.io" {
            // RBAC objects only need a valid path segment (`system:controller:x` is fine).
            if name.is_empty() || name == "." || name == ".." || name.contains(['/', '%']) {
                return Err(Error::invalid(
                    format!(
                        "{} \"{name}\" is invalid: metadata.name: Invalid value: \"{name}\": may not contain '/' or '%' and may not be '.' or '..'",
                        info.kind
                    ),
                    vec![crate::Cause {
                        field: "metadata.name".to_owned(),
                        reason: "FieldValueInvalid".to_owned(),
                        message: "may not contain '/' or '%' and may not be '.' or '..'".to_owned(),
                    }],
                ));
            }
            Ok(())
        } else {
            validate_dns1123_subdomain(&info.kind, "metadata.name", name)
        }
    }

    /// Prepares a new object: identity, timestamps, generation and the status a fresh object
    /// of its kind gets. `seed` keeps what the caller gave (uid, status, timestamps).
    fn prepare_new(info: &TypeInfo, ns: &str, mut obj: Value, seed: bool) -> Result<Value> {
        let rt = info.resource_type(&info.versions[0]);
        if !seed || obj.get("apiVersion").is_none() {
            obj["apiVersion"] = rt.api_version().into();
            obj["kind"] = info.kind.clone().into();
        }
        let name = match meta(&obj, "name").filter(|n| !n.is_empty()) {
            Some(n) => n,
            None => match meta(&obj, "generateName").filter(|n| !n.is_empty()) {
                Some(prefix) => format!(
                    "{prefix}{}",
                    &uuid::Uuid::new_v4().simple().to_string()[..5]
                ),
                None => {
                    return Err(Error::invalid(
                        format!(
                            "{} \"\" is invalid: metadata.name: Required value: name or generateName is required",
                            info.kind
                        ),
                        vec![crate::Cause {
                            field: "metadata.name".to_owned(),
                            reason: "FieldValueRequired".to_owned(),
                            message: "Required value: name or generateName is required".to_owned(),
                        }],
                    ));
                }
            },
        };
        Self::validate_name(info, &name)?;
        let m = meta_mut(&mut obj);
        m.insert("name".into(), name.into());
        if info.namespaced {
            m.insert("namespace".into(), ns.into());
        } else {
            m.remove("namespace");
        }
        m.remove("resourceVersion");
        m.remove("managedFields");
        m.remove("deletionTimestamp");
        if !seed || !m.contains_key("uid") {
            m.insert("uid".into(), uuid::Uuid::new_v4().to_string().into());
        }
        if !seed || !m.contains_key("creationTimestamp") {
            m.insert("creationTimestamp".into(), now().into());
        }
        if info.generation {
            m.insert("generation".into(), 1.into());
        } else {
            m.remove("generation");
        }
        if info.status && !seed {
            let fresh = match (info.group.as_str(), info.plural.as_str()) {
                ("", "namespaces") => json!({"phase": "Active"}),
                ("", "pods") | ("", "persistentvolumeclaims") | ("", "persistentvolumes") => {
                    json!({"phase": "Pending"})
                }
                _ => Value::Null,
            };
            match fresh {
                Value::Null => {
                    if let Some(o) = obj.as_object_mut() {
                        o.remove("status");
                    }
                }
                status => obj["status"] = status,
            }
        }
        if info.is("", "namespaces") && obj.pointer("/spec/finalizers").is_none() {
            obj["spec"] = json!({"finalizers": ["kubernetes"]});
        }
        Ok(obj)
    }

    /// Stores a new object. `seed` keeps caller-given identity and status, as a restore would.
    pub fn create(
        &mut self,
        info: &TypeInfo,
        ns: &str,
        obj: Value,
        dry_run: bool,
        seed: bool,
    ) -> Result<(Value, Option<Change>)> {
        self.check_namespace(info, ns, Some(&obj))?;
        let ns = if info.namespaced { ns } else { "" };
        let mut obj = Self::prepare_new(info, ns, obj, seed)?;
        let name = meta(&obj, "name").unwrap_or_default();
        let key = storage_key(ns, &name);
        let exists = self
            .objects
            .get(&Self::key(info))
            .is_some_and(|m| m.contains_key(&key));
        if exists {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("{} \"{name}\" already exists", info.plural),
            ));
        }
        if dry_run {
            return Ok((obj, None));
        }
        if info.is("apiextensions.k8s.io", "customresourcedefinitions") {
            self.register_crd(&mut obj);
        }
        let rv = self.next_rv();
        meta_mut(&mut obj).insert("resourceVersion".into(), rv.to_string().into());
        self.objects
            .entry(Self::key(info))
            .or_default()
            .insert(key, obj.clone());
        let change = self.record(info, ns, ChangeKind::Added, obj.clone());
        Ok((obj, Some(change)))
    }

    /// Serves the resource a CRD defines and reports it as the apiserver does once its names
    /// are accepted: `Established` and `NamesAccepted`.
    fn register_crd(&mut self, crd: &mut Value) {
        if let Some(t) = types::from_crd(crd) {
            let names = crd.pointer("/spec/names").cloned().unwrap_or_default();
            let stored: Vec<Value> = crd
                .pointer("/spec/versions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
                .filter_map(|v| v.get("name").cloned())
                .collect();
            let now = now();
            let condition = |kind: &str, reason: &str| json!({"type": kind, "status": "True", "reason": reason, "lastTransitionTime": now});
            crd["status"] = json!({
                "acceptedNames": names,
                "storedVersions": stored,
                "conditions": [
                    condition("NamesAccepted", "NoConflicts"),
                    condition("Established", "InitialNamesAccepted"),
                ],
            });
            self.types.insert((t.group.clone(), t.plural.clone()), t);
        }
    }

    /// Writes a new version of an existing object. `incoming` is the full desired object;
    /// `expected_rv` a precondition. Status is kept from `old` for kinds with a status
    /// subresource unless `status_only`, in which case only the status changes.
    #[allow(clippy::too_many_arguments)]
    pub fn update(
        &mut self,
        info: &TypeInfo,
        ns: &str,
        name: &str,
        mut incoming: Value,
        expected_rv: Option<&str>,
        status_only: bool,
        dry_run: bool,
    ) -> Result<(Value, Option<Change>)> {
        let ns = if info.namespaced { ns } else { "" };
        let old = self.lookup(info, ns, name)?.clone();
        let current_rv = meta(&old, "resourceVersion").unwrap_or_default();
        match expected_rv.filter(|rv| !rv.is_empty()) {
            Some(rv) if rv != current_rv => {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    format!(
                        "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                        info.qualified_plural()
                    ),
                ));
            }
            None if info.custom && !status_only => {
                return Err(Error::invalid(
                    format!(
                        "{} \"{name}\" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update",
                        info.kind
                    ),
                    vec![crate::Cause {
                        field: "metadata.resourceVersion".to_owned(),
                        reason: "FieldValueInvalid".to_owned(),
                        message: "Invalid value: 0x0: must be specified for an update".to_owned(),
                    }],
                ));
            }
            _ => {}
        }
        if let Some(incoming_name) = meta(&incoming, "name")
            && incoming_name != name
        {
            return Err(Error::new(
                ErrorKind::BadRequest,
                format!(
                    "the name of the object ({incoming_name}) does not match the name on the URL ({name})"
                ),
            ));
        }
        self.check_namespace(info, ns, Some(&incoming))?;
        if status_only {
            let status = incoming.get("status").cloned();
            incoming = old.clone();
            match status {
                Some(s) => incoming["status"] = s,
                None => {
                    if let Some(o) = incoming.as_object_mut() {
                        o.remove("status");
                    }
                }
            }
        } else if info.status {
            match old.get("status") {
                Some(s) => incoming["status"] = s.clone(),
                None => {
                    if let Some(o) = incoming.as_object_mut() {
                        o.remove("status");
                    }
                }
            }
        }
        // Fields the server owns.
        {
            let old_meta = old.get("metadata").cloned().unwrap_or_default();
            let m = meta_mut(&mut incoming);
            for field in [
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "name",
                "generation",
            ] {
                match old_meta.get(field) {
                    Some(v) => m.insert(field.into(), v.clone()),
                    None => m.remove(field),
                };
            }
            if info.namespaced {
                m.insert("namespace".into(), ns.into());
            }
            m.insert("resourceVersion".into(), current_rv.clone().into());
            m.remove("managedFields");
        }
        incoming["apiVersion"] = old["apiVersion"].clone();
        incoming["kind"] = old["kind"].clone();
        if incoming == old {
            // A no-op write does not change the resourceVersion, as in Kubernetes.
            return Ok((old, None));
        }
        let spec_changed = {
            let strip = |v: &Value| {
                let mut v = v.clone();
                if let Some(o) = v.as_object_mut() {
                    o.remove("metadata");
                    o.remove("status");
                }
                v
            };
            strip(&incoming) != strip(&old)
        };
        if info.generation && spec_changed {
            let generation = old
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0)
                + 1;
            meta_mut(&mut incoming).insert("generation".into(), generation.into());
        }
        let finalizers_gone = incoming
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty);
        if dry_run {
            return Ok((incoming, None));
        }
        if old.pointer("/metadata/deletionTimestamp").is_some() && finalizers_gone {
            // The last finalizer is gone: the pending deletion completes.
            return self
                .remove(info, ns, name, false)
                .map(|(v, c)| (v, Some(c)));
        }
        if info.is("apiextensions.k8s.io", "customresourcedefinitions") && !status_only {
            self.register_crd(&mut incoming);
        }
        let rv = self.next_rv();
        meta_mut(&mut incoming).insert("resourceVersion".into(), rv.to_string().into());
        self.objects
            .entry(Self::key(info))
            .or_default()
            .insert(storage_key(ns, name), incoming.clone());
        let change = self.record(info, ns, ChangeKind::Modified, incoming.clone());
        Ok((incoming, Some(change)))
    }

    /// Removes an object now, with its dependents unless `orphan`; namespaces take their
    /// contents with them. Returns the object's last state and the change of the object itself.
    pub fn remove(
        &mut self,
        info: &TypeInfo,
        ns: &str,
        name: &str,
        orphan: bool,
    ) -> Result<(Value, Change)> {
        let key = Self::key(info);
        let mut obj = self
            .objects
            .get_mut(&key)
            .and_then(|m| m.remove(&storage_key(ns, name)))
            .ok_or_else(|| Error::not_found(&info.plural, name))?;
        let rv = self.next_rv();
        meta_mut(&mut obj).insert("resourceVersion".into(), rv.to_string().into());
        let change = self.record(info, ns, ChangeKind::Deleted, obj.clone());
        if info.is("", "namespaces") {
            self.remove_namespace_contents(name);
        }
        if info.is("apiextensions.k8s.io", "customresourcedefinitions")
            && let Some(t) = types::from_crd(&obj)
        {
            let tkey = (t.group.clone(), t.plural.clone());
            self.objects.remove(&tkey);
            self.types.remove(&tkey);
        }
        if !orphan && let Some(uid) = meta(&obj, "uid") {
            self.remove_dependents(&uid);
        }
        Ok((obj, change))
    }

    fn remove_namespace_contents(&mut self, ns: &str) {
        let prefix = format!("{ns}/");
        let doomed: Vec<(TypeInfo, String)> = self
            .objects
            .iter()
            .filter_map(|(k, m)| self.types.get(k).map(|t| (t, m)))
            .filter(|(t, _)| t.namespaced)
            .flat_map(|(t, m)| {
                m.keys()
                    .filter(|k| k.starts_with(&prefix))
                    .map(|k| (t.clone(), k[prefix.len()..].to_owned()))
                    .collect::<Vec<_>>()
            })
            .collect();
        for (t, name) in doomed {
            let _ = self.remove(&t, ns, &name, true);
        }
    }

    /// Garbage collection of the objects owned by `uid`, as the cluster's collector would.
    fn remove_dependents(&mut self, uid: &str) {
        let dependents: Vec<(TypeInfo, String, String)> = self
            .objects
            .iter()
            .filter_map(|(k, m)| self.types.get(k).map(|t| (t, m)))
            .flat_map(|(t, m)| {
                m.values()
                    .filter(|o| {
                        o.pointer("/metadata/ownerReferences")
                            .and_then(Value::as_array)
                            .is_some_and(|refs| {
                                refs.iter()
                                    .any(|r| r.get("uid").and_then(Value::as_str) == Some(uid))
                            })
                    })
                    .map(|o| {
                        (
                            t.clone(),
                            meta(o, "namespace").unwrap_or_default(),
                            meta(o, "name").unwrap_or_default(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        for (t, ns, name) in dependents {
            let _ = self.remove(&t, &ns, &name, false);
        }
    }

    /// Starts deleting an object that has finalizers: it stays, marked, until they are removed.
    pub fn mark_deleting(
        &mut self,
        info: &TypeInfo,
        ns: &str,
        name: &str,
    ) -> Result<(Value, Option<Change>)> {
        let mut obj = self.lookup(info, ns, name)?.clone();
        if obj.pointer("/metadata/deletionTimestamp").is_some() {
            return Ok((obj, None));
        }
        let rv = self.next_rv();
        let m = meta_mut(&mut obj);
        m.insert("deletionTimestamp".into(), now().into());
        m.insert("resourceVersion".into(), rv.to_string().into());
        self.objects
            .entry(Self::key(info))
            .or_default()
            .insert(storage_key(ns, name), obj.clone());
        let change = self.record(info, ns, ChangeKind::Modified, obj.clone());
        Ok((obj, Some(change)))
    }

    /// Objects of a type in a namespace ("" for all), in storage order, from `start_after`.
    pub fn select<'a>(
        &'a self,
        info: &TypeInfo,
        ns: &'a str,
        start_after: Option<&'a str>,
        filter: &'a Filter,
    ) -> impl Iterator<Item = (&'a String, &'a Value)> + 'a {
        let prefix = if info.namespaced && !ns.is_empty() {
            format!("{ns}/")
        } else {
            String::new()
        };
        self.objects
            .get(&Self::key(info))
            .into_iter()
            .flat_map(|m| m.iter())
            .filter(move |(k, _)| k.starts_with(&prefix))
            .filter(move |(k, _)| start_after.is_none_or(|s| k.as_str() > s))
            .filter(move |(_, v)| filter.matches(v))
    }
}
