//! `projector-bench`: replay throughput of the users family into
//! PostgreSQL, four ways in one run, on one scratch database:
//!
//! - **wasm**: the full path (read, run the WASM plugin, validate, apply,
//!   checkpoint);
//! - **native**: the same family compiled into the bench, same path otherwise;
//! - **statement**: the WASM path applying one statement per mutation, each
//!   event in a savepoint (the reference handler's way);
//! - **ceiling**: PostgreSQL projecting the same rows set-based by itself.
//!
//! Every path starts from empty tables, and every path's tables must come out
//! identical to the WASM path's (row count and checksum), or the bench fails.

use std::time::{Duration, Instant};

use projection_sdk::Family as _;

use host::plugin::Plugin;
use host::runtime::{self, Control, Quiet, ReplayOptions, RuntimeError};
use host::store::sql::quote;
use host::store::{Db, StoreError, ddl};

use crate::scratch::Scratch;
use crate::{ceiling, stream};

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Events in the stream.
    pub events: usize,
    /// Tenants they are spread over.
    pub tenants: usize,
    /// Events per plugin call and transaction.
    pub batch_size: usize,
}

/// One path's result.
#[derive(Debug, Clone, PartialEq)]
pub struct PathResult {
    /// Path name.
    pub name: &'static str,
    /// Wall time.
    pub elapsed: Duration,
    /// Events per second.
    pub events_per_second: f64,
}

/// The run's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// Events in the stream.
    pub n_events: usize,
    /// Loading the stream.
    pub load: Duration,
    /// The four paths, in the order wasm, native, statement, ceiling.
    pub paths: Vec<PathResult>,
    /// Peak resident memory of this process, in MB.
    pub peak_rss_mb: f64,
}

impl Figures {
    fn rate(&self, name: &str) -> f64 {
        self.paths
            .iter()
            .find(|p| p.name == name)
            .map_or(0.0, |p| p.events_per_second)
    }

    /// `wasm/ceiling=R wasm/native=R wasm/statement=R peak_rss_mb=M`.
    pub fn summary_line(&self) -> String {
        let wasm = self.rate("wasm");
        let ratio = |other: f64| if other > 0.0 { wasm / other } else { 0.0 };
        format!(
            "wasm/ceiling={:.2} wasm/native={:.2} wasm/statement={:.2} peak_rss_mb={:.0}",
            ratio(self.rate("ceiling")),
            ratio(self.rate("native")),
            ratio(self.rate("statement")),
            self.peak_rss_mb
        )
    }
}

/// Row count and checksum of every table of the family.
pub(crate) async fn fingerprint(
    db: &Db,
    plugin: &Plugin,
) -> Result<Vec<(String, i64, String)>, StoreError> {
    let mut out = Vec::new();
    for table in &plugin.description.tables {
        let name = quote(&table.name)?;
        let key: Vec<String> = table
            .primary_key
            .iter()
            .map(|c| quote(c))
            .collect::<Result<_, _>>()?;
        let (count, sum): (i64, String) = match db {
            Db::Postgres(pool) => {
                let sql = format!(
                    "SELECT COUNT(*)::bigint, COALESCE(md5(string_agg(md5(t::text), '' ORDER BY {})), '') FROM {name} t",
                    key.iter()
                        .map(|k| format!("t.{k}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                sqlx::query_as(&sql).fetch_one(pool).await?
            }
            Db::Sqlite(pool) => {
                let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {name}"))
                    .fetch_one(pool)
                    .await?;
                (count, String::new())
            }
        };
        out.push((table.name.clone(), count, sum));
    }
    Ok(out)
}

/// Peak resident memory of this process (Linux), in MB.
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn replay_path(
    db: &Db,
    plugin: Plugin,
    options: &Options,
    statement_per_event: bool,
) -> Result<(Duration, Plugin), RuntimeError> {
    ddl::rebuild(db, &plugin.description, &plugin.hash).await?;
    let mut plugins = vec![plugin];
    let replay_options = ReplayOptions {
        batch_size: options.batch_size,
        ..ReplayOptions::default()
    };
    let control = Control {
        count_pending: false,
        statement_per_event,
        ..Control::default()
    };
    let started = Instant::now();
    let reports =
        runtime::replay_controlled(db, &mut plugins, &replay_options, &control, &Quiet).await?;
    let elapsed = started.elapsed();
    let failed: u64 = reports.iter().map(|r| r.n_failed).sum();
    if failed > 0 {
        return Err(RuntimeError::Store(StoreError::Corrupt(format!(
            "{failed} events failed during the bench"
        ))));
    }
    let plugin = plugins
        .pop()
        .ok_or_else(|| StoreError::Corrupt("plugin vanished".into()))?;
    Ok((elapsed, plugin))
}

/// Run the four paths; `say` receives a line per figure.
pub async fn run(
    scratch: &Scratch,
    wasm: Plugin,
    options: Options,
    say: &mut dyn FnMut(String),
) -> Result<Figures, RuntimeError> {
    let db = &scratch.db;
    let started = Instant::now();
    let n_events = stream::load(db, options.events, options.tenants).await?;
    stream::settle(db).await?;
    let load = started.elapsed();
    say(format!(
        "loaded {n_events} events over {} tenants in {:.1} s",
        options.tenants,
        load.as_secs_f64()
    ));
    let mut paths = Vec::new();
    let mut record = |name: &'static str, elapsed: Duration, say: &mut dyn FnMut(String)| {
        #[allow(clippy::cast_precision_loss)]
        let events_per_second = n_events as f64 / elapsed.as_secs_f64().max(1e-9);
        say(format!(
            "{name:>10}: {events_per_second:>9.0} events/s ({:.2} s)",
            elapsed.as_secs_f64()
        ));
        paths.push(PathResult {
            name,
            elapsed,
            events_per_second,
        });
    };

    let (elapsed, wasm) = replay_path(db, wasm, &options, false).await?;
    record("wasm", elapsed, say);
    let reference = fingerprint(db, &wasm).await?;
    let same = |name: &str, got: &[(String, i64, String)]| -> Result<(), RuntimeError> {
        if got == reference.as_slice() {
            Ok(())
        } else {
            Err(RuntimeError::Store(StoreError::Corrupt(format!(
                "the {name} path's tables differ from the wasm path's: {got:?} vs {reference:?}"
            ))))
        }
    };

    // Each path starts from written-out buffers: none pays for another's
    // writes.
    stream::checkpoint(db).await?;
    let native = Plugin::native(users::Users::describe(), users::Users::handle);
    let (elapsed, native) = replay_path(db, native, &options, false).await?;
    record("native", elapsed, say);
    same("native", &fingerprint(db, &native).await?)?;

    stream::checkpoint(db).await?;
    let (elapsed, wasm) = replay_path(db, wasm, &options, true).await?;
    record("statement", elapsed, say);
    same("statement", &fingerprint(db, &wasm).await?)?;

    if matches!(db, Db::Postgres(_)) {
        ddl::rebuild(db, &wasm.description, &wasm.hash).await?;
        stream::checkpoint(db).await?;
        let started = Instant::now();
        ceiling::run(db).await?;
        record("ceiling", started.elapsed(), say);
        same("ceiling", &fingerprint(db, &wasm).await?)?;
    } else {
        say("   ceiling: only on PostgreSQL".to_owned());
    }
    Ok(Figures {
        n_events,
        load,
        paths,
        peak_rss_mb: peak_rss_mb(),
    })
}
