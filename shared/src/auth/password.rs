//! Passwords are hashed with argon2id (OWASP parameters: 19 MiB, 2 passes, 1 lane).

use crate::domain::Password;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

fn argon2() -> Argon2<'static> {
    // The argon2 crate's defaults, spelled out so a dependency bump cannot weaken them.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

pub fn hash(password: &Password) -> Result<String, HashError> {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let salt = SaltString::encode_b64(&bytes).map_err(|e| HashError(e.to_string()))?;
    argon2()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// A hash of a random password with the same parameters, verified when the email is unknown
/// so that path costs what a wrong password costs (no user-enumeration by timing).
const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$QWN2aGJ2a3RhQW5yYVpUbQ$0ckr9Q6fK3m3Cx6cA0H4mN3xyYtUu9dV9fK7cJ1p6sA";

/// Checks `candidate` against `stored`, or against the decoy when there is no account.
pub fn verify(candidate: &str, stored: Option<&str>) -> bool {
    let target = stored.unwrap_or(DECOY_HASH);
    let Ok(parsed) = PasswordHash::new(target) else {
        return false;
    };
    let ok = argon2()
        .verify_password(candidate.as_bytes(), &parsed)
        .is_ok();
    ok && stored.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn hashes_verify_and_differ_per_salt() {
        let pw = Password::parse("correct horse battery").unwrap();
        let a = hash(&pw).unwrap();
        let b = hash(&pw).unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_ne!(a, b);
        assert!(verify("correct horse battery", Some(&a)));
        assert!(!verify("wrong horse battery", Some(&a)));
    }

    #[test]
    fn unknown_account_does_the_same_work() {
        // The decoy must parse, or the unknown-email path would return at once.
        assert!(PasswordHash::new(DECOY_HASH).is_ok());
        let pw = Password::parse("correct horse battery").unwrap();
        let real = hash(&pw).unwrap();
        let t = Instant::now();
        assert!(!verify("whatever-password", Some(&real)));
        let wrong = t.elapsed();
        let t = Instant::now();
        assert!(!verify("whatever-password", None));
        let unknown = t.elapsed();
        // Same parameters, so the same order of cost (generous bound: this is not a timing test).
        assert!(unknown * 4 > wrong, "decoy {unknown:?} vs real {wrong:?}");
    }
}
