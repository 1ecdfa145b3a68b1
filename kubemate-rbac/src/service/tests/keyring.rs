//! The token key ring in its Secret: rotation, the grace of retired keys, replicas that see a
//! rotation made elsewhere, concurrent rotations, and Secrets from before key rings.

use std::{
    future::Future,
    pin::Pin,
    sync::atomic::{AtomicBool, AtomicUsize},
};

use k8s_openapi::ByteString;
use kubemate_core::testing::{BeforeWrite, Write};

use super::*;
use crate::{
    Error, KeyRing, Token, TokenKey,
    service::keyring::{REFRESH, RELOAD_FOR_UNKNOWN_KID, ring_from_secret},
    token::LEGACY_KID,
};

const GRACE: u64 = 600;

fn pw(s: &str) -> Password {
    Password::new(s)
}

async fn with_alice(grace: u64) -> World {
    let w = world_with(|c| c.token_key_grace = Some(Duration::from_secs(grace))).await;
    w.user("alice", &[]).await;
    w
}

async fn alice_token(rbac: &Rbac) -> Token {
    rbac.login("alice", &pw("alice-password-1"))
        .await
        .expect("login")
        .token
}

async fn stored_ring(fake: &FakeCluster) -> KeyRing {
    let secret: Secret = fake
        .get_as("kubemate-system", "kubemate-token-key")
        .await
        .expect("the key Secret");
    ring_from_secret(&secret).expect("a ring")
}

fn reason(e: &Error) -> String {
    assert_eq!(e.code(), "InvalidToken", "{e}");
    e.to_string()
}

/// Reads of the key Secret the fake received so far.
fn key_reads(fake: &FakeCluster) -> usize {
    fake.actions()
        .iter()
        .filter(|a| a.verb == Verb::Get && a.resource == "secrets")
        .count()
}

#[tokio::test]
async fn an_old_token_is_accepted_during_the_grace_and_refused_after() {
    let w = with_alice(GRACE).await;
    let old = alice_token(&w.rbac).await;
    let first = old.kid().expect("a key id");
    let rotation = w.rbac.rotate_token_key().await.expect("rotate");
    assert_eq!(rotation.retired_kid, first);
    assert_ne!(rotation.kid, first);
    assert_eq!(rotation.grace, Duration::from_secs(GRACE));
    assert_eq!(
        rotation.accepted_until,
        Timestamp::from_second(START + 600).expect("time")
    );
    assert!(rotation.dropped.is_empty());
    // The Secret holds both keys; new tokens are signed with the new one.
    let ring = stored_ring(&w.fake).await;
    assert_eq!(ring.active_kid(), rotation.kid);
    assert!(ring.knows(&first));
    let new = alice_token(&w.rbac).await;
    assert_eq!(new.kid().as_deref(), Some(rotation.kid.as_str()));

    w.advance(599);
    w.rbac.authenticate(&old).await.expect("within the grace");
    let replica = Rbac::new(Arc::new(w.fake.clone()), config(&w.clock));
    replica.authenticate(&old).await.expect("by a replica too");
    w.advance(1);
    assert_eq!(
        reason(&w.rbac.authenticate(&old).await.expect_err("after")),
        "invalid token: signed with a retired key"
    );
    assert_eq!(
        reason(&replica.authenticate(&old).await.expect_err("after")),
        "invalid token: signed with a retired key"
    );
    w.rbac
        .authenticate(&new)
        .await
        .expect("the new key signs on");

    // The next rotation drops the key whose grace is over.
    let next = w.rbac.rotate_token_key().await.expect("rotate again");
    assert_eq!(next.dropped, [first.as_str()]);
    assert_eq!(next.retired_kid, rotation.kid);
    assert!(!stored_ring(&w.fake).await.knows(&first));
    assert_eq!(
        reason(&w.rbac.authenticate(&old).await.expect_err("dropped")),
        "invalid token: unknown key id"
    );
    w.rbac.authenticate(&new).await.expect("in its own grace");
}

#[tokio::test]
async fn the_grace_is_the_token_lifetime_unless_configured() {
    let w = world().await;
    assert_eq!(w.rbac.config().token_key_grace(), Duration::from_secs(3600));
    let rotation = w.rbac.rotate_token_key().await.expect("rotate");
    assert_eq!(rotation.grace, Duration::from_secs(3600));
}

