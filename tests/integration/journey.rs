//! The attendee's journey in AWS mode, end to end over the emulator: register → the tickets
//! worker signs and stores a QR PNG in S3 → the email worker mails it with the manage link
//! → the door scans it once. Plus the delivery guarantees around it: duplicate deliveries
//! make one ticket and one email, a failing mailer dead-letters only its own message, and
//! the outbox sweeper delivers what a failed publish left behind.

use std::sync::Arc;

use async_trait::async_trait;
use aws_lambda_events::sqs::SqsEvent;
use aws_sdk_sqs::types::QueueAttributeName;
use evreg::adapters::embedded::bus::{sqs_record, Delivery};
use evreg::domain::{DomainEvent, Envelope, EventId, RegistrationId};
use evreg::handlers::workers::Worker;
use evreg::ports::{Bus, BusError, Mail, MailError, Mailer};
use evreg::runtime::dev_server::Site;
use evreg::tickets::{verify_ticket, TicketPublicKey};
use evreg::AppContext;
use evreg_tests::api::{create_event, new_organizer, Api, ApiRequest, LambdaApi};
use evreg_tests::apps::{self, AwsApp, TEST_PUBLIC_URL};
use evreg_tests::clock::LaterClock;
use evreg_tests::esm::{batch_of, queue_attribute, receive, visible_messages, EventSourceMapping};
use evreg_tests::mailbox::sent_to;
use evreg_tests::qr::scan_qr;
use http::Method;
use serde_json::json;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const CAPACITY: usize = 5;

/// The emulator's base URL, where it shows the mail SES "sent" (`evreg_tests::mailbox`).
fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL is set in AWS mode")
}

/// An attendee address no other test of the run (one emulator) uses.
fn unique_email(name: &str) -> String {
    format!("{name}-{}@example.org", Uuid::new_v4().simple())
}

/// A fresh organizer's PUBLISHED event: (organizer token, event id).
async fn published_event(api: &dyn Api) -> (String, EventId) {
    let token = new_organizer(api).await;
    let event_id = create_event(api, &token, json!({ "max_capacity": CAPACITY })).await;
    (token, event_id)
}

