//! Properties over random carts and rule sets: the ledgers are exact whatever the rules, and the
//! search's choice is as good as the best of every valid combination found by brute force.
//! `PROPTEST_CASES` raises or lowers the number of cases (defaults keep the run to seconds).

use super::*;
use proptest::prelude::*;

/// A small deterministic generator: one proptest seed becomes a whole scenario, and a failure
/// prints the seed that rebuilds it.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        // SplitMix64.
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// Amounts in fen, often round (merchants' numbers), sometimes odd (to stress rounding).
    fn amount(&mut self, max_yuan: u64) -> Money {
        if self.chance(60) {
            yuan(self.below(max_yuan) as i64 + 1)
        } else {
            fen(self.below(max_yuan * 100) as i64 + 1)
        }
    }

    fn rate(&mut self) -> BasisPoints {
        bp(self.below(9_999) as u16 + 1)
    }
}

const DISHES: u64 = 4;

fn scope(dice: &mut Dice) -> ItemScope {
    match dice.below(3) {
        0 => ItemScope::everything(),
        1 => ItemScope::dishes(&[dish(dice.below(DISHES) as u128)]),
        _ => ItemScope::categories(&[category(dice.below(2) as u128)]),
    }
}

fn stacking(dice: &mut Dice, rules: &[RuleRef]) -> Stacking {
    if dice.chance(10) {
        return Stacking::exclusive();
    }
    let classes: Vec<Class> = [Class::Item, Class::Order, Class::DeliveryFee]
        .into_iter()
        .filter(|_| dice.chance(70))
        .collect();
    Stacking {
        exclusive: false,
        with_classes: ClassSet::of(&classes),
        with_rules: rules.iter().copied().filter(|_| dice.chance(30)).collect(),
    }
}

fn conditions(dice: &mut Dice) -> Conditions {
    Conditions {
        channels: if dice.chance(20) {
            vec![Channel::Delivery]
        } else {
            Vec::new()
        },
        min_member_level: dice.chance(15).then_some(MemberLevel(2)),
        first_order_only: dice.chance(10),
        min_diners: dice.chance(10).then_some(3),
        ..Conditions::always()
    }
}

fn tiers(dice: &mut Dice) -> Vec<Tier> {
    let mut tiers = Vec::new();
    let (mut threshold, mut save) = (Money::ZERO, Money::ZERO);
    for _ in 0..dice.below(3) + 1 {
        threshold += dice.amount(60) + yuan(1);
        save = (save + dice.amount(10)).min(threshold - fen(1));
        if tiers.last().is_some_and(|t: &Tier| t.save >= save) {
            break;
        }
        tiers.push(Tier { threshold, save });
    }
    tiers
}

