//! `projector verify`: replay families into scratch tables and compare them
//! with the live rows; exit 1 on any drift.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::replay::Bars;
use super::{BARRIER_HELP, at_least_one, load_plugins, open};
use crate::config::Config;
use crate::runtime::verify::{self, Verdict, VerifyOptions};
use crate::source::order::{Barrier, BarrierMode};
use crate::store::compare::{DriftKind, RowDrift};

/// `verify` flags.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Only this family.
    #[arg(long)]
    pub family: Option<String>,
    /// Only this tenant.
    #[arg(long)]
    pub instance: Option<String>,
    /// Examples shown per table and kind of drift.
    #[arg(long, default_value_t = 5)]
    pub examples: usize,
    /// Events per plugin call and transaction of the scratch replay.
    #[arg(long, default_value_t = crate::runtime::DEFAULT_BATCH_SIZE, value_parser = at_least_one)]
    pub batch_size: usize,
    /// How reads wait for writers in flight (PostgreSQL).
    #[arg(long, env = "PROJECTOR_BARRIER", default_value = "xact", value_name = "xact|locks", long_help = BARRIER_HELP)]
    pub barrier: BarrierMode,
}

pub(super) async fn verify(config: &Config, args: VerifyArgs) -> Result<ExitCode> {
    let db = open(config).await?;
    Barrier::new(&db, args.barrier).await?;
    let mut plugins = load_plugins(config, &db).await?;
    let options = VerifyOptions {
        family: args.family,
        instance_id: args.instance,
        examples: args.examples,
        batch_size: args.batch_size,
        barrier: args.barrier,
    };
    let verdicts = verify::verify(&db, &mut plugins, &options, &Bars::default()).await?;
    db.close().await;
    let mut drifted = 0u64;
    let mut incomplete = false;
    for verdict in &verdicts {
        print_verdict(verdict)?;
        drifted += verdict.n_drifted();
        incomplete |= !verdict.is_clean() && verdict.n_drifted() == 0;
    }
    if drifted > 0 {
        say!("drift: {drifted} rows");
        return Ok(ExitCode::from(1));
    }
    if incomplete {
        say!("no drift found, but not everything was compared");
        return Ok(ExitCode::from(1));
    }
    say!("no drift");
    Ok(ExitCode::SUCCESS)
}

pub(super) fn print_verdict(verdict: &Verdict) -> Result<()> {
    let family = &verdict.family;
    if let Some(reason) = &verdict.skipped {
        say!("{family}: not verified: {reason}");
        return Ok(());
    }
    say!(
        "{family}: {} tenants compared, {} events replayed by {} in {:.2}s; {} rows drifted",
        verdict.tenants.len(),
        verdict.n_events,
        verdict.version,
        verdict.elapsed.as_secs_f64(),
        verdict.n_drifted()
    );
    for (table, drift) in &verdict.drift {
        for ((tenant, kind), n) in &drift.counts {
            say!("  {table} tenant {tenant:?}: {n} {kind}");
        }
        for example in &drift.examples {
            say!("    {}", describe(example));
        }
    }
    if !verdict.not_compared.is_empty() {
        say!(
            "  not compared (still moving after {} rounds): {}",
            verify::ROUNDS,
            verdict.not_compared.join(", ")
        );
    }
    for (tenant, failure) in &verdict.failures {
        say!("  the plugin fails on an event of tenant {tenant:?}: {failure}");
    }
    Ok(())
}

/// One example: kind, key, and for a different row each column's values.
fn describe(row: &RowDrift) -> String {
    let key: Vec<String> = row.key.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut line = format!("{} {}", row.kind, key.join(" "));
    if row.kind == DriftKind::Different {
        let show =
            |v: &Option<String>| v.as_deref().map_or("NULL".to_owned(), |v| format!("{v:?}"));
        for (column, live, expected) in &row.columns {
            line.push_str(&format!(
                "; {column}: live {} expected {}",
                show(live),
                show(expected)
            ));
        }
    }
    line
}
