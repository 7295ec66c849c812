//! Chooses the combination of offers that minimises what the diner pays, exactly: a branch and
//! bound over the offers in force, pruned by an upper bound on what the offers still open could
//! take off. Also prices a combination the diner picked, or says why it cannot be used.

use super::breakdown::{Priced, breakdown};
use super::cart::{Cart, OrderFacts};
use super::coupons::{Coupon, CouponGrant};
use super::evaluate::{Chosen, Evaluation, evaluate, is_chosen};
use super::hint::next_threshold;
use super::offers::{Offer, offers_in_force};
use super::refusal::{OfferRef, Refusal, RefusalReason};
use super::rules::Promotion;
use crate::money::Money;
use crate::validation::FieldErrors;

/// Active promotions one order may meet; a brand with more has a set-up problem, not a sale.
pub const MAX_PROMOTIONS: usize = 32;
/// Coupons one diner may bring to one order.
pub const MAX_GRANTS: usize = 32;

/// The most combinations one search evaluates (1–5 µs each in a release build). Real set-ups
/// need far fewer (10 promotions and 10 coupons: under 100), but twenty stackable percentages
/// that compound defeat the bound and would need a million: then the quote returns the best
/// found so far, flagged as not proven, rather than hold the request for seconds.
pub const MAX_EVALUATIONS: u64 = 20_000;

/// Beyond this many offers in force, trying every subset would not finish in a test run.
pub const BRUTE_FORCE_MAX_OFFERS: usize = 20;

/// Everything that could apply: the store's active promotions, the coupon templates the
/// diner's grants refer to, and the diner's grants.
#[derive(Debug, Clone, Copy)]
pub struct Offers<'a> {
    pub promotions: &'a [Promotion],
    pub coupons: &'a [Coupon],
    pub grants: &'a [CouponGrant],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("too many promotions or coupons")]
    TooManyOffers { max: usize },
    #[error("the order facts are invalid: {0}")]
    InvalidFacts(FieldErrors),
    /// The diner's chosen combination cannot be used, with a reason per offer.
    #[error("the chosen offers cannot be used together")]
    Refused(Vec<Refusal>),
}

impl PricingError {
    pub fn code(&self) -> &'static str {
        match self {
            PricingError::TooManyOffers { .. } => "TOO_MANY_OFFERS",
            PricingError::InvalidFacts(_) => "VALIDATION_FAILED",
            PricingError::Refused(_) => "OFFERS_REFUSED",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            PricingError::TooManyOffers { max } => format!("优惠或优惠券不能超过 {max} 个"),
            PricingError::InvalidFacts(_) => "订单信息有误".into(),
            PricingError::Refused(_) => "所选优惠无法同时使用".into(),
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            PricingError::TooManyOffers { max } => {
                format!("At most {max} promotions and {max} coupons")
            }
            PricingError::InvalidFacts(errors) => format!("The order is invalid: {errors}"),
            PricingError::Refused(_) => "The chosen offers cannot be used together".into(),
        }
    }
}

/// The offers in force with what is known about them before any search.
struct Prepared<'a> {
    offers: Vec<Offer<'a>>,
    refusals: Vec<Refusal>,
    /// Bit j of entry i: offers i and j cannot go together.
    conflicts: Vec<Chosen>,
}

fn prepare<'a>(facts: &OrderFacts, offers: Offers<'a>) -> Result<Prepared<'a>, PricingError> {
    facts.validate().map_err(PricingError::InvalidFacts)?;
    if offers.promotions.len() > MAX_PROMOTIONS || offers.grants.len() > MAX_GRANTS {
        return Err(PricingError::TooManyOffers {
            max: MAX_PROMOTIONS,
        });
    }
    let (in_force, refusals) =
        offers_in_force(facts, offers.promotions, offers.coupons, offers.grants);
    let conflicts = in_force
        .iter()
        .enumerate()
        .map(|(i, a)| {
            in_force
                .iter()
                .enumerate()
                .filter(|(j, b)| {
                    i != *j && (a.conflict_with(b).is_some() || b.conflict_with(a).is_some())
                })
                .fold(0, |bits, (j, _)| bits | 1 << j)
        })
        .collect();
    Ok(Prepared {
        offers: in_force,
        refusals,
        conflicts,
    })
}

/// Better is: pays less; then saves more (a gift counts); then spends fewer coupons.
type Key = (Money, i64, u32);

