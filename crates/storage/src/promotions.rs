//! Promotions, coupon templates, the coupons diners hold and what orders redeemed. Rules are
//! stored as the domain's own JSON and checked again on every read: a row that no longer reads
//! as a valid rule is skipped (and logged), so one bad row costs one promotion, never a quote.
//! Limits (per diner, in total) are counters checked under the row's lock in the same
//! transaction as the claim or the order; placement's part lives in `ordering/placement.rs`.

use crate::db::Db;
use crate::error::{Result, StorageError};
use crate::tx::Tx;
use diancan_domain::promotions::{
    Coupon, CouponGrant, CouponSpec, GrantState, Promotion, PromotionSpec,
};
use diancan_domain::*;
use jiff::Timestamp;
use uuid::Uuid;

const PROMOTION_COLUMNS: &str = "id, brand_id, name, rule_json, enabled, starts_at_ms, ends_at_ms, per_diner_limit, version, created_at_ms, updated_at_ms";
const INSERT_PROMOTION: &str = "INSERT INTO promotions (id, brand_id, name, rule_json, enabled, starts_at_ms, ends_at_ms, per_diner_limit, version, created_at_ms, updated_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9)";
const UPDATE_PROMOTION: &str = "UPDATE promotions SET name = $3, rule_json = $4, enabled = $5, starts_at_ms = $6, ends_at_ms = $7, per_diner_limit = $8,
    version = version + 1, updated_at_ms = $9 WHERE id = $1 AND brand_id = $2 AND version = $10";
const TEMPLATE_COLUMNS: &str = "id, brand_id, name, spec_json, enabled, claimable, per_diner_limit, total_limit, issued, version, created_at_ms, updated_at_ms";
const INSERT_TEMPLATE: &str = "INSERT INTO coupon_templates (id, brand_id, name, spec_json, enabled, claimable, per_diner_limit, total_limit, issued, version, created_at_ms, updated_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 1, $9, $9)";
// A total limit may not drop below what was issued already (the CHECK refuses it too).
const UPDATE_TEMPLATE: &str = "UPDATE coupon_templates SET name = $3, spec_json = $4, enabled = $5, claimable = $6, per_diner_limit = $7, total_limit = $8,
    version = version + 1, updated_at_ms = $9 WHERE id = $1 AND brand_id = $2 AND version = $10 AND ($8 IS NULL OR issued <= $8)";
/// One more issued, unless the total limit is reached: the row lock serializes claimers and
/// the condition is checked again on the locked row.
const ISSUE_ONE: &str = "UPDATE coupon_templates SET issued = issued + 1
    WHERE id = $1 AND brand_id = $2 AND enabled = $3 AND (total_limit IS NULL OR issued < total_limit)";
const CLAIM_ONE: &str =
    "INSERT INTO coupon_claims (template_id, customer_id, claimed) VALUES ($1, $2, 1)
    ON CONFLICT (template_id, customer_id) DO UPDATE SET claimed = coupon_claims.claimed + 1
    WHERE coupon_claims.claimed < $3 RETURNING claimed";
const INSERT_GRANT: &str = "INSERT INTO coupon_grants (id, brand_id, template_id, customer_id, claimed_at_ms, valid_from_ms, valid_until_ms, state)
    VALUES ($1, $2, $3, $4, $5, $6, $7, 'available')";
const GRANT_COLUMNS: &str = "g.id, g.template_id, g.claimed_at_ms, g.valid_from_ms, g.valid_until_ms, g.state, g.order_id, g.used_at_ms";
const CLAIMED_BY: &str = "SELECT template_id, claimed FROM coupon_claims WHERE customer_id = $1";
const USES_OF: &str =
    "SELECT u.promotion_id, u.used FROM promotion_uses u JOIN promotions p ON p.id = u.promotion_id
    WHERE u.customer_id = $1 AND p.brand_id = $2";
