//! `scale`, `rollout ...` and `logs`; and the audit records of changes.

use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::Duration,
};

use clap::Parser;
use k8s_openapi::api::{apps::v1::Deployment, core::v1::Pod};
use kubemate_audit::{Decision, Outcome, Stage};
use kubemate_core::ClusterClientExt;
use serde_json::Value;

use crate::{
    Cli,
    commands::{
        Io, execute,
        testing::{OPERATOR, harness},
    },
    error::Code,
};

async fn replicas(h: &crate::commands::testing::Harness, name: &str) -> Option<i32> {
    let d: Deployment = h.fake.get_as("shop", name).await.expect("deployment");
    d.spec.and_then(|s| s.replicas)
}

#[tokio::test]
async fn scale_is_recorded_before_and_after_it_happens() {
    let h = harness().await;
    let out = h
        .run(
            &[
                "scale",
                "deployment",
                "web",
                "--replicas",
                "5",
                "-n",
                "shop",
            ],
            "",
        )
        .await
        .ok();
    assert_eq!(out, "deployment.apps/web scaled\n");
    assert_eq!(replicas(&h, "web").await, Some(5));
    let records = h.records().await;
    assert_eq!(records.len(), 2);
    let (request, response) = (&records[0], &records[1]);
    assert_eq!(request.stage, Stage::Request);
    assert_eq!(request.outcome, Outcome::Pending);
    assert_eq!(response.stage, Stage::Response);
    assert_eq!(response.outcome, Outcome::Success);
    assert_eq!(response.decision, Decision::Allowed);
    assert_eq!(request.request_id, response.request_id);
    for r in &records {
        assert_eq!(r.user, OPERATOR);
        assert_eq!(r.source.as_deref(), Some("cli"));
        assert_eq!((r.verb.as_str(), r.kind.as_str()), ("scale", "deployments"));
        assert_eq!(
            (r.namespace.as_deref(), r.name.as_deref()),
            (Some("shop"), Some("web"))
        );
    }
    assert!(response.duration_ms.is_some());
}

#[tokio::test]
async fn a_change_that_cannot_be_audited_is_not_made() {
    let h = harness().await;
    let env = h.with_broken_audit();
    let before = h.fake.writes().len();
    for args in [
        &[
            "scale",
            "deployment",
            "web",
            "--replicas",
            "5",
            "-n",
            "shop",
        ][..],
        &["rollout", "restart", "deployment", "web", "-n", "shop"],
        &["rollout", "undo", "deployment", "web", "-n", "shop"],
        &["ns", "create", "team-z"],
        &[
            "role",
            "create",
            "r",
            "--namespaces",
            "shop",
            "--rule",
            "get:pods",
        ],
        &["user", "create", "zed", "--password-stdin"],
        &["user", "delete", "nobody"],
    ] {
        let cli = Cli::try_parse_from(std::iter::once("kubemate").chain(args.iter().copied()))
            .expect("parses");
        let mut out = Vec::new();
        let mut stdin = "zed-password-123".as_bytes();
        let mut io = Io {
            out: &mut out,
            stdin: &mut stdin,
            stdin_is_terminal: false,
        };
        let err = execute(cli.command, &env, &mut io)
            .await
            .expect_err("refused");
        assert_eq!(err.code(), Code::AuditUnavailable, "{args:?}: {err}");
        assert!(err.message().contains("nothing was changed"), "{err}");
        assert!(out.is_empty());
    }
    assert_eq!(h.fake.writes().len(), before, "{:?}", h.fake.writes());
    assert_eq!(replicas(&h, "web").await, Some(3));
    // A read whose record cannot be written shows nothing.
    let cli = Cli::try_parse_from(["kubemate", "get", "pods", "-n", "shop"]).expect("parses");
    let mut out = Vec::new();
    let mut io = Io {
        out: &mut out,
        stdin: &mut std::io::empty(),
        stdin_is_terminal: false,
    };
    let err = execute(cli.command, &env, &mut io)
        .await
        .expect_err("refused");
    assert_eq!(err.code(), Code::AuditUnavailable);
    assert!(out.is_empty());
}

#[tokio::test]
async fn a_failed_change_is_recorded_with_its_code() {
    let h = harness().await;
    let err = h
        .run(
            &[
                "scale",
                "deployment",
                "nope",
                "--replicas",
                "1",
                "-n",
                "shop",
            ],
            "",
        )
        .await
        .err();
    assert_eq!(err.code(), "NotFound");
    let err = h
        .run(
            &["scale", "daemonset", "x", "--replicas", "1", "-n", "shop"],
            "",
        )
        .await
        .err();
    assert_eq!(err.code(), "Unsupported");
    let records = h.records().await;
    assert_eq!(records.len(), 4);
    assert_eq!(records[1].outcome, Outcome::Failure);
    assert_eq!(records[1].error_code.as_deref(), Some("NotFound"));
    assert_eq!(records[3].error_code.as_deref(), Some("Unsupported"));
}

