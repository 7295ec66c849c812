//! Stored value in the database: the account row is locked (PostgreSQL `FOR UPDATE`; SQLite has
//! one writer), the domain's one rule decides the entry, and the entry and the account's new
//! totals are written in the same transaction as whatever they belong to (an order paid, a
//! payment settled or closed, a refund). An entry whose (account, kind, reference) exists is a
//! repeat and writes nothing.

use crate::db::Db;
use crate::error::{Result, StorageError};
use crate::sql_batch::for_update;
use crate::tx::Tx;
use diancan_domain::balance::*;
use diancan_domain::*;
use uuid::Uuid;

mod holds;
mod pay;
mod refunds;

pub(crate) use holds::hold_of_payment;
pub use pay::BalancePayment;
pub use refunds::OrderRefund;

const ACCOUNT_COLUMNS: &str =
    "id, brand_id, customer_id, balance_fen, held_fen, version, created_at_ms, updated_at_ms";
const ENTRY_COLUMNS: &str = "id, account_id, kind, amount_fen, balance_after_fen, held_after_fen, reason, reference, order_id, actor, created_at_ms";
const INSERT_ACCOUNT: &str = "INSERT INTO balance_accounts (id, brand_id, customer_id, balance_fen, held_fen, version, created_at_ms, updated_at_ms)
    VALUES ($1, $2, $3, 0, 0, 0, $4, $4) ON CONFLICT (brand_id, customer_id) DO NOTHING";
const INSERT_ENTRY: &str = "INSERT INTO balance_entries (id, account_id, kind, amount_fen, balance_after_fen, held_after_fen, reason, reference, order_id, actor, created_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
// The version check is a second guard: the row is locked, so it always holds.
const UPDATE_ACCOUNT: &str = "UPDATE balance_accounts SET balance_fen = $2, held_fen = $3, version = $4, updated_at_ms = $5 WHERE id = $1 AND version = $6";
const ENTRY_EXISTS: &str =
    "SELECT COUNT(*) FROM balance_entries WHERE account_id = $1 AND kind = $2 AND reference = $3";

type AccountRow = (Uuid, Uuid, Uuid, i64, i64, i64, i64, i64);
type EntryRow = (
    Uuid,
    Uuid,
    String,
    i64,
    i64,
    i64,
    String,
    String,
    Option<Uuid>,
    String,
    i64,
);

fn account_from(row: AccountRow) -> BalanceAccount {
    BalanceAccount {
        id: row.0,
        brand_id: BrandId::from_uuid(row.1),
        customer_id: CustomerId::from_uuid(row.2),
        balance: Money::from_fen(row.3),
        held: Money::from_fen(row.4),
        version: row.5,
        created_at_ms: row.6,
        updated_at_ms: row.7,
    }
}

fn entry_from(row: EntryRow) -> Result<BalanceEntry> {
    Ok(BalanceEntry {
        id: row.0,
        account_id: row.1,
        kind: EntryKind::parse(&row.2).ok_or_else(|| {
            StorageError::Corrupt(format!("balance entry {}: kind {:?}", row.0, row.2))
        })?,
        amount: Money::from_fen(row.3),
        balance_after: Money::from_fen(row.4),
        held_after: Money::from_fen(row.5),
        reason: row.6,
        reference: row.7,
        order_id: row.8.map(OrderId::from_uuid),
        actor: row.9,
        created_at_ms: row.10,
    })
}

/// An entry to write: what, how much, why, about what, by whom.
pub struct NewEntry<'a> {
    pub kind: EntryKind,
    pub amount: Money,
    pub reason: &'a str,
    pub reference: String,
    pub order_id: Option<OrderId>,
    pub actor: &'a str,
}

/// What posting an entry did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    Written(BalanceEntry),
    /// This operation was written before: nothing changed.
    Repeat,
    Refused(BalanceRefusal),
}

/// The member's account at the brand, locked; `None` when they never had one.
pub(crate) async fn lock_account(
    tx: &mut Tx,
    brand: BrandId,
    customer: CustomerId,
) -> Result<Option<BalanceAccount>> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM balance_accounts WHERE brand_id = $1 AND customer_id = $2{}",
        for_update(tx)
    );
    let row: Option<AccountRow> =
        on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(brand.as_uuid())
            .bind(customer.as_uuid())
            .fetch_optional(&mut *c)
            .await)?;
    Ok(row.map(account_from))
}

pub(crate) async fn lock_account_by_id(tx: &mut Tx, id: Uuid) -> Result<BalanceAccount> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM balance_accounts WHERE id = $1{}",
        for_update(tx)
    );
    let row: AccountRow = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .fetch_one(&mut *c)
        .await)?;
    Ok(account_from(row))
}

