//! The bounded pool password hashing runs on: argon2 is deliberately slow and memory-hungry,
//! so it never runs on the async workers, and only a few hashes run at once.
//!
//! A caller first takes a [`HashPermit`] (waiting a short, bounded time when every permit is
//! in use, then giving up with [`Error::Busy`]), then runs hashes and verifications with it on
//! tokio's blocking threads. The permit travels into the blocking task: a caller that is
//! cancelled (a client that hangs up) does not free its permit before the work it started is
//! done, so the bound holds on the CPU and the memory argon2 uses, not only on the callers.

use std::{
    sync::{
        Arc, LazyLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use argon2::Params;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{Password, hash, verify};
use crate::{Error, Result, resources::PasswordHash};

/// How long a refused caller is told to wait before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// An argon2id hash with the parameters of [`hash`] that no password matches, to spend the time
/// of a verification when there is no account to verify against (an unknown or locked account),
/// so that the answer time does not tell which accounts exist. Built from the same default
/// parameters, it cannot drift from them; no hashing at start-up is needed.
static NO_ACCOUNT: LazyLock<PasswordHash> = LazyLock::new(|| {
    // Any salt and output of the right lengths (16 and 32 bytes, in PHC's base64).
    let salt = "a3ViZW1hdGUtbm8tdXNlcg";
    let output = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    PasswordHash(format!(
        "$argon2id$v=19$m={},t={},p={}${salt}${output}",
        Params::DEFAULT_M_COST,
        Params::DEFAULT_T_COST,
        Params::DEFAULT_P_COST,
    ))
});

/// At most `size` password hashes at a time, on tokio's blocking threads. Cheap to clone: the
/// clones share the permits.
#[derive(Debug, Clone)]
pub struct HashPool {
    permits: Arc<Semaphore>,
    wait: Duration,
    checks: Arc<AtomicU64>,
}

impl HashPool {
    /// A pool running at most `size` hashes at once (at least one); a caller waits at most `wait`
    /// for a permit.
    pub fn new(size: usize, wait: Duration) -> Self {
        HashPool {
            permits: Arc::new(Semaphore::new(size.max(1))),
            wait,
            checks: Arc::default(),
        }
    }

    /// One hash per core of the machine.
    pub fn default_size() -> usize {
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    }

    /// A permit to hash, or [`Error::Busy`] when none frees up within the pool's wait.
    pub async fn permit(&self) -> Result<HashPermit> {
        match tokio::time::timeout(self.wait, Arc::clone(&self.permits).acquire_owned()).await {
            Ok(Ok(permit)) => Ok(HashPermit {
                permit: Arc::new(permit),
                checks: Arc::clone(&self.checks),
            }),
            // Timed out, or the semaphore was closed (it never is).
            Ok(Err(_)) | Err(_) => Err(Error::Busy {
                retry_after: RETRY_AFTER,
            }),
        }
    }

    /// Hashes a password (taking a permit for it).
    pub async fn hash(&self, password: &Password) -> Result<PasswordHash> {
        self.permit().await?.hash(password).await
    }

    /// Verifies a password (taking a permit for it).
    pub async fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool> {
        self.permit().await?.verify(password, hash).await
    }

    /// How many passwords were verified against an account's hash since the pool was made
    /// (the stand-in verifications of [`HashPermit::verify_nothing`] excluded).
    pub fn verifications(&self) -> u64 {
        self.checks.load(Ordering::Relaxed)
    }
}

/// The right to run password hashes, until dropped and every hash started with it is done.
#[derive(Debug)]
pub struct HashPermit {
    permit: Arc<OwnedSemaphorePermit>,
    checks: Arc<AtomicU64>,
}

impl HashPermit {
    async fn run<T: Send + 'static>(
        &self,
        what: &'static str,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let permit = Arc::clone(&self.permit);
        tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(|e| Error::Crypto {
            what,
            source: Some(Box::new(e)),
        })
    }

    /// Hashes a password with argon2id.
    pub async fn hash(&self, password: &Password) -> Result<PasswordHash> {
        let password = password.clone();
        self.run("password hashing", move || hash(&password))
            .await?
    }

    /// True when `password` matches `hash`.
    pub async fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool> {
        let (password, hash) = (password.clone(), hash.clone());
        self.checks.fetch_add(1, Ordering::Relaxed);
        self.run("password verification", move || verify(&password, &hash))
            .await
    }

    /// Spends the time of a verification without an account to verify against.
    pub async fn verify_nothing(&self, password: &Password) -> Result<()> {
        let password = password.clone();
        self.run("password verification", move || {
            let _ = verify(&password, &NO_ACCOUNT);
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[test]
    fn the_stand_in_hash_has_the_real_parameters_and_matches_nothing() {
        let real = hash(&Password::new("some-password-1")).expect("hash");
        let params = |h: &str| h.rsplitn(3, '$').nth(2).map(str::to_owned);
        assert_eq!(params(&NO_ACCOUNT.0), params(&real.0));
        assert!(argon2::password_hash::phc::PasswordHash::new(&NO_ACCOUNT.0).is_ok());
        assert!(!verify(&Password::new(""), &NO_ACCOUNT));
        // It costs what a real verification costs (the quickest of a few runs, taken in turns
        // so that the load of a shared machine falls on both alike).
        let (mut stand_in, mut real_time) = (Duration::MAX, Duration::MAX);
        for _ in 0..3 {
            for (h, fastest) in [(&*NO_ACCOUNT, &mut stand_in), (&real, &mut real_time)] {
                let started = Instant::now();
                let _ = verify(&Password::new("some-password-2"), h);
                *fastest = (*fastest).min(started.elapsed());
            }
        }
        assert!(
            stand_in * 3 > real_time && real_time * 3 > stand_in,
            "{stand_in:?} vs {real_time:?}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_saturated_pool_refuses_quickly_and_frees_its_permits() {
        let pool = HashPool::new(1, Duration::from_millis(50));
        let held = pool.permit().await.expect("the one permit");
        let started = Instant::now();
        let refused = pool.permit().await.expect_err("none left");
        assert_eq!(refused.code(), "Busy");
        assert!(started.elapsed() < Duration::from_secs(1));
        drop(held);
        let again = pool.permit().await.expect("freed");
        assert!(
            again
                .verify(&Password::new("x"), &NO_ACCOUNT)
                .await
                .is_ok_and(|ok| !ok)
        );
        assert_eq!(pool.verifications(), 1);
    }
}
