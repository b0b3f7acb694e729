//! Field rules shared by several entities.

use email_address::EmailAddress;
use unicode_normalization::UnicodeNormalization;

/// Why an email address is refused; the message completes "must be an email address…".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Not an `addr-spec` of RFC 5322 (a display name, a comment, a character such as
    /// `<`, `,` or `;` outside quotes, a missing or one-label domain, a domain literal).
    #[error("must be an email address: {0}")]
    Syntax(String),
    /// A quoted local part (`"ann,x"@example.org`): valid in RFC 5322, but where `,`, `;`
    /// and `<` hide, and refused by most mail systems.
    #[error("must be an email address without quotes")]
    Quoted,
    /// Non-ASCII before the `@`: Amazon SES does not support SMTPUTF8 (RFC 6531), so no
    /// mail could ever reach it.
    #[error("must have only ASCII letters, digits and punctuation before the @")]
    NonAsciiLocalPart,
    /// A domain IDNA cannot map to ASCII (UTS #46).
    #[error("must have a valid domain")]
    Domain,
    /// Longer than SMTP allows (RFC 5321: 254 octets in all).
    #[error("must be at most 254 characters")]
    TooLong,
}

/// The canonical form of an email address: the one key under which evreg stores, finds
/// and compares it (accounts, registrations' (event, email) guards, login throttling,
/// password resets), so that every spelling of one mailbox is one identity. The address is
/// trimmed and NFC-normalized, parsed as an RFC 5322 `addr-spec` (the `email_address`
/// crate: no display name, comment or domain literal, at least two domain labels); its
/// local part must be unquoted ASCII (what SES can deliver to) and is lower-cased (mail
/// systems treat it case-insensitively in practice); its domain is mapped by IDNA (UTS
/// #46: case, width and normalization folded, then Punycode), so `ann@EXÄMPLE.org`,
/// `ann@exa\u{308}mple.org` and `ann@xn--exmple-cua.org` are one address.
pub fn canonical_email(raw: &str) -> Result<String, EmailError> {
    let normalized: String = raw.trim().nfc().collect();
    let options = email_address::Options {
        minimum_sub_domains: 2,
        allow_domain_literal: false,
        allow_display_text: false,
        allow_long_local_parts: false,
    };
    let parsed = EmailAddress::parse_with_options(&normalized, options)
        .map_err(|error| EmailError::Syntax(error.to_string()))?;
    let local = parsed.local_part();
    if local.starts_with('"') {
        return Err(EmailError::Quoted);
    }
    if !local.is_ascii() {
        return Err(EmailError::NonAsciiLocalPart);
    }
    let domain = idna::domain_to_ascii(parsed.domain()).map_err(|_| EmailError::Domain)?;
    let canonical = format!("{}@{domain}", local.to_ascii_lowercase());
    if canonical.len() > 254 {
        return Err(EmailError::TooLong);
    }
    Ok(canonical)
}

/// [`canonical_email`] of a request's `email` field, its refusal as that field's
/// validation error (a 422 naming `email`).
pub fn email_field(raw: &str) -> Result<String, super::DomainError> {
    canonical_email(raw).map_err(|error| {
        super::DomainError::Invalid(vec![super::FieldError {
            field: "email",
            message: error.to_string(),
        }])
    })
}

/// The key to look an account up by from what someone typed (login, password reset): its
/// canonical form, or — for input that is no address at all — the trimmed, lower-cased
/// text, which no stored (canonical) address equals, so it finds nobody while still
/// keying the login throttle.
pub fn email_lookup_key(raw: &str) -> String {
    canonical_email(raw).unwrap_or_else(|_| raw.trim().nfc().collect::<String>().to_lowercase())
}

/// A phone number in its international form (`+44 20 7946 0958`), if `raw` is one: it
/// must start with `+` and a country code and be a valid number of that country's plan
/// (Google's libphonenumber metadata, through the `phonenumber` crate), so that `+1+1`,
/// `=1+1` or a national number nobody abroad can dial are refused.
pub fn international_phone(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if !raw.starts_with('+') || raw.len() > 40 {
        return None;
    }
    let number = phonenumber::parse(None, raw).ok()?;
    phonenumber::is_valid(&number).then(|| {
        number
            .format()
            .mode(phonenumber::Mode::International)
            .to_string()
    })
}

