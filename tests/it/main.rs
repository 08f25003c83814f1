//! Integration tests: real SQLite files and a real PostgreSQL server, the
//! real plugins built for wasm32-wasip2, and hostile test plugins.

#![allow(unreachable_pub, clippy::unwrap_used)]

mod appliers;
mod bench;
mod bluegreen;
mod cache;
mod check;
mod cli;
mod collation;
mod crash;
mod differential;
mod distributed;
mod failed;
mod fastpath;
mod hostile;
mod hosts;
mod import;
mod isolation;
mod live;
mod lookahead;
mod merged;
mod metrics;
mod mutations;
mod online;
mod ownership;
mod pause;
mod policies;
mod replay;
mod staged;
mod support;
mod swap;
mod system;
mod transient;
mod verify;
mod views;
mod windows;
mod zitadel;
