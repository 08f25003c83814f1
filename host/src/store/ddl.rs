//! Create, check and drop a family's tables from its description.
//!
//! The host creates the tables a plugin declares (like the reference's
//! handler `Init`), but only names the family may own ([`super::owner`]):
//! the check, the `CREATE`s and the record of what the family now owns
//! (`projector_tables`) share one transaction, so a crash cannot leave a
//! table created but unrecorded. The description that created them is kept
//! in `projector_families`; a plugin whose tables differ from it is refused
//! until the family is rebuilt.

use projection_sdk::{ColumnType, Description, Generated, IndexExpression, IndexKey, Table, Value};

use super::sql::{column_sql_type, quote};
use super::view::{create_view_sql, drop_view_sql};
use super::{Db, Dialect, StoreError, Tx};

/// `CREATE TABLE IF NOT EXISTS` for one declared table.
pub fn create_table_sql(
    dialect: Dialect,
    description: &Description,
    table: &Table,
) -> Result<Vec<String>, StoreError> {
    let mut parts = Vec::new();
    for column in &table.columns {
        let mut part = format!(
            "{} {}",
            quote(&column.name)?,
            column_sql_type(dialect, column.kind)
        );
        if let Some(Generated::Lower(source)) = &column.generated {
            part.push_str(&format!(
                " GENERATED ALWAYS AS (lower({})) STORED",
                quote(source)?
            ));
            parts.push(part);
            continue;
        }
        if !column.nullable {
            part.push_str(" NOT NULL");
        }
        if let Some(default) = &column.default {
            part.push_str(" DEFAULT ");
            part.push_str(&super::literal::constant(
                dialect,
                default,
                Some(column.kind),
            )?);
        }
        parts.push(part);
    }
    let list = |cols: &[String]| -> Result<String, StoreError> {
        Ok(cols
            .iter()
            .map(|c| quote(c))
            .collect::<Result<Vec<_>, _>>()?
            .join(", "))
    };
    parts.push(format!("PRIMARY KEY ({})", list(&table.primary_key)?));
    if let Some(parent_name) = &table.parent {
        let parent = description
            .find_table(parent_name)
            .ok_or_else(|| StoreError::UnknownTable(parent_name.clone()))?;
        let n = parent.primary_key.len();
        let own = table
            .primary_key
            .get(..n)
            .ok_or_else(|| StoreError::SchemaMismatch {
                table: table.name.clone(),
                detail: format!("primary key is shorter than its parent {parent_name:?}'s"),
            })?;
        parts.push(format!(
            "FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE CASCADE",
            list(own)?,
            quote(parent_name)?,
            list(&parent.primary_key)?
        ));
    }
    let mut statements = vec![format!(
        "CREATE TABLE IF NOT EXISTS {} ({})",
        quote(&table.name)?,
        parts.join(", ")
    )];
    for index in &table.indexes {
        let name = quote(&index_name(&table.name, &index.name))?;
        let keys = index
            .columns
            .iter()
            .map(|key| index_key_sql(dialect, key))
            .collect::<Result<Vec<_>, _>>()?;
        let mut sql = format!(
            "CREATE INDEX IF NOT EXISTS {name} ON {} ({})",
            quote(&table.name)?,
            keys.join(", ")
        );
        if dialect == Dialect::Postgres && !index.include.is_empty() {
            sql.push_str(&format!(" INCLUDE ({})", list(&index.include)?));
        }
        statements.push(sql);
    }
    Ok(statements)
}

/// One index key: a column, `lower(column)`, or `sha256(column)` (the
/// column itself on SQLite, which has no sha256 and no index entry size cap).
fn index_key_sql(dialect: Dialect, key: &IndexKey) -> Result<String, StoreError> {
    Ok(match (key, dialect) {
        (IndexKey::Column(c), _)
        | (IndexKey::Expression(IndexExpression::Sha256(c)), Dialect::Sqlite) => quote(c)?,
        (IndexKey::Expression(IndexExpression::Lower(c)), _) => format!("lower({})", quote(c)?),
        (IndexKey::Expression(IndexExpression::Sha256(c)), Dialect::Postgres) => {
            format!("sha256({})", quote(c)?)
        }
    })
}

