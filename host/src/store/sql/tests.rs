use super::*;
use projection_sdk::{ColumnType, Description, Table, delete, update, validate};

/// `m` as the validator passes it for tenant `i` of a family of [`table`].
fn checked(m: &Mutation) -> Scoped {
    checked_in(table(), m)
}

fn checked_in(table: Table, m: &Mutation) -> Scoped {
    let family = Description::new("t", "0.1.0").table(table);
    let mut event = projection_sdk::testing::event("t", "t.changed", None);
    event.instance_id = "i".to_owned();
    validate::scope(&family, &event, m.clone()).expect("a valid mutation")
}

fn table() -> Table {
    Table::new("t_projection")
        .column("instance_id", ColumnType::Text)
        .column("id", ColumnType::Text)
        .nullable("roles", ColumnType::TextArray)
        .primary_key(&["instance_id", "id"])
}

#[test]
fn renders_numbered_casts_on_postgres_and_question_marks_on_sqlite() {
    let m = update("t_projection")
        .op("roles", ColumnOp::ArrayAppend(Value::Text("r".into())))
        .eq("instance_id", "i")
        .eq("id", "x")
        .build();
    let pg = render(Dialect::Postgres, &table(), None, &checked(&m)).unwrap();
    assert_eq!(
        pg.sql,
        "UPDATE \"t_projection\" SET \"roles\" = array_append(\"roles\", $1::TEXT) WHERE (\"instance_id\" = $2::TEXT) AND (\"id\" = $3::TEXT)"
    );
    let lite = render(Dialect::Sqlite, &table(), None, &checked(&m)).unwrap();
    assert_eq!(lite.binds.len(), 3);
    assert_eq!(lite.sql.matches('?').count(), 3);
}

#[test]
fn merges_rows_of_one_shape_into_one_insert() {
    let a = projection_sdk::insert("t_projection")
        .value("instance_id", "i")
        .value("id", "a")
        .build();
    let b = projection_sdk::insert("t_projection")
        .value("instance_id", "i")
        .value("id", "b")
        .build();
    assert!(same_row_shape(&a, &b));
    let lite = render_rows(Dialect::Sqlite, &table(), &[&checked(&a), &checked(&b)]).unwrap();
    assert_eq!(
        lite.sql,
        "INSERT INTO \"t_projection\" (\"instance_id\", \"id\") VALUES (?, ?), (?, ?)"
    );
    // PostgreSQL binds each column once, as an array: one text for any row count.
    let pg = render_rows(Dialect::Postgres, &table(), &[&checked(&a), &checked(&b)]).unwrap();
    assert_eq!(
        pg.sql,
        "INSERT INTO \"t_projection\" (\"instance_id\", \"id\") SELECT u.c0::TEXT, u.c1::TEXT FROM UNNEST($1::TEXT[], $2::TEXT[]) AS u(c0, c1)"
    );
    assert!(pg.binds.is_empty());
    assert_eq!(pg.arrays[1].values, [Value::from("a"), Value::from("b")]);
    assert!(pg.is_reusable());
    // Array-typed columns cannot nest in one array: VALUES rows then.
    let with_roles = |id: &str| {
        projection_sdk::insert("t_projection")
            .value("instance_id", "i")
            .value("id", id)
            .value("roles", vec!["r".to_owned()])
            .build()
    };
    let (x, y) = (with_roles("x"), with_roles("y"));
    let pg = render_rows(Dialect::Postgres, &table(), &[&checked(&x), &checked(&y)]).unwrap();
    assert!(
        pg.sql.contains(" VALUES ($1::TEXT, $2::TEXT, $3::TEXT[])"),
        "{}",
        pg.sql
    );
    assert!(pg.arrays.is_empty());
    let c = projection_sdk::insert("t_projection")
        .value("id", "c")
        .value("instance_id", "i")
        .build();
    assert!(!same_row_shape(&a, &c));
}

#[test]
fn conditional_upsert_columns_become_case_expressions() {
    let m = projection_sdk::upsert("t_projection", &["instance_id", "id"])
        .value("instance_id", "i")
        .value("id", "x")
        .value("roles", vec!["r".to_owned()])
        .update_when(
            "roles",
            vec![(RowSide::Existing, Predicate::IsNull("roles".into()))],
        )
        .build();
    let sql = render(Dialect::Sqlite, &table(), None, &checked(&m))
        .unwrap()
        .sql;
    assert!(
        sql.ends_with(
            "DO UPDATE SET \"roles\" = CASE WHEN (\"t_projection\".\"roles\" IS NULL) THEN excluded.\"roles\" ELSE \"t_projection\".\"roles\" END"
        ),
        "{sql}"
    );
}

