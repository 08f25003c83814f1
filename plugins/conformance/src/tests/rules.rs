//! The comparison rules: stamps, tenant scope and alias, conditions, counts.

use super::{case_with, cell, check, tables};
use crate::{FIXED_CREATED_AT, compare};
use projection_sdk::{
    Assignment, Cell, ColumnOp, CompareOp, Condition, CopyColumn, CopySource, Mutation, Predicate,
    ProjectionError, Value,
};

const INSERT: &str = r#"[{"op":"insert","table":"things_projection","values":{"id":"agg-id","name":"n","change_date":{"any":true},"sequence":15}}]"#;

/// The stamps the host adds to an inserted row.
fn host_stamps() -> Vec<Cell> {
    vec![
        cell("instance_id", "instance-id"),
        cell("creation_date", Value::Timestamp(FIXED_CREATED_AT)),
        cell("change_date", Value::Timestamp(FIXED_CREATED_AT)),
        cell("sequence", 15),
    ]
}

fn insert(mut values: Vec<Cell>, stamps: Vec<Cell>) -> Mutation {
    values.extend(stamps);
    Mutation::Insert {
        table: "things_projection".to_owned(),
        values,
        bump: true,
    }
}

fn delete(conditions: Vec<Condition>) -> Mutation {
    Mutation::Delete {
        table: "things_projection".to_owned(),
        conditions,
    }
}

fn problems(result: Result<(), crate::Diff>) -> String {
    result.expect_err("a mismatch").problems.join("\n")
}

#[test]
fn host_stamps_and_scope_may_be_added() {
    let case = case_with("thing", INSERT);
    let row = vec![cell("id", "agg-id"), cell("name", "n")];
    assert_eq!(check(&case, vec![insert(row, host_stamps())]), Ok(()));
}

#[test]
fn other_extra_or_missing_columns_differ() {
    let case = case_with("thing", INSERT);
    let extra = vec![
        cell("id", "agg-id"),
        cell("name", "n"),
        cell("owner", "ro-id"),
    ];
    let found = problems(check(&case, vec![insert(extra, host_stamps())]));
    assert!(found.contains("column owner: not expected"), "{found}");

    let missing = vec![cell("id", "agg-id")];
    let found = problems(check(&case, vec![insert(missing, host_stamps())]));
    assert!(
        found.contains("column name: expected \"n\", but it is not written"),
        "{found}"
    );

    let wrong = vec![cell("id", "agg-id"), cell("name", "m")];
    let found = problems(check(&case, vec![insert(wrong, host_stamps())]));
    assert!(
        found.contains("column name: expected \"n\", got \"m\""),
        "{found}"
    );
}

#[test]
fn an_extra_stamp_must_be_the_events() {
    let case = case_with("thing", INSERT);
    let mut stamps = host_stamps();
    stamps[1] = cell("creation_date", Value::Timestamp(0));
    let row = vec![cell("id", "agg-id"), cell("name", "n")];
    let found = problems(check(&case, vec![insert(row.clone(), stamps)]));
    assert!(found.contains("column creation_date"), "{found}");

    let mut stamps = host_stamps();
    stamps[0] = cell("instance_id", "other-instance");
    let found = problems(check(&case, vec![insert(row, stamps)]));
    assert!(found.contains("column instance_id"), "{found}");
}

#[test]
fn tenant_alias_for_instance_and_feature_events_only() {
    let effects =
        r#"[{"op":"delete","table":"things_projection","where":{"instance_id":"agg-id"}}]"#;
    let scoped = vec![delete(vec![Condition::eq("instance_id", "instance-id")])];
    assert_eq!(
        check(&case_with("instance", effects), scoped.clone()),
        Ok(())
    );
    assert_eq!(
        check(&case_with("feature", effects), scoped.clone()),
        Ok(())
    );
    let found = problems(check(&case_with("org", effects), scoped));
    assert!(
        found.contains("condition instance_id = \"agg-id\""),
        "{found}"
    );

    // The alias is for the tenant column only.
    let by_id = r#"[{"op":"delete","table":"things_projection","where":{"id":"agg-id"}}]"#;
    let wrong_id = vec![delete(vec![
        Condition::eq("instance_id", "instance-id"),
        Condition::eq("id", "instance-id"),
    ])];
    assert!(check(&case_with("instance", by_id), wrong_id).is_err());
}

