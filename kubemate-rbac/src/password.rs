//! Passwords: a type that never shows itself, argon2id hashing (run on the bounded
//! [`HashPool`] by everything that serves requests), and random passwords.

use std::fmt;

use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier},
};
use rand::{Rng, distr::Alphanumeric};

use crate::{Error, Result, resources::PasswordHash};

mod pool;

pub use pool::{HashPermit, HashPool};

/// Shortest password accepted.
pub const MIN_LENGTH: usize = 10;
/// Longest password accepted (hashing cost grows with it).
pub const MAX_LENGTH: usize = 256;

/// A plaintext password. `Debug` and `Display` are redacted so it cannot end up in a log or
/// an error message by accident; [`Password::expose`] is the one way to read it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a plaintext password.
    pub fn new(plaintext: impl Into<String>) -> Self {
        Password(plaintext.into())
    }

    /// A random password of 24 letters and digits (about 142 bits).
    pub fn random() -> Self {
        Password(
            rand::rng()
                .sample_iter(Alphanumeric)
                .take(24)
                .map(char::from)
                .collect(),
        )
    }

    /// The plaintext, to show once or to hash.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Checks the length rules.
    pub fn validate(&self) -> Result<()> {
        let len = self.0.chars().count();
        if len < MIN_LENGTH {
            return Err(Error::Invalid(format!(
                "the password is too short: at least {MIN_LENGTH} characters"
            )));
        }
        if len > MAX_LENGTH {
            return Err(Error::Invalid(format!(
                "the password is too long: at most {MAX_LENGTH} characters"
            )));
        }
        Ok(())
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Hashes a password with argon2id (a fresh random salt, the crate's default cost).
pub fn hash(password: &Password) -> Result<PasswordHash> {
    Argon2::default()
        .hash_password(password.expose().as_bytes())
        .map(|h| PasswordHash(h.to_string()))
        .map_err(|e| Error::Crypto {
            what: "password hashing",
            source: Some(Box::new(e)),
        })
}

/// True when `password` matches `hash`. A malformed hash matches nothing.
pub fn verify(password: &Password, hash: &PasswordHash) -> bool {
    Argon2::default()
        .verify_password(password.expose().as_bytes(), hash.0.as_str())
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify_only_the_right_password() {
        let pw = Password::new("correct horse battery");
        let h1 = hash(&pw).expect("hash");
        let h2 = hash(&pw).expect("hash");
        assert!(h1.0.starts_with("$argon2id$"), "PHC string of argon2id");
        assert_ne!(h1, h2, "a fresh salt each time");
        assert!(verify(&pw, &h1));
        assert!(!verify(&Password::new("correct horse battery!"), &h1));
        assert!(!verify(&pw, &PasswordHash("not a hash".into())));
        assert!(!h1.0.contains("correct horse"));
    }

    #[test]
    fn passwords_never_print_and_follow_length_rules() {
        let pw = Password::new("s3cret-s3cret");
        assert_eq!(format!("{pw:?}"), "Password(<redacted>)");
        let h = hash(&pw).expect("hash");
        assert_eq!(format!("{h:?}"), "PasswordHash(<redacted>)");
        assert!(Password::new("short").validate().is_err());
        assert!(
            Password::new("x".repeat(MAX_LENGTH + 1))
                .validate()
                .is_err()
        );
        let random = Password::random();
        assert_eq!(random.expose().len(), 24);
        assert!(random.validate().is_ok());
        assert_ne!(random, Password::random());
    }
}
