//! The route and worker handlers fed with the sample events in `events/` — the files
//! `sam local invoke -e` and `cargo lambda invoke --data-file` take — in both modes.

use std::sync::Arc;

use aws_lambda_events::sqs::SqsEvent;
use evreg::handlers::common::attendee_page::form_subject;
use evreg::handlers::routes::match_route;
use evreg::handlers::workers::Worker;
use evreg::http::form::FormTokens;
use evreg::ports::ListingQuery;
use evreg::AppContext;
use evreg_tests::api::{reply_of, Reply};
use evreg_tests::apps::{self, AwsApp};
use evreg_tests::samples::{replaced, sample, with_form_field, with_id, SAMPLE_ORIGIN};
use serde_json::Value;

/// Invokes the route handler for an API Gateway v2 event, as its Lambda would.
async fn invoke(ctx: &AppContext, event: &Value) -> Reply {
    let request = lambda_http::request::from_str(&event.to_string()).expect("API Gateway v2 event");
    let method = request.method().clone();
    let (route, _) = match_route(&method, request.uri().path()).expect("fixture names a route");
    reply_of(evreg::handlers::entrance::serve(route, ctx, request).await)
}

fn with_token(mut event: Value, token: &str) -> Value {
    event["headers"]["authorization"] = Value::String(format!("Bearer {token}"));
    event
}

async fn every_fixture_through_its_handler(ctx: Arc<AppContext>) {
    let health = invoke(&ctx, &sample("health")).await;
    assert_eq!(
        (health.status, &health.body["status"]),
        (200, &Value::from("ok"))
    );

    let signup = invoke(&ctx, &sample("auth-signup")).await;
    assert_eq!(signup.status, 201, "{:?}", signup.body);
    let again = invoke(&ctx, &sample("auth-signup")).await;
    assert_eq!((again.status, again.code()), (409, "email_taken"));

    let login = invoke(&ctx, &sample("auth-login")).await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    let token = login.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();

    let anonymous_me = invoke(&ctx, &sample("me")).await;
    assert_eq!(
        (anonymous_me.status, anonymous_me.code()),
        (401, "unauthenticated")
    );
    let me = invoke(&ctx, &with_token(sample("me"), &token)).await;
    assert_eq!(me.body["email"], signup.body["email"]);

    let forged = invoke(&ctx, &sample("events-create")).await;
    assert_eq!(forged.status, 401, "the placeholder token is not a token");
    let created = invoke(&ctx, &with_token(sample("events-create"), &token)).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["registered"], 0);
    let clash = invoke(&ctx, &with_token(sample("events-create"), &token)).await;
    assert_eq!((clash.status, clash.code()), (409, "slug_taken"));
    let event_id = created.body["id"].as_str().expect("id").to_owned();

    let unknown = invoke(&ctx, &sample("events-get")).await;
    assert_eq!((unknown.status, unknown.code()), (404, "not_found"));
    let got = invoke(&ctx, &with_id(sample("events-get"), &event_id)).await;
    assert_eq!(
        (got.status, &got.body["slug"]),
        (200, &Value::from("rust-meetup"))
    );

    let registered = invoke(&ctx, &with_id(sample("registrations-create"), &event_id)).await;
    assert_eq!(registered.status, 201, "{:?}", registered.body);
    assert_eq!(registered.body["email"], "ann@example.org");
    let duplicate = invoke(&ctx, &with_id(sample("registrations-create"), &event_id)).await;
    assert_eq!(
        (duplicate.status, duplicate.code()),
        (409, "duplicate_registration")
    );
    let nowhere = invoke(&ctx, &sample("registrations-create")).await;
    assert_eq!(nowhere.status, 404);

    let listed = invoke(&ctx, &sample("events-list")).await;
    assert_eq!(listed.status, 200);
    assert!(listed.body["items"].is_array());

    // The event page of the sample's event, and its form as a browser posts it.
    let page = invoke(&ctx, &sample("event-page")).await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    assert!(page
        .body
        .as_str()
        .is_some_and(|html| html.contains("<h1>Rust Meetup</h1>")
            && html.contains("Monday 1 March 2027, 19:00 CET")));
    let form = sample("event-page-register");
    let refused = invoke(&ctx, &form).await;
    assert_eq!(refused.status, 403, "the sample's origin is not this API's");
    assert!(refused
        .body
        .as_str()
        .is_some_and(|html| html.contains("this form may only be sent from its own page")));
    let token = FormTokens::new(&ctx.attendee_keys).issue("rust-meetup", ctx.clock.now());
    let form = replaced(
        &with_form_field(form, "csrf_token", &token),
        &[(SAMPLE_ORIGIN, ctx.public_url.as_str())],
    );
    let posted = invoke(&ctx, &form).await;
    assert_eq!(posted.status, 303, "{:?}", posted.body);
    assert!(posted
        .header("location")
        .is_some_and(|to| to.contains("/registrations/")));
    let placeholder = invoke(
        &ctx,
        &with_form_field(
            replaced(
                &sample("event-page-register"),
                &[(SAMPLE_ORIGIN, ctx.public_url.as_str())],
            ),
            "email",
            "other@example.org",
        ),
    )
    .await;
    assert_eq!(placeholder.status, 403, "the placeholder token is no token");
}

