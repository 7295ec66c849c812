//! Recharges through the gateways in the database. Settling one locks its row, lets the domain
//! decide what the report does, and credits the balance (Recharge, then Bonus, both under the
//! recharge's reference) in the same transaction that marks it paid: however often, and however
//! concurrently, the money is reported, it credits once.

use crate::balance::{NewEntry, Posted, open_account, post_in};
use crate::db::Db;
use crate::error::{Result, StorageError};
use crate::sql_batch::for_update;
use diancan_domain::balance::{BalanceAccount, EntryKind, reference};
use diancan_domain::membership::recharge::{
    Recharge, RechargeSettlement, RechargeState, settle_recharge,
};
use diancan_domain::payments::{ArrivedMoney, PaymentProvider};
use diancan_domain::*;
use uuid::Uuid;

const COLUMNS: &str = "id, brand_id, customer_id, provider, method, out_trade_no, amount_fen, bonus_fen, state, transaction_id, paid_at_ms, flagged, created_at_ms, updated_at_ms";
const INSERT: &str = "INSERT INTO member_recharges (id, brand_id, customer_id, provider, method, out_trade_no, amount_fen, bonus_fen, state, transaction_id, paid_at_ms, flagged, created_at_ms, updated_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
const SETTLE: &str = "UPDATE member_recharges SET state = $2, transaction_id = $3, paid_at_ms = $4, updated_at_ms = $5 WHERE id = $1";
const FLAG: &str = "UPDATE member_recharges SET flagged = $2, updated_at_ms = $3 WHERE id = $1";
const CLOSE: &str = "UPDATE member_recharges SET state = 'closed', updated_at_ms = $2 WHERE id = $1 AND state = 'pending'";

type Row = (
    Uuid,
    Uuid,
    Uuid,
    String,
    String,
    String,
    i64,
    i64,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    i64,
    i64,
);

fn recharge_from(row: Row) -> Result<Recharge> {
    let id = row.0;
    Ok(Recharge {
        id: RechargeId::from_uuid(id),
        brand_id: BrandId::from_uuid(row.1),
        customer_id: CustomerId::from_uuid(row.2),
        provider: PaymentProvider::parse(&row.3)
            .ok_or_else(|| StorageError::Corrupt(format!("recharge {id}: provider {:?}", row.3)))?,
        method: row.4,
        out_trade_no: row.5,
        amount: Money::from_fen(row.6),
        bonus: Money::from_fen(row.7),
        state: RechargeState::parse(&row.8)
            .ok_or_else(|| StorageError::Corrupt(format!("recharge {id}: state {:?}", row.8)))?,
        transaction_id: row.9,
        paid_at_ms: row.10,
        flagged: row.11,
        created_at_ms: row.12,
        updated_at_ms: row.13,
    })
}

/// What settling a recharge's money did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RechargeOutcome {
    /// Credited now: the amount and the bonus are on the balance.
    Credited {
        recharge: Recharge,
        account: BalanceAccount,
    },
    AlreadySettled {
        recharge: Recharge,
    },
    /// Not what was asked for (or the balance is at its limit): set aside, nothing credited.
    Flagged {
        recharge: Recharge,
        reason: &'static str,
    },
}