/// A confirmed registration: (registration id, manage token).
async fn register(
    api: &dyn Api,
    event_id: EventId,
    email: &str,
    name: &str,
) -> (RegistrationId, String) {
    let reply = api
        .post(
            &format!("/events/{event_id}/registrations"),
            None,
            json!({ "email": email, "full_name": name }),
        )
        .await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    assert_eq!(reply.body["status"], "CONFIRMED");
    let id = reply.body["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("registration id");
    let token = reply.body["manage_token"]
        .as_str()
        .expect("manage token")
        .to_owned();
    (id, token)
}

/// The ticket PNG the tickets worker stored in S3, if any.
async fn ticket_in_s3(
    app: &AwsApp,
    event_id: EventId,
    registration_id: RegistrationId,
) -> Option<Vec<u8>> {
    let s3 = evreg::adapters::aws::s3_client(&app.sdk);
    let object = s3
        .get_object()
        .bucket(app.resources.tickets_bucket())
        .key(format!("tickets/{event_id}/{registration_id}.png"))
        .send()
        .await;
    match object {
        Ok(object) => Some(
            object
                .body
                .collect()
                .await
                .expect("S3 object body")
                .into_bytes()
                .to_vec(),
        ),
        Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => None,
        Err(e) => panic!("get_object: {e:?}"),
    }
}

/// Receives every visible message of `queue_url` without deleting any (they stay in flight
/// for the queue's visibility timeout).
async fn receive_all(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
) -> Vec<aws_sdk_sqs::types::Message> {
    let mut all = Vec::new();
    loop {
        let messages = receive(sqs, queue_url).await;
        if messages.is_empty() && visible_messages(sqs, queue_url).await == 0 {
            return all;
        }
        all.extend(messages);
    }
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> String {
    queue_attribute(sqs, queue_url, QueueAttributeName::QueueArn)
        .await
        .expect("a queue ARN")
}

fn envelope_of(message: &aws_sdk_sqs::types::Message) -> Envelope {
    serde_json::from_str(message.body().unwrap_or_default()).expect("a domain event envelope")
}

#[tokio::test]
async fn aws_mode_the_attendee_journey_end_to_end() {
    let Some(app) = AwsApp::start("journey").await else {
        return;
    };
    let api = app.api();
    let (organizer, event_id) = published_event(api.as_ref()).await;
    let email = unique_email("ann");
    let (registration_id, manage_token) = register(api.as_ref(), event_id, &email, "Ann Lee").await;
    assert!(
        ticket_in_s3(&app, event_id, registration_id)
            .await
            .is_none(),
        "no ticket before the tickets worker ran"
    );

    // The tickets worker signs the ticket and stores its QR code in S3.
    assert!(app.mapping(Worker::Tickets).await.drain().await >= 1);
    let png = ticket_in_s3(&app, event_id, registration_id)
        .await
        .expect("the ticket PNG is in S3");
    let payload = scan_qr(&png);

    // A door device verifies it offline, knowing only the event's public key.
    let key = api
        .get(&format!("/events/{event_id}/ticket-key"), None)
        .await;
    assert_eq!(key.status, 200, "{:?}", key.body);
    assert_eq!(key.body["algorithm"], "Ed25519");
    let public_key =
        TicketPublicKey::from_base64url(key.body["public_key"].as_str().expect("public_key"))
            .expect("a valid public key");
    let claims = verify_ticket(&payload, &public_key).expect("the ticket verifies offline");
    assert_eq!(
        (claims.event_id, claims.registration_id),
        (event_id, registration_id)
    );

    // The attendee fetches the same image with the manage token; nobody else can.
    let ticket_path = format!("/registrations/{registration_id}/ticket");
    let mine = api
        .send(ApiRequest::new(Method::GET, &ticket_path).header("x-manage-token", &manage_token))
        .await;
    assert_eq!(mine.status, 200, "{:?}", mine.body);
    assert_eq!(mine.header("content-type"), Some("image/png"));
    assert!(mine.bytes == png, "the API serves the PNG stored in S3");
    let anonymous = api.send(ApiRequest::new(Method::GET, &ticket_path)).await;
    assert_eq!(anonymous.status, 401, "{:?}", anonymous.body);
    // A well-formed token, but another registration's.
    let other_token = app.ctx.attendee_keys.manage_token(RegistrationId::now_v7());
    let wrong = api
        .send(ApiRequest::new(Method::GET, &ticket_path).header("x-manage-token", &other_token))
        .await;
    assert_eq!(wrong.status, 403, "{:?}", wrong.body);

    // The email worker mails the ticket with the manage link.
    assert!(app.mapping(Worker::Email).await.drain().await >= 1);
    let mail = sent_to(&endpoint(), &email).await;
    assert_eq!(mail.len(), 1, "exactly one mail to the attendee");
    let manage_url =
        format!("{TEST_PUBLIC_URL}/registrations/{registration_id}?token={manage_token}");
    assert_eq!(app.ctx.manage_url(registration_id), manage_url);
    let text = mail[0].text().expect("a text part");
    assert!(
        text.contains(&manage_url),
        "text lacks the manage link: {text}"
    );
    let html = mail[0].html().expect("an HTML part");
    assert!(
        html.contains(&manage_url),
        "HTML lacks the manage link: {html}"
    );
    let images: Vec<_> = mail[0]
        .parts()
        .into_iter()
        .filter(|p| p.content_type == "image/png")
        .collect();
    assert_eq!(images.len(), 1, "one PNG attachment");
    assert!(images[0].body == png, "the attachment is the ticket in S3");

    // The door scans it: once in, then refused with the first scan's time.
    let scan = json!({ "ticket": payload });
    let first = api.post("/checkins", Some(&organizer), scan.clone()).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["full_name"], "Ann Lee");
    assert_eq!(first.body["status"], "CHECKED_IN");
    assert_eq!(first.body["registration_id"], registration_id.to_string());
    let first_at = first.body["checked_in_at"].as_str().expect("checked_in_at");
    let again = api.post("/checkins", Some(&organizer), scan).await;
    assert_eq!(
        (again.status, again.code()),
        (409, "already_checked_in"),
        "{:?}",
        again.body
    );
    assert_eq!(again.body["checked_in_at"].as_str(), Some(first_at));

    // The read model counts the check-in.
    app.projection_mapping().await.drain().await;
    let event = api.get(&format!("/events/{event_id}"), None).await;
    assert_eq!(event.status, 200, "{:?}", event.body);
    assert_eq!(event.body["checked_in"], 1, "{:?}", event.body);
    assert_eq!(event.body["registered"], 1, "{:?}", event.body);
}

#[tokio::test]
async fn aws_mode_duplicate_deliveries_make_one_ticket_and_one_email() {
    let Some(app) = AwsApp::start("dupes").await else {
        return;
    };
    let api = app.api();
    let (_, event_id) = published_event(api.as_ref()).await;
    let email = unique_email("dup");
    let (registration_id, _) = register(api.as_ref(), event_id, &email, "Dee Upton").await;
    let sqs = aws_sdk_sqs::Client::new(&app.sdk);

    // The same RegistrationConfirmed delivered twice to the tickets worker.
    let tickets_queue = app.queue_of(Worker::Tickets).to_owned();
    let received = receive_all(&sqs, &tickets_queue).await;
    assert_eq!(received.len(), 1, "one RegistrationConfirmed");
    assert!(matches!(
        envelope_of(&received[0]).event,
        DomainEvent::RegistrationConfirmed { ref registration } if registration.id == registration_id
    ));
    let arn = queue_arn(&sqs, &tickets_queue).await;
    for _ in 0..2 {
        let response = Worker::Tickets
            .handle(&app.ctx, batch_of(&received, &arn))
            .await;
        assert!(response.batch_item_failures.is_empty());
    }
    assert!(ticket_in_s3(&app, event_id, registration_id)
        .await
        .is_some());

    // One TicketIssued reached the email queue.
    let email_queue = app.queue_of(Worker::Email).to_owned();
    let issued = receive_all(&sqs, &email_queue).await;
    assert_eq!(issued.len(), 1, "exactly one TicketIssued");
    assert!(matches!(
        envelope_of(&issued[0]).event,
        DomainEvent::TicketIssued { ref registration, .. } if registration.id == registration_id
    ));

    // Delivered twice to the email worker, it is mailed once.
    let arn = queue_arn(&sqs, &email_queue).await;
    for _ in 0..2 {
        let response = Worker::Email
            .handle(&app.ctx, batch_of(&issued, &arn))
            .await;
        assert!(response.batch_item_failures.is_empty());
    }
    assert_eq!(sent_to(&endpoint(), &email).await.len(), 1);
}

/// The real mailer, except that mail to `poisoned` fails.
struct Failing {
    inner: Arc<dyn Mailer>,
    poisoned: String,
}

#[async_trait]
impl Mailer for Failing {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        if mail.to.contains(&self.poisoned) {
            return Err(MailError("injected mailer failure".into()));
        }
        self.inner.send(mail).await
    }
}

