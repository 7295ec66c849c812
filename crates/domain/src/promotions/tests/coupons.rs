//! Coupons: each template kind, validity against an injected "now", one per class, and the
//! search choosing between a diner's coupons and the store's promotions.

use super::*;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn facts_at(now: Timestamp) -> OrderFacts {
    OrderFacts { now, ..facts() }
}

fn best_with(
    cart: &Cart,
    facts: &OrderFacts,
    ps: &[Promotion],
    cs: &[Coupon],
    gs: &[CouponGrant],
) -> Priced {
    best_price(cart, facts, offers(ps, cs, gs)).expect("priced")
}

#[test]
fn each_kind_of_coupon_gives_what_it_says() {
    let cart = cart(vec![line(1, yuan(30), 2), line(2, yuan(12), 1)]);
    let cases = [
        (CouponBenefit::NoThreshold { off: yuan(5) }, yuan(5)),
        (CouponBenefit::NoThreshold { off: yuan(500) }, yuan(72)),
        (
            CouponBenefit::Threshold {
                min_spend: yuan(70),
                off: yuan(10),
            },
            yuan(10),
        ),
        (
            CouponBenefit::Threshold {
                min_spend: yuan(80),
                off: yuan(10),
            },
            Money::ZERO,
        ),
        (
            CouponBenefit::Percent {
                off: bp(1_500),
                cap: yuan(8),
                min_spend: Money::ZERO,
            },
            yuan(8),
        ),
        (
            CouponBenefit::Percent {
                off: bp(500),
                cap: yuan(8),
                min_spend: Money::ZERO,
            },
            fen(360),
        ),
        (
            CouponBenefit::ItemVoucher {
                dish_id: dish(1),
                pays: Money::ZERO,
            },
            yuan(30),
        ),
        (
            CouponBenefit::ItemVoucher {
                dish_id: dish(2),
                pays: yuan(9),
            },
            yuan(3),
        ),
        (
            CouponBenefit::ItemVoucher {
                dish_id: dish(7),
                pays: Money::ZERO,
            },
            Money::ZERO,
        ),
    ];
    for (n, (benefit, off)) in cases.into_iter().enumerate() {
        let c = coupon(n as u128, benefit.clone());
        let g = grant(n as u128, &c);
        let priced = best_with(&cart, &facts(), &[], std::slice::from_ref(&c), &[g]);
        assert_eq!(priced.breakdown.discount_total(), off, "{benefit:?}");
        assert_ledgers_exact(&cart, &priced.breakdown);
        if off == Money::ZERO {
            assert!(refusal_of(&priced, OfferRef::Coupon(g.id)).is_some());
        } else {
            assert_eq!(priced.breakdown.chosen, vec![OfferRef::Coupon(g.id)]);
        }
    }
}

#[test]
fn a_delivery_fee_coupon_takes_off_at_most_the_fee() {
    let c = coupon(
        1,
        CouponBenefit::DeliveryFee {
            off: FeeOff::Fixed { amount: yuan(8) },
            min_spend: yuan(20),
        },
    );
    let g = grant(1, &c);
    let delivery = OrderFacts {
        channel: Channel::Delivery,
        delivery_fee: yuan(6),
        ..facts()
    };
    let priced = best_with(
        &cart(vec![line(1, yuan(25), 1)]),
        &delivery,
        &[],
        std::slice::from_ref(&c),
        &[g],
    );
    assert_eq!(priced.breakdown.delivery_discount, yuan(6));
    assert_eq!(priced.breakdown.total, yuan(25));
    assert_eq!(priced.breakdown.discounts[0].class, Class::DeliveryFee);
}

#[test]
fn a_coupon_valid_for_three_days_ends_exactly_three_days_after_claiming() {
    let c = Coupon::new(CouponSpec {
        validity: Validity::DaysAfterClaim { days: 3 },
        ..coupon(1, CouponBenefit::NoThreshold { off: yuan(5) })
            .spec()
            .clone()
    })
    .unwrap();
    let g = CouponGrant {
        claimed_at: at("2026-12-01T02:00:00Z"),
        ..grant(1, &c)
    };
    let cart = cart(vec![line(1, yuan(20), 1)]);
    let cs = std::slice::from_ref(&c);
    let last_moment = at("2026-12-04T01:59:59.999999999Z");
    assert_eq!(
        best_with(&cart, &facts_at(last_moment), &[], cs, &[g])
            .breakdown
            .total,
        yuan(15)
    );
    let expiry = at("2026-12-04T02:00:00Z");
    let expired = best_with(&cart, &facts_at(expiry), &[], cs, &[g]);
    assert_eq!(expired.breakdown.total, yuan(20));
    assert_eq!(
        refusal_of(&expired, OfferRef::Coupon(g.id)),
        Some(RefusalReason::CouponExpired { until: expiry })
    );
    let before_claim = best_with(&cart, &facts_at(at("2026-12-01T01:59:59Z")), &[], cs, &[g]);
    assert_eq!(
        refusal_of(&before_claim, OfferRef::Coupon(g.id)),
        Some(RefusalReason::CouponNotYetValid {
            from: at("2026-12-01T02:00:00Z")
        })
    );
}

