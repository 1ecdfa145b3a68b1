//! The `ClusterClient` trait: every call Kubemate makes to a cluster goes through it.

use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;
use kube::core::DynamicObject;
use serde::{Deserialize, Serialize};

use crate::{DiscoveredResource, ResourceType, Result};

mod ext;

pub use ext::{ClusterClientExt, TypedList, from_dynamic, to_dynamic};

/// Options of a list call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListOptions {
    /// Label selector, Kubernetes syntax (`app=web,tier in (a,b),!legacy`).
    pub label_selector: Option<String>,
    /// Field selector, Kubernetes syntax (`metadata.name=x,status.phase!=Running`).
    pub field_selector: Option<String>,
    /// Page size; `None` lists everything.
    pub limit: Option<u32>,
    /// Continue token from the previous page.
    pub continue_token: Option<String>,
}

impl ListOptions {
    /// Options selecting by labels.
    pub fn labels(selector: impl Into<String>) -> Self {
        ListOptions {
            label_selector: Some(selector.into()),
            ..Default::default()
        }
    }

    /// Options selecting by fields.
    pub fn fields(selector: impl Into<String>) -> Self {
        ListOptions {
            field_selector: Some(selector.into()),
            ..Default::default()
        }
    }
}

/// One page of a list call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectList {
    /// The objects, in the cluster's order (by namespace, then name).
    pub items: Vec<DynamicObject>,
    /// The resourceVersion of the list, to start a watch from.
    pub resource_version: String,
    /// Token for the next page; `None` on the last page.
    pub continue_token: Option<String>,
}

/// Options of create, replace and patch calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Validate and return the result without persisting it.
    pub dry_run: bool,
}

/// Options of a server-side apply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Validate and return the result without persisting it.
    pub dry_run: bool,
    /// Take over fields owned by other field managers instead of failing with a conflict.
    pub force: bool,
}

/// The field manager Kubemate writes with.
pub const FIELD_MANAGER: &str = "kubemate";

/// What happens to an object's dependents when it is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Propagation {
    /// Dependents are left alone.
    Orphan,
    /// The object goes now, its dependents are collected in the background.
    Background,
    /// The object stays until its dependents are gone.
    Foreground,
}

/// Options of a delete call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteOptions {
    /// Propagation policy; `None` uses the kind's default.
    pub propagation: Option<Propagation>,
    /// Grace period in seconds (Pods).
    pub grace_period_seconds: Option<u32>,
    /// Delete only if the object still has this resourceVersion.
    pub resource_version: Option<String>,
    /// Validate without deleting.
    pub dry_run: bool,
}

/// What a delete call did.
#[derive(Debug, Clone, PartialEq)]
pub enum DeleteOutcome {
    /// The object is gone.
    Deleted,
    /// Deletion started; the object remains until its finalizers finish.
    Pending(Box<DynamicObject>),
}

/// Options of a watch call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchOptions {
    /// Start after this resourceVersion; `None` first sends the current objects as `Added`.
    pub resource_version: Option<String>,
    /// Label selector, as in [`ListOptions`].
    pub label_selector: Option<String>,
    /// Field selector, as in [`ListOptions`].
    pub field_selector: Option<String>,
    /// Server-side timeout of the watch, in seconds.
    pub timeout_seconds: Option<u32>,
}

/// A change seen by a watch.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchEvent {
    /// An object was created (or existed when the watch started).
    Added(DynamicObject),
    /// An object was changed.
    Modified(DynamicObject),
    /// An object was deleted; this is its last state.
    Deleted(DynamicObject),
    /// Progress marker: the watch is current up to this resourceVersion.
    Bookmark(String),
}

/// A stream of watch events.
pub type WatchStream = BoxStream<'static, Result<WatchEvent>>;

/// A stream of log lines (without their trailing newline).
pub type LogStream = BoxStream<'static, Result<String>>;

/// The `scale` subresource of a workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Scale {
    /// Desired replicas.
    pub replicas: i32,
    /// Replicas the controller last observed.
    pub current_replicas: i32,
    /// The label selector of the workload's Pods, in string form.
    pub selector: Option<String>,
    /// resourceVersion of the workload.
    pub resource_version: Option<String>,
}

