//! Payload fields and the columns they set (reference §0.7, §6.9).
//!
//! The IdP tables are mostly payload fields copied into columns. A [`Field`]
//! states one of them: the payload key (matched without regard to letter
//! case), the column, how the value reads ([`Kind`]) and whether the column
//! takes NULL or has a default. The same list declares a sub-table's columns
//! ([`declare`]), the row an added event inserts ([`inserted`]: every field)
//! and the columns a changed event sets ([`present`]: only the fields the
//! payload has, since a changed event carries only what changed).
//!
//! A field an added event leaves out gets Go's zero value, as the reference
//! decodes it: empty text, false, 0, a zero duration. Where Go's zero is SQL
//! NULL (a nil slice, a nil secret) the column gets NULL when it takes NULL
//! and the kind's empty value otherwise (an empty array, no bytes, JSON
//! `null`), so an added event without optional fields never fails.

use projection_sdk::{
    ColumnType, Payload, ProjectionError, RowBuilder, Table, UpdateBuilder, Value,
};
use serde_json::Value as Json;

use crate::secret;

/// How a payload field reads and which column type holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A Go string (TEXT).
    Text,
    /// A Go bool (BOOLEAN).
    Bool,
    /// A Go integer enum (SMALLINT).
    Enum,
    /// A Go enum pointer (SMALLINT): an added event writes it only when the
    /// payload has it.
    OptionalEnum,
    /// A Go string slice (TEXT[]); an empty list stays an empty list.
    TextArray,
    /// A Go `time.Duration`, integer nanoseconds (INTERVAL).
    Duration,
    /// A Go `[]byte`, base64 text (BYTEA).
    Bytes,
    /// A `crypto.CryptoValue` (JSONB), stored as Go marshals it
    /// ([`secret::crypto_value`]).
    Secret,
    /// A Go slice of structs (JSONB), stored as the payload's JSON array; an
    /// added event writes it only when it is not empty.
    JsonList,
}

impl Kind {
    /// The column type that holds the kind.
    pub(crate) const fn column_type(self) -> ColumnType {
        match self {
            Kind::Text => ColumnType::Text,
            Kind::Bool => ColumnType::Boolean,
            Kind::Enum | Kind::OptionalEnum => ColumnType::SmallInt,
            Kind::TextArray => ColumnType::TextArray,
            Kind::Duration => ColumnType::Interval,
            Kind::Bytes => ColumnType::Bytes,
            Kind::Secret | Kind::JsonList => ColumnType::Json,
        }
    }

    /// The kind's empty value: Go's zero, or an empty value where Go's
    /// zero is NULL.
    pub(crate) fn zero(self) -> Value {
        match self {
            Kind::Text => Value::Text(String::new()),
            Kind::Bool => Value::Boolean(false),
            Kind::Enum | Kind::OptionalEnum => Value::Int(0),
            Kind::TextArray => Value::TextArray(Vec::new()),
            Kind::Duration => Value::Interval(0),
            Kind::Bytes => Value::Bytes(Vec::new()),
            Kind::Secret => Value::Json("null".to_owned()),
            Kind::JsonList => Value::Json("[]".to_owned()),
        }
    }

    /// The value of field `key`, if the payload has it (and it is not null).
    pub(crate) fn read(
        self,
        payload: &Payload,
        key: &str,
    ) -> Result<Option<Value>, ProjectionError> {
        Ok(match self {
            Kind::Text => payload.text(key)?.map(Value::Text),
            Kind::Bool => payload.boolean(key)?.map(Value::Boolean),
            Kind::Enum | Kind::OptionalEnum => payload.int(key)?.map(Value::Int),
            Kind::TextArray => payload.text_array(key)?.map(Value::TextArray),
            Kind::Duration => payload.int(key)?.map(Value::Interval),
            Kind::Bytes => payload.bytes(key)?.map(Value::Bytes),
            Kind::Secret => secret::crypto_value(payload, key)?,
            Kind::JsonList => json_list(payload, key)?,
        })
    }
}

/// Whether a field's column takes NULL, and its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nulls {
    /// NOT NULL, no default.
    NotNull,
    /// NULL allowed.
    Nullable,
    /// NOT NULL with the kind's zero as the default.
    ZeroDefault,
}

