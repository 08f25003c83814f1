//! Tests of [`scope`](super::scope): ownership, columns, types, the tenant, the stamps.

use super::*;
use crate::{ColumnType, Event, Table, delete, insert, update, upsert};

/// [`super::scope`], its result read back as the plain mutation.
fn scope(description: &Description, event: &Event, m: Mutation) -> Result<Mutation, Rejection> {
    super::scope(description, event, m).map(Scoped::into_mutation)
}

#[test]
fn only_scope_marks_a_mutation_as_checked() {
    let m = insert("things_projection")
        .value("id", "1")
        .value("state", 1i64)
        .build();
    let scoped = super::scope(&description(), &event(), m).unwrap();
    assert_eq!(scoped.table(), "things_projection");
    assert_eq!(scoped.mutation(), &scoped.clone().into_mutation());
}

fn description() -> Description {
    Description::new("things", "0.1.0").table(
        Table::new("things_projection")
            .column("instance_id", ColumnType::Text)
            .column("id", ColumnType::Text)
            .column("creation_date", ColumnType::Timestamp)
            .column("change_date", ColumnType::Timestamp)
            .column("sequence", ColumnType::Int)
            .nullable("roles", ColumnType::TextArray)
            .column("state", ColumnType::SmallInt)
            .primary_key(&["instance_id", "id"]),
    )
}

fn event() -> Event {
    Event {
        position: "1".into(),
        in_tx_order: 1,
        instance_id: "tenant-a".into(),
        aggregate_type: "thing".into(),
        aggregate_id: "t1".into(),
        event_type: "thing.added".into(),
        sequence: 7,
        revision: 1,
        created_at: 1_000_000,
        payload: None,
        creator: "u".into(),
        owner: "o".into(),
    }
}

#[test]
fn insert_gets_tenant_and_stamps() {
    let m = insert("things_projection")
        .value("id", "t1")
        .value("state", 1)
        .build();
    let Mutation::Insert { values, .. } = scope(&description(), &event(), m).unwrap() else {
        panic!("not an insert")
    };
    let get = |c: &str| {
        values
            .iter()
            .find(|v| v.column == c)
            .map(|v| v.value.clone())
    };
    assert_eq!(get("instance_id"), Some(Value::Text("tenant-a".into())));
    assert_eq!(get("creation_date"), Some(Value::Timestamp(1_000_000)));
    assert_eq!(get("change_date"), Some(Value::Timestamp(1_000_000)));
    assert_eq!(get("sequence"), Some(Value::Int(7)));
}

#[test]
fn rejects_mutation_to_foreign_table() {
    let m = insert("users_projection").value("id", "t1").build();
    assert!(matches!(
        scope(&description(), &event(), m),
        Err(Rejection::ForeignTable(..))
    ));
}

#[test]
fn rejects_other_tenant_in_values_and_conditions() {
    let m = insert("things_projection")
        .value("id", "t1")
        .value("instance_id", "tenant-b")
        .build();
    assert!(matches!(
        scope(&description(), &event(), m),
        Err(Rejection::ForeignTenant { .. })
    ));
    let m = delete("things_projection")
        .eq("instance_id", "tenant-b")
        .build();
    assert!(matches!(
        scope(&description(), &event(), m),
        Err(Rejection::ForeignTenant { .. })
    ));
}

#[test]
fn rejects_undeclared_column_and_wrong_type() {
    let m = insert("things_projection")
        .value("id", "t1")
        .value("colour", "red")
        .build();
    assert!(matches!(
        scope(&description(), &event(), m),
        Err(Rejection::UnknownColumn { .. })
    ));
    let m = insert("things_projection")
        .value("id", "t1")
        .value("state", "active")
        .build();
    assert!(matches!(
        scope(&description(), &event(), m),
        Err(Rejection::WrongType { .. })
    ));
    let m = insert("things_projection").value("id", Value::Null).build();
    assert!(matches!(
        scope(&description(), &event(), m),
        Err(Rejection::NullNotAllowed { .. })
    ));
}

#[test]
fn rejects_unconditioned_update_and_delete() {
    let m = update("things_projection").set("state", 2).build();
    assert!(matches!(
        scope(&description(), &event(), m),
        Err(Rejection::MissingCondition { .. })
    ));
    let m = delete("things_projection").build();
    assert!(matches!(
        scope(&description(), &event(), m),
        Err(Rejection::MissingCondition { .. })
    ));
}

