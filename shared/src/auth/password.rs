//! Passwords hashed with Argon2id (RFC 9106) as PHC strings, with OWASP's parameters.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// Argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): ~20 ms of one core
/// in a release build, and 19 MiB fits a 256 MB Lambda with room for concurrent work.
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Argon2 time cost (passes over memory).
pub const PASSES: u32 = 2;
/// Argon2 parallelism.
pub const LANES: u32 = 1;

/// Hashing failed (a worker thread died, or the library refused).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes and verifies passwords off the async executor (argon2 is deliberately slow).
#[derive(Clone, Default)]
pub struct Passwords {
    /// Verified against when an account does not exist, so a login for an unknown email
    /// costs the same time as one for a known email (no user enumeration by timing).
    decoy: Arc<OnceLock<String>>,
}

fn argon2() -> Argon2<'static> {
    // The constants are within argon2's bounds; a failure here is a programming error
    // caught by the unit tests, never reachable from input.
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

impl Passwords {
    /// The PHC string of `password` under a fresh random salt.
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        tokio::task::spawn_blocking(move || hash_now(&password))
            .await
            .map_err(|e| HashError(e.to_string()))?
    }

    /// True when `password` matches the stored PHC string. `None` (no such account) burns
    /// the same work against a decoy hash and answers false.
    pub async fn verify(&self, password: String, stored: Option<String>) -> bool {
        let decoy = self.decoy.clone();
        tokio::task::spawn_blocking(move || {
            let (phc, is_real) = match stored {
                Some(phc) => (phc, true),
                None => (decoy.get_or_init(decoy_hash).clone(), false),
            };
            let matches = PasswordHash::new(&phc)
                .map(|parsed| {
                    argon2()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false);
            matches && is_real
        })
        .await
        .unwrap_or(false)
    }
}

fn hash_now(password: &str) -> Result<String, HashError> {
    argon2()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| HashError(e.to_string()))
}

fn decoy_hash() -> String {
    hash_now("decoy password for absent accounts").unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_valid_argon2id() {
        assert!(Params::new(MEMORY_KIB, PASSES, LANES, None).is_ok());
    }

    #[tokio::test]
    async fn a_hash_verifies_only_its_password() {
        let passwords = Passwords::default();
        let phc = passwords.hash("correct horse".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(
            passwords
                .verify("correct horse".into(), Some(phc.clone()))
                .await
        );
        assert!(!passwords.verify("wrong horse".into(), Some(phc)).await);
    }

    #[tokio::test]
    async fn an_absent_account_never_verifies() {
        let passwords = Passwords::default();
        assert!(
            !passwords
                .verify("decoy password for absent accounts".into(), None)
                .await
        );
        assert!(
            !passwords
                .verify("x".into(), Some("not a phc string".into()))
                .await
        );
    }
}
