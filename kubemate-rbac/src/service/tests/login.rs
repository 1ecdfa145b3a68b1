//! Login, lockout, token revocation, and what error messages never say.

use super::*;
use crate::{KeyRing, Token};

fn pw(s: &str) -> Password {
    Password::new(s)
}

#[tokio::test]
async fn login_issues_a_token_that_every_replica_accepts() {
    let w = world().await;
    w.user("alice", &[]).await;
    let login = w
        .rbac
        .login("alice", &pw("alice-password-1"))
        .await
        .expect("login");
    assert_eq!(login.user, "alice");
    assert_eq!(login.expires_at.as_second(), START + 3600);
    let replica = Rbac::new(Arc::new(w.fake.clone()), config(&w.clock));
    let claims = replica
        .authenticate(&login.token)
        .await
        .expect("accepted by a replica");
    assert_eq!(claims.sub, "alice");
    let status = w
        .rbac
        .user("alice")
        .await
        .expect("alice")
        .status
        .expect("status");
    assert_eq!(status.last_login.as_deref(), Some("2023-11-14T22:13:20Z"));
    assert_eq!(status.failed_logins, 0);
    // The pure check a server holding a Policy makes.
    let policy = w.rbac.policy().await.expect("policy");
    let keys = replica.token_keys().await.expect("keys");
    let now = Timestamp::from_second(START + 10).expect("time");
    crate::verify_token(&keys, &policy, &login.token, now).expect("valid");
    w.advance(3600);
    let err = replica
        .authenticate(&login.token)
        .await
        .expect_err("expired");
    assert_eq!(err.to_string(), "invalid token: expired");
    let admin_uid = w.rbac.user("admin").await.expect("admin").metadata.uid;
    let forged = KeyRing::generate()
        .issue(
            "admin",
            admin_uid.as_deref().expect("uid"),
            0,
            now,
            Duration::from_secs(60),
        )
        .expect("forged")
        .0;
    assert_eq!(
        replica
            .authenticate(&forged)
            .await
            .expect_err("forged")
            .code(),
        "InvalidToken"
    );
}

#[tokio::test]
async fn unknown_accounts_and_wrong_passwords_get_the_same_answer() {
    let w = world().await;
    w.user("alice", &[]).await;
    let unknown = w
        .rbac
        .login("nobody", &pw("whatever-123"))
        .await
        .expect_err("unknown");
    let wrong = w
        .rbac
        .login("alice", &pw("whatever-123"))
        .await
        .expect_err("wrong");
    let invalid_name = w
        .rbac
        .login("Not Valid", &pw("whatever-123"))
        .await
        .expect_err("bad name");
    assert_eq!(unknown.to_string(), wrong.to_string());
    assert_eq!(unknown.code(), "InvalidCredentials");
    assert_eq!(invalid_name.code(), "InvalidCredentials");
}

#[tokio::test]
async fn an_admin_reset_unlocks_and_revokes() {
    let w = world().await;
    w.user("alice", &[]).await;
    let old = w
        .rbac
        .login("alice", &pw("alice-password-1"))
        .await
        .expect("login")
        .token;
    for _ in 0..3 {
        let _ = w.rbac.login("alice", &pw("wrong-password")).await;
    }
    w.rbac
        .set_password("admin", "alice", &pw("brand-new-password"))
        .await
        .expect("reset");
    assert_eq!(
        w.rbac
            .authenticate(&old)
            .await
            .expect_err("revoked")
            .to_string(),
        "invalid token: revoked"
    );
    w.rbac
        .login("alice", &pw("brand-new-password"))
        .await
        .expect("unlocked, new password");
    assert_eq!(
        w.rbac
            .login("alice", &pw("alice-password-1"))
            .await
            .expect_err("old")
            .code(),
        "InvalidCredentials"
    );
}

