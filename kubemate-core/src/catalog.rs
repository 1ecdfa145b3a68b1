//! The resource catalog: every kind Kubemate manages, with its API coordinates, scope and the
//! operations that apply to it. Custom resources are reached through discovery.

use serde::Serialize;

use crate::{ClusterClient, DiscoveredResource, Error, ErrorKind, ResourceType, Result};

/// An operation Kubemate offers on a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Operation {
    /// List objects.
    List,
    /// Read one object.
    Get,
    /// Create an object.
    Create,
    /// Update an object.
    Update,
    /// Delete an object.
    Delete,
    /// Change the replica count.
    Scale,
    /// Roll all Pods (`kubectl rollout restart`).
    Restart,
    /// Pause or resume rollouts.
    Pause,
    /// Revision history and rollback.
    Rollback,
    /// Container logs.
    Logs,
}

use Operation::*;

const READ: &[Operation] = &[List, Get];
const CRUD: &[Operation] = &[List, Get, Create, Update, Delete];
const DEPLOYMENT: &[Operation] = &[
    List, Get, Create, Update, Delete, Scale, Restart, Pause, Rollback,
];
const STATEFUL: &[Operation] = &[List, Get, Create, Update, Delete, Scale, Restart, Rollback];
const DAEMON: &[Operation] = &[List, Get, Create, Update, Delete, Restart, Rollback];
const REPLICASET: &[Operation] = &[List, Get, Create, Update, Delete, Scale];
const POD: &[Operation] = &[List, Get, Create, Update, Delete, Logs];
const NODE: &[Operation] = &[List, Get, Update];

/// One managed kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Kind {
    /// Kind name, e.g. `Deployment`.
    pub kind: &'static str,
    /// API group (empty for core).
    pub group: &'static str,
    /// API version.
    pub version: &'static str,
    /// Plural resource name.
    pub plural: &'static str,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// kubectl's short names.
    pub short_names: &'static [&'static str],
    /// The operations Kubemate offers on it.
    pub operations: &'static [Operation],
}

impl Kind {
    /// The resource type of this kind.
    pub fn resource_type(&self) -> ResourceType {
        ResourceType::new(
            self.group,
            self.version,
            self.kind,
            self.plural,
            self.namespaced,
        )
    }

    /// Checks `name` against this kind's naming rule, as the apiserver does on create: an
    /// RFC 1123 label for Namespaces and Services, an RFC 1123 subdomain for the others.
    pub fn check_name(&self, name: &str) -> Result<()> {
        let field = "metadata.name";
        if matches!(self.plural, "namespaces" | "services") {
            crate::names::validate_dns1123_label(self.kind, field, name)
        } else {
            crate::names::validate_dns1123_subdomain(self.kind, field, name)
        }
    }

    /// True when Kubemate offers `op` on this kind.
    pub fn supports(&self, op: Operation) -> bool {
        self.operations.contains(&op)
    }

    /// True when `name` is this kind's plural, singular, kind name, short name or
    /// `plural.group`, case-insensitively (as kubectl accepts them).
    pub fn answers_to(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        let qualified = crate::resource::qualified_plural(self.group, self.plural);
        name == self.plural
            || name == self.kind.to_ascii_lowercase()
            || name == qualified
            || self.short_names.contains(&name.as_str())
    }
}

macro_rules! kind {
    ($kind:literal, $group:literal, $version:literal, $plural:literal, $ns:literal, [$($short:literal),*], $ops:expr) => {
        Kind { kind: $kind, group: $group, version: $version, plural: $plural, namespaced: $ns,
               short_names: &[$($short),*], operations: $ops }
    };
}

/// Every built-in kind Kubemate manages.
pub const KINDS: &[Kind] = &[
    kind!(
        "Deployment",
        "apps",
        "v1",
        "deployments",
        true,
        ["deploy"],
        DEPLOYMENT
    ),
    kind!(
        "StatefulSet",
        "apps",
        "v1",
        "statefulsets",
        true,
        ["sts"],
        STATEFUL
    ),
    kind!(
        "DaemonSet",
        "apps",
        "v1",
        "daemonsets",
        true,
        ["ds"],
        DAEMON
    ),
    kind!(
        "ReplicaSet",
        "apps",
        "v1",
        "replicasets",
        true,
        ["rs"],
        REPLICASET
    ),
    kind!("Pod", "", "v1", "pods", true, ["po"], POD),
    kind!("Job", "batch", "v1", "jobs", true, [], CRUD),
    kind!("CronJob", "batch", "v1", "cronjobs", true, ["cj"], CRUD),
    kind!("Service", "", "v1", "services", true, ["svc"], CRUD),
    kind!("ConfigMap", "", "v1", "configmaps", true, ["cm"], CRUD),
    kind!("Secret", "", "v1", "secrets", true, [], CRUD),
    kind!(
        "PersistentVolumeClaim",
        "",
        "v1",
        "persistentvolumeclaims",
        true,
        ["pvc"],
        CRUD
    ),
    kind!(
        "PersistentVolume",
        "",
        "v1",
        "persistentvolumes",
        false,
        ["pv"],
        CRUD
    ),
    kind!(
        "StorageClass",
        "storage.k8s.io",
        "v1",
        "storageclasses",
        false,
        ["sc"],
        CRUD
    ),
    kind!("Namespace", "", "v1", "namespaces", false, ["ns"], CRUD),
    kind!("Node", "", "v1", "nodes", false, ["no"], NODE),
    kind!("Event", "", "v1", "events", true, ["ev"], READ),
    kind!(
        "HorizontalPodAutoscaler",
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        true,
        ["hpa"],
        CRUD
    ),
    kind!(
        "ResourceQuota",
        "",
        "v1",
        "resourcequotas",
        true,
        ["quota"],
        CRUD
    ),
    kind!(
        "LimitRange",
        "",
        "v1",
        "limitranges",
        true,
        ["limits"],
        CRUD
    ),
    kind!(
        "ControllerRevision",
        "apps",
        "v1",
        "controllerrevisions",
        true,
        [],
        READ
    ),
    kind!(
        "CustomResourceDefinition",
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        false,
        ["crd", "crds"],
        CRUD
    ),
];

