//! `projector-bench live`: commit-to-projected-row latency while `run`
//! follows the orgs family.

use std::time::{Duration, Instant};

use host::plugin::{Limits, Plugin};
use host::runtime::follow::{FollowOptions, follow};
use host::runtime::{Quiet, RuntimeError};
use host::source::import;
use host::store::{Db, StoreError};
use serde_json::json;

use crate::scratch::Scratch;

/// Latency figures.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyReport {
    /// Events measured.
    pub n_events: usize,
    /// Median commit-to-row latency.
    pub median: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Worst.
    pub max: Duration,
}

/// Commit-to-projected-row latency while `run` follows: append one event at
/// a time (each its own transaction) and time until its row exists.
pub async fn live_latency(
    scratch: &Scratch,
    plugin_bytes: (Vec<u8>, std::path::PathBuf),
    n_events: usize,
) -> Result<LatencyReport, RuntimeError> {
    let db = scratch.db.clone();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let follower_db = db.clone();
    let (bytes, path) = plugin_bytes;
    let follower = std::thread::spawn(move || -> Result<(), String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async move {
            let plugin = Plugin::from_bytes(&bytes, &path, None, Limits::default())
                .map_err(|e| e.to_string())?;
            let mut plugins = vec![plugin];
            let options = FollowOptions {
                batch_size: 100,
                poll_interval: Duration::from_millis(50),
                ..FollowOptions::default()
            };
            follow(&follower_db, &mut plugins, &options, stop_rx, None, &Quiet)
                .await
                .map_err(|e| e.to_string())
        })
    });
    // Wait until the follower created the tables.
    let started = Instant::now();
    while host::store::state::stored_description(&db, "orgs")
        .await?
        .is_none()
    {
        if started.elapsed() > Duration::from_secs(30) {
            return Err(RuntimeError::Store(StoreError::Corrupt(
                "the follower did not start".into(),
            )));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let probe = match &db {
        Db::Sqlite(_) => {
            "SELECT COUNT(*) FROM orgs_projection WHERE instance_id = 'bench' AND id = ?"
        }
        Db::Postgres(_) => {
            "SELECT COUNT(*) FROM orgs_projection WHERE instance_id = 'bench' AND id = $1"
        }
    };
    let mut latencies = Vec::with_capacity(n_events);
    for i in 0..n_events {
        let id = format!("org-{i}");
        let line = json!({"instance_id": "bench", "aggregate_type": "org", "aggregate_id": id,
                          "event_type": "org.added", "owner": id, "payload": {"name": format!("Org {i}")}});
        let parsed = import::parse(&format!("{line}\n"), "bench")
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        import::append(&db, &parsed).await?;
        let committed = Instant::now();
        loop {
            let n: i64 = match &db {
                Db::Sqlite(pool) => sqlx::query_scalar(probe)
                    .bind(&id)
                    .fetch_one(pool)
                    .await
                    .map_err(StoreError::from)?,
                Db::Postgres(pool) => sqlx::query_scalar(probe)
                    .bind(&id)
                    .fetch_one(pool)
                    .await
                    .map_err(StoreError::from)?,
            };
            if n > 0 {
                break;
            }
            if committed.elapsed() > Duration::from_secs(30) {
                return Err(RuntimeError::Store(StoreError::Corrupt(format!(
                    "event {i} was not projected within 30 s"
                ))));
            }
            tokio::time::sleep(Duration::from_micros(500)).await;
        }
        latencies.push(committed.elapsed());
    }
    let _ = stop_tx.send(true);
    let joined = follower
        .join()
        .map_err(|_| StoreError::Corrupt("the follower panicked".into()))?;
    joined.map_err(StoreError::Corrupt)?;
    latencies.sort();
    let at = |q: f64| {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let idx = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies.get(idx).copied().unwrap_or_default()
    };
    Ok(LatencyReport {
        n_events,
        median: at(0.5),
        p99: at(0.99),
        max: latencies.last().copied().unwrap_or_default(),
    })
}