/// A payload field and the column it sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Field {
    /// The payload key (matched without regard to letter case).
    pub(crate) key: &'static str,
    /// The column.
    pub(crate) column: &'static str,
    /// How the value reads.
    pub(crate) kind: Kind,
    nulls: Nulls,
}

/// `key` sets `column` (NOT NULL), read as `kind`.
pub(crate) const fn field(key: &'static str, column: &'static str, kind: Kind) -> Field {
    Field {
        key,
        column,
        kind,
        nulls: Nulls::NotNull,
    }
}

impl Field {
    /// The column takes NULL.
    pub(crate) const fn nullable(self) -> Field {
        Field {
            nulls: Nulls::Nullable,
            ..self
        }
    }

    /// The column is NOT NULL with the kind's zero as its default
    /// (`DEFAULT false`, `DEFAULT ''`, `DEFAULT 0`).
    pub(crate) const fn zero_default(self) -> Field {
        Field {
            nulls: Nulls::ZeroDefault,
            ..self
        }
    }

    /// Whether the column takes NULL.
    pub(crate) fn is_nullable(&self) -> bool {
        self.nulls == Nulls::Nullable
    }

    /// Add the field's column to `table`.
    fn declare(&self, table: Table) -> Table {
        let kind = self.kind.column_type();
        match self.nulls {
            Nulls::NotNull => table.column(self.column, kind),
            Nulls::Nullable => table.nullable(self.column, kind),
            Nulls::ZeroDefault => table.column_default(self.column, kind, self.kind.zero()),
        }
    }

    /// What an added event writes when the payload leaves the field out;
    /// `None` when the column is left out of the row.
    fn absent(&self) -> Option<Value> {
        match self.kind {
            Kind::OptionalEnum | Kind::JsonList => None,
            Kind::TextArray | Kind::Bytes | Kind::Secret if self.is_nullable() => Some(Value::Null),
            kind => Some(kind.zero()),
        }
    }

    /// What an added event writes: the payload's value, or the value for a
    /// field left out; `None` when the column is left out of the row.
    fn inserted(&self, payload: &Payload) -> Result<Option<Value>, ProjectionError> {
        match self.kind.read(payload, self.key)? {
            Some(Value::Json(list)) if self.kind == Kind::JsonList && list == "[]" => Ok(None),
            Some(value) => Ok(Some(value)),
            None => Ok(self.absent()),
        }
    }
}

/// Add the columns of `fields` to `table`, in order.
pub(crate) fn declare(table: Table, fields: &[Field]) -> Table {
    fields.iter().fold(table, |t, f| f.declare(t))
}

/// The columns an added event writes: every field, the payload's value or
/// the value for a field left out (see the module docs), in `fields` order.
pub(crate) fn inserted(
    payload: &Payload,
    fields: &[Field],
) -> Result<Vec<(&'static str, Value)>, ProjectionError> {
    let mut columns = Vec::new();
    for f in fields {
        if let Some(value) = f.inserted(payload)? {
            columns.push((f.column, value));
        }
    }
    Ok(columns)
}

/// The columns a changed event sets: those of the fields the payload has,
/// in `fields` order.
pub(crate) fn present(
    payload: &Payload,
    fields: &[Field],
) -> Result<Vec<(&'static str, Value)>, ProjectionError> {
    let mut columns = Vec::new();
    for f in fields {
        if let Some(value) = f.kind.read(payload, f.key)? {
            columns.push((f.column, value));
        }
    }
    Ok(columns)
}

