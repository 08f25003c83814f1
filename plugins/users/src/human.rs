//! `users_humans_projection`: the human part of a user (reference §4.2,
//! §4.5).
//!
//! A sub-table of `users_projection` (its rows go with the user's row). The
//! reference's table has no change_date/sequence; the canonical schema adds
//! them and the host stamps them from the event that last touched the row.

use projection_sdk::{
    ColumnType, Context, Description, Event, Mutation, ProjectionError, Table, Value, insert,
    lower, update,
};

use crate::field::{null_if_empty, password_set};
use crate::user;
use projection_sdk::Reduced;

/// The table name.
pub(crate) const TABLE: &str = "users_humans_projection";

/// The events that change the profile (v2 and legacy v1 names).
pub(crate) const PROFILE_CHANGED: &[&str] = &["user.human.profile.changed", "user.profile.changed"];

/// The language tag the reference stores as NULL (Go's root tag).
const ROOT_LANGUAGE: &str = "und";

/// `gender`: unspecified, stored as NULL on insert.
const GENDER_UNSPECIFIED: i64 = 0;

/// Events that clear `mfa_init_skipped` (a second factor was set up).
const MFA_SET_UP: &[&str] = &[
    "user.human.mfa.otp.verified",
    "user.mfa.otp.verified",
    "user.human.mfa.otp.sms.added",
    "user.human.mfa.otp.email.added",
    "user.human.mfa.u2f.token.verified",
    "user.human.passwordless.token.verified",
];

/// Events that record that the user skipped the MFA set-up.
const MFA_SKIPPED: &[&str] = &["user.human.mfa.init.skipped", "user.mfa.otp.init.skipped"];

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
    "user.human.avatar.added",
    "user.human.avatar.removed",
    "user.human.password.changed",
];

/// The table declaration.
pub(crate) fn table() -> Table {
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

/// Add the table's subscriptions.
pub(crate) fn subscribe(description: Description) -> Description {
    let events: Vec<&str> = [
        user::HUMAN_ADDED,
        PROFILE_CHANGED,
        MFA_SET_UP,
        MFA_SKIPPED,
        EVENTS,
    ]
    .concat();
    description.subscribe("user", &events)
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

/// Reduce one event.
pub(crate) fn reduce(event: &Event, _ctx: &Context<'_>) -> Reduced {
    let kind = event.event_type.as_str();
    let row = || update(TABLE).eq("user_id", &event.aggregate_id);
    let one = |m: Mutation| Ok(Some(vec![m]));
    if user::HUMAN_ADDED.contains(&kind) {
        return one(added(event)?);
    }
    if PROFILE_CHANGED.contains(&kind) {
        let changes = profile_changes(event)?;
        if changes.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let set = changes.into_iter().fold(row(), |u, (c, v)| u.set(c, v));
        return one(set.build());
    }
    if MFA_SET_UP.contains(&kind) {
        return one(row().set("mfa_init_skipped", Value::Null).build());
    }
    if MFA_SKIPPED.contains(&kind) {
        return one(row()
            .set("mfa_init_skipped", event.created_at_value())
            .build());
    }
    let mutation = match kind {
        "user.human.phone.changed" | "user.phone.changed" => row()
            .set("phone", event.payload()?.text_or_empty("phone")?)
            .set("is_phone_verified", false),
        "user.human.phone.removed" | "user.phone.removed" => row()
            .set("phone", Value::Null)
            .set("is_phone_verified", Value::Null),
        "user.human.phone.verified" | "user.phone.verified" => row().set("is_phone_verified", true),
        "user.human.email.changed" | "user.email.changed" => row()
            .set("email", event.payload()?.text_or_empty("email")?)
            .set("is_email_verified", false),
        "user.human.email.verified" | "user.email.verified" => row().set("is_email_verified", true),
        "user.human.avatar.added" => {
            row().set("avatar_key", event.payload()?.text_or_empty("storeKey")?)
        }
        "user.human.avatar.removed" => row().set("avatar_key", Value::Null),
        "user.human.password.changed" => {
            let required = event.payload()?.boolean("changeRequired")?;
            row()
                .set("password_change_required", required.unwrap_or_default())
                .set("password_changed", event.created_at_value())
        }
        _ => return Ok(None),
    };
    one(mutation.build())
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

    use super::{TABLE, reduce};
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
            reduce(&e, &Context::new(&NoEvents)),
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
        let Ok(Some(mutations)) = reduce(&e, &Context::new(&NoEvents)) else {
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
