//! Merged multi-row statements (inserts, upserts, single-row updates,
//! equality deletes) on both stores: PostgreSQL binds whole columns as
//! arrays, SQLite binds `VALUES` rows; both must leave the same rows, for
//! every scalar type, NULLs included.

use host::store::{Db, ddl, dump, sql};
use projection_sdk::{
    ColumnType, CompareOp, Description, Event, Mutation, Predicate, RowSide, Table, Value, delete,
    insert, update, upsert, validate, validate::Scoped,
};
use serde_json::{Value as Json, json};

use crate::support::{self, Store};

const T: &str = "scalars_projection";

fn description() -> Description {
    Description::new("scalars", "1.0.0").table(
        Table::new(T)
            .column("instance_id", ColumnType::Text)
            .column("id", ColumnType::Text)
            .column("state", ColumnType::SmallInt)
            .nullable("count", ColumnType::Int)
            .nullable("flag", ColumnType::Boolean)
            .nullable("seen_at", ColumnType::Timestamp)
            .nullable("lifetime", ColumnType::Interval)
            .nullable("secret", ColumnType::Bytes)
            .nullable("doc", ColumnType::Json)
            .nullable("note", ColumnType::Text)
            .nullable("previous_note", ColumnType::Text)
            .primary_key(&["instance_id", "id"]),
    )
}

fn event() -> Event {
    Event {
        position: "1".into(),
        in_tx_order: 1,
        instance_id: "tenant".into(),
        aggregate_type: "scalar".into(),
        aggregate_id: "s".into(),
        event_type: "scalar.happened".into(),
        sequence: 1,
        revision: 1,
        created_at: 1_767_225_600_000_000,
        payload: None,
        creator: "c".into(),
        owner: "o".into(),
    }
}

fn row(id: &str, state: i64, full: bool) -> projection_sdk::RowBuilder {
    let some = |v: Value| if full { v } else { Value::Null };
    insert(T)
        .value("id", id)
        .value("state", state)
        .value("count", some(Value::Int(1 << 40)))
        .value("flag", some(Value::Boolean(true)))
        .value("seen_at", some(Value::Timestamp(1_767_225_600_123_456)))
        .value("lifetime", some(Value::Interval(90_000_001_000)))
        .value("secret", some(Value::Bytes(vec![0, 1, 255])))
        .value("doc", some(Value::Json("{\"b\":1,\"a\":[true]}".into())))
        .value("note", some(Value::Text("it's \"quoted\"".into())))
}

/// Batches of one shape each, applied as merged statements.
fn batches() -> Vec<Vec<Mutation>> {
    // On conflict the state is kept, and the note is taken only from a
    // stored row in state 1 (a value bound after the column arrays).
    let up = |id: &str, note: &str| {
        upsert(T, &["instance_id", "id"])
            .value("id", id)
            .value("state", 7)
            .value("note", note)
            .keep_on_conflict(&["state"])
            .update_when(
                "note",
                vec![(
                    RowSide::Existing,
                    Predicate::Compare {
                        column: "state".into(),
                        op: CompareOp::Eq,
                        value: Value::Int(1),
                    },
                )],
            )
            .build()
    };
    let set = |id: &str, note: Value| {
        update(T)
            .set("note", note)
            .op(
                "previous_note",
                projection_sdk::ColumnOp::CopyFrom("note".into()),
            )
            .eq("instance_id", "tenant")
            .eq("id", id)
            .build()
    };
    vec![
        vec![
            row("a", 1, true).build(),
            row("b", 2, false).build(),
            row("c", 3, true).build(),
        ],
        vec![up("a", "upserted"), up("c", "blocked"), up("d", "new")],
        vec![
            set("a", Value::Null),
            set("c", Value::Text("changed".into())),
        ],
        vec![
            delete(T).eq("id", "b").build(),
            delete(T).eq("id", "zzz").build(),
        ],
    ]
}

