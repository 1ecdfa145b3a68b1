//! kubemate-server on the real control plane: the router over the kube client, a Kubemate
//! install of its own (namespace, users and roles with a random suffix), driven through HTTP
//! with `oneshot`.
//!
//! A user bound to a read-only role for one namespace logs in, sees exactly that namespace,
//! lists its Deployments, is refused another namespace and a scale; an administrator's scale
//! then runs impersonated and the Pods follow. Every call is in the audit log with its outcome
//! and the log's hash chain verifies.

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use kubemate_audit::{Decision, FileSink, Outcome, Stage, verify_file};
use kubemate_core::{
    DeleteOptions, Propagation, ResourceType, WriteOptions,
    conformance::{eventually, fresh_namespace, suffix},
    testing::mk_deployment,
};
use kubemate_rbac::{
    Config, NewUser, Password, Rbac, Role, RoleSpec, Rule, Scope, User, UserSpec, password,
};
use kubemate_server::{AppState, Settings, router};
use serde_json::{Value, json};
use tower::ServiceExt;

async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .expect("request");
    let response = app.clone().oneshot(req).await.expect("infallible");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn login(app: &Router, account: &str, password: &str) -> String {
    let (status, body) = call(
        app,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(json!({"account": account, "password": password})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "login {account}: {body}");
    body["token"].as_str().expect("token").to_owned()
}

#[tokio::test]
async fn the_server_enforces_a_read_only_role_and_audits_every_call() {
    let admin = kubemate_tests::cluster().await;
    kubemate_rbac::install_crds(&*admin, Duration::from_secs(60))
        .await
        .expect("install the CRDs");
    let home = fresh_namespace(&*admin, "srv-km").await;
    let tenant = fresh_namespace(&*admin, "srv-a").await;
    let other = fresh_namespace(&*admin, "srv-b").await;
    let suffix = suffix();
    let root = format!("root-{suffix}");
    let viewer = format!("viewer-{suffix}");
    let root_password = format!("{root}-password");
    let viewer_password = format!("{viewer}-password");

    // An administrator of this install: a role holding everything, created directly as
    // bootstrap does for `admin` (whose cluster-wide name other installs may hold).
    let everything = RoleSpec {
        description: String::new(),
        rules: vec![Rule::new(&["*"], &["*"], &["*"])],
        namespaces: vec!["*".into()],
        menus: vec!["*".into()],
    };
    admin
        .create(
            &ResourceType::of::<Role>(),
            "",
            &kubemate_core::client::to_dynamic(&Role::new(&root, everything)).expect("role"),
            &WriteOptions::default(),
        )
        .await
        .expect("root role");
    let root_user = User::new(
        &root,
        UserSpec {
            display_name: String::new(),
            email: String::new(),
            password_hash: password::hash(&Password::new(&root_password)).expect("hash"),
            disabled: false,
            roles: vec![root.clone()],
            token_generation: 0,
        },
    );
    admin
        .create(
            &ResourceType::of::<User>(),
            "",
            &kubemate_core::client::to_dynamic(&root_user).expect("user"),
            &WriteOptions::default(),
        )
        .await
        .expect("root user");
    let rbac = Rbac::new(
        Arc::clone(&admin),
        Config {
            namespace: home.clone(),
            ..Config::default()
        },
    );
    rbac.reconcile(&Scope::Role(root.clone()))
        .await
        .expect("root's RBAC");
    rbac.reconcile(&Scope::User(root.clone()))
        .await
        .expect("root's ServiceAccount");
    // The read-only role for one namespace and its user, through Kubemate.
    let read_only = RoleSpec {
        description: "read-only".into(),
        rules: vec![Rule::new(&["get", "list", "watch"], &["*"], &["*"])],
        namespaces: vec![tenant.clone()],
        menus: vec![],
    };
    rbac.create_role(&root, &viewer, read_only)
        .await
        .expect("viewer role");
    rbac.create_user(
        &root,
        NewUser {
            name: viewer.clone(),
            display_name: String::new(),
            email: String::new(),
            password: Password::new(&viewer_password),
            roles: vec![viewer.clone()],
        },
    )
    .await
    .expect("viewer user");
    admin
        .create(
            &ResourceType::new("apps", "v1", "Deployment", "deployments", true),
            &tenant,
            &mk_deployment("web", 1, "registry.example.com/shop/web:1.0"),
            &WriteOptions::default(),
        )
        .await
        .expect("deployment");

    let dir = tempfile::tempdir().expect("tempdir");
    let audit_path = dir.path().join("audit.jsonl");
    let sink = FileSink::open(&audit_path, true).expect("audit log");
    let state = AppState::new(
        Arc::clone(&admin),
        Arc::new(rbac),
        Arc::new(sink),
        Settings {
            policy_ttl: Duration::ZERO,
            ..Settings::default()
        },
    );
    let app = router(state);

    // The read-only user.
    let token = login(&app, &viewer, &viewer_password).await;
    let (status, me) = call(&app, "GET", "/api/v1/me", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["namespaces"], json!([tenant]));
    let (status, list) = call(
        &app,
        "GET",
        &format!("/api/v1/namespaces/{tenant}/deployments"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["items"][0]["metadata"]["name"], "web");
    let (status, body) = call(
        &app,
        "GET",
        &format!("/api/v1/namespaces/{other}/deployments"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let scale_uri = format!("/api/v1/namespaces/{tenant}/deployments/web/scale");
    let (status, body) = call(
        &app,
        "PUT",
        &scale_uri,
        Some(&token),
        Some(json!({"replicas": 3})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // The administrator scales, as its own ServiceAccount, and the Pods follow.
    let root_token = login(&app, &root, &root_password).await;
    let (status, body) = call(
        &app,
        "PUT",
        &scale_uri,
        Some(&root_token),
        Some(json!({"replicas": 3})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let pods_uri = format!("/api/v1/namespaces/{tenant}/deployments/web/pods");
    eventually("3 running pods after the scale", || async {
        let (status, pods) = call(&app, "GET", &pods_uri, Some(&root_token), None).await;
        assert_eq!(status, StatusCode::OK, "{pods}");
        let running = pods
            .as_array()
            .map(|p| p.iter().filter(|p| p["phase"] == "Running").count())
            .unwrap_or(0);
        (running == 3).then_some(())
    })
    .await;

    // Every call is in the audit log with its outcome, and the chain holds.
    let records: Vec<kubemate_audit::Record> = std::fs::read_to_string(&audit_path)
        .expect("audit log")
        .lines()
        .map(|l| serde_json::from_str(l).expect("record"))
        .collect();
    let seen = |verb: &str, user: &str, ns: Option<&str>| {
        records
            .iter()
            .filter(|r| {
                r.verb == verb
                    && r.user == user
                    && r.namespace.as_deref() == ns
                    && r.stage == Stage::Response
            })
            .map(|r| (r.decision, r.outcome, r.error_code.as_deref()))
            .collect::<Vec<_>>()
    };
    let ok = (Decision::Allowed, Outcome::Success, None);
    let denied = (Decision::Denied, Outcome::Failure, Some("Forbidden"));
    assert_eq!(seen("login", &viewer, None), [ok]);
    assert_eq!(seen("get", &viewer, None), [ok], "/me");
    assert_eq!(seen("list", &viewer, Some(&tenant)), [ok]);
    assert_eq!(seen("list", &viewer, Some(&other)), [denied]);
    assert_eq!(seen("scale", &viewer, Some(&tenant)), [denied]);
    assert_eq!(seen("login", &root, None), [ok]);
    assert_eq!(seen("scale", &root, Some(&tenant)), [ok]);
    let pending: Vec<_> = records
        .iter()
        .filter(|r| r.stage == Stage::Request)
        .map(|r| (r.verb.as_str(), r.user.as_str(), r.outcome))
        .collect();
    assert_eq!(pending, [("scale", root.as_str(), Outcome::Pending)]);
    assert!(seen("pods", &root, Some(&tenant)).iter().all(|r| *r == ok));
    let verification = verify_file(&audit_path).expect("readable");
    assert!(verification.is_intact(), "{verification:?}");
    assert_eq!(verification.records, records.len());

    // Clean up: the users and roles of this install, then its namespaces.
    let opts = DeleteOptions {
        propagation: Some(Propagation::Background),
        ..Default::default()
    };
    for name in [&viewer, &root] {
        let _ = admin
            .delete(&ResourceType::of::<User>(), "", name, &opts)
            .await;
        let _ = admin
            .delete(&ResourceType::of::<Role>(), "", name, &opts)
            .await;
    }
    let ns = ResourceType::new("", "v1", "Namespace", "namespaces", false);
    for name in [&tenant, &other, &home] {
        let _ = admin.delete(&ns, "", name, &DeleteOptions::default()).await;
    }
}

/// The next chunk of a streamed body as text, `None` once it has ended.
async fn next_chunk(body: &mut Body, within: Duration) -> Option<String> {
    let frame = tokio::time::timeout(within, body.frame())
        .await
        .expect("the stream neither sent nor ended in time")?
        .expect("a frame");
    Some(String::from_utf8_lossy(&frame.into_data().expect("data")).into_owned())
}

#[tokio::test]
async fn a_log_follow_stream_ends_within_two_seconds_of_its_user_being_disabled() {
    let admin = kubemate_tests::cluster().await;
    kubemate_rbac::install_crds(&*admin, Duration::from_secs(60))
        .await
        .expect("install the CRDs");
    let home = fresh_namespace(&*admin, "strm-km").await;
    let tenant = fresh_namespace(&*admin, "strm-a").await;
    let viewer = format!("follower-{}", suffix());
    let password = format!("{viewer}-password");
    let rbac = Arc::new(Rbac::new(
        Arc::clone(&admin),
        Config {
            namespace: home.clone(),
            ..Config::default()
        },
    ));
    // An operator (the CLI, or another replica) manages the user: this server learns of the
    // change only through its re-checks.
    let operator = kubemate_rbac::Actor::Operator;
    rbac.create_role(
        operator,
        &viewer,
        RoleSpec {
            description: "read-only".into(),
            rules: vec![Rule::new(&["get", "list", "watch"], &["*"], &["*"])],
            namespaces: vec![tenant.clone()],
            menus: vec![],
        },
    )
    .await
    .expect("role");
    rbac.create_user(
        operator,
        NewUser {
            name: viewer.clone(),
            display_name: String::new(),
            email: String::new(),
            password: Password::new(&password),
            roles: vec![viewer.clone()],
        },
    )
    .await
    .expect("user");
    admin
        .create(
            &ResourceType::new("apps", "v1", "Deployment", "deployments", true),
            &tenant,
            &mk_deployment("web", 1, "registry.example.com/shop/web:1.0"),
            &WriteOptions::default(),
        )
        .await
        .expect("deployment");

    let dir = tempfile::tempdir().expect("tempdir");
    let sink = FileSink::open(dir.path().join("audit.jsonl"), true).expect("audit log");
    let state = AppState::new(
        Arc::clone(&admin),
        Arc::clone(&rbac),
        Arc::new(sink),
        Settings {
            policy_ttl: Duration::ZERO,
            ..Settings::default()
        },
    );
    let app = router(state.clone());
    let token = login(&app, &viewer, &password).await;
    let pods_uri = format!("/api/v1/namespaces/{tenant}/deployments/web/pods");
    let pod = eventually("a running pod", || async {
        let (status, pods) = call(&app, "GET", &pods_uri, Some(&token), None).await;
        assert_eq!(status, StatusCode::OK, "{pods}");
        pods.as_array()
            .and_then(|p| p.iter().find(|p| p["phase"] == "Running"))
            .and_then(|p| p["name"].as_str().map(str::to_owned))
    })
    .await;

    // kwok serves the known lines, then keeps the stream open like a running container.
    let uri = format!("/api/v1/namespaces/{tenant}/pods/{pod}/logs?follow=true");
    let req = Request::builder()
        .uri(&uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    let response = app.clone().oneshot(req).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let mut text = String::new();
    while !text.contains("kubemate-test-log line 3") {
        text += &next_chunk(&mut body, Duration::from_secs(20))
            .await
            .unwrap_or_else(|| panic!("the stream ended early: {text}"));
    }
    // Still open and allowed after a few re-checks.
    let quiet = tokio::time::timeout(Duration::from_millis(2500), body.frame()).await;
    assert!(quiet.is_err(), "nothing to send, the stream stays open");
    assert_eq!(state.streams.open(&viewer), 1);

    rbac.set_disabled(operator, &viewer, true)
        .await
        .expect("disable");
    let disabled = std::time::Instant::now();
    // Collected without failing, so that the clean-up below runs either way.
    let mut rest = String::new();
    let ended = loop {
        match tokio::time::timeout(Duration::from_secs(5), body.frame()).await {
            Ok(Some(Ok(frame))) => {
                rest += &String::from_utf8_lossy(&frame.into_data().unwrap_or_default());
            }
            Ok(_) => break Some(disabled.elapsed()),
            Err(_) => break None,
        }
    };
    let open_after = state.streams.open(&viewer);

    let opts = DeleteOptions {
        propagation: Some(Propagation::Background),
        ..Default::default()
    };
    let _ = admin
        .delete(&ResourceType::of::<User>(), "", &viewer, &opts)
        .await;
    let _ = admin
        .delete(&ResourceType::of::<Role>(), "", &viewer, &opts)
        .await;
    let ns = ResourceType::new("", "v1", "Namespace", "namespaces", false);
    for name in [&tenant, &home] {
        let _ = admin.delete(&ns, "", name, &DeleteOptions::default()).await;
    }

    let took = ended.unwrap_or_else(|| panic!("the stream outlived the user's access: {rest}"));
    assert!(
        rest.starts_with(kubemate_server::routes::logs::END_PREFIX)
            && rest.contains("access lost: invalid token"),
        "{rest}"
    );
    assert!(
        took < Duration::from_millis(2500),
        "the stream ended after {took:?}"
    );
    assert_eq!(open_after, 0);
    eprintln!("follow stream ended {took:?} after the user was disabled");
}
