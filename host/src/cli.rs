//! The `projector` command line: parse flags, resolve them into a
//! [`Config`], dispatch to one command.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::{Config, DEFAULT_CACHE_DIR, DEFAULT_DATABASE_URL, DEFAULT_PLUGIN_DIR};
use crate::plugin::registry;
use crate::plugin::{Limits, Plugin};
use crate::runtime::{self, FamilyReport, Progress, ReplayOptions};
use crate::source::import;
use crate::source::order::{Barrier, BarrierMode};
use crate::store::{Db, StoreError, dump, state};

/// Print a line to stdout; a closed pipe ends the command quietly (see `main`).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)?;
    }};
}

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
    /// Replay throughput of the users family four ways (wasm, native,
    /// statement-per-event, set-based ceiling) on a scratch database; `bench
    /// live` measures follow latency. Never touches existing data.
    Bench(BenchArgs),
}

/// `bench` flags.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    /// Another measurement.
    #[command(subcommand)]
    pub which: Option<BenchCommand>,
    /// Events in the generated stream.
    #[arg(long, default_value_t = 1_000_000, value_parser = at_least_one)]
    pub events: usize,
    /// Tenants the stream is spread over.
    #[arg(long, default_value_t = 100, value_parser = at_least_one)]
    pub tenants: usize,
    /// Events per plugin call and transaction.
    #[arg(long, default_value_t = 1000, value_parser = at_least_one)]
    pub batch_size: usize,
}

/// A projection schema name: a plain identifier, not a reserved schema.
fn schema_name(text: &str) -> Result<String, String> {
    crate::store::check_schema_name(text)
        .map(|()| text.to_owned())
        .map_err(|e| e.to_string())
}

/// A count that must be at least 1.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// `bench` subcommands.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Commit-to-projected-row latency while `run` follows (the orgs plugin).
    Live {
        /// Events to time, one per transaction.
        #[arg(long, default_value_t = 1000, value_parser = at_least_one)]
        events: usize,
    },
    /// What the read barrier adds per batch, each mode, at several tenant
    /// counts, with idle connections to the database (PostgreSQL).
    Barrier {
        /// Tenant counts, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,100,1000", value_parser = at_least_one)]
        tenants: Vec<usize>,
        /// Barrier waits timed per mode and tenant count.
        #[arg(long, default_value_t = 200, value_parser = at_least_one)]
        calls: usize,
        /// Idle connections held open to the database meanwhile.
        #[arg(long, default_value_t = 50)]
        idle: usize,
    },
}

/// `failed` subcommands.
#[derive(Debug, Subcommand)]
pub enum FailedCommand {
    /// List failed events with their errors and next retry.
    List,
    /// Make failed events due for a retry now (`run` picks them up; `replay` always retries).
    Retry {
        /// The failed event's id (see `failed list`).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<i64>,
        /// Every failed event.
        #[arg(long)]
        all: bool,
    },
    /// Skip a failed event on purpose: recorded with who and when; the
    /// family moves past it for that tenant.
    Skip {
        /// The failed event's id (see `failed list`).
        id: i64,
        /// Who skips it (default: $USER).
        #[arg(long, env = "USER", default_value = "unknown")]
        by: String,
    },
}

/// `run` flags.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Events per plugin call and transaction.
    #[arg(long, default_value_t = 1000, value_parser = at_least_one)]
    pub batch_size: usize,
    /// Longest wait, in milliseconds, between looks at the event store.
    #[arg(long, default_value_t = 500)]
    pub poll_ms: u64,
    /// How reads wait for writers in flight (PostgreSQL).
    #[arg(long, env = "PROJECTOR_BARRIER", default_value = "xact", value_name = "xact|locks", long_help = BARRIER_HELP)]
    pub barrier: BarrierMode,
    /// Install the trigger that wakes followers on every insert into
    /// `eventstore.events2`, if it is missing (an event store projector did
    /// not create has none: `run` then polls every --poll-ms). Needs the
    /// right to create triggers on the table; the trigger's function goes
    /// to schema `projector`.
    #[arg(long)]
    pub notify_trigger: bool,
}

/// The long help of `--barrier`.
const BARRIER_HELP: &str = "How reads wait for writers in flight (PostgreSQL).\n\
`xact` (default): wait until every transaction of the database that started before the read \
bound has ended; safe for every writer (Zitadel's pushes, older now()-stamped ones, writers \
without locks, projector's import). Needs the privileges of pg_read_all_stats (or superuser); \
refused without them. A long transaction of any client delays projection until it ends.\n\
`locks`: wait only for holders of Zitadel's events2 advisory lock or projector's write lock; no \
privilege needed, but NOT safe for writers that stamp positions with now() or take no lock.";

