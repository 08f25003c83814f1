//! Payload conventions shared by the tables (reference §0.7, §4).

use projection_sdk::time::parse_rfc3339;
use projection_sdk::{Payload, ProjectionError, Value};

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

/// Whether a user's added event sets a password: the `secret` CryptoValue's
/// bytes when present, else a non-empty `encodedHash` (reference §4).
pub(crate) fn password_set(payload: &Payload) -> Result<bool, ProjectionError> {
    Ok(match payload.crypted_text("secret")? {
        Some(secret) => !secret.is_empty(),
        None => !payload.text_or_empty("encodedHash")?.is_empty(),
    })
}
