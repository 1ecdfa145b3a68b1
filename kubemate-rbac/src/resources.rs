//! The `User` and `Role` custom resources (group `kubemate.io`, version `v1alpha1`): the single
//! source of truth of Kubemate's permissions.

use std::{collections::BTreeSet, fmt};

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

mod validate;

pub use validate::{validate_name, validate_role_spec};

/// The API group of Kubemate's custom resources.
pub const GROUP: &str = "kubemate.io";
/// The version of Kubemate's custom resources.
pub const VERSION: &str = "v1alpha1";
/// The wildcard of rules, namespaces and menu codes.
pub const WILDCARD: &str = "*";

/// A Kubemate user account. Its name is the account name (a lowercase RFC 1123 label).
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "kubemate.io",
    version = "v1alpha1",
    kind = "User",
    status = "UserStatus",
    derive = "PartialEq",
    shortname = "kmuser",
    category = "kubemate",
    doc = "A Kubemate user account; its name is the account name.",
    printcolumn = r#"{"name":"Display Name","type":"string","jsonPath":".spec.displayName"}"#,
    printcolumn = r#"{"name":"Roles","type":"string","jsonPath":".spec.roles"}"#,
    printcolumn = r#"{"name":"Disabled","type":"boolean","jsonPath":".spec.disabled"}"#,
    printcolumn = r#"{"name":"Last Login","type":"date","jsonPath":".status.lastLogin"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct UserSpec {
    /// The name shown in the console.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    /// Contact address.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
    /// The argon2id hash of the password, as a PHC string. Never the password itself.
    pub password_hash: PasswordHash,
    /// A disabled user cannot log in, its tokens are refused and it holds no permission.
    #[serde(default)]
    pub disabled: bool,
    /// Names of the Kubemate roles bound to the user.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Tokens carry the generation they were issued at; bumping it (on a password change or
    /// when disabling the user) revokes every token issued before.
    #[serde(default)]
    pub token_generation: i64,
}

/// What Kubemate observed about a user.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserStatus {
    /// The ServiceAccount created for the user, in Kubemate's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    /// The last successful login (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub last_login: Option<String>,
    /// Failed logins since the last successful one or the last lock.
    #[serde(default)]
    pub failed_logins: u32,
    /// Logins are refused until then (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub locked_until: Option<String>,
}

/// An argon2id PHC string. Its `Debug` never shows it, so a logged `User` leaks nothing.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Default, JsonSchema)]
#[serde(transparent)]
pub struct PasswordHash(pub String);

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// A Kubemate role: what may be done (rules), where (namespaces) and which console sections
/// may be seen (menu codes).
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[kube(
    group = "kubemate.io",
    version = "v1alpha1",
    kind = "Role",
    derive = "PartialEq",
    shortname = "kmrole",
    category = "kubemate",
    doc = "A Kubemate role: rules, the namespaces they apply to and menu codes.",
    printcolumn = r#"{"name":"Namespaces","type":"string","jsonPath":".spec.namespaces"}"#,
    printcolumn = r#"{"name":"Menus","type":"string","jsonPath":".spec.menus"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct RoleSpec {
    /// What the role is for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// What the role allows, as Kubernetes PolicyRules do.
    #[schemars(length(min = 1))]
    pub rules: Vec<Rule>,
    /// The namespaces the rules apply to: one, several, or `["*"]` for all namespaces (which
    /// also grants the rules on cluster-scoped resources, as a ClusterRoleBinding does).
    #[schemars(length(min = 1))]
    pub namespaces: Vec<String>,
    /// Console sections the role may see (`cicd`, `audit`, ...; `*` for all).
    #[serde(default)]
    pub menus: Vec<String>,
}

/// One rule: every verb × every API group × every resource listed, as in a Kubernetes
/// PolicyRule. `*` matches anything; `""` is the core API group; `pods/log` names a
/// subresource and `*/scale` that subresource of any resource.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// Verbs: `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection`, or `*`.
    #[schemars(length(min = 1))]
    pub verbs: Vec<String>,
    /// API groups: `""` (core), `apps`, ..., or `*`.
    #[schemars(length(min = 1))]
    pub api_groups: Vec<String>,
    /// Resources (plural, lowercase), or `*`.
    #[schemars(length(min = 1))]
    pub resources: Vec<String>,
}

impl Rule {
    /// A rule from string slices.
    pub fn new(verbs: &[&str], api_groups: &[&str], resources: &[&str]) -> Self {
        let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
        Rule {
            verbs: owned(verbs),
            api_groups: owned(api_groups),
            resources: owned(resources),
        }
    }

