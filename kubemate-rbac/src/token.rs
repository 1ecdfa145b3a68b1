//! Login tokens: HS256 JWTs signed with a key ring every replica shares (a Secret). A token
//! names the key that signed it (`kid`), the account's uid and the user's token generation, so
//! that rotating the key, re-creating the account or bumping the generation revokes it.
//!
//! Nothing here does I/O: [`KeyRing`] issues and verifies; storing it is the service's job.

use std::{fmt, time::Duration};

use jiff::{SignedDuration, Timestamp};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The `iss` of Kubemate's tokens.
pub const ISSUER: &str = "kubemate";
/// Bytes of a generated signing key.
pub const KEY_LENGTH: usize = 64;
/// Shortest key accepted (HS256 wants at least the hash size).
pub const MIN_KEY_LENGTH: usize = 32;
/// The key id given to the single key of a Secret written before key rings existed.
pub const LEGACY_KID: &str = "legacy";
/// Longest key id accepted.
pub const MAX_KID_LENGTH: usize = 64;

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The account name.
    pub sub: String,
    /// The uid of the account (the User resource's `metadata.uid`) the token was issued to: a
    /// deleted and re-created account of the same name has another uid.
    pub uid: String,
    /// The user's token generation when the token was issued.
    pub generation: i64,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
    /// Always [`ISSUER`].
    pub iss: String,
}

/// A signed token. `Debug` is redacted: it is a credential.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token received from a client.
    pub fn new(token: impl Into<String>) -> Self {
        Token(token.into())
    }

    /// The token, to hand to the client.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The key id its header names, read without checking anything (to pick the key).
    pub fn kid(&self) -> Option<String> {
        jsonwebtoken::decode_header(&self.0).ok()?.kid
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// One HS256 signing key. `Debug` is redacted.
#[derive(Clone)]
pub struct TokenKey(Vec<u8>);

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey(<redacted>)")
    }
}

fn crypto(what: &'static str) -> impl FnOnce(jsonwebtoken::errors::Error) -> Error {
    move |e| Error::Crypto {
        what,
        source: Some(Box::new(e)),
    }
}

impl TokenKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut bytes = vec![0; KEY_LENGTH];
        rand::rng().fill_bytes(&mut bytes);
        TokenKey(bytes)
    }

    /// A key from stored bytes; refuses keys shorter than [`MIN_KEY_LENGTH`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() < MIN_KEY_LENGTH {
            return Err(Error::Invalid(format!(
                "the token signing key is too short: {} bytes, at least {MIN_KEY_LENGTH} needed",
                bytes.len()
            )));
        }
        Ok(TokenKey(bytes.to_vec()))
    }

    /// The key's bytes, to store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Signs `claims`, naming `kid` in the header.
    pub fn sign(&self, kid: &str, claims: &Claims) -> Result<Token> {
        let key = EncodingKey::from_secret(&self.0).map_err(crypto("token signing"))?;
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &key)
            .map(Token)
            .map_err(crypto("token signing"))
    }

    /// Checks a token's signature, algorithm, issuer and expiry at `now` with this key alone
    /// (whatever its header's `kid`: [`KeyRing::verify`] picks the key), and returns its claims.
    pub(crate) fn verify(&self, token: &Token, now: Timestamp) -> Result<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked below against `now`, so that one clock rules issuing and checking.
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp", "iss", "sub"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        validation.set_issuer(&[ISSUER]);
        let key =
            DecodingKey::from_secret(&self.0).map_err(|_| Error::InvalidToken("unusable key"))?;
        let data =
            jsonwebtoken::decode::<Claims>(token.expose(), &key, &validation).map_err(|e| {
                use jsonwebtoken::errors::ErrorKind as K;
                Error::InvalidToken(match e.kind() {
                    K::InvalidSignature => "bad signature",
                    K::InvalidAlgorithm => "unexpected algorithm",
                    K::InvalidIssuer => "unexpected issuer",
                    _ => "malformed token",
                })
            })?;
        if data.claims.exp <= now.as_second() {
            return Err(Error::InvalidToken("expired"));
        }
        Ok(data.claims)
    }
}

/// A fresh random key id (16 hex digits).
pub fn generate_kid() -> String {
    format!("{:016x}", rand::rng().next_u64())
}

/// Checks a key id: 1 to [`MAX_KID_LENGTH`] lowercase letters, digits and `-` (it is part of
/// a Secret's data key).
pub fn validate_kid(kid: &str) -> Result<()> {
    let ok = !kid.is_empty()
        && kid.len() <= MAX_KID_LENGTH
        && kid
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "a token key id is 1 to {MAX_KID_LENGTH} lowercase letters, digits and '-'"
        )))
    }
}

/// A key that no longer signs, and until when it still verifies.
#[derive(Clone)]
pub struct RetiredKey {
    /// Its key id.
    pub kid: String,
    key: TokenKey,
    /// When it stopped signing.
    pub retired_at: Timestamp,
    /// Tokens it signed are refused from then on.
    pub accepted_until: Timestamp,
}

