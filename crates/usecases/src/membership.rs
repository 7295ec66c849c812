//! 会员 in use: a diner joins a brand's membership at their first sign-in; a member's paid order
//! earns points and growth (by an outbox consumer, once per order however often it is
//! delivered) and a refund takes them back in proportion; points are redeemed, corrected by
//! staff and expire by the brand's policy; stored value is recharged through the gateways with
//! the brand's bonus, credited once when the money arrives. [`member_level_for`] is what the
//! pricing path asks about a diner.

use crate::context::Context;
use crate::error::{Error, Result};
use crate::ordering::StaffCaller;
use crate::payments::Checkout;
use diancan_domain::balance::{BalanceAccount, BalanceEntry};
use diancan_domain::customer::BlindIndex;
use diancan_domain::membership::levels::{LevelRule, LevelTable};
use diancan_domain::membership::points::{
    ExpiryPolicy, PointsEntry, PointsKind, growth_for, points_for, reference, reversal_due,
};
use diancan_domain::membership::recharge::{Recharge, RechargeTier, RechargeTiers, check_amount};
use diancan_domain::membership::{
    Birthday, MAX_REDEMPTION, Member, MemberDay, MemberStanding, MembershipRefusal, Programme,
    standing,
};
use diancan_domain::ordering::Actor;
use diancan_domain::payments::{ArrivedMoney, PaymentProvider};
use diancan_domain::schedule::BusinessDate;
use diancan_domain::staff::Permission;
use diancan_domain::*;
use diancan_integrations::payments::model::{OutTradeNo, Prepared, PrepayRequest};
use diancan_storage::membership::{
    Ledger, MemberListing, NewPoints, PointsPosted, PointsPosting, RechargeOutcome, Reversal,
};
use uuid::Uuid;

/// Most entries one page of a ledger or list shows.
pub const MAX_PAGE: i64 = 100;
/// Expiring members handled per sweep round.
const EXPIRY_BATCH: i64 = 200;
/// How long a recharge may wait for its money before the gateway closes it.
const RECHARGE_PAY_WITHIN_MS: i64 = 15 * 60_000;

/// Makes the diner a member of the brand at their first sign-in (nothing on later ones).
pub async fn join_on_sign_in(ctx: &Context, brand: BrandId, customer: CustomerId) -> Result<bool> {
    let joined = ctx
        .db
        .join_membership(brand, customer, ctx.clock.now_ms())
        .await?;
    if joined {
        tracing::info!(%brand, %customer, "joined membership");
    }
    Ok(joined)
}

/// What a member is at the store today (level, benefits, member day, birthday), for the
/// pricing path; `None` for a diner who is no member of the store's brand.
pub async fn member_level_for(
    ctx: &Context,
    store: StoreId,
    customer: CustomerId,
) -> Result<Option<MemberStanding>> {
    let store = ctx.db.store(store).await?;
    let Some(member) = ctx.db.member(store.brand_id, customer).await? else {
        return Ok(None);
    };
    let programme = ctx.db.membership_programme(store.brand_id).await?;
    let today = store_today(ctx, &store);
    Ok(Some(standing(&member, &programme, today)))
}

fn store_today(ctx: &Context, store: &diancan_storage::Store) -> jiff::civil::Date {
    let rules = &store.profile.rules;
    BusinessDate::of(
        ctx.clock.now(),
        rules.time_zone.zone(),
        rules.business_day_starts_at,
    )
    .date()
}

/// Everything the diner's 会员 page shows.
#[derive(Debug, Clone)]
pub struct Membership {
    pub member: Member,
    pub standing: MemberStanding,
    pub programme: Programme,
    /// Points expiring soonest and when.
    pub next_expiry: Option<(i64, i64)>,
    pub balance: BalanceAccount,
}

/// The signed-in diner's membership at the store's brand (joining them if they never were).
pub async fn my_membership(
    ctx: &Context,
    store: StoreId,
    customer: CustomerId,
) -> Result<Membership> {
    let store = ctx.db.store(store).await?;
    let member = member_of(ctx, store.brand_id, customer).await?;
    let programme = ctx.db.membership_programme(store.brand_id).await?;
    membership_view(ctx, store_today(ctx, &store), member, programme).await
}