/// `events` subcommands.
#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Append events from JSON-lines files (one transaction per file).
    Import {
        /// Files to import.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// `plugin` subcommands.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// List plugins: the active version of each family and earlier deployments.
    List,
    /// Deploy a new version of a family (its tables must match the live ones).
    Deploy {
        /// The plugin component (`.wasm`).
        file: PathBuf,
        /// Who deploys it (default: $USER).
        #[arg(long, env = "USER", default_value = "unknown")]
        by: String,
    },
    /// Re-activate the version deployed before the active one.
    Rollback {
        /// The family.
        family: String,
    },
}

/// `replay` flags.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Only this family.
    #[arg(long)]
    pub family: Option<String>,
    /// Only this tenant.
    #[arg(long)]
    pub instance: Option<String>,
    /// Rebuild: drop the family's tables (or the tenant's rows) and replay from the first event.
    #[arg(long)]
    pub from_start: bool,
    /// Events per plugin call and transaction.
    #[arg(long, default_value_t = 1000, value_parser = at_least_one)]
    pub batch_size: usize,
    /// How reads wait for writers in flight (PostgreSQL).
    #[arg(long, env = "PROJECTOR_BARRIER", default_value = "xact", value_name = "xact|locks", long_help = BARRIER_HELP)]
    pub barrier: BarrierMode,
}

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
        Command::Events(EventsCommand::Import { files }) => import_files(&config, &files).await,
        Command::Run(args) => run_live(&config, args).await,
        Command::Replay(args) => replay(&config, args).await,
        Command::Failed(command) => failed(&config, command).await,
        Command::Bench(BenchArgs {
            which: Some(BenchCommand::Live { events }),
            ..
        }) => bench_live(&config, events).await,
        Command::Bench(BenchArgs {
            which:
                Some(BenchCommand::Barrier {
                    tenants,
                    calls,
                    idle,
                }),
            ..
        }) => {
            let options = crate::bench::barrier::Options {
                tenants,
                calls,
                idle,
            };
            bench_barrier(&config, &options).await
        }
        Command::Bench(args) => bench_throughput(&config, args).await,
        Command::Status => status(&config).await,
        Command::Check { paths } => check(&config, &paths).await,
        Command::Show { tables, limit } => show(&config, &tables, limit).await,
        Command::Plugin(command) => plugins(&config, command).await,
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

async fn import_files(config: &Config, files: &[PathBuf]) -> Result<ExitCode> {
    let mut parsed = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        parsed.push((file, import::parse(&text, &file.display().to_string())?));
    }
    let db = open(config).await?;
    for (file, events) in parsed {
        let n = import::append(&db, &events)
            .await
            .with_context(|| format!("nothing of {} was imported", file.display()))?;
        say!("imported {n} events from {}", file.display());
    }
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

/// A progress bar per family, then a closing events/s line.
struct Bars {
    bar: std::sync::Mutex<Option<ProgressBar>>,
}

impl Progress for Bars {
    fn start(&self, family: &str, total: u64) {
        let bar = ProgressBar::new(total);
        let style = ProgressStyle::with_template(
            "{prefix:>10} [{bar:30}] {pos}/{len} events {per_sec} {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(family.to_owned());
        bar.enable_steady_tick(Duration::from_millis(200));
        if let Ok(mut slot) = self.bar.lock() {
            *slot = Some(bar);
        }
    }

    fn advance(&self, n: u64) {
        if let Ok(slot) = self.bar.lock()
            && let Some(bar) = slot.as_ref()
        {
            bar.inc(n);
        }
    }

    fn finish(&self, report: &FamilyReport) {
        if let Ok(mut slot) = self.bar.lock()
            && let Some(bar) = slot.take()
        {
            bar.finish_and_clear();
        }
        let seconds = report.elapsed.as_secs_f64();
        let rate = if seconds > 0.0 {
            report.n_applied as f64 / seconds
        } else {
            0.0
        };
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stdout(),
            "{:>10}: {} events applied, {} failed, {} mutations in {:.2}s ({:.0} events/s)",
            report.family,
            report.n_applied,
            report.n_failed,
            report.n_mutations,
            seconds,
            rate
        );
    }
}

