//! [`Mailer`] as a directory of `.eml` files (`.local/mail/` in the dev server).

use std::io;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use time::macros::format_description;
use time::OffsetDateTime;
use uuid::Uuid;

use super::files::write_atomically;
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

impl MailboxDir {
    async fn deliver(&self, mail: &Mail, key: Option<&str>) -> Result<(), MailError> {
        let mime = to_mime(mail, &self.from)?;
        let (dir, key) = (self.dir.clone(), key.map(str::to_owned));
        let path = tokio::task::spawn_blocking(move || deliver(&dir, &mime, key.as_deref()))
            .await
            .map_err(|e| MailError(Box::new(e)))?
            .map_err(|e| MailError(Box::new(e)))?;
        // The developer's only way to find the mail an action just sent; the recipient is
        // in the file, never in the log (no personal data in logs).
        tracing::info!(path = %path.display(), "mail written");
        Ok(())
    }
}

#[async_trait]
impl Mailer for MailboxDir {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        self.deliver(mail, None).await
    }

    async fn send_keyed(&self, key: &str, mail: &Mail) -> Result<(), MailError> {
        self.deliver(mail, Some(key)).await
    }
}

/// A fresh time-first name: listing names in order lists messages in the order sent.
fn fresh_name() -> io::Result<String> {
    let stamp = OffsetDateTime::now_utc()
        .format(format_description!(
            "[year][month][day]T[hour][minute][second].[subsecond digits:6]Z"
        ))
        .map_err(io::Error::other)?;
    Ok(format!("{stamp}-{}.eml", Uuid::new_v4().simple()))
}

/// Writes `mime` as a new `.eml` file in `dir`. With a `key`, at most one file per key
/// whenever the process dies: the file's name is chosen once and recorded under
/// `.keys/<SHA-256 of key>` before the file is written, so a repeat finds the name, and
/// writes the file only if the first attempt died before it did. (Hand-written: a
/// directory of files has no transactions to lean on.)
fn deliver(dir: &Path, mime: &[u8], key: Option<&str>) -> io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let name = match key {
        None => fresh_name()?,
        Some(key) => {
            let keys = dir.join(".keys");
            std::fs::create_dir_all(&keys)?;
            let record = keys.join(hex::encode(Sha256::digest(key.as_bytes())));
            match std::fs::read_to_string(&record) {
                Ok(name) if dir.join(&name).exists() => return Ok(dir.join(name)),
                Ok(name) => name,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    let name = fresh_name()?;
                    write_atomically(&record, name.as_bytes())?;
                    name
                }
                Err(e) => return Err(e),
            }
        }
    };
    let path = dir.join(name);
    write_atomically(&path, mime)?;
    Ok(path)
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
    async fn a_keyed_mail_is_delivered_once_however_often_it_is_sent() {
        let dir = temp_dir();
        let mailbox = MailboxDir::new(dir.clone(), "tickets@evreg.example");
        mailbox
            .send_keyed("email:1", &mail("ann@example.org"))
            .await
            .unwrap();
        mailbox
            .send_keyed("email:1", &mail("ann@example.org"))
            .await
            .unwrap();
        assert_eq!(read_all(&dir).unwrap().len(), 1);

        // A first attempt that died after choosing the name but before writing the file.
        let delivered = read_all(&dir).unwrap().remove(0).0;
        std::fs::remove_file(&delivered).unwrap();
        mailbox
            .send_keyed("email:1", &mail("ann@example.org"))
            .await
            .unwrap();
        let files = read_all(&dir).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].0, delivered, "under the name chosen first");

        mailbox
            .send_keyed("email:2", &mail("bob@example.org"))
            .await
            .unwrap();
        mailbox.send(&mail("bob@example.org")).await.unwrap();
        assert_eq!(read_all(&dir).unwrap().len(), 3);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_mail_that_cannot_be_built_is_a_mail_error_and_writes_nothing() {
        let dir = temp_dir();
        let mailbox = MailboxDir::new(dir.clone(), "tickets@evreg.example");
        assert!(mailbox.send(&mail("not an address")).await.is_err());
        assert!(read_all(&dir).unwrap().is_empty());
    }
}
