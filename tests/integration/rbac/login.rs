//! Login, lockout and revocation, stored on the real apiserver.

use super::*;

#[tokio::test]
async fn login_lockout_and_revocation_on_the_real_cluster() {
    let config = Config {
        max_failed_logins: 2,
        lockout: Duration::from_secs(300),
        ..Config::default()
    };
    let env = env("rbaclogin", 0, config).await;
    let alice = env.user("alice", &[]).await;
    let right = Password::new(format!("{alice}-password"));
    let login = env.rbac.login(&alice, &right).await.expect("login");
    let replica = Rbac::new(
        Arc::clone(&env.admin),
        Config {
            namespace: env.home.clone(),
            ..Config::default()
        },
    );
    assert_eq!(
        replica
            .authenticate(&login.token)
            .await
            .expect("a replica accepts it")
            .sub,
        alice
    );
    let user = env.rbac.user(&alice).await.expect("alice");
    assert!(
        user.status
            .as_ref()
            .and_then(|s| s.last_login.as_ref())
            .is_some()
    );

    let wrong = Password::new("wrong-password");
    for _ in 0..2 {
        assert_eq!(
            env.rbac
                .login(&alice, &wrong)
                .await
                .expect_err("wrong")
                .code(),
            "InvalidCredentials"
        );
    }
    // The second failure locked the address (here: no address) out of the account.
    assert_eq!(
        env.rbac
            .login(&alice, &right)
            .await
            .expect_err("locked")
            .code(),
        "LoginThrottled"
    );
    assert_eq!(
        env.rbac.user(&alice).await.expect("alice").failed_logins(),
        2,
        "counted on the account too"
    );

    let next = Password::new("a-new-password-2");
    env.rbac
        .set_password(&env.root, &alice, &next)
        .await
        .expect("reset");
    assert_eq!(
        replica
            .authenticate(&login.token)
            .await
            .expect_err("revoked")
            .to_string(),
        "invalid token: revoked"
    );
    let again = env
        .rbac
        .login(&alice, &next)
        .await
        .expect("unlocked by the reset");
    replica.authenticate(&again.token).await.expect("new token");
    env.cleanup().await;
}

/// A login through `app` from `from`, as a server with the connection's information sees it.
async fn login_from(app: &axum::Router, from: [u8; 4], account: &str, password: &str) -> String {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut req = axum::http::Request::builder()
        .method("POST")
        .uri("/api/v1/auth/login")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            json!({"account": account, "password": password}).to_string(),
        ))
        .expect("request");
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            from, 40000,
        ))));
    let response = app.clone().oneshot(req).await.expect("infallible");
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    body["code"].as_str().unwrap_or("Ok").to_owned()
}

#[tokio::test]
async fn concurrent_wrong_logins_are_counted_by_compare_and_swap_on_the_real_apiserver() {
    let config = Config {
        max_failed_logins_per_account: 5,
        // Eight logins of each replica reach the apiserver at once, and none is refused as
        // busy: every one races to count itself on the account.
        hash_concurrency: 8,
        hash_wait: Duration::from_secs(120),
        ..Config::default()
    };
    let env = env("rbaccas", 0, config.clone()).await;
    let alice = env.user("alice", &[]).await;
    let right = format!("{alice}-password");
    let dir = tempfile::tempdir().expect("tempdir");
    let replicas: Vec<(Arc<Rbac>, axum::Router)> = (0..2)
        .map(|i| {
            let rbac = Arc::new(Rbac::new(
                Arc::clone(&env.admin),
                Config {
                    namespace: env.home.clone(),
                    ..config.clone()
                },
            ));
            let sink = kubemate_audit::FileSink::open(dir.path().join(format!("{i}.jsonl")), false)
                .expect("audit log");
            let state = kubemate_server::AppState::new(
                Arc::clone(&env.admin),
                Arc::clone(&rbac),
                Arc::new(sink),
                kubemate_server::Settings::default(),
            );
            (rbac, kubemate_server::router(state))
        })
        .collect();
    let checked = || -> u64 { replicas.iter().map(|r| r.0.hasher().verifications()).sum() };

    // Twenty wrong guesses at once, from twenty addresses, through two replicas.
    let answers = futures::future::join_all((0..20u8).map(|i| {
        let app = &replicas[usize::from(i % 2)].1;
        let alice = &alice;
        async move { login_from(app, [10, 9, 0, i], alice, "a-wrong-guess").await }
    }))
    .await;
    assert!(
        answers.iter().all(|a| a == "InvalidCredentials"),
        "{answers:?}"
    );
    let user = env.rbac.user(&alice).await.expect("alice");
    assert_eq!(checked(), 5, "no more passwords checked than the limit");
    assert_eq!(
        user.failed_logins(),
        5,
        "every check counted: {:?}",
        user.status
    );
    assert!(user.locked_until().is_some(), "{:?}", user.status);

    // Locked: the right password, from a new address, answers as a wrong one, unchecked.
    assert_eq!(
        login_from(&replicas[0].1, [10, 9, 1, 1], &alice, &right).await,
        "InvalidCredentials"
    );
    assert_eq!(checked(), 5);
    let unlocked = env
        .rbac
        .unlock_user(&env.root, &alice)
        .await
        .expect("unlock");
    assert_eq!(
        (unlocked.failed_logins(), unlocked.locked_until()),
        (0, None)
    );
    assert_eq!(
        login_from(&replicas[1].1, [10, 9, 1, 1], &alice, &right).await,
        "Ok"
    );
    env.cleanup().await;
}
