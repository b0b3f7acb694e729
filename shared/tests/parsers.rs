//! Property tests of every parser of untrusted input (issue 10): whatever bytes arrive —
//! a QR code, a manage token, a listing cursor, a bearer token, a webhook's signature and
//! body, an address, a phone number, a request body, a path, an `Idempotency-Key` — no
//! parser panics, and what evreg writes it reads back unchanged (round trips). The CSV
//! cells' property sits beside the export (`events_registrations`).

use evreg::auth::{KeyRing, TokenService};
use evreg::domain::validate::{canonical_email, international_phone};
use evreg::domain::{
    DetailsChange, EventId, NewEvent, NewRegistration, Registration, RegistrationId,
    RegistrationStatus, Role, Signup, UserId,
};
use evreg::handlers::common::idempotency::idempotency_key;
use evreg::handlers::routes::{match_route, ROUTES};
use evreg::http::CursorSigner;
use evreg::payments::{signature, webhook};
use evreg::tickets::{ticket_event_id, verify_ticket, AttendeeKeys};
use proptest::prelude::*;
use serde_json::Value;
use time::OffsetDateTime;

fn keys() -> AttendeeKeys {
    AttendeeKeys::from_secret(&[7; 32]).expect("32 bytes")
}

fn event_id() -> impl Strategy<Value = EventId> {
    any::<u128>().prop_map(|n| EventId::from(uuid::Uuid::from_u128(n)))
}

fn registration_id() -> impl Strategy<Value = RegistrationId> {
    any::<u128>().prop_map(|n| RegistrationId::from(uuid::Uuid::from_u128(n)))
}

/// Any JSON document, nested a few levels: what a client can put in a body.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("\\PC{0,12}", inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A JSON object with the body's field names, each any JSON: the shapes closest to valid.
fn body_with(fields: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop::collection::vec((prop::sample::select(fields), json()), 0..8).prop_map(|pairs| {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    })
}

