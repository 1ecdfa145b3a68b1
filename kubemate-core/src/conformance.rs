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
    ResourceType, WatchEvent, WatchOptions, WriteOptions,
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

/// Create assigns identity; get returns what was stored; dry-run stores nothing.
pub async fn create_and_get(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "get").await;
    let cm = configmap(
        "app-config",
        json!({"app": "web"}),
        json!({"a.txt": "one\ntwo\n"}),
    );
    let created = client
        .create(&configmaps(), &ns, &cm, &WriteOptions::default())
        .await
        .expect("create");
    let uid = created.metadata.uid.clone().expect("uid assigned");
    let rv = created
        .metadata
        .resource_version
        .clone()
        .expect("rv assigned");
    assert!(!uid.is_empty() && !rv.is_empty());
    assert!(created.metadata.creation_timestamp.is_some());
    assert_eq!(created.metadata.namespace.as_deref(), Some(ns.as_str()));
    assert_eq!(data(&created), json!({"a.txt": "one\ntwo\n"}));
    let types = created.types.clone().expect("type metadata");
    assert_eq!(
        (types.api_version.as_str(), types.kind.as_str()),
        ("v1", "ConfigMap")
    );

    let got = client
        .get(&configmaps(), &ns, "app-config")
        .await
        .expect("get");
    assert_eq!(got.metadata.uid.as_deref(), Some(uid.as_str()));
    assert_eq!(got.metadata.resource_version.as_deref(), Some(rv.as_str()));
    assert_eq!(data(&got), data(&created));

    let dry = client
        .create(
            &configmaps(),
            &ns,
            &configmap("dry", json!({}), json!({})),
            &WriteOptions { dry_run: true },
        )
        .await
        .expect("dry-run create");
    assert_eq!(dry.metadata.name.as_deref(), Some("dry"));
    let err = client
        .get(&configmaps(), &ns, "dry")
        .await
        .expect_err("not stored");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    drop_namespace(client, &ns).await;
}

/// Bad input fails with the apiserver's error kinds.
pub async fn create_errors(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "err").await;
    let cm = configmap("dup", json!({}), json!({}));
    client
        .create(&configmaps(), &ns, &cm, &WriteOptions::default())
        .await
        .expect("first create");
    let err = client
        .create(&configmaps(), &ns, &cm, &WriteOptions::default())
        .await
        .expect_err("duplicate");
    assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");

    let missing = format!("conf-missing-{}", suffix());
    let err = client
        .create(&configmaps(), &missing, &cm, &WriteOptions::default())
        .await
        .expect_err("missing namespace");
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");

    let err = client
        .create(
            &configmaps(),
            &ns,
            &configmap("Bad_Name", json!({}), json!({})),
            &WriteOptions::default(),
        )
        .await
        .expect_err("invalid name");
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert!(
        err.causes().iter().any(|c| c.field == "metadata.name"),
        "causes name the field: {:?}",
        err.causes()
    );

    let err = client
        .get(&configmaps(), &ns, "nope")
        .await
        .expect_err("missing object");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    drop_namespace(client, &ns).await;
}

/// Replace honours resourceVersion: a stale one is a Conflict, never a lost update.
pub async fn replace_conflicts(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "put").await;
    let created = client
        .create(
            &configmaps(),
            &ns,
            &configmap("cfg", json!({}), json!({"k": "v1"})),
            &WriteOptions::default(),
        )
        .await
        .expect("create");
    let mut first = created.clone();
    first.data["data"] = json!({"k": "v2"});
    let updated = client
        .replace(&configmaps(), &ns, &first, &WriteOptions::default())
        .await
        .expect("replace with current rv");
    assert_ne!(
        updated.metadata.resource_version,
        created.metadata.resource_version
    );
    assert_eq!(updated.metadata.uid, created.metadata.uid);

    let mut stale = created.clone();
    stale.data["data"] = json!({"k": "lost"});
    let err = client
        .replace(&configmaps(), &ns, &stale, &WriteOptions::default())
        .await
        .expect_err("stale rv");
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    let got = client.get(&configmaps(), &ns, "cfg").await.expect("get");
    assert_eq!(data(&got), json!({"k": "v2"}));

    let mut missing = created.clone();
    missing.metadata.name = Some("absent".into());
    missing.metadata.resource_version = None;
    let err = client
        .replace(&configmaps(), &ns, &missing, &WriteOptions::default())
        .await
        .expect_err("replace of a missing object");
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    drop_namespace(client, &ns).await;
}

