use std::sync::Arc;

use super::*;
use crate::ClusterClient;

async fn empty() -> Arc<dyn ClusterClient> {
    Arc::new(FakeCluster::new())
}

mod conformance {
    crate::conformance_tests!(super::empty);
}

use futures::StreamExt;
use serde_json::json;

use crate::conformance::object;

const SEED: &str = include_str!("fixtures/shop.yaml");

fn pods() -> ResourceType {
    ResourceType::new("", "v1", "Pod", "pods", true)
}

fn configmaps() -> ResourceType {
    ResourceType::new("", "v1", "ConfigMap", "configmaps", true)
}

#[tokio::test]
async fn seeding_keeps_identity_and_status_and_expands_lists() {
    let fake = FakeCluster::from_yaml(SEED).expect("seed");
    let pod = fake
        .get(&pods(), "shop", "web-1")
        .await
        .expect("seeded pod");
    assert_eq!(
        pod.metadata.uid.as_deref(),
        Some("11111111-1111-1111-1111-111111111111")
    );
    assert_eq!(pod.data.pointer("/status/phase"), Some(&json!("Running")));
    assert!(pod.metadata.resource_version.is_some());
    let running = fake
        .list(&pods(), "", &ListOptions::fields("status.phase=Running"))
        .await
        .expect("list");
    assert_eq!(running.items.len(), 1);
    let on_node2 = fake
        .list(
            &pods(),
            "shop",
            &ListOptions::fields("spec.nodeName=node-2"),
        )
        .await
        .expect("list");
    assert_eq!(on_node2.items[0].metadata.name.as_deref(), Some("web-2"));
}

#[test]
fn seeding_reports_the_failing_document() {
    let err = FakeCluster::from_yaml(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: nowhere}\n",
    )
    .expect_err("namespace missing");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.message().contains("document 1"), "{err}");
    let err = FakeCluster::from_yaml("apiVersion: v9\nkind: Gadget\nmetadata: {name: a}\n")
        .expect_err("unknown kind");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = FakeCluster::from_yaml("kind: [unclosed").expect_err("bad yaml");
    assert_eq!(err.kind(), ErrorKind::BadRequest);
}

#[tokio::test]
async fn created_pods_start_pending_and_status_is_not_writable_through_the_object() {
    let fake = FakeCluster::from_yaml(SEED).expect("seed");
    let pod = object(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "uid": "client-chosen"},
        "spec": {"containers": [{"name": "c", "image": "i"}]},
        "status": {"phase": "Running"}}));
    let created = fake
        .create(&pods(), "shop", &pod, &WriteOptions::default())
        .await
        .expect("create");
    assert_eq!(
        created.data.pointer("/status/phase"),
        Some(&json!("Pending"))
    );
    assert_ne!(created.metadata.uid.as_deref(), Some("client-chosen"));
    let patched = fake
        .merge_patch(
            &pods(),
            "shop",
            "p",
            &json!({"status": {"phase": "Running"}}),
            &WriteOptions::default(),
        )
        .await
        .expect("patch");
    assert_eq!(
        patched.data.pointer("/status/phase"),
        Some(&json!("Pending"))
    );
    assert_eq!(
        patched.metadata.resource_version, created.metadata.resource_version,
        "a patch that changes nothing writes nothing"
    );
}

#[tokio::test]
async fn injected_failures_fire_the_given_number_of_times() {
    let fake = FakeCluster::from_yaml(SEED).expect("seed");
    fake.fail(Some(Verb::List), Some("pods"), ErrorKind::Unavailable, 1);
    let err = fake
        .list(&pods(), "shop", &ListOptions::default())
        .await
        .expect_err("injected");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    fake.list(&configmaps(), "shop", &ListOptions::default())
        .await
        .expect("other resources unaffected");
    fake.list(&pods(), "shop", &ListOptions::default())
        .await
        .expect("only once");
}

