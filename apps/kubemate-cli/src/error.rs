//! The CLI's one error: a stable code and a one-line message, printed as
//! `error: <code>: <message>`.

use std::fmt;

/// The result type of the CLI.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Code of a command line that does not parse (unknown flag, bad rule, bad quota, ...).
pub const INVALID_ARGUMENT: &str = "InvalidArgument";
/// Code of an audit log whose hash chain is broken.
pub const AUDIT_CHAIN_BROKEN: &str = "AuditChainBroken";
/// Code of an audit log that cannot be written or read (kubemate-audit's code).
pub const AUDIT_UNAVAILABLE: &str = "AuditUnavailable";

/// A failure of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    code: String,
    message: String,
}

impl Error {
    /// An error with a code and a message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Error {
            code: code.into(),
            message: message.into(),
        }
    }

    /// An `Invalid` error (bad input in a file or on standard input).
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::new("Invalid", message)
    }

    /// The stable code, e.g. `NotFound`.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The message, on one line.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line whatever the source says: scripts read the first line of stderr.
        let message = self
            .message
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        write!(f, "{}: {message}", self.code)
    }
}

impl std::error::Error for Error {}

impl From<kubemate_core::Error> for Error {
    fn from(e: kubemate_core::Error) -> Self {
        Error::new(e.code(), e.message())
    }
}

impl From<kubemate_rbac::Error> for Error {
    fn from(e: kubemate_rbac::Error) -> Self {
        match &e {
            // The cluster's code is the code; the step says what Kubemate was doing.
            kubemate_rbac::Error::Cluster { step, source } => {
                Error::new(e.code(), format!("{step}: {}", source.message()))
            }
            _ => Error::new(e.code(), e.to_string()),
        }
    }
}

impl From<kubemate_audit::Error> for Error {
    fn from(e: kubemate_audit::Error) -> Self {
        Error::new(e.code(), e.to_string())
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::new("IoError", e.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::new("InternalError", format!("cannot render JSON: {e}"))
    }
}

impl From<serde_yaml::Error> for Error {
    fn from(e: serde_yaml::Error) -> Self {
        Error::new("InternalError", format!("cannot render YAML: {e}"))
    }
}

/// The one-line form of a clap error that is not a request for help or the version: clap's
/// own first paragraph, without its `error: ` prefix, usage and tips.
pub fn clap_message(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let first = text.split("\n\n").next().unwrap_or_default();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let line = first.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("{line} (see --help)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_keep_the_library_codes_and_fit_on_one_line() {
        let e = Error::from(kubemate_core::Error::not_found("deployments", "web"));
        assert_eq!(e.to_string(), "NotFound: deployments \"web\" not found");
        let e = Error::from(kubemate_rbac::Error::Escalation("no".into()));
        assert_eq!(e.code(), "EscalationRefused");
        let e = Error::new("Invalid", "first\n  second");
        assert_eq!(e.to_string(), "Invalid: first second");
    }
}