const RETURN_GRANTS: &str = "UPDATE coupon_grants SET state = 'available', order_id = NULL, used_at_ms = NULL WHERE order_id = $1 AND state = 'used'";
const RETURN_USE: &str = "UPDATE promotion_uses SET used = used - 1 WHERE promotion_id = $1 AND customer_id = $2 AND used > 0";
const OPEN_REDEMPTIONS: &str = "SELECT promotion_id, customer_id FROM redemptions WHERE order_id = $1 AND returned_at_ms IS NULL";
const CLOSE_REDEMPTIONS: &str =
    "UPDATE redemptions SET returned_at_ms = $2 WHERE order_id = $1 AND returned_at_ms IS NULL";
const TEMPLATE_STATS: &str = "SELECT t.id, t.issued,
        (SELECT COUNT(*) FROM coupon_grants g WHERE g.template_id = t.id AND g.state = 'used'),
        (SELECT COUNT(*) FROM redemptions r WHERE r.template_id = t.id AND r.returned_at_ms IS NULL),
        (SELECT CAST(COALESCE(SUM(r.amount_fen), 0) AS BIGINT) FROM redemptions r WHERE r.template_id = t.id AND r.returned_at_ms IS NULL),
        (SELECT COUNT(*) FROM redemptions r WHERE r.template_id = t.id AND r.returned_at_ms IS NOT NULL)
    FROM coupon_templates t WHERE t.brand_id = $1 ORDER BY t.created_at_ms, t.id";
const PROMOTION_STATS: &str = "SELECT p.id,
        (SELECT COUNT(*) FROM redemptions r WHERE r.promotion_id = p.id AND r.returned_at_ms IS NULL),
        (SELECT CAST(COALESCE(SUM(r.amount_fen), 0) AS BIGINT) FROM redemptions r WHERE r.promotion_id = p.id AND r.returned_at_ms IS NULL)
    FROM promotions p WHERE p.brand_id = $1 ORDER BY p.created_at_ms, p.id";

/// Whether, when and how often a promotion is in force; the rule itself is the domain's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromotionWindow {
    pub enabled: bool,
    pub starts_at_ms: Option<i64>,
    pub ends_at_ms: Option<i64>,
    pub per_diner_limit: Option<i64>,
}

impl PromotionWindow {
    pub fn in_force_at(&self, now_ms: i64) -> bool {
        self.enabled
            && self.starts_at_ms.is_none_or(|from| from <= now_ms)
            && self.ends_at_ms.is_none_or(|until| now_ms < until)
    }
}

