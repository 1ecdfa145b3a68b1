//! Login under attack: password hashing never stalls the server, failures slow the address
//! they come from and nobody else, a locked account looks like any other to a guesser, and an
//! administrator unlocks. (Hashing under load is measured in `tests/login_load.rs`, a binary of
//! its own.)

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use axum::{
    extract::ConnectInfo,
    http::{StatusCode, header},
};
use http_body_util::BodyExt;
use kubemate_core::{ClusterClient, ResourceType};
use kubemate_rbac::User;
use serde_json::{Value, json};

use crate::support::{EDITOR, Options, VIEWER, World, password_of, world, world_with};

/// A login sent from `from`, as a server with the connection's information sees it.
async fn login_from(
    w: &World,
    from: [u8; 4],
    account: &str,
    password: &str,
) -> (StatusCode, Option<String>, Value) {
    let mut req = World::request(
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&json!({"account": account, "password": password})),
    );
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((from, 40000))));
    let response = w.send(req).await;
    let status = response.status();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        retry_after,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_saturated_hash_pool_answers_503_with_retry_after_at_once() {
    let w = world_with(Options {
        rbac: kubemate_rbac::Config {
            hash_concurrency: 1,
            hash_wait: Duration::from_millis(20),
            ..kubemate_rbac::Config::default()
        },
        ..Options::default()
    })
    .await;
    let held = w
        .state
        .rbac
        .hasher()
        .permit()
        .await
        .expect("the only permit");
    let started = Instant::now();
    let (status, retry_after, body) =
        login_from(&w, [10, 0, 0, 1], VIEWER, &password_of(VIEWER)).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        (status, retry_after.as_deref(), body["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("1"), Some("Busy"))
    );
    drop(held);
    // Refused unchecked, the attempt did not count: the same address logs in right after.
    let (status, _, body) = login_from(&w, [10, 0, 0, 1], VIEWER, &password_of(VIEWER)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn an_attackers_address_is_throttled_while_the_owner_logs_in_from_another() {
    let w = world().await;
    let attacker = [203, 0, 113, 7];
    for _ in 0..5 {
        let (status, _, body) = login_from(&w, attacker, VIEWER, "a-wrong-guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    // Locked out of the account, whatever the password.
    let (status, retry_after, body) = login_from(&w, attacker, VIEWER, &password_of(VIEWER)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("LoginThrottled"))
    );
    assert_eq!(retry_after.as_deref(), Some("900"));
    // The owner, from their own address.
    let (status, _, body) = login_from(&w, [192, 0, 2, 1], VIEWER, &password_of(VIEWER)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let record = w.records().pop().expect("record");
    assert_eq!(record.source.as_deref(), Some("192.0.2.1"));
    let throttled = w
        .records()
        .into_iter()
        .find(|r| r.error_code.as_deref() == Some("LoginThrottled"))
        .expect("the refusal is audited");
    assert_eq!(throttled.source.as_deref(), Some("203.0.113.7"));
    assert_eq!(throttled.decision, kubemate_audit::Decision::Denied);
}

async fn lock(w: &World, account: &str) {
    w.fake
        .merge_patch_status(
            &ResourceType::of::<User>(),
            "",
            account,
            &json!({"status": {"failedLogins": 50, "lockedUntil": "2099-01-01T00:00:00Z"}}),
        )
        .await
        .expect("lock");
}

#[tokio::test]
async fn a_wrong_password_gets_the_same_answer_for_every_kind_of_account() {
    let w = world().await;
    let (status, body) = w
        .call(
            "PUT",
            &format!("/api/v1/users/{EDITOR}/disabled"),
            Some(&w.admin),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    lock(&w, "admin").await;
    let mut answers = Vec::new();
    for (i, account) in ["nobody", VIEWER, EDITOR, "admin", "Not A Name"]
        .into_iter()
        .enumerate()
    {
        let from = [198, 51, 100, u8::try_from(i).expect("few")];
        let (status, retry_after, body) = login_from(&w, from, account, "a-wrong-guess").await;
        answers.push((account, status, retry_after, body));
    }
    for (account, status, retry_after, body) in &answers {
        assert_eq!(
            (status, retry_after, body),
            (&answers[0].1, &answers[0].2, &answers[0].3),
            "{account}"
        );
    }
    assert_eq!(answers[0].1, StatusCode::UNAUTHORIZED);
    assert_eq!(answers[0].3["code"], "InvalidCredentials");
    // Locked, even the right password answers so: a guess that is right tells nothing either.
    let (status, _, body) = login_from(&w, [198, 51, 100, 9], "admin", &w.admin_password).await;
    assert_eq!((status, &body), (StatusCode::UNAUTHORIZED, &answers[0].3));
}

#[tokio::test]
async fn an_administrator_unlocks_an_account() {
    let w = world().await;
    lock(&w, VIEWER).await;
    let (status, _, _) = login_from(&w, [10, 1, 1, 1], VIEWER, &password_of(VIEWER)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "locked");
    let uri = format!("/api/v1/users/{VIEWER}/unlock");
    let mark = w.mark();
    let (status, body) = w.call("POST", &uri, Some(&w.editor), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(crate::support::only_policy_reads(&w.actions_since(mark)));
    let (status, body) = w.call("POST", &uri, Some(&w.admin), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["lockedUntil"].clone(), body["failedLogins"].clone()),
        (Value::Null, json!(0))
    );
    let (status, _) = w
        .call("POST", "/api/v1/users/nobody/unlock", Some(&w.admin), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, body) = login_from(&w, [10, 1, 1, 1], VIEWER, &password_of(VIEWER)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let unlocks: Vec<_> = w
        .records()
        .into_iter()
        .filter(|r| r.verb == "unlock")
        .map(|r| (r.user, r.name, r.stage, r.outcome))
        .collect();
    use kubemate_audit::{Outcome, Stage};
    assert_eq!(
        unlocks,
        [
            (
                "editor".into(),
                Some(VIEWER.into()),
                Stage::Response,
                Outcome::Failure
            ),
            (
                "admin".into(),
                Some(VIEWER.into()),
                Stage::Request,
                Outcome::Pending
            ),
            (
                "admin".into(),
                Some(VIEWER.into()),
                Stage::Response,
                Outcome::Success
            ),
            (
                "admin".into(),
                Some("nobody".into()),
                Stage::Request,
                Outcome::Pending
            ),
            (
                "admin".into(),
                Some("nobody".into()),
                Stage::Response,
                Outcome::Failure
            ),
        ]
    );
}
