//! The token signing keys in their Secret: a key ring created on first use, read by every
//! replica, rotated with a compare-and-swap; and issuing and checking tokens with it.
//!
//! The Secret holds a `ring` entry (JSON: the active key id and the retired ones with their
//! times, no key) and one `key.<kid>` entry per key. A Secret from before key rings holds one
//! key under `hs256`: it is read as the key [`LEGACY_KID`], and the first rotation rewrites the
//! Secret as a ring.
//!
//! Each server caches the ring, re-reads it every [`REFRESH`] (so that a rotation made by the
//! CLI or another replica applies here: new tokens are signed with its key) and as soon as a
//! token names a key id it does not hold, at most once every [`RELOAD_FOR_UNKNOWN_KID`] (so
//! that made-up key ids cannot make every request read the Secret).

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use jiff::Timestamp;
use k8s_openapi::{ByteString, api::core::v1::Secret};
use kubemate_core::{ClusterClientExt, ErrorKind, ObjectMeta};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::Rbac;
use crate::{
    Error, Result,
    authorizer::Policy,
    derive::{MANAGED_BY, MANAGED_BY_VALUE},
    resources::User,
    token::{Claims, KeyRing, LEGACY_KID, Token, TokenKey, validate_kid},
};

/// The entry of a Secret from before key rings: its one key.
pub const TOKEN_KEY_FIELD: &str = "hs256";
/// The entry of the ring's description (JSON, no key material).
pub const RING_FIELD: &str = "ring";
/// Each key's entry is this prefix and its key id.
pub const KEY_FIELD_PREFIX: &str = "key.";
/// How long a server uses the ring it read before reading it again.
pub const REFRESH: Duration = Duration::from_secs(30);
/// A token naming a key id the cached ring does not hold re-reads the ring, unless it was
/// read less than this long ago.
pub const RELOAD_FOR_UNKNOWN_KID: Duration = Duration::from_secs(1);

const ROTATION_RETRIES: usize = 8;

/// What a rotation did (key ids and times; never a key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The id of the new active key, which signs new tokens.
    pub kid: String,
    /// The id of the key it replaced, now retired.
    pub retired_kid: String,
    /// The grace period of the retired key.
    pub grace: Duration,
    /// Tokens signed by the retired key are refused from then on.
    pub accepted_until: Timestamp,
    /// Keys retired earlier whose grace was over, removed from the ring.
    pub dropped: Vec<String>,
}

/// The ring as the `ring` entry describes it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredRing {
    active: String,
    #[serde(default)]
    retired: Vec<StoredRetired>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredRetired {
    kid: String,
    retired_at: String,
    accepted_until: String,
}

/// An unreadable key Secret: a server-side fault, described without its content.
fn malformed(why: impl Into<String>) -> Error {
    Error::Crypto {
        what: "reading the token key Secret",
        source: Some(why.into().into()),
    }
}

/// The key ring stored in a Secret (see the [module](self) documentation for the format).
pub fn ring_from_secret(secret: &Secret) -> Result<KeyRing> {
    let data = secret.data.as_ref();
    let entry = |name: &str| data.and_then(|d| d.get(name)).map(|b| b.0.as_slice());
    let Some(described) = entry(RING_FIELD) else {
        let bytes = entry(TOKEN_KEY_FIELD).unwrap_or_default();
        return KeyRing::new(LEGACY_KID, TokenKey::from_bytes(bytes)?);
    };
    let stored: StoredRing = serde_json::from_slice(described)
        .map_err(|e| malformed(format!("its \"{RING_FIELD}\" entry is not valid: {e}")))?;
    let key = |kid: &str| -> Result<TokenKey> {
        validate_kid(kid)?;
        let bytes = entry(&format!("{KEY_FIELD_PREFIX}{kid}"))
            .ok_or_else(|| malformed(format!("the key \"{kid}\" is missing")))?;
        TokenKey::from_bytes(bytes)
    };
    let time = |t: &str| {
        t.parse::<Timestamp>()
            .map_err(|_| malformed("a retirement time is not an RFC 3339 time"))
    };
    let mut ring = KeyRing::new(&stored.active, key(&stored.active)?)?;
    for r in &stored.retired {
        ring = ring.with_retired(
            &r.kid,
            key(&r.kid)?,
            time(&r.retired_at)?,
            time(&r.accepted_until)?,
        )?;
    }
    Ok(ring)
}