#[test]
fn deletes_of_one_shape_share_a_statement() {
    let a = delete("t_projection")
        .eq("instance_id", "i")
        .eq("id", "a")
        .build();
    let b = delete("t_projection")
        .eq("id", "b")
        .eq("instance_id", "i")
        .build();
    let lite = render_deletes(Dialect::Sqlite, &table(), &[&checked(&a), &checked(&b)]).unwrap();
    assert_eq!(
        lite.sql,
        "WITH v(k0, k1) AS (VALUES (?, ?), (?, ?)) DELETE FROM \"t_projection\" WHERE EXISTS (SELECT 1 FROM v WHERE \"t_projection\".\"id\" = v.k0 AND \"t_projection\".\"instance_id\" = v.k1)"
    );
    let values: Vec<&Value> = lite.binds.iter().map(|(v, _)| v).collect();
    assert_eq!(
        values,
        [
            &Value::from("a"),
            &Value::from("i"),
            &Value::from("b"),
            &Value::from("i")
        ]
    );
    let lt = delete("t_projection").lt("id", "z").build();
    assert!(delete_shape(&lt).is_none());
}

#[test]
fn refuses_identifiers_that_are_not_plain() {
    assert!(quote("users_projection").is_ok());
    assert!(quote("x\"; DROP TABLE y; --").is_err());
    assert!(quote("Users").is_err());
    // The validator accepts a column the family declared; the writer still
    // refuses a name that is not a plain identifier.
    let odd = table().column("id; --", ColumnType::Text);
    let m = delete("t_projection").eq("id; --", "x").build();
    let m = checked_in(odd.clone(), &m);
    assert!(render(Dialect::Sqlite, &odd, None, &m).is_err());
}

#[test]
fn alike_updates_and_deletes_read_their_values_from_rows() {
    let append = |id: &str, role: &str| {
        update("t_projection")
            .op("roles", ColumnOp::ArrayAppend(Value::from(role)))
            .eq("id", id)
            .build()
    };
    let (a, b) = (checked(&append("a", "r1")), checked(&append("b", "r2")));
    let shape = |m: &Scoped| alike_shape(&table(), m.mutation()).map(|(text, _)| text);
    assert!(shape(&a).is_some());
    assert_eq!(shape(&a), shape(&b), "only the values differ");
    let remove = checked(
        &update("t_projection")
            .op("roles", ColumnOp::ArrayRemove(Value::from("r1")))
            .eq("id", "a")
            .build(),
    );
    assert_ne!(shape(&a), shape(&remove));

    let pg = render_alike(Dialect::Postgres, &table(), &[&a, &b]).unwrap();
    assert_eq!(
        pg.sql,
        "WITH \"V\"(\"P1\", \"P2\", \"P3\") AS (SELECT u.\"P1\"::TEXT, u.\"P2\"::TEXT, u.\"P3\"::TEXT FROM UNNEST($1::TEXT[], $2::TEXT[], $3::TEXT[]) AS u(\"P1\", \"P2\", \"P3\")) UPDATE \"t_projection\" SET \"roles\" = array_append(\"roles\", \"V\".\"P1\") FROM \"V\" WHERE (\"instance_id\" = \"V\".\"P2\") AND (\"id\" = \"V\".\"P3\")"
    );
    assert!(pg.binds.is_empty());
    let columns: Vec<Vec<Value>> = pg.arrays.iter().map(|a| a.values.clone()).collect();
    assert_eq!(
        columns,
        [
            vec![Value::from("r1"), Value::from("r2")],
            vec![Value::from("i"), Value::from("i")],
            vec![Value::from("a"), Value::from("b")],
        ]
    );

    let lt = |id: &str| checked(&delete("t_projection").lt("id", id).build());
    let lite = render_alike(Dialect::Sqlite, &table(), &[&lt("m"), &lt("z")]).unwrap();
    assert_eq!(
        lite.sql,
        "WITH \"V\"(\"P1\", \"P2\") AS (VALUES (?, ?), (?, ?)) DELETE FROM \"t_projection\" WHERE EXISTS (SELECT 1 FROM \"V\" WHERE (\"instance_id\" = \"V\".\"P1\") AND (\"id\" < \"V\".\"P2\"))"
    );
    // Statements of different shapes are refused, not merged.
    assert!(render_alike(Dialect::Sqlite, &table(), &[&a, &remove]).is_err());
    // Inserts are not merged this way.
    let row = checked(
        &projection_sdk::insert("t_projection")
            .value("id", "a")
            .build(),
    );
    assert!(alike_shape(&table(), row.mutation()).is_none());
}
