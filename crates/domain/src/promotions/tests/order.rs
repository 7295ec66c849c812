//! Order-class rules, the evaluation order between classes, stacking, allocation to lines, the
//! diner's own pick and the next-threshold hint.

use super::*;

fn tiers() -> Promotion {
    promotion(1, spend_and_save(&[(50, 5), (100, 15)]))
}

#[test]
fn the_highest_tier_reached_applies() {
    let ps = [tiers()];
    let at = |fen_total| cart(vec![line(1, fen(fen_total), 1)]);
    assert_eq!(
        best(&at(12_000), &facts(), &ps).breakdown.order_discount,
        yuan(15)
    );
    assert_eq!(
        best(&at(9_999), &facts(), &ps).breakdown.order_discount,
        yuan(5)
    );
    assert_eq!(
        best(&at(5_000), &facts(), &ps).breakdown.order_discount,
        yuan(5)
    );
    let short = best(&at(4_999), &facts(), &ps);
    assert_eq!(short.breakdown.order_discount, Money::ZERO);
    assert_eq!(
        refusal_of(&short, OfferRef::Promotion(ps[0].id())),
        Some(RefusalReason::ThresholdNotMet { short_by: fen(1) })
    );
}

#[test]
fn a_threshold_is_tested_after_the_item_discounts_before_it() {
    // 10 % off over ¥50, and 第二份半价 on the noodles: two bowls at ¥30 make ¥60, but with
    // the second bowl at half the cart is ¥45, below the ¥50 the 10 % asks for.
    let ten_percent = promotion(
        1,
        PromotionBenefit::OrderDiscount {
            off: OrderOff::Percent {
                off: bp(1_000),
                cap: None,
            },
            min_spend: yuan(50),
        },
    );
    let second_half = promotion(
        2,
        PromotionBenefit::NthItem {
            scope: ItemScope::dishes(&[dish(1)]),
            nth: 2,
            pays: bp(5_000),
        },
    );
    let noodles = cart(vec![line(1, yuan(30), 2)]);
    let both = [ten_percent.clone(), second_half.clone()];
    let priced = best(&noodles, &facts(), &both);
    assert_eq!(
        priced.breakdown.chosen,
        vec![OfferRef::Promotion(second_half.id())]
    );
    assert_eq!(priced.breakdown.total, yuan(45), "not 60 - 15 - 6");
    let refused = price_chosen(
        &noodles,
        &facts(),
        offers(&both, &[], &[]),
        &[
            OfferRef::Promotion(ten_percent.id()),
            OfferRef::Promotion(second_half.id()),
        ],
    )
    .unwrap_err();
    assert_eq!(
        refused,
        PricingError::Refused(vec![Refusal {
            offer: OfferRef::Promotion(ten_percent.id()),
            reason: RefusalReason::ThresholdNotMet { short_by: yuan(5) },
        }])
    );
    // The 10 % alone is the diner's to pick, and it is worse: 54.
    let picked = price_chosen(
        &noodles,
        &facts(),
        offers(&both, &[], &[]),
        &[OfferRef::Promotion(ten_percent.id())],
    )
    .unwrap();
    assert_eq!(picked.breakdown.total, yuan(54));
    // With three bowls the cart stays above ¥50 after the half-price bowl: both apply.
    let three = cart(vec![line(1, yuan(30), 3)]);
    let priced = best(&three, &facts(), &both);
    assert_eq!(priced.breakdown.item_discount, yuan(15));
    assert_eq!(priced.breakdown.order_discount, fen(750));
    assert_eq!(priced.breakdown.total, fen(6_750));
    assert_ledgers_exact(&three, &priced.breakdown);
}

#[test]
fn an_order_discount_is_spread_over_lines_by_largest_remainder() {
    let ps = [promotion(1, spend_and_save(&[(100, 10)]))];
    let cart = cart(vec![
        line(1, fen(3_333), 1),
        line(2, fen(3_333), 1),
        line(3, fen(3_334), 1),
    ]);
    let priced = best(&cart, &facts(), &ps);
    let shares: Vec<Money> = priced.breakdown.discounts[0]
        .lines
        .iter()
        .map(|s| s.amount)
        .collect();
    assert_eq!(shares, vec![fen(333), fen(333), fen(334)]);
    assert_ledgers_exact(&cart, &priced.breakdown);
}

#[test]
fn a_gift_is_a_free_line_shown_at_its_value() {
    let gift = promotion(
        1,
        PromotionBenefit::Gift {
            min_spend: yuan(88),
            gift: GiftItem {
                dish_id: dish(9),
                name: "酸梅汤".into(),
                value: yuan(6),
            },
        },
    );
    let ps = std::slice::from_ref(&gift);
    let priced = best(&cart(vec![line(1, yuan(90), 1)]), &facts(), ps);
    assert_eq!(priced.breakdown.total, yuan(90));
    assert_eq!(priced.breakdown.gifts.len(), 1);
    assert_eq!(priced.breakdown.gifts[0].item.value, yuan(6));
    assert_eq!(priced.breakdown.saving, yuan(6));
    assert_eq!(priced.breakdown.discount_total(), Money::ZERO);
    let short = best(&cart(vec![line(1, yuan(80), 1)]), &facts(), ps);
    assert!(short.breakdown.gifts.is_empty());
}

