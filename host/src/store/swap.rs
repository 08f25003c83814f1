//! Swap a lane's rows in: the live rows of a family (or of one tenant) are
//! replaced by the rows built aside, with their checkpoints and failures, in
//! one transaction.
//!
//! The transaction first moves the family's generation ([`super::fence`]):
//! on PostgreSQL it waits for the applies in flight and holds back new ones
//! until it commits, and every batch planned before it is refused, so the
//! replay that follows the family starts again from the swapped
//! checkpoints. Readers see the old rows until the commit and the new ones
//! after it: on PostgreSQL the rows are deleted and inserted (never
//! truncated), so no reader waits on a lock; on SQLite readers keep their
//! snapshot (WAL). The tables keep their shape, which the lane shares with
//! the live family.

use projection_sdk::{ColumnType, Description, Table, Value, validate::SYSTEM_TENANT};

use super::bind::ph;
use super::lane::Lane;
use super::sql::quote;
use super::{Db, Statement, StoreError, Tx, fence};

/// The columns of the host's per-family state copied from a lane's key to
/// the family's (a failure's `id` is the store's own).
const CHECKPOINT_COLUMNS: &str = "instance_id, \"position\", in_tx_order, aggregate_type, \
     aggregate_id, \"sequence\", event_date, plugin_version, updated_at, n_consumed";
const FAILURE_COLUMNS: &str = "instance_id, aggregate_type, aggregate_id, \"sequence\", event_type, \
     \"position\", in_tx_order, error, failure_count, first_failed, last_failed, retry_after";

/// What a swap replaced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swapped {
    /// Live rows deleted.
    pub n_removed: u64,
    /// Rows swapped in from the lane.
    pub n_inserted: u64,
}

/// Replace the live rows of `canonical`'s family with the lane's, for one
/// tenant or (`None`) all of them, with the checkpoints and failures, in one
/// transaction under the family's fence.
pub async fn swap_in(
    db: &Db,
    canonical: &Description,
    lane: Lane,
    tenant: Option<&str>,
) -> Result<Swapped, StoreError> {
    let family = canonical.name.as_str();
    let key = lane.key(family);
    let mut tx = db.begin().await?;
    fence::supersede(&mut tx, family).await?;
    let mut swapped = Swapped::default();
    for table in canonical.tables.iter().rev() {
        if let Some(filter) = Filter::of(table, tenant) {
            let sql = format!("DELETE FROM {}{}", quote(&table.name)?, filter.sql(&tx, 1));
            swapped.n_removed += tx.execute(&filter.statement(sql)).await?;
        }
    }
    for table in &canonical.tables {
        let Some(filter) = Filter::of(table, tenant) else {
            continue;
        };
        let columns = table
            .columns
            .iter()
            .filter(|c| c.generated.is_none())
            .map(|c| quote(&c.name))
            .collect::<Result<Vec<_>, _>>()?
            .join(", ");
        let sql = format!(
            "INSERT INTO {} ({columns}) SELECT {columns} FROM {}{}",
            quote(&table.name)?,
            quote(&lane.table(&table.name))?,
            filter.sql(&tx, 1)
        );
        swapped.n_inserted += tx.execute(&filter.statement(sql)).await?;
    }
    for (state, columns) in [
        ("projector_checkpoints", CHECKPOINT_COLUMNS),
        ("projector_failed_events", FAILURE_COLUMNS),
    ] {
        move_state(&mut tx, state, columns, family, &key, tenant).await?;
    }
    tx.commit().await?;
    Ok(swapped)
}

/// Replace the family's rows of a host table (checkpoints, failures) with
/// the lane key's, for the tenant or all.
async fn move_state(
    tx: &mut Tx,
    table: &str,
    columns: &str,
    family: &str,
    key: &str,
    tenant: Option<&str>,
) -> Result<(), StoreError> {
    let d = tx.dialect();
    let only = |n: usize| {
        tenant.map_or(String::new(), |_| {
            format!(" AND instance_id = {}", ph(d, n, "TEXT"))
        })
    };
    let text = |s: &str| (Value::Text(s.to_owned()), ColumnType::Text);
    let mut binds = vec![text(family)];
    binds.extend(tenant.map(text));
    tx.execute(&Statement {
        sql: format!(
            "DELETE FROM {table} WHERE family = {}{}",
            ph(d, 1, "TEXT"),
            only(2)
        ),
        binds: binds.clone(),
        arrays: Vec::new(),
    })
    .await?;
    binds.insert(1, text(key));
    tx.execute(&Statement {
        sql: format!(
            "INSERT INTO {table} (family, {columns}) SELECT {}, {columns} FROM {table} \
             WHERE family = {}{}",
            ph(d, 1, "TEXT"),
            ph(d, 2, "TEXT"),
            only(3)
        ),
        binds,
        arrays: Vec::new(),
    })
    .await?;
    Ok(())
}

/// Which rows of a table belong to the swapped tenant.
enum Filter<'a> {
    /// Every row.
    All,
    /// The tenant's rows.
    Tenant(&'a str),
}

impl<'a> Filter<'a> {
    /// The rows of `table` a swap of `tenant` replaces; `None` when it
    /// replaces none (a system-scoped table and a tenant other than the
    /// system tenant).
    fn of(table: &Table, tenant: Option<&'a str>) -> Option<Filter<'a>> {
        match (tenant, table.is_system_scoped()) {
            (None, _) => Some(Filter::All),
            (Some(t), true) if t == SYSTEM_TENANT => Some(Filter::All),
            (Some(_), true) => None,
            (Some(t), false) => Some(Filter::Tenant(t)),
        }
    }

    fn sql(&self, tx: &Tx, n: usize) -> String {
        match self {
            Filter::All => String::new(),
            Filter::Tenant(_) => {
                format!(" WHERE \"instance_id\" = {}", ph(tx.dialect(), n, "TEXT"))
            }
        }
    }

    fn statement(&self, sql: String) -> Statement {
        let binds = match self {
            Filter::All => Vec::new(),
            Filter::Tenant(t) => vec![(Value::Text((*t).to_owned()), ColumnType::Text)],
        };
        Statement {
            sql,
            binds,
            arrays: Vec::new(),
        }
    }
}
