//! Errors of the audit trail.

/// The result type of kubemate-audit.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An audit failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The audit log could not be read or written.
    #[error("audit log {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// A line of the audit log is not a record.
    #[error("audit log line {line} is not a record: {source}")]
    Corrupt {
        /// 1-based line number.
        line: usize,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A query parameter is malformed.
    #[error("invalid audit query: {0}")]
    InvalidQuery(String),
}

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> kubemate_core::Code {
        use kubemate_core::Code;
        match self {
            Error::Io { .. } => Code::AuditUnavailable,
            Error::Corrupt { .. } => Code::AuditCorrupt,
            Error::InvalidQuery(_) => Code::Invalid,
        }
    }
}
