//! Cut a family over to another version's tables in one transaction: the
//! tables built aside in lane `next` become the live ones and the live ones
//! are kept in lane `prev` ([`cut_over`]); a rollback exchanges live and
//! `prev` ([`exchange_with_prev`]); `plugin gc` drops `prev`.
//!
//! Only names change: tables (with their declared indexes and primary-key
//! index) are renamed, the family's views dropped and created again over the
//! new tables, and the checkpoints, failures, ownership records, the
//! installed description and the active plugin version move with them, all
//! in the transaction that first moves the family's generation
//! ([`super::fence`]). Readers of the canonical names see the old version
//! until the commit and the new one after it; on PostgreSQL they wait for
//! the renames' locks for the length of the transaction (catalog work, no
//! copying), on SQLite they keep their snapshot.

use projection_sdk::{ColumnType, Description, Table, Value};
use sqlx::Row;

use super::bind::ph;
use super::ddl::{self, index_name};
use super::lane::{self, Lane};
use super::sql::quote;
use super::view::{create_view_sql, drop_view_sql};
use super::{Db, Dialect, Statement, StoreError, Tx, fence, state};

/// Make the tables built in lane `next` for `new` the family's live tables,
/// keeping the live ones (`old`'s) in lane `prev` (replacing what `prev`
/// held), recorded as installed by the plugin of `plugin_hash`, and make
/// `active` the active deployed version (`None`: the plugin directory's).
pub async fn cut_over(
    db: &Db,
    old: &Description,
    new: &Description,
    plugin_hash: &str,
    active: Option<&str>,
) -> Result<(), StoreError> {
    let family = new.name.as_str();
    let mut tx = db.begin().await?;
    fence::supersede(&mut tx, family).await?;
    let next = Lane::Next.key(family);
    if state::family_relations(&mut tx, &next).await?.is_empty() {
        // Cut over or discarded by someone else meanwhile.
        tx.rollback().await?;
        return Err(StoreError::LaneGone(next));
    }
    drop_views(&mut tx, family).await?;
    lane::drop_in(&mut tx, &Lane::Prev.key(family)).await?;
    rename(&mut tx, old, None, Some(Lane::Prev)).await?;
    rename(&mut tx, new, Some(Lane::Next), None).await?;
    move_key(&mut tx, family, &Lane::Prev.key(family)).await?;
    move_key(&mut tx, &Lane::Next.key(family), family).await?;
    finish(&mut tx, new, old, plugin_hash, active).await?;
    tx.commit().await
}

/// Exchange the live tables (`live`'s) with those kept in lane `prev`
/// (`prev`'s): `prev` becomes live again, with its checkpoints (a replay
/// catches them up), and the live ones are kept in `prev`. `plugin_hash`
/// is the plugin now installed, `active` the deployed version made active
/// (`None`: the plugin directory's).
pub async fn exchange_with_prev(
    db: &Db,
    live: &Description,
    prev: &Description,
    plugin_hash: &str,
    active: Option<&str>,
) -> Result<(), StoreError> {
    let family = live.name.as_str();
    let (prev_key, swap_key) = (Lane::Prev.key(family), Lane::Swap.key(family));
    let mut tx = db.begin().await?;
    fence::supersede(&mut tx, family).await?;
    drop_views(&mut tx, family).await?;
    rename(&mut tx, live, None, Some(Lane::Swap)).await?;
    rename(&mut tx, prev, Some(Lane::Prev), None).await?;
    rename(&mut tx, live, Some(Lane::Swap), Some(Lane::Prev)).await?;
    move_key(&mut tx, family, &swap_key).await?;
    move_key(&mut tx, &prev_key, family).await?;
    move_key(&mut tx, &swap_key, &prev_key).await?;
    finish(&mut tx, prev, live, plugin_hash, active).await?;
    tx.commit().await
}

/// Drop the tables kept in lane `prev` (`plugin gc`); whether there were
/// any.
pub async fn drop_kept(db: &Db, family: &str) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let kept = state::family_relations(&mut tx, &Lane::Prev.key(family)).await?;
    lane::drop_in(&mut tx, &Lane::Prev.key(family)).await?;
    state::set_kept_description(&mut tx, family, None).await?;
    tx.commit().await?;
    Ok(!kept.is_empty())
}

