//! `projector status`: per family and tenant, the checkpoint, the events
//! behind and the failed events; then versions being built aside or run as
//! shadows, paused families, missed and failed events line by line.

use std::process::ExitCode;

use anyhow::Result;

use super::{load_plugins, open};
use crate::config::Config;
use crate::plugin::Plugin;
use crate::plugin::registry;
use crate::runtime;
use crate::store::lane::Lane;
use crate::store::{Db, lease, pause, state};
use crate::time;

pub(super) async fn status(config: &Config) -> Result<ExitCode> {
    let db = open(config).await?;
    let plugins = load_plugins(config, &db).await?;
    let checkpoints = state::checkpoints(&db).await?;
    let failures = state::failures(&db).await?;
    let paused = pause::paused(&db).await?;
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
        missed.extend(family_rows(&db, plugin, &checkpoints, &failures).await?);
    }
    staged(&db, &plugins, &checkpoints).await?;
    leases(&db).await?;
    for p in &paused {
        say!(
            "paused: {} since {} by {}: `run` starts no batch of it (projector family resume {})",
            p.family,
            time::format_micros(p.paused_at),
            p.paused_by,
            p.family
        );
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

/// A line per version being built aside or run as a shadow: its events
/// applied and still to apply (counted with the live version's
/// subscriptions).
async fn staged(db: &Db, plugins: &[Plugin], checkpoints: &[state::Checkpoint]) -> Result<()> {
    for d in registry::deployments(db).await? {
        let (Some(stage), false) = (d.stage, d.active) else {
            continue;
        };
        let key = Lane::Next.key(&d.family);
        let applied: i64 = checkpoints
            .iter()
            .filter(|c| c.family == key)
            .map(|c| c.n_consumed)
            .sum();
        let behind = match plugins.iter().find(|p| p.family() == d.family) {
            Some(live) => runtime::pending_in(db, live, Lane::Next)
                .await?
                .iter()
                .map(|(_, n)| n)
                .sum::<i64>()
                .to_string(),
            None => "?".to_owned(),
        };
        say!(
            "{}: {} {} sha256:{}: {applied} events applied, {behind} to go (tables projector_next_*)",
            stage.as_str(),
            d.family,
            d.version,
            d.hash
        );
    }
    Ok(())
}

/// Print one line per tenant of `plugin`; returns the tenants with events
/// missed below their checkpoint, with how many.
async fn family_rows<'a>(
    db: &Db,
    plugin: &'a Plugin,
    checkpoints: &[state::Checkpoint],
    failures: &[state::Failure],
) -> Result<Vec<(&'a str, String, i64)>> {
    let mut missed = Vec::new();
    let lag = runtime::lag(db, plugin).await?;
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
    Ok(missed)
}

/// Which host holds which units (PostgreSQL, once a `run` shared the work):
/// a line per host with its units per family, then the free ones.
async fn leases(db: &Db) -> Result<()> {
    use std::collections::BTreeMap;
    let mut by_host: BTreeMap<String, BTreeMap<String, Vec<i32>>> = BTreeMap::new();
    for unit in lease::holders(db).await? {
        let host = match (&unit.owner, unit.expired) {
            (Some(owner), false) => format!("host {owner}"),
            (Some(owner), true) => format!("expired (last held by {owner})"),
            (None, _) => "free".to_owned(),
        };
        by_host
            .entry(host)
            .or_default()
            .entry(unit.family)
            .or_default()
            .push(unit.part);
    }
    for (host, families) in by_host {
        let n: usize = families.values().map(Vec::len).sum();
        let list: Vec<String> = families
            .iter()
            .map(|(family, parts)| {
                let parts: Vec<String> = parts.iter().map(i32::to_string).collect();
                format!("{family} [{}]", parts.join(" "))
            })
            .collect();
        say!("units: {host}: {n} of (family, part): {}", list.join(", "));
    }
    Ok(())
}
