//! The cart bar's nudge: the smallest extra spend that reaches a better 满减 tier or a threshold
//! coupon the diner could use with what is already chosen ("再买 8 元减 15").

use super::cart::Cart;
use super::evaluate::{Chosen, Evaluation, is_chosen, share_of};
use super::offers::{Effect, Offer};
use super::refusal::OfferRef;
use crate::money::Money;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThresholdHint {
    pub offer: OfferRef,
    pub name: String,
    /// Spend at least this much more (at full price) ...
    pub needed: Money,
    /// ... and this offer gives this much in all (for a rate, what it gives at the threshold).
    pub gives: Money,
}

impl ThresholdHint {
    pub fn message_zh(&self) -> String {
        format!(
            "再买 {} 元减 {}",
            self.needed.to_yuan_string(),
            self.gives.to_yuan_string()
        )
    }

    pub fn message_en(&self) -> String {
        format!(
            "Spend ¥{} more to save ¥{}",
            self.needed.to_yuan_string(),
            self.gives.to_yuan_string()
        )
    }
}

pub(crate) fn next_threshold(
    cart: &Cart,
    offers: &[Offer<'_>],
    chosen: Chosen,
    evaluation: &Evaluation,
) -> Option<ThresholdHint> {
    let mut best: Option<ThresholdHint> = None;
    for (i, offer) in offers.iter().enumerate() {
        let usable = is_chosen(chosen, i)
            || (0..offers.len())
                .filter(|j| is_chosen(chosen, *j))
                .all(|j| offer.conflict_with(&offers[j]).is_none());
        if !usable {
            continue;
        }
        let base_of = |scope: &super::rules::ItemScope| -> Money {
            cart.lines()
                .iter()
                .zip(&evaluation.after_items)
                .filter(|(line, _)| scope.covers(line.dish_id, line.category_id))
                .map(|(_, m)| *m)
                .sum()
        };
        let now_gives = evaluation
            .applied
            .iter()
            .find(|a| a.offer == i)
            .map_or(Money::ZERO, |a| a.amount);
        let (needed, gives) = match &offer.effect {
            Effect::Tiers { scope, tiers } => {
                let base = base_of(scope);
                match tiers
                    .iter()
                    .find(|t| t.threshold > base && t.save > now_gives)
                {
                    Some(tier) => (tier.threshold - base, tier.save),
                    None => continue,
                }
            }
            Effect::OrderPercent {
                scope,
                off,
                cap,
                min_spend,
            } => {
                let base = base_of(scope);
                if base >= *min_spend {
                    continue;
                }
                let at_threshold = share_of(*min_spend, *off);
                (
                    *min_spend - base,
                    cap.map_or(at_threshold, |cap| at_threshold.min(cap)),
                )
            }
            _ => continue,
        };
        if gives == Money::ZERO {
            continue;
        }
        let better = best
            .as_ref()
            .is_none_or(|b| needed < b.needed || (needed == b.needed && gives > b.gives));
        if better {
            best = Some(ThresholdHint {
                offer: offer.key,
                name: offer.name.to_owned(),
                needed,
                gives,
            });
        }
    }
    best
}
