//! Each rule kind on its own: what it gives, when it is in force, and what it refuses to be.

use super::*;

fn codes(result: Result<Promotion, crate::validation::FieldErrors>) -> Vec<(String, &'static str)> {
    result
        .expect_err("refused")
        .iter()
        .map(|e| (e.field.clone(), e.problem.code()))
        .collect()
}

fn spec(benefit: PromotionBenefit) -> PromotionSpec {
    PromotionSpec {
        id: promotion_id(99),
        name: "测试".into(),
        conditions: Conditions::always(),
        benefit,
        stacking: Stacking::with_everything(),
    }
}

#[test]
fn zero_and_negative_rules_are_refused_with_a_code() {
    let refused = |benefit| codes(Promotion::new(spec(benefit)));
    assert_eq!(
        refused(spend_and_save(&[(50, 0)])),
        vec![("benefit.tiers[0].save".into(), "MUST_BE_POSITIVE")]
    );
    assert_eq!(
        refused(spend_and_save(&[(50, 60)])),
        vec![("benefit.tiers[0].save".into(), "TOO_LARGE")],
        "满50减60 gives away more than it asks"
    );
    assert_eq!(
        refused(spend_and_save(&[(100, 15), (50, 5)])),
        vec![("benefit.tiers[1]".into(), "MIN_ABOVE_MAX")]
    );
    assert_eq!(
        refused(spend_and_save(&[])),
        vec![("benefit.tiers".into(), "EMPTY")]
    );
    assert_eq!(
        refused(PromotionBenefit::ItemDiscount {
            scope: ItemScope::everything(),
            off: ItemOff::Percent { off: bp(0) },
        }),
        vec![("benefit.off.off".into(), "MUST_BE_POSITIVE")]
    );
    assert_eq!(
        refused(PromotionBenefit::ItemDiscount {
            scope: ItemScope::everything(),
            off: ItemOff::PerUnit { amount: fen(-100) },
        }),
        vec![("benefit.off.amount".into(), "MUST_BE_POSITIVE")]
    );
    assert_eq!(
        refused(PromotionBenefit::NthItem {
            scope: ItemScope::everything(),
            nth: 2,
            pays: BasisPoints::FULL,
        }),
        vec![("benefit.pays".into(), "OUT_OF_RANGE")],
        "the second at full price is no promotion"
    );
    assert_eq!(
        refused(PromotionBenefit::NthItem {
            scope: ItemScope::everything(),
            nth: 1,
            pays: bp(5_000),
        }),
        vec![("benefit.nth".into(), "OUT_OF_RANGE")]
    );
    assert_eq!(
        refused(PromotionBenefit::SlotPrice {
            dish_id: dish(1),
            price: fen(-1),
        }),
        vec![
            ("benefit.price".into(), "MUST_NOT_BE_NEGATIVE"),
            ("conditions.schedule".into(), "REQUIRED"),
        ]
    );
    assert_eq!(
        refused(PromotionBenefit::OrderDiscount {
            off: OrderOff::Fixed { amount: yuan(50) },
            min_spend: yuan(50),
        }),
        vec![("benefit.off.amount".into(), "TOO_LARGE")]
    );
    assert_eq!(
        refused(PromotionBenefit::Gift {
            min_spend: yuan(0),
            gift: GiftItem {
                dish_id: dish(1),
                name: "".into(),
                value: yuan(0),
            },
        }),
        vec![
            ("benefit.min_spend".into(), "MUST_BE_POSITIVE"),
            ("benefit.gift.value".into(), "MUST_BE_POSITIVE"),
            ("name".into(), "REQUIRED"),
        ]
    );
    let mut long_name = spec(spend_and_save(&[(50, 5)]));
    long_name.name = "满".repeat(MAX_NAME_CHARS + 1);
    assert_eq!(
        codes(Promotion::new(long_name)),
        vec![("name".into(), "TOO_LONG")]
    );
    let mut one_diner = spec(spend_and_save(&[(50, 5)]));
    one_diner.conditions.min_diners = Some(1);
    assert_eq!(
        codes(Promotion::new(one_diner)),
        vec![("conditions.min_diners".into(), "OUT_OF_RANGE")]
    );
    let error = Promotion::new(spec(spend_and_save(&[(50, 0)]))).unwrap_err();
    let problem = &error.iter().next().unwrap().problem;
    assert_eq!(problem.message_zh(), "必须大于 0");
    assert_eq!(problem.message_en(), "must be greater than 0");
}