#[tokio::test]
async fn a_token_naming_an_unknown_key_is_refused_and_rereads_at_most_once_a_second() {
    let w = with_alice(GRACE).await;
    let uid = w.rbac.user("alice").await.expect("alice").metadata.uid;
    let now = Timestamp::from_second(START).expect("time");
    let made_up = |kid: &str| {
        KeyRing::new(kid, TokenKey::generate())
            .expect("ring")
            .issue(
                "alice",
                uid.as_deref().expect("uid"),
                0,
                now,
                Duration::from_secs(60),
            )
            .expect("token")
            .0
    };
    w.rbac.token_keys().await.expect("read once");
    // The ring was just read: a made-up key id does not make it read again.
    let before = key_reads(&w.fake);
    assert_eq!(
        reason(
            &w.rbac
                .authenticate(&made_up("made-up-1"))
                .await
                .expect_err("unknown")
        ),
        "invalid token: unknown key id"
    );
    assert_eq!(key_reads(&w.fake), before);
    tokio::time::sleep(RELOAD_FOR_UNKNOWN_KID).await;
    // A second later it re-reads, once for a burst of them.
    for i in 0..20 {
        let e = w
            .rbac
            .authenticate(&made_up(&format!("made-up-{i}")))
            .await
            .expect_err("unknown");
        assert_eq!(reason(&e), "invalid token: unknown key id");
    }
    assert_eq!(key_reads(&w.fake), before + 1);
    // A token without a key id (from before key rings) is refused too.
    let legacy = stored_ring(&w.fake).await;
    let claims = crate::Claims {
        sub: "alice".into(),
        uid: uid.clone().unwrap_or_default(),
        generation: 0,
        iat: START,
        exp: START + 60,
        iss: crate::token::ISSUER.into(),
    };
    let key = jsonwebtoken::EncodingKey::from_secret(legacy.active_key().as_bytes()).expect("key");
    let no_kid = Token::new(
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &key,
        )
        .expect("encode"),
    );
    assert_eq!(
        reason(&w.rbac.authenticate(&no_kid).await.expect_err("no kid")),
        "invalid token: no key id"
    );
}

#[tokio::test]
async fn a_rotation_made_elsewhere_is_seen_by_a_running_server() {
    let w = with_alice(GRACE).await;
    let server = &w.rbac;
    let before = server.token_keys().await.expect("cached");
    // The CLI (or another replica) rotates and signs with the new key.
    let cli = Rbac::new(Arc::new(w.fake.clone()), config(&w.clock));
    let rotation = cli.rotate_token_key().await.expect("rotate");
    let token = alice_token(&cli).await;
    assert_eq!(token.kid().as_deref(), Some(rotation.kid.as_str()));
    // A token naming the new key makes the server re-read the ring (it was read over a
    // second ago), and it is accepted.
    tokio::time::sleep(RELOAD_FOR_UNKNOWN_KID).await;
    let keys = server.token_keys_for(&token).await.expect("keys");
    assert_eq!(keys.active_kid(), rotation.kid);
    let policy = server.policy().await.expect("policy");
    crate::verify_token(&keys, &policy, &token, (server.config().clock)()).expect("accepted");

    // Without such a token, the periodic re-read makes the server sign with the new key.
    let third = cli.rotate_token_key().await.expect("rotate again");
    tokio::time::pause();
    assert_eq!(
        server.token_keys().await.expect("cached").active_kid(),
        rotation.kid,
        "still the ring read before"
    );
    tokio::time::advance(REFRESH).await;
    assert_eq!(
        server.token_keys().await.expect("re-read").active_kid(),
        third.kid
    );
    assert_ne!(before.active_kid(), third.kid);
}

#[tokio::test]
async fn concurrent_rotations_keep_both_keys() {
    let w = with_alice(GRACE).await;
    let original = w
        .rbac
        .token_keys()
        .await
        .expect("ring")
        .active_kid()
        .to_owned();
    let other = Arc::new(Rbac::new(Arc::new(w.fake.clone()), config(&w.clock)));
    // Between this rotation's read of the Secret and its write, another one writes.
    let theirs: Arc<std::sync::Mutex<Option<Rotation>>> = Arc::default();
    let (hook_other, hook_theirs) = (Arc::clone(&other), Arc::clone(&theirs));
    let fired = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicUsize::new(0));
    let (hook_fired, hook_writes) = (Arc::clone(&fired), Arc::clone(&writes));
    let racing = BeforeWrite::new(
        Arc::new(w.fake.clone()),
        move |write: Write| -> Pin<Box<dyn Future<Output = ()> + Send>> {
            let (other, theirs) = (Arc::clone(&hook_other), Arc::clone(&hook_theirs));
            let first = write.verb == "replace"
                && write.resource.plural == "secrets"
                && !hook_fired.swap(true, Ordering::SeqCst);
            if write.resource.plural == "secrets" {
                hook_writes.fetch_add(1, Ordering::SeqCst);
            }
            Box::pin(async move {
                if first {
                    let rotation = other.rotate_token_key().await.expect("their rotation");
                    *theirs.lock().expect("lock") = Some(rotation);
                }
            })
        },
    );
    let mine = Rbac::new(Arc::new(racing), config(&w.clock));
    let rotation = mine.rotate_token_key().await.expect("my rotation");
    let theirs = theirs.lock().expect("lock").clone().expect("they rotated");
    assert_eq!(theirs.retired_kid, original);
    // Mine started again from theirs: it retired their key, not the original one again.
    assert_eq!(rotation.retired_kid, theirs.kid);
    assert_eq!(writes.load(Ordering::SeqCst), 2, "a conflict, then a write");
    let ring = stored_ring(&w.fake).await;
    assert_eq!(ring.active_kid(), rotation.kid);
    let retired: Vec<&str> = ring.retired().iter().map(|r| r.kid.as_str()).collect();
    assert_eq!(retired, [original.as_str(), theirs.kid.as_str()]);
    // A token signed with their key (briefly active) is accepted everywhere.
    let signed_by_theirs = {
        let ring = other.token_keys().await.expect("their ring");
        assert_eq!(ring.active_kid(), theirs.kid);
        let alice = w.rbac.user("alice").await.expect("alice");
        ring.issue(
            "alice",
            alice.metadata.uid.as_deref().expect("uid"),
            0,
            (w.rbac.config().clock)(),
            Duration::from_secs(60),
        )
        .expect("token")
        .0
    };
    mine.authenticate(&signed_by_theirs).await.expect("mine");
    // A fresh replica: `w.rbac` read the ring under a second ago and would not re-read it.
    let replica = Rbac::new(Arc::new(w.fake.clone()), config(&w.clock));
    replica
        .authenticate(&signed_by_theirs)
        .await
        .expect("a replica");
}

