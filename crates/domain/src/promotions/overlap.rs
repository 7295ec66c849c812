//! Set-up warnings for the console: pairs of promotions that are in force for the same orders
//! and either stack where the merchant probably did not mean them to, or shadow each other.
//! Advice only: the engine prices any valid set-up correctly either way.

use super::rules::{Class, Conditions, Promotion, PromotionBenefit};
use crate::ids::PromotionId;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OverlapKind {
    /// Two order discounts that combine: both come off the same orders.
    OrderDiscountsStack,
    /// Two promotions of one class that do not combine: a diner only ever gets the better one.
    ShadowedBySameClass,
    /// Two time-slot prices for one dish: only the lower one is ever charged.
    TwoPricesForOneDish,
}

impl OverlapKind {
    pub fn code(self) -> &'static str {
        match self {
            OverlapKind::OrderDiscountsStack => "ORDER_DISCOUNTS_STACK",
            OverlapKind::ShadowedBySameClass => "SHADOWED_BY_SAME_CLASS",
            OverlapKind::TwoPricesForOneDish => "TWO_PRICES_FOR_ONE_DISH",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverlapWarning {
    pub promotions: [PromotionId; 2],
    pub names: [String; 2],
    pub kind: OverlapKind,
}

impl OverlapWarning {
    pub fn message_zh(&self) -> String {
        let [a, b] = &self.names;
        match self.kind {
            OverlapKind::OrderDiscountsStack => {
                format!("「{a}」与「{b}」可以叠加，同一订单两项优惠都会减，请确认让利幅度")
            }
            OverlapKind::ShadowedBySameClass => {
                format!("「{a}」与「{b}」不可同享，顾客只会得到其中更优惠的一个")
            }
            OverlapKind::TwoPricesForOneDish => {
                format!("「{a}」与「{b}」为同一菜品设置了特价，只有较低的价格生效")
            }
        }
    }

    pub fn message_en(&self) -> String {
        let [a, b] = &self.names;
        match self.kind {
            OverlapKind::OrderDiscountsStack => {
                format!("“{a}” and “{b}” combine: both come off the same orders")
            }
            OverlapKind::ShadowedBySameClass => {
                format!("“{a}” and “{b}” do not combine: a diner only gets the better one")
            }
            OverlapKind::TwoPricesForOneDish => {
                format!("“{a}” and “{b}” both price the same dish: only the lower price applies")
            }
        }
    }
}

/// Whether some order could meet both sets of conditions (channels and stores; hours and the
/// diner's facts are taken to overlap, which errs towards warning).
fn may_meet_both(a: &Conditions, b: &Conditions) -> bool {
    let channels = a.channels.is_empty()
        || b.channels.is_empty()
        || a.channels.iter().any(|c| b.channels.contains(c));
    let stores =
        a.stores.is_empty() || b.stores.is_empty() || a.stores.iter().any(|s| b.stores.contains(s));
    channels && stores
}

fn slot_dish(promotion: &Promotion) -> Option<crate::ids::DishId> {
    match &promotion.spec().benefit {
        PromotionBenefit::SlotPrice { dish_id, .. } => Some(*dish_id),
        _ => None,
    }
}

/// Every pair of `promotions` worth a second look, in the order given.
pub fn overlap_warnings(promotions: &[Promotion]) -> Vec<OverlapWarning> {
    let mut warnings = Vec::new();
    for (i, a) in promotions.iter().enumerate() {
        for b in &promotions[i + 1..] {
            let (sa, sb) = (a.spec(), b.spec());
            if a.class() != b.class() || !may_meet_both(&sa.conditions, &sb.conditions) {
                continue;
            }
            let combine = sa
                .stacking
                .accepts(b.class(), super::rules::RuleRef::Promotion(b.id()))
                && sb
                    .stacking
                    .accepts(a.class(), super::rules::RuleRef::Promotion(a.id()));
            let kind = match (slot_dish(a), slot_dish(b)) {
                (Some(x), Some(y)) if x == y => Some(OverlapKind::TwoPricesForOneDish),
                _ if a.class() == Class::Order && combine => Some(OverlapKind::OrderDiscountsStack),
                _ if a.class() == Class::Order && !combine => {
                    Some(OverlapKind::ShadowedBySameClass)
                }
                _ => None,
            };
            if let Some(kind) = kind {
                warnings.push(OverlapWarning {
                    promotions: [a.id(), b.id()],
                    names: [sa.name.clone(), sb.name.clone()],
                    kind,
                });
            }
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Money;
    use crate::promotions::{ItemScope, PromotionSpec, Stacking, Tier};

    fn spend_and_save(name: &str, stacking: Stacking) -> Promotion {
        Promotion::new(PromotionSpec {
            id: PromotionId::new(),
            name: name.into(),
            conditions: Conditions::always(),
            benefit: PromotionBenefit::SpendAndSave {
                scope: ItemScope::everything(),
                tiers: vec![Tier {
                    threshold: Money::from_yuan(50),
                    save: Money::from_yuan(5),
                }],
            },
            stacking,
        })
        .expect("valid")
    }

    #[test]
    fn stacking_order_discounts_and_shadowed_ones_are_named() {
        let a = spend_and_save("满50减5", Stacking::with_everything());
        let b = spend_and_save("满50减6", Stacking::with_everything());
        let c = spend_and_save("满50减7", Stacking::with_other_classes(Class::Order));
        let warnings = overlap_warnings(&[a.clone(), b.clone(), c.clone()]);
        assert_eq!(warnings.len(), 3);
        assert_eq!(warnings[0].kind, OverlapKind::OrderDiscountsStack);
        assert_eq!(warnings[0].promotions, [a.id(), b.id()]);
        assert_eq!(warnings[1].kind, OverlapKind::ShadowedBySameClass);
        assert!(warnings[1].message_zh().contains("满50减7"));
    }

    #[test]
    fn promotions_for_different_channels_do_not_overlap() {
        let mut a = spend_and_save("外卖满减", Stacking::with_everything())
            .spec()
            .clone();
        a.conditions.channels = vec![crate::ordering::Channel::Delivery];
        let mut b = spend_and_save("堂食满减", Stacking::with_everything())
            .spec()
            .clone();
        b.conditions.channels = vec![crate::ordering::Channel::DineIn];
        let (a, b) = (Promotion::new(a).unwrap(), Promotion::new(b).unwrap());
        assert!(overlap_warnings(&[a, b]).is_empty());
    }
}
