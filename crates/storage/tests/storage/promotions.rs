//! Promotions and coupons: a single-use coupon raced by 64 orders is redeemed by exactly one;
//! a promotion limited to one order per diner, raced by 20 orders of that diner, by one; the
//! coupon centre's limits hold under racing claims; a cancel gives the coupon back; a bad
//! stored rule is skipped, not priced.

use crate::ordering::{Menu, diner_cancels, menu_with_stock, new_order};
use crate::{NOW_MS, both};
use diancan_domain::customer::BlindIndex;
use diancan_domain::promotions::*;
use diancan_domain::*;
use diancan_storage::Db;
use diancan_storage::ordering::{NewRedemption, PlaceError, Placed, Redeemed};
use diancan_storage::promotions::{ClaimOutcome, Issuing, PromotionWindow};
use jiff::Timestamp;

fn now() -> Timestamp {
    Timestamp::from_millisecond(NOW_MS).unwrap()
}

async fn diner(db: &Db, brand: BrandId) -> CustomerId {
    db.customer_by_wechat_or_create(
        brand,
        &BlindIndex::from_bytes(uuid::Uuid::now_v7().as_bytes().to_vec()),
        "食客",
        NOW_MS,
    )
    .await
    .unwrap()
    .id
}

fn five_off(id: CouponId) -> Coupon {
    Coupon::new(CouponSpec {
        id,
        name: "无门槛5元券".into(),
        benefit: CouponBenefit::NoThreshold {
            off: Money::from_yuan(5),
        },
        scope: ItemScope::everything(),
        conditions: Conditions::always(),
        validity: Validity::DaysAfterClaim { days: 7 },
        stacks_with_same_class: false,
        stacking: Stacking::with_other_classes(Class::Order),
    })
    .unwrap()
}

async fn template(db: &Db, brand: BrandId, per_diner: i64, total: Option<i64>) -> CouponId {
    let id = CouponId::new();
    let issuing = Issuing {
        enabled: true,
        claimable: true,
        per_diner_limit: per_diner,
        total_limit: total,
    };
    assert!(
        db.save_coupon_template(brand, &five_off(id), &issuing, None, NOW_MS)
            .await
            .unwrap()
    );
    id
}

async fn claimed(
    db: &Db,
    brand: BrandId,
    template: CouponId,
    customer: CustomerId,
) -> CouponGrantId {
    match db
        .claim_coupon(brand, template, customer, true, now())
        .await
        .unwrap()
    {
        ClaimOutcome::Claimed(id) => id,
        other => panic!("expected a coupon, got {other:?}"),
    }
}

fn with_coupon(
    menu: Menu,
    key: &str,
    customer: CustomerId,
    grant: CouponGrantId,
    template: CouponId,
) -> diancan_storage::ordering::NewOrder {
    let mut order = new_order(menu, key, 1);
    order.customer_id = Some(customer);
    order.redemptions = vec![NewRedemption {
        offer: Redeemed::Coupon { grant, template },
        label: "无门槛5元券".into(),
        amount: Money::from_yuan(5),
    }];
    order
}

async fn one_single_use_coupon_raced_by_64_orders_is_redeemed_once(db: &Db) {
    let menu = menu_with_stock(db, 1_000).await;
    let customer = diner(db, menu.brand).await;
    let template = template(db, menu.brand, 1, None).await;
    let grant = claimed(db, menu.brand, template, customer).await;
    let mut racers = Vec::new();
    for n in 0..64 {
        let db = db.clone();
        let order = with_coupon(menu, &format!("coupon-race-{n}"), customer, grant, template);
        racers.push(tokio::spawn(async move { db.place_order(order).await }));
    }
    let mut placed = Vec::new();
    let mut refused = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(Placed::Created(order)) => placed.push(order),
            Err(PlaceError::CouponUnavailable(id)) => {
                assert_eq!(id, grant);
                refused += 1;
            }
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!((placed.len(), refused), (1, 63));
    // Refused orders took nothing: only the winner's bowl left the stock.
    assert_eq!(crate::ordering::stock_left(db, menu).await, Some(999));
    let held = db
        .customer_coupons(menu.brand, customer, true)
        .await
        .unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].order_id, Some(placed[0].id));
    assert_eq!(held[0].grant.state, GrantState::Redeemed);
    let stats = db.coupon_template_stats(menu.brand).await.unwrap();
    assert_eq!(
        (
            stats[0].used,
            stats[0].redeemed_orders,
            stats[0].discount_fen
        ),
        (1, 1, Money::from_yuan(5))
    );

    // Cancelling the order gives the coupon back, and it can be used again.
    db.change_order(diner_cancels(placed[0].id, NOW_MS + 1_000))
        .await
        .unwrap();
    let held = db
        .customer_coupons(menu.brand, customer, false)
        .await
        .unwrap();
    assert_eq!(held.len(), 1, "the coupon is available again");
    assert_eq!(held[0].grant.state, GrantState::Available);
    let stats = db.coupon_template_stats(menu.brand).await.unwrap();
    assert_eq!((stats[0].used, stats[0].returned), (0, 1));
    let again = with_coupon(menu, "coupon-again", customer, grant, template);
    assert!(matches!(
        db.place_order(again).await,
        Ok(Placed::Created(_))
    ));
}
both!(race one_single_use_coupon_raced_by_64_orders_is_redeemed_once);

