//! Login with account and password, and lockout after repeated failures. Tokens are issued
//! and checked in [`keyring`](super::keyring).

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use kubemate_core::{ErrorKind, ResourceType, names::is_dns1123_label};
use serde_json::json;

use super::{Rbac, users::verify};
use crate::{
    Error, Result,
    password::{self, Password},
    resources::User,
    token::Token,
};

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

impl Rbac {
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
        let (token, expires_at) = self.issue_token(&user, now).await?;
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
        self.forget_admin_password(account).await;
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
}
