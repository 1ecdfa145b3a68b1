//! `kubemate get`: any catalogued kind or custom resource, as a table, YAML or JSON.

use kubemate_core::{
    DynamicObject, ListOptions, ResourceType, catalog,
    resources::{self, Summary},
};
use serde_json::{Value, json};

use super::Env;
use crate::{
    Result,
    cli::GetArgs,
    output::{Format, Out, Table, age, json as write_json, line, yaml},
};

/// An object as `-o yaml|json` shows it: with its apiVersion and kind, without the
/// bookkeeping kubectl hides too (managedFields).
fn shown(rt: &ResourceType, mut obj: DynamicObject) -> Result<Value> {
    if obj.types.is_none() {
        obj.types = Some(rt.type_meta());
    }
    obj.metadata.managed_fields = None;
    Ok(serde_json::to_value(obj)?)
}

fn write(out: Out<'_>, format: Format, value: &Value) -> Result<()> {
    match format {
        Format::Json => write_json(out, value),
        _ => yaml(out, value),
    }
}

fn table(rows: &[Summary], with_namespace: bool, now: k8s_openapi::jiff::Timestamp) -> Table {
    let with_ready = rows.iter().any(|r| r.ready.is_some());
    let with_status = rows.iter().any(|r| !r.status.is_empty());
    let mut headers = Vec::new();
    if with_namespace {
        headers.push("NAMESPACE");
    }
    headers.push("NAME");
    if with_ready {
        headers.push("READY");
    }
    if with_status {
        headers.push("STATUS");
    }
    headers.push("AGE");
    let mut t = Table::new(headers);
    for r in rows {
        let mut cells = Vec::new();
        if with_namespace {
            cells.push(r.namespace.clone().unwrap_or_default());
        }
        cells.push(r.name.clone());
        if with_ready {
            cells.push(r.ready.clone().unwrap_or_default());
        }
        if with_status {
            cells.push(r.status.clone());
        }
        cells.push(age(r.created.as_deref(), now));
        t.row(cells);
    }
    t
}

/// Runs `kubemate get`.
pub async fn run(env: &Env, out: Out<'_>, args: &GetArgs) -> Result<()> {
    let rt = catalog::resolve(env.cluster(), &args.kind).await?;
    let ns = if !rt.namespaced || args.all_namespaces {
        ""
    } else {
        args.namespace.as_deref().unwrap_or(&env.default_namespace)
    };
    let now = (env.now)();
    if let Some(name) = &args.name {
        let op = resources::Get {
            rt: rt.clone(),
            ns: ns.to_owned(),
            name: name.clone(),
        };
        let obj = env.audit.run(env.cluster(), &op).await?;
        return match args.output {
            Format::Table => table(&[resources::summarize(&rt, &obj)], false, now).write(out),
            format => write(out, format, &shown(&rt, obj)?),
        };
    }
    let list = resources::List {
        rt: rt.clone(),
        ns: ns.to_owned(),
        opts: ListOptions {
            label_selector: args.selector.clone(),
            ..Default::default()
        },
    };
    match args.output {
        Format::Table => {
            let page = env
                .audit
                .run(env.cluster(), &resources::ListSummaries(list))
                .await?;
            if page.items.is_empty() {
                return if ns.is_empty() {
                    line(out, "No resources found")
                } else {
                    line(out, format!("No resources found in {ns} namespace."))
                };
            }
            table(&page.items, rt.namespaced && ns.is_empty(), now).write(out)
        }
        format => {
            let list = env.audit.run(env.cluster(), &list).await?;
            let items = list
                .items
                .into_iter()
                .map(|o| shown(&rt, o))
                .collect::<Result<Vec<_>>>()?;
            let value = json!({
                "apiVersion": "v1",
                "kind": "List",
                "metadata": {"resourceVersion": list.resource_version},
                "items": items,
            });
            write(out, format, &value)
        }
    }
}
