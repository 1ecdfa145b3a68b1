//! The one error type of kubemate-core, with stable codes.

use std::fmt;

use crate::Code;

/// The result type of kubemate-core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is: the part of an error that callers branch on.
///
/// Each kind has a stable [`Code`] ([`code`](ErrorKind::code)) that the server and the CLI expose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The object (or its namespace) does not exist.
    NotFound,
    /// The object exists but not the revision of its history that was asked for (or it has
    /// no revision to roll back to). Its code is [`Code::NotFound`] all the same.
    RevisionNotFound,
    /// An object with this name already exists.
    AlreadyExists,
    /// The object changed since it was read (stale resourceVersion).
    Conflict,
    /// The caller is not allowed to do this.
    Forbidden,
    /// The caller is not authenticated.
    Unauthorized,
    /// The object is not valid; see [`Error::causes`].
    Invalid,
    /// The request itself is malformed (for example a bad label selector).
    BadRequest,
    /// The requested resourceVersion or continue token is too old.
    Gone,
    /// The cluster cannot be reached or is not ready.
    Unavailable,
    /// The cluster did not answer in time.
    Timeout,
    /// The cluster does not serve this resource or verb.
    Unsupported,
    /// Configuration (kubeconfig, in-cluster) could not be loaded.
    Config,
    /// Anything else the cluster reported; the message says what.
    Internal,
}

impl ErrorKind {
    /// The stable code of this kind, e.g. [`Code::NotFound`].
    pub fn code(self) -> Code {
        match self {
            ErrorKind::NotFound | ErrorKind::RevisionNotFound => Code::NotFound,
            ErrorKind::AlreadyExists => Code::AlreadyExists,
            ErrorKind::Conflict => Code::Conflict,
            ErrorKind::Forbidden => Code::Forbidden,
            ErrorKind::Unauthorized => Code::Unauthorized,
            ErrorKind::Invalid => Code::Invalid,
            ErrorKind::BadRequest => Code::BadRequest,
            ErrorKind::Gone => Code::Gone,
            ErrorKind::Unavailable => Code::Unavailable,
            ErrorKind::Timeout => Code::Timeout,
            ErrorKind::Unsupported => Code::Unsupported,
            ErrorKind::Config => Code::ConfigError,
            ErrorKind::Internal => Code::InternalError,
        }
    }

    /// The kind of an apiserver `Status` reason (`metav1.StatusReason`), falling back on the
    /// HTTP code when the reason is empty or unknown.
    pub fn from_status(reason: &str, code: u16) -> ErrorKind {
        match reason {
            "NotFound" => ErrorKind::NotFound,
            "AlreadyExists" => ErrorKind::AlreadyExists,
            "Conflict" => ErrorKind::Conflict,
            "Forbidden" => ErrorKind::Forbidden,
            "Unauthorized" => ErrorKind::Unauthorized,
            "Invalid" => ErrorKind::Invalid,
            "BadRequest" => ErrorKind::BadRequest,
            "Gone" | "Expired" => ErrorKind::Gone,
            "ServiceUnavailable" => ErrorKind::Unavailable,
            "Timeout" | "ServerTimeout" => ErrorKind::Timeout,
            "MethodNotAllowed" | "NotAcceptable" | "UnsupportedMediaType" => ErrorKind::Unsupported,
            _ => match code {
                400 => ErrorKind::BadRequest,
                401 => ErrorKind::Unauthorized,
                403 => ErrorKind::Forbidden,
                404 => ErrorKind::NotFound,
                405 | 406 | 415 => ErrorKind::Unsupported,
                409 => ErrorKind::Conflict,
                410 => ErrorKind::Gone,
                422 => ErrorKind::Invalid,
                503 => ErrorKind::Unavailable,
                504 => ErrorKind::Timeout,
                _ => ErrorKind::Internal,
            },
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code().as_str())
    }
}

/// One field-level cause of an [`ErrorKind::Invalid`] error, as the apiserver reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cause {
    /// The field path, e.g. `spec.replicas` or `metadata.name`.
    pub field: String,
    /// Machine-readable reason, e.g. `FieldValueInvalid`.
    pub reason: String,
    /// Human-readable explanation.
    pub message: String,
}

/// An error of kubemate-core: a kind, a message safe to show to users, field causes for
/// validation errors, and the underlying source when there is one.
#[derive(Debug, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
    causes: Vec<Cause>,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    /// A new error of this kind with a message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            causes: Vec::new(),
            source: None,
        }
    }

    /// An [`ErrorKind::Invalid`] error with field causes.
    pub fn invalid(message: impl Into<String>, causes: Vec<Cause>) -> Self {
        Error {
            causes,
            ..Error::new(ErrorKind::Invalid, message)
        }
    }

    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// A `NotFound` error worded as the apiserver words it: `configmaps "x" not found`.
    pub fn not_found(plural: &str, name: &str) -> Self {
        Error::new(
            ErrorKind::NotFound,
            format!("{plural} \"{name}\" not found"),
        )
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The stable code of this error's kind.
    pub fn code(&self) -> Code {
        self.kind.code()
    }

    /// The message, without the kind prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The field causes of a validation error (empty for other kinds).
    pub fn causes(&self) -> &[Cause] {
        &self.causes
    }

    /// True when this error is of `kind`.
    pub fn is(&self, kind: ErrorKind) -> bool {
        self.kind == kind
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::new(ErrorKind::BadRequest, format!("malformed object: {e}")).with_source(e)
    }
}

impl From<serde_yaml::Error> for Error {
    fn from(e: serde_yaml::Error) -> Self {
        Error::new(ErrorKind::BadRequest, format!("malformed YAML: {e}")).with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_reasons_map_to_kinds_and_codes_are_stable() {
        assert_eq!(ErrorKind::from_status("NotFound", 404), ErrorKind::NotFound);
        assert_eq!(ErrorKind::from_status("", 409), ErrorKind::Conflict);
        assert_eq!(ErrorKind::from_status("Expired", 410), ErrorKind::Gone);
        assert_eq!(ErrorKind::from_status("Weird", 500), ErrorKind::Internal);
        assert_eq!(ErrorKind::from_status("", 503), ErrorKind::Unavailable);
        assert_eq!(ErrorKind::Invalid.code(), "Invalid");
        let e = Error::not_found("configmaps", "x");
        assert_eq!(e.to_string(), "NotFound: configmaps \"x\" not found");
        assert_eq!(e.code(), "NotFound");
        let e = Error::new(
            ErrorKind::RevisionNotFound,
            "unable to find specified revision 2",
        );
        assert!(!e.is(ErrorKind::NotFound));
        assert_eq!(e.code(), Code::NotFound);
    }
}