/// `<table>_<index>_idx`, shortened with a hash when longer than
/// PostgreSQL's 63-byte identifiers.
pub fn index_name(table: &str, index: &str) -> String {
    let full = format!("{table}_{index}_idx");
    if full.len() <= 63 {
        return full;
    }
    use sha2::{Digest, Sha256};
    let digest = hex::encode(Sha256::digest(full.as_bytes()));
    format!("{}_{}_idx", &full[..50], &digest[..8])
}

/// Check a description's own consistency before touching the database.
/// Whether the family may own its names is not checked here but at install
/// ([`super::owner`]); a reserved name (`eventstore.events2`, ...) passes
/// here so that it is refused there, with its owner, without stopping the
/// other families.
pub fn check_description(description: &Description) -> Result<(), StoreError> {
    let reserved = |name: &str| super::owner::reserved(name).is_some();
    quote(&description.name)?;
    for table in &description.tables {
        if !reserved(&table.name) {
            quote(&table.name)?;
        }
        let mismatch = |detail: String| StoreError::InvalidTable {
            table: table.name.clone(),
            detail,
        };
        if table.is_system_scoped() {
            // No tenant column: the rows belong to the installation, and
            // only the system tenant's events write them (validate::scope).
            if table.primary_key.is_empty() {
                return Err(mismatch("a system-scoped table needs a primary key".into()));
            }
        } else if table.primary_key.first().map(String::as_str) != Some("instance_id") {
            return Err(mismatch(
                "instance_id must be the first primary-key column".into(),
            ));
        }
        let index_columns = table.indexes.iter().flat_map(|i| {
            i.columns
                .iter()
                .map(IndexKey::column)
                .chain(i.include.iter().map(String::as_str))
        });
        for column in table
            .primary_key
            .iter()
            .map(String::as_str)
            .chain(index_columns)
        {
            if table.find_column(column).is_none() {
                return Err(mismatch(format!(
                    "key or index names undeclared column {column:?}"
                )));
            }
        }
        check_generated(table).map_err(mismatch)?;
        for key in table.indexes.iter().flat_map(|i| &i.columns) {
            let (wanted, column) = match key {
                IndexKey::Column(_) => continue,
                IndexKey::Expression(IndexExpression::Lower(c)) => (ColumnType::Text, c),
                IndexKey::Expression(IndexExpression::Sha256(c)) => (ColumnType::Bytes, c),
            };
            if table.find_column(column).map(|c| c.kind) != Some(wanted) {
                return Err(mismatch(format!(
                    "index expression {key:?} needs a {wanted:?} column"
                )));
            }
        }
    }
    for view in description.views.iter().filter(|v| !reserved(&v.name)) {
        projection_sdk::check_view(description, view)?;
    }
    Ok(())
}

/// Generated columns: text, computed from a declared text column that is not
/// generated itself, without a default, outside the primary key.
fn check_generated(table: &Table) -> Result<(), String> {
    for column in &table.columns {
        let Some(Generated::Lower(source)) = &column.generated else {
            continue;
        };
        let name = &column.name;
        let source_ok = table
            .find_column(source)
            .is_some_and(|s| s.kind == ColumnType::Text && s.generated.is_none());
        if column.kind != ColumnType::Text || !source_ok {
            return Err(format!(
                "generated column {name:?} must be text, computed from a text column ({source:?} is not one)"
            ));
        }
        if column.default.is_some() || table.primary_key.contains(name) {
            return Err(format!(
                "generated column {name:?} cannot have a default or be part of the primary key"
            ));
        }
    }
    Ok(())
}

