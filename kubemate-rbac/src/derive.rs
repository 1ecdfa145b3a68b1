//! The Kubernetes RBAC objects derived from the `User` and `Role` resources, computed without
//! I/O. [`reconcile`](mod@crate::reconcile) makes the cluster match them.
//!
//! - every user gets a ServiceAccount `kubemate-user-<user>` in Kubemate's namespace;
//! - a role for one namespace becomes a Role `kubemate.<role>` there; for several namespaces or
//!   all of them, a ClusterRole `kubemate.<role>`;
//! - each (enabled user, role) pair becomes a RoleBinding `kubemate.<role>.<user>` in each of
//!   the role's namespaces, or a ClusterRoleBinding for a role over all namespaces, whose subject
//!   is the user's ServiceAccount.
//!
//! Kubemate's own namespace is reserved (its Secrets hold the token keys and the first
//! administrator's password; see [`Policy`](crate::Policy)): a binding there never grants
//! Secrets. A role that names it and whose rules reach Secrets gets, in that namespace, a Role
//! `kubemate.<role>` of its rules without Secrets ([`without_secrets`]), to which the
//! RoleBinding there refers. A role over all namespaces is bound by a ClusterRoleBinding, and
//! Kubernetes RBAC cannot except a namespace or a resource from one: there the authorizer
//! refuses what the RBAC would allow, and nothing reaches the cluster without the authorizer
//! (reads use the server's identity only once it allowed them).
//!
//! Names join the parts with dots: user and role names are RFC 1123 labels, which have no dots,
//! so the names cannot collide, and dots are valid in every Kubernetes object name.
//!
//! Everything is labelled (`kubemate.io/managed-by`, `kubemate.io/instance` = Kubemate's
//! namespace, and `kubemate.io/user` / `kubemate.io/role`) so that reconcile finds exactly what
//! it derived, and owned by the User (ServiceAccount, bindings) or the Role (Role, ClusterRole)
//! so that the cluster's garbage collector removes it if Kubemate does not.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use k8s_openapi::{
    api::{
        core::v1::ServiceAccount,
        rbac::v1::{
            self as rbac, ClusterRole, ClusterRoleBinding, PolicyRule, RoleBinding, RoleRef,
            Subject,
        },
    },
    apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference},
};
use kube::Resource;

use crate::resources::{
    ADMIN_ROLE, Namespaces, Role, RoleSpec, Rule, User, WILDCARD, admin_spec, role_name,
};

/// Label naming what manages an object; its value is [`MANAGED_BY_VALUE`].
pub const MANAGED_BY: &str = "kubemate.io/managed-by";
/// The value of [`MANAGED_BY`].
pub const MANAGED_BY_VALUE: &str = "kubemate";
/// Label naming the Kubemate install (its namespace) that derived an object.
pub const INSTANCE: &str = "kubemate.io/instance";
/// Label naming the Kubemate user an object was derived for.
pub const USER_LABEL: &str = "kubemate.io/user";
/// Label naming the Kubemate role an object was derived from.
pub const ROLE_LABEL: &str = "kubemate.io/role";
/// Kubemate's namespace unless configured otherwise.
pub const DEFAULT_NAMESPACE: &str = "kubemate-system";

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// The ServiceAccount of a user.
pub fn service_account_name(user: &str) -> String {
    format!("kubemate-user-{user}")
}

/// The Role or ClusterRole derived from a Kubemate role.
pub fn rbac_role_name(role: &str) -> String {
    format!("kubemate.{role}")
}

/// The RoleBinding(s) or ClusterRoleBinding of a user to a role.
pub fn binding_name(role: &str, user: &str) -> String {
    format!("kubemate.{role}.{user}")
}

