//! Resolved settings: where the database, the plugins and the compile cache are.
//!
//! Defaults keep everything under `.projector/` in the working directory:
//! the SQLite database `.projector/projector.db`, plugins in
//! `.projector/plugins/*.wasm`, compiled artefacts in `.projector/cache/`.
//! On PostgreSQL the families' tables go to schema `public` unless
//! `--schema` names another.

use std::path::PathBuf;

use crate::plugin::Limits;

/// The default database URL (an SQLite file).
pub const DEFAULT_DATABASE_URL: &str = "sqlite://.projector/projector.db";
/// The default plugin directory.
pub const DEFAULT_PLUGIN_DIR: &str = ".projector/plugins";
/// The default compile cache directory.
pub const DEFAULT_CACHE_DIR: &str = ".projector/cache";

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Database URL.
    pub database_url: String,
    /// PostgreSQL schema of the families' tables and views (ignored on SQLite).
    pub schema: String,
    /// Plugin directory.
    pub plugin_dir: PathBuf,
    /// Compile cache (none: compile every time).
    pub cache_dir: Option<PathBuf>,
    /// Sandbox limits.
    pub limits: Limits,
}
