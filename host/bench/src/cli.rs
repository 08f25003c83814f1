//! The `projector-bench` command line: parse flags, run one measurement on
//! a scratch database next to `--database-url`, print its figures.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand};
use host::cli::at_least_one;
use host::config::{DEFAULT_CACHE_DIR, DEFAULT_DATABASE_URL, DEFAULT_PLUGIN_DIR};
use host::plugin::{Limits, Plugin};

use crate::child::{self, Launcher, Place};
use crate::scratch::Scratch;
use crate::{barrier, live, online, realistic, sessions, throughput};

/// Print a line to stdout; a closed pipe ends the command quietly (see `main`).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)?;
    }};
}

/// Replay throughput of the users family four ways (wasm, native,
/// statement-per-event, set-based ceiling) on a scratch database; `live`
/// measures follow latency, `barrier` the read barrier. Never touches
/// existing data.
#[derive(Debug, Parser)]
#[command(name = "projector-bench", version, about)]
pub struct Cli {
    /// Database URL: `sqlite://FILE` (the default) or `postgres://...`; the
    /// scratch database is created next to it and dropped afterwards.
    #[arg(long, global = true, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// Directory of plugin components (`*.wasm`).
    #[arg(long, global = true, env = "PROJECTOR_PLUGINS", default_value = DEFAULT_PLUGIN_DIR)]
    pub plugins: PathBuf,
    /// Directory for compiled plugins.
    #[arg(long, global = true, env = "PROJECTOR_CACHE", default_value = DEFAULT_CACHE_DIR)]
    pub cache: PathBuf,
    /// Log progress (`RUST_LOG` overrides).
    #[arg(long, short, global = true)]
    pub verbose: bool,
    /// Another measurement.
    #[command(subcommand)]
    pub which: Option<BenchCommand>,
    /// Events in the generated stream (throughput).
    #[arg(long, default_value_t = 1_000_000, value_parser = at_least_one)]
    pub events: usize,
    /// Tenants the stream is spread over.
    #[arg(long, default_value_t = 100, value_parser = at_least_one)]
    pub tenants: usize,
    /// Events per plugin call and transaction.
    #[arg(long, default_value_t = host::runtime::DEFAULT_BATCH_SIZE, value_parser = at_least_one)]
    pub batch_size: usize,
}

/// Measurements besides throughput.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Replay throughput of the sessions family next to the users family's
    /// (the WASM path, one run, one scratch database).
    Sessions {
        /// Events of each family's stream.
        #[arg(long, default_value_t = 100_000, value_parser = at_least_one)]
        events: usize,
        /// Tenants the streams are spread over.
        #[arg(long, default_value_t = 100, value_parser = at_least_one)]
        tenants: usize,
        /// Events per plugin call and transaction.
        #[arg(long, default_value_t = host::runtime::DEFAULT_BATCH_SIZE, value_parser = at_least_one)]
        batch_size: usize,
    },
    /// The users family changed without downtime: a rebuild in place, the
    /// same built aside and cut over with a reader polling, and verify.
    Online {
        /// Events in the users stream.
        #[arg(long, default_value_t = 100_000, value_parser = at_least_one)]
        events: usize,
        /// Tenants it is spread over.
        #[arg(long, default_value_t = 100, value_parser = at_least_one)]
        tenants: usize,
        /// Events per plugin call and transaction.
        #[arg(long, default_value_t = host::runtime::DEFAULT_BATCH_SIZE, value_parser = at_least_one)]
        batch_size: usize,
    },
    /// Every family of the plugin directory on the realistic stream: the
    /// full path, the same on several workers, and the reference's way per
    /// (family, tenant); each must leave the same tables.
    Realistic {
        /// Events in the stream.
        #[arg(long, default_value_t = 1_000_000, value_parser = at_least_one)]
        events: usize,
        /// Tenants it interleaves.
        #[arg(long, default_value_t = 100, value_parser = at_least_one)]
        tenants: usize,
        /// Events per plugin call and transaction (full path).
        #[arg(long, default_value_t = host::runtime::DEFAULT_BATCH_SIZE, value_parser = at_least_one)]
        batch_size: usize,
        /// Workers of the second path.
        #[arg(long, default_value_t = 2, value_parser = at_least_one)]
        workers: usize,
    },
    /// The full path of the realistic bench on the database as it stands
    /// (every family of the plugin directory, from empty tables), run by
    /// `realistic` in a child process of its own; prints its figures.
    #[command(hide = true)]
    ReplayPath {
        /// Events per plugin call and transaction.
        #[arg(long, default_value_t = host::runtime::DEFAULT_BATCH_SIZE, value_parser = at_least_one)]
        batch_size: usize,
        /// Workers.
        #[arg(long, default_value_t = 1, value_parser = at_least_one)]
        workers: usize,
    },
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

