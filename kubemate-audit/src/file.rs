//! The default sink: an append-only JSON-lines file.
//!
//! The file is created readable and writable by its owner only (mode 0600, its directory
//! 0700 when the sink creates it): records name users, namespaces and objects. An existing
//! file keeps its mode; [`FileSink::exposed_mode`] says when others may read it, for the
//! caller to warn about.
//!
//! An interrupted write (a crash, a full disk) leaves a torn last line. The sink neither
//! refuses such a log nor chains onto the garbage: when it opens the log, or before an append
//! if another writer tore it meanwhile, it ends the torn bytes with a newline, keeps them as
//! they are, and appends an `audit-recover` record that chains to the last good record and
//! names the torn bytes ([`crate::tear`]). Verification then reports the tear and checks the
//! rest of the chain across it. A line that is not a record anywhere else is corruption, and
//! the log is refused.

use std::{
    fs::{File, OpenOptions},
    io::{Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use async_trait::async_trait;

use crate::{
    AuditSink, Entry, Error, Query, Record, Result,
    record::{GENESIS, now},
    tear::{Event, Torn, recovery_entry, scan},
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
    recovered: Option<Torn>,
    exposed_mode: Option<u32>,
}

fn io(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The records of the log, torn regions skipped; a corrupt line is an error.
fn records_of(bytes: &[u8]) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    for event in scan(bytes) {
        match event {
            Event::Record(_, record) => out.push(*record),
            Event::Torn(_) => {}
            Event::Junk(line, source) => return Err(Error::Corrupt { line, source }),
        }
    }
    Ok(out)
}

fn read_records(path: &Path) -> Result<Vec<Record>> {
    match std::fs::read(path) {
        Ok(bytes) => records_of(&bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(io(path, e)),
    }
}

fn create_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// The permission bits of `file` when its group or others have any access to it.
fn exposed(file: &File) -> std::io::Result<Option<u32>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata()?.permissions().mode() & 0o777;
        Ok((mode & 0o077 != 0).then_some(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Ok(None)
    }
}

impl FileSink {
    /// Opens (or creates, mode 0600) the log at `path` and continues its chain, recovering a
    /// torn last line first. With `durable`, every append is flushed to disk before it
    /// returns. A log with a corrupt line before its end is refused (`AuditCorrupt`).
    pub fn open(path: impl Into<PathBuf>, durable: bool) -> Result<FileSink> {
        let path = path.into();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_dir(dir).map_err(|e| io(&path, e))?;
        }
        let mut options = OpenOptions::new();
        options.create(true).read(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path).map_err(|e| io(&path, e))?;
        let exposed_mode = exposed(&file).map_err(|e| io(&path, e))?;
        let recovered = {
            let locked = FileLock::take(&file).map_err(|e| io(&path, e))?;
            recover(locked.0, &path, durable)?
        };
        Ok(FileSink {
            path,
            durable,
            file: Arc::new(Mutex::new(file)),
            recovered,
            exposed_mode,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The torn region that opening the log recovered, if any (its `audit-recover` record is
    /// in the log), for the caller to report.
    pub fn recovered(&self) -> Option<Torn> {
        self.recovered
    }

    /// The file's permission bits when its group or others may access it (a file created by
    /// the sink is 0600; one that already existed keeps its mode), for the caller to warn
    /// about.
    pub fn exposed_mode(&self) -> Option<u32> {
        self.exposed_mode
    }

    fn append_blocking(&self, entry: Entry) -> Result<Record> {
        let file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        // Another process may have appended since: chain to what the file holds now.
        let locked = FileLock::take(&file).map_err(|e| io(&self.path, e))?;
        let (seq, hash) = match last_link(locked.0).map_err(|e| io(&self.path, e))? {
            Some(link) => link,
            None => {
                // Torn since this sink opened it (another writer, or our own write cut short).
                recover(locked.0, &self.path, self.durable)?;
                last_link(locked.0)
                    .map_err(|e| io(&self.path, e))?
                    .ok_or_else(|| {
                        io(
                            &self.path,
                            std::io::Error::other("the log's tail is not a record after recovery"),
                        )
                    })?
            }
        };
        let record = Record::new(entry, seq + 1, now(), hash);
        write_record(locked.0, &record).map_err(|e| io(&self.path, e))?;
        if self.durable {
            locked.0.sync_data().map_err(|e| io(&self.path, e))?;
        }
        drop(locked);
        drop(file);
        Ok(record)
    }
}

fn write_record(mut file: &File, record: &Record) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
    line.push(b'\n');
    file.write_all(&line)
}

/// With the lock held: reads the whole log, refuses a corrupt one, and recovers a torn end
/// (see the module's documentation). Returns the region it recovered.
fn recover(mut file: &File, path: &Path, durable: bool) -> Result<Option<Torn>> {
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.read_to_end(&mut bytes))
        .map_err(|e| io(path, e))?;
    let mut last = (0, GENESIS.to_owned());
    let mut torn = None;
    for event in scan(&bytes) {
        match event {
            Event::Record(_, record) => last = (record.seq, record.hash),
            Event::Torn(t) if !t.recovered => torn = Some(t),
            Event::Torn(_) => {}
            Event::Junk(line, source) => return Err(Error::Corrupt { line, source }),
        }
    }
    let unterminated = bytes.last().is_some_and(|b| *b != b'\n');
    if unterminated {
        file.write_all(b"\n").map_err(|e| io(path, e))?;
    }
    if let Some(t) = torn {
        let (seq, hash) = last;
        let record = Record::new(
            recovery_entry(t.line, t.bytes, seq + 1),
            seq + 1,
            now(),
            hash,
        );
        write_record(file, &record).map_err(|e| io(path, e))?;
    }
    if durable && (unterminated || torn.is_some()) {
        file.sync_data().map_err(|e| io(path, e))?;
    }
    Ok(torn.map(|t| Torn {
        recovered: true,
        ..t
    }))
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
/// empty file), reading only its tail; `None` when the file does not end with a whole record
/// line (a torn write, for [`recover`]).
fn last_link(mut file: &File) -> std::io::Result<Option<(u64, String)>> {
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
    if tail.last().is_some_and(|b| *b != b'\n') {
        return Ok(None);
    }
    let trimmed = tail.trim_ascii_end();
    let last = trimmed
        .rsplit(|b| *b == b'\n')
        .next()
        .filter(|l| !l.is_empty());
    Ok(match last {
        None => Some((0, GENESIS.to_owned())),
        Some(line) => serde_json::from_slice::<Record>(line)
            .ok()
            .map(|r| (r.seq, r.hash)),
    })
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
    use std::io::Write;

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

    /// A log of `n` records, then `tail` appended as a crash would leave it.
    async fn torn_log(path: &Path, n: usize, tail: &[u8]) -> Vec<Record> {
        let sink = FileSink::open(path, false).expect("open");
        let mut written = Vec::new();
        for _ in 0..n {
            written.push(
                sink.append(entry("alice", "get", Some("shop"), Decision::Allowed))
                    .await
                    .expect("append"),
            );
        }
        drop(sink);
        let mut file = OpenOptions::new().append(true).open(path).expect("file");
        file.write_all(tail).expect("tear");
        written
    }

    #[tokio::test]
    async fn a_torn_last_line_is_kept_and_the_log_continues_after_the_last_good_record() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.jsonl");
        let partial = br#"{"seq":4,"time":"2026-01-01T00:00:00Z","user":"al"#;
        let good = torn_log(&path, 3, partial).await;

        // Verification before any writer recovers it: the tear is reported, the rest holds.
        let before = verify_file(&path).expect("verify");
        assert!(before.is_intact(), "{before:?}");
        assert_eq!(before.records, 3);
        let tear = Torn {
            line: 4,
            bytes: partial.len(),
            recovered: false,
        };
        assert_eq!(before.torn, [tear]);
        assert!(tear.to_string().starts_with("line 4: torn ("), "{tear}");

        // Opening recovers it: the torn bytes stay, a recovery record chains to record 3.
        let sink = FileSink::open(&path, true).expect("a torn log opens");
        let recovered = Torn {
            recovered: true,
            ..tear
        };
        assert_eq!(sink.recovered(), Some(recovered));
        let next = sink
            .append(entry("bob", "list", Some("shop"), Decision::Allowed))
            .await
            .expect("append");
        assert_eq!(next.seq, 5);
        let text = std::fs::read(&path).expect("read");
        let lines: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
        assert_eq!(
            lines[3],
            &partial[..],
            "the torn bytes are kept as they were"
        );
        let recovery: Record = serde_json::from_slice(lines[4]).expect("recovery record");
        assert_eq!(recovery.verb, crate::tear::RECOVER_VERB);
        assert_eq!(recovery.seq, 4);
        assert_eq!(recovery.prev_hash, good[2].hash);
        assert_eq!(
            recovery.name.as_deref(),
            Some(format!("line 4, {} torn bytes", partial.len()).as_str())
        );
        assert_eq!(next.prev_hash, recovery.hash);

        let after = verify_file(&path).expect("verify");
        assert!(after.is_intact(), "{after:?}");
        assert_eq!(after.records, 5);
        assert_eq!(after.torn, [recovered]);
        // Queries skip the torn bytes; reopening finds nothing more to recover.
        assert_eq!(sink.query(&Query::default()).await.expect("query").len(), 5);
        drop(sink);
        assert_eq!(
            FileSink::open(&path, false).expect("reopen").recovered(),
            None
        );
    }

    #[tokio::test]
    async fn garbage_at_the_end_even_over_several_lines_and_not_utf8_is_a_tear() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.jsonl");
        let garbage = b"\0\0\xff\xfe zeroes\n{\"seq\":\n\0\0";
        torn_log(&path, 2, garbage).await;
        let sink = FileSink::open(&path, false).expect("open");
        assert_eq!(
            sink.recovered(),
            Some(Torn {
                line: 3,
                bytes: garbage.len(),
                recovered: true
            })
        );
        sink.append(entry("alice", "get", None, Decision::Allowed))
            .await
            .expect("append");
        let check = verify_file(&path).expect("verify");
        assert!(check.is_intact(), "{check:?}");
        assert_eq!(check.records, 4);
    }

    #[tokio::test]
    async fn a_log_torn_by_another_writer_is_recovered_before_the_next_append() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.jsonl");
        let sink = FileSink::open(&path, false).expect("open");
        sink.append(entry("alice", "get", None, Decision::Allowed))
            .await
            .expect("append");
        let mut other = OpenOptions::new().append(true).open(&path).expect("file");
        other.write_all(br#"{"seq":2,"ti"#).expect("tear");
        let next = sink
            .append(entry("alice", "list", None, Decision::Allowed))
            .await
            .expect("the append recovers first");
        assert_eq!(next.seq, 3);
        let check = verify_file(&path).expect("verify");
        assert!(check.is_intact(), "{check:?}");
        assert_eq!(check.torn.len(), 1);
        assert!(check.torn[0].recovered);
    }

    #[tokio::test]
    async fn a_whole_last_record_without_its_newline_is_ended_not_torn() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.jsonl");
        torn_log(&path, 2, b"").await;
        let text = std::fs::read(&path).expect("read");
        std::fs::write(&path, &text[..text.len() - 1]).expect("drop the newline");
        let sink = FileSink::open(&path, false).expect("open");
        assert_eq!(sink.recovered(), None);
        sink.append(entry("alice", "get", None, Decision::Allowed))
            .await
            .expect("append");
        let check = verify_file(&path).expect("verify");
        assert!(check.is_intact() && check.torn.is_empty(), "{check:?}");
        assert_eq!(check.records, 3);
    }

    #[tokio::test]
    async fn a_bad_line_before_the_end_is_corruption_not_a_tear() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.jsonl");
        torn_log(&path, 3, b"").await;
        let text = std::fs::read_to_string(&path).expect("read");
        let mut lines: Vec<&str> = text.lines().collect();
        lines[1] = "not a record";
        std::fs::write(&path, lines.join("\n") + "\n").expect("write");
        let err = FileSink::open(&path, false).expect_err("corrupt");
        assert_eq!(err.code(), "AuditCorrupt");
        let check = verify_file(&path).expect("verify");
        assert_eq!(check.broken.map(|b| b.0), Some(2));
        // A recovery record that names another region does not excuse it either.
        let fake = Record::new(
            crate::tear::recovery_entry(2, 3, 2),
            2,
            now(),
            String::new(),
        );
        let serialized = serde_json::to_string(&fake).expect("json");
        lines[2] = &serialized;
        assert_eq!(
            crate::verify(&lines.join("\n")).broken.map(|b| b.0),
            Some(2)
        );
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_log_is_created_for_its_owner_only_and_an_open_one_is_reported() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("new/audit.jsonl");
        let sink = FileSink::open(&path, false).expect("open");
        let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.path().join("new")), 0o700);
        assert_eq!(sink.exposed_mode(), None);
        drop(sink);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let sink = FileSink::open(&path, false).expect("reopen");
        assert_eq!(sink.exposed_mode(), Some(0o644));
        assert_eq!(mode(&path), 0o644, "an existing file keeps its mode");
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
