//! Building the state from the configuration (the real cluster, or the demo) and serving it
//! with graceful shutdown.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use kubemate_audit::FileSink;
use kubemate_core::{
    ClientConfig, ClusterClient, ErrorKind, FakeCluster, KubeClusterClient, wizard::Registries,
};
use kubemate_rbac::{Password, Rbac};
use tokio::net::TcpListener;

use crate::{AppState, Settings, config::Config, router};

/// The registries the demo dataset's images come from.
pub const DEMO_REGISTRIES: &[&str] = &[
    "registry.example.com",
    "docker.io",
    "registry.k8s.io",
    "cr.fluentbit.io",
];

/// Why the server runs on the in-memory demo cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Demo {
    /// `--demo` (or the file's `demo: true`) asked for it.
    Asked,
    /// No cluster is configured at all, and the server listens on a loopback address only.
    NoCluster,
}

impl Demo {
    /// The notice the server gives at start, on stderr and in its log: nobody should take
    /// the demo for their cluster.
    pub fn notice(self) -> &'static str {
        match self {
            Demo::Asked => {
                "DEMO MODE (--demo): Kubemate serves an in-memory demo cluster, not a real one; \
                 its changes are lost when the server stops"
            }
            Demo::NoCluster => {
                "DEMO MODE: no cluster configuration was found (no --kubeconfig, $KUBECONFIG, \
                 ~/.kube/config or in-cluster service account), so Kubemate serves an in-memory \
                 demo cluster, not a real one, on this loopback address only; its changes are \
                 lost when the server stops"
            }
        }
    }
}

/// A built server, ready to serve.
pub struct Built {
    /// The state.
    pub state: AppState,
    /// Set when running on the in-memory demo cluster, with why.
    pub demo: Option<Demo>,
    /// The one-time password of the `admin` user, when this start created it.
    pub admin_password: Option<Password>,
}

/// Installs Kubemate's CRDs into the in-memory cluster, as on a real one.
pub async fn install_crds_in_fake(fake: &FakeCluster) -> Result<(), kubemate_rbac::Error> {
    kubemate_rbac::install_crds(fake, Duration::from_secs(5)).await
}

enum Cluster {
    Demo(FakeCluster, Demo),
    Real(Box<KubeClusterClient>),
}

/// True when the environment names a cluster in any of the places the kube client looks
/// (`$KUBECONFIG`, `~/.kube/config`, a Pod's service account): then a failure to connect is
/// an error to report, never a reason to fall back on the demo.
fn cluster_in_environment() -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    set("KUBECONFIG")
        || set("KUBERNETES_SERVICE_HOST")
        || std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .is_some_and(|h| std::path::Path::new(&h).join(".kube/config").exists())
}

/// Whether the demo may stand in for a cluster that is not configured: only when nobody but
/// this machine can reach the server. On any other address an in-memory cluster with a
/// well-known demo dataset would pass for the real thing, so the server refuses to start.
pub fn demo_without_cluster(listen: SocketAddr) -> anyhow::Result<Demo> {
    if listen.ip().is_loopback() {
        Ok(Demo::NoCluster)
    } else {
        anyhow::bail!(
            "no cluster configuration was found (no --kubeconfig, $KUBECONFIG, ~/.kube/config or \
             in-cluster service account) and {listen} is not a loopback address: refusing to serve \
             the in-memory demo cluster there. Pass --kubeconfig PATH to manage a cluster, \
             --demo to serve the demo cluster on purpose, or listen on 127.0.0.1"
        )
    }
}

async fn connect(config: &Config) -> anyhow::Result<Cluster> {
    let demo = |why: Demo| -> anyhow::Result<Cluster> {
        Ok(Cluster::Demo(
            FakeCluster::demo().context("load the demo cluster")?,
            why,
        ))
    };
    if config.demo {
        return demo(Demo::Asked);
    }
    let client_config = ClientConfig {
        kubeconfig: config.kubeconfig.clone(),
        context: config.context.clone(),
    };
    match KubeClusterClient::connect(&client_config).await {
        Ok(client) => Ok(Cluster::Real(Box::new(client))),
        Err(e)
            if e.is(ErrorKind::Config)
                && config.kubeconfig.is_none()
                && config.context.is_none()
                && !cluster_in_environment() =>
        {
            tracing::debug!(error = %e, "no cluster configuration");
            demo(demo_without_cluster(config.listen)?)
        }
        Err(e) => Err(e).context("connect to the cluster"),
    }
}