/// JSON merge patches add, change and remove keys, and honour a resourceVersion in the patch.
pub async fn merge_patch(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "patch").await;
    let created = client
        .create(
            &configmaps(),
            &ns,
            &configmap("cfg", json!({"a": "1"}), json!({"keep": "x", "drop": "y"})),
            &WriteOptions::default(),
        )
        .await
        .expect("create");
    let patched = client
        .merge_patch(
            &configmaps(),
            &ns,
            "cfg",
            &json!({"metadata": {"labels": {"b": "2"}}, "data": {"drop": null, "new": "z"}}),
            &WriteOptions::default(),
        )
        .await
        .expect("patch");
    assert_eq!(data(&patched), json!({"keep": "x", "new": "z"}));
    let labels = patched.metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels.get("a").map(String::as_str), Some("1"));
    assert_eq!(labels.get("b").map(String::as_str), Some("2"));
    assert_ne!(
        patched.metadata.resource_version,
        created.metadata.resource_version
    );

    let err = client
        .merge_patch(
            &configmaps(),
            &ns,
            "cfg",
            &json!({"metadata": {"resourceVersion": created.metadata.resource_version},
                    "data": {"keep": "lost"}}),
            &WriteOptions::default(),
        )
        .await
        .expect_err("stale rv in patch");
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");

    let err = client
        .merge_patch(
            &configmaps(),
            &ns,
            "absent",
            &json!({"data": {}}),
            &WriteOptions::default(),
        )
        .await
        .expect_err("patch of a missing object");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    drop_namespace(client, &ns).await;
}

/// Label and field selectors filter; pages follow continue tokens in a stable order; bad
/// selectors are BadRequest.
pub async fn list_selectors_and_paging(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "list").await;
    for (i, tier) in ["a", "b", "a", "", "c"].iter().enumerate() {
        let labels = if tier.is_empty() {
            json!({"suite": "list"})
        } else {
            json!({"suite": "list", "tier": tier})
        };
        client
            .create(
                &configmaps(),
                &ns,
                &configmap(&format!("cm-{i}"), labels, json!({})),
                &WriteOptions::default(),
            )
            .await
            .expect("create");
    }
    let list = |sel: &str| {
        let opts = ListOptions::labels(sel);
        let ns = ns.clone();
        async move {
            names(
                &client
                    .list(&configmaps(), &ns, &opts)
                    .await
                    .expect("list")
                    .items,
            )
        }
    };
    assert_eq!(
        list("suite=list").await,
        ["cm-0", "cm-1", "cm-2", "cm-3", "cm-4"]
    );
    assert_eq!(list("suite=list,tier in (a)").await, ["cm-0", "cm-2"]);
    assert_eq!(list("suite=list,!tier").await, ["cm-3"]);
    assert_eq!(list("suite=list,tier notin (a,b)").await, ["cm-3", "cm-4"]);
    assert_eq!(list("suite=list,tier!=a,tier").await, ["cm-1", "cm-4"]);

    let by_name = client
        .list(
            &configmaps(),
            &ns,
            &ListOptions::fields("metadata.name=cm-2"),
        )
        .await
        .expect("field selector");
    assert_eq!(names(&by_name.items), ["cm-2"]);
    assert!(!by_name.resource_version.is_empty());

    let mut opts = ListOptions {
        label_selector: Some("suite=list".into()),
        limit: Some(2),
        ..Default::default()
    };
    let mut pages = Vec::new();
    loop {
        let page = client.list(&configmaps(), &ns, &opts).await.expect("page");
        pages.push(names(&page.items));
        match page.continue_token {
            Some(token) => opts.continue_token = Some(token),
            None => break,
        }
        assert!(pages.len() < 10, "paging terminates");
    }
    assert_eq!(pages[0], ["cm-0", "cm-1"]);
    assert_eq!(pages.concat(), ["cm-0", "cm-1", "cm-2", "cm-3", "cm-4"]);

    for bad in ["suite in (", "tier=a b", "=x"] {
        let err = client
            .list(&configmaps(), &ns, &ListOptions::labels(bad))
            .await
            .expect_err(bad);
        assert_eq!(err.kind(), ErrorKind::BadRequest, "{bad}: {err}");
    }
    let err = client
        .list(&configmaps(), &ns, &ListOptions::fields("spec.nothing=x"))
        .await
        .expect_err("unknown field");
    assert_eq!(err.kind(), ErrorKind::BadRequest, "{err}");
    drop_namespace(client, &ns).await;
}