#[test]
fn update_is_scoped_and_bumped_unless_told_not_to() {
    let m = update("things_projection")
        .set("state", 2)
        .eq("id", "t1")
        .build();
    let Mutation::Update {
        set, conditions, ..
    } = scope(&description(), &event(), m).unwrap()
    else {
        panic!("not an update")
    };
    assert_eq!(conditions[0], Condition::eq("instance_id", "tenant-a"));
    assert!(set.iter().any(|a| a.column == "sequence"));
    let m = update("things_projection")
        .set("state", 2)
        .eq("id", "t1")
        .no_bump()
        .build();
    let Mutation::Update { set, .. } = scope(&description(), &event(), m).unwrap() else {
        panic!("not an update")
    };
    assert_eq!(set.len(), 1);
}

#[test]
fn upsert_must_conflict_on_primary_key_and_keeps_creation_date() {
    let m = upsert("things_projection", &["state"])
        .value("id", "t1")
        .build();
    assert!(matches!(
        scope(&description(), &event(), m),
        Err(Rejection::BadConflict { .. })
    ));
    let m = upsert("things_projection", &["id"])
        .value("id", "t1")
        .value("state", 1)
        .build();
    let Mutation::Upsert {
        conflict,
        keep_on_conflict,
        ..
    } = scope(&description(), &event(), m).unwrap()
    else {
        panic!("not an upsert")
    };
    assert_eq!(conflict, vec!["instance_id".to_owned(), "id".to_owned()]);
    assert_eq!(keep_on_conflict, vec!["creation_date".to_owned()]);
}

#[test]
fn array_operations_need_matching_elements() {
    let m = update("things_projection")
        .op("roles", ColumnOp::ArrayAppend(Value::Text("r".into())))
        .eq("id", "t1")
        .build();
    assert!(scope(&description(), &event(), m).is_ok());
    let m = update("things_projection")
        .op("state", ColumnOp::ArrayAppend(Value::Int(1)))
        .eq("id", "t1")
        .build();
    assert!(matches!(
        scope(&description(), &event(), m),
        Err(Rejection::BadOperation { .. })
    ));
}

#[test]
fn generated_columns_are_read_but_never_written() {
    let mut family = description();
    family.tables[0] = family.tables[0].clone().lower_of("id_lower", "id");
    let generated = |m| {
        matches!(
            scope(&family, &event(), m),
            Err(Rejection::GeneratedColumn { ref column, .. }) if column == "id_lower"
        )
    };
    assert!(generated(
        insert("things_projection")
            .value("id", "t1")
            .value("state", 1)
            .value("id_lower", "t1")
            .build()
    ));
    assert!(generated(
        update("things_projection")
            .set("id_lower", "x")
            .eq("id", "t1")
            .build()
    ));
    assert!(generated(
        crate::copy(
            "things_projection",
            "things_projection",
            &["instance_id", "id"]
        )
        .column_from("id_lower", "id")
        .eq("id", "t1")
        .build()
    ));
    // Reading it in a condition is fine.
    let read = update("things_projection")
        .set("state", 2)
        .eq("id_lower", "t1")
        .build();
    assert!(scope(&family, &event(), read).is_ok());
}

/// Values both stores cannot hold alike are refused before any SQL, the
/// same way on both: NUL characters, JSON that is not JSON, times outside
/// the years 1 to 9999, integers outside SMALLINT.
#[test]
fn values_a_store_cannot_hold_are_refused_alike() {
    let d = Description::new("things", "0.1.0").table(
        Table::new("things_projection")
            .column("instance_id", ColumnType::Text)
            .column("id", ColumnType::Text)
            .column("state", ColumnType::SmallInt)
            .nullable("roles", ColumnType::TextArray)
            .nullable("doc", ColumnType::Json)
            .nullable("seen_at", ColumnType::Timestamp)
            .nullable("note", ColumnType::Text)
            .primary_key(&["instance_id", "id"]),
    );
    let row = |column: &str, value: Value| {
        let row = insert("things_projection").value("id", "t1");
        let row = if column == "state" {
            row
        } else {
            row.value("state", 1)
        };
        row.value(column, value).build()
    };
    let refused = [
        row("note", Value::Text("a\0b".into())),
        row("roles", Value::TextArray(vec!["ok".into(), "\0".into()])),
        row("doc", Value::Json("{\"a\":".into())),
        row("doc", Value::Json("{\"a\":\"x\\u0000y\"}".into())),
        row("seen_at", Value::Timestamp(MAX_TIME_MICROS + 1)),
        row("seen_at", Value::Timestamp(MIN_TIME_MICROS - 1)),
        row("state", Value::Int(40_000)),
        update("things_projection")
            .op("roles", ColumnOp::ArrayAppend(Value::Text("\0".into())))
            .eq("id", "t1")
            .build(),
        update("things_projection")
            .op("roles", ColumnOp::ArrayIntersect(vec!["\0".into()]))
            .eq("id", "t1")
            .build(),
        delete("things_projection").eq("id", "x\0").build(),
    ];
    for m in refused {
        let shown = format!("{m:?}");
        let result = scope(&d, &event(), m);
        assert!(
            matches!(result, Err(Rejection::Unstorable { .. })),
            "{shown}: {result:?}"
        );
    }
    let accepted = [
        row("seen_at", Value::Timestamp(MAX_TIME_MICROS)),
        row("seen_at", Value::Timestamp(MIN_TIME_MICROS)),
        row("doc", Value::Json("{\"a\":[1,\"Müller\"]}".into())),
        row("state", Value::Int(-32_768)),
        row("note", Value::Text("it's \\ $$ 🦀".into())),
    ];
    for m in accepted {
        let shown = format!("{m:?}");
        assert!(scope(&d, &event(), m).is_ok(), "{shown}");
    }
}