/// Options of a pod log request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogOptions {
    /// The container; required when the Pod has several.
    pub container: Option<String>,
    /// Only the last N lines.
    pub tail_lines: Option<i64>,
    /// Only lines newer than this many seconds.
    pub since_seconds: Option<i64>,
    /// The previous (terminated) instance of the container.
    pub previous: bool,
    /// Prefix each line with its timestamp.
    pub timestamps: bool,
    /// Stop after this many bytes.
    pub limit_bytes: Option<i64>,
}

/// An identity to act as (Kubernetes impersonation).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Identity {
    /// User name, e.g. `system:serviceaccount:kubemate-system:alice`.
    pub user: String,
    /// Groups of that user.
    pub groups: Vec<String>,
}

impl Identity {
    /// The identity of a ServiceAccount, with the groups Kubernetes gives service accounts.
    pub fn service_account(namespace: &str, name: &str) -> Self {
        Identity {
            user: format!("system:serviceaccount:{namespace}:{name}"),
            groups: vec![
                "system:serviceaccounts".to_owned(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".to_owned(),
            ],
        }
    }
}

/// Access to one Kubernetes cluster, over dynamic objects so that one trait covers every
/// built-in kind and every custom resource.
///
/// `ns` is the namespace for namespaced kinds; as in client-go, the empty string means all
/// namespaces (for list and watch) and is what cluster-scoped kinds take. Implementations: [`KubeClusterClient`](crate::KubeClusterClient)
/// (a real cluster), `FakeCluster` (in memory, feature `test-util`) and `MockClusterClient`
/// (feature `mocks`). Typed helpers are in [`ClusterClientExt`].
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ClusterClient: Send + Sync {
    /// Every resource the cluster serves, in every served version, custom resources included.
    async fn discover(&self) -> Result<Vec<DiscoveredResource>>;

    /// One object by name.
    async fn get(&self, rt: &ResourceType, ns: &str, name: &str) -> Result<DynamicObject>;

    /// A page of objects.
    async fn list(&self, rt: &ResourceType, ns: &str, opts: &ListOptions) -> Result<ObjectList>;

    /// Creates `obj`; its namespace is `ns`.
    async fn create(
        &self,
        rt: &ResourceType,
        ns: &str,
        obj: &DynamicObject,
        opts: &WriteOptions,
    ) -> Result<DynamicObject>;

    /// Replaces the object named in `obj`. If `obj` carries a resourceVersion that is no longer
    /// current, fails with `Conflict`.
    async fn replace(
        &self,
        rt: &ResourceType,
        ns: &str,
        obj: &DynamicObject,
        opts: &WriteOptions,
    ) -> Result<DynamicObject>;

    /// Applies a JSON merge patch (RFC 7386) to an object.
    async fn merge_patch(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        patch: &serde_json::Value,
        opts: &WriteOptions,
    ) -> Result<DynamicObject>;

    /// Server-side apply of `obj` with field manager [`FIELD_MANAGER`]; creates it if missing.
    async fn apply(
        &self,
        rt: &ResourceType,
        ns: &str,
        obj: &DynamicObject,
        opts: &ApplyOptions,
    ) -> Result<DynamicObject>;

    /// Deletes an object.
    async fn delete(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<DeleteOutcome>;

    /// Watches objects of a type for changes.
    async fn watch(&self, rt: &ResourceType, ns: &str, opts: &WatchOptions) -> Result<WatchStream>;

    /// Reads the `scale` subresource.
    async fn get_scale(&self, rt: &ResourceType, ns: &str, name: &str) -> Result<Scale>;

    /// Sets the desired replicas through the `scale` subresource.
    async fn set_scale(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        replicas: i32,
    ) -> Result<Scale>;

    /// Applies a JSON merge patch to the `status` subresource.
    async fn merge_patch_status(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        patch: &serde_json::Value,
    ) -> Result<DynamicObject>;

    /// A container's log.
    async fn logs(&self, ns: &str, pod: &str, opts: &LogOptions) -> Result<String>;

    /// A container's log, followed as it grows.
    async fn follow_logs(&self, ns: &str, pod: &str, opts: &LogOptions) -> Result<LogStream>;

    /// A client to the same cluster that acts as `identity` (Kubernetes impersonation), so the
    /// cluster's own authorization applies to everything it does.
    fn impersonate(&self, identity: &Identity) -> Result<Arc<dyn ClusterClient>>;
}