/// Connects (or loads the demo: with `--demo`, or with no cluster configured on a loopback
/// address; with no cluster on any other address it refuses, before anything listens),
/// installs the CRDs, bootstraps Kubemate (namespace, token key, `admin`) and opens the audit
/// log.
pub async fn build(config: &Config) -> anyhow::Result<Built> {
    match connect(config).await? {
        Cluster::Demo(fake, why) => {
            tracing::warn!(listen = %config.listen, "{}", why.notice());
            install_crds_in_fake(&fake).await?;
            finish(config, Arc::new(fake), Some(why)).await
        }
        Cluster::Real(client) => {
            kubemate_rbac::install_crds(&*client, Duration::from_secs(60))
                .await
                .context("install Kubemate's CRDs")?;
            finish(config, Arc::new(*client), None).await
        }
    }
}

async fn finish(
    config: &Config,
    cluster: Arc<dyn ClusterClient>,
    demo: Option<Demo>,
) -> anyhow::Result<Built> {
    let rbac = Rbac::new(
        Arc::clone(&cluster),
        kubemate_rbac::Config {
            namespace: config.namespace.clone(),
            token_ttl: config.token_ttl,
            ..Default::default()
        },
    );
    let boot = rbac.bootstrap().await.context("bootstrap Kubemate")?;
    let audit = FileSink::open(&config.audit_log, true)
        .with_context(|| format!("open the audit log {}", config.audit_log.display()))?;
    if let Some(torn) = audit.recovered() {
        // The recovery is in the log too, as an `audit-recover` record.
        tracing::warn!(audit_log = %config.audit_log.display(), line = torn.line,
            torn_bytes = torn.bytes, "the audit log ended with a torn line (an interrupted \
            write): it was kept, and the log continues after it");
    }
    if let Some(mode) = audit.exposed_mode() {
        tracing::warn!(audit_log = %config.audit_log.display(), mode = %format!("{mode:o}"),
            "others may read the audit log; chmod 600 it");
    }
    let registries = match &config.image_registries {
        Some(list) => Registries::new(list.iter().cloned()),
        None if demo.is_some() => Registries::new(DEMO_REGISTRIES.iter().copied()),
        None => Registries::default(),
    };
    let settings = Settings {
        max_body_bytes: config.max_body_bytes,
        request_timeout: config.request_timeout,
        registries,
        policy_ttl: config.policy_ttl,
        stream_max_duration: config.stream_max_duration,
        max_streams_per_user: config.max_streams_per_user,
    };
    Ok(Built {
        state: AppState::new(cluster, Arc::new(rbac), Arc::new(audit), settings),
        demo,
        admin_password: boot.admin_password,
    })
}

/// Serves `state` on `listener` until `shutdown` completes, then stops taking connections,
/// ends log streams, and waits up to `grace` for requests in flight.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> anyhow::Result<()> {
    let stop = state.shutdown.clone();
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let signalled = stop.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down");
        signalled.cancel();
    });
    let mut serving = tokio::spawn(async move { server.await });
    tokio::select! {
        joined = &mut serving => return joined.context("the server task failed")?.context("serve"),
        () = stop.cancelled() => {}
    }
    match tokio::time::timeout(grace, serving).await {
        Ok(joined) => joined.context("the server task failed")?.context("serve"),
        Err(_) => {
            tracing::warn!("requests still in flight after the shutdown grace period");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_stands_in_for_a_missing_cluster_on_loopback_only() {
        for addr in ["127.0.0.1:8080", "127.3.4.5:1", "[::1]:8080"] {
            let listen: SocketAddr = addr.parse().expect("address");
            assert_eq!(
                demo_without_cluster(listen).expect(addr),
                Demo::NoCluster,
                "{addr}"
            );
        }
        for addr in ["0.0.0.0:8080", "[::]:8080", "10.1.2.3:80", "192.0.2.1:0"] {
            let listen: SocketAddr = addr.parse().expect("address");
            let refusal = demo_without_cluster(listen).expect_err(addr).to_string();
            assert!(
                refusal.contains(&format!("{listen} is not a loopback address"))
                    && refusal.contains("--kubeconfig")
                    && refusal.contains("--demo"),
                "{refusal}"
            );
        }
    }

    #[test]
    fn the_demo_notices_say_it_is_not_a_real_cluster() {
        for demo in [Demo::Asked, Demo::NoCluster] {
            assert!(demo.notice().starts_with("DEMO MODE"), "{demo:?}");
            assert!(demo.notice().contains("not a real one"), "{demo:?}");
        }
    }
}
