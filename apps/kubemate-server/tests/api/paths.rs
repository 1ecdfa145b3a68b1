//! Path parameters are validated values: every route that takes a namespace, a resource or a
//! name, taken from the router's own OpenAPI description (so a route added later is covered
//! without touching this file), refuses a traversal — an encoded `/`, `..`, NUL, whitespace,
//! `%`, an over-long value — with 400 `InvalidPath` before anything else happens: no cluster
//! call, with or without a token, and an audit record that names no such namespace or object.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{World, world};

/// A valid value for each path parameter of the API, by route shape. A new parameter name
/// fails here until it is given one (and a validated type in `params.rs`).
fn valid(route: &str, param: &str) -> &'static str {
    match param {
        "ns" => "shop",
        "plural" if route.starts_with("/api/v1/namespaces/") => "deployments",
        "plural" => "nodes",
        "name" if route.starts_with("/api/v1/users") => "viewer",
        "name" if route.starts_with("/api/v1/roles") => "shop-viewer",
        "name" => "web",
        "role" => "shop-viewer",
        other => panic!("route {route} has a path parameter {other} this test does not know"),
    }
}

/// Values as they appear in a request's path (percent-encoded where the raw character could
/// not stand in a path segment).
const TRAVERSALS: &[&str] = &[
    "kubemate-system%2Fsecrets%2Fkubemate-token-key",
    "x%2Fproxy",
    "x%2fproxy",
    "..",
    "%2E%2E",
    "a%2F..%2Fb",
    "a%00b",
    "a%20b",
    "a%09b",
    "%25",
    "a%252Fb",
    "a%5Cb",
    "a%3Fb",
    "%FF",
];

fn params(route: &str) -> Vec<&str> {
    route
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

fn fill(route: &str, bad: Option<(&str, &str)>) -> String {
    let mut uri = route.to_owned();
    for p in params(route) {
        let value = match bad {
            Some((name, value)) if name == p => value.to_owned(),
            _ => valid(route, p).to_owned(),
        };
        uri = uri.replace(&format!("{{{p}}}"), &value);
    }
    uri
}

/// Every (method, route) of the API with at least one path parameter.
fn parameterised_routes() -> Vec<(&'static str, String)> {
    let doc = kubemate_server::openapi();
    let mut out = Vec::new();
    for (route, item) in &doc.paths.paths {
        if params(route).is_empty() {
            continue;
        }
        for (method, op) in [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ] {
            if op.is_some() {
                out.push((method, route.clone()));
            }
        }
    }
    out
}

async fn refused(w: &World, method: &str, uri: &str, token: Option<&str>) {
    let mark = w.mark();
    let body = (method != "GET" && method != "DELETE").then(|| json!({}));
    let (status, answer) = w.call(method, uri, token, body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {uri}: {answer}");
    assert_eq!(answer["code"], "InvalidPath", "{method} {uri}: {answer}");
    assert!(
        w.actions_since(mark).is_empty(),
        "{method} {uri} reached the cluster: {:?}",
        w.actions_since(mark)
    );
}

#[tokio::test]
async fn every_route_refuses_traversal_in_every_path_parameter_before_anything_else() {
    let w = world().await;
    let routes = parameterised_routes();
    // The API as it stands: resources, workload verbs, logs, cluster objects, users, roles.
    assert!(
        routes.len() >= 25,
        "the router lists {} routes",
        routes.len()
    );
    let mut checked = 0;
    for (method, route) in &routes {
        for param in params(route) {
            let long = "a".repeat(300);
            for bad in TRAVERSALS.iter().copied().chain([long.as_str()]) {
                let uri = fill(route, Some((param, bad)));
                refused(&w, method, &uri, Some(&w.admin)).await;
                checked += 1;
            }
            // Before authentication too: the path is refused before the token is looked at.
            let uri = fill(route, Some((param, "x%2Fproxy")));
            refused(&w, method, &uri, None).await;
        }
    }
    assert!(checked > 500, "{checked} requests");
    // No record names a namespace or object that was refused.
    for record in w.records() {
        for value in [&record.namespace, &record.name].into_iter().flatten() {
            assert!(
                kubemate_core::names::unsafe_segment(value).is_none() || value.contains("/roles/"),
                "an audit record names {value:?}"
            );
        }
    }
}

#[tokio::test]
async fn the_token_key_cannot_be_read_through_a_namespace_read() {
    let w = world().await;
    for token in [&w.admin, &w.viewer] {
        let (status, body) = w
            .call(
                "GET",
                "/api/v1/namespaces/kubemate-system%2Fsecrets%2Fkubemate-token-key",
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(!body.to_string().contains("hs256"), "{body}");
        let (status, body) = w
            .call(
                "GET",
                "/api/v1/namespaces/shop/pods/x%2Fproxy",
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    // A raw `/` makes another path, which no route takes for a subresource it does not know.
    let (status, _) = w
        .call(
            "GET",
            "/api/v1/namespaces/shop/pods/x/proxy",
            Some(&w.admin),
            None,
        )
        .await;
    assert!(
        matches!(
            status,
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
        ),
        "{status}"
    );
}

#[tokio::test]
async fn a_name_is_checked_against_its_kind_rule() {
    let w = world().await;
    // Valid as one URL segment, invalid as a Deployment's name (a subdomain) or a Service's (a
    // label): refused at the edge, not sent.
    for uri in [
        "/api/v1/namespaces/shop/deployments/Web",
        "/api/v1/namespaces/shop/services/web.v2",
        "/api/v1/namespaces/shop/configmaps/a_b",
    ] {
        let mark = w.mark();
        let (status, body) = w.call("GET", uri, Some(&w.admin), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["code"], "InvalidPath");
        assert!(
            w.actions_since(mark)
                .iter()
                .all(|a| a.resource != "deployments"
                    && a.resource != "services"
                    && a.resource != "configmaps")
        );
    }
    let (status, _) = w
        .call(
            "GET",
            "/api/v1/namespaces/shop/deployments/web",
            Some(&w.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn audit_records_hold_the_decoded_validated_parameters() {
    let w = world().await;
    // `sh%6Fp` is `shop`, `w%65b` is `web`: the record says what was read, and the viewer's
    // own namespace filter finds it.
    let (status, body) = w
        .call(
            "GET",
            "/api/v1/namespaces/sh%6Fp/deployments/w%65b",
            Some(&w.viewer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = w
        .call(
            "GET",
            "/api/v1/namespaces/shop/pods/x%2Fproxy",
            Some(&w.viewer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let records = w.records();
    let read = records
        .iter()
        .find(|r| r.verb == "get" && r.kind == "deployments")
        .expect("the read's record");
    assert_eq!(read.namespace.as_deref(), Some("shop"));
    assert_eq!(read.name.as_deref(), Some("web"));
    let refused = records.last().expect("the refusal's record");
    assert_eq!(refused.error_code.as_deref(), Some("InvalidPath"));
    assert_eq!(refused.namespace, None, "nothing from the raw path");
    assert_eq!(refused.name, None);
    // The editor may read the audit log of namespace `shop`: the decoded record is in it.
    let (status, page) = w
        .call("GET", "/api/v1/audit?namespace=shop", Some(&w.editor), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let items = page["items"].as_array().cloned().unwrap_or_default();
    assert!(
        items
            .iter()
            .any(|r: &Value| r["name"] == "web" && r["verb"] == "get"),
        "{page}"
    );
}