/// A promotion as stored; `rule` is `None` when the stored JSON no longer reads as a valid rule.
#[derive(Debug, Clone)]
pub struct PromotionRecord {
    pub id: PromotionId,
    pub brand_id: BrandId,
    pub name: String,
    pub rule: Option<Promotion>,
    pub window: PromotionWindow,
    pub version: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// How a coupon template is handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuing {
    pub enabled: bool,
    /// In the coupon centre for diners to claim.
    pub claimable: bool,
    pub per_diner_limit: i64,
    pub total_limit: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct CouponTemplateRecord {
    pub id: CouponId,
    pub brand_id: BrandId,
    pub name: String,
    pub coupon: Option<Coupon>,
    pub issuing: Issuing,
    pub issued: i64,
    pub version: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// One of a diner's coupons with its template.
#[derive(Debug, Clone)]
pub struct HeldCoupon {
    pub grant: CouponGrant,
    pub template: CouponTemplateRecord,
    pub valid_from_ms: i64,
    pub valid_until_ms: i64,
    pub order_id: Option<OrderId>,
    pub used_at_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    Claimed(CouponGrantId),
    /// No such template at the brand, or it is switched off or not claimable.
    NotClaimable,
    /// The template's total limit is reached.
    AllGone,
    /// The diner holds as many as the template allows.
    LimitReached,
}

/// Redemption statistics of one coupon template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateStats {
    pub template_id: CouponId,
    pub issued: i64,
    pub used: i64,
    pub redeemed_orders: i64,
    pub discount_fen: Money,
    pub returned: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PromotionStats {
    pub promotion_id: PromotionId,
    pub redeemed_orders: i64,
    pub discount_fen: Money,
}

type PromotionRow = (
    Uuid,
    Uuid,
    String,
    String,
    bool,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
    i64,
);
type TemplateRow = (
    Uuid,
    Uuid,
    String,
    String,
    bool,
    bool,
    i64,
    Option<i64>,
    i64,
    i64,
    i64,
    i64,
);
type GrantRow = (Uuid, Uuid, i64, i64, i64, String, Option<Uuid>, Option<i64>);

fn promotion_from(row: PromotionRow) -> PromotionRecord {
    let id = PromotionId::from_uuid(row.0);
    let rule = serde_json::from_str::<PromotionSpec>(&row.3)
        .map_err(|e| e.to_string())
        .and_then(|spec| {
            if spec.id != id {
                return Err("the rule names another promotion".to_owned());
            }
            Promotion::new(spec).map_err(|e| e.to_string())
        });
    let rule = match rule {
        Ok(rule) => Some(rule),
        Err(problem) => {
            tracing::warn!(promotion = %id, %problem, "a stored promotion is unreadable; it is skipped");
            None
        }
    };
    PromotionRecord {
        id,
        brand_id: BrandId::from_uuid(row.1),
        name: row.2,
        rule,
        window: PromotionWindow {
            enabled: row.4,
            starts_at_ms: row.5,
            ends_at_ms: row.6,
            per_diner_limit: row.7,
        },
        version: row.8,
        created_at_ms: row.9,
        updated_at_ms: row.10,
    }
}

fn template_from(row: TemplateRow) -> CouponTemplateRecord {
    let id = CouponId::from_uuid(row.0);
    let coupon = serde_json::from_str::<CouponSpec>(&row.3)
        .map_err(|e| e.to_string())
        .and_then(|spec| {
            if spec.id != id {
                return Err("the spec names another template".to_owned());
            }
            Coupon::new(spec).map_err(|e| e.to_string())
        });
    let coupon = match coupon {
        Ok(coupon) => Some(coupon),
        Err(problem) => {
            tracing::warn!(template = %id, %problem, "a stored coupon template is unreadable; it is skipped");
            None
        }
    };
    CouponTemplateRecord {
        id,
        brand_id: BrandId::from_uuid(row.1),
        name: row.2,
        coupon,
        issuing: Issuing {
            enabled: row.4,
            claimable: row.5,
            per_diner_limit: row.6,
            total_limit: row.7,
        },
        issued: row.8,
        version: row.9,
        created_at_ms: row.10,
        updated_at_ms: row.11,
    }
}

fn grant_state(state: &str, id: Uuid) -> Result<GrantState> {
    match state {
        "available" => Ok(GrantState::Available),
        "used" => Ok(GrantState::Redeemed),
        other => Err(StorageError::Corrupt(format!(
            "coupon grant {id}: state {other:?}"
        ))),
    }
}

fn timestamp(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

impl Db {
    /// Creates or (at `expected_version`) updates a promotion. The brand's menu revision moves
    /// with it, so every instance's cached promotions and every quote made before are stale.
    /// `Ok(false)`: no such promotion at that version.
    pub async fn save_promotion(
        &self,
        brand: BrandId,
        promotion: &Promotion,
        window: &PromotionWindow,
        expected_version: Option<i64>,
        now_ms: i64,
    ) -> Result<bool> {
        let spec = promotion.spec();
        let json = serde_json::to_string(spec)?;
        let mut tx = self.begin().await?;
        let written = match expected_version {
            None => on_tx!(&mut tx, |c| sqlx::query(INSERT_PROMOTION)
                .bind(spec.id.as_uuid())
                .bind(brand.as_uuid())
                .bind(&spec.name)
                .bind(&json)
                .bind(window.enabled)
                .bind(window.starts_at_ms)
                .bind(window.ends_at_ms)
                .bind(window.per_diner_limit)
                .bind(now_ms)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected()))?,
            Some(version) => on_tx!(&mut tx, |c| sqlx::query(UPDATE_PROMOTION)
                .bind(spec.id.as_uuid())
                .bind(brand.as_uuid())
                .bind(&spec.name)
                .bind(&json)
                .bind(window.enabled)
                .bind(window.starts_at_ms)
                .bind(window.ends_at_ms)
                .bind(window.per_diner_limit)
                .bind(now_ms)
                .bind(version)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected()))?,
        };
        if written != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        crate::catalog::bump_menu_revision(&mut tx, brand).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Every promotion of the brand, oldest first (unreadable rules as `rule: None`).
    pub async fn promotions(&self, brand: BrandId) -> Result<Vec<PromotionRecord>> {
        let sql = format!(
            "SELECT {PROMOTION_COLUMNS} FROM promotions WHERE brand_id = $1 ORDER BY created_at_ms, id"
        );
        let rows: Vec<PromotionRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(brand.as_uuid())
                .fetch_all(p)
                .await)?;
        Ok(rows.into_iter().map(promotion_from).collect())
    }

    pub async fn promotion(&self, brand: BrandId, id: PromotionId) -> Result<PromotionRecord> {
        let sql =
            format!("SELECT {PROMOTION_COLUMNS} FROM promotions WHERE brand_id = $1 AND id = $2");
        let row: Option<PromotionRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(brand.as_uuid())
                .bind(id.as_uuid())
                .fetch_optional(p)
                .await)?;
        row.map(promotion_from).ok_or(StorageError::NotFound)
    }

