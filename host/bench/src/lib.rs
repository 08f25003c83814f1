//! `projector-bench`: measurements of the projector host, each on a scratch
//! database of its own (see [`scratch`]), so no bench touches existing data.
//!
//! - [`throughput`]: replay throughput of the users family four ways, with
//!   [`stream`] (the generated events) and [`ceiling`] (PostgreSQL projecting
//!   the same rows set-based);
//! - [`live`]: commit-to-projected-row latency while following;
//! - [`barrier`]: what the read barrier adds per batch;
//! - [`sessions`]: the sessions family's replay throughput next to the users
//!   family's;
//! - [`online`]: a rebuild in place against the same version built aside and
//!   cut over (with a reader's waits), and `verify`;
//! - [`realistic`]: every family on the realistic stream: the full path,
//!   the same on several workers, and the reference's way per (family,
//!   tenant); the first two each in a [`child`] process, for their own
//!   peak RSS;
//! - [`cli`]: the `projector-bench` command line;
//! - [`error`]: what a bench fails on.

pub mod barrier;
pub mod ceiling;
pub mod child;
pub mod cli;
pub mod error;
pub mod live;
pub mod online;
pub mod realistic;
pub mod scratch;
pub mod sessions;
pub mod stream;
pub mod throughput;