/// `row` with the values of `columns` ([`inserted`], [`present`]), in
/// order.
pub(crate) fn values(row: RowBuilder, columns: Vec<(&'static str, Value)>) -> RowBuilder {
    columns.into_iter().fold(row, |r, (c, v)| r.value(c, v))
}

/// `update` setting the values of `columns` ([`inserted`], [`present`]),
/// in order.
pub(crate) fn sets(update: UpdateBuilder, columns: Vec<(&'static str, Value)>) -> UpdateBuilder {
    columns.into_iter().fold(update, |u, (c, v)| u.set(c, v))
}

/// A JSON array field, as JSON, if present.
fn json_list(payload: &Payload, key: &str) -> Result<Option<Value>, ProjectionError> {
    match payload.get(key) {
        None => Ok(None),
        Some(list @ Json::Array(_)) => Ok(Some(Value::json(list))),
        Some(_) => Err(ProjectionError::InvalidPayload(format!(
            "field {key:?} is not an array"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::event;
    use projection_sdk::{ColumnType, Payload, ProjectionError, Table, Value};

    use super::{Field, Kind, declare, field, inserted, present};

    fn payload(json: &str) -> Payload {
        event("instance", "instance.idp.oauth.added", Some(json))
            .payload()
            .unwrap()
    }

    const FIELDS: &[Field] = &[
        field("name", "name", Kind::Text).nullable(),
        field("usePKCE", "use_pkce", Kind::Bool).zero_default(),
        field("scopes", "scopes", Kind::TextArray).nullable(),
        field("servers", "servers", Kind::TextArray),
        field("clientSecret", "client_secret", Kind::Secret),
        field("rootCA", "root_ca", Kind::Bytes).nullable(),
        field("timeout", "timeout", Kind::Duration),
        field("nameIDFormat", "name_id_format", Kind::OptionalEnum).nullable(),
        field("rolesInfo", "roles_info", Kind::JsonList).nullable(),
    ];

    #[test]
    fn declares_types_nullability_and_defaults() {
        let table = declare(Table::new("t"), FIELDS);
        let columns: Vec<(&str, ColumnType, bool, Option<Value>)> = table
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.kind, c.nullable, c.default.clone()))
            .collect();
        assert_eq!(
            columns,
            [
                ("name", ColumnType::Text, true, None),
                (
                    "use_pkce",
                    ColumnType::Boolean,
                    false,
                    Some(Value::Boolean(false))
                ),
                ("scopes", ColumnType::TextArray, true, None),
                ("servers", ColumnType::TextArray, false, None),
                ("client_secret", ColumnType::Json, false, None),
                ("root_ca", ColumnType::Bytes, true, None),
                ("timeout", ColumnType::Interval, false, None),
                ("name_id_format", ColumnType::SmallInt, true, None),
                ("roles_info", ColumnType::Json, true, None),
            ]
        );
    }

    #[test]
    fn an_added_event_without_fields_writes_zero_values_null_or_nothing() {
        assert_eq!(
            inserted(&payload("{}"), FIELDS),
            Ok(vec![
                ("name", Value::Text(String::new())),
                ("use_pkce", Value::Boolean(false)),
                ("scopes", Value::Null),
                ("servers", Value::TextArray(Vec::new())),
                ("client_secret", Value::Json("null".to_owned())),
                ("root_ca", Value::Null),
                ("timeout", Value::Interval(0)),
            ])
        );
    }

    #[test]
    fn an_empty_json_list_is_left_out_on_insert_but_set_on_change() {
        let p = payload(r#"{"rolesInfo":[],"scopes":[]}"#);
        let added = inserted(&p, FIELDS).unwrap();
        assert!(added.iter().all(|(c, _)| *c != "roles_info"));
        assert!(added.contains(&("scopes", Value::TextArray(Vec::new()))));
        assert_eq!(
            present(&p, FIELDS),
            Ok(vec![
                ("scopes", Value::TextArray(Vec::new())),
                ("roles_info", Value::Json("[]".to_owned())),
            ])
        );
    }

    #[test]
    fn a_change_sets_only_the_fields_present() {
        let p = payload(r#"{"nameIdFormat":2,"timeout":5,"name":null}"#);
        assert_eq!(
            present(&p, FIELDS),
            Ok(vec![
                ("timeout", Value::Interval(5)),
                ("name_id_format", Value::Int(2)),
            ])
        );
    }

    #[test]
    fn values_of_the_wrong_shape_are_rejected() {
        for json in [
            r#"{"usePKCE":"yes"}"#,
            r#"{"scopes":"openid"}"#,
            r#"{"rootCA":"%%%"}"#,
            r#"{"timeout":"1s"}"#,
            r#"{"rolesInfo":{}}"#,
            r#"{"clientSecret":"plain"}"#,
        ] {
            assert!(
                matches!(
                    present(&payload(json), FIELDS),
                    Err(ProjectionError::InvalidPayload(_))
                ),
                "{json}"
            );
        }
    }
}
