//! Audit records and their hash chain.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash the first record of a log chains to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Whether Kubemate's authorizer let the operation through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Decision {
    /// Allowed.
    Allowed,
    /// Denied; no cluster call was made.
    Denied,
}

/// How the operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// Not known yet: the record of an allowed mutation, written before it is performed.
    Pending,
    /// It succeeded.
    Success,
    /// It failed (see the error code).
    Failure,
}

/// The stage of the operation a record describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Stage {
    /// Before a mutation is performed (the mutation waits for this record to be written).
    Request,
    /// After the operation completed, or when it was refused.
    Response,
}

/// What the caller reports about an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// The acting user (account name), or `anonymous`.
    pub user: String,
    /// The client address, if known.
    pub source: Option<String>,
    /// The request id, shared by the records of one operation.
    pub request_id: String,
    /// The verb: `get`, `list`, `create`, `update`, `delete`, `scale`, `login`, ...
    pub verb: String,
    /// The kind or resource the operation is about (`deployments`, `users`, ...).
    pub kind: String,
    /// The namespace, if any.
    pub namespace: Option<String>,
    /// The object name, if any.
    pub name: Option<String>,
    /// Allowed or denied.
    pub decision: Option<Decision>,
    /// The outcome.
    pub outcome: Option<Outcome>,
    /// The stable error code of a failure or denial.
    pub error_code: Option<String>,
    /// The stage.
    pub stage: Option<Stage>,
    /// How long the operation took, in milliseconds.
    pub duration_ms: Option<u64>,
}

/// A written audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// Position in the log, from 1.
    pub seq: u64,
    /// When it was written (RFC 3339, UTC).
    pub time: String,
    /// The acting user.
    pub user: String,
    /// The client address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The request id.
    pub request_id: String,
    /// The verb.
    pub verb: String,
    /// The kind or resource.
    pub kind: String,
    /// The namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The object name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Allowed or denied.
    pub decision: Decision,
    /// The outcome.
    pub outcome: Outcome,
    /// The error code of a failure or denial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The stage.
    pub stage: Stage,
    /// Duration in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// Hash of the previous record ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// SHA-256 over this record's other fields, hex.
    pub hash: String,
}

impl Record {
    /// Builds the record that follows `prev_hash` at position `seq`.
    pub fn new(entry: Entry, seq: u64, time: String, prev_hash: String) -> Record {
        let mut record = Record {
            seq,
            time,
            user: entry.user,
            source: entry.source,
            request_id: entry.request_id,
            verb: entry.verb,
            kind: entry.kind,
            namespace: entry.namespace,
            name: entry.name,
            decision: entry.decision.unwrap_or(Decision::Allowed),
            outcome: entry.outcome.unwrap_or(Outcome::Success),
            error_code: entry.error_code,
            stage: entry.stage.unwrap_or(Stage::Response),
            duration_ms: entry.duration_ms,
            prev_hash,
            hash: String::new(),
        };
        record.hash = record.compute_hash();
        record
    }

    /// The hash this record should carry: SHA-256 of its canonical JSON without `hash`.
    pub fn compute_hash(&self) -> String {
        let mut unsigned = self.clone();
        unsigned.hash = String::new();
        // Field order is the struct's, so the serialization is canonical.
        let bytes = serde_json::to_vec(&unsigned).unwrap_or_default();
        Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The current time as RFC 3339 UTC with nanoseconds (sortable as text).
pub fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.9fZ")
        .to_string()
}
