//! Health probes, the OpenAPI document, body limits, unknown routes.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde_json::json;

use crate::support::{Options, world, world_with};

#[tokio::test]
async fn health_probes_need_no_token() {
    let w = world().await;
    assert_eq!(
        w.call("GET", "/healthz", None, None).await,
        (StatusCode::OK, json!({"status": "ok"}))
    );
    assert_eq!(
        w.call("GET", "/readyz", None, None).await,
        (StatusCode::OK, json!({"status": "ok"}))
    );
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let w = world().await;
    let (status, _) = w.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, doc) = w
        .call("GET", "/api/v1/openapi.json", Some(&w.viewer), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let paths: BTreeSet<String> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .into_iter()
                .flat_map(|o| o.keys())
                .map(move |m| format!("{} {path}", m.to_uppercase()))
        })
        .collect();
    for route in [
        "POST /api/v1/auth/login",
        "GET /api/v1/me",
        "GET /api/v1/namespaces",
        "GET /api/v1/namespaces/{ns}/{plural}",
        "POST /api/v1/namespaces/{ns}/{plural}",
        "GET /api/v1/namespaces/{ns}/{plural}/{name}",
        "PUT /api/v1/namespaces/{ns}/{plural}/{name}",
        "DELETE /api/v1/namespaces/{ns}/{plural}/{name}",
        "GET /api/v1/{plural}",
        "GET /api/v1/{plural}/{name}",
        "PUT /api/v1/namespaces/{ns}/{plural}/{name}/scale",
        "POST /api/v1/namespaces/{ns}/{plural}/{name}/restart",
        "GET /api/v1/namespaces/{ns}/{plural}/{name}/revisions",
        "POST /api/v1/namespaces/{ns}/{plural}/{name}/rollback",
        "GET /api/v1/namespaces/{ns}/{plural}/{name}/events",
        "GET /api/v1/namespaces/{ns}/{plural}/{name}/logs",
        "POST /api/v1/apps",
        "GET /api/v1/users",
        "POST /api/v1/users",
        "PUT /api/v1/users/{name}/roles/{role}",
        "DELETE /api/v1/users/{name}/roles/{role}",
        "POST /api/v1/users/{name}/unlock",
        "GET /api/v1/roles",
        "POST /api/v1/roles",
        "GET /api/v1/audit",
        "GET /healthz",
        "GET /readyz",
        "GET /api/v1/openapi.json",
    ] {
        assert!(paths.contains(route), "{route} is not documented");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let mut options = Options::default();
    options.settings.max_body_bytes = 1024;
    let w = world_with(options).await;
    let big = json!({"metadata": {"name": "big"}, "data": {"k": "x".repeat(4096)}});
    let (status, body) = w
        .call(
            "POST",
            "/api/v1/namespaces/shop/configmaps",
            Some(&w.editor),
            Some(big),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["code"], "PayloadTooLarge");
    let record = w.records().pop().expect("record");
    assert_eq!(record.error_code.as_deref(), Some("PayloadTooLarge"));
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_api_shape() {
    let w = world().await;
    let (status, body) = w.call("GET", "/nothing/here", Some(&w.viewer), None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("NotFound"))
    );
    let (status, body) = w.call("PATCH", "/api/v1/me", Some(&w.viewer), None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("MethodNotAllowed"))
    );
}
