//! The authorizer: pure, in-memory decisions from the `User` and `Role` resources.
//!
//! A [`Policy`] is built once from lists of users and roles (the server rebuilds it when they
//! change) and answers without I/O: may this user do this verb on this resource in this
//! namespace, which namespaces may they see, which console sections. Its semantics are those of
//! the Kubernetes RBAC objects Kubemate derives from the same resources, so the apiserver and
//! Kubemate agree (the integration tests compare them request by request).
//!
//! One exception, on purpose: Kubemate's own namespace is reserved. Its Secrets hold the token
//! signing keys and the first administrator's password, and the server reads with its own
//! identity once the authorizer allowed, so no role grants anything on Secrets there — not a
//! role naming the namespace, not one over all namespaces, not `admin` — nor on Secrets across
//! all namespaces (which include them). Kubernetes RBAC has no deny to say this for a role over
//! all namespaces (a ClusterRoleBinding), so there the authorizer is stricter than the derived
//! RBAC; see [`derive`](mod@crate::derive) for roles that name the namespace.

use std::{
    collections::{BTreeSet, HashMap},
    sync::Arc,
};

use crate::{
    DenyReason, Error, Result,
    derive::DEFAULT_NAMESPACE,
    resources::{ADMIN_ROLE, Namespaces, Role, Rule, User, WILDCARD, admin_spec, role_name},
    token::Claims,
};

mod escalation;

/// Console sections (menu codes) Kubemate knows. Roles may name others; `*` grants all. A
/// code that guards API routes is required by each of them (`audit` by the audit log's); the
/// others name console sections whose routes are admin-only or are still to come, and join
/// the routes they name when those exist (a YAML editor's code comes with its routes).
pub mod menu {
    /// CI/CD pipelines.
    pub const CICD: &str = "cicd";
    /// The audit log.
    pub const AUDIT: &str = "audit";
    /// Users and roles.
    pub const USERS: &str = "users";
    /// Alerts and alert rules.
    pub const ALERTS: &str = "alerts";
    /// The cloud environment inspection.
    pub const INSPECTION: &str = "inspection";
    /// Every code above.
    pub const KNOWN: &[&str] = &[CICD, AUDIT, USERS, ALERTS, INSPECTION];
}

/// Features reserved to administrators (users bound to the built-in `admin` role), whatever
/// their other roles allow. Each is required by the routes of its feature; an area is declared
/// here together with its routes (raw YAML and export/import come with theirs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdminArea {
    /// CustomResourceDefinitions and custom resources.
    CustomResources,
    /// Managing users and roles.
    UsersAndRoles,
}

impl AdminArea {
    /// Every admin-only area.
    pub const ALL: [AdminArea; 2] = [AdminArea::CustomResources, AdminArea::UsersAndRoles];

    /// A stable code for the area.
    pub fn code(self) -> &'static str {
        match self {
            AdminArea::CustomResources => "custom-resources",
            AdminArea::UsersAndRoles => "users-and-roles",
        }
    }
}

/// One request to authorize.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// The Kubernetes verb: `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection`.
    pub verb: &'a str,
    /// The API group (`""` for core).
    pub group: &'a str,
    /// The plural resource, optionally `resource/subresource` (`pods/log`).
    pub resource: &'a str,
    /// The namespace; `None` for cluster-scoped resources and requests across all namespaces.
    pub namespace: Option<&'a str>,
}

impl<'a> Request<'a> {
    /// A request in a namespace.
    pub fn namespaced(verb: &'a str, group: &'a str, resource: &'a str, ns: &'a str) -> Self {
        Request {
            verb,
            group,
            resource,
            namespace: Some(ns),
        }
    }

    /// A cluster-wide request (cluster-scoped resource, or all namespaces).
    pub fn cluster(verb: &'a str, group: &'a str, resource: &'a str) -> Self {
        Request {
            verb,
            group,
            resource,
            namespace: None,
        }
    }

    fn describe(&self) -> String {
        let what = if self.group.is_empty() {
            self.resource.to_owned()
        } else {
            format!("{}/{}", self.group, self.resource)
        };
        match self.namespace {
            Some(ns) => format!("{} {what} in namespace \"{ns}\"", self.verb),
            None => format!("{} {what} cluster-wide", self.verb),
        }
    }
}

