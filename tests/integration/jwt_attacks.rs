//! Forged and misused access tokens, in both modes: every one is refused with 401 on a
//! protected route, while a genuine token from the same key ring is accepted (so a 401
//! means the forgery was caught, not that the setup was broken).

use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use evreg::auth::token::{AUDIENCE, ISSUER};
use evreg::auth::{KeyRing, TokenService};
use evreg::domain::{EventId, Role, User, UserId};
use evreg::AppContext;
use evreg_tests::api::{create_event, Api, LambdaApi};
use evreg_tests::apps::{embedded, serve_over_http, AwsApp};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

const ACTIVE_KID: &str = "k2";
/// A rotated-out key the ring still verifies with.
const OLD_KID: &str = "k1";

#[tokio::test]
async fn aws_forged_tokens_are_refused() {
    let Some(app) = AwsApp::start("jwt").await else {
        return;
    };
    let (ctx, keys) = with_known_keys(&app.ctx);
    let api: Arc<dyn Api> = Arc::new(LambdaApi { ctx: ctx.clone() });
    forged_tokens_are_refused(api, ctx, keys).await;
}

#[tokio::test]
async fn embedded_forged_tokens_are_refused() {
    let app = embedded();
    let (ctx, keys) = with_known_keys(&app.ctx);
    let site = evreg::runtime::dev_server::Site {
        ctx: ctx.clone(),
        payments: app.payments.clone(),
        limiter: None,
        metrics: None,
    };
    let (api, server) = serve_over_http(site).await;
    forged_tokens_are_refused(api, ctx, keys).await;
    server.abort();
}

/// Forging needs the signing secrets, which the apps generate and keep: this is the
/// same application with a key ring the test knows (`k2` active, `k1` rotated out).
fn with_known_keys(ctx: &AppContext) -> (Arc<AppContext>, Keys) {
    let old = KeyRing::generate(OLD_KID);
    let mut ring = KeyRing::generate(ACTIVE_KID);
    ring.keys.extend(old.keys);
    let decoded = ring.decoded().expect("a valid ring");
    let mut ctx = ctx.clone();
    ctx.tokens = TokenService::new(&ring).expect("a token service");
    let keys = Keys {
        active: decoded[ACTIVE_KID].clone(),
        old: decoded[OLD_KID].clone(),
    };
    (Arc::new(ctx), keys)
}

struct Keys {
    active: Vec<u8>,
    old: Vec<u8>,
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// `header.claims.signature`, the signature an HMAC-SHA256 under `secret` whatever the
/// header claims the algorithm is (the shape of an algorithm-confusion attack).
fn hmac_signed(header: Value, claims: &Value, secret: &[u8]) -> String {
    let message = format!("{}.{}", b64(&header), b64(claims));
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(secret),
        Algorithm::HS256,
    )
    .expect("hmac");
    format!("{message}.{signature}")
}

fn hs256(kid: Option<&str>, claims: &Value, secret: &[u8]) -> String {
    let mut header = json!({ "alg": "HS256", "typ": "JWT" });
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    hmac_signed(header, claims, secret)
}

/// A genuine Ed25519 signature (EdDSA) by a key of the attacker's, under our key id.
fn eddsa_signed(claims: &Value) -> String {
    // PKCS#8 v1 for an Ed25519 private key: a fixed prefix, then the 32-byte seed.
    let mut der = hex_bytes("302e020100300506032b657004220420");
    der.extend(rand_bytes());
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(ACTIVE_KID.to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(&der)).expect("EdDSA")
}

