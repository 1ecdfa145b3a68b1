//! The stable error codes of Kubemate: one list that every library's error maps to, that the
//! server turns into HTTP statuses and the CLI into exit codes.
//!
//! A code's string ([`Code::as_str`]) is what the API's error body, the CLI's error line and
//! the audit records show; it never changes once published.

use std::{fmt, str::FromStr};

/// Declares [`Code`] and [`Code::ALL`] from one list, so that `ALL` cannot miss a code. Each
/// code's string is its variant's name.
macro_rules! codes {
    ($($(#[doc = $doc:literal])* $code:ident,)*) => {
        /// A stable error code. Deliberately exhaustive: the server's status mapping and the
        /// CLI's exit codes match on it without a catch-all, so a new code cannot be forgotten.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $($(#[doc = $doc])* $code,)*
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$code,)*];

            /// The code's stable string, e.g. `"NotFound"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$code => stringify!($code),)*
                }
            }
        }
    };
}

codes! {
    // kubemate-core: what the cluster answered.
    /// The object (or its namespace, or a revision of it) does not exist.
    NotFound,
    /// An object with this name already exists.
    AlreadyExists,
    /// The object changed since it was read (stale resourceVersion).
    Conflict,
    /// The caller is not allowed to do this.
    Forbidden,
    /// The caller is not authenticated.
    Unauthorized,
    /// The input is not valid; the causes say which fields.
    Invalid,
    /// The request itself is malformed.
    BadRequest,
    /// The requested resourceVersion or continue token is too old.
    Gone,
    /// The cluster (or the server) cannot be reached or is not ready.
    Unavailable,
    /// Something did not answer or happen in time.
    Timeout,
    /// The cluster does not serve this resource or verb.
    Unsupported,
    /// Configuration (kubeconfig, in-cluster, audit log path) could not be loaded.
    ConfigError,
    /// Anything else: a bug or an unexpected answer; the log says what.
    InternalError,
    // kubemate-rbac: accounts and authorization.
    /// The change would give someone more than the acting user has.
    EscalationRefused,
    /// Unknown account or wrong password.
    InvalidCredentials,
    /// The account is disabled.
    AccountDisabled,
    /// Too many failed logins from the caller's address.
    LoginThrottled,
    /// The server refused work it has no capacity for; try again shortly.
    Busy,
    /// A login token that is malformed, badly signed, expired or revoked.
    InvalidToken,
    // kubemate-audit.
    /// The audit log cannot be written or read.
    AuditUnavailable,
    /// A line of the audit log is not a record.
    AuditCorrupt,
    /// The audit log's hash chain is broken.
    AuditChainBroken,
    // The server's own.
    /// A path parameter is not a valid name.
    InvalidPath,
    /// The user has as many open streams as allowed.
    TooManyStreams,
    /// The route does not accept this method.
    MethodNotAllowed,
    /// The request body is larger than the limit.
    PayloadTooLarge,
    /// The request body is not JSON.
    UnsupportedMediaType,
    // The CLI's own.
    /// A command line that does not parse (unknown flag, bad rule, bad quota, ...).
    InvalidArgument,
    /// A local file could not be read or written.
    IoError,
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of the [`Code`]s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown error code \"{0}\"")]
pub struct UnknownCode(pub String);

impl FromStr for Code {
    type Err = UnknownCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownCode(s.to_owned()))
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_string_and_json() {
        let mut seen = std::collections::HashSet::new();
        for &code in Code::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert_eq!(code.as_str().parse::<Code>(), Ok(code));
            assert_eq!(code.to_string(), code.as_str());
            let json = serde_json::to_string(&code).expect("serialize");
            assert_eq!(json, format!("\"{code}\""));
            assert_eq!(
                serde_json::from_str::<Code>(&json).expect("deserialize"),
                code
            );
        }
        assert_eq!(seen.len(), Code::ALL.len());
        assert!("notfound".parse::<Code>().is_err());
        assert!(serde_json::from_str::<Code>("\"Nope\"").is_err());
    }

    #[test]
    fn published_strings_are_kept() {
        assert_eq!(Code::NotFound.as_str(), "NotFound");
        assert_eq!(Code::ConfigError.as_str(), "ConfigError");
        assert_eq!(Code::InternalError.as_str(), "InternalError");
        assert_eq!(Code::EscalationRefused, "EscalationRefused");
        assert_eq!(Code::IoError, "IoError");
    }
}
