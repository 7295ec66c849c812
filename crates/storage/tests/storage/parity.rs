//! Both migration folders must describe the same schema.

use diancan_storage::testing::TestDb;
use diancan_storage::{Backend, Db};
use sqlx::Connection;
use std::collections::BTreeMap;

#[test]
fn migration_versions_match() {
    assert_eq!(
        Db::migration_versions(Backend::Sqlite),
        Db::migration_versions(Backend::Postgres)
    );
    assert!(!Db::migration_versions(Backend::Sqlite).is_empty());
}

async fn sqlite_columns(url: &str) -> BTreeMap<String, Vec<String>> {
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut out = BTreeMap::new();
    for (table,) in tables {
        let cols: Vec<(String,)> =
            sqlx::query_as("SELECT name FROM pragma_table_info($1) ORDER BY cid")
                .bind(&table)
                .fetch_all(&mut conn)
                .await
                .unwrap();
        out.insert(table, cols.into_iter().map(|(c,)| c).collect());
    }
    out
}

async fn postgres_columns(url: &str) -> BTreeMap<String, Vec<String>> {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%' ORDER BY table_name, ordinal_position",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (table, column) in rows {
        out.entry(table).or_default().push(column);
    }
    out
}

#[tokio::test]
async fn both_schemas_have_the_same_tables_and_columns() {
    let sqlite = TestDb::sqlite().await;
    let Some(postgres) = TestDb::postgres().await else {
        return;
    };
    let sqlite_schema = sqlite_columns(&sqlite.url).await;
    let postgres_schema = postgres_columns(&postgres.url).await;
    assert!(sqlite_schema.contains_key("dishes"));
    assert_eq!(sqlite_schema, postgres_schema);
    sqlite.cleanup().await;
    postgres.cleanup().await;
}