/// The Kubernetes objects derived from a set of users and roles.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Derived {
    /// One per user, in Kubemate's namespace.
    pub service_accounts: Vec<ServiceAccount>,
    /// One per role over a single namespace.
    pub roles: Vec<rbac::Role>,
    /// One per role over several or all namespaces.
    pub cluster_roles: Vec<ClusterRole>,
    /// One per (enabled user, role, namespace) for roles over listed namespaces.
    pub role_bindings: Vec<RoleBinding>,
    /// One per (enabled user, role) for roles over all namespaces.
    pub cluster_role_bindings: Vec<ClusterRoleBinding>,
}

fn owner<K: Resource<DynamicType = ()>>(obj: &K) -> Option<Vec<OwnerReference>> {
    let meta = obj.meta();
    Some(vec![OwnerReference {
        api_version: K::api_version(&()).into_owned(),
        kind: K::kind(&()).into_owned(),
        name: meta.name.clone()?,
        uid: meta.uid.clone()?,
        ..Default::default()
    }])
}

fn labels(namespace: &str, pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        (MANAGED_BY.to_owned(), MANAGED_BY_VALUE.to_owned()),
        (INSTANCE.to_owned(), namespace.to_owned()),
    ]);
    for (k, v) in pairs {
        labels.insert((*k).to_owned(), (*v).to_owned());
    }
    labels
}

fn policy_rules(rules: &[Rule]) -> Vec<PolicyRule> {
    rules
        .iter()
        .map(|r| PolicyRule {
            verbs: r.verbs.clone(),
            api_groups: Some(r.api_groups.clone()),
            resources: Some(r.resources.clone()),
            ..Default::default()
        })
        .collect()
}

/// What Kubernetes RBAC may grant of `rules` in Kubemate's own namespace: the same without
/// anything that reaches the core group's Secrets. An entry naming Secrets is removed; a
/// wildcard resource (`*`, `*/sub`) of the core group (`""` or `*`) is kept only for the other
/// API groups the rule names, since RBAC cannot say "every resource but Secrets". That can grant
/// less than the role says there (never more); the authorizer decides the rest.
pub fn without_secrets(rules: &[Rule]) -> Vec<Rule> {
    let core = |g: &String| g.is_empty() || g == WILDCARD;
    let reaches = |r: &String| {
        r == WILDCARD || r == "secrets" || r.starts_with("secrets/") || r.starts_with("*/")
    };
    let mut out = Vec::new();
    for rule in rules {
        if !rule.api_groups.iter().any(core) || !rule.resources.iter().any(reaches) {
            out.push(rule.clone());
            continue;
        }
        let kept: Vec<String> = rule
            .resources
            .iter()
            .filter(|r| !reaches(r))
            .cloned()
            .collect();
        if !kept.is_empty() {
            out.push(Rule {
                verbs: rule.verbs.clone(),
                api_groups: rule.api_groups.clone(),
                resources: kept,
            });
        }
        let others: Vec<String> = rule
            .api_groups
            .iter()
            .filter(|g| !core(g))
            .cloned()
            .collect();
        let wildcards: Vec<String> = rule
            .resources
            .iter()
            .filter(|r| *r == WILDCARD || r.starts_with("*/"))
            .cloned()
            .collect();
        if !others.is_empty() && !wildcards.is_empty() {
            out.push(Rule {
                verbs: rule.verbs.clone(),
                api_groups: others,
                resources: wildcards,
            });
        }
    }
    out
}

/// The effective spec of a role: the built-in one for `admin`.
fn effective_spec(role: &Role) -> RoleSpec {
    if role_name(role) == ADMIN_ROLE {
        admin_spec()
    } else {
        role.spec.clone()
    }
}

