//! The projector plugin contract in plain Rust, shared by the host and the
//! plugins.
//!
//! These types mirror `wit/projection.wit` one to one: what a family
//! declares ([`Description`]: tables, views, subscriptions), the events it
//! reads ([`Event`], [`Payload`]) and the row mutations it returns
//! ([`Mutation`], built with [`insert`], [`update`], ...). With them come the
//! checks the host applies to a plugin's output before any SQL exists
//! ([`validate::scope`], [`check_view`]), so a family tested natively is
//! held to the same rules as in production.
//!
//! Nothing here knows about WebAssembly; plugins reach these types through
//! `projection-sdk`, which re-exports them.

mod b64;
mod builder;
mod error;
mod event;
mod mutation;
mod schema;
pub mod time;
pub mod validate;
mod value;
mod view;

pub use builder::{
    CopyBuilder, DeleteBuilder, RowBuilder, UpdateBuilder, copy, delete, insert, update, upsert,
};
pub use error::{Level, ProjectionError};
pub use event::{Event, EventFilter, Payload};
pub use mutation::{
    Assignment, Cell, ColumnOp, CompareOp, Condition, CopyColumn, CopySource, Mutation, Predicate,
    RowSide, UpdateWhen,
};
pub use schema::{
    Column, Description, Generated, Index, IndexExpression, IndexKey, Subscription, Table, lower,
    sha256,
};
pub use value::{ColumnType, Value};
pub use view::{ExprRef, Join, View, ViewColumn, ViewError, ViewExpr, check_view, view_shape};
