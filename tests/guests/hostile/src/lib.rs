//! A plugin that tries to break the host's rules, one way per event type.
//!
//! Family `hostile` owns `hostile_projection`. `hostile.ok` inserts a row as a
//! well-behaved plugin would; every other event type tries something the host
//! must refuse before any SQL runs (or that the database refuses), stores a
//! value one store would keep and the other refuse (NUL in text, a time out
//! of range), writes the system-scoped `hostile_settings_projection` from a
//! tenant's event, or breaks
//! the sandbox's limits: an endless loop, unbounded allocation, deep
//! recursion, an enormous output or value, a panic, a flood of look-ups.
//! `hostile.lookup_all` is well-behaved: it counts the tenant's `bulk`
//! events (which the host refuses to answer past its look-up cap).
//! `hostile.lookup_shifting` looks up another `bulk` aggregate at every
//! call (it keeps a count across calls), and `hostile.lookup_chain` picks
//! its second look-up by its first's answer: look-ups answered ahead must
//! still be the answers to the look-ups the call makes.
//! `hostile.lookup_or_panic` panics when its look-up finds nothing, as a
//! probe's look-ups do.

use projection_sdk::{
    ColumnType, Context, Description, Event, EventFilter, Family, Mutation, ProjectionError, Table,
    Value, delete, insert, update,
};

/// The misbehaving family.
pub struct Hostile;

const TABLE: &str = "hostile_projection";
/// A system-scoped table (no `instance_id`): no tenant's event may write it.
const SYSTEM_TABLE: &str = "hostile_settings_projection";

impl Family for Hostile {
    fn describe() -> Description {
        Description::new("hostile", "0.1.0")
            .table(
                Table::new(TABLE)
                    .column("instance_id", ColumnType::Text)
                    .column("id", ColumnType::Text)
                    .column("n", ColumnType::Int)
                    .column("change_date", ColumnType::Timestamp)
                    .column("sequence", ColumnType::Int)
                    .primary_key(&["instance_id", "id"]),
            )
            .table(
                Table::new(SYSTEM_TABLE)
                    .column("key", ColumnType::Text)
                    .column("value", ColumnType::Text)
                    .primary_key(&["key"]),
            )
            .subscribe(
                "hostile",
                &[
                    "hostile.ok",
                    "hostile.foreign_table",
                    "hostile.other_tenant",
                    "hostile.undeclared_column",
                    "hostile.wrong_type",
                    "hostile.partial",
                    "hostile.duplicate",
                    "hostile.error",
                    "hostile.loop",
                    "hostile.oom",
                    "hostile.huge",
                    "hostile.panic",
                    "hostile.stack_overflow",
                    "hostile.big_value",
                    "hostile.lookup_loop",
                    "hostile.lookup_all",
                    "hostile.lookup_shifting",
                    "hostile.lookup_chain",
                    "hostile.lookup_or_panic",
                    "hostile.tenant_case",
                    "hostile.tenant_spaces",
                    "hostile.update_tenant",
                    "hostile.delete_other_tenant",
                    "hostile.sql_column",
                    "hostile.nul_text",
                    "hostile.time_out_of_range",
                    "hostile.system_table",
                ],
            )
    }

