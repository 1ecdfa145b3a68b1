//! The `kubemate` binary as a process, without a cluster: exit codes, one-line errors, and
//! the commands that need no cluster. (Having this test also makes `cargo test` build the
//! binary, which the workspace integration tests run against the real control plane.)

use std::{
    io::Write,
    path::Path,
    process::{Command, Output, Stdio},
};

fn kubemate(args: &[&str], audit_log: &Path) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubemate"))
        .args(args)
        .env("KUBEMATE_AUDIT_LOG", audit_log)
        .env_remove("KUBECONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kubemate");
    drop(child.stdin.take());
    child.wait_with_output().expect("kubemate ran")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The failure was reported as exactly one line `error: CODE: ...`.
#[track_caller]
fn one_line_error(o: &Output, code: &str) -> String {
    let text = stderr(o);
    assert!(!o.status.success(), "succeeded: {text}");
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with(&format!("error: {code}: ")), "{text}");
    assert!(
        !text.contains("panicked") && !text.contains("backtrace"),
        "{text}"
    );
    text
}

/// A kubeconfig whose cluster does not answer.
fn unreachable_kubeconfig(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("kubeconfig");
    let mut f = std::fs::File::create(&path).expect("kubeconfig");
    write!(
        f,
        r#"apiVersion: v1
kind: Config
current-context: gone
clusters:
- name: gone
  cluster: {{server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}
contexts:
- name: gone
  context: {{cluster: gone, user: ops-admin}}
users:
- name: ops-admin
  user: {{token: not-a-real-token}}
"#
    )
    .expect("write");
    path
}

#[test]
fn help_and_local_commands_need_no_cluster() {
    let dir = tempfile::tempdir().expect("dir");
    let log = dir.path().join("audit.jsonl");
    let help = kubemate(&["--help"], &log);
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("Usage: kubemate"));
    let rule_help = kubemate(&["role", "create", "--help"], &log);
    assert!(String::from_utf8_lossy(&rule_help.stdout).contains("GROUP/RESOURCE[/SUB]"));
    let crds = kubemate(&["crds"], &log);
    assert!(crds.status.success(), "{}", stderr(&crds));
    assert!(
        String::from_utf8_lossy(&crds.stdout)
            .starts_with("---\napiVersion: apiextensions.k8s.io/v1")
    );
    assert!(!log.exists(), "printing needs no audit log");
}

