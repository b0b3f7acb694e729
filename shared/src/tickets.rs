//! What attendees hold: signed QR tickets and manage tokens, all derived from one secret.
//!
//! One 32-byte "attendee secret" (SSM in AWS, a generated file in embedded mode) is the only
//! thing stored. Everything else is derived from it with HKDF-SHA256 under distinct infos:
//!
//! - one Ed25519 key pair per event signs that event's tickets. Door devices get only the
//!   event's public key and verify offline; no per-event key is stored anywhere, and
//!   rotating the secret re-keys every event at once (old tickets then stop verifying).
//! - one HMAC key makes manage tokens, which let an attendee view or cancel a registration
//!   without an account.
//! - other modules derive their own keys with `AttendeeKeys::derive_key` under their own
//!   info string (the listing cursors' HMAC key, `crate::http::cursor`).
//!
//! A ticket payload is `EVR1.` followed by unpadded base64url of
//! `event_id (16) ‖ registration_id (16) ‖ nonce (8) ‖ signature (64)`: 144 ASCII
//! characters, small enough for a QR code phones read at arm's length. The signature covers
//! `version (1) ‖ event_id ‖ registration_id ‖ nonce`. The nonce is derived from the secret
//! and the registration, so issuing a ticket twice gives the same bytes (the tickets worker
//! re-delivers idempotently), while nobody without the secret can predict it.

use std::fmt;
use std::io::Cursor;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use hkdf::Hkdf;
use hmac::{Hmac, Mac as _};
use sha2::Sha256;
use uuid::Uuid;

use crate::domain::{EventId, Registration, RegistrationId};

/// Text before the base64 part; its digit is the format version.
const PREFIX: &str = "EVR1.";
/// First byte of every signed message, so a future format can never verify as this one.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 8;
const SIGNATURE_LEN: usize = 64;
const PAYLOAD_LEN: usize = 16 + 16 + NONCE_LEN + SIGNATURE_LEN;
/// Below this, the secret is too weak to derive signing keys from.
pub const MIN_SECRET_LEN: usize = 32;

const INFO_TICKET_KEY: &[u8] = b"evreg ticket key v1";
const INFO_TICKET_NONCE: &[u8] = b"evreg ticket nonce v1";
const INFO_MANAGE_KEY: &[u8] = b"evreg manage token key v1";

/// QR modules are drawn this many pixels wide: large enough for phone cameras and
/// decoders to resolve a version-8 code, small enough for an email attachment.
const QR_MODULE_PIXELS: u32 = 8;

/// What went wrong with a secret, a ticket or its QR code.
#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    /// The attendee secret is shorter than [`MIN_SECRET_LEN`] bytes.
    #[error("the attendee secret must be at least {MIN_SECRET_LEN} bytes")]
    SecretTooShort,
    /// The stored secret is not standard base64.
    #[error("the attendee secret is not valid base64")]
    SecretNotBase64,
    /// Not a ticket of this format at all (a 400 at the door).
    #[error("the ticket is malformed")]
    Malformed,
    /// Well-formed, but the signature does not verify (a 422 at the door).
    #[error("the ticket's signature is not valid")]
    Forged,
    /// Not 32 bytes of unpadded base64url making an Ed25519 point.
    #[error("the ticket public key is not valid")]
    InvalidPublicKey,
    /// The QR library failed.
    #[error("rendering the QR code failed: {0}")]
    Qr(String),
}

/// What a valid ticket asserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketClaims {
    /// The event it admits to.
    pub event_id: EventId,
    /// Whose seat it is.
    pub registration_id: RegistrationId,
    /// Derived from the secret and the registration: makes the ticket unguessable.
    pub nonce: [u8; NONCE_LEN],
}

/// The keys derived from the attendee secret.
#[derive(Clone)]
pub struct AttendeeKeys {
    secret: Box<[u8]>,
    hkdf: Hkdf<Sha256>,
    /// HMAC-SHA256 keys are one block (64 bytes) long; at that length `Hmac::new` cannot fail.
    manage_key: [u8; 64],
}

impl fmt::Debug for AttendeeKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttendeeKeys").finish_non_exhaustive()
    }
}

