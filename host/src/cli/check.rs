//! `projector check`: conformance case files against the installed plugins.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use super::{load_plugins, open};
use crate::config::Config;

pub(super) async fn check(config: &Config, paths: &[PathBuf]) -> Result<ExitCode> {
    let cases = crate::check::load(paths)?;
    let db = open(config).await?;
    let mut plugins = load_plugins(config, &db).await?;
    db.close().await;
    let report = tokio::task::block_in_place(|| crate::check::run(&mut plugins, &cases))?;
    for verdict in &report.verdicts {
        if let Some(diff) = &verdict.failure {
            say!("FAIL {}\n{diff}\n", verdict.case);
        }
    }
    say!("{}", report.summary());
    Ok(if report.n_failed() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
