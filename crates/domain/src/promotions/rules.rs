//! Promotions as the merchant sets them up: what each gives, when it is in force and what it
//! combines with. A `Promotion` is valid by construction; `PromotionSpec` is the form it comes in.

use crate::ids::{CategoryId, CouponId, DishId, PromotionId, StoreId};
use crate::money::{MAX_ITEM_PRICE, Money};
use crate::ordering::Channel;
use crate::schedule::{Schedule, TimeOfDay};
use crate::text::{Lines, check_text};
use crate::validation::{FieldErrors, Problem};
use serde::{Deserialize, Serialize};

pub const MAX_NAME_CHARS: usize = 40;
/// Dishes or categories one rule may name; more is a data-entry slip, not a promotion.
pub const MAX_SCOPE_ENTRIES: usize = 200;
pub const MAX_TIERS: usize = 10;
pub const MAX_MEMBER_PRICES: usize = 500;
/// The largest order-level amount a rule may name (a threshold, an amount off): ¥100,000.
pub const MAX_RULE_AMOUNT: Money = MAX_ITEM_PRICE;

/// A rate in basis points: 10_000 is 100 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BasisPoints(u16);

impl BasisPoints {
    pub const FULL: BasisPoints = BasisPoints(10_000);

    /// At most 100 %.
    pub fn new(bp: u16) -> Option<BasisPoints> {
        (bp <= 10_000).then_some(BasisPoints(bp))
    }

    pub fn get(self) -> u32 {
        self.0 as u32
    }

    /// What is left when this share is taken off: 70 % paid is 30 % off.
    pub fn complement(self) -> BasisPoints {
        BasisPoints(10_000 - self.0)
    }
}

/// Which part of the bill a promotion or coupon works on. The classes are also the
/// evaluation order: every item-class discount comes before every order-class one, and the
/// delivery fee comes last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Item,
    Order,
    DeliveryFee,
}

impl Class {
    fn bit(self) -> u8 {
        match self {
            Class::Item => 1,
            Class::Order => 2,
            Class::DeliveryFee => 4,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Class::Item => "单品优惠",
            Class::Order => "订单优惠",
            Class::DeliveryFee => "配送费优惠",
        }
    }
}

/// A set of classes, serialized as a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ClassSet(u8);

impl ClassSet {
    pub const NONE: ClassSet = ClassSet(0);
    pub const ALL: ClassSet = ClassSet(7);

    pub fn of(classes: &[Class]) -> ClassSet {
        ClassSet(classes.iter().fold(0, |bits, c| bits | c.bit()))
    }

    pub fn contains(self, class: Class) -> bool {
        self.0 & class.bit() != 0
    }

    pub fn classes(self) -> Vec<Class> {
        [Class::Item, Class::Order, Class::DeliveryFee]
            .into_iter()
            .filter(|c| self.contains(*c))
            .collect()
    }
}

impl Serialize for ClassSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.classes().serialize(s)
    }
}

impl<'de> Deserialize<'de> for ClassSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(ClassSet::of(&Vec::<Class>::deserialize(d)?))
    }
}

/// A promotion or coupon template, named the way stacking rules name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum RuleRef {
    Promotion(PromotionId),
    Coupon(CouponId),
}

/// What a promotion or coupon combines with. Two offers go together only when each accepts
/// the other (by class or by name) and neither is exclusive: one side cannot force itself on
/// a promotion that was set up to stand alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stacking {
    /// Combines with nothing at all.
    #[serde(default)]
    pub exclusive: bool,
    /// Offers of these classes are welcome alongside.
    pub with_classes: ClassSet,
    /// These named offers are welcome alongside whatever their class.
    #[serde(default)]
    pub with_rules: Vec<RuleRef>,
}

impl Stacking {
    /// Combines with every other class (but not with offers of its own class unless listed).
    pub fn with_other_classes(own: Class) -> Stacking {
        Stacking {
            exclusive: false,
            with_classes: ClassSet(ClassSet::ALL.0 & !own.bit()),
            with_rules: Vec::new(),
        }
    }

