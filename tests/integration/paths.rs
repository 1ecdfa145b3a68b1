//! Path traversal on the real control plane, as an attacker tried it: a user whose only role
//! is `get,list pods` on every namespace asks kubemate-server for
//! `/api/v1/namespaces/<kubemate ns>%2Fsecrets%2F<token key>` (once a read of the token
//! signing key with the server's identity) and for `/api/v1/namespaces/<ns>/pods/x%2Fproxy`
//! (once the pod proxy subresource). Both are 400 before anything reaches the apiserver; and
//! the kube client itself refuses such names, so no route added later can reopen the hole.

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use kubemate_audit::FileSink;
use kubemate_core::{
    ClusterClientExt, ErrorKind, ResourceType, WriteOptions,
    conformance::{drop_namespace, fresh_namespace, object, suffix},
};
use kubemate_rbac::{Actor, Config, NewUser, Password, Rbac, RoleSpec, Rule};
use kubemate_server::{AppState, Settings, router};
use serde_json::{Value, json};
use tower::ServiceExt;

async fn get(app: &Router, uri: &str, token: &str) -> (StatusCode, String) {
    let req = Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    let response = app.clone().oneshot(req).await.expect("infallible");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn encoded_slashes_reach_neither_the_token_key_nor_the_pod_proxy() {
    let admin = kubemate_tests::cluster().await;
    kubemate_rbac::install_crds(&*admin, Duration::from_secs(60))
        .await
        .expect("install the CRDs");
    let home = fresh_namespace(&*admin, "path-km").await;
    let tenant = fresh_namespace(&*admin, "path-t").await;
    let sfx = suffix();
    let reader = format!("pod-reader-{sfx}");
    let password = format!("{reader}-password");
    let rbac = Rbac::new(
        Arc::clone(&admin),
        Config {
            namespace: home.clone(),
            ..Config::default()
        },
    );
    // The token signing key now exists, in the install's namespace.
    rbac.token_keys().await.expect("token key");
    let key_secret = Config::default().token_key_secret;
    let secret: k8s_openapi::api::core::v1::Secret = admin
        .get_as(&home, &key_secret)
        .await
        .expect("the key Secret");
    assert!(secret.data.is_some_and(|d| !d.is_empty()));

    rbac.create_role(
        Actor::Operator,
        &reader,
        RoleSpec {
            description: "reads pods everywhere".into(),
            rules: vec![Rule::new(&["get", "list"], &[""], &["pods"])],
            namespaces: vec!["*".into()],
            menus: vec![],
        },
    )
    .await
    .expect("role");
    rbac.create_user(
        Actor::Operator,
        NewUser {
            name: reader.clone(),
            display_name: String::new(),
            email: String::new(),
            password: Password::new(&password),
            roles: vec![reader.clone()],
        },
    )
    .await
    .expect("user");
    admin
        .create(
            &ResourceType::new("", "v1", "Pod", "pods", true),
            &tenant,
            &object(json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "x"},
                "spec": {"containers": [{"name": "main", "image": "registry.example.com/x:1"}]}})),
            &WriteOptions::default(),
        )
        .await
        .expect("pod");

    let dir = tempfile::tempdir().expect("tempdir");
    let sink = FileSink::open(dir.path().join("audit.jsonl"), true).expect("audit log");
    let state = AppState::new(
        Arc::clone(&admin),
        Arc::new(rbac),
        Arc::new(sink),
        Settings {
            policy_ttl: Duration::ZERO,
            ..Settings::default()
        },
    );
    let app = router(state.clone());
    let login = state
        .rbac
        .login(&reader, &Password::new(&password))
        .await
        .expect("login");
    let token = login.token.expose().to_owned();

    // The role works: the pod is readable.
    let (status, body) = get(&app, &format!("/api/v1/namespaces/{tenant}/pods/x"), &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    for uri in [
        format!("/api/v1/namespaces/{home}%2Fsecrets%2F{key_secret}"),
        format!("/api/v1/namespaces/{home}%2fsecrets%2f{key_secret}"),
        format!("/api/v1/namespaces/{tenant}/pods/x%2Fproxy"),
        format!("/api/v1/namespaces/{tenant}/pods/x%2Fproxy%2F"),
        format!("/api/v1/namespaces/{tenant}/pods/x%2F..%2F..%2Fsecrets"),
        format!("/api/v1/namespaces/{tenant}/pods/%2E%2E"),
        format!("/api/v1/namespaces/{tenant}/pods/x%00"),
        format!("/api/v1/namespaces/{home}%2Fsecrets/pods"),
    ] {
        let (status, body) = get(&app, &uri, &token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        let answer: Value = serde_json::from_str(&body).expect("a JSON error");
        assert_eq!(answer["code"], "InvalidPath", "{uri}");
        assert!(
            !body.contains("\"kind\":\"Secret\"") && !body.contains("\"data\""),
            "{uri} leaked the key: {body}"
        );
    }

    // The second lock: the kube client refuses names that would leave their URL segment,
    // whoever calls it.
    let namespaces = ResourceType::new("", "v1", "Namespace", "namespaces", false);
    let e = admin
        .get(&namespaces, "", &format!("{home}/secrets/{key_secret}"))
        .await
        .expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::BadRequest, "{e}");
    let e = admin
        .get(
            &ResourceType::new("", "v1", "Pod", "pods", true),
            &tenant,
            "x/proxy",
        )
        .await
        .expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::BadRequest, "{e}");

    let _ = state.rbac.delete_user(Actor::Operator, &reader).await;
    let _ = state.rbac.delete_role(Actor::Operator, &reader).await;
    drop_namespace(&*admin, &tenant).await;
    drop_namespace(&*admin, &home).await;
}
