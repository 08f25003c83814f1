//! Every mutation kind of the contract, rendered and run on both stores.

use host::store::{Db, ddl, dump, sql};
use projection_sdk::{
    ColumnOp, ColumnType, CompareOp, Condition, Description, Event, Mutation, Predicate, RowSide,
    Table, Value, copy, delete, insert, update, upsert, validate,
};
use serde_json::{Value as Json, json};

use crate::support::{self, Store};

fn description() -> Description {
    Description::new("kinds", "0.1.0")
        .table(
            Table::new("kinds_projection")
                .column("instance_id", ColumnType::Text)
                .column("id", ColumnType::Text)
                .column("state", ColumnType::SmallInt)
                .column_default("counter", ColumnType::Int, 0)
                .nullable("roles", ColumnType::TextArray)
                .nullable("factors", ColumnType::SmallIntArray)
                .nullable("email", ColumnType::Text)
                .nullable("verified_email", ColumnType::Text)
                .nullable("checked_at", ColumnType::Timestamp)
                .nullable("lifetime", ColumnType::Interval)
                .nullable("secret", ColumnType::Bytes)
                .nullable("doc", ColumnType::Json)
                .column_default("flag", ColumnType::Boolean, false)
                .column("creation_date", ColumnType::Timestamp)
                .column("change_date", ColumnType::Timestamp)
                .column("sequence", ColumnType::Int)
                .primary_key(&["instance_id", "id", "state"]),
        )
        .subscribe("kind", &["kind.happened"])
}

