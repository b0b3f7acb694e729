//! What the emulator's SES "sent", read back from the emulator's own record of it: moto
//! keeps every message in memory (served by `scripts/moto_server.py`), LocalStack at
//! `GET /_aws/ses`. One emulator serves the whole run, so filter by a recipient unique to
//! the test ([`sent_to`]). Also a minimal MIME reader, enough to assert on what a mail says
//! whatever transfer encoding mail-builder picked for a part.

use serde::Deserialize;

use crate::emulator::Emulator;

#[derive(Debug, Clone, Deserialize)]
pub struct SentMail {
    pub id: String,
    pub source: String,
    /// moto lists a recipient once from the API call and again from the To header;
    /// LocalStack keeps no recipients of a raw message, so these are its To and Cc headers.
    pub destinations: Vec<String>,
    /// The whole RFC 5322 message as sent.
    #[serde(rename = "raw_data")]
    pub raw: String,
}

impl SentMail {
    pub fn header(&self, name: &str) -> Option<String> {
        header(&self.raw, name)
    }

    /// The Subject header, RFC 2047 encoded words decoded.
    pub fn subject(&self) -> Option<String> {
        self.header("Subject").map(|s| decode_words(&s))
    }

    /// The decoded `text/plain` part.
    pub fn text(&self) -> Option<String> {
        text_part(&self.raw, "text/plain")
    }

    /// The decoded `text/html` part.
    pub fn html(&self) -> Option<String> {
        text_part(&self.raw, "text/html")
    }

    pub fn parts(&self) -> Vec<Part> {
        parts(&self.raw)
    }
}

/// Every raw message the emulator at `endpoint` has accepted, in sending order.
pub async fn sent_mail(endpoint: &str) -> Vec<SentMail> {
    let endpoint = endpoint.trim_end_matches('/');
    match Emulator::current() {
        // The endpoint `scripts/moto_server.py` adds: moto's own `/moto-api/data.json`
        // serializes every model of the run (tens of seconds once the suite has filled the
        // tables and queues).
        Emulator::Moto => get_json(&format!("{endpoint}/_evreg/ses/raw-messages")).await,
        Emulator::LocalStack => {
            let sent: LocalStackSent = get_json(&format!("{endpoint}/_aws/ses")).await;
            sent.messages
                .into_iter()
                .filter_map(LocalStackMail::into_raw)
                .collect()
        }
    }
}

