//! The sample Lambda events of `events/` (the files `sam local invoke -e` and
//! `cargo lambda invoke --data-file` take), read and filled in for a test: real ids, tokens
//! and addresses in place of the samples' placeholders.

use serde_json::Value;

/// `events/<name>.json`; panics, naming the file, when it is missing or not JSON.
pub fn sample(name: &str) -> Value {
    let path = format!("{}/../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `event` with every `(from, to)` replaced wherever `from` occurs in its JSON text (a
/// placeholder `REPLACE_WITH_…`, a sample address or slug), in order.
pub fn replaced(event: &Value, pairs: &[(&str, &str)]) -> Value {
    let mut text = event.to_string();
    for (from, to) in pairs {
        text = text.replace(from, to);
    }
    serde_json::from_str(&text).expect("still JSON")
}

/// An API Gateway v2 `event` with its `{id}` path parameter, and the paths that hold it
/// (`rawPath`, `requestContext.http.path`), set to `id`.
pub fn with_id(mut event: Value, id: &str) -> Value {
    let old = event["pathParameters"]["id"]
        .as_str()
        .expect("a path parameter")
        .to_owned();
    for pointer in ["/rawPath", "/requestContext/http/path"] {
        if let Some(path) = event.pointer_mut(pointer) {
            *path = Value::String(path.as_str().unwrap_or_default().replace(&old, id));
        }
    }
    event["pathParameters"]["id"] = Value::String(id.to_owned());
    event
}

/// The origin of the API in the samples' headers (`Origin` of the form post sample).
pub const SAMPLE_ORIGIN: &str = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com";

/// An API Gateway v2 form post `event` (base64 body, as API Gateway sends a form) with its
/// field `name` set to `value`.
pub fn with_form_field(mut event: Value, name: &str, value: &str) -> Value {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    let body = STANDARD
        .decode(event["body"].as_str().expect("a body"))
        .expect("a base64 body");
    let fields: Vec<(String, String)> = form_urlencoded::parse(&body)
        .into_owned()
        .map(|(field, old)| {
            let new = if field == name { value.to_owned() } else { old };
            (field, new)
        })
        .collect();
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    event["body"] = Value::String(STANDARD.encode(body));
    event
}
