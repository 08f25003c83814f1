//! A bench path in a child process of its own, so the peak RSS it reports
//! is the path's alone: nothing the parent generated, loaded or kept is in
//! it.
//!
//! The parent starts the child through a [`Launcher`] (by default this
//! binary, `projector-bench replay-path ...`), reads the lines it prints,
//! passes its report lines on, and takes its figures from the one line
//! that starts with [`FIGURES`].

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::error::BenchError;

/// The start of the line that carries a child's figures.
pub const FIGURES: &str = "replay-path figures: ";

/// The start of a child's report line, which the parent passes on.
pub const REPORT: &str = "replay-path report: ";

/// What a path measured in a child process.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathFigures {
    /// Wall time of the replay (loading the plugins not counted).
    pub elapsed: Duration,
    /// Events the families applied.
    pub applied: u64,
    /// The child's peak RSS, MiB.
    pub peak_rss_mb: f64,
}

impl PathFigures {
    /// The line the child prints.
    pub fn line(&self) -> String {
        format!(
            "{FIGURES}elapsed_s={:.6} applied={} peak_rss_mb={:.1}",
            self.elapsed.as_secs_f64(),
            self.applied,
            self.peak_rss_mb
        )
    }

    /// Read the figures back from a child's line.
    pub fn parse(line: &str) -> Option<PathFigures> {
        let rest = line.strip_prefix(FIGURES)?;
        let mut fields = rest.split_whitespace().map(|f| f.split_once('='));
        let (Some(("elapsed_s", e)), Some(("applied", a)), Some(("peak_rss_mb", m))) =
            (fields.next()?, fields.next()?, fields.next()?)
        else {
            return None;
        };
        let elapsed = e
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0)?;
        Some(PathFigures {
            elapsed: Duration::from_secs_f64(elapsed),
            applied: a.parse().ok()?,
            peak_rss_mb: m.parse().ok()?,
        })
    }
}

/// A function from a child's arguments to its command.
type Build = dyn Fn(&[String]) -> Command + Send + Sync;

/// Builds the command of a child process from the arguments of its
/// `projector-bench` command line (without the program name).
pub struct Launcher(Box<Build>);

impl std::fmt::Debug for Launcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Launcher")
    }
}

impl Launcher {
    /// A launcher from a function of the child's arguments.
    pub fn new(build: impl Fn(&[String]) -> Command + Send + Sync + 'static) -> Launcher {
        Launcher(Box::new(build))
    }

    /// This binary, started again with the child's arguments.
    pub fn this_binary() -> Result<Launcher, BenchError> {
        let exe = std::env::current_exe().map_err(|e| BenchError::Child {
            what: "this binary's path".into(),
            detail: e.to_string(),
        })?;
        Ok(Launcher::new(move |args| {
            let mut command = Command::new(&exe);
            command.args(args);
            command
        }))
    }
}

/// Where the child finds the store and the families.
#[derive(Debug, Clone)]
pub struct Place {
    /// The database URL.
    pub database_url: String,
    /// The plugin directory.
    pub plugins: PathBuf,
    /// The compiled-plugin cache.
    pub cache: PathBuf,
}

/// Run the full path (`replay-path`) with `batch_size` and `workers` in a
/// child; `say` receives the lines it reports.
pub async fn replay_path(
    launcher: &Launcher,
    place: &Place,
    batch_size: usize,
    workers: usize,
    say: &mut dyn FnMut(String),
) -> Result<PathFigures, BenchError> {
    let path = |p: &Path| p.to_string_lossy().into_owned();
    let args: Vec<String> = vec![
        "--database-url".into(),
        place.database_url.clone(),
        "--plugins".into(),
        path(&place.plugins),
        "--cache".into(),
        path(&place.cache),
        "replay-path".into(),
        "--batch-size".into(),
        batch_size.to_string(),
        "--workers".into(),
        workers.to_string(),
    ];
    let mut command = (launcher.0)(&args);
    command.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let plural = if workers == 1 { "" } else { "s" };
    let what = format!("the child process of the full path on {workers} worker{plural}");
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .map_err(|e| BenchError::Child {
            what: what.clone(),
            detail: e.to_string(),
        })?
        .map_err(|e| BenchError::Child {
            what: what.clone(),
            detail: format!("could not start: {e}"),
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut figures = None;
    for line in stdout.lines() {
        if let Some(report) = line.strip_prefix(REPORT) {
            say(report.to_owned());
        } else if line.starts_with(FIGURES) {
            figures = PathFigures::parse(line);
        }
    }
    if !output.status.success() {
        return Err(BenchError::Child {
            what,
            detail: format!("exited with {} (its errors are above)", output.status),
        });
    }
    figures.ok_or_else(|| BenchError::Child {
        what,
        detail: format!("printed no readable line starting {FIGURES:?}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_back_what_the_child_prints() {
        let figures = PathFigures {
            elapsed: Duration::from_millis(12_345),
            applied: 98_765,
            peak_rss_mb: 87.5,
        };
        let read = PathFigures::parse(&figures.line()).unwrap();
        assert_eq!(read.applied, 98_765);
        assert_eq!(read.peak_rss_mb, 87.5);
        assert!((read.elapsed.as_secs_f64() - 12.345).abs() < 1e-6);
    }

    #[test]
    fn a_line_that_is_not_figures_reads_as_none() {
        for line in [
            "full: 1000 events/s",
            "replay-path figures: elapsed_s=1 applied=2",
            "replay-path figures: elapsed_s=-1 applied=2 peak_rss_mb=3",
            "replay-path figures: elapsed_s=x applied=2 peak_rss_mb=3",
            "replay-path figures: applied=2 elapsed_s=1 peak_rss_mb=3",
        ] {
            assert_eq!(PathFigures::parse(line), None, "{line}");
        }
    }
}
