//! Log follow streams end with the caller's access: within about a second of a disable, a
//! delete, an unbind, a password change or the token's expiry; after the longest stream
//! duration; and a user may hold only so many at a time.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{body::Body, http::StatusCode};
use http_body_util::BodyExt;
use kubemate_core::fake::Verb;
use kubemate_rbac::{Password, Rbac};
use kubemate_server::{Settings, routes::logs::END_PREFIX};
use serde_json::{Value, json};

use crate::support::{Options, VIEWER, World, password_of, world, world_with};

/// How long a revoked stream may take to end: the one-second re-check, and slack for a slow
/// machine.
const WITHIN: Duration = Duration::from_millis(2500);

/// The namespace, pod and container the viewer follows.
async fn web_pod(w: &World) -> (String, String) {
    let (status, pods) = w
        .call(
            "GET",
            "/api/v1/namespaces/shop/deployments/web/pods",
            Some(&w.viewer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{pods}");
    (
        pods[0]["name"].as_str().expect("pod").to_owned(),
        pods[0]["containers"][0]
            .as_str()
            .expect("container")
            .to_owned(),
    )
}

/// Opens a follow stream of the web pod's log as `token`.
async fn follow(w: &World, pod: &str, token: &str) -> (StatusCode, Body) {
    let uri = format!("/api/v1/namespaces/shop/pods/{pod}/logs?follow=true&tailLines=0");
    let response = w.send(World::request("GET", &uri, Some(token), None)).await;
    (response.status(), response.into_body())
}

/// The next chunk of a stream as text, `None` once it has ended; fails past `within`.
async fn next(body: &mut Body, within: Duration) -> Option<String> {
    let frame = tokio::time::timeout(within, body.frame())
        .await
        .expect("the stream neither sent nor ended in time")?
        .expect("a frame");
    Some(String::from_utf8_lossy(&frame.into_data().expect("data")).into_owned())
}

/// The stream is open and passing lines (after more than one re-check), then `revoke` takes
/// the viewer's access away and the stream ends within [`WITHIN`], its last line saying why.
async fn ends_when(revoke: (&str, String, Option<Value>), why: &str) {
    let w = world().await;
    let (pod, container) = web_pod(&w).await;
    let (status, mut body) = follow(&w, &pod, &w.viewer).await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    w.fake.push_log("shop", &pod, &container, "still allowed");
    assert_eq!(
        next(&mut body, WITHIN).await.as_deref(),
        Some("still allowed\n")
    );

    let (method, uri, payload) = revoke;
    let (status, answer) = w.call(method, &uri, Some(&w.admin), payload).await;
    assert!(status.is_success(), "{method} {uri}: {status} {answer}");
    let revoked = Instant::now();
    let last = next(&mut body, WITHIN).await.expect("a last line");
    assert!(last.starts_with(END_PREFIX), "{last}");
    assert!(last.contains(why), "{last}");
    assert_eq!(next(&mut body, WITHIN).await, None, "then the end");
    let took = revoked.elapsed();
    assert!(took < WITHIN, "took {took:?}");
    eprintln!("{why}: the stream ended {took:?} after the change");
    // Nothing more reaches the former viewer, and their slot is free again.
    w.fake
        .push_log("shop", &pod, &container, "after the revocation");
    assert_eq!(w.state.streams.open(VIEWER), 0);
}

#[tokio::test]
async fn a_follow_stream_ends_when_its_user_is_disabled() {
    ends_when(
        (
            "PUT",
            format!("/api/v1/users/{VIEWER}/disabled"),
            Some(json!({"disabled": true})),
        ),
        "access lost: invalid token",
    )
    .await;
}

#[tokio::test]
async fn a_follow_stream_ends_when_its_user_is_deleted() {
    ends_when(
        ("DELETE", format!("/api/v1/users/{VIEWER}"), None),
        "access lost: invalid token",
    )
    .await;
}

#[tokio::test]
async fn a_follow_stream_ends_when_its_user_loses_the_role() {
    // The token stays valid: what ends the stream is the authorization checked again.
    ends_when(
        (
            "DELETE",
            format!("/api/v1/users/{VIEWER}/roles/shop-viewer"),
            None,
        ),
        "access lost: pods",
    )
    .await;
}

#[tokio::test]
async fn a_follow_stream_ends_when_its_users_password_is_changed() {
    ends_when(
        (
            "PUT",
            format!("/api/v1/users/{VIEWER}/password"),
            Some(json!({"password": "a-new-password-2"})),
        ),
        "access lost: invalid token: revoked",
    )
    .await;
}

#[tokio::test]
async fn a_follow_stream_ends_when_its_token_expires() {
    let w = world().await;
    let (pod, _) = web_pod(&w).await;
    // A token of the same install (the same key), issued to live two seconds: expiry is counted
    // in whole seconds, so it has between one and two left.
    let short = Rbac::new(
        Arc::new(w.fake.clone()),
        kubemate_rbac::Config {
            token_ttl: Duration::from_secs(2),
            ..Default::default()
        },
    );
    let login = short
        .login(VIEWER, &Password::new(password_of(VIEWER)))
        .await
        .expect("login");
    let (status, mut body) = follow(&w, &pod, login.token.expose()).await;
    assert_eq!(status, StatusCode::OK);
    let last = next(&mut body, Duration::from_secs(4))
        .await
        .expect("a last line");
    assert!(
        last.contains("access lost: invalid token: expired"),
        "{last}"
    );
    assert_eq!(next(&mut body, WITHIN).await, None);
}

#[tokio::test]
async fn a_follow_stream_ends_after_the_longest_duration() {
    let w = world_with(Options {
        settings: Settings {
            stream_max_duration: Duration::from_millis(1200),
            ..Options::default().settings
        },
        ..Options::default()
    })
    .await;
    let (pod, container) = web_pod(&w).await;
    let opened = Instant::now();
    let (status, mut body) = follow(&w, &pod, &w.viewer).await;
    assert_eq!(status, StatusCode::OK);
    w.fake.push_log("shop", &pod, &container, "one line");
    assert_eq!(next(&mut body, WITHIN).await.as_deref(), Some("one line\n"));
    let last = next(&mut body, WITHIN).await.expect("a last line");
    assert!(
        last.starts_with(END_PREFIX) && last.contains("longest stream allowed"),
        "{last}"
    );
    assert_eq!(next(&mut body, WITHIN).await, None);
    let lasted = opened.elapsed();
    assert!(
        lasted >= Duration::from_millis(1200) && lasted < Duration::from_millis(2500),
        "{lasted:?}"
    );
}

#[tokio::test]
async fn a_user_past_the_stream_limit_gets_429_without_a_cluster_call() {
    let w = world_with(Options {
        settings: Settings {
            max_streams_per_user: 2,
            ..Options::default().settings
        },
        ..Options::default()
    })
    .await;
    let (pod, _) = web_pod(&w).await;
    let (first, body1) = follow(&w, &pod, &w.viewer).await;
    let (second, _body2) = follow(&w, &pod, &w.viewer).await;
    assert_eq!((first, second), (StatusCode::OK, StatusCode::OK));
    assert_eq!(w.state.streams.open(VIEWER), 2);

    let mark = w.mark();
    let (status, body) = w
        .call(
            "GET",
            &format!("/api/v1/namespaces/shop/pods/{pod}/logs?follow=true"),
            Some(&w.viewer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "TooManyStreams");
    assert!(
        w.actions_since(mark).iter().all(|a| a.verb != Verb::Logs),
        "a refused stream is not opened upstream"
    );
    // The limit is per user, and counts open streams: one closed frees a slot.
    let (status, _other) = follow(&w, &pod, &w.editor).await;
    assert_eq!(status, StatusCode::OK);
    drop(body1);
    assert_eq!(w.state.streams.open(VIEWER), 1);
    let (status, _third) = follow(&w, &pod, &w.viewer).await;
    assert_eq!(status, StatusCode::OK);
    // Logs that are not followed are not streams.
    let (status, _) = w
        .call(
            "GET",
            &format!("/api/v1/namespaces/shop/pods/{pod}/logs"),
            Some(&w.viewer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}
