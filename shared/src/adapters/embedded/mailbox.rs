//! [`Mailer`] as a directory of `.eml` files (`.local/mail/` in the dev server).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use time::macros::format_description;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::mail::to_mime;
use crate::ports::{Mail, MailError, Mailer};

/// "Sends" mail by writing each message as an `.eml` file, the same MIME SES would get, so
/// a developer opens what an attendee would receive in any mail client.
pub struct MailboxDir {
    dir: PathBuf,
    from: String,
}

impl MailboxDir {
    /// The directory is created on the first send.
    pub fn new(dir: PathBuf, from: &str) -> Self {
        Self {
            dir,
            from: from.to_owned(),
        }
    }
}

#[async_trait]
impl Mailer for MailboxDir {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let mime = to_mime(mail, &self.from)?;
        let dir = self.dir.clone();
        let path = tokio::task::spawn_blocking(move || deliver(&dir, &mime))
            .await
            .map_err(|e| MailError(Box::new(e)))?
            .map_err(|e| MailError(Box::new(e)))?;
        // The developer's only way to find the mail an action just sent; the recipient is
        // in the file, never in the log (no personal data in logs).
        tracing::info!(path = %path.display(), "mail written");
        Ok(())
    }
}

/// Written under a dot-name and renamed into place, so a reader listing `*.eml` never sees a
/// half-written message. The time-first name lists messages in the order they were sent.
fn deliver(dir: &Path, mime: &[u8]) -> io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let stamp = OffsetDateTime::now_utc()
        .format(format_description!(
            "[year][month][day]T[hour][minute][second].[subsecond digits:6]Z"
        ))
        .map_err(io::Error::other)?;
    let name = format!("{stamp}-{}.eml", Uuid::new_v4().simple());
    let temp = dir.join(format!(".{name}.tmp"));
    let written = std::fs::File::create(&temp)
        .and_then(|mut file| file.write_all(mime))
        .and_then(|()| std::fs::rename(&temp, dir.join(&name)));
    if let Err(e) = written {
        // Best effort: the send fails either way, and a stray temp file is harmless.
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    Ok(dir.join(name))
}

/// Every delivered message in `dir`, oldest first, as (path, MIME text); none when `dir`
/// does not exist yet.
pub fn read_all(dir: &Path) -> io::Result<Vec<(PathBuf, String)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let visible = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| !n.starts_with('.') && n.ends_with(".eml"));
        if visible {
            paths.push(path);
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| std::fs::read_to_string(&path).map(|text| (path, text)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(to: &str) -> Mail {
        Mail {
            to: to.into(),
            subject: "Hello".into(),
            text: "text part\n".into(),
            html: "<p>html part</p>".into(),
            attachments: Vec::new(),
        }
    }

    fn temp_dir() -> PathBuf {
        std::env::temp_dir().join(format!("evreg-mailbox-{}", Uuid::new_v4().simple()))
    }

    #[tokio::test]
    async fn each_mail_becomes_one_eml_file_in_send_order() {
        let dir = temp_dir().join("nested");
        let mailbox = MailboxDir::new(dir.clone(), "Evreg <tickets@evreg.example>");
        assert!(read_all(&dir).unwrap().is_empty());

        mailbox.send(&mail("ann@example.org")).await.unwrap();
        mailbox.send(&mail("bob@example.org")).await.unwrap();

        let files = read_all(&dir).unwrap();
        assert_eq!(files.len(), 2);
        assert!(files[0].1.contains("To: <ann@example.org>\r\n"));
        assert!(files[1].1.contains("To: <bob@example.org>\r\n"));
        assert!(files[0].1.contains("html part"));
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            2,
            "no temp files left"
        );
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[tokio::test]
    async fn a_mail_that_cannot_be_built_is_a_mail_error_and_writes_nothing() {
        let dir = temp_dir();
        let mailbox = MailboxDir::new(dir.clone(), "tickets@evreg.example");
        assert!(mailbox.send(&mail("not an address")).await.is_err());
        assert!(read_all(&dir).unwrap().is_empty());
    }
}
