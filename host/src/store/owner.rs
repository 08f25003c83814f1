//! Who owns a name: the host decides which tables and views a family may
//! create and write.
//!
//! A family owns exactly the relations it created itself, recorded in
//! `projector_tables` (name, family, kind) in the transaction that created
//! them. Before anything is created (install, rebuild), every name a family
//! declares is checked:
//!
//! - reserved names are refused outright: the event store's (`events2`,
//!   anything schema-qualified such as `eventstore.events2`), the host's
//!   (the `projector_` prefix, `_sqlx_migrations`) and SQLite's own
//!   (`sqlite_` prefix), on either store;
//! - a name recorded for another family is refused, whether or not that
//!   family is loaded now;
//! - a name not recorded for the family that exists in the database (in
//!   `sqlite_master` on SQLite, in `pg_class` within the projection schema
//!   on PostgreSQL) is refused: projector did not create it;
//! - a new name that another family loaded in the same run also declares is
//!   refused to both (neither may claim it first);
//! - an index name the family's DDL would create that already exists and is
//!   not an index of the family's own table is refused (`CREATE INDEX IF NOT
//!   EXISTS` would otherwise skip it silently).

use std::collections::HashMap;
use std::fmt;

use projection_sdk::Description;
use sqlx::Row;

use super::ddl::index_name;
use super::{StoreError, Tx};

/// Whose a name is, when it is not the declaring family's to take.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Owner {
    /// The event store (`events2`, `eventstore.*`).
    EventStore,
    /// The host's own state (`projector_*`, `_sqlx_migrations`).
    Host,
    /// The database itself (`sqlite_*`).
    Database,
    /// A schema-qualified name: a family's relations live in the projection
    /// schema and are named without one.
    Qualified,
    /// Another family (recorded when it created the relation).
    Family(String),
    /// Declared as well by another family loaded in the same run, and owned
    /// by nobody yet.
    Contested(String),
    /// A relation in the database that projector did not create.
    Unrecorded,
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::EventStore => f.write_str("belongs to the event store"),
            Owner::Host => f.write_str(
                "belongs to the host (names starting with \"projector_\" and \"_sqlx_migrations\" are reserved)",
            ),
            Owner::Database => f.write_str(
                "belongs to the database (names starting with \"sqlite_\" are reserved)",
            ),
            Owner::Qualified => f.write_str(
                "names a schema: a family's tables and views are unqualified and live in the projection schema",
            ),
            Owner::Family(family) => write!(f, "belongs to family {family:?}"),
            Owner::Contested(other) => write!(
                f,
                "is declared by both this family and family {other:?}; neither may create it"
            ),
            Owner::Unrecorded => f.write_str("exists but was not created by projector"),
        }
    }
}

/// The owner of a reserved name, `None` for a name a family may declare.
pub fn reserved(name: &str) -> Option<Owner> {
    let lower = name.to_ascii_lowercase();
    let unquoted = |part: &str| part.trim_matches('"').to_owned();
    if let Some((schema, relation)) = lower.split_once('.') {
        return Some(match unquoted(schema).as_str() {
            "eventstore" => Owner::EventStore,
            "projector" => Owner::Host,
            _ => reserved(&unquoted(relation)).unwrap_or(Owner::Qualified),
        });
    }
    let plain = unquoted(&lower);
    if plain == "events2" {
        Some(Owner::EventStore)
    } else if plain.starts_with("projector_") || plain == "_sqlx_migrations" {
        Some(Owner::Host)
    } else if plain.starts_with("sqlite_") {
        Some(Owner::Database)
    } else {
        None
    }
}

/// Every table and view a family declares, with its kind.
pub fn declared(description: &Description) -> impl Iterator<Item = (&'static str, &str)> {
    description
        .tables
        .iter()
        .map(|t| ("table", t.name.as_str()))
        .chain(description.views.iter().map(|v| ("view", v.name.as_str())))
}

/// Refuse a description naming a reserved table or view (no database needed).
pub fn check_reserved(description: &Description) -> Result<(), StoreError> {
    for (kind, name) in declared(description) {
        if let Some(owner) = reserved(name) {
            return Err(not_owned(description, kind, name, owner));
        }
    }
    Ok(())
}

fn not_owned(
    description: &Description,
    kind: &'static str,
    name: &str,
    owner: Owner,
) -> StoreError {
    StoreError::NotOwned {
        family: description.name.clone(),
        kind,
        name: name.to_owned(),
        owner,
    }
}

/// A relation found in the database catalog.
#[derive(Debug)]
struct Relation {
    /// An index (else a table, view, sequence, ...).
    is_index: bool,
    /// For an index: its table.
    table: Option<String>,
}