/// Create the family's tables (if missing) and record its description.
/// Refuses when tables recorded for an earlier version have another shape,
/// and any name the family may not own (before anything is created).
pub async fn install(
    db: &Db,
    description: &Description,
    plugin_hash: &str,
) -> Result<(), StoreError> {
    install_among(db, description, plugin_hash, &[]).await
}

/// [`install`], knowing the other families loaded in the same run
/// (`rivals`): a new name one of them declares too is refused to both.
pub async fn install_among(
    db: &Db,
    description: &Description,
    plugin_hash: &str,
    rivals: &[&Description],
) -> Result<(), StoreError> {
    super::owner::check_reserved(description)?;
    check_description(description)?;
    if let Some(stored) = super::state::stored_description(db, &description.name).await?
        && let Some(table) = first_difference(&stored, description)
    {
        return Err(StoreError::SchemaMismatch {
            table,
            detail: format!(
                "family {:?} version {} declares other tables or views than the installed version {}",
                description.name, description.version, stored.version
            ),
        });
    }
    let mut tx = db.begin().await?;
    // Other installs of the family first (they hold nothing this one
    // needs), then the family's row before its tables, in the order every
    // apply takes them (`fence`), so an install beside a running apply
    // cannot deadlock. The row is locked after the wait: a family another
    // install was creating meanwhile has its row by then, and its applies
    // may have begun.
    install_lock(&mut tx, &description.name).await?;
    super::fence::hold(&mut tx, &description.name).await?;
    super::owner::check(&mut tx, description, rivals).await?;
    create_tables(&mut tx, description).await?;
    super::state::record_tables(&mut tx, description).await?;
    super::state::record_family(&mut tx, description, plugin_hash).await?;
    tx.commit().await
}

/// The first key of the advisory lock that serialises installs of a family.
const INSTALL_CLASS: i32 = -0x7072_6a69;

/// On PostgreSQL, wait for any other install of `family` to commit: hosts
/// that start together install the same tables, and two concurrent `CREATE
/// TABLE IF NOT EXISTS` of one name collide in the catalog. A family not
/// installed yet has no row for [`super::fence::hold`] to lock, so this
/// wait comes first: locking the row before it would lock nothing when
/// another install is creating the family, and the tables would then be
/// locked after applies that hold the row (a deadlock).
async fn install_lock(tx: &mut Tx, family: &str) -> Result<(), StoreError> {
    if let Tx::Postgres(t) = tx {
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind(INSTALL_CLASS)
            .bind(family)
            .execute(&mut **t)
            .await?;
    }
    Ok(())
}

/// The first table or view that differs between two descriptions of a
/// family, or `None` when their tables and views are the same.
pub fn first_difference(old: &Description, new: &Description) -> Option<String> {
    let tables = new
        .tables
        .iter()
        .find(|t| old.find_table(&t.name) != Some(t))
        .or_else(|| {
            old.tables
                .iter()
                .find(|t| new.find_table(&t.name).is_none())
        })
        .map(|t| t.name.clone());
    let views = || {
        new.views
            .iter()
            .find(|v| !old.views.contains(v))
            .or_else(|| old.views.iter().find(|v| !new.views.contains(v)))
            .map(|v| v.name.clone())
    };
    tables.or_else(views)
}

async fn create_tables(tx: &mut Tx, description: &Description) -> Result<(), StoreError> {
    for table in &description.tables {
        for sql in create_table_sql(tx.dialect(), description, table)? {
            tx.execute_plain(&sql).await?;
        }
    }
    for view in &description.views {
        tx.execute_plain(&create_view_sql(tx.dialect(), description, view)?)
            .await?;
    }
    Ok(())
}

/// Drop the family's tables (those of the installed description and the new
/// one), forget its checkpoints and failures, and create the new tables.
/// Only relations recorded as the family's are dropped, after the new
/// description passed the ownership check.
pub async fn rebuild(
    db: &Db,
    description: &Description,
    plugin_hash: &str,
) -> Result<(), StoreError> {
    rebuild_among(db, description, plugin_hash, &[]).await
}

