//! `kubemate scale`, `kubemate rollout ...` and `kubemate logs`: core's workload operations,
//! run through the auditor under their own targets.

use futures::StreamExt;
use kubemate_core::{
    LogOptions,
    workload::{self, Outcome, WorkloadKind},
};

use super::Env;
use crate::{
    Result,
    cli::{LogsArgs, RolloutCommand, ScaleArgs, WorkloadRef},
    output::{Out, Table, age, emit, line},
};

/// How kubectl names a workload in messages: `deployment.apps/web`.
fn reference(kind: WorkloadKind, name: &str) -> String {
    let rt = kind.resource_type();
    format!("{}.{}/{name}", rt.kind.to_ascii_lowercase(), rt.group)
}

fn workload(w: &WorkloadRef) -> workload::WorkloadRef {
    workload::WorkloadRef::new(w.kind, &w.namespace, &w.name)
}

/// Runs `kubemate scale`.
pub async fn scale(env: &Env, out: Out<'_>, args: &ScaleArgs) -> Result<()> {
    let op = workload::SetReplicas {
        workload: workload::WorkloadRef::new(args.kind, &args.namespace, &args.name),
        replicas: args.replicas,
    };
    env.audit.run(env.cluster(), &op).await?;
    line(out, format!("{} scaled", reference(args.kind, &args.name)))
}

/// Runs `kubemate rollout ...`.
pub async fn rollout(env: &Env, out: Out<'_>, cmd: RolloutCommand) -> Result<()> {
    let client = env.cluster();
    match cmd {
        RolloutCommand::History { target: w, output } => {
            let revisions = env
                .audit
                .run(client, &workload::History(workload(&w)))
                .await?;
            let now = (env.now)();
            emit(out, output, &revisions, || {
                let mut t = Table::new(["REVISION", "CURRENT", "CHANGE-CAUSE", "IMAGES", "AGE"]);
                for r in &revisions {
                    t.row([
                        r.revision.to_string(),
                        if r.current { "*" } else { "" }.to_owned(),
                        r.change_cause
                            .clone()
                            .unwrap_or_else(|| "<none>".to_owned()),
                        r.images.join(","),
                        age(r.created.as_deref(), now),
                    ]);
                }
                t
            })
        }
        RolloutCommand::Undo {
            target: w,
            to_revision,
        } => {
            let op = workload::Rollback {
                workload: workload(&w),
                revision: to_revision,
            };
            let outcome = env.audit.run(client, &op).await?;
            line(out, format!("{} {outcome}", reference(w.kind, &w.name)))
        }
        RolloutCommand::Restart { target: w } => {
            env.audit
                .run(client, &workload::Restart(workload(&w)))
                .await?;
            line(out, format!("{} restarted", reference(w.kind, &w.name)))
        }
        RolloutCommand::Pause { target: w } => {
            let op = workload::SetPaused {
                workload: workload(&w),
                paused: true,
            };
            let what = match env.audit.run(client, &op).await? {
                Outcome::Changed => "paused",
                Outcome::Unchanged => "already paused",
            };
            line(out, format!("{} {what}", reference(w.kind, &w.name)))
        }
        RolloutCommand::Resume { target: w } => {
            let op = workload::SetPaused {
                workload: workload(&w),
                paused: false,
            };
            let what = match env.audit.run(client, &op).await? {
                Outcome::Changed => "resumed",
                Outcome::Unchanged => "is not paused",
            };
            line(out, format!("{} {what}", reference(w.kind, &w.name)))
        }
    }
}

/// Runs `kubemate logs`. Following, the record is written once the log is open, before the
/// first line is shown.
pub async fn logs(env: &Env, out: Out<'_>, args: &LogsArgs) -> Result<()> {
    let op = workload::PodLogs {
        ns: args.namespace.clone(),
        pod: args.pod.clone(),
        opts: LogOptions {
            container: args.container.clone(),
            tail_lines: args.tail,
            previous: args.previous,
            ..Default::default()
        },
    };
    let client = env.cluster();
    if args.follow {
        let mut lines = env.audit.run(client, &workload::FollowPodLogs(op)).await?;
        while let Some(text) = lines.next().await {
            line(out, text?)?;
            out.flush()?;
        }
        return Ok(());
    }
    let text = env.audit.run(client, &op).await?;
    out.write_all(text.as_bytes())?;
    if !text.is_empty() && !text.ends_with('\n') {
        out.write_all(b"\n")?;
    }
    Ok(())
}
