//! `kubemate role ...`: Kubemate roles, managed as the operator.

use kubemate_rbac::{
    Role, RoleSpec,
    ops::{CreateRole, DeleteRole, ListRoles},
};
use serde::Serialize;

use super::Env;
use crate::{
    Result,
    cli::{RoleCommand, parse::format_rule},
    output::{Out, Table, age, emit, line, or_none},
};

/// What `role list -o yaml|json` shows of a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleView {
    /// The role's name.
    pub name: String,
    /// Its rules, namespaces and menus.
    #[serde(flatten)]
    pub spec: RoleSpec,
    /// Creation time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
}

impl From<&Role> for RoleView {
    fn from(r: &Role) -> Self {
        RoleView {
            name: r.metadata.name.clone().unwrap_or_default(),
            spec: r.spec.clone(),
            created: r
                .metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.to_string()),
        }
    }
}

/// Runs `kubemate role ...`.
pub async fn run(env: &Env, out: Out<'_>, cmd: RoleCommand) -> Result<()> {
    let rbac = env.rbac();
    match cmd {
        RoleCommand::Create {
            name,
            namespaces,
            all_namespaces,
            rules,
            menus,
            description,
        } => {
            let spec = RoleSpec {
                description: description.unwrap_or_default(),
                rules: rules.into_iter().flat_map(|r| r.0).collect(),
                namespaces: if all_namespaces {
                    vec!["*".to_owned()]
                } else {
                    namespaces
                },
                menus,
            };
            let op = CreateRole {
                name: name.clone(),
                spec,
            };
            env.audit.admin(&rbac, &op).await?;
            line(out, format!("role/{name} created"))
        }
        RoleCommand::List { output } => {
            let roles = env.audit.admin(&rbac, &ListRoles).await?;
            let views: Vec<RoleView> = roles.iter().map(RoleView::from).collect();
            let now = (env.now)();
            emit(out, output, &views, || {
                let mut t = Table::new(["NAME", "NAMESPACES", "RULES", "MENUS", "AGE"]);
                for r in &views {
                    let rules: Vec<String> = r.spec.rules.iter().map(format_rule).collect();
                    t.row([
                        r.name.clone(),
                        or_none(&r.spec.namespaces),
                        rules.join(" "),
                        or_none(&r.spec.menus),
                        age(r.created.as_deref(), now),
                    ]);
                }
                t
            })
        }
        RoleCommand::Delete { name } => {
            env.audit.admin(&rbac, &DeleteRole(name.clone())).await?;
            line(out, format!("role/{name} deleted"))
        }
    }
}