/// The authorizer's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Refused, and why.
    Deny(DenyReason),
}

impl Decision {
    /// True for [`Decision::Allow`].
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }

    /// `Ok` when allowed, [`Error::Forbidden`] otherwise.
    pub fn into_result(self) -> Result<()> {
        match self {
            Decision::Allow => Ok(()),
            Decision::Deny(reason) => Err(Error::Forbidden(reason)),
        }
    }
}

/// A role, compiled for decisions.
#[derive(Debug)]
pub(crate) struct CompiledRole {
    pub(crate) scope: Namespaces,
    pub(crate) rules: Vec<Rule>,
    pub(crate) menus: BTreeSet<String>,
}

impl CompiledRole {
    fn of(role: &Role) -> Self {
        let spec = if role_name(role) == ADMIN_ROLE {
            admin_spec()
        } else {
            role.spec.clone()
        };
        CompiledRole {
            scope: spec.scope(),
            rules: spec.rules,
            menus: spec.menus.into_iter().collect(),
        }
    }

    fn allows(&self, req: &Request<'_>) -> bool {
        let in_scope = match (req.namespace, &self.scope) {
            (_, Namespaces::All) => true,
            (Some(ns), Namespaces::Only(set)) => set.contains(ns),
            (None, Namespaces::Only(_)) => false,
        };
        in_scope
            && self
                .rules
                .iter()
                .any(|r| r.allows(req.verb, req.group, req.resource))
    }
}

#[derive(Debug)]
struct Subject {
    uid: String,
    disabled: bool,
    generation: i64,
    admin: bool,
    roles: Vec<Arc<CompiledRole>>,
}

/// True for the core group's Secrets, their subresources included.
fn is_secrets(req: &Request<'_>) -> bool {
    req.group.is_empty() && (req.resource == "secrets" || req.resource.starts_with("secrets/"))
}

/// The in-memory permissions of every user: the authorizer.
#[derive(Debug)]
pub struct Policy {
    users: HashMap<String, Subject>,
    namespace: String,
}

impl Default for Policy {
    /// No user, and the default Kubemate namespace reserved.
    fn default() -> Self {
        Policy {
            users: HashMap::new(),
            namespace: DEFAULT_NAMESPACE.to_owned(),
        }
    }
}

impl Policy {
    /// Builds the policy from the users and roles of the Kubemate install whose namespace is
    /// `namespace` (reserved: see the [module](self) documentation). Roles a user names that do
    /// not exist grant nothing; the stored role named `admin` always has the built-in
    /// definition.
    pub fn new(users: &[User], roles: &[Role], namespace: &str) -> Self {
        // Like Kubernetes, a binding to a role that is not stored grants nothing, even for
        // `admin` (bootstrap stores it): the authorizer and the derived RBAC agree.
        let compiled: HashMap<&str, Arc<CompiledRole>> = roles
            .iter()
            .map(|r| (role_name(r), Arc::new(CompiledRole::of(r))))
            .collect();
        let users = users
            .iter()
            .map(|u| {
                let roles = u
                    .spec
                    .roles
                    .iter()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .filter_map(|name| compiled.get(name.as_str()).cloned())
                    .collect();
                let subject = Subject {
                    uid: u.metadata.uid.clone().unwrap_or_default(),
                    disabled: u.spec.disabled,
                    generation: u.spec.token_generation,
                    admin: u.spec.roles.iter().any(|r| r == ADMIN_ROLE)
                        && compiled.contains_key(ADMIN_ROLE),
                    roles,
                };
                (u.account().to_owned(), subject)
            })
            .collect();
        Policy {
            users,
            namespace: namespace.to_owned(),
        }
    }

    /// Kubemate's namespace, whose Secrets no role reaches.
    pub fn reserved_namespace(&self) -> &str {
        &self.namespace
    }

    /// True for a request on Kubemate's own Secrets: Secrets in its namespace, or across all
    /// namespaces (which include them).
    pub fn is_reserved(&self, req: &Request<'_>) -> bool {
        is_secrets(req) && req.namespace.is_none_or(|ns| ns == self.namespace)
    }

