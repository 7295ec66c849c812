//! Coupons: the template a brand issues (`Coupon`) and the copy one diner holds (`CouponGrant`).
//! Validity is decided against a "now" the caller passes in; the engine reads no clock.

use super::rules::{
    BasisPoints, Class, Conditions, FeeOff, ItemScope, Stacking, check_fee_off, check_name,
    check_off, check_positive, check_threshold,
};
use crate::ids::{CouponGrantId, CouponId, DishId};
use crate::money::Money;
use crate::validation::{FieldErrors, Problem};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// The longest a claimed coupon may stay valid.
pub const MAX_VALID_DAYS: u16 = 366;

/// What a coupon gives. The variant fixes the class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CouponBenefit {
    /// 无门槛券: an amount off any order (never more than the order).
    NoThreshold { off: Money },
    /// 满减券: from `min_spend`, `off` off.
    Threshold { min_spend: Money, off: Money },
    /// 折扣券: a share off, capped, from `min_spend`.
    Percent {
        off: BasisPoints,
        cap: Money,
        min_spend: Money,
    },
    /// 单品券: one unit of a dish free (`pays` zero) or at a fixed price.
    ItemVoucher { dish_id: DishId, pays: Money },
    /// 配送费券.
    DeliveryFee { off: FeeOff, min_spend: Money },
}

impl CouponBenefit {
    pub fn class(&self) -> Class {
        match self {
            CouponBenefit::ItemVoucher { .. } => Class::Item,
            CouponBenefit::NoThreshold { .. }
            | CouponBenefit::Threshold { .. }
            | CouponBenefit::Percent { .. } => Class::Order,
            CouponBenefit::DeliveryFee { .. } => Class::DeliveryFee,
        }
    }
}

/// When a claimed coupon can be used: between two fixed instants, or for a number of days
/// from the moment it was claimed. Ends are exclusive: a coupon valid 3 days from 10:00 on the
/// 1st can be used at 09:59:59.999 on the 4th and not at 10:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Validity {
    Fixed { from: Timestamp, until: Timestamp },
    DaysAfterClaim { days: u16 },
}

/// A coupon template as submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CouponSpec {
    pub id: CouponId,
    pub name: String,
    pub benefit: CouponBenefit,
    /// Lines an order-class coupon counts and reduces (an item voucher names its own dish).
    #[serde(default)]
    pub scope: ItemScope,
    #[serde(default)]
    pub conditions: Conditions,
    pub validity: Validity,
    /// May be used alongside another coupon of the same class; both must say so.
    #[serde(default)]
    pub stacks_with_same_class: bool,
    /// What the coupon combines with among promotions and coupons of other classes.
    pub stacking: Stacking,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Coupon(CouponSpec);

impl Coupon {
    pub fn new(spec: CouponSpec) -> Result<Coupon, FieldErrors> {
        let mut errors = FieldErrors::new();
        check_name(&mut errors, &spec.name);
        spec.conditions.validate(&mut errors);
        spec.scope.validate(&mut errors, "scope");
        match &spec.benefit {
            CouponBenefit::NoThreshold { off } => check_positive(&mut errors, "benefit.off", *off),
            CouponBenefit::Threshold { min_spend, off } => {
                check_positive(&mut errors, "benefit.min_spend", *min_spend);
                check_positive(&mut errors, "benefit.off", *off);
                if off >= min_spend {
                    errors.add(
                        "benefit.off",
                        Problem::TooLarge {
                            max: min_spend.fen() - 1,
                        },
                    );
                }
            }
            CouponBenefit::Percent {
                off,
                cap,
                min_spend,
            } => {
                check_off(&mut errors, "benefit.off", *off);
                check_positive(&mut errors, "benefit.cap", *cap);
                check_threshold(&mut errors, "benefit.min_spend", *min_spend);
            }
            CouponBenefit::ItemVoucher { pays, .. } => {
                check_threshold(&mut errors, "benefit.pays", *pays);
            }
            CouponBenefit::DeliveryFee { off, min_spend } => {
                check_fee_off(&mut errors, "benefit.off", off);
                check_threshold(&mut errors, "benefit.min_spend", *min_spend);
            }
        }
        match spec.validity {
            Validity::Fixed { from, until } if until <= from => {
                errors.add("validity.until", Problem::MinAboveMax)
            }
            Validity::DaysAfterClaim { days } => crate::validation::check_range(
                &mut errors,
                "validity.days",
                days as i64,
                1,
                MAX_VALID_DAYS as i64,
            ),
            Validity::Fixed { .. } => {}
        }
        errors.finish(|| Coupon(spec))
    }

    pub fn spec(&self) -> &CouponSpec {
        &self.0
    }

    pub fn id(&self) -> CouponId {
        self.0.id
    }

    pub fn class(&self) -> Class {
        self.0.benefit.class()
    }
}

/// Where a diner's coupon stands. Only an available one can be chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantState {
    Available,
    /// Used on an order (given back as `Available` when that order is cancelled or refunded).
    Redeemed,
}

/// One diner's claimed copy of a coupon template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponGrant {
    pub id: CouponGrantId,
    pub coupon_id: CouponId,
    pub claimed_at: Timestamp,
    pub state: GrantState,
}

/// Why a grant cannot be used now, before any cart is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantUnusable {
    NotYetValid { from: Timestamp },
    Expired { until: Timestamp },
    AlreadyUsed,
}

impl CouponGrant {
    /// The instants between which this grant can be used, end exclusive.
    pub fn valid_between(&self, coupon: &Coupon) -> (Timestamp, Timestamp) {
        match coupon.spec().validity {
            Validity::Fixed { from, until } => (from, until),
            Validity::DaysAfterClaim { days } => {
                let length = SignedDuration::from_hours(24 * days as i64);
                // Days are whole 24-hour spans from the claim: the same instant N days on.
                let until = self
                    .claimed_at
                    .checked_add(length)
                    .unwrap_or(Timestamp::MAX);
                (self.claimed_at, until)
            }
        }
    }

    pub fn usable_at(&self, coupon: &Coupon, now: Timestamp) -> Result<(), GrantUnusable> {
        if self.state == GrantState::Redeemed {
            return Err(GrantUnusable::AlreadyUsed);
        }
        let (from, until) = self.valid_between(coupon);
        if now < from {
            return Err(GrantUnusable::NotYetValid { from });
        }
        if now >= until {
            return Err(GrantUnusable::Expired { until });
        }
        Ok(())
    }
}
