//! The `projector` command line: parse flags, resolve them into a
//! [`Config`], dispatch to one command. One module per command group; the
//! shared helpers (opening the database, loading the plugins) are here.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand};

use crate::config::{Config, DEFAULT_CACHE_DIR, DEFAULT_DATABASE_URL, DEFAULT_PLUGIN_DIR};
use crate::plugin::registry;
use crate::plugin::{Limits, Plugin};
use crate::store::Db;

/// Print a line to stdout; a closed pipe ends the command quietly (see `main`).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)?;
    }};
}

mod check;
mod events;
mod failed;
mod family;
mod follow;
mod plugin;
mod replay;
mod show;
mod status;
mod verify;

pub use events::EventsCommand;
pub use failed::FailedCommand;
pub use family::FamilyCommand;
pub use follow::RunArgs;
pub use plugin::PluginCommand;
pub use replay::ReplayArgs;
pub use verify::VerifyArgs;

/// Multi-tenant read models from an event store, one sandboxed WASM plugin per table family.
#[derive(Debug, Parser)]
#[command(name = "projector", version, about)]
pub struct Cli {
    /// Database URL: `sqlite://FILE` (the default) or `postgres://...`.
    #[arg(long, global = true, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// PostgreSQL schema for the families' tables and views (created if
    /// missing); the host's own tables are in schema `projector`, the event
    /// store in `eventstore`. Ignored on SQLite, which has one namespace
    /// (there the reserved `projector_` names keep the host's tables apart).
    #[arg(long, global = true, env = "PROJECTOR_SCHEMA", default_value = crate::store::DEFAULT_SCHEMA, value_name = "NAME", value_parser = schema_name)]
    pub schema: String,
    /// Directory of plugin components (`*.wasm`).
    #[arg(long, global = true, env = "PROJECTOR_PLUGINS", default_value = DEFAULT_PLUGIN_DIR)]
    pub plugins: PathBuf,
    /// Directory for compiled plugins.
    #[arg(long, global = true, env = "PROJECTOR_CACHE", default_value = DEFAULT_CACHE_DIR)]
    pub cache: PathBuf,
    /// Log progress (`RUST_LOG` overrides).
    #[arg(long, short, global = true)]
    pub verbose: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Event store commands.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Catch up every family, then follow new events until Ctrl-C or SIGTERM.
    Run(RunArgs),
    /// Project events not yet applied (or rebuild with --from-start).
    Replay(ReplayArgs),
    /// Per family and tenant: position, events behind, failures.
    Status,
    /// Run conformance case files (or directories) against the installed plugins.
    Check {
        /// Case files (`*.jsonl`) or directories of them.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Print the rows of projected tables.
    Show {
        /// Tables to print (default: every table of every plugin).
        tables: Vec<String>,
        /// At most this many rows per table.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Plugin commands.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Failed events: list, retry, skip.
    #[command(subcommand)]
    Failed(FailedCommand),
    /// Families: pause, resume.
    #[command(subcommand)]
    Family(FamilyCommand),
    /// Replay families into scratch tables and compare them with the live rows; exit 1 on drift.
    Verify(VerifyArgs),
}

/// A projection schema name: a plain identifier, not a reserved schema.
fn schema_name(text: &str) -> Result<String, String> {
    crate::store::check_schema_name(text)
        .map(|()| text.to_owned())
        .map_err(|e| e.to_string())
}

/// A count that must be at least 1 (a value parser for clap).
pub fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// The long help of `--barrier`.
const BARRIER_HELP: &str = "How reads wait for writers in flight (PostgreSQL).\n\
`xact` (default): wait until every transaction of the database that started before the read \
bound has ended; safe for every writer (Zitadel's pushes, older now()-stamped ones, writers \
without locks, projector's import). Needs the privileges of pg_read_all_stats (or superuser); \
refused without them. A long transaction of any client delays projection until it ends.\n\
`locks`: wait only for holders of Zitadel's events2 advisory lock or projector's write lock; no \
privilege needed, but NOT safe for writers that stamp positions with now() or take no lock.";

impl Cli {
    fn config(&self) -> Config {
        Config {
            database_url: self.database_url.clone(),
            schema: self.schema.clone(),
            plugin_dir: self.plugins.clone(),
            cache_dir: Some(self.cache.clone()),
            limits: Limits::default(),
        }
    }
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("while starting the async runtime")?;
    runtime.block_on(dispatch(cli))
}

async fn dispatch(cli: Cli) -> Result<ExitCode> {
    let config = cli.config();
    match cli.command {
        Command::Events(EventsCommand::Import { files }) => {
            events::import_files(&config, &files).await
        }
        Command::Run(args) => follow::run_live(&config, args).await,
        Command::Replay(args) => replay::replay(&config, args).await,
        Command::Failed(command) => failed::failed(&config, command).await,
        Command::Family(command) => family::family(&config, command).await,
        Command::Status => status::status(&config).await,
        Command::Check { paths } => check::check(&config, &paths).await,
        Command::Show { tables, limit } => show::show(&config, &tables, limit).await,
        Command::Plugin(command) => plugin::plugins(&config, command).await,
        Command::Verify(args) => verify::verify(&config, args).await,
    }
}

/// The effective plugins: the plugin directory's, overridden by deployed versions.
async fn load_plugins(config: &Config, db: &Db) -> Result<Vec<Plugin>> {
    let deployed = registry::deployments(db).await?;
    if !config.plugin_dir.is_dir() && deployed.is_empty() {
        bail!(
            "plugin directory {} does not exist (build the plugins with `cargo xtask plugins`, or pass --plugins DIR)",
            config.plugin_dir.display()
        );
    }
    let plugins = registry::effective(
        db,
        &config.plugin_dir,
        config.cache_dir.as_deref(),
        config.limits,
    )
    .await?;
    if plugins.is_empty() {
        bail!("no plugins (*.wasm) in {}", config.plugin_dir.display());
    }
    Ok(plugins)
}

async fn open(config: &Config) -> Result<Db> {
    Ok(Db::open_in(&config.database_url, &config.schema).await?)
}

/// A binary's exit: the command's own code, success when the output was
/// piped into a reader that closed early (`| head`), otherwise the error on
/// one line and exit code 2.
pub fn exit_code(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}
