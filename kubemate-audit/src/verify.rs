//! Tamper evidence: checking the hash chain of an audit log.

use std::path::Path;

use serde::Serialize;

use crate::{
    Error, Result,
    record::GENESIS,
    tear::{Event, Torn, scan},
};

/// The result of checking a log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// Records read.
    pub records: usize,
    /// The first broken link: 1-based line number and what is wrong. `None` when intact.
    pub broken: Option<(usize, String)>,
    /// The torn regions met on the way (interrupted writes, see [`crate::tear`]): each one
    /// recovered by the record after it, or, the last, at the end of the log. They do not
    /// break the chain.
    pub torn: Vec<Torn>,
}

impl Verification {
    /// True when every link holds.
    pub fn is_intact(&self) -> bool {
        self.broken.is_none()
    }
}

/// Checks the chain of the JSON lines in `text`: each record's hash must match its content,
/// its `prevHash` the previous record's hash, and `seq` must count up from 1. A torn region
/// (an interrupted write) is reported in [`Verification::torn`] and skipped; any other line
/// that is not a record breaks the chain.
pub fn verify(text: &str) -> Verification {
    verify_bytes(text.as_bytes())
}

/// [`verify`] on bytes, which a torn write need not have left valid UTF-8.
pub fn verify_bytes(bytes: &[u8]) -> Verification {
    let mut prev = GENESIS.to_owned();
    let mut count = 0;
    let mut torn = Vec::new();
    for event in scan(bytes) {
        let (n, record) = match event {
            Event::Record(n, record) => (n, record),
            Event::Torn(t) => {
                torn.push(t);
                continue;
            }
            Event::Junk(n, e) => {
                return Verification {
                    records: count,
                    broken: Some((n, format!("not a record: {e}"))),
                    torn,
                };
            }
        };
        let why = if record.seq != count as u64 + 1 {
            Some(format!(
                "sequence {} where {} was expected (a record was removed or inserted)",
                record.seq,
                count + 1
            ))
        } else if record.prev_hash != prev {
            Some("does not chain to the previous record".to_owned())
        } else if record.compute_hash() != record.hash {
            Some("content does not match its hash (the record was edited)".to_owned())
        } else {
            None
        };
        if let Some(why) = why {
            return Verification {
                records: count,
                broken: Some((n, why)),
                torn,
            };
        }
        prev = record.hash;
        count += 1;
    }
    Verification {
        records: count,
        broken: None,
        torn,
    }
}

/// Checks the chain of an audit log file.
pub fn verify_file(path: &Path) -> Result<Verification> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(verify_bytes(&bytes))
}
