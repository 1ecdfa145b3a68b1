//! The resource types the fake serves: the built-in kinds Kubemate uses, plus the custom
//! resources of every CustomResourceDefinition stored in it.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::{DiscoveredResource, ResourceType};

/// What the fake knows about one served resource.
#[derive(Debug, Clone)]
pub(crate) struct TypeInfo {
    pub group: String,
    /// Served versions, the preferred one first.
    pub versions: Vec<String>,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
    pub status: bool,
    pub scale: bool,
    /// Whether writes maintain `metadata.generation` (workloads and custom resources).
    pub generation: bool,
    /// True for custom resources, whose updates must carry a resourceVersion.
    pub custom: bool,
    /// Extra field selectors the apiserver supports for this kind.
    pub fields: &'static [&'static str],
}

impl TypeInfo {
    pub fn resource_type(&self, version: &str) -> ResourceType {
        ResourceType::new(
            &self.group,
            version,
            &self.kind,
            &self.plural,
            self.namespaced,
        )
    }

    /// `plural.group`, as the apiserver names the resource in messages.
    pub fn qualified_plural(&self) -> String {
        self.resource_type(&self.versions[0]).qualified_plural()
    }

    pub fn is(&self, group: &str, plural: &str) -> bool {
        self.group == group && self.plural == plural
    }

    pub fn discovered(&self) -> Vec<DiscoveredResource> {
        let verbs = [
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ];
        let mut subresources = Vec::new();
        if self.status {
            subresources.push("status".to_owned());
        }
        if self.scale {
            subresources.push("scale".to_owned());
        }
        if self.group.is_empty() && self.plural == "pods" {
            subresources.push("log".to_owned());
        }
        self.versions
            .iter()
            .enumerate()
            .map(|(i, v)| DiscoveredResource {
                resource: self.resource_type(v),
                verbs: verbs.iter().map(|v| (*v).to_owned()).collect(),
                subresources: subresources.clone(),
                preferred: i == 0,
            })
            .collect()
    }
}

/// Key of a resource type in the fake: group and plural (versions share storage).
pub(crate) type TypeKey = (String, String);

const POD_FIELDS: &[&str] = &[
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
];
const EVENT_FIELDS: &[&str] = &[
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
];

#[allow(clippy::too_many_arguments)]
fn builtin(
    group: &str,
    versions: &[&str],
    kind: &str,
    plural: &str,
    namespaced: bool,
    status: bool,
    scale: bool,
    generation: bool,
    fields: &'static [&'static str],
) -> TypeInfo {
    TypeInfo {
        group: group.to_owned(),
        versions: versions.iter().map(|v| (*v).to_owned()).collect(),
        kind: kind.to_owned(),
        plural: plural.to_owned(),
        namespaced,
        status,
        scale,
        generation,
        custom: false,
        fields,
    }
}

