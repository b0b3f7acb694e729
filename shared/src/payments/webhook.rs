//! Reading Stripe event bodies (`{"id": "evt_…", "type": "…", "data": {"object": {…}}}`)
//! into the [`WebhookEvent`]s evreg acts on. Only `checkout.session.completed` with
//! `payment_status: "paid"` matters; every other type is read as
//! [`WebhookKind::Other`] and acknowledged.

use serde::Deserialize;

use crate::domain::validate::is_iso4217_currency;
use crate::ports::{WebhookError, WebhookEvent, WebhookKind};

#[derive(Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: Data,
}

#[derive(Deserialize)]
struct Data {
    object: serde_json::Value,
}

/// The subset of a Checkout Session read on completion.
#[derive(Deserialize)]
struct Session {
    client_reference_id: Option<String>,
    payment_intent: Option<String>,
    payment_status: Option<String>,
    amount_total: Option<u64>,
    currency: Option<String>,
}

/// The event in `body` (a verified Stripe event).
pub fn parse(body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    let malformed = |what: &str| WebhookError::MalformedBody(what.to_owned());
    let event: Event =
        serde_json::from_slice(body).map_err(|e| WebhookError::MalformedBody(e.to_string()))?;
    let paid_checkout = event.kind == "checkout.session.completed";
    let kind = match serde_json::from_value::<Session>(event.data.object) {
        Ok(session) if paid_checkout && session.payment_status.as_deref() == Some("paid") => {
            let currency = session
                .currency
                .map(|c| c.to_ascii_uppercase())
                .filter(|c| is_iso4217_currency(c))
                .ok_or_else(|| malformed("a paid checkout without a known currency"))?;
            WebhookKind::CheckoutPaid {
                registration_id: session
                    .client_reference_id
                    .and_then(|id| id.parse().ok())
                    .ok_or_else(|| malformed("a paid checkout without a registration"))?,
                payment_id: session
                    .payment_intent
                    .ok_or_else(|| malformed("a paid checkout without a payment"))?,
                amount_cents: session
                    .amount_total
                    .ok_or_else(|| malformed("a paid checkout without an amount"))?,
                currency,
            }
        }
        Err(e) if paid_checkout => return Err(WebhookError::MalformedBody(e.to_string())),
        _ => WebhookKind::Other(event.kind),
    };
    Ok(WebhookEvent { id: event.id, kind })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::RegistrationId;
    use serde_json::json;

    fn completed(object: serde_json::Value) -> Vec<u8> {
        json!({"id": "evt_1", "type": "checkout.session.completed", "data": {"object": object}})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn a_paid_checkout_reads_as_paid() {
        let registration = RegistrationId::now_v7();
        let body = completed(json!({
            "id": "cs_1", "client_reference_id": registration.to_string(),
            "payment_intent": "pi_1", "payment_status": "paid",
            "amount_total": 1500, "currency": "eur"
        }));
        assert_eq!(
            parse(&body).unwrap(),
            WebhookEvent {
                id: "evt_1".into(),
                kind: WebhookKind::CheckoutPaid {
                    registration_id: registration,
                    payment_id: "pi_1".into(),
                    amount_cents: 1500,
                    currency: "EUR".into(),
                }
            }
        );
    }

    #[test]
    fn other_events_and_unpaid_completions_are_acknowledged() {
        let other = json!({"id": "evt_2", "type": "charge.refunded", "data": {"object": {}}});
        assert_eq!(
            parse(other.to_string().as_bytes()).unwrap().kind,
            WebhookKind::Other("charge.refunded".into())
        );
        let unpaid = completed(json!({"payment_status": "unpaid"}));
        assert!(matches!(
            parse(&unpaid).unwrap().kind,
            WebhookKind::Other(_)
        ));
    }

    #[test]
    fn a_paid_checkout_missing_what_matters_is_malformed() {
        for object in [
            json!({"payment_status": "paid", "payment_intent": "pi", "amount_total": 1, "currency": "eur"}),
            json!({"payment_status": "paid", "client_reference_id": "nope", "payment_intent": "pi", "amount_total": 1, "currency": "eur"}),
            json!({"payment_status": "paid", "client_reference_id": RegistrationId::now_v7().to_string(), "amount_total": 1, "currency": "xyz", "payment_intent": "pi"}),
            json!({"payment_status": "paid", "amount_total": "lots"}),
        ] {
            assert!(
                matches!(
                    parse(&completed(object.clone())),
                    Err(WebhookError::MalformedBody(_))
                ),
                "{object}"
            );
        }
        for body in [&b"not json"[..], b"{}", b"{\"id\":\"e\",\"type\":\"x\"}"] {
            assert!(matches!(parse(body), Err(WebhookError::MalformedBody(_))));
        }
    }
}
