//! The app wizard.

use axum::http::StatusCode;
use kubemate_core::Identity;
use kubemate_rbac::derive::service_account_name;
use serde_json::{Value, json};

use crate::support::{EDITOR, only_policy_reads, world};

fn app(ns: &str) -> Value {
    json!({
        "namespace": ns,
        "name": "hello",
        "image": "registry.example.com/shop/hello:1.0",
        "ports": [{"name": "http", "port": 8080}],
        "replicas": 2,
        "service": {"type": "ClusterIP", "ports": [{"port": 80, "targetPort": "http"}]}
    })
}

#[tokio::test]
async fn the_wizard_creates_a_deployment_and_its_service_as_the_caller() {
    let w = world().await;
    let (status, body) = w
        .call("POST", "/api/v1/apps", Some(&w.editor), Some(app("shop")))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["complete"], true);
    assert_eq!(body["steps"][0]["step"], "deployment");
    assert_eq!(body["steps"][1]["status"], "done");
    let (status, svc) = w
        .call(
            "GET",
            "/api/v1/namespaces/shop/services/hello",
            Some(&w.viewer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{svc}");
    let sa = Identity::service_account("kubemate-system", &service_account_name(EDITOR));
    assert!(
        w.fake
            .writes()
            .iter()
            .filter(|a| a.name == "hello")
            .all(|a| a.identity.as_ref() == Some(&sa))
    );
    let record = w
        .records()
        .into_iter()
        .find(|r| r.verb == "create" && r.kind == "apps")
        .expect("record");
    assert_eq!(record.namespace.as_deref(), Some("shop"));
    assert_eq!(record.name.as_deref(), Some("hello"));
}

#[tokio::test]
async fn an_invalid_spec_is_400_with_a_cause_per_field() {
    let w = world().await;
    let mark = w.mark();
    let mut spec = app("shop");
    spec["image"] = json!("evil.example.org/miner:latest");
    spec["ports"][0]["port"] = json!(70000);
    spec["name"] = json!("Not_A_Name");
    let (status, body) = w
        .call("POST", "/api/v1/apps", Some(&w.editor), Some(spec))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "Invalid");
    let fields: Vec<&str> = body["causes"]
        .as_array()
        .expect("causes")
        .iter()
        .filter_map(|c| c["field"].as_str())
        .collect();
    for field in ["name", "image", "ports[0].port"] {
        assert!(fields.contains(&field), "{field} in {fields:?}");
    }
    assert!(only_policy_reads(&w.actions_since(mark)));
}

#[tokio::test]
async fn the_wizard_refuses_namespaces_and_verbs_the_caller_lacks() {
    let w = world().await;
    let mark = w.mark();
    let (status, _) = w
        .call(
            "POST",
            "/api/v1/apps",
            Some(&w.editor),
            Some(app("payments")),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = w
        .call("POST", "/api/v1/apps", Some(&w.viewer), Some(app("shop")))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("create apps/deployments"))
    );
    assert!(only_policy_reads(&w.actions_since(mark)));
}
