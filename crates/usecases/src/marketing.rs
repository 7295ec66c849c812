//! Promotions and coupons (营销): what the console sets up, what a diner claims, and the offers
//! the one pricing function weighs for an order. The engine itself is the domain's; coupon
//! redemption joins the placement unit of work (`ordering::place`).

use crate::context::Context;
use crate::error::{Error, Result};
use crate::menus::CachedMenu;
use crate::ordering::StaffCaller;
use diancan_domain::ordering::{Discounting, Quote};
use diancan_domain::promotions::{
    Coupon, CouponGrant, CouponSpec, MAX_GRANTS, MAX_PROMOTIONS, MemberLevel, OfferRef, Offers,
    Promotion, PromotionSpec,
};
use diancan_domain::staff::Permission;
use diancan_domain::validation::{FieldErrors, Problem};
use diancan_domain::*;
use diancan_storage::ordering::{NewRedemption, Redeemed};
use diancan_storage::promotions::{
    ClaimOutcome, CouponTemplateRecord, HeldCoupon, Issuing, PromotionRecord, PromotionStats,
    PromotionWindow, TemplateStats,
};
use jiff::Timestamp;
use std::collections::HashMap;

/// The most coupons of one template one diner may hold, and the largest total issue.
pub const MAX_PER_DINER: i64 = 100;
pub const MAX_TOTAL_ISSUE: i64 = 10_000_000;

/// Who is ordering, as pricing needs to know them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Diner {
    pub customer: Option<CustomerId>,
    /// The member's level at the brand (member prices, a promotion's minimum level).
    pub member_level: Option<MemberLevel>,
}

impl Diner {
    /// The diner ordering at `store`: a guest, or a signed-in customer with their level at the
    /// store's brand (none until they joined).
    pub async fn at(ctx: &Context, store: StoreId, customer: Option<CustomerId>) -> Result<Diner> {
        let member_level = match customer {
            Some(customer) => crate::membership::member_level_for(ctx, store, customer)
                .await?
                .map(|standing| standing.level.rank()),
            None => None,
        };
        Ok(Diner {
            customer,
            member_level,
        })
    }
}

/// Everything that may reduce one order, read once per quote: the store's promotions in force
/// now, and the diner's coupons with their templates.
#[derive(Debug, Clone, Default)]
pub struct OfferSet {
    pub promotions: Vec<Promotion>,
    limits: HashMap<PromotionId, i64>,
    pub coupons: Vec<Coupon>,
    pub grants: Vec<CouponGrant>,
    pub first_order: bool,
    pub member_level: Option<MemberLevel>,
}

impl OfferSet {
    pub fn offers(&self) -> Offers<'_> {
        Offers {
            promotions: &self.promotions,
            coupons: &self.coupons,
            grants: &self.grants,
        }
    }

    /// The engine's inputs for this store at `now`, with the diner's own pick if any.
    pub fn discounting<'a>(
        &'a self,
        menu: &CachedMenu,
        now: Timestamp,
        chosen: Option<&'a [OfferRef]>,
    ) -> Discounting<'a> {
        let zone = menu.store.profile.rules.time_zone.zone();
        Discounting {
            store_id: menu.store.id,
            offers: self.offers(),
            local_time: now.to_zoned_datetime(zone.clone()).datetime(),
            now,
            member_level: self.member_level,
            first_order: self.first_order,
            chosen,
        }
    }

    /// What placing an order on `quote` redeems: every promotion and coupon it chose, with the
    /// amount each took off (a gift: its value).
    pub fn redemptions(&self, quote: &Quote) -> Vec<NewRedemption> {
        let mut redemptions = Vec::new();
        for source in &quote.chosen {
            let Some(offer) = diancan_domain::ordering::parse_offer_source(source) else {
                continue;
            };
            let (label, amount) = quote
                .discounts
                .iter()
                .find(|d| &d.source == source)
                .map(|d| (d.label.clone(), d.amount_fen))
                .or_else(|| {
                    quote
                        .gifts
                        .iter()
                        .find(|g| &g.source == source)
                        .map(|g| (g.name.clone(), g.value_fen))
                })
                .unwrap_or_default();
            let redeemed = match offer {
                OfferRef::Promotion(id) => Redeemed::Promotion {
                    id,
                    per_diner_limit: self.limits.get(&id).copied(),
                },
                OfferRef::Coupon(grant) => {
                    let Some(held) = self.grants.iter().find(|g| g.id == grant) else {
                        continue;
                    };
                    Redeemed::Coupon {
                        grant,
                        template: held.coupon_id,
                    }
                }
            };
            redemptions.push(NewRedemption {
                offer: redeemed,
                label,
                amount,
            });
        }
        redemptions
    }
}

