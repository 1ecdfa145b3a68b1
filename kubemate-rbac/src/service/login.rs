//! Login with account and password, lockout after repeated failures, and token checks.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::{ByteString, api::core::v1::Secret};
use kubemate_core::{
    ClusterClientExt, ErrorKind, ObjectMeta, ResourceType, names::is_dns1123_label,
};
use serde_json::json;

use super::{Rbac, users::verify};
use crate::{
    Error, Result,
    authorizer::Policy,
    password::{self, Password},
    resources::User,
    token::{Claims, Token, TokenKey},
};

/// The key of the signing key in its Secret.
pub const TOKEN_KEY_FIELD: &str = "hs256";

/// A successful login.
#[derive(Debug, Clone)]
pub struct Login {
    /// The account.
    pub user: String,
    /// The signed token to send with every request.
    pub token: Token,
    /// When the token expires.
    pub expires_at: Timestamp,
}

const CONFLICT_RETRIES: usize = 5;

fn plus(t: Timestamp, d: Duration) -> Timestamp {
    SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

/// Checks a token against the key and the current users, without I/O: signature, expiry,
/// and that the user exists, is enabled and has not revoked it (same token generation).
pub fn verify_token(
    key: &TokenKey,
    policy: &Policy,
    token: &Token,
    now: Timestamp,
) -> Result<Claims> {
    let claims = key.verify(token, now)?;
    match policy.token_generation(&claims.sub) {
        None => Err(Error::InvalidToken(
            "the user does not exist or is disabled",
        )),
        Some(generation) if generation != claims.generation => Err(Error::InvalidToken("revoked")),
        Some(_) => Ok(claims),
    }
}

impl Rbac {
    /// The token signing key, read from its Secret or created there; every replica reads the
    /// same Secret, so a token from one is accepted by all.
    pub async fn token_key(&self) -> Result<&TokenKey> {
        self.key.get_or_try_init(|| self.load_or_create_key()).await
    }

    async fn load_or_create_key(&self) -> Result<TokenKey> {
        let ns = &self.config.namespace;
        let name = &self.config.token_key_secret;
        for _ in 0..2 {
            let existing: Option<Secret> = self
                .client
                .get_opt_as(ns, name)
                .await
                .map_err(Error::cluster("read the token key"))?;
            if let Some(secret) = existing {
                let bytes = secret
                    .data
                    .as_ref()
                    .and_then(|d| d.get(TOKEN_KEY_FIELD))
                    .map(|b| b.0.clone())
                    .unwrap_or_default();
                return TokenKey::from_bytes(&bytes);
            }
            let key = TokenKey::generate();
            let secret = Secret {
                metadata: ObjectMeta {
                    name: Some(name.clone()),
                    namespace: Some(ns.clone()),
                    labels: Some(
                        [(
                            crate::derive::MANAGED_BY.to_owned(),
                            crate::derive::MANAGED_BY_VALUE.to_owned(),
                        )]
                        .into(),
                    ),
                    ..Default::default()
                },
                data: Some(
                    [(
                        TOKEN_KEY_FIELD.to_owned(),
                        ByteString(key.as_bytes().to_vec()),
                    )]
                    .into(),
                ),
                type_: Some("Opaque".to_owned()),
                ..Default::default()
            };
            match self.client.create_as(ns, &secret).await {
                Ok(_) => return Ok(key),
                // Another replica created it first: use theirs.
                Err(e) if e.is(ErrorKind::AlreadyExists) => continue,
                Err(e) => return Err(Error::cluster("create the token key")(e)),
            }
        }
        Err(Error::Timeout("the token key Secret to settle".into()))
    }

    /// Logs in: checks the password, refuses disabled and locked accounts, records the result
    /// (last login, or failed logins and lockout) and issues a token.
    pub async fn login(&self, account: &str, password: &Password) -> Result<Login> {
        let found = if is_dns1123_label(account) {
            match self.user(account).await {
                Ok(user) => Some(user),
                Err(Error::NotFound { .. }) => None,
                Err(e) => return Err(e),
            }
        } else {
            None
        };
        let Some(user) = found else {
            password::verify_nothing(password);
            return Err(Error::InvalidCredentials);
        };
        let now = self.now();
        if let Some(until) = user.locked_until()
            && until > now
        {
            return Err(Error::AccountLocked { until });
        }
        if !verify(password, &user.spec.password_hash).await? {
            return Err(self.record_failure(account, now).await?);
        }
        if user.spec.disabled {
            return Err(Error::AccountDisabled);
        }
        let key = self.token_key().await?;
        let (token, expires_at) = key.issue(
            account,
            user.spec.token_generation,
            now,
            self.config.token_ttl,
        )?;
        self.client
            .merge_patch_status(
                &ResourceType::of::<User>(),
                "",
                account,
                &json!({ "status": {
                    "lastLogin": now.to_string(),
                    "failedLogins": 0,
                    "lockedUntil": null,
                } }),
            )
            .await
            .map_err(Error::cluster("record the login"))?;
        Ok(Login {
            user: account.to_owned(),
            token,
            expires_at,
        })
    }

    /// Counts a failed login (optimistically locked on the user's resourceVersion so that
    /// concurrent failures all count) and locks the account when there are too many. Returns
    /// the error to answer with.
    async fn record_failure(&self, account: &str, now: Timestamp) -> Result<Error> {
        for _ in 0..CONFLICT_RETRIES {
            let user = self.user(account).await?;
            let failed = user.failed_logins().saturating_add(1);
            let (status, answer) = if failed >= self.config.max_failed_logins {
                let until = plus(now, self.config.lockout);
                tracing::warn!(user = account, %until, "account locked after repeated failed logins");
                (
                    json!({ "failedLogins": 0, "lockedUntil": until.to_string() }),
                    Error::AccountLocked { until },
                )
            } else {
                (json!({ "failedLogins": failed }), Error::InvalidCredentials)
            };
            let patch = json!({
                "metadata": { "resourceVersion": user.metadata.resource_version },
                "status": status,
            });
            match self
                .client
                .merge_patch_status(&ResourceType::of::<User>(), "", account, &patch)
                .await
            {
                Ok(_) => return Ok(answer),
                Err(e) if e.is(ErrorKind::Conflict) => continue,
                Err(e) => return Err(Error::cluster("record a failed login")(e)),
            }
        }
        Ok(Error::InvalidCredentials)
    }

    /// Checks a token: signature, expiry, and (one read of the user) that the user exists, is
    /// enabled and has not revoked it. Servers holding a [`Policy`] use [`verify_token`].
    pub async fn authenticate(&self, token: &Token) -> Result<Claims> {
        let key = self.token_key().await?;
        let claims = key.verify(token, self.now())?;
        let user = match self.user(&claims.sub).await {
            Ok(u) => u,
            Err(Error::NotFound { .. }) => {
                return Err(Error::InvalidToken(
                    "the user does not exist or is disabled",
                ));
            }
            Err(e) => return Err(e),
        };
        let policy = Policy::new(std::slice::from_ref(&user), &[]);
        verify_token(key, &policy, token, self.now())
    }
}
