//! `projector plugin`: list versions, deploy a new one, roll back to the
//! previous one.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

use super::{load_plugins, open};
use crate::config::Config;
use crate::plugin::registry;
use crate::store::Db;

/// `plugin` subcommands.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// List plugins: the active version of each family and earlier deployments.
    List,
    /// Deploy a new version of a family (its tables must match the live ones).
    Deploy {
        /// The plugin component (`.wasm`).
        file: PathBuf,
        /// Who deploys it (default: $USER).
        #[arg(long, env = "USER", default_value = "unknown")]
        by: String,
    },
    /// Re-activate the version deployed before the active one.
    Rollback {
        /// The family.
        family: String,
    },
}

pub(super) async fn plugins(config: &Config, command: PluginCommand) -> Result<ExitCode> {
    let db = open(config).await?;
    match command {
        PluginCommand::List => list(config, &db).await?,
        PluginCommand::Deploy { file, by } => {
            let plugin =
                registry::deploy(&db, &file, &by, config.cache_dir.as_deref(), config.limits)
                    .await?;
            say!(
                "deployed {} {} sha256:{}; a running `projector run` switches at its next batch",
                plugin.family(),
                plugin.description.version,
                plugin.hash
            );
        }
        PluginCommand::Rollback { family } => {
            match registry::rollback(
                &db,
                &family,
                &config.plugin_dir,
                config.cache_dir.as_deref(),
                config.limits,
            )
            .await?
            {
                Some(hash) => say!("{family}: sha256:{hash} is active again"),
                None => say!("{family}: the plugin directory's version is active again"),
            }
        }
    }
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

/// The active version of each family, then the inactive deployments.
async fn list(config: &Config, db: &Db) -> Result<()> {
    let effective = load_plugins(config, db).await?;
    for plugin in &effective {
        let d = &plugin.description;
        let origin = if plugin.deployed {
            "deployed".to_owned()
        } else {
            plugin.path.display().to_string()
        };
        say!(
            "{} {} sha256:{} active ({origin})",
            d.name,
            d.version,
            plugin.hash
        );
        for t in &d.tables {
            say!("  {}", t.name);
        }
    }
    for d in registry::deployments(db)
        .await?
        .iter()
        .filter(|d| !d.active)
    {
        say!(
            "{} {} sha256:{} deployed {} by {}, inactive",
            d.family,
            d.version,
            d.hash,
            crate::time::format_micros(d.deployed_at),
            d.deployed_by
        );
    }
    Ok(())
}
