//! `projector-bench barrier`: what the read barrier adds to every batch on
//! PostgreSQL, per mode, at several tenant counts, with idle connections to
//! the database.
//!
//! For each tenant count the scratch store holds one event per tenant, and
//! `idle` extra connections sit idle in the database (every connection is a
//! row `xact` reads in `pg_stat_activity`). No writer is in flight, so the
//! figures are the barrier's own cost: the clock, the waits' looks at
//! `pg_stat_activity` or `pg_locks`, and for `xact` its grace of
//! [`order::GRACE`]. For comparison, `per-tenant locks` takes and releases
//! the exclusive write lock of every tenant (the way Zitadel's own
//! projections wait, one instance at a time), which grows with the tenants.

use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::Connection as _;
use sqlx::postgres::PgConnection;

use host::runtime::RuntimeError;
use host::source::import;
use host::source::order::{self, Barrier, BarrierMode};
use host::store::{Db, StoreError};

use crate::scratch::Scratch;

/// What to measure.
#[derive(Debug, Clone)]
pub struct Options {
    /// Tenant counts, one measurement each.
    pub tenants: Vec<usize>,
    /// Barrier waits timed per mode and tenant count.
    pub calls: usize,
    /// Idle connections held open to the database meanwhile.
    pub idle: usize,
}

/// One line of figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// Tenants in the store.
    pub tenants: usize,
    /// What was timed.
    pub what: String,
    /// Median per batch.
    pub median: Duration,
    /// 99th percentile.
    pub p99: Duration,
}

impl Figures {
    /// `tenants=T idle=I what: median M ms, p99 P ms`.
    pub fn line(&self, idle: usize) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        format!(
            "tenants={:<5} idle={idle:<4} {:<18} median {:>7.3} ms  p99 {:>7.3} ms",
            self.tenants,
            self.what,
            ms(self.median),
            ms(self.p99)
        )
    }
}

fn figures(tenants: usize, what: &str, mut times: Vec<Duration>) -> Figures {
    times.sort();
    let at = |q: f64| {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let idx = ((times.len() as f64 - 1.0) * q).round() as usize;
        times.get(idx).copied().unwrap_or_default()
    };
    Figures {
        tenants,
        what: what.to_owned(),
        median: at(0.5),
        p99: at(0.99),
    }
}

/// Run the measurements on a PostgreSQL scratch database; `out` gets one
/// line per figure as it is measured.
pub async fn run(
    scratch: &Scratch,
    options: &Options,
    out: &mut dyn FnMut(String),
) -> Result<Vec<Figures>, RuntimeError> {
    let db = &scratch.db;
    let Db::Postgres(pool) = db else {
        return Err(RuntimeError::Store(StoreError::BadValue(
            "the barrier bench needs PostgreSQL (SQLite has no read barrier)".into(),
        )));
    };
    let mut idle = Vec::with_capacity(options.idle);
    for _ in 0..options.idle {
        let conn = PgConnection::connect(&scratch.url)
            .await
            .map_err(StoreError::from)?;
        idle.push(conn);
    }
    let mut all = Vec::new();
    let mut stored = 0;
    for &tenants in &options.tenants {
        // One event per tenant, added up to this count.
        let lines: String = (stored..tenants)
            .map(|t| {
                let line = json!({"instance_id": format!("tenant-{t}"), "aggregate_type": "org",
                    "aggregate_id": "org", "event_type": "org.added", "owner": "org",
                    "payload": {"name": "Org"}});
                format!("{line}\n")
            })
            .collect();
        if !lines.is_empty() {
            let parsed =
                import::parse(&lines, "bench").map_err(|e| StoreError::Corrupt(e.to_string()))?;
            import::append(db, &parsed).await?;
        }
        stored = stored.max(tenants);
        for mode in [BarrierMode::Xact, BarrierMode::Locks] {
            let barrier = Barrier::new(db, mode).await?;
            let mut times = Vec::with_capacity(options.calls);
            for _ in 0..options.calls {
                let started = Instant::now();
                barrier.wait(db, None).await?;
                times.push(started.elapsed());
            }
            let f = figures(tenants, &format!("barrier {mode}"), times);
            out(f.line(options.idle));
            all.push(f);
        }
        let names: Vec<String> = (0..tenants).map(|t| format!("tenant-{t}")).collect();
        let lock_each = format!(
            "SELECT count(*) FROM (SELECT pg_advisory_lock(k.c, k.h), pg_advisory_unlock(k.c, k.h) \
             FROM (SELECT '{}'::regclass::oid::int AS c, hashtext(i) AS h FROM unnest($1::text[]) i) k) s",
            db.events_table()
        );
        let mut times = Vec::with_capacity(options.calls);
        for _ in 0..options.calls {
            let started = Instant::now();
            sqlx::query(&lock_each)
                .bind(&names)
                .execute(pool)
                .await
                .map_err(StoreError::from)?;
            times.push(started.elapsed());
        }
        let f = figures(tenants, "per-tenant locks", times);
        out(f.line(options.idle));
        all.push(f);
    }
    for conn in idle {
        conn.close().await.map_err(StoreError::from)?;
    }
    out(format!(
        "(xact ends its wait only with a look that began at least {} ms after the bound)",
        order::GRACE.as_millis()
    ));
    Ok(all)
}