/// [`rebuild`], knowing the other families loaded in the same run.
pub async fn rebuild_among(
    db: &Db,
    description: &Description,
    plugin_hash: &str,
    rivals: &[&Description],
) -> Result<(), StoreError> {
    super::owner::check_reserved(description)?;
    check_description(description)?;
    let stored = super::state::stored_description(db, &description.name).await?;
    let mut tx = db.begin().await?;
    super::fence::supersede_if_installed(&mut tx, &description.name).await?;
    super::owner::check(&mut tx, description, rivals).await?;
    let owned = super::state::family_relations(&mut tx, &description.name).await?;
    let is_owned = |name: &str, kind: &str| owned.iter().any(|r| r.name == name && r.kind == kind);
    for relation in owned.iter().filter(|r| r.kind == "view") {
        tx.execute_plain(&drop_view_sql(&relation.name)?).await?;
    }
    // Children before parents: the declared order reversed, new then old.
    let mut names: Vec<&str> = Vec::new();
    let declared = description.tables.iter().rev();
    let before = stored.iter().flat_map(|s| s.tables.iter().rev());
    let recorded = owned.iter().filter(|r| r.kind == "table");
    for name in declared
        .map(|t| t.name.as_str())
        .chain(before.map(|t| t.name.as_str()))
        .chain(recorded.map(|r| r.name.as_str()))
    {
        if is_owned(name, "table") && !names.contains(&name) {
            names.push(name);
        }
    }
    for name in &names {
        let cascade = if tx.dialect() == Dialect::Postgres {
            " CASCADE"
        } else {
            ""
        };
        tx.execute_plain(&format!("DROP TABLE IF EXISTS {}{cascade}", quote(name)?))
            .await?;
    }
    super::state::forget_family_progress(&mut tx, &description.name, None).await?;
    create_tables(&mut tx, description).await?;
    super::state::record_tables(&mut tx, description).await?;
    super::state::record_family(&mut tx, description, plugin_hash).await?;
    tx.commit().await
}

/// Delete one tenant's rows from the family's tables and forget its progress.
/// The system tenant (`''`) owns every row of the system-scoped tables, and
/// no other tenant owns any.
pub async fn rebuild_instance(
    db: &Db,
    description: &Description,
    instance_id: &str,
) -> Result<(), StoreError> {
    let system = instance_id == projection_sdk::validate::SYSTEM_TENANT;
    let mut tx = db.begin().await?;
    super::fence::supersede_if_installed(&mut tx, &description.name).await?;
    for table in description.tables.iter().rev() {
        let statement = match (table.is_system_scoped(), system) {
            (true, false) => continue,
            (true, true) => super::Statement {
                sql: format!("DELETE FROM {}", quote(&table.name)?),
                binds: Vec::new(),
                arrays: Vec::new(),
            },
            (false, _) => super::Statement {
                sql: format!(
                    "DELETE FROM {} WHERE \"instance_id\" = {}",
                    quote(&table.name)?,
                    super::bind::ph(tx.dialect(), 1, "TEXT")
                ),
                binds: vec![(Value::Text(instance_id.to_owned()), ColumnType::Text)],
                arrays: Vec::new(),
            },
        };
        tx.execute(&statement).await?;
    }
    super::state::forget_family_progress(&mut tx, &description.name, Some(instance_id)).await?;
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_index_names_are_shortened_deterministically() {
        assert_eq!(
            index_name("orgs_projection", "name"),
            "orgs_projection_name_idx"
        );
        let long = index_name(
            "idp_templates_gitlab_self_hosted_projection",
            "owner_removed_and_more",
        );
        assert_eq!(long.len(), 63);
        assert!(long.starts_with("idp_templates_gitlab_self_hosted_projection_owner_"));
        assert_eq!(
            long,
            index_name(
                "idp_templates_gitlab_self_hosted_projection",
                "owner_removed_and_more"
            )
        );
        assert!(quote(&long).is_ok());
    }
}
