//! Operations on roles: create, update and delete, each reconciled into Kubernetes RBAC.

use kubemate_core::{ClusterClientExt, DeleteOptions, ErrorKind, Propagation, ResourceType};

use super::{Actor, Rbac};
use crate::{
    Error, Result,
    reconcile::{Report, Scope},
    resources::{
        ADMIN_ROLE, Role, RoleSpec, User, role_not_found, validate_name, validate_role_spec,
    },
};

fn not_builtin(name: &str) -> Result<()> {
    if name == ADMIN_ROLE {
        Err(Error::BuiltIn {
            kind: "role",
            name: ADMIN_ROLE,
        })
    } else {
        Ok(())
    }
}

impl Rbac {
    async fn reconcile_role(&self, roles: Vec<Role>, users: &[User], name: &str) -> Result<Report> {
        self.reconcile_with(users, &roles, &Scope::Role(name.to_owned()))
            .await
    }

    /// Creates a role and its Kubernetes Role or ClusterRole (and bindings, if users already
    /// name it). `actor` needs `create` on roles and must hold everything it grants.
    pub async fn create_role<'a>(
        &self,
        actor: impl Into<Actor<'a>>,
        name: &str,
        spec: RoleSpec,
    ) -> Result<Role> {
        let actor: Actor<'_> = actor.into();
        validate_name("role", name)?;
        not_builtin(name)?;
        validate_role_spec(&spec)?;
        let snap = self.snapshot().await?;
        snap.require(actor, "create", "roles")?;
        snap.require_grant(actor, &spec)?;
        if snap.role(name).is_some() {
            return Err(Error::AlreadyExists {
                kind: "role",
                name: name.to_owned(),
            });
        }
        let stored = match self.client.create_as("", &Role::new(name, spec)).await {
            Ok(r) => r,
            Err(e) if e.is(ErrorKind::AlreadyExists) => {
                return Err(Error::AlreadyExists {
                    kind: "role",
                    name: name.to_owned(),
                });
            }
            Err(e) => return Err(Error::cluster("create role")(e)),
        };
        let roles = snap.roles.iter().cloned().chain([stored.clone()]).collect();
        self.reconcile_role(roles, &snap.users, name).await?;
        Ok(stored)
    }

    /// Replaces a role's rules, namespaces and menus, and reconciles what is derived from it
    /// (a namespace removed loses its binding, a change between one and several namespaces
    /// swaps Role and ClusterRole). `actor` needs `update` on roles and must hold everything
    /// the role grants, before and after.
    pub async fn update_role<'a>(
        &self,
        actor: impl Into<Actor<'a>>,
        name: &str,
        spec: RoleSpec,
    ) -> Result<(Role, Report)> {
        let actor: Actor<'_> = actor.into();
        validate_name("role", name)?;
        not_builtin(name)?;
        validate_role_spec(&spec)?;
        let snap = self.snapshot().await?;
        snap.require(actor, "update", "roles")?;
        let current = snap.role(name).ok_or_else(|| role_not_found(name))?;
        snap.require_grant(actor, &current.spec)?;
        snap.require_grant(actor, &spec)?;
        let mut updated = current.clone();
        updated.spec = spec;
        let stored = match self.client.replace_as("", &updated).await {
            Ok(r) => r,
            Err(e) if e.is(ErrorKind::NotFound) => return Err(role_not_found(name)),
            Err(e) => return Err(Error::cluster("update role")(e)),
        };
        let roles = snap
            .roles
            .iter()
            .filter(|r| r.metadata.name.as_deref() != Some(name))
            .cloned()
            .chain([stored.clone()])
            .collect();
        let report = self.reconcile_role(roles, &snap.users, name).await?;
        Ok((stored, report))
    }

    /// Deletes a role, unbinds it from every user and removes everything derived from it.
    /// `actor` needs `delete` on roles and `update` on users, and must hold everything the
    /// role grants.
    pub async fn delete_role<'a>(&self, actor: impl Into<Actor<'a>>, name: &str) -> Result<Report> {
        let actor: Actor<'_> = actor.into();
        validate_name("role", name)?;
        not_builtin(name)?;
        let snap = self.snapshot().await?;
        snap.require(actor, "delete", "roles")?;
        let current = snap.role(name).ok_or_else(|| role_not_found(name))?;
        snap.require_grant(actor, &current.spec)?;
        let holders: Vec<&User> = snap
            .users
            .iter()
            .filter(|u| u.spec.roles.iter().any(|r| r == name))
            .collect();
        if !holders.is_empty() {
            snap.require(actor, "update", "users")?;
        }
        let opts = DeleteOptions {
            propagation: Some(Propagation::Background),
            ..Default::default()
        };
        match self
            .client
            .delete(&ResourceType::of::<Role>(), "", name, &opts)
            .await
        {
            Ok(_) => {}
            Err(e) if e.is(ErrorKind::NotFound) => {}
            Err(e) => return Err(Error::cluster("delete role")(e)),
        }
        // A role created again later under the same name must not silently come back to the
        // users who held this one.
        let mut users = snap.users.clone();
        for user in users
            .iter_mut()
            .filter(|u| u.spec.roles.iter().any(|r| r == name))
        {
            let mut fresh: User = self
                .client
                .get_as("", user.account())
                .await
                .map_err(Error::cluster("get user"))?;
            fresh.spec.roles.retain(|r| r != name);
            *user = self
                .client
                .replace_as("", &fresh)
                .await
                .map_err(Error::cluster("unbind a deleted role"))?;
        }
        let roles = snap
            .roles
            .iter()
            .filter(|r| r.metadata.name.as_deref() != Some(name))
            .cloned()
            .collect();
        self.reconcile_role(roles, &users, name).await
    }
}
