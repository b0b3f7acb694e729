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
