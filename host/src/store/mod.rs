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
//!
//! An `eventstore.events2` that projector did not create (no record of its
//! event-store migration: Zitadel's own) is someone else's: opening leaves
//! out the event-store migrations, so nothing in schema `eventstore` is
//! created or changed; only [`Db::install_notify_trigger`], on request,
//! adds a trigger there. Every PostgreSQL connection is named
//! [`APPLICATION_NAME`], which the read barrier uses, and plans its
//! statements as [`planner`] says.

pub mod bind;
pub mod claim;
pub mod compare;
pub mod cutover;
pub mod ddl;
pub mod dump;
pub mod fence;
pub mod fold;
pub mod lane;
pub mod lease;
pub mod literal;
pub mod lookup_index;
pub mod owner;
pub mod pause;
pub mod planner;
pub mod sql;
pub mod state;
pub mod swap;
pub mod transient;
pub mod view;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{Connection as _, Postgres, Sqlite, Transaction};

/// `application_name` of projector's pooled PostgreSQL connections: the
/// `xact` read barrier does not wait for them (they apply projections,
/// never events; see [`crate::source::order`]).
pub const APPLICATION_NAME: &str = "projector";

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
    /// The family has no row in `projector_families`: it was never
    /// installed.
    #[error("family {0:?} is not installed")]
    NotInstalled(String),
    /// The family's rows and checkpoints were replaced (an online rebuild's
    /// swap) after this batch was planned: nothing of it was committed, and
    /// the replay starts again from the checkpoints ([`fence`]).
    #[error(
        "family {family:?} was rebuilt or cut over to another version while this batch was \
         planned; nothing of it was applied"
    )]
    Superseded {
        /// The family.
        family: String,
    },
    /// This host no longer holds a unit of the batch (its lease expired, or
    /// another host took it): nothing of the batch was applied ([`lease`]).
    #[error(
        "this host no longer holds the lease on family {family:?}, part {part}; nothing of the \
         batch was applied"
    )]
    LeaseLost {
        /// The family.
        family: String,
        /// The part.
        part: i32,
    },
    /// A lane (`family@lane`) was discarded or cut over while a batch for
    /// it was planned: nothing of the batch was applied.
    #[error("{0:?} is not built any more (discarded, promoted or cut over); nothing was applied")]
    LaneGone(String),
    /// Another applier moved a tenant's checkpoint after this batch was
    /// planned: nothing of the batch was applied, and the replay starts
    /// again from the checkpoints ([`claim`]).
    #[error(
        "the checkpoint of family {family:?}, tenant {instance_id:?} moved while this batch was \
         planned (another applier); nothing of it was applied"
    )]
    CheckpointMoved {
        /// The family (or lane key).
        family: String,
        /// The tenant.
        instance_id: String,
    },
    /// `failed retry` / `failed skip` named an id that is not a failed event.
    #[error("no failed event with id {0} (see `projector failed list`)")]
    NoFailedEvent(i64),
    /// The default read barrier (`xact`) cannot see every open transaction
    /// through this connection, so it could read past an uncommitted event.
    #[error(
        "the read barrier `xact` is not safe for role {role:?}: {reason}. \
         Give the role the privilege (GRANT pg_read_all_stats TO {role}), or choose \
         --barrier locks, which needs no privilege but is safe only for writers that take \
         Zitadel's events2 advisory lock or projector's before stamping their position \
         (README, \"Running beside Zitadel\")"
    )]
    BarrierUnsafe {
        /// The connection's role.
        role: String,
        /// What it cannot see.
        reason: &'static str,
    },
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

/// A database URL without its password, for messages.
pub fn redacted_url(url: &str) -> String {
    redact(url)
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
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(OPEN_LOCK)
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
/// it would come first in the search path. The host's own tables built
/// aside (lanes, `projector_<lane>_<table>`) are recorded as such and pass.
async fn check_not_shadowed(conn: &mut PgConnection, schema: &str) -> Result<(), StoreError> {
    let shadow: Option<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') \
         AND (left(c.relname, 10) = 'projector_' OR c.relname = '_sqlx_migrations') \
         AND NOT EXISTS (SELECT 1 FROM projector.projector_tables t \
                         WHERE t.name = c.relname AND t.family LIKE '%@%') \
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

/// The migrations that create or change the event store (schema
/// `eventstore`: 0001 the table and its indexes, 0003 the notify trigger,
/// 0010 the global-order index comparing text byte by byte, 0011 the
/// look-up index); an event store projector did not create never gets them.
const EVENT_STORE_MIGRATIONS: [i64; 4] = [1, 3, 10, 11];

/// The key of the advisory lock that serialises opening (bootstrap,
/// detection of the event store's owner, migrations).
const OPEN_LOCK: i64 = 7_035_426_875_412_101;

/// Whether `eventstore.events2` exists and projector did not create it
/// (its migrations record no event-store migration): someone else's event
/// store, such as Zitadel's.
async fn external_event_store(conn: &mut PgConnection) -> Result<bool, StoreError> {
    let (events, migrations): (bool, bool) = sqlx::query_as(
        "SELECT to_regclass('eventstore.events2') IS NOT NULL, \
         to_regclass('projector._sqlx_migrations') IS NOT NULL",
    )
    .fetch_one(&mut *conn)
    .await?;
    if !events {
        return Ok(false);
    }
    if !migrations {
        return Ok(true);
    }
    let recorded: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM projector._sqlx_migrations WHERE version = $1)",
    )
    .bind(EVENT_STORE_MIGRATIONS[0])
    .fetch_one(&mut *conn)
    .await?;
    Ok(!recorded)
}

