//! `users_notifications_projection`: where to notify a human user (reference
//! §4.4, §4.5).
//!
//! A sub-table of `users_projection`; change_date/sequence are added by the
//! canonical schema. Verification copies the last address into the verified
//! one within the row (reference §9.2), so the plugin never needs to know it.

use projection_sdk::{
    ColumnOp, ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule,
    UpdateBuilder, Value, insert, on, update,
};

use crate::field::{null_if_empty, password_set};
use crate::user;

/// The table name.
pub(crate) const TABLE: &str = "users_notifications_projection";

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("user", user::HUMAN_ADDED, added),
        on(
            "user",
            &["user.human.phone.changed", "user.phone.changed"],
            |event, _| {
                let phone = event.payload()?.text_or_empty("phone")?;
                one(row(event).set("last_phone", null_if_empty(phone)))
            },
        ),
        on(
            "user",
            &["user.human.phone.removed", "user.phone.removed"],
            |event, _| {
                one(row(event)
                    .set("last_phone", Value::Null)
                    .set("verified_phone", Value::Null))
            },
        ),
        on(
            "user",
            &["user.human.phone.verified", "user.phone.verified"],
            |event, _| one(row(event).op("verified_phone", copy_from("last_phone"))),
        ),
        on(
            "user",
            &["user.human.email.changed", "user.email.changed"],
            |event, _| {
                let email = event.payload()?.text_or_empty("email")?;
                one(row(event).set("last_email", null_if_empty(email)))
            },
        ),
        on(
            "user",
            &["user.human.email.verified", "user.email.verified"],
            |event, _| one(row(event).op("verified_email", copy_from("last_email"))),
        ),
        on("user", &["user.human.password.changed"], |event, _| {
            one(row(event).set("password_set", true))
        }),
    ],
);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("user_id", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .nullable("last_email", ColumnType::Text)
        .nullable("verified_email", ColumnType::Text)
        .nullable("last_phone", ColumnType::Text)
        .nullable("verified_phone", ColumnType::Text)
        .column_default("password_set", ColumnType::Boolean, false)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .primary_key(&["instance_id", "user_id"])
        .parent(user::TABLE)
}

/// An update of the event's user.
fn row(event: &Event) -> UpdateBuilder {
    update(TABLE).eq("user_id", &event.aggregate_id)
}

/// The one update `update`.
fn one(update: UpdateBuilder) -> Result<Vec<Mutation>, ProjectionError> {
    Ok(vec![update.build()])
}

/// Take another column's value of the same row.
fn copy_from(column: &str) -> ColumnOp {
    ColumnOp::CopyFrom(column.to_owned())
}

/// A new human user: where to notify them, and whether a password is set.
fn added(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    Ok(vec![
        insert(TABLE)
            .value("user_id", &event.aggregate_id)
            .value("last_email", payload.text_or_empty("email")?)
            .value("last_phone", null_if_empty(payload.text_or_empty("phone")?))
            .value("password_set", password_set(&payload)?)
            .build(),
    ])
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, Value, update};

    use super::{MODULE, TABLE};
    use projection_sdk::testing::event;

    #[test]
    fn email_changed_to_empty_clears_the_last_email() {
        let e = event("user", "user.human.email.changed", Some(r#"{"email":""}"#));
        let expected = update(TABLE)
            .eq("user_id", "agg-id")
            .set("last_email", Value::Null)
            .build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn added_with_a_crypto_secret_marks_the_password_set() {
        let e = event(
            "user",
            "user.human.added",
            Some(r#"{"email":"e","secret":{"CryptoType":1,"Crypted":"aGFzaA=="}}"#),
        );
        let Ok(Some(mutations)) = MODULE.reduce(&e, &Context::new(&NoEvents)) else {
            panic!("not reduced");
        };
        let expected = projection_sdk::insert(TABLE)
            .value("user_id", "agg-id")
            .value("last_email", "e")
            .value("last_phone", Value::Null)
            .value("password_set", true)
            .build();
        assert_eq!(mutations, vec![expected]);
    }
}
