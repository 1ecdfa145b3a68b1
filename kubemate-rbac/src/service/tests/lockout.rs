//! Lockout: failures counted per address and per account, before the password is checked,
//! so that guessing is slow for the guesser and for nobody else.

use std::{
    net::IpAddr,
    time::{Duration, Instant},
};

use serde_json::json;

use super::*;
use crate::{Error, User};

const RIGHT: &str = "alice-password-1";
const WRONG: &str = "wrong-password";

fn pw(s: &str) -> Password {
    Password::new(s)
}

fn addr(i: u8) -> Option<IpAddr> {
    Some(IpAddr::from([10, 0, 0, i]))
}

fn code<T>(result: crate::Result<T>) -> &'static str {
    result.err().map_or("Ok", |e| e.code().as_str())
}

/// How long the login was throttled for, if it was.
fn throttled<T>(result: crate::Result<T>) -> Option<Duration> {
    match result {
        Err(e @ Error::LoginThrottled { .. }) => e.retry_after(),
        _ => None,
    }
}

fn secs(s: u64) -> Option<Duration> {
    Some(Duration::from_secs(s))
}

/// Every hash permit a burst may want is granted: none of its logins is refused as busy, so
/// the counts are the lockout's alone.
fn patient(config: &mut Config) {
    config.hash_wait = Duration::from_secs(60);
}

#[tokio::test]
async fn failures_from_one_address_lock_that_address_out_of_the_account_only() {
    let w = world().await;
    w.user("alice", &[]).await;
    for _ in 0..3 {
        let e = w.rbac.login_from(addr(1), "alice", &pw(WRONG)).await;
        assert_eq!(code(e), "InvalidCredentials");
    }
    let checks = w.rbac.hasher().verifications();
    let e = w
        .rbac
        .login_from(addr(1), "alice", &pw(RIGHT))
        .await
        .expect_err("throttled");
    assert_eq!(
        (e.code().as_str(), e.retry_after()),
        ("LoginThrottled", secs(60))
    );
    assert_eq!(w.rbac.hasher().verifications(), checks, "not even checked");
    // An account name that does not exist is throttled alike: nothing is told about accounts.
    for _ in 0..3 {
        let _ = w.rbac.login_from(addr(1), "nobody", &pw(WRONG)).await;
    }
    let nobody = w
        .rbac
        .login_from(addr(1), "nobody", &pw(RIGHT))
        .await
        .expect_err("throttled");
    assert_eq!(
        (nobody.code(), nobody.to_string()),
        (e.code(), e.to_string())
    );

    // The owner, from elsewhere, logs in; the account had counted the failures.
    let alice = w.rbac.user("alice").await.expect("alice");
    assert_eq!((alice.failed_logins(), alice.locked_until()), (3, None));
    w.rbac
        .login_from(addr(2), "alice", &pw(RIGHT))
        .await
        .expect("from another address");
    assert_eq!(
        w.rbac.user("alice").await.expect("alice").failed_logins(),
        0
    );

    // The lock ends; locking again takes twice as long, until a success.
    w.advance(59);
    assert_eq!(
        code(w.rbac.login_from(addr(1), "alice", &pw(RIGHT)).await),
        "LoginThrottled"
    );
    w.advance(1);
    for _ in 0..3 {
        let e = w.rbac.login_from(addr(1), "alice", &pw(WRONG)).await;
        assert_eq!(code(e), "InvalidCredentials");
    }
    let e = w.rbac.login_from(addr(1), "alice", &pw(RIGHT)).await;
    assert_eq!(throttled(e), secs(120));
    w.advance(120);
    w.rbac
        .login_from(addr(1), "alice", &pw(RIGHT))
        .await
        .expect("lock over");
    for _ in 0..3 {
        let _ = w.rbac.login_from(addr(1), "alice", &pw(WRONG)).await;
    }
    let e = w.rbac.login_from(addr(1), "alice", &pw(RIGHT)).await;
    assert_eq!(throttled(e), secs(60), "the success reset the back-off");
}

