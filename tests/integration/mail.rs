//! The two mailers: SES (against the emulator) and the `.eml` mailbox directory carry the
//! same MIME, read back and decoded the way a mail client would.

use evreg::adapters::aws::SesMailer;
use evreg::adapters::embedded::mailbox::read_all;
use evreg::adapters::embedded::MailboxDir;
use evreg::domain::{Event, Registration};
use evreg::ports::{Mail, Mailer};
use evreg_tests::emulator::{sdk_config, unique_prefix};
use evreg_tests::mailbox::{header, parts, sent_to, verify_sender, Part, SentMail};
use serde_json::json;

/// Not a real PNG: the mailers treat attachment bytes as opaque, and every byte value
/// exercises the base64 round trip.
fn ticket_png() -> Vec<u8> {
    (0..=255u8).cycle().take(1000).collect()
}

fn event() -> Event {
    serde_json::from_value(json!({
        "id": "0190a0b0-0000-7000-8000-000000000001",
        "owner_id": "0190a0b0-0000-7000-8000-000000000002",
        "name": "Rust Meetup – Zoë's edition",
        "slug": "rust-meetup",
        "description": "",
        "date": "2027-03-01T18:00:00Z",
        "end_date": null,
        "venue": "Hall A",
        "max_capacity": 2,
        "price_cents": 0,
        "currency": "EUR",
        "status": "PUBLISHED",
        "waitlist_enabled": true,
        "created_at": "2027-01-01T00:00:00Z"
    }))
    .expect("an event")
}

fn registration(email: &str) -> Registration {
    serde_json::from_value(json!({
        "id": "0190a0b0-0000-7000-8000-000000000003",
        "event_id": "0190a0b0-0000-7000-8000-000000000001",
        "email": email,
        "full_name": "Ann <Lee> & Zoë",
        "phone": null,
        "status": "CONFIRMED",
        "created_at": "2027-01-02T00:00:00Z"
    }))
    .expect("a registration")
}

/// A link long enough, and with enough `=`, to be split and escaped by quoted-printable.
const MANAGE: &str = "https://evreg.example/registrations/0190a0b0-0000-7000-8000-000000000003\
                      ?token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyZWcifQ.c2lnbmF0dXJlX2hlcmU=";

fn confirmation(to: &str) -> Mail {
    evreg::mail::confirmation(&event(), &registration(to), MANAGE, ticket_png())
}

fn text_of(parts: &[Part], content_type: &str) -> String {
    let part = parts
        .iter()
        .find(|p| p.content_type == content_type)
        .unwrap_or_else(|| panic!("no {content_type} part in {parts:?}"));
    String::from_utf8(part.body.clone()).expect("UTF-8 text")
}

/// What a reader of `raw` sees: the confirmation's words, link and ticket.
fn assert_is_the_confirmation(raw: &str, mail: &Mail) {
    assert_eq!(
        header(raw, "To").as_deref(),
        Some(format!("<{}>", mail.to).as_str())
    );
    assert!(header(raw, "Message-ID").is_some());
    assert!(header(raw, "Date").is_some());
    assert!(header(raw, "Subject").is_some());
    let parts = parts(raw);
    let text = text_of(&parts, "text/plain");
    let html = text_of(&parts, "text/html");
    assert_eq!(text.replace("\r\n", "\n"), mail.text);
    assert_eq!(html.replace("\r\n", "\n"), mail.html);
    assert!(text.contains(MANAGE), "{text}");
    assert!(html.contains(&format!("href=\"{MANAGE}\"")), "{html}");
    assert!(html.contains("Ann &#60;Lee&#62; &#38; Zoë"));

    let ticket = parts
        .iter()
        .find(|p| p.content_type == "image/png")
        .expect("the ticket part");
    assert_eq!(ticket.body, ticket_png());
    let cid = mail.attachments[0].content_id.as_deref().expect("a cid");
    assert_eq!(
        ticket.header("Content-ID"),
        Some(format!("<{cid}>").as_str())
    );
    assert!(html.contains(&format!("src=\"cid:{cid}\"")));
}

#[tokio::test]
async fn ses_sends_the_confirmation_as_raw_mime() {
    let Some(sdk) = sdk_config().await else {
        return;
    };
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL");
    let prefix = unique_prefix("mail");
    let from = format!("Evreg <tickets@{prefix}.example>");
    let to = format!("ann@{prefix}.example");
    let client = aws_sdk_ses::Client::new(&sdk);
    verify_sender(&client, &from).await;
    let mail = confirmation(&to);

    SesMailer::new(client, &from)
        .send(&mail)
        .await
        .expect("SES accepts the mail");

    let sent: Vec<SentMail> = sent_to(&endpoint, &to).await;
    let [sent] = sent.as_slice() else {
        panic!("one mail to {to} expected: {sent:?}");
    };
    assert_eq!(sent.source, from);
    assert!(sent.destinations.iter().all(|d| d.contains(&to)));
    assert_eq!(sent.subject(), Some(mail.subject.clone()));
    assert_is_the_confirmation(&sent.raw, &mail);
}

#[tokio::test]
async fn ses_refusing_a_mail_is_a_mail_error() {
    let Some(sdk) = sdk_config().await else {
        return;
    };
    let prefix = unique_prefix("mail-unverified");
    let mailer = SesMailer::new(
        aws_sdk_ses::Client::new(&sdk),
        &format!("tickets@{prefix}.example"),
    );
    let refused = mailer
        .send(&confirmation(&format!("ann@{prefix}.example")))
        .await;
    assert!(refused.is_err(), "an unverified sender must fail the send");
}

#[tokio::test]
async fn the_mailbox_dir_writes_the_same_mime_as_an_eml_file() {
    let dir = std::env::temp_dir().join(unique_prefix("mailbox"));
    let to = "ann@attendee.example";
    let mail = confirmation(to);

    MailboxDir::new(dir.clone(), "Evreg <tickets@evreg.example>")
        .send(&mail)
        .await
        .expect("the mailbox writes the mail");

    let files = read_all(&dir).expect("the mailbox directory");
    let [(path, raw)] = files.as_slice() else {
        panic!("one .eml expected: {files:?}");
    };
    assert_eq!(path.extension().and_then(|e| e.to_str()), Some("eml"));
    assert_eq!(
        header(raw, "From").as_deref(),
        Some("\"Evreg\" <tickets@evreg.example>")
    );
    assert_is_the_confirmation(raw, &mail);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
