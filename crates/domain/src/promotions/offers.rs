//! Turns the active promotions and the diner's coupons into offers for this order: each one
//! either in force (its conditions met: channel, store, hours, member, validity) with the effect
//! it would have, or refused with the reason. Amount thresholds wait for evaluation.

use super::cart::OrderFacts;
use super::coupons::{Coupon, CouponBenefit, CouponGrant, GrantUnusable};
use super::refusal::{OfferRef, Refusal, RefusalReason};
use super::rules::{
    BasisPoints, Class, Conditions, FeeOff, GiftItem, ItemOff, ItemScope, OrderOff, Promotion,
    PromotionBenefit, RuleRef, Stacking, Tier,
};
use crate::ids::DishId;
use crate::money::Money;

/// How a price rule sets one unit's price.
#[derive(Debug, Clone)]
pub(crate) enum PriceRule {
    Slot {
        dish_id: DishId,
        price: Money,
    },
    /// The member's prices, already narrowed to the levels the diner has reached.
    Member(Vec<(DishId, Money)>),
    NearExpiry {
        scope: ItemScope,
        max_stock_left: i64,
        pays: BasisPoints,
    },
}

/// What an offer does, in the engine's terms. The stage is the evaluation order.
#[derive(Debug, Clone)]
pub(crate) enum Effect {
    Price(PriceRule),
    Nth {
        scope: ItemScope,
        nth: u8,
        pays: BasisPoints,
    },
    ItemOff {
        scope: ItemScope,
        off: ItemOff,
    },
    Voucher {
        dish_id: DishId,
        pays: Money,
    },
    /// 满减 and fixed amounts off (a single tier; threshold zero when there is none).
    Tiers {
        scope: ItemScope,
        tiers: Vec<Tier>,
    },
    OrderPercent {
        scope: ItemScope,
        off: BasisPoints,
        cap: Option<Money>,
        min_spend: Money,
    },
    Gift {
        min_spend: Money,
        gift: GiftItem,
    },
    Fee {
        off: FeeOff,
        min_spend: Money,
    },
}

