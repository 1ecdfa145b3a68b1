//! The command line: clap types only. What each command does is in [`crate::commands`].

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand};
use kubemate_core::{
    tenant::{LimitsSpec, QuotaSpec},
    workload::WorkloadKind,
};

use crate::output::Format;

pub mod parse;

pub use parse::RuleArg;

const RULE_HELP: &str = "\
What the role allows, as VERBS:RESOURCES; repeat for more rules.

VERBS is a comma-separated list of Kubernetes verbs: get, list, watch, create, update, patch,
delete, deletecollection, or * for all.

RESOURCES is a comma-separated list of:
  RESOURCE               a kind Kubemate knows, by plural, short name or kind (deployments,
                         deploy, pods, svc, ...); its API group comes from Kubemate's catalog
  RESOURCE/SUB           a subresource of such a kind (pods/log, deployments/scale)
  GROUP/RESOURCE[/SUB]   a resource of an API group (apps/deployments, example.com/widgets,
                         core/pods for the core group, apps/* for all of a group)
  */SUB                  that subresource of any resource (*/scale)
  *                      every resource of every API group

A rule over resources of several API groups becomes one rule per group, so
get,list:deployments,pods grants deployments in apps and pods in the core group only.

Examples: get,list,watch:deployments,pods   get:pods/log   *:apps/*   get,list:*";

const QUOTA_HELP: &str = "\
The namespace's ResourceQuota as KEY=VALUE pairs, comma-separated; repeat to add more.

Quantities: cpu (requests.cpu), memory (requests.memory), limits.cpu, limits.memory,
storage (requests.storage). Counts: pods, services, persistentvolumeclaims (pvc), configmaps,
secrets.

Example: --quota cpu=4,memory=8Gi,pods=20";

const LIMITS_HELP: &str = "\
The namespace's LimitRange for containers as SIDE.RESOURCE=QUANTITY pairs, comma-separated;
repeat to add more. SIDE is default-request (what a container that sets none requests),
default (its limit), min or max; RESOURCE is cpu or memory.

Example: --limits default-request.cpu=100m,default.memory=256Mi,max.cpu=2";

const AUDIT_LOG_HELP: &str = "\
The audit log (JSON lines, hash-chained) that every cluster operation is recorded in, and that
`kubemate audit` reads. Default: $XDG_STATE_HOME/kubemate/audit.jsonl, else
$HOME/.local/state/kubemate/audit.jsonl.";

/// kubemate: Kubernetes management for operations teams.
///
/// Works directly against a cluster with your own Kubernetes identity (your kubeconfig, as
/// kubectl does). Every cluster operation is recorded in a tamper-evident audit log; a change
/// whose record cannot be written is not made.
#[derive(Debug, Parser)]
#[command(name = "kubemate", version)]
pub struct Cli {
    /// Where the cluster and the audit log are.
    #[command(flatten)]
    pub global: Global,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options of every command.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// The kubeconfig file; default: $KUBECONFIG, then ~/.kube/config, then in-cluster.
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context; default: its current context.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    #[arg(long, global = true, value_name = "PATH", env = crate::audit::AUDIT_LOG_ENV, long_help = AUDIT_LOG_HELP)]
    /// The audit log file.
    pub audit_log: Option<PathBuf>,
    /// Kubemate's namespace, where users' ServiceAccounts live.
    #[arg(
        long,
        global = true,
        value_name = "NS",
        env = "KUBEMATE_NAMESPACE",
        default_value = "kubemate-system"
    )]
    pub kubemate_namespace: String,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the CustomResourceDefinitions of Kubemate's users and roles as YAML, or install
    /// them.
    Crds {
        /// `install`; without it, print the YAML.
        #[command(subcommand)]
        action: Option<CrdsAction>,
    },
    /// Manage Kubemate users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage Kubemate roles.
    #[command(subcommand)]
    Role(RoleCommand),
    /// Bind a role to a user.
    Bind(Binding),
    /// Unbind a role from a user.
    Unbind(Binding),
    /// List objects of any kind, or show one.
    Get(GetArgs),
    /// Set the replicas of a Deployment, StatefulSet or ReplicaSet.
    Scale(ScaleArgs),
    /// Rollout history, undo and restart of workloads.
    #[command(subcommand)]
    Rollout(RolloutCommand),
    /// Print a Pod's log.
    Logs(LogsArgs),
    /// List events, newest first.
    Events(EventsArgs),
    /// List nodes with what their Pods request.
    Nodes(NodesArgs),
    /// Manage namespaces (tenants).
    #[command(subcommand)]
    Ns(NsCommand),
    /// Create applications with the app wizard.
    #[command(subcommand)]
    App(AppCommand),
    /// Query and verify the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The signing key of Kubemate's login tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

/// `kubemate token ...`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Rotate the token signing key: a new key signs new tokens, the previous one still
    /// verifies the tokens it signed for a grace period, keys past theirs are removed. Prints
    /// the key ids and the grace, never a key.
    RotateKey {
        /// How long the previous key still verifies the tokens it signed, in seconds; default:
        /// the default token lifetime (28800). Give the server's token lifetime if it differs,
        /// so that no token is refused before it expires; 0 refuses them at once.
        #[arg(long, value_name = "SECONDS")]
        grace: Option<u64>,
    },
}

/// `kubemate crds ...`.
#[derive(Debug, Subcommand)]
pub enum CrdsAction {
    /// Install (or update) the CRDs, wait until they are served, and create Kubemate's
    /// namespace if it is missing.
    Install {
        /// How long to wait for the CRDs to be served, in seconds.
        #[arg(long, default_value_t = 60, value_name = "SECONDS")]
        timeout: u64,
    },
}

/// `kubemate user ...`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input.
    Create {
        /// The account name (a lowercase RFC 1123 label).
        name: String,
        /// Read the password from standard input (a pipe, not a terminal). It is the only way
        /// to give one: passwords never go on the command line.
        #[arg(long, required = true)]
        password_stdin: bool,
        /// The name shown in the console.
        #[arg(long, value_name = "TEXT")]
        display_name: Option<String>,
        /// Contact address.
        #[arg(long, value_name = "ADDRESS")]
        email: Option<String>,
        /// Roles to bind right away; repeat for several.
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
    },
    /// List users (never their password hashes).
    List {
        /// Output format.
        #[arg(short, long, value_enum, default_value_t)]
        output: Format,
    },
    /// Delete a user and everything Kubemate created for it.
    Delete {
        /// The account name.
        name: String,
    },
    /// Set a user's password, read from standard input; revokes their tokens.
    Passwd {
        /// The account name.
        name: String,
        /// Read the new password from standard input (a pipe, not a terminal).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Disable a user: no login, tokens revoked, Kubernetes bindings removed.
    Disable {
        /// The account name.
        name: String,
    },
    /// Enable a disabled user again.
    Enable {
        /// The account name.
        name: String,
    },
    /// Lift a user's lockout after repeated failed logins, so that they can log in at once.
    Unlock {
        /// The account name.
        name: String,
    },
}

/// `kubemate role ...`.
#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Create a role: rules, the namespaces they apply to, and console sections.
    #[command(group(ArgGroup::new("scope").required(true).args(["namespaces", "all_namespaces"])))]
    Create {
        /// The role's name (a lowercase RFC 1123 label).
        name: String,
        /// The namespaces the rules apply to, comma-separated.
        #[arg(long, value_delimiter = ',', value_name = "NS,...")]
        namespaces: Vec<String>,
        /// The rules apply to every namespace, and to cluster-scoped resources.
        #[arg(long)]
        all_namespaces: bool,
        #[arg(long = "rule", value_name = "VERBS:RESOURCES", required = true, value_parser = parse::rule, long_help = RULE_HELP)]
        /// What the role allows, VERBS:RESOURCES (e.g. get,list:deployments,pods).
        rules: Vec<RuleArg>,
        /// A console section the role may see (cicd, audit, users, alerts,
        /// inspection, or * for all); repeat for several.
        #[arg(long = "menu", value_name = "CODE")]
        menus: Vec<String>,
        /// What the role is for.
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
    },
    /// List roles.
    List {
        /// Output format.
        #[arg(short, long, value_enum, default_value_t)]
        output: Format,
    },
    /// Delete a role, unbinding it from every user.
    Delete {
        /// The role's name.
        name: String,
    },
}

/// A user and a role.
#[derive(Debug, Args)]
pub struct Binding {
    /// The user's account name.
    pub user: String,
    /// The role's name.
    pub role: String,
}

/// `kubemate get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The kind: plural, singular, short name or kind (deployments, deploy, Deployment), or a
    /// custom resource's (widgets, widgets.example.com).
    pub kind: String,
    /// One object's name; without it, list.
    pub name: Option<String>,
    /// The namespace; default: the kubeconfig context's, else `default`.
    #[arg(short, long, value_name = "NS")]
    pub namespace: Option<String>,
    /// List across all namespaces.
    #[arg(short = 'A', long, conflicts_with_all = ["namespace", "name"])]
    pub all_namespaces: bool,
    /// Label selector, e.g. `app=web,tier in (a,b)`.
    #[arg(short = 'l', long, value_name = "SELECTOR", value_parser = parse::label_selector)]
    pub selector: Option<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t)]
    pub output: Format,
}

/// `kubemate scale`.
#[derive(Debug, Args)]
pub struct ScaleArgs {
    /// deployment, statefulset or replicaset.
    #[arg(value_parser = parse::workload_kind)]
    pub kind: WorkloadKind,
    /// The workload's name.
    pub name: String,
    /// The desired number of replicas.
    #[arg(long, value_name = "N")]
    pub replicas: i32,
    /// The namespace.
    #[arg(short, long, value_name = "NS", required = true)]
    pub namespace: String,
}

/// A workload in a namespace.
#[derive(Debug, Args)]
pub struct WorkloadRef {
    /// deployment, statefulset or daemonset.
    #[arg(value_parser = parse::workload_kind)]
    pub kind: WorkloadKind,
    /// The workload's name.
    pub name: String,
    /// The namespace.
    #[arg(short, long, value_name = "NS", required = true)]
    pub namespace: String,
}

/// `kubemate rollout ...`.
#[derive(Debug, Subcommand)]
pub enum RolloutCommand {
    /// The revisions of a workload, oldest first; `*` marks the one running.
    History {
        /// The workload.
        #[command(flatten)]
        target: WorkloadRef,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t)]
        output: Format,
    },
    /// Roll back to a revision (default: the one before the newest).
    Undo {
        /// The workload.
        #[command(flatten)]
        target: WorkloadRef,
        /// The revision to roll back to.
        #[arg(long, value_name = "N")]
        to_revision: Option<i64>,
    },
    /// Restart every Pod of a workload with a rolling update.
    Restart {
        /// The workload.
        #[command(flatten)]
        target: WorkloadRef,
    },
    /// Pause a Deployment's rollouts.
    Pause {
        /// The workload.
        #[command(flatten)]
        target: WorkloadRef,
    },
    /// Resume a paused Deployment's rollouts.
    Resume {
        /// The workload.
        #[command(flatten)]
        target: WorkloadRef,
    },
}

/// `kubemate logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The Pod.
    pub pod: String,
    /// The container; required when the Pod has several.
    #[arg(short, long, value_name = "NAME")]
    pub container: Option<String>,
    /// Only the last N lines.
    #[arg(long, value_name = "N")]
    pub tail: Option<i64>,
    /// Keep printing lines as they come, until interrupted.
    #[arg(short, long)]
    pub follow: bool,
    /// The previous (terminated) instance of the container.
    #[arg(short, long)]
    pub previous: bool,
    /// The namespace.
    #[arg(short, long, value_name = "NS", required = true)]
    pub namespace: String,
}

/// `kubemate events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// The namespace; default: all namespaces.
    #[arg(short, long, value_name = "NS")]
    pub namespace: Option<String>,
    /// Only Warning events.
    #[arg(long)]
    pub warnings: bool,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t)]
    pub output: Format,
}

/// `kubemate nodes`.
#[derive(Debug, Args)]
pub struct NodesArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t)]
    pub output: Format,
}

/// `kubemate ns ...`.
#[derive(Debug, Subcommand)]
pub enum NsCommand {
    /// Create a namespace as a tenant, with its ResourceQuota and LimitRange. If either
    /// cannot be created, the new namespace is deleted again.
    Create {
        /// The namespace's name.
        name: String,
        #[arg(long, value_name = "KEY=VALUE,...", value_parser = parse::quota, long_help = QUOTA_HELP)]
        /// ResourceQuota, e.g. cpu=4,memory=8Gi,pods=20.
        quota: Vec<QuotaSpec>,
        #[arg(long, value_name = "SIDE.RESOURCE=QTY,...", value_parser = parse::limits, long_help = LIMITS_HELP)]
        /// LimitRange, e.g. default-request.cpu=100m,default.memory=256Mi.
        limits: Vec<LimitsSpec>,
        /// What the namespace is for.
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
    },
}

/// `kubemate app ...`.
#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Create an app (a Deployment, and a Service if it asks for one) from an AppSpec in YAML.
    Create {
        /// The AppSpec file; `-` reads standard input.
        #[arg(short, long, value_name = "FILE")]
        file: PathBuf,
        /// An image registry (host, or host/path prefix) apps may use; repeat for several.
        #[arg(
            long = "registry",
            value_name = "HOST",
            env = "KUBEMATE_REGISTRIES",
            value_delimiter = ','
        )]
        registries: Vec<String>,
        /// Have the apiserver validate everything without creating anything.
        #[arg(long)]
        dry_run: bool,
        /// Output format of the report.
        #[arg(short, long, value_enum, default_value_t)]
        output: Format,
    },
}

/// `kubemate audit ...`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Records matching every filter given, oldest first.
    Query(AuditQueryArgs),
    /// Check the hash chain of the audit log; fails naming the first broken line.
    Verify,
}

/// `kubemate audit query`.
#[derive(Debug, Args)]
pub struct AuditQueryArgs {
    /// The acting user.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// The namespace.
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
    /// The verb (create, delete, scale, bind, get, list, ...).
    #[arg(long, value_name = "VERB")]
    pub verb: Option<String>,
    /// allowed, denied, success, failure or pending.
    #[arg(long, value_name = "OUTCOME")]
    pub outcome: Option<String>,
    /// From this time: RFC 3339 (2024-05-01T08:00:00Z) or an age (30m, 2h, 7d).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Before this time: RFC 3339 or an age.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Only the newest N records.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t)]
    pub output: Format,
}

#[cfg(test)]
mod tests;
