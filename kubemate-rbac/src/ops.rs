//! Kubemate's own operations (users, roles, the token key) as values that every frontend runs
//! the same way.
//!
//! They are the counterpart of core's [`kubemate_core::access::Operation`] for what Kubemate
//! performs with its own identity after its own checks: an [`AdminOperation`] names its audit
//! [`Target`], the administration area it belongs to and the Kubemate requests it needs (verbs
//! on `users.kubemate.io` or `roles.kubemate.io`, as [`crate::Policy`] decides them), and runs
//! on an [`Rbac`] for an [`Actor`]. The server authorizes the area and the requests, writes
//! the pending audit record, runs the operation for the caller and refreshes its policy after
//! a change; the CLI audits it and runs it as the operator. Neither frontend builds a target
//! or keeps a list of requests of its own.

use std::{future::Future, time::Duration};

use kubemate_core::access::{Access, Target};

use crate::{
    Actor, AdminArea, NewUser, Password, Rbac, Report, Result, Role, RoleSpec, Rotation, User,
    resources::GROUP,
};

/// An operation on Kubemate's users, roles or keys.
pub trait AdminOperation: Send + Sync {
    /// What a successful run returns.
    type Output: Send;

    /// What the operation is about, for the audit record.
    fn target(&self) -> Target;

    /// The administration area a Kubemate user needs to run it.
    fn area(&self) -> AdminArea {
        AdminArea::UsersAndRoles
    }

    /// The requests a Kubemate user needs to run it: verbs on Kubemate's own resources
    /// (cluster-wide, group `kubemate.io`) for users and roles, on which Kubemate's escalation
    /// checks come on top when it runs; the Kubernetes requests of an operation that Kubemate
    /// performs on the cluster directly (the CRDs).
    fn access(&self) -> Vec<Access>;

    /// True when the operation changes something (it gets a record before it runs).
    fn mutates(&self) -> bool;

    /// True when a successful or failed run may have changed who may do what, so that a
    /// frontend caching the policy refreshes it.
    fn changes_policy(&self) -> bool {
        self.mutates()
    }

    /// Checks the inputs that need no request; a frontend calls it once the caller is
    /// authorized.
    fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// Runs the operation for `actor`.
    fn run(
        &self,
        rbac: &Rbac,
        actor: Actor<'_>,
    ) -> impl Future<Output = Result<Self::Output>> + Send;
}

/// `verb` on Kubemate's `resource` (`users`, `roles`), cluster-wide.
fn kubemate(verb: &'static str, resource: &str) -> Vec<Access> {
    vec![Access {
        verb,
        group: GROUP.to_owned(),
        resource: resource.to_owned(),
        subresource: None,
        namespace: None,
        name: None,
    }]
}

fn user(verb: &str, name: &str) -> Target {
    Target::new(verb, "users").name(name)
}

fn role(verb: &str, name: &str) -> Target {
    Target::new(verb, "roles").name(name)
}

/// Every user.
#[derive(Debug, Clone, Default)]
pub struct ListUsers;

impl AdminOperation for ListUsers {
    type Output = Vec<User>;
    fn target(&self) -> Target {
        Target::new("list", "users")
    }
    fn access(&self) -> Vec<Access> {
        kubemate("list", "users")
    }
    fn mutates(&self) -> bool {
        false
    }
    async fn run(&self, rbac: &Rbac, _: Actor<'_>) -> Result<Vec<User>> {
        rbac.users().await
    }
}

/// One user.
#[derive(Debug, Clone)]
pub struct GetUser(pub String);

impl AdminOperation for GetUser {
    type Output = User;
    fn target(&self) -> Target {
        user("get", &self.0)
    }
    fn access(&self) -> Vec<Access> {
        kubemate("get", "users")
    }
    fn mutates(&self) -> bool {
        false
    }
    async fn run(&self, rbac: &Rbac, _: Actor<'_>) -> Result<User> {
        rbac.user(&self.0).await
    }
}

/// Creates a user ([`Rbac::create_user`]).
#[derive(Debug, Clone)]
pub struct CreateUser(pub NewUser);

impl AdminOperation for CreateUser {
    type Output = User;
    fn target(&self) -> Target {
        user("create", &self.0.name)
    }
    fn access(&self) -> Vec<Access> {
        kubemate("create", "users")
    }
    fn mutates(&self) -> bool {
        true
    }
    async fn run(&self, rbac: &Rbac, actor: Actor<'_>) -> Result<User> {
        rbac.create_user(actor, self.0.clone()).await
    }
}

/// Deletes a user and everything derived for it ([`Rbac::delete_user`]).
#[derive(Debug, Clone)]
pub struct DeleteUser(pub String);

