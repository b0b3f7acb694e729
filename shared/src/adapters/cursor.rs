//! The one cursor codec of the store adapters: a page's resume position (any serde value:
//! DynamoDB's `LastEvaluatedKey`, SQLite's last sort key) as unpadded base64url of its
//! JSON. A cursor is opaque to clients; decoding one the adapter did not make is
//! [`StoreError::InvalidCursor`] (a 400), never a query error (a 500).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::ports::StoreError;

/// `position` as a cursor.
pub fn encode(position: &impl Serialize) -> Result<String, StoreError> {
    let json = serde_json::to_vec(position).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

/// The position in `cursor`, if it is the base64url JSON of a `T` (use
/// `#[serde(deny_unknown_fields)]` on `T` so that nothing else reads as one).
pub fn decode<T: DeserializeOwned>(cursor: &str) -> Result<T, StoreError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or(StoreError::InvalidCursor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Position {
        after: String,
    }

    #[test]
    fn positions_round_trip() {
        let position = Position {
            after: "2027-03-01T18:00:00.000000000Z#id".into(),
        };
        let cursor = encode(&position).unwrap();
        assert!(cursor
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(decode::<Position>(&cursor).unwrap(), position);
    }

    #[test]
    fn anything_else_is_an_invalid_cursor() {
        let other_shape = encode(&serde_json::json!({"after": "x", "more": 1})).unwrap();
        for bad in ["", "!!!", "bm90IGpzb24", other_shape.as_str()] {
            assert!(
                matches!(decode::<Position>(bad), Err(StoreError::InvalidCursor)),
                "{bad:?}"
            );
        }
    }
}