async fn replay(config: &Config, args: ReplayArgs) -> Result<ExitCode> {
    let db = open(config).await?;
    Barrier::new(&db, args.barrier).await?;
    let mut plugins = load_plugins(config, &db).await?;
    let options = ReplayOptions {
        family: args.family,
        instance_id: args.instance,
        from_start: args.from_start,
        batch_size: args.batch_size,
        barrier: args.barrier,
        ..ReplayOptions::default()
    };
    let bars = Bars {
        bar: std::sync::Mutex::new(None),
    };
    let reports = runtime::replay(&db, &mut plugins, &options, &bars).await?;
    db.close().await;
    let mut code = ExitCode::SUCCESS;
    for report in &reports {
        if let Some(error) = &report.refused {
            eprintln!(
                "{}: not installed, nothing of it was created or applied: {error}",
                report.family
            );
            code = ExitCode::from(1);
        }
    }
    let failed: u64 = reports.iter().map(|r| r.n_failed).sum();
    if failed > 0 {
        eprintln!("{failed} events failed; see `projector status`");
        code = ExitCode::from(1);
    }
    Ok(code)
}

/// Progress for `run`: one line per family and cycle that applied something.
struct LiveLog;

impl Progress for LiveLog {
    fn start(&self, _family: &str, _total: u64) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self, report: &FamilyReport) {
        if report.n_applied + report.n_failed > 0 {
            tracing::info!(
                family = %report.family,
                n_applied = report.n_applied,
                n_failed = report.n_failed,
                n_mutations = report.n_mutations,
                "caught up"
            );
        }
    }
}

/// A receiver that turns true on Ctrl-C or SIGTERM.
fn stop_on_signals() -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            match signal(SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        _ = ctrl_c => {}
                        _ = term.recv() => {}
                    }
                }
                Err(_) => {
                    let _ = ctrl_c.await;
                }
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("stopping after the batch in flight");
        let _ = tx.send(true);
    });
    rx
}

async fn run_live(config: &Config, args: RunArgs) -> Result<ExitCode> {
    let db = open(config).await?;
    Barrier::new(&db, args.barrier).await?;
    let mut plugins = load_plugins(config, &db).await?;
    let options = runtime::follow::FollowOptions {
        batch_size: args.batch_size,
        poll_interval: Duration::from_millis(args.poll_ms.max(10)),
        barrier: args.barrier,
    };
    if args.notify_trigger && db.install_notify_trigger().await? {
        eprintln!("installed the notify trigger projector_notify_events on eventstore.events2");
    }
    if matches!(db, Db::Postgres(_)) && !db.has_notify_trigger().await? {
        eprintln!(
            "eventstore.events2 has no notify trigger (projector did not create the event store): \
             polling every {} ms; --notify-trigger installs one",
            options.poll_interval.as_millis()
        );
    }
    for refusal in runtime::install_all(&db, &plugins).await? {
        eprintln!(
            "{}: not installed, it projects nothing: {}",
            refusal.family, refusal.error
        );
    }
    let families: Vec<&str> = plugins.iter().map(Plugin::family).collect();
    eprintln!(
        "following {} ({}, barrier {}); Ctrl-C stops",
        families.join(", "),
        crate::store::redacted_url(&config.database_url),
        args.barrier
    );
    let swapper = registry::Swapper {
        dir: config.plugin_dir.clone(),
        cache: config.cache_dir.clone(),
        limits: config.limits,
    };
    runtime::follow::follow(
        &db,
        &mut plugins,
        &options,
        stop_on_signals(),
        Some(&swapper),
        &LiveLog,
    )
    .await?;
    db.close().await;
    eprintln!("stopped");
    Ok(ExitCode::SUCCESS)
}

async fn bench_throughput(config: &Config, args: BenchArgs) -> Result<ExitCode> {
    let path = config.plugin_dir.join("users.wasm");
    let wasm = Plugin::load(&path, config.cache_dir.as_deref(), config.limits)
        .with_context(|| format!("the bench needs the users plugin at {}", path.display()))?;
    let scratch = crate::bench::Scratch::create(&config.database_url).await?;
    say!(
        "bench on {} ({} events, batches of {})",
        scratch.url,
        args.events,
        args.batch_size
    );
    let options = crate::bench::throughput::Options {
        events: args.events,
        tenants: args.tenants,
        batch_size: args.batch_size,
    };
    let mut lines = Vec::new();
    let result = crate::bench::throughput::run(&scratch, wasm, options, &mut |line| {
        println!("{line}");
        lines.push(line);
    })
    .await;
    scratch.drop_database().await?;
    let figures = result?;
    say!("{}", figures.summary_line());
    Ok(ExitCode::SUCCESS)
}