#[tokio::test]
async fn impersonated_calls_are_recorded_with_their_identity() {
    let fake = FakeCluster::from_yaml(SEED).expect("seed");
    let alice = Identity::service_account("kubemate-system", "alice");
    let as_alice = fake.impersonate(&alice).expect("impersonate");
    as_alice
        .delete(&pods(), "shop", "web-2", &DeleteOptions::default())
        .await
        .expect("delete");
    let last = fake.actions().pop().expect("recorded");
    assert_eq!(last.verb, Verb::Delete);
    assert_eq!(last.identity, Some(alice));
    assert_eq!(
        (last.namespace.as_str(), last.name.as_str()),
        ("shop", "web-2")
    );
    let err = fake
        .get(&pods(), "shop", "web-2")
        .await
        .expect_err("shared state");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn finalizers_hold_a_deletion_until_they_are_removed() {
    let fake = FakeCluster::from_yaml(SEED).expect("seed");
    let cm = object(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "held", "finalizers": ["example.com/hold"]}}));
    fake.create(&configmaps(), "shop", &cm, &WriteOptions::default())
        .await
        .expect("create");
    let outcome = fake
        .delete(&configmaps(), "shop", "held", &DeleteOptions::default())
        .await
        .expect("delete");
    let DeleteOutcome::Pending(obj) = outcome else {
        panic!("deletion should wait for the finalizer")
    };
    assert!(obj.metadata.deletion_timestamp.is_some());
    fake.merge_patch(
        &configmaps(),
        "shop",
        "held",
        &json!({"metadata": {"finalizers": null}}),
        &WriteOptions::default(),
    )
    .await
    .expect("remove finalizer");
    let err = fake
        .get(&configmaps(), "shop", "held")
        .await
        .expect_err("gone");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn deleting_a_namespace_removes_its_contents() {
    let fake = FakeCluster::from_yaml(SEED).expect("seed");
    let ns = ResourceType::new("", "v1", "Namespace", "namespaces", false);
    fake.delete(&ns, "", "shop", &DeleteOptions::default())
        .await
        .expect("delete namespace");
    let left = fake
        .list(&pods(), "", &ListOptions::default())
        .await
        .expect("list");
    assert!(left.items.is_empty());
}

#[tokio::test]
async fn a_watch_from_a_forgotten_resource_version_is_gone() {
    let fake = FakeCluster::from_yaml(SEED).expect("seed");
    for i in 0..(4096 + 10) {
        let cm = object(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("c{i}")}}));
        fake.create(&configmaps(), "shop", &cm, &WriteOptions::default())
            .await
            .expect("create");
    }
    let err = fake
        .watch(
            &configmaps(),
            "shop",
            &WatchOptions {
                resource_version: Some("2".into()),
                ..Default::default()
            },
        )
        .await
        .err()
        .expect("too old");
    assert_eq!(err.kind(), ErrorKind::Gone);
    let err = fake
        .list(
            &configmaps(),
            "shop",
            &ListOptions {
                continue_token: Some("garbage".into()),
                ..Default::default()
            },
        )
        .await
        .expect_err("bad continue token");
    assert_eq!(err.kind(), ErrorKind::BadRequest);
}

#[tokio::test]
async fn logs_tail_choose_containers_and_follow() {
    let fake = FakeCluster::from_yaml(SEED).expect("seed");
    for i in 1..=5 {
        fake.push_log("shop", "web-1", "app", &format!("line {i}"));
    }
    fake.push_previous_log("shop", "web-1", "app", "before the crash");
    let app = |tail: Option<i64>| LogOptions {
        container: Some("app".into()),
        tail_lines: tail,
        ..Default::default()
    };
    let all = fake.logs("shop", "web-1", &app(None)).await.expect("logs");
    assert_eq!(all, "line 1\nline 2\nline 3\nline 4\nline 5\n");
    let tail = fake
        .logs("shop", "web-1", &app(Some(2)))
        .await
        .expect("tail");
    assert_eq!(tail, "line 4\nline 5\n");
    let previous = fake
        .logs(
            "shop",
            "web-1",
            &LogOptions {
                previous: true,
                ..app(None)
            },
        )
        .await
        .expect("previous");
    assert_eq!(previous, "before the crash\n");

    let err = fake
        .logs("shop", "web-1", &LogOptions::default())
        .await
        .expect_err("two containers");
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert!(err.message().contains("app sidecar"), "{err}");
    let err = fake
        .logs(
            "shop",
            "web-1",
            &LogOptions {
                container: Some("nope".into()),
                ..Default::default()
            },
        )
        .await
        .expect_err("unknown container");
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    let err = fake
        .logs("shop", "absent", &LogOptions::default())
        .await
        .expect_err("missing pod");
    assert_eq!(err.kind(), ErrorKind::NotFound);

    let mut follow = fake
        .follow_logs("shop", "web-1", &app(Some(1)))
        .await
        .expect("follow");
    assert_eq!(follow.next().await.expect("line").expect("ok"), "line 5");
    fake.push_log("shop", "web-1", "sidecar", "other container");
    fake.push_log("shop", "web-1", "app", "line 6");
    assert_eq!(follow.next().await.expect("line").expect("ok"), "line 6");
}