    pub fn with_everything() -> Stacking {
        Stacking {
            exclusive: false,
            with_classes: ClassSet::ALL,
            with_rules: Vec::new(),
        }
    }

    pub fn exclusive() -> Stacking {
        Stacking {
            exclusive: true,
            with_classes: ClassSet::NONE,
            with_rules: Vec::new(),
        }
    }

    pub(crate) fn accepts(&self, class: Class, rule: RuleRef) -> bool {
        !self.exclusive && (self.with_classes.contains(class) || self.with_rules.contains(&rule))
    }

    fn validate(&self, errors: &mut FieldErrors) {
        if self.with_rules.len() > MAX_SCOPE_ENTRIES {
            errors.add(
                "stacking.with_rules",
                Problem::TooLarge {
                    max: MAX_SCOPE_ENTRIES as i64,
                },
            );
        }
    }
}

/// Which cart lines a rule looks at: the named dishes and every dish of the named categories.
/// Both empty means every line.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ItemScope {
    #[serde(default)]
    pub dishes: Vec<DishId>,
    #[serde(default)]
    pub categories: Vec<CategoryId>,
}

impl ItemScope {
    pub fn everything() -> ItemScope {
        ItemScope::default()
    }

    pub fn dishes(dishes: &[DishId]) -> ItemScope {
        ItemScope {
            dishes: dishes.to_vec(),
            categories: Vec::new(),
        }
    }

    pub fn categories(categories: &[CategoryId]) -> ItemScope {
        ItemScope {
            dishes: Vec::new(),
            categories: categories.to_vec(),
        }
    }

    pub fn is_everything(&self) -> bool {
        self.dishes.is_empty() && self.categories.is_empty()
    }

    pub fn covers(&self, dish: DishId, category: CategoryId) -> bool {
        self.is_everything() || self.dishes.contains(&dish) || self.categories.contains(&category)
    }

    pub(crate) fn validate(&self, errors: &mut FieldErrors, field: &str) {
        for (name, len) in [
            ("dishes", self.dishes.len()),
            ("categories", self.categories.len()),
        ] {
            if len > MAX_SCOPE_ENTRIES {
                errors.add(
                    format!("{field}.{name}"),
                    Problem::TooLarge {
                        max: MAX_SCOPE_ENTRIES as i64,
                    },
                );
            }
        }
    }
}

/// A member's level as its rank in the brand's ladder (1 = 青铜, 2 = 白银, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MemberLevel(pub u8);

/// When a promotion or coupon is in force, from the facts of the order alone (never from the
/// cart's amounts: those are thresholds, tested during evaluation). Empty lists mean "any".
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Conditions {
    #[serde(default)]
    pub channels: Vec<Channel>,
    #[serde(default)]
    pub stores: Vec<StoreId>,
    /// Weekdays and local HH:MM ranges; empty means at every hour.
    #[serde(default)]
    pub schedule: Schedule,
    /// Members at this level or above only.
    #[serde(default)]
    pub min_member_level: Option<MemberLevel>,
    /// 新客立减: the diner's first order with the brand only.
    #[serde(default)]
    pub first_order_only: bool,
    /// 多人同行: a table or a shared cart of at least this many diners.
    #[serde(default)]
    pub min_diners: Option<i64>,
}

impl Conditions {
    pub fn always() -> Conditions {
        Conditions::default()
    }

    pub(crate) fn validate(&self, errors: &mut FieldErrors) {
        // Three channels exist; a longer list is a repeat or a hostile payload.
        if self.channels.len() > 3 {
            errors.add("conditions.channels", Problem::TooLarge { max: 3 });
        }
        if self.stores.len() > MAX_SCOPE_ENTRIES {
            errors.add(
                "conditions.stores",
                Problem::TooLarge {
                    max: MAX_SCOPE_ENTRIES as i64,
                },
            );
        }
        self.schedule.validate(errors, "conditions.schedule");
        if let Some(diners) = self.min_diners {
            crate::validation::check_range(
                errors,
                "conditions.min_diners",
                diners,
                2,
                crate::ordering::MAX_DINERS,
            );
        }
    }
}

