//! The workload verbs as values that declare their access ([`crate::access`]): what each
//! verb reads and writes is stated here, beside the code that does it, and checked against the
//! calls it makes by the tests of [`crate::access`].

use super::{Outcome, PodSummary, Revision, RollbackOutcome, WorkloadKind, WorkloadLogs};
use crate::{
    ClusterClient, LogOptions, LogStream, Result, Scale,
    access::{Access, Operation, Target},
    events::EventSummary,
};

/// A workload named by kind, namespace and name: what every workload verb is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadRef {
    /// The kind.
    pub kind: WorkloadKind,
    /// The namespace.
    pub ns: String,
    /// The name.
    pub name: String,
}

impl WorkloadRef {
    /// The workload `name` of `kind` in `ns`.
    pub fn new(kind: WorkloadKind, ns: &str, name: &str) -> Self {
        WorkloadRef {
            kind,
            ns: ns.to_owned(),
            name: name.to_owned(),
        }
    }

    fn target(&self, verb: &str) -> Target {
        Target::of(verb, &self.kind.resource_type())
            .ns(&self.ns)
            .name(&self.name)
    }

    /// `verb` on the workload itself.
    fn on_self(&self, verb: &'static str) -> Access {
        Access::new(verb, &self.kind.resource_type(), &self.ns).named(&self.name)
    }

    /// Reading its members: the workload, its ReplicaSets (Deployments) and its Pods.
    fn member_reads(&self) -> Vec<Access> {
        let mut access = vec![self.on_self("get")];
        if self.kind == WorkloadKind::Deployment {
            access.push(Access::new(
                "list",
                &WorkloadKind::ReplicaSet.resource_type(),
                &self.ns,
            ));
        }
        access.push(Access::core("list", "pods", &self.ns));
        access
    }

    /// Reading its history: the workload and its ReplicaSets (Deployments) or
    /// ControllerRevisions (the others).
    fn history_reads(&self) -> Vec<Access> {
        let revisions = if self.kind == WorkloadKind::Deployment {
            WorkloadKind::ReplicaSet.resource_type()
        } else {
            super::history::controller_revisions()
        };
        vec![
            self.on_self("get"),
            Access::new("list", &revisions, &self.ns),
        ]
    }
}

/// Sets the desired replicas ([`super::scale`]).
#[derive(Debug, Clone)]
pub struct SetReplicas {
    /// The workload.
    pub workload: WorkloadRef,
    /// The desired replicas.
    pub replicas: i32,
}

impl Operation for SetReplicas {
    type Output = Scale;

    fn target(&self) -> Target {
        self.workload.target("scale")
    }

    fn access(&self) -> Vec<Access> {
        vec![self.workload.on_self("patch").subresource("scale")]
    }

    fn mutates(&self) -> bool {
        true
    }

    fn validate(&self) -> Result<()> {
        super::check_replicas(self.replicas)
    }

    async fn run(&self, client: &dyn ClusterClient) -> Result<Scale> {
        let w = &self.workload;
        super::scale(client, w.kind, &w.ns, &w.name, self.replicas).await
    }
}

/// Restarts every Pod ([`super::restart`]); the timestamp written.
#[derive(Debug, Clone)]
pub struct Restart(pub WorkloadRef);

impl Operation for Restart {
    type Output = String;

    fn target(&self) -> Target {
        self.0.target("restart")
    }

    fn access(&self) -> Vec<Access> {
        vec![self.0.on_self("get"), self.0.on_self("patch")]
    }

    fn mutates(&self) -> bool {
        true
    }

    async fn run(&self, client: &dyn ClusterClient) -> Result<String> {
        super::restart(client, self.0.kind, &self.0.ns, &self.0.name).await
    }
}

/// Pauses ([`super::pause`]) or resumes ([`super::resume`]) a Deployment's rollouts.
#[derive(Debug, Clone)]
pub struct SetPaused {
    /// The workload.
    pub workload: WorkloadRef,
    /// Pause (true) or resume (false).
    pub paused: bool,
}

impl Operation for SetPaused {
    type Output = Outcome;

    fn target(&self) -> Target {
        self.workload
            .target(if self.paused { "pause" } else { "resume" })
    }

    fn access(&self) -> Vec<Access> {
        vec![self.workload.on_self("get"), self.workload.on_self("patch")]
    }

    fn mutates(&self) -> bool {
        true
    }

    async fn run(&self, client: &dyn ClusterClient) -> Result<Outcome> {
        let w = &self.workload;
        if self.paused {
            super::pause(client, w.kind, &w.ns, &w.name).await
        } else {
            super::resume(client, w.kind, &w.ns, &w.name).await
        }
    }
}

/// The rollout history ([`super::history`]).
#[derive(Debug, Clone)]
pub struct History(pub WorkloadRef);

impl Operation for History {
    type Output = Vec<Revision>;

    fn target(&self) -> Target {
        self.0.target("history")
    }

    fn access(&self) -> Vec<Access> {
        self.0.history_reads()
    }

    fn mutates(&self) -> bool {
        false
    }

    async fn run(&self, client: &dyn ClusterClient) -> Result<Vec<Revision>> {
        super::history(client, self.0.kind, &self.0.ns, &self.0.name).await
    }
}

