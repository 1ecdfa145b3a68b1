//! What the commands do. Each takes the cluster as `&dyn ClusterClient` (through [`Env`]) and
//! writes to a writer, so the unit tests run them on the fake cluster without a process.

use std::{io::Read, sync::Arc};

use k8s_openapi::jiff::Timestamp;
use kubemate_core::ClusterClient;

use crate::{Auditor, Command, Error, Result, output::Out};

pub mod app;
pub mod audit;
pub mod crds;
pub mod events;
pub mod get;
pub mod nodes;
pub mod ns;
pub mod roles;
pub mod token;
pub mod users;
pub mod workload;

/// Where the time comes from (fixed in tests, so ages are stable).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// What the cluster commands work with.
#[derive(Clone)]
pub struct Env {
    /// The cluster, with the caller's own identity.
    pub client: Arc<dyn ClusterClient>,
    /// The audit log and the acting user.
    pub audit: Auditor,
    /// Kubemate's namespace (users' ServiceAccounts).
    pub kubemate_namespace: String,
    /// The namespace of commands that take an optional `-n` (the kubeconfig context's).
    pub default_namespace: String,
    /// The clock.
    pub now: Clock,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("audit", &self.audit)
            .field("kubemate_namespace", &self.kubemate_namespace)
            .field("default_namespace", &self.default_namespace)
            .finish_non_exhaustive()
    }
}

impl Env {
    /// The cluster.
    pub fn cluster(&self) -> &dyn ClusterClient {
        &*self.client
    }

    /// Kubemate's users and roles, managed as the operator (see [`kubemate_rbac::Actor`]).
    pub fn rbac(&self) -> kubemate_rbac::Rbac {
        kubemate_rbac::Rbac::new(
            Arc::clone(&self.client),
            kubemate_rbac::Config {
                namespace: self.kubemate_namespace.clone(),
                ..Default::default()
            },
        )
    }
}

/// Standard input and output.
pub struct Io<'a> {
    /// Where results go.
    pub out: Out<'a>,
    /// Where passwords and `-f -` come from.
    pub stdin: &'a mut (dyn Read + Send),
    /// True when standard input is a terminal: passwords are not read from one, as the
    /// terminal would show them.
    pub stdin_is_terminal: bool,
}

impl std::fmt::Debug for Io<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Io")
            .field("stdin_is_terminal", &self.stdin_is_terminal)
            .finish_non_exhaustive()
    }
}

impl Io<'_> {
    /// Everything on standard input.
    pub fn read_stdin(&mut self) -> Result<String> {
        let mut text = String::new();
        self.stdin
            .read_to_string(&mut text)
            .map_err(|e| Error::invalid(format!("cannot read standard input: {e}")))?;
        Ok(text)
    }

    /// A password from standard input, without its final line break.
    pub fn read_password(&mut self) -> Result<kubemate_rbac::Password> {
        if self.stdin_is_terminal {
            return Err(Error::invalid(
                "--password-stdin reads a pipe, not a terminal (the terminal would show the \
                 password); e.g. printf '%s' \"$PW\" | kubemate ...",
            ));
        }
        let mut text = self.read_stdin()?;
        if text.ends_with('\n') {
            text.pop();
            if text.ends_with('\r') {
                text.pop();
            }
        }
        if text.is_empty() {
            return Err(Error::invalid("no password on standard input"));
        }
        Ok(kubemate_rbac::Password::new(text))
    }
}

/// True for the commands that need no cluster (printing the CRDs, the audit log).
pub fn is_local(command: &Command) -> bool {
    matches!(command, Command::Crds { action: None } | Command::Audit(_))
}

/// Runs a cluster command.
pub async fn execute(command: Command, env: &Env, io: &mut Io<'_>) -> Result<()> {
    match command {
        Command::Crds { action: None } => crds::print(io.out),
        Command::Crds {
            action: Some(crate::cli::CrdsAction::Install { timeout }),
        } => crds::install(env, io.out, timeout).await,
        Command::User(cmd) => users::run(env, io, cmd).await,
        Command::Role(cmd) => roles::run(env, io.out, cmd).await,
        Command::Bind(b) => users::bind(env, io.out, &b.user, &b.role, true).await,
        Command::Unbind(b) => users::bind(env, io.out, &b.user, &b.role, false).await,
        Command::Get(args) => get::run(env, io.out, &args).await,
        Command::Scale(args) => workload::scale(env, io.out, &args).await,
        Command::Rollout(cmd) => workload::rollout(env, io.out, cmd).await,
        Command::Logs(args) => workload::logs(env, io.out, &args).await,
        Command::Events(args) => events::run(env, io.out, &args).await,
        Command::Nodes(args) => nodes::run(env, io.out, &args).await,
        Command::Ns(cmd) => ns::run(env, io.out, cmd).await,
        Command::App(cmd) => app::run(env, io, cmd).await,
        Command::Token(cmd) => token::run(env, io.out, cmd).await,
        Command::Audit(_) => Err(Error::new(
            crate::error::Code::InternalError,
            "audit commands read the audit log, not the cluster",
        )),
    }
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests;
