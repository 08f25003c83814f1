//! A family as a list of table modules.
//!
//! The natural shape of a family is one module per table, each offering its
//! declaration, its subscriptions and a reducer that answers `None` for
//! events the table ignores. [`table_modules!`](crate::table_modules) lists
//! them; [`describe_tables`] and [`handle_tables`] implement [`crate::Family`]
//! on top:
//!
//! ```text
//! const TABLES: [TableModule; 2] = projection_sdk::table_modules!(org, domain);
//!
//! impl Family for Orgs {
//!     fn describe() -> Description { describe_tables("orgs", "0.1.0", &TABLES) }
//!     fn handle(event: &Event, ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
//!         handle_tables(&TABLES, event, ctx)
//!     }
//! }
//! ```

use crate::{Context, Description, Event, Mutation, ProjectionError, Table};

/// What a table's reducer makes of one event: `None` when the table ignores it.
pub type Reduced = Result<Option<Vec<Mutation>>, ProjectionError>;

/// One table of a family.
#[derive(Debug, Clone, Copy)]
pub struct TableModule {
    /// The table's declaration.
    pub table: fn() -> Table,
    /// Adds the table's subscriptions.
    pub subscribe: fn(Description) -> Description,
    /// The table's reducer.
    pub reduce: fn(&Event, &Context<'_>) -> Reduced,
}

/// The [`TableModule`]s of modules that each offer `table`, `subscribe` and
/// `reduce`, in the order given.
#[macro_export]
macro_rules! table_modules {
    ($($module:ident),* $(,)?) => {
        [$($crate::TableModule {
            table: $module::table,
            subscribe: $module::subscribe,
            reduce: $module::reduce,
        }),*]
    };
}

/// Describe a family made of `modules`: their tables in order, then their
/// subscriptions.
pub fn describe_tables(name: &str, version: &str, modules: &[TableModule]) -> Description {
    let described = modules
        .iter()
        .fold(Description::new(name, version), |d, m| d.table((m.table)()));
    modules.iter().fold(described, |d, m| (m.subscribe)(d))
}

/// Run every table's reducer in order and join their mutations; an event
/// no table takes is [`Event::unhandled`].
pub fn handle_tables(
    modules: &[TableModule],
    event: &Event,
    ctx: &Context<'_>,
) -> Result<Vec<Mutation>, ProjectionError> {
    let mut handled = false;
    let mut mutations = Vec::new();
    for module in modules {
        if let Some(more) = (module.reduce)(event, ctx)? {
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
