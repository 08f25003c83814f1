//! `run`'s side of the leases ([`crate::store::lease`]): at a batch
//! boundary, every fifth of the lease time, the host renews what it holds
//! and moves toward its fair share; a family's replay then takes only the
//! tenants of the units held, and every apply checks their leases. A
//! family of which the host holds no unit gets no batch.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::store::lease::{Leaser, Share};
use crate::store::{Db, StoreError};

/// How `run` shares the work with other hosts (PostgreSQL).
#[derive(Debug, Clone)]
pub struct LeaseOptions {
    /// This host's name, unique among the hosts sharing the database.
    pub host: String,
    /// How long a lease lasts past a renewal: a host that dies has its
    /// units taken over this long (and at most a fifth more) after its
    /// last renewal.
    pub ttl: Duration,
}

/// The units held, renewed and balanced at batch boundaries.
pub(super) struct Leasing {
    leaser: Leaser,
    shares: BTreeMap<String, Arc<Share>>,
    renewed: Option<Instant>,
}

impl Leasing {
    pub(super) fn new(options: &LeaseOptions) -> Leasing {
        Leasing {
            leaser: Leaser::new(options.host.clone(), options.ttl),
            shares: BTreeMap::new(),
            renewed: None,
        }
    }

    /// When due, renew and balance; returns the families whose share
    /// changed (their read cursors rest on other tenants).
    pub(super) async fn refresh(
        &mut self,
        db: &Db,
        families: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let every = self.leaser.ttl() / 5;
        if self.renewed.is_some_and(|at| at.elapsed() < every) {
            return Ok(Vec::new());
        }
        if self.renewed.is_none() {
            self.leaser.register(db, families).await?;
        }
        self.renewed = Some(Instant::now());
        let held = self.leaser.renew(db).await?;
        let n_before: usize = self.shares.values().map(|s| s.tokens.len()).sum();
        let n_lost = n_before.saturating_sub(held.len());
        if n_lost > 0 {
            tracing::warn!(
                host = %self.leaser.host(),
                "lost {n_lost} units: their leases expired before they were renewed (another host \
                 may hold them now)"
            );
        }
        let held = self.leaser.balance(db, held).await?;
        let now: BTreeMap<String, Arc<Share>> = Share::of(self.leaser.host(), &held)
            .into_iter()
            .map(|(family, share)| (family, Arc::new(share)))
            .collect();
        let mut changed: Vec<String> = now
            .iter()
            .filter(|(family, share)| self.shares.get(*family) != Some(*share))
            .map(|(family, _)| family.clone())
            .collect();
        changed.extend(
            self.shares
                .keys()
                .filter(|family| !now.contains_key(*family))
                .cloned(),
        );
        if !changed.is_empty() {
            tracing::info!(
                host = %self.leaser.host(),
                units = held.len(),
                families = now.len(),
                "holds {} units of {} families",
                held.len(),
                now.len()
            );
        }
        self.shares = now;
        Ok(changed)
    }

    /// The share of `family` this host holds, if any.
    pub(super) fn share(&self, family: &str) -> Option<Arc<Share>> {
        self.shares.get(family).cloned()
    }

    /// A lease was found lost: renew and balance at the next boundary.
    pub(super) fn lost(&mut self) {
        self.renewed = None;
    }

    /// Give every unit back (a clean stop).
    pub(super) async fn resign(&self, db: &Db) -> Result<(), StoreError> {
        self.leaser.resign(db).await
    }
}