#[tokio::test]
async fn a_secret_from_before_key_rings_is_read_then_rewritten_as_a_ring() {
    let fake = cluster_with_crds().await;
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some("kubemate-system".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    fake.create_as("", &ns).await.expect("namespace");
    let legacy = TokenKey::generate();
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some("kubemate-token-key".into()),
            ..Default::default()
        },
        data: Some([("hs256".to_owned(), ByteString(legacy.as_bytes().to_vec()))].into()),
        ..Default::default()
    };
    fake.create_as("kubemate-system", &secret)
        .await
        .expect("secret");
    let clock = Arc::new(AtomicI64::new(START));
    let rbac = Rbac::new(
        Arc::new(fake.clone()),
        Config {
            token_key_grace: Some(Duration::from_secs(GRACE)),
            ..config(&clock)
        },
    );
    let boot = rbac.bootstrap().await.expect("bootstrap");
    let admin = boot.admin_password.expect("generated");
    let old = rbac.login("admin", &admin).await.expect("login").token;
    assert_eq!(old.kid().as_deref(), Some(LEGACY_KID));
    let rotation = rbac.rotate_token_key().await.expect("rotate");
    assert_eq!(rotation.retired_kid, LEGACY_KID);
    let stored: Secret = fake
        .get_as("kubemate-system", "kubemate-token-key")
        .await
        .expect("secret");
    let data = stored.data.clone().expect("data");
    assert!(!data.contains_key("hs256"), "rewritten as a ring");
    assert_eq!(data["key.legacy"].0, legacy.as_bytes());
    let ring = ring_from_secret(&stored).expect("ring");
    assert_eq!(ring.active_kid(), rotation.kid);
    let replica = Rbac::new(Arc::new(fake.clone()), config(&clock));
    replica
        .authenticate(&old)
        .await
        .expect("the legacy key, in its grace");
    clock.fetch_add(600, Ordering::SeqCst);
    assert_eq!(
        reason(&replica.authenticate(&old).await.expect_err("after")),
        "invalid token: signed with a retired key"
    );
}

#[tokio::test]
async fn key_material_never_shows_in_debug_output_or_errors() {
    let w = world().await;
    w.rbac.rotate_token_key().await.expect("rotate");
    let ring = w.rbac.token_keys().await.expect("ring");
    let keys: Vec<Vec<u8>> = std::iter::once(ring.active_key().as_bytes().to_vec())
        .chain(ring.retired().iter().map(|r| r.key().as_bytes().to_vec()))
        .collect();
    let mut shown = vec![
        format!("{ring:?}"),
        format!("{:?}", w.rbac),
        format!("{:?}", w.rbac.rotate_token_key().await.expect("rotate")),
    ];
    // A broken Secret: the error says what is wrong, not what is in it.
    let mut secret: Secret = w
        .fake
        .get_as("kubemate-system", "kubemate-token-key")
        .await
        .expect("secret");
    let mut data = secret.data.take().expect("data");
    let active = ring_from_secret(&Secret {
        data: Some(data.clone()),
        ..Default::default()
    })
    .expect("ring")
    .active_kid()
    .to_owned();
    data.remove(&format!("key.{active}"));
    secret.data = Some(data);
    let broken = ring_from_secret(&secret).expect_err("a key is missing");
    assert_eq!(broken.code(), "InternalError");
    shown.push(broken.to_string());
    shown.push(format!("{broken:?}"));
    for text in &shown {
        for key in &keys {
            let list = format!("{key:?}");
            let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
            let inner = &list[1..list.len() - 1];
            assert!(!text.contains(inner) && !text.contains(&hex), "{text}");
        }
    }
}