#[tokio::test]
async fn aws_mode_a_failing_mailer_fails_only_its_message_and_dead_letters() {
    let Some(app) = AwsApp::start("mailfail").await else {
        return;
    };
    let api = app.api();
    let (_, event_id) = published_event(api.as_ref()).await;
    let good = unique_email("good");
    let poisoned = unique_email("poisoned");
    register(api.as_ref(), event_id, &good, "Good").await;
    let (poisoned_id, _) = register(api.as_ref(), event_id, &poisoned, "Poisoned").await;
    assert_eq!(app.mapping(Worker::Tickets).await.drain().await, 2);

    let failing = AppContext {
        mailer: Arc::new(Failing {
            inner: app.ctx.mailer.clone(),
            poisoned: poisoned.clone(),
        }),
        ..(*app.ctx).clone()
    };
    let esm = EventSourceMapping::new(
        &app.sdk,
        app.queue_of(Worker::Email),
        Worker::Email,
        Arc::new(failing),
    )
    .await
    .with_immediate_retries();
    let (mut deliveries, mut failures) = (0, 0);
    loop {
        match esm.poll_once().await {
            (0, _) => break,
            (received, failed) => {
                assert!(failed <= 1, "only the poisoned message fails");
                deliveries += received;
                failures += failed;
            }
        }
    }
    assert_eq!(
        (deliveries, failures),
        (1 + 5, 5),
        "the good message once, the poisoned one maxReceiveCount times"
    );

    assert_eq!(sent_to(&endpoint(), &good).await.len(), 1);
    assert!(sent_to(&endpoint(), &poisoned).await.is_empty());
    let sqs = aws_sdk_sqs::Client::new(&app.sdk);
    let dlq = app.resources.queues.get("EmailDLQ").expect("EmailDLQ");
    let dead = receive_all(&sqs, dlq).await;
    assert_eq!(dead.len(), 1, "only the poisoned message is dead-lettered");
    assert!(matches!(
        envelope_of(&dead[0]).event,
        DomainEvent::TicketIssued { ref registration, .. } if registration.id == poisoned_id
    ));
}

