//! The one error type of kubemate-rbac, with stable codes.

use std::{fmt, time::Duration};

use kubemate_core::{Code, ErrorKind};

/// The result type of kubemate-rbac.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why the authorizer refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DenyReason {
    /// No Kubemate user has this name.
    UnknownUser(String),
    /// The user exists but is disabled.
    UserDisabled(String),
    /// None of the user's roles allows the request.
    NotPermitted {
        /// The user.
        user: String,
        /// What was asked, e.g. `delete apps/deployments in namespace "shop"`.
        request: String,
    },
    /// The area is reserved to administrators.
    AdminOnly {
        /// The user.
        user: String,
        /// The area's code.
        area: &'static str,
    },
    /// The request is on Kubemate's own Secrets, which no role grants.
    Reserved {
        /// The user.
        user: String,
        /// What was asked.
        request: String,
    },
    /// The console section is not among the user's menu codes.
    MenuNotGranted {
        /// The user.
        user: String,
        /// The menu code.
        menu: String,
    },
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DenyReason::UnknownUser(user) => write!(f, "user \"{user}\" does not exist"),
            DenyReason::UserDisabled(user) => write!(f, "user \"{user}\" is disabled"),
            DenyReason::NotPermitted { user, request } => {
                write!(f, "user \"{user}\" may not {request}")
            }
            DenyReason::Reserved { user, request } => write!(
                f,
                "user \"{user}\" may not {request}: Kubemate's own Secrets are reserved"
            ),
            DenyReason::AdminOnly { user, area } => {
                write!(
                    f,
                    "user \"{user}\" is not an administrator; {area} is for administrators only"
                )
            }
            DenyReason::MenuNotGranted { user, menu } => {
                write!(
                    f,
                    "user \"{user}\" has no role granting the \"{menu}\" section"
                )
            }
        }
    }
}

/// An error of kubemate-rbac.
///
/// Messages are safe to show: they never contain a password, a password hash or a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A call to the cluster failed; `step` says which.
    #[error("{step}: {source}")]
    Cluster {
        /// What Kubemate was doing, e.g. `list users`.
        step: &'static str,
        /// The cluster's error.
        #[source]
        source: kubemate_core::Error,
    },
    /// The input is not valid (a bad name, an empty rule, a weak password...).
    #[error("{0}")]
    Invalid(String),
    /// A Kubemate user or role does not exist.
    #[error("{kind} \"{name}\" not found")]
    NotFound {
        /// `user` or `role`.
        kind: &'static str,
        /// Its name.
        name: String,
    },
    /// A Kubemate user or role with this name already exists.
    #[error("{kind} \"{name}\" already exists")]
    AlreadyExists {
        /// `user` or `role`.
        kind: &'static str,
        /// Its name.
        name: String,
    },
    /// The request would change or delete something Kubemate itself defines (the `admin`
    /// role): a conflict with the state of the system, not malformed input.
    #[error("{kind} \"{name}\" is built in and cannot be changed")]
    BuiltIn {
        /// `role`.
        kind: &'static str,
        /// Its name.
        name: &'static str,
    },
    /// The authorizer refused the request.
    #[error("forbidden: {0}")]
    Forbidden(DenyReason),
    /// The request would give someone more than the acting user has, or change the acting
    /// user's own roles.
    #[error("escalation refused: {0}")]
    Escalation(String),
    /// Unknown account or wrong password (deliberately not saying which).
    #[error("invalid account or password")]
    InvalidCredentials,
    /// The account is disabled.
    #[error("the account is disabled")]
    AccountDisabled,
    /// Too many failed logins from the caller's address: its logins are refused for a while.
    /// The same for every account name, existing or not, so it tells nothing about accounts.
    #[error("too many failed logins from this address; try again later")]
    LoginThrottled {
        /// How long until logins from the address are checked again.
        retry_after: Duration,
    },
    /// Every permit to hash a password is taken: the work was refused rather than queued.
    #[error("the server is busy checking passwords; try again in a moment")]
    Busy {
        /// When to try again.
        retry_after: Duration,
    },
    /// A login token that is malformed, badly signed, expired or revoked.
    #[error("invalid token: {0}")]
    InvalidToken(&'static str),
    /// Hashing or signing failed (a bug or a broken key, never the user's input).
    #[error("{what} failed")]
    Crypto {
        /// What failed, e.g. `password hashing`.
        what: &'static str,
        /// The underlying error, if it has a useful one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// Something the cluster does asynchronously did not happen in time.
    #[error("timed out waiting for {0}")]
    Timeout(String),
}

impl Error {
    /// The stable code of this error, e.g. [`Code::Forbidden`] or [`Code::LoginThrottled`].
    ///
    /// Cluster errors carry kubemate-core's code ([`Code::NotFound`], [`Code::Conflict`], ...).
    pub fn code(&self) -> Code {
        match self {
            Error::Cluster { source, .. } => source.code(),
            Error::Invalid(_) => Code::Invalid,
            Error::NotFound { .. } => Code::NotFound,
            Error::AlreadyExists { .. } => Code::AlreadyExists,
            Error::BuiltIn { .. } => Code::Conflict,
            Error::Forbidden(_) => Code::Forbidden,
            Error::Escalation(_) => Code::EscalationRefused,
            Error::InvalidCredentials => Code::InvalidCredentials,
            Error::AccountDisabled => Code::AccountDisabled,
            Error::LoginThrottled { .. } => Code::LoginThrottled,
            Error::Busy { .. } => Code::Busy,
            Error::InvalidToken(_) => Code::InvalidToken,
            Error::Crypto { .. } => Code::InternalError,
            Error::Timeout(_) => Code::Timeout,
        }
    }

    /// How long the caller should wait before trying again, for the refusals that say.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::LoginThrottled { retry_after } | Error::Busy { retry_after } => {
                Some(*retry_after)
            }
            _ => None,
        }
    }

    /// The cluster error kind, for [`Error::Cluster`].
    pub fn cluster_kind(&self) -> Option<ErrorKind> {
        match self {
            Error::Cluster { source, .. } => Some(source.kind()),
            _ => None,
        }
    }

    /// A function wrapping a cluster error with the step that failed, for `map_err`.
    pub(crate) fn cluster(step: &'static str) -> impl FnOnce(kubemate_core::Error) -> Error {
        move |source| Error::Cluster { step, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_cluster_errors_keep_theirs() {
        let e = Error::cluster("get user")(kubemate_core::Error::not_found("users", "x"));
        assert_eq!(e.code(), "NotFound");
        assert_eq!(e.cluster_kind(), Some(ErrorKind::NotFound));
        assert!(e.to_string().starts_with("get user: "));
        assert_eq!(Error::InvalidCredentials.code(), "InvalidCredentials");
        assert_eq!(Error::Escalation("x".into()).code(), "EscalationRefused");
        let denied = Error::Forbidden(DenyReason::UserDisabled("bob".into()));
        assert_eq!(denied.to_string(), "forbidden: user \"bob\" is disabled");
    }
}