impl AdminOperation for DeleteUser {
    type Output = Report;
    fn target(&self) -> Target {
        user("delete", &self.0)
    }
    fn access(&self) -> Vec<Access> {
        kubemate("delete", "users")
    }
    fn mutates(&self) -> bool {
        true
    }
    async fn run(&self, rbac: &Rbac, actor: Actor<'_>) -> Result<Report> {
        rbac.delete_user(actor, &self.0).await
    }
}

/// Binds a role to a user, or unbinds it ([`Rbac::bind`], [`Rbac::unbind`]). Its target's
/// kind is `users/roles` and its name `USER/ROLE`.
#[derive(Debug, Clone)]
pub struct SetBinding {
    /// The user.
    pub user: String,
    /// The role.
    pub role: String,
    /// True to bind, false to unbind.
    pub bound: bool,
}

impl AdminOperation for SetBinding {
    type Output = Report;
    fn target(&self) -> Target {
        let verb = if self.bound { "bind" } else { "unbind" };
        Target::new(verb, "users/roles").name(&format!("{}/{}", self.user, self.role))
    }
    fn access(&self) -> Vec<Access> {
        kubemate("update", "users")
    }
    fn mutates(&self) -> bool {
        true
    }
    async fn run(&self, rbac: &Rbac, actor: Actor<'_>) -> Result<Report> {
        if self.bound {
            rbac.bind(actor, &self.user, &self.role).await
        } else {
            rbac.unbind(actor, &self.user, &self.role).await
        }
    }
}

/// Resets a user's password ([`Rbac::set_password`]); the password is checked before it runs.
#[derive(Debug, Clone)]
pub struct SetPassword {
    /// The user.
    pub user: String,
    /// The new password.
    pub password: Password,
}

impl AdminOperation for SetPassword {
    type Output = User;
    fn target(&self) -> Target {
        user("set-password", &self.user)
    }
    fn access(&self) -> Vec<Access> {
        kubemate("update", "users")
    }
    fn mutates(&self) -> bool {
        true
    }
    fn validate(&self) -> Result<()> {
        self.password.validate()
    }
    async fn run(&self, rbac: &Rbac, actor: Actor<'_>) -> Result<User> {
        rbac.set_password(actor, &self.user, &self.password).await
    }
}

/// Disables or enables a user ([`Rbac::set_disabled`]).
#[derive(Debug, Clone)]
pub struct SetDisabled {
    /// The user.
    pub user: String,
    /// True to disable.
    pub disabled: bool,
}

impl AdminOperation for SetDisabled {
    type Output = User;
    fn target(&self) -> Target {
        user(if self.disabled { "disable" } else { "enable" }, &self.user)
    }
    fn access(&self) -> Vec<Access> {
        kubemate("update", "users")
    }
    fn mutates(&self) -> bool {
        true
    }
    async fn run(&self, rbac: &Rbac, actor: Actor<'_>) -> Result<User> {
        rbac.set_disabled(actor, &self.user, self.disabled).await
    }
}

/// Lifts a user's lockout ([`Rbac::unlock_user`]); permissions are unchanged.
#[derive(Debug, Clone)]
pub struct Unlock(pub String);

impl AdminOperation for Unlock {
    type Output = User;
    fn target(&self) -> Target {
        user("unlock", &self.0)
    }
    fn access(&self) -> Vec<Access> {
        kubemate("update", "users")
    }
    fn mutates(&self) -> bool {
        true
    }
    fn changes_policy(&self) -> bool {
        false
    }
    async fn run(&self, rbac: &Rbac, actor: Actor<'_>) -> Result<User> {
        rbac.unlock_user(actor, &self.0).await
    }
}

/// Every role.
#[derive(Debug, Clone, Default)]
pub struct ListRoles;

impl AdminOperation for ListRoles {
    type Output = Vec<Role>;
    fn target(&self) -> Target {
        Target::new("list", "roles")
    }
    fn access(&self) -> Vec<Access> {
        kubemate("list", "roles")
    }
    fn mutates(&self) -> bool {
        false
    }
    async fn run(&self, rbac: &Rbac, _: Actor<'_>) -> Result<Vec<Role>> {
        rbac.roles().await
    }
}

/// One role.
#[derive(Debug, Clone)]
pub struct GetRole(pub String);

impl AdminOperation for GetRole {
    type Output = Role;
    fn target(&self) -> Target {
        role("get", &self.0)
    }
    fn access(&self) -> Vec<Access> {
        kubemate("get", "roles")
    }
    fn mutates(&self) -> bool {
        false
    }
    async fn run(&self, rbac: &Rbac, _: Actor<'_>) -> Result<Role> {
        rbac.roles()
            .await?
            .into_iter()
            .find(|r| r.metadata.name.as_deref() == Some(self.0.as_str()))
            .ok_or_else(|| crate::Error::NotFound {
                kind: "role",
                name: self.0.clone(),
            })
    }
}

