//! `users_notifications_projection`: where to notify a human user (reference
//! §4.4, §4.5).
//!
//! A sub-table of `users_projection`; change_date/sequence are added by the
//! canonical schema. Verification copies the last address into the verified
//! one within the row (reference §9.2), so the plugin never needs to know it.

use projection_sdk::{
    ColumnOp, ColumnType, Context, Description, Event, Table, Value, insert, update,
};

use crate::field::{null_if_empty, password_set};
use crate::user;
use projection_sdk::Reduced;

/// The table name.
pub(crate) const TABLE: &str = "users_notifications_projection";

/// The other `user` events this table reduces.
const EVENTS: &[&str] = &[
    "user.human.phone.changed",
    "user.phone.changed",
    "user.human.phone.removed",
    "user.phone.removed",
    "user.human.phone.verified",
    "user.phone.verified",
    "user.human.email.changed",
    "user.email.changed",
    "user.human.email.verified",
    "user.email.verified",
    "user.human.password.changed",
];

/// The table declaration.
pub(crate) fn table() -> Table {
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

/// Add the table's subscriptions.
pub(crate) fn subscribe(description: Description) -> Description {
    description
        .subscribe("user", user::HUMAN_ADDED)
        .subscribe("user", EVENTS)
}

/// Reduce one event.
pub(crate) fn reduce(event: &Event, _ctx: &Context<'_>) -> Reduced {
    let kind = event.event_type.as_str();
    let row = || update(TABLE).eq("user_id", &event.aggregate_id);
    if user::HUMAN_ADDED.contains(&kind) {
        let payload = event.payload()?;
        let added = insert(TABLE)
            .value("user_id", &event.aggregate_id)
            .value("last_email", payload.text_or_empty("email")?)
            .value("last_phone", null_if_empty(payload.text_or_empty("phone")?))
            .value("password_set", password_set(&payload)?)
            .build();
        return Ok(Some(vec![added]));
    }
    let mutation = match kind {
        "user.human.phone.changed" | "user.phone.changed" => {
            let phone = event.payload()?.text_or_empty("phone")?;
            row().set("last_phone", null_if_empty(phone))
        }
        "user.human.phone.removed" | "user.phone.removed" => row()
            .set("last_phone", Value::Null)
            .set("verified_phone", Value::Null),
        "user.human.phone.verified" | "user.phone.verified" => row().op(
            "verified_phone",
            ColumnOp::CopyFrom("last_phone".to_owned()),
        ),
        "user.human.email.changed" | "user.email.changed" => {
            let email = event.payload()?.text_or_empty("email")?;
            row().set("last_email", null_if_empty(email))
        }
        "user.human.email.verified" | "user.email.verified" => row().op(
            "verified_email",
            ColumnOp::CopyFrom("last_email".to_owned()),
        ),
        "user.human.password.changed" => row().set("password_set", true),
        _ => return Ok(None),
    };
    Ok(Some(vec![mutation.build()]))
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, Value, update};

    use super::{TABLE, reduce};
    use projection_sdk::testing::event;

    #[test]
    fn email_changed_to_empty_clears_the_last_email() {
        let e = event("user", "user.human.email.changed", Some(r#"{"email":""}"#));
        let expected = update(TABLE)
            .eq("user_id", "agg-id")
            .set("last_email", Value::Null)
            .build();
        assert_eq!(
            reduce(&e, &Context::new(&NoEvents)),
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
        let Ok(Some(mutations)) = reduce(&e, &Context::new(&NoEvents)) else {
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