/// Embedded migrations, chosen at run time.
#[derive(Debug)]
struct Chosen(Vec<sqlx::migrate::Migration>);

impl<'s> sqlx::migrate::MigrationSource<'s> for Chosen {
    fn resolve(
        self,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<
                    Output = Result<Vec<sqlx::migrate::Migration>, sqlx::error::BoxDynError>,
                > + Send
                + 's,
        >,
    > {
        Box::pin(async move { Ok(self.0) })
    }
}

/// Bring the host's tables up to date; on someone else's event store
/// without the event-store migrations (nothing is created or changed in
/// schema `eventstore`).
async fn migrate_postgres(conn: &mut PgConnection, external: bool) -> Result<(), StoreError> {
    let embedded = sqlx::migrate!("../migrations/postgres");
    if !external {
        return Ok(embedded.run(&mut *conn).await?);
    }
    let host_only: Vec<sqlx::migrate::Migration> = embedded
        .iter()
        .filter(|m| !EVENT_STORE_MIGRATIONS.contains(&m.version))
        .cloned()
        .collect();
    let mut migrator = sqlx::migrate::Migrator::new(Chosen(host_only)).await?;
    migrator.set_ignore_missing(true);
    Ok(migrator.run(&mut *conn).await?)
}

async fn open_postgres(url: &str, schema: &str) -> Result<Db, StoreError> {
    check_schema_name(schema)?;
    let connect = connect_error(url);
    // projector's own connections carry its name: the `xact` read barrier
    // does not wait for them (see `source::order`).
    let options = PgConnectOptions::from_str(url)
        .map_err(&connect)?
        .application_name(APPLICATION_NAME);
    // Migrations run on a connection of their own whose search path is the
    // host schema: sqlx's table and the host's tables land there.
    let host_only = options.clone().options([("search_path", HOST_SCHEMA)]);
    let mut conn = PgConnection::connect_with(&host_only)
        .await
        .map_err(&connect)?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(OPEN_LOCK)
        .execute(&mut conn)
        .await?;
    bootstrap_postgres(&mut conn, schema).await?;
    let external = external_event_store(&mut conn).await?;
    if external {
        tracing::info!(
            "eventstore.events2 was not created by projector: nothing is created or changed in schema eventstore"
        );
    }
    migrate_postgres(&mut conn, external).await?;
    let lookup_index = lookup_index::present(&mut conn).await?;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(OPEN_LOCK)
        .execute(&mut conn)
        .await?;
    check_not_shadowed(&mut conn, schema).await?;
    conn.close().await?;
    let search_path = format!("\"{schema}\",{HOST_SCHEMA}");
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(|conn, _| Box::pin(planner::tune(conn)))
        .connect_with(options.options([("search_path", search_path)]))
        .await
        .map_err(&connect)?;
    lookup_index::record(&pool, lookup_index);
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

    /// Whether the event store wakes followers: `eventstore.events2` has the
    /// enabled trigger `projector_notify_events`, which notifies
    /// `projector_events` on every insert (PostgreSQL; SQLite has none).
    pub async fn has_notify_trigger(&self) -> Result<bool, StoreError> {
        let Db::Postgres(pool) = self else {
            return Ok(false);
        };
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass('eventstore.events2') \
             AND tgname = 'projector_notify_events' AND NOT tgisinternal AND tgenabled <> 'D')",
        )
        .fetch_one(pool)
        .await?)
    }

    /// Install the notify trigger on `eventstore.events2` if it is missing
    /// (an operator's opt-in, `run --notify-trigger`, for an event store
    /// projector did not create); its function lives in schema `projector`.
    /// Returns whether it was installed now. Needs the right to create
    /// triggers on the table.
    pub async fn install_notify_trigger(&self) -> Result<bool, StoreError> {
        let Db::Postgres(pool) = self else {
            return Ok(false);
        };
        if self.has_notify_trigger().await? {
            return Ok(false);
        }
        let mut tx = pool.begin().await?;
        sqlx::query(
            "CREATE OR REPLACE FUNCTION projector.projector_notify_events() RETURNS trigger \
             LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('projector_events', ''); RETURN NULL; END; $$",
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "CREATE TRIGGER projector_notify_events AFTER INSERT ON eventstore.events2 \
             FOR EACH STATEMENT EXECUTE FUNCTION projector.projector_notify_events()",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
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