impl AttendeeKeys {
    /// The keys derived from a raw secret of at least [`MIN_SECRET_LEN`] bytes.
    pub fn from_secret(bytes: &[u8]) -> Result<Self, TicketError> {
        if bytes.len() < MIN_SECRET_LEN {
            return Err(TicketError::SecretTooShort);
        }
        Ok(Self::derive(bytes.into()))
    }

    fn derive(secret: Box<[u8]>) -> Self {
        let hkdf = Hkdf::<Sha256>::new(None, &secret);
        let manage_key = expand::<64>(&hkdf, &[INFO_MANAGE_KEY]);
        Self {
            secret,
            hkdf,
            manage_key,
        }
    }

    /// Reads the secret as stored (standard base64); surrounding whitespace is ignored,
    /// since files and parameters often end in a newline.
    pub fn from_base64(text: &str) -> Result<Self, TicketError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| TicketError::SecretNotBase64)?;
        Self::from_secret(&bytes)
    }

    /// A fresh random secret (embedded mode's first start, tests).
    pub fn generate() -> Self {
        let secret: [u8; MIN_SECRET_LEN] = rand::random();
        Self::derive(secret.into())
    }

    /// The secret, in the form [`AttendeeKeys::from_base64`] reads.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(&self.secret)
    }

    fn signing_key(&self, event_id: EventId) -> SigningKey {
        let seed = expand::<32>(
            &self.hkdf,
            &[INFO_TICKET_KEY, event_id.as_uuid().as_bytes()],
        );
        SigningKey::from_bytes(&seed)
    }

    /// The key a door device needs to verify this event's tickets offline.
    pub fn ticket_public_key(&self, event_id: EventId) -> TicketPublicKey {
        TicketPublicKey(self.signing_key(event_id).verifying_key())
    }

    /// The QR payload for a registration; the same inputs always give the same payload.
    pub fn issue_ticket(&self, event_id: EventId, registration_id: RegistrationId) -> String {
        let nonce = expand::<NONCE_LEN>(
            &self.hkdf,
            &[
                INFO_TICKET_NONCE,
                event_id.as_uuid().as_bytes(),
                registration_id.as_uuid().as_bytes(),
            ],
        );
        let message = signed_message(event_id, registration_id, &nonce);
        let signature = self.signing_key(event_id).sign(&message);

        let mut raw = Vec::with_capacity(PAYLOAD_LEN);
        raw.extend_from_slice(event_id.as_uuid().as_bytes());
        raw.extend_from_slice(registration_id.as_uuid().as_bytes());
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&signature.to_bytes());
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(raw))
    }

    /// Verifies a ticket with the key of the event it names.
    pub fn verify_ticket(&self, payload: &str) -> Result<TicketClaims, TicketError> {
        let event_id = ticket_event_id(payload)?;
        verify_ticket(payload, &self.ticket_public_key(event_id))
    }

    /// base64url (unpadded) HMAC-SHA256 of the registration id.
    pub fn manage_token(&self, registration_id: RegistrationId) -> String {
        URL_SAFE_NO_PAD.encode(self.manage_mac(registration_id).finalize().into_bytes())
    }

    /// Compares in constant time, so response timing reveals nothing of the right token.
    pub fn verify_manage_token(&self, registration_id: RegistrationId, token: &str) -> bool {
        let Ok(tag) = URL_SAFE_NO_PAD.decode(token) else {
            return false;
        };
        self.manage_mac(registration_id).verify_slice(&tag).is_ok()
    }

    /// HKDF-SHA256 output of `N` bytes under `info`, for keys derived elsewhere from the
    /// same secret (the listing cursors' HMAC key): one secret to store and rotate.
    pub(crate) fn derive_key<const N: usize>(&self, info: &[u8]) -> [u8; N] {
        expand(&self.hkdf, &[info])
    }

    fn manage_mac(&self, registration_id: RegistrationId) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new(&self.manage_key.into());
        mac.update(registration_id.as_uuid().as_bytes());
        mac
    }
}

/// An HMAC-SHA256 key derived from the attendee secret under a module's own info string
/// (listing cursors, form tokens): one secret to store and rotate. Never printed.
#[derive(Clone)]
pub struct MacKey {
    /// One SHA-256 block: at this length `Hmac::new` cannot fail.
    key: [u8; 64],
}

impl fmt::Debug for MacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MacKey").finish_non_exhaustive()
    }
}

