//! Test doubles built on any [`ClusterClient`] and builders of test objects (feature
//! `test-util`).

use std::sync::Arc;

use async_trait::async_trait;
use futures::future::BoxFuture;
use kube::core::DynamicObject;

use crate::{
    ApplyOptions, ClusterClient, DeleteOptions, DeleteOutcome, DiscoveredResource, Identity,
    ListOptions, LogOptions, LogStream, ObjectList, ResourceType, Result, Scale, WatchOptions,
    WatchStream, WriteOptions,
};

mod builders;

pub use builders::{mk_deployment, mk_statefulset, mk_workload, with_requests};

/// A write about to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// `create`, `replace`, `patch`, `apply`, `delete`, `scale` or `status`.
    pub verb: &'static str,
    /// The resource type.
    pub resource: ResourceType,
    /// The namespace.
    pub namespace: String,
    /// The object name.
    pub name: String,
}

type Hook = dyn Fn(Write) -> BoxFuture<'static, ()> + Send + Sync;

/// A client that forwards every call to another one and awaits a hook before each write: to
/// count writes against a real cluster, or to make a concurrent change between a read and a
/// write.
pub struct BeforeWrite {
    inner: Arc<dyn ClusterClient>,
    hook: Arc<Hook>,
}

impl BeforeWrite {
    /// Wraps `inner`; `hook` runs before every write.
    pub fn new(
        inner: Arc<dyn ClusterClient>,
        hook: impl Fn(Write) -> BoxFuture<'static, ()> + Send + Sync + 'static,
    ) -> Self {
        BeforeWrite {
            inner,
            hook: Arc::new(hook),
        }
    }

    async fn before(&self, verb: &'static str, rt: &ResourceType, ns: &str, name: &str) {
        (self.hook)(Write {
            verb,
            resource: rt.clone(),
            namespace: ns.to_owned(),
            name: name.to_owned(),
        })
        .await;
    }
}

fn name_of(obj: &DynamicObject) -> &str {
    obj.metadata.name.as_deref().unwrap_or_default()
}

#[async_trait]
impl ClusterClient for BeforeWrite {
    async fn discover(&self) -> Result<Vec<DiscoveredResource>> {
        self.inner.discover().await
    }

    async fn get(&self, rt: &ResourceType, ns: &str, name: &str) -> Result<DynamicObject> {
        self.inner.get(rt, ns, name).await
    }

    async fn list(&self, rt: &ResourceType, ns: &str, opts: &ListOptions) -> Result<ObjectList> {
        self.inner.list(rt, ns, opts).await
    }

    async fn create(
        &self,
        rt: &ResourceType,
        ns: &str,
        obj: &DynamicObject,
        opts: &WriteOptions,
    ) -> Result<DynamicObject> {
        self.before("create", rt, ns, name_of(obj)).await;
        self.inner.create(rt, ns, obj, opts).await
    }

    async fn replace(
        &self,
        rt: &ResourceType,
        ns: &str,
        obj: &DynamicObject,
        opts: &WriteOptions,
    ) -> Result<DynamicObject> {
        self.before("replace", rt, ns, name_of(obj)).await;
        self.inner.replace(rt, ns, obj, opts).await
    }

    async fn merge_patch(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        patch: &serde_json::Value,
        opts: &WriteOptions,
    ) -> Result<DynamicObject> {
        self.before("patch", rt, ns, name).await;
        self.inner.merge_patch(rt, ns, name, patch, opts).await
    }

    async fn apply(
        &self,
        rt: &ResourceType,
        ns: &str,
        obj: &DynamicObject,
        opts: &ApplyOptions,
    ) -> Result<DynamicObject> {
        self.before("apply", rt, ns, name_of(obj)).await;
        self.inner.apply(rt, ns, obj, opts).await
    }

    async fn delete(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<DeleteOutcome> {
        self.before("delete", rt, ns, name).await;
        self.inner.delete(rt, ns, name, opts).await
    }

    async fn watch(&self, rt: &ResourceType, ns: &str, opts: &WatchOptions) -> Result<WatchStream> {
        self.inner.watch(rt, ns, opts).await
    }

    async fn get_scale(&self, rt: &ResourceType, ns: &str, name: &str) -> Result<Scale> {
        self.inner.get_scale(rt, ns, name).await
    }

    async fn set_scale(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        replicas: i32,
    ) -> Result<Scale> {
        self.before("scale", rt, ns, name).await;
        self.inner.set_scale(rt, ns, name, replicas).await
    }

    async fn merge_patch_status(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        patch: &serde_json::Value,
    ) -> Result<DynamicObject> {
        self.before("status", rt, ns, name).await;
        self.inner.merge_patch_status(rt, ns, name, patch).await
    }

    async fn logs(&self, ns: &str, pod: &str, opts: &LogOptions) -> Result<String> {
        self.inner.logs(ns, pod, opts).await
    }

    async fn follow_logs(&self, ns: &str, pod: &str, opts: &LogOptions) -> Result<LogStream> {
        self.inner.follow_logs(ns, pod, opts).await
    }

    fn impersonate(&self, identity: &Identity) -> Result<Arc<dyn ClusterClient>> {
        Ok(Arc::new(BeforeWrite {
            inner: self.inner.impersonate(identity)?,
            hook: Arc::clone(&self.hook),
        }))
    }
}
