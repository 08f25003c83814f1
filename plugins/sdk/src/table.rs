//! A table module: one table and what each event does to it.
//!
//! A family is made of table modules, one per table. Each states its table
//! and then its handlers, `event types → reducer`, in one list: the
//! subscriptions are derived from the handlers, so there is no second list
//! of events to keep in step. The usual fan-out is declared rather than
//! written: [`instance_removed`] deletes the tenant's rows, and
//! [`aggregate_removed`] deletes the rows whose columns hold a removed
//! aggregate's id (an org's, a user's, ...).
//!
//! ```
//! use projection_sdk::{
//!     ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule,
//!     aggregate_removed, insert, instance_removed, on,
//! };
//!
//! const TABLE: &str = "greetings_projection";
//!
//! fn table() -> Table {
//!     Table::new(TABLE)
//!         .column("instance_id", ColumnType::Text)
//!         .column("id", ColumnType::Text)
//!         .column("change_date", ColumnType::Timestamp)
//!         .column("sequence", ColumnType::Int)
//!         .primary_key(&["instance_id", "id"])
//! }
//!
//! fn said(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
//!     Ok(vec![insert(TABLE).value("id", &event.aggregate_id).build()])
//! }
//!
//! const MODULE: TableModule = TableModule::new(TABLE, table, &[
//!     on("greeting", &["greeting.said"], said),
//!     aggregate_removed("greeting", &["greeting.withdrawn"], &["id"]),
//!     instance_removed(),
//! ]);
//!
//! let described = MODULE.subscribe(projection_sdk::Description::new("greetings", "0.1.0"));
//! assert!(described.wants("greeting", "greeting.withdrawn"));
//! assert!(described.wants("instance", "instance.removed"));
//! ```
//!
//! Handlers dispatch on the event type alone (the reference's cases send
//! some events under other aggregate types); the aggregate type only says
//! what to subscribe to. Within a module the first handler that takes an
//! event type runs; [`describe_tables`] and [`handle_tables`] (which
//! [`family!`](crate::family) uses) make a family of modules.

use projection_model::validate::TENANT_COLUMN;
use projection_model::{Description, Event, Mutation, ProjectionError, Table, delete};

use crate::Context;

/// A reducer: the mutations one event makes on the table, in the order they
/// must apply (none is a valid answer: the event is handled and changes
/// nothing).
pub type Reducer = fn(&Event, &Context<'_>) -> Result<Vec<Mutation>, ProjectionError>;

/// What a table makes of one event: `None` when no handler of the table
/// takes it.
pub type Reduced = Result<Option<Vec<Mutation>>, ProjectionError>;

/// Event types of one aggregate type and what they do to a table.
#[derive(Debug, Clone, Copy)]
pub struct Handler {
    aggregate_type: &'static str,
    event_types: &'static [&'static str],
    also: Option<fn(&str) -> bool>,
    action: Action,
}

/// What a handler does.
#[derive(Debug, Clone, Copy)]
enum Action {
    /// Run a reducer.
    Reduce(Reducer),
    /// Delete the rows where each column (one delete per column, in order)
    /// holds the event's aggregate id.
    DeleteAggregate(&'static [&'static str]),
    /// Delete the rows of the event's tenant.
    DeleteTenant,
}

/// `event_types` of `aggregate_type` are reduced by `reduce`.
pub const fn on(
    aggregate_type: &'static str,
    event_types: &'static [&'static str],
    reduce: Reducer,
) -> Handler {
    Handler {
        aggregate_type,
        event_types,
        also: None,
        action: Action::Reduce(reduce),
    }
}

/// `instance.removed` deletes the rows of the event's tenant
/// (`instance_id`).
pub const fn instance_removed() -> Handler {
    Handler {
        aggregate_type: "instance",
        event_types: &["instance.removed"],
        also: None,
        action: Action::DeleteTenant,
    }
}

