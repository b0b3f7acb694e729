//! The key ring access tokens are signed with: HMAC keys by key id, one of them active.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// HMAC keys for access tokens, by key id. Tokens are signed with `active` and verified
/// with any key in the ring, so a key can be rotated in without logging everyone out.
///
/// Stored as JSON: `{"active": "k1", "keys": {"k1": "<base64, at least 32 bytes>"}}` — in an
/// SSM SecureString parameter on AWS, in `.local/secrets/` in embedded mode.
#[derive(Clone, Serialize, Deserialize)]
pub struct KeyRing {
    /// The key id new tokens are signed with (the JWT `kid`).
    pub active: String,
    /// Key id → standard base64 of the key, at least [`MIN_KEY_BYTES`] bytes.
    pub keys: BTreeMap<String, String>,
}

/// Why a key ring was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    /// Not the JSON shape above.
    #[error("the key ring is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// `active` names no key in `keys`.
    #[error("the active key id {0:?} has no key")]
    MissingActive(String),
    /// A key is not standard base64.
    #[error("key {0:?} is not base64")]
    NotBase64(String),
    /// A key is too short for HS256 (RFC 7518 §3.2: at least the hash's 256 bits).
    #[error("key {0:?} is shorter than 32 bytes")]
    TooShort(String),
}

/// The shortest key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 32;

impl KeyRing {
    /// A fresh ring with one random key, for embedded mode and tests.
    pub fn generate(kid: &str) -> Self {
        let secret: [u8; 32] = rand::random();
        Self {
            active: kid.to_owned(),
            keys: BTreeMap::from([(kid.to_owned(), STANDARD.encode(secret))]),
        }
    }

    /// Reads and checks a ring stored as JSON.
    pub fn from_json(json: &str) -> Result<Self, KeyRingError> {
        let ring: Self = serde_json::from_str(json)?;
        ring.decoded()?;
        Ok(ring)
    }

    /// The keys as bytes, checked: the active one exists and none is weak.
    pub fn decoded(&self) -> Result<BTreeMap<String, Vec<u8>>, KeyRingError> {
        if !self.keys.contains_key(&self.active) {
            return Err(KeyRingError::MissingActive(self.active.clone()));
        }
        self.keys
            .iter()
            .map(|(kid, encoded)| {
                let bytes = STANDARD
                    .decode(encoded)
                    .map_err(|_| KeyRingError::NotBase64(kid.clone()))?;
                if bytes.len() < MIN_KEY_BYTES {
                    return Err(KeyRingError::TooShort(kid.clone()));
                }
                Ok((kid.clone(), bytes))
            })
            .collect()
    }
}

impl std::fmt::Debug for KeyRing {
    // Never print key material, even in a debug log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("active", &self.active)
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_ring_round_trips_through_json() {
        let ring = KeyRing::generate("k1");
        let parsed = KeyRing::from_json(&serde_json::to_string(&ring).unwrap()).unwrap();
        assert_eq!(parsed.decoded().unwrap()["k1"].len(), 32);
    }

    #[test]
    fn weak_or_missing_keys_are_refused() {
        assert!(matches!(
            KeyRing::from_json(r#"{"active":"k2","keys":{"k1":"AAAA"}}"#),
            Err(KeyRingError::MissingActive(_))
        ));
        assert!(matches!(
            KeyRing::from_json(r#"{"active":"k1","keys":{"k1":"AAAA"}}"#),
            Err(KeyRingError::TooShort(_))
        ));
        assert!(matches!(
            KeyRing::from_json(r#"{"active":"k1","keys":{"k1":"!!"}}"#),
            Err(KeyRingError::NotBase64(_))
        ));
    }

    #[test]
    fn debug_output_hides_the_keys() {
        let ring = KeyRing::generate("k1");
        let secret = ring.keys["k1"].clone();
        assert!(!format!("{ring:?}").contains(&secret));
    }
}
