//! Lanes: a family's tables built aside, beside the live ones.
//!
//! An online rebuild and `verify` replay a family into tables of their own
//! while the live tables keep serving and following. A lane is the family
//! seen under other names: every table `t` becomes `projector_<lane>_t`
//! (names under the host's reserved prefix, which no plugin may declare,
//! so no family can claim or write them), and the family's checkpoints and
//! failures are kept under the key `family@lane`. The plugin runs unchanged:
//! its description and its mutations are renamed on the way in
//! ([`Lane::describe`], [`Lane::mutation`]), and from there the lane is an
//! ordinary family to the replay, the checks and the SQL writer. A lane has
//! no views (they are derived from the tables) and no row in
//! `projector_families`, so it has no generation to fence: only the replay
//! that builds it writes it.
//!
//! Its tables are recorded in `projector_tables` under the lane's key, like
//! any family's, in the transaction that creates them: [`prepare`] drops what
//! an earlier build left (a build that was killed), [`discard`] drops the
//! lane when it is done.

use projection_sdk::{Description, Mutation};

use super::sql::quote;
use super::{Db, Dialect, StoreError, Tx, ddl, fence, state};

/// Where a family is built aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// An online rebuild (`replay --from-start`): built aside, then swapped
    /// in with its checkpoints in one transaction.
    Rebuild,
    /// `verify`: replayed into scratch tables and compared with the live rows.
    Verify,
    /// A new version whose tables differ, built from the first event before
    /// it is cut over (`plugin deploy`), or run beside the live one
    /// (`plugin deploy --shadow`).
    Next,
    /// The previous version's tables, kept after a cutover for `plugin
    /// rollback` until `plugin gc`.
    Prev,
    /// Where a rollback parks the live tables for the length of its
    /// transaction.
    Swap,
}

impl Lane {
    /// The lane's name, as in its key and its tables' prefix.
    pub fn name(self) -> &'static str {
        match self {
            Lane::Rebuild => "rebuild",
            Lane::Verify => "verify",
            Lane::Next => "next",
            Lane::Prev => "prev",
            Lane::Swap => "swap",
        }
    }

    /// The key under which the lane's checkpoints, failures and tables are
    /// recorded: `family@lane`.
    pub fn key(self, family: &str) -> String {
        format!("{family}@{}", self.name())
    }

    /// The lane's name for a table: `projector_<lane>_<table>`, shortened
    /// with a hash when longer than PostgreSQL's 63-byte identifiers.
    pub fn table(self, name: &str) -> String {
        let full = format!("projector_{}_{name}", self.name());
        if full.len() <= 63 {
            return full;
        }
        use sha2::{Digest, Sha256};
        let digest = hex::encode(Sha256::digest(full.as_bytes()));
        format!("{}_{}", &full[..54], &digest[..8])
    }

    /// The family as the lane sees it: its tables renamed (parents too), no
    /// views, named by the lane's key.
    pub fn describe(self, canonical: &Description) -> Description {
        let mut description = canonical.clone();
        description.name = self.key(&canonical.name);
        description.views.clear();
        for table in &mut description.tables {
            table.name = self.table(&table.name);
            if let Some(parent) = &mut table.parent {
                *parent = self.table(parent);
            }
        }
        description
    }

    /// A plugin's mutation as the lane applies it: its tables renamed.
    pub fn mutation(self, mutation: Mutation) -> Mutation {
        mutation.rename_tables(|table| self.table(table))
    }
}

/// Start a lane afresh for `canonical`: drop what an earlier build of it
/// left, create its tables empty and record them under the lane's key, with
/// no checkpoints or failures. Returns the lane's description.
pub async fn prepare(
    db: &Db,
    lane: Lane,
    canonical: &Description,
) -> Result<Description, StoreError> {
    ddl::check_description(canonical)?;
    let description = lane.describe(canonical);
    let mut tx = db.begin().await?;
    fence::hold(&mut tx, &canonical.name).await?;
    drop_in(&mut tx, &description.name).await?;
    check_free(&mut tx, &description).await?;
    for table in &description.tables {
        for sql in ddl::create_table_sql(tx.dialect(), &description, table)? {
            tx.execute_plain(&sql).await?;
        }
    }
    state::record_tables(&mut tx, &description).await?;
    tx.commit().await?;
    Ok(description)
}

/// Drop the lane of `family`: its tables, their records, its checkpoints
/// and failures.
pub async fn discard(db: &Db, lane: Lane, family: &str) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    fence::hold(&mut tx, family).await?;
    drop_in(&mut tx, &lane.key(family)).await?;
    tx.commit().await
}

/// Whether `lane` of `family` has tables (recorded under its key).
pub async fn is_present(db: &Db, lane: Lane, family: &str) -> Result<bool, StoreError> {
    let key = lane.key(family);
    Ok(state::owned_relations(db)
        .await?
        .iter()
        .any(|r| r.family == key))
}

