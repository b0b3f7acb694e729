use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::error::{DomainError, Violations};
use super::validate::{is_plausible_email, normalize_email};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    Admin,
    Organizer,
    Staff,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: Uuid,
    /// Normalized (trimmed, lower-case): the unique identity.
    pub email: String,
    /// Argon2id PHC string; never leaves the server.
    pub password_hash: String,
    pub role: Role,
    pub active: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A validated signup request; the password is still clear text and must be hashed next.
#[derive(Debug)]
pub struct Signup {
    pub email: String,
    pub password: String,
}

pub const MIN_PASSWORD_CHARS: usize = 10;
/// Bounds the work an attacker can make argon2 do per request.
pub const MAX_PASSWORD_BYTES: usize = 1024;

impl Signup {
    pub fn parse(email: &str, password: String) -> Result<Self, DomainError> {
        let email = normalize_email(email);
        let mut violations = Violations::default();
        violations.check(
            is_plausible_email(&email),
            "email",
            "must be an email address",
        );
        violations.check(
            password.chars().count() >= MIN_PASSWORD_CHARS,
            "password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        );
        violations.check(
            password.len() <= MAX_PASSWORD_BYTES,
            "password",
            format!("must be at most {MAX_PASSWORD_BYTES} bytes"),
        );
        violations.into_result()?;
        Ok(Self { email, password })
    }

    /// Self-service signup always makes an organizer; other roles are granted by an admin.
    pub fn into_user(self, id: Uuid, password_hash: String, now: OffsetDateTime) -> User {
        User {
            id,
            email: self.email,
            password_hash,
            role: Role::Organizer,
            active: true,
            created_at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signup_normalizes_the_email() {
        let signup = Signup::parse(" Org@Example.COM", "correct horse".into()).unwrap();
        assert_eq!(signup.email, "org@example.com");
    }

    #[test]
    fn signup_reports_every_invalid_field() {
        let Err(DomainError::Invalid(errors)) = Signup::parse("nope", "short".into()) else {
            panic!("expected invalid");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["email", "password"]);
    }

    #[test]
    fn signup_refuses_huge_passwords() {
        assert!(Signup::parse("a@b.co", "x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
    }

    #[test]
    fn signup_creates_an_active_organizer() {
        let user = Signup::parse("a@b.co", "long enough pw".into())
            .unwrap()
            .into_user(Uuid::nil(), "hash".into(), OffsetDateTime::UNIX_EPOCH);
        assert_eq!(user.role, Role::Organizer);
        assert!(user.active);
    }
}