/// Delete removes; a second delete is NotFound; a stale precondition is a Conflict.
pub async fn delete(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "del").await;
    let created = client
        .create(
            &configmaps(),
            &ns,
            &configmap("gone", json!({}), json!({})),
            &WriteOptions::default(),
        )
        .await
        .expect("create");
    client
        .merge_patch(
            &configmaps(),
            &ns,
            "gone",
            &json!({"data": {"x": "y"}}),
            &WriteOptions::default(),
        )
        .await
        .expect("patch");
    let err = client
        .delete(
            &configmaps(),
            &ns,
            "gone",
            &DeleteOptions {
                resource_version: created.metadata.resource_version.clone(),
                ..Default::default()
            },
        )
        .await
        .expect_err("stale precondition");
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    let outcome = client
        .delete(&configmaps(), &ns, "gone", &DeleteOptions::default())
        .await
        .expect("delete");
    assert_eq!(outcome, DeleteOutcome::Deleted);
    let err = client
        .get(&configmaps(), &ns, "gone")
        .await
        .expect_err("gone");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = client
        .delete(&configmaps(), &ns, "gone", &DeleteOptions::default())
        .await
        .expect_err("second delete");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    drop_namespace(client, &ns).await;
}

/// Deleting an owner removes its dependents, unless they are orphaned.
pub async fn owner_cascade(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "gc").await;
    let mut owners = Vec::new();
    for name in ["owner-a", "owner-b"] {
        let owner = client
            .create(
                &configmaps(),
                &ns,
                &configmap(name, json!({}), json!({})),
                &WriteOptions::default(),
            )
            .await
            .expect("owner");
        let mut dep = configmap(&format!("{name}-dep"), json!({}), json!({}));
        dep.metadata.owner_references = Some(vec![
            k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
                name: name.into(),
                uid: owner.metadata.uid.clone().unwrap_or_default(),
                ..Default::default()
            },
        ]);
        client
            .create(&configmaps(), &ns, &dep, &WriteOptions::default())
            .await
            .expect("dependent");
        owners.push(name);
    }
    client
        .delete(
            &configmaps(),
            &ns,
            "owner-a",
            &DeleteOptions {
                propagation: Some(Propagation::Background),
                ..Default::default()
            },
        )
        .await
        .expect("delete owner-a");
    client
        .delete(
            &configmaps(),
            &ns,
            "owner-b",
            &DeleteOptions {
                propagation: Some(Propagation::Orphan),
                ..Default::default()
            },
        )
        .await
        .expect("delete owner-b");
    eventually("the dependent of owner-a to be collected", || async {
        match client.get(&configmaps(), &ns, "owner-a-dep").await {
            Err(e) if e.is(ErrorKind::NotFound) => Some(()),
            _ => None,
        }
    })
    .await;
    let orphan = eventually("owner-b to be gone", || async {
        match client.get(&configmaps(), &ns, "owner-b").await {
            Err(e) if e.is(ErrorKind::NotFound) => {
                client.get(&configmaps(), &ns, "owner-b-dep").await.ok()
            }
            _ => None,
        }
    })
    .await;
    assert_eq!(orphan.metadata.name.as_deref(), Some("owner-b-dep"));
    drop_namespace(client, &ns).await;
}

