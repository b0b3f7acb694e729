//! Sending mail: SES (`SendRawEmail`) in AWS, `.eml` files under `.local/mail/` in embedded mode.

use async_trait::async_trait;

use super::BoxError;

/// An email as the domain writes it; adapters turn it into MIME and send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// The subject line, plain text.
    pub subject: String,
    /// The `text/plain` part.
    pub text: String,
    /// The `text/html` part; every interpolated value is escaped.
    pub html: String,
    /// Files attached, or shown inline when they have a `content_id`.
    pub attachments: Vec<Attachment>,
}

/// A file in a [`Mail`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The name mail clients show.
    pub filename: String,
    /// Its MIME type (`image/png`).
    pub content_type: String,
    /// Set for images the HTML part shows inline (`<img src="cid:…">`).
    pub content_id: Option<String>,
    /// The file's content.
    pub bytes: Vec<u8>,
}

/// Sends mail.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends `mail`; `Ok` once the provider accepted it.
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;

    /// Sends `mail` as the delivery named `key` (one key, one message, however often the
    /// caller comes back after dying mid-way). A mailer that can tell a repeat (the
    /// `.eml` mailbox) delivers the key once; SES cannot, and this is [`Mailer::send`].
    async fn send_keyed(&self, key: &str, mail: &Mail) -> Result<(), MailError> {
        let _ = key;
        self.send(mail).await
    }
}

/// Sending failed (its cause is the source).
#[derive(Debug, thiserror::Error)]
#[error("sending mail failed")]
pub struct MailError(#[source] pub BoxError);
