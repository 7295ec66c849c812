//! 会员 in the database: a brand's programme, its members, and each member's points ledger. A
//! posting locks the member row (PostgreSQL `FOR UPDATE`; SQLite has one writer), reads the
//! ledger, lets the caller's decision see it, folds it by the domain's one rule, and writes
//! the entries and the member's new totals in one transaction. An entry whose (member, kind,
//! reference) exists is a repeat and writes nothing: a redelivered event credits once.

use crate::customers::CustomerRecord;
use crate::db::Db;
use crate::error::{Result, StorageError};
use crate::outbox::OutboxEntry;
use crate::sql_batch::for_update;
use crate::tx::Tx;
use diancan_domain::customer::{BlindIndex, SealedPii};
use diancan_domain::membership::levels::{LevelRule, LevelTable};
use diancan_domain::membership::points::{
    ExpiryPolicy, PointsAccount, PointsEntry, PointsKind, PointsRefusal, replay,
};
use diancan_domain::membership::recharge::{RechargeTier, RechargeTiers};
use diancan_domain::membership::{Birthday, Member, MemberDay, Programme};
use diancan_domain::*;
use uuid::Uuid;

mod recharges;

pub use recharges::RechargeOutcome;

/// The outbox topic of a member's order paid: its points and growth are credited.
pub const EARN: &str = "member_earn";
/// The outbox topic of a member's order refunded or cancelled: its points are taken back.
pub const REVERSE: &str = "member_reverse";

/// What the consumer of [`REVERSE`] reads: the order, and how much of it is refunded in all
/// once this refund (under `key`) is counted; `None` for a cancelled order (everything).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reversal {
    pub order_id: OrderId,
    pub key: Option<Uuid>,
    pub refunded_total_fen: Option<i64>,
    pub paid_total_fen: Option<i64>,
}

pub(crate) fn earn_entry(order: OrderId) -> OutboxEntry {
    OutboxEntry {
        topic: EARN,
        subject: Some(format!("order:{order}")),
        payload: serde_json::json!({ "order_id": order }),
    }
}

pub(crate) fn cancelled_entry(order: OrderId) -> OutboxEntry {
    reversal_entry(&Reversal {
        order_id: order,
        key: None,
        refunded_total_fen: None,
        paid_total_fen: None,
    })
}

pub(crate) fn reversal_entry(reversal: &Reversal) -> OutboxEntry {
    OutboxEntry {
        topic: REVERSE,
        subject: Some(format!("order:{}", reversal.order_id)),
        payload: serde_json::to_value(reversal).unwrap_or_default(),
    }
}

const MEMBER_COLUMNS: &str = "m.id, m.brand_id, m.customer_id, m.growth, m.points, m.birthday_month, m.birthday_day, m.version, m.joined_at_ms, m.updated_at_ms";
const ENTRY_COLUMNS: &str = "id, member_id, kind, points, balance_after, growth, expires_at_ms, lot_id, reference, order_id, reason, actor, created_at_ms";
const INSERT_MEMBER: &str = "INSERT INTO members (id, brand_id, customer_id, growth, points, version, joined_at_ms, updated_at_ms)
    VALUES ($1, $2, $3, 0, 0, 0, $4, $4) ON CONFLICT (brand_id, customer_id) DO NOTHING";
const INSERT_ENTRY: &str = "INSERT INTO points_entries (id, member_id, kind, points, balance_after, growth, expires_at_ms, lot_id, reference, order_id, reason, actor, created_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
// The version check is a second guard: the row is locked, so it always holds.
const UPDATE_MEMBER: &str = "UPDATE members SET growth = $2, points = $3, next_expiry_at_ms = $4, version = $5, updated_at_ms = $6 WHERE id = $1 AND version = $7";
const SET_BIRTHDAY: &str =
    "UPDATE members SET birthday_month = $3, birthday_day = $4, updated_at_ms = $5
    WHERE brand_id = $1 AND customer_id = $2 AND birthday_month IS NULL";
const SELECT_PROGRAMME: &str = "SELECT levels_json, points_per_yuan, expiry_months, member_day_weekday, member_day_multiplier, recharge_tiers_json
    FROM membership_programmes WHERE brand_id = $1";