#[test]
fn fixed_dates_and_used_coupons() {
    let c = Coupon::new(CouponSpec {
        validity: Validity::Fixed {
            from: at("2026-12-01T16:00:00Z"),
            until: at("2026-12-31T16:00:00Z"),
        },
        ..coupon(1, CouponBenefit::NoThreshold { off: yuan(5) })
            .spec()
            .clone()
    })
    .unwrap();
    let cart = cart(vec![line(1, yuan(20), 1)]);
    let cs = std::slice::from_ref(&c);
    let fresh = grant(1, &c);
    assert_eq!(
        best_with(&cart, &facts(), &[], cs, &[fresh])
            .breakdown
            .total,
        yuan(15)
    );
    let used = CouponGrant {
        state: GrantState::Redeemed,
        ..fresh
    };
    let priced = best_with(&cart, &facts(), &[], cs, &[used]);
    assert_eq!(priced.breakdown.total, yuan(20));
    assert_eq!(
        refusal_of(&priced, OfferRef::Coupon(used.id)),
        Some(RefusalReason::CouponAlreadyUsed)
    );
    let refused = price_chosen(
        &cart,
        &facts(),
        offers(&[], cs, &[used]),
        &[OfferRef::Coupon(used.id)],
    )
    .unwrap_err();
    assert_eq!(
        refused,
        PricingError::Refused(vec![Refusal {
            offer: OfferRef::Coupon(used.id),
            reason: RefusalReason::CouponAlreadyUsed
        }])
    );
    // A grant whose template is not among the diner's is someone else's, or made up.
    let foreign = CouponGrant {
        coupon_id: coupon_id(42),
        ..fresh
    };
    let priced = best_with(&cart, &facts(), &[], cs, &[foreign]);
    assert_eq!(
        refusal_of(&priced, OfferRef::Coupon(foreign.id)),
        Some(RefusalReason::UnknownOffer)
    );
    let bad = Coupon::new(CouponSpec {
        validity: Validity::DaysAfterClaim { days: 0 },
        benefit: CouponBenefit::Threshold {
            min_spend: yuan(10),
            off: yuan(10),
        },
        ..c.spec().clone()
    })
    .unwrap_err();
    let fields: Vec<_> = bad
        .iter()
        .map(|e| (e.field.as_str(), e.problem.code()))
        .collect();
    assert_eq!(
        fields,
        vec![
            ("benefit.off", "TOO_LARGE"),
            ("validity.days", "OUT_OF_RANGE")
        ]
    );
}

#[test]
fn one_coupon_per_class_unless_both_templates_stack() {
    let five = coupon(1, CouponBenefit::NoThreshold { off: yuan(5) });
    let eight = coupon(
        2,
        CouponBenefit::Threshold {
            min_spend: yuan(30),
            off: yuan(8),
        },
    );
    let free_dish = coupon(
        3,
        CouponBenefit::ItemVoucher {
            dish_id: dish(2),
            pays: Money::ZERO,
        },
    );
    let cart = cart(vec![line(1, yuan(30), 1), line(2, yuan(4), 1)]);
    let cs = [five.clone(), eight.clone(), free_dish.clone()];
    let gs = [grant(1, &five), grant(2, &eight), grant(3, &free_dish)];
    // The item voucher (¥4) comes first, leaving ¥30: 满30减8 still applies; ¥5 cannot join it.
    let priced = best_with(&cart, &facts(), &[], &cs, &gs);
    assert_eq!(priced.breakdown.total, yuan(22));
    assert_eq!(
        priced.breakdown.chosen,
        vec![OfferRef::Coupon(gs[2].id), OfferRef::Coupon(gs[1].id)]
    );
    let refused = price_chosen(
        &cart,
        &facts(),
        offers(&[], &cs, &gs),
        &[OfferRef::Coupon(gs[0].id), OfferRef::Coupon(gs[1].id)],
    )
    .unwrap_err();
    assert_eq!(
        refused,
        PricingError::Refused(vec![Refusal {
            offer: OfferRef::Coupon(gs[1].id),
            reason: RefusalReason::OneCouponPerClass {
                with: OfferRef::Coupon(gs[0].id)
            },
        }])
    );
    let stacking = |c: &Coupon| {
        Coupon::new(CouponSpec {
            stacks_with_same_class: true,
            ..c.spec().clone()
        })
        .unwrap()
    };
    let cs = [stacking(&five), stacking(&eight), free_dish];
    let priced = best_with(&cart, &facts(), &[], &cs, &gs);
    assert_eq!(priced.breakdown.total, yuan(17));
}

