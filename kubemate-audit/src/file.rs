//! The default sink: an append-only JSON-lines file.

use std::{
    fs::{File, OpenOptions},
    io::{BufRead, BufReader, Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use async_trait::async_trait;

use crate::{
    AuditSink, Entry, Error, Query, Record, Result,
    record::{GENESIS, now},
};

/// Appends records as JSON lines to a file, chaining each to the last one already there.
///
/// Several writers (CLI processes, server replicas on a shared volume) may append to one file:
/// each append takes an exclusive lock on the file and chains to the last record it finds there.
#[derive(Debug, Clone)]
pub struct FileSink {
    path: PathBuf,
    durable: bool,
    file: Arc<Mutex<File>>,
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
        // Refuse a log that is already unreadable rather than chain onto garbage.
        read_records(&path)?;
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| io(&path, e))?;
        Ok(FileSink {
            path,
            durable,
            file: Arc::new(Mutex::new(file)),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn append_blocking(&self, entry: Entry) -> Result<Record> {
        let file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        // Another process may have appended since: chain to what the file holds now.
        let locked = FileLock::take(&file).map_err(|e| io(&self.path, e))?;
        let (seq, hash) = last_link(&mut &*locked.0).map_err(|e| io(&self.path, e))?;
        let record = Record::new(entry, seq + 1, now(), hash);
        let mut line =
            serde_json::to_vec(&record).map_err(|e| io(&self.path, std::io::Error::other(e)))?;
        line.push(b'\n');
        (&*locked.0)
            .write_all(&line)
            .map_err(|e| io(&self.path, e))?;
        if self.durable {
            locked.0.sync_data().map_err(|e| io(&self.path, e))?;
        }
        drop(locked);
        drop(file);
        Ok(record)
    }
}

/// An exclusive advisory lock on the log, held while one record is appended.
struct FileLock<'a>(&'a File);

impl<'a> FileLock<'a> {
    fn take(file: &'a File) -> std::io::Result<FileLock<'a>> {
        file.lock()?;
        Ok(FileLock(file))
    }
}

impl Drop for FileLock<'_> {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// The sequence number and hash of the last record of the file (0 and the genesis hash for an
/// empty file), reading only its tail.
fn last_link(file: &mut &File) -> std::io::Result<(u64, String)> {
    let len = file.seek(SeekFrom::End(0))?;
    let mut start = len;
    let mut tail = Vec::new();
    // Read backwards in blocks until a whole last line is in hand.
    while start > 0 {
        let step = start.min(4096);
        start -= step;
        let mut block = vec![0; usize::try_from(step).unwrap_or(4096)];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut block)?;
        block.extend_from_slice(&tail);
        tail = block;
        let trimmed = tail.trim_ascii_end();
        if trimmed.contains(&b'\n') {
            break;
        }
    }
    let trimmed = tail.trim_ascii_end();
    let last = trimmed
        .rsplit(|b| *b == b'\n')
        .next()
        .filter(|l| !l.is_empty());
    match last {
        None => Ok((0, GENESIS.to_owned())),
        Some(line) => {
            let record: Record = serde_json::from_slice(line)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            Ok((record.seq, record.hash))
        }
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
    async fn two_writers_on_one_file_keep_one_chain() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("shared.log");
        let a = FileSink::open(&path, false).expect("open a");
        let b = FileSink::open(&path, false).expect("open b");
        let mut tasks = Vec::new();
        for i in 0..40 {
            let sink = if i % 2 == 0 { a.clone() } else { b.clone() };
            tasks.push(tokio::spawn(async move {
                sink.append(entry("alice", "get", Some("shop"), Decision::Allowed))
                    .await
                    .expect("append")
            }));
        }
        for t in tasks {
            t.await.expect("join");
        }
        let check = verify_file(&path).expect("verify");
        assert!(check.is_intact(), "{check:?}");
        assert_eq!(check.records, 40);
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
