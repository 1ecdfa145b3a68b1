//! No escalation: a user may only grant what they hold themselves, as Kubernetes' `escalate`
//! and `bind` checks (`ConfirmNoEscalation`) decide it.

use super::{CompiledRole, Policy};
use crate::resources::{Namespaces, RoleSpec, Rule, WILDCARD, resource_matches};

/// True when one of the actor's rules covers the single-entry rule (verb, group, resource).
/// A wildcard in what is granted is only covered by a wildcard the actor holds: `*` means
/// "everything, including what does not exist yet".
fn rule_covers(owner: &Rule, verb: &str, group: &str, resource: &str) -> bool {
    owner.verbs.iter().any(|v| v == WILDCARD || v == verb)
        && owner.api_groups.iter().any(|g| g == WILDCARD || g == group)
        && owner
            .resources
            .iter()
            .any(|r| resource_matches(r, resource))
}

fn held_in<'a>(
    roles: &'a [std::sync::Arc<CompiledRole>],
    ns: Option<&'a str>,
) -> impl Iterator<Item = &'a Rule> + 'a {
    roles
        .iter()
        .filter(move |r| match (ns, &r.scope) {
            (_, Namespaces::All) => true,
            (Some(ns), Namespaces::Only(set)) => set.contains(ns),
            (None, Namespaces::Only(_)) => false,
        })
        .flat_map(|r| r.rules.iter())
}

impl Policy {
    /// Checks that `actor` holds everything `spec` grants: each of its rules in each of its
    /// namespaces (all namespaces only through roles that apply to all namespaces), and each
    /// of its menu codes. `Err` says what is missing.
    pub fn check_grant(&self, actor: &str, spec: &RoleSpec) -> Result<(), String> {
        let roles = self.roles_of(actor);
        let scope = spec.scope();
        let places: Vec<Option<&str>> = match &scope {
            Namespaces::All => vec![None],
            Namespaces::Only(set) => set.iter().map(|ns| Some(ns.as_str())).collect(),
        };
        for place in &places {
            for rule in &spec.rules {
                for verb in &rule.verbs {
                    for group in &rule.api_groups {
                        for resource in &rule.resources {
                            let covered = held_in(roles, *place)
                                .any(|owned| rule_covers(owned, verb, group, resource));
                            if !covered {
                                let what = if group.is_empty() {
                                    resource.clone()
                                } else {
                                    format!("{group}/{resource}")
                                };
                                let place = match place {
                                    Some(ns) => format!("in namespace \"{ns}\""),
                                    None => "in all namespaces".to_owned(),
                                };
                                return Err(format!(
                                    "\"{actor}\" cannot grant {verb} on {what} {place}: they do not hold it"
                                ));
                            }
                        }
                    }
                }
            }
        }
        let menus: std::collections::BTreeSet<&str> = roles
            .iter()
            .flat_map(|r| r.menus.iter().map(String::as_str))
            .collect();
        if !menus.contains(WILDCARD)
            && let Some(menu) = spec.menus.iter().find(|m| !menus.contains(m.as_str()))
        {
            return Err(format!(
                "\"{actor}\" cannot grant the \"{menu}\" menu: they do not hold it"
            ));
        }
        Ok(())
    }
}