/// Text of 1 to `max` characters that is not only white space.
pub fn is_present_text(value: &str, max: usize) -> bool {
    // Counted before trimming, as a form's (and JSON Schema's) `maxLength` counts.
    !value.trim().is_empty() && value.chars().count() <= max
}

/// The active ISO 4217 alphabetic codes with their minor-unit exponents (list one, as
/// published by the maintenance agency SIX: JPY has no minor unit, KWD three decimals),
/// sorted for a binary search. Funds and precious-metal codes (X..) other than the
/// regional currencies are left out: nobody prices a ticket in them.
#[rustfmt::skip]
const ISO_4217: &[(&str, u8)] = &[
    ("AED", 2), ("AFN", 2), ("ALL", 2), ("AMD", 2), ("AOA", 2), ("ARS", 2), ("AUD", 2),
    ("AWG", 2), ("AZN", 2), ("BAM", 2), ("BBD", 2), ("BDT", 2), ("BGN", 2), ("BHD", 3),
    ("BIF", 0), ("BMD", 2), ("BND", 2), ("BOB", 2), ("BRL", 2), ("BSD", 2), ("BTN", 2),
    ("BWP", 2), ("BYN", 2), ("BZD", 2), ("CAD", 2), ("CDF", 2), ("CHF", 2), ("CLP", 0),
    ("CNY", 2), ("COP", 2), ("CRC", 2), ("CUP", 2), ("CVE", 2), ("CZK", 2), ("DJF", 0),
    ("DKK", 2), ("DOP", 2), ("DZD", 2), ("EGP", 2), ("ERN", 2), ("ETB", 2), ("EUR", 2),
    ("FJD", 2), ("FKP", 2), ("GBP", 2), ("GEL", 2), ("GHS", 2), ("GIP", 2), ("GMD", 2),
    ("GNF", 0), ("GTQ", 2), ("GYD", 2), ("HKD", 2), ("HNL", 2), ("HTG", 2), ("HUF", 2),
    ("IDR", 2), ("ILS", 2), ("INR", 2), ("IQD", 3), ("IRR", 2), ("ISK", 0), ("JMD", 2),
    ("JOD", 3), ("JPY", 0), ("KES", 2), ("KGS", 2), ("KHR", 2), ("KMF", 0), ("KPW", 2),
    ("KRW", 0), ("KWD", 3), ("KYD", 2), ("KZT", 2), ("LAK", 2), ("LBP", 2), ("LKR", 2),
    ("LRD", 2), ("LSL", 2), ("LYD", 3), ("MAD", 2), ("MDL", 2), ("MGA", 2), ("MKD", 2),
    ("MMK", 2), ("MNT", 2), ("MOP", 2), ("MRU", 2), ("MUR", 2), ("MVR", 2), ("MWK", 2),
    ("MXN", 2), ("MYR", 2), ("MZN", 2), ("NAD", 2), ("NGN", 2), ("NIO", 2), ("NOK", 2),
    ("NPR", 2), ("NZD", 2), ("OMR", 3), ("PAB", 2), ("PEN", 2), ("PGK", 2), ("PHP", 2),
    ("PKR", 2), ("PLN", 2), ("PYG", 0), ("QAR", 2), ("RON", 2), ("RSD", 2), ("RUB", 2),
    ("RWF", 0), ("SAR", 2), ("SBD", 2), ("SCR", 2), ("SDG", 2), ("SEK", 2), ("SGD", 2),
    ("SHP", 2), ("SLE", 2), ("SOS", 2), ("SRD", 2), ("SSP", 2), ("STN", 2), ("SVC", 2),
    ("SYP", 2), ("SZL", 2), ("THB", 2), ("TJS", 2), ("TMT", 2), ("TND", 3), ("TOP", 2),
    ("TRY", 2), ("TTD", 2), ("TWD", 2), ("TZS", 2), ("UAH", 2), ("UGX", 0), ("USD", 2),
    ("UYU", 2), ("UZS", 2), ("VED", 2), ("VES", 2), ("VND", 0), ("VUV", 0), ("WST", 2),
    ("XAF", 0), ("XCD", 2), ("XCG", 2), ("XOF", 0), ("XPF", 0), ("YER", 2), ("ZAR", 2),
    ("ZMW", 2), ("ZWG", 2),
];

