//! The emails of the attendee journey, as [`Mail`] values: pure text in, pure text out.
//! [`to_mime`] turns one into the RFC 5322 message every mailer adapter sends, so SES and the
//! local `.eml` files carry the same bytes.

mod mime;

pub use mime::to_mime;

use chrono_tz::Tz;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use crate::domain::calendar::{local_time, When, DAY_AND_TIME};
use crate::domain::{Event, RefundReason, Registration};
use crate::ports::{Attachment, Mail};

/// "You're in": the seat is confirmed, the ticket is attached and shown inline.
pub fn confirmation(
    event: &Event,
    registration: &Registration,
    manage_url: &str,
    ticket_png: Vec<u8>,
) -> Mail {
    let intro = format!("You're registered for {}.", event.name);
    with_ticket(
        format!("You're in: {}", event.name),
        "You're in",
        &intro,
        event,
        registration,
        manage_url,
        ticket_png,
    )
}

/// A seat freed up and the first on the waitlist got it.
pub fn promoted(
    event: &Event,
    registration: &Registration,
    manage_url: &str,
    ticket_png: Vec<u8>,
) -> Mail {
    let intro = format!(
        "Good news: a seat freed up for {}, and it is yours. You're off the waitlist.",
        event.name
    );
    with_ticket(
        format!("A seat is yours: {}", event.name),
        "A seat is yours",
        &intro,
        event,
        registration,
        manage_url,
        ticket_png,
    )
}

/// The mail telling an attendee they are on the waitlist, with their manage link.
pub fn waitlisted(event: &Event, registration: &Registration, manage_url: &str) -> Mail {
    let intro = format!(
        "{} is full, so you're on the waitlist. We'll email you if a seat frees up.",
        event.name
    );
    let outro = "Changed your plans? Leave the waitlist here:";
    let text = format!(
        "{}\n\n{}\n\n{}\n{}\n{}\n",
        greeting(registration),
        intro,
        details_text(event),
        outro,
        manage_url,
    );
    let html = layout(
        "You're on the waitlist",
        &format!(
            "{}<p>{}</p>{}<p>{}</p>{}",
            greeting_html(registration),
            escape_html(&intro),
            details_html(event),
            escape_html(outro),
            button(manage_url, "Leave the waitlist"),
        ),
    );
    Mail {
        to: registration.email.clone(),
        subject: format!("You're on the waitlist: {}", event.name),
        text,
        html,
        attachments: Vec::new(),
    }
}

/// The organizers cancelled the whole event: every registrant (seat or waitlist) is told.
pub fn event_cancelled(event: &Event, registration: &Registration) -> Mail {
    notice(
        event,
        registration,
        "Event cancelled",
        format!("Cancelled: {}", event.name),
        &format!(
            "We're sorry: {} has been cancelled by the organizers, so your registration no longer holds.",
            event.name
        ),
        "You don't need to do anything.",
    )
}

/// The mail confirming an attendee's cancellation.
pub fn cancelled(event: &Event, registration: &Registration) -> Mail {
    notice(
        event,
        registration,
        "Registration cancelled",
        format!("Registration cancelled: {}", event.name),
        &format!(
            "Your registration for {} is cancelled, and your seat is released.",
            event.name
        ),
        "If this was a mistake, register again while seats are available.",
    )
}

/// A seat of a paid event freed up and is held for the first on the waitlist until the
/// offer lapses: pay at `checkout_url` to take it.
pub fn offer(
    event: &Event,
    registration: &Registration,
    checkout_url: &str,
    expires_at: OffsetDateTime,
    manage_url: &str,
) -> Mail {
    let intro = format!(
        "Good news: a seat freed up for {}, and it is held for you until {}. Pay to take it:",
        event.name,
        on_event_clock(event, expires_at)
    );
    let outro =
        "After that the seat passes to the next in line. Don't want it? Leave the waitlist:";
    let text = format!(
        "{}

{}
{}

{}
{}
{}
",
        greeting(registration),
        intro,
        checkout_url,
        details_text(event),
        outro,
        manage_url,
    );
    let html = layout(
        "A seat is held for you",
        &format!(
            "{}<p>{}</p>{}{}<p>{}</p>{}",
            greeting_html(registration),
            escape_html(&intro),
            button(checkout_url, "Pay and take the seat"),
            details_html(event),
            escape_html(outro),
            button(manage_url, "Leave the waitlist"),
        ),
    );
    Mail {
        to: registration.email.clone(),
        subject: format!("A seat is held for you: {}", event.name),
        text,
        html,
        attachments: Vec::new(),
    }
}