const UPSERT_PROGRAMME: &str = "INSERT INTO membership_programmes (brand_id, levels_json, points_per_yuan, expiry_months, member_day_weekday, member_day_multiplier, recharge_tiers_json, updated_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (brand_id) DO UPDATE SET levels_json = $2, points_per_yuan = $3, expiry_months = $4, member_day_weekday = $5, member_day_multiplier = $6, recharge_tiers_json = $7, updated_at_ms = $8";
const EXPIRY_DUE: &str = "SELECT brand_id, customer_id FROM members WHERE next_expiry_at_ms <= $1 ORDER BY next_expiry_at_ms LIMIT $2";

type MemberRow = (
    Uuid,
    Uuid,
    Uuid,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
    i64,
);
type EntryRow = (
    Uuid,
    Uuid,
    String,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<Uuid>,
    String,
    Option<Uuid>,
    String,
    String,
    i64,
);

fn member_from(row: MemberRow) -> Member {
    let birthday = match (row.5, row.6) {
        (Some(month), Some(day)) => {
            Birthday::parse(month.clamp(0, 12) as i8, day.clamp(0, 31) as i8).ok()
        }
        _ => None,
    };
    Member {
        id: MemberId::from_uuid(row.0),
        brand_id: BrandId::from_uuid(row.1),
        customer_id: CustomerId::from_uuid(row.2),
        growth: row.3,
        points: row.4,
        birthday,
        version: row.7,
        joined_at_ms: row.8,
        updated_at_ms: row.9,
    }
}

fn entry_from(row: EntryRow) -> Result<PointsEntry> {
    Ok(PointsEntry {
        id: row.0,
        member_id: MemberId::from_uuid(row.1),
        kind: PointsKind::parse(&row.2).ok_or_else(|| {
            StorageError::Corrupt(format!("points entry {}: kind {:?}", row.0, row.2))
        })?,
        points: row.3,
        balance_after: row.4,
        growth: row.5,
        expires_at_ms: row.6,
        lot: row.7,
        reference: row.8,
        order_id: row.9.map(OrderId::from_uuid),
        reason: row.10,
        actor: row.11,
        created_at_ms: row.12,
    })
}

/// An entry to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPoints {
    pub kind: PointsKind,
    /// Signed: positive adds, negative takes.
    pub points: i64,
    /// Growth value added or taken back with it (signed; zero for most kinds).
    pub growth: i64,
    pub expires_at_ms: Option<i64>,
    pub lot: Option<Uuid>,
    pub reference: String,
    pub order_id: Option<OrderId>,
    pub reason: String,
    pub actor: String,
}

/// A member's ledger under its lock, for a decision to look at.
pub struct Ledger {
    pub member: Member,
    /// Oldest first.
    pub entries: Vec<PointsEntry>,
    pub account: PointsAccount,
}

impl Ledger {
    /// Whether an entry of `kind` about `reference` was written.
    pub fn has(&self, kind: PointsKind, reference: &str) -> bool {
        self.entries
            .iter()
            .any(|e| e.kind == kind && e.reference == reference)
    }
}

/// What posting did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PointsPosted {
    Written(Vec<PointsEntry>),
    /// Everything decided was written before (or nothing was to be written): no change.
    Repeat,
    Refused(PointsRefusal),
}

/// A posting's result with the member as it is afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointsPosting {
    pub member: Member,
    pub posted: PointsPosted,
}

/// A member found for the console, with the diner behind them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberListing {
    pub member: Member,
    pub customer: CustomerRecord,
}

async fn lock_member(tx: &mut Tx, brand: BrandId, customer: CustomerId) -> Result<Option<Member>> {
    let sql = format!(
        "SELECT {MEMBER_COLUMNS} FROM members m WHERE m.brand_id = $1 AND m.customer_id = $2{}",
        for_update(tx)
    );
    let row: Option<MemberRow> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(brand.as_uuid())
        .bind(customer.as_uuid())
        .fetch_optional(&mut *c)
        .await)?;
    Ok(row.map(member_from))
}

async fn join_in(tx: &mut Tx, brand: BrandId, customer: CustomerId, now_ms: i64) -> Result<bool> {
    let inserted = on_tx!(tx, |c| sqlx::query(INSERT_MEMBER)
        .bind(MemberId::new().as_uuid())
        .bind(brand.as_uuid())
        .bind(customer.as_uuid())
        .bind(now_ms)
        .execute(&mut *c)
        .await
        .map(|done| done.rows_affected()))?;
    Ok(inserted == 1)
}