#[tokio::test]
async fn changing_ones_password_or_being_disabled_revokes_tokens() {
    let w = world().await;
    w.user("alice", &[]).await;
    let t1 = w
        .rbac
        .login("alice", &pw("alice-password-1"))
        .await
        .expect("login")
        .token;
    let err = w
        .rbac
        .change_password("alice", &pw("not-the-password"), &pw("next-password-2"))
        .await
        .expect_err("must prove the current one");
    assert_eq!(err.code(), "InvalidCredentials");
    w.rbac.authenticate(&t1).await.expect("still valid");
    w.rbac
        .change_password("alice", &pw("alice-password-1"), &pw("next-password-2"))
        .await
        .expect("change");
    assert_eq!(
        w.rbac.authenticate(&t1).await.expect_err("revoked").code(),
        "InvalidToken"
    );
    let t2 = w
        .rbac
        .login("alice", &pw("next-password-2"))
        .await
        .expect("login")
        .token;
    w.rbac
        .set_disabled("admin", "alice", true)
        .await
        .expect("disable");
    assert_eq!(
        w.rbac.authenticate(&t2).await.expect_err("disabled").code(),
        "InvalidToken"
    );
    let e = w
        .rbac
        .login("alice", &pw("next-password-2"))
        .await
        .expect_err("disabled");
    assert_eq!(e.code(), "AccountDisabled");
    w.rbac
        .set_disabled("admin", "alice", false)
        .await
        .expect("enable");
    assert_eq!(
        w.rbac
            .authenticate(&t2)
            .await
            .expect_err("still revoked")
            .code(),
        "InvalidToken"
    );
    w.rbac
        .login("alice", &pw("next-password-2"))
        .await
        .expect("enabled again");
}

#[tokio::test]
async fn errors_and_debug_output_never_contain_passwords_or_tokens() {
    let w = world().await;
    let secret = "hunter2-very-secret";
    let weak = "tiny";
    let mut shown = Vec::new();
    for attempt in [secret, secret, secret, secret] {
        shown.push(
            w.rbac
                .login("admin", &pw(attempt))
                .await
                .expect_err("wrong")
                .to_string(),
        );
    }
    shown.push(
        w.rbac
            .set_password("admin", "admin", &pw(weak))
            .await
            .expect_err("weak")
            .to_string(),
    );
    let created = w
        .rbac
        .create_user(
            "admin",
            NewUser {
                name: "Bad Name".into(),
                display_name: String::new(),
                email: String::new(),
                password: pw(secret),
                roles: vec![],
            },
        )
        .await
        .expect_err("bad name");
    shown.push(created.to_string());
    let new = NewUser {
        name: "x".into(),
        display_name: String::new(),
        email: String::new(),
        password: pw(secret),
        roles: vec![],
    };
    shown.push(format!("{new:?}"));
    w.advance(120);
    let login = w
        .rbac
        .login("admin", &w.admin_password)
        .await
        .expect("login");
    shown.push(format!("{login:?}"));
    let bad = Token::new(format!("{}x", login.token.expose()));
    shown.push(
        w.rbac
            .authenticate(&bad)
            .await
            .expect_err("tampered")
            .to_string(),
    );
    shown.push(format!("{:?}", w.rbac.user("admin").await.expect("admin")));
    for text in &shown {
        assert!(!text.contains(secret), "{text}");
        assert!(!text.contains(weak) || text.contains("too short"), "{text}");
        assert!(!text.contains(login.token.expose()), "{text}");
        assert!(!text.contains(w.admin_password.expose()), "{text}");
        assert!(!text.contains("$argon2"), "{text}");
    }
}

#[tokio::test]
async fn a_token_dies_with_its_account_even_if_one_of_the_same_name_is_created() {
    let w = world().await;
    w.user("alice", &[]).await;
    let old = w
        .rbac
        .login("alice", &pw("alice-password-1"))
        .await
        .expect("login")
        .token;
    let first_uid = w.rbac.user("alice").await.expect("alice").metadata.uid;
    assert!(first_uid.is_some(), "the cluster gives every object a uid");
    w.rbac.delete_user("admin", "alice").await.expect("delete");
    assert_eq!(
        w.rbac
            .authenticate(&old)
            .await
            .expect_err("deleted")
            .to_string(),
        "invalid token: the user does not exist or is disabled"
    );
    // Same name, same password, same token generation: another account.
    w.user("alice", &[]).await;
    let second = w.rbac.user("alice").await.expect("alice");
    assert_ne!(second.metadata.uid, first_uid);
    assert_eq!(second.spec.token_generation, 0);
    let refused = w.rbac.authenticate(&old).await.expect_err("re-created");
    assert_eq!(refused.code(), "InvalidToken");
    assert_eq!(
        refused.to_string(),
        "invalid token: issued to another account of that name"
    );
    // The pure check a server holding a Policy makes says the same.
    let keys = w.rbac.token_keys().await.expect("keys");
    let policy = w.rbac.policy().await.expect("policy");
    let now = (w.rbac.config().clock)();
    assert_eq!(
        crate::verify_token(&keys, &policy, &old, now)
            .expect_err("re-created")
            .code(),
        "InvalidToken"
    );
    let new = w
        .rbac
        .login("alice", &pw("alice-password-1"))
        .await
        .expect("login")
        .token;
    let claims = crate::verify_token(&keys, &policy, &new, now).expect("the new account's");
    assert_eq!(Some(claims.uid), second.metadata.uid);
}
