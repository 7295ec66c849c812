//! Applies one combination of offers to a cart in the documented order (see the module doc of
//! `promotions`) and says what the diner pays. The search calls this for every combination it
//! tries, so the optimum and the breakdown a diner sees come from the same arithmetic.

use super::cart::{Cart, CartLine, OrderFacts};
use super::offers::{Effect, Offer, PriceRule};
use super::refusal::RefusalReason;
use super::rules::{BasisPoints, FeeOff, ItemOff, ItemScope};
use crate::money::{Money, split_by_largest_remainder};

/// A set of offers as bits over their indices in the evaluation-ordered offer list.
pub(crate) type Chosen = u64;

pub(crate) fn is_chosen(chosen: Chosen, index: usize) -> bool {
    chosen >> index & 1 == 1
}

/// What one offer took off, and from which lines (none for the delivery fee).
#[derive(Debug, Clone)]
pub(crate) struct Applied {
    pub offer: usize,
    pub amount: Money,
    pub shares: Vec<(usize, Money)>,
    /// A gift: `amount` is its value, shown as a saving but never taken off the bill.
    pub gift: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Evaluation {
    /// Each line's amount after every discount.
    pub amounts: Vec<Money>,
    /// Each line's amount after the item class: what order-class thresholds are tested on.
    pub after_items: Vec<Money>,
    pub applied: Vec<Applied>,
    /// Offers in the combination that did nothing: such a combination is not valid.
    pub idle: Vec<(usize, RefusalReason)>,
    pub pay: Money,
    /// Everything the diner saves, gifts at their value included.
    pub saving: Money,
}

pub(crate) fn share_of(amount: Money, rate: BasisPoints) -> Money {
    // Amounts here are never negative and rates never above 100 %.
    amount.basis_points_floor(rate.get()).unwrap_or(Money::ZERO)
}

fn times(amount: Money, quantity: i64) -> Money {
    // Bounded by `Cart::new` (unit ≤ ¥100,000, quantity ≤ 99).
    Money::from_fen(amount.fen() * quantity)
}

fn covers(scope: &ItemScope, line: &CartLine) -> bool {
    scope.covers(line.dish_id, line.category_id)
}

impl PriceRule {
    fn price_for(&self, line: &CartLine) -> Option<Money> {
        match self {
            PriceRule::Slot { dish_id, price } => (*dish_id == line.dish_id).then_some(*price),
            PriceRule::Member(prices) => prices
                .iter()
                .filter(|(dish, _)| *dish == line.dish_id)
                .map(|(_, price)| *price)
                .min(),
            PriceRule::NearExpiry {
                scope,
                max_stock_left,
                pays,
            } => {
                let near = line.stock_left.is_some_and(|left| left <= *max_stock_left);
                // The saving is rounded down, so the price is rounded up: never a fen given away.
                (near && covers(scope, line))
                    .then(|| line.unit_price - share_of(line.unit_price, pays.complement()))
            }
        }
    }
}

/// Keeps what an offer took, or notes that it took nothing.
fn record(
    offer: usize,
    mut shares: Vec<(usize, Money)>,
    applied: &mut Vec<Applied>,
    idle: &mut Vec<(usize, RefusalReason)>,
) {
    let total: Money = shares.iter().map(|(_, m)| *m).sum();
    if total > Money::ZERO {
        if !shares.is_sorted_by_key(|(line, _)| *line) {
            shares.sort_by_key(|(line, _)| *line);
        }
        applied.push(Applied {
            offer,
            amount: total,
            shares: shares
                .into_iter()
                .filter(|(_, m)| *m > Money::ZERO)
                .collect(),
            gift: false,
        });
    } else {
        idle.push((offer, RefusalReason::NothingToDiscount));
    }
}

pub(crate) fn evaluate(
    cart: &Cart,
    facts: &OrderFacts,
    offers: &[Offer<'_>],
    chosen: Chosen,
) -> Evaluation {
    let lines = cart.lines();
    let mut unit: Vec<Money> = lines.iter().map(|l| l.unit_price).collect();
    let mut amount: Vec<Money> = lines.iter().map(CartLine::subtotal).collect();
    let mut applied = Vec::with_capacity(chosen.count_ones() as usize);
    let mut idle = Vec::new();
    let in_stage = |stages: std::ops::RangeInclusive<u8>| {
        (0..offers.len())
            .filter(move |i| is_chosen(chosen, *i) && stages.contains(&offers[*i].effect.stage()))
    };

    // Prices: the lowest price any chosen rule sets for a line wins that line (ties to the first).
    if in_stage(0..=0).next().is_some() {
        let price_rules: Vec<usize> = in_stage(0..=0).collect();
        let mut shares: Vec<Vec<(usize, Money)>> = vec![Vec::new(); price_rules.len()];
        for (li, line) in lines.iter().enumerate() {
            let mut best: Option<(usize, Money)> = None;
            for (k, &oi) in price_rules.iter().enumerate() {
                let Effect::Price(rule) = &offers[oi].effect else {
                    continue;
                };
                if let Some(price) = rule.price_for(line)
                    && price < best.map_or(unit[li], |(_, p)| p)
                {
                    best = Some((k, price));
                }
            }
            if let Some((k, price)) = best {
                shares[k].push((li, times(line.unit_price - price, line.quantity)));
                unit[li] = price;
                amount[li] = times(price, line.quantity);
            }
        }
        for (k, shares) in shares.into_iter().enumerate() {
            record(price_rules[k], shares, &mut applied, &mut idle);
        }
    }

    for oi in in_stage(1..=3) {
        let mut shares = Vec::with_capacity(lines.len());
        match &offers[oi].effect {
            Effect::Nth { scope, nth, pays } => {
                let nth = *nth as i64;
                let mut seen = Vec::new();
                for (first, line) in lines.iter().enumerate() {
                    if !covers(scope, line) || seen.contains(&line.dish_id) {
                        continue;
                    }
                    seen.push(line.dish_id);
                    // The dish's units, dearest first, so "every Nth" is the cheaper of each group.
                    let mut group: Vec<usize> = (first..lines.len())
                        .filter(|i| lines[*i].dish_id == line.dish_id)
                        .collect();
                    group.sort_by(|a, b| unit[*b].cmp(&unit[*a]));
                    let mut position = 0;
                    for li in group {
                        let q = lines[li].quantity;
                        let discounted = (position + q) / nth - position / nth;
                        position += q;
                        let off = times(share_of(unit[li], pays.complement()), discounted)
                            .min(amount[li]);
                        if off > Money::ZERO {
                            amount[li] = amount[li] - off;
                            shares.push((li, off));
                        }
                    }
                }
            }
            Effect::ItemOff { scope, off } => {
                for (li, line) in lines.iter().enumerate() {
                    if !covers(scope, line) {
                        continue;
                    }
                    let taken = match off {
                        ItemOff::Percent { off } => share_of(amount[li], *off),
                        ItemOff::PerUnit { amount: per_unit } => {
                            times(*per_unit, line.quantity).min(amount[li])
                        }
                    };
                    amount[li] = amount[li] - taken;
                    shares.push((li, taken));
                }
            }
            Effect::Voucher { dish_id, pays } => {
                // One unit: the dearest of the dish, at what it still costs after earlier discounts.
                let best = lines
                    .iter()
                    .enumerate()
                    .filter(|(_, line)| line.dish_id == *dish_id)
                    .map(|(li, line)| {
                        let per_unit = Money::from_fen(amount[li].fen() / line.quantity);
                        (li, (per_unit - *pays).max(Money::ZERO))
                    })
                    .fold(None, |best: Option<(usize, Money)>, (li, off)| match best {
                        Some((_, b)) if b >= off => best,
                        _ => Some((li, off)),
                    });
                if let Some((li, off)) = best {
                    amount[li] = amount[li] - off;
                    shares.push((li, off));
                }
            }
            _ => {}
        }
        record(oi, shares, &mut applied, &mut idle);
    }

    // Order class: every threshold and rate is taken on the amount after the item class, so
    // the order within the class does not change who qualifies; each discount is then spread
    // over what its lines still cost, which keeps every line at or above zero.
    let after_items = amount.clone();
    for oi in in_stage(4..=4) {
        let base_of = |scope: &ItemScope| -> Money {
            lines
                .iter()
                .zip(&after_items)
                .filter(|(line, _)| covers(scope, line))
                .map(|(_, m)| *m)
                .sum()
        };
        let (scope, wanted) = match &offers[oi].effect {
            Effect::Tiers { scope, tiers } => {
                let base = base_of(scope);
                match tiers.iter().rev().find(|t| t.threshold <= base) {
                    Some(tier) => (scope, tier.save.min(base)),
                    None => {
                        let short_by = tiers[0].threshold - base;
                        idle.push((oi, RefusalReason::ThresholdNotMet { short_by }));
                        continue;
                    }
                }
            }
            Effect::OrderPercent {
                scope,
                off,
                cap,
                min_spend,
            } => {
                let base = base_of(scope);
                if base < *min_spend {
                    let short_by = *min_spend - base;
                    idle.push((oi, RefusalReason::ThresholdNotMet { short_by }));
                    continue;
                }
                let off = share_of(base, *off);
                (scope, cap.map_or(off, |cap| off.min(cap)))
            }
            Effect::Gift { min_spend, gift } => {
                let base: Money = after_items.iter().copied().sum();
                if base < *min_spend {
                    let short_by = *min_spend - base;
                    idle.push((oi, RefusalReason::ThresholdNotMet { short_by }));
                } else {
                    applied.push(Applied {
                        offer: oi,
                        amount: gift.value,
                        shares: Vec::new(),
                        gift: true,
                    });
                }
                continue;
            }
            _ => continue,
        };
        let in_scope: Vec<usize> = (0..lines.len())
            .filter(|li| covers(scope, &lines[*li]))
            .collect();
        let weights: Vec<Money> = in_scope.iter().map(|li| amount[*li]).collect();
        let capacity: Money = weights.iter().copied().sum();
        let taken = wanted.min(capacity);
        let split = split_by_largest_remainder(taken, &weights)
            .expect("taken is within the lines' capacity");
        let shares = in_scope
            .iter()
            .zip(split)
            .map(|(li, share)| {
                amount[*li] = amount[*li] - share;
                (*li, share)
            })
            .collect();
        record(oi, shares, &mut applied, &mut idle);
    }

    // Delivery fee: thresholds on the goods after every item and order discount.
    let goods: Money = amount.iter().copied().sum();
    let mut fee_left = facts.delivery_fee;
    for oi in in_stage(5..=5) {
        let Effect::Fee { off, min_spend } = &offers[oi].effect else {
            continue;
        };
        if goods < *min_spend {
            let short_by = *min_spend - goods;
            idle.push((oi, RefusalReason::ThresholdNotMet { short_by }));
            continue;
        }
        let taken = match off {
            FeeOff::Free => fee_left,
            FeeOff::Fixed { amount } => (*amount).min(fee_left),
        };
        fee_left = fee_left - taken;
        if taken > Money::ZERO {
            applied.push(Applied {
                offer: oi,
                amount: taken,
                shares: Vec::new(),
                gift: false,
            });
        } else {
            idle.push((oi, RefusalReason::NothingToDiscount));
        }
    }

    let pay = goods + fee_left;
    let gifts: Money = applied.iter().filter(|a| a.gift).map(|a| a.amount).sum();
    let saving = cart.subtotal() + facts.delivery_fee - pay + gifts;
    Evaluation {
        amounts: amount,
        after_items,
        applied,
        idle,
        pay,
        saving,
    }
}
