//! `kubemate nodes`: every node with its capacity and what its Pods request.

use kubemate_core::nodes::{self, ClusterTotals, NodeSummary};
use serde::Serialize;

use super::Env;
use crate::{
    Result,
    cli::NodesArgs,
    output::{Out, Table, age, bytes, cpu, emit, or_none, percent},
};

/// What `nodes -o yaml|json` shows.
#[derive(Debug, Serialize)]
struct Nodes<'a> {
    nodes: &'a [NodeSummary],
    totals: &'a ClusterTotals,
}

fn status(n: &NodeSummary) -> String {
    let mut s = if n.ready { "Ready" } else { "NotReady" }.to_owned();
    if n.unschedulable {
        s.push_str(",SchedulingDisabled");
    }
    s
}

/// Runs `kubemate nodes`.
pub async fn run(env: &Env, out: Out<'_>, args: &NodesArgs) -> Result<()> {
    let (list, totals) = env.audit.run(env.cluster(), &nodes::ListNodes).await?;
    let now = (env.now)();
    let value = Nodes {
        nodes: &list,
        totals: &totals,
    };
    emit(out, args.output, &value, || {
        let mut t = Table::new([
            "NAME",
            "STATUS",
            "ROLES",
            "CPU REQUESTS",
            "MEMORY REQUESTS",
            "PODS",
            "AGE",
            "VERSION",
        ]);
        for n in &list {
            let (req, alloc) = (&n.requested, &n.allocatable);
            t.row([
                n.name.clone(),
                status(n),
                or_none(&n.roles),
                format!(
                    "{}/{} ({}%)",
                    cpu(req.cpu_milli),
                    cpu(alloc.cpu_milli),
                    percent(req.cpu_milli, alloc.cpu_milli)
                ),
                format!(
                    "{}/{} ({}%)",
                    bytes(req.memory_bytes),
                    bytes(alloc.memory_bytes),
                    percent(req.memory_bytes, alloc.memory_bytes)
                ),
                format!("{}/{}", n.pod_count, alloc.pods),
                age(n.created.as_deref(), now),
                n.kubelet_version.clone().unwrap_or_default(),
            ]);
        }
        t
    })
}