/// One tier of a 满减: from `threshold` spent, `save` off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    pub threshold: Money,
    pub save: Money,
}

/// An amount off one unit of an item: a share of its price or a fixed amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ItemOff {
    Percent { off: BasisPoints },
    PerUnit { amount: Money },
}

/// An amount off the order: a share (optionally capped) or a fixed amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OrderOff {
    Percent {
        off: BasisPoints,
        cap: Option<Money>,
    },
    Fixed {
        amount: Money,
    },
}

/// An amount off the delivery fee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FeeOff {
    Free,
    Fixed { amount: Money },
}

/// A member price: members at `level` or above pay `price` for one `dish`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberPrice {
    pub level: MemberLevel,
    pub dish_id: DishId,
    pub price: Money,
}

/// The dish given away when a gift promotion's threshold is met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GiftItem {
    pub dish_id: DishId,
    pub name: String,
    /// Its menu price: shown as the saving, never charged.
    pub value: Money,
}

/// What a promotion gives. The variant fixes the class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PromotionBenefit {
    /// 时段特价 (下午茶): the dish's unit price is replaced while the conditions' schedule holds.
    SlotPrice { dish_id: DishId, price: Money },
    /// 会员价: a price per dish for members of a level or above.
    MemberPrices { prices: Vec<MemberPrice> },
    /// 临期特价: a dish with at most `max_stock_left` units left, from `from` on that day, at `pays`.
    NearExpiry {
        scope: ItemScope,
        max_stock_left: i64,
        from: TimeOfDay,
        pays: BasisPoints,
    },
    /// 第二份半价: of each scoped dish, every `nth` unit at `pays` (dearest units counted first).
    NthItem {
        scope: ItemScope,
        nth: u8,
        pays: BasisPoints,
    },
    /// 单品折扣 / 立减: scoped items a share or a fixed amount off per unit.
    ItemDiscount { scope: ItemScope, off: ItemOff },
    /// 满减: the highest tier the scoped items reach.
    SpendAndSave { scope: ItemScope, tiers: Vec<Tier> },
    /// 整单折扣 / 新客立减 / 多人优惠: the order from `min_spend`.
    OrderDiscount { off: OrderOff, min_spend: Money },
    /// 满赠: a gift from `min_spend`.
    Gift { min_spend: Money, gift: GiftItem },
    /// 减配送费 / 免配送费 from `min_spend`.
    DeliveryFeeOff { off: FeeOff, min_spend: Money },
}

impl PromotionBenefit {
    pub fn class(&self) -> Class {
        match self {
            PromotionBenefit::SlotPrice { .. }
            | PromotionBenefit::MemberPrices { .. }
            | PromotionBenefit::NearExpiry { .. }
            | PromotionBenefit::NthItem { .. }
            | PromotionBenefit::ItemDiscount { .. } => Class::Item,
            PromotionBenefit::SpendAndSave { .. }
            | PromotionBenefit::OrderDiscount { .. }
            | PromotionBenefit::Gift { .. } => Class::Order,
            PromotionBenefit::DeliveryFeeOff { .. } => Class::DeliveryFee,
        }
    }
}

/// A promotion as submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromotionSpec {
    pub id: PromotionId,
    pub name: String,
    pub conditions: Conditions,
    pub benefit: PromotionBenefit,
    pub stacking: Stacking,
}

/// A promotion whose every rule was checked: the engine never meets a zero or negative one.
#[derive(Debug, Clone, PartialEq)]
pub struct Promotion(PromotionSpec);

