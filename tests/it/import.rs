//! `events import`: all or nothing, errors name the line.

use host::source::import;
use serde_json::json;

use crate::support::{self, Store};

async fn count(db: &host::store::Db) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {}", db.events_table());
    match db {
        host::store::Db::Sqlite(pool) => sqlx::query_scalar(&sql).fetch_one(pool).await.unwrap(),
        host::store::Db::Postgres(pool) => sqlx::query_scalar(&sql).fetch_one(pool).await.unwrap(),
    }
}

async fn import_is_all_or_nothing(store: Store) {
    let t = support::test_db(store).await;
    let good = json!({"instance_id": "i", "aggregate_type": "org", "aggregate_id": "o", "event_type": "org.added", "owner": "o", "payload": {"name": "n"}});
    let text = format!("{good}\n{good}\n{{\"instance_id\": \"i\", \"broken\n");
    let err = import::parse(&text, "events.jsonl").unwrap_err();
    assert!(err.to_string().starts_with("events.jsonl:3: "), "{err}");
    assert_eq!(count(&t.db).await, 0);

    // Sequences are assigned per aggregate and continue across imports.
    let parsed = import::parse(&format!("{good}\n{good}\n"), "events.jsonl").unwrap();
    assert_eq!(import::append(&t.db, &parsed).await.unwrap(), 2);
    assert_eq!(import::append(&t.db, &parsed).await.unwrap(), 2);
    assert_eq!(count(&t.db).await, 4);

    // An event that already exists fails the whole file.
    let dup = json!({"instance_id": "i", "aggregate_type": "org", "aggregate_id": "p", "event_type": "org.added", "owner": "o", "sequence": 1});
    let clash = json!({"instance_id": "i", "aggregate_type": "org", "aggregate_id": "o", "event_type": "org.added", "owner": "o", "sequence": 1});
    let parsed = import::parse(&format!("{dup}\n{clash}\n"), "clash.jsonl").unwrap();
    assert!(import::append(&t.db, &parsed).await.is_err());
    assert_eq!(count(&t.db).await, 4);
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_is_all_or_nothing_on_sqlite() {
    import_is_all_or_nothing(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_is_all_or_nothing_on_postgres() {
    import_is_all_or_nothing(Store::Postgres).await;
}
