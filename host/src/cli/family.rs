//! `projector family`: pause and resume a family. The pause is recorded in
//! the database ([`crate::store::pause`]); a running `run` honours it at its
//! next batch edge, `status` lists it, the metrics show it.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

use super::open;
use crate::config::Config;
use crate::store::Db;
use crate::store::pause::{self, Transition};
use crate::time;

/// `family` subcommands.
#[derive(Debug, Subcommand)]
pub enum FamilyCommand {
    /// Pause a family: a running `run` starts no batch of it from its next
    /// round (the batch in flight commits) until `family resume`.
    Pause {
        /// The family (an installed one).
        family: String,
        /// Who pauses it (default: $USER).
        #[arg(long, env = "USER", default_value = "unknown")]
        by: String,
    },
    /// Resume a paused family: `run` takes it up again at its next round,
    /// from its checkpoints.
    Resume {
        /// The family.
        family: String,
    },
}

pub(super) async fn family(config: &Config, command: FamilyCommand) -> Result<ExitCode> {
    let db = open(config).await?;
    let done = match command {
        FamilyCommand::Pause { family, by } => pause_family(&db, &family, &by).await,
        FamilyCommand::Resume { family } => resume_family(&db, &family).await,
    };
    db.close().await;
    done?;
    Ok(ExitCode::SUCCESS)
}

async fn pause_family(db: &Db, family: &str, by: &str) -> Result<()> {
    match pause::pause(db, family, by).await? {
        Transition::AlreadyPaused(p) => say!(
            "{family} was paused already, by {} at {}",
            p.paused_by,
            time::format_micros(p.paused_at)
        ),
        _ => say!(
            "paused {family} (by {by}): `run` starts no batch of it from its next round; \
             `projector family resume {family}` takes it up again"
        ),
    }
    Ok(())
}

async fn resume_family(db: &Db, family: &str) -> Result<()> {
    match pause::resume(db, family).await? {
        Transition::NotPaused => say!("{family} was not paused"),
        _ => say!("resumed {family}: `run` takes it up at its next round"),
    }
    Ok(())
}