impl Promotion {
    pub fn new(spec: PromotionSpec) -> Result<Promotion, FieldErrors> {
        let mut errors = FieldErrors::new();
        check_name(&mut errors, &spec.name);
        spec.conditions.validate(&mut errors);
        spec.stacking.validate(&mut errors);
        validate_benefit(&mut errors, &spec.benefit, &spec.conditions);
        errors.finish(|| Promotion(spec))
    }

    pub fn spec(&self) -> &PromotionSpec {
        &self.0
    }

    pub fn id(&self) -> PromotionId {
        self.0.id
    }

    pub fn class(&self) -> Class {
        self.0.benefit.class()
    }
}

pub(crate) fn check_name(errors: &mut FieldErrors, name: &str) {
    if name.trim().is_empty() {
        errors.add("name", Problem::Required);
    } else if let Err(problem) = check_text(name, MAX_NAME_CHARS, Lines::One) {
        errors.add("name", problem);
    }
}

/// An amount a rule gives or asks for: more than nothing, at most `MAX_RULE_AMOUNT`.
pub(crate) fn check_positive(errors: &mut FieldErrors, field: &str, amount: Money) {
    if amount <= Money::ZERO {
        errors.add(field, Problem::MustBePositive);
    } else if amount > MAX_RULE_AMOUNT {
        errors.add(
            field,
            Problem::TooLarge {
                max: MAX_RULE_AMOUNT.fen(),
            },
        );
    }
}

/// A threshold: zero (none) up to `MAX_RULE_AMOUNT`.
pub(crate) fn check_threshold(errors: &mut FieldErrors, field: &str, amount: Money) {
    if amount.is_negative() {
        errors.add(field, Problem::MustNotBeNegative);
    } else if amount > MAX_RULE_AMOUNT {
        errors.add(
            field,
            Problem::TooLarge {
                max: MAX_RULE_AMOUNT.fen(),
            },
        );
    }
}

/// A price a rule sets: free is allowed, negative is not.
fn check_price(errors: &mut FieldErrors, field: &str, price: Money) {
    check_threshold(errors, field, price);
}

/// A share taken off: more than nothing.
pub(crate) fn check_off(errors: &mut FieldErrors, field: &str, off: BasisPoints) {
    if off.get() == 0 {
        errors.add(field, Problem::MustBePositive);
    }
}

/// A share paid: below full price, or the rule gives nothing.
fn check_pays(errors: &mut FieldErrors, field: &str, pays: BasisPoints) {
    if pays == BasisPoints::FULL {
        errors.add(field, Problem::OutOfRange { min: 0, max: 9_999 });
    }
}

pub(crate) fn check_order_off(errors: &mut FieldErrors, field: &str, off: &OrderOff) {
    match off {
        OrderOff::Percent { off, cap } => {
            check_off(errors, &format!("{field}.off"), *off);
            if let Some(cap) = cap {
                check_positive(errors, &format!("{field}.cap"), *cap);
            }
        }
        OrderOff::Fixed { amount } => check_positive(errors, &format!("{field}.amount"), *amount),
    }
}

pub(crate) fn check_fee_off(errors: &mut FieldErrors, field: &str, off: &FeeOff) {
    if let FeeOff::Fixed { amount } = off {
        check_positive(errors, &format!("{field}.amount"), *amount);
    }
}