fn key(evaluation: &Evaluation, coupons: u32) -> Key {
    (evaluation.pay, -evaluation.saving.fen(), coupons)
}

struct Search<'s, 'a> {
    cart: &'s Cart,
    facts: &'s OrderFacts,
    prepared: &'s Prepared<'a>,
    /// Offers worth trying, most promising first so a good incumbent prunes early.
    order: Vec<usize>,
    /// What each offer takes off the bill on its own: no combination gets more from it, because
    /// every discount is rounded down and only shrinks when earlier ones lower its base.
    alone_off: Vec<Money>,
    alone_saving: Vec<Money>,
    best: (Key, Chosen),
    evaluations: u64,
    budget: u64,
    /// The budget ran out before every branch was closed.
    cut_short: bool,
}

impl Search<'_, '_> {
    fn descend(
        &mut self,
        position: usize,
        chosen: Chosen,
        pay: Money,
        saving: Money,
        coupons: u32,
    ) {
        let Some(&next) = self.order.get(position) else {
            return;
        };
        let conflicts = &self.prepared.conflicts;
        let (mut could_take, mut could_save) = (Money::ZERO, Money::ZERO);
        for &j in &self.order[position..] {
            if conflicts[j] & chosen == 0 {
                could_take += self.alone_off[j];
                could_save += self.alone_saving[j];
            }
        }
        let bound = (pay - could_take, -(saving + could_save).fen(), coupons);
        if bound >= self.best.0 {
            return;
        }
        if conflicts[next] & chosen == 0 {
            if self.evaluations >= self.budget {
                self.cut_short = true;
                return;
            }
            let with = chosen | 1 << next;
            let evaluation = evaluate(self.cart, self.facts, &self.prepared.offers, with);
            self.evaluations += 1;
            // An offer that does nothing here does nothing in any larger set either (discounts
            // only shrink as more come before them), so the whole branch is invalid.
            if evaluation.idle.is_empty() {
                let coupons = coupons + self.prepared.offers[next].coupon_stacks.is_some() as u32;
                let found = key(&evaluation, coupons);
                if found < self.best.0 {
                    self.best = (found, with);
                }
                self.descend(
                    position + 1,
                    with,
                    evaluation.pay,
                    evaluation.saving,
                    coupons,
                );
            }
        }
        self.descend(position + 1, chosen, pay, saving, coupons);
    }
}

fn priced(
    cart: &Cart,
    facts: &OrderFacts,
    prepared: &Prepared<'_>,
    chosen: Chosen,
    mut not_applicable: Vec<Refusal>,
    best_proven: bool,
) -> Priced {
    let evaluation = evaluate(cart, facts, &prepared.offers, chosen);
    not_applicable.extend(prepared.refusals.iter().copied());
    Priced {
        breakdown: breakdown(cart, facts, &prepared.offers, &evaluation),
        not_applicable,
        hint: next_threshold(cart, &prepared.offers, chosen, &evaluation),
        best_proven,
    }
}

/// The best price for the diner within the stacking rules, with the breakdown, the offers
/// that could not be used and why, and the next threshold worth reaching.
pub fn best_price(
    cart: &Cart,
    facts: &OrderFacts,
    offers: Offers<'_>,
) -> Result<Priced, PricingError> {
    best_price_counted(cart, facts, offers, MAX_EVALUATIONS).map(|(priced, _)| priced)
}

/// `best_price` with its own evaluation budget, and how many combinations it evaluated (for
/// the benchmark and the tests).
pub fn best_price_counted(
    cart: &Cart,
    facts: &OrderFacts,
    offers: Offers<'_>,
    max_evaluations: u64,
) -> Result<(Priced, u64), PricingError> {
    let prepared = prepare(facts, offers)?;
    let none = evaluate(cart, facts, &prepared.offers, 0);
    let mut idle_alone = Vec::new();
    let mut alone_off = vec![Money::ZERO; prepared.offers.len()];
    let mut alone_saving = vec![Money::ZERO; prepared.offers.len()];
    let mut order = Vec::new();
    for i in 0..prepared.offers.len() {
        let alone = evaluate(cart, facts, &prepared.offers, 1 << i);
        match alone.idle.first() {
            // Useless on its own is useless in company: not worth a branch.
            Some((_, reason)) => idle_alone.push(Refusal {
                offer: prepared.offers[i].key,
                reason: *reason,
            }),
            None => {
                alone_off[i] = none.pay - alone.pay;
                alone_saving[i] = alone.saving;
                order.push(i);
            }
        }
    }
    order.sort_by(|a, b| (alone_off[*b], alone_saving[*b]).cmp(&(alone_off[*a], alone_saving[*a])));
    let mut search = Search {
        cart,
        facts,
        prepared: &prepared,
        order,
        alone_off,
        alone_saving,
        best: (key(&none, 0), 0),
        evaluations: prepared.offers.len() as u64 + 1,
        budget: max_evaluations,
        cut_short: false,
    };
    search.descend(0, 0, none.pay, none.saving, 0);
    let (best, evaluations, proven) = (search.best.1, search.evaluations, !search.cut_short);
    Ok((
        priced(cart, facts, &prepared, best, idle_alone, proven),
        evaluations,
    ))
}