async fn member_of(ctx: &Context, brand: BrandId, customer: CustomerId) -> Result<Member> {
    if let Some(member) = ctx.db.member(brand, customer).await? {
        return Ok(member);
    }
    ctx.db.customer(brand, customer).await?;
    ctx.db
        .join_membership(brand, customer, ctx.clock.now_ms())
        .await?;
    ctx.db.member(brand, customer).await?.ok_or(Error::NotFound)
}

async fn membership_view(
    ctx: &Context,
    today: jiff::civil::Date,
    member: Member,
    programme: Programme,
) -> Result<Membership> {
    let account = ctx.db.points_account(member.id).await?;
    let balance = ctx
        .db
        .balance_account(member.brand_id, member.customer_id)
        .await?
        .unwrap_or_else(|| {
            BalanceAccount::open(member.brand_id, member.customer_id, ctx.clock.now_ms())
        });
    Ok(Membership {
        standing: standing(&member, &programme, today),
        next_expiry: account.next_expiry(),
        member,
        programme,
        balance,
    })
}

/// A page of the diner's points ledger, newest first.
pub async fn my_points(
    ctx: &Context,
    store: StoreId,
    customer: CustomerId,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<PointsEntry>> {
    let store = ctx.db.store(store).await?;
    let member = member_of(ctx, store.brand_id, customer).await?;
    Ok(ctx
        .db
        .points_entries(member.id, before, limit.clamp(1, MAX_PAGE))
        .await?)
}

/// The diner tells their birthday, once.
pub async fn set_birthday(
    ctx: &Context,
    store: StoreId,
    customer: CustomerId,
    month: i8,
    day: i8,
) -> Result<()> {
    let birthday = Birthday::parse(month, day).map_err(Error::Membership)?;
    let store = ctx.db.store(store).await?;
    ctx.db.customer(store.brand_id, customer).await?;
    if !ctx
        .db
        .set_member_birthday(store.brand_id, customer, birthday, ctx.clock.now_ms())
        .await?
    {
        return Err(Error::BirthdayAlreadySet);
    }
    Ok(())
}

/// Credits a member's paid order with its points and growth (the outbox's `member_earn`):
/// once per order, whatever the number of deliveries. The points are counted on the order's
/// business day (member day) and expire by the brand's policy in the store's time zone.
pub async fn earn_for_order(ctx: &Context, order: OrderId) -> Result<Option<PointsPosting>> {
    let order = ctx.db.order(order).await?;
    let (Some(customer), Some(paid_at)) = (order.customer_id, order.paid_at_ms) else {
        return Ok(None);
    };
    let store = ctx.db.store(order.store_id).await?;
    let programme = ctx.db.membership_programme(order.brand_id).await?;
    let multiplier = programme.multiplier_on(order.business_date.date());
    let points = points_for(order.total, programme.points_per_yuan, multiplier);
    let growth = growth_for(order.total);
    if points == 0 && growth == 0 {
        return Ok(None);
    }
    let expires_at_ms = programme
        .expiry
        .expires_at_ms(paid_at, store.profile.rules.time_zone.zone());
    let reason = if multiplier > 1 {
        format!("消费得积分（会员日 {multiplier} 倍）")
    } else {
        "消费得积分".to_owned()
    };
    let entry = NewPoints {
        kind: PointsKind::Earn,
        points,
        growth,
        expires_at_ms,
        lot: None,
        reference: reference::order(order.id),
        order_id: Some(order.id),
        reason,
        actor: "system".into(),
    };
    let posting = ctx
        .db
        .post_points(
            order.brand_id,
            customer,
            // A brand that gives no points still counts growth: the entry carries zero.
            |_| vec![entry],
            ctx.clock.now_ms(),
        )
        .await?;
    if let PointsPosted::Written(_) = &posting.posted {
        tracing::info!(order = %order.id, points, growth, "points earned");
    }
    Ok(Some(posting))
}

/// Takes back a refunded (or cancelled) order's points and growth in the proportion refunded
/// (the outbox's `member_reverse`). Computed under the member's lock from what was earned and
/// already taken back, so refunds delivered in any order, or again, take back exactly their
/// share. Points the member already spent are not taken below zero: what is left is taken.
pub async fn reverse_for_refund(
    ctx: &Context,
    reversal: &Reversal,
) -> Result<Option<PointsPosting>> {
    let order = ctx.db.order(reversal.order_id).await?;
    let Some(customer) = order.customer_id else {
        return Ok(None);
    };
    let reference = match reversal.key {
        Some(key) => reference::refund(key),
        None => reference::cancelled(order.id),
    };
    let order_id = order.id;
    let refunded = reversal.refunded_total_fen.map(Money::from_fen);
    let paid = reversal.paid_total_fen.map_or(order.total, Money::from_fen);
    let decide = move |ledger: &Ledger| {
        let of_order = ledger
            .entries
            .iter()
            .filter(|e| e.order_id == Some(order_id));
        let (mut earned, mut earned_growth, mut reversed, mut reversed_growth) = (0, 0, 0, 0);
        for e in of_order {
            match e.kind {
                PointsKind::Earn => {
                    earned += e.points;
                    earned_growth += e.growth;
                }
                PointsKind::Reverse => {
                    reversed -= e.points;
                    reversed_growth -= e.growth;
                }
                _ => {}
            }
        }
        let refunded = refunded.unwrap_or(paid);
        let points = reversal_due(earned, reversed, refunded, paid).min(ledger.account.balance);
        let growth = reversal_due(earned_growth, reversed_growth, refunded, paid);
        if points == 0 && growth == 0 {
            return Vec::new();
        }
        vec![NewPoints {
            kind: PointsKind::Reverse,
            points: -points,
            growth: -growth,
            expires_at_ms: None,
            lot: None,
            reference,
            order_id: Some(order_id),
            reason: "订单退款：扣回积分".into(),
            actor: "system".into(),
        }]
    };
    let posting = ctx
        .db
        .post_points(order.brand_id, customer, decide, ctx.clock.now_ms())
        .await?;
    Ok(Some(posting))
}

/// Ends every lot past its expiry (the sweep): one entry per lot, once.
pub async fn expire_due_points(ctx: &Context) -> Result<usize> {
    let now = ctx.clock.now_ms();
    let due = ctx.db.members_with_expiry_due(now, EXPIRY_BATCH).await?;
    let mut expired = 0;
    for (brand, customer) in due {
        let posting = ctx
            .db
            .post_points(
                brand,
                customer,
                |ledger| {
                    ledger
                        .account
                        .due_expiries(now)
                        .into_iter()
                        .map(|(lot, left)| NewPoints {
                            kind: PointsKind::Expire,
                            points: -left,
                            growth: 0,
                            expires_at_ms: None,
                            lot: Some(lot),
                            reference: reference::expire(lot),
                            order_id: None,
                            reason: "积分过期".into(),
                            actor: "system".into(),
                        })
                        .collect()
                },
                now,
            )
            .await?;
        if let PointsPosted::Written(entries) = posting.posted {
            expired += entries.len();
        }
    }
    Ok(expired)
}

/// What staff may write on a member's points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffPoints {
    /// Spent at the counter (a dish, a gift): takes points.
    Redeem,
    /// A correction up or down.
    Adjust,
}