impl Effect {
    /// Item class first (prices, Nth-item, item discounts, item vouchers), then the order
    /// class, then the delivery fee.
    pub(crate) fn stage(&self) -> u8 {
        match self {
            Effect::Price(_) => 0,
            Effect::Nth { .. } => 1,
            Effect::ItemOff { .. } => 2,
            Effect::Voucher { .. } => 3,
            Effect::Tiers { .. } | Effect::OrderPercent { .. } | Effect::Gift { .. } => 4,
            Effect::Fee { .. } => 5,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Offer<'a> {
    pub key: OfferRef,
    pub rule: RuleRef,
    pub name: &'a str,
    pub class: Class,
    pub effect: Effect,
    pub stacking: &'a Stacking,
    /// `Some` for a coupon: whether it may share its class with another coupon.
    pub coupon_stacks: Option<bool>,
}

impl Offer<'_> {
    /// Whether the two may be used on the same order, and if not, why (from `self`'s side).
    pub(crate) fn conflict_with(&self, other: &Offer<'_>) -> Option<RefusalReason> {
        if self.key == other.key {
            return Some(RefusalReason::ChosenTwice);
        }
        if let (Some(mine), Some(theirs)) = (self.coupon_stacks, other.coupon_stacks)
            && self.class == other.class
        {
            // Two coupons of one class: only when both templates say they stack.
            let both = mine && theirs && !self.stacking.exclusive && !other.stacking.exclusive;
            return (!both).then_some(RefusalReason::OneCouponPerClass { with: other.key });
        }
        let fine = self.stacking.accepts(other.class, other.rule)
            && other.stacking.accepts(self.class, self.rule);
        (!fine).then_some(RefusalReason::CannotCombine { with: other.key })
    }
}

fn check_conditions(conditions: &Conditions, facts: &OrderFacts) -> Result<(), RefusalReason> {
    if !conditions.channels.is_empty() && !conditions.channels.contains(&facts.channel) {
        return Err(RefusalReason::WrongChannel);
    }
    if !conditions.stores.is_empty() && !conditions.stores.contains(&facts.store_id) {
        return Err(RefusalReason::WrongStore);
    }
    if !conditions.schedule.contains(facts.local_time) {
        return Err(RefusalReason::OutsideHours);
    }
    if let Some(min) = conditions.min_member_level
        && facts.member_level.is_none_or(|level| level < min)
    {
        return Err(RefusalReason::MemberLevelTooLow);
    }
    if conditions.first_order_only && !facts.first_order {
        return Err(RefusalReason::NotFirstOrder);
    }
    if let Some(min) = conditions.min_diners
        && facts.diners < min
    {
        return Err(RefusalReason::TooFewDiners { min });
    }
    Ok(())
}

fn promotion_effect(promotion: &Promotion, facts: &OrderFacts) -> Result<Effect, RefusalReason> {
    Ok(match &promotion.spec().benefit {
        PromotionBenefit::SlotPrice { dish_id, price } => Effect::Price(PriceRule::Slot {
            dish_id: *dish_id,
            price: *price,
        }),
        PromotionBenefit::MemberPrices { prices } => {
            let level = facts.member_level.ok_or(RefusalReason::MemberLevelTooLow)?;
            let reached: Vec<_> = prices
                .iter()
                .filter(|row| row.level <= level)
                .map(|row| (row.dish_id, row.price))
                .collect();
            if reached.is_empty() {
                return Err(RefusalReason::MemberLevelTooLow);
            }
            Effect::Price(PriceRule::Member(reached))
        }
        PromotionBenefit::NearExpiry {
            scope,
            max_stock_left,
            from,
            pays,
        } => {
            if facts.time_of_day() < *from {
                return Err(RefusalReason::OutsideHours);
            }
            Effect::Price(PriceRule::NearExpiry {
                scope: scope.clone(),
                max_stock_left: *max_stock_left,
                pays: *pays,
            })
        }
        PromotionBenefit::NthItem { scope, nth, pays } => Effect::Nth {
            scope: scope.clone(),
            nth: *nth,
            pays: *pays,
        },
        PromotionBenefit::ItemDiscount { scope, off } => Effect::ItemOff {
            scope: scope.clone(),
            off: *off,
        },
        PromotionBenefit::SpendAndSave { scope, tiers } => Effect::Tiers {
            scope: scope.clone(),
            tiers: tiers.clone(),
        },
        PromotionBenefit::OrderDiscount { off, min_spend } => {
            order_off(ItemScope::everything(), *off, *min_spend)
        }
        PromotionBenefit::Gift { min_spend, gift } => Effect::Gift {
            min_spend: *min_spend,
            gift: gift.clone(),
        },
        PromotionBenefit::DeliveryFeeOff { off, min_spend } => Effect::Fee {
            off: *off,
            min_spend: *min_spend,
        },
    })
}

fn order_off(scope: ItemScope, off: OrderOff, min_spend: Money) -> Effect {
    match off {
        OrderOff::Percent { off, cap } => Effect::OrderPercent {
            scope,
            off,
            cap,
            min_spend,
        },
        OrderOff::Fixed { amount } => Effect::Tiers {
            scope,
            tiers: vec![Tier {
                threshold: min_spend,
                save: amount,
            }],
        },
    }
}

fn coupon_effect(coupon: &Coupon) -> Effect {
    let scope = coupon.spec().scope.clone();
    match &coupon.spec().benefit {
        CouponBenefit::NoThreshold { off } => {
            order_off(scope, OrderOff::Fixed { amount: *off }, Money::ZERO)
        }
        CouponBenefit::Threshold { min_spend, off } => {
            order_off(scope, OrderOff::Fixed { amount: *off }, *min_spend)
        }
        CouponBenefit::Percent {
            off,
            cap,
            min_spend,
        } => order_off(
            scope,
            OrderOff::Percent {
                off: *off,
                cap: Some(*cap),
            },
            *min_spend,
        ),
        CouponBenefit::ItemVoucher { dish_id, pays } => Effect::Voucher {
            dish_id: *dish_id,
            pays: *pays,
        },
        CouponBenefit::DeliveryFee { off, min_spend } => Effect::Fee {
            off: *off,
            min_spend: *min_spend,
        },
    }
}

/// The offers in force for this order, in evaluation order (by stage; promotions before
/// coupons and in the caller's order within a stage), and the refusals of the rest.
pub(crate) fn offers_in_force<'a>(
    facts: &OrderFacts,
    promotions: &'a [Promotion],
    coupons: &'a [Coupon],
    grants: &[CouponGrant],
) -> (Vec<Offer<'a>>, Vec<Refusal>) {
    let mut offers = Vec::new();
    let mut refusals = Vec::new();
    for promotion in promotions {
        let key = OfferRef::Promotion(promotion.id());
        let spec = promotion.spec();
        match check_conditions(&spec.conditions, facts)
            .and_then(|()| promotion_effect(promotion, facts))
        {
            Ok(effect) => offers.push(Offer {
                key,
                rule: RuleRef::Promotion(promotion.id()),
                name: &spec.name,
                class: promotion.class(),
                effect,
                stacking: &spec.stacking,
                coupon_stacks: None,
            }),
            Err(reason) => refusals.push(Refusal { offer: key, reason }),
        }
    }
    for grant in grants {
        let key = OfferRef::Coupon(grant.id);
        let Some(coupon) = coupons.iter().find(|c| c.id() == grant.coupon_id) else {
            refusals.push(Refusal {
                offer: key,
                reason: RefusalReason::UnknownOffer,
            });
            continue;
        };
        let usable = grant
            .usable_at(coupon, facts.now)
            .map_err(|unusable| match unusable {
                GrantUnusable::NotYetValid { from } => RefusalReason::CouponNotYetValid { from },
                GrantUnusable::Expired { until } => RefusalReason::CouponExpired { until },
                GrantUnusable::AlreadyUsed => RefusalReason::CouponAlreadyUsed,
            })
            .and_then(|()| check_conditions(&coupon.spec().conditions, facts));
        match usable {
            Ok(()) => offers.push(Offer {
                key,
                rule: RuleRef::Coupon(coupon.id()),
                name: &coupon.spec().name,
                class: coupon.class(),
                effect: coupon_effect(coupon),
                stacking: &coupon.spec().stacking,
                coupon_stacks: Some(coupon.spec().stacks_with_same_class),
            }),
            Err(reason) => refusals.push(Refusal { offer: key, reason }),
        }
    }
    // Stable: within a stage the caller's order (promotions first) decides who goes first.
    offers.sort_by_key(|offer| offer.effect.stage());
    (offers, refusals)
}