/// Look a name up in the catalog: `sqlite_master`, or `pg_class` within the
/// projection schema (the first schema of the search path).
async fn catalog(tx: &mut Tx, name: &str) -> Result<Option<Relation>, StoreError> {
    let lower = name.to_ascii_lowercase();
    let row: Option<(String, Option<String>)> = match tx {
        Tx::Sqlite(tx) => sqlx::query(
            "SELECT type, tbl_name FROM sqlite_master WHERE lower(name) = ?1 \
             ORDER BY type = 'index' LIMIT 1",
        )
        .bind(&lower)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
        .transpose()?,
        Tx::Postgres(tx) => sqlx::query(
            "SELECT c.relkind::text, t.relname::text FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_index i ON i.indexrelid = c.oid \
             LEFT JOIN pg_class t ON t.oid = i.indrelid \
             WHERE n.nspname = current_schema() AND c.relname = $1 LIMIT 1",
        )
        .bind(&lower)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
        .transpose()?,
    };
    Ok(row.map(|(kind, table)| {
        let is_index = matches!(kind.as_str(), "index" | "i" | "I");
        Relation {
            is_index,
            table: if is_index { table } else { None },
        }
    }))
}

/// Whether a table, view or index of this name exists in the catalog.
pub async fn exists(tx: &mut Tx, name: &str) -> Result<bool, StoreError> {
    Ok(catalog(tx, name).await?.is_some())
}

/// Check, inside the transaction that will create them, that the family may
/// create every table, view and index it declares. `rivals` are the other
/// families loaded in the same run.
pub async fn check(
    tx: &mut Tx,
    description: &Description,
    rivals: &[&Description],
) -> Result<(), StoreError> {
    check_reserved(description)?;
    let family = description.name.as_str();
    let recorded = super::state::table_owners(tx).await?;
    let owned = |name: &str| recorded.get(name).map(String::as_str) == Some(family);
    for (kind, name) in declared(description) {
        match recorded.get(name) {
            Some(owner) if owner == family => continue,
            Some(owner) => {
                return Err(not_owned(
                    description,
                    kind,
                    name,
                    Owner::Family(owner.clone()),
                ));
            }
            None => {}
        }
        if catalog(tx, name).await?.is_some() {
            return Err(not_owned(description, kind, name, Owner::Unrecorded));
        }
        let rival = rivals
            .iter()
            .find(|r| r.name != family && declared(r).any(|(_, n)| n == name));
        if let Some(rival) = rival {
            return Err(not_owned(
                description,
                kind,
                name,
                Owner::Contested(rival.name.clone()),
            ));
        }
    }
    for table in &description.tables {
        for index in &table.indexes {
            let name = index_name(&table.name, &index.name);
            let Some(found) = catalog(tx, &name).await? else {
                continue;
            };
            let parent = found.table.as_deref();
            if found.is_index && parent == Some(table.name.as_str()) && owned(&table.name) {
                continue;
            }
            let holder = if found.is_index {
                parent.unwrap_or(&name)
            } else {
                name.as_str()
            };
            let owner = owner_of(&recorded, holder);
            return Err(not_owned(description, "index", &name, owner));
        }
    }
    Ok(())
}

/// Who holds an existing relation (by its recorded owner or reserved name).
fn owner_of(recorded: &HashMap<String, String>, name: &str) -> Owner {
    if let Some(owner) = reserved(name) {
        return owner;
    }
    match recorded.get(name) {
        Some(owner) => Owner::Family(owner.clone()),
        None => Owner::Unrecorded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_have_owners() {
        assert_eq!(reserved("events2"), Some(Owner::EventStore));
        assert_eq!(reserved("EVENTS2"), Some(Owner::EventStore));
        assert_eq!(reserved("eventstore.events2"), Some(Owner::EventStore));
        assert_eq!(reserved("\"eventstore\".\"x\""), Some(Owner::EventStore));
        assert_eq!(reserved("main.events2"), Some(Owner::EventStore));
        assert_eq!(reserved("projector_checkpoints"), Some(Owner::Host));
        assert_eq!(reserved("projector_anything_new"), Some(Owner::Host));
        assert_eq!(reserved("projector.whatever"), Some(Owner::Host));
        assert_eq!(reserved("public.projector_plugins"), Some(Owner::Host));
        assert_eq!(reserved("_sqlx_migrations"), Some(Owner::Host));
        assert_eq!(reserved("sqlite_sequence"), Some(Owner::Database));
        assert_eq!(reserved("public.orgs_projection"), Some(Owner::Qualified));
        assert_eq!(reserved("orgs_projection"), None);
        assert_eq!(reserved("projector"), None);
        assert_eq!(reserved("events2_archive"), None);
    }

    #[test]
    fn messages_name_the_owner() {
        let e = StoreError::NotOwned {
            family: "hostile".into(),
            kind: "table",
            name: "events2".into(),
            owner: Owner::EventStore,
        };
        assert_eq!(
            e.to_string(),
            "family \"hostile\": table \"events2\" belongs to the event store"
        );
        let e = StoreError::NotOwned {
            family: "hostile".into(),
            kind: "table",
            name: "org_members_projection".into(),
            owner: Owner::Family("orgs".into()),
        };
        assert!(
            e.to_string()
                .ends_with("table \"org_members_projection\" belongs to family \"orgs\""),
            "{e}"
        );
    }
}