/// Staff redeem or correct a member's points. `key` names the request: sent again, it writes
/// nothing more. A redemption above the balance is refused and changes nothing.
pub async fn post_staff_points(
    ctx: &Context,
    staff: &StaffCaller,
    customer: CustomerId,
    what: StaffPoints,
    points: i64,
    reason: &str,
    key: Uuid,
) -> Result<PointsPosting> {
    // A cashier redeems at the counter; only managers correct.
    require(
        staff,
        match what {
            StaffPoints::Redeem => Permission::ViewMembers,
            StaffPoints::Adjust => Permission::ManageMembers,
        },
    )?;
    let (kind, signed, reference) = match what {
        StaffPoints::Redeem => {
            if !(1..=MAX_REDEMPTION).contains(&points) {
                return Err(Error::Membership(MembershipRefusal::BadRedemption {
                    max: MAX_REDEMPTION,
                }));
            }
            (PointsKind::Redeem, -points, reference::redeem(key))
        }
        StaffPoints::Adjust => {
            if points == 0 || points.abs() > MAX_REDEMPTION {
                return Err(Error::Membership(MembershipRefusal::BadRedemption {
                    max: MAX_REDEMPTION,
                }));
            }
            (PointsKind::Adjust, points, reference::staff(key))
        }
    };
    ctx.db.customer(staff.brand_id, customer).await?;
    let programme = ctx.db.membership_programme(staff.brand_id).await?;
    let now = ctx.clock.now_ms();
    // An upward correction is a lot like any other, expiring by the brand's policy.
    let expires_at_ms = (signed > 0)
        .then(|| programme.expiry.expires_at_ms(now, &brand_zone()))
        .flatten();
    let actor = Actor::Staff {
        id: staff.id,
        role: staff.role,
    }
    .label();
    let entry = NewPoints {
        kind,
        points: signed,
        growth: 0,
        expires_at_ms,
        lot: None,
        reference,
        order_id: None,
        reason: reason.to_owned(),
        actor,
    };
    let posting = ctx
        .db
        .post_points(staff.brand_id, customer, |_| vec![entry], now)
        .await?;
    if let PointsPosted::Refused(refusal) = posting.posted {
        return Err(Error::Points(refusal));
    }
    Ok(posting)
}