/// Creates a role ([`Rbac::create_role`]).
#[derive(Debug, Clone)]
pub struct CreateRole {
    /// The role's name.
    pub name: String,
    /// Its rules, namespaces and menus.
    pub spec: RoleSpec,
}

impl AdminOperation for CreateRole {
    type Output = Role;
    fn target(&self) -> Target {
        role("create", &self.name)
    }
    fn access(&self) -> Vec<Access> {
        kubemate("create", "roles")
    }
    fn mutates(&self) -> bool {
        true
    }
    async fn run(&self, rbac: &Rbac, actor: Actor<'_>) -> Result<Role> {
        rbac.create_role(actor, &self.name, self.spec.clone()).await
    }
}

/// Replaces a role's spec ([`Rbac::update_role`]). `stated_name` is the name the new
/// description gives, if any: it must be the role's.
#[derive(Debug, Clone)]
pub struct ReplaceRole {
    /// The role's name.
    pub name: String,
    /// The name the replacement states (`None`: it states none).
    pub stated_name: Option<String>,
    /// Its new rules, namespaces and menus.
    pub spec: RoleSpec,
}

impl AdminOperation for ReplaceRole {
    type Output = (Role, Report);
    fn target(&self) -> Target {
        role("update", &self.name)
    }
    fn access(&self) -> Vec<Access> {
        kubemate("update", "roles")
    }
    fn mutates(&self) -> bool {
        true
    }
    fn validate(&self) -> Result<()> {
        match &self.stated_name {
            Some(stated) if *stated != self.name => Err(crate::Error::Invalid(format!(
                "name: \"{stated}\" does not match the name of the path, \"{}\"",
                self.name
            ))),
            _ => Ok(()),
        }
    }
    async fn run(&self, rbac: &Rbac, actor: Actor<'_>) -> Result<(Role, Report)> {
        rbac.update_role(actor, &self.name, self.spec.clone()).await
    }
}

/// Deletes a role, unbinding it from every user ([`Rbac::delete_role`], which also needs
/// `update` on users when the role is bound).
#[derive(Debug, Clone)]
pub struct DeleteRole(pub String);

impl AdminOperation for DeleteRole {
    type Output = Report;
    fn target(&self) -> Target {
        role("delete", &self.0)
    }
    fn access(&self) -> Vec<Access> {
        kubemate("delete", "roles")
    }
    fn mutates(&self) -> bool {
        true
    }
    async fn run(&self, rbac: &Rbac, actor: Actor<'_>) -> Result<Report> {
        rbac.delete_role(actor, &self.0).await
    }
}

/// Rotates the token signing key ([`Rbac::rotate_token_key`]) in the key Secret of `rbac`'s
/// namespace. Only an operator runs it (no route does): it declares no Kubemate request, as
/// the operator's own Kubernetes identity must be allowed to update the Secret.
#[derive(Debug, Clone)]
pub struct RotateTokenKey {
    /// Kubemate's namespace.
    pub namespace: String,
    /// The key Secret's name.
    pub secret: String,
}

impl AdminOperation for RotateTokenKey {
    type Output = Rotation;
    fn target(&self) -> Target {
        Target::new("rotate", "secrets")
            .ns(&self.namespace)
            .name(&self.secret)
    }
    fn access(&self) -> Vec<Access> {
        Vec::new()
    }
    fn mutates(&self) -> bool {
        true
    }
    fn changes_policy(&self) -> bool {
        false
    }
    async fn run(&self, rbac: &Rbac, _: Actor<'_>) -> Result<Rotation> {
        rbac.rotate_token_key().await
    }
}

/// Installs the CRDs of users and roles and waits until they are served ([`install_crds`]).
/// Its target names them all, comma-separated.
///
/// [`install_crds`]: crate::install_crds
#[derive(Debug, Clone)]
pub struct InstallCrds {
    /// How long to wait for the apiserver to serve them.
    pub timeout: Duration,
}

impl AdminOperation for InstallCrds {
    type Output = ();
    fn target(&self) -> Target {
        let names: Vec<String> = crate::crds()
            .into_iter()
            .filter_map(|c| c.metadata.name)
            .collect();
        Target::new("install", "customresourcedefinitions").name(&names.join(","))
    }
    fn area(&self) -> AdminArea {
        AdminArea::CustomResources
    }
    fn access(&self) -> Vec<Access> {
        let on_crds = |verb| Access {
            verb,
            group: "apiextensions.k8s.io".to_owned(),
            resource: "customresourcedefinitions".to_owned(),
            subresource: None,
            namespace: None,
            name: None,
        };
        vec![on_crds("patch"), on_crds("get")]
    }
    fn mutates(&self) -> bool {
        true
    }
    fn changes_policy(&self) -> bool {
        false
    }
    async fn run(&self, rbac: &Rbac, _: Actor<'_>) -> Result<()> {
        crate::install_crds(rbac.client(), self.timeout).await
    }
}