/// The member's account, opened (empty) if they had none, and locked.
pub(crate) async fn open_account(
    tx: &mut Tx,
    brand: BrandId,
    customer: CustomerId,
    now_ms: i64,
) -> Result<BalanceAccount> {
    on_tx!(tx, |c| sqlx::query(INSERT_ACCOUNT)
        .bind(Uuid::now_v7())
        .bind(brand.as_uuid())
        .bind(customer.as_uuid())
        .bind(now_ms)
        .execute(&mut *c)
        .await
        .map(drop))?;
    lock_account(tx, brand, customer)
        .await?
        .ok_or(StorageError::NotFound)
}

/// Writes `entry` on the locked `account` (updated in place), unless it was written before or
/// the rule refuses it.
pub(crate) async fn post_in(
    tx: &mut Tx,
    account: &mut BalanceAccount,
    entry: NewEntry<'_>,
    now_ms: i64,
) -> Result<Posted> {
    let (seen,): (i64,) = on_tx!(tx, |c| sqlx::query_as(ENTRY_EXISTS)
        .bind(account.id)
        .bind(entry.kind.as_str())
        .bind(entry.reference.as_str())
        .fetch_one(&mut *c)
        .await)?;
    if seen > 0 {
        return Ok(Posted::Repeat);
    }
    let next = match account.apply(entry.kind, entry.amount) {
        Ok(next) => next,
        Err(refusal) => return Ok(Posted::Refused(refusal)),
    };
    let after = account.with(next, now_ms);
    let written = BalanceEntry {
        id: Uuid::now_v7(),
        account_id: account.id,
        kind: entry.kind,
        amount: entry.amount,
        balance_after: after.balance,
        held_after: after.held,
        reason: entry.reason.to_owned(),
        reference: entry.reference,
        order_id: entry.order_id,
        actor: entry.actor.to_owned(),
        created_at_ms: now_ms,
    };
    on_tx!(tx, |c| sqlx::query(INSERT_ENTRY)
        .bind(written.id)
        .bind(written.account_id)
        .bind(written.kind.as_str())
        .bind(written.amount.fen())
        .bind(written.balance_after.fen())
        .bind(written.held_after.fen())
        .bind(written.reason.as_str())
        .bind(written.reference.as_str())
        .bind(written.order_id.map(|o| o.as_uuid()))
        .bind(written.actor.as_str())
        .bind(written.created_at_ms)
        .execute(&mut *c)
        .await
        .map(drop))?;
    let updated = on_tx!(tx, |c| sqlx::query(UPDATE_ACCOUNT)
        .bind(after.id)
        .bind(after.balance.fen())
        .bind(after.held.fen())
        .bind(after.version)
        .bind(now_ms)
        .bind(account.version)
        .execute(&mut *c)
        .await
        .map(|done| done.rows_affected()))?;
    if updated != 1 {
        return Err(StorageError::Corrupt(format!(
            "balance account {} changed under its lock",
            account.id
        )));
    }
    *account = after;
    Ok(Posted::Written(written))
}

/// What a staff entry did, with the account as it is afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffPosting {
    pub account: BalanceAccount,
    pub posted: Posted,
}

impl Db {
    pub async fn balance_account(
        &self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Option<BalanceAccount>> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM balance_accounts WHERE brand_id = $1 AND customer_id = $2"
        );
        let row: Option<AccountRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(brand.as_uuid())
                .bind(customer.as_uuid())
                .fetch_optional(p)
                .await)?;
        Ok(row.map(account_from))
    }

    /// An account's entries, newest first, `limit` at a time; `before` is the last id of the
    /// previous page (ids are time-ordered).
    pub async fn balance_entries(
        &self,
        account: Uuid,
        before: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<BalanceEntry>> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM balance_entries WHERE account_id = $1 AND ($2 IS NULL OR id < $2)
             ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<EntryRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(account)
                .bind(before)
                .bind(limit)
                .fetch_all(p)
                .await)?;
        rows.into_iter().map(entry_from).collect()
    }

    /// Writes a staff recharge or adjustment (opening the account on the first one).
    pub async fn post_staff_entry(
        &self,
        brand: BrandId,
        customer: CustomerId,
        entry: NewEntry<'_>,
        now_ms: i64,
    ) -> Result<StaffPosting> {
        let mut tx = self.begin().await?;
        let mut account = open_account(&mut tx, brand, customer, now_ms).await?;
        let posted = post_in(&mut tx, &mut account, entry, now_ms).await?;
        tx.commit().await?;
        Ok(StaffPosting { account, posted })
    }
}