    /// Creates or (at `expected_version`) updates a coupon template. `Ok(false)`: no such
    /// template at that version, or a total limit below what was issued already.
    pub async fn save_coupon_template(
        &self,
        brand: BrandId,
        coupon: &Coupon,
        issuing: &Issuing,
        expected_version: Option<i64>,
        now_ms: i64,
    ) -> Result<bool> {
        let spec = coupon.spec();
        let json = serde_json::to_string(spec)?;
        let mut tx = self.begin().await?;
        // One set of binds for both statements, on either database.
        macro_rules! query {
            ($sql:expr) => {
                sqlx::query($sql)
                    .bind(spec.id.as_uuid())
                    .bind(brand.as_uuid())
                    .bind(&spec.name)
                    .bind(&json)
                    .bind(issuing.enabled)
                    .bind(issuing.claimable)
                    .bind(issuing.per_diner_limit)
                    .bind(issuing.total_limit)
                    .bind(now_ms)
            };
        }
        let written = match expected_version {
            None => on_tx!(&mut tx, |c| query!(INSERT_TEMPLATE)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected()))?,
            Some(version) => on_tx!(&mut tx, |c| query!(UPDATE_TEMPLATE)
                .bind(version)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected()))?,
        };
        if written != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        // Quotes price the diner's coupons from their template: they are stale now.
        crate::catalog::bump_menu_revision(&mut tx, brand).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn coupon_templates(&self, brand: BrandId) -> Result<Vec<CouponTemplateRecord>> {
        let sql = format!(
            "SELECT {TEMPLATE_COLUMNS} FROM coupon_templates WHERE brand_id = $1 ORDER BY created_at_ms, id"
        );
        let rows: Vec<TemplateRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(brand.as_uuid())
                .fetch_all(p)
                .await)?;
        Ok(rows.into_iter().map(template_from).collect())
    }

    pub async fn coupon_template(
        &self,
        brand: BrandId,
        id: CouponId,
    ) -> Result<CouponTemplateRecord> {
        let sql = format!(
            "SELECT {TEMPLATE_COLUMNS} FROM coupon_templates WHERE brand_id = $1 AND id = $2"
        );
        let row: Option<TemplateRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(brand.as_uuid())
                .bind(id.as_uuid())
                .fetch_optional(p)
                .await)?;
        row.map(template_from).ok_or(StorageError::NotFound)
    }

    /// Gives the diner one coupon of the template, within its total and per-diner limits, in
    /// one transaction: either the counters and the grant are all written, or nothing is.
    /// `for_centre`: the diner claims it themselves, so the template must be claimable.
    pub async fn claim_coupon(
        &self,
        brand: BrandId,
        template: CouponId,
        customer: CustomerId,
        for_centre: bool,
        now: Timestamp,
    ) -> Result<ClaimOutcome> {
        let record = match self.coupon_template(brand, template).await {
            Ok(record) => record,
            Err(StorageError::NotFound) => return Ok(ClaimOutcome::NotClaimable),
            Err(e) => return Err(e),
        };
        let Some(coupon) = &record.coupon else {
            return Ok(ClaimOutcome::NotClaimable);
        };
        if !record.issuing.enabled || (for_centre && !record.issuing.claimable) {
            return Ok(ClaimOutcome::NotClaimable);
        }
        let id = CouponGrantId::new();
        let grant = CouponGrant {
            id,
            coupon_id: template,
            claimed_at: now,
            state: GrantState::Available,
        };
        let (from, until) = grant.valid_between(coupon);
        if until <= now {
            return Ok(ClaimOutcome::NotClaimable);
        }
        let mut tx = self.begin().await?;
        let issued = on_tx!(&mut tx, |c| sqlx::query(ISSUE_ONE)
            .bind(template.as_uuid())
            .bind(brand.as_uuid())
            .bind(true)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if issued != 1 {
            tx.rollback().await?;
            return Ok(ClaimOutcome::AllGone);
        }
        let claimed: Option<(i64,)> = on_tx!(&mut tx, |c| sqlx::query_as(CLAIM_ONE)
            .bind(template.as_uuid())
            .bind(customer.as_uuid())
            .bind(record.issuing.per_diner_limit)
            .fetch_optional(&mut *c)
            .await)?;
        if claimed.is_none() {
            tx.rollback().await?;
            return Ok(ClaimOutcome::LimitReached);
        }
        on_tx!(&mut tx, |c| sqlx::query(INSERT_GRANT)
            .bind(id.as_uuid())
            .bind(brand.as_uuid())
            .bind(template.as_uuid())
            .bind(customer.as_uuid())
            .bind(now.as_millisecond())
            .bind(from.as_millisecond())
            .bind(until.as_millisecond())
            .execute(&mut *c)
            .await
            .map(drop))?;
        tx.commit().await?;
        Ok(ClaimOutcome::Claimed(id))
    }

    /// The diner's coupons at the brand: every one when `all`, else those not used yet; soonest
    /// to expire first. A grant whose template is unreadable is left out.
    pub async fn customer_coupons(
        &self,
        brand: BrandId,
        customer: CustomerId,
        all: bool,
    ) -> Result<Vec<HeldCoupon>> {
        let templates = self.coupon_templates(brand).await?;
        let sql = format!(
            "SELECT {GRANT_COLUMNS} FROM coupon_grants g WHERE g.brand_id = $1 AND g.customer_id = $2{}
             ORDER BY g.valid_until_ms, g.id",
            if all { "" } else { " AND g.state = 'available'" }
        );
        let rows: Vec<GrantRow> =
            on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(brand.as_uuid())
                .bind(customer.as_uuid())
                .fetch_all(p)
                .await)?;
        let mut held = Vec::with_capacity(rows.len());
        for row in rows {
            let Some(template) = templates
                .iter()
                .find(|t| t.id.as_uuid() == row.1 && t.coupon.is_some())
            else {
                continue;
            };
            held.push(HeldCoupon {
                grant: CouponGrant {
                    id: CouponGrantId::from_uuid(row.0),
                    coupon_id: CouponId::from_uuid(row.1),
                    claimed_at: timestamp(row.2),
                    state: grant_state(&row.5, row.0)?,
                },
                template: template.clone(),
                valid_from_ms: row.3,
                valid_until_ms: row.4,
                order_id: row.6.map(OrderId::from_uuid),
                used_at_ms: row.7,
            });
        }
        Ok(held)
    }

    /// Whether the diner has ordered at the brand before (cancelled orders do not count): a
    /// 新客 promotion is for the first order only.
    pub async fn customer_has_orders(&self, brand: BrandId, customer: CustomerId) -> Result<bool> {
        const EARLIER: &str = "SELECT COUNT(*) FROM orders WHERE customer_id = $1 AND brand_id = $2 AND status <> 'cancelled'";
        let (n,): (i64,) = on_pool!(self, |p| sqlx::query_as(EARLIER)
            .bind(customer.as_uuid())
            .bind(brand.as_uuid())
            .fetch_one(p)
            .await)?;
        Ok(n > 0)
    }

    /// How many of each template the diner has claimed.
    pub async fn coupons_claimed(&self, customer: CustomerId) -> Result<Vec<(CouponId, i64)>> {
        let rows: Vec<(Uuid, i64)> = on_pool!(self, |p| sqlx::query_as(CLAIMED_BY)
            .bind(customer.as_uuid())
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|(id, n)| (CouponId::from_uuid(id), n))
            .collect())
    }

    /// How many orders the diner used each limited promotion of the brand on.
    pub async fn promotion_uses(
        &self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Vec<(PromotionId, i64)>> {
        let rows: Vec<(Uuid, i64)> = on_pool!(self, |p| sqlx::query_as(USES_OF)
            .bind(customer.as_uuid())
            .bind(brand.as_uuid())
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|(id, n)| (PromotionId::from_uuid(id), n))
            .collect())
    }

    pub async fn coupon_template_stats(&self, brand: BrandId) -> Result<Vec<TemplateStats>> {
        let rows: Vec<(Uuid, i64, i64, i64, i64, i64)> =
            on_pool!(self, |p| sqlx::query_as(TEMPLATE_STATS)
                .bind(brand.as_uuid())
                .fetch_all(p)
                .await)?;
        Ok(rows
            .into_iter()
            .map(|r| TemplateStats {
                template_id: CouponId::from_uuid(r.0),
                issued: r.1,
                used: r.2,
                redeemed_orders: r.3,
                discount_fen: Money::from_fen(r.4),
                returned: r.5,
            })
            .collect())
    }

    pub async fn promotion_stats(&self, brand: BrandId) -> Result<Vec<PromotionStats>> {
        let rows: Vec<(Uuid, i64, i64)> = on_pool!(self, |p| sqlx::query_as(PROMOTION_STATS)
            .bind(brand.as_uuid())
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|r| PromotionStats {
                promotion_id: PromotionId::from_uuid(r.0),
                redeemed_orders: r.1,
                discount_fen: Money::from_fen(r.2),
            })
            .collect())
    }

    /// Gives back what an order redeemed (its coupons, its uses of limited promotions), as a
    /// full refund does; a second call gives nothing back twice.
    pub async fn return_redemptions(&self, order: OrderId, now_ms: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        return_offers_in(&mut tx, order, now_ms).await?;
        tx.commit().await
    }
}

