//! Looking into a SQLite file the binary wrote, from outside the binary.

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};
use std::path::Path;

/// A read-only connection of our own to the database file, apart from the server's.
pub async fn open(file: &Path) -> SqliteConnection {
    let options = SqliteConnectOptions::new().filename(file).read_only(true);
    SqliteConnection::connect_with(&options)
        .await
        .unwrap_or_else(|e| panic!("open {}: {e}", file.display()))
}

/// `SELECT count(*) FROM <table>`.
pub async fn count(file: &Path, table: &str) -> i64 {
    let mut connection = open(file).await;
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(&mut connection)
        .await
        .unwrap_or_else(|e| panic!("count {table}: {e}"))
}
