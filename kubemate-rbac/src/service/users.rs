//! Operations on users: create, profile, password, disable, delete, bind and unbind.

use kubemate_core::{ClusterClientExt, DeleteOptions, ErrorKind, Propagation, ResourceType};
use serde_json::json;

use super::{Actor, Rbac, Snapshot, not_self};
use crate::{
    Error, Result,
    password::Password,
    reconcile::{Report, Scope},
    resources::{
        ADMIN_ROLE, User, UserSpec, role_not_found, user_not_found, validate_name,
        validate_user_roles,
    },
};

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Account name (a lowercase RFC 1123 label).
    pub name: String,
    /// Name shown in the console.
    pub display_name: String,
    /// Contact address.
    pub email: String,
    /// The initial password.
    pub password: Password,
    /// Roles to bind.
    pub roles: Vec<String>,
}

const CONFLICT_RETRIES: usize = 5;

impl Rbac {
    /// Re-reads `name`, applies `change` to its spec and replaces it, retrying on conflicts;
    /// then reconciles the user's objects. Returns the stored user.
    async fn modify_user(
        &self,
        snap: &Snapshot,
        name: &str,
        change: impl Fn(&mut UserSpec),
    ) -> Result<(User, Report)> {
        let mut attempt = 0;
        let stored = loop {
            let mut user = self.user(name).await?;
            change(&mut user.spec);
            match self.client.replace_as("", &user).await {
                Ok(stored) => break stored,
                Err(e) if e.is(ErrorKind::Conflict) && attempt + 1 < CONFLICT_RETRIES => {
                    attempt += 1;
                }
                Err(e) if e.is(ErrorKind::NotFound) => return Err(user_not_found(name)),
                Err(e) => return Err(Error::cluster("update user")(e)),
            }
        };
        let users: Vec<User> = snap
            .users
            .iter()
            .filter(|u| u.account() != name)
            .cloned()
            .chain([stored.clone()])
            .collect();
        let report = self
            .reconcile_with(&users, &snap.roles, &Scope::User(name.to_owned()))
            .await?;
        Ok((stored, report))
    }

