//! Deployed plugin versions and the effective plugin set.
//!
//! A family's plugin comes from the plugin directory until a version is
//! deployed with `projector plugin deploy`; from then on the active deployed
//! version (stored in `projector_plugins`, named by its content hash) wins.
//! A deployment whose tables differ from the family's live declaration is
//! staged, not activated: its tables are built aside and cut over
//! (`runtime::deploy`), and the cutover activates it. `run` checks the
//! active versions at every batch boundary and swaps plugins in place
//! ([`Swapper`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sqlx::Row;

use super::{Limits, Plugin, PluginError};
use crate::store::bind::{ph, placeholders};
use crate::store::{Db, Dialect, StoreError, fetch_rows, state};
use crate::time;

/// Registry failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A plugin could not be loaded.
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// The new version declares other tables or views than the live one.
    #[error(
        "family {family:?} {new_version} declares other tables or views than the live {live_version} (first difference: {table}); \
         a rebuild is needed: replay it with --from-start"
    )]
    TablesChanged {
        /// Family.
        family: String,
        /// Version deployed.
        new_version: String,
        /// Version live.
        live_version: String,
        /// First differing table.
        table: String,
    },
    /// Nothing to roll back to.
    #[error("family {0:?} has no earlier version to roll back to")]
    NoEarlierVersion(String),
    /// The earlier version declares other tables, and they were not kept
    /// (dropped by `plugin gc`, or never cut over from).
    #[error(
        "family {family:?}: version {version} declares other tables than the live ones, and they \
         are not kept any more (plugin gc drops them); deploy it again to rebuild them"
    )]
    NotKept {
        /// Family.
        family: String,
        /// The version rolled back to.
        version: String,
    },
}

/// One deployed version.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    /// Family.
    pub family: String,
    /// Content hash (the id).
    pub hash: String,
    /// The plugin's own version.
    pub version: String,
    /// When (microseconds since the epoch).
    pub deployed_at: i64,
    /// By whom.
    pub deployed_by: String,
    /// Whether it is the family's active version.
    pub active: bool,
    /// A version that is not live yet: [`Stage::Building`] while its tables
    /// are built aside, [`Stage::Shadow`] while it runs beside the live one.
    pub stage: Option<Stage>,
}

/// A deployed version on its way to going live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Its tables differ from the live ones and are being built aside;
    /// it is cut over when they have caught up (`plugin deploy`).
    Building,
    /// It runs beside the live version into tables of its own until
    /// `plugin promote` or `plugin discard` (`plugin deploy --shadow`).
    Shadow,
}

impl Stage {
    /// As stored in `projector_plugins.stage`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Building => "building",
            Stage::Shadow => "shadow",
        }
    }

    fn parse(text: &str) -> Result<Stage, StoreError> {
        match text {
            "building" => Ok(Stage::Building),
            "shadow" => Ok(Stage::Shadow),
            other => Err(StoreError::Corrupt(format!(
                "projector_plugins.stage {other:?} is neither building nor shadow"
            ))),
        }
    }
}

/// Every deployment, oldest first.
pub async fn deployments(db: &Db) -> Result<Vec<Deployment>, StoreError> {
    let sql = match db.dialect() {
        Dialect::Sqlite => {
            "SELECT family, hash, version, deployed_at, deployed_by, active, stage FROM projector_plugins ORDER BY deployed_at, family"
        }
        Dialect::Postgres => {
            "SELECT family, hash, version, to_char(deployed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), deployed_by, active, stage FROM projector_plugins ORDER BY deployed_at, family"
        }
    };
    let rows = fetch_rows!(db, sql, |r| {
        let at: String = r.try_get(3)?;
        let stage: Option<String> = r.try_get(6)?;
        (
            Deployment {
                family: r.try_get(0)?,
                hash: r.try_get(1)?,
                version: r.try_get(2)?,
                deployed_at: 0,
                deployed_by: r.try_get(4)?,
                active: r.try_get(5)?,
                stage: None,
            },
            at,
            stage,
        )
    });
    rows.into_iter()
        .map(|(mut deployment, at, stage)| {
            deployment.stage = stage.as_deref().map(Stage::parse).transpose()?;
            deployment.deployed_at = time::parse_rfc3339(&at).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "projector_plugins.deployed_at {at:?} of {} sha256:{} is not an RFC 3339 time",
                    deployment.family, deployment.hash
                ))
            })?;
            Ok(deployment)
        })
        .collect()
}