async fn bench_live(config: &Config, n_events: usize) -> Result<ExitCode> {
    let path = config.plugin_dir.join("orgs.wasm");
    let bytes = std::fs::read(&path)
        .with_context(|| format!("the live bench needs the orgs plugin at {}", path.display()))?;
    let scratch = crate::bench::Scratch::create(&config.database_url).await?;
    say!(
        "live latency bench on {} ({n_events} events, one per transaction)",
        scratch.url
    );
    let result = crate::bench::live_latency(&scratch, (bytes, path), n_events).await;
    scratch.drop_database().await?;
    let report = result?;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    say!(
        "commit to projected row: median {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} events",
        ms(report.median),
        ms(report.p99),
        ms(report.max),
        report.n_events
    );
    Ok(ExitCode::SUCCESS)
}

async fn bench_barrier(
    config: &Config,
    options: &crate::bench::barrier::Options,
) -> Result<ExitCode> {
    if !config.database_url.starts_with("postgres") {
        bail!("the barrier bench needs PostgreSQL: pass --database-url postgres://...");
    }
    let scratch = crate::bench::Scratch::create(&config.database_url).await?;
    say!(
        "read barrier bench on {} ({} waits per figure, {} idle connections)",
        crate::store::redacted_url(&scratch.url),
        options.calls,
        options.idle
    );
    let result =
        crate::bench::barrier::run(&scratch, options, &mut |line| println!("{line}")).await;
    scratch.drop_database().await?;
    result?;
    Ok(ExitCode::SUCCESS)
}

