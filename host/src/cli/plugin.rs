//! `projector plugin`: list versions, deploy a new one (built aside and cut
//! over when its tables differ, or as a shadow), compare a shadow with the
//! live rows, promote or discard it, roll back, drop what a cutover kept.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

use super::replay::Bars;
use super::{BARRIER_HELP, at_least_one, load_plugins, open};
use crate::config::Config;
use crate::plugin::Plugin;
use crate::plugin::registry::{self, Deployed, Stage};
use crate::runtime::deploy;
use crate::runtime::verify::VerifyOptions;
use crate::source::order::BarrierMode;
use crate::store::{Db, cutover};

/// `plugin` subcommands.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// List plugins: the active version of each family and earlier deployments.
    List,
    /// Deploy a new version of a family: active at once when it declares the live tables,
    /// else built beside the live ones from the first event and cut over.
    Deploy {
        /// The plugin component (`.wasm`).
        file: PathBuf,
        /// Who deploys it (default: $USER).
        #[arg(long, env = "USER", default_value = "unknown")]
        by: String,
        /// Run it beside the live version into tables of its own, without cutting over
        /// (see `plugin diff`, `promote`, `discard`).
        #[arg(long)]
        shadow: bool,
        /// Events per plugin call and transaction while building.
        #[arg(long, default_value_t = crate::runtime::DEFAULT_BATCH_SIZE, value_parser = at_least_one)]
        batch_size: usize,
        /// How reads wait for writers in flight (PostgreSQL).
        #[arg(long, env = "PROJECTOR_BARRIER", default_value = "xact", value_name = "xact|locks", long_help = BARRIER_HELP)]
        barrier: BarrierMode,
    },
    /// Re-activate the version deployed before the active one (its kept tables, after a cutover).
    Rollback {
        /// The family.
        family: String,
    },
    /// Catch a shadow up and show how its rows differ from the live ones; exit 1 if they do.
    Diff {
        /// The family.
        family: String,
        /// Examples shown per table and kind of difference.
        #[arg(long, default_value_t = 5)]
        examples: usize,
    },
    /// Catch a shadow up and cut over to it.
    Promote {
        /// The family.
        family: String,
    },
    /// Drop a shadow (or a build left by an interrupted deploy) and forget its version.
    Discard {
        /// The family.
        family: String,
    },
    /// Drop the tables a cutover kept for a rollback.
    Gc {
        /// The family.
        family: String,
    },
}

pub(super) async fn plugins(config: &Config, command: PluginCommand) -> Result<ExitCode> {
    let db = open(config).await?;
    match command {
        PluginCommand::List => list(config, &db).await?,
        PluginCommand::Deploy {
            file,
            by,
            shadow,
            batch_size,
            barrier,
        } => {
            let build = deploy::BuildOptions {
                batch_size,
                barrier,
            };
            return deploy_file(config, db, &file, &by, shadow, build).await;
        }
        PluginCommand::Diff { family, examples } => {
            return diff(config, db, &family, examples).await;
        }
        PluginCommand::Promote { family } => {
            let (mut plugin, _) = staged(config, &db, &family).await?;
            let report = deploy::cut_over(
                &db,
                &mut plugin,
                deploy::BuildOptions::default(),
                &Bars::default(),
            )
            .await?;
            say!(
                "{family}: cut over to {} sha256:{} ({} events caught up); `plugin rollback {family}` brings the previous tables back",
                plugin.description.version,
                plugin.hash,
                report.n_applied
            );
        }
        PluginCommand::Discard { family } => {
            let (plugin, _) = staged(config, &db, &family).await?;
            deploy::discard(&db, &family).await?;
            registry::unstage(&db, &family, &plugin.hash).await?;
            say!(
                "{family}: discarded {} sha256:{} and its tables",
                plugin.description.version,
                plugin.hash
            );
        }
        PluginCommand::Gc { family } => {
            if cutover::drop_kept(&db, &family).await? {
                say!("{family}: dropped the tables kept for a rollback");
            } else {
                say!("{family}: no tables kept");
            }
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

/// Deploy a file: active at once, or built aside and cut over, or built as
/// a shadow.
async fn deploy_file(
    config: &Config,
    db: Db,
    file: &std::path::Path,
    by: &str,
    shadow: bool,
    build: deploy::BuildOptions,
) -> Result<ExitCode> {
    let deployed = registry::deploy(
        &db,
        file,
        by,
        config.cache_dir.as_deref(),
        config.limits,
        shadow,
    )
    .await?;
    match deployed {
        Deployed::Active(plugin) => say!(
            "deployed {} {} sha256:{}; a running `projector run` switches at its next batch",
            plugin.family(),
            plugin.description.version,
            plugin.hash
        ),
        Deployed::Staged(mut plugin, Stage::Building) => {
            say!(
                "{} {} declares other tables: building them beside the live ones",
                plugin.family(),
                plugin.description.version
            );
            let report =
                deploy::build_and_cut_over(&db, &mut plugin, build, &Bars::default()).await?;
            say!(
                "cut over {} to {} sha256:{} ({} events); `plugin rollback {}` brings the previous tables back until `plugin gc`",
                plugin.family(),
                plugin.description.version,
                plugin.hash,
                report.n_applied,
                plugin.family()
            );
        }
        Deployed::Staged(mut plugin, Stage::Shadow) => {
            deploy::build(&db, &mut plugin, true, build, &Bars::default()).await?;
            say!(
                "{} {} runs as a shadow: `plugin diff {}` compares it with the live rows, `promote` cuts over, `discard` drops it",
                plugin.family(),
                plugin.description.version,
                plugin.family()
            );
        }
    }
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

/// The family's staged version, or an error naming what exists.
async fn staged(config: &Config, db: &Db, family: &str) -> Result<(Plugin, Stage)> {
    registry::staged(db, family, config.cache_dir.as_deref(), config.limits)
        .await?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "family {family:?} has no shadow or staged version (plugin deploy --shadow FILE)"
            )
        })
}

/// Catch a shadow up and print how it differs from the live rows.
async fn diff(config: &Config, db: Db, family: &str, examples: usize) -> Result<ExitCode> {
    let (mut plugin, _) = staged(config, &db, family).await?;
    let options = VerifyOptions {
        family: Some(family.to_owned()),
        instance_id: None,
        examples,
        batch_size: crate::runtime::DEFAULT_BATCH_SIZE,
        barrier: BarrierMode::default(),
    };
    let verdict = deploy::diff(&db, &mut plugin, &options, &Bars::default()).await?;
    db.close().await;
    for shape in &verdict.shape {
        match (shape.in_live, shape.in_other) {
            (true, false) => say!("  {}: only in the live version", shape.table),
            (false, true) => say!("  {}: only in {}", shape.table, verdict.version),
            _ => say!(
                "  {}: columns only live: [{}]; only in {}: [{}]",
                shape.table,
                shape.live_columns.join(", "),
                verdict.version,
                shape.other_columns.join(", ")
            ),
        }
    }
    super::verify::print_verdict(&verdict)?;
    if verdict.n_drifted() > 0 || !verdict.shape.is_empty() {
        return Ok(ExitCode::from(1));
    }
    say!("no difference");
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
        let state = d.stage.map_or("inactive", Stage::as_str);
        say!(
            "{} {} sha256:{} deployed {} by {}, {state}",
            d.family,
            d.version,
            d.hash,
            crate::time::format_micros(d.deployed_at),
            d.deployed_by
        );
    }
    Ok(())
}