/// The minor-unit exponent of an active ISO 4217 currency (`EUR` → 2: amounts are in
/// cents; `JPY` → 0; `KWD` → 3); `None` for anything else (codes are upper case, as the
/// standard writes them).
pub fn currency_exponent(code: &str) -> Option<u8> {
    ISO_4217
        .binary_search_by(|(known, _)| known.cmp(&code))
        .ok()
        .map(|i| ISO_4217[i].1)
}

/// An active ISO 4217 currency code, upper case as the standard writes it.
pub fn is_iso4217_currency(code: &str) -> bool {
    currency_exponent(code).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_one_mailbox_is_one_canonical_address() {
        for spelling in [
            "  Ann.Lee@Example.ORG ",
            "ann.lee@example.org",
            "ANN.LEE@EXAMPLE.ORG",
        ] {
            assert_eq!(canonical_email(spelling).unwrap(), "ann.lee@example.org");
        }
        for spelling in [
            "zoe@ex\u{e4}mple.org",
            "zoe@exa\u{308}mple.org",
            "ZOE@EX\u{c4}MPLE.ORG",
            "zoe@xn--exmple-cua.org",
            "zoe@\u{ff45}x\u{e4}mple.org",
        ] {
            assert_eq!(
                canonical_email(spelling).unwrap(),
                "zoe@xn--exmple-cua.org",
                "{spelling:?}"
            );
        }
    }

    #[test]
    fn undeliverable_addresses_are_refused() {
        for bad in [
            "",
            "a",
            "a@b",
            "@b.co",
            "a@.co",
            "a@b.",
            "a b@c.de",
            "a@b@c.de",
            "ann<x>@example.org",
            "ann,x@example.org",
            "ann;x@example.org",
            "ann(comment)@example.org",
            "Ann <ann@example.org>",
            "ann@[192.0.2.1]",
            "\"ann,x\"@example.org",
            "zo\u{eb}@example.org",
            "zoe\u{308}@example.org",
            "ann@example.org.",
            "ann\u{0}@example.org",
        ] {
            assert!(canonical_email(bad).is_err(), "{bad:?}");
        }
        let long_local = format!("{}@b.co", "x".repeat(65));
        assert!(canonical_email(&long_local).is_err());
        let long = format!("a@{}.org", "x".repeat(250));
        assert!(canonical_email(&long).is_err());
        assert_eq!(
            canonical_email("zo\u{eb}@example.org"),
            Err(EmailError::NonAsciiLocalPart)
        );
    }

    #[test]
    fn phones_are_valid_international_numbers_in_their_international_form() {
        assert_eq!(
            international_phone(" +44 20 7946 0958 ").as_deref(),
            Some("+44 20 7946 0958")
        );
        assert_eq!(
            international_phone("+1 (415) 555-2671").as_deref(),
            Some("+1 415-555-2671")
        );
        for bad in [
            "+1+1",
            "=1+1",
            "+",
            "020 7946 0958",
            "+44 1",
            "+999 123456",
            "@SUM(1)",
        ] {
            assert_eq!(international_phone(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn lookups_of_non_addresses_find_nobody_but_still_key() {
        assert_eq!(email_lookup_key(" Ann@Example.org"), "ann@example.org");
        assert_eq!(email_lookup_key(" Not An Address "), "not an address");
    }

    #[test]
    fn the_currency_list_is_sorted_for_binary_search() {
        assert!(ISO_4217.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(currency_exponent("EUR"), Some(2));
        assert_eq!(currency_exponent("JPY"), Some(0));
        assert_eq!(currency_exponent("KWD"), Some(3));
        assert_eq!(currency_exponent("eur"), None);
        assert!(is_iso4217_currency("EUR") && is_iso4217_currency("USD"));
        assert!(!is_iso4217_currency("eur") && !is_iso4217_currency("ABC"));
    }

    #[test]
    fn present_text_counts_characters_not_bytes() {
        assert!(is_present_text("Zoë", 3));
        assert!(!is_present_text("   ", 10));
        assert!(!is_present_text("abcd", 3));
    }
}
