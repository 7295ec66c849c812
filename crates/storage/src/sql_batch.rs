//! Statements built for a batch: multi-row inserts with one placeholder per value, on either
//! database, so a batch of any size costs a fixed number of round trips.

use crate::error::Result;
use crate::tx::Tx;
use uuid::Uuid;

/// Rows per multi-row statement, well under SQLite's 32,766 bound parameters.
pub(crate) const ROWS_PER_STATEMENT: usize = 500;

/// Binds a list of [`Value`]s to a query, whichever database it is for.
macro_rules! bind_values {
    ($query:expr, $values:expr) => {{
        let mut query = $query;
        for value in $values {
            query = match value {
                Value::Id(v) => query.bind(*v),
                Value::MaybeId(v) => query.bind(*v),
                Value::Int(v) => query.bind(*v),
                Value::MaybeInt(v) => query.bind(*v),
                Value::Text(v) => query.bind(v.as_str()),
                Value::MaybeText(v) => query.bind(v.as_deref()),
                Value::Bool(v) => query.bind(*v),
            };
        }
        query
    }};
}

/// One bound parameter of a statement built for the batch.
pub(crate) enum Value {
    Id(Uuid),
    MaybeId(Option<Uuid>),
    Int(i64),
    MaybeInt(Option<i64>),
    Text(String),
    MaybeText(Option<String>),
    Bool(bool),
}

/// `($1, $2, $3), ($4, $5, $6)` for `rows` rows of `width` parameters, numbered from `first`.
/// SQLite gets anonymous `?`s: it looks numbered names up one by one, which grows with the square
/// of the parameter count in a statement of hundreds of rows.
pub(crate) fn placeholders(tx: &Tx, first: usize, rows: usize, width: usize) -> String {
    let mut sql = String::with_capacity(rows * width * 5);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..width {
            if column > 0 {
                sql.push_str(", ");
            }
            match tx {
                Tx::Sqlite(_) => sql.push('?'),
                Tx::Postgres(_) => sql.push_str(&format!("${}", first + row * width + column)),
            }
        }
        sql.push(')');
    }
    sql
}

/// Runs `head VALUES (...), (...) tail` over `rows`, a statement per [`ROWS_PER_STATEMENT`].
pub(crate) async fn insert_rows(
    tx: &mut Tx,
    head: &str,
    tail: &str,
    rows: Vec<Vec<Value>>,
) -> Result<()> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let width = chunk[0].len();
        let sql = format!(
            "{head} VALUES {} {tail}",
            placeholders(tx, 1, chunk.len(), width)
        );
        let values = chunk.iter().flatten();
        // Only placeholders vary (batch sizes), so these statements are not worth keeping prepared.
        on_tx!(tx, |c| bind_values!(
            sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).persistent(false),
            values
        )
        .execute(&mut *c)
        .await
        .map(drop))?;
    }
    Ok(())
}

/// Updates many rows by key in one statement per [`ROWS_PER_STATEMENT`]: `columns` name the
/// key first and then the columns to set, each with its PostgreSQL type (PostgreSQL cannot infer
/// the type of a parameter inside `VALUES`; SQLite needs none). Every row of `rows` gives the
/// key and then the new values, in the order of `columns`.
pub(crate) async fn update_rows(
    tx: &mut Tx,
    table: &str,
    columns: &[(&str, &str)],
    rows: Vec<Vec<Value>>,
) -> Result<()> {
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let (key, set) = names.split_first().expect("a key column");
    let assignments: Vec<String> = set.iter().map(|c| format!("{c} = v.{c}")).collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let values = match tx {
            Tx::Sqlite(_) => placeholders(tx, 1, chunk.len(), columns.len()),
            Tx::Postgres(_) => typed_placeholders(chunk.len(), columns),
        };
        let sql = format!(
            "WITH v ({}) AS (VALUES {values}) UPDATE {table} SET {} FROM v WHERE {table}.{key} = v.{key}",
            names.join(", "),
            assignments.join(", ")
        );
        on_tx!(tx, |c| bind_values!(
            sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).persistent(false),
            chunk.iter().flatten()
        )
        .execute(&mut *c)
        .await
        .map(drop))?;
    }
    Ok(())
}

/// `($1::uuid, $2::text), ($3::uuid, $4::text)` for PostgreSQL.
fn typed_placeholders(rows: usize, columns: &[(&str, &str)]) -> String {
    let mut sql = String::with_capacity(rows * columns.len() * 10);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for (column, (_, pg_type)) in columns.iter().enumerate() {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}::{pg_type}", 1 + row * columns.len() + column));
        }
        sql.push(')');
    }
    sql
}

/// Row locks where the database has them.
pub(crate) fn for_update(tx: &Tx) -> &'static str {
    // SQLite has one writer at a time already (BEGIN IMMEDIATE) and no row locks to ask for.
    match tx {
        Tx::Sqlite(_) => "",
        Tx::Postgres(_) => " FOR UPDATE",
    }
}