#[test]
fn an_exclusive_promotion_stands_alone_and_wins_only_when_it_is_better() {
    let exclusive = promotion_with(
        1,
        spend_and_save(&[(100, 30)]),
        Conditions::always(),
        Stacking::exclusive(),
    );
    let item = promotion(
        2,
        PromotionBenefit::ItemDiscount {
            scope: ItemScope::everything(),
            off: ItemOff::Percent { off: bp(2_000) },
        },
    );
    let tiers = promotion(3, spend_and_save(&[(50, 5), (100, 15)]));
    let ps = [exclusive.clone(), item.clone(), tiers.clone()];
    // ¥150: exclusive gives 30; 20 % (30) then 满100减15 on ¥120 gives 45 together.
    let priced = best(&cart(vec![line(1, yuan(150), 1)]), &facts(), &ps);
    assert_eq!(priced.breakdown.total, yuan(105));
    assert_eq!(
        priced.breakdown.chosen,
        vec![
            OfferRef::Promotion(item.id()),
            OfferRef::Promotion(tiers.id())
        ]
    );
    // ¥110: 20 % takes it to ¥88, so only 满50减5: 27 off, less than the exclusive 30.
    let priced = best(&cart(vec![line(1, yuan(110), 1)]), &facts(), &ps);
    assert_eq!(priced.breakdown.total, yuan(80));
    assert_eq!(
        priced.breakdown.chosen,
        vec![OfferRef::Promotion(exclusive.id())]
    );
    let refused = price_chosen(
        &cart(vec![line(1, yuan(110), 1)]),
        &facts(),
        offers(&ps, &[], &[]),
        &[
            OfferRef::Promotion(exclusive.id()),
            OfferRef::Promotion(item.id()),
        ],
    )
    .unwrap_err();
    assert_eq!(
        refused,
        PricingError::Refused(vec![Refusal {
            offer: OfferRef::Promotion(item.id()),
            reason: RefusalReason::CannotCombine {
                with: OfferRef::Promotion(exclusive.id())
            },
        }])
    );
}

#[test]
fn two_rules_of_one_class_combine_only_when_each_names_the_other() {
    let off = |n, amount: i64, with: Vec<RuleRef>| {
        promotion_with(
            n,
            PromotionBenefit::ItemDiscount {
                scope: ItemScope::everything(),
                off: ItemOff::PerUnit {
                    amount: yuan(amount),
                },
            },
            Conditions::always(),
            Stacking {
                exclusive: false,
                with_classes: ClassSet::of(&[Class::Order]),
                with_rules: with,
            },
        )
    };
    let cart = cart(vec![line(1, yuan(20), 1)]);
    let apart = [off(1, 2, vec![]), off(2, 3, vec![])];
    assert_eq!(best(&cart, &facts(), &apart).breakdown.total, yuan(17));
    let one_sided = [
        off(1, 2, vec![RuleRef::Promotion(promotion_id(2))]),
        off(2, 3, vec![]),
    ];
    assert_eq!(best(&cart, &facts(), &one_sided).breakdown.total, yuan(17));
    let mutual = [
        off(1, 2, vec![RuleRef::Promotion(promotion_id(2))]),
        off(2, 3, vec![RuleRef::Promotion(promotion_id(1))]),
    ];
    assert_eq!(best(&cart, &facts(), &mutual).breakdown.total, yuan(15));
}

#[test]
fn free_delivery_is_tested_on_the_goods_after_discounts() {
    let free_over_40 = promotion(
        1,
        PromotionBenefit::DeliveryFeeOff {
            off: FeeOff::Free,
            min_spend: yuan(40),
        },
    );
    let item = promotion(
        2,
        PromotionBenefit::ItemDiscount {
            scope: ItemScope::everything(),
            off: ItemOff::PerUnit { amount: yuan(2) },
        },
    );
    let delivery = OrderFacts {
        channel: Channel::Delivery,
        delivery_fee: yuan(5),
        ..facts()
    };
    let ps = [free_over_40.clone(), item.clone()];
    // ¥41: free delivery (5) beats ¥2 off, which would leave ¥39 and no free delivery.
    let priced = best(&cart(vec![line(1, yuan(41), 1)]), &delivery, &ps);
    assert_eq!(priced.breakdown.total, yuan(41));
    assert_eq!(priced.breakdown.delivery_discount, yuan(5));
    // ¥45: both.
    let priced = best(&cart(vec![line(1, yuan(45), 1)]), &delivery, &ps);
    assert_eq!(priced.breakdown.total, yuan(43));
    assert_ledgers_exact(&cart(vec![line(1, yuan(45), 1)]), &priced.breakdown);
}