#[test]
fn afternoon_tea_price_applies_until_the_last_second_before_five() {
    let tea = promotion_with(
        1,
        PromotionBenefit::SlotPrice {
            dish_id: dish(1),
            price: yuan(12),
        },
        Conditions {
            schedule: window(Weekdays::ALL, "14:00", "17:00"),
            ..Conditions::always()
        },
        Stacking::with_everything(),
    );
    let cart = cart(vec![line(1, yuan(20), 2), line(2, yuan(8), 1)]);
    let at = |h, m, s| OrderFacts {
        local_time: date(2026, 12, 2).at(h, m, s, 0),
        ..facts()
    };
    let priced = best(&cart, &at(16, 59, 59), std::slice::from_ref(&tea));
    assert_eq!(priced.breakdown.total, yuan(12 * 2 + 8));
    assert_eq!(priced.breakdown.item_discount, yuan(16));
    assert_eq!(priced.breakdown.discounts[0].class, Class::Item);
    assert_eq!(
        priced.breakdown.discounts[0].lines,
        vec![LineShare {
            line: 0,
            amount: yuan(16)
        }]
    );
    let priced = best(&cart, &at(17, 0, 0), std::slice::from_ref(&tea));
    assert_eq!(priced.breakdown.total, yuan(48));
    assert_eq!(
        refusal_of(&priced, OfferRef::Promotion(tea.id())),
        Some(RefusalReason::OutsideHours)
    );
    let priced = best(&cart, &at(14, 0, 0), std::slice::from_ref(&tea));
    assert_eq!(priced.breakdown.total, yuan(32), "from 14:00:00 on");
}

#[test]
fn weekday_rules_hold_only_on_their_days() {
    let weekday_lunch = promotion_with(
        1,
        PromotionBenefit::ItemDiscount {
            scope: ItemScope::categories(&[category(1)]),
            off: ItemOff::Percent { off: bp(2_000) },
        },
        Conditions {
            schedule: window(Weekdays::MON_TO_FRI, "11:00", "14:00"),
            ..Conditions::always()
        },
        Stacking::with_everything(),
    );
    // Dish 1 is in category 1, dish 2 in category 0.
    let cart = cart(vec![line(1, yuan(25), 1), line(2, yuan(10), 1)]);
    let wednesday = best(&cart, &facts(), std::slice::from_ref(&weekday_lunch));
    assert_eq!(wednesday.breakdown.item_discount, yuan(5));
    assert_eq!(wednesday.breakdown.lines[1].discount, Money::ZERO);
    let saturday = OrderFacts {
        local_time: date(2026, 12, 5).at(12, 30, 0, 0),
        ..facts()
    };
    let priced = best(&cart, &saturday, std::slice::from_ref(&weekday_lunch));
    assert_eq!(priced.breakdown.total, yuan(35));
    assert_eq!(
        refusal_of(&priced, OfferRef::Promotion(weekday_lunch.id())),
        Some(RefusalReason::OutsideHours)
    );
}

#[test]
fn nth_item_takes_every_second_unit_of_a_dish_at_half() {
    let half = promotion(
        1,
        PromotionBenefit::NthItem {
            scope: ItemScope::dishes(&[dish(1)]),
            nth: 2,
            pays: bp(5_000),
        },
    );
    // Five of dish 1 over two lines (dearer line counted first): units 2 and 4 at half.
    let cart = cart(vec![
        line(1, fen(1_800), 2),
        line(1, fen(2_001), 3),
        line(2, yuan(9), 2),
    ]);
    let priced = best(&cart, &facts(), &[half]);
    // Dearest first: 2001, 2001(half), 2001, 1800(half), 1800.
    assert_eq!(
        priced.breakdown.discounts[0].lines,
        vec![
            LineShare {
                line: 0,
                amount: fen(900)
            },
            LineShare {
                line: 1,
                amount: fen(1_000)
            },
        ],
        "half of 20.01 is rounded down to 10.00 off"
    );
    assert_ledgers_exact(&cart, &priced.breakdown);
}