/// Derives the Kubernetes objects of `users` and `roles` for the Kubemate install in
/// `namespace`. Users and roles without a name are ignored; roles a user names that are not in
/// `roles` give no binding.
pub fn derive(users: &[User], roles: &[Role], namespace: &str) -> Derived {
    let mut out = Derived::default();
    let mut scopes: HashMap<&str, Namespaces> = HashMap::new();
    // Roles over several namespaces, Kubemate's among them, whose rules reach Secrets: bound
    // there to a Role of their own (see the module documentation).
    let mut reserved_roles: BTreeSet<&str> = BTreeSet::new();
    for role in roles {
        let name = role_name(role);
        if name.is_empty() {
            continue;
        }
        let spec = effective_spec(role);
        let scope = spec.scope();
        let meta = |ns: Option<&str>| ObjectMeta {
            name: Some(rbac_role_name(name)),
            namespace: ns.map(str::to_owned),
            labels: Some(labels(namespace, &[(ROLE_LABEL, name)])),
            owner_references: owner(role),
            ..Default::default()
        };
        let reserved_rules = without_secrets(&spec.rules);
        let rules_for = |ns: &str| {
            if ns == namespace {
                policy_rules(&reserved_rules)
            } else {
                policy_rules(&spec.rules)
            }
        };
        match &scope {
            Namespaces::Only(set) if set.len() == 1 => {
                let ns = set.iter().next().map(String::as_str).unwrap_or_default();
                out.roles.push(rbac::Role {
                    metadata: meta(Some(ns)),
                    rules: Some(rules_for(ns)),
                });
            }
            _ => {
                out.cluster_roles.push(ClusterRole {
                    metadata: meta(None),
                    rules: Some(policy_rules(&spec.rules)),
                    ..Default::default()
                });
                if scope != Namespaces::All
                    && scope.contains(namespace)
                    && reserved_rules != spec.rules
                {
                    out.roles.push(rbac::Role {
                        metadata: meta(Some(namespace)),
                        rules: Some(policy_rules(&reserved_rules)),
                    });
                    reserved_roles.insert(name);
                }
            }
        }
        scopes.insert(name, scope);
    }
    for user in users {
        let account = user.account();
        if account.is_empty() {
            continue;
        }
        let sa = service_account_name(account);
        out.service_accounts.push(ServiceAccount {
            metadata: ObjectMeta {
                name: Some(sa.clone()),
                namespace: Some(namespace.to_owned()),
                labels: Some(labels(namespace, &[(USER_LABEL, account)])),
                owner_references: owner(user),
                ..Default::default()
            },
            ..Default::default()
        });
        if user.spec.disabled {
            // A disabled user holds no permission, in Kubemate or in Kubernetes.
            continue;
        }
        let subject = Subject {
            kind: "ServiceAccount".to_owned(),
            name: sa,
            namespace: Some(namespace.to_owned()),
            api_group: None,
        };
        let bound: BTreeSet<&str> = user.spec.roles.iter().map(String::as_str).collect();
        for role in bound {
            let Some(scope) = scopes.get(role) else {
                continue;
            };
            let meta = |ns: Option<&str>| ObjectMeta {
                name: Some(binding_name(role, account)),
                namespace: ns.map(str::to_owned),
                labels: Some(labels(
                    namespace,
                    &[(ROLE_LABEL, role), (USER_LABEL, account)],
                )),
                owner_references: owner(user),
                ..Default::default()
            };
            let role_ref = |kind: &str| RoleRef {
                api_group: Some(RBAC_GROUP.to_owned()),
                kind: kind.to_owned(),
                name: rbac_role_name(role),
            };
            match scope {
                Namespaces::All => out.cluster_role_bindings.push(ClusterRoleBinding {
                    metadata: meta(None),
                    role_ref: role_ref("ClusterRole"),
                    subjects: Some(vec![subject.clone()]),
                }),
                Namespaces::Only(set) => {
                    for ns in set {
                        let own_role =
                            set.len() == 1 || (ns == namespace && reserved_roles.contains(role));
                        let kind = if own_role { "Role" } else { "ClusterRole" };
                        out.role_bindings.push(RoleBinding {
                            metadata: meta(Some(ns)),
                            role_ref: role_ref(kind),
                            subjects: Some(vec![subject.clone()]),
                        });
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
