//! [`Rbac`]: the operations on users and roles, each checked against the acting user's
//! permissions before anything is written, then reconciled into Kubernetes RBAC.

use std::{fmt, sync::Arc, time::Duration};

use jiff::Timestamp;
use kubemate_core::{ClusterClient, ClusterClientExt, Identity, ListOptions};
use serde_json::json;

use self::lockout::{Limit, Throttle};
use crate::{
    Error, Result,
    authorizer::{Policy, Request},
    derive::{DEFAULT_NAMESPACE, derive, service_account_name},
    password::HashPool,
    reconcile::{Report, Scope, reconcile},
    resources::{GROUP, Role, RoleSpec, User, user_not_found, validate_name},
};

pub mod bootstrap;
pub mod keyring;
mod lockout;
pub mod login;
mod roles;
mod users;

pub use bootstrap::Bootstrap;
pub use keyring::Rotation;
pub use login::Login;
pub use users::NewUser;

/// Where the time comes from (replaceable in tests).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Settings of [`Rbac`].
#[derive(Clone)]
pub struct Config {
    /// Kubemate's namespace: users' ServiceAccounts and the Secrets live there.
    pub namespace: String,
    /// How long a login token is valid.
    pub token_ttl: Duration,
    /// Failed logins from one address on one account that lock that address out of that
    /// account (the owner, from elsewhere, still logs in); 0 for no such limit.
    pub max_failed_logins: u32,
    /// Failed logins from one address on any accounts, known or not, that lock the address out
    /// of every account; 0 for no such limit.
    pub max_failed_logins_per_source: u32,
    /// Failed logins on one account from every address that lock the account for everyone,
    /// until the lock ends or an administrator unlocks it; 0 never locks an account. Higher
    /// than `max_failed_logins`, so that locking someone out takes many addresses.
    pub max_failed_logins_per_account: u32,
    /// The window an address's failures are counted in, and how long its first lock lasts; an
    /// account's lock lasts this long too.
    pub lockout: Duration,
    /// The longest lock of an address: each lock since its last success doubles the next.
    pub max_lockout: Duration,
    /// How many password hashes run at once (on blocking threads, never the async workers).
    pub hash_concurrency: usize,
    /// How long a login or a password change waits for a hash permit before it is refused
    /// ([`Error::Busy`]).
    pub hash_wait: Duration,
    /// The Secret holding the token signing keys, a key ring (created if missing).
    pub token_key_secret: String,
    /// How long a key retired by [`Rbac::rotate_token_key`] still verifies the tokens it
    /// signed; `None` for the token lifetime (`token_ttl`), so that no token issued before a
    /// rotation is refused before it expires.
    pub token_key_grace: Option<Duration>,
    /// The Secret an operator may create with the first admin's password (key `password`).
    pub admin_password_secret: String,
    /// The clock.
    pub clock: Clock,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            namespace: DEFAULT_NAMESPACE.to_owned(),
            token_ttl: Duration::from_secs(8 * 3600),
            max_failed_logins: 5,
            max_failed_logins_per_source: 20,
            max_failed_logins_per_account: 50,
            lockout: Duration::from_secs(15 * 60),
            max_lockout: Duration::from_secs(24 * 3600),
            hash_concurrency: HashPool::default_size(),
            hash_wait: Duration::from_millis(250),
            token_key_secret: "kubemate-token-key".to_owned(),
            token_key_grace: None,
            admin_password_secret: "kubemate-admin-password".to_owned(),
            clock: Arc::new(Timestamp::now),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("namespace", &self.namespace)
            .field("token_ttl", &self.token_ttl)
            .field("max_failed_logins", &self.max_failed_logins)
            .field(
                "max_failed_logins_per_source",
                &self.max_failed_logins_per_source,
            )
            .field(
                "max_failed_logins_per_account",
                &self.max_failed_logins_per_account,
            )
            .field("lockout", &self.lockout)
            .field("max_lockout", &self.max_lockout)
            .field("hash_concurrency", &self.hash_concurrency)
            .field("hash_wait", &self.hash_wait)
            .field("token_key_secret", &self.token_key_secret)
            .field("token_key_grace", &self.token_key_grace)
            .field("admin_password_secret", &self.admin_password_secret)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// The grace period of a retired token key: `token_key_grace`, else `token_ttl`.
    pub fn token_key_grace(&self) -> Duration {
        self.token_key_grace.unwrap_or(self.token_ttl)
    }
}

