//! The scratch database every bench works in: a fresh PostgreSQL database
//! on the server `--database-url` names, dropped afterwards, or a temporary
//! SQLite file, so a bench never touches existing data.

use host::store::{Db, StoreError};

/// A database that exists for one bench.
#[derive(Debug)]
pub struct Scratch {
    /// The open store.
    pub db: Db,
    /// Its URL.
    pub url: String,
    admin_url: Option<String>,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

impl Scratch {
    /// Create a scratch database next to `url` (same server, or a temp file).
    pub async fn create(url: &str) -> Result<Scratch, StoreError> {
        // One name per scratch database of this process: two benches of one
        // process (the tests run them side by side) never share one.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("projector_bench_{}_{n}", std::process::id());
        if url.starts_with("postgres") {
            let admin = sqlx::PgPool::connect(url)
                .await
                .map_err(|cause| StoreError::Connect {
                    url: url.to_owned(),
                    cause,
                })?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                .execute(&admin)
                .await?;
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&admin)
                .await?;
            admin.close().await;
            let base = url.split('?').next().unwrap_or(url);
            let cut = base.rfind('/').unwrap_or(base.len());
            let scratch_url = format!("{}/{name}", &base[..cut]);
            let db = Db::open(&scratch_url).await?;
            Ok(Scratch {
                db,
                url: scratch_url,
                admin_url: Some(url.to_owned()),
                name,
                _dir: None,
            })
        } else {
            let dir = tempfile::tempdir().map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let scratch_url = format!("sqlite://{}", dir.path().join("bench.db").display());
            let db = Db::open(&scratch_url).await?;
            Ok(Scratch {
                db,
                url: scratch_url,
                admin_url: None,
                name,
                _dir: Some(dir),
            })
        }
    }

    /// Close and drop the scratch database.
    pub async fn drop_database(self) -> Result<(), StoreError> {
        self.db.close().await;
        if let Some(admin_url) = &self.admin_url {
            let admin = sqlx::PgPool::connect(admin_url).await?;
            sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&admin)
            .await?;
            admin.close().await;
        }
        Ok(())
    }
}