#[tokio::test]
async fn rollout_history_undo_restart_pause_resume() {
    let h = harness().await;
    let history = h
        .run(
            &["rollout", "history", "deployment", "web", "-n", "shop"],
            "",
        )
        .await
        .ok();
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(
        lines[0],
        "REVISION   CURRENT   CHANGE-CAUSE   IMAGES                                AGE"
    );
    assert_eq!(lines.len(), 3, "{history}");
    assert!(lines[1].starts_with("1                    "), "{history}");
    assert!(lines[2].starts_with("2          *         "), "{history}");
    let json: Value = serde_json::from_str(
        &h.run(
            &[
                "rollout", "history", "deploy", "web", "-n", "shop", "-o", "json",
            ],
            "",
        )
        .await
        .ok(),
    )
    .expect("json");
    assert_eq!(json[1]["revision"], 2);
    assert_eq!(json[1]["current"], true);

    let out = h
        .run(
            &[
                "rollout",
                "undo",
                "deployment",
                "web",
                "--to-revision",
                "1",
                "-n",
                "shop",
            ],
            "",
        )
        .await
        .ok();
    assert_eq!(out, "deployment.apps/web rolled back\n");
    let again = h
        .run(
            &[
                "rollout",
                "undo",
                "deployment",
                "web",
                "--to-revision",
                "1",
                "-n",
                "shop",
            ],
            "",
        )
        .await
        .ok();
    assert!(again.starts_with("deployment.apps/web skipped"), "{again}");
    let err = h
        .run(
            &[
                "rollout",
                "undo",
                "deployment",
                "web",
                "--to-revision",
                "9",
                "-n",
                "shop",
            ],
            "",
        )
        .await
        .err();
    assert_eq!(
        err.to_string(),
        "NotFound: unable to find specified revision 9 in history"
    );

    let out = h
        .run(
            &["rollout", "restart", "deployment", "web", "-n", "shop"],
            "",
        )
        .await
        .ok();
    assert_eq!(out, "deployment.apps/web restarted\n");
    let d: Deployment = h.fake.get_as("shop", "web").await.expect("web");
    let annotations = d
        .spec
        .and_then(|s| s.template.metadata)
        .and_then(|m| m.annotations)
        .unwrap_or_default();
    assert!(annotations.contains_key("kubectl.kubernetes.io/restartedAt"));

    let pause = ["rollout", "pause", "deployment", "web", "-n", "shop"];
    assert_eq!(h.run(&pause, "").await.ok(), "deployment.apps/web paused\n");
    assert_eq!(
        h.run(&pause, "").await.ok(),
        "deployment.apps/web already paused\n"
    );
    let resume = ["rollout", "resume", "deployment", "web", "-n", "shop"];
    assert_eq!(
        h.run(&resume, "").await.ok(),
        "deployment.apps/web resumed\n"
    );

    let verbs: Vec<String> = h
        .records()
        .await
        .into_iter()
        .filter(|r| r.stage == Stage::Response)
        .map(|r| r.verb)
        .collect();
    assert_eq!(
        verbs,
        [
            "history", "history", "rollback", "rollback", "rollback", "restart", "pause", "pause",
            "resume"
        ]
    );
}

async fn web_pod(h: &crate::commands::testing::Harness) -> (String, String) {
    let pod: Pod = h
        .fake
        .get_as("shop", "web-7c9f8d6b54-2xkqp")
        .await
        .expect("pod");
    let container = pod.spec.expect("spec").containers[0].name.clone();
    ("web-7c9f8d6b54-2xkqp".to_owned(), container)
}

#[tokio::test]
async fn logs_print_the_tail_of_a_container() {
    let h = harness().await;
    let (pod, container) = web_pod(&h).await;
    for i in 1..=5 {
        h.fake
            .push_log("shop", &pod, &container, &format!("line {i}"));
    }
    let out = h.run(&["logs", &pod, "-n", "shop"], "").await.ok();
    assert_eq!(out, "line 1\nline 2\nline 3\nline 4\nline 5\n");
    let out = h
        .run(
            &["logs", &pod, "-n", "shop", "--tail", "2", "-c", &container],
            "",
        )
        .await
        .ok();
    assert_eq!(out, "line 4\nline 5\n");
    let err = h
        .run(&["logs", &pod, "-n", "shop", "-c", "nope"], "")
        .await
        .err();
    assert_eq!(err.code(), "BadRequest");
    let record = h.records().await.pop().expect("record");
    assert_eq!(
        (record.verb.as_str(), record.kind.as_str()),
        ("logs", "pods/log")
    );
    assert_eq!(record.error_code.as_deref(), Some("BadRequest"));
}

/// A writer the test can read while the command still runs.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_follow_prints_lines_as_they_come() {
    let h = harness().await;
    let (pod, container) = web_pod(&h).await;
    h.fake.push_log("shop", &pod, &container, "before");
    let shared = Shared::default();
    let mut writer = shared.clone();
    let fake = h.fake.clone();
    let (p, c) = (pod.clone(), container.clone());
    let pusher = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        fake.push_log("shop", &p, &c, "after");
    });
    let cli = Cli::try_parse_from(["kubemate", "logs", &pod, "-f", "-n", "shop"]).expect("parses");
    let mut io = Io {
        out: &mut writer,
        stdin: &mut std::io::empty(),
        stdin_is_terminal: false,
    };
    // Following never ends by itself: stop it as Ctrl-C would.
    let followed = tokio::time::timeout(
        Duration::from_millis(600),
        execute(cli.command, &h.env, &mut io),
    )
    .await;
    assert!(
        followed.is_err(),
        "following stopped by itself: {followed:?}"
    );
    pusher.await.expect("pusher");
    let text = String::from_utf8(shared.0.lock().expect("lock").clone()).expect("utf-8");
    assert_eq!(text, "before\nafter\n");
    // The record was written when the log was opened.
    let record = h.records().await.pop().expect("record");
    assert_eq!(record.outcome, Outcome::Success);
}