#[tokio::test]
async fn cluster_scoped_kinds_ignore_the_namespace_and_unknown_kinds_are_not_found() {
    let fake = FakeCluster::new();
    let nodes = ResourceType::new("", "v1", "Node", "nodes", false);
    let node = object(json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}));
    let created = fake
        .create(&nodes, "", &node, &WriteOptions::default())
        .await
        .expect("create node");
    assert_eq!(created.metadata.namespace, None);
    let gadgets = ResourceType::new("example.com", "v1", "Gadget", "gadgets", true);
    let err = fake
        .list(&gadgets, "", &ListOptions::default())
        .await
        .expect_err("not served");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn the_demo_dataset_loads_whole_and_hangs_together() {
    use k8s_openapi::api::{
        apps::v1::{Deployment, ReplicaSet},
        core::v1::{Node, Pod},
    };

    use crate::ClusterClientExt;

    let fake = FakeCluster::demo().expect("demo dataset loads");
    let nodes: Vec<Node> = fake
        .list_all_as("", &ListOptions::default())
        .await
        .expect("nodes");
    assert_eq!(nodes.len(), 3);
    let namespaces = fake
        .list(
            &ResourceType::new("", "v1", "Namespace", "namespaces", false),
            "",
            &ListOptions::default(),
        )
        .await
        .expect("namespaces");
    assert!(namespaces.items.len() >= 5);
    let web: Deployment = fake.get_as("shop", "web").await.expect("shop/web");
    let uid = web.metadata.uid.expect("uid");
    let replicasets: Vec<ReplicaSet> = fake
        .list_all_as("shop", &ListOptions::default())
        .await
        .expect("replicasets");
    let owned = replicasets
        .iter()
        .filter(|rs| {
            rs.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|o| o.uid == uid)
        })
        .count();
    assert_eq!(owned, 2, "web has two revisions");
    let pods: Vec<Pod> = fake
        .list_all_as("", &ListOptions::default())
        .await
        .expect("pods");
    for pod in &pods {
        let node = pod.spec.as_ref().and_then(|s| s.node_name.clone());
        if let Some(node) = node {
            assert!(
                nodes
                    .iter()
                    .any(|n| n.metadata.name.as_deref() == Some(node.as_str())),
                "{node}"
            );
        }
    }
    let warnings = crate::events::warnings(&fake, "").await.expect("warnings");
    assert!(warnings.iter().any(|w| w.reason == "FailedScheduling"));
    assert!(warnings.iter().any(|w| w.reason == "BackOff"));
}

#[tokio::test]
async fn a_watch_sees_every_event_in_the_version_it_asked_for() {
    let fake = FakeCluster::from_yaml(SEED).expect("seed");
    let v1 = ResourceType::new(
        "autoscaling",
        "v1",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
    );
    let mut watch = fake
        .watch(&v1, "shop", &WatchOptions::default())
        .await
        .expect("watch");
    let hpa = object(
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {"minReplicas": 1, "maxReplicas": 3,
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}}),
    );
    let v2 = ResourceType::new(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
    );
    fake.create(&v2, "shop", &hpa, &WriteOptions::default())
        .await
        .expect("create");
    fake.merge_patch(
        &v2,
        "shop",
        "web",
        &json!({"spec": {"maxReplicas": 4}}),
        &WriteOptions::default(),
    )
    .await
    .expect("patch");
    for _ in 0..2 {
        let event = watch.next().await.expect("event").expect("ok");
        let obj = match event {
            WatchEvent::Added(o) | WatchEvent::Modified(o) => o,
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(obj.types.expect("types").api_version, "autoscaling/v1");
    }
}
