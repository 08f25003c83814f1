//! Two appliers of one (family, tenant) never both apply the same events.
//!
//! A replay plans its batches from the checkpoints it read when it started
//! (and from its own commits since). Another applier of the same family or
//! lane (a second `run`, a `replay` beside `run`, `plugin diff` catching a
//! shadow up while `run` follows it) plans from the same checkpoints. The
//! first to commit moves them; the second must not apply its batch over
//! them.
//!
//! Every apply transaction therefore *claims* the checkpoints of the
//! tenants in its batch before it writes a row: on PostgreSQL it takes a
//! transaction-level advisory lock per (family, tenant) in one order (so two
//! appliers of overlapping tenants queue rather than deadlock), then reads
//! the checkpoints in a statement of its own, whose snapshot sees whatever
//! the previous holder committed; on SQLite the transaction already holds
//! the one write lock (`BEGIN IMMEDIATE`). It then compares each tenant's
//! `n_consumed` (or the absence of a checkpoint) with what the replay
//! expects. `n_consumed` only grows while the family's generation stands
//! (every apply and every `failed skip` adds to it; only operations that
//! move the generation, [`super::fence`], reset it), so an equal count is an
//! unmoved checkpoint. A moved one refuses the batch
//! ([`StoreError::CheckpointMoved`]) before any row is written, and the
//! replay starts again from the checkpoints as they are.
//!
//! The advisory lock's first key is a constant no object id has (it is
//! negative), so the `locks` read barrier, which waits for Zitadel's write
//! lock keyed by the `events2` table's object id, never mistakes it for a
//! writer.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Row;

use super::{StoreError, Tx};

/// The first key of the advisory lock on a (family, tenant) checkpoint.
const CLAIM_CLASS: i32 = -0x7072_6a63;

/// Each tenant's expected checkpoint: its `n_consumed`, `None` when it has
/// none yet.
pub type Expected = BTreeMap<String, Option<i64>>;

/// Claim the checkpoints of `expected`'s tenants for this transaction and
/// refuse when one of them is not as expected.
pub async fn claim(tx: &mut Tx, family: &str, expected: &Expected) -> Result<(), StoreError> {
    if expected.is_empty() {
        return Ok(());
    }
    let tenants: Vec<&str> = expected.keys().map(String::as_str).collect();
    let found = consumed(tx, family, &tenants).await?;
    for (tenant, want) in expected {
        let now = found.get(tenant.as_str()).copied();
        if now != *want {
            return Err(StoreError::CheckpointMoved {
                family: family.to_owned(),
                instance_id: tenant.clone(),
            });
        }
    }
    Ok(())
}

/// Lock (PostgreSQL) and read the tenants' `n_consumed`.
async fn consumed(
    tx: &mut Tx,
    family: &str,
    tenants: &[&str],
) -> Result<BTreeMap<String, i64>, StoreError> {
    let mut found = BTreeMap::new();
    match tx {
        Tx::Sqlite(t) => {
            for chunk in tenants.chunks(500) {
                let marks = (0..chunk.len())
                    .map(|i| format!("?{}", i + 2))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "SELECT instance_id, CAST(n_consumed AS BIGINT) FROM projector_checkpoints \
                     WHERE family = ?1 AND instance_id IN ({marks})"
                );
                let mut query = sqlx::query(&sql).bind(family);
                for tenant in chunk {
                    query = query.bind(*tenant);
                }
                for row in query.fetch_all(&mut **t).await? {
                    found.insert(row.try_get(0)?, row.try_get(1)?);
                }
            }
        }
        Tx::Postgres(t) => {
            let distinct: BTreeSet<&str> = tenants.iter().copied().collect();
            let tenants: Vec<&str> = distinct.into_iter().collect();
            // The locks first, in the order of their keys; the read after
            // them is a statement of its own, so its snapshot is taken once
            // every earlier holder has committed.
            sqlx::query(
                "SELECT count(pg_advisory_xact_lock($1, k)) FROM \
                 (SELECT DISTINCT hashtext($2 || '/' || t) AS k FROM unnest($3::text[]) AS u(t) \
                 ORDER BY k) AS keys",
            )
            .bind(CLAIM_CLASS)
            .bind(family)
            .bind(&tenants)
            .fetch_one(&mut **t)
            .await?;
            let rows = sqlx::query(
                "SELECT instance_id, n_consumed::bigint FROM projector_checkpoints \
                 WHERE family = $1 AND instance_id = ANY($2::text[])",
            )
            .bind(family)
            .bind(&tenants)
            .fetch_all(&mut **t)
            .await?;
            for row in rows {
                found.insert(row.try_get(0)?, row.try_get(1)?);
            }
        }
    }
    Ok(found)
}
