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

/// A built server, ready to serve.
pub struct Built {
    /// The state.
    pub state: AppState,
    /// True when running on the in-memory demo cluster.
    pub demo: bool,
    /// The one-time password of the `admin` user, when this start created it.
    pub admin_password: Option<Password>,
}

/// Installs Kubemate's CRDs into the in-memory cluster, as on a real one.
pub async fn install_crds_in_fake(fake: &FakeCluster) -> Result<(), kubemate_rbac::Error> {
    kubemate_rbac::install_crds(fake, Duration::from_secs(5)).await
}

enum Cluster {
    Demo(FakeCluster),
    Real(Box<KubeClusterClient>),
}

async fn connect(config: &Config) -> anyhow::Result<Cluster> {
    let demo = || -> anyhow::Result<Cluster> {
        Ok(Cluster::Demo(
            FakeCluster::demo().context("load the demo cluster")?,
        ))
    };
    if config.demo {
        return demo();
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
                && config.context.is_none() =>
        {
            tracing::warn!(error = %e, "no kubeconfig found: running on the in-memory demo cluster");
            demo()
        }
        Err(e) => Err(e).context("connect to the cluster"),
    }
}

/// Connects (or loads the demo), installs the CRDs, bootstraps Kubemate (namespace, token key,
/// `admin`) and opens the audit log.
pub async fn build(config: &Config) -> anyhow::Result<Built> {
    match connect(config).await? {
        Cluster::Demo(fake) => {
            install_crds_in_fake(&fake).await?;
            finish(config, Arc::new(fake), true).await
        }
        Cluster::Real(client) => {
            kubemate_rbac::install_crds(&*client, Duration::from_secs(60))
                .await
                .context("install Kubemate's CRDs")?;
            finish(config, Arc::new(*client), false).await
        }
    }
}

async fn finish(
    config: &Config,
    cluster: Arc<dyn ClusterClient>,
    demo: bool,
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
    let registries = match &config.image_registries {
        Some(list) => Registries::new(list.iter().cloned()),
        None if demo => Registries::new(DEMO_REGISTRIES.iter().copied()),
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
