//! Login, tokens (missing, bad, revoked), `/me` and the caller's namespaces.

use axum::http::{StatusCode, header};
use kubemate_audit::{Decision, Outcome};
use serde_json::json;

use crate::support::{EDITOR, VIEWER, World, password_of, world};

#[tokio::test]
async fn login_returns_a_token_that_the_api_accepts() {
    let w = world().await;
    let (status, body) = w
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"account": VIEWER, "password": password_of(VIEWER)})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"], VIEWER);
    assert!(body["expiresAt"].as_str().is_some_and(|t| t.contains('T')));
    let token = body["token"].as_str().expect("token");
    let (status, me) = w.call("GET", "/api/v1/me", Some(token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"], VIEWER);

    let records = w.records();
    assert_eq!(records.len(), 2, "one record per request");
    assert_eq!(records[0].verb, "login");
    assert_eq!(records[0].user, VIEWER);
    assert_eq!(records[0].outcome, Outcome::Success);
}

#[tokio::test]
async fn a_wrong_password_is_401_and_recorded_as_denied() {
    let w = world().await;
    let (status, body) = w
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"account": VIEWER, "password": "not-the-password"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "InvalidCredentials");
    let record = w.records().pop().expect("record");
    assert_eq!(
        (record.user.as_str(), record.decision, record.outcome),
        (VIEWER, Decision::Denied, Outcome::Failure)
    );
    assert_eq!(record.error_code.as_deref(), Some("InvalidCredentials"));
}

#[tokio::test]
async fn no_token_and_bad_tokens_are_401_recorded_as_anonymous() {
    let w = world().await;
    let mark = w.mark();
    let (status, body) = w
        .call("GET", "/api/v1/namespaces/shop/deployments", None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "Unauthorized");
    let response = w
        .send(World::request("GET", "/api/v1/me", None, None))
        .await;
    assert_eq!(
        response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().ok()),
        Some(Some("Bearer realm=\"kubemate\""))
    );
    for token in ["garbage", &format!("{}x", w.viewer)] {
        let (status, body) = w
            .call(
                "GET",
                "/api/v1/namespaces/shop/deployments",
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token}");
        assert_eq!(body["code"], "InvalidToken");
    }
    assert!(
        w.actions_since(mark)
            .iter()
            .all(|a| a.resource != "deployments"),
        "no cluster call for unauthenticated requests"
    );
    let records = w.records();
    assert_eq!(records.len(), 4);
    for r in &records {
        assert_eq!(r.user, "anonymous");
        assert_eq!(
            (r.decision, r.outcome),
            (Decision::Denied, Outcome::Failure)
        );
    }
    assert_eq!(records[0].kind, "deployments");
    assert_eq!(records[0].namespace.as_deref(), Some("shop"));
}

