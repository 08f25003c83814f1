//! Property test of the fast path: random sequences of every kind of
//! mutation, over three related tables (parent, child, grandchild), one
//! standalone table whose rows move (an update of a key column) and two
//! tenants, applied as the merged multi-row statements of a batch must
//! leave exactly the rows that one statement per mutation leaves, on both
//! stores. The steps the database refuses on their own (a key taken, a
//! parent missing) are left out first, so every case compares rows.
//!
//! The statements run on one pool for the whole test, so statements that
//! PostgreSQL prepared and cached for one case are reused by the next with
//! other values: a parameter typed by its value instead of its column shows
//! up here.
//!
//! `PROJECTOR_PROPTEST_CASES=N` sets the number of cases per store (default
//! 256); `PROJECTOR_PROPTEST_SEED=S` repeats a run.

use std::time::Instant;

use host::runtime;
use host::store::{Db, ddl, dump};
use projection_sdk::{
    ColumnOp, ColumnType, CompareOp, Description, Event, Mutation, Predicate, RowSide, Table,
    Value, copy, delete, insert, update, upsert, validate, validate::Scoped,
};
use proptest::prelude::*;

use crate::support::{self, Store};

const P: &str = "parents_projection";
const C: &str = "children_projection";
const G: &str = "grandchildren_projection";
/// A table without parent or children, keyed by an owner and an external
/// id that updates move (as a user's link to an identity provider).
const L: &str = "links_projection";
const TENANTS: [&str; 2] = ["tenant-a", "tenant-b"];
const IDS: [&str; 4] = ["p1", "p2", "p3", "p4"];
/// Stands for a key no earlier step used.
const NEW_ID: &str = "new";

fn description() -> Description {
    Description::new("fastpath", "1.0.0")
        .table(
            Table::new(P)
                .column("instance_id", ColumnType::Text)
                .column("id", ColumnType::Text)
                .column("creation_date", ColumnType::Timestamp)
                .column("change_date", ColumnType::Timestamp)
                .column("sequence", ColumnType::Int)
                .column("state", ColumnType::SmallInt)
                .nullable("count", ColumnType::Int)
                .nullable("flag", ColumnType::Boolean)
                .nullable("seen_at", ColumnType::Timestamp)
                .nullable("lifetime", ColumnType::Interval)
                .nullable("secret", ColumnType::Bytes)
                .nullable("doc", ColumnType::Json)
                .nullable("note", ColumnType::Text)
                .nullable("previous_note", ColumnType::Text)
                .nullable("tags", ColumnType::TextArray)
                .nullable("numbers", ColumnType::IntArray)
                .primary_key(&["instance_id", "id"]),
        )
        .table(
            Table::new(C)
                .column("instance_id", ColumnType::Text)
                .column("parent_id", ColumnType::Text)
                .column("id", ColumnType::Text)
                .column("change_date", ColumnType::Timestamp)
                .column("sequence", ColumnType::Int)
                .nullable("note", ColumnType::Text)
                .nullable("flag", ColumnType::Boolean)
                .primary_key(&["instance_id", "parent_id", "id"])
                .parent(P),
        )
        .table(
            Table::new(G)
                .column("instance_id", ColumnType::Text)
                .column("parent_id", ColumnType::Text)
                .column("child_id", ColumnType::Text)
                .column("id", ColumnType::Text)
                .column("change_date", ColumnType::Timestamp)
                .column("sequence", ColumnType::Int)
                .nullable("note", ColumnType::Text)
                .primary_key(&["instance_id", "parent_id", "child_id", "id"])
                .parent(C),
        )
        .table(
            Table::new(L)
                .column("instance_id", ColumnType::Text)
                .column("owner_id", ColumnType::Text)
                .column("external_id", ColumnType::Text)
                .column("change_date", ColumnType::Timestamp)
                .column("sequence", ColumnType::Int)
                .nullable("note", ColumnType::Text)
                .primary_key(&["instance_id", "owner_id", "external_id"]),
        )
}