/// Conflict columns are the primary key, each once.
#[test]
fn repeated_conflict_columns_are_refused() {
    let m = upsert("things_projection", &["instance_id", "instance_id"])
        .value("id", "t1")
        .value("state", 1)
        .build();
    assert!(matches!(
        scope(&description(), &event(), m),
        Err(Rejection::BadConflict { .. })
    ));
}

/// A one-of condition's column is checked even with no values.
#[test]
fn an_empty_one_of_still_names_a_declared_column() {
    for column in ["no_such_column", "x\"; DROP TABLE things_projection; --"] {
        let m = delete("things_projection")
            .condition(Condition::NoneOf(vec![Predicate::OneOf {
                column: column.into(),
                values: vec![],
            }]))
            .build();
        assert!(
            matches!(
                scope(&description(), &event(), m),
                Err(Rejection::UnknownColumn { .. })
            ),
            "{column}"
        );
    }
}

fn with_system_table() -> Description {
    description().table(
        Table::new("settings_projection")
            .column("key", ColumnType::Text)
            .column("value", ColumnType::Json)
            .column("change_date", ColumnType::Timestamp)
            .column("sequence", ColumnType::Int)
            .primary_key(&["key"]),
    )
}

fn system_event() -> Event {
    Event {
        instance_id: SYSTEM_TENANT.into(),
        ..event()
    }
}

#[test]
fn a_system_table_takes_the_system_tenants_events_unscoped() {
    let d = with_system_table();
    assert!(d.tables[1].is_system_scoped() && !d.tables[0].is_system_scoped());
    let set = upsert("settings_projection", &["key"])
        .value("key", "login_v2")
        .value("value", Value::Json("true".into()))
        .build();
    let Mutation::Upsert {
        values, conflict, ..
    } = scope(&d, &system_event(), set).unwrap()
    else {
        panic!("an upsert");
    };
    assert_eq!(conflict, ["key"]);
    assert!(values.iter().all(|c| c.column != TENANT_COLUMN));
    let reset = delete("settings_projection").is_not_null("key").build();
    let Mutation::Delete { conditions, .. } = scope(&d, &system_event(), reset).unwrap() else {
        panic!("a delete");
    };
    assert_eq!(conditions.len(), 1, "no tenant condition: {conditions:?}");
}

#[test]
fn a_tenants_event_cannot_write_a_system_table() {
    let d = with_system_table();
    let set = upsert("settings_projection", &["key"])
        .value("key", "login_v2")
        .value("value", Value::Json("true".into()))
        .build();
    assert_eq!(
        scope(&d, &event(), set),
        Err(Rejection::TenantWritesSystemTable {
            table: "settings_projection".into(),
            tenant: "tenant-a".into(),
        })
    );
    let wipe = delete("settings_projection").is_not_null("key").build();
    assert!(matches!(
        scope(&d, &event(), wipe),
        Err(Rejection::TenantWritesSystemTable { .. })
    ));
}

#[test]
fn the_system_tenants_events_cannot_write_a_tenant_table() {
    let d = with_system_table();
    let row = insert("things_projection")
        .value("id", "1")
        .value("state", 1i64)
        .build();
    assert_eq!(
        scope(&d, &system_event(), row),
        Err(Rejection::SystemWritesTenantTable(
            "things_projection".into()
        ))
    );
}

/// The primary key of `description()`'s table.
fn key() -> Vec<String> {
    vec!["instance_id".into(), "id".into()]
}

/// Two checked mutations of `description()`'s table, `later` at sequence 9.
fn two_updates(first: Mutation, later: Mutation) -> (Scoped, Scoped) {
    let mut next = event();
    next.sequence = 9;
    (
        super::scope(&description(), &event(), first).unwrap(),
        super::scope(&description(), &next, later).unwrap(),
    )
}