/// A bus that is always down.
struct DownBus;

#[async_trait]
impl Bus for DownBus {
    async fn publish(&self, _: &[Envelope]) -> Result<(), BusError> {
        Err(BusError("injected outage".into()))
    }
}

#[tokio::test]
async fn aws_mode_the_sweeper_delivers_what_a_failed_publish_left() {
    let Some(app) = AwsApp::start("sweeper").await else {
        return;
    };
    let (_, event_id) = published_event(app.api().as_ref()).await;
    let down = LambdaApi {
        ctx: Arc::new(AppContext {
            bus: Arc::new(DownBus),
            ..(*app.ctx).clone()
        }),
    };
    let email = unique_email("swept");
    let (registration_id, _) = register(&down, event_id, &email, "Swept").await;
    let left = app.ctx.outbox.unpublished(100).await.unwrap();
    assert!(
        left.iter().any(|e| matches!(
            e.event,
            DomainEvent::RegistrationConfirmed { ref registration } if registration.id == registration_id
        )),
        "the outbox holds the RegistrationConfirmed: {left:?}"
    );

    // Nothing reached the queues; the sweeper, once the grace period is over, delivers it.
    assert_eq!(app.mapping(Worker::Tickets).await.drain().await, 0);
    let later = AppContext {
        clock: Arc::new(LaterClock(
            evreg::handlers::schedules::outbox_sweeper::SWEEP_GRACE + Duration::seconds(1),
        )),
        ..(*app.ctx).clone()
    };
    assert!(
        evreg::handlers::schedules::outbox_sweeper::run(&later)
            .await
            .unwrap()
            >= 1
    );
    assert!(app.ctx.outbox.unpublished(100).await.unwrap().is_empty());

    assert_eq!(app.mapping(Worker::Tickets).await.drain().await, 1);
    assert_eq!(app.mapping(Worker::Email).await.drain().await, 1);
    let mail = sent_to(&endpoint(), &email).await;
    assert_eq!(mail.len(), 1, "the confirmation reached the attendee");
    let manage_url = app.ctx.manage_url(registration_id);
    assert!(mail[0].text().is_some_and(|t| t.contains(&manage_url)));
}

