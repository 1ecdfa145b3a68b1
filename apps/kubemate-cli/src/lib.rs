//! The `kubemate` command: Kubemate's operations for operators and scripts.
//!
//! It works directly against a cluster with the caller's own Kubernetes identity (their
//! kubeconfig), and records every cluster operation in Kubemate's hash-chained audit log
//! before it is done. `main` only parses the command line and calls [`run`]; the commands
//! themselves ([`commands`]) take the cluster as a `&dyn ClusterClient` and a writer, so the
//! unit tests run them on the fake cluster.

pub mod audit;
pub mod cli;
pub mod commands;
pub mod error;
pub mod output;

use std::sync::Arc;

use kubemate_core::{ClientConfig, KubeClusterClient};

pub use audit::Auditor;
pub use cli::{Cli, Command};
pub use commands::{Env, Io};
pub use error::{Error, Result};

/// The acting user of audit records: the kubeconfig context's user, else `$USER`.
fn acting_user(context_user: Option<String>) -> String {
    context_user
        .filter(|u| !u.is_empty())
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Runs a parsed command line.
pub async fn run(cli: Cli, io: &mut Io<'_>) -> Result<()> {
    let Cli { global, command } = cli;
    if let Command::Crds { action: None } = command {
        return commands::crds::print(io.out);
    }
    let audit_log = match global.audit_log {
        Some(path) => path,
        None => audit::default_path()?,
    };
    if let Command::Audit(cmd) = command {
        return commands::audit::run(&audit_log, io.out, cmd).await;
    }
    let config = ClientConfig {
        kubeconfig: global.kubeconfig,
        context: global.context,
    };
    let context = config.context_info()?;
    let sink = audit::open_log(&audit_log, true)?;
    let client = KubeClusterClient::connect(&config).await?;
    let env = Env {
        client: Arc::new(client),
        audit: Auditor::new(Arc::new(sink), acting_user(context.user)),
        kubemate_namespace: global.kubemate_namespace,
        default_namespace: context.namespace.unwrap_or_else(|| "default".to_owned()),
        now: Arc::new(k8s_openapi::jiff::Timestamp::now),
    };
    commands::execute(command, &env, io).await
}