/// The optional columns of the parent table, with a value of each type.
fn optional_value(column: &'static str) -> BoxedStrategy<Value> {
    let text = prop_oneof![
        Just(String::new()),
        Just("plain".to_owned()),
        Just("it's \"quoted\" \\ $$".to_owned()),
        Just("Müller 名前 🦀".to_owned()),
        "[a-z]{0,12}",
    ];
    match column {
        "count" => any::<i64>().prop_map(Value::Int).boxed(),
        "flag" => any::<bool>().prop_map(Value::Boolean).boxed(),
        "seen_at" => (0_i64..4_000_000_000_000_000)
            .prop_map(Value::Timestamp)
            .boxed(),
        "lifetime" => (0_i64..1_000_000_000)
            .prop_map(|micros| Value::Interval(micros * 1000))
            .boxed(),
        "secret" => prop::collection::vec(any::<u8>(), 0..8)
            .prop_map(Value::Bytes)
            .boxed(),
        "doc" => prop_oneof![
            Just("{}"),
            Just("{\"a\":1}"),
            Just("[true,null]"),
            Just("\"x\"")
        ]
        .prop_map(|s| Value::Json(s.to_owned()))
        .boxed(),
        "tags" => prop::collection::vec("[a-c]", 0..3)
            .prop_map(Value::TextArray)
            .boxed(),
        "numbers" => prop::collection::vec(-3_i64..3, 0..3)
            .prop_map(Value::IntArray)
            .boxed(),
        _ => text.prop_map(Value::Text).boxed(),
    }
}

const OPTIONAL: [&str; 10] = [
    "count", "flag", "seen_at", "lifetime", "secret", "doc", "note", "tags", "numbers", "state",
];

/// Each optional column absent, NULL or a value: rows of one kind differ in
/// which columns they carry and which are NULL, as real events do.
fn fields() -> impl Strategy<Value = Vec<(&'static str, Value)>> {
    let one = |column: &'static str| {
        prop_oneof![
            2 => Just(None),
            1 => Just(Some((column, Value::Null))),
            3 => optional_value(column).prop_map(move |v| Some((column, v))),
        ]
    };
    OPTIONAL
        .iter()
        .map(|&c| {
            if c == "state" {
                (0_i64..3)
                    .prop_map(|s| Some(("state", Value::Int(s))))
                    .boxed()
            } else {
                one(c).boxed()
            }
        })
        .collect::<Vec<_>>()
        .prop_map(|fields| fields.into_iter().flatten().collect())
}

fn predicate() -> impl Strategy<Value = Predicate> {
    prop_oneof![
        (0_i64..3).prop_map(|s| Predicate::Compare {
            column: "state".into(),
            op: CompareOp::Eq,
            value: Value::Int(s),
        }),
        (0_i64..3).prop_map(|s| Predicate::Compare {
            column: "state".into(),
            op: CompareOp::Lt,
            value: Value::Int(s),
        }),
        Just(Predicate::IsNull("note".into())),
        Just(Predicate::IsNotNull("flag".into())),
        "[a-c]".prop_map(|t| Predicate::Compare {
            column: "tags".into(),
            op: CompareOp::ArrayContains,
            value: Value::Text(t),
        }),
    ]
}

/// One generated mutation, before its tenant's event scopes it.
#[derive(Debug, Clone)]
struct Step {
    tenant: usize,
    mutation: Mutation,
}