async fn failed(config: &Config, command: FailedCommand) -> Result<ExitCode> {
    let db = open(config).await?;
    match command {
        FailedCommand::List => {
            let failures = state::failures(&db).await?;
            if failures.is_empty() {
                say!("no failed events");
            }
            for f in failures {
                let retry = f
                    .retry_after
                    .map_or_else(|| "-".to_owned(), crate::time::format_micros);
                say!(
                    "#{} {} {} {}/{} seq {} {} failed {}x, next retry {}\n    {}",
                    f.id,
                    f.family,
                    f.instance_id,
                    f.aggregate_type,
                    f.aggregate_id,
                    f.sequence,
                    f.event_type,
                    f.failure_count,
                    retry,
                    f.error
                );
            }
        }
        FailedCommand::Retry { id, all } => {
            let n = state::retry_now(&db, if all { None } else { id }).await?;
            match (n, id) {
                (0, Some(id)) if !all => return Err(StoreError::NoFailedEvent(id).into()),
                (0, _) => say!("no failed events to retry"),
                (n, _) => say!("{n} failed events are due for a retry now"),
            }
        }
        FailedCommand::Skip { id, by } => {
            let f = state::skip(&db, id, &by).await?;
            say!(
                "skipped #{id}: {} {} {}/{} seq {} ({}), recorded as skipped by {by}",
                f.family,
                f.instance_id,
                f.aggregate_type,
                f.aggregate_id,
                f.sequence,
                f.event_type
            );
        }
    }
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn status(config: &Config) -> Result<ExitCode> {
    let db = open(config).await?;
    let plugins = load_plugins(config, &db).await?;
    let checkpoints = state::checkpoints(&db).await?;
    let failures = state::failures(&db).await?;
    say!(
        "{:<12} {:<24} {:>22} {:>8} {:>8}  plugin",
        "family",
        "tenant",
        "position",
        "behind",
        "failed"
    );
    let mut missed = Vec::new();
    for plugin in &plugins {
        let lag = runtime::lag(&db, plugin).await?;
        let mut tenants: Vec<String> = checkpoints
            .iter()
            .filter(|c| c.family == plugin.family())
            .map(|c| c.instance_id.clone())
            .chain(lag.iter().map(|l| l.instance_id.clone()))
            .collect();
        tenants.sort();
        tenants.dedup();
        for tenant in tenants {
            let checkpoint = checkpoints
                .iter()
                .find(|c| c.family == plugin.family() && c.instance_id == tenant);
            let tenant_lag = lag.iter().find(|l| l.instance_id == tenant);
            let n_behind = tenant_lag.map_or(0, |l| l.behind());
            if let Some(l) = tenant_lag.filter(|l| l.missed() > 0) {
                missed.push((plugin.family(), l.instance_id.clone(), l.missed()));
            }
            let n_failed = failures
                .iter()
                .filter(|f| f.family == plugin.family() && f.instance_id == tenant)
                .count();
            say!(
                "{:<12} {:<24} {:>22} {:>8} {:>8}  {}",
                plugin.family(),
                tenant,
                checkpoint.map_or("-", |c| c.position.as_str()),
                n_behind,
                n_failed,
                checkpoint.map_or("-", |c| c.plugin_version.as_str()),
            );
        }
    }
    for (family, tenant, n) in &missed {
        say!(
            "missed: {family} {tenant}: {n} missed below the checkpoint (committed after the family \
             had read past their position): a writer broke the ordering protocol; rebuild the tenant: \
             projector replay --family {family} --instance {tenant} --from-start"
        );
    }
    for f in &failures {
        say!(
            "failed: {} {} {}/{} #{} {} (x{}): {}",
            f.family,
            f.instance_id,
            f.aggregate_type,
            f.aggregate_id,
            f.sequence,
            f.event_type,
            f.failure_count,
            f.error
        );
    }
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn check(config: &Config, paths: &[PathBuf]) -> Result<ExitCode> {
    let cases = crate::check::load(paths)?;
    let db = open(config).await?;
    let mut plugins = load_plugins(config, &db).await?;
    db.close().await;
    let report = tokio::task::block_in_place(|| crate::check::run(&mut plugins, &cases))?;
    for verdict in &report.verdicts {
        if let Some(diff) = &verdict.failure {
            say!("FAIL {}\n{diff}\n", verdict.case);
        }
    }
    say!("{}", report.summary());
    Ok(if report.n_failed() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Print tables and views. A family never replayed has no tables yet, which
/// is said; any database error reading a table ends the command with it.
async fn show(config: &Config, tables: &[String], limit: usize) -> Result<ExitCode> {
    let db = open(config).await?;
    let plugins = load_plugins(config, &db).await?;
    // A name is read only as the family that created it: a declaration of
    // anything else (the event store, the host's tables) is not shown.
    let owned = state::owned_relations(&db).await?;
    let mut declared = Vec::new();
    for plugin in &plugins {
        for relation in dump::relations(&plugin.description)? {
            let owner = owned.iter().find(|o| o.name == relation.name);
            if owner.is_some_and(|o| o.family != plugin.family())
                || (owner.is_none() && crate::store::owner::reserved(&relation.name).is_some())
            {
                continue;
            }
            declared.push((plugin.family(), relation));
        }
    }
    for name in tables {
        if !declared.iter().any(|(_, t)| &t.name == name) {
            bail!("unknown table or view {name:?}: no installed plugin declares it");
        }
    }
    for (family, table) in declared
        .iter()
        .filter(|(_, t)| tables.is_empty() || tables.contains(&t.name))
    {
        if state::stored_description(&db, family).await?.is_none() {
            say!(
                "{} (not created yet: family {family} has not been replayed)",
                table.name
            );
            continue;
        }
        let rows = dump::dump_table(&db, table)
            .await
            .with_context(|| format!("cannot read {}", table.name))?;
        say!("{} ({} rows)", table.name, rows.len());
        for row in rows.iter().take(limit) {
            say!("  {}", serde_json::Value::Object(row.clone()));
        }
    }
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn plugins(config: &Config, command: PluginCommand) -> Result<ExitCode> {
    let db = open(config).await?;
    match command {
        PluginCommand::List => {
            let effective = load_plugins(config, &db).await?;
            for plugin in &effective {
                let d = &plugin.description;
                let origin = if plugin.deployed {
                    "deployed".to_owned()
                } else {
                    plugin.path.display().to_string()
                };
                say!(
                    "{} {} sha256:{} active ({origin})",
                    d.name,
                    d.version,
                    plugin.hash
                );
                for t in &d.tables {
                    say!("  {}", t.name);
                }
            }
            for d in registry::deployments(&db)
                .await?
                .iter()
                .filter(|d| !d.active)
            {
                say!(
                    "{} {} sha256:{} deployed {} by {}, inactive",
                    d.family,
                    d.version,
                    d.hash,
                    crate::time::format_micros(d.deployed_at),
                    d.deployed_by
                );
            }
        }
        PluginCommand::Deploy { file, by } => {
            let plugin =
                registry::deploy(&db, &file, &by, config.cache_dir.as_deref(), config.limits)
                    .await?;
            say!(
                "deployed {} {} sha256:{}; a running `projector run` switches at its next batch",
                plugin.family(),
                plugin.description.version,
                plugin.hash
            );
        }
        PluginCommand::Rollback { family } => {
            match registry::rollback(
                &db,
                &family,
                &config.plugin_dir,
                config.cache_dir.as_deref(),
                config.limits,
            )
            .await?
            {
                Some(hash) => say!("{family}: sha256:{hash} is active again"),
                None => say!("{family}: the plugin directory's version is active again"),
            }
        }
    }
    db.close().await;
    Ok(ExitCode::SUCCESS)
}