/// Points given by hand have no store; they expire on the calendar of the brand's country.
fn brand_zone() -> jiff::tz::TimeZone {
    diancan_domain::schedule::StoreTimeZone::shanghai()
        .zone()
        .clone()
}

/// Members of the staff's brand, newest first; with `phone`, the one with that phone.
pub async fn members(
    ctx: &Context,
    staff: &StaffCaller,
    phone: Option<&BlindIndex>,
    before: Option<MemberId>,
    limit: i64,
) -> Result<(Programme, Vec<MemberListing>)> {
    require(staff, Permission::ViewMembers)?;
    let programme = ctx.db.membership_programme(staff.brand_id).await?;
    let listed = ctx
        .db
        .members(staff.brand_id, phone, before, limit.clamp(1, MAX_PAGE))
        .await?;
    Ok((programme, listed))
}

/// One member of the staff's brand for the console: membership, points and balance ledgers.
pub struct ConsoleMember {
    pub membership: Membership,
    pub points: Vec<PointsEntry>,
    pub balance_entries: Vec<BalanceEntry>,
}

pub async fn console_member(
    ctx: &Context,
    staff: &StaffCaller,
    customer: CustomerId,
) -> Result<ConsoleMember> {
    require(staff, Permission::ViewMembers)?;
    ctx.db.customer(staff.brand_id, customer).await?;
    let member = ctx
        .db
        .member(staff.brand_id, customer)
        .await?
        .ok_or(Error::NotFound)?;
    let programme = ctx.db.membership_programme(staff.brand_id).await?;
    let points = ctx.db.points_entries(member.id, None, MAX_PAGE).await?;
    let today = ctx.clock.now().to_zoned_datetime(brand_zone()).date();
    let membership = membership_view(ctx, today, member, programme).await?;
    let balance_entries = if membership.balance.version > 0 {
        ctx.db
            .balance_entries(membership.balance.id, None, MAX_PAGE)
            .await?
    } else {
        Vec::new()
    };
    Ok(ConsoleMember {
        membership,
        points,
        balance_entries,
    })
}

/// A programme as the console sends it, checked here into the domain's types.
#[derive(Debug, Clone)]
pub struct ProgrammeInput {
    pub levels: Vec<LevelRule>,
    pub points_per_yuan: u32,
    pub expiry_months: u32,
    /// ISO weekday (1 = Monday) and points multiplier.
    pub member_day: Option<(i8, u32)>,
    pub recharge_tiers: Vec<RechargeTier>,
}

