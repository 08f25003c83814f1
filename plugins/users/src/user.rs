//! `users_projection`: one row per user, human or machine (reference §4.1,
//! §4.5).
//!
//! Most user events change a sub-table and "bump" this row (change_date and
//! sequence only). The init-code events change the state without a bump
//! (reference §9.4).

use projection_sdk::{ColumnType, Context, Description, Event, Table, delete, insert, update};

use crate::{human, machine};
use projection_sdk::Reduced;

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

/// Events that set the state without bumping the row.
const STATE_UNBUMPED: &[(&str, i64)] = &[
    ("user.human.initialization.code.added", STATE_INITIAL),
    ("user.initialization.code.added", STATE_INITIAL),
    ("user.human.initialization.check.succeeded", STATE_ACTIVE),
    ("user.initialization.check.succeeded", STATE_ACTIVE),
];

/// Events that set the state and bump the row.
const STATE_BUMPED: &[(&str, i64)] = &[
    ("user.locked", STATE_LOCKED),
    ("user.unlocked", STATE_ACTIVE),
    ("user.deactivated", STATE_INACTIVE),
    ("user.reactivated", STATE_ACTIVE),
];

/// Events that change the user name.
const USERNAME: &[&str] = &["user.username.changed", "user.domain.claimed"];

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

/// The table declaration.
pub(crate) fn table() -> Table {
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

/// Add the table's subscriptions.
pub(crate) fn subscribe(description: Description) -> Description {
    let state = STATE_UNBUMPED.iter().chain(STATE_BUMPED).map(|(t, _)| *t);
    let events: Vec<&str> = HUMAN_ADDED
        .iter()
        .copied()
        .chain([MACHINE_ADDED, "user.removed"])
        .chain(state)
        .chain(USERNAME.iter().copied())
        .chain(human::PROFILE_CHANGED.iter().copied())
        .chain(["user.machine.changed"])
        .chain(BUMP_ONLY.iter().copied())
        .collect();
    description
        .subscribe("user", &events)
        .subscribe("org", &["org.removed"])
        .subscribe("instance", &["instance.removed"])
}

/// Reduce one event.
pub(crate) fn reduce(event: &Event, _ctx: &Context<'_>) -> Reduced {
    let id = &event.aggregate_id;
    let row = || update(TABLE).eq("id", id);
    let kind = event.event_type.as_str();
    let added = |user_type: i64| -> Reduced {
        let username = event.payload()?.text_or_empty("userName")?;
        Ok(Some(vec![
            insert(TABLE)
                .value("id", id)
                .value("resource_owner", &event.owner)
                .value("state", STATE_ACTIVE)
                .value("username", username)
                .value("type", user_type)
                .build(),
        ]))
    };
    let bump = || Ok(Some(vec![bump_row(event)]));
    if HUMAN_ADDED.contains(&kind) {
        return added(TYPE_HUMAN);
    }
    if let Some((_, state)) = STATE_UNBUMPED.iter().find(|(t, _)| *t == kind) {
        return Ok(Some(vec![row().set("state", *state).no_bump().build()]));
    }
    if let Some((_, state)) = STATE_BUMPED.iter().find(|(t, _)| *t == kind) {
        return Ok(Some(vec![row().set("state", *state).build()]));
    }
    if USERNAME.contains(&kind) {
        let username = event.payload()?.text_or_empty("userName")?;
        return Ok(Some(vec![row().set("username", username).build()]));
    }
    if BUMP_ONLY.contains(&kind) {
        return bump();
    }
    if human::PROFILE_CHANGED.contains(&kind) {
        if human::profile_changes(event)?.is_empty() {
            return Ok(Some(Vec::new()));
        }
        return bump();
    }
    let mutation = match kind {
        MACHINE_ADDED => return added(TYPE_MACHINE),
        "user.machine.changed" => {
            if machine::changes(event)?.is_empty() {
                return Ok(Some(Vec::new()));
            }
            return bump();
        }
        "user.removed" => delete(TABLE).eq("id", id).build(),
        "org.removed" => delete(TABLE).eq("resource_owner", id).build(),
        "instance.removed" => delete(TABLE).eq("instance_id", &event.instance_id).build(),
        _ => return Ok(None),
    };
    Ok(Some(vec![mutation]))
}

/// "bump user": stamp the user's row with the event, change nothing else.
fn bump_row(event: &Event) -> projection_sdk::Mutation {
    update(TABLE)
        .set("change_date", event.created_at_value())
        .set("sequence", event.sequence)
        .eq("id", &event.aggregate_id)
        .build()
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, update};

    use super::{TABLE, reduce};
    use projection_sdk::testing::event;

    #[test]
    fn init_code_sets_the_state_without_a_bump() {
        let e = event("user", "user.human.initialization.code.added", None);
        let expected = update(TABLE).eq("id", "agg-id").set("state", 6).no_bump();
        assert_eq!(
            reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected.build()]))
        );
    }

    #[test]
    fn profile_change_without_fields_does_nothing() {
        let e = event("user", "user.human.profile.changed", Some("{}"));
        assert_eq!(reduce(&e, &Context::new(&NoEvents)), Ok(Some(vec![])));
    }

    #[test]
    fn email_verified_only_bumps_the_user() {
        let e = event("user", "user.human.email.verified", None);
        let Ok(Some(mutations)) = reduce(&e, &Context::new(&NoEvents)) else {
            panic!("not reduced");
        };
        assert_eq!(mutations.len(), 1);
        assert_eq!(mutations[0].table(), TABLE);
    }
}
