//! `users_projection`: one row per user, human or machine (reference §4.1,
//! §4.5).
//!
//! Most user events change a sub-table and "bump" this row (change_date and
//! sequence only). The init-code events change the state without a bump
//! (reference §9.4).

use projection_sdk::{
    ColumnType, Event, Mutation, ProjectionError, Table, TableModule, UpdateBuilder,
    aggregate_removed, insert, instance_removed, on, update,
};

use crate::{human, machine};

/// The table name.
pub(crate) const TABLE: &str = "users_projection";

/// `state`: active.
const STATE_ACTIVE: i64 = 1;
/// `state`: inactive.
const STATE_INACTIVE: i64 = 2;
/// `state`: locked.
const STATE_LOCKED: i64 = 4;
/// `state`: initial.
const STATE_INITIAL: i64 = 6;

/// `type`: human.
const TYPE_HUMAN: i64 = 1;
/// `type`: machine.
const TYPE_MACHINE: i64 = 2;

/// The events that create a human user (v2 and legacy v1 names).
pub(crate) const HUMAN_ADDED: &[&str] = &[
    "user.human.added",
    "user.added",
    "user.human.selfregistered",
    "user.selfregistered",
];

/// The event that creates a machine user.
pub(crate) const MACHINE_ADDED: &str = "user.machine.added";

/// Events that only bump the row here (their data goes to a sub-table).
/// `user.human.profile.changed`/`user.profile.changed` and
/// `user.machine.changed` bump only when they change something.
const BUMP_ONLY: &[&str] = &[
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
    "user.machine.secret.set",
    "user.machine.secret.updated",
    "user.machine.secret.removed",
];

/// The table and what each event does to it. The init-code events set the
/// state without a bump.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("user", HUMAN_ADDED, |event, _| added(event, TYPE_HUMAN)),
        on("user", &[MACHINE_ADDED], |event, _| {
            added(event, TYPE_MACHINE)
        }),
        aggregate_removed("user", &["user.removed"], &["id"]),
        on(
            "user",
            &[
                "user.human.initialization.code.added",
                "user.initialization.code.added",
            ],
            |event, _| Ok(vec![state(event, STATE_INITIAL).no_bump().build()]),
        ),
        on(
            "user",
            &[
                "user.human.initialization.check.succeeded",
                "user.initialization.check.succeeded",
            ],
            |event, _| Ok(vec![state(event, STATE_ACTIVE).no_bump().build()]),
        ),
        on("user", &["user.locked"], |event, _| {
            Ok(vec![state(event, STATE_LOCKED).build()])
        }),
        on("user", &["user.unlocked"], |event, _| {
            Ok(vec![state(event, STATE_ACTIVE).build()])
        }),
        on("user", &["user.deactivated"], |event, _| {
            Ok(vec![state(event, STATE_INACTIVE).build()])
        }),
        on("user", &["user.reactivated"], |event, _| {
            Ok(vec![state(event, STATE_ACTIVE).build()])
        }),
        on(
            "user",
            &["user.username.changed", "user.domain.claimed"],
            |event, _| {
                let username = event.payload()?.text_or_empty("userName")?;
                Ok(vec![row(event).set("username", username).build()])
            },
        ),
        on("user", human::PROFILE_CHANGED, |event, _| {
            bump_if(event, !human::profile_changes(event)?.is_empty())
        }),
        on("user", &["user.machine.changed"], |event, _| {
            bump_if(event, !machine::changes(event)?.is_empty())
        }),
        on("user", BUMP_ONLY, |event, _| bump_if(event, true)),
        aggregate_removed("org", &["org.removed"], &["resource_owner"]),
        instance_removed(),
    ],
);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("id", ColumnType::Text)
        .column("creation_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .column("state", ColumnType::SmallInt)
        .column("resource_owner", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("username", ColumnType::Text)
        .column("type", ColumnType::SmallInt)
        .primary_key(&["instance_id", "id"])
        .index("username", &["username"], &[])
        .index("resource_owner", &["resource_owner"], &[])
}

/// An update of the event's user.
fn row(event: &Event) -> UpdateBuilder {
    update(TABLE).eq("id", &event.aggregate_id)
}

/// Set the user's state.
fn state(event: &Event, state: i64) -> UpdateBuilder {
    row(event).set("state", state)
}

/// A new active user of `user_type`.
fn added(event: &Event, user_type: i64) -> Result<Vec<Mutation>, ProjectionError> {
    let username = event.payload()?.text_or_empty("userName")?;
    Ok(vec![
        insert(TABLE)
            .value("id", &event.aggregate_id)
            .value("resource_owner", &event.owner)
            .value("state", STATE_ACTIVE)
            .value("username", username)
            .value("type", user_type)
            .build(),
    ])
}

/// "bump user" when `changed`: stamp the user's row with the event, change
/// nothing else.
fn bump_if(event: &Event, changed: bool) -> Result<Vec<Mutation>, ProjectionError> {
    if !changed {
        return Ok(Vec::new());
    }
    Ok(vec![
        update(TABLE)
            .set("change_date", event.created_at_value())
            .set("sequence", event.sequence)
            .eq("id", &event.aggregate_id)
            .build(),
    ])
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, update};

    use super::{MODULE, TABLE};
    use projection_sdk::testing::event;

    #[test]
    fn init_code_sets_the_state_without_a_bump() {
        let e = event("user", "user.human.initialization.code.added", None);
        let expected = update(TABLE).eq("id", "agg-id").set("state", 6).no_bump();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected.build()]))
        );
    }

    #[test]
    fn profile_change_without_fields_does_nothing() {
        let e = event("user", "user.human.profile.changed", Some("{}"));
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![]))
        );
    }

    #[test]
    fn email_verified_only_bumps_the_user() {
        let e = event("user", "user.human.email.verified", None);
        let Ok(Some(mutations)) = MODULE.reduce(&e, &Context::new(&NoEvents)) else {
            panic!("not reduced");
        };
        assert_eq!(mutations.len(), 1);
        assert_eq!(mutations[0].table(), TABLE);
    }
}