impl MacKey {
    /// The key derived from `secret` under `info` (a new info re-keys everything signed).
    pub fn derive(secret: &AttendeeKeys, info: &[u8]) -> Self {
        Self {
            key: secret.derive_key(info),
        }
    }

    /// A fresh HMAC-SHA256 (RFC 2104) under this key, to feed and finalize or verify.
    pub fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as hmac::digest::KeyInit>::new(&self.key.into())
    }
}

/// HKDF-Expand to a fixed length.
fn expand<const N: usize>(hkdf: &Hkdf<Sha256>, info: &[&[u8]]) -> [u8; N] {
    const { assert!(N <= 255 * 32, "HKDF-SHA256 expands to at most 8160 bytes") };
    let mut okm = [0u8; N];
    // Expansion fails only beyond 255 hash lengths, which the assertion rules out at
    // compile time, so no input can reach this panic.
    #[allow(clippy::expect_used)]
    hkdf.expand_multi_info(info, &mut okm)
        .expect("HKDF output length is checked at compile time");
    okm
}

fn signed_message(
    event_id: EventId,
    registration_id: RegistrationId,
    nonce: &[u8; NONCE_LEN],
) -> Vec<u8> {
    let mut message = Vec::with_capacity(1 + 16 + 16 + NONCE_LEN);
    message.push(VERSION);
    message.extend_from_slice(event_id.as_uuid().as_bytes());
    message.extend_from_slice(registration_id.as_uuid().as_bytes());
    message.extend_from_slice(nonce);
    message
}

/// A decoded, not yet verified, payload.
struct Parsed {
    claims: TicketClaims,
    signature: Signature,
}

fn parse(payload: &str) -> Result<Parsed, TicketError> {
    let encoded = payload.strip_prefix(PREFIX).ok_or(TicketError::Malformed)?;
    let raw = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| TicketError::Malformed)?;
    let raw: &[u8; PAYLOAD_LEN] = raw
        .as_slice()
        .try_into()
        .map_err(|_| TicketError::Malformed)?;
    let (event_id, rest) = raw.split_at(16);
    let (registration_id, rest) = rest.split_at(16);
    let (nonce, signature) = rest.split_at(NONCE_LEN);
    let uuid = |bytes: &[u8]| Uuid::from_slice(bytes).map_err(|_| TicketError::Malformed);
    Ok(Parsed {
        claims: TicketClaims {
            event_id: EventId::from_uuid(uuid(event_id)?),
            registration_id: RegistrationId::from_uuid(uuid(registration_id)?),
            nonce: nonce.try_into().map_err(|_| TicketError::Malformed)?,
        },
        signature: Signature::from_slice(signature).map_err(|_| TicketError::Malformed)?,
    })
}

/// The event a payload names, unverified: it selects the key to verify with.
pub fn ticket_event_id(payload: &str) -> Result<EventId, TicketError> {
    Ok(parse(payload)?.claims.event_id)
}

/// Verifies a payload offline, with only the event's public key (what a door device does).
pub fn verify_ticket(payload: &str, key: &TicketPublicKey) -> Result<TicketClaims, TicketError> {
    let Parsed { claims, signature } = parse(payload)?;
    let message = signed_message(claims.event_id, claims.registration_id, &claims.nonce);
    // Strict verification refuses malleable signatures and weak keys, so one ticket has
    // exactly one valid encoding.
    key.0
        .verify_strict(&message, &signature)
        .map_err(|_| TicketError::Forged)?;
    Ok(claims)
}

/// One event's ticket verification key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketPublicKey(VerifyingKey);

impl TicketPublicKey {
    /// Unpadded base64url of the 32-byte key (RFC 8032 encoding), as door devices get it.
    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.as_bytes())
    }

    /// Reads what [`TicketPublicKey::to_base64url`] wrote.
    pub fn from_base64url(text: &str) -> Result<Self, TicketError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| TicketError::InvalidPublicKey)?;
        let bytes: &[u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| TicketError::InvalidPublicKey)?;
        VerifyingKey::from_bytes(bytes)
            .map(Self)
            .map_err(|_| TicketError::InvalidPublicKey)
    }

    /// The Ed25519 key itself.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.0
    }
}

/// Where a registration's ticket image is kept: `tickets/<event id>/<registration id>.png`.
pub fn ticket_blob_key(registration: &Registration) -> String {
    format!("tickets/{}/{}.png", registration.event_id, registration.id)
}