impl Db {
    pub async fn create_recharge(&self, recharge: &Recharge) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(INSERT)
            .bind(recharge.id.as_uuid())
            .bind(recharge.brand_id.as_uuid())
            .bind(recharge.customer_id.as_uuid())
            .bind(recharge.provider.as_str())
            .bind(recharge.method.as_str())
            .bind(recharge.out_trade_no.as_str())
            .bind(recharge.amount.fen())
            .bind(recharge.bonus.fen())
            .bind(recharge.state.as_str())
            .bind(recharge.transaction_id.as_deref())
            .bind(recharge.paid_at_ms)
            .bind(recharge.flagged.as_deref())
            .bind(recharge.created_at_ms)
            .bind(recharge.updated_at_ms)
            .execute(&mut *c)
            .await
            .map(drop))?;
        tx.commit().await
    }

    /// One of the diner's recharges at the brand.
    pub async fn recharge(
        &self,
        brand: BrandId,
        customer: CustomerId,
        id: RechargeId,
    ) -> Result<Option<Recharge>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM member_recharges WHERE id = $1 AND brand_id = $2 AND customer_id = $3"
        );
        let row: Option<Row> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id.as_uuid())
                .bind(brand.as_uuid())
                .bind(customer.as_uuid())
                .fetch_optional(p)
                .await)?;
        row.map(recharge_from).transpose()
    }

    /// Whether our number `out_trade_no` is a recharge's (and not an order's payment).
    pub async fn recharge_by_trade_no(&self, out_trade_no: &str) -> Result<Option<Recharge>> {
        let sql = format!("SELECT {COLUMNS} FROM member_recharges WHERE out_trade_no = $1");
        let row: Option<Row> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(out_trade_no)
                .fetch_optional(p)
                .await)?;
        row.map(recharge_from).transpose()
    }

    /// Recharges still pending that were started before `started_before_ms`: nobody will pay
    /// them any more, and the sweep closes them at their gateway.
    pub async fn pending_recharges_due(
        &self,
        started_before_ms: i64,
        limit: i64,
    ) -> Result<Vec<Recharge>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM member_recharges WHERE state = 'pending' AND created_at_ms < $1
             ORDER BY created_at_ms, id LIMIT $2"
        );
        let rows: Vec<Row> = on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(started_before_ms)
            .bind(limit)
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let id = row.0;
                recharge_from(row)
                    .inspect_err(|error| tracing::error!(%id, %error, "unreadable recharge"))
                    .ok()
            })
            .collect())
    }

    /// Our side of a reconciliation day for recharges: those paid (or flagged) in the window at
    /// its gateway, and those the statement names whatever day they were made.
    pub(crate) async fn recharges_for_reconciliation(
        &self,
        window: &crate::reconciliation::DayWindow<'_>,
    ) -> Result<(Vec<Recharge>, Vec<Recharge>)> {
        let provider = window.provider.as_str();
        let sql = format!(
            "SELECT {COLUMNS} FROM member_recharges WHERE provider = $1 AND state = 'paid' AND paid_at_ms >= $2 AND paid_at_ms < $3
             UNION SELECT {COLUMNS} FROM member_recharges WHERE provider = $1 AND flagged IS NOT NULL AND updated_at_ms >= $2 AND updated_at_ms < $3"
        );
        let rows: Vec<Row> = on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(provider)
            .bind(window.from_ms)
            .bind(window.to_ms)
            .fetch_all(p)
            .await)?;
        let booked = rows
            .into_iter()
            .map(recharge_from)
            .collect::<Result<Vec<_>>>()?;
        let mut named = Vec::new();
        for chunk in window.out_trade_nos.chunks(400) {
            let sql = format!(
                "SELECT {COLUMNS} FROM member_recharges WHERE provider = {} AND out_trade_no IN ({})",
                crate::reconciliation::numbered(self.backend(), 1, 1),
                crate::reconciliation::numbered(self.backend(), 2, chunk.len())
            );
            let rows: Vec<Row> = on_pool!(self, |p| {
                let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(provider);
                for no in chunk {
                    query = query.bind(no.as_str());
                }
                query.fetch_all(p).await
            })?;
            for row in rows {
                named.push(recharge_from(row)?);
            }
        }
        Ok((booked, named))
    }

    /// Closes a recharge nobody paid; false when it was not pending any more.
    pub async fn close_recharge(&self, id: RechargeId, now_ms: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let closed = on_tx!(&mut tx, |c| sqlx::query(CLOSE)
            .bind(id.as_uuid())
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(|done| done.rows_affected()))?;
        tx.commit().await?;
        Ok(closed == 1)
    }

    /// Settles a verified report of a recharge's money. `NotFound` when `out_trade_no` is no
    /// recharge of ours.
    pub async fn settle_recharge(
        &self,
        arrived: &ArrivedMoney,
        now_ms: i64,
    ) -> Result<RechargeOutcome> {
        let mut tx = self.begin().await?;
        let sql = format!(
            "SELECT {COLUMNS} FROM member_recharges WHERE out_trade_no = $1{}",
            for_update(&tx)
        );
        let row: Option<Row> = on_tx!(&mut tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(arrived.out_trade_no.as_str())
        .fetch_optional(&mut *c)
        .await)?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Err(StorageError::NotFound);
        };
        let mut recharge = recharge_from(row)?;
        let reason = match settle_recharge(&recharge, arrived) {
            RechargeSettlement::AlreadySettled => {
                tx.rollback().await?;
                return Ok(RechargeOutcome::AlreadySettled { recharge });
            }
            RechargeSettlement::Flag(reason) => reason,
            RechargeSettlement::Credit => {
                let mut account =
                    open_account(&mut tx, recharge.brand_id, recharge.customer_id, now_ms).await?;
                let actor = arrived.provider.actor();
                let mut refused = None;
                for (kind, amount, reason) in [
                    (EntryKind::Recharge, recharge.amount, "在线充值"),
                    (EntryKind::Bonus, recharge.bonus, "充值赠送"),
                ] {
                    if amount <= Money::ZERO {
                        continue;
                    }
                    let entry = NewEntry {
                        kind,
                        amount,
                        reason,
                        reference: reference::recharge(recharge.id),
                        order_id: None,
                        actor,
                    };
                    if let Posted::Refused(refusal) =
                        post_in(&mut tx, &mut account, entry, now_ms).await?
                    {
                        refused = Some(refusal);
                        break;
                    }
                }
                if refused.is_some() {
                    // Only the balance's limit refuses a credit: nothing is credited, and the
                    // money waits for reconciliation to go back.
                    tx.rollback().await?;
                    tx = self.begin().await?;
                    "balance_limit"
                } else {
                    recharge.state = RechargeState::Paid;
                    recharge.transaction_id = Some(arrived.transaction_id.clone());
                    recharge.paid_at_ms = Some(arrived.paid_at_ms);
                    recharge.updated_at_ms = now_ms;
                    on_tx!(&mut tx, |c| sqlx::query(SETTLE)
                        .bind(recharge.id.as_uuid())
                        .bind(recharge.state.as_str())
                        .bind(recharge.transaction_id.as_deref())
                        .bind(recharge.paid_at_ms)
                        .bind(now_ms)
                        .execute(&mut *c)
                        .await
                        .map(drop))?;
                    tx.commit().await?;
                    return Ok(RechargeOutcome::Credited { recharge, account });
                }
            }
        };
        on_tx!(&mut tx, |c| sqlx::query(FLAG)
            .bind(recharge.id.as_uuid())
            .bind(reason)
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(drop))?;
        tx.commit().await?;
        recharge.flagged = Some(reason.to_owned());
        Ok(RechargeOutcome::Flagged { recharge, reason })
    }
}
