//! Where rows live: the event store, the projected tables and the host's own
//! state, on SQLite (the embedded default) or PostgreSQL.
//!
//! Both dialects share one code path: SQL is rendered per [`Dialect`] by
//! [`sql`], values are bound by [`bind`], and [`Tx`] runs statements inside
//! one transaction on either database.
//!
//! Where things live on PostgreSQL: the event store in schema `eventstore`,
//! the host's own tables (and sqlx's `_sqlx_migrations`) in schema
//! [`HOST_SCHEMA`], the families' tables and views in the projection schema
//! (`--schema`, default [`DEFAULT_SCHEMA`]). Every pooled connection's
//! `search_path` is the projection schema, then `projector`: family DDL and
//! mutations (unqualified names) land in the projection schema, and the
//! host's `projector_*` names, which no family may declare, resolve to the
//! host schema. SQLite has one namespace; the reserved names keep the host's
//! tables apart there ([`owner`]).

pub mod bind;
pub mod ddl;
pub mod dump;
pub mod fold;
pub mod literal;
pub mod owner;
pub mod sql;
pub mod state;
pub mod view;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{Connection as _, Postgres, Sqlite, Transaction};

pub use owner::Owner;
pub use sql::Statement;

/// The PostgreSQL schema of the host's own tables.
pub const HOST_SCHEMA: &str = "projector";
/// The PostgreSQL schema of the projected tables unless `--schema` says otherwise.
pub const DEFAULT_SCHEMA: &str = "public";

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
    #[error("cannot open database {url}: {cause}")]
    Connect {
        /// The URL, without password.
        url: String,
        /// Why (in the message; not also a `source`, so `{:#}` prints it once).
        cause: sqlx::Error,
    },
    /// A database URL that is neither SQLite nor PostgreSQL.
    #[error("unsupported database url {0:?}: use sqlite://FILE or postgres://...")]
    UnsupportedUrl(String),
    /// A statement failed (the cause is in the message, not also a
    /// `source`, so `{:#}` prints it once).
    #[error("database error: {0}")]
    Db(sqlx::Error),
    /// The host's migrations failed.
    #[error("migrating the host tables failed: {0}")]
    Migrate(sqlx::migrate::MigrateError),
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
    /// A family declares a name it does not own: the event store's, the
    /// host's, another family's, or a relation projector did not create.
    #[error("family {family:?}: {kind} {name:?} {owner}")]
    NotOwned {
        /// The declaring family.
        family: String,
        /// `table`, `view` or `index`.
        kind: &'static str,
        /// The name.
        name: String,
        /// Whose it is.
        owner: Owner,
    },
    /// A text constant for SQL text (a column default, a view literal)
    /// holds a NUL character, which neither store's SQL text can carry.
    #[error("{0} contains a NUL character, which SQL text cannot hold")]
    NulInConstant(String),
    /// A projection schema name that cannot be used.
    #[error("invalid schema {name:?}: {reason}")]
    InvalidSchema {
        /// The name given.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// A relation in the projection schema carries a name reserved for the
    /// host's tables, which would shadow them.
    #[error(
        "schema {schema:?} holds {name:?}, a name reserved for the host's tables (schema \"projector\"); \
         move or drop it"
    )]
    HostNameShadowed {
        /// The projection schema.
        schema: String,
        /// The relation.
        name: String,
    },
    /// Stored data the host cannot read.
    #[error("unreadable stored data: {0}")]
    Corrupt(String),
    /// `failed retry` / `failed skip` named an id that is not a failed event.
    #[error("no failed event with id {0} (see `projector failed list`)")]
    NoFailedEvent(i64),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::Db(error)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(error)
    }
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

/// Check a projection schema name (PostgreSQL): a plain lower-case
/// identifier that is not the host's, the event store's or the system's.
pub fn check_schema_name(name: &str) -> Result<(), StoreError> {
    let invalid = |reason| StoreError::InvalidSchema {
        name: name.to_owned(),
        reason,
    };
    if sql::quote(name).is_err() {
        return Err(invalid(
            "a schema name is a plain identifier: lower-case letters, digits and _, at most 63 bytes",
        ));
    }
    if name == HOST_SCHEMA {
        return Err(invalid("schema \"projector\" holds the host's own tables"));
    }
    if name == "eventstore" {
        return Err(invalid("schema \"eventstore\" holds the event store"));
    }
    if name == "information_schema" || name.starts_with("pg_") {
        return Err(invalid("it is a system schema"));
    }
    Ok(())
}