#[tokio::test]
async fn an_address_spraying_accounts_is_locked_out_of_every_account() {
    let w = world_with(|c| c.max_failed_logins_per_source = 6).await;
    w.user("alice", &[]).await;
    w.user("mallory", &[]).await;
    let mallory = pw("mallory-password-1");
    for i in 0..5 {
        let e = w
            .rbac
            .login_from(addr(1), &format!("guess-{i}"), &pw(WRONG))
            .await;
        assert_eq!(code(e), "InvalidCredentials");
    }
    // Logging in to an account of one's own between guesses does not clear the count.
    for _ in 0..2 {
        w.rbac
            .login_from(addr(1), "mallory", &mallory)
            .await
            .expect("own account");
    }
    assert_eq!(
        code(w.rbac.login_from(addr(1), "alice", &pw(WRONG)).await),
        "InvalidCredentials"
    );
    for (account, password) in [("alice", &pw(RIGHT)), ("mallory", &mallory)] {
        assert_eq!(
            code(w.rbac.login_from(addr(1), account, password).await),
            "LoginThrottled",
            "{account}"
        );
    }
    w.rbac
        .login_from(addr(2), "alice", &pw(RIGHT))
        .await
        .expect("another address");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_guesses_checks_no_more_passwords_than_the_limit_and_locks() {
    let w = world_with(|c| {
        c.max_failed_logins = 5;
        patient(c);
    })
    .await;
    w.user("alice", &[]).await;
    let before = w.rbac.hasher().verifications();
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let rbac = Arc::clone(&w.rbac);
        burst.spawn(async move { code(rbac.login_from(addr(1), "alice", &pw(WRONG)).await) });
    }
    let answers = burst.join_all().await;
    let checked = w.rbac.hasher().verifications() - before;
    assert_eq!(checked, 5, "{answers:?}");
    let count = |c: &str| answers.iter().filter(|a| **a == c).count();
    assert_eq!(
        (count("InvalidCredentials"), count("LoginThrottled")),
        (5, 15)
    );
    assert_eq!(
        w.rbac.user("alice").await.expect("alice").failed_logins(),
        5
    );
    assert_eq!(
        code(w.rbac.login_from(addr(1), "alice", &pw(RIGHT)).await),
        "LoginThrottled",
        "the address ends locked"
    );
    assert_eq!(w.rbac.hasher().verifications() - before, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_password_inside_a_burst_does_not_lift_the_lock() {
    let w = world_with(|c| {
        c.max_failed_logins = 5;
        patient(c);
    })
    .await;
    w.user("alice", &[]).await;
    let before = w.rbac.hasher().verifications();
    // All twenty in flight at once; polled in order, so they are counted in this order: the
    // right password first, and the fifth attempt (a wrong one) locks while it is checked.
    let passwords: Vec<Password> = std::iter::once(RIGHT)
        .chain(std::iter::repeat_n(WRONG, 19))
        .map(pw)
        .collect();
    let answers: Vec<&str> = futures::future::join_all(
        passwords
            .iter()
            .map(|p| async { code(w.rbac.login_from(addr(1), "alice", p).await) }),
    )
    .await;
    assert_eq!(answers[0], "InvalidCredentials", "{answers:?}");
    assert!(answers[1..5].iter().all(|a| *a == "InvalidCredentials"));
    assert!(answers[5..].iter().all(|a| *a == "LoginThrottled"));
    assert_eq!(w.rbac.hasher().verifications() - before, 5);
    // Neither the address's lock nor the account's count was lifted by the success.
    assert_eq!(
        code(w.rbac.login_from(addr(1), "alice", &pw(RIGHT)).await),
        "LoginThrottled"
    );
    let alice = w.rbac.user("alice").await.expect("alice");
    assert_eq!(alice.failed_logins(), 5);
    assert!(alice.status.and_then(|s| s.last_login).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_password_inside_a_burst_from_many_addresses_does_not_lift_the_accounts_lock() {
    let w = world_with(|c| {
        c.max_failed_logins_per_account = 5;
        // A permit for each: all twenty are counted on the account in the order polled.
        c.hash_concurrency = 32;
        patient(c);
    })
    .await;
    w.user("alice", &[]).await;
    let before = w.rbac.hasher().verifications();
    let passwords: Vec<Password> = std::iter::once(RIGHT)
        .chain(std::iter::repeat_n(WRONG, 19))
        .map(pw)
        .collect();
    let rbac = &w.rbac;
    let answers: Vec<&str> = futures::future::join_all(
        passwords
            .iter()
            .zip(1u8..)
            .map(|(p, i)| async move { code(rbac.login_from(addr(i), "alice", p).await) }),
    )
    .await;
    assert!(
        answers.iter().all(|a| *a == "InvalidCredentials"),
        "{answers:?}"
    );
    assert_eq!(w.rbac.hasher().verifications() - before, 5);
    let alice = w.rbac.user("alice").await.expect("alice");
    assert_eq!(alice.failed_logins(), 5);
    assert!(alice.locked_until().is_some());
    assert!(alice.status.and_then(|s| s.last_login).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guesses_from_many_addresses_and_replicas_lock_the_account_until_an_admin_unlocks() {
    let tune = |c: &mut Config| {
        c.max_failed_logins_per_account = 5;
        patient(c);
    };
    let w = world_with(tune).await;
    w.user("alice", &[]).await;
    w.user("bob", &[]).await;
    let replicas = [Arc::clone(&w.rbac), w.replica(tune)];
    let before: u64 = replicas.iter().map(|r| r.hasher().verifications()).sum();
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..20u8 {
        let rbac = Arc::clone(&replicas[usize::from(i % 2)]);
        burst.spawn(async move { code(rbac.login_from(addr(i), "alice", &pw(WRONG)).await) });
    }
    let answers = burst.join_all().await;
    assert!(
        answers.iter().all(|a| *a == "InvalidCredentials"),
        "{answers:?}"
    );
    let checked = || -> u64 {
        replicas
            .iter()
            .map(|r| r.hasher().verifications())
            .sum::<u64>()
            - before
    };
    assert_eq!(
        checked(),
        5,
        "compare-and-swap: no more than the limit checked"
    );
    let alice = w.rbac.user("alice").await.expect("alice");
    assert_eq!(alice.failed_logins(), 5);
    assert_eq!(
        alice.locked_until(),
        Some(Timestamp::from_second(START + 60).expect("time"))
    );
    // Locked: the right password, from a new address, answers as a wrong one, unchecked.
    let e = w
        .rbac
        .login_from(addr(100), "alice", &pw(RIGHT))
        .await
        .expect_err("locked");
    assert!(matches!(e, Error::InvalidCredentials), "{e:?}");
    assert_eq!(checked(), 5);

    assert_eq!(code(w.rbac.unlock_user("bob", "alice").await), "Forbidden");
    let unlocked = w
        .rbac
        .unlock_user("admin", "alice")
        .await
        .expect("an admin unlocks");
    assert_eq!(
        (unlocked.failed_logins(), unlocked.locked_until()),
        (0, None)
    );
    w.rbac
        .login_from(addr(100), "alice", &pw(RIGHT))
        .await
        .expect("unlocked");
}

#[tokio::test]
async fn unknown_known_disabled_and_locked_accounts_answer_a_wrong_password_alike() {
    let w = world().await;
    for name in ["alice", "carol", "dave"] {
        w.user(name, &[]).await;
    }
    w.rbac
        .set_disabled("admin", "carol", true)
        .await
        .expect("disable");
    w.fake
        .merge_patch_status(
            &kubemate_core::ResourceType::of::<User>(),
            "",
            "dave",
            &json!({"status": {"lockedUntil": "2099-01-01T00:00:00Z"}}),
        )
        .await
        .expect("lock dave");
    // Rounds over the accounts, so that the load of a shared machine falls on all alike; the
    // quickest of each is its own cost.
    let accounts = ["nobody", "alice", "carol", "dave", "Not A Name"];
    let mut times = [Duration::MAX; 5];
    let mut answers = Vec::new();
    let mut next = 0u8;
    for _ in 0..5 {
        for (i, account) in accounts.iter().enumerate() {
            next += 1;
            let started = Instant::now();
            let e = w
                .rbac
                .login_from(addr(next), account, &pw(WRONG))
                .await
                .expect_err("wrong");
            times[i] = times[i].min(started.elapsed());
            answers.push((e.code(), e.to_string()));
        }
    }
    let times: Vec<_> = accounts.iter().zip(times).collect();
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert_eq!(answers[0].0, "InvalidCredentials");
    let slowest = times.iter().map(|t| t.1).max().expect("times");
    let quickest = times.iter().map(|t| t.1).min().expect("times");
    assert!(slowest < quickest * 3, "{times:?}");
}
