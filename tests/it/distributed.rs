//! Ready for distributed PostgreSQL: with every family installed, PostgreSQL's
//! own catalog shows that every primary key, unique index and foreign key of
//! every family table includes `instance_id` (except system-scoped tables,
//! which have no tenant and are reference tables), and every view joins within
//! one tenant. These are the conditions for distributing the tables on
//! `instance_id` (for example with Citus' `create_distributed_table`).

use host::runtime::ReplayOptions;
use host::store::Db;
use host::store::view::create_view_sql;
use sqlx::Row as _;

use crate::support::{self, Store};

/// (relation, constraint or index, its columns) of the projection schema.
async fn keys(db: &Db) -> Vec<(String, String, Vec<String>)> {
    let Db::Postgres(pool) = db else {
        panic!("a PostgreSQL test");
    };
    // Primary keys, unique constraints and foreign keys, then unique
    // indexes (which include the constraints' own, listed twice: harmless).
    let constraints = sqlx::query(
        "SELECT c.conrelid::regclass::text, c.conname::text,
                ARRAY(SELECT a.attname::text FROM unnest(c.conkey) AS k(n)
                      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n)
         FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
         WHERE r.relnamespace = current_schema()::text::regnamespace AND c.contype IN ('p', 'u', 'f')
         UNION ALL
         SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text,
                ARRAY(SELECT a.attname::text FROM unnest(i.indkey) AS k(n)
                      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n)
         FROM pg_index i JOIN pg_class r ON r.oid = i.indrelid
         WHERE r.relnamespace = current_schema()::text::regnamespace AND i.indisunique",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    constraints
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_and_join_holds_the_tenant() {
    let t = support::test_db(Store::Postgres).await;
    let mut plugins = support::plugins(support::FAMILIES);
    support::replay(&t.db, &mut plugins, ReplayOptions::default()).await;

    let keys = keys(&t.db).await;
    let tables: usize = plugins.iter().map(|p| p.description.tables.len()).sum();
    let primary: std::collections::BTreeSet<&str> = keys
        .iter()
        .filter(|(_, name, _)| name.ends_with("_pkey"))
        .map(|(_, name, _)| name.as_str())
        .collect();
    assert_eq!(primary.len(), tables, "every family table has its key");
    let foreign = keys.iter().filter(|(_, name, _)| name.ends_with("_fkey"));
    assert!(foreign.count() > 0, "the sub-tables' foreign keys are seen");
    // System-scoped tables (no `instance_id`: installation-wide rows, such
    // as `system_features_projection`) are reference tables when
    // distributed; every other key holds the tenant.
    let system: std::collections::BTreeSet<&str> = plugins
        .iter()
        .flat_map(|p| &p.description.tables)
        .filter(|t| t.is_system_scoped())
        .map(|t| t.name.as_str())
        .collect();
    assert!(system.contains("system_features_projection"));
    let without: Vec<&(String, String, Vec<String>)> = keys
        .iter()
        .filter(|(table, _, _)| !system.contains(table.as_str()))
        .filter(|(_, _, columns)| !columns.iter().any(|c| c == "instance_id"))
        .collect();
    assert!(
        without.is_empty(),
        "keys without the tenant column: {without:?}"
    );

    // Every join of every view is held to the base table's tenant.
    let mut joins = 0;
    for plugin in &plugins {
        for view in &plugin.description.views {
            let sql = create_view_sql(t.db.dialect(), &plugin.description, view).unwrap();
            for join in sql.split(" LEFT JOIN ").skip(1) {
                joins += 1;
                let on = join.split(" ON ").nth(1).unwrap_or_default();
                assert!(
                    on.contains(".\"instance_id\" = ") && on.contains(".\"instance_id\""),
                    "{}: a join without the tenant: {join}",
                    view.name
                );
            }
        }
    }
    assert!(joins > 0, "the families declare views with joins");
    t.finish().await;
}
