//! The default sink: an append-only JSON-lines file.

use std::{
    fs::{File, OpenOptions},
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use async_trait::async_trait;

use crate::{
    AuditSink, Entry, Error, Query, Record, Result,
    record::{GENESIS, now},
};

#[derive(Debug)]
struct Tail {
    file: File,
    seq: u64,
    hash: String,
}

/// Appends records as JSON lines to a file, chaining each to the last one already there.
#[derive(Debug, Clone)]
pub struct FileSink {
    path: PathBuf,
    durable: bool,
    tail: Arc<Mutex<Tail>>,
}

fn io(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        source,
    }
}

fn read_records(path: &Path) -> Result<Vec<Record>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(path, e)),
    };
    let mut out = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(
            serde_json::from_str(&line).map_err(|source| Error::Corrupt {
                line: i + 1,
                source,
            })?,
        );
    }
    Ok(out)
}

impl FileSink {
    /// Opens (or creates) the log at `path` and continues its chain. With `durable`, every
    /// append is flushed to disk before it returns.
    pub fn open(path: impl Into<PathBuf>, durable: bool) -> Result<FileSink> {
        let path = path.into();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| io(&path, e))?;
        }
        let last = read_records(&path)?.pop();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| io(&path, e))?;
        let (seq, hash) = last.map_or((0, GENESIS.to_owned()), |r| (r.seq, r.hash));
        Ok(FileSink {
            path,
            durable,
            tail: Arc::new(Mutex::new(Tail { file, seq, hash })),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn append_blocking(&self, entry: Entry) -> Result<Record> {
        let mut tail = self.tail.lock().unwrap_or_else(|p| p.into_inner());
        let record = Record::new(entry, tail.seq + 1, now(), tail.hash.clone());
        let mut line =
            serde_json::to_vec(&record).map_err(|e| io(&self.path, std::io::Error::other(e)))?;
        line.push(b'\n');
        // One write of the whole line: O_APPEND keeps concurrent writers from interleaving.
        tail.file.write_all(&line).map_err(|e| io(&self.path, e))?;
        if self.durable {
            tail.file.sync_data().map_err(|e| io(&self.path, e))?;
        }
        tail.seq = record.seq;
        tail.hash = record.hash.clone();
        Ok(record)
    }
}

#[async_trait]
impl AuditSink for FileSink {
    async fn append(&self, entry: Entry) -> Result<Record> {
        let sink = self.clone();
        tokio::task::spawn_blocking(move || sink.append_blocking(entry))
            .await
            .map_err(|e| io(&self.path, std::io::Error::other(e)))?
    }

    async fn query(&self, query: &Query) -> Result<Vec<Record>> {
        let matcher = query.matcher()?;
        let path = self.path.clone();
        let records = tokio::task::spawn_blocking(move || read_records(&path))
            .await
            .map_err(|e| io(&self.path, std::io::Error::other(e)))??;
        Ok(matcher.limit(records.into_iter().filter(|r| matcher.matches(r)).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Decision, Outcome, Stage, verify_file};

    fn entry(user: &str, verb: &str, ns: Option<&str>, decision: Decision) -> Entry {
        Entry {
            user: user.into(),
            source: Some("127.0.0.1".into()),
            request_id: format!("req-{verb}"),
            verb: verb.into(),
            kind: "deployments".into(),
            namespace: ns.map(str::to_owned),
            name: Some("web".into()),
            decision: Some(decision),
            outcome: Some(if decision == Decision::Denied {
                Outcome::Failure
            } else {
                Outcome::Success
            }),
            error_code: (decision == Decision::Denied).then(|| "Forbidden".into()),
            stage: Some(Stage::Response),
            duration_ms: Some(3),
        }
    }

    #[tokio::test]
    async fn the_chain_continues_across_restarts_and_verifies() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit/audit.log");
        let sink = FileSink::open(&path, true).expect("open");
        sink.append(entry("alice", "list", Some("shop"), Decision::Allowed))
            .await
            .expect("append");
        sink.append(entry("bob", "scale", Some("shop"), Decision::Denied))
            .await
            .expect("append");
        drop(sink);
        let reopened = FileSink::open(&path, true).expect("reopen");
        let third = reopened
            .append(entry("alice", "delete", Some("pay"), Decision::Allowed))
            .await
            .expect("append");
        assert_eq!(third.seq, 3);
        let check = verify_file(&path).expect("verify");
        assert!(check.is_intact(), "{check:?}");
        assert_eq!(check.records, 3);
    }

    #[tokio::test]
    async fn queries_filter_by_user_namespace_verb_outcome_and_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sink = FileSink::open(dir.path().join("a.log"), false).expect("open");
        sink.append(entry("alice", "list", Some("shop"), Decision::Allowed))
            .await
            .expect("append");
        let middle = sink
            .append(entry("bob", "scale", Some("shop"), Decision::Denied))
            .await
            .expect("append");
        sink.append(entry("alice", "delete", Some("pay"), Decision::Allowed))
            .await
            .expect("append");
        let q = |f: fn(&mut Query)| {
            let mut q = Query::default();
            f(&mut q);
            q
        };
        let count = |records: Vec<Record>| records.len();
        assert_eq!(
            count(
                sink.query(&q(|q| q.user = Some("alice".into())))
                    .await
                    .expect("q")
            ),
            2
        );
        assert_eq!(
            count(
                sink.query(&q(|q| q.namespace = Some("shop".into())))
                    .await
                    .expect("q")
            ),
            2
        );
        assert_eq!(
            count(
                sink.query(&q(|q| q.verb = Some("scale".into())))
                    .await
                    .expect("q")
            ),
            1
        );
        assert_eq!(
            count(
                sink.query(&q(|q| q.outcome = Some("denied".into())))
                    .await
                    .expect("q")
            ),
            1
        );
        let since = Query {
            since: Some(middle.time.clone()),
            ..Default::default()
        };
        assert_eq!(count(sink.query(&since).await.expect("q")), 2);
        let limited = sink.query(&q(|q| q.limit = Some(1))).await.expect("q");
        assert_eq!(limited[0].verb, "delete", "the newest");
        let err = sink
            .query(&q(|q| q.outcome = Some("maybe".into())))
            .await
            .expect_err("bad outcome");
        assert_eq!(err.code(), "Invalid");
        let err = sink
            .query(&q(|q| q.since = Some("yesterday".into())))
            .await
            .expect_err("bad time");
        assert_eq!(err.code(), "Invalid");
    }

    #[tokio::test]
    async fn an_edited_removed_or_reordered_line_breaks_the_chain() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.log");
        let sink = FileSink::open(&path, false).expect("open");
        for verb in ["get", "list", "create", "delete"] {
            sink.append(entry("alice", verb, Some("shop"), Decision::Allowed))
                .await
                .expect("append");
        }
        let text = std::fs::read_to_string(&path).expect("read");
        let lines: Vec<&str> = text.lines().collect();

        let edited = text.replacen("\"verb\":\"create\"", "\"verb\":\"get\"", 1);
        let v = crate::verify(&edited);
        assert_eq!(v.broken.as_ref().map(|b| b.0), Some(3), "{v:?}");

        let removed = [lines[0], lines[1], lines[3]].join("\n");
        assert_eq!(crate::verify(&removed).broken.map(|b| b.0), Some(3));

        let swapped = [lines[1], lines[0]].join("\n");
        assert_eq!(crate::verify(&swapped).broken.map(|b| b.0), Some(1));

        let truncated_tail = [lines[0], lines[1]].join("\n");
        assert!(
            crate::verify(&truncated_tail).is_intact(),
            "a shorter log is still a chain"
        );
        assert!(crate::verify(&text).is_intact());
    }

    #[tokio::test]
    async fn an_unwritable_log_is_an_error_not_a_silent_loss() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.log");
        std::fs::create_dir(&path).expect("a directory where the file should be");
        let err = FileSink::open(&path, true).expect_err("cannot open a directory");
        assert_eq!(err.code(), "AuditUnavailable");
    }
}
