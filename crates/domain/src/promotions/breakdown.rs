//! The priced result the diner and the ledgers see: every discount with its source, class,
//! amount and the lines it came off, and each line's share, which always sum exactly.

use super::cart::{Cart, OrderFacts};
use super::evaluate::Evaluation;
use super::offers::{Effect, Offer};
use super::refusal::{OfferRef, Refusal};
use super::rules::{Class, GiftItem};
use crate::ids::DishId;
use crate::money::Money;
use serde::Serialize;

/// The part of one discount that came off one cart line (by its index in the cart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LineShare {
    pub line: usize,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedDiscount {
    pub offer: OfferRef,
    pub name: String,
    pub class: Class,
    /// What it took off; for a gift, the gift's value (not taken off: the gift line is free).
    pub amount: Money,
    /// Item and order discounts: the lines it came off, summing exactly to `amount`.
    /// Empty for a delivery-fee discount and a gift.
    pub lines: Vec<LineShare>,
    pub gift: Option<GiftItem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PricedLine {
    pub dish_id: DishId,
    pub subtotal: Money,
    pub discount: Money,
    pub total: Money,
}

/// A gift line: at price zero, its value shown as the saving.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GiftLine {
    pub offer: OfferRef,
    pub item: GiftItem,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Breakdown {
    pub chosen: Vec<OfferRef>,
    pub lines: Vec<PricedLine>,
    pub gifts: Vec<GiftLine>,
    pub discounts: Vec<AppliedDiscount>,
    pub subtotal: Money,
    pub item_discount: Money,
    pub order_discount: Money,
    /// The cart after item and order discounts.
    pub goods_total: Money,
    pub delivery_fee: Money,
    pub delivery_discount: Money,
    /// What the diner pays for goods and delivery (other fees are the quote's business).
    pub total: Money,
    /// Everything saved, gifts at their value included: the number the checkout celebrates.
    pub saving: Money,
}

impl Breakdown {
    /// Reductions of the bill (gifts are free lines, not reductions).
    pub fn discount_total(&self) -> Money {
        self.item_discount + self.order_discount + self.delivery_discount
    }
}

/// What `best_price` and `price_chosen` hand back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Priced {
    pub breakdown: Breakdown,
    /// Offers that could not be used on this order and why (for "why not this coupon?").
    pub not_applicable: Vec<Refusal>,
    /// The nearest better threshold: "再买 8 元减 15".
    pub hint: Option<super::hint::ThresholdHint>,
    /// The search finished: no valid combination pays less. False for the diner's own pick,
    /// and when `MAX_EVALUATIONS` ran out first (the best found so far is returned).
    pub best_proven: bool,
}

pub(crate) fn breakdown(
    cart: &Cart,
    facts: &OrderFacts,
    offers: &[Offer<'_>],
    evaluation: &Evaluation,
) -> Breakdown {
    let mut discounts = Vec::new();
    let mut gifts = Vec::new();
    let mut item_discount = Money::ZERO;
    let mut order_discount = Money::ZERO;
    let mut delivery_discount = Money::ZERO;
    for applied in &evaluation.applied {
        let offer = &offers[applied.offer];
        let gift = match &offer.effect {
            Effect::Gift { gift, .. } if applied.gift => Some(gift.clone()),
            _ => None,
        };
        match (&gift, offer.class) {
            (Some(item), _) => gifts.push(GiftLine {
                offer: offer.key,
                item: item.clone(),
            }),
            (None, Class::Item) => item_discount += applied.amount,
            (None, Class::Order) => order_discount += applied.amount,
            (None, Class::DeliveryFee) => delivery_discount += applied.amount,
        }
        discounts.push(AppliedDiscount {
            offer: offer.key,
            name: offer.name.to_owned(),
            class: offer.class,
            amount: applied.amount,
            lines: applied
                .shares
                .iter()
                .map(|(line, amount)| LineShare {
                    line: *line,
                    amount: *amount,
                })
                .collect(),
            gift,
        });
    }
    let lines = cart
        .lines()
        .iter()
        .zip(&evaluation.amounts)
        .map(|(line, total)| PricedLine {
            dish_id: line.dish_id,
            subtotal: line.subtotal(),
            discount: line.subtotal() - *total,
            total: *total,
        })
        .collect();
    let subtotal = cart.subtotal();
    Breakdown {
        chosen: evaluation
            .applied
            .iter()
            .map(|a| offers[a.offer].key)
            .collect(),
        lines,
        gifts,
        discounts,
        subtotal,
        item_discount,
        order_discount,
        goods_total: subtotal - item_discount - order_discount,
        delivery_fee: facts.delivery_fee,
        delivery_discount,
        total: evaluation.pay,
        saving: evaluation.saving,
    }
}