async fn entries_in(tx: &mut Tx, member: MemberId) -> Result<Vec<PointsEntry>> {
    let sql =
        format!("SELECT {ENTRY_COLUMNS} FROM points_entries WHERE member_id = $1 ORDER BY id");
    let rows: Vec<EntryRow> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(member.as_uuid())
        .fetch_all(&mut *c)
        .await)?;
    rows.into_iter().map(entry_from).collect()
}

/// The member of `customer` at `brand`, joined (empty) if they were not, and locked, with
/// their ledger folded.
async fn ledger_in(
    tx: &mut Tx,
    brand: BrandId,
    customer: CustomerId,
    now_ms: i64,
) -> Result<Ledger> {
    join_in(tx, brand, customer, now_ms).await?;
    let member = lock_member(tx, brand, customer)
        .await?
        .ok_or(StorageError::NotFound)?;
    let entries = entries_in(tx, member.id).await?;
    let account = replay(&entries).map_err(|refusal| {
        StorageError::Corrupt(format!("points of member {}: {refusal}", member.id))
    })?;
    if account.balance != member.points {
        return Err(StorageError::Corrupt(format!(
            "member {} holds {} points but the ledger says {}",
            member.id, member.points, account.balance
        )));
    }
    Ok(Ledger {
        member,
        entries,
        account,
    })
}

/// Writes `entries` on the locked ledger, in order; a repeat is skipped, a refusal undoes all.
async fn post_in(
    tx: &mut Tx,
    ledger: &mut Ledger,
    entries: Vec<NewPoints>,
    now_ms: i64,
) -> Result<PointsPosted> {
    let mut written = Vec::new();
    let mut account = ledger.account.clone();
    let mut growth = ledger.member.growth;
    for new in entries {
        if ledger.has(new.kind, &new.reference)
            || written
                .iter()
                .any(|e: &PointsEntry| e.kind == new.kind && e.reference == new.reference)
        {
            continue;
        }
        let entry = PointsEntry {
            id: Uuid::now_v7(),
            member_id: ledger.member.id,
            kind: new.kind,
            points: new.points,
            balance_after: 0,
            growth: new.growth,
            expires_at_ms: new.expires_at_ms,
            lot: new.lot,
            reference: new.reference,
            order_id: new.order_id,
            reason: new.reason,
            actor: new.actor,
            created_at_ms: now_ms,
        };
        account = match account.apply(&entry.change()) {
            Ok(next) => next,
            Err(refusal) => return Ok(PointsPosted::Refused(refusal)),
        };
        growth = growth.saturating_add(entry.growth).max(0);
        written.push(PointsEntry {
            balance_after: account.balance,
            ..entry
        });
    }
    if written.is_empty() {
        return Ok(PointsPosted::Repeat);
    }
    for entry in &written {
        on_tx!(tx, |c| sqlx::query(INSERT_ENTRY)
            .bind(entry.id)
            .bind(entry.member_id.as_uuid())
            .bind(entry.kind.as_str())
            .bind(entry.points)
            .bind(entry.balance_after)
            .bind(entry.growth)
            .bind(entry.expires_at_ms)
            .bind(entry.lot)
            .bind(entry.reference.as_str())
            .bind(entry.order_id.map(|o| o.as_uuid()))
            .bind(entry.reason.as_str())
            .bind(entry.actor.as_str())
            .bind(entry.created_at_ms)
            .execute(&mut *c)
            .await
            .map(drop))?;
    }
    let next_expiry = account.lots.iter().find_map(|l| l.expires_at_ms);
    let updated = on_tx!(tx, |c| sqlx::query(UPDATE_MEMBER)
        .bind(ledger.member.id.as_uuid())
        .bind(growth)
        .bind(account.balance)
        .bind(next_expiry)
        .bind(ledger.member.version + 1)
        .bind(now_ms)
        .bind(ledger.member.version)
        .execute(&mut *c)
        .await
        .map(|done| done.rows_affected()))?;
    if updated != 1 {
        return Err(StorageError::Corrupt(format!(
            "member {} changed under its lock",
            ledger.member.id
        )));
    }
    ledger.member.growth = growth;
    ledger.member.points = account.balance;
    ledger.member.version += 1;
    ledger.member.updated_at_ms = now_ms;
    ledger.account = account;
    ledger.entries.extend(written.iter().cloned());
    Ok(PointsPosted::Written(written))
}

