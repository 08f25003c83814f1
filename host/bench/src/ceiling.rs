//! The ceiling: PostgreSQL doing the users projection of the bench stream by
//! itself, set-based (`INSERT ... SELECT` and `UPDATE ... FROM` straight from
//! the events table), with the same row effects as the plugin.
//!
//! It relies on the bench stream's shape: each user has at most one event of
//! each kind, in the order added, profile, email change, verification,
//! removal, so applying the kinds one after another is the event order.

use host::store::{Db, StoreError};

const STATEMENTS: &[&str] = &[
    "INSERT INTO users_projection (id, creation_date, change_date, sequence, state, resource_owner, instance_id, username, type)
     SELECT aggregate_id, created_at, created_at, \"sequence\", 1, \"owner\", instance_id, payload->>'userName', 1
     FROM eventstore.events2 WHERE aggregate_type = 'user' AND event_type = 'user.human.added'",
    "INSERT INTO users_humans_projection (user_id, instance_id, first_name, last_name, nick_name, display_name,
        preferred_language, gender, email, phone, password_change_required, password_changed, change_date, sequence)
     SELECT aggregate_id, instance_id, COALESCE(payload->>'firstName', ''), COALESCE(payload->>'lastName', ''),
        NULLIF(payload->>'nickName', ''), NULLIF(payload->>'displayName', ''),
        NULLIF(NULLIF(payload->>'preferredLanguage', 'und'), ''), NULLIF((payload->>'gender')::smallint, 0),
        COALESCE(payload->>'email', ''), NULLIF(payload->>'phone', ''),
        COALESCE((payload->>'changeRequired')::boolean, false), NULL, created_at, \"sequence\"
     FROM eventstore.events2 WHERE aggregate_type = 'user' AND event_type = 'user.human.added'",
    "INSERT INTO users_notifications_projection (user_id, instance_id, last_email, last_phone, password_set, change_date, sequence)
     SELECT aggregate_id, instance_id, COALESCE(payload->>'email', ''), NULLIF(payload->>'phone', ''), false, created_at, \"sequence\"
     FROM eventstore.events2 WHERE aggregate_type = 'user' AND event_type = 'user.human.added'",
    "INSERT INTO login_names_users_projection (id, user_name, resource_owner, instance_id, change_date, sequence)
     SELECT aggregate_id, COALESCE(payload->>'userName', ''), \"owner\", instance_id, created_at, \"sequence\"
     FROM eventstore.events2 WHERE aggregate_type = 'user' AND event_type = 'user.human.added'",
    "UPDATE users_humans_projection h SET first_name = e.payload->>'firstName', last_name = e.payload->>'lastName',
        display_name = e.payload->>'displayName', change_date = e.created_at, sequence = e.\"sequence\"
     FROM eventstore.events2 e WHERE e.aggregate_type = 'user' AND e.event_type = 'user.human.profile.changed'
        AND h.instance_id = e.instance_id AND h.user_id = e.aggregate_id",
    "UPDATE users_projection u SET change_date = e.created_at, sequence = e.\"sequence\"
     FROM eventstore.events2 e WHERE e.aggregate_type = 'user' AND e.event_type = 'user.human.profile.changed'
        AND u.instance_id = e.instance_id AND u.id = e.aggregate_id",
    "UPDATE users_humans_projection h SET email = e.payload->>'email', is_email_verified = false,
        change_date = e.created_at, sequence = e.\"sequence\"
     FROM eventstore.events2 e WHERE e.aggregate_type = 'user' AND e.event_type = 'user.human.email.changed'
        AND h.instance_id = e.instance_id AND h.user_id = e.aggregate_id",
    "UPDATE users_notifications_projection n SET last_email = NULLIF(e.payload->>'email', ''),
        change_date = e.created_at, sequence = e.\"sequence\"
     FROM eventstore.events2 e WHERE e.aggregate_type = 'user' AND e.event_type = 'user.human.email.changed'
        AND n.instance_id = e.instance_id AND n.user_id = e.aggregate_id",
    "UPDATE users_projection u SET change_date = e.created_at, sequence = e.\"sequence\"
     FROM eventstore.events2 e WHERE e.aggregate_type = 'user' AND e.event_type = 'user.human.email.changed'
        AND u.instance_id = e.instance_id AND u.id = e.aggregate_id",
    "UPDATE users_humans_projection h SET is_email_verified = true, change_date = e.created_at, sequence = e.\"sequence\"
     FROM eventstore.events2 e WHERE e.aggregate_type = 'user' AND e.event_type = 'user.human.email.verified'
        AND h.instance_id = e.instance_id AND h.user_id = e.aggregate_id",
    "UPDATE users_notifications_projection n SET verified_email = n.last_email, change_date = e.created_at, sequence = e.\"sequence\"
     FROM eventstore.events2 e WHERE e.aggregate_type = 'user' AND e.event_type = 'user.human.email.verified'
        AND n.instance_id = e.instance_id AND n.user_id = e.aggregate_id",
    "UPDATE users_projection u SET change_date = e.created_at, sequence = e.\"sequence\"
     FROM eventstore.events2 e WHERE e.aggregate_type = 'user' AND e.event_type = 'user.human.email.verified'
        AND u.instance_id = e.instance_id AND u.id = e.aggregate_id",
    "DELETE FROM users_projection u USING eventstore.events2 e
     WHERE e.aggregate_type = 'user' AND e.event_type = 'user.removed' AND u.instance_id = e.instance_id AND u.id = e.aggregate_id",
    "DELETE FROM login_names_users_projection l USING eventstore.events2 e
     WHERE e.aggregate_type = 'user' AND e.event_type = 'user.removed' AND l.instance_id = e.instance_id AND l.id = e.aggregate_id",
];

/// Run the set-based projection in one transaction (PostgreSQL only).
pub async fn run(db: &Db) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    for statement in STATEMENTS {
        tx.execute_plain(statement).await?;
    }
    tx.commit().await
}