/// Create the host schema (and move sqlx's migration table into it, for
/// databases from before it existed) and the projection schema, under an
/// advisory lock so that concurrent opens do not race.
async fn bootstrap_postgres(conn: &mut PgConnection, schema: &str) -> Result<(), StoreError> {
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(7035426875412101)")
        .execute(&mut *tx)
        .await?;
    for name in [HOST_SCHEMA, schema] {
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
                .bind(name)
                .fetch_one(&mut *tx)
                .await?;
        if !exists {
            sqlx::query(&format!("CREATE SCHEMA {}", sql::quote(name)?))
                .execute(&mut *tx)
                .await?;
        }
    }
    sqlx::query(
        "DO $$ BEGIN \
         IF to_regclass('public._sqlx_migrations') IS NOT NULL \
            AND to_regclass('projector._sqlx_migrations') IS NULL THEN \
             ALTER TABLE public._sqlx_migrations SET SCHEMA projector; \
         END IF; END $$",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Refuse a projection schema holding a relation with a host table's name:
/// it would come first in the search path.
async fn check_not_shadowed(conn: &mut PgConnection, schema: &str) -> Result<(), StoreError> {
    let shadow: Option<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') \
         AND (left(c.relname, 10) = 'projector_' OR c.relname = '_sqlx_migrations') \
         ORDER BY c.relname LIMIT 1",
    )
    .bind(schema)
    .fetch_optional(&mut *conn)
    .await?;
    match shadow {
        Some(name) => Err(StoreError::HostNameShadowed {
            schema: schema.to_owned(),
            name,
        }),
        None => Ok(()),
    }
}

fn connect_error(url: &str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |cause| StoreError::Connect {
        url: redact(url),
        cause,
    }
}

async fn open_postgres(url: &str, schema: &str) -> Result<Db, StoreError> {
    check_schema_name(schema)?;
    let connect = connect_error(url);
    let options = PgConnectOptions::from_str(url).map_err(&connect)?;
    // Migrations run on a connection of their own whose search path is the
    // host schema: sqlx's table and the host's tables land there.
    let host_only = options.clone().options([("search_path", HOST_SCHEMA)]);
    let mut conn = PgConnection::connect_with(&host_only)
        .await
        .map_err(&connect)?;
    bootstrap_postgres(&mut conn, schema).await?;
    sqlx::migrate!("../migrations/postgres")
        .run(&mut conn)
        .await?;
    check_not_shadowed(&mut conn, schema).await?;
    conn.close().await?;
    let search_path = format!("\"{schema}\",{HOST_SCHEMA}");
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.options([("search_path", search_path)]))
        .await
        .map_err(&connect)?;
    Ok(Db::Postgres(pool))
}

async fn open_sqlite(url: &str) -> Result<Db, StoreError> {
    let connect = connect_error(url);
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
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
        .map_err(&connect)?;
    sqlx::migrate!("../migrations/sqlite").run(&pool).await?;
    Ok(Db::Sqlite(pool))
}

impl Db {
    /// Open a database by URL (`sqlite://FILE`, a plain file path, or
    /// `postgres://...`) and bring the host's own tables up to date; on
    /// PostgreSQL the families' tables live in schema `public`.
    pub async fn open(url: &str) -> Result<Db, StoreError> {
        Db::open_in(url, DEFAULT_SCHEMA).await
    }

    /// Open a database with the families' tables in schema `schema`
    /// (PostgreSQL; created if missing). SQLite has one namespace and
    /// ignores it.
    pub async fn open_in(url: &str, schema: &str) -> Result<Db, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            open_postgres(url, schema).await
        } else if url.contains("://") && !url.starts_with("sqlite:") {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        } else {
            open_sqlite(url).await
        }
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