async fn a_coupon_of_another_diner_or_expired_refuses_the_order(db: &Db) {
    let menu = menu_with_stock(db, 10).await;
    let owner = diner(db, menu.brand).await;
    let other = diner(db, menu.brand).await;
    let template = template(db, menu.brand, 1, None).await;
    let grant = claimed(db, menu.brand, template, owner).await;
    let foreign = with_coupon(menu, "not-mine", other, grant, template);
    assert!(matches!(
        db.place_order(foreign).await,
        Err(PlaceError::CouponUnavailable(_))
    ));
    let mut late = with_coupon(menu, "too-late", owner, grant, template);
    late.now_ms = NOW_MS + 8 * 24 * 3_600_000;
    assert!(matches!(
        db.place_order(late).await,
        Err(PlaceError::CouponUnavailable(_))
    ));
    // Nothing was taken by the refused orders, and the key can be used again.
    assert_eq!(crate::ordering::stock_left(db, menu).await, Some(10));
    let retry = with_coupon(menu, "not-mine", owner, grant, template);
    assert!(matches!(
        db.place_order(retry).await,
        Ok(Placed::Created(_))
    ));
}
both!(a_coupon_of_another_diner_or_expired_refuses_the_order);

fn limited_promotion(id: PromotionId) -> Promotion {
    Promotion::new(PromotionSpec {
        id,
        name: "新品立减".into(),
        conditions: Conditions::always(),
        benefit: PromotionBenefit::OrderDiscount {
            off: OrderOff::Fixed {
                amount: Money::from_yuan(3),
            },
            min_spend: Money::ZERO,
        },
        stacking: Stacking::with_everything(),
    })
    .unwrap()
}

async fn a_promotion_limited_to_one_order_per_diner_raced_by_20_is_used_once(db: &Db) {
    let menu = menu_with_stock(db, 1_000).await;
    let customer = diner(db, menu.brand).await;
    let id = PromotionId::new();
    let window = PromotionWindow {
        enabled: true,
        starts_at_ms: None,
        ends_at_ms: None,
        per_diner_limit: Some(1),
    };
    assert!(
        db.save_promotion(menu.brand, &limited_promotion(id), &window, None, NOW_MS)
            .await
            .unwrap()
    );
    let mut racers = Vec::new();
    for n in 0..20 {
        let db = db.clone();
        let mut order = new_order(menu, &format!("limit-race-{n}"), 1);
        order.customer_id = Some(customer);
        order.redemptions = vec![NewRedemption {
            offer: Redeemed::Promotion {
                id,
                per_diner_limit: Some(1),
            },
            label: "新品立减".into(),
            amount: Money::from_yuan(3),
        }];
        racers.push(tokio::spawn(async move { db.place_order(order).await }));
    }
    let mut created = Vec::new();
    let mut limited = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(Placed::Created(order)) => created.push(order),
            Err(PlaceError::PromotionLimitReached(p)) => {
                assert_eq!(p, id);
                limited += 1;
            }
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!((created.len(), limited), (1, 19));
    assert_eq!(
        db.promotion_uses(menu.brand, customer).await.unwrap(),
        vec![(id, 1)]
    );
    let stats = db.promotion_stats(menu.brand).await.unwrap();
    assert_eq!(stats[0].redeemed_orders, 1);
    // A cancel counts the use back.
    db.change_order(diner_cancels(created[0].id, NOW_MS + 1_000))
        .await
        .unwrap();
    assert_eq!(
        db.promotion_uses(menu.brand, customer).await.unwrap(),
        vec![(id, 0)]
    );
}
both!(race a_promotion_limited_to_one_order_per_diner_raced_by_20_is_used_once);

