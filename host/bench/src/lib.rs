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
//!   tenant);
//! - [`cli`]: the `projector-bench` command line.

pub mod barrier;
pub mod ceiling;
pub mod cli;
pub mod live;
pub mod online;
pub mod realistic;
pub mod scratch;
pub mod sessions;
pub mod stream;
pub mod throughput;
