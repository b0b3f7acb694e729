//! Access tokens: HS256 JWTs (RFC 7519) with a key id (`kid`) from the [`KeyRing`],
//! issuer `evreg`, audience `evreg-api`, 15 minutes long.

use std::collections::BTreeMap;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::keys::{KeyRing, KeyRingError};
use crate::domain::{Role, UserId};

/// The `iss` claim of every access token.
pub const ISSUER: &str = "evreg";
/// The `aud` claim of every access token.
pub const AUDIENCE: &str = "evreg-api";
/// Short-lived: a role change or deactivation takes effect within this many seconds.
pub const ACCESS_TOKEN_TTL_SECONDS: i64 = 15 * 60;

/// The claims of an access token (RFC 7519 §4.1 names; times in unix seconds).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The account.
    pub sub: UserId,
    /// Its role when issued.
    pub role: Role,
    /// Always [`ISSUER`].
    pub iss: String,
    /// Always [`AUDIENCE`].
    pub aud: String,
    /// Issued at.
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expires at.
    pub exp: i64,
}

/// A signed access token as the API answers it.
#[derive(Debug, Clone, Serialize)]
pub struct AccessToken {
    /// The JWT.
    pub access_token: String,
    /// Always `Bearer` (RFC 6750).
    pub token_type: &'static str,
    /// Seconds until it expires.
    pub expires_in: i64,
}

/// Why a token was not issued or not accepted.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Forged, expired, for another audience, of another algorithm…: refused.
    #[error("the token is not valid")]
    Invalid,
    /// The signing library failed.
    #[error("signing the token failed: {0}")]
    Signing(String),
}

/// Signs access tokens with the ring's active key and verifies them with any key in it.
/// Only HS256 is accepted: `alg: none` and algorithm confusion are refused by construction.
#[derive(Clone)]
pub struct TokenService {
    active_kid: String,
    encoding: EncodingKey,
    decoding: BTreeMap<String, DecodingKey>,
    validation: Validation,
}

impl TokenService {
    /// The service over `ring`; fails when the ring is invalid (see [`KeyRing::decoded`]).
    pub fn new(ring: &KeyRing) -> Result<Self, KeyRingError> {
        let keys = ring.decoded()?;
        let active = keys
            .get(&ring.active)
            .ok_or_else(|| KeyRingError::MissingActive(ring.active.clone()))?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        Ok(Self {
            active_kid: ring.active.clone(),
            encoding: EncodingKey::from_secret(active),
            decoding: keys
                .iter()
                .map(|(kid, key)| (kid.clone(), DecodingKey::from_secret(key)))
                .collect(),
            validation,
        })
    }

    /// A token for `user_id` with `role`, valid for 15 minutes from `now`.
    pub fn issue(
        &self,
        user_id: UserId,
        role: Role,
        now: OffsetDateTime,
    ) -> Result<AccessToken, TokenError> {
        let iat = now.unix_timestamp();
        let claims = Claims {
            sub: user_id,
            role,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat,
            nbf: iat,
            exp: iat + ACCESS_TOKEN_TTL_SECONDS,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.active_kid.clone());
        let access_token = jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| TokenError::Signing(e.to_string()))?;
        Ok(AccessToken {
            access_token,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_TTL_SECONDS,
        })
    }

    /// The claims of `token` if it is one of ours, unexpired: HS256 only, signed with a
    /// key of the ring named by its `kid`, issuer and audience checked.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.decoding.get(kid))
            .ok_or(TokenError::Invalid)?;
        jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|_| TokenError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    fn service(kid: &str) -> TokenService {
        TokenService::new(&KeyRing::generate(kid)).unwrap()
    }

    fn token_at(service: &TokenService, now: OffsetDateTime) -> String {
        service
            .issue(
                UserId::from_uuid(uuid::Uuid::from_u128(1)),
                Role::Organizer,
                now,
            )
            .unwrap()
            .access_token
    }

    #[test]
    fn an_issued_token_verifies() {
        let s = service("k1");
        let claims = s.verify(&token_at(&s, OffsetDateTime::now_utc())).unwrap();
        assert_eq!(claims.sub, UserId::from_uuid(uuid::Uuid::from_u128(1)));
        assert_eq!(claims.role, Role::Organizer);
    }

    #[test]
    fn expired_and_future_tokens_are_refused() {
        let s = service("k1");
        let hour = time::Duration::hours(1);
        assert!(s
            .verify(&token_at(&s, OffsetDateTime::now_utc() - hour))
            .is_err());
        assert!(s
            .verify(&token_at(&s, OffsetDateTime::now_utc() + hour))
            .is_err());
    }

    #[test]
    fn a_token_from_another_key_is_refused() {
        let token = token_at(&service("k1"), OffsetDateTime::now_utc());
        assert!(service("k1").verify(&token).is_err());
    }

    #[test]
    fn a_rotated_ring_still_verifies_old_tokens() {
        let old_ring = KeyRing::generate("k1");
        let old = TokenService::new(&old_ring).unwrap();
        let mut new_ring = KeyRing::generate("k2");
        new_ring.keys.extend(old_ring.keys.clone());
        let new = TokenService::new(&new_ring).unwrap();
        assert!(new
            .verify(&token_at(&old, OffsetDateTime::now_utc()))
            .is_ok());
    }

    #[test]
    fn alg_none_and_tampered_tokens_are_refused() {
        let s = service("k1");
        let token = token_at(&s, OffsetDateTime::now_utc());
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[0] = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT","kid":"k1"}"#);
        assert!(s.verify(&format!("{}.{}.", parts[0], parts[1])).is_err());

        let mut claims: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(token.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap();
        claims["role"] = "ADMIN".into();
        let forged_payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let parts: Vec<&str> = token.split('.').collect();
        assert!(s
            .verify(&format!("{}.{}.{}", parts[0], forged_payload, parts[2]))
            .is_err());
        assert!(s.verify("not a token").is_err());
    }
}