#[test]
fn item_discounts_by_share_or_by_amount_per_unit() {
    let cart = cart(vec![line(1, fen(1_999), 3), line(2, yuan(10), 1)]);
    let share = promotion(
        1,
        PromotionBenefit::ItemDiscount {
            scope: ItemScope::dishes(&[dish(1)]),
            off: ItemOff::Percent { off: bp(1_500) },
        },
    );
    // 15 % of 59.97 is 8.9955: the diner gets 8.99, never the half fen.
    assert_eq!(
        best(&cart, &facts(), &[share]).breakdown.item_discount,
        fen(899)
    );
    let per_unit = promotion(
        2,
        PromotionBenefit::ItemDiscount {
            scope: ItemScope::everything(),
            off: ItemOff::PerUnit { amount: yuan(15) },
        },
    );
    let priced = best(&cart, &facts(), &[per_unit]);
    assert_eq!(
        priced.breakdown.lines[1].total,
        Money::ZERO,
        "¥15 off a ¥10 dish stops at zero"
    );
    assert_eq!(priced.breakdown.item_discount, yuan(45) + yuan(10));
}

#[test]
fn member_prices_follow_the_level_reached() {
    let prices = promotion(
        1,
        PromotionBenefit::MemberPrices {
            prices: vec![
                MemberPrice {
                    level: MemberLevel(1),
                    dish_id: dish(1),
                    price: yuan(18),
                },
                MemberPrice {
                    level: MemberLevel(3),
                    dish_id: dish(1),
                    price: yuan(15),
                },
            ],
        },
    );
    let cart = cart(vec![line(1, yuan(20), 1)]);
    let at_level = |level| OrderFacts {
        member_level: level,
        ..facts()
    };
    let ps = std::slice::from_ref(&prices);
    assert_eq!(best(&cart, &at_level(None), ps).breakdown.total, yuan(20));
    assert_eq!(
        refusal_of(
            &best(&cart, &at_level(None), ps),
            OfferRef::Promotion(prices.id())
        ),
        Some(RefusalReason::MemberLevelTooLow)
    );
    assert_eq!(
        best(&cart, &at_level(Some(MemberLevel(2))), ps)
            .breakdown
            .total,
        yuan(18)
    );
    assert_eq!(
        best(&cart, &at_level(Some(MemberLevel(4))), ps)
            .breakdown
            .total,
        yuan(15)
    );
}

#[test]
fn first_order_and_group_discounts_need_their_facts() {
    let first = promotion_with(
        1,
        PromotionBenefit::OrderDiscount {
            off: OrderOff::Fixed { amount: yuan(8) },
            min_spend: Money::ZERO,
        },
        Conditions {
            first_order_only: true,
            ..Conditions::always()
        },
        Stacking::with_everything(),
    );
    let group = promotion_with(
        2,
        PromotionBenefit::OrderDiscount {
            off: OrderOff::Percent {
                off: bp(1_000),
                cap: Some(yuan(30)),
            },
            min_spend: Money::ZERO,
        },
        Conditions {
            min_diners: Some(4),
            ..Conditions::always()
        },
        Stacking::with_everything(),
    );
    let cart = cart(vec![line(1, yuan(100), 5)]);
    let both = [first.clone(), group.clone()];
    let priced = best(&cart, &facts(), &both);
    assert_eq!(priced.breakdown.total, yuan(500));
    assert_eq!(
        refusal_of(&priced, OfferRef::Promotion(first.id())),
        Some(RefusalReason::NotFirstOrder)
    );
    assert_eq!(
        refusal_of(&priced, OfferRef::Promotion(group.id())),
        Some(RefusalReason::TooFewDiners { min: 4 })
    );
    let table_of_four_new = OrderFacts {
        first_order: true,
        diners: 4,
        ..facts()
    };
    let priced = best(&cart, &table_of_four_new, &both);
    // 10 % of 500 is 50, capped at 30; both are taken on the same ¥500.
    assert_eq!(priced.breakdown.order_discount, yuan(38));
    assert_eq!(priced.breakdown.total, yuan(462));
}

