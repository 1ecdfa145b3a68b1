//! `kubemate events`: events, newest first, repeats folded.

use kubemate_core::events;

use super::Env;
use crate::{
    Result,
    cli::EventsArgs,
    output::{Out, Table, age, emit, line},
};

/// Runs `kubemate events`.
pub async fn run(env: &Env, out: Out<'_>, args: &EventsArgs) -> Result<()> {
    let ns = args.namespace.as_deref().unwrap_or_default();
    let op = events::ListEvents {
        ns: ns.to_owned(),
        warnings: args.warnings,
    };
    let list = env.audit.run(env.cluster(), &op).await?;
    if list.is_empty() && args.output == crate::output::Format::Table {
        return line(out, "No events found");
    }
    let now = (env.now)();
    let all = ns.is_empty();
    emit(out, args.output, &list, || {
        let mut headers = Vec::new();
        if all {
            headers.push("NAMESPACE");
        }
        headers.extend(["LAST SEEN", "TYPE", "REASON", "OBJECT", "COUNT", "MESSAGE"]);
        let mut t = Table::new(headers);
        for e in &list {
            let mut cells = Vec::new();
            if all {
                cells.push(e.namespace.clone());
            }
            cells.extend([
                age(e.last_seen.as_deref(), now),
                e.type_.clone(),
                e.reason.clone(),
                format!(
                    "{}/{}",
                    e.involved.kind.to_ascii_lowercase(),
                    e.involved.name
                ),
                e.count.to_string(),
                e.message.clone(),
            ]);
            t.row(cells);
        }
        t
    })
}
