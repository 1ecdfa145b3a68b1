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
