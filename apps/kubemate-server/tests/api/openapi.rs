//! The OpenAPI description tells the truth: every operation declares the statuses it can
//! return, with the shared error body, and every path parameter states the rule the server
//! enforces. Checked on the document, and against the router itself for 401 and 400.

use axum::http::StatusCode;
use serde_json::Value;

use crate::support::world;

/// Operations that need no token.
const PUBLIC: &[&str] = &["POST /api/v1/auth/login", "GET /healthz", "GET /readyz"];

struct Op<'a> {
    method: String,
    path: &'a str,
    op: &'a Value,
}

impl Op<'_> {
    fn label(&self) -> String {
        format!("{} {}", self.method.to_uppercase(), self.path)
    }

    fn params(&self, place: &str) -> Vec<&Value> {
        self.op["parameters"]
            .as_array()
            .map(|ps| ps.iter().filter(|p| p["in"] == place).collect())
            .unwrap_or_default()
    }

    fn declares(&self, status: &str) -> bool {
        self.op["responses"].get(status).is_some()
    }

    /// The path with each parameter replaced by `value(name)`.
    fn uri(&self, value: impl Fn(&str) -> String) -> String {
        let mut uri = self.path.to_owned();
        for p in self.params("path") {
            let name = p["name"].as_str().expect("parameter name");
            uri = uri.replace(&format!("{{{name}}}"), &value(name));
        }
        uri
    }
}

fn operations(doc: &Value) -> Vec<Op<'_>> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if ["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                ops.push(Op {
                    method: method.clone(),
                    path,
                    op,
                });
            }
        }
    }
    ops
}

fn document() -> Value {
    serde_json::to_value(kubemate_server::openapi()).expect("the document as JSON")
}

#[test]
fn every_operation_declares_the_statuses_it_shares() {
    let doc = document();
    let ops = operations(&doc);
    assert!(ops.len() >= 40, "{} operations", ops.len());
    let mut missing = Vec::new();
    for op in &ops {
        let label = op.label();
        let public = PUBLIC.contains(&label.as_str());
        let secured = op.op["security"].as_array().is_some_and(|s| !s.is_empty());
        if public == secured {
            missing.push(format!("{label}: security should be {}", !public));
        }
        let has_body = op.op.get("requestBody").is_some();
        let has_params = !op.params("path").is_empty() || !op.params("query").is_empty();
        let mut expect = vec!["504"];
        if op.path != "/healthz" {
            expect.push("503");
        }
        if secured {
            expect.push("401");
        }
        if has_params || has_body {
            expect.push("400");
        }
        if has_body {
            expect.extend(["413", "415"]);
        }
        for status in expect {
            if !op.declares(status) {
                missing.push(format!("{label}: {status}"));
            }
        }
        for (status, response) in op.op["responses"].as_object().expect("responses") {
            if status.starts_with('4') || status.starts_with('5') {
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                if schema != "#/components/schemas/ErrorBody" {
                    missing.push(format!("{label}: {status} without ErrorBody"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
}

#[test]
fn every_path_parameter_states_its_rule() {
    let doc = document();
    let mut missing = Vec::new();
    for op in operations(&doc) {
        let declared: Vec<&str> = op
            .params("path")
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        for segment in op.path.split('/') {
            if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}'))
                && !declared.contains(&name)
            {
                missing.push(format!("{}: {name} not declared", op.label()));
            }
        }
        for p in op.params("path") {
            let schema = &p["schema"];
            if schema["pattern"]
                .as_str()
                .is_none_or(|s| !s.starts_with('^'))
                || schema["maxLength"].as_u64().is_none()
                || p["required"] != true
            {
                missing.push(format!(
                    "{}: {} has no rule: {schema}",
                    op.label(),
                    p["name"]
                ));
            }
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
}

#[test]
fn request_bodies_state_the_constraints_the_server_enforces() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    let password = &schemas["NewUserBody"]["properties"]["password"];
    assert_eq!(password["minLength"], kubemate_rbac::password::MIN_LENGTH);
    assert_eq!(password["maxLength"], kubemate_rbac::password::MAX_LENGTH);
    assert_eq!(schemas["PasswordBody"]["properties"]["password"], *password);
    assert!(schemas["NewUserBody"]["properties"]["name"]["pattern"].is_string());
    assert_eq!(schemas["ScaleBody"]["properties"]["replicas"]["minimum"], 0);
    assert_eq!(schemas["RoleView"]["properties"]["rules"]["minItems"], 1);
    let list = &doc["paths"]["/api/v1/namespaces/{ns}/{plural}"]["get"]["parameters"];
    let view = list
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "view"))
        .expect("view parameter");
    assert_eq!(
        view["schema"]["enum"],
        serde_json::json!(["summary", "full"])
    );
}

/// The 401 and the 400 the document declares are what the router answers: every secured
/// operation refuses a request without a token, and every operation with path parameters
/// refuses one that breaks their rule, before anything else.
#[tokio::test]
async fn the_declared_401_and_400_are_what_the_router_answers() {
    let w = world().await;
    let doc = document();
    for op in operations(&doc) {
        let label = op.label();
        let method = op.method.to_uppercase();
        let body = op.op.get("requestBody").map(|_| serde_json::json!({}));
        if op.op["security"].as_array().is_some_and(|s| !s.is_empty()) {
            let uri = op.uri(|_| "x".to_owned());
            let (status, reply) = w.call(&method, &uri, None, body.clone()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{label}: {reply}");
        }
        if !op.params("path").is_empty() {
            let uri = op.uri(|_| "Not..Valid".to_owned());
            let (status, reply) = w.call(&method, &uri, Some(&w.admin), body.clone()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{label}: {reply}");
            assert_eq!(reply["code"], "InvalidPath", "{label}");
        }
    }
}

/// What the fuzzer found where the server, not the description, was wrong.
#[tokio::test]
async fn the_servers_answers_the_fuzzer_corrected() {
    let w = world().await;
    // A user name may be any label, up to 63 characters: its ServiceAccount,
    // `kubemate-user-<name>`, is a valid name even past 63 characters.
    let long = "u".repeat(63);
    let (status, body) = w
        .call(
            "POST",
            "/api/v1/users",
            Some(&w.admin),
            Some(serde_json::json!({"name": long, "password": "long-password-1"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let sa = kubemate_core::ResourceType::new("", "v1", "ServiceAccount", "serviceaccounts", true);
    kubemate_core::ClusterClient::get(
        &w.fake,
        &sa,
        "kubemate-system",
        &format!("kubemate-user-{long}"),
    )
    .await
    .expect("the user's ServiceAccount");
    // The built-in admin role is well-formed input in conflict with what Kubemate defines.
    for (method, uri) in [
        ("DELETE", "/api/v1/roles/admin"),
        ("PUT", "/api/v1/roles/admin"),
    ] {
        let body = (method == "PUT").then(|| {
            serde_json::json!({"name": "admin", "namespaces": ["*"],
                "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]})
        });
        let (status, reply) = w.call(method, uri, Some(&w.admin), body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{method} {uri}: {reply}");
        assert_eq!(reply["code"], "Conflict", "{method} {uri}");
    }
    // A whole number written with a fraction is still a whole number.
    let (status, body) = w
        .call(
            "PUT",
            "/api/v1/namespaces/shop/deployments/web/scale",
            Some(&w.admin),
            Some(serde_json::json!({"replicas": 2.0})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = w
        .call(
            "PUT",
            "/api/v1/namespaces/shop/deployments/web/scale",
            Some(&w.admin),
            Some(serde_json::json!({"replicas": 2.5})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}
