//! Write projector table families in plain Rust.
//!
//! A *family* is one plugin plus the tables it owns. It describes its tables
//! and subscriptions, and turns each event into an ordered list of row
//! mutations. The same crate builds as a WASM component for the host
//! (`cargo build --target wasm32-wasip2`) and natively, so its logic is tested
//! with plain `cargo test`, without WASM and without a database.
//!
//! ```
//! use projection_sdk::{ColumnType, Context, Description, Event, Family, Mutation,
//!     ProjectionError, Table, insert};
//!
//! struct Greetings;
//!
//! impl Family for Greetings {
//!     fn describe() -> Description {
//!         Description::new("greetings", "0.1.0")
//!             .table(Table::new("greetings_projection")
//!                 .column("instance_id", ColumnType::Text)
//!                 .column("id", ColumnType::Text)
//!                 .column("text", ColumnType::Text)
//!                 .column("change_date", ColumnType::Timestamp)
//!                 .column("sequence", ColumnType::Int)
//!                 .primary_key(&["instance_id", "id"]))
//!             .subscribe("greeting", &["greeting.said"])
//!     }
//!
//!     fn handle(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
//!         match event.event_type.as_str() {
//!             "greeting.said" => {
//!                 let text = event.payload()?.text_or_empty("text")?;
//!                 Ok(vec![insert("greetings_projection")
//!                     .value("id", &event.aggregate_id)
//!                     .value("text", text)
//!                     .build()])
//!             }
//!             _ => Err(event.unhandled()),
//!         }
//!     }
//! }
//!
//! projection_sdk::export!(Greetings);
//! ```
//!
//! The host adds the tenant scope and the change stamps; see [`validate`].

mod b64;
pub mod conformance;
mod event;
mod model;
mod mutation;
mod tables;
pub mod testing;
pub mod validate;
pub(crate) mod view;

#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod wasm;

pub use event::{Event, Payload};
pub use model::*;
pub use mutation::{
    CopyBuilder, DeleteBuilder, RowBuilder, UpdateBuilder, copy, delete, insert, update, upsert,
};
pub use tables::{Reduced, TableModule, describe_tables, handle_tables};
pub use view::{ExprRef, Join, View, ViewColumn, ViewError, ViewExpr, check_view, view_shape};

/// The version of the WIT contract this SDK builds against.
pub const CONTRACT_VERSION: &str = "0.2.0";

/// A table family: tables, subscriptions and the event handler.
pub trait Family {
    /// Describe the family's tables and subscriptions.
    fn describe() -> Description;

    /// Turn one event into mutations, in the order they must apply.
    ///
    /// Return [`Event::unhandled`] for an event type the family does not handle.
    fn handle(event: &Event, ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError>;
}

/// Answers event look-ups: stored events of the current tenant before the
/// current event, oldest first.
pub trait Lookup {
    /// Events that pass `filter`.
    fn find_events(&self, filter: &EventFilter) -> Vec<Event>;
}

/// A look-up that finds nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEvents;

impl Lookup for NoEvents {
    fn find_events(&self, _filter: &EventFilter) -> Vec<Event> {
        Vec::new()
    }
}

/// A look-up over events held in memory (tests, the conformance harness).
#[derive(Debug, Default, Clone)]
pub struct EventList(pub Vec<Event>);

impl Lookup for EventList {
    fn find_events(&self, filter: &EventFilter) -> Vec<Event> {
        self.0
            .iter()
            .filter(|e| filter.matches(e))
            .cloned()
            .collect()
    }
}

/// What a handler may use besides the event.
pub struct Context<'a> {
    lookup: &'a dyn Lookup,
}

impl<'a> Context<'a> {
    /// A context whose look-ups go to `lookup`.
    pub fn new(lookup: &'a dyn Lookup) -> Context<'a> {
        Context { lookup }
    }

    /// Stored events of the current tenant before the current event that
    /// match `filter`, oldest first.
    pub fn find_events(&self, filter: &EventFilter) -> Vec<Event> {
        self.lookup.find_events(filter)
    }
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").finish_non_exhaustive()
    }
}

/// Write a line to the host's log (a no-op natively).
pub fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    wasm::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (level, message);
}

/// Export a [`Family`] as the plugin's implementation of the contract.
///
/// Natively this expands to nothing, so the same crate also builds and
/// tests as an ordinary library.
#[macro_export]
macro_rules! export {
    ($family:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct __ProjectionExport;
            impl $crate::wasm::bindings::exports::projector::projection::family::Guest
                for __ProjectionExport
            {
                fn describe() -> $crate::wasm::bindings::projector::projection::types::Description {
                    $crate::wasm::describe::<$family>()
                }
                fn handle(
                    events: ::std::vec::Vec<$crate::wasm::bindings::projector::projection::types::Event>,
                ) -> ::std::vec::Vec<$crate::wasm::bindings::projector::projection::types::Outcome> {
                    $crate::wasm::handle::<$family>(events)
                }
            }
            $crate::wasm::bindings::__export_plugin!(__ProjectionExport with_types_in $crate::wasm::bindings);
        };
    };
}