/// The seat held for payment (or offered from the waitlist) lapsed unpaid and was released.
pub fn hold_expired(event: &Event, registration: &Registration) -> Mail {
    notice(
        event,
        registration,
        "Your held seat was released",
        format!("Seat released: {}", event.name),
        &format!(
            "The seat held for you at {} was not paid in time, so it has been released.",
            event.name
        ),
        "If you still want to come, register again while seats are available.",
    )
}

/// Money went back to the attendee: how much and why.
pub fn refunded(
    event: &Event,
    registration: &Registration,
    amount: &str,
    reason: RefundReason,
) -> Mail {
    let why = match reason {
        RefundReason::Cancelled => "your registration was cancelled",
        RefundReason::LatePayment => {
            "your payment arrived after your held seat had been released, so it holds no seat"
        }
        RefundReason::EventCancelled => "the event was cancelled",
    };
    notice(
        event,
        registration,
        "Refund on its way",
        format!("Refund: {}", event.name),
        &format!("We have refunded {amount} for {}: {why}.", event.name),
        "Refunds take a few days to reach your account, depending on your bank.",
    )
}

/// A plain notice: greeting, what happened, the event's details, what to do next.
fn notice(
    event: &Event,
    registration: &Registration,
    heading: &str,
    subject: String,
    intro: &str,
    outro: &str,
) -> Mail {
    let text = format!(
        "{}\n\n{}\n\n{}\n{}\n",
        greeting(registration),
        intro,
        details_text(event),
        outro,
    );
    let html = layout(
        heading,
        &format!(
            "{}<p>{}</p>{}<p>{}</p>",
            greeting_html(registration),
            escape_html(intro),
            details_html(event),
            escape_html(outro),
        ),
    );
    Mail {
        to: registration.email.clone(),
        subject,
        text,
        html,
        attachments: Vec::new(),
    }
}

/// The one-time token to set a new password, as a link and as text (for clients that
/// call `POST /auth/password-reset/confirm` themselves).
pub fn password_reset(to: &str, token: &str, reset_url: &str, expires_at: OffsetDateTime) -> Mail {
    let intro = "Someone asked to reset the password of your evreg account. \
                 If it was you, set a new password here:";
    let expiry = format!(
        "The link works once, until {}. Your current sessions end when the password changes.",
        human_utc(expires_at)
    );
    let ignore = "If it wasn't you, ignore this email: your password stays as it is.";
    let text =
        format!("Hi,\n\n{intro}\n{reset_url}\n\nReset token: {token}\n\n{expiry}\n\n{ignore}\n");
    let html = layout(
        "Reset your password",
        &format!(
            "<p>Hi,</p><p>{}</p>{}<p>Reset token: <code>{}</code></p><p>{}</p><p>{}</p>",
            escape_html(intro),
            button(reset_url, "Set a new password"),
            escape_html(token),
            escape_html(&expiry),
            escape_html(ignore),
        ),
    );
    Mail {
        to: to.to_owned(),
        subject: "Reset your evreg password".into(),
        text,
        html,
        attachments: Vec::new(),
    }
}

/// Confirmation and promotion differ only in their words: both carry the ticket.
fn with_ticket(
    subject: String,
    heading: &str,
    intro: &str,
    event: &Event,
    registration: &Registration,
    manage_url: &str,
    ticket_png: Vec<u8>,
) -> Mail {
    let content_id = format!("ticket-{}@evreg", registration.id.as_uuid().simple());
    let show = "Show the QR code of your ticket (attached) at the door.";
    let manage = "View or cancel your registration:";
    let text = format!(
        "{}\n\n{}\n\n{}\n{}\n\n{}\n{}\n",
        greeting(registration),
        intro,
        details_text(event),
        show,
        manage,
        manage_url,
    );
    let html = layout(
        heading,
        &format!(
            "{}<p>{}</p>{}<p>{}</p>\
             <p><img src=\"cid:{}\" alt=\"Ticket QR code\" width=\"240\" height=\"240\"></p>\
             <p>{}</p>{}",
            greeting_html(registration),
            escape_html(intro),
            details_html(event),
            escape_html(show),
            escape_html(&content_id),
            escape_html(manage),
            button(manage_url, "Manage registration"),
        ),
    );
    Mail {
        to: registration.email.clone(),
        subject,
        text,
        html,
        attachments: vec![Attachment {
            filename: "ticket.png".into(),
            content_type: "image/png".into(),
            content_id: Some(content_id),
            bytes: ticket_png,
        }],
    }
}

