//! What a session carries besides its checks: the token, the metadata and
//! the lifetime (reference §5.1). Each event updates and bumps the session.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use projection_sdk::{Context, Event, Mutation, ProjectionError, Value};
use serde_json::Value as Json;

use super::row;

/// Nanoseconds per microsecond.
const NANOS_PER_MICRO: i64 = 1_000;

/// `session.token.set`: the session's token id ('' when absent, Go's zero
/// value).
pub(super) fn token(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let token = event.payload()?.text_or_empty("tokenID")?;
    Ok(vec![row(event).set("token_id", token).build()])
}

/// `session.metadata.set`: the whole metadata map (key → base64 bytes)
/// replaces the column. The event carries the session's complete metadata
/// after the change, so a deleted key is one the map no longer has; an
/// event without a map leaves the column NULL.
pub(super) fn metadata(
    event: &Event,
    _ctx: &Context<'_>,
) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let metadata = match payload.get("metadata") {
        None => Value::Null,
        Some(map @ Json::Object(entries)) => {
            if !entries.values().all(is_bytes) {
                return Err(invalid_metadata());
            }
            Value::json(map)
        }
        Some(_) => return Err(invalid_metadata()),
    };
    Ok(vec![row(event).set("metadata", metadata).build()])
}

/// `session.lifetime.set`: the session expires `lifetime` (nanoseconds,
/// 0 when absent) after the event.
pub(super) fn lifetime(
    event: &Event,
    _ctx: &Context<'_>,
) -> Result<Vec<Mutation>, ProjectionError> {
    let nanos = event.payload()?.int("lifetime")?.unwrap_or(0);
    let expiration = event
        .created_at
        .checked_add(nanos.div_euclid(NANOS_PER_MICRO))
        .ok_or_else(|| {
            ProjectionError::InvalidPayload(format!(
                "session.lifetime.set: lifetime {nanos} ns is out of range"
            ))
        })?;
    Ok(vec![
        row(event)
            .set("expiration", Value::Timestamp(expiration))
            .build(),
    ])
}

/// Whether a metadata value is Go's `[]byte`: base64 text, or `null`.
fn is_bytes(value: &Json) -> bool {
    match value {
        Json::Null => true,
        Json::String(text) => STANDARD.decode(text).is_ok(),
        _ => false,
    }
}

/// The error for metadata that is not a map of base64 values.
fn invalid_metadata() -> ProjectionError {
    ProjectionError::InvalidPayload(
        "session.metadata.set: field \"metadata\" is not a map of base64 values".to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::{CREATED_AT, event};
    use projection_sdk::{Context, Mutation, NoEvents, ProjectionError, Value, update};

    use super::super::{MODULE, TABLE};

    fn reduce(event_type: &str, payload: &str) -> Result<Option<Vec<Mutation>>, ProjectionError> {
        let e = event("session", event_type, Some(payload));
        MODULE.reduce(&e, &Context::new(&NoEvents))
    }

    fn session(column: &str, value: impl Into<Value>) -> Option<Vec<Mutation>> {
        Some(vec![
            update(TABLE).eq("id", "agg-id").set(column, value).build(),
        ])
    }

    #[test]
    fn token_set_sets_the_token_id() {
        assert_eq!(
            reduce("session.token.set", r#"{"tokenID":"token"}"#),
            Ok(session("token_id", "token"))
        );
        assert_eq!(
            reduce("session.token.set", "{}"),
            Ok(session("token_id", ""))
        );
    }

    #[test]
    fn metadata_set_replaces_the_whole_map() {
        let payload = r#"{"metadata":{"key":"dmFsdWU=","other":null}}"#;
        let map = Value::Json(r#"{"key":"dmFsdWU=","other":null}"#.to_owned());
        assert_eq!(
            reduce("session.metadata.set", payload),
            Ok(session("metadata", map))
        );
        assert_eq!(
            reduce("session.metadata.set", r#"{"metadata":{}}"#),
            Ok(session("metadata", Value::Json("{}".to_owned())))
        );
        assert_eq!(
            reduce("session.metadata.set", "{}"),
            Ok(session("metadata", Value::Null))
        );
    }

    #[test]
    fn metadata_values_must_be_base64() {
        for payload in [
            r#"{"metadata":{"key":"not base64!"}}"#,
            r#"{"metadata":{"key":1}}"#,
            r#"{"metadata":["key"]}"#,
        ] {
            assert!(
                matches!(
                    reduce("session.metadata.set", payload),
                    Err(ProjectionError::InvalidPayload(_))
                ),
                "{payload}"
            );
        }
    }

    #[test]
    fn lifetime_set_expires_the_session_after_the_event() {
        let ten_minutes = Value::Timestamp(CREATED_AT + 600_000_000);
        assert_eq!(
            reduce("session.lifetime.set", r#"{"lifetime":600000000000}"#),
            Ok(session("expiration", ten_minutes))
        );
        assert_eq!(
            reduce("session.lifetime.set", r#"{"lifetime":1999}"#),
            Ok(session("expiration", Value::Timestamp(CREATED_AT + 1)))
        );
        assert_eq!(
            reduce("session.lifetime.set", "{}"),
            Ok(session("expiration", Value::Timestamp(CREATED_AT)))
        );
    }

    #[test]
    fn rejects_a_lifetime_out_of_range() {
        let mut late = event(
            "session",
            "session.lifetime.set",
            Some(r#"{"lifetime":9223372036854775807}"#),
        );
        late.created_at = i64::MAX - 1;
        assert!(matches!(
            MODULE.reduce(&late, &Context::new(&NoEvents)),
            Err(ProjectionError::InvalidPayload(_))
        ));
        assert!(matches!(
            reduce("session.lifetime.set", r#"{"lifetime":"10m"}"#),
            Err(ProjectionError::InvalidPayload(_))
        ));
    }
}
