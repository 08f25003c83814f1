//! Payload conventions shared by the application tables (reference §0.7 and
//! the payload notes of §3).
//!
//! The config events name their application by `appId`, store client
//! secrets either as a legacy `CryptoValue` or as a hash, and carry Go
//! values whose zero value is what the reference writes when an added event
//! leaves a field out. A [`Field`] list states, per config table, which
//! payload key sets which column and how the value reads: an added event
//! writes every column ([`all`]), a changed event only the present ones
//! ([`present`]).

use projection_sdk::{
    Event, Mutation, Payload, ProjectionError, RowBuilder, UpdateBuilder, Value, insert, update,
};
use serde_json::Value as Json;

/// Columns and their values, in order.
pub(crate) type Columns = Vec<(&'static str, Value)>;

/// How a payload field becomes a column value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An enum (SMALLINT); Go's zero value is 0.
    Enum,
    /// A boolean; Go's zero value is false.
    Bool,
    /// Text; Go's zero value is the empty string.
    Text,
    /// A text array (TEXT[]); the reference binds an empty list as NULL.
    TextArray,
    /// An enum array (SMALLINT[]); NULL when the event leaves it out.
    EnumArray,
    /// A `time.Duration` (integer nanoseconds), stored as an interval.
    Duration,
    /// A Go `[]byte` (base64 text), stored as bytes; empty when left out.
    Bytes,
}

impl Kind {
    /// The value of field `key`, if the payload has it (and it is not null).
    pub(crate) fn read(
        self,
        payload: &Payload,
        key: &str,
    ) -> Result<Option<Value>, ProjectionError> {
        Ok(match self {
            Kind::Enum => payload.int(key)?.map(Value::Int),
            Kind::Bool => payload.boolean(key)?.map(Value::Boolean),
            Kind::Text => payload.text(key)?.map(Value::Text),
            Kind::TextArray => payload.text_array(key)?.map(|items| {
                if items.is_empty() {
                    Value::Null
                } else {
                    Value::TextArray(items)
                }
            }),
            Kind::EnumArray => int_array(payload, key)?.map(Value::IntArray),
            Kind::Duration => payload.int(key)?.map(Value::Interval),
            Kind::Bytes => payload.bytes(key)?.map(Value::Bytes),
        })
    }

    /// What the reference writes when an added event leaves the field out.
    pub(crate) fn zero(self) -> Value {
        match self {
            Kind::Enum => Value::Int(0),
            Kind::Bool => Value::Boolean(false),
            Kind::Text => Value::Text(String::new()),
            Kind::TextArray | Kind::EnumArray => Value::Null,
            Kind::Duration => Value::Interval(0),
            Kind::Bytes => Value::Bytes(Vec::new()),
        }
    }
}

/// A payload field and the column it sets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    /// The payload key (matched without regard to letter case).
    pub(crate) key: &'static str,
    /// The column.
    pub(crate) column: &'static str,
    /// How the value reads.
    pub(crate) kind: Kind,
}

/// `key` sets `column`, read as `kind`.
pub(crate) const fn field(key: &'static str, column: &'static str, kind: Kind) -> Field {
    Field { key, column, kind }
}

/// The columns of the fields the payload has, in `fields` order.
pub(crate) fn present(payload: &Payload, fields: &[Field]) -> Result<Columns, ProjectionError> {
    let mut columns = Vec::new();
    for f in fields {
        if let Some(value) = f.kind.read(payload, f.key)? {
            columns.push((f.column, value));
        }
    }
    Ok(columns)
}

/// Every field's column: the payload's value, or the zero value when the
/// payload leaves the field out.
pub(crate) fn all(payload: &Payload, fields: &[Field]) -> Result<Columns, ProjectionError> {
    fields
        .iter()
        .map(|f| {
            Ok((
                f.column,
                f.kind
                    .read(payload, f.key)?
                    .unwrap_or_else(|| f.kind.zero()),
            ))
        })
        .collect()
}

/// `row` with every field's column ([`all`]).
pub(crate) fn with_all(
    row: RowBuilder,
    payload: &Payload,
    fields: &[Field],
) -> Result<RowBuilder, ProjectionError> {
    Ok(all(payload, fields)?
        .into_iter()
        .fold(row, |r, (column, value)| r.value(column, value)))
}

/// The insert of an app's config row with a client into `table`: the app
/// (`appId`), the client id and the client secret ([`client_secret`]).
pub(crate) fn client_row(table: &str, payload: &Payload) -> Result<RowBuilder, ProjectionError> {
    Ok(insert(table)
        .value("app_id", app_id(payload)?)
        .value("client_id", payload.text_or_empty("clientId")?)
        .value("client_secret", client_secret(payload)?))
}

/// The update of an app's config row in `table`, found by the payload's
/// `appId`.
fn config_row(table: &str, payload: &Payload) -> Result<UpdateBuilder, ProjectionError> {
    Ok(update(table).eq("app_id", app_id(payload)?))
}

/// A config change: the update of the app's config row with the columns
/// it sets, or nothing when it sets none.
fn change(
    table: &str,
    payload: &Payload,
    changes: Columns,
) -> Result<Vec<Mutation>, ProjectionError> {
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    let update = changes
        .into_iter()
        .fold(config_row(table, payload)?, |u, (column, value)| {
            u.set(column, value)
        });
    Ok(vec![update.build()])
}

