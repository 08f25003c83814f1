//! Differential test: the project's generated realistic stream (every
//! family, many tenants interleaved, optional fields varied) projects with
//! no failed event on SQLite and on PostgreSQL, and the two stores hold the
//! same rows, compared whole in the canonical form of `store::dump`.

use std::collections::BTreeMap;

use host::runtime::ReplayOptions;
use host::store::{Db, state};
use serde_json::Value as Json;

use crate::support::{self, Store};

/// A generated stream of a few thousand events over many tenants.
pub fn generated_stream() -> Vec<Json> {
    streams::generate(&streams::Config {
        seed: 11,
        tenants: 30,
        events: 4000,
    })
}

/// Rows of every table and view, each table's rows in one order for both
/// stores (the stores' text collations may order keys differently).
pub async fn all_rows(db: &Db, plugins: &[host::plugin::Plugin]) -> BTreeMap<String, Vec<Json>> {
    support::dump_all(db, plugins)
        .await
        .into_iter()
        .map(|(table, rows)| {
            let mut rows: Vec<Json> = rows.into_iter().map(Json::Object).collect();
            rows.sort_by_cached_key(Json::to_string);
            (table, rows)
        })
        .collect()
}

struct Projected {
    tables: BTreeMap<String, Vec<Json>>,
    applied: u64,
    failures: Vec<state::Failure>,
}

async fn project(store: Store, events: &[Json]) -> Projected {
    let t = support::test_db(store).await;
    support::import_json(&t.db, events).await;
    let mut plugins = support::plugins(support::FAMILIES);
    let reports = support::replay(
        &t.db,
        &mut plugins,
        ReplayOptions {
            batch_size: 500,
            ..ReplayOptions::default()
        },
    )
    .await;
    // The realistic stream has no failing event: a batch whose merged
    // statements the database refused is a fast path defect.
    for report in &reports {
        assert_eq!(report.n_fell_back, 0, "{store:?}: {report:?}");
    }
    let projected = Projected {
        tables: all_rows(&t.db, &plugins).await,
        applied: reports.iter().map(|r| r.n_applied).sum(),
        failures: state::failures(&t.db).await.unwrap(),
    };
    t.finish().await;
    projected
}

fn first_difference(
    sqlite: &BTreeMap<String, Vec<Json>>,
    postgres: &BTreeMap<String, Vec<Json>>,
) -> Option<String> {
    for (table, rows) in sqlite {
        let Some(other) = postgres.get(table) else {
            return Some(format!("{table} is missing on PostgreSQL"));
        };
        if rows.len() != other.len() {
            return Some(format!(
                "{table}: {} rows on SQLite, {} on PostgreSQL",
                rows.len(),
                other.len()
            ));
        }
        if let Some((a, b)) = rows.iter().zip(other).find(|(a, b)| a != b) {
            return Some(format!("{table}:\n  SQLite:     {a}\n  PostgreSQL: {b}"));
        }
    }
    (sqlite.len() != postgres.len()).then(|| "the stores have other tables".to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_stream_projects_the_same_rows_on_sqlite_and_postgres() {
    let events = generated_stream();
    let sqlite = project(Store::Sqlite, &events).await;
    let postgres = project(Store::Postgres, &events).await;
    for (store, projected) in [("SQLite", &sqlite), ("PostgreSQL", &postgres)] {
        assert!(
            projected.failures.is_empty(),
            "{store}: {} failed events, the first: {:?}",
            projected.failures.len(),
            projected.failures.first()
        );
    }
    let rows: usize = sqlite.tables.values().map(Vec::len).sum();
    let counts: Vec<String> = sqlite
        .tables
        .iter()
        .map(|(t, r)| format!("{t}={}", r.len()))
        .collect();
    println!(
        "{} events, {} applied by the families, {rows} rows: {}",
        events.len(),
        sqlite.applied,
        counts.join(" ")
    );
    assert_eq!(sqlite.applied, postgres.applied);
    if let Some(difference) = first_difference(&sqlite.tables, &postgres.tables) {
        panic!("the stores differ: {difference}");
    }
    // Removing a user removes what hangs on it (the reference deletes by
    // user_id): no token, metadata or auth method outlives its user.
    let users: std::collections::BTreeSet<(&str, &str)> = sqlite.tables["users_projection"]
        .iter()
        .map(|r| {
            (
                r["instance_id"].as_str().unwrap(),
                r["id"].as_str().unwrap(),
            )
        })
        .collect();
    for table in [
        "personal_access_tokens_projection",
        "user_metadata_projection",
        "user_auth_methods_projection",
    ] {
        let orphans: Vec<&Json> = sqlite.tables[table]
            .iter()
            .filter(|r| {
                !users.contains(&(
                    r["instance_id"].as_str().unwrap(),
                    r["user_id"].as_str().unwrap(),
                ))
            })
            .collect();
        assert!(
            orphans.is_empty(),
            "{table} outlives its users: {orphans:?}"
        );
    }
    let empty: Vec<&str> = sqlite
        .tables
        .iter()
        .filter(|(_, r)| r.is_empty())
        .map(|(t, _)| t.as_str())
        .collect();
    assert_eq!(
        empty, NOT_WRITTEN_BY_EVENTS,
        "the stream must leave only the tables no event writes empty"
    );
}

/// Tables no event writes: `quotas_periods_projection.usage` is kept by the
/// usage reporting of the system the quotas limit (reference §9.2); events
/// only delete its rows.
const NOT_WRITTEN_BY_EVENTS: &[&str] = &["quotas_periods_projection"];

#[test]
fn the_generated_stream_varies_what_real_data_varies() {
    let events = generated_stream();
    let tenants: std::collections::BTreeSet<&str> = events
        .iter()
        .filter_map(|e| e["instance_id"].as_str())
        .collect();
    assert!(tenants.len() >= 20, "{} tenants", tenants.len());
    // Tenants interleave: a window of 500 events holds many of them.
    let window: std::collections::BTreeSet<&str> = events[1000..1500]
        .iter()
        .filter_map(|e| e["instance_id"].as_str())
        .collect();
    assert!(window.len() >= 5, "{} tenants in one batch", window.len());
    // One event type, different sets of payload fields.
    let shapes: std::collections::BTreeSet<Vec<String>> = events
        .iter()
        .filter(|e| e["event_type"] == "user.human.added")
        .filter_map(|e| e["payload"].as_object())
        .map(|p| p.keys().cloned().collect())
        .collect();
    assert!(
        shapes.len() >= 3,
        "{} shapes of user.human.added",
        shapes.len()
    );
    assert!(events.iter().any(|e| e["payload"].is_null()));
}
