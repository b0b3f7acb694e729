//! The CDN side: the cdn worker invalidates an event's public paths in CloudFront (the
//! emulator records the invalidations; skipped on an emulator without CloudFront), and
//! public GETs carry Cache-Control and an ETag that revalidates to 304, in both modes.

use evreg::handlers::workers::Worker;
use evreg_tests::api::{create_event, new_organizer, ApiRequest};
use evreg_tests::apps::{AwsApp, TestApp};
use evreg_tests::emulator::{skipped_without, Capability};
use evreg_tests::esm::{batch_of, receive};
use http::Method;
use serde_json::json;

#[tokio::test]
async fn aws_mode_a_new_event_invalidates_its_public_paths_under_one_caller_reference() {
    if skipped_without(Capability::CloudFront) {
        return;
    }
    let Some(app) = AwsApp::start("cdn").await else {
        return;
    };
    let api = app.api();
    let organizer = new_organizer(api.as_ref()).await;
    let event_id = create_event(api.as_ref(), &organizer, json!({ "max_capacity": 5 })).await;

    // The message twice, as at-least-once delivery may hand it over.
    let sqs = aws_sdk_sqs::Client::new(&app.sdk);
    let queue = app.queue_of(Worker::Cdn).to_owned();
    let received = receive(&sqs, &queue).await;
    assert_eq!(received.len(), 1, "one EventCreated reached the cdn queue");
    let batch = batch_of(&received, "arn:aws:sqs:us-east-1:000000000000:cdn");
    for _ in 0..2 {
        let response = Worker::Cdn.handle(&app.ctx, batch.clone()).await;
        assert!(response.batch_item_failures.is_empty());
    }

    let recorded = app.invalidations().await.expect("CloudFront is emulated");
    assert_eq!(recorded.len(), 2, "the emulator records each call");
    assert_eq!(
        recorded[0].0, recorded[1].0,
        "one caller reference: CloudFront treats the retry as the same invalidation"
    );
    let event_path = format!("/events/{event_id}");
    assert!(recorded[0].1.contains(&event_path));
    assert!(recorded[0].1.contains("/events"));

    // An update and a cancellation invalidate again, each under its own reference.
    let updated = api
        .send(
            ApiRequest::new(Method::PUT, event_path.as_str())
                .bearer(&organizer)
                .json(json!({ "name": "Renamed", "date": "2027-03-01T18:00:00Z",
                              "venue": "Hall B", "max_capacity": 5, "status": "PUBLISHED" })),
        )
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!(app.mapping(Worker::Cdn).await.drain().await, 1);
    let recorded = app.invalidations().await.expect("CloudFront is emulated");
    assert_eq!(recorded.len(), 3);
    assert_ne!(recorded[2].0, recorded[0].0);
    assert!(recorded[2].1.contains(&event_path));
}

evreg_tests::both_modes!("cache":
    events_get => [public_reads_are_cacheable_and_revalidate],
    event_page => [a_renamed_events_old_and_new_pages_are_invalidated],
);

/// A slug change moves the event page: the cdn worker invalidates the page and calendar
/// file under the old slug (which now answers 404) and under the new one.
async fn a_renamed_events_old_and_new_pages_are_invalidated(app: TestApp) {
    let api = app.api.clone();
    let organizer = new_organizer(api.as_ref()).await;
    let event_id = create_event(api.as_ref(), &organizer, json!({ "max_capacity": 5 })).await;
    app.settle().await;
    let Some(before) = app.invalidated_paths().await else {
        return; // an emulator without CloudFront: nothing records invalidations
    };
    let event = api.get(&format!("/events/{event_id}"), None).await;
    let old_slug = event.body["slug"].as_str().expect("a slug").to_owned();
    let new_slug = format!("{old_slug}-moved");
    assert!(
        before
            .iter()
            .any(|paths| paths.contains(&format!("/e/{old_slug}"))),
        "the new event's page: {before:?}"
    );

    let renamed = api
        .send(
            ApiRequest::new(Method::PUT, format!("/events/{event_id}"))
                .bearer(&organizer)
                .json(
                    json!({ "name": "Moved", "slug": new_slug, "date": "2027-03-01T18:00:00Z",
                              "venue": "Hall A", "max_capacity": 5, "status": "PUBLISHED" }),
                ),
        )
        .await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    app.settle().await;
    let after = app.invalidated_paths().await.expect("still recording");
    let latest = after.last().expect("an invalidation for the rename");
    for slug in [&old_slug, &new_slug] {
        for path in [format!("/e/{slug}"), format!("/e/{slug}.ics")] {
            assert!(latest.contains(&path), "{path} in {latest:?}");
        }
    }
    assert_eq!(api.get(&format!("/e/{old_slug}"), None).await.status, 404);
    assert_eq!(api.get(&format!("/e/{new_slug}"), None).await.status, 200);
}

async fn public_reads_are_cacheable_and_revalidate(app: TestApp) {
    let api = app.api.clone();
    let organizer = new_organizer(api.as_ref()).await;
    let event_id = create_event(api.as_ref(), &organizer, json!({ "max_capacity": 5 })).await;
    for path in [
        format!("/events/{event_id}"),
        format!("/events/{event_id}/ticket-key"),
        "/events".to_owned(),
    ] {
        let first = api.get(&path, None).await;
        assert_eq!(first.status, 200, "{path}: {:?}", first.body);
        let cache_control = first.header("cache-control").unwrap_or_default();
        assert!(
            cache_control.contains("s-maxage="),
            "{path}: {cache_control}"
        );
        assert!(cache_control.contains("stale-while-revalidate="), "{path}");
        let etag = first.header("etag").expect("an ETag").to_owned();

        let revalidated = api
            .send(
                ApiRequest::new(Method::GET, path.as_str()).header("if-none-match", etag.as_str()),
            )
            .await;
        assert_eq!(revalidated.status, 304, "{path}");
        assert!(revalidated.bytes.is_empty());
        assert_eq!(revalidated.header("etag"), Some(etag.as_str()));
    }
    // The event page and its calendar file are cached as the public JSON is. (The page
    // holds a fresh form token and key each time it is rendered, so it is not revalidated
    // by ETag: the CDN fetches it again after s-maxage.)
    let slug = api.get(&format!("/events/{event_id}"), None).await.body["slug"]
        .as_str()
        .expect("a slug")
        .to_owned();
    for path in [format!("/e/{slug}"), format!("/e/{slug}.ics")] {
        let first = api.get(&path, None).await;
        assert_eq!(first.status, 200, "{path}: {:?}", first.body);
        let cache_control = first.header("cache-control").unwrap_or_default();
        assert!(
            cache_control.contains("s-maxage=")
                && cache_control.contains("stale-while-revalidate="),
            "{path}: {cache_control}"
        );
        assert!(first.header("etag").is_some(), "{path}");
    }
    // Signed in, an answer may hold what the public must not see: never shared.
    let own = api
        .get(&format!("/events/{event_id}"), Some(&organizer))
        .await;
    assert_eq!(own.header("cache-control"), Some("private, no-store"));
}
