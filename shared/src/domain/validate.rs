//! Field rules shared by several entities.

/// Lower-cases and trims an email so that `Ann@X.org ` and `ann@x.org` are one identity.
pub fn normalize_email(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// A deliberately small syntactic check (RFC 5321 lengths, one `@`, a dotted domain):
/// deliverability is proven by the confirmation email, not by a regex.
pub fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    email.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Trimmed text between 1 and `max` characters.
pub fn is_present_text(value: &str, max: usize) -> bool {
    let trimmed = value.trim();
    !trimmed.is_empty() && trimmed.chars().count() <= max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_case_folded_and_trimmed() {
        assert_eq!(
            normalize_email("  Ann.Lee@Example.ORG "),
            "ann.lee@example.org"
        );
    }

    #[test]
    fn plausible_emails() {
        for ok in ["a@b.co", "first.last+tag@sub.example.org"] {
            assert!(is_plausible_email(ok), "{ok}");
        }
        for bad in [
            "", "a", "a@b", "@b.co", "a@.co", "a@b.", "a b@c.de", "a@b@c.de",
        ] {
            assert!(!is_plausible_email(bad), "{bad}");
        }
        let long_local = format!("{}@b.co", "x".repeat(65));
        assert!(!is_plausible_email(&long_local));
    }

    #[test]
    fn present_text_counts_characters_not_bytes() {
        assert!(is_present_text("Zoë", 3));
        assert!(!is_present_text("   ", 10));
        assert!(!is_present_text("abcd", 3));
    }
}
