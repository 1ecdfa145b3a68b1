//! Nodes: capacity, allocatable, what their Pods request and limit, conditions, taints,
//! events, and cluster totals. Kubemate does not add, remove or upgrade nodes.

use std::collections::BTreeMap;

use k8s_openapi::{
    api::core::v1::{Node, Pod},
    apimachinery::pkg::api::resource::Quantity,
};
use serde::Serialize;

use crate::{
    ClusterClient, ClusterClientExt, ListOptions, Result,
    access::{Access, Operation, Target},
    events::{self, EventSummary},
    quantity::{base_or_zero, milli_or_zero},
};

/// Amounts of the resources Kubemate reports, in CPU millicores and bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Amounts {
    /// CPU, millicores.
    pub cpu_milli: i64,
    /// Memory, bytes.
    pub memory_bytes: i64,
    /// Ephemeral storage, bytes.
    pub ephemeral_storage_bytes: i64,
    /// Pods.
    pub pods: i64,
}

impl Amounts {
    fn of(map: Option<&BTreeMap<String, Quantity>>) -> Amounts {
        let get = |k: &str| map.and_then(|m| m.get(k));
        Amounts {
            cpu_milli: milli_or_zero(get("cpu")),
            memory_bytes: base_or_zero(get("memory")),
            ephemeral_storage_bytes: base_or_zero(get("ephemeral-storage")),
            pods: base_or_zero(get("pods")),
        }
    }

    fn add(&mut self, other: &Amounts) {
        self.cpu_milli += other.cpu_milli;
        self.memory_bytes += other.memory_bytes;
        self.ephemeral_storage_bytes += other.ephemeral_storage_bytes;
        self.pods += other.pods;
    }

    fn max(&mut self, other: &Amounts) {
        self.cpu_milli = self.cpu_milli.max(other.cpu_milli);
        self.memory_bytes = self.memory_bytes.max(other.memory_bytes);
        self.ephemeral_storage_bytes = self
            .ephemeral_storage_bytes
            .max(other.ephemeral_storage_bytes);
    }
}

/// A node condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// `Ready`, `MemoryPressure`, ...
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// Machine-readable reason.
    pub reason: Option<String>,
    /// Human-readable message.
    pub message: Option<String>,
}

/// One node, as the nodes page shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSummary {
    /// Node name.
    pub name: String,
    /// True when the Ready condition is True.
    pub ready: bool,
    /// True when cordoned.
    pub unschedulable: bool,
    /// Roles from `node-role.kubernetes.io/*` labels.
    pub roles: Vec<String>,
    /// Kubelet version.
    pub kubelet_version: Option<String>,
    /// InternalIP address.
    pub internal_ip: Option<String>,
    /// Creation time (RFC 3339).
    pub created: Option<String>,
    /// Conditions.
    pub conditions: Vec<Condition>,
    /// Taints as `key=value:Effect`.
    pub taints: Vec<String>,
    /// Capacity.
    pub capacity: Amounts,
    /// Allocatable.
    pub allocatable: Amounts,
    /// Sum of the requests of the Pods on the node (what the scheduler counts).
    pub requested: Amounts,
    /// Sum of the limits of the Pods on the node.
    pub limits: Amounts,
    /// Pods on the node that have not terminated.
    pub pod_count: i64,
}

/// Totals over all nodes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterTotals {
    /// Nodes.
    pub nodes: i64,
    /// Ready nodes.
    pub ready_nodes: i64,
    /// Summed capacity.
    pub capacity: Amounts,
    /// Summed allocatable.
    pub allocatable: Amounts,
    /// Summed requests of scheduled, non-terminated Pods.
    pub requested: Amounts,
    /// Summed limits of scheduled, non-terminated Pods.
    pub limits: Amounts,
    /// Scheduled, non-terminated Pods.
    pub pods: i64,
}

/// A node with its Pods' names and its events.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeDetail {
    /// The summary.
    pub summary: NodeSummary,
    /// `namespace/name` of the Pods on it.
    pub pods: Vec<String>,
    /// Its events, newest first.
    pub events: Vec<EventSummary>,
}

