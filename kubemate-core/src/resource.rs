//! Resource types: which kind of object a [`ClusterClient`](crate::ClusterClient) call is about.

use serde::{Deserialize, Serialize};

/// A served resource: group, version, kind, plural and scope.
///
/// This is the dynamic counterpart of a `k8s_openapi` type: it names built-in kinds and custom
/// resources alike, so one trait covers both.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceType {
    /// API group; empty for the core group.
    pub group: String,
    /// API version within the group, e.g. `v1`.
    pub version: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// Plural resource name used in URLs, e.g. `deployments`.
    pub plural: String,
    /// True for namespaced kinds, false for cluster-scoped ones.
    pub namespaced: bool,
}

impl ResourceType {
    /// A resource type from its parts.
    pub fn new(group: &str, version: &str, kind: &str, plural: &str, namespaced: bool) -> Self {
        ResourceType {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: kind.to_owned(),
            plural: plural.to_owned(),
            namespaced,
        }
    }

    /// The resource type of a typed object: a `k8s_openapi` type or a `CustomResource`.
    pub fn of<K>() -> Self
    where
        K: kube::Resource<DynamicType = ()>,
        K::Scope: 'static,
    {
        ResourceType {
            group: K::group(&()).into_owned(),
            version: K::version(&()).into_owned(),
            kind: K::kind(&()).into_owned(),
            plural: K::plural(&()).into_owned(),
            namespaced: std::any::TypeId::of::<K::Scope>()
                == std::any::TypeId::of::<k8s_openapi::NamespaceResourceScope>(),
        }
    }

    /// `group/version`, or just `version` for the core group, as in `apiVersion`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `plural.group` (or `plural` for the core group), the name RBAC and CRDs use.
    pub fn qualified_plural(&self) -> String {
        qualified_plural(&self.group, &self.plural)
    }

    /// The type metadata objects of this type carry.
    pub fn type_meta(&self) -> kube::core::TypeMeta {
        kube::core::TypeMeta {
            api_version: self.api_version(),
            kind: self.kind.clone(),
        }
    }

    /// kube's view of this type, for the kube implementation.
    pub(crate) fn api_resource(&self) -> kube::core::ApiResource {
        kube::core::ApiResource {
            group: self.group.clone(),
            version: self.version.clone(),
            api_version: self.api_version(),
            kind: self.kind.clone(),
            plural: self.plural.clone(),
        }
    }
}

/// A resource the cluster serves, as discovery reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoveredResource {
    /// The resource type.
    pub resource: ResourceType,
    /// Verbs the cluster supports on it (`get`, `list`, `watch`, `create`, ...).
    pub verbs: Vec<String>,
    /// Subresources it serves (`status`, `scale`, `log`, ...).
    pub subresources: Vec<String>,
    /// True when this version is the group's preferred version.
    pub preferred: bool,
}

impl DiscoveredResource {
    /// True when the cluster serves `verb` on this resource.
    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    /// True when the cluster serves the `name` subresource of this resource.
    pub fn has_subresource(&self, name: &str) -> bool {
        self.subresources.iter().any(|s| s == name)
    }
}

/// `plural.group`, or `plural` for the core group: how the apiserver, RBAC, CRDs and kubectl
/// name a resource. The one place that spells it.
pub fn qualified_plural(group: &str, plural: &str) -> String {
    if group.is_empty() {
        plural.to_owned()
    } else {
        format!("{plural}.{group}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::{apps::v1::Deployment, core::v1::Node};

    #[test]
    fn typed_resources_know_their_scope_and_names() {
        let d = ResourceType::of::<Deployment>();
        assert_eq!(d.api_version(), "apps/v1");
        assert_eq!(d.qualified_plural(), "deployments.apps");
        assert!(d.namespaced);
        let n = ResourceType::of::<Node>();
        assert_eq!(n.api_version(), "v1");
        assert_eq!(n.qualified_plural(), "nodes");
        assert!(!n.namespaced);
    }
}
