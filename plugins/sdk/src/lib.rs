//! Write projector table families in plain Rust.
//!
//! A *family* is one plugin plus the tables it owns. Each table is a module
//! that states its table and its handlers (`event types → reducer`, with
//! the usual removals declared); [`family!`] makes the modules a family and,
//! for `wasm32`, exports it. The same crate builds as a WASM component for
//! the host (`cargo build --target wasm32-wasip2`) and natively, so its
//! logic is tested with plain `cargo test`, without WASM and without a
//! database.
//!
//! ```
//! mod greeting {
//!     use projection_sdk::{
//!         ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule,
//!         aggregate_removed, insert, instance_removed, on,
//!     };
//!
//!     pub(crate) const TABLE: &str = "greetings_projection";
//!
//!     pub(crate) const MODULE: TableModule = TableModule::new(TABLE, table, &[
//!         on("greeting", &["greeting.said"], said),
//!         aggregate_removed("greeting", &["greeting.withdrawn"], &["id"]),
//!         instance_removed(),
//!     ]);
//!
//!     fn table() -> Table {
//!         Table::new(TABLE)
//!             .column("instance_id", ColumnType::Text)
//!             .column("id", ColumnType::Text)
//!             .column("text", ColumnType::Text)
//!             .column("change_date", ColumnType::Timestamp)
//!             .column("sequence", ColumnType::Int)
//!             .primary_key(&["instance_id", "id"])
//!     }
//!
//!     fn said(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
//!         let text = event.payload()?.text_or_empty("text")?;
//!         Ok(vec![insert(TABLE).value("id", &event.aggregate_id).value("text", text).build()])
//!     }
//! }
//!
//! projection_sdk::family! {
//!     /// The greetings table family.
//!     Greetings, name: "greetings", version: "0.1.0", tables: [greeting]
//! }
//!
//! use projection_sdk::{Context, Family, NoEvents, insert, testing::event};
//!
//! let said = event("greeting", "greeting.said", Some(r#"{"text":"hello"}"#));
//! let expected = insert("greetings_projection").value("id", "agg-id").value("text", "hello");
//! assert_eq!(Greetings::handle(&said, &Context::new(&NoEvents)), Ok(vec![expected.build()]));
//! assert!(Greetings::describe().wants("instance", "instance.removed"));
//! ```
//!
//! Member tables (who belongs to an instance, an org, a project, ...) share
//! their columns and handlers; [`member`] declares them from what differs.
//!
//! Policy tables (one row of settings per owner: the instance's default or
//! an org's own) share theirs too; [`policy`] declares them from the
//! policy's event-type stem, its settings (payload fields and their
//! columns) and how its shared columns differ.
//!
//! The contract's types, the mutation builders and the host's checks come
//! from `projection-model` and are re-exported here; the host adds the
//! tenant scope and the change stamps (see [`validate`]). A family's
//! conformance test uses `projection-conformance`, a dev-dependency; the
//! assertions its own tests share (description, unknown events,
//! `instance.removed`, the host's checks) are in [`testing`].

mod context;
mod family;
pub mod member;
pub mod policy;
mod table;
pub mod testing;

#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod wasm;

pub use context::{Context, EventList, Lookup, NoEvents};
pub use family::Family;
pub use projection_model::*;
pub use table::{
    Handler, Reduced, Reducer, TableModule, aggregate_removed, describe_tables, handle_tables,
    instance_removed, on,
};

/// The version of the WIT contract this SDK builds against.
pub const CONTRACT_VERSION: &str = "0.2.0";

/// Write a line to the host's log (a no-op natively).
pub fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    wasm::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (level, message);
}

/// The repository's README, whose family example is compiled and run as a
/// doctest here.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
mod readme {}
