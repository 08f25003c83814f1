//! Changing the users family without downtime, measured in one run on one
//! scratch database: a plain rebuild in place (drop, replay), the same
//! version built beside the live tables and cut over (`plugin deploy` of a
//! version whose tables differ does this), the longest a reader of the
//! canonical table waited while the cutover ran, and `verify`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use host::plugin::Plugin;
use host::runtime::verify::{self, VerifyOptions};
use host::runtime::{self, Control, Quiet, ReplayOptions, RuntimeError, deploy};
use host::store::{Db, StoreError, ddl};

use crate::scratch::Scratch;
use crate::stream;

/// What to measure.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Events in the users stream.
    pub events: usize,
    /// Tenants it is spread over.
    pub tenants: usize,
    /// Events per plugin call and transaction.
    pub batch_size: usize,
}

/// The figures.
#[derive(Debug, Clone)]
pub struct Figures {
    /// A rebuild in place: drop the tables, replay from the first event.
    pub rebuild: Duration,
    /// Built beside the live tables, then cut over.
    pub blue_green: Duration,
    /// The cutover transaction alone.
    pub cutover: Duration,
    /// The longest a reader's query of the canonical table took while the
    /// version was built and cut over.
    pub longest_read: Duration,
    /// The median read while the build and cutover ran.
    pub median_read: Duration,
    /// `verify` of the family.
    pub verify: Duration,
    /// Rows verify found drifted (0 expected).
    pub drifted: u64,
}

/// Drop the family's tables and replay it from the first event.
async fn rebuild_in_place(
    db: &Db,
    users: &mut Plugin,
    replay: &ReplayOptions,
    control: &Control,
) -> Result<Duration, RuntimeError> {
    ddl::rebuild(db, &users.description, &users.hash).await?;
    let started = Instant::now();
    runtime::replay_controlled(db, std::slice::from_mut(users), replay, control, &Quiet).await?;
    Ok(started.elapsed())
}

async fn read_once(db: &Db) -> Result<Duration, StoreError> {
    let sql = "SELECT count(*) FROM users_projection";
    let started = Instant::now();
    let _: i64 = match db {
        Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await?,
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await?,
    };
    Ok(started.elapsed())
}

/// Load the stream, replay it, then measure the rebuild, the blue/green
/// build with a reader polling, and verify; `say` receives a line per figure.
pub async fn run(
    scratch: &Scratch,
    mut users: Plugin,
    options: Options,
    say: &mut dyn FnMut(String),
) -> Result<Figures, RuntimeError> {
    let db = &scratch.db;
    let n = stream::load(db, options.events, options.tenants).await?;
    say(format!(
        "loaded {n} user events over {} tenants",
        options.tenants
    ));
    let replay = ReplayOptions {
        batch_size: options.batch_size,
        ..ReplayOptions::default()
    };
    let control = Control {
        count_pending: false,
        ..Control::default()
    };
    stream::settle(db).await?;
    let rebuild = rebuild_in_place(db, &mut users, &replay, &control).await?;
    say(format!("rebuild in place: {:.2}s", rebuild.as_secs_f64()));

    // A reader polls the canonical table while the version is built aside
    // and cut over.
    let reading = Arc::new(AtomicBool::new(true));
    let reader = {
        let (db, reading) = (db.clone(), reading.clone());
        tokio::spawn(async move {
            let mut reads = Vec::new();
            while reading.load(Ordering::SeqCst) {
                reads.push(read_once(&db).await?);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            Ok::<_, StoreError>(reads)
        })
    };
    let build = deploy::BuildOptions {
        batch_size: options.batch_size,
        ..deploy::BuildOptions::default()
    };
    let started = Instant::now();
    deploy::build(db, &mut users, true, build, &Quiet).await?;
    let cut = Instant::now();
    let live = users.description.clone();
    // The version cut over to is the same plugin: what is measured is the
    // build beside the live tables and the renames, whatever they hold.
    host::store::cutover::cut_over(db, &live, users.canonical(), &users.hash, None).await?;
    let cutover = cut.elapsed();
    let blue_green = started.elapsed();
    tokio::time::sleep(Duration::from_millis(20)).await;
    reading.store(false, Ordering::SeqCst);
    let reads = reader
        .await
        .map_err(|e| StoreError::Corrupt(format!("reader task: {e}")))??;
    let longest_read = reads.iter().copied().max().unwrap_or_default();
    let mut sorted = reads.clone();
    sorted.sort();
    let median_read = sorted.get(sorted.len() / 2).copied().unwrap_or_default();
    say(format!(
        "blue/green build and cutover: {:.2}s (cutover {:.1} ms); reader: {} queries, median {:.2} ms, longest {:.1} ms",
        blue_green.as_secs_f64(),
        cutover.as_secs_f64() * 1e3,
        reads.len(),
        median_read.as_secs_f64() * 1e3,
        longest_read.as_secs_f64() * 1e3
    ));
    host::store::cutover::drop_kept(db, users.family()).await?;

    let verify_options = VerifyOptions {
        family: Some(users.family().to_owned()),
        instance_id: None,
        examples: 3,
        batch_size: options.batch_size,
        barrier: replay.barrier,
    };
    let started = Instant::now();
    let verdicts = verify::verify(
        db,
        std::slice::from_mut(&mut users),
        &verify_options,
        &Quiet,
    )
    .await?;
    let verify = started.elapsed();
    let drifted: u64 = verdicts.iter().map(verify::Verdict::n_drifted).sum();
    say(format!(
        "verify: {:.2}s, {drifted} rows drifted",
        verify.as_secs_f64()
    ));
    Ok(Figures {
        rebuild,
        blue_green,
        cutover,
        longest_read,
        median_read,
        verify,
        drifted,
    })
}
