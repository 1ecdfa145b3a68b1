//! The audit trail of the API: one record per request, a pending record before every
//! mutation, no mutation without it, and nothing secret in records or logs.

use std::{sync::Arc, time::Duration};

use axum::http::StatusCode;
use kubemate_audit::{Decision, FileSink, Outcome, Stage, verify};
use serde_json::json;

use crate::support::{
    FailingSink, Options, SlowSink, World, captured_logs, only_policy_reads, world, world_with,
};

#[tokio::test]
async fn every_request_gets_one_response_record_with_its_outcome() {
    let w = world().await;
    let calls = [
        (
            "GET",
            "/api/v1/namespaces/shop/deployments",
            Some(w.viewer.clone()),
            StatusCode::OK,
        ),
        (
            "GET",
            "/api/v1/namespaces/payments/deployments",
            Some(w.viewer.clone()),
            StatusCode::FORBIDDEN,
        ),
        (
            "GET",
            "/api/v1/namespaces/shop/deployments/nope",
            Some(w.viewer.clone()),
            StatusCode::NOT_FOUND,
        ),
        ("GET", "/api/v1/me", None, StatusCode::UNAUTHORIZED),
        ("GET", "/healthz", None, StatusCode::OK),
    ];
    for (method, uri, token, expected) in &calls {
        let (status, _) = w.call(method, uri, token.as_deref(), None).await;
        assert_eq!(status, *expected, "{uri}");
    }
    let records = w.records();
    assert_eq!(records.len(), 4, "health probes are not recorded");
    let summary: Vec<_> = records
        .iter()
        .map(|r| {
            (
                r.user.as_str(),
                r.decision,
                r.outcome,
                r.error_code.as_deref(),
                r.stage,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "viewer",
                Decision::Allowed,
                Outcome::Success,
                None,
                Stage::Response
            ),
            (
                "viewer",
                Decision::Denied,
                Outcome::Failure,
                Some("Forbidden"),
                Stage::Response
            ),
            (
                "viewer",
                Decision::Allowed,
                Outcome::Failure,
                Some("NotFound"),
                Stage::Response
            ),
            (
                "anonymous",
                Decision::Denied,
                Outcome::Failure,
                Some("Unauthorized"),
                Stage::Response
            ),
        ]
    );
    assert!(
        records
            .iter()
            .all(|r| r.duration_ms.is_some() && !r.request_id.is_empty())
    );
    let text = std::fs::read_to_string(&w.audit_path).expect("log");
    assert!(verify(&text).is_intact());
}

#[tokio::test]
async fn the_request_id_is_kept_or_made_and_returned() {
    let w = world().await;
    let mut req = World::request("GET", "/api/v1/me", Some(&w.viewer), None);
    req.headers_mut()
        .insert("x-request-id", "trace-42".parse().expect("header"));
    let response = w.send(req).await;
    assert_eq!(response.headers()["x-request-id"], "trace-42");
    let response = w
        .send(World::request("GET", "/api/v1/me", Some(&w.viewer), None))
        .await;
    let made = response.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(made.len(), 36);
    let ids: Vec<String> = w.records().into_iter().map(|r| r.request_id).collect();
    assert_eq!(ids, ["trace-42".to_owned(), made]);
}

#[tokio::test]
async fn a_mutation_whose_record_cannot_be_written_is_503_and_not_performed() {
    let w = world_with(Options {
        sink: Some(Arc::new(FailingSink)),
        ..Options::default()
    })
    .await;
    let mark = w.mark();
    let (status, body) = w
        .call(
            "PUT",
            "/api/v1/namespaces/shop/deployments/web/scale",
            Some(&w.editor),
            Some(json!({"replicas": 0})),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["code"], "AuditUnavailable");
    assert!(
        !body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("space")
    );
    let (status, _) = w
        .call(
            "DELETE",
            "/api/v1/namespaces/shop/configmaps/web-config",
            Some(&w.editor),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let calls = w.actions_since(mark);
    assert!(only_policy_reads(&calls), "no write: {calls:?}");
    // Reads are not answered unrecorded either.
    let (status, body) = w
        .call(
            "GET",
            "/api/v1/namespaces/shop/deployments/web",
            Some(&w.editor),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["code"], "AuditUnavailable");
    let scale = w
        .fake
        .actions()
        .iter()
        .filter(|a| a.verb == kubemate_core::fake::Verb::Scale)
        .count();
    assert_eq!(scale, 0);
}

#[tokio::test]
async fn a_request_past_the_timeout_is_504() {
    let dir = tempfile::tempdir().expect("dir");
    let inner = FileSink::open(dir.path().join("a.jsonl"), false).expect("sink");
    let mut options = Options {
        sink: Some(Arc::new(SlowSink {
            delay: Duration::from_millis(500),
            inner,
        })),
        ..Options::default()
    };
    options.settings.request_timeout = Duration::from_millis(50);
    let w = world_with(options).await;
    let mark = w.mark();
    let (status, body) = w
        .call(
            "PUT",
            "/api/v1/namespaces/shop/deployments/web/scale",
            Some(&w.editor),
            Some(json!({"replicas": 0})),
        )
        .await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(body["code"], "Timeout");
    assert!(only_policy_reads(&w.actions_since(mark)));
}

#[tokio::test]
async fn no_password_token_or_secret_value_reaches_records_or_logs() {
    let logs = captured_logs();

    let w = world().await;
    let (status, login) = w
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"account": "admin", "password": w.admin_password})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let token = login["token"].as_str().expect("token").to_owned();
    let secret_value = "s3cr3t-VALUE-never-logged";
    let (status, _) = w
        .call(
            "POST",
            "/api/v1/namespaces/shop/secrets",
            Some(&token),
            Some(
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "api-key"},
                        "stringData": {"key": secret_value}}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = w
        .call(
            "GET",
            "/api/v1/namespaces/shop/secrets/api-key",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let user_password = "d4na-PASSWORD-never-logged";
    let (status, _) = w
        .call(
            "POST",
            "/api/v1/users",
            Some(&token),
            Some(json!({"name": "dana", "password": user_password})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = w
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"account": "admin", "password": "wr0ng-PASSWORD-never-logged"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = w
        .call("GET", "/api/v1/me", Some("bogus-TOKEN-never-logged"), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let records = std::fs::read_to_string(&w.audit_path).expect("records");
    let logs = logs.text();
    assert!(
        logs.contains("\"request\""),
        "the requests were logged: {logs}"
    );
    use base64_free::encode;
    for needle in [
        w.admin_password.as_str(),
        token.as_str(),
        secret_value,
        &encode(secret_value),
        user_password,
        "wr0ng-PASSWORD-never-logged",
        "bogus-TOKEN-never-logged",
    ] {
        assert!(!records.contains(needle), "audit records contain {needle}");
        assert!(!logs.contains(needle), "logs contain {needle}");
    }
}

/// Base64 without a dependency, to look for an encoded secret value.
mod base64_free {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(s: &str) -> String {
        let mut out = String::new();
        for chunk in s.as_bytes().chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}
