//! How far the merge gets on shapes of batches families produce. That the
//! merged statements leave the rows one statement per mutation leaves is the
//! property test's (`tests/it/fastpath.rs`), on both stores.

use projection_sdk::validate::{self, Scoped};
use projection_sdk::{
    ColumnType, Description, Event, Mutation, Table, Value, copy, delete, insert, update, upsert,
};

use super::{merge_mutations, uncombined};
use crate::store::Dialect;

const USERS: &str = "users_projection";
const HUMANS: &str = "humans_projection";
const LINKS: &str = "links_projection";

fn description() -> Description {
    Description::new("merge", "1.0.0")
        .table(
            Table::new(USERS)
                .column("instance_id", ColumnType::Text)
                .column("id", ColumnType::Text)
                .column("change_date", ColumnType::Timestamp)
                .column("sequence", ColumnType::Int)
                .column("state", ColumnType::SmallInt)
                .nullable("email", ColumnType::Text)
                .primary_key(&["instance_id", "id"]),
        )
        .table(
            Table::new(HUMANS)
                .column("instance_id", ColumnType::Text)
                .column("user_id", ColumnType::Text)
                .column("change_date", ColumnType::Timestamp)
                .column("sequence", ColumnType::Int)
                .nullable("name", ColumnType::Text)
                .primary_key(&["instance_id", "user_id"])
                .parent(USERS),
        )
        .table(
            Table::new(LINKS)
                .column("instance_id", ColumnType::Text)
                .column("user_id", ColumnType::Text)
                .column("external_id", ColumnType::Text)
                .column("change_date", ColumnType::Timestamp)
                .column("sequence", ColumnType::Int)
                .nullable("name", ColumnType::Text)
                .primary_key(&["instance_id", "user_id", "external_id"]),
        )
}

fn scoped(d: &Description, tenant: &str, mutations: Vec<Mutation>) -> Vec<Scoped> {
    mutations
        .into_iter()
        .enumerate()
        .map(|(n, m)| {
            let event = Event {
                position: format!("{}", 100 + n),
                in_tx_order: 1,
                instance_id: tenant.into(),
                aggregate_type: "user".into(),
                aggregate_id: "u".into(),
                event_type: "user.changed".into(),
                sequence: n as i64 + 1,
                revision: 1,
                created_at: 1_767_225_600_000_000 + n as i64,
                payload: None,
                creator: "c".into(),
                owner: "o".into(),
            };
            validate::scope(d, &event, m).expect("a valid mutation")
        })
        .collect()
}

/// What one new user's events write: the user, its human, a profile
/// change, a state change.
fn signup(user: &str) -> Vec<Mutation> {
    vec![
        insert(USERS).value("id", user).value("state", 0).build(),
        insert(HUMANS)
            .value("user_id", user)
            .value("name", "a")
            .build(),
        update(HUMANS).set("name", "b").eq("user_id", user).build(),
        update(USERS).set("state", 1).eq("id", user).build(),
    ]
}

fn statements(mutations: &[Scoped]) -> Vec<String> {
    uncombined(&description(), Dialect::Postgres, mutations)
        .expect("merged")
        .into_iter()
        .map(|s| s.sql)
        .collect()
}

#[test]
fn interleaved_users_share_one_statement_per_table() {
    let d = description();
    for tenant in ["t1", "t2"] {
        let mutations: Vec<Mutation> = (0..50).flat_map(|n| signup(&format!("u{n}"))).collect();
        let all = scoped(&d, tenant, mutations);
        // Each user's updates fuse into its inserts.
        let merged = statements(&all);
        assert_eq!(merged.len(), 2, "{tenant}: {merged:?}");
        assert!(merged.iter().all(|s| s.starts_with("INSERT")), "{merged:?}");
    }
}

