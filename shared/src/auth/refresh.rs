//! Opaque secrets handed to clients — refresh tokens and password-reset tokens — and the
//! one-way form they are stored in. The raw value exists only in the client's hands (and,
//! for a reset token, in the outbox and the mail), so a leaked table grants nothing.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use time::Duration;

/// 32 random bytes: 256 bits, beyond guessing, so a fast hash (not argon2) suffices.
pub const SECRET_BYTES: usize = 32;
/// A session lasts this long without a refresh; each rotation starts the period anew.
pub const REFRESH_TOKEN_TTL: Duration = Duration::days(30);
/// A password-reset link is valid for this long, and once.
pub const RESET_TOKEN_TTL: Duration = Duration::hours(1);
/// Longer than any honest token is base64url of 32 bytes (43 characters); bounds the work
/// of hashing whatever a caller sends.
const MAX_TOKEN_CHARS: usize = 128;

/// A fresh random secret, base64url without padding.
pub fn new_secret() -> String {
    let bytes: [u8; SECRET_BYTES] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a secret: hex SHA-256. Lookups go by this hash, so no stored secret
/// is ever compared byte by byte with the caller's input (nothing to time).
pub fn secret_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The hash of a caller's token, or `None` when it cannot be one of ours.
pub fn presented_hash(secret: &str) -> Option<String> {
    let secret = secret.trim();
    (!secret.is_empty() && secret.len() <= MAX_TOKEN_CHARS).then(|| secret_hash(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_stored_hashed() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), SECRET_BYTES);
        assert_eq!(secret_hash(&a).len(), 64);
        assert_ne!(secret_hash(&a), secret_hash(&b));
        assert!(!secret_hash(&a).contains(&a));
    }

    #[test]
    fn empty_or_oversized_tokens_are_not_hashed() {
        assert!(presented_hash("").is_none());
        assert!(presented_hash(&"x".repeat(MAX_TOKEN_CHARS + 1)).is_none());
        assert_eq!(presented_hash(" abc "), Some(secret_hash("abc")));
    }
}
