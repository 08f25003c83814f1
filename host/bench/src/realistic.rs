//! Every family on the realistic stream (the generator of `tests/streams`:
//! every family's events, many tenants), three ways in one run, each
//! leaving the same tables:
//!
//! - *full*: `replay` of every family on one worker (the full path: read
//!   in global order, batches of `--batch-size`, each batch's look-ups
//!   answered ahead, merged statements, the apply of batch N beside the
//!   plan of batch N+1);
//! - *workers*: the same on `--workers` workers (groups of (family, part)
//!   units side by side);
//! - *reference*: the way the reference's projection handlers work, per
//!   (family, tenant) one after another: batches of 200 events, each
//!   event's statements one by one inside a savepoint, each look-up a
//!   query of its own, planned as on a PostgreSQL server nobody tuned.
//!
//! The full path and the workers path each run in a child process of their
//! own ([`child`]), so the peak RSS of each is the replay's alone (the
//! stream is generated and loaded by this process, which the children never
//! see).

use std::io::BufRead as _;
use std::path::Path;
use std::time::{Duration, Instant};

use host::plugin::Plugin;
use host::runtime::{self, Control, Quiet, ReplayOptions, RuntimeError};
use host::source::import;
use host::store::{Db, StoreError, ddl, planner};

use crate::child::{self, Launcher, PathFigures, Place};
use crate::error::BenchError;
use crate::scratch::Scratch;
use crate::stream;
use crate::throughput::{fingerprint, peak_rss_mb};

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Events in the stream.
    pub events: usize,
    /// Tenants it interleaves.
    pub tenants: usize,
    /// Events per plugin call and transaction (full and workers).
    pub batch_size: usize,
    /// Workers of the second path.
    pub workers: usize,
}

/// The figures of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// Events in the stream.
    pub n_events: usize,
    /// Events applied by each path (every family's events, summed).
    pub n_applied: u64,
    /// Wall time of the three paths.
    pub full: Duration,
    /// The full path on `workers` workers.
    pub workers: Duration,
    /// The reference-style path.
    pub reference: Duration,
    /// Peak RSS of the full path's process, MiB.
    pub peak_rss_mb: f64,
    /// Peak RSS of the workers path's process, MiB.
    pub workers_peak_rss_mb: f64,
}

impl Figures {
    /// The closing line: rates and ratios.
    pub fn summary_line(&self, workers: usize) -> String {
        let rate = |d: Duration| self.n_events as f64 / d.as_secs_f64().max(1e-9);
        format!(
            "full={:.0}/s reference={:.0}/s full/reference={:.2} workers{workers}/full={:.2} workers{workers}/reference={:.2} peak_rss_mb={:.0} workers_peak_rss_mb={:.0} identical=yes",
            rate(self.full),
            rate(self.reference),
            self.reference.as_secs_f64() / self.full.as_secs_f64().max(1e-9),
            self.full.as_secs_f64() / self.workers.as_secs_f64().max(1e-9),
            self.reference.as_secs_f64() / self.workers.as_secs_f64().max(1e-9),
            self.peak_rss_mb,
            self.workers_peak_rss_mb
        )
    }
}

/// Generate the stream into a file, then import it in chunks.
async fn load(db: &Db, options: &Options, dir: &Path) -> Result<usize, BenchError> {
    let path = dir.join("realistic.jsonl");
    let config = streams::Config {
        seed: 17,
        tenants: options.tenants,
        events: options.events,
    };
    let corrupt = |e: std::io::Error| StoreError::Corrupt(format!("the generated stream: {e}"));
    streams::write_jsonl(&config, &path).map_err(corrupt)?;
    let file = std::fs::File::open(&path).map_err(corrupt)?;
    // Chunks of about 20,000 lines, cut only where the position changes:
    // the events of one transaction share a position, and an import must
    // come after everything stored.
    let mut chunk = String::new();
    let (mut n, mut in_chunk) = (0, 0);
    let mut last_position: Option<serde_json::Value> = None;
    for line in std::io::BufReader::new(file).lines() {
        let line = line.map_err(corrupt)?;
        let position = serde_json::from_str::<serde_json::Value>(&line)
            .map_err(|e| StoreError::Corrupt(format!("the generated stream: {e}")))?
            .get("position")
            .cloned();
        if in_chunk >= 20_000 && position != last_position {
            n += append(db, &chunk).await?;
            chunk.clear();
            in_chunk = 0;
        }
        last_position = position;
        chunk.push_str(&line);
        chunk.push('\n');
        in_chunk += 1;
    }
    if !chunk.is_empty() {
        n += append(db, &chunk).await?;
    }
    in_the_past(last_position.as_ref())?;
    Ok(n)
}

