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

/// The route that each admin-only area guards. The match is exhaustive: declaring an area
/// without a route that requires it does not compile here.
fn route_of(area: kubemate_rbac::AdminArea) -> (&'static str, &'static str) {
    use kubemate_rbac::AdminArea;
    match area {
        AdminArea::CustomResources => ("GET", "/api/v1/customresourcedefinitions"),
        AdminArea::UsersAndRoles => ("GET", "/api/v1/users"),
    }
}

#[tokio::test]
async fn every_admin_area_is_required_by_its_routes() {
    let w = world().await;
    // A user who may do every verb on everything everywhere and see every console section,
    // but is not an administrator.
    let all = json!({
        "name": "almighty",
        "description": "",
        "rules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
        "namespaces": ["*"],
        "menus": ["*"]
    });
    let (status, body) = w
        .call("POST", "/api/v1/roles", Some(&w.admin), Some(all))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let user =
        json!({"name": "almighty", "password": "almighty-password-1", "roles": ["almighty"]});
    let (status, body) = w
        .call("POST", "/api/v1/users", Some(&w.admin), Some(user))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, login) = w
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"account": "almighty", "password": "almighty-password-1"})),
        )
        .await;
    let token = login["token"].as_str().expect("token").to_owned();
    for area in kubemate_rbac::AdminArea::ALL {
        let (method, uri) = route_of(area);
        let (status, body) = w.call(method, uri, Some(&token), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri}: {body}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains(area.code())),
            "{body}"
        );
        let (status, body) = w.call(method, uri, Some(&w.admin), None).await;
        assert_eq!(status, StatusCode::OK, "{uri} for the admin: {body}");
    }
}

#[tokio::test]
async fn a_namespace_is_readable_exactly_when_it_is_listed() {
    let w = world().await;
    let (status, all) = w
        .call("GET", "/api/v1/namespaces", Some(&w.admin), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let everything: Vec<String> = all["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["name"].as_str().map(str::to_owned))
        .collect();
    assert!(everything.len() > 3, "{all}");
    for token in [&w.viewer, &w.editor, &w.admin] {
        let (_, listed) = w.call("GET", "/api/v1/namespaces", Some(token), None).await;
        let listed: Vec<&str> = listed["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|i| i["name"].as_str())
            .collect();
        for ns in &everything {
            let (status, body) = w
                .call(
                    "GET",
                    &format!("/api/v1/namespaces/{ns}"),
                    Some(token),
                    None,
                )
                .await;
            let expected = if listed.contains(&ns.as_str()) {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            };
            assert_eq!(status, expected, "{ns}: {body}");
        }
    }
    let (status, _) = w
        .call("GET", "/api/v1/namespaces/payments", Some(&w.viewer), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another tenant's namespace");
}