#[test]
fn changes_of_one_row_fuse_into_its_insert_then_into_one_update() {
    let d = description();
    let mut mutations = vec![insert(USERS).value("id", "u").value("state", 0).build()];
    mutations.extend((1..=5).map(|s| update(USERS).set("state", s).eq("id", "u").build()));
    // A column the insert does not write: an update of its own, and the
    // next update fuses into it.
    mutations.push(update(USERS).set("email", "u@x").eq("id", "u").build());
    mutations.push(update(USERS).set("state", 9).eq("id", "u").build());
    let merged = uncombined(&d, Dialect::Postgres, &scoped(&d, "t", mutations)).unwrap();
    assert_eq!(merged.len(), 2, "{merged:?}");
    let binds = |n: usize| -> Vec<&Value> { merged[n].binds.iter().map(|(v, _)| v).collect() };
    assert!(merged[0].sql.starts_with("INSERT"), "{merged:?}");
    // The insert carries the last state before the email and that event's
    // stamp; the update the email, the last state and the last stamp.
    for expected in [Value::Int(5), Value::Int(6)] {
        assert!(binds(0).contains(&&expected), "{expected:?} in {merged:?}");
    }
    for stale in [Value::Int(0), Value::Int(4)] {
        assert!(!binds(0).contains(&&stale), "{stale:?} in {merged:?}");
    }
    for expected in [Value::Text("u@x".into()), Value::Int(9), Value::Int(8)] {
        assert!(binds(1).contains(&&expected), "{expected:?} in {merged:?}");
    }
}

#[test]
fn changes_of_one_row_fuse_across_other_rows_but_not_across_a_delete() {
    let d = description();
    let mutations = vec![
        update(USERS).set("state", 1).eq("id", "a").build(),
        // Other rows and tables do not stop the fusion.
        update(USERS).set("state", 1).eq("id", "b").build(),
        insert(HUMANS).value("user_id", "c").build(),
        update(USERS).set("email", "a@x").eq("id", "a").build(),
    ];
    let merged = statements(&scoped(&d, "t", mutations));
    assert_eq!(merged.len(), 2, "{merged:?}");
    let mutations = vec![
        update(USERS).set("state", 1).eq("id", "a").build(),
        delete(USERS).eq("state", 1).build(),
        update(USERS).set("email", "a@x").eq("id", "a").build(),
    ];
    let merged = statements(&scoped(&d, "t", mutations));
    assert_eq!(merged.len(), 3, "{merged:?}");
    assert!(merged[1].starts_with("DELETE"), "{merged:?}");
}

#[test]
fn a_child_created_before_its_parent_stays_before_it() {
    let d = description();
    let mutations = vec![
        insert(HUMANS).value("user_id", "late").build(),
        insert(USERS).value("id", "late").value("state", 0).build(),
    ];
    let merged = statements(&scoped(&d, "t", mutations));
    assert_eq!(merged.len(), 2);
    assert!(
        merged[0].contains(HUMANS) && merged[1].contains(USERS),
        "{merged:?}"
    );
}

#[test]
fn a_delete_of_a_parent_keeps_its_children_on_their_side() {
    let d = description();
    let mutations = vec![
        insert(HUMANS).value("user_id", "a").build(),
        delete(USERS).eq("id", "a").build(),
        insert(HUMANS).value("user_id", "a").build(),
        // Another user's child row joins the first statement.
        insert(HUMANS).value("user_id", "b").build(),
    ];
    let merged = statements(&scoped(&d, "t", mutations));
    assert_eq!(merged.len(), 3, "{merged:?}");
    assert!(merged[1].starts_with("DELETE"), "{merged:?}");
}

#[test]
fn a_delete_by_part_of_the_key_waits_for_the_rows_it_can_meet() {
    let d = description();
    let mutations = vec![
        update(USERS).set("state", 1).eq("id", "a").build(),
        delete(USERS).eq("state", 1).build(),
        update(USERS).set("state", 2).eq("id", "b").build(),
    ];
    // The delete pins only the tenant, so the later update cannot overtake it.
    assert_eq!(statements(&scoped(&d, "t", mutations)).len(), 3);
}

