//! The CustomResourceDefinitions of `User` and `Role`: their YAML, and installing them.

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;
use kubemate_core::{ApplyOptions, ClusterClient, ClusterClientExt};

use crate::{Error, Result, Role, User};

/// The CRDs of Kubemate's custom resources.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![User::crd(), Role::crd()]
}

/// The CRDs as multi-document YAML, for `kubectl apply -f`.
pub fn crd_yaml() -> Result<String> {
    let mut out = String::new();
    for crd in crds() {
        let yaml = serde_yaml::to_string(&crd)
            .map_err(|e| Error::Invalid(format!("cannot render the CRDs as YAML: {e}")))?;
        out.push_str("---\n");
        out.push_str(&yaml);
    }
    Ok(out)
}

fn established(crd: &CustomResourceDefinition) -> bool {
    crd.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| {
            c.iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
        })
}

/// Installs (or updates) the CRDs with server-side apply and waits until the apiserver serves
/// them (condition `Established`), for at most `timeout`.
pub async fn install_crds(client: &dyn ClusterClient, timeout: Duration) -> Result<()> {
    let opts = ApplyOptions {
        dry_run: false,
        force: true,
    };
    let crds = crds();
    for crd in &crds {
        client
            .apply_as("", crd, &opts)
            .await
            .map_err(Error::cluster("apply a Kubemate CRD"))?;
    }
    let deadline = tokio::time::Instant::now() + timeout;
    for crd in &crds {
        let name = crd.metadata.name.clone().unwrap_or_default();
        loop {
            let current: CustomResourceDefinition = client
                .get_as("", &name)
                .await
                .map_err(Error::cluster("read a Kubemate CRD"))?;
            if established(&current) {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::Timeout(format!("CRD {name} to be established")));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}