/// Reads the offers for an order at `menu`'s store: the brand's promotions in force at `now`
/// for this store (limited ones only for a signed-in diner who has uses left), and the diner's
/// unused coupons. At most the engine's caps of each, soonest-expiring coupons first.
pub async fn offers_for(
    ctx: &Context,
    menu: &CachedMenu,
    diner: Diner,
    now: Timestamp,
) -> Result<OfferSet> {
    let brand = menu.store.brand_id;
    let now_ms = now.as_millisecond();
    let uses: HashMap<PromotionId, i64> = match diner.customer {
        Some(customer) => ctx
            .db
            .promotion_uses(brand, customer)
            .await?
            .into_iter()
            .collect(),
        None => HashMap::new(),
    };
    let mut set = OfferSet {
        member_level: diner.member_level,
        ..OfferSet::default()
    };
    for record in menu.promotions.iter() {
        let Some(rule) = &record.rule else { continue };
        if !record.window.in_force_at(now_ms) {
            continue;
        }
        if let Some(limit) = record.window.per_diner_limit {
            let used = uses.get(&record.id).copied().unwrap_or(0);
            if diner.customer.is_none() || used >= limit {
                continue;
            }
            set.limits.insert(record.id, limit);
        }
        if set.promotions.len() < MAX_PROMOTIONS {
            set.promotions.push(rule.clone());
        }
    }
    if let Some(customer) = diner.customer {
        set.first_order = !ctx.db.customer_has_orders(brand, customer).await?;
        for held in ctx.db.customer_coupons(brand, customer, false).await? {
            if held.valid_until_ms <= now_ms || set.grants.len() >= MAX_GRANTS {
                continue;
            }
            let Some(coupon) = held.template.coupon.clone() else {
                continue;
            };
            if !held.template.issuing.enabled {
                continue;
            }
            if !set.coupons.iter().any(|c| c.id() == coupon.id()) {
                set.coupons.push(coupon);
            }
            set.grants.push(held.grant);
        }
    }
    Ok(set)
}

fn require(staff: &StaffCaller) -> Result<()> {
    let permission = Permission::ManagePromotions;
    let whole_brand = matches!(staff.access, diancan_domain::staff::StoreAccess::AllStores);
    if staff.role.can(permission) && whole_brand {
        Ok(())
    } else {
        Err(Error::Forbidden(permission))
    }
}

/// A promotion as the console submits it.
#[derive(Debug, Clone)]
pub struct PromotionInput {
    pub spec: PromotionSpec,
    pub window: PromotionWindow,
    /// `None` creates; otherwise the version the editor saw.
    pub version: Option<i64>,
}

fn check_window(errors: &mut FieldErrors, window: &PromotionWindow) {
    if let (Some(from), Some(until)) = (window.starts_at_ms, window.ends_at_ms)
        && until <= from
    {
        errors.add("ends_at", Problem::MinAboveMax);
    }
    if let Some(limit) = window.per_diner_limit {
        diancan_domain::validation::check_range(errors, "per_diner_limit", limit, 1, MAX_PER_DINER);
    }
}

fn check_scope_stores(errors: &mut FieldErrors, stores: &[StoreId], known: &[StoreId]) {
    if stores.iter().any(|s| !known.contains(s)) {
        errors.add("conditions.stores", Problem::UnknownReference);
    }
}

