//! The connection to either database, and the two macros that run one piece of SQL on both.
//! SQLite gets a single writer connection (writes never interleave or deadlock) and a reader pool.

use crate::error::Result;
use crate::group_commit::OrderLanes;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// How to connect. Built by the CLI from flags, or by tests directly.
#[derive(Debug, Clone)]
pub struct DbConfig {
    pub url: String,
    /// PostgreSQL pool size per instance; SQLite readers.
    pub max_connections: u32,
    /// SQLite only: `synchronous=FULL` makes an acknowledged write survive a power cut.
    pub sqlite_durable: bool,
}

impl DbConfig {
    pub fn new(url: impl Into<String>) -> Self {
        DbConfig {
            url: url.into(),
            max_connections: 16,
            sqlite_durable: true,
        }
    }
}

/// What the SQLite writer reports about durability (see [`Db::sqlite_durability`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteDurability {
    /// `WAL` for a server database.
    pub journal_mode: String,
    /// `FULL` unless the server was started with `--sqlite-fast-unsafe` (`NORMAL`).
    pub synchronous: &'static str,
}

#[derive(Clone)]
pub enum Db {
    Sqlite {
        writer: SqlitePool,
        readers: SqlitePool,
        orders: OrderLanes,
    },
    Postgres {
        pool: PgPool,
        orders: OrderLanes,
    },
}

/// Where write transactions come from; what the order lanes hold (not the whole `Db`).
#[derive(Clone)]
pub(crate) enum WritePool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl WritePool {
    /// Starts a write transaction. On SQLite it takes the write lock up front (BEGIN IMMEDIATE),
    /// so two writers can never deadlock upgrading a read lock.
    pub(crate) async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            WritePool::Sqlite(writer) => Tx::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?),
            WritePool::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }
}

/// Order lanes per instance on PostgreSQL: stores spread over them write in parallel.
/// SQLite has one writer, so one lane.
const POSTGRES_ORDER_LANES: usize = 4;

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Db({:?})", self.backend())
    }
}

/// A write transaction on either database.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$c` bound to the reader pool of whichever database this is.
macro_rules! on_pool {
    ($db:expr, |$c:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite { readers: $c, .. } => $body,
            $crate::db::Db::Postgres { pool: $c, .. } => $body,
        }
    };
}

/// Runs `$body` with `$c` bound to the open transaction's connection (reborrow with `&mut *$c`).
macro_rules! on_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

impl Db {
    /// Connects, creating the SQLite file (and its folder) when missing, and applies migrations.
    pub async fn connect(config: &DbConfig) -> Result<Db> {
        let db = if config.url.starts_with("postgres://") || config.url.starts_with("postgresql://")
        {
            let options = PgConnectOptions::from_str(&config.url)?;
            let pool = PgPoolOptions::new()
                .max_connections(config.max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            Db::Postgres {
                orders: OrderLanes::new(WritePool::Postgres(pool.clone()), POSTGRES_ORDER_LANES),
                pool,
            }
        } else {
            Self::connect_sqlite(config).await?
        };
        db.migrate().await?;
        Ok(db)
    }

    async fn connect_sqlite(config: &DbConfig) -> Result<Db> {
        let options = SqliteConnectOptions::from_str(&config.url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(if config.sqlite_durable {
                SqliteSynchronous::Full
            } else {
                SqliteSynchronous::Normal
            })
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        if let Some(folder) = options
            .get_filename()
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(folder).map_err(sqlx::Error::Io)?;
        }
        // One writer: SQLite allows one write transaction at a time anyway, and a single connection
        // means a cancelled request can never leave a second connection stuck mid-transaction.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(config.max_connections.clamp(1, 8))
            .connect_with(options.read_only(true))
            .await?;
        Ok(Db::Sqlite {
            orders: OrderLanes::new(WritePool::Sqlite(writer.clone()), 1),
            writer,
            readers,
        })
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres { .. } => Backend::Postgres,
        }
    }

    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite { writer, .. } => SQLITE_MIGRATIONS.run(writer).await,
            Db::Postgres { pool, .. } => POSTGRES_MIGRATIONS.run(pool).await,
        }
        .map_err(|e| crate::StorageError::Database(e.into()))
    }

    /// Starts a write transaction (see [`WritePool::begin`]).
    pub async fn begin(&self) -> Result<Tx> {
        self.write_pool().begin().await
    }

    fn write_pool(&self) -> WritePool {
        match self {
            Db::Sqlite { writer, .. } => WritePool::Sqlite(writer.clone()),
            Db::Postgres { pool, .. } => WritePool::Postgres(pool.clone()),
        }
    }

    pub(crate) fn order_lanes(&self) -> &OrderLanes {
        match self {
            Db::Sqlite { orders, .. } | Db::Postgres { orders, .. } => orders,
        }
    }

    /// True when the database answers a trivial query (for `/readyz`).
    pub async fn is_reachable(&self) -> bool {
        on_pool!(self, |p| sqlx::query("SELECT 1").execute(p).await.is_ok())
    }

    /// The writer connection's journal mode and `synchronous` level as SQLite itself reports
    /// them (`None` on PostgreSQL). Read from the connection that commits, because `synchronous`
    /// is a setting of each connection, not of the file: this is what the server really runs with.
    pub async fn sqlite_durability(&self) -> Result<Option<SqliteDurability>> {
        let Db::Sqlite { writer, .. } = self else {
            return Ok(None);
        };
        let mut connection = writer.acquire().await?;
        let journal_mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *connection)
            .await?;
        let level: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *connection)
            .await?;
        // https://www.sqlite.org/pragma.html#pragma_synchronous
        let synchronous = match level {
            0 => "OFF",
            1 => "NORMAL",
            2 => "FULL",
            3 => "EXTRA",
            _ => "UNKNOWN",
        };
        Ok(Some(SqliteDurability {
            journal_mode: journal_mode.to_uppercase(),
            synchronous,
        }))
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite {
                writer, readers, ..
            } => {
                readers.close().await;
                writer.close().await;
            }
            Db::Postgres { pool, .. } => pool.close().await,
        }
    }

    /// Migration versions of each backend, for the parity test.
    pub fn migration_versions(backend: Backend) -> Vec<(i64, String)> {
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .iter()
            .map(|m| (m.version, m.description.to_string()))
            .collect()
    }
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}