async fn next_event(stream: &mut crate::WatchStream) -> WatchEvent {
    loop {
        let event = tokio::time::timeout(PATIENCE, stream.next())
            .await
            .expect("watch event in time")
            .expect("watch stream open")
            .expect("watch event ok");
        if !matches!(event, WatchEvent::Bookmark(_)) {
            return event;
        }
    }
}

fn event_name(event: &WatchEvent) -> (&'static str, String) {
    match event {
        WatchEvent::Added(o) => ("ADDED", o.metadata.name.clone().unwrap_or_default()),
        WatchEvent::Modified(o) => ("MODIFIED", o.metadata.name.clone().unwrap_or_default()),
        WatchEvent::Deleted(o) => ("DELETED", o.metadata.name.clone().unwrap_or_default()),
        WatchEvent::Bookmark(_) => ("BOOKMARK", String::new()),
    }
}

/// A watch from a list's resourceVersion sees later changes in order; a watch without one
/// starts with the current objects.
pub async fn watch(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "watch").await;
    client
        .create(
            &configmaps(),
            &ns,
            &configmap("before", json!({"w": "1"}), json!({})),
            &WriteOptions::default(),
        )
        .await
        .expect("create before");
    let listed = client
        .list(&configmaps(), &ns, &ListOptions::labels("w=1"))
        .await
        .expect("list");
    let mut from_rv = client
        .watch(
            &configmaps(),
            &ns,
            &WatchOptions {
                resource_version: Some(listed.resource_version.clone()),
                label_selector: Some("w=1".into()),
                timeout_seconds: Some(120),
                ..Default::default()
            },
        )
        .await
        .expect("watch from rv");
    client
        .create(
            &configmaps(),
            &ns,
            &configmap("after", json!({"w": "1"}), json!({})),
            &WriteOptions::default(),
        )
        .await
        .expect("create after");
    client
        .create(
            &configmaps(),
            &ns,
            &configmap("unrelated", json!({"w": "2"}), json!({})),
            &WriteOptions::default(),
        )
        .await
        .expect("create unrelated");
    client
        .merge_patch(
            &configmaps(),
            &ns,
            "after",
            &json!({"data": {"k": "v"}}),
            &WriteOptions::default(),
        )
        .await
        .expect("patch");
    client
        .delete(&configmaps(), &ns, "after", &DeleteOptions::default())
        .await
        .expect("delete");
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(event_name(&next_event(&mut from_rv).await));
    }
    assert_eq!(
        seen,
        [
            ("ADDED", "after".to_owned()),
            ("MODIFIED", "after".to_owned()),
            ("DELETED", "after".to_owned())
        ]
    );

    let mut fresh = client
        .watch(
            &configmaps(),
            &ns,
            &WatchOptions {
                label_selector: Some("w=1".into()),
                timeout_seconds: Some(120),
                ..Default::default()
            },
        )
        .await
        .expect("watch without rv");
    assert_eq!(
        event_name(&next_event(&mut fresh).await),
        ("ADDED", "before".to_owned())
    );
    drop_namespace(client, &ns).await;
}

