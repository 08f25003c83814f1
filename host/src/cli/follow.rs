//! `projector run`: catch up, then follow new events until Ctrl-C or
//! SIGTERM; with `--metrics-addr`, serve metrics, `/livez` and `/readyz`.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::Args;

use super::{BARRIER_HELP, at_least_one, load_plugins, open};
use crate::config::Config;
use crate::metrics::{Metrics, MetricsOptions, Server};
use crate::plugin::{Plugin, registry};
use crate::runtime::{self, FamilyReport, Progress};
use crate::source::order::{Barrier, BarrierMode};
use crate::store::Db;

/// `run` flags.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Events per plugin call and transaction.
    #[arg(long, default_value_t = crate::runtime::DEFAULT_BATCH_SIZE, value_parser = at_least_one)]
    pub batch_size: usize,
    /// Longest wait, in milliseconds, between looks at the event store.
    #[arg(long, default_value_t = 50)]
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
    /// Serve Prometheus metrics at `http://HOST:PORT/metrics`, with
    /// `/livez` (200 while the follow loop runs) and `/readyz` (200 while
    /// every family lags at most --ready-max-lag-events).
    #[arg(long, env = "PROJECTOR_METRICS_ADDR", value_name = "HOST:PORT")]
    pub metrics_addr: Option<String>,
    /// Most events a family may have committed and not applied for
    /// `/readyz` to answer 200.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub ready_max_lag_events: u64,
    /// Seconds between two measurements of the lag (each reads the events
    /// after the checkpoints once per family).
    #[arg(long, default_value_t = 5, value_parser = at_least_one, value_name = "SECS")]
    pub lag_refresh_secs: usize,
    /// Seconds a lease on a unit of work lasts past its renewal
    /// (PostgreSQL: hosts running `run` on one database share the work; a
    /// host that dies has its units taken over after this long).
    #[arg(long, default_value_t = 10, value_parser = at_least_one, value_name = "SECS")]
    pub lease_secs: usize,
    /// This host's name among the hosts sharing the database (default:
    /// the machine's host name, the process id and a random suffix).
    #[arg(long, env = "PROJECTOR_HOST_ID", value_name = "NAME")]
    pub host_id: Option<String>,
    /// Workers applying groups of (family, part) units side by side, each
    /// with a plugin instance of its own (1: one family after another).
    #[arg(long, default_value_t = 1, value_parser = at_least_one, value_name = "N")]
    pub workers: usize,
}

/// A name no other running host has: the machine's name, the process id,
/// a random suffix.
fn host_id() -> String {
    let machine = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "host".to_owned());
    let mut suffix = [0u8; 3];
    let random =
        getrandom::getrandom(&mut suffix).map_or_else(|_| "0".to_owned(), |()| hex::encode(suffix));
    format!("{machine}-{}-{random}", std::process::id())
}

/// Progress for `run`: one line per family and cycle that applied something.
struct LiveLog;

impl Progress for LiveLog {
    fn start(&self, _family: &str, _total: u64) {}
    fn advance(&self, _family: &str, _n: u64) {}
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

pub(super) async fn run_live(config: &Config, args: RunArgs) -> Result<ExitCode> {
    let db = open(config).await?;
    Barrier::new(&db, args.barrier).await?;
    let metrics = Metrics::new(MetricsOptions {
        ready_max_lag_events: args.ready_max_lag_events,
        lag_refresh: Duration::from_secs(args.lag_refresh_secs as u64),
    });
    let serving = match &args.metrics_addr {
        Some(addr) => Some(Server::bind(addr).await?.serve(metrics.clone())),
        None => None,
    };
    let mut plugins = load_plugins(config, &db).await?;
    let options = runtime::follow::FollowOptions {
        batch_size: args.batch_size,
        poll_interval: Duration::from_millis(args.poll_ms.max(10)),
        barrier: args.barrier,
        workers: args.workers,
        lease: matches!(db, Db::Postgres(_)).then(|| runtime::LeaseOptions {
            host: args.host_id.clone().unwrap_or_else(host_id),
            ttl: Duration::from_secs(args.lease_secs as u64),
        }),
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
    if let Some(lease) = &options.lease {
        eprintln!(
            "sharing the work as host {:?}: leases of {} s on (family, part) units",
            lease.host,
            lease.ttl.as_secs()
        );
    }
    if let Some(serving) = &serving {
        eprintln!(
            "metrics on http://{0}/metrics (and /livez, /readyz)",
            serving.local_addr()
        );
    }
    let swapper = registry::Swapper {
        dir: config.plugin_dir.clone(),
        cache: config.cache_dir.clone(),
        limits: config.limits,
    };
    runtime::follow::follow_measured(
        &db,
        &mut plugins,
        &options,
        stop_on_signals(),
        Some(&swapper),
        &LiveLog,
        serving.as_ref().map(|_| &metrics),
    )
    .await?;
    drop(serving);
    db.close().await;
    eprintln!("stopped");
    Ok(ExitCode::SUCCESS)
}
