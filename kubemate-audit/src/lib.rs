//! Kubemate's audit trail.
//!
//! Every operation through the API or the CLI becomes an audit [`Record`]: who, when, from
//! where, what (verb, kind, namespace, name) and with which outcome (allowed or denied, success
//! or failure with the error code). Records carry no request or response bodies, so secret
//! values, tokens and passwords never enter them. Each record holds the hash of the one before
//! it, so an edited, inserted or deleted record breaks the chain and [`verify`] finds the first
//! broken link. The default sink, [`FileSink`], appends JSON lines to a file (created readable by
//! its owner only) and continues the chain across restarts, and across an interrupted write
//! ([`tear`]).

pub mod error;
pub mod file;
pub mod query;
pub mod record;
pub mod tear;
pub mod verify;

use async_trait::async_trait;

pub use error::{Error, Result};
pub use file::FileSink;
pub use query::Query;
pub use record::{Decision, Entry, Outcome, Record, Stage};
pub use tear::Torn;
pub use verify::{Verification, verify, verify_bytes, verify_file};

/// Where audit records go. Appending must be durable before it returns: callers perform a
/// mutation only after its record is written.
#[async_trait]
pub trait AuditSink: Send + Sync {
    /// Appends a record for `entry`, chained to the previous one, and returns it.
    async fn append(&self, entry: Entry) -> Result<Record>;

    /// The records matching `query`, oldest first.
    async fn query(&self, query: &Query) -> Result<Vec<Record>>;
}