/// Views of the new live description, records of both sides, the installed
/// description and the active version.
async fn finish(
    tx: &mut Tx,
    live: &Description,
    kept: &Description,
    plugin_hash: &str,
    active: Option<&str>,
) -> Result<(), StoreError> {
    for view in &live.views {
        tx.execute_plain(&create_view_sql(tx.dialect(), live, view)?)
            .await?;
    }
    let family = live.name.as_str();
    for key in [
        family.to_owned(),
        Lane::Prev.key(family),
        Lane::Next.key(family),
    ] {
        state::forget_relations(tx, &key).await?;
    }
    state::record_tables(tx, live).await?;
    state::record_tables(tx, &Lane::Prev.describe(kept)).await?;
    state::record_family(tx, live, plugin_hash).await?;
    state::set_kept_description(tx, family, Some(kept)).await?;
    state::activate_version(tx, family, active).await
}

async fn drop_views(tx: &mut Tx, family: &str) -> Result<(), StoreError> {
    for relation in state::family_relations(tx, family).await? {
        if relation.kind == "view" {
            tx.execute_plain(&drop_view_sql(&relation.name)?).await?;
        }
    }
    Ok(())
}

/// A table's name in a lane, or live.
fn name_in(lane: Option<Lane>, table: &str) -> String {
    lane.map_or_else(|| table.to_owned(), |lane| lane.table(table))
}

/// Rename every table of `description` from its name in `from` to its name
/// in `to`, with its declared indexes and its primary-key index, so a later
/// build under the old names finds them free.
async fn rename(
    tx: &mut Tx,
    description: &Description,
    from: Option<Lane>,
    to: Option<Lane>,
) -> Result<(), StoreError> {
    for table in &description.tables {
        let (old, new) = (name_in(from, &table.name), name_in(to, &table.name));
        tx.execute_plain(&format!(
            "ALTER TABLE {} RENAME TO {}",
            quote(&old)?,
            quote(&new)?
        ))
        .await?;
        rename_indexes(tx, description, table, &old, &new).await?;
    }
    Ok(())
}

async fn rename_indexes(
    tx: &mut Tx,
    description: &Description,
    table: &Table,
    old: &str,
    new: &str,
) -> Result<(), StoreError> {
    match tx.dialect() {
        Dialect::Postgres => {
            for index in &table.indexes {
                tx.execute_plain(&format!(
                    "ALTER INDEX {} RENAME TO {}",
                    quote(&index_name(old, &index.name))?,
                    quote(&index_name(new, &index.name))?
                ))
                .await?;
            }
            if let Some(key) = primary_key_name(tx, new).await? {
                tx.execute_plain(&format!(
                    "ALTER TABLE {} RENAME CONSTRAINT {} TO {}",
                    quote(new)?,
                    quote(&key)?,
                    quote(&key_name(new))?
                ))
                .await?;
            }
        }
        Dialect::Sqlite => {
            // No ALTER INDEX: drop the old names, create the new ones (the
            // primary key's automatic index follows the table by itself).
            for index in &table.indexes {
                tx.execute_plain(&format!(
                    "DROP INDEX IF EXISTS {}",
                    quote(&index_name(old, &index.name))?
                ))
                .await?;
            }
            let mut renamed = table.clone();
            renamed.name = new.to_owned();
            renamed.parent = None;
            for sql in ddl::create_table_sql(Dialect::Sqlite, description, &renamed)?
                .into_iter()
                .skip(1)
            {
                tx.execute_plain(&sql).await?;
            }
        }
    }
    Ok(())
}

/// The name a renamed table's primary key gets: PostgreSQL's own for a
/// table created under that name (`<table>_pkey`), shortened with a hash
/// when too long.
fn key_name(table: &str) -> String {
    let name = format!("{table}_pkey");
    if name.len() <= 63 {
        name
    } else {
        index_name(table, "pkey")
    }
}

/// The name of a PostgreSQL table's primary-key constraint.
async fn primary_key_name(tx: &mut Tx, table: &str) -> Result<Option<String>, StoreError> {
    let Tx::Postgres(t) = tx else {
        return Ok(None);
    };
    let row = sqlx::query(
        "SELECT conname::text FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid \
         JOIN pg_namespace n ON n.oid = r.relnamespace \
         WHERE n.nspname = current_schema() AND r.relname = $1 AND c.contype = 'p'",
    )
    .bind(table)
    .fetch_optional(&mut **t)
    .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// Move a key's checkpoints and failures to another key.
async fn move_key(tx: &mut Tx, from: &str, to: &str) -> Result<(), StoreError> {
    let d = tx.dialect();
    let text = |s: &str| (Value::Text(s.to_owned()), ColumnType::Text);
    for table in ["projector_checkpoints", "projector_failed_events"] {
        tx.execute(&Statement {
            sql: format!(
                "UPDATE {table} SET family = {} WHERE family = {}",
                ph(d, 1, "TEXT"),
                ph(d, 2, "TEXT")
            ),
            binds: vec![text(to), text(from)],
            arrays: Vec::new(),
        })
        .await?;
    }
    Ok(())
}