async fn brand_stores(ctx: &Context, brand: BrandId) -> Result<Vec<StoreId>> {
    Ok(ctx
        .db
        .stores_of_brand(brand)
        .await?
        .into_iter()
        .map(|entry| match entry {
            Ok(store) => store.id,
            Err(damaged) => damaged.id,
        })
        .collect())
}

/// Creates or updates a promotion after the domain checked its rule (no zero or negative
/// amounts, tiers rising, a known store list). Returns it as stored.
pub async fn save_promotion(
    ctx: &Context,
    staff: &StaffCaller,
    input: PromotionInput,
) -> Result<PromotionRecord> {
    require(staff)?;
    let stores = brand_stores(ctx, staff.brand_id).await?;
    let mut errors = FieldErrors::new();
    check_window(&mut errors, &input.window);
    check_scope_stores(&mut errors, &input.spec.conditions.stores, &stores);
    let promotion = match Promotion::new(input.spec) {
        Ok(promotion) => Some(promotion),
        Err(rule) => {
            errors.absorb("", rule);
            None
        }
    };
    let promotion = errors.finish(|| promotion)?.ok_or(Error::NotFound)?;
    let id = promotion.id();
    if let Some(version) = input.version {
        // Another brand's id is simply not found.
        ctx.db.promotion(staff.brand_id, id).await?;
        if !ctx
            .db
            .save_promotion(
                staff.brand_id,
                &promotion,
                &input.window,
                Some(version),
                ctx.clock.now_ms(),
            )
            .await?
        {
            return Err(Error::VersionConflict);
        }
    } else if !ctx
        .db
        .save_promotion(
            staff.brand_id,
            &promotion,
            &input.window,
            None,
            ctx.clock.now_ms(),
        )
        .await?
    {
        return Err(Error::VersionConflict);
    }
    ctx.menus.invalidate_all();
    Ok(ctx.db.promotion(staff.brand_id, id).await?)
}

/// Every promotion of the brand with its redemption figures.
pub async fn promotions(
    ctx: &Context,
    staff: &StaffCaller,
) -> Result<(Vec<PromotionRecord>, Vec<PromotionStats>)> {
    require(staff)?;
    Ok((
        ctx.db.promotions(staff.brand_id).await?,
        ctx.db.promotion_stats(staff.brand_id).await?,
    ))
}

/// A coupon template as the console submits it.
#[derive(Debug, Clone)]
pub struct CouponTemplateInput {
    pub spec: CouponSpec,
    pub issuing: Issuing,
    pub version: Option<i64>,
}

pub async fn save_coupon_template(
    ctx: &Context,
    staff: &StaffCaller,
    input: CouponTemplateInput,
) -> Result<CouponTemplateRecord> {
    require(staff)?;
    let stores = brand_stores(ctx, staff.brand_id).await?;
    let mut errors = FieldErrors::new();
    diancan_domain::validation::check_range(
        &mut errors,
        "per_diner_limit",
        input.issuing.per_diner_limit,
        1,
        MAX_PER_DINER,
    );
    if let Some(total) = input.issuing.total_limit {
        diancan_domain::validation::check_range(
            &mut errors,
            "total_limit",
            total,
            1,
            MAX_TOTAL_ISSUE,
        );
    }
    check_scope_stores(&mut errors, &input.spec.conditions.stores, &stores);
    let coupon = match Coupon::new(input.spec) {
        Ok(coupon) => Some(coupon),
        Err(rule) => {
            errors.absorb("", rule);
            None
        }
    };
    let coupon = errors.finish(|| coupon)?.ok_or(Error::NotFound)?;
    if input.version.is_some() {
        ctx.db.coupon_template(staff.brand_id, coupon.id()).await?;
    }
    let saved = ctx
        .db
        .save_coupon_template(
            staff.brand_id,
            &coupon,
            &input.issuing,
            input.version,
            ctx.clock.now_ms(),
        )
        .await?;
    if !saved {
        return Err(Error::VersionConflict);
    }
    ctx.menus.invalidate_all();
    Ok(ctx.db.coupon_template(staff.brand_id, coupon.id()).await?)
}