/// The same answer by trying every subset of the offers in force. Exponential: it exists to
/// check `best_price` in tests and has no other use.
pub fn brute_force_best_price(
    cart: &Cart,
    facts: &OrderFacts,
    offers: Offers<'_>,
) -> Result<Priced, PricingError> {
    let prepared = prepare(facts, offers)?;
    let n = prepared.offers.len();
    if n > BRUTE_FORCE_MAX_OFFERS {
        return Err(PricingError::TooManyOffers {
            max: BRUTE_FORCE_MAX_OFFERS,
        });
    }
    let mut best: Option<(Key, Chosen)> = None;
    for chosen in 0..(1u64 << n) {
        let clash = (0..n).any(|i| is_chosen(chosen, i) && prepared.conflicts[i] & chosen != 0);
        if clash {
            continue;
        }
        let evaluation = evaluate(cart, facts, &prepared.offers, chosen);
        if !evaluation.idle.is_empty() {
            continue;
        }
        let coupons = (0..n)
            .filter(|i| is_chosen(chosen, *i) && prepared.offers[*i].coupon_stacks.is_some())
            .count() as u32;
        let found = key(&evaluation, coupons);
        if best.is_none_or(|(b, _)| found < b) {
            best = Some((found, chosen));
        }
    }
    let (_, chosen) = best.expect("the empty combination is always valid");
    Ok(priced(cart, facts, &prepared, chosen, Vec::new(), true))
}

/// Prices exactly the offers the diner picked, or refuses with a reason for each one that
/// cannot be used (not in force, not combinable, or doing nothing for this cart).
pub fn price_chosen(
    cart: &Cart,
    facts: &OrderFacts,
    offers: Offers<'_>,
    picks: &[OfferRef],
) -> Result<Priced, PricingError> {
    let prepared = prepare(facts, offers)?;
    let mut refusals = Vec::new();
    let mut chosen: Chosen = 0;
    for (n, pick) in picks.iter().enumerate() {
        if picks[..n].contains(pick) {
            refusals.push(Refusal {
                offer: *pick,
                reason: RefusalReason::ChosenTwice,
            });
            continue;
        }
        let Some(index) = prepared.offers.iter().position(|o| o.key == *pick) else {
            let reason = prepared
                .refusals
                .iter()
                .find(|r| r.offer == *pick)
                .map_or(RefusalReason::UnknownOffer, |r| r.reason);
            refusals.push(Refusal {
                offer: *pick,
                reason,
            });
            continue;
        };
        let offer = &prepared.offers[index];
        let clash = (0..prepared.offers.len())
            .filter(|j| is_chosen(chosen, *j))
            .find_map(|j| offer.conflict_with(&prepared.offers[j]));
        match clash {
            Some(reason) => refusals.push(Refusal {
                offer: *pick,
                reason,
            }),
            None => chosen |= 1 << index,
        }
    }
    if refusals.is_empty() {
        let evaluation = evaluate(cart, facts, &prepared.offers, chosen);
        refusals.extend(evaluation.idle.iter().map(|(i, reason)| Refusal {
            offer: prepared.offers[*i].key,
            reason: *reason,
        }));
    }
    if !refusals.is_empty() {
        return Err(PricingError::Refused(refusals));
    }
    let unchosen = prepared
        .refusals
        .iter()
        .copied()
        .filter(|r| !picks.contains(&r.offer))
        .collect::<Vec<_>>();
    // The diner's own pick: priced as asked, with no claim that it is the best.
    let mut priced = priced(cart, facts, &prepared, chosen, Vec::new(), false);
    priced.not_applicable = unchosen;
    Ok(priced)
}
