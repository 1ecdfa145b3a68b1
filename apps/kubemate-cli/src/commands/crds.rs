//! `kubemate crds`: the CRDs of Kubemate's users and roles.

use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kubemate_core::{
    ClusterClientExt, ObjectMeta, WriteOptions,
    client::to_dynamic,
    resources::{Create, namespace_type},
};
use kubemate_rbac::ops::InstallCrds;

use super::Env;
use crate::{
    Result,
    output::{Out, line},
};

/// Prints the CRDs as multi-document YAML, for `kubectl apply -f -`.
pub fn print(out: Out<'_>) -> Result<()> {
    let yaml = kubemate_rbac::crd_yaml()?;
    out.write_all(yaml.as_bytes())?;
    Ok(())
}

/// Installs the CRDs, waits until they are served, and creates Kubemate's namespace if it is
/// missing (users' ServiceAccounts go there).
pub async fn install(env: &Env, out: Out<'_>, timeout: u64) -> Result<()> {
    let names: Vec<String> = kubemate_rbac::crds()
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect();
    let install = InstallCrds {
        timeout: Duration::from_secs(timeout),
    };
    env.audit.admin(&env.rbac(), &install).await?;
    for name in &names {
        line(
            out,
            format!("customresourcedefinition.apiextensions.k8s.io/{name} installed"),
        )?;
    }
    let ns = &env.kubemate_namespace;
    let existing: Option<Namespace> = env.cluster().get_opt_as("", ns).await?;
    if existing.is_none() {
        let namespace = Namespace {
            metadata: ObjectMeta {
                name: Some(ns.clone()),
                ..Default::default()
            },
            ..Default::default()
        };
        let create = Create {
            rt: namespace_type(),
            ns: String::new(),
            obj: to_dynamic(&namespace)?,
            opts: WriteOptions::default(),
        };
        env.audit.run(env.cluster(), &create).await?;
        line(out, format!("namespace/{ns} created"))?;
    }
    Ok(())
}
