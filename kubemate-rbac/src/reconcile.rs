//! Makes the cluster's Kubemate-managed RBAC objects equal to the [`Derived`] ones.
//!
//! Reconcile lists what it manages (by label) within a [`Scope`], writes what is missing or
//! different (server-side apply) and deletes what is no longer derived. Objects already as
//! derived are not written, so running it twice changes nothing.

use std::collections::BTreeMap;

use k8s_openapi::api::{
    core::v1::ServiceAccount,
    rbac::v1::{ClusterRole, ClusterRoleBinding, Role as RbacRole, RoleBinding},
};
use kube::Resource;
use kubemate_core::{
    ApplyOptions, ClusterClient, DeleteOptions, DynamicObject, ErrorKind, ListOptions,
    ResourceType, client::to_dynamic,
};
use serde::Serialize;
use serde_json::Value;

use crate::{
    Error, Result,
    derive::{Derived, INSTANCE, MANAGED_BY, MANAGED_BY_VALUE, ROLE_LABEL, USER_LABEL},
};

/// What a reconcile covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Everything Kubemate derives.
    All,
    /// The objects derived for one user (its ServiceAccount and bindings).
    User(String),
    /// The objects derived from one role (its Role or ClusterRole and every binding to it).
    Role(String),
}

impl Scope {
    fn selector(&self, namespace: &str) -> String {
        let base = format!("{MANAGED_BY}={MANAGED_BY_VALUE},{INSTANCE}={namespace}");
        match self {
            Scope::All => base,
            Scope::User(u) => format!("{base},{USER_LABEL}={u}"),
            Scope::Role(r) => format!("{base},{ROLE_LABEL}={r}"),
        }
    }

    fn includes(&self, labels: &BTreeMap<String, String>) -> bool {
        let is = |k: &str, v: &str| labels.get(k).is_some_and(|l| l == v);
        match self {
            Scope::All => true,
            Scope::User(u) => is(USER_LABEL, u),
            Scope::Role(r) => is(ROLE_LABEL, r),
        }
    }
}

/// What a reconcile did to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Created it.
    Created,
    /// Brought it back to what is derived.
    Updated,
    /// Deleted and created it again (a binding's role reference cannot change in place).
    Recreated,
    /// Deleted it: it is no longer derived.
    Deleted,
}

/// One change a reconcile made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What was done.
    pub action: Action,
    /// The object's kind.
    pub kind: String,
    /// Its namespace ("" for cluster-scoped objects).
    pub namespace: String,
    /// Its name.
    pub name: String,
}

/// What a reconcile did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The writes, in order.
    pub changes: Vec<Change>,
    /// Objects that could not be written because their namespace does not exist (yet); the
    /// next reconcile after the namespace is created writes them.
    pub missing_namespaces: Vec<String>,
}

impl Report {
    /// True when nothing was written.
    pub fn is_unchanged(&self) -> bool {
        self.changes.is_empty()
    }
}

struct Desired {
    rt: ResourceType,
    namespace: String,
    name: String,
    labels: BTreeMap<String, String>,
    object: DynamicObject,
}

fn push_all<K>(out: &mut Vec<Desired>, objects: &[K]) -> Result<()>
where
    K: Resource<DynamicType = ()> + Serialize,
    K::Scope: 'static,
{
    for obj in objects {
        let meta = obj.meta();
        out.push(Desired {
            rt: ResourceType::of::<K>(),
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
            labels: meta.labels.clone().unwrap_or_default(),
            object: to_dynamic(obj).map_err(Error::cluster("encode a derived object"))?,
        });
    }
    Ok(())
}

fn desired(derived: &Derived) -> Result<Vec<Desired>> {
    let mut out = Vec::new();
    push_all(&mut out, &derived.service_accounts)?;
    push_all(&mut out, &derived.roles)?;
    push_all(&mut out, &derived.cluster_roles)?;
    push_all(&mut out, &derived.role_bindings)?;
    push_all(&mut out, &derived.cluster_role_bindings)?;
    Ok(out)
}

/// The resource types reconcile manages, with where to list them, for a scope.
fn managed_types(scope: &Scope, namespace: &str) -> Vec<(ResourceType, String)> {
    let mut types = Vec::new();
    if !matches!(scope, Scope::Role(_)) {
        types.push((ResourceType::of::<ServiceAccount>(), namespace.to_owned()));
    }
    if !matches!(scope, Scope::User(_)) {
        types.push((ResourceType::of::<RbacRole>(), String::new()));
        types.push((ResourceType::of::<ClusterRole>(), String::new()));
    }
    types.push((ResourceType::of::<RoleBinding>(), String::new()));
    types.push((ResourceType::of::<ClusterRoleBinding>(), String::new()));
    types
}