fn id() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&IDS[..])
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Mostly new rows (`new` is renamed per step), sometimes a taken key.
    let insert_row =
        (prop_oneof![1 => id(), 12 => Just(NEW_ID)], fields()).prop_map(|(id, fields)| {
            // `fields` carries `state` (not null), so a new row has one.
            let mut row = insert(P).value("id", id);
            for (c, v) in fields {
                row = row.value(c, v);
            }
            row.build()
        });
    let upsert_row = (
        id(),
        fields(),
        prop::sample::subsequence(OPTIONAL.to_vec(), 0..3),
        prop::option::of((any::<bool>(), predicate())),
    )
        .prop_map(|(id, fields, keep, when)| {
            let mut row = upsert(P, &["instance_id", "id"]).value("id", id);
            let mut written = Vec::new();
            for (c, v) in fields {
                row = row.value(c, v);
                written.push(c);
            }
            let keep: Vec<&str> = keep.into_iter().filter(|c| written.contains(c)).collect();
            row = row.keep_on_conflict(&keep);
            if let Some((existing, p)) = when {
                let side = if existing {
                    RowSide::Existing
                } else {
                    RowSide::Incoming
                };
                if let Some(target) = written.iter().find(|c| !keep.contains(c)) {
                    row = row.update_when(target, vec![(side, p)]);
                }
            }
            row.build()
        });
    // Sometimes the row the latest insert of a new key made (`new` stands
    // for it here; see `steps`); sometimes only if it is in a given state
    // too (an equality besides the key).
    let update_by_key = (
        prop_oneof![1 => id(), 1 => Just(NEW_ID)],
        fields(),
        prop::bool::weighted(0.3),
        prop::option::weighted(0.3, 0_i64..3),
    )
        .prop_map(|(id, fields, copy_note, state)| {
            let mut u = update(P).eq("id", id);
            if let Some(state) = state {
                u = u.eq("state", state);
            }
            if copy_note {
                u = u.op("previous_note", ColumnOp::CopyFrom("note".into()));
            }
            for (c, v) in fields {
                u = u.set(c, v);
            }
            u.set("sequence", 0).build()
        });
    let update_other = (
        prop::option::of(id()),
        prop_oneof![
            any::<i8>().prop_map(|n| ("count", ColumnOp::Increment(n.into()))),
            "[a-c]".prop_map(|t| ("tags", ColumnOp::ArrayAppend(Value::Text(t)))),
            "[a-c]".prop_map(|t| ("tags", ColumnOp::ArrayRemove(Value::Text(t)))),
            prop::collection::vec("[a-c]", 0..3)
                .prop_map(|k| ("tags", ColumnOp::ArrayIntersect(k))),
            (-3_i64..3).prop_map(|n| ("numbers", ColumnOp::ArrayAppend(Value::Int(n)))),
            Just(("note", ColumnOp::Set(Value::Null))),
        ],
        predicate(),
    )
        .prop_map(|(id, (column, op), p)| {
            let mut u = update(P).op(column, op);
            u = match id {
                Some(id) => u.eq("id", id),
                None => u.condition(projection_sdk::Condition::All(p)),
            };
            u.build()
        });
    let delete_row = prop_oneof![
        id().prop_map(|id| delete(P).eq("id", id).build()),
        // Not state 0, which every parent the case starts from has: one such
        // delete would leave every later child without its parent.
        (1_i64..3).prop_map(|s| delete(P).eq("state", s).build()),
        prop::collection::vec(id(), 0..3).prop_map(|ids| {
            delete(P)
                .one_of("id", ids.into_iter().map(Value::from).collect())
                .build()
        }),
    ];
    let child = (
        id(),
        prop::sample::select(&["c1", "c2"][..]),
        prop::bool::weighted(0.9),
        fields(),
    )
        .prop_map(|(parent, id, merge, fields)| {
            let note = fields
                .iter()
                .find(|(c, _)| *c == "note")
                .map_or(Value::Null, |(_, v)| v.clone());
            if merge {
                upsert(C, &["instance_id", "parent_id", "id"])
                    .value("parent_id", parent)
                    .value("id", id)
                    .value("note", note)
                    .build()
            } else {
                insert(C)
                    .value("parent_id", parent)
                    .value("id", id)
                    .value("note", note)
                    .value("flag", true)
                    .build()
            }
        });
    let child_change = prop_oneof![
        id().prop_map(|p| delete(C).eq("parent_id", p).build()),
        (id(), prop::sample::select(&["c1", "c2"][..]))
            .prop_map(|(p, c)| delete(C).eq("parent_id", p).eq("id", c).build()),
        prop::sample::select(&["c1", "c2"][..]).prop_map(|c| delete(C).eq("id", c).build()),
        (id(), any::<bool>())
            .prop_map(|(p, f)| update(C).set("flag", f).eq("parent_id", p).build()),
        (id(), "[a-z]{0,4}").prop_map(|(p, n)| {
            update(C)
                .set("note", n)
                .eq("parent_id", p)
                .eq("id", "c1")
                .build()
        }),
        id().prop_map(|p| {
            copy(C, P, &["instance_id", "parent_id", "id"])
                .column_from("parent_id", "id")
                .value("id", "copied")
                .column("note")
                .column("flag")
                .eq("id", p)
                .build()
        }),
    ];
    let grandchild = (
        id(),
        prop::sample::select(&["c1", "c1", "c1", "c2"][..]),
        prop::sample::select(&["g1", "g2"][..]),
        "[a-z]{0,3}",
        prop_oneof![1 => Just(0_u8), 3 => Just(1), 2 => Just(2), 1 => Just(3)],
    )
        .prop_map(|(p, c, g, note, how)| match how {
            0 => insert(G)
                .value("parent_id", p)
                .value("child_id", c)
                .value("id", g)
                .value("note", note)
                .build(),
            1 => upsert(G, &["instance_id", "parent_id", "child_id", "id"])
                .value("parent_id", p)
                .value("child_id", c)
                .value("id", g)
                .value("note", note)
                .build(),
            2 => update(G)
                .set("note", note)
                .eq("parent_id", p)
                .eq("child_id", c)
                .eq("id", g)
                .build(),
            _ => delete(G).eq("parent_id", p).eq("child_id", c).build(),
        });
    let owner = || prop::sample::select(&["o1", "o2"][..]);
    let external = || prop::sample::select(&["x1", "x2", "x3"][..]);
    // Mostly keys no upsert takes, so that most moves apply.
    let moved_to = || prop::sample::select(&["x1", "x4", "x5", "x6"][..]);
    let link = prop_oneof![
        3 => (owner(), external(), "[a-z]{0,3}").prop_map(|(o, x, note)| {
            upsert(L, &["instance_id", "owner_id", "external_id"])
                .value("owner_id", o)
                .value("external_id", x)
                .value("note", note)
                .build()
        }),
        1 => (owner(), external()).prop_map(|(o, x)| {
            insert(L).value("owner_id", o).value("external_id", x).build()
        }),
        // A move by the whole key, or of every row of an owner.
        3 => (owner(), external(), moved_to()).prop_map(|(o, from, to)| {
            update(L)
                .set("external_id", to)
                .eq("owner_id", o)
                .eq("external_id", from)
                .build()
        }),
        1 => (owner(), moved_to()).prop_map(|(o, to)| {
            update(L).set("external_id", to).eq("owner_id", o).build()
        }),
        2 => (owner(), external(), "[a-z]{0,3}").prop_map(|(o, x, note)| {
            update(L)
                .set("note", note)
                .eq("owner_id", o)
                .eq("external_id", x)
                .build()
        }),
        1 => owner().prop_map(|o| delete(L).eq("owner_id", o).build()),
        1 => (owner(), external()).prop_map(|(o, x)| {
            delete(L).eq("owner_id", o).eq("external_id", x).build()
        }),
    ];
    // A parent that moves: mostly the latest new row (`new`), which has
    // children only when a step gave it some (they would be left behind:
    // refused), to a key no other step takes.
    let parent_move = (
        prop_oneof![1 => id(), 3 => Just(NEW_ID)],
        prop::sample::select(&["m1", "m2"][..]),
    )
        .prop_map(|(from, to)| update(P).set("id", to).eq("id", from).build());
    prop_oneof![
        4 => insert_row,
        4 => upsert_row,
        4 => update_by_key,
        2 => update_other,
        2 => delete_row,
        3 => child,
        2 => child_change,
        3 => grandchild,
        5 => link,
        1 => parent_move,
    ]
}

