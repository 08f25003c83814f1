//! Tests of [`check_view`](super::check_view) and [`view_shape`](super::view_shape).

use super::*;
use crate::{ColumnType, Description, Table, View, ViewExpr};

fn family() -> Description {
    Description::new("f", "1.0.0")
        .table(
            Table::new("people")
                .column("instance_id", ColumnType::Text)
                .column("id", ColumnType::Text)
                .column("name", ColumnType::Text)
                .column("org", ColumnType::Text)
                .primary_key(&["instance_id", "id"]),
        )
        .table(
            Table::new("orgs")
                .column("instance_id", ColumnType::Text)
                .column("id", ColumnType::Text)
                .column("strict", ColumnType::Boolean)
                .column("rank", ColumnType::SmallInt)
                .primary_key(&["instance_id", "id"]),
        )
}

/// people p left join orgs o on o.id = p.org; outputs id, a label and the tenant.
fn good() -> View {
    let mut v = View::new("labels", "people", "p");
    let org = v.column("p", "org");
    let oid = v.column("o", "id");
    let on = v.equals(oid, org);
    v.left_join("orgs", "o", &[on]);
    let id = v.column("p", "id");
    let name = v.column("p", "name");
    let strict = v.column("o", "strict");
    let no = v.literal(false);
    let strict = v.coalesce(&[strict, no]);
    let at = v.literal("@");
    let full = v.concat(&[name, at, org]);
    let label = v.when(strict, full, name);
    let lower = v.lower(label);
    let tenant = v.column("p", "instance_id");
    v.output("id", id);
    v.output("label", lower);
    v.output("strict", strict);
    v.output("instance_id", tenant);
    v
}

fn refused(view: &View) -> String {
    match check_view(&family(), view) {
        Ok(columns) => panic!("accepted: {columns:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_good_view_has_typed_columns() {
    let columns = check_view(&family(), &good()).unwrap();
    assert_eq!(
        columns,
        vec![
            ("id".to_owned(), ColumnType::Text),
            ("label".to_owned(), ColumnType::Text),
            ("strict".to_owned(), ColumnType::Boolean),
            ("instance_id".to_owned(), ColumnType::Text),
        ]
    );
    let shape = view_shape(&family(), &good()).unwrap();
    assert_eq!(shape.name, "labels");
    assert_eq!(shape.primary_key.len(), 4);
}

#[test]
fn expressions_may_only_read_earlier_ones() {
    let mut v = good();
    v.exprs[0] = ViewExpr::Lower(ExprRef(5));
    assert!(
        refused(&v).contains("does not come before it"),
        "{}",
        refused(&v)
    );
}

#[test]
fn unknown_aliases_columns_and_foreign_tables_are_refused() {
    let mut v = good();
    v.exprs[0] = ViewExpr::Column {
        alias: "x".into(),
        column: "org".into(),
    };
    assert!(refused(&v).contains("unknown alias \"x\""));
    let mut v = good();
    v.exprs[0] = ViewExpr::Column {
        alias: "p".into(),
        column: "nope".into(),
    };
    assert!(refused(&v).contains("has no column \"nope\""));
    let mut v = good();
    v.joins[0].table = "users_projection".into();
    assert!(refused(&v).contains("not owned by the family"));
    let mut v = good();
    v.name = "people".into();
    assert!(refused(&v).contains("same name"));
    let mut v = good();
    v.columns[0].name = "Bad Name".into();
    assert!(refused(&v).contains("not a plain identifier"));
}

#[test]
fn types_must_agree() {
    let mut v = good();
    let rank = v.column("o", "rank");
    let name = v.column("p", "name");
    let mixed = v.coalesce(&[rank, name]);
    v.output("mixed", mixed);
    assert!(refused(&v).contains("mixes"), "{}", refused(&v));

    let mut v = good();
    let name = v.column("p", "name");
    let not = v.not(name);
    v.output("not_name", not);
    assert!(refused(&v).contains("needs Boolean"), "{}", refused(&v));

    let mut v = good();
    let null = v.literal(crate::Value::Null);
    v.output("nothing", null);
    assert!(refused(&v).contains("no type"), "{}", refused(&v));

    let mut v = good();
    let bytes = v.literal(crate::Value::Bytes(vec![1]));
    v.output("b", bytes);
    assert!(refused(&v).contains("literals are"), "{}", refused(&v));
}

#[test]
fn join_conditions_are_boolean_and_read_only_earlier_joins() {
    let mut v = good();
    v.joins[0].on = vec![ExprRef(0)];
    assert!(refused(&v).contains("is not boolean"), "{}", refused(&v));

    let mut v = good();
    let pid = v.column("q", "id");
    let own = v.column("o", "id");
    let on = v.equals(own, pid);
    v.joins[0].on.push(on);
    v.left_join("people", "q", &[]);
    assert!(refused(&v).contains("joined later"), "{}", refused(&v));

    let mut v = good();
    v.left_join("orgs", "o", &[]);
    assert!(refused(&v).contains("used twice"), "{}", refused(&v));
}

#[test]
fn the_tenant_must_be_the_base_tables() {
    let mut v = good();
    v.columns.retain(|c| c.name != "instance_id");
    assert!(refused(&v).contains("instance_id"), "{}", refused(&v));
    let mut v = good();
    let other = v.column("o", "instance_id");
    v.columns.last_mut().unwrap().expr = other;
    assert!(refused(&v).contains("p.instance_id"), "{}", refused(&v));
    let mut v = good();
    v.output("id", ExprRef(0));
    assert!(refused(&v).contains("declared twice"), "{}", refused(&v));
}