/// Server-side apply creates, then updates; dry-run changes nothing.
pub async fn server_side_apply(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "apply").await;
    let desired = configmap("applied", json!({"by": "apply"}), json!({"k": "1"}));
    let created = client
        .apply(&configmaps(), &ns, &desired, &ApplyOptions::default())
        .await
        .expect("apply creates");
    assert_eq!(data(&created), json!({"k": "1"}));
    let again = client
        .apply(&configmaps(), &ns, &desired, &ApplyOptions::default())
        .await
        .expect("apply again");
    assert_eq!(
        again.metadata.resource_version, created.metadata.resource_version,
        "an unchanged apply is a no-op"
    );
    let changed = configmap("applied", json!({"by": "apply"}), json!({"k": "2"}));
    let dry = client
        .apply(
            &configmaps(),
            &ns,
            &changed,
            &ApplyOptions {
                dry_run: true,
                force: false,
            },
        )
        .await
        .expect("dry-run apply");
    assert_eq!(data(&dry), json!({"k": "2"}));
    let got = client
        .get(&configmaps(), &ns, "applied")
        .await
        .expect("get");
    assert_eq!(data(&got), json!({"k": "1"}), "dry run persisted nothing");
    let updated = client
        .apply(&configmaps(), &ns, &changed, &ApplyOptions::default())
        .await
        .expect("apply update");
    assert_eq!(data(&updated), json!({"k": "2"}));
    let missing = format!("conf-missing-{}", suffix());
    let err = client
        .apply(&configmaps(), &missing, &desired, &ApplyOptions::default())
        .await
        .expect_err("apply into a missing namespace");
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    drop_namespace(client, &ns).await;
}

fn deployment(name: &str, replicas: i32) -> DynamicObject {
    object(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": "registry.example.com/app:1"}]}
            }
        }
    }))
}

/// The scale subresource reads and sets a workload's replicas; spec changes bump generation.
pub async fn scale_subresource(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "scale").await;
    let created = client
        .create(
            &deployments(),
            &ns,
            &deployment("web", 0),
            &WriteOptions::default(),
        )
        .await
        .expect("create deployment");
    assert_eq!(created.metadata.generation, Some(1));
    let scale = client
        .get_scale(&deployments(), &ns, "web")
        .await
        .expect("get scale");
    assert_eq!(scale.replicas, 0);
    assert_eq!(scale.selector.as_deref(), Some("app=web"));
    let scaled = client
        .set_scale(&deployments(), &ns, "web", 2)
        .await
        .expect("set scale");
    assert_eq!(scaled.replicas, 2);
    let got = client.get(&deployments(), &ns, "web").await.expect("get");
    assert_eq!(got.data.pointer("/spec/replicas"), Some(&json!(2)));
    assert_eq!(got.metadata.generation, Some(2));
    let err = client
        .set_scale(&deployments(), &ns, "web", -1)
        .await
        .expect_err("negative replicas");
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    let err = client
        .get_scale(&deployments(), &ns, "absent")
        .await
        .expect_err("missing deployment");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    drop_namespace(client, &ns).await;
}

/// Discovery lists built-in kinds with their scope and subresources.
pub async fn discovery(client: &dyn ClusterClient) {
    let found = client.discover().await.expect("discover");
    let find = |group: &str, plural: &str| {
        found
            .iter()
            .find(|d| d.resource.group == group && d.resource.plural == plural && d.preferred)
            .unwrap_or_else(|| panic!("{group}/{plural} is discovered"))
            .clone()
    };
    let cm = find("", "configmaps");
    assert!(cm.resource.namespaced);
    assert_eq!(cm.resource.kind, "ConfigMap");
    assert!(cm.supports("list") && cm.supports("watch") && cm.supports("patch"));
    let deploy = find("apps", "deployments");
    assert!(deploy.has_subresource("scale") && deploy.has_subresource("status"));
    assert!(!find("", "nodes").resource.namespaced);
    assert!(!find("", "namespaces").resource.namespaced);
    assert_eq!(
        find("autoscaling", "horizontalpodautoscalers")
            .resource
            .version,
        "v2"
    );
}