/// 32 random bytes (two random UUIDs' worth).
fn rand_bytes() -> Vec<u8> {
    [Uuid::new_v4(), Uuid::new_v4()]
        .iter()
        .flat_map(|id| *id.as_bytes())
        .collect()
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

async fn new_user(ctx: &AppContext, role: Role) -> User {
    let user = User {
        id: UserId::now_v7(),
        email: format!("{}@jwt.example.org", Uuid::new_v4().simple()),
        // Nobody logs in: tokens are issued or forged directly.
        password_hash: "unused".into(),
        role,
        active: true,
        created_at: OffsetDateTime::now_utc(),
    };
    ctx.users
        .create_user(&user, &[])
        .await
        .expect("user")
        .unpublished();
    user
}

fn claims(user: &User, role: Role, iat: i64, nbf: i64, exp: i64) -> Value {
    json!({
        "sub": user.id, "role": role, "iss": ISSUER, "aud": AUDIENCE,
        "iat": iat, "nbf": nbf, "exp": exp,
    })
}

async fn forged_tokens_are_refused(api: Arc<dyn Api>, ctx: Arc<AppContext>, keys: Keys) {
    let organizer = new_user(&ctx, Role::Organizer).await;
    let admin = new_user(&ctx, Role::Admin).await;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let good = claims(&organizer, Role::Organizer, now, now, now + 600);

    // The controls: a token the service issues, and hand-made ones under either key.
    let issued = ctx
        .tokens
        .issue(organizer.id, organizer.role, OffsetDateTime::now_utc())
        .expect("token")
        .access_token;
    for (case, token) in [
        ("issued", issued.clone()),
        (
            "hand-made, active key",
            hs256(Some(ACTIVE_KID), &good, &keys.active),
        ),
        (
            "hand-made, rotated-out key",
            hs256(Some(OLD_KID), &good, &keys.old),
        ),
    ] {
        let me = api.get("/me", Some(&token)).await;
        assert_eq!(me.status, 200, "{case}: {:?}", me.body);
    }

    let with = |field: &str, value: Value| {
        let mut claims = good.clone();
        claims[field] = value;
        claims
    };
    let without = |field: &str| {
        let mut claims = good.clone();
        claims.as_object_mut().expect("object").remove(field);
        claims
    };
    let (issued_header, issued_payload, issued_signature) = {
        let parts: Vec<&str> = issued.split('.').collect();
        (
            parts[0].to_owned(),
            parts[1].to_owned(),
            parts[2].to_owned(),
        )
    };
    let mut promoted: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&issued_payload).expect("b64"))
            .expect("json");
    promoted["role"] = json!("ADMIN");
    // The ticket-signing public key is public: an attacker's favourite HMAC secret.
    let public_key_pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        STANDARD.encode(
            ctx.attendee_keys
                .ticket_public_key(EventId::now_v7())
                .to_base64url()
        )
    );
    let ticket_key = ctx
        .attendee_keys
        .ticket_public_key(EventId::now_v7())
        .to_base64url();

    let cases: Vec<(&str, String)> = vec![
        (
            "alg none, no signature",
            format!(
                "{}.{}.",
                b64(&json!({ "alg": "none", "typ": "JWT", "kid": ACTIVE_KID })),
                b64(&good)
            ),
        ),
        (
            "alg None, the real signature",
            format!(
                "{}.{issued_payload}.{issued_signature}",
                b64(&json!({ "alg": "None", "kid": ACTIVE_KID }))
            ),
        ),
        (
            "alg NONE, no signature part",
            format!(
                "{}.{}",
                b64(&json!({ "alg": "NONE", "kid": ACTIVE_KID })),
                b64(&good)
            ),
        ),
        (
            "RS256 header, HMAC under the real key",
            hmac_signed(
                json!({ "alg": "RS256", "typ": "JWT", "kid": ACTIVE_KID }),
                &good,
                &keys.active,
            ),
        ),
        (
            "EdDSA header, HMAC under the real key",
            hmac_signed(
                json!({ "alg": "EdDSA", "typ": "JWT", "kid": ACTIVE_KID }),
                &good,
                &keys.active,
            ),
        ),
        (
            "ES256 header, HMAC under the real key",
            hmac_signed(
                json!({ "alg": "ES256", "typ": "JWT", "kid": ACTIVE_KID }),
                &good,
                &keys.active,
            ),
        ),
        (
            "a genuine EdDSA signature by another key",
            eddsa_signed(&good),
        ),
        (
            "HS256 under a public-key PEM",
            hs256(Some(ACTIVE_KID), &good, public_key_pem.as_bytes()),
        ),
        (
            "HS256 under the ticket public key",
            hs256(Some(ACTIVE_KID), &good, ticket_key.as_bytes()),
        ),
        (
            "HS256 under the other kid's key",
            hs256(Some(ACTIVE_KID), &good, &keys.old),
        ),
        (
            "expired",
            hs256(
                Some(ACTIVE_KID),
                &with("exp", json!(now - 60)),
                &keys.active,
            ),
        ),
        (
            "not yet valid",
            hs256(
                Some(ACTIVE_KID),
                &with("nbf", json!(now + 120)),
                &keys.active,
            ),
        ),
        (
            "no exp",
            hs256(Some(ACTIVE_KID), &without("exp"), &keys.active),
        ),
        (
            "no nbf",
            hs256(Some(ACTIVE_KID), &without("nbf"), &keys.active),
        ),
        (
            "wrong issuer",
            hs256(Some(ACTIVE_KID), &with("iss", json!("evil")), &keys.active),
        ),
        (
            "no issuer",
            hs256(Some(ACTIVE_KID), &without("iss"), &keys.active),
        ),
        (
            "wrong audience",
            hs256(
                Some(ACTIVE_KID),
                &with("aud", json!("another-api")),
                &keys.active,
            ),
        ),
        (
            "no audience",
            hs256(Some(ACTIVE_KID), &without("aud"), &keys.active),
        ),
        (
            "tampered payload: role ADMIN, not re-signed",
            format!("{issued_header}.{}.{issued_signature}", b64(&promoted)),
        ),
        (
            "tampered signature",
            format!("{issued_header}.{issued_payload}.{}", {
                let mut bytes = URL_SAFE_NO_PAD.decode(&issued_signature).expect("b64");
                bytes[0] ^= 1;
                URL_SAFE_NO_PAD.encode(bytes)
            }),
        ),
        ("unknown kid", hs256(Some("k9"), &good, &keys.active)),
        (
            "kid path traversal",
            hs256(Some("../../dev/null"), &good, b""),
        ),
        ("no kid", hs256(None, &good, &keys.active)),
        ("not a JWT", "not-a-token".to_owned()),
        ("empty", String::new()),
    ];
    for (case, token) in &cases {
        let me = api.get("/me", Some(token)).await;
        assert_eq!(me.status, 401, "{case}: {:?}", me.body);
        assert_eq!(me.code(), "unauthenticated", "{case}");
    }

    // Deactivation: a token issued before it stops working (checked per request, not
    // only at the next login). The ADMIN deactivates through PATCH /users/{id}.
    let admin_token = ctx
        .tokens
        .issue(admin.id, Role::Admin, OffsetDateTime::now_utc())
        .expect("token")
        .access_token;
    // Active, the organizer creates events (the helper asserts the 201).
    create_event(api.as_ref(), &issued, json!({ "max_capacity": 10 })).await;
    let deactivated = api
        .call(
            http::Method::PATCH,
            &format!("/users/{}", organizer.id),
            Some(&admin_token),
            Some(json!({ "active": false })),
        )
        .await;
    assert_eq!(deactivated.status, 200, "{:?}", deactivated.body);
    assert_eq!(deactivated.body["active"], false);
    let me = api.get("/me", Some(&issued)).await;
    assert_eq!(me.status, 401, "deactivated user on GET /me: {:?}", me.body);
    let create = api
        .post(
            "/events",
            Some(&issued),
            json!({ "name": "After", "date": "2027-03-01T18:00:00Z", "venue": "Hall A", "max_capacity": 10 }),
        )
        .await;
    assert_eq!(
        create.status, 401,
        "deactivated organizer on POST /events: {:?}",
        create.body
    );
    println!("jwt attacks: {} forgeries refused", cases.len());
}
