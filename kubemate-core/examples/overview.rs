//! A cluster overview on the command line: nodes, namespaces, workloads and warnings.
//!
//! With no argument it runs on the built-in demo cluster; with `--kubeconfig PATH [--context
//! NAME]` (or `--cluster` to infer the configuration) it reads a real cluster.

use std::{path::PathBuf, sync::Arc};

use kubemate_core::{
    ClientConfig, ClusterClient, FakeCluster, KubeClusterClient, ListOptions, Result, catalog,
    events, nodes, resources,
};

fn gib(bytes: i64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0 * 1024.0)
}

async fn connect() -> Result<(Arc<dyn ClusterClient>, String)> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let kubeconfig = value("--kubeconfig").map(PathBuf::from);
    let context = value("--context");
    if kubeconfig.is_none() && context.is_none() && !args.iter().any(|a| a == "--cluster") {
        return Ok((
            Arc::new(FakeCluster::demo()?),
            "the demo cluster".to_owned(),
        ));
    }
    let config = ClientConfig {
        kubeconfig,
        context,
    };
    Ok((
        Arc::new(KubeClusterClient::connect(&config).await?),
        "your cluster".to_owned(),
    ))
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<()> {
    let (client, what) = connect().await?;
    let client = &*client;
    println!("Kubemate overview of {what}\n");

    let (nodes, totals) = nodes::list(client).await?;
    println!(
        "{:<16} {:<9} {:>14} {:>18} {:>5}",
        "NODE", "STATUS", "CPU req/alloc", "MEMORY req/alloc", "PODS"
    );
    for n in &nodes {
        println!(
            "{:<16} {:<9} {:>6}m/{:>6}m {:>7.1}/{:>6.1}Gi {:>5}",
            n.name,
            if n.ready { "Ready" } else { "NotReady" },
            n.requested.cpu_milli,
            n.allocatable.cpu_milli,
            gib(n.requested.memory_bytes),
            gib(n.allocatable.memory_bytes),
            n.pod_count
        );
    }
    println!(
        "cluster: {}/{} nodes ready, {} pods, CPU {}m of {}m requested\n",
        totals.ready_nodes,
        totals.nodes,
        totals.pods,
        totals.requested.cpu_milli,
        totals.allocatable.cpu_milli
    );

    for plural in ["deployments", "statefulsets", "daemonsets"] {
        let rt = catalog::by_plural(plural)
            .map(catalog::Kind::resource_type)
            .ok_or_else(|| kubemate_core::Error::new(kubemate_core::ErrorKind::Internal, plural))?;
        let page = resources::list_summaries(client, &rt, "", &ListOptions::default()).await?;
        for row in page.items {
            println!(
                "{:<12} {:<14} {:<24} {:<12} {}",
                row.kind,
                row.namespace.unwrap_or_default(),
                row.name,
                row.status,
                row.ready.unwrap_or_default()
            );
        }
    }

    println!("\nWARNINGS");
    for e in events::warnings(client, "").await?.iter().take(10) {
        println!(
            "{:<14} {:<22} {}/{} x{}: {}",
            e.namespace, e.reason, e.involved.kind, e.involved.name, e.count, e.message
        );
    }
    Ok(())
}