/// A CustomResourceDefinition makes its resource served: CRUD, generation, the status
/// subresource, and updates that must carry a resourceVersion.
pub async fn custom_resources(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "crd").await;
    let group = format!("c{}.conformance.kubemate.io", suffix());
    let crd_name = format!("widgets.{group}");
    let schema = json!({"type": "object", "properties": {
        "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}});
    client
        .create(
            &crds(),
            "",
            &object(json!({
                "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": {"name": crd_name},
                "spec": {
                    "group": group,
                    "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
                    "scope": "Namespaced",
                    "versions": [{"name": "v1", "served": true, "storage": true,
                                  "subresources": {"status": {}},
                                  "schema": {"openAPIV3Schema": schema}}]
                }
            })),
            &WriteOptions::default(),
        )
        .await
        .expect("create CRD");
    let widgets = eventually("the custom resource to be discovered", || async {
        client
            .discover()
            .await
            .ok()?
            .into_iter()
            .find(|d| d.resource.group == group && d.resource.plural == "widgets")
            .map(|d| d.resource)
    })
    .await;
    assert!(widgets.namespaced);
    assert_eq!(widgets.kind, "Widget");

    let widget = object(
        json!({"apiVersion": format!("{group}/v1"), "kind": "Widget",
        "metadata": {"name": "w1"}, "spec": {"size": 3}, "status": {"phase": "Ignored"}}),
    );
    let created = eventually("the custom resource to accept writes", || async {
        client
            .create(&widgets, &ns, &widget, &WriteOptions::default())
            .await
            .ok()
    })
    .await;
    assert_eq!(created.metadata.generation, Some(1));
    assert_eq!(
        created.data.get("status"),
        None,
        "status is not set on create"
    );

    let patched = client
        .merge_patch_status(&widgets, &ns, "w1", &json!({"status": {"phase": "Ready"}}))
        .await
        .expect("status patch");
    assert_eq!(patched.data.pointer("/status/phase"), Some(&json!("Ready")));
    assert_eq!(
        patched.metadata.generation,
        Some(1),
        "status does not bump generation"
    );

    let mut edit = patched.clone();
    edit.data["spec"] = json!({"size": 5});
    edit.data["status"] = json!({"phase": "Overwritten"});
    let replaced = client
        .replace(&widgets, &ns, &edit, &WriteOptions::default())
        .await
        .expect("replace");
    assert_eq!(replaced.data.pointer("/spec/size"), Some(&json!(5)));
    assert_eq!(
        replaced.data.pointer("/status/phase"),
        Some(&json!("Ready"))
    );
    assert_eq!(replaced.metadata.generation, Some(2));

    let mut unversioned = replaced.clone();
    unversioned.metadata.resource_version = None;
    unversioned.data["spec"] = json!({"size": 6});
    let err = client
        .replace(&widgets, &ns, &unversioned, &WriteOptions::default())
        .await
        .expect_err("custom resources need a resourceVersion to update");
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");

    let listed = client
        .list(&widgets, &ns, &ListOptions::default())
        .await
        .expect("list widgets");
    assert_eq!(names(&listed.items), ["w1"]);
    client
        .delete(&crds(), "", &crd_name, &DeleteOptions::default())
        .await
        .expect("delete CRD");
    drop_namespace(client, &ns).await;
}

/// Namespaces are created Active and can be selected by label.
pub async fn namespaces_lifecycle(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "ns").await;
    let got = client
        .get(&namespaces(), "", &ns)
        .await
        .expect("get namespace");
    assert_eq!(got.data.pointer("/status/phase"), Some(&json!("Active")));
    let listed = client
        .list(
            &namespaces(),
            "",
            &ListOptions::fields(format!("metadata.name={ns}")),
        )
        .await
        .expect("list namespaces");
    assert_eq!(names(&listed.items), std::slice::from_ref(&ns));
    let err = client
        .create(
            &namespaces(),
            "",
            &object(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "conf.dotted"}})),
            &WriteOptions::default(),
        )
        .await
        .expect_err("namespace names are DNS labels");
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    drop_namespace(client, &ns).await;
}