/// Run a parsed command line; a bench that runs a path in a child process
/// starts this binary again.
pub fn run(cli: Cli) -> Result<ExitCode> {
    run_with(cli, Launcher::this_binary()?)
}

/// Run a parsed command line, starting child processes with `launcher`.
pub fn run_with(cli: Cli, launcher: Launcher) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("while starting the async runtime")?;
    runtime.block_on(dispatch(cli, launcher))
}

async fn dispatch(cli: Cli, launcher: Launcher) -> Result<ExitCode> {
    match cli.which {
        Some(BenchCommand::Sessions {
            events,
            tenants,
            batch_size,
        }) => {
            let options = sessions::Options {
                events,
                tenants,
                batch_size,
            };
            bench_sessions(&cli.database_url, &cli.plugins, &cli.cache, options).await
        }
        Some(BenchCommand::Online {
            events,
            tenants,
            batch_size,
        }) => {
            let options = online::Options {
                events,
                tenants,
                batch_size,
            };
            bench_online(&cli.database_url, &cli.plugins, &cli.cache, options).await
        }
        Some(BenchCommand::Realistic {
            events,
            tenants,
            batch_size,
            workers,
        }) => {
            let options = realistic::Options {
                events,
                tenants,
                batch_size,
                workers,
            };
            let place = Place {
                database_url: cli.database_url,
                plugins: cli.plugins,
                cache: cli.cache,
            };
            bench_realistic(&place, options, &launcher).await
        }
        Some(BenchCommand::ReplayPath {
            batch_size,
            workers,
        }) => {
            replay_path(
                &cli.database_url,
                &cli.plugins,
                &cli.cache,
                batch_size,
                workers,
            )
            .await
        }
        Some(BenchCommand::Live { events }) => {
            bench_live(&cli.database_url, &cli.plugins, events).await
        }
        Some(BenchCommand::Barrier {
            tenants,
            calls,
            idle,
        }) => {
            let options = barrier::Options {
                tenants,
                calls,
                idle,
            };
            bench_barrier(&cli.database_url, &options).await
        }
        None => {
            let options = throughput::Options {
                events: cli.events,
                tenants: cli.tenants,
                batch_size: cli.batch_size,
            };
            bench_throughput(&cli.database_url, &cli.plugins, &cli.cache, options).await
        }
    }
}

/// A family's plugin from the plugin directory, or an error naming where
/// the bench looked.
fn load_plugin(
    plugin_dir: &std::path::Path,
    cache_dir: &std::path::Path,
    name: &str,
) -> Result<Plugin> {
    let path = plugin_dir.join(format!("{name}.wasm"));
    Plugin::load(&path, Some(cache_dir), Limits::default())
        .with_context(|| format!("the bench needs the {name} plugin at {}", path.display()))
}

async fn bench_throughput(
    database_url: &str,
    plugin_dir: &std::path::Path,
    cache_dir: &std::path::Path,
    options: throughput::Options,
) -> Result<ExitCode> {
    let wasm = load_plugin(plugin_dir, cache_dir, "users")?;
    let scratch = Scratch::create(database_url).await?;
    say!(
        "bench on {} ({} events, batches of {})",
        scratch.url,
        options.events,
        options.batch_size
    );
    let result = throughput::run(&scratch, wasm, options, &mut |line| println!("{line}")).await;
    scratch.drop_database().await?;
    let figures = result?;
    say!("{}", figures.summary_line());
    Ok(ExitCode::SUCCESS)
}

async fn bench_online(
    database_url: &str,
    plugin_dir: &std::path::Path,
    cache_dir: &std::path::Path,
    options: online::Options,
) -> Result<ExitCode> {
    let users = load_plugin(plugin_dir, cache_dir, "users")?;
    let scratch = Scratch::create(database_url).await?;
    say!(
        "online bench on {} ({} events, batches of {})",
        host::store::redacted_url(&scratch.url),
        options.events,
        options.batch_size
    );
    let result = online::run(&scratch, users, options, &mut |line| println!("{line}")).await;
    scratch.drop_database().await?;
    let f = result?;
    say!(
        "blue_green/rebuild={:.2} cutover_ms={:.1} longest_read_ms={:.1} median_read_ms={:.2} verify/rebuild={:.2} drifted={}",
        f.blue_green.as_secs_f64() / f.rebuild.as_secs_f64().max(1e-9),
        f.cutover.as_secs_f64() * 1e3,
        f.longest_read.as_secs_f64() * 1e3,
        f.median_read.as_secs_f64() * 1e3,
        f.verify.as_secs_f64() / f.rebuild.as_secs_f64().max(1e-9),
        f.drifted
    );
    Ok(ExitCode::SUCCESS)
}