/// What a Pod asks of its node, as the scheduler computes it: the larger of the sum over its
/// containers and the largest init container, plus the Pod overhead.
pub fn pod_demand(pod: &Pod) -> (Amounts, Amounts) {
    let Some(spec) = &pod.spec else {
        return (Amounts::default(), Amounts::default());
    };
    let mut requests = Amounts::default();
    let mut limits = Amounts::default();
    for c in &spec.containers {
        let r = c.resources.as_ref();
        requests.add(&Amounts::of(r.and_then(|r| r.requests.as_ref())));
        limits.add(&Amounts::of(r.and_then(|r| r.limits.as_ref())));
    }
    for c in spec.init_containers.iter().flatten() {
        let r = c.resources.as_ref();
        requests.max(&Amounts::of(r.and_then(|r| r.requests.as_ref())));
        limits.max(&Amounts::of(r.and_then(|r| r.limits.as_ref())));
    }
    let overhead = Amounts::of(spec.overhead.as_ref());
    requests.add(&overhead);
    limits.add(&overhead);
    requests.pods = 0;
    limits.pods = 0;
    (requests, limits)
}

fn terminated(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

fn summarize(node: &Node, pods: &[&Pod]) -> NodeSummary {
    let status = node.status.as_ref();
    let conditions: Vec<Condition> = status
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .map(|c| Condition {
            type_: c.type_.clone(),
            status: c.status.clone(),
            reason: c.reason.clone(),
            message: c.message.clone(),
        })
        .collect();
    let mut requested = Amounts::default();
    let mut limits = Amounts::default();
    for pod in pods {
        let (r, l) = pod_demand(pod);
        requested.add(&r);
        limits.add(&l);
    }
    let pod_count = i64::try_from(pods.len()).unwrap_or(i64::MAX);
    requested.pods = pod_count;
    NodeSummary {
        name: node.metadata.name.clone().unwrap_or_default(),
        ready: conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True"),
        unschedulable: node
            .spec
            .as_ref()
            .and_then(|s| s.unschedulable)
            .unwrap_or(false),
        roles: node
            .metadata
            .labels
            .iter()
            .flatten()
            .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/"))
            .map(str::to_owned)
            .collect(),
        kubelet_version: status
            .and_then(|s| s.node_info.as_ref())
            .map(|i| i.kubelet_version.clone()),
        internal_ip: status
            .and_then(|s| s.addresses.as_ref())
            .and_then(|a| a.iter().find(|a| a.type_ == "InternalIP"))
            .map(|a| a.address.clone()),
        created: node
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.to_string()),
        conditions,
        taints: node
            .spec
            .as_ref()
            .and_then(|s| s.taints.as_ref())
            .into_iter()
            .flatten()
            .map(|t| match &t.value {
                Some(v) if !v.is_empty() => format!("{}={}:{}", t.key, v, t.effect),
                _ => format!("{}:{}", t.key, t.effect),
            })
            .collect(),
        capacity: Amounts::of(status.and_then(|s| s.capacity.as_ref())),
        allocatable: Amounts::of(status.and_then(|s| s.allocatable.as_ref())),
        requested,
        limits,
        pod_count,
    }
}

fn totals(nodes: &[NodeSummary]) -> ClusterTotals {
    let mut t = ClusterTotals::default();
    for n in nodes {
        t.nodes += 1;
        t.ready_nodes += i64::from(n.ready);
        t.capacity.add(&n.capacity);
        t.allocatable.add(&n.allocatable);
        t.requested.add(&n.requested);
        t.limits.add(&n.limits);
        t.pods += n.pod_count;
    }
    t
}

/// Every node with what its Pods request, and the cluster totals: two requests (nodes, and
/// the Pods of all namespaces).
pub async fn list(client: &dyn ClusterClient) -> Result<(Vec<NodeSummary>, ClusterTotals)> {
    let nodes: Vec<Node> = client.list_all_as("", &ListOptions::default()).await?;
    let pods: Vec<Pod> = client
        .list_all_as(
            "",
            &ListOptions::fields("status.phase!=Succeeded,status.phase!=Failed"),
        )
        .await?;
    let mut by_node: BTreeMap<&str, Vec<&Pod>> = BTreeMap::new();
    for pod in pods.iter().filter(|p| !terminated(p)) {
        if let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) {
            by_node.entry(node).or_default().push(pod);
        }
    }
    let summaries: Vec<NodeSummary> = nodes
        .iter()
        .map(|n| {
            let name = n.metadata.name.as_deref().unwrap_or_default();
            summarize(n, by_node.get(name).map(Vec::as_slice).unwrap_or(&[]))
        })
        .collect();
    let totals = totals(&summaries);
    Ok((summaries, totals))
}