fn greeting(registration: &Registration) -> String {
    format!("Hi {},", registration.full_name)
}

fn greeting_html(registration: &Registration) -> String {
    format!("<p>Hi {},</p>", escape_html(&registration.full_name))
}

fn details(event: &Event) -> [(&'static str, String); 3] {
    let When { starts, ends, .. } = When::of(event);
    let mut when = match ends {
        Some(ends) => format!("{starts} – {ends}"),
        None => starts,
    };
    // The abbreviation alone is ambiguous (CST is three zones); UTC says all there is.
    if event.timezone != Tz::UTC {
        when.push_str(&format!(" ({})", event.timezone.name()));
    }
    [
        ("Event", event.name.clone()),
        ("When", when),
        ("Where", event.venue.clone()),
    ]
}

fn details_text(event: &Event) -> String {
    details(event)
        .iter()
        .map(|(label, value)| format!("{label}: {value}\n"))
        .collect()
}

fn details_html(event: &Event) -> String {
    let rows: String = details(event)
        .iter()
        .map(|(label, value)| {
            format!(
                "<tr><th align=\"left\" style=\"padding:2px 12px 2px 0\">{label}</th>\
                 <td>{}</td></tr>",
                escape_html(value)
            )
        })
        .collect();
    format!("<table role=\"presentation\">{rows}</table>")
}

fn button(url: &str, label: &str) -> String {
    format!(
        "<p><a href=\"{0}\" style=\"display:inline-block;padding:10px 16px;background:#1f6feb;\
         color:#ffffff;text-decoration:none;border-radius:4px\">{1}</a></p>\
         <p style=\"font-size:12px;color:#57606a\">Or open {0}</p>",
        escape_html(url),
        escape_html(label),
    )
}

/// The one HTML frame of every email; `body` is HTML already escaped by the caller.
fn layout(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{0}</title></head>\n\
         <body style=\"margin:0;padding:24px;background:#f6f8fa;\
         font-family:Helvetica,Arial,sans-serif;color:#24292f\">\n\
         <div style=\"max-width:560px;margin:0 auto;padding:24px;background:#ffffff;\
         border-radius:8px\">\n<h1 style=\"font-size:22px;margin-top:0\">{0}</h1>\n{1}\n\
         </div>\n</body></html>\n",
        escape_html(title),
        body,
    )
}

/// `at` on the event's clock, as its pages show it: "Monday 1 March 2027, 19:00 CET".
fn on_event_clock(event: &Event, at: OffsetDateTime) -> String {
    local_time(at, event.timezone)
        .format(DAY_AND_TIME)
        .to_string()
}

/// "Monday, 1 March 2027, 18:00 UTC": an account has no time zone, so one unambiguous zone.
fn human_utc(at: OffsetDateTime) -> String {
    let format = format_description!(
        "[weekday], [day padding:none] [month repr:long] [year], [hour]:[minute] UTC"
    );
    let at = at.to_offset(UtcOffset::UTC);
    // Formatting a complete UTC datetime cannot fail; the fallback only avoids a panic path.
    at.format(format).unwrap_or_else(|_| at.to_string())
}