/// The Secret data that stores `ring`.
pub fn secret_data(ring: &KeyRing) -> Result<BTreeMap<String, ByteString>> {
    let stored = StoredRing {
        active: ring.active_kid().to_owned(),
        retired: ring
            .retired()
            .iter()
            .map(|r| StoredRetired {
                kid: r.kid.clone(),
                retired_at: r.retired_at.to_string(),
                accepted_until: r.accepted_until.to_string(),
            })
            .collect(),
    };
    let described = serde_json::to_vec(&stored).map_err(|e| Error::Crypto {
        what: "encoding the token key ring",
        source: Some(Box::new(e)),
    })?;
    let mut data = BTreeMap::from([(RING_FIELD.to_owned(), ByteString(described))]);
    let keys = std::iter::once((ring.active_kid(), ring.active_key()))
        .chain(ring.retired().iter().map(|r| (r.kid.as_str(), r.key())));
    for (kid, key) in keys {
        data.insert(
            format!("{KEY_FIELD_PREFIX}{kid}"),
            ByteString(key.as_bytes().to_vec()),
        );
    }
    Ok(data)
}

/// Checks a token against the key ring and the current users, without I/O: a key of the ring
/// signed it (the active one, or a retired one within its grace period), it has not expired,
/// and the account it names still accepts it ([`Policy::check_token`]: same account uid,
/// enabled, same token generation).
pub fn verify_token(
    keys: &KeyRing,
    policy: &Policy,
    token: &Token,
    now: Timestamp,
) -> Result<Claims> {
    let claims = keys.verify(token, now)?;
    policy.check_token(&claims)?;
    Ok(claims)
}

/// A server's copy of the ring and when it was read.
#[derive(Default)]
pub(crate) struct KeyCache {
    loaded: tokio::sync::Mutex<Option<Loaded>>,
}

struct Loaded {
    ring: Arc<KeyRing>,
    at: Instant,
}

impl Rbac {
    /// The token key ring, read from its Secret (created there the first time) and re-read
    /// every [`REFRESH`]; every replica reads the same Secret, so a token from one is accepted
    /// by all.
    pub async fn token_keys(&self) -> Result<Arc<KeyRing>> {
        let mut loaded = self.keys.loaded.lock().await;
        match loaded.as_ref() {
            Some(l) if l.at.elapsed() < REFRESH => Ok(Arc::clone(&l.ring)),
            _ => self.reload(&mut loaded).await,
        }
    }

    /// The key ring to check `token` with: [`Rbac::token_keys`], re-read first if the token
    /// names a key id it does not hold (a rotation made elsewhere) and it was read at least
    /// [`RELOAD_FOR_UNKNOWN_KID`] ago.
    pub async fn token_keys_for(&self, token: &Token) -> Result<Arc<KeyRing>> {
        let kid = token.kid();
        let mut loaded = self.keys.loaded.lock().await;
        match loaded.as_ref() {
            Some(l)
                if l.at.elapsed() < REFRESH
                    && (kid.as_deref().is_none_or(|k| l.ring.knows(k))
                        || l.at.elapsed() < RELOAD_FOR_UNKNOWN_KID) =>
            {
                Ok(Arc::clone(&l.ring))
            }
            _ => self.reload(&mut loaded).await,
        }
    }

    async fn reload(&self, slot: &mut Option<Loaded>) -> Result<Arc<KeyRing>> {
        match self.load_or_create_keys().await {
            Ok(ring) => {
                let ring = Arc::new(ring);
                *slot = Some(Loaded {
                    ring: Arc::clone(&ring),
                    at: Instant::now(),
                });
                Ok(ring)
            }
            // While the Secret cannot be read, keep the ring read before (its retired keys
            // still expire by their times), and try again a second later, not on every request.
            Err(e) => match slot.as_mut() {
                Some(l) => {
                    tracing::warn!(error = %e, "cannot re-read the token key ring; using the copy read before");
                    let wait = REFRESH.saturating_sub(RELOAD_FOR_UNKNOWN_KID);
                    l.at = Instant::now().checked_sub(wait).unwrap_or(l.at);
                    Ok(Arc::clone(&l.ring))
                }
                None => Err(e),
            },
        }
    }

    async fn read_key_secret(&self) -> Result<Option<Secret>> {
        self.client
            .get_opt_as(&self.config.namespace, &self.config.token_key_secret)
            .await
            .map_err(Error::cluster("read the token key"))
    }

