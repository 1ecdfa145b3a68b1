//! Proof that the test cluster is a real Kubernetes: controllers, scheduler, kwok nodes,
//! namespace finalization and RBAC all act.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kubemate_core::{
    ClusterClient, ClusterClientExt, DeleteOptions, ErrorKind, Identity, ListOptions, ResourceType,
    WriteOptions,
    conformance::{eventually, fresh_namespace, object},
    testing::{mk_deployment, with_requests},
};
use serde_json::json;

fn deployments() -> ResourceType {
    ResourceType::new("apps", "v1", "Deployment", "deployments", true)
}

fn deployment(name: &str, replicas: i32, cpu: &str) -> kubemate_core::DynamicObject {
    with_requests(
        mk_deployment(name, replicas, "registry.example.com/app:1"),
        cpu,
        "64Mi",
    )
}

/// Running pods of a label selector that are not being deleted.
async fn running(client: &dyn ClusterClient, ns: &str, selector: &str) -> Vec<Pod> {
    client
        .list_all_as::<Pod>(ns, &ListOptions::labels(selector))
        .await
        .expect("list pods")
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
        .collect()
}

async fn ready_nodes(client: &dyn ClusterClient) -> BTreeSet<String> {
    client
        .list_all_as::<Node>("", &ListOptions::default())
        .await
        .expect("list nodes")
        .into_iter()
        .filter(|n| {
            n.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        })
        .filter_map(|n| n.metadata.name)
        .collect()
}

#[tokio::test]
async fn a_deployment_gets_running_pods_on_the_kwok_nodes_and_follows_scaling() {
    let client = kubemate_tests::cluster().await;
    let client = &*client;
    let nodes = ready_nodes(client).await;
    assert_eq!(nodes.len(), 3, "three fake nodes are Ready: {nodes:?}");
    let ns = fresh_namespace(client, "deploy").await;
    client
        .create(
            &deployments(),
            &ns,
            &deployment("web", 3, "100m"),
            &WriteOptions::default(),
        )
        .await
        .expect("create deployment");
    let pods = eventually("3 running pods", || async {
        let pods = running(client, &ns, "app=web").await;
        (pods.len() == 3).then_some(pods)
    })
    .await;
    for pod in &pods {
        let node = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default();
        assert!(
            nodes.contains(&node),
            "pod scheduled on a kwok node, got {node:?}"
        );
    }

    client
        .set_scale(&deployments(), &ns, "web", 5)
        .await
        .expect("scale up");
    eventually("5 running pods", || async {
        (running(client, &ns, "app=web").await.len() == 5).then_some(())
    })
    .await;
    client
        .set_scale(&deployments(), &ns, "web", 1)
        .await
        .expect("scale down");
    eventually("1 running pod", || async {
        (running(client, &ns, "app=web").await.len() == 1).then_some(())
    })
    .await;
    client
        .delete(
            &ResourceType::of::<k8s_openapi::api::core::v1::Namespace>(),
            "",
            &ns,
            &DeleteOptions::default(),
        )
        .await
        .expect("cleanup");
}

#[tokio::test]
async fn a_pod_larger_than_any_node_is_not_scheduled_and_gets_a_warning() {
    let client = kubemate_tests::cluster().await;
    let client = &*client;
    let ns = fresh_namespace(client, "sched").await;
    let pod = object(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "huge"},
        "spec": {"containers": [{"name": "main", "image": "registry.example.com/app:1",
            "resources": {"requests": {"cpu": "1000"}}}]}
    }));
    client
        .create(
            &ResourceType::of::<Pod>(),
            &ns,
            &pod,
            &WriteOptions::default(),
        )
        .await
        .expect("create pod");
    let event = eventually("a FailedScheduling warning", || async {
        client
            .list_all_as::<Event>(
                &ns,
                &ListOptions::fields(
                    "involvedObject.name=huge,reason=FailedScheduling,type=Warning",
                ),
            )
            .await
            .ok()?
            .into_iter()
            .next()
    })
    .await;
    assert!(
        event
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("Insufficient cpu"),
        "{:?}",
        event.message
    );
    let pod: Pod = client.get_as(&ns, "huge").await.expect("get pod");
    assert_eq!(pod.status.and_then(|s| s.phase).as_deref(), Some("Pending"));
    client
        .delete(
            &ResourceType::of::<k8s_openapi::api::core::v1::Namespace>(),
            "",
            &ns,
            &DeleteOptions::default(),
        )
        .await
        .expect("cleanup");
}

#[tokio::test]
async fn deleting_a_namespace_removes_its_objects() {
    let client = kubemate_tests::cluster().await;
    let client = &*client;
    let ns = fresh_namespace(client, "nsdel").await;
    let configmaps = ResourceType::new("", "v1", "ConfigMap", "configmaps", true);
    client
        .create(
            &configmaps,
            &ns,
            &object(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "doomed"}}),
            ),
            &WriteOptions::default(),
        )
        .await
        .expect("create configmap");
    let namespaces = ResourceType::new("", "v1", "Namespace", "namespaces", false);
    client
        .delete(&namespaces, "", &ns, &DeleteOptions::default())
        .await
        .expect("delete namespace");
    eventually("the namespace to be finalized", || async {
        match client.get(&namespaces, "", &ns).await {
            Err(e) if e.is(ErrorKind::NotFound) => Some(()),
            _ => None,
        }
    })
    .await;
    let left = client
        .list(&configmaps, &ns, &ListOptions::default())
        .await
        .expect("list");
    assert!(left.items.is_empty(), "objects left: {:?}", left.items);
}

#[tokio::test]
async fn rbac_is_enforced_for_a_service_account_without_bindings() {
    let admin = kubemate_tests::cluster().await;
    let ns = fresh_namespace(&*admin, "rbac").await;
    let nobody = admin
        .impersonate(&Identity::service_account(&ns, "nobody"))
        .expect("impersonate");
    let err = nobody
        .list(&ResourceType::of::<Pod>(), &ns, &ListOptions::default())
        .await
        .expect_err("no bindings, no access");
    assert_eq!(err.kind(), ErrorKind::Forbidden, "{err}");
    let err = nobody
        .create(
            &ResourceType::new("", "v1", "ConfigMap", "configmaps", true),
            &ns,
            &object(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})),
            &WriteOptions::default(),
        )
        .await
        .expect_err("no bindings, no writes");
    assert_eq!(err.kind(), ErrorKind::Forbidden, "{err}");
    admin
        .list(&ResourceType::of::<Pod>(), &ns, &ListOptions::default())
        .await
        .expect("the admin may list");
    admin
        .delete(
            &ResourceType::of::<k8s_openapi::api::core::v1::Namespace>(),
            "",
            &ns,
            &DeleteOptions::default(),
        )
        .await
        .expect("cleanup");
}
