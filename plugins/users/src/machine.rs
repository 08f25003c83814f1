//! `users_machines_projection`: the machine part of a user (reference §4.3,
//! §4.5).
//!
//! A sub-table of `users_projection`; change_date/sequence are added by the
//! canonical schema and stamped by the host.

use projection_sdk::{
    ColumnType, Context, Description, Event, ProjectionError, Table, Value, insert, update,
};

use crate::field::{crypted_text, enum_or_zero, null_if_empty};
use crate::user;
use projection_sdk::Reduced;

/// The table name.
pub(crate) const TABLE: &str = "users_machines_projection";

/// The other `user` events this table reduces.
const EVENTS: &[&str] = &[
    "user.machine.changed",
    "user.machine.secret.set",
    "user.machine.secret.updated",
    "user.machine.secret.removed",
];

/// The table declaration.
pub(crate) fn table() -> Table {
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

/// Add the table's subscriptions.
pub(crate) fn subscribe(description: Description) -> Description {
    description
        .subscribe("user", &[user::MACHINE_ADDED])
        .subscribe("user", EVENTS)
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

/// Reduce one event.
pub(crate) fn reduce(event: &Event, _ctx: &Context<'_>) -> Reduced {
    let row = || update(TABLE).eq("user_id", &event.aggregate_id);
    let mutation = match event.event_type.as_str() {
        user::MACHINE_ADDED => {
            let payload = event.payload()?;
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
                .build()
        }
        "user.machine.changed" => {
            let changes = changes(event)?;
            if changes.is_empty() {
                return Ok(Some(Vec::new()));
            }
            changes
                .into_iter()
                .fold(row(), |u, (c, v)| u.set(c, v))
                .build()
        }
        "user.machine.secret.set" => {
            let payload = event.payload()?;
            let secret = match crypted_text(&payload, "clientSecret")? {
                Some(crypted) => Some(crypted),
                None => payload.text("hashedSecret")?,
            };
            row().set("secret", secret).build()
        }
        "user.machine.secret.updated" => {
            let hashed = event.payload()?.text("hashedSecret")?;
            row().set("secret", hashed).build()
        }
        "user.machine.secret.removed" => row().set("secret", Value::Null).build(),
        _ => return Ok(None),
    };
    Ok(Some(vec![mutation]))
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, update};

    use super::{TABLE, reduce};
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
            reduce(&e, &Context::new(&NoEvents)),
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
            reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }
}