pub async fn coupon_templates(
    ctx: &Context,
    staff: &StaffCaller,
) -> Result<(Vec<CouponTemplateRecord>, Vec<TemplateStats>)> {
    require(staff)?;
    Ok((
        ctx.db.coupon_templates(staff.brand_id).await?,
        ctx.db.coupon_template_stats(staff.brand_id).await?,
    ))
}

/// Staff give a coupon to a diner of the brand (a campaign gift, an apology): the limits hold
/// as for a claim, but the template need not be in the coupon centre.
pub async fn grant_coupon(
    ctx: &Context,
    staff: &StaffCaller,
    template: CouponId,
    customer: CustomerId,
) -> Result<CouponGrantId> {
    require(staff)?;
    ctx.db.customer(staff.brand_id, customer).await?;
    claim_outcome(
        ctx.db
            .claim_coupon(staff.brand_id, template, customer, false, ctx.clock.now())
            .await?,
    )
}

fn claim_outcome(outcome: ClaimOutcome) -> Result<CouponGrantId> {
    match outcome {
        ClaimOutcome::Claimed(id) => Ok(id),
        ClaimOutcome::NotClaimable => Err(Error::NotFound),
        ClaimOutcome::AllGone => Err(Error::CouponsAllClaimed),
        ClaimOutcome::LimitReached => Err(Error::CouponLimitReached),
    }
}

/// A template in the coupon centre, with how many of it this diner holds already.
#[derive(Debug, Clone)]
pub struct ClaimableCoupon {
    pub template: CouponTemplateRecord,
    pub claimed: i64,
}

/// 领券中心: the brand's claimable templates (switched on, readable, not all given out).
pub async fn coupon_centre(
    ctx: &Context,
    brand: BrandId,
    customer: Option<CustomerId>,
) -> Result<Vec<ClaimableCoupon>> {
    let claimed: HashMap<CouponId, i64> = match customer {
        Some(customer) => ctx
            .db
            .coupons_claimed(customer)
            .await?
            .into_iter()
            .collect(),
        None => HashMap::new(),
    };
    Ok(ctx
        .db
        .coupon_templates(brand)
        .await?
        .into_iter()
        .filter(|t| t.issuing.enabled && t.issuing.claimable && t.coupon.is_some())
        .filter(|t| t.issuing.total_limit.is_none_or(|total| t.issued < total))
        .map(|template| ClaimableCoupon {
            claimed: claimed.get(&template.id).copied().unwrap_or(0),
            template,
        })
        .collect())
}

/// The diner claims a coupon from the centre: within the total and per-diner limits, atomically.
pub async fn claim_coupon(
    ctx: &Context,
    brand: BrandId,
    customer: CustomerId,
    template: CouponId,
) -> Result<CouponGrantId> {
    claim_outcome(
        ctx.db
            .claim_coupon(brand, template, customer, true, ctx.clock.now())
            .await?,
    )
}

/// 我的券: the diner's coupons at the brand, unused first by expiry, then the used ones.
pub async fn my_coupons(
    ctx: &Context,
    brand: BrandId,
    customer: CustomerId,
) -> Result<Vec<HeldCoupon>> {
    let mut held = ctx.db.customer_coupons(brand, customer, true).await?;
    held.sort_by_key(|h| (h.order_id.is_some(), h.valid_until_ms));
    Ok(held)
}

/// 预览: what this cart would pay at `store` and why (every discount, every promotion left out
/// with its reason), at `at` (the store's clock by default) for a guest. The store's hours are
/// ignored, so a 下午茶 price can be checked in the morning.
pub async fn preview(
    ctx: &Context,
    staff: &StaffCaller,
    store: StoreId,
    cart: &crate::ordering::Cart,
    at: Option<Timestamp>,
) -> Result<Quote> {
    require(staff)?;
    let menu = ctx.menus.get_current(ctx, store).await?;
    if menu.store.brand_id != staff.brand_id {
        return Err(Error::NotFound);
    }
    let now = at.unwrap_or_else(|| ctx.clock.now());
    let offers = offers_for(ctx, &menu, Diner::default(), now).await?;
    crate::ordering::price_with(&menu, cart, &offers, now, true)
}
