//! kubemate-core's own operations on the real control plane: node accounting, generic
//! updates, events, summaries and custom resource discovery.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use kubemate_core::{
    ClusterClient, ClusterClientExt, DeleteOptions, ErrorKind, ListOptions, ResourceType,
    WriteOptions, catalog,
    conformance::{eventually, fresh_namespace, object},
    events, nodes, resources,
    testing::{mk_deployment, with_requests},
};
use serde_json::json;

async fn cleanup(client: &dyn ClusterClient, ns: &str) {
    let _ = client
        .delete(
            &catalog::find("ns").expect("catalogued").resource_type(),
            "",
            ns,
            &DeleteOptions::default(),
        )
        .await;
}

/// Requests per node computed independently from the Pod list.
async fn requests_by_node(client: &dyn ClusterClient) -> BTreeMap<String, (i64, i64, i64)> {
    let pods: Vec<Pod> = client
        .list_all_as("", &ListOptions::default())
        .await
        .expect("pods");
    let mut out: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    for pod in pods {
        let phase = pod.status.as_ref().and_then(|s| s.phase.clone());
        if matches!(phase.as_deref(), Some("Succeeded" | "Failed")) {
            continue;
        }
        let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.clone()) else {
            continue;
        };
        let (requests, _) = nodes::pod_demand(&pod);
        let entry = out.entry(node).or_default();
        entry.0 += requests.cpu_milli;
        entry.1 += requests.memory_bytes;
        entry.2 += 1;
    }
    out
}

#[tokio::test]
async fn node_allocation_equals_the_sum_of_pod_requests() {
    let client = kubemate_tests::cluster().await;
    let client = &*client;
    let ns = fresh_namespace(client, "alloc").await;
    let deploy = with_requests(
        mk_deployment("alloc", 3, "registry.example.com/app:1"),
        "150m",
        "96Mi",
    );
    client
        .create(
            &catalog::find("deploy").expect("catalogued").resource_type(),
            &ns,
            &deploy,
            &WriteOptions::default(),
        )
        .await
        .expect("deployment");
    eventually("3 scheduled pods", || async {
        let pods: Vec<Pod> = client
            .list_all_as(&ns, &ListOptions::labels("app=alloc"))
            .await
            .ok()?;
        (pods
            .iter()
            .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some())
            .count()
            == 3)
            .then_some(())
    })
    .await;
    // Other tests create Pods concurrently: compare two readings taken back to back until
    // they agree with each other.
    let (summaries, totals) = eventually("a stable reading", || async {
        let before = requests_by_node(client).await;
        let (summaries, totals) = nodes::list(client).await.ok()?;
        let after = requests_by_node(client).await;
        (before == after)
            .then_some((summaries, totals))
            .filter(|(s, _)| {
                s.iter().all(|n| {
                    let (cpu, mem, count) = after.get(&n.name).copied().unwrap_or_default();
                    n.requested.cpu_milli == cpu
                        && n.requested.memory_bytes == mem
                        && n.pod_count == count
                })
            })
    })
    .await;
    assert_eq!(totals.nodes, 3);
    assert_eq!(totals.ready_nodes, 3);
    assert!(
        totals.requested.cpu_milli >= 450,
        "our three pods are counted"
    );
    for node in &summaries {
        assert!(node.allocatable.cpu_milli > 0 && node.capacity.memory_bytes > 0);
        assert!(node.ready);
    }
    let detail = nodes::get(client, &summaries[0].name)
        .await
        .expect("node detail");
    assert_eq!(detail.summary.name, summaries[0].name);
    cleanup(client, &ns).await;
}

#[tokio::test]
async fn a_stale_update_is_a_conflict_and_summaries_read_the_real_status() {
    let client = kubemate_tests::cluster().await;
    let client = &*client;
    let ns = fresh_namespace(client, "upd").await;
    let cm = catalog::find("cm").expect("catalogued").resource_type();
    let created = resources::create(
        client,
        &cm,
        &ns,
        &object(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cfg"}, "data": {"k": "1"}})),
        &WriteOptions::default(),
    )
    .await
    .expect("create");
    let mut first = created.clone();
    first.data["data"] = json!({"k": "2"});
    resources::update(client, &cm, &ns, &first, &WriteOptions::default())
        .await
        .expect("update");
    let mut stale = created.clone();
    stale.data["data"] = json!({"k": "3"});
    let err = resources::update(client, &cm, &ns, &stale, &WriteOptions::default())
        .await
        .expect_err("stale");
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");

    let pods = ResourceType::of::<Pod>();
    client
        .create(
            &pods,
            &ns,
            &object(
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                "spec": {"containers": [{"name": "c", "image": "registry.example.com/app:1"}]}}),
            ),
            &WriteOptions::default(),
        )
        .await
        .expect("pod");
    let row = eventually("the pod to run", || async {
        let page = resources::list_summaries(client, &pods, &ns, &ListOptions::default())
            .await
            .ok()?;
        page.items
            .into_iter()
            .find(|s| s.status == "Running" && s.ready.as_deref() == Some("1/1"))
    })
    .await;
    assert_eq!(row.name, "p");
    cleanup(client, &ns).await;
}

#[tokio::test]
async fn warning_events_are_found_by_namespace_object_and_cluster() {
    let client = kubemate_tests::cluster().await;
    let client = &*client;
    let ns = fresh_namespace(client, "events").await;
    client
        .create(
            &ResourceType::of::<Pod>(),
            &ns,
            &object(
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "toobig"},
                "spec": {"containers": [{"name": "c", "image": "registry.example.com/app:1",
                    "resources": {"requests": {"memory": "10Ti"}}}]}}),
            ),
            &WriteOptions::default(),
        )
        .await
        .expect("pod");
    let found = eventually("a FailedScheduling warning", || async {
        let ev = events::for_object(client, &ns, "Pod", "toobig")
            .await
            .ok()?;
        ev.into_iter().find(|e| e.reason == "FailedScheduling")
    })
    .await;
    assert!(found.is_warning());
    assert!(
        found.message.contains("Insufficient memory"),
        "{}",
        found.message
    );
    let cluster_wide = events::warnings(client, "").await.expect("warnings");
    assert!(
        cluster_wide
            .iter()
            .any(|e| e.namespace == ns && e.reason == "FailedScheduling")
    );
    let in_ns = events::in_namespace(client, &ns)
        .await
        .expect("namespace events");
    assert!(in_ns.iter().all(|e| e.namespace == ns));
    cleanup(client, &ns).await;
}

#[tokio::test]
async fn custom_resources_of_installed_crds_are_discovered_and_resolvable() {
    let client = kubemate_tests::cluster().await;
    let client = &*client;
    let custom = catalog::custom_resources(client).await.expect("custom");
    assert!(
        custom
            .iter()
            .any(|d| d.resource.qualified_plural() == "httproutes.gateway.networking.k8s.io"),
        "the Gateway API CRDs installed with the cluster are custom resources"
    );
    assert!(custom.iter().all(|d| d.resource.group != "apps"));
    let rt = catalog::resolve(client, "httproutes")
        .await
        .expect("resolve");
    assert_eq!(rt.group, "gateway.networking.k8s.io");
    let err = catalog::resolve(client, "nosuchthings")
        .await
        .expect_err("unknown");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}