    /// True when this rule allows `verb` on `group`/`resource` (`resource` may be
    /// `plural/subresource`), with Kubernetes RBAC's matching.
    pub fn allows(&self, verb: &str, group: &str, resource: &str) -> bool {
        self.verbs.iter().any(|v| v == WILDCARD || v == verb)
            && self.api_groups.iter().any(|g| g == WILDCARD || g == group)
            && self.resources.iter().any(|r| resource_matches(r, resource))
    }
}

/// Kubernetes' `ResourceMatches`: `*`, the exact (sub)resource, or `*/sub` for any
/// resource's `sub`.
pub(crate) fn resource_matches(rule: &str, requested: &str) -> bool {
    if rule == WILDCARD || rule == requested {
        return true;
    }
    match (rule.strip_prefix("*/"), requested.split_once('/')) {
        (Some(rule_sub), Some((_, sub))) => rule_sub == sub,
        _ => false,
    }
}

/// Where a role applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Namespaces {
    /// Every namespace, present and future, and cluster-scoped resources.
    All,
    /// These namespaces only.
    Only(BTreeSet<String>),
}

impl Namespaces {
    /// True when `ns` is covered.
    pub fn contains(&self, ns: &str) -> bool {
        match self {
            Namespaces::All => true,
            Namespaces::Only(set) => set.contains(ns),
        }
    }

    /// The union of two scopes.
    pub fn union(&self, other: &Namespaces) -> Namespaces {
        match (self, other) {
            (Namespaces::All, _) | (_, Namespaces::All) => Namespaces::All,
            (Namespaces::Only(a), Namespaces::Only(b)) => {
                Namespaces::Only(a.union(b).cloned().collect())
            }
        }
    }

    /// No namespace at all.
    pub fn none() -> Namespaces {
        Namespaces::Only(BTreeSet::new())
    }

    /// Keeps the namespaces of `existing` that this scope covers, in their order.
    pub fn filter<'a>(&self, existing: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        existing
            .into_iter()
            .filter(|ns| self.contains(ns))
            .map(str::to_owned)
            .collect()
    }
}

impl RoleSpec {
    /// Where the role applies: [`Namespaces::All`] when `namespaces` holds `*`.
    pub fn scope(&self) -> Namespaces {
        if self.namespaces.iter().any(|n| n == WILDCARD) {
            Namespaces::All
        } else {
            Namespaces::Only(self.namespaces.iter().cloned().collect())
        }
    }
}

/// The name of the built-in administrator role.
pub const ADMIN_ROLE: &str = "admin";

impl Role {
    /// The built-in `admin` role: everything, everywhere, every menu. Kubemate keeps it as
    /// defined here whatever is stored under its name.
    pub fn admin() -> Role {
        Role::new(ADMIN_ROLE, admin_spec())
    }
}

pub(crate) fn admin_spec() -> RoleSpec {
    RoleSpec {
        description: "Kubemate administrator: every verb on every resource in every namespace"
            .to_owned(),
        rules: vec![Rule::new(&[WILDCARD], &[WILDCARD], &[WILDCARD])],
        namespaces: vec![WILDCARD.to_owned()],
        menus: vec![WILDCARD.to_owned()],
    }
}

impl User {
    /// The account name (the resource's name).
    pub fn account(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or_default()
    }

    /// When logins are refused until, if the account is locked at some time.
    pub fn locked_until(&self) -> Option<jiff::Timestamp> {
        self.status.as_ref()?.locked_until.as_deref()?.parse().ok()
    }

    /// Failed logins recorded since the last success.
    pub fn failed_logins(&self) -> u32 {
        self.status.as_ref().map_or(0, |s| s.failed_logins)
    }
}

/// The name of a role resource.
pub(crate) fn role_name(role: &Role) -> &str {
    role.metadata.name.as_deref().unwrap_or_default()
}

/// A `NotFound` error for a Kubemate user.
pub(crate) fn user_not_found(name: &str) -> Error {
    Error::NotFound {
        kind: "user",
        name: name.to_owned(),
    }
}

/// A `NotFound` error for a Kubemate role.
pub(crate) fn role_not_found(name: &str) -> Error {
    Error::NotFound {
        kind: "role",
        name: name.to_owned(),
    }
}

/// Checks a user spec's roles are well-formed names.
pub(crate) fn validate_user_roles(roles: &[String]) -> Result<()> {
    for role in roles {
        validate_name("role", role)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