/// Inside the transaction that cancels or refunds `order`: its coupons are available again, its
/// uses of limited promotions are counted back, and its redemption rows are marked returned.
/// Idempotent: only redemptions not returned yet are given back.
pub(crate) async fn return_offers_in(tx: &mut Tx, order: OrderId, now_ms: i64) -> Result<()> {
    let open: Vec<(Option<Uuid>, Option<Uuid>)> = on_tx!(tx, |c| sqlx::query_as(OPEN_REDEMPTIONS)
        .bind(order.as_uuid())
        .fetch_all(&mut *c)
        .await)?;
    if open.is_empty() {
        return Ok(());
    }
    for (promotion, customer) in &open {
        if let (Some(promotion), Some(customer)) = (promotion, customer) {
            on_tx!(tx, |c| sqlx::query(RETURN_USE)
                .bind(promotion)
                .bind(customer)
                .execute(&mut *c)
                .await
                .map(drop))?;
        }
    }
    on_tx!(tx, |c| sqlx::query(RETURN_GRANTS)
        .bind(order.as_uuid())
        .execute(&mut *c)
        .await
        .map(drop))?;
    on_tx!(tx, |c| sqlx::query(CLOSE_REDEMPTIONS)
        .bind(order.as_uuid())
        .bind(now_ms)
        .execute(&mut *c)
        .await
        .map(drop))?;
    Ok(())
}
