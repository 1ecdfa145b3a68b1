//! Kubemate's audit trail.
//!
//! This crate will own the audit record written for every operation (who, when, what, from
//! where, with which outcome), its sinks (an append-only local file, Loki, object storage
//! backups), queries over it, and tamper evidence by hash-chaining the records. Secret values
//! never enter a record.
