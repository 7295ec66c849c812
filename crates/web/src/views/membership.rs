//! A membership as the diner and the console see it: level and what it gives, growth to the
//! next level, points with their ledger and next expiry, stored value, recharge tiers.

use crate::views::balance::BalanceEntryView;
use diancan_domain::membership::levels::{LevelRule, MemberLevel};
use diancan_domain::membership::points::{PointsEntry, PointsKind};
use diancan_domain::membership::recharge::{Recharge, RechargeState, RechargeTier};
use diancan_domain::membership::{MemberStanding, Programme};
use diancan_domain::payments::PaymentProvider;
use diancan_domain::*;
use diancan_usecases::membership::{ConsoleMember, Membership};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PointsEntryView {
    pub id: uuid::Uuid,
    pub kind: PointsKind,
    /// Signed: positive adds, negative takes.
    pub points: i64,
    pub balance_after: i64,
    /// Growth value added (or taken back, negative) with it.
    pub growth: i64,
    pub expires_at_ms: Option<i64>,
    pub order_id: Option<OrderId>,
    pub reason: String,
    pub created_at_ms: i64,
}

impl From<&PointsEntry> for PointsEntryView {
    fn from(e: &PointsEntry) -> Self {
        PointsEntryView {
            id: e.id,
            kind: e.kind,
            points: e.points,
            balance_after: e.balance_after,
            growth: e.growth,
            expires_at_ms: e.expires_at_ms,
            order_id: e.order_id,
            reason: e.reason.clone(),
            created_at_ms: e.created_at_ms,
        }
    }
}

/// A page of a points ledger, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PointsPageView {
    pub points: i64,
    pub entries: Vec<PointsEntryView>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<uuid::Uuid>,
}

impl PointsPageView {
    pub fn of(points: i64, entries: &[PointsEntry], limit: i64) -> PointsPageView {
        let full = i64::try_from(entries.len()).unwrap_or(i64::MAX) >= limit;
        PointsPageView {
            points,
            entries: entries.iter().map(PointsEntryView::from).collect(),
            next_before: entries.last().filter(|_| full).map(|e| e.id),
        }
    }
}

/// A brand's programme: levels, points rule, member day, recharge tiers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgrammeView {
    pub levels: Vec<LevelRule>,
    pub points_per_yuan: u32,
    /// Points expire when this many months after the month of earning have ended; 0: never.
    pub expiry_months: u32,
    /// ISO weekday (1 = Monday … 7 = Sunday) of 会员日, if any.
    pub member_day_weekday: Option<i8>,
    /// Points count this many times on member day.
    pub member_day_multiplier: u32,
    /// 充 `pay_fen` 送 `bonus_fen`, lowest first.
    pub recharge_tiers: Vec<RechargeTier>,
    pub min_recharge_fen: i64,
    pub max_recharge_fen: i64,
}

impl From<&Programme> for ProgrammeView {
    fn from(p: &Programme) -> Self {
        ProgrammeView {
            levels: p.levels.rules().to_vec(),
            points_per_yuan: p.points_per_yuan,
            expiry_months: p.expiry.months,
            member_day_weekday: p.member_day.map(|d| d.iso_weekday()),
            member_day_multiplier: p.member_day.map_or(1, |d| d.multiplier),
            recharge_tiers: p.recharge_tiers.tiers().to_vec(),
            min_recharge_fen: diancan_domain::membership::recharge::MIN_RECHARGE.fen(),
            max_recharge_fen: diancan_domain::membership::recharge::MAX_RECHARGE.fen(),
        }
    }
}

/// The diner's 会员 page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MembershipView {
    pub member_id: MemberId,
    pub joined_at_ms: i64,
    pub growth: i64,
    pub standing: MemberStanding,
    pub points: i64,
    /// Points that expire soonest, and when.
    pub expiring_points: Option<i64>,
    pub expiring_at_ms: Option<i64>,
    /// Month and day, once told.
    pub birthday: Option<diancan_domain::membership::Birthday>,
    pub balance_fen: i64,
    pub available_fen: i64,
    pub programme: ProgrammeView,
}

impl From<&Membership> for MembershipView {
    fn from(m: &Membership) -> Self {
        MembershipView {
            member_id: m.member.id,
            joined_at_ms: m.member.joined_at_ms,
            growth: m.member.growth,
            standing: m.standing,
            points: m.member.points,
            expiring_points: m.next_expiry.map(|e| e.0),
            expiring_at_ms: m.next_expiry.map(|e| e.1),
            birthday: m.member.birthday,
            balance_fen: m.balance.balance.fen(),
            available_fen: m.balance.available().fen(),
            programme: ProgrammeView::from(&m.programme),
        }
    }
}

/// One member in the console's list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberRowView {
    pub customer_id: CustomerId,
    pub member_id: MemberId,
    /// "138****1234"; absent for a WeChat-only diner.
    pub phone_masked: Option<String>,
    pub display_name: String,
    pub level: MemberLevel,
    pub growth: i64,
    pub points: i64,
    pub joined_at_ms: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MembersPageView {
    pub members: Vec<MemberRowView>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<MemberId>,
}

/// A member in the console: membership and both ledgers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsoleMemberView {
    pub customer_id: CustomerId,
    pub membership: MembershipView,
    pub points_entries: Vec<PointsEntryView>,
    pub balance_entries: Vec<BalanceEntryView>,
}

impl From<&ConsoleMember> for ConsoleMemberView {
    fn from(m: &ConsoleMember) -> Self {
        ConsoleMemberView {
            customer_id: m.membership.member.customer_id,
            membership: MembershipView::from(&m.membership),
            points_entries: m.points.iter().map(PointsEntryView::from).collect(),
            balance_entries: m
                .balance_entries
                .iter()
                .map(BalanceEntryView::from)
                .collect(),
        }
    }
}

/// A recharge as the diner follows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RechargeView {
    pub id: RechargeId,
    pub provider: PaymentProvider,
    pub amount_fen: i64,
    pub bonus_fen: i64,
    pub state: RechargeState,
    pub created_at_ms: i64,
    pub paid_at_ms: Option<i64>,
}

impl From<&Recharge> for RechargeView {
    fn from(r: &Recharge) -> Self {
        RechargeView {
            id: r.id,
            provider: r.provider,
            amount_fen: r.amount.fen(),
            bonus_fen: r.bonus.fen(),
            state: r.state,
            created_at_ms: r.created_at_ms,
            paid_at_ms: r.paid_at_ms,
        }
    }
}
