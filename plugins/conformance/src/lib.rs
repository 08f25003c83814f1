//! Conformance cases for projector families: parse, run natively, compare.
//!
//! A case (one line of a `<family>.jsonl` file, see the cases' README) pairs
//! an event with the row mutations the reference system writes for it. A
//! family conforms when, for every case of its tables, what the host would
//! write for the event (after scoping and stamping it) equals the case's
//! `effects`.
//!
//! - [`parse_cases`] / [`load_cases`] read case files into [`Case`]s;
//! - [`handler_tables`] says which family and tables a case's prefix means;
//! - [`compare`] checks an outcome against a case, with a readable [`Diff`];
//! - [`run_native`] does all of it for a [`Family`](projection_sdk::Family)
//!   in a plain `cargo test`; [`passes!`] is a family's whole conformance
//!   test, over the case files vendored in the repository's
//!   `tests/conformance/`.
//!
//! The host's `projector check` runs the same cases through the WASM path.
//! Families use this crate as a dev-dependency, so a plugin never carries it.
//!
//! ```no_run
//! # use projection_sdk::{Description, Event, Context, Mutation, ProjectionError, Family};
//! # struct Orgs;
//! # impl Family for Orgs {
//! #     fn describe() -> Description { Description::new("orgs", "0.1.0") }
//! #     fn handle(e: &Event, _: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
//! #         Err(e.unhandled())
//! #     }
//! # }
//! use projection_conformance::{load_cases, run_native};
//!
//! let cases = load_cases("../../cases".as_ref()).expect("case files");
//! let report = run_native::<Orgs>(&cases);
//! assert!(report.all_passed(), "{report}");
//! ```

mod case;
mod compare;
mod effect;
mod expect;
mod harness;
mod matching;
mod render;
mod tables;
mod vendored;

pub use case::{Case, CaseError, FIXED_CREATED_AT, load_cases, parse_cases};
pub use compare::{Diff, compare};
pub use expect::{ConditionOp, Effect, Expected, ExpectedCondition, Op};
pub use harness::{Report, run_native};
pub use tables::handler_tables;
pub use vendored::{assert_passes, vendored_dir};

#[cfg(test)]
mod tests;