/// Kubemate's users and roles on one cluster.
pub struct Rbac {
    client: Arc<dyn ClusterClient>,
    config: Config,
    keys: keyring::KeyCache,
    hasher: HashPool,
    throttle: Throttle,
}

impl fmt::Debug for Rbac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rbac")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Who performs an operation on users and roles.
///
/// The server acts for a [`Actor::User`] authenticated by a Kubemate token: the authorizer and
/// the escalation checks decide what they may do. `&str` and `&String` convert into it, so a
/// user's name is all a call needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor<'a> {
    /// A Kubemate user (account name): needs the permission on users or roles, may only grant
    /// what they hold, and cannot change their own account's permissions.
    User(&'a str),
    /// A trusted operator working through the cluster client with their own Kubernetes
    /// identity, as the `kubemate` CLI does with an administrator's kubeconfig. Kubemate's own
    /// checks do not apply, because the operator is not a Kubemate user and their authority is
    /// not Kubemate's to give: it is the Kubernetes RBAC of that identity, which the apiserver
    /// enforces on every write, including its own escalation checks on Roles, ClusterRoles and
    /// bindings. Never use it for a request that a Kubemate token authenticated.
    Operator,
}

impl<'a> From<&'a str> for Actor<'a> {
    fn from(user: &'a str) -> Self {
        Actor::User(user)
    }
}

impl<'a> From<&'a String> for Actor<'a> {
    fn from(user: &'a String) -> Self {
        Actor::User(user)
    }
}

impl fmt::Display for Actor<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::User(user) => f.write_str(user),
            Actor::Operator => f.write_str("operator"),
        }
    }
}

/// Users and roles read once for one operation, and the policy built from them.
pub(crate) struct Snapshot {
    pub(crate) users: Vec<User>,
    pub(crate) roles: Vec<Role>,
    pub(crate) policy: Policy,
}

impl Snapshot {
    fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.account() == name)
    }

    fn role(&self, name: &str) -> Option<&Role> {
        self.roles
            .iter()
            .find(|r| r.metadata.name.as_deref() == Some(name))
    }

    /// `actor` may do `verb` on Kubemate's `resource` (`users` or `roles`).
    fn require(&self, actor: Actor<'_>, verb: &str, resource: &str) -> Result<()> {
        match actor {
            Actor::Operator => Ok(()),
            Actor::User(user) => self
                .policy
                .authorize(user, &Request::cluster(verb, GROUP, resource))
                .into_result(),
        }
    }

    /// `actor` holds everything `spec` grants.
    fn require_grant(&self, actor: Actor<'_>, spec: &RoleSpec) -> Result<()> {
        match actor {
            Actor::Operator => Ok(()),
            Actor::User(user) => self
                .policy
                .check_grant(user, spec)
                .map_err(Error::Escalation),
        }
    }

    /// `actor` is an enabled administrator, or the operator.
    fn is_admin(&self, actor: Actor<'_>) -> bool {
        match actor {
            Actor::Operator => true,
            Actor::User(user) => self.policy.is_admin(user),
        }
    }

    /// `actor` holds everything `target`'s roles grant, so acting on `target` (resetting its
    /// password, disabling or deleting it) cannot be a way to more power.
    fn require_covers_user(&self, actor: Actor<'_>, target: &User) -> Result<()> {
        for role in &target.spec.roles {
            if let Some(spec) = self.effective_spec(role) {
                self.require_grant(actor, &spec).map_err(|e| match e {
                    Error::Escalation(why) => Error::Escalation(format!(
                        "user \"{}\" holds role \"{role}\": {why}",
                        target.account()
                    )),
                    other => other,
                })?;
            }
        }
        Ok(())
    }

    fn effective_spec(&self, role: &str) -> Option<RoleSpec> {
        if role == crate::resources::ADMIN_ROLE {
            return Some(crate::resources::admin_spec());
        }
        self.role(role).map(|r| r.spec.clone())
    }
}

/// Refuses an operation of a user on their own account's permissions.
fn not_self(actor: Actor<'_>, target: &str, what: &str) -> Result<()> {
    if actor == Actor::User(target) {
        Err(Error::Escalation(format!(
            "a user cannot {what} their own account; another administrator must"
        )))
    } else {
        Ok(())
    }
}