#[test]
fn the_search_weighs_coupons_against_promotions() {
    // A coupon that does not combine with promotions, against a 满减 that does not want coupons.
    let tiers = promotion_with(
        1,
        spend_and_save(&[(50, 5), (100, 15)]),
        Conditions::always(),
        Stacking {
            exclusive: false,
            with_classes: ClassSet::of(&[Class::Item, Class::DeliveryFee]),
            with_rules: Vec::new(),
        },
    );
    let percent = Coupon::new(CouponSpec {
        stacking: Stacking {
            exclusive: false,
            with_classes: ClassSet::of(&[Class::Item]),
            with_rules: Vec::new(),
        },
        ..coupon(
            1,
            CouponBenefit::Percent {
                off: bp(2_000),
                cap: yuan(25),
                min_spend: yuan(60),
            },
        )
        .spec()
        .clone()
    })
    .unwrap();
    let g = grant(1, &percent);
    let ps = std::slice::from_ref(&tiers);
    let cs = std::slice::from_ref(&percent);
    let small = cart(vec![line(1, yuan(70), 1)]);
    // ¥70: 20 % is 14, the 满50 tier 5.
    let priced = best_with(&small, &facts(), ps, cs, &[g]);
    assert_eq!(priced.breakdown.chosen, vec![OfferRef::Coupon(g.id)]);
    assert_eq!(priced.breakdown.total, yuan(56));
    // ¥100: 20 % is 20, the 满100 tier 15: still the coupon.
    let large = cart(vec![line(1, yuan(100), 1)]);
    let priced = best_with(&large, &facts(), ps, cs, &[g]);
    assert_eq!(priced.breakdown.total, yuan(80));
    let tight = Coupon::new(CouponSpec {
        benefit: CouponBenefit::Percent {
            off: bp(1_000),
            cap: yuan(12),
            min_spend: yuan(60),
        },
        ..percent.spec().clone()
    })
    .unwrap();
    // A 10 % coupon capped at ¥12 gives 10 on ¥100: now the 满减 is better.
    let priced = best_with(&large, &facts(), ps, std::slice::from_ref(&tight), &[g]);
    assert_eq!(
        priced.breakdown.chosen,
        vec![OfferRef::Promotion(tiers.id())]
    );
    assert_eq!(priced.breakdown.total, yuan(85));
    assert_eq!(
        priced.not_applicable,
        Vec::<Refusal>::new(),
        "the coupon was in force, just not the best"
    );
}

#[test]
fn the_hint_names_a_threshold_coupon_within_reach() {
    let c = coupon(
        1,
        CouponBenefit::Threshold {
            min_spend: yuan(100),
            off: yuan(20),
        },
    );
    let g = grant(1, &c);
    let priced = best_with(
        &cart(vec![line(1, yuan(85), 1)]),
        &facts(),
        &[],
        std::slice::from_ref(&c),
        &[g],
    );
    let hint = priced.hint.expect("a coupon within reach");
    assert_eq!(hint.offer, OfferRef::Coupon(g.id));
    assert_eq!(hint.message_zh(), "再买 15 元减 20");
}

#[test]
fn templates_and_grants_keep_their_shape_as_json() {
    let c = coupon(
        1,
        CouponBenefit::Percent {
            off: bp(1_500),
            cap: yuan(30),
            min_spend: yuan(80),
        },
    );
    let json = serde_json::to_value(c.spec()).unwrap();
    assert_eq!(json["benefit"]["kind"], "percent");
    assert_eq!(json["benefit"]["off"], 1_500);
    assert_eq!(
        json["validity"],
        serde_json::json!({"kind": "days_after_claim", "days": 7})
    );
    assert_eq!(
        json["stacking"]["with_classes"],
        serde_json::json!(["item", "delivery_fee"])
    );
    let back: CouponSpec = serde_json::from_value(json).unwrap();
    assert_eq!(Coupon::new(back).unwrap(), c);
    let p = promotion(1, spend_and_save(&[(50, 5), (100, 15)]));
    let json = serde_json::to_value(p.spec()).unwrap();
    assert_eq!(json["benefit"]["kind"], "spend_and_save");
    assert_eq!(
        json["benefit"]["tiers"][1],
        serde_json::json!({"threshold": 10_000, "save": 1_500})
    );
    let back: PromotionSpec = serde_json::from_value(json).unwrap();
    assert_eq!(Promotion::new(back).unwrap(), p);
}