/// The fixtures of the attendee routes — the registration's, the event's list and ticket
/// key, check-in — with their placeholders filled in from a real registration.
async fn the_attendee_fixtures_through_their_handlers(ctx: Arc<AppContext>) {
    let signup = invoke(&ctx, &sample("auth-signup")).await;
    assert_eq!(signup.status, 201, "{:?}", signup.body);
    let login = invoke(&ctx, &sample("auth-login")).await;
    let token = login.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let created = invoke(&ctx, &with_token(sample("events-create"), &token)).await;
    let event_id = created.body["id"].as_str().expect("id").to_owned();
    let registered = invoke(&ctx, &with_id(sample("registrations-create"), &event_id)).await;
    assert_eq!(registered.status, 201, "{:?}", registered.body);
    let registration_id = registered.body["id"].as_str().expect("id").to_owned();
    let manage_token = registered.body["manage_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let for_attendee = |name: &str| {
        replaced(
            &with_id(sample(name), &registration_id),
            &[("REPLACE_WITH_MANAGE_TOKEN", &manage_token)],
        )
    };

    let got = invoke(&ctx, &for_attendee("registrations-get")).await;
    assert_eq!((got.status, &got.body["id"]), (200, &registered.body["id"]));
    let unknown = invoke(&ctx, &sample("registrations-get")).await;
    assert_eq!(unknown.status, 404, "the fixture's own id names nothing");

    let listed = invoke(
        &ctx,
        &replaced(
            &with_id(sample("events-registrations"), &event_id),
            &[("REPLACE_WITH_ACCESS_TOKEN", &token)],
        ),
    )
    .await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert_eq!(listed.body["items"][0]["id"], registered.body["id"]);

    let key = invoke(&ctx, &with_id(sample("events-ticket-key"), &event_id)).await;
    assert_eq!(
        (key.status, &key.body["algorithm"]),
        (200, &Value::from("Ed25519"))
    );

    let ticket = ctx.attendee_keys.issue_ticket(
        event_id.parse().expect("uuid"),
        registration_id.parse().expect("uuid"),
    );
    let checkin = replaced(
        &sample("checkins-create"),
        &[
            ("REPLACE_WITH_QR_PAYLOAD", &ticket),
            ("REPLACE_WITH_ACCESS_TOKEN", &token),
        ],
    );
    let admitted = invoke(&ctx, &checkin).await;
    assert_eq!(admitted.status, 200, "{:?}", admitted.body);
    let placeholder = invoke(
        &ctx,
        &replaced(
            &sample("checkins-create"),
            &[("REPLACE_WITH_ACCESS_TOKEN", &token)],
        ),
    )
    .await;
    assert_eq!(
        (placeholder.status, placeholder.code()),
        (400, "malformed_ticket")
    );

    // Checked in: the seat is used, so it cannot be cancelled any more.
    let cancel = invoke(&ctx, &for_attendee("registrations-cancel")).await;
    assert_eq!((cancel.status, cancel.code()), (409, "already_checked_in"));
    // The attendee page's cancel button as a browser posts it: the placeholder is no form
    // token (the page again, 403); with the page's token, the DELETE's refusal, on the page.
    let form = for_attendee("registrations-form");
    let placeholder = invoke(&ctx, &form).await;
    assert_eq!(placeholder.status, 403, "{:?}", placeholder.body);
    let form_token = FormTokens::new(&ctx.attendee_keys).issue(
        &form_subject(registration_id.parse().expect("uuid")),
        ctx.clock.now(),
    );
    let refused = invoke(&ctx, &with_form_field(form, "csrf_token", &form_token)).await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert!(
        refused
            .body
            .as_str()
            .is_some_and(|page| page.contains("checked in already")),
        "{:?}",
        refused.body
    );
    // The fixture's ticket route answers for this registration (its image may not exist
    // yet: the tickets worker runs behind the bus).
    let image = invoke(&ctx, &for_attendee("registrations-ticket")).await;
    assert!(matches!(image.status, 200 | 404), "{:?}", image.body);
}

/// The SQS sample through the projection worker, twice: at-least-once delivery counts once.
async fn the_projection_worker_takes_the_sqs_sample_once(ctx: Arc<AppContext>) {
    let batch: SqsEvent = serde_json::from_value(sample("sqs-projection")).expect("SQS event");
    let envelope: Value =
        serde_json::from_str(batch.records[0].body.as_deref().unwrap_or_default()).unwrap();
    let event_id: evreg::domain::EventId = envelope["event"]["data"]["event"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    for _ in 0..2 {
        let response = Worker::Projection.handle(&ctx, batch.clone()).await;
        assert!(response.batch_item_failures.is_empty());
    }
    assert_eq!(ctx.read_model.stats(event_id).await.unwrap().registered, 1);
    let page = ctx
        .read_model
        .listings(&ListingQuery::default(), 100, None)
        .await
        .unwrap();
    assert!(page.items.iter().any(|(listing, _)| listing.id == event_id));

    let mut poisoned = batch.clone();
    poisoned.records[1].body = Some("not an envelope".into());
    let response = Worker::Projection.handle(&ctx, poisoned.clone()).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(
        failed,
        vec![poisoned.records[1].message_id.clone().unwrap()],
        "only the bad message fails"
    );
}

macro_rules! both_modes {
    ($($case:ident),* $(,)?) => {
        mod embedded {
            $(#[tokio::test] async fn $case() { super::$case(super::apps::embedded().ctx).await })*
        }
        mod aws {
            $(#[tokio::test] async fn $case() {
                if let Some(app) = super::AwsApp::start("handlers").await { super::$case(app.ctx).await }
            })*
        }
    };
}

both_modes!(
    every_fixture_through_its_handler,
    the_attendee_fixtures_through_their_handlers,
    the_projection_worker_takes_the_sqs_sample_once
);