/// The catalog kind `name` designates (plural, singular, kind, short name or `plural.group`).
pub fn find(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.answers_to(name))
}

/// The catalog kind of a plural, as used in API paths.
pub fn by_plural(plural: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.plural == plural)
}

/// The catalog kind of a resource type, if it is a built-in one.
pub fn of(rt: &ResourceType) -> Option<&'static Kind> {
    KINDS
        .iter()
        .find(|k| k.group == rt.group && k.plural == rt.plural)
}

/// Custom resources the cluster serves: the preferred version of every resource defined by a
/// CustomResourceDefinition.
pub async fn custom_resources(client: &dyn ClusterClient) -> Result<Vec<DiscoveredResource>> {
    let crds = client
        .list(
            &ResourceType::of::<
                k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
            >(),
            "",
            &crate::ListOptions::default(),
        )
        .await?;
    let defined: std::collections::BTreeSet<String> = crds
        .items
        .into_iter()
        .filter_map(|crd| crd.metadata.name)
        .collect();
    let found = client.discover().await?;
    Ok(found
        .into_iter()
        .filter(|d| d.preferred && defined.contains(&d.resource.qualified_plural()))
        .collect())
}

/// Resolves a name to a resource type: the catalog first, then the cluster's discovery (for
/// custom resources: plural, kind, singular or `plural.group`). Unknown names are `NotFound`.
pub async fn resolve(client: &dyn ClusterClient, name: &str) -> Result<ResourceType> {
    if let Some(kind) = find(name) {
        return Ok(kind.resource_type());
    }
    let lower = name.to_ascii_lowercase();
    let found = client.discover().await?;
    found
        .into_iter()
        .filter(|d| d.preferred)
        .map(|d| d.resource)
        .find(|rt| {
            lower == rt.plural
                || lower == rt.kind.to_ascii_lowercase()
                || lower == rt.qualified_plural()
        })
        .ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("the server doesn't have a resource type \"{name}\""),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_like_kubectl() {
        assert_eq!(find("deploy").map(|k| k.kind), Some("Deployment"));
        assert_eq!(find("Deployments").map(|k| k.kind), Some("Deployment"));
        assert_eq!(find("hpa").map(|k| k.version), Some("v2"));
        assert_eq!(
            find("deployments.apps").map(|k| k.plural),
            Some("deployments")
        );
        assert_eq!(find("pvc").map(|k| k.namespaced), Some(true));
        assert_eq!(find("pv").map(|k| k.namespaced), Some(false));
        assert!(find("gadgets").is_none());
        assert!(by_plural("nodes").is_some_and(|k| !k.supports(Operation::Delete)));
        assert!(by_plural("deployments").is_some_and(|k| k.supports(Operation::Rollback)));
        assert!(by_plural("daemonsets").is_some_and(|k| !k.supports(Operation::Scale)));
    }

    #[cfg(feature = "test-util")]
    #[tokio::test]
    async fn custom_resources_are_found_through_discovery() {
        let fake = crate::FakeCluster::from_yaml(
            r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions: [{name: v1, served: true, storage: true}]
"#,
        )
        .expect("seed");
        let custom = custom_resources(&fake).await.expect("custom resources");
        assert_eq!(custom.len(), 1);
        assert_eq!(custom[0].resource.qualified_plural(), "widgets.example.com");
        for name in ["widgets", "Widget", "widgets.example.com"] {
            let rt = resolve(&fake, name).await.expect(name);
            assert_eq!(
                (rt.group.as_str(), rt.version.as_str()),
                ("example.com", "v1")
            );
        }
        assert_eq!(
            resolve(&fake, "deploy").await.expect("builtin").plural,
            "deployments"
        );
        let err = resolve(&fake, "gadgets").await.expect_err("unknown");
        assert_eq!(err.kind(), ErrorKind::NotFound);
    }

    #[test]
    fn every_kind_of_the_issue_is_catalogued() {
        for kind in [
            "Deployment",
            "StatefulSet",
            "DaemonSet",
            "ReplicaSet",
            "Pod",
            "Job",
            "CronJob",
            "Service",
            "ConfigMap",
            "Secret",
            "PersistentVolumeClaim",
            "PersistentVolume",
            "StorageClass",
            "Namespace",
            "Node",
            "Event",
            "HorizontalPodAutoscaler",
            "ResourceQuota",
            "LimitRange",
        ] {
            assert!(KINDS.iter().any(|k| k.kind == kind), "{kind}");
        }
    }
}