fn benefit(dice: &mut Dice) -> (PromotionBenefit, Conditions) {
    let mut conditions = conditions(dice);
    let benefit = match dice.below(9) {
        0 => {
            conditions.schedule = window(Weekdays::ALL, "11:00", "14:00");
            PromotionBenefit::SlotPrice {
                dish_id: dish(dice.below(DISHES) as u128),
                price: fen(dice.below(4_000) as i64),
            }
        }
        1 => PromotionBenefit::MemberPrices {
            prices: (0..dice.below(2) + 1)
                .map(|level| MemberPrice {
                    level: MemberLevel(level as u8 + 1),
                    dish_id: dish(dice.below(DISHES) as u128),
                    price: fen(dice.below(4_000) as i64),
                })
                .collect::<Vec<_>>()
                .into_iter()
                .fold(Vec::new(), |mut rows: Vec<MemberPrice>, row| {
                    if !rows
                        .iter()
                        .any(|r| r.level == row.level && r.dish_id == row.dish_id)
                    {
                        rows.push(row);
                    }
                    rows
                }),
        },
        2 => PromotionBenefit::NearExpiry {
            scope: scope(dice),
            max_stock_left: dice.below(5) as i64 + 1,
            from: TimeOfDay::parse(if dice.chance(50) { "00:00" } else { "20:00" }).unwrap(),
            pays: bp(dice.below(9_999) as u16),
        },
        3 => PromotionBenefit::NthItem {
            scope: scope(dice),
            nth: dice.below(2) as u8 + 2,
            pays: bp(dice.below(9_999) as u16),
        },
        4 => PromotionBenefit::ItemDiscount {
            scope: scope(dice),
            off: if dice.chance(50) {
                ItemOff::Percent { off: dice.rate() }
            } else {
                ItemOff::PerUnit {
                    amount: dice.amount(10),
                }
            },
        },
        5 => PromotionBenefit::SpendAndSave {
            scope: scope(dice),
            tiers: tiers(dice),
        },
        6 => {
            let min_spend = if dice.chance(50) {
                Money::ZERO
            } else {
                dice.amount(80) + yuan(1)
            };
            let off = if dice.chance(50) {
                OrderOff::Percent {
                    off: dice.rate(),
                    cap: dice.chance(50).then(|| dice.amount(30)),
                }
            } else {
                let amount = dice.amount(20);
                OrderOff::Fixed {
                    amount: if min_spend > Money::ZERO {
                        amount.min(min_spend - fen(1))
                    } else {
                        amount
                    },
                }
            };
            PromotionBenefit::OrderDiscount { off, min_spend }
        }
        7 => PromotionBenefit::Gift {
            min_spend: dice.amount(100),
            gift: GiftItem {
                dish_id: dish(9),
                name: "赠品".into(),
                value: dice.amount(15),
            },
        },
        _ => PromotionBenefit::DeliveryFeeOff {
            off: if dice.chance(50) {
                FeeOff::Free
            } else {
                FeeOff::Fixed {
                    amount: dice.amount(8),
                }
            },
            min_spend: if dice.chance(50) {
                Money::ZERO
            } else {
                dice.amount(80)
            },
        },
    };
    (benefit, conditions)
}

fn coupon_benefit(dice: &mut Dice) -> CouponBenefit {
    match dice.below(5) {
        0 => CouponBenefit::NoThreshold {
            off: dice.amount(20),
        },
        1 => {
            let min_spend = dice.amount(80) + yuan(1);
            CouponBenefit::Threshold {
                min_spend,
                off: dice.amount(30).min(min_spend - fen(1)),
            }
        }
        2 => CouponBenefit::Percent {
            off: dice.rate(),
            cap: dice.amount(30),
            min_spend: if dice.chance(50) {
                Money::ZERO
            } else {
                dice.amount(60)
            },
        },
        3 => CouponBenefit::ItemVoucher {
            dish_id: dish(dice.below(DISHES) as u128),
            pays: if dice.chance(50) {
                Money::ZERO
            } else {
                fen(dice.below(1_500) as i64)
            },
        },
        _ => CouponBenefit::DeliveryFee {
            off: FeeOff::Fixed {
                amount: dice.amount(8),
            },
            min_spend: Money::ZERO,
        },
    }
}

struct Scenario {
    cart: Cart,
    facts: OrderFacts,
    promotions: Vec<Promotion>,
    coupons: Vec<Coupon>,
    grants: Vec<CouponGrant>,
}

impl Scenario {
    fn offers(&self) -> Offers<'_> {
        offers(&self.promotions, &self.coupons, &self.grants)
    }
}