/// Every case starts from the parents `IDS` of both tenants, each with a
/// child `c1`, so that most child and grandchild rows find theirs; then
/// random steps.
fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        (
            0..TENANTS.len(),
            mutation(),
            prop::option::weighted(0.5, fields()),
        ),
        1..50,
    )
    .prop_map(|random| {
        // Half the inserts of a new key are changed right away (an update by
        // the key of the fields drawn, or of none: only the stamps).
        let new = Value::Text(NEW_ID.into());
        let random = random.into_iter().flat_map(|(tenant, mutation, change)| {
            let new_row = matches!(&mutation, Mutation::Insert { values, .. }
                if values.iter().any(|c| c.column == "id" && c.value == new));
            let change = change.filter(|_| new_row).map(|fields| {
                let mut u = update(P).eq("id", NEW_ID);
                for (c, v) in fields {
                    u = u.set(c, v);
                }
                Step {
                    tenant,
                    mutation: u.set("sequence", 0).build(),
                }
            });
            std::iter::once(Step { tenant, mutation }).chain(change)
        });
        let mut steps: Vec<Step> = (0..TENANTS.len())
            .flat_map(|tenant| {
                IDS.iter().flat_map(move |id| {
                    [
                        upsert(P, &["instance_id", "id"])
                            .value("id", *id)
                            .value("state", 0)
                            .build(),
                        upsert(C, &["instance_id", "parent_id", "id"])
                            .value("parent_id", *id)
                            .value("id", "c1")
                            .build(),
                    ]
                    .map(|mutation| Step { tenant, mutation })
                })
            })
            .collect();
        steps.extend(random);
        // An insert's `new` is a key no step used before; an update's is the
        // latest such insert's row (its key and tenant).
        let mut latest = (new.clone(), 0);
        for (n, step) in steps.iter_mut().enumerate() {
            match &mut step.mutation {
                Mutation::Insert { values, .. } => {
                    for cell in values.iter_mut() {
                        if cell.column == "id" && cell.value == new {
                            cell.value = Value::Text(format!("n{n}"));
                            latest = (cell.value.clone(), step.tenant);
                        }
                    }
                }
                Mutation::Update { conditions, .. } => {
                    for condition in conditions.iter_mut() {
                        if let projection_sdk::Condition::All(Predicate::Compare {
                            column,
                            value,
                            ..
                        }) = condition
                            && column == "id"
                            && *value == new
                        {
                            *value = latest.0.clone();
                            step.tenant = latest.1;
                        }
                    }
                }
                _ => {}
            }
        }
        steps
    })
}

