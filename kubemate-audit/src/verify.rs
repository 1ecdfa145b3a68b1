//! Tamper evidence: checking the hash chain of an audit log.

use std::path::Path;

use serde::Serialize;

use crate::{Error, Record, Result, record::GENESIS};

/// The result of checking a log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// Records read.
    pub records: usize,
    /// The first broken link: 1-based line number and what is wrong. `None` when intact.
    pub broken: Option<(usize, String)>,
}

impl Verification {
    /// True when every link holds.
    pub fn is_intact(&self) -> bool {
        self.broken.is_none()
    }
}

/// Checks the chain of the JSON lines in `text`: each record's hash must match its content,
/// its `prevHash` the previous record's hash, and `seq` must count up from 1.
pub fn verify(text: &str) -> Verification {
    let mut prev = GENESIS.to_owned();
    let mut count = 0;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let broken = |why: String| Verification {
            records: count,
            broken: Some((n, why)),
        };
        let record: Record = match serde_json::from_str(line) {
            Ok(r) => r,
            Err(e) => return broken(format!("not a record: {e}")),
        };
        if record.seq != count as u64 + 1 {
            return broken(format!(
                "sequence {} where {} was expected (a record was removed or inserted)",
                record.seq,
                count + 1
            ));
        }
        if record.prev_hash != prev {
            return broken("does not chain to the previous record".to_owned());
        }
        if record.compute_hash() != record.hash {
            return broken("content does not match its hash (the record was edited)".to_owned());
        }
        prev = record.hash;
        count += 1;
    }
    Verification {
        records: count,
        broken: None,
    }
}

/// Checks the chain of an audit log file.
pub fn verify_file(path: &Path) -> Result<Verification> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(verify(&text))
}
