//! Mail as MIME (RFC 5322, RFC 2045–2049) through mail-builder: what SES receives raw and
//! what the embedded mailbox writes to `.eml` files.

use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::mime::MimePart;
use mail_builder::MessageBuilder;
use uuid::Uuid;

use crate::ports::{Mail, MailError};

/// The RFC 5322 message for `mail`, sent from `from` (`addr@host` or `Name <addr@host>`):
///
/// ```text
/// multipart/mixed                  only when there are non-inline attachments
///   multipart/related              only when there are inline (content id) images
///     multipart/alternative
///       text/plain
///       text/html
///     image/png; Content-ID        inline images
///   …                              other attachments
/// ```
///
/// The Message-ID is made here, on the sender's domain, rather than by mail-builder from the
/// host name, which on Lambda is a meaningless sandbox name.
pub fn to_mime(mail: &Mail, from: &str) -> Result<Vec<u8>, MailError> {
    let (from_name, from_address) = split_mailbox(from);
    let domain = checked_domain(from_address)?;
    checked_domain(&mail.to)?;

    let mut body = MimePart::new(
        "multipart/alternative",
        vec![
            MimePart::new("text/plain", mail.text.as_str()),
            MimePart::new("text/html", mail.html.as_str()),
        ],
    );
    let inline: Vec<_> = (mail.attachments.iter())
        .filter_map(|a| Some((a, a.content_id.as_deref()?)))
        .collect();
    let attached: Vec<_> = (mail.attachments.iter())
        .filter(|a| a.content_id.is_none())
        .collect();
    if !inline.is_empty() {
        let mut parts = vec![body];
        parts.extend(inline.into_iter().map(|(a, content_id)| {
            MimePart::new(a.content_type.as_str(), a.bytes.as_slice())
                .header(
                    "Content-Disposition",
                    ContentType::new("inline").attribute("filename", a.filename.as_str()),
                )
                .cid(content_id)
        }));
        body = MimePart::new(
            ContentType::new("multipart/related").attribute("type", "multipart/alternative"),
            parts,
        );
    }
    if !attached.is_empty() {
        let mut parts = vec![body];
        parts.extend(attached.into_iter().map(|a| {
            MimePart::new(a.content_type.as_str(), a.bytes.as_slice())
                .attachment(a.filename.as_str())
        }));
        body = MimePart::new("multipart/mixed", parts);
    }

    let from = match from_name {
        Some(name) => Address::new_address(Some(name), from_address),
        None => Address::from(from_address),
    };
    MessageBuilder::new()
        .from(from)
        .to(mail.to.as_str())
        .subject(single_line(&mail.subject))
        .message_id(format!("{}@{domain}", Uuid::new_v4().simple()))
        .body(body)
        .write_to_vec()
        .map_err(|e| MailError(Box::new(e)))
}

/// `Name <addr>` → (Some(name), addr); anything else is taken as a bare address.
fn split_mailbox(mailbox: &str) -> (Option<&str>, &str) {
    let mailbox = mailbox.trim();
    match mailbox.strip_suffix('>').and_then(|m| m.rsplit_once('<')) {
        Some((name, address)) => {
            let name = name.trim().trim_matches('"').trim();
            ((!name.is_empty()).then_some(name), address.trim())
        }
        None => (None, mailbox),
    }
}

/// mail-builder writes addresses into headers verbatim, so anything that could end a header
/// or smuggle in another address is refused here.
fn checked_domain(address: &str) -> Result<&str, MailError> {
    let plain = !address
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'));
    match address.rsplit_once('@') {
        Some((local, domain)) if plain && !local.is_empty() && !domain.is_empty() => Ok(domain),
        _ => Err(MailError(
            format!("not a plain email address: {address:?}").into(),
        )),
    }
}

