//! The connection to either database: pools, migrations, and the write lanes.
//! SQLite gets a single writer connection (writes never interleave or deadlock) and a reader pool.

use crate::error::Result;
use crate::ordering::lanes::WriteLanes;
use crate::tx::{Tx, WritePool};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
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
        writes: WriteLanes,
    },
    Postgres {
        pool: PgPool,
        writes: WriteLanes,
    },
}

/// Write lanes per instance on PostgreSQL: stores spread over them write in parallel.
/// SQLite has one writer, so one lane.
const POSTGRES_WRITE_LANES: usize = 4;

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Db({:?})", self.backend())
    }
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
                writes: WriteLanes::new(WritePool::Postgres(pool.clone()), POSTGRES_WRITE_LANES),
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
            writes: WriteLanes::new(WritePool::Sqlite(writer.clone()), 1),
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

    pub(crate) fn write_lanes(&self) -> &WriteLanes {
        match self {
            Db::Sqlite { writes, .. } | Db::Postgres { writes, .. } => writes,
        }
    }

    /// Rung whenever a write commits outbox rows, so the deliverer need not poll for them.
    pub fn outbox_bell(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.write_lanes().bell()
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