#[test]
fn other_tenants_rows_are_other_rows() {
    let d = description();
    let mut all = scoped(&d, "t1", vec![delete(USERS).eq("state", 1).build()]);
    all.extend(scoped(
        &d,
        "t2",
        vec![update(USERS).set("state", 2).eq("id", "b").build()],
    ));
    all.extend(scoped(
        &d,
        "t1",
        vec![update(USERS).set("state", 2).eq("id", "c").build()],
    ));
    // t2's update goes beside t1's delete; t1's waits for it, and so
    // cannot share t2's statement.
    let merged = statements(&all);
    assert_eq!(merged.len(), 3, "{merged:?}");
}

#[test]
fn a_copy_writes_everything_before_it_first() {
    let d = description();
    let mutations = vec![
        insert(USERS).value("id", "a").value("state", 0).build(),
        copy(HUMANS, USERS, &["instance_id", "user_id"])
            .column_from("user_id", "id")
            .eq("id", "a")
            .build(),
        insert(USERS).value("id", "b").value("state", 0).build(),
    ];
    let merged = statements(&scoped(&d, "t", mutations));
    assert_eq!(merged.len(), 3, "{merged:?}");
}

#[test]
fn updates_of_different_columns_of_one_table_share_a_statement() {
    let d = description();
    let mutations = vec![
        update(USERS).set("state", 1).eq("id", "a").build(),
        update(USERS).set("email", "b@x").eq("id", "b").build(),
        update(USERS)
            .set("state", 2)
            .set("email", "c@x")
            .eq("id", "c")
            .build(),
    ];
    let merged = statements(&scoped(&d, "t", mutations));
    assert_eq!(merged.len(), 1, "{merged:?}");
    // A column a row does not set keeps its value.
    assert!(
        merged[0].contains("ELSE \"users_projection\".\"email\""),
        "{merged:?}"
    );
}

#[test]
fn updates_and_deletes_by_other_conditions_share_a_statement_across_tenants() {
    let d = description();
    let mut all = Vec::new();
    for tenant in ["t1", "t2", "t3"] {
        all.extend(scoped(
            &d,
            tenant,
            vec![
                update(USERS).set("email", "x").eq("state", 1).build(),
                delete(HUMANS).lt("name", "m").build(),
            ],
        ));
    }
    let merged = statements(&all);
    assert_eq!(merged.len(), 2, "{merged:?}");
    assert!(
        merged.iter().all(|s| s.starts_with("WITH \"V\"(")),
        "{merged:?}"
    );
    // Two of one tenant can meet a common row: they keep their order, in
    // statements of their own.
    let one = scoped(
        &d,
        "t1",
        vec![
            update(USERS).set("email", "x").eq("state", 1).build(),
            update(USERS).set("email", "y").eq("state", 2).build(),
        ],
    );
    assert_eq!(statements(&one).len(), 2);
}

#[test]
fn an_update_by_its_key_and_more_merges_and_fuses_into_the_insert() {
    let d = description();
    let by_key_and_state = |user: &str, email: &str| {
        update(USERS)
            .set("email", email)
            .eq("id", user)
            .eq("state", 0)
            .build()
    };
    let mut mutations = Vec::new();
    for n in 0..20 {
        let user = format!("u{n}");
        mutations.push(
            insert(USERS)
                .value("id", user.as_str())
                .value("state", 0)
                .value("email", "a")
                .build(),
        );
        mutations.push(by_key_and_state(&user, "b"));
    }
    let merged = statements(&scoped(&d, "t", mutations));
    assert_eq!(merged.len(), 1, "{merged:?}");
    assert!(merged[0].starts_with("INSERT"), "{merged:?}");
    // Updates of rows inserted earlier share one statement of updates.
    let updates: Vec<Mutation> = (0..20)
        .map(|n| by_key_and_state(&format!("u{n}"), "c"))
        .collect();
    let merged = statements(&scoped(&d, "t", updates));
    assert_eq!(merged.len(), 1, "{merged:?}");
    assert!(merged[0].contains("\"state\" = v.k"), "{merged:?}");
}

fn link(user: &str, external: &str) -> Mutation {
    upsert(LINKS, &["instance_id", "user_id", "external_id"])
        .value("user_id", user)
        .value("external_id", external)
        .build()
}

