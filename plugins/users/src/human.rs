//! `users_humans_projection`: the human part of a user (reference §4.2,
//! §4.5).
//!
//! A sub-table of `users_projection` (its rows go with the user's row). The
//! reference's table has no change_date/sequence; the canonical schema adds
//! them and the host stamps them from the event that last touched the row.

use projection_sdk::{
    ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule, UpdateBuilder,
    Value, insert, lower, on, update,
};

use crate::field::{null_if_empty, password_set};
use crate::user;

/// The table name.
pub(crate) const TABLE: &str = "users_humans_projection";

/// The events that change the profile (v2 and legacy v1 names).
pub(crate) const PROFILE_CHANGED: &[&str] = &["user.human.profile.changed", "user.profile.changed"];

/// The language tag the reference stores as NULL (Go's root tag).
const ROOT_LANGUAGE: &str = "und";

/// `gender`: unspecified, stored as NULL on insert.
const GENDER_UNSPECIFIED: i64 = 0;

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("user", user::HUMAN_ADDED, |event, _| {
            Ok(vec![added(event)?])
        }),
        on("user", PROFILE_CHANGED, profile_changed),
        on(
            "user",
            &[
                "user.human.mfa.otp.verified",
                "user.mfa.otp.verified",
                "user.human.mfa.otp.sms.added",
                "user.human.mfa.otp.email.added",
                "user.human.mfa.u2f.token.verified",
                "user.human.passwordless.token.verified",
            ],
            |event, _| set(event, "mfa_init_skipped", Value::Null),
        ),
        on(
            "user",
            &["user.human.mfa.init.skipped", "user.mfa.otp.init.skipped"],
            |event, _| set(event, "mfa_init_skipped", event.created_at_value()),
        ),
        on(
            "user",
            &["user.human.phone.changed", "user.phone.changed"],
            |event, _| {
                let phone = event.payload()?.text_or_empty("phone")?;
                one(row(event)
                    .set("phone", phone)
                    .set("is_phone_verified", false))
            },
        ),
        on(
            "user",
            &["user.human.phone.removed", "user.phone.removed"],
            |event, _| {
                one(row(event)
                    .set("phone", Value::Null)
                    .set("is_phone_verified", Value::Null))
            },
        ),
        on(
            "user",
            &["user.human.phone.verified", "user.phone.verified"],
            |event, _| set(event, "is_phone_verified", true),
        ),
        on(
            "user",
            &["user.human.email.changed", "user.email.changed"],
            |event, _| {
                let email = event.payload()?.text_or_empty("email")?;
                one(row(event)
                    .set("email", email)
                    .set("is_email_verified", false))
            },
        ),
        on(
            "user",
            &["user.human.email.verified", "user.email.verified"],
            |event, _| set(event, "is_email_verified", true),
        ),
        on("user", &["user.human.avatar.added"], |event, _| {
            set(
                event,
                "avatar_key",
                event.payload()?.text_or_empty("storeKey")?,
            )
        }),
        on("user", &["user.human.avatar.removed"], |event, _| {
            set(event, "avatar_key", Value::Null)
        }),
        on("user", &["user.human.password.changed"], |event, _| {
            let required = event.payload()?.boolean("changeRequired")?;
            one(row(event)
                .set("password_change_required", required.unwrap_or_default())
                .set("password_changed", event.created_at_value()))
        }),
    ],
);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("user_id", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("first_name", ColumnType::Text)
        .column("last_name", ColumnType::Text)
        .nullable("nick_name", ColumnType::Text)
        .nullable("display_name", ColumnType::Text)
        .nullable("preferred_language", ColumnType::Text)
        .nullable("gender", ColumnType::SmallInt)
        .nullable("avatar_key", ColumnType::Text)
        .column("email", ColumnType::Text)
        .column_default("is_email_verified", ColumnType::Boolean, false)
        .nullable("phone", ColumnType::Text)
        .nullable("is_phone_verified", ColumnType::Boolean)
        .column("password_change_required", ColumnType::Boolean)
        .nullable("password_changed", ColumnType::Timestamp)
        .nullable("mfa_init_skipped", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .primary_key(&["instance_id", "user_id"])
        .index_keys("email", &["instance_id".into(), lower("email")], &[])
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

/// Set one column of the event's user.
fn set(
    event: &Event,
    column: &str,
    value: impl Into<Value>,
) -> Result<Vec<Mutation>, ProjectionError> {
    one(row(event).set(column, value))
}

/// A profile change: the fields it sets, nothing when it sets none.
fn profile_changed(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let changes = profile_changes(event)?;
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    one(changes
        .into_iter()
        .fold(row(event), |u, (c, v)| u.set(c, v)))
}

/// The humans columns a profile change sets: first and last name when
/// non-empty, the optional fields when present.
pub(crate) fn profile_changes(
    event: &Event,
) -> Result<Vec<(&'static str, Value)>, ProjectionError> {
    let payload = event.payload()?;
    let mut changes = Vec::new();
    for (key, column) in [("firstName", "first_name"), ("lastName", "last_name")] {
        if let Some(name) = payload.text(key)?.filter(|n| !n.is_empty()) {
            changes.push((column, Value::Text(name)));
        }
    }
    for (key, column) in [
        ("nickName", "nick_name"),
        ("displayName", "display_name"),
        ("preferredLanguage", "preferred_language"),
    ] {
        if let Some(text) = payload.text(key)? {
            changes.push((column, Value::Text(text)));
        }
    }
    if let Some(gender) = payload.int("gender")? {
        changes.push(("gender", Value::Int(gender)));
    }
    Ok(changes)
}

/// The humans row of a new human user.
fn added(event: &Event) -> Result<Mutation, ProjectionError> {
    let payload = event.payload()?;
    let language = payload
        .text("preferredLanguage")?
        .filter(|tag| tag != ROOT_LANGUAGE)
        .unwrap_or_default();
    let gender = payload.int("gender")?.filter(|g| *g != GENDER_UNSPECIFIED);
    let password_changed = if password_set(&payload)? {
        event.created_at_value()
    } else {
        Value::Null
    };
    Ok(insert(TABLE)
        .value("user_id", &event.aggregate_id)
        .value("first_name", payload.text_or_empty("firstName")?)
        .value("last_name", payload.text_or_empty("lastName")?)
        .value(
            "nick_name",
            null_if_empty(payload.text_or_empty("nickName")?),
        )
        .value(
            "display_name",
            null_if_empty(payload.text_or_empty("displayName")?),
        )
        .value("preferred_language", null_if_empty(language))
        .value("gender", gender)
        .value("email", payload.text_or_empty("email")?)
        .value("phone", null_if_empty(payload.text_or_empty("phone")?))
        .value(
            "password_change_required",
            payload.boolean("changeRequired")?.unwrap_or_default(),
        )
        .value("password_changed", password_changed)
        .build())
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, Value, insert};

    use super::{MODULE, TABLE};
    use projection_sdk::testing::{CREATED_AT, event};

    #[test]
    fn added_with_a_password_records_when_it_was_set() {
        let e = event(
            "user",
            "user.human.added",
            Some(
                r#"{"userName":"u","firstName":"f","lastName":"l","email":"e","preferredLanguage":"und","gender":0,"encodedHash":"$2a$"}"#,
            ),
        );
        let expected = insert(TABLE)
            .value("user_id", "agg-id")
            .value("first_name", "f")
            .value("last_name", "l")
            .value("nick_name", Value::Null)
            .value("display_name", Value::Null)
            .value("preferred_language", Value::Null)
            .value("gender", Value::Null)
            .value("email", "e")
            .value("phone", Value::Null)
            .value("password_change_required", false)
            .value("password_changed", Value::Timestamp(CREATED_AT))
            .build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn profile_change_sets_present_fields_only() {
        let e = event(
            "user",
            "user.human.profile.changed",
            Some(r#"{"firstName":"","nickName":"","gender":2}"#),
        );
        let Ok(Some(mutations)) = MODULE.reduce(&e, &Context::new(&NoEvents)) else {
            panic!("not reduced");
        };
        let expected = projection_sdk::update(TABLE)
            .eq("user_id", "agg-id")
            .set("nick_name", "")
            .set("gender", 2)
            .build();
        assert_eq!(mutations, vec![expected]);
    }
}