fn owner_keys(v: &Value) -> Vec<(String, String, String, String)> {
    let mut keys: Vec<_> = v
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| {
            let s = |k: &str| {
                r.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            (s("apiVersion"), s("kind"), s("name"), s("uid"))
        })
        .collect();
    keys.sort();
    keys
}

/// True when `actual` already is what `desired` says: its labels include the desired ones,
/// it has the same owners, and every field the derived object sets is equal.
fn up_to_date(actual: &Value, desired: &Value) -> bool {
    let labels_ok = desired
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .all(|(k, v)| actual.pointer("/metadata/labels").and_then(|l| l.get(k)) == Some(v));
    let fields_ok = desired.as_object().into_iter().flatten().all(|(k, v)| {
        matches!(k.as_str(), "apiVersion" | "kind" | "metadata") || actual.get(k) == Some(v)
    });
    labels_ok && fields_ok && owner_keys(actual) == owner_keys(desired)
}

/// Reconciles the objects of `scope` in the Kubemate install of `namespace` to `derived`.
pub async fn reconcile(
    client: &dyn ClusterClient,
    namespace: &str,
    derived: &Derived,
    scope: &Scope,
) -> Result<Report> {
    let selector = scope.selector(namespace);
    let mut actual: BTreeMap<(String, String, String), DynamicObject> = BTreeMap::new();
    for (rt, ns) in managed_types(scope, namespace) {
        let mut opts = ListOptions::labels(selector.clone());
        loop {
            let page = client
                .list(&rt, &ns, &opts)
                .await
                .map_err(Error::cluster("list managed RBAC objects"))?;
            for obj in page.items {
                let key = (
                    rt.plural.clone(),
                    obj.metadata.namespace.clone().unwrap_or_default(),
                    obj.metadata.name.clone().unwrap_or_default(),
                );
                actual.insert(key, obj);
            }
            match page.continue_token {
                Some(token) => opts.continue_token = Some(token),
                None => break,
            }
        }
    }

    let mut report = Report::default();
    let apply = ApplyOptions {
        dry_run: false,
        force: true,
    };
    for want in desired(derived)?
        .into_iter()
        .filter(|d| scope.includes(&d.labels))
    {
        let key = (
            want.rt.plural.clone(),
            want.namespace.clone(),
            want.name.clone(),
        );
        let want_value = serde_json::to_value(&want.object)
            .map_err(|e| Error::cluster("encode a derived object")(e.into()))?;
        let action = match actual.remove(&key) {
            None => Action::Created,
            Some(have) => {
                let have_value = serde_json::to_value(&have)
                    .map_err(|e| Error::cluster("decode a managed object")(e.into()))?;
                if up_to_date(&have_value, &want_value) {
                    continue;
                }
                if want_value.get("roleRef").is_some()
                    && have_value.get("roleRef") != want_value.get("roleRef")
                {
                    delete(client, &want.rt, &want.namespace, &want.name).await?;
                    Action::Recreated
                } else {
                    Action::Updated
                }
            }
        };
        match client
            .apply(&want.rt, &want.namespace, &want.object, &apply)
            .await
        {
            Ok(_) => report.changes.push(Change {
                action,
                kind: want.rt.kind.clone(),
                namespace: want.namespace,
                name: want.name,
            }),
            Err(e) if e.is(ErrorKind::NotFound) && !want.namespace.is_empty() => {
                tracing::warn!(
                    kind = %want.rt.kind,
                    namespace = %want.namespace,
                    name = %want.name,
                    "namespace of a derived RBAC object does not exist"
                );
                report.missing_namespaces.push(want.namespace);
            }
            Err(e) => return Err(Error::cluster("apply a derived RBAC object")(e)),
        }
    }
    for ((plural, ns, name), obj) in actual {
        let Some(rt) = managed_types(scope, namespace)
            .into_iter()
            .map(|(rt, _)| rt)
            .find(|rt| rt.plural == plural)
        else {
            continue;
        };
        let labels = obj.metadata.labels.clone().unwrap_or_default();
        if !scope.includes(&labels) {
            continue;
        }
        delete(client, &rt, &ns, &name).await?;
        report.changes.push(Change {
            action: Action::Deleted,
            kind: rt.kind.clone(),
            namespace: ns,
            name,
        });
    }
    report.missing_namespaces.sort();
    report.missing_namespaces.dedup();
    Ok(report)
}

async fn delete(client: &dyn ClusterClient, rt: &ResourceType, ns: &str, name: &str) -> Result<()> {
    match client.delete(rt, ns, name, &DeleteOptions::default()).await {
        Ok(_) => Ok(()),
        Err(e) if e.is(ErrorKind::NotFound) => Ok(()),
        Err(e) => Err(Error::cluster("delete a managed RBAC object")(e)),
    }
}
