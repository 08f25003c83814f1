//! The benchmark's event stream: deterministic user-family events.
//!
//! Users are added first (spread over the tenants), then a third get a
//! profile change, a quarter an email change, an eighth a verification of
//! it, a twentieth are removed: mostly `user.human.added` and profile/email
//! changes, some removals, each user's events in that order.

use serde_json::json;

use host::source::import::{self, NewEvent, ParsedEvent};
use host::store::{Db, StoreError};

/// Events one import transaction carries.
const CHUNK: usize = 10_000;

/// The kinds of event, in the order a user receives them.
const STEPS: [(&str, usize); 5] = [
    ("user.human.added", 1),
    ("user.human.profile.changed", 3),
    ("user.human.email.changed", 4),
    ("user.human.email.verified", 8),
    ("user.removed", 20),
];

/// How many users make about `n_events` events.
fn n_users(n_events: usize) -> usize {
    let per_user: f64 = STEPS.iter().map(|(_, every)| 1.0 / *every as f64).sum();
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let users = (n_events as f64 / per_user).ceil() as usize;
    users.max(1)
}

fn event(step: usize, user: usize, tenants: usize, index: usize) -> ParsedEvent {
    let (event_type, _) = STEPS[step];
    let tenant = format!("tenant-{:03}", user % tenants);
    let org = format!("{tenant}-org");
    let id = format!("user-{user:07}");
    let payload = match step {
        0 => json!({
            "userName": format!("{id}@example.com"), "firstName": "Ada", "lastName": "Lovelace",
            "displayName": "Ada Lovelace", "preferredLanguage": "en", "gender": 2,
            "email": format!("{id}@example.com"), "changeRequired": false
        }),
        1 => {
            json!({"firstName": "Grace", "lastName": "Hopper", "displayName": format!("Grace {user}")})
        }
        2 => json!({"email": format!("{id}@new.example.com")}),
        3 => json!({}),
        _ => serde_json::Value::Null,
    };
    #[allow(clippy::cast_possible_wrap)]
    let created_at = 1_767_225_600_000_000 + index as i64 * 1_000;
    ParsedEvent {
        line: index + 1,
        event: NewEvent {
            instance_id: tenant,
            aggregate_type: "user".into(),
            aggregate_id: id,
            event_type: event_type.into(),
            sequence: Some(i64::try_from(step + 1).unwrap_or(1)),
            revision: Some(1),
            created_at: None,
            payload: Some(payload),
            creator: "bench".into(),
            owner: org,
            position: None,
            in_tx_order: None,
        },
        created_at: Some(created_at),
        position: None,
    }
}

/// Append about `n_events` events over `tenants` tenants; returns how many.
pub async fn load(db: &Db, n_events: usize, tenants: usize) -> Result<usize, StoreError> {
    let users = n_users(n_events);
    let tenants = tenants.max(1);
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut n = 0;
    for (step, (_, every)) in STEPS.iter().enumerate() {
        for user in (0..users).filter(|u| u % every == 0) {
            if n >= n_events {
                break;
            }
            // A step only for users that had the previous ones.
            if step == 3 && user % STEPS[2].1 != 0 {
                continue;
            }
            chunk.push(event(step, user, tenants, n));
            n += 1;
            if chunk.len() == CHUNK {
                import::append(db, &chunk).await?;
                chunk.clear();
            }
        }
    }
    if !chunk.is_empty() {
        import::append(db, &chunk).await?;
    }
    Ok(n)
}

/// The events just loaded, settled as a store in use is (PostgreSQL):
/// vacuumed (hint bits and the visibility map set, the rows frozen),
/// analyzed (planner statistics), and written out by a checkpoint. Without
/// it, whichever path ran first would pay for the load: its reads would set
/// the hint bit of every row and write every page of the events again, and
/// the checkpoint of the load's writes would fall in its time.
pub async fn settle(db: &Db) -> Result<(), StoreError> {
    if let Db::Postgres(pool) = db {
        // Not in a transaction block: each its own simple query.
        sqlx::raw_sql("VACUUM (FREEZE, ANALYZE) eventstore.events2")
            .execute(pool)
            .await?;
    }
    checkpoint(db).await
}

/// Write out what the paths before wrote (PostgreSQL: `CHECKPOINT`), so
/// that the next path starts from clean buffers and does not pay for them.
/// Needs a superuser or the `pg_checkpoint` role.
pub async fn checkpoint(db: &Db) -> Result<(), StoreError> {
    if let Db::Postgres(pool) = db {
        sqlx::raw_sql("CHECKPOINT").execute(pool).await?;
    }
    Ok(())
}
