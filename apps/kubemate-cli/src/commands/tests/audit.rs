//! `audit query` and `audit verify` on the log the other commands wrote.

use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use crate::{
    cli::{AuditCommand, AuditQueryArgs},
    commands::{audit::time_filter, testing::harness},
    error::Code,
    output::Format,
};

fn args() -> AuditQueryArgs {
    AuditQueryArgs {
        user: None,
        namespace: None,
        verb: None,
        outcome: None,
        since: None,
        until: None,
        limit: None,
        output: Format::Table,
    }
}

async fn audit(path: &std::path::Path, cmd: AuditCommand) -> (crate::Result<()>, String) {
    let mut out = Vec::new();
    let result = crate::commands::audit::run(path, &mut out, cmd).await;
    (result, String::from_utf8(out).expect("utf-8"))
}

#[tokio::test]
async fn query_filters_the_records_of_the_other_commands() {
    let h = harness().await;
    h.run(
        &[
            "scale",
            "deployment",
            "web",
            "--replicas",
            "4",
            "-n",
            "shop",
        ],
        "",
    )
    .await
    .ok();
    h.run(&["get", "pods", "-n", "payments"], "").await.ok();
    let _ = h
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
        .await;

    let (result, out) = audit(
        &h.audit_log,
        AuditCommand::Query(AuditQueryArgs {
            verb: Some("scale".into()),
            ..args()
        }),
    )
    .await;
    result.expect("query");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "SEQ   TIME                   USER        VERB    KIND          NAMESPACE   NAME   STAGE      DECISION   OUTCOME   CODE"
    );
    assert_eq!(lines.len(), 5, "{out}");
    assert!(
        lines[2].contains(
            "ops-admin   scale   deployments   shop        web    response   allowed    success"
        ),
        "{out}"
    );
    assert!(lines[4].ends_with("failure   NotFound"), "{out}");

    let (result, out) = audit(
        &h.audit_log,
        AuditCommand::Query(AuditQueryArgs {
            namespace: Some("payments".into()),
            output: Format::Json,
            ..args()
        }),
    )
    .await;
    result.expect("query");
    let json: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(json.as_array().map(Vec::len), Some(1));
    assert_eq!(json[0]["verb"], "list");
    assert_eq!(json[0]["source"], "cli");

    let (result, out) = audit(
        &h.audit_log,
        AuditCommand::Query(AuditQueryArgs {
            outcome: Some("failure".into()),
            limit: Some(1),
            output: Format::Yaml,
            ..args()
        }),
    )
    .await;
    result.expect("query");
    let yaml: Value = serde_yaml::from_str(&out).expect("yaml");
    assert_eq!(yaml[0]["errorCode"], "NotFound");

    let (result, _) = audit(
        &h.audit_log,
        AuditCommand::Query(AuditQueryArgs {
            outcome: Some("maybe".into()),
            ..args()
        }),
    )
    .await;
    assert_eq!(result.expect_err("bad outcome").code(), "Invalid");
    let (result, out) = audit(
        &h.audit_log,
        AuditCommand::Query(AuditQueryArgs {
            since: Some("1h".into()),
            user: Some("someone-else".into()),
            ..args()
        }),
    )
    .await;
    result.expect("query");
    assert_eq!(out.lines().count(), 1, "only the header: {out}");
}

#[tokio::test]
async fn verify_passes_then_names_the_edited_line() {
    let h = harness().await;
    for n in ["4", "5"] {
        h.run(
            &["scale", "deployment", "web", "--replicas", n, "-n", "shop"],
            "",
        )
        .await
        .ok();
    }
    let (result, out) = audit(&h.audit_log, AuditCommand::Verify).await;
    result.expect("intact");
    assert!(out.ends_with(": 4 records, hash chain intact\n"), "{out}");

    let text = std::fs::read_to_string(&h.audit_log).expect("log");
    let edited: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 2 {
                l.replace("\"web\"", "\"cart\"")
            } else {
                l.to_owned()
            }
        })
        .collect();
    std::fs::write(&h.audit_log, edited.join("\n") + "\n").expect("write");
    let (result, _) = audit(&h.audit_log, AuditCommand::Verify).await;
    let err = result.expect_err("tampered");
    assert_eq!(err.code(), Code::AuditChainBroken);
    assert!(
        err.message()
            .contains("line 3: content does not match its hash"),
        "{err}"
    );

    let (result, _) = audit(&h.audit_log.with_extension("missing"), AuditCommand::Verify).await;
    assert!(
        result
            .expect_err("missing")
            .message()
            .contains("does not exist")
    );
}

#[test]
fn time_filters_take_rfc3339_or_an_age() {
    let now: Timestamp = "2026-12-01T12:00:00Z".parse().expect("time");
    assert_eq!(
        time_filter("since", "2026-11-30T00:00:00Z", now).expect("rfc3339"),
        "2026-11-30T00:00:00Z"
    );
    assert_eq!(
        time_filter("since", "90s", now).expect("s"),
        "2026-12-01T11:58:30Z"
    );
    assert_eq!(
        time_filter("since", "2h", now).expect("h"),
        "2026-12-01T10:00:00Z"
    );
    assert_eq!(
        time_filter("since", "7d", now).expect("d"),
        "2026-11-24T12:00:00Z"
    );
    let err = time_filter("until", "yesterday", now).expect_err("bad");
    assert!(err.message().contains("--until"), "{err}");
}
