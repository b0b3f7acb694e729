//! [`Mailer`] on SES `SendRawEmail`.

use async_trait::async_trait;
use aws_sdk_ses::primitives::Blob;
use aws_sdk_ses::types::RawMessage;
use aws_sdk_ses::Client;

use crate::mail::to_mime;
use crate::ports::{Mail, MailError, Mailer};

/// Sends raw MIME through SES: raw rather than SES's "simple" content because only raw
/// messages carry inline images, and it keeps the bytes identical to the embedded `.eml`s.
///
/// The call is the SES API's `SendRawEmail` rather than SESv2's `SendEmail` with raw
/// content: one sending service behind both (the same verified identities, quotas and
/// message), but `SendRawEmail` is also what every emulator the AWS-mode tests run on
/// has — moto, and LocalStack, whose community edition has no SESv2 — so the mail path is
/// exercised wherever they run. It costs nothing at run time: this SDK crate replaces the
/// SESv2 one, and its wire protocol (AWS Query with XML answers) is SNS's, which every
/// function links already.
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
            .send_raw_email()
            .source(&self.from)
            .destinations(&mail.to)
            .raw_message(raw)
            .send()
            .await
            .map_err(|e| MailError(Box::new(e)))?;
        Ok(())
    }
}
