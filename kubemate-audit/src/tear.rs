//! Torn lines: the interrupted last write of a log (a crash, a full disk), how it is found,
//! and how the log recovers from it without losing either the good records or the evidence.
//!
//! A log is JSON lines, one record each. A write cut short leaves bytes after the last
//! newline that are not a record (a partial line, or garbage). Such bytes are never removed,
//! rewritten or chained onto. Instead the writer that finds them ([`crate::FileSink`], when it
//! opens the log or before it appends) ends them with a newline and appends an
//! `audit-recover` record ([`RECOVER_VERB`]) that chains to the last good record, and whose
//! name says where the torn bytes start and how many there are (`line 7, 42 torn bytes`).
//! That record starts a new segment of the log, and it is the audit record of the recovery
//! itself.
//!
//! Verification ([`crate::verify`]) accepts a run of non-record lines only as a torn region:
//! immediately followed by the `audit-recover` record that names exactly its first line and
//! its size, or at the very end of the log (a tear not recovered yet). Anywhere else a line
//! that is not a record breaks the chain, as before.

use serde::Serialize;

use crate::{Decision, Entry, Outcome, Record, Stage};

/// The verb of the record that starts a new segment after a torn region.
pub const RECOVER_VERB: &str = "audit-recover";
/// The kind of that record.
pub const RECOVER_KIND: &str = "audit-log";
/// The user of that record: Kubemate itself, not a person.
pub const RECOVER_USER: &str = "kubemate";

/// A torn region of a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Torn {
    /// 1-based number of its first line.
    pub line: usize,
    /// Its size in bytes, from the start of its first line to the end of its last (the
    /// newline that ends it excepted).
    pub bytes: usize,
    /// True when an `audit-recover` record follows it, so the log goes on from there.
    pub recovered: bool,
}

impl std::fmt::Display for Torn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}: torn ({} bytes of an interrupted write), ",
            self.line, self.bytes
        )?;
        if self.recovered {
            f.write_str("recovered: the log continues after it")
        } else {
            f.write_str("at the end of the log, not recovered yet (the next writer recovers it)")
        }
    }
}

fn recovery_name(line: usize, bytes: usize) -> String {
    format!("line {line}, {bytes} torn bytes")
}

/// The entry of the record that recovers a torn region starting at `line`, `bytes` long.
pub(crate) fn recovery_entry(line: usize, bytes: usize, seq: u64) -> Entry {
    Entry {
        user: RECOVER_USER.to_owned(),
        source: None,
        request_id: format!("{RECOVER_VERB}-{seq}"),
        verb: RECOVER_VERB.to_owned(),
        kind: RECOVER_KIND.to_owned(),
        namespace: None,
        name: Some(recovery_name(line, bytes)),
        decision: Some(Decision::Allowed),
        outcome: Some(Outcome::Success),
        error_code: None,
        stage: Some(Stage::Response),
        duration_ms: None,
    }
}

/// True when `record` is the recovery of a torn region starting at `line`, `bytes` long.
fn recovers(record: &Record, line: usize, bytes: usize) -> bool {
    record.verb == RECOVER_VERB
        && record.kind == RECOVER_KIND
        && record.user == RECOVER_USER
        && record.name.as_deref() == Some(recovery_name(line, bytes).as_str())
}

/// What a log holds, line by line, in order.
#[derive(Debug)]
pub(crate) enum Event {
    /// A record, with its 1-based line number.
    Record(usize, Box<Record>),
    /// A torn region (followed by its recovery record, or at the end of the log).
    Torn(Torn),
    /// A line that is not a record and not part of a torn region: corruption.
    Junk(usize, serde_json::Error),
}

/// The bytes of one line, without its newline.
struct Line<'a> {
    number: usize,
    start: usize,
    text: &'a [u8],
}

fn lines(bytes: &[u8]) -> impl Iterator<Item = Line<'_>> {
    let mut start = 0;
    let mut number = 0;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        let end = bytes[start..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(bytes.len(), |i| start + i);
        number += 1;
        let line = Line {
            number,
            start,
            text: &bytes[start..end],
        };
        start = end + 1;
        Some(line)
    })
}

/// A run of non-record lines not yet classified.
struct Pending {
    line: usize,
    start: usize,
    end: usize,
    error: serde_json::Error,
}

/// Reads a log: its records, torn regions and corrupt lines, in order. Blank lines are
/// skipped.
pub(crate) fn scan(bytes: &[u8]) -> Vec<Event> {
    let mut events = Vec::new();
    let mut pending: Option<Pending> = None;
    for line in lines(bytes) {
        if line.text.trim_ascii().is_empty() {
            continue;
        }
        match serde_json::from_slice::<Record>(line.text) {
            Ok(record) => {
                if let Some(p) = pending.take() {
                    let size = p.end - p.start;
                    if recovers(&record, p.line, size) {
                        events.push(Event::Torn(Torn {
                            line: p.line,
                            bytes: size,
                            recovered: true,
                        }));
                    } else {
                        events.push(Event::Junk(p.line, p.error));
                    }
                }
                events.push(Event::Record(line.number, Box::new(record)));
            }
            Err(error) => {
                let end = line.start + line.text.len();
                match &mut pending {
                    Some(p) => p.end = end,
                    None => {
                        pending = Some(Pending {
                            line: line.number,
                            start: line.start,
                            end,
                            error,
                        });
                    }
                }
            }
        }
    }
    if let Some(p) = pending {
        events.push(Event::Torn(Torn {
            line: p.line,
            bytes: p.end - p.start,
            recovered: false,
        }));
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_their_offsets_and_the_last_may_lack_a_newline() {
        let found: Vec<(usize, usize, &[u8])> = lines(b"ab\n\ncd")
            .map(|l| (l.number, l.start, l.text))
            .collect();
        assert_eq!(
            found,
            [(1, 0, &b"ab"[..]), (2, 3, &b""[..]), (3, 4, &b"cd"[..])]
        );
    }

    #[test]
    fn a_region_is_recovered_only_by_the_record_that_names_it() {
        let record = Record::new(
            recovery_entry(3, 10, 2),
            2,
            "2026-01-01T00:00:00Z".into(),
            "x".into(),
        );
        assert!(recovers(&record, 3, 10));
        assert!(!recovers(&record, 3, 11));
        assert!(!recovers(&record, 4, 10));
    }
}
