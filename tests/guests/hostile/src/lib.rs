//! A plugin that tries to break the host's rules, one way per event type.
//!
//! Family `hostile` owns `hostile_projection`. `hostile.ok` inserts a row as a
//! well-behaved plugin would; every other event type tries something the host
//! must refuse before any SQL runs (or that the database refuses), or breaks
//! the sandbox's limits: an endless loop, unbounded allocation, an enormous
//! output, a panic.

use projection_sdk::{
    ColumnType, Context, Description, Event, Family, Mutation, ProjectionError, Table, Value,
    insert,
};

/// The misbehaving family.
pub struct Hostile;

const TABLE: &str = "hostile_projection";

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
                ],
            )
    }

    fn handle(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
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
            _ => return Err(event.unhandled()),
        })
    }
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