    fn target<'a>(snap: &'a Snapshot, name: &str) -> Result<&'a User> {
        snap.user(name).ok_or_else(|| user_not_found(name))
    }

    /// Creates a user with a password and roles, and its ServiceAccount and bindings. `actor`
    /// needs `create` on users and must hold every role given.
    pub async fn create_user<'a>(&self, actor: impl Into<Actor<'a>>, new: NewUser) -> Result<User> {
        let actor: Actor<'_> = actor.into();
        validate_name("user", &new.name)?;
        validate_user_roles(&new.roles)?;
        new.password.validate()?;
        let snap = self.snapshot().await?;
        snap.require(actor, "create", "users")?;
        for role in &new.roles {
            let spec = snap
                .effective_spec(role)
                .ok_or_else(|| role_not_found(role))?;
            snap.require_grant(actor, &spec)?;
        }
        if snap.user(&new.name).is_some() {
            return Err(Error::AlreadyExists {
                kind: "user",
                name: new.name,
            });
        }
        let mut roles = new.roles;
        roles.sort();
        roles.dedup();
        let user = User::new(
            &new.name,
            UserSpec {
                display_name: new.display_name,
                email: new.email,
                password_hash: self.hasher.hash(&new.password).await?,
                disabled: false,
                roles,
                token_generation: 0,
            },
        );
        self.create_user_unchecked(&snap, user).await
    }

    pub(crate) async fn create_user_unchecked(&self, snap: &Snapshot, user: User) -> Result<User> {
        let name = user.account().to_owned();
        let stored = match self.client.create_as("", &user).await {
            Ok(stored) => stored,
            Err(e) if e.is(ErrorKind::AlreadyExists) => {
                return Err(Error::AlreadyExists { kind: "user", name });
            }
            Err(e) => return Err(Error::cluster("create user")(e)),
        };
        let users: Vec<User> = snap.users.iter().cloned().chain([stored.clone()]).collect();
        self.reconcile_with(&users, &snap.roles, &Scope::User(name))
            .await?;
        Ok(stored)
    }

    /// Changes a user's display name and email. Users may change their own; changing
    /// another's needs `update` on users.
    pub async fn update_profile<'a>(
        &self,
        actor: impl Into<Actor<'a>>,
        name: &str,
        display_name: &str,
        email: &str,
    ) -> Result<User> {
        let actor: Actor<'_> = actor.into();
        let snap = self.snapshot().await?;
        if actor != Actor::User(name) {
            snap.require(actor, "update", "users")?;
        } else if snap.policy.token_generation(name).is_none() {
            return Err(Error::Forbidden(crate::DenyReason::UserDisabled(
                name.to_owned(),
            )));
        }
        Self::target(&snap, name)?;
        let (user, _) = self
            .modify_user(&snap, name, |spec| {
                display_name.clone_into(&mut spec.display_name);
                email.clone_into(&mut spec.email);
            })
            .await?;
        Ok(user)
    }

    /// Sets another user's password (an administrator's reset): revokes their tokens and lifts
    /// a lockout. `actor` needs `update` on users and must hold every role of the user.
    pub async fn set_password<'a>(
        &self,
        actor: impl Into<Actor<'a>>,
        name: &str,
        new: &Password,
    ) -> Result<User> {
        let actor: Actor<'_> = actor.into();
        new.validate()?;
        let snap = self.snapshot().await?;
        snap.require(actor, "update", "users")?;
        not_self(actor, name, "reset the password of (use change_password)")?;
        snap.require_covers_user(actor, Self::target(&snap, name)?)?;
        let hashed = self.hasher.hash(new).await?;
        let (user, _) = self
            .modify_user(&snap, name, |spec| {
                spec.password_hash = hashed.clone();
                spec.token_generation += 1;
            })
            .await?;
        self.clear_lock(name).await?;
        self.forget_admin_password(name).await;
        Ok(user)
    }

    /// A user changes their own password, proving the current one: revokes their tokens,
    /// including the one used for this request.
    pub async fn change_password(
        &self,
        name: &str,
        current: &Password,
        new: &Password,
    ) -> Result<User> {
        new.validate()?;
        let user = match self.user(name).await {
            Ok(u) => u,
            Err(Error::NotFound { .. }) => return Err(Error::InvalidCredentials),
            Err(e) => return Err(e),
        };
        if user.spec.disabled {
            return Err(Error::AccountDisabled);
        }
        if !self
            .hasher
            .verify(current, &user.spec.password_hash)
            .await?
        {
            return Err(Error::InvalidCredentials);
        }
        let hashed = self.hasher.hash(new).await?;
        let snap = self.snapshot().await?;
        let (user, _) = self
            .modify_user(&snap, name, |spec| {
                spec.password_hash = hashed.clone();
                spec.token_generation += 1;
            })
            .await?;
        self.forget_admin_password(name).await;
        Ok(user)
    }

    /// Disables or enables a user. Disabling revokes its tokens and removes its Kubernetes
    /// bindings; enabling restores them. Not on oneself; `actor` needs `update` on users and
    /// must hold every role of the user.
    pub async fn set_disabled<'a>(
        &self,
        actor: impl Into<Actor<'a>>,
        name: &str,
        disabled: bool,
    ) -> Result<User> {
        let actor: Actor<'_> = actor.into();
        let snap = self.snapshot().await?;
        snap.require(actor, "update", "users")?;
        not_self(actor, name, "disable or enable")?;
        let target = Self::target(&snap, name)?;
        snap.require_covers_user(actor, target)?;
        if target.spec.disabled == disabled {
            return Ok(target.clone());
        }
        let (user, _) = self
            .modify_user(&snap, name, |spec| {
                spec.disabled = disabled;
                if disabled {
                    spec.token_generation += 1;
                }
            })
            .await?;
        Ok(user)
    }

    /// Deletes a user and everything derived for it. Not oneself; `actor` needs `delete` on
    /// users and must hold every role of the user.
    pub async fn delete_user<'a>(&self, actor: impl Into<Actor<'a>>, name: &str) -> Result<Report> {
        let actor: Actor<'_> = actor.into();
        let snap = self.snapshot().await?;
        snap.require(actor, "delete", "users")?;
        not_self(actor, name, "delete")?;
        snap.require_covers_user(actor, Self::target(&snap, name)?)?;
        let opts = DeleteOptions {
            propagation: Some(Propagation::Background),
            ..Default::default()
        };
        match self
            .client
            .delete(&ResourceType::of::<User>(), "", name, &opts)
            .await
        {
            Ok(_) => {}
            Err(e) if e.is(ErrorKind::NotFound) => {}
            Err(e) => return Err(Error::cluster("delete user")(e)),
        }
        // The garbage collector would remove the dependents too; doing it now means nothing
        // the user held outlives the call.
        let users: Vec<User> = snap
            .users
            .iter()
            .filter(|u| u.account() != name)
            .cloned()
            .collect();
        self.reconcile_with(&users, &snap.roles, &Scope::User(name.to_owned()))
            .await
    }

    /// Binds `role` to user `name` and creates its bindings. Not on oneself; `actor` needs
    /// `update` on users and must hold everything the role grants.
    pub async fn bind<'a>(
        &self,
        actor: impl Into<Actor<'a>>,
        name: &str,
        role: &str,
    ) -> Result<Report> {
        let actor: Actor<'_> = actor.into();
        validate_name("role", role)?;
        let snap = self.snapshot().await?;
        snap.require(actor, "update", "users")?;
        not_self(actor, name, "change the roles of")?;
        let spec = snap
            .effective_spec(role)
            .ok_or_else(|| role_not_found(role))?;
        snap.require_grant(actor, &spec)?;
        Self::target(&snap, name)?;
        let role = role.to_owned();
        let (_, report) = self
            .modify_user(&snap, name, |spec| {
                if !spec.roles.contains(&role) {
                    spec.roles.push(role.clone());
                    spec.roles.sort();
                }
            })
            .await?;
        Ok(report)
    }

    /// Unbinds `role` from user `name` and removes exactly the bindings derived from it. Not on
    /// oneself; `actor` needs `update` on users and must hold everything the role grants.
    pub async fn unbind<'a>(
        &self,
        actor: impl Into<Actor<'a>>,
        name: &str,
        role: &str,
    ) -> Result<Report> {
        let actor: Actor<'_> = actor.into();
        validate_name("role", role)?;
        let snap = self.snapshot().await?;
        snap.require(actor, "update", "users")?;
        not_self(actor, name, "change the roles of")?;
        if let Some(spec) = snap.effective_spec(role) {
            snap.require_grant(actor, &spec)?;
        } else if !snap.is_admin(actor) {
            // What a role that no longer exists granted is unknown: only admins clean it up.
            return Err(Error::Escalation(format!(
                "role \"{role}\" does not exist; only an administrator may unbind it"
            )));
        }
        Self::target(&snap, name)?;
        if role == ADMIN_ROLE
            && !snap.users.iter().any(|u| {
                u.account() != name
                    && !u.spec.disabled
                    && u.spec.roles.iter().any(|r| r == ADMIN_ROLE)
            })
        {
            return Err(Error::Invalid(
                "this is the last enabled administrator; bind admin to someone else first".into(),
            ));
        }
        let (_, report) = self
            .modify_user(&snap, name, |spec| spec.roles.retain(|r| r != role))
            .await?;
        Ok(report)
    }

    /// Lifts the lock of an account and forgets its failed logins (on this replica, those
    /// counted per address too), so that its owner can log in again at once. Not needed for
    /// a password reset, which does it. `actor` needs `update` on users and must hold every
    /// role of the user (lifting a lock helps whoever guesses at the account).
    pub async fn unlock_user<'a>(&self, actor: impl Into<Actor<'a>>, name: &str) -> Result<User> {
        let actor: Actor<'_> = actor.into();
        let snap = self.snapshot().await?;
        snap.require(actor, "update", "users")?;
        snap.require_covers_user(actor, Self::target(&snap, name)?)?;
        self.clear_lock(name).await?;
        tracing::info!(user = name, by = %actor, "account unlocked");
        self.user(name).await
    }

    /// Lifts a lockout (an administrator's unlock or password reset). Not a compare-and-swap:
    /// the administrator's word wins over attempts in flight.
    async fn clear_lock(&self, name: &str) -> Result<()> {
        self.throttle.forget_account(name);
        self.client
            .merge_patch_status(
                &ResourceType::of::<User>(),
                "",
                name,
                &json!({ "status": { "failedLogins": 0, "lockedUntil": null } }),
            )
            .await
            .map(|_| ())
            .map_err(Error::cluster("unlock user"))
    }
}