#[test]
fn conditions_beyond_the_tenant_scope_must_be_expected() {
    let effects = r#"[{"op":"delete","table":"things_projection","where":{"id":"agg-id"}}]"#;
    let case = case_with("thing", effects);
    let scope = Condition::eq("instance_id", "instance-id");
    let id = Condition::eq("id", "agg-id");
    assert_eq!(
        check(&case, vec![delete(vec![scope.clone(), id.clone()])]),
        Ok(())
    );
    let extra = Condition::All(Predicate::IsNull("name".to_owned()));
    let found = problems(check(&case, vec![delete(vec![scope.clone(), id, extra])]));
    assert!(
        found.contains("unexpected condition name IS NULL"),
        "{found}"
    );
    let found = problems(check(&case, vec![delete(vec![scope])]));
    assert!(
        found.contains("condition id = \"agg-id\": got no condition"),
        "{found}"
    );
}

#[test]
fn lt_conditions() {
    let effects = r#"[{"op":"update","table":"things_projection","values":{"checked_at":null},"where":{"user_id":"agg-id","instance_id":"instance-id"},"conditions":[{"column":"checked_at","op":"lt","value":{"event_created_at":true}}]}]"#;
    let case = case_with("user", effects);
    let update = |lt_value: i64| Mutation::Update {
        table: "things_projection".to_owned(),
        set: vec![Assignment {
            column: "checked_at".to_owned(),
            op: ColumnOp::Set(Value::Null),
        }],
        conditions: vec![
            Condition::eq("user_id", "agg-id"),
            Condition::All(Predicate::Compare {
                column: "checked_at".to_owned(),
                op: CompareOp::Lt,
                value: Value::Timestamp(lt_value),
            }),
            Condition::eq("instance_id", "instance-id"),
        ],
        bump: false,
    };
    assert_eq!(check(&case, vec![update(FIXED_CREATED_AT)]), Ok(()));
    assert!(check(&case, vec![update(0)]).is_err());
}

#[test]
fn op_table_and_count_must_agree() {
    let case = case_with("thing", INSERT);
    let found = problems(check(
        &case,
        vec![delete(vec![Condition::eq("id", "agg-id")])],
    ));
    assert!(found.contains("expected insert, got delete"), "{found}");
    let row = vec![cell("id", "agg-id"), cell("name", "n")];
    let found = problems(check(&case, vec![]));
    assert!(found.contains("expected 1 mutation(s), got 0"), "{found}");
    let two = vec![
        insert(row.clone(), host_stamps()),
        insert(row, host_stamps()),
    ];
    assert!(check(&case, two).is_err());
}