/// The built-in kinds, as a Kubernetes 1.36 apiserver serves them.
pub(crate) fn builtins() -> BTreeMap<TypeKey, TypeInfo> {
    const N: bool = true;
    const C: bool = false;
    let list = [
        builtin(
            "",
            &["v1"],
            "Namespace",
            "namespaces",
            C,
            true,
            false,
            false,
            &["status.phase"],
        ),
        builtin(
            "",
            &["v1"],
            "Node",
            "nodes",
            C,
            true,
            false,
            false,
            &["spec.unschedulable"],
        ),
        builtin(
            "",
            &["v1"],
            "Pod",
            "pods",
            N,
            true,
            false,
            false,
            POD_FIELDS,
        ),
        builtin(
            "",
            &["v1"],
            "Service",
            "services",
            N,
            true,
            false,
            false,
            &[],
        ),
        builtin(
            "",
            &["v1"],
            "ConfigMap",
            "configmaps",
            N,
            false,
            false,
            false,
            &[],
        ),
        builtin(
            "",
            &["v1"],
            "Secret",
            "secrets",
            N,
            false,
            false,
            false,
            &["type"],
        ),
        builtin(
            "",
            &["v1"],
            "ServiceAccount",
            "serviceaccounts",
            N,
            false,
            false,
            false,
            &[],
        ),
        builtin(
            "",
            &["v1"],
            "Event",
            "events",
            N,
            false,
            false,
            false,
            EVENT_FIELDS,
        ),
        builtin(
            "",
            &["v1"],
            "Endpoints",
            "endpoints",
            N,
            false,
            false,
            false,
            &[],
        ),
        builtin(
            "",
            &["v1"],
            "PersistentVolumeClaim",
            "persistentvolumeclaims",
            N,
            true,
            false,
            false,
            &[],
        ),
        builtin(
            "",
            &["v1"],
            "PersistentVolume",
            "persistentvolumes",
            C,
            true,
            false,
            false,
            &[],
        ),
        builtin(
            "",
            &["v1"],
            "ResourceQuota",
            "resourcequotas",
            N,
            true,
            false,
            false,
            &[],
        ),
        builtin(
            "",
            &["v1"],
            "LimitRange",
            "limitranges",
            N,
            false,
            false,
            false,
            &[],
        ),
        builtin(
            "apps",
            &["v1"],
            "Deployment",
            "deployments",
            N,
            true,
            true,
            true,
            &[],
        ),
        builtin(
            "apps",
            &["v1"],
            "StatefulSet",
            "statefulsets",
            N,
            true,
            true,
            true,
            &[],
        ),
        builtin(
            "apps",
            &["v1"],
            "DaemonSet",
            "daemonsets",
            N,
            true,
            false,
            true,
            &[],
        ),
        builtin(
            "apps",
            &["v1"],
            "ReplicaSet",
            "replicasets",
            N,
            true,
            true,
            true,
            &["status.replicas"],
        ),
        builtin(
            "apps",
            &["v1"],
            "ControllerRevision",
            "controllerrevisions",
            N,
            false,
            false,
            false,
            &[],
        ),
        builtin(
            "batch",
            &["v1"],
            "Job",
            "jobs",
            N,
            true,
            false,
            true,
            &["status.successful"],
        ),
        builtin(
            "batch",
            &["v1"],
            "CronJob",
            "cronjobs",
            N,
            true,
            false,
            true,
            &[],
        ),
        builtin(
            "autoscaling",
            &["v2", "v1"],
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            N,
            true,
            false,
            true,
            &[],
        ),
        builtin(
            "storage.k8s.io",
            &["v1"],
            "StorageClass",
            "storageclasses",
            C,
            false,
            false,
            false,
            &[],
        ),
        builtin(
            "networking.k8s.io",
            &["v1"],
            "Ingress",
            "ingresses",
            N,
            true,
            false,
            true,
            &[],
        ),
        builtin(
            "networking.k8s.io",
            &["v1"],
            "NetworkPolicy",
            "networkpolicies",
            N,
            false,
            false,
            true,
            &[],
        ),
        builtin(
            "policy",
            &["v1"],
            "PodDisruptionBudget",
            "poddisruptionbudgets",
            N,
            true,
            false,
            true,
            &[],
        ),
        builtin(
            "coordination.k8s.io",
            &["v1"],
            "Lease",
            "leases",
            N,
            false,
            false,
            false,
            &[],
        ),
        builtin(
            "events.k8s.io",
            &["v1"],
            "Event",
            "events",
            N,
            false,
            false,
            false,
            &[],
        ),
        builtin(
            "rbac.authorization.k8s.io",
            &["v1"],
            "Role",
            "roles",
            N,
            false,
            false,
            false,
            &[],
        ),
        builtin(
            "rbac.authorization.k8s.io",
            &["v1"],
            "RoleBinding",
            "rolebindings",
            N,
            false,
            false,
            false,
            &[],
        ),
        builtin(
            "rbac.authorization.k8s.io",
            &["v1"],
            "ClusterRole",
            "clusterroles",
            C,
            false,
            false,
            false,
            &[],
        ),
        builtin(
            "rbac.authorization.k8s.io",
            &["v1"],
            "ClusterRoleBinding",
            "clusterrolebindings",
            C,
            false,
            false,
            false,
            &[],
        ),
        builtin(
            "apiextensions.k8s.io",
            &["v1"],
            "CustomResourceDefinition",
            "customresourcedefinitions",
            C,
            true,
            false,
            true,
            &[],
        ),
    ];
    list.into_iter()
        .map(|t| ((t.group.clone(), t.plural.clone()), t))
        .collect()
}

/// The served type a CustomResourceDefinition object defines, if it is well formed enough.
pub(crate) fn from_crd(crd: &Value) -> Option<TypeInfo> {
    let spec = crd.get("spec")?;
    let names = spec.get("names")?;
    let versions: Vec<&Value> = spec
        .get("versions")?
        .as_array()?
        .iter()
        .filter(|v| v.get("served").and_then(Value::as_bool).unwrap_or(false))
        .collect();
    // Discovery prefers the storage version's group order: the first served version listed.
    let status = versions
        .iter()
        .any(|v| v.pointer("/subresources/status").is_some());
    let scale = versions
        .iter()
        .any(|v| v.pointer("/subresources/scale").is_some());
    Some(TypeInfo {
        group: spec.get("group")?.as_str()?.to_owned(),
        versions: versions
            .iter()
            .filter_map(|v| v.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect(),
        kind: names.get("kind")?.as_str()?.to_owned(),
        plural: names.get("plural")?.as_str()?.to_owned(),
        namespaced: spec.get("scope").and_then(Value::as_str) == Some("Namespaced"),
        status,
        scale,
        generation: true,
        custom: true,
        fields: &[],
    })
}
