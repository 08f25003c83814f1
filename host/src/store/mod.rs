//! Where rows live: the event store, the projected tables and the host's own
//! state, on SQLite (the embedded default) or PostgreSQL.
//!
//! Both dialects share one code path: SQL is rendered per [`Dialect`] by
//! [`sql`], values are bound by [`bind`], and [`Tx`] runs statements inside
//! one transaction on either database.

pub mod bind;
pub mod ddl;
pub mod dump;
pub mod fold;
pub mod sql;
pub mod state;
pub mod view;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{Postgres, Sqlite, Transaction};

pub use sql::Statement;

/// Run a query on either database and map every row with `$map` (`$row` is
/// the row; `?` works inside). The two drivers' row types differ, hence a
/// macro rather than a function.
macro_rules! fetch_rows {
    ($db:expr, $sql:expr, |$row:ident| $map:expr) => {
        $crate::store::fetch_rows!($db, $sql, binds = [], |$row| $map)
    };
    ($db:expr, $sql:expr, binds = [$($bind:expr),*], |$row:ident| $map:expr) => {
        match $db {
            $crate::store::Db::Sqlite(pool) => sqlx::query($sql)
                $(.bind($bind))*
                .fetch_all(pool)
                .await?
                .iter()
                .map(|$row| -> Result<_, sqlx::Error> { Ok($map) })
                .collect::<Result<Vec<_>, sqlx::Error>>()?,
            $crate::store::Db::Postgres(pool) => sqlx::query($sql)
                $(.bind($bind))*
                .fetch_all(pool)
                .await?
                .iter()
                .map(|$row| -> Result<_, sqlx::Error> { Ok($map) })
                .collect::<Result<Vec<_>, sqlx::Error>>()?,
        }
    };
}
pub(crate) use fetch_rows;

/// The SQL dialect of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite, the embedded default.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Store failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database could not be reached or opened.
    #[error("cannot open database {url}: {source}")]
    Connect {
        /// The URL, without password.
        url: String,
        /// Why.
        source: sqlx::Error,
    },
    /// A database URL that is neither SQLite nor PostgreSQL.
    #[error("unsupported database url {0:?}: use sqlite://FILE or postgres://...")]
    UnsupportedUrl(String),
    /// A statement failed.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// The host's migrations failed.
    #[error("migrating the host tables failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A name that is not a plain identifier.
    #[error("invalid identifier {0:?}")]
    InvalidIdentifier(String),
    /// A table nobody declared.
    #[error("unknown table {0:?}")]
    UnknownTable(String),
    /// A column the table does not declare.
    #[error("table {0:?} has no column {1:?}")]
    UnknownColumn(String, String),
    /// A value that does not fit its column.
    #[error("value does not fit: {0}")]
    BadValue(String),
    /// A table exists with another shape than the family declares.
    #[error(
        "table {table:?} exists with another shape: {detail}; rebuild the family (replay --from-start)"
    )]
    SchemaMismatch {
        /// Table.
        table: String,
        /// What differs.
        detail: String,
    },
    /// A declared table is not valid on its own.
    #[error("table {table:?} is declared wrongly: {detail}")]
    InvalidTable {
        /// Table.
        table: String,
        /// What is wrong.
        detail: String,
    },
    /// A declared view is not valid.
    #[error(transparent)]
    InvalidView(#[from] projection_sdk::ViewError),
    /// Stored data the host cannot read.
    #[error("unreadable stored data: {0}")]
    Corrupt(String),
}

/// A connection pool on either database.
#[derive(Debug, Clone)]
pub enum Db {
    /// SQLite.
    Sqlite(SqlitePool),
    /// PostgreSQL.
    Postgres(PgPool),
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}@{}", &url[..scheme + 3], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

impl Db {
    /// Open a database by URL (`sqlite://FILE`, a plain file path, or
    /// `postgres://...`) and bring the host's own tables up to date.
    pub async fn open(url: &str) -> Result<Db, StoreError> {
        let connect = |source| StoreError::Connect {
            url: redact(url),
            source,
        };
        let db = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(connect)?;
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(connect)?;
            Db::Postgres(pool)
        } else if url.contains("://") && !url.starts_with("sqlite:") {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"));
            let path = path.unwrap_or(url);
            if let Some(parent) = std::path::Path::new(path).parent()
                && !parent.as_os_str().is_empty()
                && !parent.exists()
            {
                std::fs::create_dir_all(parent).map_err(|e| connect(sqlx::Error::Io(e)))?;
            }
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .after_connect(|conn, _| Box::pin(fold::install(conn)))
                .connect_with(options)
                .await
                .map_err(connect)?;
            Db::Sqlite(pool)
        };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(pool) => sqlx::migrate!("../migrations/sqlite").run(pool).await?,
            Db::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// The dialect.
    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The qualified name of the events table.
    pub fn events_table(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "events2",
            Db::Postgres(_) => "eventstore.events2",
        }
    }

    /// Begin a transaction.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            // One writer at a time, taken up front: a transaction that reads
            // before it writes cannot fail to upgrade its lock.
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Run one statement outside a transaction.
    pub async fn execute(&self, statement: &Statement) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let n = tx.execute(statement).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Close the pool.
    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

/// An open transaction on either database.
#[derive(Debug)]
pub enum Tx {
    /// SQLite.
    Sqlite(Transaction<'static, Sqlite>),
    /// PostgreSQL.
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    /// The dialect.
    pub fn dialect(&self) -> Dialect {
        match self {
            Tx::Sqlite(_) => Dialect::Sqlite,
            Tx::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Run a statement; the number of rows it touched.
    pub async fn execute(&mut self, statement: &Statement) -> Result<u64, StoreError> {
        Ok(match self {
            Tx::Sqlite(tx) => {
                if !statement.arrays.is_empty() {
                    return Err(StoreError::BadValue(
                        "array binds are for PostgreSQL only".into(),
                    ));
                }
                let query = bind::sqlite(sqlx::query(&statement.sql), &statement.binds)?
                    .persistent(statement.is_reusable());
                query.execute(&mut **tx).await?.rows_affected()
            }
            Tx::Postgres(tx) => {
                let query = bind::postgres_arrays(sqlx::query(&statement.sql), &statement.arrays)?;
                let query =
                    bind::postgres(query, &statement.binds)?.persistent(statement.is_reusable());
                query.execute(&mut **tx).await?.rows_affected()
            }
        })
    }

    /// Run one plain SQL statement without parameters (DDL, savepoints).
    pub async fn execute_plain(&mut self, sql: &str) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => {
                sqlx::query(sql)
                    .persistent(false)
                    .execute(&mut **tx)
                    .await?;
            }
            Tx::Postgres(tx) => {
                sqlx::query(sql)
                    .persistent(false)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Ok(())
    }

    /// Commit.
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// Roll back.
    pub async fn rollback(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.rollback().await?,
            Tx::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}