#[tokio::test]
async fn a_revoked_token_is_401() {
    let w = world().await;
    let (status, _) = w.call("GET", "/api/v1/me", Some(&w.viewer), None).await;
    assert_eq!(status, StatusCode::OK);
    // An administrator resets the viewer's password: every token issued before is revoked.
    let (status, body) = w
        .call(
            "PUT",
            &format!("/api/v1/users/{VIEWER}/password"),
            Some(&w.admin),
            Some(json!({"password": "a-brand-new-password"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = w.call("GET", "/api/v1/me", Some(&w.viewer), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "InvalidToken");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("revoked"))
    );
}

#[tokio::test]
async fn me_lists_roles_namespaces_and_menus() {
    let w = world().await;
    let (status, me) = w.call("GET", "/api/v1/me", Some(&w.editor), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"], EDITOR);
    assert_eq!(me["roles"], json!(["shop-editor"]));
    assert_eq!(me["namespaces"], json!(["shop"]));
    assert_eq!(me["allNamespaces"], false);
    assert_eq!(me["menus"], json!(["audit"]));
    assert_eq!(me["admin"], false);
    let (_, me) = w.call("GET", "/api/v1/me", Some(&w.admin), None).await;
    assert_eq!(me["admin"], true);
    assert_eq!(me["allNamespaces"], true);
    assert!(me["namespaces"].as_array().is_some_and(|n| n.len() > 3));
}

#[tokio::test]
async fn namespaces_are_only_the_callers() {
    let w = world().await;
    let mark = w.mark();
    let (status, body) = w
        .call("GET", "/api/v1/namespaces", Some(&w.viewer), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["name"].as_str())
        .collect();
    assert_eq!(names, ["shop"]);
    // One read of the caller's namespace, not a list of every namespace.
    let reads: Vec<_> = w
        .actions_since(mark)
        .into_iter()
        .filter(|a| a.resource == "namespaces")
        .collect();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].name, "shop");

    let (status, _) = w
        .call("GET", "/api/v1/namespaces/shop", Some(&w.viewer), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (hidden, a) = w
        .call("GET", "/api/v1/namespaces/payments", Some(&w.viewer), None)
        .await;
    let (missing, b) = w
        .call("GET", "/api/v1/namespaces/nowhere", Some(&w.admin), None)
        .await;
    assert_eq!(
        (hidden, missing),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    assert_eq!(a["code"], b["code"]);
}

#[tokio::test]
async fn a_token_of_a_deleted_then_recreated_account_is_401() {
    let w = world().await;
    let (status, _) = w.call("GET", "/api/v1/me", Some(&w.viewer), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = w
        .call(
            "DELETE",
            &format!("/api/v1/users/{VIEWER}"),
            Some(&w.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The same name, the same password, the same role: another account.
    let (status, body) = w
        .call(
            "POST",
            "/api/v1/users",
            Some(&w.admin),
            Some(
                json!({"name": VIEWER, "password": password_of(VIEWER), "roles": ["shop-viewer"]}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = w.call("GET", "/api/v1/me", Some(&w.viewer), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "InvalidToken");
    let (status, body) = w
        .call(
            "GET",
            "/api/v1/namespaces/shop/deployments",
            Some(&w.viewer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // The new account logs in and its token works.
    let (status, body) = w
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"account": VIEWER, "password": password_of(VIEWER)})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["token"].as_str().expect("token");
    let (status, _) = w.call("GET", "/api/v1/me", Some(token), None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn kubemates_own_secrets_are_not_readable_even_with_a_role_over_every_namespace() {
    let w = world().await;
    let rbac = &w.state.rbac;
    let km = rbac.config().namespace.clone();
    let key_secret = rbac.config().token_key_secret.clone();
    rbac.create_role(
        "admin",
        "secret-reader",
        kubemate_rbac::RoleSpec {
            description: String::new(),
            rules: vec![kubemate_rbac::Rule::new(
                &["get", "list"],
                &[""],
                &["secrets"],
            )],
            namespaces: vec!["*".into()],
            menus: vec![],
        },
    )
    .await
    .expect("role");
    rbac.create_user(
        "admin",
        kubemate_rbac::NewUser {
            name: "sam".into(),
            display_name: String::new(),
            email: String::new(),
            password: kubemate_rbac::Password::new("sam-password-1"),
            roles: vec!["secret-reader".into()],
        },
    )
    .await
    .expect("user");
    let (status, body) = w
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"account": "sam", "password": "sam-password-1"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sam = body["token"].as_str().expect("token").to_owned();

    let mark = w.mark();
    for token in [sam.as_str(), w.admin.as_str()] {
        let (status, body) = w
            .call(
                "GET",
                &format!("/api/v1/namespaces/{km}/secrets/{key_secret}"),
                Some(token),
                None,
            )
            .await;
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
            "{status} {body}"
        );
        assert!(body.get("data").is_none(), "{body}");
        let (status, body) = w
            .call(
                "GET",
                &format!("/api/v1/namespaces/{km}/secrets"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert!(body.get("items").is_none(), "{body}");
    }
    // Refused before any read of Kubemate's Secrets.
    assert!(
        w.actions_since(mark)
            .iter()
            .all(|a| !(a.resource == "secrets" && a.namespace == km)),
        "{:?}",
        w.actions_since(mark)
    );
    // Secrets of the tenants' namespaces follow the role.
    let (status, body) = w
        .call(
            "GET",
            "/api/v1/namespaces/shop/secrets/web-db",
            Some(&sam),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["metadata"]["name"], "web-db");
    let (status, body) = w
        .call("GET", "/api/v1/namespaces/shop/secrets", Some(&sam), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["items"].as_array().is_some_and(|i| !i.is_empty()));
}

#[tokio::test]
async fn a_key_rotated_elsewhere_signs_tokens_the_server_accepts_and_old_ones_still_work() {
    let w = world().await;
    // The CLI (or another replica) rotates the key and logs the viewer in with the new one.
    let elsewhere = kubemate_rbac::Rbac::new(
        std::sync::Arc::new(w.fake.clone()),
        kubemate_rbac::Config::default(),
    );
    let rotation = elsewhere.rotate_token_key().await.expect("rotate");
    let login = elsewhere
        .login(VIEWER, &kubemate_rbac::Password::new(password_of(VIEWER)))
        .await
        .expect("login");
    assert_eq!(login.token.kid().as_deref(), Some(rotation.kid.as_str()));
    // This server re-reads the key ring for a key id it does not know (at most once a second).
    tokio::time::sleep(kubemate_rbac::service::keyring::RELOAD_FOR_UNKNOWN_KID).await;
    let (status, body) = w
        .call("GET", "/api/v1/me", Some(login.token.expose()), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A token signed with the retired key is accepted during its grace (the token lifetime).
    let (status, body) = w.call("GET", "/api/v1/me", Some(&w.viewer), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A made-up key id is 401 like any bad token.
    let forged = kubemate_rbac::KeyRing::generate()
        .issue(
            VIEWER,
            "any-uid",
            0,
            (w.state.rbac.config().clock)(),
            std::time::Duration::from_secs(60),
        )
        .expect("token")
        .0;
    let (status, body) = w
        .call("GET", "/api/v1/me", Some(forged.expose()), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "InvalidToken");
}