/// A client that acts as `user`'s ServiceAccount (Kubernetes impersonation), so that the
/// apiserver enforces the user's derived RBAC on everything done through it.
pub fn impersonating_client(
    client: &dyn ClusterClient,
    namespace: &str,
    user: &str,
) -> Result<Arc<dyn ClusterClient>> {
    validate_name("user", user)?;
    client
        .impersonate(&Identity::service_account(
            namespace,
            &service_account_name(user),
        ))
        .map_err(Error::cluster("impersonate a user"))
}

impl Rbac {
    /// Kubemate's users and roles through `client`, which must be allowed to manage them and
    /// Kubernetes RBAC (Kubemate's own ServiceAccount, or an admin).
    pub fn new(client: Arc<dyn ClusterClient>, config: Config) -> Self {
        let limit = |max| Limit {
            max,
            lockout: config.lockout,
            max_lockout: config.max_lockout,
        };
        Rbac {
            hasher: HashPool::new(config.hash_concurrency, config.hash_wait),
            throttle: Throttle::new(
                limit(config.max_failed_logins),
                limit(config.max_failed_logins_per_source),
            ),
            client,
            config,
            keys: keyring::KeyCache::default(),
        }
    }

    /// The pool password hashes run on.
    pub fn hasher(&self) -> &HashPool {
        &self.hasher
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The client Kubemate acts with.
    pub fn client(&self) -> &dyn ClusterClient {
        &*self.client
    }

    fn now(&self) -> Timestamp {
        (self.config.clock)()
    }

    /// Every user.
    pub async fn users(&self) -> Result<Vec<User>> {
        self.client
            .list_all_as("", &ListOptions::default())
            .await
            .map_err(Error::cluster("list users"))
    }

    /// Every role.
    pub async fn roles(&self) -> Result<Vec<Role>> {
        self.client
            .list_all_as("", &ListOptions::default())
            .await
            .map_err(Error::cluster("list roles"))
    }

    /// One user.
    pub async fn user(&self, name: &str) -> Result<User> {
        self.client
            .get_opt_as("", name)
            .await
            .map_err(Error::cluster("get user"))?
            .ok_or_else(|| user_not_found(name))
    }

    pub(crate) async fn snapshot(&self) -> Result<Snapshot> {
        let users = self.users().await?;
        let roles = self.roles().await?;
        let policy = Policy::new(&users, &roles, &self.config.namespace);
        Ok(Snapshot {
            users,
            roles,
            policy,
        })
    }

    /// The authorizer over the current users and roles (two list calls).
    pub async fn policy(&self) -> Result<Policy> {
        Ok(self.snapshot().await?.policy)
    }

    /// A client acting as `user`'s ServiceAccount, for the server to run the user's writes
    /// through, so Kubernetes RBAC enforces the same permissions as the authorizer.
    pub fn client_for(&self, user: &str) -> Result<Arc<dyn ClusterClient>> {
        impersonating_client(&*self.client, &self.config.namespace, user)
    }

    /// Brings the Kubernetes objects of `scope` to what the users and roles derive.
    pub async fn reconcile(&self, scope: &Scope) -> Result<Report> {
        let snap = self.snapshot().await?;
        self.reconcile_with(&snap.users, &snap.roles, scope).await
    }

    pub(crate) async fn reconcile_with(
        &self,
        users: &[User],
        roles: &[Role],
        scope: &Scope,
    ) -> Result<Report> {
        let ns = &self.config.namespace;
        let derived = derive(users, roles, ns);
        let report = reconcile(&*self.client, ns, &derived, scope).await?;
        for user in users {
            let in_scope = match scope {
                Scope::All => true,
                Scope::User(name) => user.account() == name,
                Scope::Role(_) => false,
            };
            let sa = service_account_name(user.account());
            let recorded = user
                .status
                .as_ref()
                .and_then(|s| s.service_account.as_deref());
            if in_scope && recorded != Some(sa.as_str()) {
                self.client
                    .merge_patch_status(
                        &kubemate_core::ResourceType::of::<User>(),
                        "",
                        user.account(),
                        &json!({ "status": { "serviceAccount": sa } }),
                    )
                    .await
                    .map_err(Error::cluster("record the user's ServiceAccount"))?;
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests;