#[test]
fn near_expiry_price_for_the_last_portions_after_eight() {
    let last_portions = promotion(
        1,
        PromotionBenefit::NearExpiry {
            scope: ItemScope::everything(),
            max_stock_left: 5,
            from: TimeOfDay::parse("20:00").unwrap(),
            pays: bp(7_000),
        },
    );
    let stocked = |left| CartLine {
        stock_left: Some(left),
        ..line(1, fen(1_999), 1)
    };
    let at = |h, m| OrderFacts {
        local_time: date(2026, 12, 2).at(h, m, 0, 0),
        ..facts()
    };
    let ps = std::slice::from_ref(&last_portions);
    let five_left = cart(vec![stocked(5), line(2, yuan(10), 1)]);
    // 30 % of 19.99 is 5.997: 5.99 off, so the price is 14.00.
    assert_eq!(
        best(&five_left, &at(20, 0), ps).breakdown.lines[0].total,
        fen(1_400)
    );
    assert_eq!(
        best(&five_left, &at(19, 59), ps).breakdown.total,
        fen(2_999)
    );
    let six_left = cart(vec![stocked(6)]);
    assert_eq!(
        refusal_of(
            &best(&six_left, &at(21, 0), ps),
            OfferRef::Promotion(last_portions.id())
        ),
        Some(RefusalReason::NothingToDiscount)
    );
}

#[test]
fn channel_and_store_scoped_rules() {
    let pickup_only = promotion_with(
        1,
        PromotionBenefit::ItemDiscount {
            scope: ItemScope::everything(),
            off: ItemOff::PerUnit { amount: yuan(2) },
        },
        Conditions {
            channels: vec![Channel::Pickup],
            ..Conditions::always()
        },
        Stacking::with_everything(),
    );
    let elsewhere = promotion_with(
        2,
        PromotionBenefit::ItemDiscount {
            scope: ItemScope::everything(),
            off: ItemOff::PerUnit { amount: yuan(3) },
        },
        Conditions {
            stores: vec![StoreId::from_uuid(Uuid::from_u128(9))],
            ..Conditions::always()
        },
        Stacking::with_everything(),
    );
    let cart = cart(vec![line(1, yuan(20), 1)]);
    let both = [pickup_only.clone(), elsewhere.clone()];
    let dine_in = best(&cart, &facts(), &both);
    assert_eq!(dine_in.breakdown.total, yuan(20));
    assert_eq!(
        refusal_of(&dine_in, OfferRef::Promotion(pickup_only.id())),
        Some(RefusalReason::WrongChannel)
    );
    assert_eq!(
        refusal_of(&dine_in, OfferRef::Promotion(elsewhere.id())),
        Some(RefusalReason::WrongStore)
    );
    let pickup = OrderFacts {
        channel: Channel::Pickup,
        ..facts()
    };
    assert_eq!(best(&cart, &pickup, &both).breakdown.total, yuan(18));
}

#[test]
fn a_price_rule_above_the_menu_price_does_nothing() {
    let dearer = promotion_with(
        1,
        PromotionBenefit::SlotPrice {
            dish_id: dish(1),
            price: yuan(30),
        },
        Conditions {
            schedule: window(Weekdays::ALL, "00:00", "24:00"),
            ..Conditions::always()
        },
        Stacking::with_everything(),
    );
    let cart = cart(vec![line(1, yuan(20), 1)]);
    let priced = best(&cart, &facts(), std::slice::from_ref(&dearer));
    assert_eq!(priced.breakdown.total, yuan(20));
    assert_eq!(
        refusal_of(&priced, OfferRef::Promotion(dearer.id())),
        Some(RefusalReason::NothingToDiscount)
    );
}

#[test]
fn carts_outside_the_menu_bounds_are_refused() {
    assert!(Cart::new(Vec::new()).is_err());
    assert!(Cart::new(vec![line(1, yuan(1), 0)]).is_err());
    assert!(Cart::new(vec![line(1, fen(-1), 1)]).is_err());
    assert!(Cart::new(vec![line(1, yuan(1), 1); 51]).is_err());
    let bad_facts = OrderFacts {
        diners: 0,
        ..facts()
    };
    let cart = cart(vec![line(1, yuan(1), 1)]);
    let error = best_price(&cart, &bad_facts, offers(&[], &[], &[])).unwrap_err();
    assert_eq!(error.code(), "VALIDATION_FAILED");
}
