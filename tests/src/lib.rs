//! The harness of the workspace integration tests.
//!
//! The tests run against the real control plane that `tests/cluster/cluster.sh up` starts
//! (kube-apiserver, kube-controller-manager, kube-scheduler, etcd and kwok on 127.0.0.1). They
//! find it through the kubeconfig named by `KUBEMATE_TEST_KUBECONFIG`; without it they fail
//! loudly rather than skip, so a missing cluster can never pass as green.

use std::{path::PathBuf, sync::Arc};

use kubemate_core::{ClientConfig, ClusterClient, KubeClusterClient};

/// The environment variable naming the test cluster's admin kubeconfig.
pub const KUBECONFIG_ENV: &str = "KUBEMATE_TEST_KUBECONFIG";

/// The admin kubeconfig of the test cluster.
pub fn kubeconfig() -> PathBuf {
    match std::env::var_os(KUBECONFIG_ENV) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => panic!(
            "{KUBECONFIG_ENV} is not set: the integration tests need the real test control plane. \
             Run `tests/run.sh` (it starts the cluster, runs every test and stops it), or start it \
             with `tests/cluster/cluster.sh up` and export \
             {KUBECONFIG_ENV}=target/test-cluster/kubeconfig."
        ),
    }
}

/// A client with the cluster's admin identity.
pub async fn cluster() -> Arc<dyn ClusterClient> {
    let config = ClientConfig {
        kubeconfig: Some(kubeconfig()),
        context: None,
    };
    let client = KubeClusterClient::connect(&config)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test cluster: {e}"));
    Arc::new(client)
}
