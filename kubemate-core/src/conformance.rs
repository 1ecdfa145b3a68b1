//! The conformance suite: one set of checks, written once against `&dyn ClusterClient`, that
//! every implementation must pass — [`FakeCluster`](crate::FakeCluster) in unit tests and the
//! real apiserver in the workspace integration tests. Where the fake and Kubernetes differ, the
//! fake changes.
//!
//! Each check creates its own namespace (and, for custom resources, its own API group) so the
//! checks can run concurrently on one cluster. Use [`conformance_tests!`](crate::conformance_tests)
//! to turn the suite into `#[tokio::test]`s.

use std::{future::Future, time::Duration};

use futures::StreamExt;
use kube::core::DynamicObject;
use serde_json::{Value, json};

use crate::{
    ApplyOptions, ClusterClient, DeleteOptions, DeleteOutcome, ErrorKind, ListOptions, Propagation,
    ResourceType, WatchEvent, WatchOptions, WriteOptions, testing::mk_deployment,
};

/// How long a check waits for something the real cluster does asynchronously.
pub const PATIENCE: Duration = Duration::from_secs(60);

fn configmaps() -> ResourceType {
    ResourceType::new("", "v1", "ConfigMap", "configmaps", true)
}

fn namespaces() -> ResourceType {
    ResourceType::new("", "v1", "Namespace", "namespaces", false)
}

fn deployments() -> ResourceType {
    ResourceType::new("apps", "v1", "Deployment", "deployments", true)
}

fn crds() -> ResourceType {
    ResourceType::new(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
    )
}

/// A short random suffix for names.
pub fn suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..6].to_owned()
}

/// Builds a dynamic object from JSON.
pub fn object(value: Value) -> DynamicObject {
    serde_json::from_value(value).expect("test objects are valid")
}

/// Polls `check` until it returns `Some`, or panics after [`PATIENCE`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Creates a namespace `conf-<prefix>-<random>` and returns its name.
pub async fn fresh_namespace(client: &dyn ClusterClient, prefix: &str) -> String {
    let name = format!("conf-{prefix}-{}", suffix());
    client
        .create(
            &namespaces(),
            "",
            &object(json!({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": name, "labels": {"kubemate.io/conformance": "true"}}})),
            &WriteOptions::default(),
        )
        .await
        .expect("create namespace");
    name
}

/// Deletes a test namespace (and so everything in it); one already gone is fine.
pub async fn drop_namespace(client: &dyn ClusterClient, ns: &str) {
    match client
        .delete(&namespaces(), "", ns, &DeleteOptions::default())
        .await
    {
        Ok(_) => {}
        Err(e) if e.is(ErrorKind::NotFound) => {}
        Err(e) => panic!("cannot delete the test namespace {ns}: {e}"),
    }
}

fn configmap(name: &str, labels: Value, data: Value) -> DynamicObject {
    object(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels}, "data": data}))
}

fn data(obj: &DynamicObject) -> Value {
    obj.data.get("data").cloned().unwrap_or(Value::Null)
}

fn names(items: &[DynamicObject]) -> Vec<String> {
    items
        .iter()
        .map(|o| o.metadata.name.clone().unwrap_or_default())
        .collect()
}

/// The image of the conformance suite's workloads (kwok's nodes never pull it).
const IMAGE: &str = "registry.example.com/app:1";

mod apply;
mod custom_resources;
mod discovery;
mod lists;
mod namespaces;
mod objects;
mod owners;
mod rbac;
mod scale;
mod segments;
mod watch;

pub use apply::server_side_apply;
pub use custom_resources::custom_resources;
pub use discovery::discovery;
pub use lists::list_selectors_and_paging;
pub use namespaces::namespaces_lifecycle;
pub use objects::{create_and_get, create_errors, delete, merge_patch, replace_conflicts};
pub use owners::owner_cascade;
pub use rbac::rbac_names_and_status_preconditions;
pub use scale::scale_subresource;
pub use segments::refuses_names_outside_their_segment;
pub use watch::watch;

/// Turns the conformance suite into `#[tokio::test]`s. `$client` is an async function
/// returning something that derefs to a `dyn ClusterClient` (e.g. `Arc<dyn ClusterClient>`).
#[macro_export]
macro_rules! conformance_tests {
    ($client:path) => {
        $crate::conformance_tests!(@cases $client;
            create_and_get, create_errors, replace_conflicts, merge_patch,
            list_selectors_and_paging, delete, owner_cascade, watch, server_side_apply,
            scale_subresource, discovery, custom_resources, namespaces_lifecycle,
            rbac_names_and_status_preconditions, refuses_names_outside_their_segment);
    };
    (@cases $client:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let client = $client().await;
                $crate::conformance::$case(&*client).await;
            }
        )*
    };
}