    fn active(&self, user: &str) -> Result<&Subject, DenyReason> {
        match self.users.get(user) {
            None => Err(DenyReason::UnknownUser(user.to_owned())),
            Some(s) if s.disabled => Err(DenyReason::UserDisabled(user.to_owned())),
            Some(s) => Ok(s),
        }
    }

    /// May `user` do `req`?
    pub fn authorize(&self, user: &str, req: &Request<'_>) -> Decision {
        match self.active(user) {
            Err(reason) => Decision::Deny(reason),
            Ok(_) if self.is_reserved(req) => Decision::Deny(DenyReason::Reserved {
                user: user.to_owned(),
                request: req.describe(),
            }),
            Ok(s) if s.roles.iter().any(|r| r.allows(req)) => Decision::Allow,
            Ok(_) => Decision::Deny(DenyReason::NotPermitted {
                user: user.to_owned(),
                request: req.describe(),
            }),
        }
    }

    /// The namespaces `user` may use: the union of their roles' namespaces (none for unknown or
    /// disabled users). Intersect with the cluster's namespaces through [`Namespaces::filter`].
    pub fn namespaces(&self, user: &str) -> Namespaces {
        match self.active(user) {
            Err(_) => Namespaces::none(),
            Ok(s) => s
                .roles
                .iter()
                .fold(Namespaces::none(), |acc, r| acc.union(&r.scope)),
        }
    }

    /// The console sections `user` may see (`*` means all).
    pub fn menu_codes(&self, user: &str) -> BTreeSet<String> {
        match self.active(user) {
            Err(_) => BTreeSet::new(),
            Ok(s) => s
                .roles
                .iter()
                .flat_map(|r| r.menus.iter().cloned())
                .collect(),
        }
    }

    /// May `user` see the console section `menu`? The server checks this on every endpoint of
    /// the section, not only the console.
    pub fn menu_allowed(&self, user: &str, menu: &str) -> Decision {
        match self.active(user) {
            Err(reason) => Decision::Deny(reason),
            Ok(s)
                if s.roles
                    .iter()
                    .any(|r| r.menus.contains(WILDCARD) || r.menus.contains(menu)) =>
            {
                Decision::Allow
            }
            Ok(_) => Decision::Deny(DenyReason::MenuNotGranted {
                user: user.to_owned(),
                menu: menu.to_owned(),
            }),
        }
    }

    /// True when `user` is an enabled administrator (bound to the built-in `admin` role).
    pub fn is_admin(&self, user: &str) -> bool {
        self.active(user).is_ok_and(|s| s.admin)
    }

    /// May `user` use an admin-only area?
    pub fn area_allowed(&self, user: &str, area: AdminArea) -> Decision {
        match self.active(user) {
            Err(reason) => Decision::Deny(reason),
            Ok(s) if s.admin => Decision::Allow,
            Ok(_) => Decision::Deny(DenyReason::AdminOnly {
                user: user.to_owned(),
                area: area.code(),
            }),
        }
    }

    /// The token generation of an enabled user (`None` when unknown or disabled): a token is
    /// valid only while its generation equals this.
    pub fn token_generation(&self, user: &str) -> Option<i64> {
        self.active(user).ok().map(|s| s.generation)
    }

    /// Does the account still accept a token with these (verified) claims? The account must
    /// exist and be enabled, be the same account (uid: a deleted and re-created user of the
    /// same name has another one) and not have revoked it (same token generation).
    pub fn check_token(&self, claims: &Claims) -> Result<()> {
        let Ok(s) = self.active(&claims.sub) else {
            return Err(Error::InvalidToken(
                "the user does not exist or is disabled",
            ));
        };
        if s.uid.is_empty() || s.uid != claims.uid {
            return Err(Error::InvalidToken(
                "issued to another account of that name",
            ));
        }
        if s.generation != claims.generation {
            return Err(Error::InvalidToken("revoked"));
        }
        Ok(())
    }

    pub(crate) fn roles_of(&self, user: &str) -> &[Arc<CompiledRole>] {
        self.active(user).map_or(&[], |s| s.roles.as_slice())
    }
}

#[cfg(test)]
mod tests;