fn scenario(seed: u64, max_lines: u64, max_promotions: u64, max_coupons: u64) -> Scenario {
    let dice = &mut Dice(seed);
    let lines = (0..dice.below(max_lines) + 1)
        .map(|_| {
            let d = dice.below(DISHES) as u128;
            CartLine {
                stock_left: dice.chance(50).then(|| dice.below(8) as i64),
                ..line(d, dice.amount(50), dice.below(4) as i64 + 1)
            }
        })
        .collect();
    let rules: Vec<RuleRef> = (0..max_promotions)
        .map(|n| RuleRef::Promotion(promotion_id(n as u128)))
        .chain((0..max_coupons).map(|n| RuleRef::Coupon(coupon_id(n as u128))))
        .collect();
    let promotions = (0..dice.below(max_promotions + 1))
        .map(|n| {
            let (benefit, conditions) = benefit(dice);
            let stacking = stacking(dice, &rules);
            promotion_with(n as u128, benefit, conditions, stacking)
        })
        .collect();
    let coupons: Vec<Coupon> = (0..dice.below(max_coupons + 1))
        .map(|n| {
            let stacking = stacking(dice, &rules);
            Coupon::new(CouponSpec {
                stacks_with_same_class: dice.chance(30),
                stacking,
                scope: scope(dice),
                ..coupon(n as u128, coupon_benefit(dice)).spec().clone()
            })
            .expect("valid coupon")
        })
        .collect();
    let grants = coupons
        .iter()
        .enumerate()
        .map(|(n, c)| CouponGrant {
            state: if dice.chance(10) {
                GrantState::Redeemed
            } else {
                GrantState::Available
            },
            ..grant(n as u128, c)
        })
        .collect();
    let delivery = dice.chance(40);
    let facts = OrderFacts {
        channel: if delivery {
            Channel::Delivery
        } else {
            Channel::DineIn
        },
        local_time: date(2026, 12, 2).at(dice.below(24) as i8, 0, 0, 0),
        member_level: dice
            .chance(50)
            .then(|| MemberLevel(dice.below(3) as u8 + 1)),
        first_order: dice.chance(50),
        diners: dice.below(5) as i64 + 1,
        delivery_fee: if delivery {
            dice.amount(10)
        } else {
            Money::ZERO
        },
        ..facts()
    };
    Scenario {
        cart: Cart::new(lines).expect("valid cart"),
        facts,
        promotions,
        coupons,
        grants,
    }
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn coupons_spent(breakdown: &Breakdown) -> usize {
    breakdown
        .chosen
        .iter()
        .filter(|o| matches!(o, OfferRef::Coupon(_)))
        .count()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(1_000)))]

    #[test]
    fn the_search_is_never_worse_than_any_valid_combination(seed in any::<u64>()) {
        let s = scenario(seed, 6, 6, 4);
        let chosen = best_price(&s.cart, &s.facts, s.offers()).unwrap();
        let reference = brute_force_best_price(&s.cart, &s.facts, s.offers()).unwrap();
        prop_assert!(chosen.best_proven && reference.best_proven);
        let (b, r) = (&chosen.breakdown, &reference.breakdown);
        prop_assert_eq!(b.total, r.total, "seed {}: {:?} vs {:?}", seed, b.chosen, r.chosen);
        prop_assert_eq!(b.saving, r.saving, "seed {}", seed);
        prop_assert_eq!(coupons_spent(b), coupons_spent(r), "seed {}", seed);
        assert_ledgers_exact(&s.cart, b);
        // What the search chose is a combination the diner could have picked by hand.
        let again = price_chosen(&s.cart, &s.facts, s.offers(), &b.chosen).unwrap();
        prop_assert_eq!(&again.breakdown, b);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(5_000)))]

    #[test]
    fn discounts_stay_within_the_subtotal_and_line_shares_sum_exactly(seed in any::<u64>()) {
        let s = scenario(seed, 20, 10, 10);
        let priced = best_price(&s.cart, &s.facts, s.offers()).unwrap();
        assert_ledgers_exact(&s.cart, &priced.breakdown);
        prop_assert!(priced.breakdown.discount_total() <= priced.breakdown.subtotal + priced.breakdown.delivery_fee);
        if let Some(hint) = &priced.hint {
            prop_assert!(hint.needed > Money::ZERO && hint.gives > Money::ZERO);
        }
    }
}