#[test]
fn an_update_followed_by_another_of_the_same_rows_is_one() {
    let (first, later) = two_updates(
        update("things_projection")
            .set("state", 2)
            .set("roles", Value::TextArray(vec!["a".into()]))
            .eq("id", "t1")
            .build(),
        update("things_projection")
            .set("state", 3)
            .eq("id", "t1")
            .build(),
    );
    let Some(fused) = first.followed_by(&later, &key()) else {
        panic!("two updates of one row by its key are one")
    };
    let Mutation::Update {
        set, conditions, ..
    } = fused.mutation()
    else {
        panic!("not an update")
    };
    let value = |column: &str| {
        set.iter()
            .filter(|a| a.column == column)
            .map(|a| a.op.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(value("state"), [ColumnOp::Set(Value::Int(3))]);
    assert_eq!(
        value("roles"),
        [ColumnOp::Set(Value::TextArray(vec!["a".into()]))]
    );
    assert_eq!(value("sequence"), [ColumnOp::Set(Value::Int(9))]);
    let Mutation::Update {
        conditions: later_conditions,
        ..
    } = later.mutation()
    else {
        panic!("not an update")
    };
    assert_eq!(conditions, later_conditions);
}

#[test]
fn updates_that_read_the_row_or_meet_other_rows_stay_two() {
    let by_id = |id: &str| update("things_projection").set("state", 2).eq("id", id);
    for (first, later, why) in [
        (by_id("t1").build(), by_id("t2").build(), "other rows"),
        (
            by_id("t1").build(),
            by_id("t1").no_bump().build(),
            "stamped differently",
        ),
        (
            by_id("t1").build(),
            update("things_projection")
                .op("state", ColumnOp::Increment(1))
                .eq("id", "t1")
                .build(),
            "reads the row",
        ),
        (
            by_id("t1").eq("state", 1).build(),
            by_id("t1").eq("state", 1).build(),
            "a condition reads a column the first sets",
        ),
        (
            by_id("t1").build(),
            delete("things_projection").eq("id", "t1").build(),
            "not an update",
        ),
    ] {
        let (first, later) = two_updates(first, later);
        assert_eq!(first.followed_by(&later, &key()), None, "{why}");
    }
}

#[test]
fn an_insert_followed_by_an_update_of_its_row_is_one_insert() {
    let row = || {
        insert("things_projection")
            .value("id", "t1")
            .value("state", 1)
    };
    let (first, later) = two_updates(
        row().build(),
        update("things_projection")
            .set("state", 2)
            .eq("id", "t1")
            .build(),
    );
    let Some(fused) = first.followed_by(&later, &key()) else {
        panic!("an update of the inserted row joins the insert")
    };
    let Mutation::Insert { values, .. } = fused.mutation() else {
        panic!("not an insert")
    };
    let value = |column: &str| values.iter().find(|c| c.column == column).map(|c| &c.value);
    assert_eq!(value("state"), Some(&Value::Int(2)));
    assert_eq!(value("sequence"), Some(&Value::Int(9)));
    // The same columns in the same order: the same shape.
    let columns = |m: &Scoped| match m.mutation() {
        Mutation::Insert { values, .. } => values.iter().map(|c| c.column.clone()).collect(),
        _ => Vec::new(),
    };
    assert_eq!(columns(&fused), columns(&first));

    // Equalities besides the key that the inserted row meets: the update
    // still meets that row alone.
    let (first, later) = two_updates(
        row().build(),
        update("things_projection")
            .set("state", 2)
            .eq("id", "t1")
            .eq("state", 1)
            .build(),
    );
    let Some(fused) = first.followed_by(&later, &key()) else {
        panic!("an update of the inserted row by more than its key joins the insert")
    };
    let Mutation::Insert { values, .. } = fused.mutation() else {
        panic!("not an insert")
    };
    let state = values
        .iter()
        .find(|c| c.column == "state")
        .map(|c| &c.value);
    assert_eq!(state, Some(&Value::Int(2)));

    for (later, why) in [
        (
            update("things_projection")
                .set("state", 2)
                .eq("id", "t2")
                .build(),
            "another row",
        ),
        (
            update("things_projection")
                .set("state", 2)
                .eq("id", "t1")
                .eq("state", 3)
                .build(),
            "a condition besides the key the row does not meet",
        ),
        (
            update("things_projection")
                .set("state", 2)
                .eq("id", "t1")
                .eq("roles", Value::TextArray(vec!["a".into()]))
                .build(),
            "a condition on a column the insert does not write",
        ),
        (
            update("things_projection")
                .set("roles", Value::TextArray(vec!["a".into()]))
                .eq("id", "t1")
                .build(),
            "a column the insert does not write",
        ),
        (
            update("things_projection")
                .op("state", ColumnOp::Increment(1))
                .eq("id", "t1")
                .build(),
            "reads the row",
        ),
    ] {
        let (first, later) = two_updates(row().build(), later);
        assert_eq!(first.followed_by(&later, &key()), None, "{why}");
    }
}