/// `event_types` of `aggregate_type` remove the aggregate: delete the rows
/// whose `columns` hold its id, one delete per column, in order (for an
/// org: `&["resource_owner"]`; for a user: `&["user_id"]`).
pub const fn aggregate_removed(
    aggregate_type: &'static str,
    event_types: &'static [&'static str],
    columns: &'static [&'static str],
) -> Handler {
    Handler {
        aggregate_type,
        event_types,
        also: None,
        action: Action::DeleteAggregate(columns),
    }
}

impl Handler {
    /// Also take the event types `matches` accepts, without subscribing to
    /// them (the reference reduces some events whatever a segment of their
    /// type says, while the family subscribes to one form).
    pub const fn or_matching(mut self, matches: fn(&str) -> bool) -> Handler {
        self.also = Some(matches);
        self
    }

    /// The aggregate type subscribed to.
    pub fn aggregate_type(&self) -> &'static str {
        self.aggregate_type
    }

    /// The event types subscribed to.
    pub fn event_types(&self) -> &'static [&'static str] {
        self.event_types
    }

    /// Whether the handler takes events of this type.
    pub fn takes(&self, event_type: &str) -> bool {
        self.event_types.contains(&event_type) || self.also.is_some_and(|m| m(event_type))
    }

    /// The mutations of `event` on `table`.
    fn run(
        &self,
        table: &str,
        event: &Event,
        ctx: &Context<'_>,
    ) -> Result<Vec<Mutation>, ProjectionError> {
        match self.action {
            Action::Reduce(reduce) => reduce(event, ctx),
            Action::DeleteAggregate(columns) => Ok(columns
                .iter()
                .map(|column| delete(table).eq(column, &event.aggregate_id).build())
                .collect()),
            Action::DeleteTenant => Ok(vec![
                delete(table).eq(TENANT_COLUMN, &event.instance_id).build(),
            ]),
        }
    }
}

/// One table of a family: its name, its declaration and its handlers.
#[derive(Debug, Clone, Copy)]
pub struct TableModule {
    name: &'static str,
    table: fn() -> Table,
    handlers: &'static [Handler],
}

impl TableModule {
    /// The table `name`, declared by `table`, and its handlers in order.
    pub const fn new(
        name: &'static str,
        table: fn() -> Table,
        handlers: &'static [Handler],
    ) -> TableModule {
        TableModule {
            name,
            table,
            handlers,
        }
    }

    /// The table's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The table's declaration.
    pub fn table(&self) -> Table {
        (self.table)()
    }

    /// The handlers, in order.
    pub fn handlers(&self) -> &'static [Handler] {
        self.handlers
    }

    /// Add the subscriptions of the handlers, in handler order.
    pub fn subscribe(&self, description: Description) -> Description {
        self.handlers
            .iter()
            .filter(|h| !h.event_types.is_empty())
            .fold(description, |d, h| {
                d.subscribe(h.aggregate_type, h.event_types)
            })
    }

    /// Run the first handler that takes the event; `None` when none does.
    pub fn reduce(&self, event: &Event, ctx: &Context<'_>) -> Reduced {
        match self.handlers.iter().find(|h| h.takes(&event.event_type)) {
            Some(handler) => handler.run(self.name, event, ctx).map(Some),
            None => Ok(None),
        }
    }
}

/// Describe a family made of `modules`: their tables in order, then their
/// subscriptions.
pub fn describe_tables(name: &str, version: &str, modules: &[TableModule]) -> Description {
    let described = modules
        .iter()
        .fold(Description::new(name, version), |d, m| {
            let table = m.table();
            debug_assert_eq!(table.name, m.name, "a table module names another table");
            d.table(table)
        });
    modules.iter().fold(described, |d, m| m.subscribe(d))
}

/// Run every table's handlers in order and join their mutations; an event
/// no table takes is [`Event::unhandled`].
pub fn handle_tables(
    modules: &[TableModule],
    event: &Event,
    ctx: &Context<'_>,
) -> Result<Vec<Mutation>, ProjectionError> {
    let mut handled = false;
    let mut mutations = Vec::new();
    for module in modules {
        if let Some(more) = module.reduce(event, ctx)? {
            handled = true;
            mutations.extend(more);
        }
    }
    if handled {
        Ok(mutations)
    } else {
        Err(event.unhandled())
    }
}

#[cfg(test)]
mod tests;
