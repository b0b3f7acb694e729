//! Accounts: roles, sign-up validation and the password rules. Hashing lives in
//! [`crate::auth::password`]; this module never sees anything but the hash.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::error::{DomainError, Violations};
use super::ids::UserId;
use super::validate::canonical_email;

/// What an account may do (wire names `ADMIN`, `ORGANIZER`, `STAFF`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// Everything, including accounts and cancelling any event.
    Admin,
    /// Creates events and manages their own.
    Organizer,
    /// Door staff: lists registrations and checks attendees in, for every event.
    Staff,
}

/// An account as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Its id (UUIDv7).
    pub id: UserId,
    /// Normalized (trimmed, lower-case): the unique identity.
    pub email: String,
    /// Argon2id PHC string; never leaves the server.
    pub password_hash: String,
    /// What it may do.
    pub role: Role,
    /// False once an ADMIN deactivated it: every request with its tokens is refused.
    pub active: bool,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A validated signup request; the password is still clear text and must be hashed next.
#[derive(Debug)]
pub struct Signup {
    /// Canonical (see [`canonical_email`]).
    pub email: String,
    /// As typed; hash it next.
    pub password: String,
}

/// The shortest password accepted, in characters (NIST SP 800-63B asks for at least 8).
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest password accepted, in characters: at most 1 KiB of UTF-8, which bounds the
/// work an attacker can make argon2 do per request, counted in the unit a client's
/// form (and the OpenAPI document's `maxLength`) counts.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// The password rules of sign-up, account creation and password reset alike.
pub fn validate_password(password: &str) -> Result<(), DomainError> {
    let mut violations = Violations::default();
    check_password(&mut violations, password);
    violations.into_result()
}

fn check_password(violations: &mut Violations, password: &str) {
    violations.check(
        password.chars().count() >= MIN_PASSWORD_CHARS,
        "password",
        format!("must be at least {MIN_PASSWORD_CHARS} characters"),
    );
    violations.check(
        password.chars().count() <= MAX_PASSWORD_CHARS,
        "password",
        format!("must be at most {MAX_PASSWORD_CHARS} characters"),
    );
}

impl Signup {
    /// Validates an email and password pair; every invalid field is reported at once.
    pub fn parse(email: &str, password: String) -> Result<Self, DomainError> {
        let mut violations = Violations::default();
        let email = violations.accept("email", canonical_email(email));
        check_password(&mut violations, &password);
        violations.into_result()?;
        Ok(Self {
            email: email.unwrap_or_default(),
            password,
        })
    }

    /// Self-service signup always makes an organizer; other roles are granted by an admin.
    pub fn into_user(self, id: UserId, password_hash: String, now: OffsetDateTime) -> User {
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
        assert!(Signup::parse("a@b.co", "x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
    }

    #[test]
    fn signup_creates_an_active_organizer() {
        let user = Signup::parse("a@b.co", "long enough pw".into())
            .unwrap()
            .into_user(UserId::now_v7(), "hash".into(), OffsetDateTime::UNIX_EPOCH);
        assert_eq!(user.role, Role::Organizer);
        assert!(user.active);
    }
}