/// Every family of the plugin directory, by name.
fn every_family(plugin_dir: &std::path::Path, cache_dir: &std::path::Path) -> Result<Vec<Plugin>> {
    let mut names: Vec<String> = std::fs::read_dir(plugin_dir)
        .with_context(|| format!("the bench reads the families at {}", plugin_dir.display()))?
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".wasm").map(str::to_owned)
        })
        .collect();
    names.sort();
    names
        .iter()
        .map(|name| load_plugin(plugin_dir, cache_dir, name))
        .collect()
}

async fn bench_realistic(
    place: &Place,
    options: realistic::Options,
    launcher: &Launcher,
) -> Result<ExitCode> {
    let plugins = every_family(&place.plugins, &place.cache)?;
    let scratch = Scratch::create(&place.database_url).await?;
    say!(
        "realistic bench on {} ({} events over {} tenants, {} families, batches of {})",
        host::store::redacted_url(&scratch.url),
        options.events,
        options.tenants,
        plugins.len(),
        options.batch_size
    );
    let children = Place {
        database_url: scratch.url.clone(),
        ..place.clone()
    };
    let result = realistic::run(
        &scratch,
        plugins,
        options,
        launcher,
        &children,
        &mut |line| {
            println!("{line}");
        },
    )
    .await;
    scratch.drop_database().await?;
    let figures = result?;
    say!("{}", figures.summary_line(options.workers));
    Ok(ExitCode::SUCCESS)
}

/// The child side of the realistic bench: the full path on the database
/// as it stands, its figures on the last line.
async fn replay_path(
    database_url: &str,
    plugin_dir: &std::path::Path,
    cache_dir: &std::path::Path,
    batch_size: usize,
    workers: usize,
) -> Result<ExitCode> {
    let mut plugins = every_family(plugin_dir, cache_dir)?;
    let db = host::store::Db::open(database_url).await?;
    let result = realistic::full(&db, &mut plugins, batch_size, workers, &mut |line| {
        println!("{}{line}", child::REPORT);
    })
    .await;
    db.close().await;
    say!("{}", result?.line());
    Ok(ExitCode::SUCCESS)
}

async fn bench_sessions(
    database_url: &str,
    plugin_dir: &std::path::Path,
    cache_dir: &std::path::Path,
    options: sessions::Options,
) -> Result<ExitCode> {
    let users = load_plugin(plugin_dir, cache_dir, "users")?;
    let sessions = load_plugin(plugin_dir, cache_dir, "sessions")?;
    let scratch = Scratch::create(database_url).await?;
    say!(
        "sessions bench on {} ({} events a family, batches of {})",
        host::store::redacted_url(&scratch.url),
        options.events,
        options.batch_size
    );
    let result = sessions::run(&scratch, users, sessions, options, &mut |line| {
        println!("{line}");
    })
    .await;
    scratch.drop_database().await?;
    let (users, sessions) = result?;
    say!(
        "sessions/users={:.2}",
        sessions.events_per_second / users.events_per_second.max(1e-9)
    );
    Ok(ExitCode::SUCCESS)
}

async fn bench_live(
    database_url: &str,
    plugin_dir: &std::path::Path,
    n_events: usize,
) -> Result<ExitCode> {
    let path = plugin_dir.join("orgs.wasm");
    let bytes = std::fs::read(&path)
        .with_context(|| format!("the live bench needs the orgs plugin at {}", path.display()))?;
    let scratch = Scratch::create(database_url).await?;
    say!(
        "live latency bench on {} ({n_events} events, one per transaction)",
        scratch.url
    );
    let result = live::live_latency(&scratch, (bytes, path), n_events).await;
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

async fn bench_barrier(database_url: &str, options: &barrier::Options) -> Result<ExitCode> {
    if !database_url.starts_with("postgres") {
        bail!("the barrier bench needs PostgreSQL: pass --database-url postgres://...");
    }
    let scratch = Scratch::create(database_url).await?;
    say!(
        "read barrier bench on {} ({} waits per figure, {} idle connections)",
        host::store::redacted_url(&scratch.url),
        options.calls,
        options.idle
    );
    let result = barrier::run(&scratch, options, &mut |line| println!("{line}")).await;
    scratch.drop_database().await?;
    result?;
    Ok(ExitCode::SUCCESS)
}
