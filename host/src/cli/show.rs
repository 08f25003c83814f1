//! `projector show`: print the rows of projected tables and views.

use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};

use super::{load_plugins, open};
use crate::config::Config;
use crate::store::{dump, state};

/// Print tables and views. A family never replayed has no tables yet, which
/// is said; any database error reading a table ends the command with it.
pub(super) async fn show(config: &Config, tables: &[String], limit: usize) -> Result<ExitCode> {
    let db = open(config).await?;
    let plugins = load_plugins(config, &db).await?;
    // A name is read only as the family that created it: a declaration of
    // anything else (the event store, the host's tables) is not shown.
    let owned = state::owned_relations(&db).await?;
    let mut declared = Vec::new();
    for plugin in &plugins {
        for relation in dump::relations(&plugin.description)? {
            let owner = owned.iter().find(|o| o.name == relation.name);
            if owner.is_some_and(|o| o.family != plugin.family())
                || (owner.is_none() && crate::store::owner::reserved(&relation.name).is_some())
            {
                continue;
            }
            declared.push((plugin.family(), relation));
        }
    }
    for name in tables {
        if !declared.iter().any(|(_, t)| &t.name == name) {
            bail!("unknown table or view {name:?}: no installed plugin declares it");
        }
    }
    for (family, table) in declared
        .iter()
        .filter(|(_, t)| tables.is_empty() || tables.contains(&t.name))
    {
        if state::stored_description(&db, family).await?.is_none() {
            say!(
                "{} (not created yet: family {family} has not been replayed)",
                table.name
            );
            continue;
        }
        let rows = dump::dump_table(&db, table)
            .await
            .with_context(|| format!("cannot read {}", table.name))?;
        say!("{} ({} rows)", table.name, rows.len());
        for row in rows.iter().take(limit) {
            say!("  {}", serde_json::Value::Object(row.clone()));
        }
    }
    db.close().await;
    Ok(ExitCode::SUCCESS)
}
