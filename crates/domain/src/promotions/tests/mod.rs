//! Tests of the promotions engine: one module per concern, sharing the cart and rule builders here.

mod coupons;
mod order;
mod properties;
mod rules;

use super::*;
use crate::ids::{CategoryId, CouponGrantId, CouponId, DishId, PromotionId, StoreId};
use crate::money::Money;
use crate::ordering::Channel;
use crate::schedule::{Schedule, TimeOfDay, TimeWindow, Weekdays};
use jiff::Timestamp;
use jiff::civil::{DateTime, date};
use uuid::Uuid;

fn yuan(y: i64) -> Money {
    Money::from_yuan(y)
}

fn fen(f: i64) -> Money {
    Money::from_fen(f)
}

fn dish(n: u128) -> DishId {
    DishId::from_uuid(Uuid::from_u128(1_000 + n))
}

fn category(n: u128) -> CategoryId {
    CategoryId::from_uuid(Uuid::from_u128(2_000 + n))
}

fn store() -> StoreId {
    StoreId::from_uuid(Uuid::from_u128(3_000))
}

fn line(dish_n: u128, unit: Money, quantity: i64) -> CartLine {
    CartLine {
        dish_id: dish(dish_n),
        category_id: category(dish_n % 2),
        unit_price: unit,
        quantity,
        stock_left: None,
    }
}

fn cart(lines: Vec<CartLine>) -> Cart {
    Cart::new(lines).expect("valid cart")
}

/// Wednesday 2 December 2026, 12:30 in the store.
fn lunchtime() -> DateTime {
    date(2026, 12, 2).at(12, 30, 0, 0)
}

fn now() -> Timestamp {
    "2026-12-02T04:30:00Z".parse().unwrap()
}

fn facts() -> OrderFacts {
    OrderFacts {
        channel: Channel::DineIn,
        store_id: store(),
        local_time: lunchtime(),
        now: now(),
        member_level: None,
        first_order: false,
        diners: 1,
        delivery_fee: Money::ZERO,
    }
}

fn promotion_id(n: u128) -> PromotionId {
    PromotionId::from_uuid(Uuid::from_u128(4_000 + n))
}

/// A promotion that combines with every other class, in force at all times.
fn promotion(n: u128, benefit: PromotionBenefit) -> Promotion {
    let class = benefit.class();
    promotion_with(
        n,
        benefit,
        Conditions::always(),
        Stacking::with_other_classes(class),
    )
}

fn promotion_with(
    n: u128,
    benefit: PromotionBenefit,
    conditions: Conditions,
    stacking: Stacking,
) -> Promotion {
    Promotion::new(PromotionSpec {
        id: promotion_id(n),
        name: format!("活动{n}"),
        conditions,
        benefit,
        stacking,
    })
    .expect("valid promotion")
}

fn spend_and_save(tiers: &[(i64, i64)]) -> PromotionBenefit {
    PromotionBenefit::SpendAndSave {
        scope: ItemScope::everything(),
        tiers: tiers
            .iter()
            .map(|(threshold, save)| Tier {
                threshold: yuan(*threshold),
                save: yuan(*save),
            })
            .collect(),
    }
}

fn bp(n: u16) -> BasisPoints {
    BasisPoints::new(n).unwrap()
}

fn window(days: Weekdays, start: &str, end: &str) -> Schedule {
    Schedule::new(vec![TimeWindow {
        weekdays: days,
        start: TimeOfDay::parse(start).unwrap(),
        end: TimeOfDay::parse(end).unwrap(),
    }])
}

fn coupon_id(n: u128) -> CouponId {
    CouponId::from_uuid(Uuid::from_u128(5_000 + n))
}

fn coupon(n: u128, benefit: CouponBenefit) -> Coupon {
    let class = benefit.class();
    Coupon::new(CouponSpec {
        id: coupon_id(n),
        name: format!("券{n}"),
        benefit,
        scope: ItemScope::everything(),
        conditions: Conditions::always(),
        validity: Validity::DaysAfterClaim { days: 7 },
        stacks_with_same_class: false,
        stacking: Stacking::with_other_classes(class),
    })
    .expect("valid coupon")
}

fn grant(n: u128, coupon: &Coupon) -> CouponGrant {
    CouponGrant {
        id: CouponGrantId::from_uuid(Uuid::from_u128(6_000 + n)),
        coupon_id: coupon.id(),
        claimed_at: "2026-12-01T00:00:00Z".parse().unwrap(),
        state: GrantState::Available,
    }
}

fn offers<'a>(
    promotions: &'a [Promotion],
    coupons: &'a [Coupon],
    grants: &'a [CouponGrant],
) -> Offers<'a> {
    Offers {
        promotions,
        coupons,
        grants,
    }
}

fn best(cart: &Cart, facts: &OrderFacts, promotions: &[Promotion]) -> Priced {
    best_price(cart, facts, offers(promotions, &[], &[])).expect("priced")
}

fn refusal_of(priced: &Priced, offer: OfferRef) -> Option<RefusalReason> {
    priced
        .not_applicable
        .iter()
        .find(|r| r.offer == offer)
        .map(|r| r.reason)
}

/// The invariants every priced result keeps, whatever the rules.
fn assert_ledgers_exact(cart: &Cart, breakdown: &Breakdown) {
    assert!(breakdown.item_discount + breakdown.order_discount <= breakdown.subtotal);
    assert!(breakdown.delivery_discount <= breakdown.delivery_fee);
    assert!(breakdown.total >= Money::ZERO);
    assert_eq!(
        breakdown.total,
        breakdown.subtotal + breakdown.delivery_fee - breakdown.discount_total()
    );
    assert_eq!(breakdown.subtotal, cart.subtotal());
    let mut per_line = vec![Money::ZERO; cart.lines().len()];
    for discount in &breakdown.discounts {
        let shared: Money = discount.lines.iter().map(|s| s.amount).sum();
        match (discount.class, &discount.gift) {
            (_, Some(_)) | (Class::DeliveryFee, _) => assert!(discount.lines.is_empty()),
            _ => assert_eq!(shared, discount.amount, "{discount:?}"),
        }
        assert!(discount.amount > Money::ZERO);
        for share in &discount.lines {
            per_line[share.line] += share.amount;
        }
    }
    for (priced, shared) in breakdown.lines.iter().zip(&per_line) {
        assert_eq!(priced.discount, *shared);
        assert!(priced.total >= Money::ZERO);
        assert_eq!(priced.total, priced.subtotal - priced.discount);
    }
    assert_eq!(
        breakdown.lines.iter().map(|l| l.total).sum::<Money>(),
        breakdown.goods_total
    );
}