pub async fn programme(ctx: &Context, staff: &StaffCaller) -> Result<Programme> {
    require(staff, Permission::ViewMembers)?;
    Ok(ctx.db.membership_programme(staff.brand_id).await?)
}

pub async fn save_programme(
    ctx: &Context,
    staff: &StaffCaller,
    input: ProgrammeInput,
) -> Result<Programme> {
    require(staff, Permission::ManageMembers)?;
    if staff.access != diancan_domain::staff::StoreAccess::AllStores {
        return Err(Error::Forbidden(Permission::ManageMembers));
    }
    let programme = Programme {
        levels: LevelTable::parse(&input.levels).map_err(Error::Membership)?,
        points_per_yuan: Programme::check_points_per_yuan(input.points_per_yuan)
            .map_err(Error::Membership)?,
        expiry: ExpiryPolicy::parse(input.expiry_months).map_err(Error::Membership)?,
        member_day: input
            .member_day
            .map(|(weekday, multiplier)| MemberDay::parse(weekday, multiplier))
            .transpose()
            .map_err(Error::Membership)?,
        recharge_tiers: RechargeTiers::parse(&input.recharge_tiers).map_err(Error::Membership)?,
    };
    ctx.db
        .save_membership_programme(staff.brand_id, &programme, ctx.clock.now_ms())
        .await?;
    Ok(programme)
}

/// A recharge prepared at its gateway, and what the diner's device does next.
#[derive(Debug, Clone)]
pub struct StartedRecharge {
    pub recharge: Recharge,
    pub prepared: Prepared,
}

/// The signed-in diner starts recharging `amount` at the store's brand through `provider`;
/// the bonus is fixed now, by the tiers in force, and credited with the money once it arrives.
pub async fn start_recharge(
    ctx: &Context,
    store: StoreId,
    customer: CustomerId,
    provider: PaymentProvider,
    checkout: Checkout,
    amount: Money,
) -> Result<StartedRecharge> {
    let amount = check_amount(amount).map_err(Error::Membership)?;
    let store = ctx.db.store(store).await?;
    ctx.db.customer(store.brand_id, customer).await?;
    let (Some(configured), Some(notify_url)) = (
        ctx.payments.get(provider),
        ctx.payments.notify_url(provider),
    ) else {
        return Err(Error::PaymentUnavailable(provider));
    };
    if ctx.payments.is_down(provider) {
        return Err(Error::Gateway(
            diancan_integrations::payments::PaymentError::Transport {
                reason: "circuit breaker open".into(),
                timed_out: false,
            },
        ));
    }
    let programme = ctx.db.membership_programme(store.brand_id).await?;
    let bonus = programme.recharge_tiers.bonus_for(amount);
    let now = ctx.clock.now_ms();
    let recharge = Recharge::start(
        store.brand_id,
        customer,
        provider,
        checkout.method_name(provider),
        amount,
        bonus,
        now,
    );
    ctx.db.create_recharge(&recharge).await?;
    let request = PrepayRequest {
        out_trade_no: OutTradeNo::parse(&recharge.out_trade_no).map_err(Error::Gateway)?,
        description: format!("{} 储值充值", store.profile.name),
        amount,
        method: checkout.pay_method(),
        notify_url,
        expires_at: jiff::Timestamp::from_millisecond(now + RECHARGE_PAY_WITHIN_MS).ok(),
    };
    let prepared = configured.gateway.prepay(&request).await.map_err(|error| {
        tracing::warn!(recharge = %recharge.id, provider = provider.as_str(), code = error.code(),
            %error, "recharge prepay failed");
        Error::Gateway(error)
    })?;
    Ok(StartedRecharge { recharge, prepared })
}

/// One of the diner's recharges, to follow it after paying.
pub async fn my_recharge(
    ctx: &Context,
    store: StoreId,
    customer: CustomerId,
    id: RechargeId,
) -> Result<Recharge> {
    let store = ctx.db.store(store).await?;
    ctx.db
        .recharge(store.brand_id, customer, id)
        .await?
        .ok_or(Error::NotFound)
}

