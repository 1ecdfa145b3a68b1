//! `kubemate app create`: the app wizard from an AppSpec in YAML.

use std::path::Path;

use kubemate_core::{
    Code,
    access::Operation,
    wizard::{AppSpec, CreateApp, CreateOptions, Registries, StepReport, StepStatus},
};

use super::{Env, Io};
use crate::{
    Error, Result,
    cli::AppCommand,
    output::{Format, Out, Table, emit},
};

fn read_spec(io: &mut Io<'_>, file: &Path) -> Result<AppSpec> {
    let (text, from) = if file.as_os_str() == "-" {
        (io.read_stdin()?, "standard input".to_owned())
    } else {
        let text = std::fs::read_to_string(file)
            .map_err(|e| Error::invalid(format!("cannot read {}: {e}", file.display())))?;
        (text, file.display().to_string())
    };
    serde_yaml::from_str(&text)
        .map_err(|e| Error::invalid(format!("{from} is not an AppSpec: {e}")))
}

fn status(s: StepStatus) -> &'static str {
    match s {
        StepStatus::Done => "created",
        StepStatus::NotRequested => "not requested",
        StepStatus::Skipped => "skipped",
        StepStatus::Failed => "failed",
    }
}

/// Runs `kubemate app ...`.
pub async fn run(env: &Env, io: &mut Io<'_>, cmd: AppCommand) -> Result<()> {
    let AppCommand::Create {
        file,
        registries,
        dry_run,
        output,
    } = cmd;
    let spec = read_spec(io, &file)?;
    if registries.is_empty() {
        return Err(Error::invalid(
            "no image registry is allowed: pass --registry HOST (or set KUBEMATE_REGISTRIES) \
             for the registries apps may use",
        ));
    }
    let op = CreateApp {
        spec,
        registries: Registries::new(registries),
        opts: CreateOptions { dry_run },
    };
    let spec = &op.spec;
    let out = &mut *io.out;
    // Not [`Auditor::run`]: a step that failed after the Deployment fails the record too.
    env.audit
        .change(op.target(), async {
            let outcome = op.run(env.cluster()).await?;
            let report = outcome.report();
            show(out, output, &report, dry_run)?;
            // A step after the Deployment that failed fails the command (and its audit
            // record), after the report has said what was created.
            match report.iter().find(|r| r.status == StepStatus::Failed) {
                Some(failed) => Err(Error::new(
                    failed.code.unwrap_or(Code::InternalError),
                    format!(
                        "app \"{}\": the Deployment was created but the {} step failed: {}",
                        spec.name,
                        failed.step,
                        failed.message.clone().unwrap_or_default()
                    ),
                )),
                None => Ok(()),
            }
        })
        .await
}

fn show(out: Out<'_>, output: Format, report: &[StepReport], dry_run: bool) -> Result<()> {
    emit(out, output, report, || {
        let mut t = Table::new(["STEP", "OBJECT", "RESULT", "MESSAGE"]);
        for r in report {
            let object = match (&r.kind, &r.name) {
                (Some(k), Some(n)) => format!("{}/{n}", k.to_ascii_lowercase()),
                _ => String::new(),
            };
            let mut result = status(r.status).to_owned();
            if dry_run && r.status == StepStatus::Done {
                result.push_str(" (dry run)");
            }
            let message = match (&r.code, &r.message) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                _ => String::new(),
            };
            t.row([r.step.clone(), object, result, message]);
        }
        t
    })
}