#[test]
fn noop_and_error() {
    let noop = case_with("thing", r#"[{"op":"noop"}]"#);
    let elsewhere = Mutation::Delete {
        table: "other_projection".to_owned(),
        conditions: vec![Condition::eq("id", "x")],
    };
    assert_eq!(check(&noop, vec![]), Ok(()));
    assert_eq!(check(&noop, vec![elsewhere.clone()]), Ok(()));
    assert!(check(&noop, vec![delete(vec![Condition::eq("id", "x")])]).is_err());
    let failed = Err(ProjectionError::Failed("boom".to_owned()));
    assert!(compare(&noop, &failed, &tables()).is_err());

    let error = case_with("thing", r#"[{"op":"error"}]"#);
    assert_eq!(compare(&error, &failed, &tables()), Ok(()));
    let found = problems(check(&error, vec![]));
    assert!(
        found.contains("expected an error, got 0 mutation(s)"),
        "{found}"
    );
    assert!(check(&error, vec![elsewhere]).is_err());
}

#[test]
fn upsert_conflict_and_keep() {
    let effects = r#"[{"op":"upsert","table":"things_projection","values":{"instance_id":"instance-id","key":"k"},"conflict":["instance_id","key"],"keep_on_conflict":["owner"]}]"#;
    let case = case_with("thing", effects);
    let upsert = |conflict: &[&str], keep: &[&str]| Mutation::Upsert {
        table: "things_projection".to_owned(),
        values: vec![cell("key", "k"), cell("instance_id", "instance-id")],
        conflict: conflict.iter().map(|c| (*c).to_owned()).collect(),
        keep_on_conflict: keep.iter().map(|c| (*c).to_owned()).collect(),
        update_when: Vec::new(),
        bump: false,
    };
    let ok = upsert(&["key", "instance_id"], &["owner", "creation_date"]);
    assert_eq!(check(&case, vec![ok]), Ok(()));
    assert!(check(&case, vec![upsert(&["key"], &["owner"])]).is_err());
    assert!(check(&case, vec![upsert(&["instance_id", "key"], &[])]).is_err());
    assert!(
        check(
            &case,
            vec![upsert(&["instance_id", "key"], &["owner", "name"])]
        )
        .is_err()
    );
}

#[test]
fn copy_columns_and_tenant() {
    let effects = r#"[{"op":"copy","table":"things_projection","values":{"change_date":{"any":true},"state":1,"id":{"copy_from_column":"id"},"instance_id":{"copy_from_column":"instance_id"}},"where":{"id":"agg-id","state":3,"instance_id":"instance-id"},"conflict":["instance_id","id","state"]}]"#;
    let case = case_with("org", effects);
    let copy = |id_from: &str| Mutation::Copy {
        table: "things_projection".to_owned(),
        source_table: "things_projection".to_owned(),
        columns: vec![
            CopyColumn {
                column: "id".to_owned(),
                source: CopySource::Column(id_from.to_owned()),
            },
            CopyColumn {
                column: "state".to_owned(),
                source: CopySource::Value(Value::Int(1)),
            },
            CopyColumn {
                column: "instance_id".to_owned(),
                source: CopySource::Value(Value::Text("instance-id".to_owned())),
            },
            CopyColumn {
                column: "change_date".to_owned(),
                source: CopySource::Value(Value::Timestamp(FIXED_CREATED_AT)),
            },
        ],
        conditions: vec![
            Condition::eq("instance_id", "instance-id"),
            Condition::eq("id", "agg-id"),
            Condition::eq("state", 3),
        ],
        conflict: vec![
            "instance_id".to_owned(),
            "id".to_owned(),
            "state".to_owned(),
        ],
        bump: true,
    };
    assert_eq!(check(&case, vec![copy("id")]), Ok(()));
    let found = problems(check(&case, vec![copy("name")]));
    assert!(
        found.contains("column id: expected copy of column id, got copy of column name"),
        "{found}"
    );
}

#[test]
fn diff_text_shows_both_sides() {
    let case = case_with("thing", INSERT);
    let row = vec![cell("id", "agg-id"), cell("name", "m")];
    let diff = check(&case, vec![insert(row, host_stamps())]).expect_err("differs");
    let text = diff.to_string();
    assert!(text.starts_with("case thing/x\n"), "{text}");
    assert!(
        text.contains("effect 1 (insert things_projection): column name"),
        "{text}"
    );
    assert!(
        text.contains("  expected:\n    1. insert things_projection\n"),
        "{text}"
    );
    assert!(
        text.contains("  actual:\n    1. insert things_projection\n"),
        "{text}"
    );
    assert!(
        text.contains("timestamp 2024-01-02T03:04:05.678901Z"),
        "{text}"
    );
}

#[test]
fn a_row_the_reference_does_not_bump_must_not_be_stamped() {
    let line = |name: &str, values: &str| {
        format!(
            r#"{{"case":"thing/{name}","event":{{"instance_id":"instance-id","aggregate_type":"thing","aggregate_id":"agg-id","event_type":"thing.changed","sequence":15,"created_at":null,"resource_owner":"ro-id","creator":"editor-user","payload":null}},"effects":[{{"op":"update","table":"things_projection","values":{values},"where":{{"id":"agg-id"}}}}]}}"#
        )
    };
    let text = format!(
        "{}\n{}\n",
        line(
            "bumped",
            r#"{"state":1,"change_date":{"any":true},"sequence":15}"#
        ),
        line("not_bumped", r#"{"state":2}"#)
    );
    let cases = crate::parse_cases(&text, "things.jsonl").unwrap();
    let update = |stamp: bool| {
        let mut set = vec![projection_sdk::Assignment {
            column: "state".into(),
            op: projection_sdk::ColumnOp::Set(Value::Int(2)),
        }];
        if stamp {
            set.push(projection_sdk::Assignment {
                column: "sequence".into(),
                op: projection_sdk::ColumnOp::Set(Value::Int(15)),
            });
        }
        Mutation::Update {
            table: "things_projection".into(),
            set,
            conditions: vec![projection_sdk::Condition::eq("id", "agg-id")],
            bump: stamp,
        }
    };
    assert_eq!(check(&cases[1], vec![update(false)]), Ok(()));
    let diff = check(&cases[1], vec![update(true)])
        .unwrap_err()
        .to_string();
    assert!(diff.contains("does not bump this row"), "{diff}");
}