#[test]
fn the_cart_bar_hints_at_the_next_tier() {
    let ps = [tiers()];
    let priced = best(&cart(vec![line(1, yuan(92), 1)]), &facts(), &ps);
    let hint = priced.hint.expect("a tier within reach");
    assert_eq!((hint.needed, hint.gives), (yuan(8), yuan(15)));
    assert_eq!(hint.message_zh(), "再买 8 元减 15");
    assert_eq!(hint.message_en(), "Spend ¥8 more to save ¥15");
    let below = best(&cart(vec![line(1, fen(4_550), 1)]), &facts(), &ps);
    let hint = below.hint.unwrap();
    assert_eq!((hint.needed, hint.gives), (fen(450), yuan(5)));
    assert_eq!(hint.message_zh(), "再买 4.50 元减 5");
    let top = best(&cart(vec![line(1, yuan(120), 1)]), &facts(), &ps);
    assert_eq!(top.hint, None, "nothing higher to reach");
}

#[test]
fn a_pick_of_unknown_or_repeated_offers_is_refused() {
    let ps = [tiers()];
    let stranger = OfferRef::Promotion(promotion_id(77));
    let mine = OfferRef::Promotion(ps[0].id());
    let refused = price_chosen(
        &cart(vec![line(1, yuan(60), 1)]),
        &facts(),
        offers(&ps, &[], &[]),
        &[stranger, mine, mine],
    )
    .unwrap_err();
    let PricingError::Refused(refusals) = refused else {
        panic!("refused")
    };
    assert_eq!(
        refusals.iter().map(|r| r.reason.code()).collect::<Vec<_>>(),
        vec!["UNKNOWN_OFFER", "CHOSEN_TWICE"]
    );
    assert_eq!(refusals[0].reason.message_zh(), "该优惠不存在或不属于你");
    let none = price_chosen(
        &cart(vec![line(1, yuan(60), 1)]),
        &facts(),
        offers(&ps, &[], &[]),
        &[],
    )
    .unwrap();
    assert_eq!(
        none.breakdown.total,
        yuan(60),
        "the diner may decline every offer"
    );
}

#[test]
fn the_search_prunes_instead_of_trying_every_subset() {
    // Twenty discounts on twenty dishes that all stack: 2^20 subsets, one obvious best.
    let ps: Vec<Promotion> = (0..20)
        .map(|n| {
            promotion_with(
                n,
                PromotionBenefit::ItemDiscount {
                    scope: ItemScope::dishes(&[dish(n)]),
                    off: ItemOff::PerUnit { amount: yuan(1) },
                },
                Conditions::always(),
                Stacking::with_everything(),
            )
        })
        .collect();
    let cart = cart((0..20).map(|n| line(n, yuan(10), 1)).collect());
    let (priced, evaluations) =
        best_price_counted(&cart, &facts(), offers(&ps, &[], &[]), MAX_EVALUATIONS).unwrap();
    assert_eq!(priced.breakdown.total, yuan(180));
    assert_eq!(priced.breakdown.chosen.len(), 20);
    assert!(evaluations < 100, "{evaluations} evaluations");
}

#[test]
fn a_search_that_runs_out_of_budget_says_so_and_still_prices_a_valid_combination() {
    // Fourteen stackable percentages compound, so what each takes alone bounds nothing.
    let ps: Vec<Promotion> = (0..14)
        .map(|n| {
            promotion_with(
                n,
                PromotionBenefit::ItemDiscount {
                    scope: ItemScope::everything(),
                    off: ItemOff::Percent {
                        off: bp(1_000 + n as u16),
                    },
                },
                Conditions::always(),
                Stacking::with_everything(),
            )
        })
        .collect();
    let cart = cart(vec![line(1, yuan(80), 1), line(2, yuan(45), 2)]);
    let (cut, evaluations) =
        best_price_counted(&cart, &facts(), offers(&ps, &[], &[]), 300).unwrap();
    assert!(!cut.best_proven);
    assert!(evaluations <= 300);
    assert_ledgers_exact(&cart, &cut.breakdown);
    let again = price_chosen(
        &cart,
        &facts(),
        offers(&ps, &[], &[]),
        &cut.breakdown.chosen,
    )
    .unwrap();
    assert_eq!(again.breakdown, cut.breakdown);
    assert!(!again.best_proven, "a pick is never claimed to be the best");
    let full = best_price(&cart, &facts(), offers(&ps, &[], &[])).unwrap();
    assert!(full.breakdown.total <= cut.breakdown.total);
}