/// `raw` as HTML text or a double-quoted attribute value, by askama's escaper (the pages'
/// template engine): `&<>"'` become character references.
fn escape_html(raw: &str) -> String {
    let Ok(escaped) = askama::filters::escape(raw, askama::filters::Html);
    escaped.to_string()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;
    use crate::domain::{EventId, EventStatus, RegistrationId, RegistrationStatus, UserId};

    const MANAGE: &str = "https://evreg.example/registrations/r1?token=a&b";

    fn event() -> Event {
        Event {
            id: EventId::from_uuid(Uuid::nil()),
            owner_id: UserId::from_uuid(Uuid::nil()),
            name: "Rust <Meetup>".into(),
            slug: "rust-meetup".into(),
            description: String::new(),
            date: datetime!(2027-03-01 19:00 +01:00),
            end_date: None,
            venue: "Hall A".into(),
            timezone: chrono_tz::Tz::UTC,
            max_capacity: 2,
            price_cents: 0,
            currency: "EUR".into(),
            status: EventStatus::Published,
            waitlist_enabled: true,
            payment_window_minutes: 30,
            offer_window_minutes: 720,
            refund_policy: crate::domain::RefundPolicy::default(),
            created_at: datetime!(2027-01-01 0:00 UTC),
        }
    }

    fn registration() -> Registration {
        Registration {
            id: RegistrationId::from_uuid(Uuid::from_u128(0xabc)),
            event_id: EventId::from_uuid(Uuid::nil()),
            email: "ann@example.org".into(),
            full_name: "<script>&\"".into(),
            phone: None,
            status: RegistrationStatus::Confirmed,
            created_at: datetime!(2027-01-02 0:00 UTC),
            checked_in_at: None,
            hold: None,
            payment: None,
            cancelled_at: None,
        }
    }

    fn all() -> Vec<Mail> {
        let (e, r) = (event(), registration());
        vec![
            confirmation(&e, &r, MANAGE, vec![1, 2, 3]),
            promoted(&e, &r, MANAGE, vec![1, 2, 3]),
            waitlisted(&e, &r, MANAGE),
            cancelled(&e, &r),
        ]
    }

    #[test]
    fn interpolated_values_are_escaped_in_html_and_verbatim_in_text() {
        for mail in all() {
            assert!(mail.text.contains("Hi <script>&\","), "{}", mail.text);
            assert!(mail.html.contains("Hi &#60;script&#62;&#38;&#34;,"));
            assert!(!mail.html.contains("<script>"));
            assert!(mail.html.contains("Rust &#60;Meetup&#62;"));
            assert!(mail.subject.ends_with("Rust <Meetup>"));
            assert_eq!(mail.to, "ann@example.org");
        }
    }

    #[test]
    fn the_date_is_human_readable_on_the_events_clock() {
        for mail in all() {
            assert!(mail.text.contains("When: Monday 1 March 2027, 18:00 UTC\n"));
            assert!(mail.html.contains("Monday 1 March 2027, 18:00 UTC"));
            assert!(mail.text.contains("Where: Hall A"));
        }
        let mut berlin = event();
        berlin.timezone = chrono_tz::Europe::Berlin;
        let mail = cancelled(&berlin, &registration());
        assert!(
            mail.text
                .contains("When: Monday 1 March 2027, 19:00 CET (Europe/Berlin)\n"),
            "{}",
            mail.text
        );
        let offer = offer(
            &berlin,
            &registration(),
            "https://pay",
            datetime!(2027-02-01 12:30 UTC),
            MANAGE,
        );
        assert!(offer
            .text
            .contains("until Monday 1 February 2027, 13:30 CET."));
    }

    #[test]
    fn the_manage_link_is_in_both_parts_except_after_cancelling() {
        let mails = all();
        for mail in &mails[..3] {
            assert!(mail.text.contains(MANAGE));
            assert!(mail
                .html
                .contains("href=\"https://evreg.example/registrations/r1?token=a&#38;b\""));
        }
        assert!(!mails[3].text.contains("token"));
    }

    #[test]
    fn tickets_are_attached_and_shown_inline() {
        let mails = all();
        for mail in &mails[..2] {
            let [ticket] = mail.attachments.as_slice() else {
                panic!("one attachment expected: {:?}", mail.attachments);
            };
            assert_eq!(ticket.content_type, "image/png");
            assert_eq!(ticket.bytes, vec![1, 2, 3]);
            let cid = ticket.content_id.as_deref().expect("a content id");
            assert!(mail.html.contains(&format!("<img src=\"cid:{cid}\"")));
        }
        assert!(mails[2..].iter().all(|m| m.attachments.is_empty()));
    }

    #[test]
    fn an_end_date_shows_as_a_range() {
        let mut e = event();
        e.end_date = Some(datetime!(2027-03-01 21:30 UTC));
        let mail = cancelled(&e, &registration());
        assert!(mail
            .text
            .contains("Monday 1 March 2027, 18:00 UTC – 21:30 UTC"));
    }
}
