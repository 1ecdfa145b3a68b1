//! Login tokens: HS256 JWTs signed with a key every replica shares (a Secret), carrying the
//! user's token generation so that bumping it revokes them.

use std::{fmt, time::Duration};

use jiff::Timestamp;
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

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The account name.
    pub sub: String,
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
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// The HS256 signing key. `Debug` is redacted.
#[derive(Clone)]
pub struct TokenKey(Vec<u8>);

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey(<redacted>)")
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

    /// Issues a token for `user` at `generation`, valid for `ttl` from `now`.
    pub fn issue(
        &self,
        user: &str,
        generation: i64,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<(Token, Timestamp)> {
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let iat = now.as_second();
        let exp = iat.saturating_add(ttl);
        let claims = Claims {
            sub: user.to_owned(),
            generation,
            iat,
            exp,
            iss: ISSUER.to_owned(),
        };
        let crypto = |e: jsonwebtoken::errors::Error| Error::Crypto {
            what: "token signing",
            source: Some(Box::new(e)),
        };
        let key = EncodingKey::from_secret(&self.0).map_err(crypto)?;
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).map_err(crypto)?;
        let expires = Timestamp::from_second(exp)
            .map_err(|_| Error::Invalid("token lifetime out of range".into()))?;
        Ok((Token(token), expires))
    }

    /// Checks a token's signature, algorithm, issuer and expiry at `now`, and returns its
    /// claims. Whether the user still accepts it (exists, enabled, same generation) is
    /// [`Policy::token_generation`](crate::Policy::token_generation)'s to say.
    pub fn verify(&self, token: &Token, now: Timestamp) -> Result<Claims> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(s).expect("valid")
    }

    #[test]
    fn tokens_round_trip_expire_and_need_the_same_key() {
        let key = TokenKey::generate();
        let (token, expires) = key
            .issue("alice", 3, at(1_000_000), Duration::from_secs(600))
            .expect("issue");
        assert_eq!(expires, at(1_000_600));
        let claims = key.verify(&token, at(1_000_599)).expect("valid");
        assert_eq!(claims.sub, "alice");
        assert_eq!(claims.generation, 3);
        let expired = key.verify(&token, at(1_000_600)).expect_err("expired");
        assert_eq!(expired.code(), "InvalidToken");
        assert_eq!(expired.to_string(), "invalid token: expired");
        let other = TokenKey::generate();
        let forged = other.verify(&token, at(1_000_001)).expect_err("other key");
        assert_eq!(forged.to_string(), "invalid token: bad signature");
        assert!(!forged.to_string().contains(token.expose()));
        let garbage = key
            .verify(&Token::new("a.b.c"), at(1))
            .expect_err("garbage");
        assert_eq!(garbage.code(), "InvalidToken");
        assert_eq!(format!("{token:?}"), "Token(<redacted>)");
        assert_eq!(format!("{key:?}"), "TokenKey(<redacted>)");
    }

    #[test]
    fn a_copy_of_the_key_verifies_as_any_replica_would() {
        let key = TokenKey::generate();
        let replica = TokenKey::from_bytes(key.as_bytes()).expect("same bytes");
        let (token, _) = key
            .issue("bob", 0, at(10), Duration::from_secs(60))
            .expect("issue");
        assert_eq!(replica.verify(&token, at(11)).expect("valid").sub, "bob");
        assert!(TokenKey::from_bytes(&[0; 16]).is_err());
    }
}
