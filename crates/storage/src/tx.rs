//! A write transaction on either database, where write transactions come from, and the two
//! macros that run one piece of SQL on both.

use crate::error::Result;
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

/// Where write transactions come from; what the write lanes hold (not the whole `Db`).
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
            $crate::tx::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::tx::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.rollback().await?,
            Tx::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }
}