async fn apply(db: &Db) -> Vec<Json> {
    let d = description();
    ddl::install(db, &d, "hash").await.unwrap();
    let table = &d.tables[0];
    for batch in batches() {
        let scoped: Vec<Scoped> = batch
            .into_iter()
            .map(|m| validate::scope(&d, &event(), m).unwrap())
            .collect();
        let rows: Vec<&Scoped> = scoped.iter().collect();
        let statement = match scoped[0].mutation() {
            Mutation::Insert { .. } | Mutation::Upsert { .. } => {
                sql::render_rows(db.dialect(), table, &rows)
            }
            Mutation::Update { .. } => sql::render_updates(db.dialect(), table, &rows),
            _ => sql::render_deletes(db.dialect(), table, &rows),
        }
        .unwrap();
        match db {
            Db::Postgres(_) => assert!(
                statement.arrays.len() >= 2 && statement.sql.contains("UNNEST("),
                "{}",
                statement.sql
            ),
            Db::Sqlite(_) => {
                assert!(statement.arrays.is_empty() && statement.sql.contains("VALUES"))
            }
        }
        db.execute(&statement)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", statement.sql));
    }
    dump::dump_table(db, table)
        .await
        .unwrap()
        .into_iter()
        .map(Json::Object)
        .collect()
}

fn expected() -> Json {
    let full = |id: &str, state: i64, note: Json, previous: Json| {
        json!({"instance_id": "tenant", "id": id, "state": state, "count": 1_i64 << 40, "flag": true,
               "seen_at": "2026-01-01T00:00:00.123456Z", "lifetime": 90_000_001_000_i64,
               "secret": "AAH/", "doc": {"a": [true], "b": 1}, "note": note, "previous_note": previous})
    };
    json!([
        full("a", 1, Json::Null, json!("upserted")),
        // The upsert of c was blocked by its condition: c kept its note.
        full("c", 3, json!("changed"), json!("it's \"quoted\"")),
        {"instance_id": "tenant", "id": "d", "state": 7, "count": null, "flag": null, "seen_at": null,
         "lifetime": null, "secret": null, "doc": null, "note": "new", "previous_note": null},
    ])
}

async fn merged_statements_apply(store: Store) {
    let t = support::test_db(store).await;
    let rows = apply(&t.db).await;
    assert_eq!(Json::Array(rows), expected());
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merged_statements_apply_on_sqlite() {
    merged_statements_apply(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merged_statements_apply_on_postgres() {
    merged_statements_apply(Store::Postgres).await;
}

/// Rows the statements of this transaction read by scanning the table
/// whole, so far.
async fn scanned(tx: &mut host::store::Tx) -> i64 {
    let host::store::Tx::Postgres(tx) = tx else {
        panic!("PostgreSQL only");
    };
    sqlx::query_scalar(
        "SELECT COALESCE(sum(seq_tup_read), 0)::bigint FROM pg_stat_xact_user_tables \
         WHERE relname = 'scalars_projection'",
    )
    .fetch_one(&mut **tx)
    .await
    .unwrap()
}

/// Rows a merged update of `rows` rows, its tenant's keys `r00000`..., read
/// by scanning the table whole, in a table of 20,005 rows grown after
/// updates of 100 rows ran eight times against 105 rows, analyzed.
async fn scanned_by_an_update_after_growth(db: &Db, rows: usize) -> i64 {
    let d = description();
    ddl::install(db, &d, "hash").await.unwrap();
    let table = &d.tables[0];
    let scope = |m: Mutation| validate::scope(&d, &event(), m).unwrap();
    let inserts = |ids: std::ops::Range<usize>| {
        let scoped: Vec<Scoped> = ids
            .map(|i| scope(row(&format!("r{i:05}"), 1, false).build()))
            .collect();
        sql::render_rows(db.dialect(), table, &scoped.iter().collect::<Vec<_>>()).unwrap()
    };
    let updates = |n: usize| {
        let scoped: Vec<Scoped> = (0..n)
            .map(|i| {
                let id = format!("r{i:05}");
                scope(update(T).set("note", "seen").eq("id", id.as_str()).build())
            })
            .collect();
        sql::render_updates(db.dialect(), table, &scoped.iter().collect::<Vec<_>>()).unwrap()
    };

    db.execute(&inserts(0..105)).await.unwrap();
    // Statistics taken while the table is small, as autovacuum takes them.
    let Db::Postgres(pool) = db else {
        panic!("PostgreSQL only")
    };
    sqlx::raw_sql("ANALYZE scalars_projection")
        .execute(pool)
        .await
        .unwrap();
    let mut tx = db.begin().await.unwrap();
    for _ in 0..8 {
        assert_eq!(tx.execute(&updates(100)).await.unwrap(), 100);
    }
    for start in (105..20_005).step_by(1_000) {
        let end = (start + 1_000).min(20_005);
        tx.execute(&inserts(start..end)).await.unwrap();
    }
    let before = scanned(&mut tx).await;
    assert_eq!(tx.execute(&updates(rows)).await.unwrap(), rows as u64);
    let read = scanned(&mut tx).await - before;
    tx.commit().await.unwrap();
    read
}

/// A merged update planned while its table was small still finds its rows
/// by key once the table has grown, for 3 rows and for 100
/// ([`host::store::planner`]). With PostgreSQL's defaults, both read all
/// 20,005 rows: the first by a generic plan made against 105 rows and kept,
/// the second because a scan was priced below 100 look-ups by key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merged_update_walks_the_key_after_its_table_grows_on_postgres() {
    for rows in [3, 100] {
        let t = support::test_db(Store::Postgres).await;
        let read = scanned_by_an_update_after_growth(&t.db, rows).await;
        assert!(
            read < 1_000,
            "an update of {rows} rows read {read} rows of 20,005 by scanning"
        );
        t.finish().await;
    }
}

/// A planner setting someone chose (the database's, the URL's) is kept; the
/// others are projector's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planner_settings_someone_chose_are_kept_on_postgres() {
    let t = support::test_db(Store::Postgres).await;
    let show = |db: &Db, name: &'static str| {
        let Db::Postgres(pool) = db else {
            unreachable!()
        };
        let pool = pool.clone();
        async move {
            let value: String = sqlx::query_scalar(&format!("SHOW {name}"))
                .fetch_one(&pool)
                .await
                .unwrap();
            value
        }
    };
    assert_eq!(show(&t.db, "random_page_cost").await, "1.1");
    assert_eq!(show(&t.db, "plan_cache_mode").await, "force_custom_plan");

    let name = t.url.rsplit('/').next().unwrap().to_owned();
    let Db::Postgres(pool) = &t.db else {
        unreachable!()
    };
    sqlx::raw_sql(&format!("ALTER DATABASE {name} SET random_page_cost = 3"))
        .execute(pool)
        .await
        .unwrap();
    let reopened = Db::open(&t.url).await.unwrap();
    assert_eq!(show(&reopened, "random_page_cost").await, "3");
    assert_eq!(
        show(&reopened, "plan_cache_mode").await,
        "force_custom_plan"
    );
    reopened.close().await;

    let url = format!("{}?options=-c%20plan_cache_mode%3Dauto", t.url);
    let chosen = Db::open(&url).await.unwrap();
    assert_eq!(show(&chosen, "plan_cache_mode").await, "auto");
    assert_eq!(show(&chosen, "random_page_cost").await, "3");
    chosen.close().await;
    t.finish().await;
}

