//! Login with account and password, and lockout after repeated failures. Tokens are issued
//! and checked in [`keyring`](super::keyring).

use std::{net::IpAddr, time::Duration};

use jiff::Timestamp;
use kubemate_core::{ErrorKind, ResourceType, names::is_dns1123_label};
use serde_json::json;

use super::{
    Rbac,
    lockout::{Counter, Limit, Source},
};
use crate::{Error, Result, password::Password, resources::User, token::Token};

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

/// Compare-and-swap attempts on a User's status before giving up ([`Error::Busy`]).
const CONFLICT_RETRIES: usize = 10;

/// An attempt counted in the account's status.
#[derive(Debug)]
struct Counted {
    /// The account as read before counting.
    user: User,
    /// The resourceVersion the count left.
    version: String,
    /// The account's count with this attempt.
    failures: u32,
}

/// What checking a password found.
enum Checked {
    /// Wrong, or no account to check it against (unknown, or locked).
    Wrong,
    /// Right, for the account counted.
    Right(Box<Counted>),
}

/// The attempt was not checked, for this reason: it does not count against the address.
struct Unchecked(Error);

impl Rbac {
    /// Logs in from an unknown address: [`Rbac::login_from`] with no address, so every such
    /// login shares one count of failures. For library callers; a server passes the address.
    pub async fn login(&self, account: &str, password: &Password) -> Result<Login> {
        self.login_from(None, account, password).await
    }

    /// Logs in from `source` (the client's address): checks the password, refuses disabled
    /// accounts, records the result (last login, or the failure) and issues a token.
    ///
    /// The attempt is counted before its password is checked: in memory for the address, on
    /// that account name and on all, and in the account's status, each with its limit of the
    /// [`Config`](super::Config). Too many failures from the address refuse it at once
    /// ([`Error::LoginThrottled`], the same for every account name); a locked account answers
    /// as an unknown one does, even to the right password. A success forgives the failures
    /// counted before it, but never lifts a lock another attempt set meanwhile. The check runs
    /// on the hashing pool; when that is saturated the login is refused ([`Error::Busy`])
    /// without counting.
    pub async fn login_from(
        &self,
        source: Option<IpAddr>,
        account: &str,
        password: &Password,
    ) -> Result<Login> {
        let now = self.now();
        let valid = is_dns1123_label(account);
        // Malformed names share one count: they cannot exist, and need no memory each.
        let counted_as = if valid { account } else { "" };
        let ticket = self
            .throttle
            .reserve(Source::of(source), counted_as, now)
            .map_err(|until| Error::LoginThrottled {
                retry_after: until.duration_since(now).unsigned_abs(),
            })?;
        let checked = self.check(account, valid, password, now).await;
        match checked {
            Err(Unchecked(e)) => {
                self.throttle.undo(&ticket);
                Err(e)
            }
            Ok(Checked::Wrong) => Err(Error::InvalidCredentials),
            Ok(Checked::Right(counted)) => {
                let user = &counted.user;
                if !self.throttle.succeed(&ticket, now) {
                    return Err(Error::InvalidCredentials);
                }
                if user.spec.disabled {
                    return Err(match self.settle(account, &counted, now, false).await? {
                        true => Error::AccountDisabled,
                        false => Error::InvalidCredentials,
                    });
                }
                let (token, expires_at) = self.issue_token(user, now).await?;
                if !self.settle(account, &counted, now, true).await? {
                    return Err(Error::InvalidCredentials);
                }
                self.forget_admin_password(account).await;
                Ok(Login {
                    user: account.to_owned(),
                    token,
                    expires_at,
                })
            }
        }
    }

    /// Checks a password whose attempt is counted in memory: takes a hash permit, reads the
    /// account and counts the attempt on it, then verifies. An unknown or locked account
    /// spends the time of a verification, so that its answer looks like a wrong password's.
    async fn check(
        &self,
        account: &str,
        valid: bool,
        password: &Password,
        now: Timestamp,
    ) -> Result<Checked, Unchecked> {
        let permit = self.hasher.permit().await.map_err(Unchecked)?;
        let found = if valid {
            match self.user(account).await {
                Ok(user) => Some(user),
                Err(Error::NotFound { .. }) => None,
                Err(e) => return Err(Unchecked(e)),
            }
        } else {
            None
        };
        let counted = match found {
            Some(user) => self
                .reserve_on_account(user, now)
                .await
                .map_err(Unchecked)?,
            None => None,
        };
        let Some(counted) = counted else {
            permit.verify_nothing(password).await.map_err(Unchecked)?;
            return Ok(Checked::Wrong);
        };
        // From here the attempt is counted on the account: a failure to verify is a failure.
        match permit
            .verify(password, &counted.user.spec.password_hash)
            .await
        {
            Ok(true) => Ok(Checked::Right(Box::new(counted))),
            Ok(false) => Ok(Checked::Wrong),
            Err(e) => {
                tracing::error!(error = %e, "a password could not be verified");
                Ok(Checked::Wrong)
            }
        }
    }

