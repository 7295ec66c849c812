//! Isolated databases for tests: a temporary SQLite file, or a fresh PostgreSQL database
//! cloned from a migrated template. With `CI=true` an unreachable PostgreSQL fails the test.

use crate::db::{Backend, Db, DbConfig};
use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// Where the PostgreSQL test server is; each test gets its own database on it.
pub fn postgres_admin_url() -> String {
    std::env::var("DIANCAN_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database that lives as long as the test.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    _dir: Option<tempfile_dir::TempDir>,
    pg_name: Option<String>,
}

mod tempfile_dir {
    /// A temporary folder removed on drop (kept tiny to avoid another dependency).
    pub struct TempDir(pub std::path::PathBuf);
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(format!("diancan-test-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = format!("sqlite://{}/test.db", dir.display());
        let mut config = DbConfig::new(&url);
        // Tests do not need power-cut durability; production default stays FULL.
        config.sqlite_durable = false;
        let db = Db::connect(&config).await.expect("sqlite test database");
        TestDb {
            db,
            url,
            _dir: Some(tempfile_dir::TempDir(dir)),
            pg_name: None,
        }
    }

    /// A fresh PostgreSQL database, or `None` (with a loud message) when the server is
    /// unreachable outside CI. In CI (`CI=true`) an unreachable server panics.
    pub async fn postgres() -> Option<TestDb> {
        let admin_url = postgres_admin_url();
        let mut admin = match PgConnection::connect(&admin_url).await {
            Ok(conn) => conn,
            Err(error) => {
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!("CI=true but PostgreSQL at {admin_url} is unreachable: {error}");
                }
                eprintln!(
                    "!!! SKIPPING PostgreSQL case: {admin_url} unreachable ({error}); set DIANCAN_TEST_POSTGRES_URL"
                );
                return None;
            }
        };
        let name = format!("diancan_t_{}", uuid::Uuid::now_v7().simple());
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let _ = admin.close().await;
        let url = replace_database(&admin_url, &name);
        let mut config = DbConfig::new(&url);
        config.max_connections = 8;
        let db = Db::connect(&config).await.expect("postgres test database");
        Some(TestDb {
            db,
            url,
            _dir: None,
            pg_name: Some(name),
        })
    }

    pub async fn of(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite().await),
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// Closes the pools and drops a PostgreSQL test database.
    pub async fn cleanup(self) {
        self.db.close().await;
        if let Some(name) = &self.pg_name
            && let Ok(mut admin) = PgConnection::connect(&postgres_admin_url()).await
        {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await;
        }
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let prefix = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

/// Runs one statement straight on the database, past every check the repositories make: how a
/// test plants a row that a hand edit or an older version left behind. `$1` is bound to `id`.
pub async fn execute_unchecked(
    db: &Db,
    sql: &'static str,
    id: uuid::Uuid,
) -> crate::error::Result<u64> {
    Ok(match db {
        Db::Sqlite { writer, .. } => sqlx::query(sql)
            .bind(id)
            .execute(writer)
            .await?
            .rows_affected(),
        Db::Postgres { pool, .. } => sqlx::query(sql)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected(),
    })
}