/// Rolls back to a revision ([`super::rollback`]).
#[derive(Debug, Clone)]
pub struct Rollback {
    /// The workload.
    pub workload: WorkloadRef,
    /// The revision; `None` or 0 for the one before the current.
    pub revision: Option<i64>,
}

impl Operation for Rollback {
    type Output = RollbackOutcome;

    fn target(&self) -> Target {
        self.workload.target("rollback")
    }

    fn access(&self) -> Vec<Access> {
        let mut access = self.workload.history_reads();
        access.push(self.workload.on_self("update"));
        access
    }

    fn mutates(&self) -> bool {
        true
    }

    async fn run(&self, client: &dyn ClusterClient) -> Result<RollbackOutcome> {
        let w = &self.workload;
        super::rollback(client, w.kind, &w.ns, &w.name, self.revision).await
    }
}

/// The Pods of a workload ([`super::pods`]).
#[derive(Debug, Clone)]
pub struct Pods(pub WorkloadRef);

impl Operation for Pods {
    type Output = Vec<PodSummary>;

    fn target(&self) -> Target {
        self.0.target("pods")
    }

    fn access(&self) -> Vec<Access> {
        self.0.member_reads()
    }

    fn mutates(&self) -> bool {
        false
    }

    async fn run(&self, client: &dyn ClusterClient) -> Result<Vec<PodSummary>> {
        super::pods(client, self.0.kind, &self.0.ns, &self.0.name).await
    }
}

/// The events of a workload and its members ([`super::events`]).
#[derive(Debug, Clone)]
pub struct Events(pub WorkloadRef);

impl Operation for Events {
    type Output = Vec<EventSummary>;

    fn target(&self) -> Target {
        self.0.target("events")
    }

    fn access(&self) -> Vec<Access> {
        let mut access = self.0.member_reads();
        access.push(Access::core("list", "events", &self.0.ns));
        access
    }

    fn mutates(&self) -> bool {
        false
    }

    async fn run(&self, client: &dyn ClusterClient) -> Result<Vec<EventSummary>> {
        super::events(client, self.0.kind, &self.0.ns, &self.0.name).await
    }
}

/// A Pod's log ([`super::pod_logs`]).
#[derive(Debug, Clone)]
pub struct PodLogs {
    /// The namespace.
    pub ns: String,
    /// The Pod.
    pub pod: String,
    /// Container, tail, ...
    pub opts: LogOptions,
}

impl PodLogs {
    fn log_access(&self) -> Vec<Access> {
        vec![
            Access::core("get", "pods", &self.ns)
                .named(&self.pod)
                .subresource("log"),
        ]
    }

    fn log_target(&self) -> Target {
        Target::new("logs", "pods/log").ns(&self.ns).name(&self.pod)
    }
}

impl Operation for PodLogs {
    type Output = String;

    fn target(&self) -> Target {
        self.log_target()
    }

    fn access(&self) -> Vec<Access> {
        self.log_access()
    }

    fn mutates(&self) -> bool {
        false
    }

    async fn run(&self, client: &dyn ClusterClient) -> Result<String> {
        super::pod_logs(client, &self.ns, &self.pod, &self.opts).await
    }
}

/// A Pod's log, followed ([`super::follow_pod_logs`]).
#[derive(Debug, Clone)]
pub struct FollowPodLogs(pub PodLogs);

impl Operation for FollowPodLogs {
    type Output = LogStream;

    fn target(&self) -> Target {
        self.0.log_target()
    }

    fn access(&self) -> Vec<Access> {
        self.0.log_access()
    }

    fn mutates(&self) -> bool {
        false
    }

    async fn run(&self, client: &dyn ClusterClient) -> Result<LogStream> {
        super::follow_pod_logs(client, &self.0.ns, &self.0.pod, &self.0.opts).await
    }
}

/// The logs of every Pod of a workload ([`super::logs`]).
#[derive(Debug, Clone)]
pub struct Logs {
    /// The workload.
    pub workload: WorkloadRef,
    /// Container, tail, ...
    pub opts: LogOptions,
}

impl Logs {
    fn log_access(&self) -> Vec<Access> {
        let mut access = self.workload.member_reads();
        access.push(Access::core("get", "pods", &self.workload.ns).subresource("log"));
        access
    }
}

impl Operation for Logs {
    type Output = WorkloadLogs;

    fn target(&self) -> Target {
        self.workload.target("logs")
    }

    fn access(&self) -> Vec<Access> {
        self.log_access()
    }

    fn mutates(&self) -> bool {
        false
    }

    async fn run(&self, client: &dyn ClusterClient) -> Result<WorkloadLogs> {
        let w = &self.workload;
        super::logs(client, w.kind, &w.ns, &w.name, &self.opts).await
    }
}

/// The logs of every Pod of a workload, followed ([`super::follow_logs`]).
#[derive(Debug, Clone)]
pub struct FollowLogs(pub Logs);

impl Operation for FollowLogs {
    type Output = LogStream;

    fn target(&self) -> Target {
        self.0.target()
    }

    fn access(&self) -> Vec<Access> {
        self.0.log_access()
    }

    fn mutates(&self) -> bool {
        false
    }

    async fn run(&self, client: &dyn ClusterClient) -> Result<LogStream> {
        let w = &self.0.workload;
        super::follow_logs(client, w.kind, &w.ns, &w.name, &self.0.opts).await
    }
}