async fn wasm_of(db: &Db, family: &str, hash: &str) -> Result<Vec<u8>, StoreError> {
    let sql = format!(
        "SELECT wasm FROM projector_plugins WHERE family = {} AND hash = {}",
        ph(db.dialect(), 1, "TEXT"),
        ph(db.dialect(), 2, "TEXT")
    );
    Ok(match db {
        Db::Sqlite(pool) => {
            sqlx::query_scalar(&sql)
                .bind(family)
                .bind(hash)
                .fetch_one(pool)
                .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_scalar(&sql)
                .bind(family)
                .bind(hash)
                .fetch_one(pool)
                .await?
        }
    })
}

/// Refuse a plugin whose tables or views differ from the family's live declaration.
async fn check_tables(db: &Db, plugin: &Plugin) -> Result<(), RegistryError> {
    let Some(live) = state::stored_description(db, plugin.family()).await? else {
        return Ok(());
    };
    let Some(table) = crate::store::ddl::first_difference(&live, &plugin.description) else {
        return Ok(());
    };
    Err(RegistryError::TablesChanged {
        family: plugin.family().to_owned(),
        new_version: plugin.description.version.clone(),
        live_version: live.version,
        table,
    })
}

async fn activate(db: &Db, family: &str, hash: Option<&str>) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    state::activate_version(&mut tx, family, hash).await?;
    tx.commit().await
}

/// What a deployment did.
#[derive(Debug)]
pub enum Deployed {
    /// The version declares the live tables: it is active now, and a running
    /// `run` switches to it at its next batch.
    Active(Plugin),
    /// The version is stored but not active: its tables must be built aside
    /// first (it declares other tables than the live ones), or it was
    /// deployed as a shadow.
    Staged(Plugin, Stage),
}

/// Deploy a plugin file: store it, and make it the family's active version
/// when it declares the live tables. A version whose tables differ, or a
/// `shadow`, is stored with its [`Stage`] and stays inactive until its
/// tables are built aside and cut over (`runtime::deploy`). A family has
/// one staged version at a time: an earlier one not cut over is dropped.
pub async fn deploy(
    db: &Db,
    path: &Path,
    by: &str,
    cache: Option<&Path>,
    limits: Limits,
    shadow: bool,
) -> Result<Deployed, RegistryError> {
    let bytes = std::fs::read(path).map_err(|cause| PluginError::Read {
        path: path.to_owned(),
        cause,
    })?;
    let plugin = Plugin::from_bytes(&bytes, path, cache, limits)?;
    crate::store::owner::check_reserved(&plugin.description)?;
    crate::store::ddl::check_description(&plugin.description)?;
    let stage = match (shadow, check_tables(db, &plugin).await) {
        (true, Ok(()) | Err(RegistryError::TablesChanged { .. })) => Some(Stage::Shadow),
        (false, Err(RegistryError::TablesChanged { .. })) => Some(Stage::Building),
        (false, Ok(())) => None,
        (_, Err(other)) => return Err(other),
    };
    use projection_sdk::{ColumnType as T, Value as V};
    let d = db.dialect();
    let mut tx = db.begin().await?;
    if stage.is_some() {
        // The family's earlier staged version, if any, never went live.
        tx.execute(&crate::store::Statement {
            sql: format!(
                "DELETE FROM projector_plugins WHERE family = {} AND stage IS NOT NULL AND NOT active",
                ph(d, 1, "TEXT")
            ),
            binds: vec![(V::Text(plugin.family().to_owned()), T::Text)],
            arrays: Vec::new(),
        })
        .await?;
    }
    let p = placeholders(
        d,
        1,
        &[
            "TEXT",
            "TEXT",
            "TEXT",
            "BYTEA",
            "TIMESTAMPTZ",
            "TEXT",
            "BOOLEAN",
            "TEXT",
        ],
    );
    let stage_text = stage.map_or(V::Null, |s| V::Text(s.as_str().to_owned()));
    tx.execute(&crate::store::Statement {
        sql: format!(
            "INSERT INTO projector_plugins (family, hash, version, wasm, deployed_at, deployed_by, active, stage) \
             VALUES ({p}) ON CONFLICT (family, hash) DO UPDATE SET deployed_at = excluded.deployed_at, \
             deployed_by = excluded.deployed_by, stage = excluded.stage",
        ),
        binds: vec![
            (V::Text(plugin.family().to_owned()), T::Text),
            (V::Text(plugin.hash.clone()), T::Text),
            (V::Text(plugin.description.version.clone()), T::Text),
            (V::Bytes(bytes), T::Bytes),
            (V::Timestamp(time::now_micros()), T::Timestamp),
            (V::Text(by.to_owned()), T::Text),
            (V::Boolean(false), T::Boolean),
            (stage_text, T::Text),
        ],
        arrays: Vec::new(),
    })
    .await?;
    match stage {
        None => {
            state::activate_version(&mut tx, plugin.family(), Some(&plugin.hash)).await?;
            tx.commit().await?;
            Ok(Deployed::Active(plugin))
        }
        Some(stage) => {
            tx.commit().await?;
            Ok(Deployed::Staged(plugin, stage))
        }
    }
}

