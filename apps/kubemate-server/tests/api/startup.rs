//! Starting the server: the demo cluster only on purpose or on loopback, said loudly; a
//! refusal, before anything listens, on another address with no cluster; the audit log
//! created for its owner only, and a torn one recovered rather than refused.

use std::{
    io::{BufRead, BufReader, Read},
    path::Path,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use clap::Parser;
use kubemate_audit::{Record, verify_file};
use kubemate_server::{
    config::Cli,
    startup::{self, Demo},
};

/// `kubemate-server ARGS` with an environment that names no cluster: no `KUBECONFIG`, a
/// `HOME` without `.kube/config`, not in a Pod, no `KUBEMATE_*` settings.
fn server(args: &[&str], home: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_kubemate-server"))
        .args(args)
        .env_clear()
        .env("HOME", home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kubemate-server")
}

fn read_all(pipe: Option<impl Read>) -> String {
    let mut text = String::new();
    if let Some(mut p) = pipe {
        let _ = p.read_to_string(&mut text);
    }
    text
}

#[test]
fn with_no_cluster_the_server_refuses_a_non_loopback_address_before_listening() {
    let home = tempfile::tempdir().expect("home");
    let audit = home.path().join("audit.jsonl");
    // TEST-NET-1 (RFC 5737) is on no interface of this machine: even a server that did not
    // refuse could not listen there, so this test never opens a port off loopback.
    let mut child = server(
        &[
            "--listen",
            "192.0.2.1:0",
            "--audit-log",
            audit.to_str().expect("path"),
        ],
        home.path(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server did not exit");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = read_all(child.stdout.take());
    let stderr = read_all(child.stderr.take());
    assert!(!status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("no cluster configuration was found")
            && stderr.contains("192.0.2.1:0 is not a loopback address")
            && stderr.contains("refusing to serve the in-memory demo cluster")
            && stderr.contains("--demo"),
        "{stderr}"
    );
    assert!(!stdout.contains("Kubemate is running"), "{stdout}");
    assert!(!audit.exists(), "refused before anything was set up");
}

#[test]
fn with_no_cluster_on_loopback_the_server_runs_the_demo_and_says_so() {
    let home = tempfile::tempdir().expect("home");
    let audit = home.path().join("state/audit.jsonl");
    let mut child = server(
        &[
            "--listen",
            "127.0.0.1:0",
            "--audit-log",
            audit.to_str().expect("path"),
            "--log-format",
            "text",
        ],
        home.path(),
    );
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let running = loop {
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(line) if line.starts_with("Kubemate is running") => break line,
            Ok(_) => {}
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "no start line: {e}; stderr: {}",
                    read_all(child.stderr.take())
                );
            }
        }
    };
    child.kill().expect("stop the server");
    child.wait().expect("stopped");
    let stderr = read_all(child.stderr.take());
    assert!(
        running
            .starts_with("Kubemate is running on the in-memory demo cluster at http://127.0.0.1:"),
        "{running}"
    );
    assert!(
        stderr.contains("WARNING: DEMO MODE: no cluster configuration was found"),
        "{stderr}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&audit)
            .expect("audit log")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the server's audit log");
    }
}

#[tokio::test]
async fn asked_for_the_demo_is_named_and_a_torn_audit_log_is_recovered_at_start() {
    let dir = tempfile::tempdir().expect("dir");
    let audit = dir.path().join("audit.jsonl");
    let good = kubemate_audit::FileSink::open(&audit, false).expect("log");
    kubemate_audit::AuditSink::append(
        &good,
        kubemate_audit::Entry {
            user: "alice".into(),
            verb: "get".into(),
            kind: "pods".into(),
            ..Default::default()
        },
    )
    .await
    .expect("append");
    drop(good);
    let torn = br#"{"seq":2,"time":"2026-"#;
    let mut bytes = std::fs::read(&audit).expect("read");
    bytes.extend_from_slice(torn);
    std::fs::write(&audit, &bytes).expect("tear");

    let config = Cli::parse_from([
        "kubemate-server",
        "--demo",
        "--listen",
        "127.0.0.1:0",
        "--audit-log",
        audit.to_str().expect("path"),
    ])
    .resolve()
    .expect("config");
    let built = startup::build(&config)
        .await
        .expect("a torn log does not stop the start");
    assert_eq!(built.demo, Some(Demo::Asked));
    assert!(Demo::Asked.notice().contains("--demo"));
    let records: Vec<Record> = std::fs::read(&audit)
        .expect("read")
        .split(|b| *b == b'\n')
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect();
    assert_eq!(records[1].verb, "audit-recover");
    assert_eq!(
        records[1].name.as_deref(),
        Some(format!("line 2, {} torn bytes", torn.len()).as_str())
    );
    let check = verify_file(&audit).expect("verify");
    assert!(check.is_intact(), "{check:?}");
    assert_eq!(check.torn.len(), 1);
}