/// Event names may hold line breaks, which mail-builder would write into the Subject header
/// unencoded, ending it early.
fn single_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::*;
    use crate::ports::Attachment;

    fn mail(attachments: Vec<Attachment>) -> Mail {
        Mail {
            to: "ann@example.org".into(),
            subject: "You're in:\r\nBcc: eve@example.org".into(),
            text: "Hi Ann,\nhttps://evreg.example/manage\n".into(),
            html: "<p>Hi Ann, <img src=\"cid:ticket-1@evreg\"></p>".into(),
            attachments,
        }
    }

    fn ticket(content_id: Option<&str>) -> Attachment {
        Attachment {
            filename: "ticket.png".into(),
            content_type: "image/png".into(),
            content_id: content_id.map(Into::into),
            bytes: (0..=255).collect(),
        }
    }

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).expect("MIME is ASCII")
    }

    #[test]
    fn a_message_has_its_headers_and_both_alternatives() {
        let raw = text(to_mime(&mail(vec![]), "Evreg <tickets@evreg.example>").unwrap());
        let (headers, _) = raw.split_once("\r\n\r\n").unwrap();
        assert!(headers.contains("From: \"Evreg\" <tickets@evreg.example>\r\n"));
        assert!(headers.contains("To: <ann@example.org>\r\n"));
        assert!(headers.contains("Subject: You're in:  Bcc: eve@example.org\r\n"));
        assert!(!headers.contains("\r\nBcc:"));
        assert!(headers.contains("@evreg.example>\r\n"), "{headers}");
        assert!(headers.contains("\r\nDate: "));
        assert!(headers.contains("MIME-Version: 1.0\r\n"));
        assert!(headers.contains("Content-Type: multipart/alternative;"));
        assert!(headers.contains("boundary=\""));
        assert!(raw.contains("Content-Type: text/plain; charset=\"utf-8\"\r\n"));
        assert!(raw.contains("Content-Type: text/html; charset=\"utf-8\"\r\n"));
        assert!(raw.contains("https://evreg.example/manage\r\n"));
        assert!(raw.trim_end().ends_with("--"));
    }

    #[test]
    fn inline_images_are_related_parts_with_a_content_id_in_base64() {
        let raw =
            text(to_mime(&mail(vec![ticket(Some("ticket-1@evreg"))]), "t@e.example").unwrap());
        let (headers, body) = raw.split_once("\r\n\r\n").unwrap();
        assert!(headers.contains("Content-Type: multipart/related; type=\"multipart/alternative\""));
        let alternative = body.find("Content-Type: multipart/alternative").unwrap();
        let image = body.find("Content-Type: image/png").unwrap();
        assert!(alternative < image);
        let part = &body[image..];
        assert!(part.contains("Content-Disposition: inline; filename=\"ticket.png\"\r\n"));
        assert!(part.contains("Content-ID: <ticket-1@evreg>\r\n"));
        assert!(part.contains("Content-Transfer-Encoding: base64\r\n"));
        let expected =
            base64::engine::general_purpose::STANDARD.encode((0..=255).collect::<Vec<u8>>());
        assert!(raw.replace("\r\n", "").contains(&expected));
    }

    #[test]
    fn other_attachments_wrap_everything_in_mixed() {
        let raw = text(
            to_mime(
                &mail(vec![ticket(None), ticket(Some("ticket-1@evreg"))]),
                "t@e.example",
            )
            .unwrap(),
        );
        let mixed = raw.find("Content-Type: multipart/mixed").unwrap();
        let related = raw.find("Content-Type: multipart/related").unwrap();
        assert!(mixed < related);
        assert!(raw.contains("Content-Disposition: attachment; filename=\"ticket.png\"\r\n"));
    }

    #[test]
    fn addresses_that_could_inject_headers_are_refused() {
        let mut bad = mail(vec![]);
        bad.to = "ann@example.org\r\nBcc: eve@example.org".into();
        assert!(to_mime(&bad, "t@e.example").is_err());
        assert!(to_mime(&mail(vec![]), "not an address").is_err());
        assert!(to_mime(&mail(vec![]), "Name <>").is_err());
    }

    #[test]
    fn mailboxes_split_into_name_and_address() {
        assert_eq!(split_mailbox("a@b.c"), (None, "a@b.c"));
        assert_eq!(split_mailbox("Evreg <a@b.c>"), (Some("Evreg"), "a@b.c"));
        assert_eq!(
            split_mailbox("\"Ev Reg\" <a@b.c>"),
            (Some("Ev Reg"), "a@b.c")
        );
        assert_eq!(split_mailbox("<a@b.c>"), (None, "a@b.c"));
    }
}