async fn get_json<T: serde::de::DeserializeOwned>(url: &str) -> T {
    reqwest::get(url)
        .await
        .and_then(|r| r.error_for_status())
        .unwrap_or_else(|e| panic!("GET the emulator's sent mail at {url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("the emulator's sent mail at {url} as JSON: {e}"))
}

/// `GET /_aws/ses` of LocalStack: every message its SES accepted (all regions).
#[derive(Deserialize)]
struct LocalStackSent {
    messages: Vec<LocalStackMail>,
}

/// One of them; `RawData` only for `SendRawEmail` (others hold `Body` and `Destination`).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LocalStackMail {
    id: String,
    source: String,
    raw_data: Option<String>,
}

impl LocalStackMail {
    fn into_raw(self) -> Option<SentMail> {
        let raw = self.raw_data?;
        let destinations = ["To", "Cc"]
            .into_iter()
            .filter_map(|name| header(&raw, name))
            .collect();
        Some(SentMail {
            id: self.id,
            source: self.source,
            destinations,
            raw,
        })
    }
}

/// The messages sent to `recipient`.
pub async fn sent_to(endpoint: &str, recipient: &str) -> Vec<SentMail> {
    let mut mail = sent_mail(endpoint).await;
    mail.retain(|m| m.destinations.iter().any(|d| d.contains(recipient)));
    mail
}

/// Makes `from` (`addr` or `Name <addr>`) a sending identity: SES, and the emulators, refuse
/// mail from unverified addresses. Verifying it twice is fine.
pub async fn verify_sender(client: &aws_sdk_ses::Client, from: &str) {
    let address = from
        .rsplit_once('<')
        .map_or(from, |(_, rest)| rest.trim_end_matches('>'))
        .trim();
    client
        .verify_email_identity()
        .email_address(address)
        .send()
        .await
        .unwrap_or_else(|e| panic!("verify_email_identity {address}: {e:?}"));
}

/// A leaf of a MIME tree with its body decoded from its transfer encoding.
#[derive(Debug, Clone)]
pub struct Part {
    /// Lower-cased, without parameters: `image/png`.
    pub content_type: String,
    /// The part's own headers, unfolded, names as written.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Part {
    pub fn header(&self, name: &str) -> Option<&str> {
        (self.headers.iter())
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A top-level header of `raw`, unfolded (RFC 2047 encoded words are left as they are).
pub fn header(raw: &str, name: &str) -> Option<String> {
    let (head, _) = split_head(raw);
    (headers(head).into_iter())
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Decodes RFC 2047 encoded words (`=?utf-8?Q?…?=`, `=?utf-8?B?…?=`), which mail-builder
/// writes for non-ASCII header text; whitespace between two encoded words is dropped.
pub fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut after_word = false;
    while let Some(start) = rest.find("=?") {
        let word = rest[start + 2..].splitn(3, '?').collect::<Vec<_>>();
        let [_charset, encoding, tail] = word.as_slice() else {
            break;
        };
        let Some(end) = tail.find("?=") else {
            break;
        };
        let between = &rest[..start];
        if !(after_word && between.trim().is_empty()) {
            out.push_str(between);
        }
        let text = &tail[..end];
        let bytes = if encoding.eq_ignore_ascii_case("b") {
            base64_decode(text)
        } else {
            quoted_printable_decode(&text.replace('_', " "))
        };
        out.push_str(&String::from_utf8_lossy(&bytes));
        rest = &tail[end + 2..];
        after_word = true;
    }
    out.push_str(rest);
    out
}

/// The decoded text of the first part of type `content_type`.
pub fn text_part(raw: &str, content_type: &str) -> Option<String> {
    (parts(raw).into_iter())
        .find(|p| p.content_type == content_type)
        .map(|p| String::from_utf8(p.body).expect("a UTF-8 text part"))
}

/// The leaves of the MIME tree of `raw`, depth first.
pub fn parts(raw: &str) -> Vec<Part> {
    let (head, body) = split_head(raw);
    let headers = headers(head);
    let content_type = (headers.iter())
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map_or("text/plain", |(_, v)| v.as_str())
        .to_owned();
    let media = (content_type.split(';').next().unwrap_or_default())
        .trim()
        .to_ascii_lowercase();
    if media.starts_with("multipart/") {
        let boundary = parameter(&content_type, "boundary").expect("a multipart boundary");
        let delimiter = format!("--{boundary}");
        return (body.split(delimiter.as_str()).skip(1))
            .take_while(|chunk| !chunk.starts_with("--"))
            .flat_map(|chunk| parts(chunk.strip_prefix("\r\n").unwrap_or(chunk)))
            .collect();
    }
    let encoding = (headers.iter())
        .find(|(n, _)| n.eq_ignore_ascii_case("content-transfer-encoding"))
        .map(|(_, v)| v.trim().to_ascii_lowercase());
    // The CRLF before a boundary belongs to the boundary, not to the part.
    let body = body.strip_suffix("\r\n").unwrap_or(body);
    let body = match encoding.as_deref() {
        Some("base64") => base64_decode(body),
        Some("quoted-printable") => quoted_printable_decode(body),
        _ => body.as_bytes().to_vec(),
    };
    vec![Part {
        content_type: media,
        headers,
        body,
    }]
}

fn split_head(raw: &str) -> (&str, &str) {
    raw.split_once("\r\n\r\n")
        .or_else(|| raw.split_once("\n\n"))
        .unwrap_or((raw, ""))
}

fn headers(head: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = out.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    out
}

fn parameter(header_value: &str, name: &str) -> Option<String> {
    header_value.split(';').skip(1).find_map(|p| {
        let (n, v) = p.split_once('=')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0);
    for c in text.bytes().take_while(|&c| c != b'=') {
        let Some(value) = ALPHABET.iter().position(|&a| a == c) else {
            continue; // line breaks
        };
        acc = (acc << 6) | value as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn quoted_printable_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let (mut out, mut i) = (Vec::with_capacity(bytes.len()), 0);
    while i < bytes.len() {
        match bytes[i] {
            b'=' if bytes[i + 1..].starts_with(b"\r\n") => i += 3,
            b'=' if bytes[i + 1..].starts_with(b"\n") => i += 2,
            b'=' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ASCII hex");
                out.push(u8::from_str_radix(hex, 16).expect("a quoted-printable escape"));
                i += 3;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoders_undo_the_transfer_encodings() {
        assert_eq!(base64_decode("aGVs\r\nbG8h"), b"hello!");
        assert_eq!(base64_decode("aGk="), b"hi");
        assert_eq!(
            decode_words("=?utf-8?Q?You're_in:_Zo=C3=AB?= =?utf-8?B?IOKAkw==?= ok"),
            "You're in: Zoë – ok"
        );
        assert_eq!(decode_words("plain"), "plain");
        assert_eq!(
            quoted_printable_decode("Zo=C3=AB a=3Db =\r\nc"),
            "Zoë a=b c".as_bytes()
        );
    }
}