/// A config changed event: the columns `changes` reads from its payload
/// ([`change`]).
pub(crate) fn changed(
    table: &str,
    event: &Event,
    changes: fn(&Payload) -> Result<Columns, ProjectionError>,
) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    change(table, &payload, changes(&payload)?)
}

/// A `*.secret.changed` event: the new client secret, a legacy CryptoValue
/// or a hash ([`client_secret`]).
pub(crate) fn secret_changed(table: &str, event: &Event) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    set_secret(table, &payload, client_secret(&payload)?)
}

/// A `*.secret.updated` event: the rehashed client secret (`hashedSecret`).
pub(crate) fn secret_updated(table: &str, event: &Event) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    set_secret(table, &payload, payload.text_or_empty("hashedSecret")?)
}

/// Replace the client secret of the app's config row.
fn set_secret(
    table: &str,
    payload: &Payload,
    secret: String,
) -> Result<Vec<Mutation>, ProjectionError> {
    Ok(vec![
        config_row(table, payload)?
            .set("client_secret", secret)
            .build(),
    ])
}

/// The payload's `appId`: the application a config event is about.
pub(crate) fn app_id(payload: &Payload) -> Result<String, ProjectionError> {
    payload.text_or_empty("appId")
}

/// The client secret as the reference stores it: the `Crypted` bytes of the
/// legacy `clientSecret` CryptoValue, as text, when the payload has one;
/// else `hashedSecret` (empty when both are left out).
pub(crate) fn client_secret(payload: &Payload) -> Result<String, ProjectionError> {
    match payload.crypted_text("clientSecret")? {
        Some(secret) => Ok(secret),
        None => payload.text_or_empty("hashedSecret"),
    }
}

/// An array-of-integers field (Go's enum slices), if present.
fn int_array(payload: &Payload, key: &str) -> Result<Option<Vec<i64>>, ProjectionError> {
    let Some(value) = payload.get(key) else {
        return Ok(None);
    };
    let invalid =
        || ProjectionError::InvalidPayload(format!("field {key:?} is not an array of integers"));
    let Json::Array(items) = value else {
        return Err(invalid());
    };
    items
        .iter()
        .map(|item| item.as_i64().ok_or_else(invalid))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::event;
    use projection_sdk::{Payload, ProjectionError, Value};

    use super::{Kind, client_secret};

    fn payload(json: &str) -> Payload {
        event(
            "project",
            "project.application.config.oidc.added",
            Some(json),
        )
        .payload()
        .unwrap()
    }

    #[test]
    fn the_legacy_crypto_value_wins_over_the_hash() {
        let p =
            payload(r#"{"clientSecret":{"CryptoType":1,"Crypted":"c2VjcmV0"},"hashedSecret":"h"}"#);
        assert_eq!(client_secret(&p), Ok("secret".to_owned()));
    }

    #[test]
    fn the_hash_is_taken_without_a_crypto_value() {
        let p = payload(r#"{"clientSecret":null,"hashedSecret":"h"}"#);
        assert_eq!(client_secret(&p), Ok("h".to_owned()));
    }

    #[test]
    fn no_secret_at_all_is_empty() {
        assert_eq!(client_secret(&payload("{}")), Ok(String::new()));
    }

    #[test]
    fn crypto_value_keys_match_without_regard_to_case() {
        let p = payload(r#"{"clientsecret":{"crypted":"c2VjcmV0"}}"#);
        assert_eq!(client_secret(&p), Ok("secret".to_owned()));
    }

    #[test]
    fn a_crypto_value_that_is_not_one_is_rejected() {
        for json in [
            r#"{"clientSecret":"plain"}"#,
            r#"{"clientSecret":{"Crypted":"%%%"}}"#,
            r#"{"clientSecret":{"Crypted":"/w=="}}"#,
        ] {
            assert!(
                matches!(
                    client_secret(&payload(json)),
                    Err(ProjectionError::InvalidPayload(_))
                ),
                "{json}"
            );
        }
    }

    #[test]
    fn empty_text_arrays_read_as_null_but_empty_enum_arrays_do_not() {
        let p = payload(r#"{"uris":[],"types":[]}"#);
        assert_eq!(Kind::TextArray.read(&p, "uris"), Ok(Some(Value::Null)));
        assert_eq!(
            Kind::EnumArray.read(&p, "types"),
            Ok(Some(Value::IntArray(vec![])))
        );
    }

    #[test]
    fn enum_arrays_hold_integers_only() {
        let p = payload(r#"{"types":[1,"2"]}"#);
        assert!(matches!(
            Kind::EnumArray.read(&p, "types"),
            Err(ProjectionError::InvalidPayload(_))
        ));
    }

    #[test]
    fn durations_are_intervals_in_nanoseconds() {
        let p = payload(r#"{"clockSkew":1500000000}"#);
        assert_eq!(
            Kind::Duration.read(&p, "clockSkew"),
            Ok(Some(Value::Interval(1_500_000_000)))
        );
        assert_eq!(Kind::Duration.zero(), Value::Interval(0));
    }
}