/// The family's staged version (building or shadow), loaded, with its stage.
pub async fn staged(
    db: &Db,
    family: &str,
    cache: Option<&Path>,
    limits: Limits,
) -> Result<Option<(Plugin, Stage)>, RegistryError> {
    let Some(deployment) = deployments(db)
        .await?
        .into_iter()
        .find(|d| d.family == family && d.stage.is_some() && !d.active)
    else {
        return Ok(None);
    };
    let bytes = wasm_of(db, family, &deployment.hash).await?;
    let plugin = deployed_plugin(&bytes, family, &deployment.hash, cache, limits)?;
    Ok(deployment.stage.map(|stage| (plugin, stage)))
}

/// Every staged version: (family, hash, stage).
pub async fn staged_versions(db: &Db) -> Result<Vec<(String, String, Stage)>, StoreError> {
    Ok(deployments(db)
        .await?
        .into_iter()
        .filter(|d| !d.active)
        .filter_map(|d| d.stage.map(|stage| (d.family, d.hash, stage)))
        .collect())
}

/// Forget a staged version that never went live (`plugin discard`).
pub async fn unstage(db: &Db, family: &str, hash: &str) -> Result<(), StoreError> {
    let d = db.dialect();
    use projection_sdk::{ColumnType as T, Value as V};
    db.execute(&crate::store::Statement {
        sql: format!(
            "DELETE FROM projector_plugins WHERE family = {} AND hash = {} AND NOT active",
            ph(d, 1, "TEXT"),
            ph(d, 2, "TEXT")
        ),
        binds: vec![
            (V::Text(family.to_owned()), T::Text),
            (V::Text(hash.to_owned()), T::Text),
        ],
        arrays: Vec::new(),
    })
    .await?;
    Ok(())
}

/// Re-activate the version deployed before the active one (or, with no
/// earlier deployment, the plugin directory's file). Returns the hash now
/// active, `None` for the directory's file.
pub async fn rollback(
    db: &Db,
    family: &str,
    dir: &Path,
    cache: Option<&Path>,
    limits: Limits,
) -> Result<Option<String>, RegistryError> {
    let all: Vec<Deployment> = deployments(db)
        .await?
        .into_iter()
        .filter(|d| d.family == family)
        .collect();
    let Some(active_idx) = all.iter().position(|d| d.active) else {
        return Err(RegistryError::NoEarlierVersion(family.to_owned()));
    };
    let target = all[..active_idx].last().map(|d| d.hash.clone());
    let plugin = match &target {
        Some(hash) => {
            let bytes = wasm_of(db, family, hash).await?;
            deployed_plugin(&bytes, family, hash, cache, limits)?
        }
        None => match directory_plugin(dir, family, cache, limits)? {
            Some(plugin) => plugin,
            None => return Err(RegistryError::NoEarlierVersion(family.to_owned())),
        },
    };
    match check_tables(db, &plugin).await {
        Ok(()) => activate(db, family, target.as_deref()).await?,
        Err(RegistryError::TablesChanged { .. }) => {
            // A version with other tables: the ones a cutover kept aside,
            // if they are this version's.
            let kept = state::kept_description(db, family).await?;
            let live = state::stored_description(db, family).await?;
            match (kept, live) {
                (Some(kept), Some(live))
                    if crate::store::ddl::first_difference(&kept, &plugin.description)
                        .is_none() =>
                {
                    crate::store::cutover::exchange_with_prev(
                        db,
                        &live,
                        &plugin.description,
                        &plugin.hash,
                        target.as_deref(),
                    )
                    .await?;
                }
                _ => {
                    return Err(RegistryError::NotKept {
                        family: family.to_owned(),
                        version: plugin.description.version.clone(),
                    });
                }
            }
        }
        Err(other) => return Err(other),
    }
    Ok(target)
}

fn directory_plugin(
    dir: &Path,
    family: &str,
    cache: Option<&Path>,
    limits: Limits,
) -> Result<Option<Plugin>, PluginError> {
    if !dir.is_dir() {
        return Ok(None);
    }
    Ok(super::load_dir(dir, cache, limits)?
        .into_iter()
        .find(|p| p.family() == family))
}

fn deployed_plugin(
    bytes: &[u8],
    family: &str,
    hash: &str,
    cache: Option<&Path>,
    limits: Limits,
) -> Result<Plugin, PluginError> {
    let mut plugin = Plugin::from_bytes(
        bytes,
        Path::new(&format!("deployed:{family}@{hash}")),
        cache,
        limits,
    )?;
    plugin.deployed = true;
    Ok(plugin)
}

