//! `projector failed`: list failed events, make them due for a retry, skip
//! one on purpose.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

use super::open;
use crate::config::Config;
use crate::runtime;
use crate::store::{StoreError, state};

/// `failed` subcommands.
#[derive(Debug, Subcommand)]
pub enum FailedCommand {
    /// List failed events with their errors and next retry.
    List,
    /// Make failed events due for a retry now (`run` picks them up; `replay` always retries).
    Retry {
        /// The failed event's id (see `failed list`).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<i64>,
        /// Every failed event.
        #[arg(long)]
        all: bool,
    },
    /// Skip a failed event on purpose: recorded with who and when; the
    /// family moves past it for that tenant.
    Skip {
        /// The failed event's id (see `failed list`).
        id: i64,
        /// Who skips it (default: $USER).
        #[arg(long, env = "USER", default_value = "unknown")]
        by: String,
    },
}

pub(super) async fn failed(config: &Config, command: FailedCommand) -> Result<ExitCode> {
    let db = open(config).await?;
    match command {
        FailedCommand::List => {
            let failures = state::failures(&db).await?;
            if failures.is_empty() {
                say!("no failed events");
            }
            for f in failures {
                let retry = f
                    .retry_after
                    .map_or_else(|| "-".to_owned(), crate::time::format_micros);
                say!(
                    "#{} {} {} {}/{} seq {} {} failed {}x, next retry {}\n    {}",
                    f.id,
                    f.family,
                    f.instance_id,
                    f.aggregate_type,
                    f.aggregate_id,
                    f.sequence,
                    f.event_type,
                    f.failure_count,
                    retry,
                    f.error
                );
            }
        }
        FailedCommand::Retry { id, all } => {
            let n = state::retry_now(&db, if all { None } else { id }).await?;
            match (n, id) {
                (0, Some(id)) if !all => return Err(StoreError::NoFailedEvent(id).into()),
                (0, _) => say!("no failed events to retry"),
                (n, _) => say!("{n} failed events are due for a retry now"),
            }
        }
        FailedCommand::Skip { id, by } => {
            let f = runtime::skip_failed(&db, id, &by).await?;
            say!(
                "skipped #{id}: {} {} {}/{} seq {} ({}), recorded as skipped by {by}",
                f.family,
                f.instance_id,
                f.aggregate_type,
                f.aggregate_id,
                f.sequence,
                f.event_type
            );
        }
    }
    db.close().await;
    Ok(ExitCode::SUCCESS)
}