fn move_link(user: &str, from: &str, to: &str) -> Mutation {
    update(LINKS)
        .set("external_id", to)
        .eq("user_id", user)
        .eq("external_id", from)
        .build()
}

#[test]
fn rows_that_move_do_not_write_everything_before_them() {
    let d = description();
    let mut mutations = Vec::new();
    for n in 0..20 {
        let user = format!("u{n}");
        mutations.push(link(&user, "x1"));
        mutations.push(move_link(&user, "x1", "x2"));
    }
    let merged = statements(&scoped(&d, "t", mutations));
    // One statement of the links, then each move alone (a parent's move
    // would have written the links before each).
    assert_eq!(merged.len(), 21, "{merged:?}");
    assert!(merged[0].starts_with("INSERT"), "{merged:?}");
}

#[test]
fn a_row_that_moves_waits_for_what_meets_its_new_key() {
    let d = description();
    let mutations = vec![
        link("u", "x1"),
        update(LINKS)
            .set("name", "a")
            .eq("user_id", "u")
            .eq("external_id", "x1")
            .build(),
        delete(LINKS)
            .eq("user_id", "u")
            .eq("external_id", "x1")
            .build(),
        link("u", "x2"),
        move_link("u", "x2", "x1"),
    ];
    let merged = statements(&scoped(&d, "t", mutations));
    let at = |prefix: &str| merged.iter().position(|s| s.starts_with(prefix));
    let (Some(delete_at), Some(move_at)) = (
        at("DELETE"),
        at("UPDATE \"links_projection\" SET \"external_id\""),
    ) else {
        panic!("a delete and a move: {merged:?}")
    };
    assert!(move_at > delete_at, "{merged:?}");
    // And after the name is set where it goes, and the row it moves is there.
    let name_at = merged
        .iter()
        .position(|s| s.contains("SET \"name\""))
        .expect("the name update");
    assert!(move_at > name_at, "{merged:?}");
}

#[test]
fn on_postgres_each_layer_is_one_statement() {
    let d = description();
    let mutations = scoped(
        &d,
        "t",
        vec![
            insert(USERS).value("id", "u").value("state", 0).build(),
            insert(LINKS)
                .value("user_id", "u")
                .value("external_id", "e")
                .build(),
            // Meets the insert's row: a layer above it.
            delete(USERS).eq("id", "u").build(),
        ],
    );
    let layered = uncombined(&d, Dialect::Postgres, &mutations).unwrap();
    assert_eq!(layered.len(), 3, "{layered:?}");
    let postgres = merge_mutations(&d, Dialect::Postgres, &mutations).unwrap();
    assert_eq!(postgres.len(), 2, "{postgres:?}");
    assert!(crate::store::sql::is_combined(&postgres[0].sql));
    assert!(postgres[1].sql.starts_with("DELETE"), "{postgres:?}");
    let sqlite = merge_mutations(&d, Dialect::Sqlite, &mutations).unwrap();
    assert_eq!(sqlite.len(), 3, "{sqlite:?}");
}

#[test]
fn a_delete_that_cascades_is_never_combined() {
    let d = description();
    let mutations = scoped(
        &d,
        "t",
        vec![
            // Commute in the ledger (an update of a child row and the
            // removal of another parent), but the delete cascades to humans.
            update(HUMANS).set("name", "b").eq("user_id", "u").build(),
            delete(USERS).eq("id", "v").build(),
            update(LINKS)
                .set("name", "c")
                .eq("user_id", "u")
                .eq("external_id", "e")
                .build(),
        ],
    );
    assert_eq!(
        uncombined(&d, Dialect::Postgres, &mutations).unwrap().len(),
        3
    );
    let postgres = merge_mutations(&d, Dialect::Postgres, &mutations).unwrap();
    assert_eq!(postgres.len(), 2, "{postgres:?}");
    assert!(
        postgres.iter().any(|s| s.sql.starts_with("DELETE")),
        "{postgres:?}"
    );
    assert!(
        postgres
            .iter()
            .any(|s| crate::store::sql::is_combined(&s.sql)),
        "{postgres:?}"
    );
}
