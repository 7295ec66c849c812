//! A store's print agents: created with the hash of a device token the console shows once,
//! listed, revoked, and recognised by that hash (each recognition also records when the agent
//! was last seen, which the console shows).

use crate::db::Db;
use crate::error::{Result, StorageError};
use diancan_domain::text::Name;
use diancan_domain::*;
use serde::Serialize;
use sqlx::FromRow;
use uuid::Uuid;

/// One print agent as the console shows it (never its token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrintAgent {
    pub id: PrintAgentId,
    pub brand_id: BrandId,
    pub store_id: StoreId,
    pub name: String,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
    pub last_seen_ms: Option<i64>,
}

const AGENT_COLUMNS: &str =
    "id, brand_id, store_id, name, created_at_ms, revoked_at_ms, last_seen_ms";
const INSERT_AGENT: &str =
    "INSERT INTO print_agents (id, brand_id, store_id, name, token_hash, created_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6)";
const SELECT_AGENTS: &str =
    "SELECT id, brand_id, store_id, name, created_at_ms, revoked_at_ms, last_seen_ms
    FROM print_agents WHERE brand_id = $1 AND store_id = $2 ORDER BY name";
const REVOKE_AGENT: &str = "UPDATE print_agents SET revoked_at_ms = COALESCE(revoked_at_ms, $4)
    WHERE id = $1 AND brand_id = $2 AND store_id = $3";
const SEEN_AGENT: &str = "UPDATE print_agents SET last_seen_ms = $2
    WHERE token_hash = $1 AND revoked_at_ms IS NULL
    RETURNING id, brand_id, store_id, name, created_at_ms, revoked_at_ms, last_seen_ms";
const AGENT_OF_STORE: &str = "SELECT COUNT(*) FROM print_agents WHERE id = $1 AND brand_id = $2 AND store_id = $3 AND revoked_at_ms IS NULL";

#[derive(FromRow)]
struct AgentRow {
    id: Uuid,
    brand_id: Uuid,
    store_id: Uuid,
    name: String,
    created_at_ms: i64,
    revoked_at_ms: Option<i64>,
    last_seen_ms: Option<i64>,
}

impl From<AgentRow> for PrintAgent {
    fn from(r: AgentRow) -> Self {
        PrintAgent {
            id: PrintAgentId::from_uuid(r.id),
            brand_id: BrandId::from_uuid(r.brand_id),
            store_id: StoreId::from_uuid(r.store_id),
            name: r.name,
            created_at_ms: r.created_at_ms,
            revoked_at_ms: r.revoked_at_ms,
            last_seen_ms: r.last_seen_ms,
        }
    }
}

/// Whether `agent` is a live agent of the store (a printer may name only such a one).
pub(crate) async fn agent_of_store(
    tx: &mut crate::tx::Tx,
    brand: BrandId,
    store: StoreId,
    agent: PrintAgentId,
) -> Result<bool> {
    let (n,): (i64,) = on_tx!(tx, |c| sqlx::query_as(AGENT_OF_STORE)
        .bind(agent.as_uuid())
        .bind(brand.as_uuid())
        .bind(store.as_uuid())
        .fetch_one(&mut *c)
        .await)?;
    Ok(n > 0)
}

impl Db {
    /// Adds an agent whose device token hashes to `token_hash`.
    pub async fn create_print_agent(
        &self,
        brand: BrandId,
        store: StoreId,
        name: &Name,
        token_hash: &[u8],
        now_ms: i64,
    ) -> Result<PrintAgent> {
        let id = PrintAgentId::new();
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(INSERT_AGENT)
            .bind(id.as_uuid())
            .bind(brand.as_uuid())
            .bind(store.as_uuid())
            .bind(name.as_str())
            .bind(token_hash)
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(drop))?;
        tx.commit().await?;
        Ok(PrintAgent {
            id,
            brand_id: brand,
            store_id: store,
            name: name.as_str().to_owned(),
            created_at_ms: now_ms,
            revoked_at_ms: None,
            last_seen_ms: None,
        })
    }

    /// The store's agents by name, revoked ones included (the console shows when).
    pub async fn print_agents(&self, brand: BrandId, store: StoreId) -> Result<Vec<PrintAgent>> {
        let rows: Vec<AgentRow> = on_pool!(self, |p| sqlx::query_as(SELECT_AGENTS)
            .bind(brand.as_uuid())
            .bind(store.as_uuid())
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(PrintAgent::from).collect())
    }

    /// Revokes an agent: its token is refused from now on. Revoking twice keeps the first time.
    pub async fn revoke_print_agent(
        &self,
        brand: BrandId,
        store: StoreId,
        id: PrintAgentId,
        now_ms: i64,
    ) -> Result<PrintAgent> {
        let mut tx = self.begin().await?;
        let updated = on_tx!(&mut tx, |c| sqlx::query(REVOKE_AGENT)
            .bind(id.as_uuid())
            .bind(brand.as_uuid())
            .bind(store.as_uuid())
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if updated == 0 {
            tx.rollback().await?;
            return Err(StorageError::NotFound);
        }
        let sql = format!("SELECT {AGENT_COLUMNS} FROM print_agents WHERE id = $1");
        let row: AgentRow = on_tx!(&mut tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(id.as_uuid())
        .fetch_one(&mut *c)
        .await)?;
        tx.commit().await?;
        Ok(row.into())
    }

    /// The live agent whose token hashes to `token_hash`, marked seen at `now_ms`. `NotFound`
    /// for an unknown or revoked token.
    pub async fn print_agent_by_token(&self, token_hash: &[u8], now_ms: i64) -> Result<PrintAgent> {
        let mut tx = self.begin().await?;
        let row: Option<AgentRow> = on_tx!(&mut tx, |c| sqlx::query_as(SEEN_AGENT)
            .bind(token_hash)
            .bind(now_ms)
            .fetch_optional(&mut *c)
            .await)?;
        tx.commit().await?;
        row.map(PrintAgent::from).ok_or(StorageError::NotFound)
    }
}
