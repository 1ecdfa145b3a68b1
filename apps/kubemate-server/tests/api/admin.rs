//! Users and roles: administrators only, escalation refused, menu codes enforced.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::{VIEWER, only_policy_reads, world};

#[tokio::test]
async fn user_and_role_management_is_for_administrators_only() {
    let w = world().await;
    let mark = w.mark();
    for (method, uri) in [
        ("GET", "/api/v1/users"),
        ("GET", "/api/v1/roles"),
        ("GET", "/api/v1/users/admin"),
        ("DELETE", "/api/v1/users/viewer"),
        ("PUT", "/api/v1/users/viewer/roles/shop-editor"),
        ("DELETE", "/api/v1/roles/shop-viewer"),
    ] {
        let (status, body) = w.call(method, uri, Some(&w.editor), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {uri}: {body}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("users-and-roles is for administrators only")),
            "{body}"
        );
    }
    assert!(only_policy_reads(&w.actions_since(mark)));
}

#[tokio::test]
async fn an_administrator_manages_roles_users_and_bindings() {
    let w = world().await;
    let role = json!({
        "name": "pay-reader",
        "description": "reads payments",
        "rules": [{"verbs": ["get", "list"], "apiGroups": ["*"], "resources": ["*"]}],
        "namespaces": ["payments"],
        "menus": []
    });
    let (status, body) = w
        .call("POST", "/api/v1/roles", Some(&w.admin), Some(role.clone()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _) = w
        .call("POST", "/api/v1/roles", Some(&w.admin), Some(role))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, body) = w
        .call("GET", "/api/v1/roles/pay-reader", Some(&w.admin), None)
        .await;
    assert_eq!(
        (status, body["namespaces"].clone()),
        (StatusCode::OK, json!(["payments"]))
    );

    let (status, body) = w
        .call(
            "POST",
            "/api/v1/users",
            Some(&w.admin),
            Some(json!({"name": "dana", "password": "dana-password-1", "roles": []})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body.get("passwordHash").is_none());
    let (status, body) = w
        .call(
            "PUT",
            "/api/v1/users/dana/roles/pay-reader",
            Some(&w.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = w
        .call("GET", "/api/v1/users/dana", Some(&w.admin), None)
        .await;
    assert_eq!(
        (status, body["roles"].clone()),
        (StatusCode::OK, json!(["pay-reader"]))
    );
    let (_, list) = w.call("GET", "/api/v1/users", Some(&w.admin), None).await;
    assert!(list["items"].as_array().is_some_and(|u| u.len() == 4));

    let (status, _) = w
        .call(
            "DELETE",
            "/api/v1/users/dana/roles/pay-reader",
            Some(&w.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = w
        .call(
            "PUT",
            "/api/v1/users/dana/disabled",
            Some(&w.admin),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(
        (status, body["disabled"].clone()),
        (StatusCode::OK, json!(true))
    );
    let (status, _) = w
        .call("DELETE", "/api/v1/users/dana", Some(&w.admin), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = w
        .call("GET", "/api/v1/users/dana", Some(&w.admin), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = w
        .call("DELETE", "/api/v1/roles/pay-reader", Some(&w.admin), None)
        .await;
    assert_eq!(status, StatusCode::OK);

    // An administrator may not change their own roles, nor set a weak password.
    let (status, body) = w
        .call(
            "DELETE",
            "/api/v1/users/admin/roles/admin",
            Some(&w.admin),
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("EscalationRefused"))
    );
    let (status, body) = w
        .call(
            "PUT",
            &format!("/api/v1/users/{VIEWER}/password"),
            Some(&w.admin),
            Some(json!({"password": "short"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("Invalid"))
    );
}

#[tokio::test]
async fn the_audit_log_needs_the_audit_menu_code() {
    let w = world().await;
    let (status, body) = w.call("GET", "/api/v1/audit", Some(&w.viewer), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("\"audit\" section"))
    );
    let (status, body) = w.call("GET", "/api/v1/audit", Some(&w.editor), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The editor sees their own records and those of their namespaces, not the viewer's
    // denied request about the audit log.
    let items = body["items"].as_array().expect("items");
    assert!(
        items
            .iter()
            .all(|r| r["user"] == "editor" || r["namespace"] == "shop")
    );
    let (status, body) = w
        .call(
            "GET",
            "/api/v1/audit?user=viewer&outcome=denied",
            Some(&w.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["items"].as_array().map(Vec::len), Some(1));
    let (status, body) = w
        .call("GET", "/api/v1/audit?since=yesterday", Some(&w.admin), None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("BadRequest"))
    );
}
