//! `kubemate scale`, `kubemate rollout ...` and `kubemate logs`.

use futures::StreamExt;
use kubemate_core::{
    LogOptions,
    workload::{self, Outcome, WorkloadKind},
};

use super::Env;
use crate::{
    Result,
    audit::Target,
    cli::{LogsArgs, RolloutCommand, ScaleArgs, WorkloadRef},
    output::{Out, Table, age, emit, line},
};

/// How kubectl names a workload in messages: `deployment.apps/web`.
fn reference(kind: WorkloadKind, name: &str) -> String {
    let rt = kind.resource_type();
    format!("{}.{}/{name}", rt.kind.to_ascii_lowercase(), rt.group)
}

fn target(verb: &str, w: &WorkloadRef) -> Target {
    Target::new(verb, &w.kind.resource_type().plural)
        .ns(&w.namespace)
        .name(&w.name)
}

/// Runs `kubemate scale`.
pub async fn scale(env: &Env, out: Out<'_>, args: &ScaleArgs) -> Result<()> {
    let t = Target::new("scale", &args.kind.resource_type().plural)
        .ns(&args.namespace)
        .name(&args.name);
    env.audit
        .change(t, async {
            Ok(workload::scale(
                env.cluster(),
                args.kind,
                &args.namespace,
                &args.name,
                args.replicas,
            )
            .await?)
        })
        .await?;
    line(out, format!("{} scaled", reference(args.kind, &args.name)))
}

/// Runs `kubemate rollout ...`.
pub async fn rollout(env: &Env, out: Out<'_>, cmd: RolloutCommand) -> Result<()> {
    let client = env.cluster();
    match cmd {
        RolloutCommand::History { target: w, output } => {
            let revisions = env
                .audit
                .read(target("history", &w), async {
                    Ok(workload::history(client, w.kind, &w.namespace, &w.name).await?)
                })
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
            let outcome = env
                .audit
                .change(target("rollback", &w), async {
                    Ok(
                        workload::rollback(client, w.kind, &w.namespace, &w.name, to_revision)
                            .await?,
                    )
                })
                .await?;
            line(out, format!("{} {outcome}", reference(w.kind, &w.name)))
        }
        RolloutCommand::Restart { target: w } => {
            env.audit
                .change(target("restart", &w), async {
                    Ok(workload::restart(client, w.kind, &w.namespace, &w.name).await?)
                })
                .await?;
            line(out, format!("{} restarted", reference(w.kind, &w.name)))
        }
        RolloutCommand::Pause { target: w } => {
            let outcome = env
                .audit
                .change(target("pause", &w), async {
                    Ok(workload::pause(client, w.kind, &w.namespace, &w.name).await?)
                })
                .await?;
            let what = match outcome {
                Outcome::Changed => "paused",
                Outcome::Unchanged => "already paused",
            };
            line(out, format!("{} {what}", reference(w.kind, &w.name)))
        }
        RolloutCommand::Resume { target: w } => {
            let outcome = env
                .audit
                .change(target("resume", &w), async {
                    Ok(workload::resume(client, w.kind, &w.namespace, &w.name).await?)
                })
                .await?;
            let what = match outcome {
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
    let opts = LogOptions {
        container: args.container.clone(),
        tail_lines: args.tail,
        previous: args.previous,
        ..Default::default()
    };
    let target = Target::new("logs", "pods/log")
        .ns(&args.namespace)
        .name(&args.pod);
    let client = env.cluster();
    if args.follow {
        let mut lines = env
            .audit
            .read(target, async {
                Ok(workload::follow_pod_logs(client, &args.namespace, &args.pod, &opts).await?)
            })
            .await?;
        while let Some(text) = lines.next().await {
            line(out, text?)?;
            out.flush()?;
        }
        return Ok(());
    }
    let text = env
        .audit
        .read(target, async {
            Ok(workload::pod_logs(client, &args.namespace, &args.pod, &opts).await?)
        })
        .await?;
    out.write_all(text.as_bytes())?;
    if !text.is_empty() && !text.ends_with('\n') {
        out.write_all(b"\n")?;
    }
    Ok(())
}
