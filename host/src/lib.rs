//! The projector runtime: a host that streams events, in global order, to
//! sandboxed WASM projection plugins (one per table family), validates the
//! row mutations they return and applies them, with the family's checkpoint,
//! in one transaction.
//!
//! - [`source`]: the event store (`events2`): ordered batches, look-ups, import.
//! - [`event_order`]: the global event order, in SQL and in Rust.
//! - [`plugin`]: loading, caching and calling WASM components in a sandbox.
//! - [`store`]: SQLite and PostgreSQL; DDL from plugin descriptions, SQL
//!   rendering, checkpoints and failed events.
//! - [`runtime`]: the replay loop and the batch transaction.
//! - [`metrics`]: `run`'s Prometheus metrics, `/livez` and `/readyz`.
//! - [`check`]: conformance case files run against installed plugins.
//! - [`cli`]: the `projector` command line.
//!
//! See `ARCHITECTURE.md` for the invariants and where each is enforced.

pub mod check;
pub mod cli;
pub mod config;
pub mod event_order;
pub mod metrics;
pub mod plugin;
pub mod runtime;
pub mod source;
pub mod store;
pub mod telemetry;
pub mod time;