fn validate_benefit(errors: &mut FieldErrors, benefit: &PromotionBenefit, conditions: &Conditions) {
    match benefit {
        PromotionBenefit::SlotPrice { price, .. } => {
            check_price(errors, "benefit.price", *price);
            // Without hours it would be a permanent price change, which belongs on the menu.
            if conditions.schedule.is_always() {
                errors.add("conditions.schedule", Problem::Required);
            }
        }
        PromotionBenefit::MemberPrices { prices } => {
            if prices.is_empty() {
                errors.add("benefit.prices", Problem::Empty);
            }
            if prices.len() > MAX_MEMBER_PRICES {
                errors.add(
                    "benefit.prices",
                    Problem::TooLarge {
                        max: MAX_MEMBER_PRICES as i64,
                    },
                );
            }
            for (i, row) in prices.iter().enumerate() {
                check_price(errors, &format!("benefit.prices[{i}].price"), row.price);
                if row.level.0 == 0 {
                    errors.add(
                        format!("benefit.prices[{i}].level"),
                        Problem::MustBePositive,
                    );
                }
                if prices[..i]
                    .iter()
                    .any(|r| r.level == row.level && r.dish_id == row.dish_id)
                {
                    errors.add(format!("benefit.prices[{i}]"), Problem::Duplicate);
                }
            }
        }
        PromotionBenefit::NearExpiry {
            scope,
            max_stock_left,
            pays,
            ..
        } => {
            scope.validate(errors, "benefit.scope");
            crate::validation::check_range(
                errors,
                "benefit.max_stock_left",
                *max_stock_left,
                1,
                10_000,
            );
            check_pays(errors, "benefit.pays", *pays);
        }
        PromotionBenefit::NthItem { scope, nth, pays } => {
            scope.validate(errors, "benefit.scope");
            crate::validation::check_range(errors, "benefit.nth", *nth as i64, 2, 10);
            check_pays(errors, "benefit.pays", *pays);
        }
        PromotionBenefit::ItemDiscount { scope, off } => {
            scope.validate(errors, "benefit.scope");
            match off {
                ItemOff::Percent { off } => check_off(errors, "benefit.off.off", *off),
                ItemOff::PerUnit { amount } => {
                    check_positive(errors, "benefit.off.amount", *amount)
                }
            }
        }
        PromotionBenefit::SpendAndSave { scope, tiers } => {
            scope.validate(errors, "benefit.scope");
            check_tiers(errors, tiers);
        }
        PromotionBenefit::OrderDiscount { off, min_spend } => {
            check_order_off(errors, "benefit.off", off);
            check_threshold(errors, "benefit.min_spend", *min_spend);
            if let OrderOff::Fixed { amount } = off
                && *min_spend > Money::ZERO
                && amount >= min_spend
            {
                errors.add(
                    "benefit.off.amount",
                    Problem::TooLarge {
                        max: min_spend.fen() - 1,
                    },
                );
            }
        }
        PromotionBenefit::Gift { min_spend, gift } => {
            check_positive(errors, "benefit.min_spend", *min_spend);
            check_positive(errors, "benefit.gift.value", gift.value);
            check_name(errors, &gift.name);
        }
        PromotionBenefit::DeliveryFeeOff { off, min_spend } => {
            check_fee_off(errors, "benefit.off", off);
            check_threshold(errors, "benefit.min_spend", *min_spend);
        }
    }
}

/// Tiers rise in both threshold and saving, and no tier gives away what it asks for
/// (满50减60 is a typo, not a promotion).
fn check_tiers(errors: &mut FieldErrors, tiers: &[Tier]) {
    if tiers.is_empty() {
        errors.add("benefit.tiers", Problem::Empty);
    }
    if tiers.len() > MAX_TIERS {
        errors.add(
            "benefit.tiers",
            Problem::TooLarge {
                max: MAX_TIERS as i64,
            },
        );
    }
    for (i, tier) in tiers.iter().enumerate() {
        check_positive(
            errors,
            &format!("benefit.tiers[{i}].threshold"),
            tier.threshold,
        );
        check_positive(errors, &format!("benefit.tiers[{i}].save"), tier.save);
        if tier.save >= tier.threshold && tier.threshold > Money::ZERO {
            errors.add(
                format!("benefit.tiers[{i}].save"),
                Problem::TooLarge {
                    max: tier.threshold.fen() - 1,
                },
            );
        }
        if let Some(before) = i.checked_sub(1).map(|j| tiers[j])
            && (tier.threshold <= before.threshold || tier.save <= before.save)
        {
            errors.add(format!("benefit.tiers[{i}]"), Problem::MinAboveMax);
        }
    }
}