fn event(sequence: i64) -> Event {
    Event {
        position: "1".into(),
        in_tx_order: 1,
        instance_id: "tenant".into(),
        aggregate_type: "kind".into(),
        aggregate_id: "k".into(),
        event_type: "kind.happened".into(),
        sequence,
        revision: 1,
        created_at: 1_767_225_600_000_000 + sequence * 1_000_000,
        payload: None,
        creator: "c".into(),
        owner: "o".into(),
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn eq(column: &str, value: Value) -> Predicate {
    Predicate::Compare {
        column: column.into(),
        op: CompareOp::Eq,
        value,
    }
}

fn mutations() -> Vec<Mutation> {
    let t = "kinds_projection";
    vec![
        insert(t)
            .value("id", "a")
            .value("state", 1)
            .value(
                "roles",
                vec!["r1".to_owned(), "r2".to_owned(), "r3".to_owned()],
            )
            .value("factors", vec![1_i64, 2])
            .value("email", "a@x")
            .value("lifetime", Value::Interval(90_000_000_000))
            .value("secret", Value::Bytes(vec![0, 1, 2, 255]))
            .value("doc", Value::Json("{\"b\":1,\"a\":[true]}".into()))
            .build(),
        insert(t)
            .value("id", "b")
            .value("state", 1)
            .value("checked_at", Value::Timestamp(1_767_225_600_000_000))
            .build(),
        update(t)
            .op("roles", ColumnOp::ArrayAppend(text("r4")))
            .op("counter", ColumnOp::Increment(5))
            .eq("id", "a")
            .build(),
        update(t)
            .op("roles", ColumnOp::ArrayRemove(text("r1")))
            .op("factors", ColumnOp::ArrayAppend(Value::Int(3)))
            .eq("id", "a")
            .build(),
        update(t)
            .op(
                "roles",
                ColumnOp::ArrayIntersect(vec!["r4".into(), "r2".into(), "zz".into()]),
            )
            .eq("id", "a")
            .build(),
        update(t)
            .op("verified_email", ColumnOp::CopyFrom("email".into()))
            .eq("id", "a")
            .no_bump()
            .build(),
        update(t)
            .set("flag", true)
            .array_contains("roles", "r4")
            .build(),
        // Conditional: only rows checked before the event's time lose the check.
        update(t)
            .set("checked_at", Value::Null)
            .lt("checked_at", Value::Timestamp(1_767_225_700_000_000))
            .build(),
        // Keep-on-conflict and a conditional column on conflict.
        upsert(t, &["instance_id", "id", "state"])
            .value("id", "a")
            .value("state", 1)
            .value("email", "new@x")
            .value("verified_email", "ignored")
            .keep_on_conflict(&["verified_email"])
            .update_when(
                "email",
                vec![
                    (RowSide::Existing, eq("email", text("a@x"))),
                    (RowSide::Incoming, eq("email", text("new@x"))),
                ],
            )
            .build(),
        upsert(t, &["id", "state"])
            .value("id", "c")
            .value("state", 1)
            .value("email", "c@x")
            .build(),
        // Copy row a (state 1) to a row with state 3.
        copy(t, t, &["instance_id", "id", "state"])
            .column("id")
            .value("state", 3)
            .column("roles")
            .column("email")
            .column("creation_date")
            .eq("id", "a")
            .eq("state", 1)
            .build(),
        delete(t)
            .condition(Condition::AnyOf(vec![
                eq("id", text("b")),
                Predicate::IsNull("email".into()),
            ]))
            .condition(Condition::NoneOf(vec![Predicate::OneOf {
                column: "id".into(),
                values: vec![text("a"), text("c")],
            }]))
            .build(),
        // A NULL array intersected is the empty array on both stores (as
        // PostgreSQL's ARRAY(SELECT ... unnest(NULL)) and the reference).
        update(t)
            .op("roles", ColumnOp::ArrayIntersect(vec!["r1".into()]))
            .eq("id", "c")
            .no_bump()
            .build(),
    ]
}

async fn apply(db: &Db) -> Vec<Json> {
    let d = description();
    ddl::install(db, &d, "hash").await.unwrap();
    let table = &d.tables[0];
    for (i, m) in mutations().into_iter().enumerate() {
        let scoped = validate::scope(&d, &event(i as i64 + 1), m).unwrap();
        let source = matches!(scoped.mutation(), Mutation::Copy { .. }).then_some(table);
        let statement = sql::render(db.dialect(), table, source, &scoped).unwrap();
        db.execute(&statement)
            .await
            .unwrap_or_else(|e| panic!("mutation {i}: {e}\n{}", statement.sql));
    }
    dump::dump_table(db, table)
        .await
        .unwrap()
        .into_iter()
        .map(Json::Object)
        .collect()
}

fn expected() -> Json {
    let at = |s: i64| format!("2026-01-01T00:00:{s:02}.000000Z");
    json!([
        {"instance_id": "tenant", "id": "a", "state": 1, "counter": 5, "roles": ["r2", "r4"], "factors": [1, 2, 3],
         "email": "new@x", "verified_email": "a@x", "checked_at": null, "lifetime": 90_000_000_000_i64,
         "secret": "AAEC/w==", "doc": {"a": [true], "b": 1}, "flag": true,
         "creation_date": at(1), "change_date": at(9), "sequence": 9},
        {"instance_id": "tenant", "id": "a", "state": 3, "counter": 0, "roles": ["r2", "r4"], "factors": null,
         "email": "new@x", "verified_email": null, "checked_at": null, "lifetime": null, "secret": null, "doc": null,
         "flag": false, "creation_date": at(1), "change_date": at(11), "sequence": 11},
        {"instance_id": "tenant", "id": "c", "state": 1, "counter": 0, "roles": [], "factors": null,
         "email": "c@x", "verified_email": null, "checked_at": null, "lifetime": null, "secret": null, "doc": null,
         "flag": false, "creation_date": at(10), "change_date": at(10), "sequence": 10},
    ])
}

async fn every_mutation_kind_applies(store: Store) {
    let t = support::test_db(store).await;
    let rows = apply(&t.db).await;
    assert_eq!(Json::Array(rows), expected());
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutation_kind_applies_on_sqlite() {
    every_mutation_kind_applies(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutation_kind_applies_on_postgres() {
    every_mutation_kind_applies(Store::Postgres).await;
}