fn json_error(what: &str, error: serde_json::Error) -> StorageError {
    StorageError::Corrupt(format!("membership programme {what}: {error}"))
}

impl Db {
    /// Makes `customer` a member of `brand` if they are not yet; true when they just joined.
    /// Two first sign-ins racing end with one membership.
    pub async fn join_membership(
        &self,
        brand: BrandId,
        customer: CustomerId,
        now_ms: i64,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let joined = join_in(&mut tx, brand, customer, now_ms).await?;
        tx.commit().await?;
        Ok(joined)
    }

    pub async fn member(&self, brand: BrandId, customer: CustomerId) -> Result<Option<Member>> {
        let sql = format!(
            "SELECT {MEMBER_COLUMNS} FROM members m WHERE m.brand_id = $1 AND m.customer_id = $2"
        );
        let row: Option<MemberRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(brand.as_uuid())
                .bind(customer.as_uuid())
                .fetch_optional(p)
                .await)?;
        Ok(row.map(member_from))
    }

    /// Members of `brand`, newest first, `limit` at a time after `before`; with `phone`, only
    /// the one with that phone (found by its blind index, nothing decrypted).
    pub async fn members(
        &self,
        brand: BrandId,
        phone: Option<&BlindIndex>,
        before: Option<MemberId>,
        limit: i64,
    ) -> Result<Vec<MemberListing>> {
        let sql = format!(
            "SELECT {MEMBER_COLUMNS}, c.phone_sealed, c.wechat_openid_index IS NOT NULL, c.display_name, c.created_at_ms
             FROM members m JOIN customers c ON c.id = m.customer_id AND c.brand_id = m.brand_id
             WHERE m.brand_id = $1 AND ($2 IS NULL OR c.phone_index = $2) AND ($3 IS NULL OR m.id < $3)
             ORDER BY m.id DESC LIMIT $4"
        );
        type Row = (
            Uuid,
            Uuid,
            Uuid,
            i64,
            i64,
            Option<i64>,
            Option<i64>,
            i64,
            i64,
            i64,
            Option<Vec<u8>>,
            bool,
            String,
            i64,
        );
        let rows: Vec<Row> = on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(brand.as_uuid())
            .bind(phone.map(|p| p.as_bytes().to_vec()))
            .bind(before.map(|b| b.as_uuid()))
            .bind(limit)
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let member = member_from((r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9));
                MemberListing {
                    customer: CustomerRecord {
                        id: member.customer_id,
                        brand_id: member.brand_id,
                        phone: r.10.map(SealedPii::from_bytes),
                        has_wechat: r.11,
                        display_name: r.12,
                        created_at_ms: r.13,
                    },
                    member,
                }
            })
            .collect())
    }

    /// Sets a member's birthday, once: a birthday that could be changed would be every day.
    /// False when it was set before.
    pub async fn set_member_birthday(
        &self,
        brand: BrandId,
        customer: CustomerId,
        birthday: Birthday,
        now_ms: i64,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        join_in(&mut tx, brand, customer, now_ms).await?;
        let set = on_tx!(&mut tx, |c| sqlx::query(SET_BIRTHDAY)
            .bind(brand.as_uuid())
            .bind(customer.as_uuid())
            .bind(i64::from(birthday.month))
            .bind(i64::from(birthday.day))
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(|done| done.rows_affected()))?;
        tx.commit().await?;
        Ok(set == 1)
    }

    /// A member's entries, newest first, `limit` at a time; `before` is the last id of the
    /// previous page (ids are time-ordered).
    pub async fn points_entries(
        &self,
        member: MemberId,
        before: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<PointsEntry>> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM points_entries WHERE member_id = $1 AND ($2 IS NULL OR id < $2)
             ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<EntryRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(member.as_uuid())
                .bind(before)
                .bind(limit)
                .fetch_all(p)
                .await)?;
        rows.into_iter().map(entry_from).collect()
    }

    /// The member's points as lots (what expires when), folded from the ledger.
    pub async fn points_account(&self, member: MemberId) -> Result<PointsAccount> {
        let sql =
            format!("SELECT {ENTRY_COLUMNS} FROM points_entries WHERE member_id = $1 ORDER BY id");
        let rows: Vec<EntryRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(member.as_uuid())
                .fetch_all(p)
                .await)?;
        let entries = rows
            .into_iter()
            .map(entry_from)
            .collect::<Result<Vec<_>>>()?;
        replay(&entries).map_err(|refusal| {
            StorageError::Corrupt(format!("points of member {member}: {refusal}"))
        })
    }

    /// Posts what `decide` makes of the member's locked ledger (joining them first if they
    /// were not a member). Entries written before are skipped; a refusal writes nothing.
    pub async fn post_points(
        &self,
        brand: BrandId,
        customer: CustomerId,
        decide: impl FnOnce(&Ledger) -> Vec<NewPoints>,
        now_ms: i64,
    ) -> Result<PointsPosting> {
        let mut tx = self.begin().await?;
        let mut ledger = ledger_in(&mut tx, brand, customer, now_ms).await?;
        let entries = decide(&ledger);
        let posted = post_in(&mut tx, &mut ledger, entries, now_ms).await?;
        match posted {
            PointsPosted::Written(_) => tx.commit().await?,
            PointsPosted::Repeat | PointsPosted::Refused(_) => tx.rollback().await?,
        }
        Ok(PointsPosting {
            member: ledger.member,
            posted,
        })
    }

    /// Members whose soonest lot expired by `now_ms`, for the expiry sweep.
    pub async fn members_with_expiry_due(
        &self,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<(BrandId, CustomerId)>> {
        let rows: Vec<(Uuid, Uuid)> = on_pool!(self, |p| sqlx::query_as(EXPIRY_DUE)
            .bind(now_ms)
            .bind(limit)
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|(b, c)| (BrandId::from_uuid(b), CustomerId::from_uuid(c)))
            .collect())
    }

    /// The brand's programme, or the standard one if it never configured any.
    pub async fn membership_programme(&self, brand: BrandId) -> Result<Programme> {
        type Row = (String, i64, i64, Option<i64>, i64, String);
        let row: Option<Row> = on_pool!(self, |p| sqlx::query_as(SELECT_PROGRAMME)
            .bind(brand.as_uuid())
            .fetch_optional(p)
            .await)?;
        let Some((levels, per_yuan, months, weekday, multiplier, tiers)) = row else {
            return Ok(Programme::standard());
        };
        let corrupt =
            |what: &str| StorageError::Corrupt(format!("membership programme of {brand}: {what}"));
        let levels: Vec<LevelRule> =
            serde_json::from_str(&levels).map_err(|e| json_error("levels", e))?;
        let tiers: Vec<RechargeTier> =
            serde_json::from_str(&tiers).map_err(|e| json_error("tiers", e))?;
        Ok(Programme {
            levels: LevelTable::parse(&levels).map_err(|_| corrupt("levels"))?,
            points_per_yuan: u32::try_from(per_yuan).map_err(|_| corrupt("points per yuan"))?,
            expiry: ExpiryPolicy::parse(u32::try_from(months).map_err(|_| corrupt("expiry"))?)
                .map_err(|_| corrupt("expiry"))?,
            member_day: weekday
                .map(|w| {
                    MemberDay::parse(
                        i8::try_from(w).unwrap_or(0),
                        u32::try_from(multiplier).unwrap_or(0),
                    )
                })
                .transpose()
                .map_err(|_| corrupt("member day"))?,
            recharge_tiers: RechargeTiers::parse(&tiers).map_err(|_| corrupt("tiers"))?,
        })
    }

    pub async fn save_membership_programme(
        &self,
        brand: BrandId,
        programme: &Programme,
        now_ms: i64,
    ) -> Result<()> {
        let levels =
            serde_json::to_string(programme.levels.rules()).map_err(|e| json_error("levels", e))?;
        let tiers = serde_json::to_string(programme.recharge_tiers.tiers())
            .map_err(|e| json_error("tiers", e))?;
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(UPSERT_PROGRAMME)
            .bind(brand.as_uuid())
            .bind(levels.as_str())
            .bind(i64::from(programme.points_per_yuan))
            .bind(i64::from(programme.expiry.months))
            .bind(programme.member_day.map(|d| i64::from(d.iso_weekday())))
            .bind(programme.member_day.map_or(1, |d| i64::from(d.multiplier)))
            .bind(tiers.as_str())
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(drop))?;
        tx.commit().await
    }
}