/// Applies a stored report of arrived money to the recharge it is for; `NotFound` when it is
/// for none (then it is an order's payment, or nobody's). Idempotent: a repeat credits nothing.
pub async fn settle_recharge_reported(
    ctx: &Context,
    arrived: &ArrivedMoney,
) -> Result<RechargeOutcome> {
    let outcome = ctx.db.settle_recharge(arrived, ctx.clock.now_ms()).await?;
    match &outcome {
        RechargeOutcome::Credited { recharge, .. } => tracing::info!(recharge = %recharge.id,
            amount_fen = recharge.amount.fen(), bonus_fen = recharge.bonus.fen(), "recharge credited"),
        RechargeOutcome::Flagged { recharge, reason } => tracing::error!(
            out_trade_no = %recharge.out_trade_no, reason,
            "a recharge's money does not match it; set aside for reconciliation"),
        RechargeOutcome::AlreadySettled { .. } => {}
    }
    Ok(outcome)
}

/// Recharges closed per sweep round.
const RECHARGE_ROUND: i64 = 200;
/// A recharge is swept this long after its gateway order expired, so a late notification of
/// money paid just in time settles it first.
const RECHARGE_GRACE_MS: i64 = 5 * 60_000;

/// One round of the recharge sweep: every recharge left unpaid past its time is asked about at
/// its gateway once more; money that arrived is credited, otherwise the gateway order is closed
/// there and then here. Returns how many it finished.
pub async fn finish_abandoned_recharges(ctx: &Context) -> Result<usize> {
    let before = ctx.clock.now_ms() - RECHARGE_PAY_WITHIN_MS - RECHARGE_GRACE_MS;
    let due = ctx.db.pending_recharges_due(before, RECHARGE_ROUND).await?;
    let mut finished = 0;
    for recharge in &due {
        if finish_recharge_at_gateway(ctx, recharge).await? {
            finished += 1;
        }
    }
    Ok(finished)
}

/// Settles or closes one recharge by what its gateway says; false when it could not say.
async fn finish_recharge_at_gateway(ctx: &Context, recharge: &Recharge) -> Result<bool> {
    use diancan_integrations::payments::model::TradeState;
    let Some(configured) = ctx.payments.get(recharge.provider) else {
        tracing::error!(recharge = %recharge.id, provider = recharge.provider.as_str(),
            "a pending recharge's gateway is no longer configured; it cannot be closed");
        return Ok(false);
    };
    let Ok(number) = OutTradeNo::parse(&recharge.out_trade_no) else {
        return Ok(false);
    };
    let open = |error: &dyn std::fmt::Display| {
        tracing::warn!(recharge = %recharge.id, %error, "closing an unpaid recharge failed; will ask again");
        Ok(false)
    };
    let trade = match configured.gateway.query(&number).await {
        Ok(trade) => Some(trade),
        Err(error) if error.no_such_trade() => None,
        Err(error) => return open(&error),
    };
    if let Some(trade) = &trade {
        if trade.state.is_paid() {
            let Ok(Some(arrived)) = crate::payments::arrived_money(trade, &configured.account)
            else {
                return open(&"a paid trade that does not match our merchant account");
            };
            settle_recharge_reported(ctx, &arrived).await?;
            return Ok(true);
        }
        let ended = matches!(
            trade.state,
            TradeState::Closed | TradeState::Revoked | TradeState::Failed
        );
        if !ended
            && let Err(error) = configured.gateway.close(&number).await
            && !error.no_such_trade()
        {
            return open(&error);
        }
    }
    ctx.db
        .close_recharge(recharge.id, ctx.clock.now_ms())
        .await?;
    tracing::info!(recharge = %recharge.id, provider = recharge.provider.as_str(),
        "unpaid recharge closed");
    Ok(true)
}

fn require(staff: &StaffCaller, permission: Permission) -> Result<()> {
    if staff.role.can(permission) {
        Ok(())
    } else {
        Err(Error::Forbidden(permission))
    }
}
