//! `sessions_projection`: one row per active session (reference §5.1).
//!
//! A session is inserted by `session.added`; every check, the token, the
//! metadata and the lifetime update the row of the event's session (and
//! bump it). A session ends with its row: `session.terminated` deletes it,
//! and so do `user.deactivated`, `user.locked` and `user.removed` for every
//! session of the user. A changed password clears `password_checked_at` of
//! the user's sessions checked before the change, without bumping them
//! (reference §9.2, §9.4). Only the active state (1) is ever stored.
//!
//! Every reducer works from the event alone: no look-ups on the busiest
//! table of a live system.
//!
//! - `user_agent.rs`: the `user_agent` object of `session.added`;
//! - `check.rs`: the user and factor checks (`checkedAt` times);
//! - `attribute.rs`: token, metadata and lifetime.

mod attribute;
mod check;
mod user_agent;

use projection_sdk::{
    ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule, UpdateBuilder,
    Value, aggregate_removed, insert, instance_removed, on, update,
};

/// The table name.
pub(crate) const TABLE: &str = "sessions_projection";

/// `state`: active (terminated sessions are deleted, so this is the only
/// state stored).
const STATE_ACTIVE: i64 = 1;

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("session", &["session.added"], added),
        on("session", &["session.user.checked"], check::user),
        on("session", &["session.password.checked"], check::password),
        on("session", &["session.intent.checked"], check::intent),
        on("session", &["session.webAuthN.checked"], check::webauthn),
        on("session", &["session.totp.checked"], check::totp),
        on("session", &["session.otp.sms.checked"], check::otp_sms),
        on("session", &["session.otp.email.checked"], check::otp_email),
        on(
            "session",
            &["session.recoveryCode.checked"],
            check::recovery_code,
        ),
        on("session", &["session.token.set"], attribute::token),
        on("session", &["session.metadata.set"], attribute::metadata),
        on("session", &["session.lifetime.set"], attribute::lifetime),
        aggregate_removed("session", &["session.terminated"], &["id"]),
        on("user", &["user.human.password.changed"], password_changed),
        aggregate_removed(
            "user",
            &["user.deactivated", "user.locked", "user.removed"],
            &["user_id"],
        ),
        instance_removed(),
    ],
);

/// The table declaration, columns in the reference's order. The two index
/// names end in `_idx` as the reference's do (the host appends another).
fn table() -> Table {
    Table::new(TABLE)
        .column("id", ColumnType::Text)
        .column("creation_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .column("state", ColumnType::SmallInt)
        .column("resource_owner", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("creator", ColumnType::Text)
        .nullable("user_id", ColumnType::Text)
        .nullable("user_resource_owner", ColumnType::Text)
        .nullable("user_checked_at", ColumnType::Timestamp)
        .nullable("password_checked_at", ColumnType::Timestamp)
        .nullable("intent_checked_at", ColumnType::Timestamp)
        .nullable("webauthn_checked_at", ColumnType::Timestamp)
        .nullable("webauthn_user_verified", ColumnType::Boolean)
        .nullable("totp_checked_at", ColumnType::Timestamp)
        .nullable("otp_sms_checked_at", ColumnType::Timestamp)
        .nullable("otp_email_checked_at", ColumnType::Timestamp)
        .nullable("mfa_recovery_code_checked_at", ColumnType::Timestamp)
        .nullable("metadata", ColumnType::Json)
        .nullable("token_id", ColumnType::Text)
        .nullable("user_agent_fingerprint_id", ColumnType::Text)
        .nullable("user_agent_ip", ColumnType::Text)
        .nullable("user_agent_description", ColumnType::Text)
        .nullable("user_agent_header", ColumnType::Json)
        .nullable("expiration", ColumnType::Timestamp)
        .primary_key(&["instance_id", "id"])
        .index(
            "user_agent_fingerprint_id_idx",
            &["user_agent_fingerprint_id"],
            &[],
        )
        .index("user_id_idx", &["user_id"], &[])
}

/// An update of the event's session (bumped by the host).
fn row(event: &Event) -> UpdateBuilder {
    update(TABLE).eq("id", &event.aggregate_id)
}

/// `session.added`: an active session created by the event's creator, with
/// the user agent's columns when the event has one.
fn added(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let row = insert(TABLE)
        .value("id", &event.aggregate_id)
        .value("resource_owner", &event.owner)
        .value("state", STATE_ACTIVE)
        .value("creator", &event.creator);
    Ok(vec![user_agent::columns(row, &payload)?.build()])
}

/// `user.human.password.changed`: sessions of the user whose password was
/// checked before the change lose that check; the rows are not bumped.
fn password_changed(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    Ok(vec![
        update(TABLE)
            .set("password_checked_at", Value::Null)
            .eq("user_id", &event.aggregate_id)
            .lt("password_checked_at", event.created_at_value())
            .no_bump()
            .build(),
    ])
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::{CREATED_AT, event};
    use projection_sdk::{Context, Mutation, NoEvents, Value, delete, insert, update};

    use super::{MODULE, TABLE};

    fn reduce(aggregate_type: &str, event_type: &str, payload: Option<&str>) -> Vec<Mutation> {
        let e = event(aggregate_type, event_type, payload);
        MODULE
            .reduce(&e, &Context::new(&NoEvents))
            .unwrap()
            .unwrap()
    }

    #[test]
    fn added_without_a_user_agent_inserts_an_active_session() {
        let expected = insert(TABLE)
            .value("id", "agg-id")
            .value("resource_owner", "ro-id")
            .value("state", 1)
            .value("creator", "editor-user")
            .build();
        for payload in [
            None,
            Some("{}"),
            Some(r#"{"domain":"d","user_agent":null}"#),
        ] {
            assert_eq!(
                reduce("session", "session.added", payload),
                vec![expected.clone()]
            );
        }
    }

    #[test]
    fn terminated_deletes_the_session() {
        assert_eq!(
            reduce(
                "session",
                "session.terminated",
                Some(r#"{"triggerOrigin":"o"}"#)
            ),
            vec![delete(TABLE).eq("id", "agg-id").build()]
        );
    }

    #[test]
    fn password_changed_clears_earlier_password_checks_without_a_bump() {
        let expected = update(TABLE)
            .set("password_checked_at", Value::Null)
            .eq("user_id", "agg-id")
            .lt("password_checked_at", Value::Timestamp(CREATED_AT))
            .no_bump()
            .build();
        assert_eq!(
            reduce("user", "user.human.password.changed", None),
            vec![expected]
        );
    }

    #[test]
    fn an_inactive_or_removed_user_loses_every_session() {
        for event_type in ["user.deactivated", "user.locked", "user.removed"] {
            let expected = delete(TABLE).eq("user_id", "agg-id").build();
            assert_eq!(reduce("user", event_type, None), vec![expected]);
        }
    }

    #[test]
    fn other_user_events_do_not_reach_sessions() {
        for event_type in ["user.reactivated", "user.unlocked", "user.human.added"] {
            let e = event("user", event_type, None);
            assert_eq!(MODULE.reduce(&e, &Context::new(&NoEvents)), Ok(None));
        }
    }
}