/// The journey in embedded mode, over real HTTP: the ticket image lands under
/// `<files>/blobs/`, the confirmation as an `.eml` under `<files>/mail/`.
#[tokio::test]
async fn embedded_mode_the_ticket_and_the_mail_land_in_local_files() {
    let files = apps::scratch_dir("journey");
    let app = apps::embedded_in(files.clone());
    let (api, server) = apps::serve_over_http(Site::from(&app)).await;
    let (organizer, event_id) = published_event(api.as_ref()).await;
    let email = unique_email("local");
    let (registration_id, token) = register(api.as_ref(), event_id, &email, "Lou Local").await;
    app.bus.until_idle().await;

    let stored =
        std::fs::read(files.join(format!("blobs/tickets/{event_id}/{registration_id}.png")))
            .expect("the ticket image on disk");
    let served = api
        .send(
            ApiRequest::new(
                Method::GET,
                format!("/registrations/{registration_id}/ticket"),
            )
            .header("x-manage-token", token.as_str()),
        )
        .await;
    assert_eq!((served.status, &served.bytes), (200, &stored));
    let ticket = scan_qr(&stored);
    let key = api
        .get(&format!("/events/{event_id}/ticket-key"), None)
        .await;
    let public_key =
        TicketPublicKey::from_base64url(key.body["public_key"].as_str().expect("key")).unwrap();
    assert_eq!(
        verify_ticket(&ticket, &public_key).unwrap().registration_id,
        registration_id
    );

    let mail = evreg::adapters::embedded::mailbox::read_all(&files.join("mail")).unwrap();
    assert_eq!(mail.len(), 1, "one confirmation");
    let text = evreg_tests::mailbox::text_part(&mail[0].1, "text/plain").expect("a text part");
    assert!(text.contains(&app.ctx.manage_url(registration_id)));

    let admitted = api
        .send(
            ApiRequest::new(Method::POST, "/checkins")
                .bearer(&organizer)
                .json(json!({ "ticket": ticket })),
        )
        .await;
    assert_eq!(admitted.status, 200, "{:?}", admitted.body);
    app.bus.until_idle().await;
    let event = api.get(&format!("/events/{event_id}"), None).await;
    assert_eq!(event.body["checked_in"], 1);
    assert!(app.bus.dead_letters().await.unwrap().is_empty());
    server.abort();
}

/// A send that died mid-way (its claim left in flight) blocks duplicates only for the
/// lease: a delivery after it takes over and sends.
#[tokio::test]
async fn embedded_mode_a_send_that_died_is_taken_over_after_its_lease() {
    let files = apps::scratch_dir("lease");
    let app = apps::embedded_in(files.clone());
    let api = LambdaApi {
        ctx: app.ctx.clone(),
    };
    let (_, event_id) = published_event(&api).await;
    let (registration_id, _) = register(&api, event_id, &unique_email("lease"), "Lee").await;
    app.bus.until_idle().await;
    let registration = app
        .ctx
        .registrations
        .registration(registration_id)
        .await
        .unwrap()
        .expect("registration");
    let waitlisted = Envelope::new(
        DomainEvent::RegistrationWaitlisted { registration },
        OffsetDateTime::now_utc(),
    );
    // The claim a crashed send leaves behind.
    let claim = format!("email:{}", waitlisted.id);
    app.ctx
        .idempotency
        .claim(
            &claim,
            "",
            OffsetDateTime::now_utc(),
            Duration::seconds(30),
            Duration::days(1),
        )
        .await
        .unwrap();
    let body = serde_json::to_string(&waitlisted).unwrap();
    let batch = || {
        let mut batch = SqsEvent::default();
        batch.records = vec![sqs_record(Delivery {
            message_id: "m-1",
            receipt_handle: "r-1",
            body: &body,
            kind: Some(waitlisted.kind()),
            receive_count: 2,
            sent_timestamp_ms: None,
            traceparent: None,
            queue_arn: "arn:aws:sqs:us-east-1:000000000000:email",
        })];
        batch
    };
    let mails = || {
        evreg::adapters::embedded::mailbox::read_all(&files.join("mail"))
            .unwrap()
            .len()
    };
    let before = mails();

    let blocked = Worker::Email.handle(&app.ctx, batch()).await;
    assert_eq!(
        blocked.batch_item_failures.len(),
        1,
        "in flight: retried later"
    );
    assert_eq!(mails(), before);
    let after_lease = AppContext {
        clock: Arc::new(LaterClock(Duration::seconds(31))),
        ..(*app.ctx).clone()
    };
    let taken_over = Worker::Email.handle(&after_lease, batch()).await;
    assert!(taken_over.batch_item_failures.is_empty());
    assert_eq!(mails(), before + 1);
}
