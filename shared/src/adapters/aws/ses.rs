//! [`Mailer`] on SES v2 (`SendEmail` with raw MIME content).

use async_trait::async_trait;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};
use aws_sdk_sesv2::Client;

use crate::mail::to_mime;
use crate::ports::{Mail, MailError, Mailer};

/// Sends raw MIME through SES v2: raw rather than SES's "simple" content because only raw
/// messages carry inline images, and it keeps the bytes identical to the embedded `.eml`s.
pub struct SesMailer {
    client: Client,
    from: String,
}

impl SesMailer {
    /// `from` must be an identity verified in SES: `addr@host` or `Name <addr@host>`.
    pub fn new(client: Client, from: &str) -> Self {
        Self {
            client,
            from: from.to_owned(),
        }
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let raw = RawMessage::builder()
            .data(Blob::new(to_mime(mail, &self.from)?))
            .build()
            .map_err(|e| MailError(Box::new(e)))?;
        self.client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&mail.to).build())
            .content(EmailContent::builder().raw(raw).build())
            .send()
            .await
            .map_err(|e| MailError(Box::new(e)))?;
        Ok(())
    }
}
