//! `projector events`: append events from JSON-lines files.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Subcommand;

use super::open;
use crate::config::Config;
use crate::source::import;

/// `events` subcommands.
#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Append events from JSON-lines files (one transaction per file).
    Import {
        /// Files to import.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

pub(super) async fn import_files(config: &Config, files: &[PathBuf]) -> Result<ExitCode> {
    let mut parsed = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        parsed.push((file, import::parse(&text, &file.display().to_string())?));
    }
    let db = open(config).await?;
    for (file, events) in parsed {
        let n = import::append(&db, &events)
            .await
            .with_context(|| format!("nothing of {} was imported", file.display()))?;
        say!("imported {n} events from {}", file.display());
    }
    db.close().await;
    Ok(ExitCode::SUCCESS)
}
