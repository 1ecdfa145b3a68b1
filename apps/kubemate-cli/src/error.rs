//! The CLI's one error: a stable code and a one-line message, printed as
//! `error: <code>: <message>`, and the exit code of each code.

use std::fmt;

pub use kubemate_core::Code;

/// The result type of the CLI.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The process exit code of a failure with `code`: 2 for a command line that does not parse,
/// 1 for every other failure. Exhaustive on purpose: a new code must be given one.
pub fn exit_code(code: Code) -> u8 {
    match code {
        Code::InvalidArgument => 2,
        Code::NotFound
        | Code::AlreadyExists
        | Code::Conflict
        | Code::Forbidden
        | Code::Unauthorized
        | Code::Invalid
        | Code::BadRequest
        | Code::Gone
        | Code::Unavailable
        | Code::Timeout
        | Code::Unsupported
        | Code::ConfigError
        | Code::InternalError
        | Code::EscalationRefused
        | Code::InvalidCredentials
        | Code::AccountDisabled
        | Code::LoginThrottled
        | Code::Busy
        | Code::InvalidToken
        | Code::AuditUnavailable
        | Code::AuditCorrupt
        | Code::AuditChainBroken
        | Code::InvalidPath
        | Code::TooManyStreams
        | Code::MethodNotAllowed
        | Code::PayloadTooLarge
        | Code::UnsupportedMediaType
        | Code::IoError => 1,
    }
}

/// A failure of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    code: Code,
    message: String,
}

impl Error {
    /// An error with a code and a message.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
        }
    }

    /// An `Invalid` error (bad input in a file or on standard input).
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::new(Code::Invalid, message)
    }

    /// The stable code, e.g. [`Code::NotFound`].
    pub fn code(&self) -> Code {
        self.code
    }

    /// The exit code of the process failing with this error (see [`exit_code`]).
    pub fn exit_code(&self) -> u8 {
        exit_code(self.code)
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
        Error::new(Code::IoError, e.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::new(Code::InternalError, format!("cannot render JSON: {e}"))
    }
}

impl From<serde_yaml::Error> for Error {
    fn from(e: serde_yaml::Error) -> Self {
        Error::new(Code::InternalError, format!("cannot render YAML: {e}"))
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
        let e = Error::new(Code::Invalid, "first\n  second");
        assert_eq!(e.to_string(), "Invalid: first second");
    }

    #[test]
    fn only_a_command_line_that_does_not_parse_exits_2() {
        for &code in Code::ALL {
            let expected = if code == Code::InvalidArgument { 2 } else { 1 };
            assert_eq!(exit_code(code), expected, "{code}");
            assert_eq!(Error::new(code, "m").exit_code(), expected, "{code}");
        }
        let e = Error::from(kubemate_audit::Error::InvalidQuery("x".into()));
        assert_eq!((e.code(), e.exit_code()), (Code::Invalid, 1));
    }
}