/// Inside an apply of a lane (`key` is `family@lane`; any other key passes):
/// hold back the lane's discard, cutover or preparation until the
/// transaction ends (they lock the family's row first, [`fence::hold`]),
/// and refuse when the lane is gone ([`StoreError::LaneGone`]), so a batch
/// never writes into a lane dropped or cut over meanwhile.
pub async fn check_present(tx: &mut Tx, key: &str) -> Result<(), StoreError> {
    let Some((family, _)) = key.split_once('@') else {
        return Ok(());
    };
    fence::share(tx, family).await?;
    if state::family_relations(tx, key).await?.is_empty() {
        return Err(StoreError::LaneGone(key.to_owned()));
    }
    Ok(())
}

/// Drop every relation recorded under a lane's key. Every parent's foreign
/// key cascades (`ddl`), so the order does not matter: PostgreSQL drops the
/// constraint with `CASCADE`, SQLite's implicit delete cascades to the
/// children.
pub(crate) async fn drop_in(tx: &mut Tx, key: &str) -> Result<(), StoreError> {
    let owned = state::family_relations(tx, key).await?;
    let tables = owned
        .iter()
        .filter(|r| r.kind == "table")
        .map(|r| r.name.as_str());
    let cascade = if tx.dialect() == Dialect::Postgres {
        " CASCADE"
    } else {
        ""
    };
    for name in tables {
        tx.execute_plain(&format!("DROP TABLE IF EXISTS {}{cascade}", quote(name)?))
            .await?;
    }
    state::forget_relations(tx, key).await?;
    state::forget_family_progress(tx, key, None).await
}

/// Refuse a lane name that exists in the database without being the lane's
/// (a relation someone created by hand under the host's prefix).
async fn check_free(tx: &mut Tx, description: &Description) -> Result<(), StoreError> {
    let recorded = state::table_owners(tx).await?;
    for table in &description.tables {
        if let Some(owner) = recorded.get(&table.name) {
            return Err(StoreError::NotOwned {
                family: description.name.clone(),
                kind: "table",
                name: table.name.clone(),
                owner: super::Owner::Family(owner.clone()),
            });
        }
        if super::owner::exists(tx, &table.name).await? {
            return Err(StoreError::NotOwned {
                family: description.name.clone(),
                kind: "table",
                name: table.name.clone(),
                owner: super::Owner::Unrecorded,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use projection_sdk::{Cell, ColumnType, Table, Value};

    fn family() -> Description {
        let mut parent = Table::new("apps_projection").column("instance_id", ColumnType::Text);
        parent.primary_key = vec!["instance_id".into()];
        let mut child = parent.clone();
        child.name = "apps_config_projection".into();
        child.parent = Some("apps_projection".into());
        let mut description = Description::new("apps", "1");
        description.tables = vec![parent, child];
        description
    }

    #[test]
    fn a_lane_renames_tables_parents_and_its_key() {
        let lane = Lane::Rebuild.describe(&family());
        assert_eq!(lane.name, "apps@rebuild");
        let names: Vec<&str> = lane.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "projector_rebuild_apps_projection",
                "projector_rebuild_apps_config_projection"
            ]
        );
        assert_eq!(
            lane.tables[1].parent.as_deref(),
            Some("projector_rebuild_apps_projection")
        );
        assert!(super::super::owner::reserved(&lane.tables[0].name).is_some());
    }

    #[test]
    fn a_lane_renames_what_a_mutation_writes_and_reads() {
        let insert = Mutation::Insert {
            table: "apps_projection".into(),
            values: vec![Cell {
                column: "instance_id".into(),
                value: Value::Text("i".into()),
            }],
            bump: false,
        };
        assert_eq!(
            Lane::Verify.mutation(insert).table(),
            "projector_verify_apps_projection"
        );
        let copy = Mutation::Copy {
            table: "a".into(),
            source_table: "b".into(),
            columns: Vec::new(),
            conditions: Vec::new(),
            conflict: Vec::new(),
            bump: false,
        };
        match Lane::Verify.mutation(copy) {
            Mutation::Copy {
                table,
                source_table,
                ..
            } => assert_eq!(
                (table.as_str(), source_table.as_str()),
                ("projector_verify_a", "projector_verify_b")
            ),
            other => panic!("not a copy: {other:?}"),
        }
    }

    #[test]
    fn long_names_stay_identifiers() {
        let long = "t".repeat(60);
        let name = Lane::Rebuild.table(&long);
        assert_eq!(name.len(), 63);
        assert!(quote(&name).is_ok());
        assert_eq!(name, Lane::Rebuild.table(&long));
        assert_ne!(name, Lane::Rebuild.table(&"t".repeat(61)));
    }
}