fn event(tenant: &str, n: usize) -> Event {
    let n = n as i64;
    Event {
        position: format!("{}", 100 + n),
        in_tx_order: 1,
        instance_id: tenant.into(),
        aggregate_type: "thing".into(),
        aggregate_id: "t".into(),
        event_type: "thing.happened".into(),
        sequence: n + 1,
        revision: 1,
        created_at: 1_767_225_600_000_000 + n * 1_000_123,
        payload: None,
        creator: "c".into(),
        owner: "o".into(),
    }
}

/// Run statements in one transaction; the rows of both tables afterwards,
/// or `None` when the database refused a statement. Leaves the tables empty.
async fn outcome(
    db: &Db,
    description: &Description,
    statements: &[host::store::sql::Statement],
) -> Option<Vec<Vec<dump::JsonRow>>> {
    let mut tx = db.begin().await.expect("begin");
    let mut refused = false;
    for statement in statements {
        if tx.execute(statement).await.is_err() {
            refused = true;
            break;
        }
    }
    if refused {
        tx.rollback().await.expect("rollback");
        return None;
    }
    tx.commit().await.expect("commit");
    let mut tables = Vec::new();
    for table in &description.tables {
        tables.push(dump::dump_table(db, table).await.expect("dump"));
    }
    let mut tx = db.begin().await.expect("begin");
    tx.execute_plain(&format!("DELETE FROM \"{G}\""))
        .await
        .expect("clear");
    tx.execute_plain(&format!("DELETE FROM \"{C}\""))
        .await
        .expect("clear");
    tx.execute_plain(&format!("DELETE FROM \"{P}\""))
        .await
        .expect("clear");
    tx.execute_plain(&format!("DELETE FROM \"{L}\""))
        .await
        .expect("clear");
    tx.commit().await.expect("commit");
    Some(tables)
}

