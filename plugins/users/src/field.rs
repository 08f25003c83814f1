//! Payload conventions shared by the tables (reference §0.7, §4).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use projection_sdk::time::parse_rfc3339;
use projection_sdk::{Payload, ProjectionError, Value};
use serde_json::Value as Json;

/// Go's zero `time.Time` (0001-01-01T00:00:00Z) in microseconds since the
/// epoch: what the reference writes for a time field the event leaves out.
pub(crate) const GO_ZERO_TIME: i64 = -62_135_596_800_000_000;

/// A timestamp field (RFC 3339 text, Go's `time.Time`), if present.
pub(crate) fn timestamp(payload: &Payload, key: &str) -> Result<Option<i64>, ProjectionError> {
    match payload.text(key)? {
        None => Ok(None),
        Some(text) => parse_rfc3339(&text).map(Some).ok_or_else(|| {
            ProjectionError::InvalidPayload(format!("field {key:?} is not an RFC 3339 time"))
        }),
    }
}

/// Text that reads as NULL when empty (the reference's `sql.NullString`).
pub(crate) fn null_if_empty(text: String) -> Value {
    if text.is_empty() {
        Value::Null
    } else {
        Value::Text(text)
    }
}

/// An enum field written as SMALLINT; absent reads as 0 (Go's zero value).
pub(crate) fn enum_or_zero(payload: &Payload, key: &str) -> Result<i64, ProjectionError> {
    Ok(payload.int(key)?.unwrap_or_default())
}

/// The `Crypted` bytes of a CryptoValue field, as text, if the field is present.
pub(crate) fn crypted_text(
    payload: &Payload,
    key: &str,
) -> Result<Option<String>, ProjectionError> {
    let Some(value) = payload.get(key) else {
        return Ok(None);
    };
    let invalid = || ProjectionError::InvalidPayload(format!("field {key:?} is not a CryptoValue"));
    let Json::Object(fields) = value else {
        return Err(invalid());
    };
    let crypted = fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("crypted"))
        .map(|(_, v)| v);
    let bytes = match crypted {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::String(b64)) => STANDARD.decode(b64).map_err(|_| invalid())?,
        Some(_) => return Err(invalid()),
    };
    String::from_utf8(bytes).map(Some).map_err(|_| invalid())
}

/// Whether a user's added event sets a password: the `secret` CryptoValue's
/// bytes when present, else a non-empty `encodedHash` (reference §4).
pub(crate) fn password_set(payload: &Payload) -> Result<bool, ProjectionError> {
    Ok(match crypted_text(payload, "secret")? {
        Some(secret) => !secret.is_empty(),
        None => !payload.text_or_empty("encodedHash")?.is_empty(),
    })
}