/// One node with its Pods and events.
pub async fn get(client: &dyn ClusterClient, name: &str) -> Result<NodeDetail> {
    let node: Node = client.get_as("", name).await?;
    let pods: Vec<Pod> = client
        .list_all_as(
            "",
            &ListOptions::fields(format!(
                "spec.nodeName={name},status.phase!=Succeeded,status.phase!=Failed"
            )),
        )
        .await?;
    let live: Vec<&Pod> = pods.iter().filter(|p| !terminated(p)).collect();
    let events = events::for_object(client, "", "Node", name).await?;
    Ok(NodeDetail {
        summary: summarize(&node, &live),
        pods: live
            .iter()
            .map(|p| {
                format!(
                    "{}/{}",
                    p.metadata.namespace.as_deref().unwrap_or_default(),
                    p.metadata.name.as_deref().unwrap_or_default()
                )
            })
            .collect(),
        events,
    })
}

/// Every node with what its Pods request, and the totals ([`list`]).
#[derive(Debug, Clone, Default)]
pub struct ListNodes;

fn node_type() -> crate::ResourceType {
    crate::ResourceType::new("", "v1", "Node", "nodes", false)
}

impl Operation for ListNodes {
    type Output = (Vec<NodeSummary>, ClusterTotals);

    fn target(&self) -> Target {
        Target::new("list", "nodes")
    }

    fn access(&self) -> Vec<Access> {
        vec![
            Access::core("list", "nodes", ""),
            Access::core("list", "pods", ""),
        ]
    }

    fn mutates(&self) -> bool {
        false
    }

    async fn run(&self, client: &dyn ClusterClient) -> Result<Self::Output> {
        list(client).await
    }
}

/// One node with its Pods and events ([`get`]).
#[derive(Debug, Clone)]
pub struct GetNode {
    /// The node.
    pub name: String,
}

impl Operation for GetNode {
    type Output = NodeDetail;

    fn target(&self) -> Target {
        Target::of("get", &node_type()).name(&self.name)
    }

    fn access(&self) -> Vec<Access> {
        vec![
            Access::new("get", &node_type(), "").named(&self.name),
            Access::core("list", "pods", ""),
            Access::core("list", "events", ""),
        ]
    }

    fn mutates(&self) -> bool {
        false
    }

    async fn run(&self, client: &dyn ClusterClient) -> Result<NodeDetail> {
        get(client, &self.name).await
    }
}

#[cfg(all(test, feature = "test-util"))]
mod tests {
    use super::*;
    use crate::{ErrorKind, FakeCluster};

    const SEED: &str = include_str!("nodes/fixtures/cluster.yaml");

    #[tokio::test]
    async fn nodes_report_what_their_pods_request() {
        let fake = FakeCluster::from_yaml(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: default}}\n---\n{SEED}"
        ))
        .expect("seed");
        let (nodes, totals) = list(&fake).await.expect("nodes");
        let n1 = &nodes[0];
        assert_eq!(n1.name, "n1");
        assert!(n1.ready);
        assert_eq!(n1.roles, ["worker"]);
        assert_eq!(n1.taints, ["dedicated=db:NoSchedule"]);
        assert_eq!(n1.capacity.cpu_milli, 8000);
        assert_eq!(n1.allocatable.cpu_milli, 7800);
        assert_eq!(n1.allocatable.memory_bytes, 31 * 1024 * 1024 * 1024);
        // Pod a: max(init 1000m, 250m+250m) = 1000m; pod b: 100m + 100m overhead; the
        // succeeded pod counts for nothing.
        assert_eq!(n1.requested.cpu_milli, 1200);
        assert_eq!(n1.requested.memory_bytes, (1024 + 128) * 1024 * 1024);
        assert_eq!(
            n1.limits.cpu_milli,
            500 + 100,
            "a container without a limit adds none"
        );
        assert_eq!(n1.pod_count, 2);
        assert!(!nodes[1].ready);
        assert_eq!(totals.nodes, 2);
        assert_eq!(totals.ready_nodes, 1);
        assert_eq!(totals.allocatable.cpu_milli, 11_800);
        assert_eq!(totals.pods, 2);

        let detail = get(&fake, "n1").await.expect("detail");
        assert_eq!(detail.pods, ["shop/a", "shop/b"]);
        assert_eq!(detail.events[0].reason, "EvictionThresholdMet");
        let err = get(&fake, "n9").await.expect_err("missing");
        assert_eq!(err.kind(), ErrorKind::NotFound);
    }
}
