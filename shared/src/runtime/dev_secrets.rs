//! The dev server's secrets: generated on first run into `<data dir>/secrets/` (owner-only
//! files), read from there afterwards, never in the repository.

use std::path::Path;

use crate::auth::KeyRing;
use crate::ports::BoxError;
use crate::secrets::{PaymentSecrets, Secrets};
use crate::tickets::AttendeeKeys;

/// Dev secrets live in `<data dir>/secrets/`, generated on first run, never in the repo.
pub fn load_or_generate_secrets(data_dir: &Path) -> Result<Secrets, BoxError> {
    let dir = data_dir.join("secrets");
    std::fs::create_dir_all(&dir)?;
    let jwt_path = dir.join("jwt-keys.json");
    let jwt = match std::fs::read_to_string(&jwt_path) {
        Ok(json) => KeyRing::from_json(&json)?,
        Err(_) => {
            let ring = KeyRing::generate("dev-1");
            write_private(&jwt_path, &serde_json::to_string_pretty(&ring)?)?;
            ring
        }
    };
    let webhook_path = dir.join("webhook-secret");
    let webhook = match std::fs::read_to_string(&webhook_path) {
        Ok(text) => text.trim().to_owned(),
        Err(_) => {
            let secret = PaymentSecrets::generated_webhook_secret();
            write_private(&webhook_path, &secret)?;
            secret
        }
    };
    let attendee_path = dir.join("attendee-secret");
    let attendee = match std::fs::read_to_string(&attendee_path) {
        Ok(text) => AttendeeKeys::from_base64(&text)?,
        Err(_) => {
            let keys = AttendeeKeys::generate();
            write_private(&attendee_path, &keys.to_base64())?;
            keys
        }
    };
    Ok(Secrets {
        jwt,
        attendee,
        payments: PaymentSecrets {
            secret_key: None,
            webhook_secrets: vec![webhook],
        },
    })
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}