/// The active deployed hash per family.
async fn active_hashes(db: &Db) -> Result<HashMap<String, String>, StoreError> {
    Ok(deployments(db)
        .await?
        .into_iter()
        .filter(|d| d.active)
        .map(|d| (d.family, d.hash))
        .collect())
}

/// The effective plugins: the directory's, overridden by active deployments.
pub async fn effective(
    db: &Db,
    dir: &Path,
    cache: Option<&Path>,
    limits: Limits,
) -> Result<Vec<Plugin>, RegistryError> {
    let mut plugins = if dir.is_dir() {
        super::load_dir(dir, cache, limits)?
    } else {
        Vec::new()
    };
    for (family, hash) in active_hashes(db).await? {
        let bytes = wasm_of(db, &family, &hash).await?;
        let plugin = deployed_plugin(&bytes, &family, &hash, cache, limits)?;
        match plugins.iter_mut().find(|p| p.family() == family) {
            Some(slot) => *slot = plugin,
            None => plugins.push(plugin),
        }
    }
    plugins.sort_by(|a, b| a.family().cmp(b.family()));
    Ok(plugins)
}

/// Swaps plugins in place when the active versions change (`run`).
#[derive(Debug)]
pub struct Swapper {
    /// The plugin directory (the fallback after a rollback past every deployment).
    pub dir: PathBuf,
    /// Compile cache.
    pub cache: Option<PathBuf>,
    /// Sandbox limits.
    pub limits: Limits,
}

impl Swapper {
    /// A staged deployment of `family`, loaded (`run` builds it beside the
    /// live version).
    pub async fn load(&self, db: &Db, family: &str, hash: &str) -> Result<Plugin, RegistryError> {
        let bytes = wasm_of(db, family, hash).await?;
        Ok(deployed_plugin(
            &bytes,
            family,
            hash,
            self.cache.as_deref(),
            self.limits,
        )?)
    }

    /// Replace every plugin whose effective version changed; returns the
    /// families swapped.
    pub async fn swap(
        &self,
        db: &Db,
        plugins: &mut [Plugin],
    ) -> Result<Vec<String>, RegistryError> {
        let active = active_hashes(db).await?;
        let descriptions: Vec<projection_sdk::Description> =
            plugins.iter().map(|p| p.description.clone()).collect();
        let mut swapped = Vec::new();
        for slot in plugins.iter_mut() {
            let wanted = active.get(slot.family());
            let current_is_wanted = match wanted {
                Some(hash) => *hash == slot.hash,
                None => !slot.deployed,
            };
            if current_is_wanted {
                continue;
            }
            let family = slot.family().to_owned();
            let next = match wanted {
                Some(hash) => {
                    let bytes = wasm_of(db, &family, hash).await?;
                    deployed_plugin(&bytes, &family, hash, self.cache.as_deref(), self.limits)?
                }
                None => {
                    match directory_plugin(&self.dir, &family, self.cache.as_deref(), self.limits)?
                    {
                        Some(plugin) => plugin,
                        None => continue,
                    }
                }
            };
            if let Err(e) = check_tables(db, &next).await {
                tracing::error!(family = %family, "not swapping: {e}");
                continue;
            }
            let rivals: Vec<&projection_sdk::Description> =
                descriptions.iter().filter(|d| d.name != family).collect();
            if let Err(e) =
                crate::store::ddl::install_among(db, &next.description, &next.hash, &rivals).await
            {
                tracing::error!(family = %family, "not swapping: {e}");
                continue;
            }
            tracing::info!(family = %family, from = %slot.hash, to = %next.hash, "swapped plugin at a batch boundary");
            *slot = next;
            swapped.push(family);
        }
        Ok(swapped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deployment time that does not parse is corrupt state, not 1970.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unparseable_deployment_time_is_corrupt_state() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Db::open(&url).await.expect("sqlite opens");
        let Db::Sqlite(pool) = &db else {
            panic!("an sqlite url opens SQLite");
        };
        sqlx::query(
            "INSERT INTO projector_plugins (family, hash, version, wasm, deployed_at, deployed_by, active) \
             VALUES ('orgs', 'abc', '1.0.0', x'00', 'last tuesday', 'me', 1)",
        )
        .execute(pool)
        .await
        .expect("insert");
        let err = deployments(&db)
            .await
            .expect_err("a corrupt time is an error");
        assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
        assert!(
            err.to_string().contains(
                "deployed_at \"last tuesday\" of orgs sha256:abc is not an RFC 3339 time"
            ),
            "{err}"
        );
        db.close().await;
    }
}
