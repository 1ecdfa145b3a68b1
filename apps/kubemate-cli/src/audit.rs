//! Every cluster operation of the CLI is audited: a change gets a `request` record before it
//! is made (if that record cannot be written, the change is not made) and a `response` record
//! with its outcome after; a read gets one `response` record.

use std::{
    future::Future,
    path::{Path, PathBuf},
    sync::Arc,
    time::Instant,
};

use kubemate_audit::{AuditSink, Decision, Entry, FileSink, Outcome, Stage};
pub use kubemate_core::access::Target;
use kubemate_core::{ClusterClient, access::Operation};
use kubemate_rbac::{Actor, Rbac, ops::AdminOperation};

use crate::{Error, Result, error::Code};

/// The environment variable naming the audit log.
pub const AUDIT_LOG_ENV: &str = "KUBEMATE_AUDIT_LOG";
/// The `source` of the CLI's records.
pub const SOURCE: &str = "cli";

/// The audit log when neither `--audit-log` nor `KUBEMATE_AUDIT_LOG` names one:
/// `$XDG_STATE_HOME/kubemate/audit.jsonl`, else `$HOME/.local/state/kubemate/audit.jsonl`.
pub fn default_path() -> Result<PathBuf> {
    let nonempty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(state) = nonempty("XDG_STATE_HOME") {
        return Ok(PathBuf::from(state).join("kubemate/audit.jsonl"));
    }
    if let Some(home) = nonempty("HOME") {
        return Ok(PathBuf::from(home).join(".local/state/kubemate/audit.jsonl"));
    }
    Err(Error::new(
        Code::ConfigError,
        format!("no audit log: pass --audit-log PATH or set {AUDIT_LOG_ENV}"),
    ))
}

/// Opens the audit log (created mode 0600), and warns on stderr when opening it recovered a
/// torn last line (an interrupted write; the recovery is itself recorded) or when others may
/// read it.
pub fn open_log(path: &Path, durable: bool) -> Result<FileSink> {
    let sink = FileSink::open(path, durable)?;
    if let Some(torn) = sink.recovered() {
        eprintln!("warning: audit log {}: {torn}", path.display());
    }
    if let Some(mode) = sink.exposed_mode() {
        eprintln!(
            "warning: audit log {} has mode {mode:o}: others may read it (chmod 600 it)",
            path.display()
        );
    }
    Ok(sink)
}

/// Writes the CLI's audit records for one acting user.
#[derive(Clone)]
pub struct Auditor {
    sink: Arc<dyn AuditSink>,
    user: String,
}

impl std::fmt::Debug for Auditor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auditor")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl Auditor {
    /// Records go to `sink`, in the name of `user`.
    pub fn new(sink: Arc<dyn AuditSink>, user: impl Into<String>) -> Self {
        Auditor {
            sink,
            user: user.into(),
        }
    }

    /// The acting user.
    pub fn user(&self) -> &str {
        &self.user
    }

    fn entry(&self, target: &Target, request_id: &str, stage: Stage) -> Entry {
        Entry {
            user: self.user.clone(),
            source: Some(SOURCE.to_owned()),
            request_id: request_id.to_owned(),
            verb: target.verb.clone(),
            kind: target.kind.clone(),
            namespace: target.namespace.clone(),
            name: target.name.clone(),
            decision: Some(Decision::Allowed),
            outcome: Some(Outcome::Pending),
            error_code: None,
            stage: Some(stage),
            duration_ms: None,
        }
    }

    async fn respond(
        &self,
        target: &Target,
        request_id: &str,
        started: Instant,
        error_code: Option<String>,
    ) -> Result<()> {
        let entry = Entry {
            outcome: Some(if error_code.is_some() {
                Outcome::Failure
            } else {
                Outcome::Success
            }),
            error_code,
            duration_ms: Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)),
            ..self.entry(target, request_id, Stage::Response)
        };
        self.sink.append(entry).await.map(|_| ()).map_err(|e| {
            Error::new(
                Code::AuditUnavailable,
                format!("{} ({} {} went through)", e, target.verb, target.kind),
            )
        })
    }

    /// Runs a change: its request record first — if that cannot be written the change is not
    /// made — then the change, then its response record with the outcome.
    pub async fn change<T>(
        &self,
        target: Target,
        op: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let request_id = uuid::Uuid::new_v4().to_string();
        self.sink
            .append(self.entry(&target, &request_id, Stage::Request))
            .await
            .map_err(|e| {
                Error::new(
                    Code::AuditUnavailable,
                    format!("{e}; nothing was changed because the change could not be audited"),
                )
            })?;
        let started = Instant::now();
        let result = op.await;
        let code = result.as_ref().err().map(|e| e.code().to_string());
        let recorded = self.respond(&target, &request_id, started, code).await;
        // A failed change reports its own error first; its request record is written.
        let value = result?;
        recorded?;
        Ok(value)
    }

    /// Runs a read and records it with its outcome; its result is not shown if the record
    /// cannot be written.
    pub async fn read<T>(&self, target: Target, op: impl Future<Output = Result<T>>) -> Result<T> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let started = Instant::now();
        let result = op.await;
        let code = result.as_ref().err().map(|e| e.code().to_string());
        self.respond(&target, &request_id, started, code).await?;
        result
    }

    /// Runs a core operation under its own target: as a change when it mutates (request
    /// record first), as a read otherwise. The CLI acts with the caller's own credentials, so
    /// the cluster authorizes the requests the operation declares; its inputs are checked
    /// before it runs, as the server checks them.
    pub async fn run<O: Operation>(&self, client: &dyn ClusterClient, op: &O) -> Result<O::Output> {
        let run = async {
            op.validate()?;
            Ok(op.run(client).await?)
        };
        if op.mutates() {
            self.change(op.target(), run).await
        } else {
            self.read(op.target(), run).await
        }
    }

    /// Runs Kubemate's own operation (users, roles, the token key) under its own target, as
    /// the operator: the caller's Kubernetes identity, whose RBAC the apiserver enforces on
    /// every write (Kubemate's own checks are for Kubemate users, see [`Actor::Operator`]).
    pub async fn admin<O: AdminOperation>(&self, rbac: &Rbac, op: &O) -> Result<O::Output> {
        let run = async {
            op.validate()?;
            Ok(op.run(rbac, Actor::Operator).await?)
        };
        if op.mutates() {
            self.change(op.target(), run).await
        } else {
            self.read(op.target(), run).await
        }
    }
}