/// On PostgreSQL the statements of one layer of a batch travel as one
/// statement (each a data-modifying `WITH` query) and run in the order the
/// merge gave them, as they would one by one. A unique index the test adds
/// by hand makes the order visible: a row's note may be taken by another
/// row only after the first is deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_layer_is_one_statement_run_in_order_on_postgres() {
    let t = support::test_db(Store::Postgres).await;
    let d = description();
    ddl::install(&t.db, &d, "hash").await.unwrap();
    let mut tx = t.db.begin().await.unwrap();
    tx.execute_plain(&format!("CREATE UNIQUE INDEX scalars_note ON {T} (note)"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let scoped = |mutations: Vec<Mutation>| -> Vec<Scoped> {
        mutations
            .into_iter()
            .map(|m| validate::scope(&d, &event(), m).unwrap())
            .collect()
    };
    let note = |id: &str| {
        insert(T)
            .value("id", id)
            .value("state", 1)
            .value("note", "x")
    };
    let first =
        host::runtime::merge_mutations(&d, t.db.dialect(), &scoped(vec![note("a").build()]))
            .unwrap();
    for statement in &first {
        t.db.execute(statement).await.unwrap();
    }

    // The insert takes the note only once the delete has run.
    let later = |mutations: Vec<Mutation>| {
        let merged =
            host::runtime::merge_mutations(&d, t.db.dialect(), &scoped(mutations)).unwrap();
        assert_eq!(merged.len(), 1, "one layer, one statement");
        assert!(sql::is_combined(&merged[0].sql), "{}", merged[0].sql);
        merged
    };
    let refused = later(vec![note("b").build(), delete(T).eq("id", "a").build()]);
    assert!(
        t.db.execute(&refused[0]).await.is_err(),
        "the insert ran before the delete: the note was still taken"
    );
    let applied = later(vec![delete(T).eq("id", "a").build(), note("b").build()]);
    t.db.execute(&applied[0]).await.unwrap();
    let table = &d.tables[0];
    let ids: Vec<Json> = dump::dump_table(&t.db, table)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!("b")]);
    t.finish().await;
}
