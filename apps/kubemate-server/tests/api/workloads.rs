//! Workload verbs and logs.

use std::time::Duration;

use axum::http::StatusCode;
use http_body_util::BodyExt;
use kubemate_core::fake::Verb;
use kubemate_server::routes::logs::END_PREFIX;
use serde_json::json;

use crate::support::{World, only_policy_reads, world};

const WEB: &str = "/api/v1/namespaces/shop/deployments/web";

#[tokio::test]
async fn scaling_is_refused_to_a_viewer_and_done_for_an_editor() {
    let w = world().await;
    let mark = w.mark();
    let (status, body) = w
        .call(
            "PUT",
            &format!("{WEB}/scale"),
            Some(&w.viewer),
            Some(json!({"replicas": 5})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("patch apps/deployments/scale")),
        "{body}"
    );
    assert!(only_policy_reads(&w.actions_since(mark)));
    let (status, body) = w
        .call(
            "PUT",
            &format!("{WEB}/scale"),
            Some(&w.editor),
            Some(json!({"replicas": 5})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["replicas"], 5);
    let (_, web) = w.call("GET", WEB, Some(&w.viewer), None).await;
    assert_eq!(web["spec"]["replicas"], 5);

    let (status, body) = w
        .call(
            "PUT",
            &format!("{WEB}/scale"),
            Some(&w.editor),
            Some(json!({"replicas": -1})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["causes"][0]["field"], "replicas");
    let (status, body) = w
        .call(
            "PUT",
            "/api/v1/namespaces/kube-system/daemonsets/log-agent/scale",
            Some(&w.admin),
            Some(json!({"replicas": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = w
        .call(
            "PUT",
            "/api/v1/namespaces/shop/services/web/scale",
            Some(&w.admin),
            Some(json!({"replicas": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn restart_pause_resume_revisions_rollback_events_and_pods() {
    let w = world().await;
    let (status, revisions) = w
        .call("GET", &format!("{WEB}/revisions"), Some(&w.viewer), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{revisions}");
    let numbers: Vec<i64> = revisions
        .as_array()
        .expect("revisions")
        .iter()
        .filter_map(|r| r["revision"].as_i64())
        .collect();
    assert_eq!(numbers, [1, 2]);

    let (status, body) = w
        .call("POST", &format!("{WEB}/restart"), Some(&w.viewer), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = w
        .call("POST", &format!("{WEB}/restart"), Some(&w.editor), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["restartedAt"].as_str().is_some());

    let (status, body) = w
        .call("POST", &format!("{WEB}/pause"), Some(&w.editor), None)
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"result": "changed"}))
    );
    let (status, body) = w
        .call(
            "POST",
            &format!("{WEB}/rollback"),
            Some(&w.editor),
            Some(json!({"revision": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "paused: {body}");
    let (status, _) = w
        .call("POST", &format!("{WEB}/resume"), Some(&w.editor), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = w
        .call(
            "POST",
            &format!("{WEB}/rollback"),
            Some(&w.editor),
            Some(json!({"revision": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"result": "rolledBack", "revision": 1}));
    let (status, body) = w
        .call(
            "POST",
            &format!("{WEB}/rollback"),
            Some(&w.editor),
            Some(json!({"revision": 42})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("revision 42"))
    );

    let (status, events) = w
        .call("GET", &format!("{WEB}/events"), Some(&w.viewer), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{events}");
    assert!(events.is_array());
    let (status, pods) = w
        .call("GET", &format!("{WEB}/pods"), Some(&w.viewer), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pods.as_array().map(Vec::len), Some(3));
    let (status, _) = w
        .call(
            "GET",
            "/api/v1/namespaces/shop/statefulsets/redis/revisions",
            Some(&w.viewer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

async fn first_web_pod(w: &World) -> (String, String) {
    let (_, pods) = w
        .call("GET", &format!("{WEB}/pods"), Some(&w.viewer), None)
        .await;
    let pod = &pods[0];
    (
        pod["name"].as_str().expect("pod").to_owned(),
        pod["containers"][0].as_str().expect("container").to_owned(),
    )
}

#[tokio::test]
async fn pod_logs_are_text_and_follow_streams_lines() {
    let w = world().await;
    let (pod, container) = first_web_pod(&w).await;
    w.fake.push_log("shop", &pod, &container, "hello from web");
    let uri = format!("/api/v1/namespaces/shop/pods/{pod}/logs");
    let response = w
        .send(World::request("GET", &uri, Some(&w.viewer), None))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    let text = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    assert!(String::from_utf8_lossy(&text).contains("hello from web"));

    let (status, text) = w
        .call(
            "GET",
            &format!("{WEB}/logs?tailLines=5"),
            Some(&w.viewer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text, serde_json::Value::Null, "text, not JSON");

    let response = w
        .send(World::request(
            "GET",
            &format!("{uri}?follow=true&tailLines=0"),
            Some(&w.viewer),
            None,
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    w.fake.push_log("shop", &pod, &container, "a new line");
    let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .expect("a line within 5s")
        .expect("a frame")
        .expect("data");
    let chunk = frame.into_data().expect("data frame");
    assert_eq!(String::from_utf8_lossy(&chunk), "a new line\n");
    // Shutting down ends the stream, with a last line saying so.
    w.state.shutdown.cancel();
    let last = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .expect("a last line on shutdown")
        .expect("a frame")
        .expect("data")
        .into_data()
        .expect("data frame");
    assert_eq!(
        String::from_utf8_lossy(&last),
        format!("{END_PREFIX}the server is shutting down\n")
    );
    let end = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .expect("the stream ends on shutdown");
    assert!(end.is_none());
}

#[tokio::test]
async fn logs_of_another_tenant_are_a_404_without_a_call() {
    let w = world().await;
    let mark = w.mark();
    let (status, body) = w
        .call(
            "GET",
            "/api/v1/namespaces/payments/pods/api-migrate/logs",
            Some(&w.viewer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["message"], "pods \"api-migrate\" not found");
    assert!(w.actions_since(mark).iter().all(|a| a.verb != Verb::Logs));
}