/// Renders `payload` as a black-on-white QR code PNG with the standard 4-module quiet zone.
pub fn qr_png(payload: &str) -> Result<Vec<u8>, TicketError> {
    // Medium error correction survives scuffed printouts and cracked screens while keeping
    // a 144-character payload at a version phones decode easily.
    let code = qrcode::QrCode::with_error_correction_level(payload, qrcode::EcLevel::M)
        .map_err(|e| TicketError::Qr(e.to_string()))?;
    let image = code
        .render::<image::Luma<u8>>()
        .quiet_zone(true)
        .module_dimensions(QR_MODULE_PIXELS, QR_MODULE_PIXELS)
        .build();
    let mut png = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| TicketError::Qr(e.to_string()))?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> AttendeeKeys {
        AttendeeKeys::from_secret(&[7u8; 32]).unwrap()
    }

    #[test]
    fn issued_tickets_verify_with_the_event_key() {
        let keys = keys();
        let (event, registration) = (EventId::now_v7(), RegistrationId::now_v7());
        let payload = keys.issue_ticket(event, registration);
        assert!(payload.starts_with("EVR1."));
        assert_eq!(payload.len(), 144);

        let claims = verify_ticket(&payload, &keys.ticket_public_key(event)).unwrap();
        assert_eq!(claims.event_id, event);
        assert_eq!(claims.registration_id, registration);
        assert_eq!(keys.verify_ticket(&payload).unwrap(), claims);
        assert_eq!(ticket_event_id(&payload).unwrap(), event);
    }

    #[test]
    fn issuing_is_deterministic_and_survives_a_secret_round_trip() {
        let keys = keys();
        let (event, registration) = (EventId::now_v7(), RegistrationId::now_v7());
        let again = AttendeeKeys::from_base64(&format!("{}\n", keys.to_base64())).unwrap();
        assert_eq!(
            keys.issue_ticket(event, registration),
            keys.issue_ticket(event, registration)
        );
        assert_eq!(
            keys.issue_ticket(event, registration),
            again.issue_ticket(event, registration)
        );
        assert_eq!(
            keys.ticket_public_key(event),
            again.ticket_public_key(event)
        );
    }

    #[test]
    fn tickets_differ_by_registration_event_and_secret() {
        let keys = keys();
        let event = EventId::now_v7();
        let a = keys.issue_ticket(event, RegistrationId::now_v7());
        let b = keys.issue_ticket(event, RegistrationId::now_v7());
        assert_ne!(a, b);
        let claims_a = keys.verify_ticket(&a).unwrap();
        let claims_b = keys.verify_ticket(&b).unwrap();
        assert_ne!(claims_a.nonce, claims_b.nonce);

        assert_ne!(
            keys.ticket_public_key(event),
            keys.ticket_public_key(EventId::now_v7())
        );
        let other = AttendeeKeys::generate();
        assert_ne!(
            keys.ticket_public_key(event),
            other.ticket_public_key(event)
        );
        assert!(matches!(other.verify_ticket(&a), Err(TicketError::Forged)));
    }

    #[test]
    fn any_flipped_byte_is_refused() {
        let keys = keys();
        let payload = keys.issue_ticket(EventId::now_v7(), RegistrationId::now_v7());
        for i in 0..payload.len() {
            let mut bytes = payload.clone().into_bytes();
            bytes[i] ^= 1;
            let tampered = String::from_utf8(bytes).unwrap();
            assert!(keys.verify_ticket(&tampered).is_err(), "position {i}");
        }

        // The same on the decoded bytes, so every byte of every field is covered whatever
        // the base64 alphabet does.
        let raw = URL_SAFE_NO_PAD.decode(&payload[PREFIX.len()..]).unwrap();
        for i in 0..raw.len() {
            for bit in [0, 7] {
                let mut raw = raw.clone();
                raw[i] ^= 1 << bit;
                let tampered = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(&raw));
                assert!(
                    matches!(keys.verify_ticket(&tampered), Err(TicketError::Forged)),
                    "byte {i} bit {bit}"
                );
            }
        }
    }

    #[test]
    fn another_events_key_refuses_the_ticket() {
        let keys = keys();
        let payload = keys.issue_ticket(EventId::now_v7(), RegistrationId::now_v7());
        let other = keys.ticket_public_key(EventId::now_v7());
        assert!(matches!(
            verify_ticket(&payload, &other),
            Err(TicketError::Forged)
        ));
    }

    #[test]
    fn truncated_and_garbage_payloads_are_malformed() {
        let keys = keys();
        let event = EventId::now_v7();
        let key = keys.ticket_public_key(event);
        let payload = keys.issue_ticket(event, RegistrationId::now_v7());
        for len in 0..payload.len() {
            assert!(
                matches!(
                    verify_ticket(&payload[..len], &key),
                    Err(TicketError::Malformed)
                ),
                "truncated to {len}"
            );
        }
        let longer = format!("{payload}AA");
        for garbage in [
            "",
            "EVR1.",
            "EVR1.!!!!",
            "EVR2.AAAA",
            "hello world",
            &payload[PREFIX.len()..],
            &payload.replace("EVR1.", "EVR2."),
            &payload.replace("EVR1.", "evr1."),
            &longer,
        ] {
            assert!(
                matches!(verify_ticket(garbage, &key), Err(TicketError::Malformed)),
                "{garbage:?}"
            );
            assert!(matches!(
                keys.verify_ticket(garbage),
                Err(TicketError::Malformed)
            ));
            assert!(ticket_event_id(garbage).is_err());
        }
    }

    #[test]
    fn public_keys_round_trip_as_base64url() {
        let key = keys().ticket_public_key(EventId::now_v7());
        let text = key.to_base64url();
        assert_eq!(TicketPublicKey::from_base64url(&text).unwrap(), key);
        for bad in ["", "abc", "!!!!", &text[1..]] {
            assert!(matches!(
                TicketPublicKey::from_base64url(bad),
                Err(TicketError::InvalidPublicKey)
            ));
        }
    }

    #[test]
    fn manage_tokens_verify_only_for_their_registration() {
        let keys = keys();
        let (registration, other) = (RegistrationId::now_v7(), RegistrationId::now_v7());
        let token = keys.manage_token(registration);
        assert_eq!(token, keys.manage_token(registration));
        assert!(keys.verify_manage_token(registration, &token));
        assert!(!keys.verify_manage_token(other, &token));
        assert!(!AttendeeKeys::generate().verify_manage_token(registration, &token));

        for i in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] ^= 1;
            let altered = String::from_utf8(bytes).unwrap();
            assert!(!keys.verify_manage_token(registration, &altered), "{i}");
        }
        for bad in ["", "x", &token[..token.len() - 1], &format!("{token}A")] {
            assert!(!keys.verify_manage_token(registration, bad), "{bad:?}");
        }
    }

    #[test]
    fn short_or_invalid_secrets_are_refused() {
        assert!(matches!(
            AttendeeKeys::from_secret(&[1u8; 31]),
            Err(TicketError::SecretTooShort)
        ));
        assert!(AttendeeKeys::from_secret(&[1u8; 64]).is_ok());
        assert!(matches!(
            AttendeeKeys::from_base64("not base64!"),
            Err(TicketError::SecretNotBase64)
        ));
        assert!(matches!(
            AttendeeKeys::from_base64(&STANDARD.encode([1u8; 16])),
            Err(TicketError::SecretTooShort)
        ));
    }

    #[test]
    fn debug_does_not_print_the_secret() {
        let keys = keys();
        let debug = format!("{keys:?}");
        assert!(!debug.contains(&keys.to_base64()));
        assert!(!debug.contains("7, 7"));
        assert_eq!(debug, "AttendeeKeys { .. }");
    }

    #[test]
    fn keys_are_shareable_across_threads() {
        fn assert_traits<T: Clone + Send + Sync + 'static>() {}
        assert_traits::<AttendeeKeys>();
        assert_traits::<TicketPublicKey>();
    }

    #[test]
    fn qr_png_decodes_back_to_a_valid_ticket() {
        let keys = keys();
        let payload = keys.issue_ticket(EventId::now_v7(), RegistrationId::now_v7());
        let png = qr_png(&payload).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));

        let image = image::load_from_memory(&png).unwrap().to_luma8();
        let mut prepared = rqrr::PreparedImage::prepare(image);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, decoded) = grids[0].decode().unwrap();
        assert_eq!(decoded, payload);
        keys.verify_ticket(&decoded).unwrap();
    }
}
