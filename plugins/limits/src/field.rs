//! Payload conventions the tables share (reference §0.7): Go's times,
//! unsigned integers and zero values, and fields of nested objects.
//!
//! The reference decodes payloads into Go structs: a field the event leaves
//! out reads as Go's zero value, an unsigned field refuses a negative number
//! or one beyond its type, and keys match without regard to letter case (in
//! nested objects too).

use projection_sdk::time::parse_rfc3339;
use projection_sdk::{Payload, ProjectionError};
use serde_json::{Map, Value as Json};

/// Go's zero `time.Time` (0001-01-01T00:00:00Z) in microseconds since the
/// epoch: what the reference writes for a time field the event leaves out.
pub(crate) const GO_ZERO_TIME: i64 = -62_135_596_800_000_000;

/// The largest `uint16` (percents and thresholds of quota notifications).
pub(crate) const UINT16_MAX: u64 = 65_535;

/// The largest value of a SMALLINT column (the quota unit, an unsigned Go
/// integer stored as SMALLINT).
pub(crate) const SMALLINT_MAX: u64 = 32_767;

/// The largest value of a BIGINT column (a quota's `uint64` amount).
pub(crate) const BIGINT_MAX: u64 = i64::MAX.unsigned_abs();

/// A payload error about field `key`.
pub(crate) fn invalid(key: &str, expected: &str) -> ProjectionError {
    ProjectionError::InvalidPayload(format!("field {key:?} is not {expected}"))
}

/// A timestamp field (RFC 3339 text, Go's `time.Time`), if present.
pub(crate) fn timestamp(payload: &Payload, key: &str) -> Result<Option<i64>, ProjectionError> {
    match payload.text(key)? {
        None => Ok(None),
        Some(text) => parse_rfc3339(&text)
            .map(Some)
            .ok_or_else(|| invalid(key, "an RFC 3339 time")),
    }
}

/// An unsigned integer field of at most `max`, if present.
pub(crate) fn unsigned(
    payload: &Payload,
    key: &str,
    max: u64,
) -> Result<Option<i64>, ProjectionError> {
    payload
        .get(key)
        .map(|json| unsigned_json(json, key, max))
        .transpose()
}

/// An unsigned integer of at most `max` (read from field `key`).
pub(crate) fn unsigned_json(json: &Json, key: &str, max: u64) -> Result<i64, ProjectionError> {
    json.as_u64()
        .filter(|n| *n <= max)
        .and_then(|n| i64::try_from(n).ok())
        .ok_or_else(|| invalid(key, &format!("an integer from 0 to {max}")))
}

/// Field `key` of a nested object, matched as payload fields are: the exact
/// key first, else the key in any letter case; null reads as absent.
pub(crate) fn nested<'j>(object: &'j Map<String, Json>, key: &str) -> Option<&'j Json> {
    object
        .get(key)
        .or_else(|| {
            object
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
        .filter(|v| !v.is_null())
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::event;
    use projection_sdk::{Payload, ProjectionError};

    use super::{BIGINT_MAX, UINT16_MAX, nested, timestamp, unsigned};

    fn payload(json: &str) -> Payload {
        event("quota", "quota.set", Some(json)).payload().unwrap()
    }

    #[test]
    fn unsigned_fields_refuse_negative_and_too_large_numbers() {
        let p = payload(r#"{"a":65535,"b":65536,"c":-1,"d":1.5,"e":"1"}"#);
        assert_eq!(unsigned(&p, "a", UINT16_MAX), Ok(Some(65_535)));
        assert_eq!(unsigned(&p, "missing", UINT16_MAX), Ok(None));
        for key in ["b", "c", "d", "e"] {
            assert!(
                matches!(
                    unsigned(&p, key, UINT16_MAX),
                    Err(ProjectionError::InvalidPayload(_))
                ),
                "{key}"
            );
        }
    }

    #[test]
    fn a_uint64_beyond_bigint_is_refused() {
        let p = payload(r#"{"amount":18446744073709551615}"#);
        assert!(unsigned(&p, "amount", BIGINT_MAX).is_err());
        let p = payload(r#"{"amount":9223372036854775807}"#);
        assert_eq!(unsigned(&p, "amount", BIGINT_MAX), Ok(Some(i64::MAX)));
    }

    #[test]
    fn timestamps_are_rfc_3339() {
        let p = payload(r#"{"from":"1970-01-01T00:00:01Z","bad":"yesterday"}"#);
        assert_eq!(timestamp(&p, "FROM"), Ok(Some(1_000_000)));
        assert_eq!(timestamp(&p, "missing"), Ok(None));
        assert!(timestamp(&p, "bad").is_err());
    }

    #[test]
    fn nested_keys_match_without_regard_to_case() {
        let object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(r#"{"callURL":"u","id":null}"#).unwrap();
        assert_eq!(
            nested(&object, "callUrl").and_then(|v| v.as_str()),
            Some("u")
        );
        assert_eq!(nested(&object, "id"), None);
    }
}