/// Which statements apply when each runs in a savepoint of its own, in
/// order (the plain path's fallback); rolled back afterwards.
async fn applied_alone(db: &Db, statements: &[host::store::sql::Statement]) -> Vec<bool> {
    let mut tx = db.begin().await.expect("begin");
    let mut applied = Vec::with_capacity(statements.len());
    for statement in statements {
        tx.execute_plain("SAVEPOINT one").await.expect("savepoint");
        let ok = tx.execute(statement).await.is_ok();
        if !ok {
            tx.execute_plain("ROLLBACK TO SAVEPOINT one")
                .await
                .expect("rollback to savepoint");
        }
        tx.execute_plain("RELEASE SAVEPOINT one")
            .await
            .expect("release");
        applied.push(ok);
    }
    tx.rollback().await.expect("rollback");
    applied
}

#[derive(Default)]
struct Tally {
    applied: usize,
    refused: usize,
    mutations: usize,
    dropped: usize,
    statements_saved: usize,
}

async fn check(
    db: &Db,
    description: &Description,
    steps: Vec<Step>,
    tally: &std::cell::RefCell<Tally>,
) -> Result<(), TestCaseError> {
    let scoped: Vec<Scoped> = steps
        .into_iter()
        .enumerate()
        .filter_map(|(n, step)| {
            validate::scope(description, &event(TENANTS[step.tenant], n), step.mutation).ok()
        })
        .collect();
    let dialect = db.dialect();
    let render = |mutations: &[Scoped]| -> Result<Vec<_>, TestCaseError> {
        mutations
            .iter()
            .map(|m| runtime::render_mutation(description, dialect, m))
            .collect::<Result<_, _>>()
            .map_err(|e| TestCaseError::fail(format!("plain render: {e}")))
    };
    // A statement the database refuses in the plain order changes nothing
    // there: without it, every other one applies and leaves the same rows.
    // So every case compares rows, however many of its random steps break
    // a key or a parent.
    let alone = applied_alone(db, &render(&scoped)?).await;
    let n_drawn = scoped.len();
    let scoped: Vec<Scoped> = scoped
        .into_iter()
        .zip(alone)
        .filter_map(|(m, ok)| ok.then_some(m))
        .collect();
    let plain = render(&scoped)?;
    let merged = runtime::merge_mutations(description, dialect, &scoped)
        .map_err(|e| TestCaseError::fail(format!("merged render: {e}")))?;
    let expected = outcome(db, description, &plain).await;
    let actual = outcome(db, description, &merged).await;
    let mut tally = tally.borrow_mut();
    tally.mutations += scoped.len();
    tally.dropped += n_drawn - scoped.len();
    tally.statements_saved += plain.len() - merged.len().min(plain.len());
    match &expected {
        Some(_) => tally.applied += 1,
        None => tally.refused += 1,
    }
    prop_assert_eq!(
        actual,
        expected,
        "merged statements (left) differ from one statement per mutation (right):\n{:#?}",
        merged.iter().map(|s| &s.sql).collect::<Vec<_>>()
    );
    Ok(())
}

