//! Signed pagination cursors. A store's cursor says where its next page starts; before one
//! leaves the API it is made tamper-evident and bound to the query it pages, so a modified,
//! forged or transplanted cursor is a 400 and never reaches a store (where it could select
//! another list's page or fail as a 500).
//!
//! Format: unpadded base64url of `tag (16) ‖ cursor`, the tag being HMAC-SHA256 (RFC 2104)
//! truncated to 128 bits (RFC 2104 §5 allows truncation to half the output) over the
//! length-prefixed query and the cursor, under a key derived from the attendee secret.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

use crate::tickets::{AttendeeKeys, MacKey};

/// The HKDF info under which the cursor key is derived; a new value re-keys all cursors.
const INFO_CURSOR_KEY: &[u8] = b"evreg listing cursor key v1";
const TAG_LEN: usize = 16;

/// Signs and opens cursors. Cheap to clone; built once per cold start.
#[derive(Clone, Debug)]
pub struct CursorSigner {
    key: MacKey,
}

impl CursorSigner {
    /// The signer whose key is derived from the attendee secret.
    pub fn new(secret: &AttendeeKeys) -> Self {
        Self {
            key: MacKey::derive(secret, INFO_CURSOR_KEY),
        }
    }

    /// `cursor` made tamper-evident and bound to `query` (a canonical form of the query
    /// it pages, e.g. [`crate::ports::ListingQuery::canonical`]).
    pub fn sign(&self, query: &str, cursor: &str) -> String {
        let tag = self.mac(query, cursor).finalize().into_bytes();
        let mut bytes = tag[..TAG_LEN].to_vec();
        bytes.extend_from_slice(cursor.as_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The cursor inside `signed` if this signer signed it for `query`, compared in
    /// constant time; `None` for anything modified, forged or made for another query.
    pub fn open(&self, query: &str, signed: &str) -> Option<String> {
        let bytes = URL_SAFE_NO_PAD.decode(signed).ok()?;
        if bytes.len() < TAG_LEN {
            return None;
        }
        let (tag, cursor) = bytes.split_at(TAG_LEN);
        let cursor = std::str::from_utf8(cursor).ok()?;
        self.mac(query, cursor).verify_truncated_left(tag).ok()?;
        Some(cursor.to_owned())
    }

    fn mac(&self, query: &str, cursor: &str) -> Hmac<Sha256> {
        let mut mac = self.key.mac();
        // Length-prefixed, so (query, cursor) pairs cannot be re-split.
        mac.update(&(query.len() as u64).to_be_bytes());
        mac.update(query.as_bytes());
        mac.update(cursor.as_bytes());
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> CursorSigner {
        CursorSigner::new(&AttendeeKeys::from_secret(&[9u8; 32]).unwrap())
    }

    #[test]
    fn a_signed_cursor_opens_for_its_query_only() {
        let signer = signer();
        let signed = signer.sign("q1", "page-2");
        assert_eq!(signer.open("q1", &signed).as_deref(), Some("page-2"));
        assert_eq!(
            signer.open("q2", &signed),
            None,
            "transplanted to another query"
        );
        let other = CursorSigner::new(&AttendeeKeys::generate());
        assert_eq!(other.open("q1", &signed), None, "another secret");
    }

    #[test]
    fn any_change_is_refused() {
        let signer = signer();
        let signed = signer.sign("q", "cursor");
        for i in 0..signed.len() {
            let mut bytes = signed.clone().into_bytes();
            bytes[i] ^= 1;
            if let Ok(altered) = String::from_utf8(bytes) {
                assert_eq!(signer.open("q", &altered), None, "byte {i}");
            }
        }
        for garbage in ["", "x", "!!!!", &signed[..10]] {
            assert_eq!(signer.open("q", garbage), None, "{garbage:?}");
        }
    }

    #[test]
    fn query_and_cursor_cannot_be_re_split() {
        let signer = signer();
        let signed = signer.sign("ab", "c");
        let tag_of_other_split = signer.sign("a", "bc");
        assert_ne!(signed[..22], tag_of_other_split[..22]);
    }
}