fn registration(id: RegistrationId, event_id: EventId) -> Registration {
    Registration {
        id,
        event_id,
        email: "ann@example.org".into(),
        full_name: "Ann Lee".into(),
        phone: None,
        status: RegistrationStatus::Confirmed,
        created_at: OffsetDateTime::UNIX_EPOCH,
        checked_in_at: None,
        hold: None,
        payment: None,
        cancelled_at: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn tickets_verify_as_issued_with_either_key(event in event_id(), id in registration_id()) {
        let keys = keys();
        let payload = keys.issue_ticket(event, id);
        let claims = keys.verify_ticket(&payload).expect("our own ticket");
        prop_assert_eq!((claims.event_id, claims.registration_id), (event, id));
        prop_assert_eq!(ticket_event_id(&payload).ok(), Some(event));
        prop_assert!(verify_ticket(&payload, &keys.ticket_public_key(event)).is_ok());
    }

    #[test]
    fn a_ticket_with_any_character_changed_is_refused(
        event in event_id(),
        id in registration_id(),
        at in any::<prop::sample::Index>(),
        by in "[A-Za-z0-9_=.-]",
    ) {
        let keys = keys();
        let payload = keys.issue_ticket(event, id);
        let mut chars: Vec<char> = payload.chars().collect();
        let at = at.index(chars.len());
        let replacement = by.chars().next().unwrap_or('A');
        prop_assume!(chars[at] != replacement);
        chars[at] = replacement;
        let tampered: String = chars.into_iter().collect();
        prop_assert!(keys.verify_ticket(&tampered).is_err(), "{tampered}");
    }

    #[test]
    fn any_scanned_text_is_refused_without_panic(text in "\\PC{0,200}", prefixed in "EVR1[A-Za-z0-9_-]{0,200}") {
        let keys = keys();
        prop_assert!(keys.verify_ticket(&text).is_err());
        prop_assert!(keys.verify_ticket(&prefixed).is_err());
        let _ = ticket_event_id(&text);
    }

    #[test]
    fn manage_tokens_open_only_their_registration(id in registration_id(), other in registration_id(), text in "\\PC{0,80}") {
        let keys = keys();
        let token = keys.manage_token(id);
        prop_assert!(keys.verify_manage_token(id, &token));
        prop_assume!(other != id);
        prop_assert!(!keys.verify_manage_token(other, &token));
        prop_assert!(!keys.verify_manage_token(id, &text) || text == token);
    }

    #[test]
    fn signed_cursors_open_for_their_query_only(query in "\\PC{0,60}", other in "\\PC{0,60}", position in "\\PC{0,120}", text in "\\PC{0,120}") {
        let signer = CursorSigner::new(&keys());
        let signed = signer.sign(&query, &position);
        prop_assert_eq!(signer.open(&query, &signed), Some(position.clone()));
        prop_assume!(other != query);
        prop_assert_eq!(signer.open(&other, &signed), None);
        prop_assert!(signer.open(&query, &text).is_none() || text == signed);
    }

    #[test]
    fn bearer_tokens_verify_as_issued_and_nothing_else_does(user in any::<u128>(), admin in any::<bool>(), text in "\\PC{0,300}", jwtish in "[A-Za-z0-9_-]{1,60}\\.[A-Za-z0-9_-]{1,60}\\.[A-Za-z0-9_-]{0,60}") {
        let tokens = TokenService::new(&KeyRing::generate("k1")).expect("a ring");
        let role = if admin { Role::Admin } else { Role::Staff };
        let user = UserId::from(uuid::Uuid::from_u128(user));
        let issued = tokens.issue(user, role, OffsetDateTime::now_utc()).expect("issued");
        let claims = tokens.verify(&issued.access_token).expect("verifies");
        prop_assert_eq!((claims.sub, claims.role), (user, role));
        prop_assert!(tokens.verify(&text).is_err());
        prop_assert!(tokens.verify(&jwtish).is_err());
    }

    #[test]
    fn webhook_signatures_verify_as_signed_and_any_header_or_body_is_safe(
        body in prop::collection::vec(any::<u8>(), 0..400),
        other in prop::collection::vec(any::<u8>(), 0..400),
        header in "\\PC{0,200}",
        structured in "t=[0-9-]{0,12}(,v1=[0-9a-f]{0,70}){0,3}",
        secret in "whsec_[A-Za-z0-9]{8,40}",
    ) {
        let now = OffsetDateTime::now_utc();
        let secrets = [secret.clone()];
        let signed = signature::sign(&secret, now.unix_timestamp(), &body);
        prop_assert!(signature::verify(&signed, &body, &secrets, now).is_ok());
        prop_assume!(other != body);
        prop_assert!(signature::verify(&signed, &other, &secrets, now).is_err());
        prop_assert!(signature::verify(&header, &body, &secrets, now).is_err());
        prop_assert!(signature::verify(&structured, &body, &secrets, now).is_err());
        let _ = webhook::parse(&body);
    }

    #[test]
    fn webhook_bodies_of_any_json_parse_without_panic(body in json()) {
        let _ = webhook::parse(body.to_string().as_bytes());
    }

    #[test]
    fn addresses_canonicalize_once_and_for_all(text in "\\PC{0,80}", local in "[a-zA-Z0-9._%+-]{1,20}", domain in "[a-zA-Z0-9-]{1,20}\\.(org|com|de|xn--p1ai)") {
        for raw in [text, format!("{local}@{domain}")] {
            if let Ok(canonical) = canonical_email(&raw) {
                prop_assert_eq!(canonical_email(&canonical), Ok(canonical.clone()), "idempotent");
                prop_assert!(canonical.len() <= 254 && canonical.is_ascii());
                let (local, _) = canonical.rsplit_once('@').expect("an @");
                prop_assert_eq!(local.to_ascii_lowercase(), local);
            }
        }
    }

    #[test]
    fn phones_normalize_once_and_for_all(text in "\\PC{0,40}", digits in "\\+[1-9][0-9 ()-]{4,18}") {
        for raw in [text, digits] {
            if let Some(formatted) = international_phone(&raw) {
                prop_assert_eq!(international_phone(&formatted), Some(formatted.clone()), "idempotent");
                prop_assert!(formatted.starts_with('+'));
            }
        }
    }

    #[test]
    fn request_bodies_of_any_shape_are_refused_or_validated_without_panic(
        event in body_with(&["name", "slug", "description", "date", "end_date", "venue", "max_capacity", "price_cents", "currency", "status", "waitlist_enabled", "payment_window_minutes", "offer_window_minutes", "refund_policy"]),
        attendee in body_with(&["email", "full_name", "phone"]),
        details in body_with(&["full_name", "phone", "email"]),
        signup in body_with(&["email", "password"]),
        any_json in json(),
    ) {
        let now = OffsetDateTime::now_utc();
        for value in [&event, &any_json] {
            if let Ok(new) = serde_json::from_value::<NewEvent>(value.clone()) {
                let _ = new.validate(EventId::now_v7(), UserId::now_v7(), now);
            }
        }
        for value in [&attendee, &any_json] {
            if let Ok(new) = serde_json::from_value::<NewRegistration>(value.clone()) {
                let _ = new.confirmed(RegistrationId::now_v7(), EventId::now_v7(), now);
            }
        }
        let existing = registration(RegistrationId::now_v7(), EventId::now_v7());
        for value in [&details, &any_json] {
            if let Ok(change) = serde_json::from_value::<DetailsChange>(value.clone()) {
                let _ = change.apply(&existing);
            }
        }
        if let (Some(email), Some(password)) = (signup["email"].as_str(), signup["password"].as_str()) {
            let _ = Signup::parse(email, password.to_owned());
        }
    }

    #[test]
    fn any_path_finds_at_most_its_route_and_every_route_finds_itself(path in "/\\PC{0,80}", segment in "[^/?#]{1,40}") {
        for method in [http::Method::GET, http::Method::POST, http::Method::TRACE] {
            let _ = match_route(&method, &path);
        }
        for spec in ROUTES {
            let concrete = spec.path.replace("{id}", &segment);
            let (route, params) = match_route(&spec.method, &concrete).expect("its own path");
            prop_assert_eq!(route, spec.route);
            if spec.path.contains("{id}") {
                prop_assert_eq!(params, vec![("id".to_owned(), segment.clone())]);
            }
        }
    }

    #[test]
    fn idempotency_keys_are_bounded_and_trimmed(raw in "\\PC{0,300}") {
        match idempotency_key(&raw) {
            Ok(key) => {
                prop_assert!(!key.is_empty() && key.len() <= 255);
                prop_assert_eq!(key, raw.trim());
            }
            Err(error) => prop_assert_eq!(error.status(), 400),
        }
    }
}

/// The stores' own cursor codec, compiled with the adapters.
#[cfg(any(feature = "aws", feature = "embedded"))]
mod store_cursors {
    use evreg::adapters::cursor;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip_and_anything_else_is_invalid(position in (any::<u64>(), "\\PC{0,40}"), text in "\\PC{0,120}") {
            let encoded = cursor::encode(&position).expect("encodes");
            prop_assert_eq!(cursor::decode::<(u64, String)>(&encoded).ok(), Some(position));
            let _ = cursor::decode::<(u64, String)>(&text);
        }
    }
}
