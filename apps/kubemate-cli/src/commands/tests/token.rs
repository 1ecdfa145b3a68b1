//! `token rotate-key`.

use k8s_openapi::api::core::v1::{Namespace, Secret};
use kubemate_audit::{Outcome, Stage};
use kubemate_core::{ClusterClientExt, ErrorKind, ObjectMeta, fake::Verb};
use kubemate_rbac::{Config, KeyRing, Password, Rbac, service::keyring::ring_from_secret};

use crate::commands::testing::{NOW, OPERATOR, harness};

async fn key_ring(h: &crate::commands::testing::Harness) -> KeyRing {
    let secret: Secret = h
        .fake
        .get_as("kubemate-system", "kubemate-token-key")
        .await
        .expect("the key Secret");
    ring_from_secret(&secret).expect("a ring")
}

/// The harness cluster with Kubemate bootstrapped on it, as a server would have, and the
/// admin's generated password.
async fn bootstrapped() -> (crate::commands::testing::Harness, Password) {
    let h = harness().await;
    if h.fake
        .get_opt_as::<Namespace>("", "kubemate-system")
        .await
        .expect("get")
        .is_none()
    {
        h.fake
            .create_as(
                "",
                &Namespace {
                    metadata: ObjectMeta {
                        name: Some("kubemate-system".into()),
                        ..Default::default()
                    },
                    ..Default::default()
                },
            )
            .await
            .expect("namespace");
    }
    let rbac = Rbac::new(std::sync::Arc::new(h.fake.clone()), server_config(&h));
    let boot = rbac.bootstrap().await.expect("bootstrap");
    (h, boot.admin_password.expect("generated"))
}

/// The settings of a server on the harness's cluster and clock.
fn server_config(h: &crate::commands::testing::Harness) -> Config {
    Config {
        namespace: h.env.kubemate_namespace.clone(),
        clock: std::sync::Arc::clone(&h.env.now),
        ..Config::default()
    }
}

#[tokio::test]
async fn rotate_key_prints_the_new_key_id_and_the_grace_never_a_key() {
    let (h, admin) = bootstrapped().await;
    let before = key_ring(&h).await;
    let server = Rbac::new(std::sync::Arc::new(h.fake.clone()), server_config(&h));
    let old = server.login("admin", &admin).await.expect("login").token;

    let out = h
        .run(&["token", "rotate-key", "--grace", "600"], "")
        .await
        .ok();
    let after = key_ring(&h).await;
    assert_ne!(after.active_kid(), before.active_kid());
    assert_eq!(
        out,
        format!(
            "token signing key rotated: new key id {}\n\
             the previous key ({}) verifies the tokens it signed for 10m more, until \
             2026-12-01T12:10:00Z\n",
            after.active_kid(),
            before.active_kid()
        )
    );
    assert!(NOW.starts_with("2026-12-01T12:00:00"));
    for key in [before.active_key(), after.active_key()] {
        let hex: String = key.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
        let list = format!("{:?}", key.as_bytes());
        assert!(!out.contains(&hex) && !out.contains(&list[1..list.len() - 1]));
    }
    // The server accepts the old token within the grace and signs with the new key.
    let fresh = Rbac::new(std::sync::Arc::new(h.fake.clone()), server_config(&h));
    fresh.authenticate(&old).await.expect("within the grace");
    let new = fresh.login("admin", &admin).await.expect("login").token;
    assert_eq!(new.kid().as_deref(), Some(after.active_kid()));

    let records: Vec<_> = h
        .records()
        .await
        .into_iter()
        .map(|r| {
            (
                r.user,
                r.verb,
                r.kind,
                r.namespace,
                r.name,
                r.stage,
                r.outcome,
            )
        })
        .collect();
    let record = |stage, outcome| {
        (
            OPERATOR.to_owned(),
            "rotate".to_owned(),
            "secrets".to_owned(),
            Some("kubemate-system".to_owned()),
            Some("kubemate-token-key".to_owned()),
            stage,
            outcome,
        )
    };
    assert_eq!(
        records,
        [
            record(Stage::Request, Outcome::Pending),
            record(Stage::Response, Outcome::Success)
        ]
    );

    // The default grace is the default token lifetime; keys past their grace are removed.
    let out = h.run(&["token", "rotate-key"], "").await.ok();
    assert!(
        out.contains("for 8h more, until 2026-12-01T20:00:00Z"),
        "{out}"
    );
    assert!(!out.contains("removed"), "{out}");
}

#[tokio::test]
async fn rotate_key_reports_the_keys_it_removed() {
    let (h, _) = bootstrapped().await;
    let first = key_ring(&h).await.active_kid().to_owned();
    h.run(&["token", "rotate-key", "--grace", "0"], "")
        .await
        .ok();
    let out = h
        .run(&["token", "rotate-key", "--grace", "0"], "")
        .await
        .ok();
    assert!(
        out.ends_with(&format!("removed the keys past their grace: {first}\n")),
        "{out}"
    );
}

#[tokio::test]
async fn a_failed_rotation_is_an_error_and_changes_nothing() {
    let (h, _) = bootstrapped().await;
    let before = key_ring(&h).await.active_kid().to_owned();
    h.fake.fail(
        Some(Verb::Replace),
        Some("secrets"),
        ErrorKind::Forbidden,
        1,
    );
    let err = h.run(&["token", "rotate-key"], "").await.err();
    assert_eq!(err.code(), "Forbidden");
    assert!(err.message().starts_with("rotate the token key: "), "{err}");
    assert_eq!(key_ring(&h).await.active_kid(), before);
    let last = h.records().await.pop().expect("a record");
    assert_eq!(
        (last.stage, last.outcome),
        (Stage::Response, Outcome::Failure)
    );
    assert_eq!(last.error_code.as_deref(), Some("Forbidden"));
}
