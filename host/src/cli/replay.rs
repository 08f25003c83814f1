//! `projector replay`: apply what each family has not applied yet (or
//! rebuild), with a progress bar per family and a closing events/s line.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::{BARRIER_HELP, at_least_one, load_plugins, open};
use crate::config::Config;
use crate::runtime::{self, FamilyReport, Progress, ReplayOptions};
use crate::source::order::{Barrier, BarrierMode};

/// `replay` flags.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Only this family.
    #[arg(long)]
    pub family: Option<String>,
    /// Only this tenant.
    #[arg(long)]
    pub instance: Option<String>,
    /// Rebuild: drop the family's tables (or the tenant's rows) and replay from the first event.
    #[arg(long)]
    pub from_start: bool,
    /// Events per plugin call and transaction.
    #[arg(long, default_value_t = crate::runtime::DEFAULT_BATCH_SIZE, value_parser = at_least_one)]
    pub batch_size: usize,
    /// How reads wait for writers in flight (PostgreSQL).
    #[arg(long, env = "PROJECTOR_BARRIER", default_value = "xact", value_name = "xact|locks", long_help = BARRIER_HELP)]
    pub barrier: BarrierMode,
    /// Workers replaying groups of (family, part) units side by side, each
    /// with a plugin instance of its own (1: one family after another).
    #[arg(long, default_value_t = 1, value_parser = at_least_one, value_name = "N")]
    pub workers: usize,
}

/// A progress bar per family, then a closing events/s line.
#[derive(Default)]
pub(super) struct Bars {
    bar: std::sync::Mutex<Option<ProgressBar>>,
}

impl Progress for Bars {
    fn start(&self, family: &str, total: u64) {
        let bar = ProgressBar::new(total);
        let style = ProgressStyle::with_template(
            "{prefix:>10} [{bar:30}] {pos}/{len} events {per_sec} {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(family.to_owned());
        bar.enable_steady_tick(Duration::from_millis(200));
        if let Ok(mut slot) = self.bar.lock() {
            *slot = Some(bar);
        }
    }

    fn advance(&self, n: u64) {
        if let Ok(slot) = self.bar.lock()
            && let Some(bar) = slot.as_ref()
        {
            bar.inc(n);
        }
    }

    fn finish(&self, report: &FamilyReport) {
        if let Ok(mut slot) = self.bar.lock()
            && let Some(bar) = slot.take()
        {
            bar.finish_and_clear();
        }
        let seconds = report.elapsed.as_secs_f64();
        let rate = if seconds > 0.0 {
            report.n_applied as f64 / seconds
        } else {
            0.0
        };
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stdout(),
            "{:>10}: {} events applied, {} failed, {} mutations in {:.2}s ({:.0} events/s)",
            report.family,
            report.n_applied,
            report.n_failed,
            report.n_mutations,
            seconds,
            rate
        );
    }
}

pub(super) async fn replay(config: &Config, args: ReplayArgs) -> Result<ExitCode> {
    let db = open(config).await?;
    Barrier::new(&db, args.barrier).await?;
    let mut plugins = load_plugins(config, &db).await?;
    let options = ReplayOptions {
        family: args.family,
        instance_id: args.instance,
        from_start: args.from_start,
        batch_size: args.batch_size,
        barrier: args.barrier,
        workers: args.workers,
    };
    let bars = Bars::default();
    let reports = runtime::replay(&db, &mut plugins, &options, &bars).await?;
    db.close().await;
    let mut code = ExitCode::SUCCESS;
    for report in &reports {
        if let Some(error) = &report.refused {
            eprintln!(
                "{}: not installed, nothing of it was created or applied: {error}",
                report.family
            );
            code = ExitCode::from(1);
        }
    }
    let failed: u64 = reports.iter().map(|r| r.n_failed).sum();
    if failed > 0 {
        eprintln!("{failed} events failed; see `projector status`");
        code = ExitCode::from(1);
    }
    Ok(code)
}