    /// The account's count and lock, as its status holds them.
    fn account_counter(user: &User) -> Counter {
        Counter {
            failures: user.failed_logins(),
            locked_until: user.locked_until(),
            ..Counter::default()
        }
    }

    fn account_limit(&self) -> Limit {
        Limit {
            max: self.config.max_failed_logins_per_account,
            lockout: self.config.lockout,
            max_lockout: self.config.lockout,
        }
    }

    /// Counts an attempt in the account's status before its password is checked, with a
    /// compare-and-swap on the resourceVersion, so that every replica's concurrent attempts
    /// count and none is checked past the limit. `None` when the account is locked (or gone).
    async fn reserve_on_account(&self, mut user: User, now: Timestamp) -> Result<Option<Counted>> {
        let limit = self.account_limit();
        for _ in 0..CONFLICT_RETRIES {
            let mut counter = Self::account_counter(&user);
            if counter.reserve(now, &limit, false).is_err() {
                return Ok(None);
            }
            if counter.locked_until.is_some() {
                tracing::warn!(
                    user = user.account(),
                    "account locked after repeated failed logins"
                );
            }
            let patch = json!({
                "metadata": { "resourceVersion": user.metadata.resource_version },
                "status": {
                    "failedLogins": counter.failures,
                    "lockedUntil": counter.locked_until.map(|t| t.to_string()),
                },
            });
            match self
                .client
                .merge_patch_status(&ResourceType::of::<User>(), "", user.account(), &patch)
                .await
            {
                Ok(stored) => {
                    return Ok(Some(Counted {
                        version: stored.metadata.resource_version.unwrap_or_default(),
                        failures: counter.failures,
                        user,
                    }));
                }
                Err(e) if e.is(ErrorKind::Conflict) => {
                    user = match self.user(user.account()).await {
                        Ok(user) => user,
                        Err(Error::NotFound { .. }) => return Ok(None),
                        Err(e) => return Err(e),
                    };
                }
                Err(e) if e.is(ErrorKind::NotFound) => return Ok(None),
                Err(e) => return Err(Error::cluster("count a login attempt")(e)),
            }
        }
        Err(Error::Busy {
            retry_after: Duration::from_secs(1),
        })
    }

    /// Records that the attempt `counted` proved right: forgives the failures counted up to
    /// it (and the last login, when `login`), with a compare-and-swap that fails when another
    /// attempt locked the account since. False when it did: the lock stays and the success is
    /// refused.
    async fn settle(
        &self,
        account: &str,
        counted: &Counted,
        now: Timestamp,
        login: bool,
    ) -> Result<bool> {
        let mut version = counted.version.clone();
        // `None`: the account as our own attempt left it, so a lock there is ours to lift.
        let mut since: Option<Counter> = None;
        for _ in 0..CONFLICT_RETRIES {
            let failures = match since {
                None => 0,
                Some(c) if c.locked(now).is_some() => return Ok(false),
                Some(c) => c.failures.saturating_sub(counted.failures),
            };
            let mut status = json!({ "failedLogins": failures, "lockedUntil": null });
            if login {
                status["lastLogin"] = json!(now.to_string());
            }
            let patch = json!({ "metadata": { "resourceVersion": version }, "status": status });
            match self
                .client
                .merge_patch_status(&ResourceType::of::<User>(), "", account, &patch)
                .await
            {
                Ok(_) => return Ok(true),
                Err(e) if e.is(ErrorKind::Conflict) => {
                    let user = match self.user(account).await {
                        Ok(user) => user,
                        Err(Error::NotFound { .. }) => return Ok(false),
                        Err(e) => return Err(e),
                    };
                    version = user.metadata.resource_version.clone().unwrap_or_default();
                    since = Some(Self::account_counter(&user));
                }
                Err(e) if e.is(ErrorKind::NotFound) => return Ok(false),
                Err(e) => return Err(Error::cluster("record the login")(e)),
            }
        }
        Err(Error::Busy {
            retry_after: Duration::from_secs(1),
        })
    }
}
