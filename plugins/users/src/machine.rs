//! `users_machines_projection`: the machine part of a user (reference §4.3,
//! §4.5).
//!
//! A sub-table of `users_projection`; change_date/sequence are added by the
//! canonical schema and stamped by the host.

use projection_sdk::{
    ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule, UpdateBuilder,
    Value, insert, on, update,
};

use crate::field::{enum_or_zero, null_if_empty};
use crate::user;

/// The table name.
pub(crate) const TABLE: &str = "users_machines_projection";

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("user", &[user::MACHINE_ADDED], added),
        on("user", &["user.machine.changed"], |event, _| {
            let changes = changes(event)?;
            if changes.is_empty() {
                return Ok(Vec::new());
            }
            let set = changes
                .into_iter()
                .fold(row(event), |u, (c, v)| u.set(c, v));
            Ok(vec![set.build()])
        }),
        on("user", &["user.machine.secret.set"], |event, _| {
            let payload = event.payload()?;
            let secret = match payload.crypted_text("clientSecret")? {
                Some(crypted) => Some(crypted),
                None => payload.text("hashedSecret")?,
            };
            Ok(vec![row(event).set("secret", secret).build()])
        }),
        on("user", &["user.machine.secret.updated"], |event, _| {
            let hashed = event.payload()?.text("hashedSecret")?;
            Ok(vec![row(event).set("secret", hashed).build()])
        }),
        on("user", &["user.machine.secret.removed"], |event, _| {
            Ok(vec![row(event).set("secret", Value::Null).build()])
        }),
    ],
);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("user_id", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("name", ColumnType::Text)
        .nullable("description", ColumnType::Text)
        .nullable("secret", ColumnType::Text)
        .column_default("access_token_type", ColumnType::SmallInt, 0)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .primary_key(&["instance_id", "user_id"])
        .parent(user::TABLE)
}

/// An update of the event's machine.
fn row(event: &Event) -> UpdateBuilder {
    update(TABLE).eq("user_id", &event.aggregate_id)
}

/// `user.machine.added`: the machine row.
fn added(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    Ok(vec![
        insert(TABLE)
            .value("user_id", &event.aggregate_id)
            .value("name", payload.text_or_empty("name")?)
            .value(
                "description",
                null_if_empty(payload.text_or_empty("description")?),
            )
            .value(
                "access_token_type",
                enum_or_zero(&payload, "accessTokenType")?,
            )
            .build(),
    ])
}

/// The columns `user.machine.changed` sets: the fields present.
pub(crate) fn changes(event: &Event) -> Result<Vec<(&'static str, Value)>, ProjectionError> {
    let payload = event.payload()?;
    let mut changes = Vec::new();
    for (key, column) in [("name", "name"), ("description", "description")] {
        if let Some(text) = payload.text(key)? {
            changes.push((column, Value::Text(text)));
        }
    }
    if let Some(kind) = payload.int("accessTokenType")? {
        changes.push(("access_token_type", Value::Int(kind)));
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, update};

    use super::{MODULE, TABLE};
    use projection_sdk::testing::event;

    #[test]
    fn secret_set_takes_the_hash_without_a_crypto_value() {
        let e = event(
            "user",
            "user.machine.secret.set",
            Some(r#"{"hashedSecret":"$2a$hash"}"#),
        );
        let expected = update(TABLE)
            .eq("user_id", "agg-id")
            .set("secret", "$2a$hash")
            .build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn changed_sets_the_access_token_type() {
        let e = event(
            "user",
            "user.machine.changed",
            Some(r#"{"accessTokenType":1}"#),
        );
        let expected = update(TABLE)
            .eq("user_id", "agg-id")
            .set("access_token_type", 1)
            .build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }
}
