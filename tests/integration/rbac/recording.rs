//! A ClusterClient that passes every call through and counts the writes, to prove that a
//! refused request wrote nothing on the real cluster.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use async_trait::async_trait;
use kubemate_core::{
    ApplyOptions, ClusterClient, DeleteOptions, DeleteOutcome, DiscoveredResource, DynamicObject,
    Identity, ListOptions, LogOptions, LogStream, ObjectList, ResourceType, Result, Scale,
    WatchOptions, WatchStream, WriteOptions,
};

pub struct Recording {
    inner: Arc<dyn ClusterClient>,
    writes: Arc<AtomicUsize>,
}

impl Recording {
    pub fn new(inner: Arc<dyn ClusterClient>) -> (Self, Arc<AtomicUsize>) {
        let writes = Arc::new(AtomicUsize::new(0));
        let me = Recording {
            inner,
            writes: Arc::clone(&writes),
        };
        (me, writes)
    }

    fn wrote(&self) {
        self.writes.fetch_add(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl ClusterClient for Recording {
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
        self.wrote();
        self.inner.create(rt, ns, obj, opts).await
    }

    async fn replace(
        &self,
        rt: &ResourceType,
        ns: &str,
        obj: &DynamicObject,
        opts: &WriteOptions,
    ) -> Result<DynamicObject> {
        self.wrote();
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
        self.wrote();
        self.inner.merge_patch(rt, ns, name, patch, opts).await
    }

    async fn apply(
        &self,
        rt: &ResourceType,
        ns: &str,
        obj: &DynamicObject,
        opts: &ApplyOptions,
    ) -> Result<DynamicObject> {
        self.wrote();
        self.inner.apply(rt, ns, obj, opts).await
    }

    async fn delete(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<DeleteOutcome> {
        self.wrote();
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
        self.wrote();
        self.inner.set_scale(rt, ns, name, replicas).await
    }

    async fn merge_patch_status(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        patch: &serde_json::Value,
    ) -> Result<DynamicObject> {
        self.wrote();
        self.inner.merge_patch_status(rt, ns, name, patch).await
    }

    async fn logs(&self, ns: &str, pod: &str, opts: &LogOptions) -> Result<String> {
        self.inner.logs(ns, pod, opts).await
    }

    async fn follow_logs(&self, ns: &str, pod: &str, opts: &LogOptions) -> Result<LogStream> {
        self.inner.follow_logs(ns, pod, opts).await
    }

    fn impersonate(&self, identity: &Identity) -> Result<Arc<dyn ClusterClient>> {
        self.inner.impersonate(identity)
    }
}