async fn racing_claims_respect_the_total_and_per_diner_limits(db: &Db) {
    let menu = menu_with_stock(db, 1).await;
    let template = template(db, menu.brand, 2, Some(5)).await;
    let one = diner(db, menu.brand).await;
    let mut racers = Vec::new();
    for _ in 0..10 {
        let db = db.clone();
        racers.push(tokio::spawn(async move {
            db.claim_coupon(menu.brand, template, one, true, now())
                .await
        }));
    }
    let mut outcomes = Vec::new();
    for racer in racers {
        outcomes.push(racer.await.unwrap().unwrap());
    }
    let got = outcomes
        .iter()
        .filter(|o| matches!(o, ClaimOutcome::Claimed(_)))
        .count();
    assert_eq!(got, 2, "one diner may hold two: {outcomes:?}");
    // The total limit of five holds across diners, racing.
    let mut racers = Vec::new();
    for _ in 0..10 {
        let db = db.clone();
        let customer = diner(&db, menu.brand).await;
        racers.push(tokio::spawn(async move {
            db.claim_coupon(menu.brand, template, customer, true, now())
                .await
        }));
    }
    let mut claimed = 0;
    for racer in racers {
        match racer.await.unwrap().unwrap() {
            ClaimOutcome::Claimed(_) => claimed += 1,
            ClaimOutcome::AllGone => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(claimed, 3);
    let record = db.coupon_template(menu.brand, template).await.unwrap();
    assert_eq!(record.issued, 5);
    // Another brand cannot claim it.
    let other_brand = crate::ordering::menu_of_brand(db, "other-brand", 1).await;
    let stranger = diner(db, other_brand.brand).await;
    assert_eq!(
        db.claim_coupon(other_brand.brand, template, stranger, true, now())
            .await
            .unwrap(),
        ClaimOutcome::NotClaimable
    );
}
both!(race racing_claims_respect_the_total_and_per_diner_limits);

async fn an_unreadable_stored_rule_is_skipped_not_priced(db: &Db) {
    let menu = menu_with_stock(db, 1).await;
    let id = PromotionId::new();
    let window = PromotionWindow {
        enabled: true,
        starts_at_ms: None,
        ends_at_ms: None,
        per_diner_limit: None,
    };
    db.save_promotion(menu.brand, &limited_promotion(id), &window, None, NOW_MS)
        .await
        .unwrap();
    let changed = diancan_storage::testing::execute_unchecked(
        db,
        r#"UPDATE promotions SET rule_json = '{"kind":"free_everything"}' WHERE id = $1"#,
        id.as_uuid(),
    )
    .await
    .unwrap();
    assert_eq!(changed, 1);
    let records = db.promotions(menu.brand).await.unwrap();
    assert_eq!(records.len(), 1);
    assert!(records[0].rule.is_none(), "the bad row reads as damaged");
    assert_eq!(records[0].name, "新品立减");
}
both!(an_unreadable_stored_rule_is_skipped_not_priced);

async fn a_full_refund_gives_the_coupon_back_and_a_repeat_gives_nothing_twice(db: &Db) {
    use diancan_domain::balance::EntryKind;
    use diancan_domain::ordering::{Actor, Order, OrderAction, OrderCommand, OrderStatus};
    use diancan_storage::balance::OrderRefund;
    use diancan_storage::balance::{BalancePayment, NewEntry};
    let menu = menu_with_stock(db, 10).await;
    let customer = diner(db, menu.brand).await;
    db.post_staff_entry(
        menu.brand,
        customer,
        NewEntry {
            kind: EntryKind::Recharge,
            amount: Money::from_yuan(100),
            reason: "现金充值",
            reference: "staff:promo-test".into(),
            order_id: None,
            actor: "staff:test",
        },
        NOW_MS,
    )
    .await
    .unwrap();
    let template = template(db, menu.brand, 1, None).await;
    let grant = claimed(db, menu.brand, template, customer).await;
    let mut order = with_coupon(menu, "refund-me", customer, grant, template);
    order.start.status = OrderStatus::AwaitingPayment;
    order.start.pay_by_ms = Some(NOW_MS + 15 * 60_000);
    let placed = match db.place_order(order).await.unwrap() {
        Placed::Created(order) => order,
        other => panic!("expected a new order, got {other:?}"),
    };
    let pay = std::sync::Arc::new(|o: &Order| {
        o.decide(
            OrderCommand::Act(OrderAction::Pay),
            &Actor::System("balance"),
            None,
            NOW_MS + 10,
        )
    });
    let paid = db
        .pay_order_by_balance(
            customer,
            placed.id,
            (menu.brand, menu.store),
            pay,
            NOW_MS + 10,
        )
        .await
        .unwrap();
    assert!(matches!(paid, BalancePayment::Paid { .. }), "{paid:?}");
    assert!(
        db.customer_coupons(menu.brand, customer, false)
            .await
            .unwrap()
            .is_empty()
    );
    let refunded = db
        .refund_order(placed.id, RefundId::new(), None, "staff:test", NOW_MS + 20)
        .await
        .unwrap();
    assert!(
        matches!(refunded, OrderRefund::Refunded { .. }),
        "{refunded:?}"
    );
    let held = db
        .customer_coupons(menu.brand, customer, false)
        .await
        .unwrap();
    assert_eq!(held.len(), 1, "the refund gave the coupon back");
    let stats = db.coupon_template_stats(menu.brand).await.unwrap();
    assert_eq!((stats[0].used, stats[0].returned), (0, 1));
    // Asking again finds nothing left to refund, and nothing is given back twice.
    let again = db
        .refund_order(placed.id, RefundId::new(), None, "staff:test", NOW_MS + 30)
        .await
        .unwrap();
    assert!(!matches!(again, OrderRefund::Refunded { .. }), "{again:?}");
    db.return_redemptions(placed.id, NOW_MS + 40).await.unwrap();
    let stats = db.coupon_template_stats(menu.brand).await.unwrap();
    assert_eq!((stats[0].used, stats[0].returned), (0, 1));
    assert_eq!(
        db.customer_coupons(menu.brand, customer, false)
            .await
            .unwrap()
            .len(),
        1
    );
}
both!(a_full_refund_gives_the_coupon_back_and_a_repeat_gives_nothing_twice);