fn merged_path_equals_plain_path(store: Store) {
    let support::Proptest {
        cases,
        seed,
        mut runner,
        rt,
    } = support::proptest_run(256);
    let t = rt.block_on(support::test_db(store));
    let d = description();
    rt.block_on(ddl::install(&t.db, &d, "hash")).unwrap();
    let started = Instant::now();
    let tally = std::cell::RefCell::new(Tally::default());
    let result = runner.run(&steps(), |steps| {
        rt.block_on(check(&t.db, &d, steps, &tally))
    });
    let tally = tally.into_inner();
    println!(
        "{store:?}: {cases} cases in {:.1} s (seed {seed}): {} applied, {} refused by both paths, {} mutations ({} refused alone left out), {} statements saved by merging",
        started.elapsed().as_secs_f64(),
        tally.applied,
        tally.refused,
        tally.mutations,
        tally.dropped,
        tally.statements_saved
    );
    rt.block_on(t.finish());
    if let Err(e) = result {
        panic!("{e} (repeat with PROJECTOR_PROPTEST_SEED={seed})");
    }
    assert_eq!(
        tally.refused, 0,
        "the plain order refused statements that each applied alone"
    );
}

#[test]
fn merged_path_equals_plain_path_on_sqlite() {
    merged_path_equals_plain_path(Store::Sqlite);
}

#[test]
fn merged_path_equals_plain_path_on_postgres() {
    merged_path_equals_plain_path(Store::Postgres);
}

/// A child's rows buffered before its parent's buffer was opened (a child
/// row of an existing parent, then a new parent and its child): the merged
/// statements write the parent first, as one statement per mutation does
/// (the realistic stream met this on every users batch: a human's profile
/// upsert, then a new user and its human).
fn a_child_buffer_opened_first_waits_for_its_parent(store: Store) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let t = rt.block_on(support::test_db(store));
    let d = description();
    rt.block_on(ddl::install(&t.db, &d, "hash")).unwrap();
    let child = |parent: &str, id: &str| {
        upsert(C, &["instance_id", "parent_id", "id"])
            .value("parent_id", parent)
            .value("id", id)
            .build()
    };
    let parent = |id: &str| insert(P).value("id", id).value("state", 0).build();
    let steps = [
        parent("p1"),
        child("p1", "c1"),
        parent("late"),
        child("late", "c2"),
    ];
    let scoped: Vec<Scoped> = steps
        .into_iter()
        .enumerate()
        .map(|(n, m)| validate::scope(&d, &event(TENANTS[0], n), m).unwrap())
        .collect();
    let dialect = t.db.dialect();
    // The first parent in a batch of its own, so the child's buffer opens
    // before the second parent's.
    let first = runtime::merge_mutations(&d, dialect, &scoped[..1]).unwrap();
    let rest = runtime::merge_mutations(&d, dialect, &scoped[1..]).unwrap();
    let plain: Vec<_> = scoped
        .iter()
        .map(|m| runtime::render_mutation(&d, dialect, m).unwrap())
        .collect();
    let merged: Vec<_> = first.into_iter().chain(rest).collect();
    let expected = rt.block_on(outcome(&t.db, &d, &plain));
    assert!(expected.is_some(), "the plain path applies");
    assert_eq!(rt.block_on(outcome(&t.db, &d, &merged)), expected);
    rt.block_on(t.finish());
}

#[test]
fn a_child_buffer_opened_first_waits_for_its_parent_on_sqlite() {
    a_child_buffer_opened_first_waits_for_its_parent(Store::Sqlite);
}

#[test]
fn a_child_buffer_opened_first_waits_for_its_parent_on_postgres() {
    a_child_buffer_opened_first_waits_for_its_parent(Store::Postgres);
}