/// RBAC objects accept names with colons; a status patch honours a resourceVersion in it.
pub async fn rbac_names_and_status_preconditions(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "rbacname").await;
    let roles = ResourceType::new("rbac.authorization.k8s.io", "v1", "Role", "roles", true);
    let created = client
        .create(
            &roles,
            &ns,
            &object(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                "metadata": {"name": "kubemate:reader"},
                "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
            ),
            &WriteOptions::default(),
        )
        .await
        .expect("a colon is fine in RBAC names");
    assert_eq!(created.metadata.name.as_deref(), Some("kubemate:reader"));
    let err = client
        .create(
            &roles,
            &ns,
            &object(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                "metadata": {"name": "a/b"}, "rules": []}),
            ),
            &WriteOptions::default(),
        )
        .await
        .expect_err("a slash is not");
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Invalid | ErrorKind::BadRequest | ErrorKind::NotFound
        ),
        "{err}"
    );

    let d = client
        .create(
            &deployments(),
            &ns,
            &deployment("st", 0),
            &WriteOptions::default(),
        )
        .await
        .expect("deployment");
    client
        .merge_patch(
            &deployments(),
            &ns,
            "st",
            &json!({"metadata": {"labels": {"x": "y"}}}),
            &WriteOptions::default(),
        )
        .await
        .expect("bump rv");
    let err = client
        .merge_patch_status(
            &deployments(),
            &ns,
            "st",
            &json!({"metadata": {"resourceVersion": d.metadata.resource_version},
                    "status": {"observedGeneration": 1}}),
        )
        .await
        .expect_err("stale rv in a status patch");
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    drop_namespace(client, &ns).await;
}

/// A name or namespace that would leave its URL segment (`a/b`, `..`, `%2F`, NUL) is refused
/// before any request is sent, by every call that takes one; the object beside it is intact,
/// so nothing was addressed instead.
pub async fn refuses_names_outside_their_segment(client: &dyn ClusterClient) {
    let ns = fresh_namespace(client, "seg").await;
    let cm = object(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "kept", "namespace": ns}, "data": {"k": "v"}}));
    client
        .create(&configmaps(), &ns, &cm, &WriteOptions::default())
        .await
        .expect("configmap");
    let traversals = [
        format!("{ns}/configmaps/kept"),
        "kept/status".to_owned(),
        "..".to_owned(),
        "kept%2Fx".to_owned(),
        "kept\u{0}".to_owned(),
        String::new(),
    ];
    for bad in &traversals {
        let refused = |what: &str, e: crate::Error| {
            assert_eq!(e.kind(), ErrorKind::BadRequest, "{what} {bad:?}: {e}");
            assert!(e.message().starts_with("refused to address"), "{what}: {e}");
        };
        if !bad.is_empty() {
            // As a namespace: `ns/configmaps/kept` would read the ConfigMap through a
            // namespace read.
            let e = client
                .get(&namespaces(), "", bad)
                .await
                .expect_err("namespace");
            refused("namespace get", e);
            let e = client
                .list(&configmaps(), bad, &ListOptions::default())
                .await
                .expect_err("list");
            refused("list", e);
        }
        let e = client.get(&configmaps(), &ns, bad).await.expect_err("get");
        refused("get", e);
        let e = client
            .merge_patch(
                &configmaps(),
                &ns,
                bad,
                &json!({"data": {"k": "x"}}),
                &WriteOptions::default(),
            )
            .await
            .expect_err("patch");
        refused("patch", e);
        let e = client
            .delete(&configmaps(), &ns, bad, &DeleteOptions::default())
            .await
            .expect_err("delete");
        refused("delete", e);
        let e = client
            .logs(&ns, bad, &crate::LogOptions::default())
            .await
            .expect_err("logs");
        refused("logs", e);
    }
    let kept = client
        .get(&configmaps(), &ns, "kept")
        .await
        .expect("intact");
    assert_eq!(kept.data["data"]["k"], "v");
    drop_namespace(client, &ns).await;
}

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