impl fmt::Debug for RetiredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetiredKey")
            .field("kid", &self.kid)
            .field("retired_at", &self.retired_at)
            .field("accepted_until", &self.accepted_until)
            .finish_non_exhaustive()
    }
}

impl RetiredKey {
    /// The key, to store.
    pub fn key(&self) -> &TokenKey {
        &self.key
    }
}

/// The signing keys: the active one, which signs new tokens, and retired ones, which verify
/// the tokens they signed until the end of their grace period. `Debug` shows key ids and times,
/// never a key.
#[derive(Clone)]
pub struct KeyRing {
    active_kid: String,
    active: TokenKey,
    retired: Vec<RetiredKey>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("active", &self.active_kid)
            .field("retired", &self.retired)
            .finish()
    }
}

fn plus(t: Timestamp, d: Duration) -> Timestamp {
    SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

impl KeyRing {
    /// A ring of one active key.
    pub fn new(kid: &str, key: TokenKey) -> Result<Self> {
        validate_kid(kid)?;
        Ok(KeyRing {
            active_kid: kid.to_owned(),
            active: key,
            retired: Vec::new(),
        })
    }

    /// A ring of one fresh random key.
    pub fn generate() -> Self {
        KeyRing {
            active_kid: generate_kid(),
            active: TokenKey::generate(),
            retired: Vec::new(),
        }
    }

    /// Adds a retired key (as read from storage).
    pub fn with_retired(
        mut self,
        kid: &str,
        key: TokenKey,
        retired_at: Timestamp,
        accepted_until: Timestamp,
    ) -> Result<Self> {
        validate_kid(kid)?;
        if self.knows(kid) {
            return Err(Error::Invalid(format!(
                "the token key id \"{kid}\" is in the ring twice"
            )));
        }
        self.retired.push(RetiredKey {
            kid: kid.to_owned(),
            key,
            retired_at,
            accepted_until,
        });
        Ok(self)
    }

    /// The id of the key that signs new tokens.
    pub fn active_kid(&self) -> &str {
        &self.active_kid
    }

    /// The key that signs new tokens, to store.
    pub fn active_key(&self) -> &TokenKey {
        &self.active
    }

    /// The retired keys, oldest retirement first.
    pub fn retired(&self) -> &[RetiredKey] {
        &self.retired
    }

    /// True when `kid` is in the ring (active or retired, whether or not past its grace).
    pub fn knows(&self, kid: &str) -> bool {
        self.active_kid == kid || self.retired.iter().any(|r| r.kid == kid)
    }

    /// A new ring whose active key is a fresh one: the current active key is retired at `now`
    /// and verifies for `grace` more; retired keys whose grace is over at `now` are dropped.
    pub fn rotated(&self, now: Timestamp, grace: Duration) -> KeyRing {
        let mut kid = generate_kid();
        while self.knows(&kid) {
            kid = generate_kid();
        }
        let mut retired: Vec<RetiredKey> = self
            .retired
            .iter()
            .filter(|r| r.accepted_until > now)
            .cloned()
            .collect();
        retired.push(RetiredKey {
            kid: self.active_kid.clone(),
            key: self.active.clone(),
            retired_at: now,
            accepted_until: plus(now, grace),
        });
        KeyRing {
            active_kid: kid,
            active: TokenKey::generate(),
            retired,
        }
    }

    /// Issues a token for account `user` (uid `uid`) at `generation`, valid for `ttl` from
    /// `now`, signed with the active key.
    pub fn issue(
        &self,
        user: &str,
        uid: &str,
        generation: i64,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<(Token, Timestamp)> {
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let iat = now.as_second();
        let exp = iat.saturating_add(ttl);
        let claims = Claims {
            sub: user.to_owned(),
            uid: uid.to_owned(),
            generation,
            iat,
            exp,
            iss: ISSUER.to_owned(),
        };
        let token = self.active.sign(&self.active_kid, &claims)?;
        let expires = Timestamp::from_second(exp)
            .map_err(|_| Error::Invalid("token lifetime out of range".into()))?;
        Ok((token, expires))
    }

    /// Checks a token at `now`: its header names a key of the ring (the active one, or a
    /// retired one within its grace period), and that key verifies its signature, algorithm,
    /// issuer and expiry. Whether the account still accepts it (same uid, enabled, same
    /// generation) is [`Policy::check_token`](crate::Policy::check_token)'s to say.
    pub fn verify(&self, token: &Token, now: Timestamp) -> Result<Claims> {
        let header = jsonwebtoken::decode_header(token.expose())
            .map_err(|_| Error::InvalidToken("malformed token"))?;
        let kid = header.kid.ok_or(Error::InvalidToken("no key id"))?;
        let key = if kid == self.active_kid {
            &self.active
        } else {
            match self.retired.iter().find(|r| r.kid == kid) {
                Some(r) if r.accepted_until > now => &r.key,
                Some(_) => return Err(Error::InvalidToken("signed with a retired key")),
                None => return Err(Error::InvalidToken("unknown key id")),
            }
        };
        key.verify(token, now)
    }
}

#[cfg(test)]
mod tests;
