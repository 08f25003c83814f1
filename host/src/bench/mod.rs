//! `projector bench`: measurements on scratch databases.
//!
//! Every bench works in a database of its own (a fresh PostgreSQL database
//! on the server `--database-url` names, dropped afterwards, or a temporary
//! SQLite file), so it never touches existing data.

pub mod barrier;
pub mod ceiling;
pub mod stream;
pub mod throughput;

use std::time::{Duration, Instant};

use serde_json::json;

use crate::plugin::Plugin;
use crate::runtime::follow::{FollowOptions, follow};
use crate::runtime::{Quiet, RuntimeError};
use crate::source::import;
use crate::store::{Db, StoreError};

/// A database that exists for one bench.
#[derive(Debug)]
pub struct Scratch {
    /// The open store.
    pub db: Db,
    /// Its URL.
    pub url: String,
    admin_url: Option<String>,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

impl Scratch {
    /// Create a scratch database next to `url` (same server, or a temp file).
    pub async fn create(url: &str) -> Result<Scratch, StoreError> {
        let name = format!("projector_bench_{}", std::process::id());
        if url.starts_with("postgres") {
            let admin = sqlx::PgPool::connect(url)
                .await
                .map_err(|cause| StoreError::Connect {
                    url: url.to_owned(),
                    cause,
                })?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                .execute(&admin)
                .await?;
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&admin)
                .await?;
            admin.close().await;
            let base = url.split('?').next().unwrap_or(url);
            let cut = base.rfind('/').unwrap_or(base.len());
            let scratch_url = format!("{}/{name}", &base[..cut]);
            let db = Db::open(&scratch_url).await?;
            Ok(Scratch {
                db,
                url: scratch_url,
                admin_url: Some(url.to_owned()),
                name,
                _dir: None,
            })
        } else {
            let dir = tempfile::tempdir().map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let scratch_url = format!("sqlite://{}", dir.path().join("bench.db").display());
            let db = Db::open(&scratch_url).await?;
            Ok(Scratch {
                db,
                url: scratch_url,
                admin_url: None,
                name,
                _dir: Some(dir),
            })
        }
    }

    /// Close and drop the scratch database.
    pub async fn drop_database(self) -> Result<(), StoreError> {
        self.db.close().await;
        if let Some(admin_url) = &self.admin_url {
            let admin = sqlx::PgPool::connect(admin_url).await?;
            sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&admin)
            .await?;
            admin.close().await;
        }
        Ok(())
    }
}

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
            let plugin = Plugin::from_bytes(&bytes, &path, None, crate::plugin::Limits::default())
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
    while crate::store::state::stored_description(&db, "orgs")
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