    fn handle(event: &Event, ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
        let row = |id: &str| insert(TABLE).value("id", id).value("n", 1);
        let own = || row(&format!("{}-{}", event.aggregate_id, event.sequence));
        Ok(match event.event_type.as_str() {
            "hostile.ok" => vec![own().build()],
            "hostile.foreign_table" => vec![
                insert("orgs_projection")
                    .value("id", "stolen")
                    .value("name", "stolen")
                    .build(),
            ],
            "hostile.other_tenant" => vec![own().value("instance_id", "someone-else").build()],
            "hostile.undeclared_column" => vec![own().value("secret", "x").build()],
            "hostile.wrong_type" => vec![
                insert(TABLE)
                    .value("id", "typed")
                    .value("n", Value::Text("one".into()))
                    .build(),
            ],
            // A valid mutation first, then a refused one: neither may apply.
            "hostile.partial" => vec![
                own().build(),
                insert("orgs_projection").value("id", "stolen").build(),
            ],
            // Valid to the validator, refused by the database (primary key).
            "hostile.duplicate" => vec![row("dup").build(), row("dup").build()],
            "hostile.error" => return Err(ProjectionError::Failed("refusing on purpose".into())),
            "hostile.loop" => spin(),
            "hostile.oom" => hoard(),
            "hostile.huge" => vec![row("huge").build(); 10_001],
            "hostile.panic" => panic!("hostile plugin panics on purpose"),
            "hostile.stack_overflow" => vec![row(&recurse(u64::MAX).to_string()).build()],
            // One text value of 64 MiB, built in place (no second copy).
            // Writing it costs more fuel than one event has (a byte of a
            // bulk memory operation costs one); a batch call, whose fuel is
            // shared, gets as far as the output cap.
            "hostile.big_value" => vec![
                insert(TABLE)
                    .value("id", "x".repeat(BIG_VALUE_BYTES))
                    .value("n", 1)
                    .build(),
            ],
            "hostile.lookup_loop" => {
                for _ in 0..LOOKUP_LOOP {
                    std::hint::black_box(ctx.find_events(&filter("hostile")));
                }
                vec![own().build()]
            }
            "hostile.lookup_all" => {
                let found = ctx.find_events(&filter("bulk")).len();
                vec![
                    insert(TABLE)
                        .value("id", format!("{}-{}", event.aggregate_id, event.sequence))
                        .value("n", Value::Int(found as i64))
                        .build(),
                ]
            }
            // n = k * 1000 + the `bulk` events of aggregate `b{k % 3}`, k
            // counting this plugin's calls of the event type.
            "hostile.lookup_shifting" => {
                let k = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let found = ctx.find_events(&bulk(&format!("b{}", k % 3))).len() as i64;
                vec![row_n(event, k as i64 * 1000 + found)]
            }
            // n = first * 1000 + second: `first` counts aggregate `b0`,
            // `second` aggregate `b{first % 3}`.
            "hostile.lookup_chain" => {
                let first = ctx.find_events(&bulk("b0")).len();
                let second = ctx.find_events(&bulk(&format!("b{}", first % 3))).len();
                vec![row_n(event, first as i64 * 1000 + second as i64)]
            }
            "hostile.lookup_or_panic" => {
                let found = ctx.find_events(&bulk("b0")).len();
                assert!(found > 0, "aggregate b0 has no events");
                vec![row_n(event, found as i64)]
            }
            "hostile.tenant_case" => {
                vec![
                    own()
                        .value("instance_id", event.instance_id.to_uppercase())
                        .build(),
                ]
            }
            "hostile.tenant_spaces" => {
                vec![
                    own()
                        .value("instance_id", format!(" {} ", event.instance_id))
                        .build(),
                ]
            }
            "hostile.update_tenant" => vec![
                update(TABLE)
                    .set("instance_id", "someone-else")
                    .eq("id", "h-1")
                    .build(),
            ],
            "hostile.delete_other_tenant" => vec![
                delete(TABLE)
                    .eq("instance_id", "someone-else")
                    .eq("id", "h-1")
                    .build(),
            ],
            "hostile.sql_column" => vec![own().value(SQL_COLUMN, "x").build()],
            "hostile.nul_text" => vec![row("nul\0byte").build()],
            "hostile.time_out_of_range" => vec![
                update(TABLE)
                    .set("change_date", Value::Timestamp(i64::MAX))
                    .no_bump()
                    .eq("id", "h-1")
                    .build(),
            ],
            "hostile.system_table" => vec![
                insert(SYSTEM_TABLE)
                    .value("key", "login_v2")
                    .value("value", "taken over")
                    .build(),
            ],
            _ => return Err(event.unhandled()),
        })
    }
}

/// Bytes of the text value `hostile.big_value` returns.
pub const BIG_VALUE_BYTES: usize = 64 << 20;
/// Look-ups `hostile.lookup_loop` makes for one event.
pub const LOOKUP_LOOP: usize = 5_000;
/// The column name `hostile.sql_column` writes.
pub const SQL_COLUMN: &str = "id\"; DROP TABLE x; --";

/// Calls of `hostile.lookup_shifting` so far.
static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// This event's row with `n`.
fn row_n(event: &Event, n: i64) -> Mutation {
    insert(TABLE)
        .value("id", format!("{}-{}", event.aggregate_id, event.sequence))
        .value("n", Value::Int(n))
        .build()
}

/// The `bulk.added` events of one `bulk` aggregate.
fn bulk(id: &str) -> EventFilter {
    EventFilter {
        aggregate_type: "bulk".to_owned(),
        aggregate_ids: vec![id.to_owned()],
        event_types: vec!["bulk.added".to_owned()],
    }
}

fn filter(aggregate_type: &str) -> EventFilter {
    EventFilter {
        aggregate_type: aggregate_type.to_owned(),
        aggregate_ids: Vec::new(),
        event_types: Vec::new(),
    }
}

/// Recurses until the call stack runs out (the result keeps every frame).
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    if depth == 0 {
        return 0;
    }
    let below = recurse(std::hint::black_box(depth - 1));
    std::hint::black_box(below).wrapping_add(depth)
}

/// Never returns: only the fuel or time limit stops it.
fn spin() -> ! {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

/// Allocates until the memory cap stops it.
fn hoard() -> Vec<Mutation> {
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    loop {
        chunks.push(std::hint::black_box(Vec::with_capacity(1 << 24)));
    }
}

projection_sdk::export!(Hostile);
