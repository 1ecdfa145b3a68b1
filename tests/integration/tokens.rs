//! Kubemate's tokens and its own Secrets on the real control plane: the signing key rotated
//! through the apiserver (an old token accepted during the grace, refused after; concurrent
//! rotations keeping every key), tokens dying with their account, and the server refusing to
//! serve Kubemate's own Secrets to a role over every namespace.

use std::{
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use k8s_openapi::{ByteString, api::core::v1::Secret};
use kubemate_core::{
    ClusterClientExt, ObjectMeta,
    testing::{BeforeWrite, Write},
};
use kubemate_rbac::{Config, Password, Rbac, service::keyring::ring_from_secret};
use kubemate_server::{AppState, Settings, router};
use serde_json::{Value, json};
use tower::ServiceExt;

use kubemate_rbac::testing::rule;

use crate::rbac::env;

const START: i64 = 1_900_000_000;

/// A clock the test moves.
fn clock(at: &Arc<AtomicI64>) -> kubemate_rbac::service::Clock {
    let at = Arc::clone(at);
    Arc::new(move || jiff_at(at.load(Ordering::SeqCst)))
}

fn jiff_at(second: i64) -> k8s_openapi::jiff::Timestamp {
    k8s_openapi::jiff::Timestamp::from_second(second).expect("a valid time")
}

#[tokio::test]
async fn a_rotated_key_keeps_old_tokens_for_the_grace_then_refuses_them() {
    let now = Arc::new(AtomicI64::new(START));
    let config = Config {
        token_key_grace: Some(Duration::from_secs(60)),
        clock: clock(&now),
        ..Config::default()
    };
    let env = env("tokrot", 0, config.clone()).await;
    let alice = env.user("alice", &[]).await;
    let password = Password::new(format!("{alice}-password"));
    let old = env
        .rbac
        .login(&alice, &password)
        .await
        .expect("login")
        .token;
    let first = old.kid().expect("a key id");
    // Another replica (as the CLI or a second server would be), on the same Secret.
    let replica = || {
        Rbac::new(
            Arc::clone(&env.admin),
            Config {
                namespace: env.home.clone(),
                ..config.clone()
            },
        )
    };
    let rotation = replica().rotate_token_key().await.expect("rotate");
    assert_eq!(rotation.retired_kid, first);
    assert_eq!(rotation.accepted_until, jiff_at(START + 60));
    let stored: Secret = env
        .admin
        .get_as(&env.home, "kubemate-token-key")
        .await
        .expect("the key Secret");
    let ring = ring_from_secret(&stored).expect("a ring");
    assert_eq!(ring.active_kid(), rotation.kid);
    assert!(ring.knows(&first));

    let new = replica()
        .login(&alice, &password)
        .await
        .expect("login")
        .token;
    assert_eq!(new.kid().as_deref(), Some(rotation.kid.as_str()));
    now.store(START + 59, Ordering::SeqCst);
    replica()
        .authenticate(&old)
        .await
        .expect("the old token, within the grace");
    replica().authenticate(&new).await.expect("the new token");
    now.store(START + 60, Ordering::SeqCst);
    let refused = replica()
        .authenticate(&old)
        .await
        .expect_err("after the grace");
    assert_eq!(refused.code(), "InvalidToken");
    assert_eq!(
        refused.to_string(),
        "invalid token: signed with a retired key"
    );
    replica()
        .authenticate(&new)
        .await
        .expect("the new token still");

    // Another rotation writes between this one's read of the Secret and its write (a hook
    // before the write makes the race certain): the compare-and-swap on the resourceVersion
    // makes this one start again from what the other wrote, so both keys are kept.
    let theirs = Arc::new(tokio::sync::Mutex::new(None));
    let (hook_theirs, other) = (Arc::clone(&theirs), Arc::new(replica()));
    let raced = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let racing = BeforeWrite::new(Arc::clone(&env.admin), move |write: Write| {
        let (theirs, other) = (Arc::clone(&hook_theirs), Arc::clone(&other));
        let first = write.resource.plural == "secrets" && !raced.swap(true, Ordering::SeqCst);
        Box::pin(async move {
            if first {
                let rotation = other.rotate_token_key().await.expect("their rotation");
                *theirs.lock().await = Some(rotation);
            }
        })
    });
    let mine = Rbac::new(
        Arc::new(racing),
        Config {
            namespace: env.home.clone(),
            ..config.clone()
        },
    );
    let ours = mine.rotate_token_key().await.expect("our rotation");
    let theirs = theirs.lock().await.clone().expect("they rotated");
    assert_eq!(theirs.retired_kid, rotation.kid);
    assert_eq!(
        ours.retired_kid, theirs.kid,
        "ours started again from theirs"
    );
    let stored: Secret = env
        .admin
        .get_as(&env.home, "kubemate-token-key")
        .await
        .expect("the key Secret");
    let ring = ring_from_secret(&stored).expect("a ring");
    assert_eq!(ring.active_kid(), ours.kid);
    assert!(ring.knows(&theirs.kid), "{ring:?}");
    assert!(
        ring.knows(&rotation.kid),
        "retired, within its grace: {ring:?}"
    );
    assert!(!ring.knows(&first), "dropped after its grace: {ring:?}");
    env.cleanup().await;
}

#[tokio::test]
async fn a_token_dies_with_its_account_on_the_real_cluster() {
    let env = env("tokuid", 0, Config::default()).await;
    let bob = env.user("bob", &[]).await;
    let password = Password::new(format!("{bob}-password"));
    let old = env.rbac.login(&bob, &password).await.expect("login").token;
    env.rbac.authenticate(&old).await.expect("valid");
    let first_uid = env.rbac.user(&bob).await.expect("bob").metadata.uid;
    env.rbac.delete_user(&env.root, &bob).await.expect("delete");
    // The apiserver deletes the User at once (no finalizer); re-create it: same name, same
    // password, same token generation.
    let again = env
        .rbac
        .create_user(
            &env.root,
            kubemate_rbac::NewUser {
                name: bob.clone(),
                display_name: String::new(),
                email: String::new(),
                password: password.clone(),
                roles: vec![],
            },
        )
        .await
        .expect("re-create");
    assert_ne!(again.metadata.uid, first_uid);
    assert_eq!(again.spec.token_generation, 0);
    let refused = env.rbac.authenticate(&old).await.expect_err("re-created");
    assert_eq!(
        refused.to_string(),
        "invalid token: issued to another account of that name"
    );
    let policy = env.rbac.policy().await.expect("policy");
    let keys = env.rbac.token_keys().await.expect("keys");
    let now = (env.rbac.config().clock)();
    assert_eq!(
        kubemate_rbac::verify_token(&keys, &policy, &old, now)
            .expect_err("refused")
            .code(),
        "InvalidToken"
    );
    let new = env.rbac.login(&bob, &password).await.expect("login").token;
    env.rbac
        .authenticate(&new)
        .await
        .expect("the new account's token");
    env.cleanup().await;
}

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

#[tokio::test]
async fn the_server_never_serves_kubemates_own_secrets_to_a_tenant_role() {
    let env = env("toksec", 1, Config::default()).await;
    let tenant = env.tenants[0].clone();
    let reader = env
        .role(
            "reader",
            vec![rule(&["get", "list"], &[""], &["secrets"])],
            &["*"],
        )
        .await;
    let sam = env.user("sam", &[&reader]).await;
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some("app-db".into()),
            ..Default::default()
        },
        data: Some([("password".to_owned(), ByteString(b"tenant-secret".to_vec()))].into()),
        ..Default::default()
    };
    env.admin
        .create_as(&tenant, &secret)
        .await
        .expect("a tenant Secret");
    let server = Rbac::new(
        Arc::clone(&env.admin),
        Config {
            namespace: env.home.clone(),
            ..Config::default()
        },
    );
    let key_secret = server.config().token_key_secret.clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let sink =
        kubemate_audit::FileSink::open(dir.path().join("audit.jsonl"), false).expect("audit");
    let app = router(AppState::new(
        Arc::clone(&env.admin),
        Arc::new(server),
        Arc::new(sink),
        Settings {
            policy_ttl: Duration::ZERO,
            ..Settings::default()
        },
    ));
    let (status, body) = call(
        &app,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(json!({"account": sam, "password": format!("{sam}-password")})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["token"].as_str().expect("token").to_owned();
    // The login created the key Secret: it exists, and is not served.
    let stored: Option<Secret> = env
        .admin
        .get_opt_as(&env.home, &key_secret)
        .await
        .expect("get");
    assert!(stored.is_some());
    let home = &env.home;
    let (status, body) = call(
        &app,
        "GET",
        &format!("/api/v1/namespaces/{home}/secrets/{key_secret}"),
        Some(&token),
        None,
    )
    .await;
    assert!(
        status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
        "{status} {body}"
    );
    assert!(body.get("data").is_none(), "{body}");
    let (status, body) = call(
        &app,
        "GET",
        &format!("/api/v1/namespaces/{home}/secrets"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.get("items").is_none(), "{body}");
    // The tenant's Secrets follow the role.
    let (status, body) = call(
        &app,
        "GET",
        &format!("/api/v1/namespaces/{tenant}/secrets/app-db"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["metadata"]["name"], "app-db");
    let (status, body) = call(
        &app,
        "GET",
        &format!("/api/v1/namespaces/{tenant}/secrets"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"][0]["metadata"]["name"], "app-db");
    env.cleanup().await;
}
