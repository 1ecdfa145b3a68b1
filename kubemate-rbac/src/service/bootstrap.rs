//! The first start: Kubemate's namespace, the token key, the built-in `admin` role and the
//! first `admin` user.

use k8s_openapi::api::core::v1::{Namespace, Secret};
use kubemate_core::{
    ApplyOptions, ClusterClientExt, DeleteOptions, ErrorKind, ObjectMeta, ResourceType,
};

use super::Rbac;
use crate::{
    Error, Result,
    password::Password,
    reconcile::Scope,
    resources::{ADMIN_ROLE, Role, User, UserSpec},
};

/// The account name of the first administrator.
pub const ADMIN_USER: &str = "admin";

/// What bootstrap did.
#[derive(Debug, Clone, Default)]
pub struct Bootstrap {
    /// True when this call created the `admin` user.
    pub created_admin: bool,
    /// The generated password of the new `admin` user, to show once; `None` when the user
    /// already existed or its password came from the admin password Secret.
    pub admin_password: Option<Password>,
}

impl Rbac {
    /// Prepares a cluster for Kubemate (idempotent; every replica may run it at start): creates
    /// Kubemate's namespace if missing, the token key, the built-in `admin` role, and — the
    /// first time — the `admin` user, whose password is taken from the admin password Secret
    /// (key `password`) when it exists, or generated and returned once. The CRDs must be
    /// installed ([`install_crds`](crate::install_crds)). The admin password Secret is deleted
    /// once `admin` has logged in or had its password changed.
    pub async fn bootstrap(&self) -> Result<Bootstrap> {
        let ns = self.config.namespace.clone();
        let namespace = Namespace {
            metadata: ObjectMeta {
                name: Some(ns.clone()),
                ..Default::default()
            },
            ..Default::default()
        };
        match self.client.create_as("", &namespace).await {
            Ok(_) => {}
            Err(e) if e.is(ErrorKind::AlreadyExists) => {}
            Err(e) => return Err(Error::cluster("create Kubemate's namespace")(e)),
        }
        self.token_keys().await?;
        self.client
            .apply_as(
                "",
                &Role::admin(),
                &ApplyOptions {
                    dry_run: false,
                    force: true,
                },
            )
            .await
            .map_err(Error::cluster("apply the admin role"))?;
        let snap = self.snapshot().await?;
        self.reconcile_with(
            &snap.users,
            &snap.roles,
            &Scope::Role(ADMIN_ROLE.to_owned()),
        )
        .await?;
        if snap.user(ADMIN_USER).is_some() {
            return Ok(Bootstrap::default());
        }
        let from_secret: Option<Secret> = self
            .client
            .get_opt_as(&ns, &self.config.admin_password_secret)
            .await
            .map_err(Error::cluster("read the admin password Secret"))?;
        let given = from_secret
            .and_then(|s| s.data)
            .and_then(|d| d.get("password").cloned())
            .map(|b| Password::new(String::from_utf8_lossy(&b.0).trim().to_owned()));
        let (password, show) = match given {
            Some(pw) => {
                pw.validate()?;
                (pw, false)
            }
            None => (Password::random(), true),
        };
        let user = User::new(
            ADMIN_USER,
            UserSpec {
                display_name: "Administrator".to_owned(),
                email: String::new(),
                password_hash: self.hasher.hash(&password).await?,
                disabled: false,
                roles: vec![ADMIN_ROLE.to_owned()],
                token_generation: 0,
            },
        );
        match self.create_user_unchecked(&snap, user).await {
            Ok(_) => Ok(Bootstrap {
                created_admin: true,
                admin_password: show.then_some(password),
            }),
            // Another replica bootstrapped at the same time: its password is the one shown.
            Err(Error::AlreadyExists { .. }) => Ok(Bootstrap::default()),
            Err(e) => Err(e),
        }
    }

    /// Deletes the admin password Secret once the first administrator (`account` is
    /// [`ADMIN_USER`]) has logged in or had its password changed: from then on the password
    /// in it is either known to its owner or replaced, and nobody should read it again. A
    /// failure is logged, not returned: the next login or password change tries again.
    pub(crate) async fn forget_admin_password(&self, account: &str) {
        if account != ADMIN_USER {
            return;
        }
        let secret = &self.config.admin_password_secret;
        match self
            .client
            .delete(
                &ResourceType::of::<Secret>(),
                &self.config.namespace,
                secret,
                &DeleteOptions::default(),
            )
            .await
        {
            Ok(_) => tracing::info!(
                secret = %secret,
                "deleted the admin password Secret: the admin has logged in or changed the password"
            ),
            Err(e) if e.is(ErrorKind::NotFound) => {}
            Err(e) => tracing::warn!(
                secret = %secret,
                error = %e,
                "could not delete the admin password Secret; the next admin login tries again"
            ),
        }
    }
}
