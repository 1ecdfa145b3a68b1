//! `kubemate audit query` and `kubemate audit verify`: the audit log file, no cluster.

use std::path::Path;

use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kubemate_audit::{AuditSink, Query, Record};

use crate::{
    Error, Result,
    cli::{AuditCommand, AuditQueryArgs},
    error::Code,
    output::{Out, Table, emit, line},
};

/// A time filter: RFC 3339 as it is, or an age (`90s`, `30m`, `2h`, `7d`) before `now`.
pub fn time_filter(flag: &str, value: &str, now: Timestamp) -> Result<String> {
    if value.parse::<Timestamp>().is_ok() {
        return Ok(value.to_owned());
    }
    let split = value.len().saturating_sub(1);
    let (number, unit) = value.split_at(split);
    let seconds = match (number.parse::<i64>(), unit) {
        (Ok(n), "s") if n >= 0 => n,
        (Ok(n), "m") if n >= 0 => n * 60,
        (Ok(n), "h") if n >= 0 => n * 3600,
        (Ok(n), "d") if n >= 0 => n * 86_400,
        _ => {
            return Err(Error::new(
                Code::InvalidArgument,
                format!("--{flag}: \"{value}\" is neither an RFC 3339 time nor an age like 30m"),
            ));
        }
    };
    let then = now
        .checked_sub(SignedDuration::from_secs(seconds))
        .map_err(|e| Error::new(Code::InvalidArgument, format!("--{flag}: {e}")))?;
    Ok(then.to_string())
}

fn missing(path: &Path) -> Error {
    Error::new(
        Code::AuditUnavailable,
        format!("audit log {} does not exist", path.display()),
    )
}

/// Runs `kubemate audit ...` on the log at `path`.
pub async fn run(path: &Path, out: Out<'_>, cmd: AuditCommand) -> Result<()> {
    if !path.exists() {
        return Err(missing(path));
    }
    match cmd {
        AuditCommand::Verify => verify(path, out),
        AuditCommand::Query(args) => query(path, out, &args, Timestamp::now()).await,
    }
}

fn verify(path: &Path, out: Out<'_>) -> Result<()> {
    let result = kubemate_audit::verify_file(path)?;
    // A torn line (an interrupted write) is not tampering: it is reported, and the chain is
    // checked across it.
    for torn in &result.torn {
        line(&mut *out, format!("audit log {}: {torn}", path.display()))?;
    }
    match result.broken {
        None => line(
            out,
            format!(
                "audit log {}: {} records, hash chain intact",
                path.display(),
                result.records
            ),
        ),
        Some((n, why)) => Err(Error::new(
            Code::AuditChainBroken,
            format!(
                "audit log {}: line {n}: {why} ({} records before it are intact)",
                path.display(),
                result.records
            ),
        )),
    }
}

/// The records of the log at `path` that match `args`, written as a table, YAML or JSON.
pub async fn query(path: &Path, out: Out<'_>, args: &AuditQueryArgs, now: Timestamp) -> Result<()> {
    let query = Query {
        user: args.user.clone(),
        since: args
            .since
            .as_deref()
            .map(|v| time_filter("since", v, now))
            .transpose()?,
        until: args
            .until
            .as_deref()
            .map(|v| time_filter("until", v, now))
            .transpose()?,
        namespace: args.namespace.clone(),
        verb: args.verb.clone(),
        outcome: args.outcome.clone(),
        limit: args.limit,
    };
    let sink = crate::audit::open_log(path, false)?;
    let records: Vec<Record> = sink.query(&query).await?;
    emit(out, args.output, &records, || {
        let mut t = Table::new([
            "SEQ",
            "TIME",
            "USER",
            "VERB",
            "KIND",
            "NAMESPACE",
            "NAME",
            "STAGE",
            "DECISION",
            "OUTCOME",
            "CODE",
        ]);
        for r in &records {
            let time = r.time.split('.').next().unwrap_or(&r.time);
            t.row([
                r.seq.to_string(),
                format!("{}Z", time.trim_end_matches('Z')),
                r.user.clone(),
                r.verb.clone(),
                r.kind.clone(),
                r.namespace.clone().unwrap_or_default(),
                r.name.clone().unwrap_or_default(),
                word(&r.stage),
                word(&r.decision),
                word(&r.outcome),
                r.error_code.clone().unwrap_or_default(),
            ]);
        }
        t
    })
}

/// The JSON word of a unit enum (`response`, `allowed`, `success`).
fn word<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