    async fn load_or_create_keys(&self) -> Result<KeyRing> {
        let ns = &self.config.namespace;
        for _ in 0..2 {
            if let Some(secret) = self.read_key_secret().await? {
                return ring_from_secret(&secret);
            }
            let ring = KeyRing::generate();
            let secret = Secret {
                metadata: ObjectMeta {
                    name: Some(self.config.token_key_secret.clone()),
                    namespace: Some(ns.clone()),
                    labels: Some([(MANAGED_BY.to_owned(), MANAGED_BY_VALUE.to_owned())].into()),
                    ..Default::default()
                },
                data: Some(secret_data(&ring)?),
                type_: Some("Opaque".to_owned()),
                ..Default::default()
            };
            match self.client.create_as(ns, &secret).await {
                Ok(_) => return Ok(ring),
                // Another replica created it first: use theirs.
                Err(e) if e.is(ErrorKind::AlreadyExists) => continue,
                Err(e) => return Err(Error::cluster("create the token key")(e)),
            }
        }
        Err(Error::Timeout("the token key Secret to settle".into()))
    }

    /// Rotates the token signing key: a new key signs new tokens from now on; the previous one
    /// is retired and still verifies the tokens it signed for the grace period
    /// ([`Config::token_key_grace`](super::Config::token_key_grace)); keys whose grace is over
    /// are removed. The write is conditional on the Secret's resourceVersion and starts again
    /// from the stored ring when another rotation wrote first, so that no key is lost.
    pub async fn rotate_token_key(&self) -> Result<Rotation> {
        let grace = self.config.token_key_grace();
        for _ in 0..ROTATION_RETRIES {
            let Some(secret) = self.read_key_secret().await? else {
                self.load_or_create_keys().await?;
                continue;
            };
            let current = ring_from_secret(&secret)?;
            let next = current.rotated(self.now(), grace);
            // The read object keeps its resourceVersion: the replace is a compare-and-swap.
            let mut updated = secret;
            updated.data = Some(secret_data(&next)?);
            updated.string_data = None;
            match self
                .client
                .replace_as(&self.config.namespace, &updated)
                .await
            {
                Ok(_) => {}
                Err(e) if e.is(ErrorKind::Conflict) => continue,
                Err(e) => return Err(Error::cluster("rotate the token key")(e)),
            }
            let retired = next
                .retired()
                .last()
                .map(|r| (r.kid.clone(), r.accepted_until));
            let Some((retired_kid, accepted_until)) = retired else {
                return Err(malformed("the rotated ring has no retired key"));
            };
            let rotation = Rotation {
                kid: next.active_kid().to_owned(),
                retired_kid,
                grace,
                accepted_until,
                dropped: current
                    .retired()
                    .iter()
                    .filter(|r| !next.knows(&r.kid))
                    .map(|r| r.kid.clone())
                    .collect(),
            };
            *self.keys.loaded.lock().await = Some(Loaded {
                ring: Arc::new(next),
                at: Instant::now(),
            });
            tracing::info!(
                kid = %rotation.kid,
                retired = %rotation.retired_kid,
                until = %rotation.accepted_until,
                "token signing key rotated"
            );
            return Ok(rotation);
        }
        Err(Error::Timeout(
            "a rotation of the token key that no concurrent rotation overtakes".into(),
        ))
    }

    /// Issues a token for `user` (as stored: its uid and token generation) at `now`.
    pub(crate) async fn issue_token(
        &self,
        user: &User,
        now: Timestamp,
    ) -> Result<(Token, Timestamp)> {
        let uid = user
            .metadata
            .uid
            .as_deref()
            .filter(|u| !u.is_empty())
            .ok_or(Error::Crypto {
                what: "token issuing (the stored user has no uid)",
                source: None,
            })?;
        let keys = self.token_keys().await?;
        keys.issue(
            user.account(),
            uid,
            user.spec.token_generation,
            now,
            self.config.token_ttl,
        )
    }

    /// Checks a token: signature, expiry, and (one read of the user) that the same account
    /// still exists, is enabled and has not revoked it. Servers holding a [`Policy`] use
    /// [`verify_token`].
    pub async fn authenticate(&self, token: &Token) -> Result<Claims> {
        let keys = self.token_keys_for(token).await?;
        let claims = keys.verify(token, self.now())?;
        let user = match self.user(&claims.sub).await {
            Ok(u) => u,
            Err(Error::NotFound { .. }) => {
                return Err(Error::InvalidToken(
                    "the user does not exist or is disabled",
                ));
            }
            Err(e) => return Err(e),
        };
        Policy::new(std::slice::from_ref(&user), &[], &self.config.namespace)
            .check_token(&claims)?;
        Ok(claims)
    }
}
