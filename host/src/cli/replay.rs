//! `projector replay`: apply what each family has not applied yet (or
//! rebuild), with a progress bar per family and a closing events/s line.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

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

/// A progress bar per family, then a closing events/s line. Families that
/// run side by side (`--workers`) each keep a bar of their own.
#[derive(Default)]
pub(super) struct Bars {
    shown: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Bars {
    fn bar(&self, family: &str) -> Option<ProgressBar> {
        self.bars
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(family)
            .cloned()
    }
}

impl Progress for Bars {
    fn start(&self, family: &str, total: u64) {
        let bar = self.shown.add(ProgressBar::new(total));
        let style = ProgressStyle::with_template(
            "{prefix:>10} [{bar:30}] {pos}/{len} events {per_sec} {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(family.to_owned());
        bar.enable_steady_tick(Duration::from_millis(200));
        if let Some(replaced) = self
            .bars
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(family.to_owned(), bar)
        {
            replaced.finish_and_clear();
        }
    }

    fn advance(&self, family: &str, n: u64) {
        if let Some(bar) = self.bar(family) {
            bar.inc(n);
        }
    }

    fn finish(&self, report: &FamilyReport) {
        let bar = self
            .bars
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&report.family);
        if let Some(bar) = bar {
            bar.finish_and_clear();
            self.shown.remove(&bar);
        }
        let seconds = report.elapsed.as_secs_f64();
        let rate = if seconds > 0.0 {
            report.n_applied as f64 / seconds
        } else {
            0.0
        };
        // On standard output (the bars draw on standard error), with the
        // bars of families still running held back meanwhile.
        self.shown.suspend(|| {
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
        });
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

#[cfg(test)]
mod tests {
    use super::Bars;
    use crate::runtime::{FamilyReport, Progress};

    /// Families replayed side by side (`--workers`) each move their own bar.
    #[test]
    fn families_side_by_side_keep_bars_of_their_own() {
        let bars = Bars::default();
        bars.start("orgs", 10);
        bars.start("users", 20);
        bars.advance("orgs", 3);
        bars.advance("users", 5);
        bars.advance("orgs", 1);
        let position = |family: &str| bars.bar(family).map(|bar| bar.position());
        assert_eq!(position("orgs"), Some(4));
        assert_eq!(position("users"), Some(5));
        bars.finish(&FamilyReport {
            family: "orgs".to_owned(),
            ..FamilyReport::default()
        });
        assert_eq!(position("orgs"), None);
        bars.advance("users", 2);
        assert_eq!(position("users"), Some(7));
    }
}