#[test]
fn bad_command_lines_exit_2_with_one_line() {
    let dir = tempfile::tempdir().expect("dir");
    let log = dir.path().join("audit.jsonl");
    for args in [
        &["scale", "deployment", "web", "--replicas", "2"][..],
        &[
            "role",
            "create",
            "r",
            "--namespaces",
            "a",
            "--rule",
            "fly:pods",
        ],
        &["ns", "create", "t", "--quota", "cpu=lots"],
        &["user", "create", "alice", "--password", "s3cret-s3cret"],
        &["frobnicate"],
    ] {
        let out = kubemate(args, &log);
        one_line_error(&out, "InvalidArgument");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn a_bad_argument_the_command_finds_exits_2_too() {
    let dir = tempfile::tempdir().expect("dir");
    let log = dir.path().join("audit.jsonl");
    std::fs::write(&log, "").expect("an empty audit log");
    let out = kubemate(&["audit", "query", "--since", "yesterday"], &log);
    assert!(one_line_error(&out, "InvalidArgument").contains("--since"));
    assert_eq!(out.status.code(), Some(2));
    // Not an argument: the log is missing.
    std::fs::remove_file(&log).expect("remove");
    let out = kubemate(&["audit", "query", "--since", "30m"], &log);
    one_line_error(&out, "AuditUnavailable");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn cluster_failures_exit_1_with_their_code_and_are_audited() {
    let dir = tempfile::tempdir().expect("dir");
    let log = dir.path().join("audit.jsonl");
    let missing = dir.path().join("no-such-kubeconfig");
    let out = kubemate(
        &[
            "get",
            "pods",
            "-n",
            "x",
            "--kubeconfig",
            missing.to_str().expect("path"),
        ],
        &log,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(one_line_error(&out, "ConfigError").contains("cannot read kubeconfig"));

    let kubeconfig = unreachable_kubeconfig(dir.path());
    let kc = kubeconfig.to_str().expect("path");
    let out = kubemate(&["get", "pods", "-n", "x", "--kubeconfig", kc], &log);
    assert_eq!(out.status.code(), Some(1));
    one_line_error(&out, "Unavailable");
    let out = kubemate(
        &[
            "scale",
            "deploy",
            "web",
            "--replicas",
            "2",
            "-n",
            "x",
            "--kubeconfig",
            kc,
        ],
        &log,
    );
    one_line_error(&out, "Unavailable");
    // The attempts are in the audit log, in the name of the kubeconfig's user.
    let query = kubemate(&["audit", "query", "-o", "json"], &log);
    assert!(query.status.success(), "{}", stderr(&query));
    let records: serde_json::Value = serde_json::from_slice(&query.stdout).expect("json");
    let seen: Vec<(String, String, String)> = records
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            (
                r["user"].as_str().unwrap_or_default().to_owned(),
                r["verb"].as_str().unwrap_or_default().to_owned(),
                r["outcome"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let expect =
        |verb: &str, outcome: &str| ("ops-admin".to_owned(), verb.to_owned(), outcome.to_owned());
    assert_eq!(
        seen,
        [
            expect("list", "failure"),
            expect("scale", "pending"),
            expect("scale", "failure")
        ]
    );
    let verify = kubemate(&["audit", "verify"], &log);
    assert!(verify.status.success(), "{}", stderr(&verify));

    let out = kubemate(
        &["audit", "verify", "--audit-log", "/nonexistent/audit.jsonl"],
        &log,
    );
    one_line_error(&out, "AuditUnavailable");
}

#[cfg(unix)]
#[test]
fn the_audit_log_is_created_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("dir");
    let log = dir.path().join("state/kubemate/audit.jsonl");
    let kubeconfig = unreachable_kubeconfig(dir.path());
    let out = kubemate(
        &[
            "get",
            "pods",
            "-n",
            "x",
            "--kubeconfig",
            kubeconfig.to_str().expect("path"),
        ],
        &log,
    );
    one_line_error(&out, "Unavailable");
    let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&log), 0o600, "the audit log");
    assert_eq!(mode(log.parent().expect("dir")), 0o700, "its new directory");
}

#[test]
fn a_torn_audit_log_is_reported_by_verify_and_recovered_by_the_next_command() {
    let dir = tempfile::tempdir().expect("dir");
    let log = dir.path().join("audit.jsonl");
    let kubeconfig = unreachable_kubeconfig(dir.path());
    let kc = kubeconfig.to_str().expect("path");
    let get = ["get", "pods", "-n", "x", "--kubeconfig", kc];
    one_line_error(&kubemate(&get, &log), "Unavailable");
    // A crash in the middle of the second record's write.
    let partial = br#"{"seq":2,"time":"2026-01-01T00:00:00Z","user":"ops-ad"#;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .expect("log");
    file.write_all(partial).expect("tear");
    drop(file);

    let verify = kubemate(&["audit", "verify"], &log);
    let stdout = String::from_utf8_lossy(&verify.stdout).into_owned();
    assert!(verify.status.success(), "{stdout}{}", stderr(&verify));
    let torn = format!(
        "line 2: torn ({} bytes of an interrupted write)",
        partial.len()
    );
    assert!(
        stdout.contains(&torn) && stdout.contains("not recovered yet"),
        "{stdout}"
    );
    assert!(stdout.contains("1 records, hash chain intact"), "{stdout}");

    // The next command starts, says it recovered the log, and its record chains on.
    let out = kubemate(&get, &log);
    let text = stderr(&out);
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.starts_with("warning: audit log")
                && l.contains(&torn)
                && l.contains("recovered")),
        "{text}"
    );
    assert!(
        text.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("error: Unavailable: ")),
        "{text}"
    );
    let verify = kubemate(&["audit", "verify"], &log);
    let stdout = String::from_utf8_lossy(&verify.stdout).into_owned();
    assert!(verify.status.success(), "{stdout}{}", stderr(&verify));
    assert!(
        stdout.contains(&torn) && stdout.contains("recovered: the log continues after it"),
        "{stdout}"
    );
    assert!(stdout.contains("3 records, hash chain intact"), "{stdout}");
    let query = kubemate(&["audit", "query", "-o", "json"], &log);
    let records: serde_json::Value = serde_json::from_slice(&query.stdout).expect("json");
    let verbs: Vec<&str> = records
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| r["verb"].as_str())
        .collect();
    assert_eq!(verbs, ["list", "audit-recover", "list"]);
}