/// Refuse a stream whose last event lies in the future: the host reads
/// only below its clock, so such events would stay unread and every rate
/// would count events no path applied.
fn in_the_past(last: Option<&serde_json::Value>) -> Result<(), BenchError> {
    let position = last
        .and_then(|p| match p {
            serde_json::Value::String(text) => text.parse::<f64>().ok(),
            other => other.as_f64(),
        })
        .unwrap_or(0.0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    if position >= now {
        return Err(BenchError::Stream(format!(
            "its last event is at position {position:.6}, after the present ({now:.0}); \
             the host reads only events below its clock, so these would stay unread"
        )));
    }
    Ok(())
}

async fn append(db: &Db, text: &str) -> Result<usize, RuntimeError> {
    let parsed = import::parse(text, "realistic.jsonl")
        .map_err(|e| StoreError::Corrupt(format!("the generated stream: {e}")))?;
    Ok(import::append(db, &parsed).await?)
}

/// Drop and recreate every family's tables.
async fn rebuild_all(db: &Db, plugins: &[Plugin]) -> Result<(), StoreError> {
    for plugin in plugins {
        ddl::rebuild(db, &plugin.description, &plugin.hash).await?;
    }
    Ok(())
}

/// Every table of every family, fingerprinted.
async fn tables(db: &Db, plugins: &[Plugin]) -> Result<Vec<(String, i64, String)>, StoreError> {
    let mut all = Vec::new();
    for plugin in plugins {
        all.extend(fingerprint(db, plugin).await?);
    }
    Ok(all)
}

fn no_failures(reports: &[runtime::FamilyReport]) -> Result<u64, RuntimeError> {
    let failed: u64 = reports.iter().map(|r| r.n_failed).sum();
    if let Some(r) = reports.iter().find(|r| r.n_fell_back > 0) {
        return Err(StoreError::Corrupt(format!(
            "{}: the database refused the merged statements of {} batches (a fast path defect)",
            r.family, r.n_fell_back
        ))
        .into());
    }
    if let Some(refused) = reports.iter().find_map(|r| r.refused.as_ref()) {
        return Err(StoreError::Corrupt(format!("a family was refused: {refused}")).into());
    }
    if failed > 0 {
        return Err(StoreError::Corrupt(format!("{failed} events failed during the bench")).into());
    }
    Ok(reports.iter().map(|r| r.n_applied).sum())
}

/// The full path on `workers` workers, from empty tables (what a
/// `replay-path` child runs); `say` receives the time of each family.
pub async fn full(
    db: &Db,
    plugins: &mut [Plugin],
    batch_size: usize,
    workers: usize,
    say: &mut dyn FnMut(String),
) -> Result<PathFigures, RuntimeError> {
    rebuild_all(db, plugins).await?;
    let replay = ReplayOptions {
        batch_size,
        workers,
        ..ReplayOptions::default()
    };
    let control = Control {
        count_pending: false,
        ..Control::default()
    };
    let started = Instant::now();
    let reports = runtime::replay_controlled(db, plugins, &replay, &control, &Quiet).await?;
    let elapsed = started.elapsed();
    let mut slowest: Vec<&runtime::FamilyReport> = reports.iter().collect();
    slowest.sort_by_key(|r| std::cmp::Reverse(r.elapsed));
    let each: Vec<String> = slowest
        .iter()
        .map(|r| {
            format!(
                "{} {:.1} s (read {:.1}, plan {:.1}, apply {:.1})",
                r.family,
                r.elapsed.as_secs_f64(),
                r.stages.read.as_secs_f64(),
                r.stages.plan.as_secs_f64(),
                r.stages.apply.as_secs_f64()
            )
        })
        .collect();
    say(format!("{:>10}  per family: {}", "", each.join(", ")));
    Ok(PathFigures {
        elapsed,
        applied: no_failures(&reports)?,
        peak_rss_mb: peak_rss_mb(),
    })
}

/// The reference's way: per (family, tenant), batches of 200, a statement
/// at a time, each event in a savepoint.
///
/// On PostgreSQL it plans as a server nobody tuned does
/// ([`planner::untuned`]), as the reference's handlers would.
async fn reference(
    scratch: &Scratch,
    plugins: &mut [Plugin],
) -> Result<(Duration, u64), RuntimeError> {
    let untuned = match &scratch.db {
        Db::Postgres(_) => Some(Db::open(&planner::untuned(&scratch.url)).await?),
        Db::Sqlite(_) => None,
    };
    let db = untuned.as_ref().unwrap_or(&scratch.db);
    let measured = reference_on(db, plugins).await;
    if let Some(untuned) = &untuned {
        untuned.close().await;
    }
    measured
}

async fn reference_on(db: &Db, plugins: &mut [Plugin]) -> Result<(Duration, u64), RuntimeError> {
    rebuild_all(db, plugins).await?;
    let tenants = tenants(db).await?;
    let control = Control {
        count_pending: false,
        statement_per_event: true,
        ..Control::default()
    };
    let started = Instant::now();
    let mut applied = 0;
    let families: Vec<String> = plugins.iter().map(|p| p.family().to_owned()).collect();
    for family in families {
        for tenant in &tenants {
            let replay = ReplayOptions {
                family: Some(family.clone()),
                instance_id: Some(tenant.clone()),
                batch_size: 200,
                ..ReplayOptions::default()
            };
            let reports =
                runtime::replay_controlled(db, plugins, &replay, &control, &Quiet).await?;
            applied += no_failures(&reports)?;
        }
    }
    Ok((started.elapsed(), applied))
}

async fn tenants(db: &Db) -> Result<Vec<String>, StoreError> {
    let sql = "SELECT DISTINCT instance_id FROM events2 ORDER BY 1";
    Ok(match db {
        Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await?,
        Db::Postgres(pool) => {
            sqlx::query_scalar("SELECT DISTINCT instance_id FROM eventstore.events2 ORDER BY 1")
                .fetch_all(pool)
                .await?
        }
    })
}

/// Run the three paths, the full and the workers path each in a child
/// process `launcher` starts (finding the families where `place` says);
/// `say` receives a line per figure.
pub async fn run(
    scratch: &Scratch,
    mut plugins: Vec<Plugin>,
    options: Options,
    launcher: &Launcher,
    place: &Place,
    say: &mut dyn FnMut(String),
) -> Result<Figures, BenchError> {
    let db = &scratch.db;
    let dir = tempfile::tempdir()
        .map_err(|e| StoreError::Corrupt(format!("a directory for the stream: {e}")))?;
    let started = Instant::now();
    let n_events = load(db, &options, dir.path()).await?;
    stream::settle(db).await?;
    say(format!(
        "loaded {n_events} events over {} tenants in {:.1} s; {} families",
        options.tenants,
        started.elapsed().as_secs_f64(),
        plugins.len()
    ));
    let line = |name: &str, elapsed: Duration, applied: u64| {
        format!(
            "{name:>10}: {:>9.0} events/s ({:.2} s, {applied} family events applied)",
            n_events as f64 / elapsed.as_secs_f64().max(1e-9),
            elapsed.as_secs_f64(),
        )
    };
    let full_path = child::replay_path(launcher, place, options.batch_size, 1, say).await?;
    say(line("full", full_path.elapsed, full_path.applied));
    let expected = tables(db, &plugins).await?;
    let same = |name: &str, got: Vec<(String, i64, String)>| -> Result<(), StoreError> {
        if got == expected {
            Ok(())
        } else {
            Err(StoreError::Corrupt(format!(
                "the {name} path's tables differ from the full path's"
            )))
        }
    };
    // Each later path starts from written-out buffers: none pays for
    // another's writes.
    stream::checkpoint(db).await?;
    let workers_path =
        child::replay_path(launcher, place, options.batch_size, options.workers, say).await?;
    let workers_name = format!("workers{}", options.workers);
    say(line(
        &workers_name,
        workers_path.elapsed,
        workers_path.applied,
    ));
    same("workers", tables(db, &plugins).await?)?;
    stream::checkpoint(db).await?;
    let (reference_elapsed, reference_applied) = reference(scratch, &mut plugins).await?;
    say(line("reference", reference_elapsed, reference_applied));
    same("reference", tables(db, &plugins).await?)?;
    for (name, applied) in [
        ("workers", workers_path.applied),
        ("reference", reference_applied),
    ] {
        if applied != full_path.applied {
            return Err(StoreError::Corrupt(format!(
                "the {name} path applied {applied} events, the full path {}",
                full_path.applied
            ))
            .into());
        }
    }
    Ok(Figures {
        n_events,
        n_applied: full_path.applied,
        full: full_path.elapsed,
        workers: workers_path.elapsed,
        reference: reference_elapsed,
        peak_rss_mb: full_path.peak_rss_mb,
        workers_peak_rss_mb: workers_path.peak_rss_mb,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Figures, in_the_past};
    use crate::error::BenchError;

    #[test]
    fn the_line_gives_each_ratio_from_the_paths_times() {
        let figures = Figures {
            n_events: 1000,
            n_applied: 1200,
            full: Duration::from_secs(10),
            workers: Duration::from_secs(4),
            reference: Duration::from_secs(100),
            peak_rss_mb: 120.4,
            workers_peak_rss_mb: 150.6,
        };
        let line = figures.summary_line(2);
        for part in [
            "full=100/s",
            "reference=10/s",
            "full/reference=10.00",
            "workers2/full=2.50",
            "workers2/reference=25.00",
            "peak_rss_mb=120",
            "workers_peak_rss_mb=151",
        ] {
            assert!(line.split(' ').any(|p| p == part), "{part} in {line}");
        }
    }

    #[test]
    fn a_stream_that_ends_in_the_future_is_refused() {
        let past = serde_json::json!("1790812800.000000");
        assert!(in_the_past(Some(&past)).is_ok());
        let future = serde_json::json!("4102444800.000001");
        let err = in_the_past(Some(&future)).unwrap_err();
        assert!(
            matches!(&err, BenchError::Stream(m) if m.contains("after the present")),
            "{err}"
        );
        assert!(in_the_past(Some(&serde_json::json!(4102444800.5))).is_err());
    }
}
