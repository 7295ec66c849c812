//! The one pricing function. Pages show estimates; this computes what a diner pays, from the
//! same orderable menu the diner sees. Promotions, coupons and member prices will join here as
//! entries of `discounts`, so every total in the system comes from one place.

use super::delivery::{DeliveryZone, zone_for};
use super::lifecycle::Channel;
use crate::catalog::{PublicDish, PublicMenu, PublicSku};
use crate::ids::*;
use crate::money::Money;
use crate::promotions::{
    Cart as PromoCart, CartLine, MemberLevel, OfferRef, Offers, OrderFacts, Priced, PricingError,
    Refusal, best_price, price_chosen,
};
use crate::store::{GeoPoint, PackingFee};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

pub const MAX_LINES: usize = 50;
pub const MAX_QUANTITY: i64 = 99;
pub const MAX_DINERS: i64 = 50;
pub const MAX_NOTE_CHARS: usize = 100;

/// One line as the diner picked it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineRequest {
    pub sku_id: SkuId,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 99))]
    pub quantity: i64,
    #[serde(default)]
    pub option_ids: Vec<OptionId>,
    #[serde(default)]
    pub combo_choice_ids: Vec<ComboChoiceId>,
    /// 忌口 and other notes for this line.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub note: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    pub channel: Channel,
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 50))]
    pub lines: Vec<LineRequest>,
    /// Dine-in: how many diners (tableware and seat fee).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 50))]
    pub diners: Option<i64>,
    /// Delivery: where to.
    #[serde(default)]
    pub delivery_to: Option<GeoPoint>,
}

/// The store facts pricing needs besides the menu.
pub struct PricingContext<'a> {
    pub menu: &'a PublicMenu,
    pub store_open: bool,
    /// Local time of the next opening, for the "closed" message.
    pub opens_at: Option<String>,
    pub packing_fee: PackingFee,
    pub seat_fee_fen: Money,
    pub store_location: GeoPoint,
    pub delivery_zones: &'a [DeliveryZone],
    /// The promotions and coupons that may reduce this order; `None` prices at menu prices.
    pub discounting: Option<Discounting<'a>>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChosenOption {
    pub id: OptionId,
    pub group_name: String,
    pub name: String,
    pub name_en: Option<String>,
    pub price_delta_fen: Money,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChosenComboItem {
    pub id: ComboChoiceId,
    pub slot_name: String,
    pub sku_id: SkuId,
    pub dish_name: String,
    pub dish_name_en: Option<String>,
    pub sku_name: Option<String>,
    pub quantity: u8,
    pub price_delta_fen: Money,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotedLine {
    pub dish_id: DishId,
    pub sku_id: SkuId,
    pub dish_name: String,
    /// English names where the merchant gave them, for a diner reading in English.
    pub dish_name_en: Option<String>,
    pub sku_name: Option<String>,
    pub sku_name_en: Option<String>,
    pub station_id: Option<StationId>,
    pub quantity: i64,
    pub options: Vec<ChosenOption>,
    pub combo_items: Vec<ChosenComboItem>,
    pub note: Option<String>,
    /// Spec price plus option and combo deltas, for one.
    pub unit_price_fen: Money,
    pub line_total_fen: Money,
    /// This line's share of every discount (largest remainder: the lines sum exactly to the
    /// item and order discounts, for partial refunds and reports).
    #[serde(default)]
    pub discount_fen: Money,
}

/// A reduction with where it came from (满减, a coupon, a member price…).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotedDiscount {
    /// `promotion:<id>` or `coupon:<grant id>`: what the diner names to pick it again.
    pub source: String,
    pub label: String,
    pub amount_fen: Money,
    /// `item`, `order` or `delivery_fee`.
    #[serde(default)]
    pub class: String,
}

/// A dish given free by a 满赠 promotion: not charged, its value counted in the saving.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotedGift {
    pub source: String,
    pub dish_id: DishId,
    pub name: String,
    pub value_fen: Money,
}

/// The cart bar's nudge: spend `needed_fen` more (at menu prices) and `source` gives `gives_fen`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotedHint {
    pub source: String,
    pub label: String,
    pub needed_fen: Money,
    pub gives_fen: Money,
    /// "再买 8 元减 15".
    pub message: String,
    pub message_en: String,
}

/// A promotion or one of the diner's coupons that this order does not use, and why.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotedRefusal {
    pub source: String,
    pub label: String,
    /// A stable code: `THRESHOLD_NOT_MET`, `COUPON_EXPIRED`, `CANNOT_COMBINE`…
    pub code: String,
    pub message: String,
    pub message_en: String,
}

/// What the promotions engine needs besides the menu: the offers, the instant and the diner.
#[derive(Debug, Clone, Copy)]
pub struct Discounting<'a> {
    pub store_id: StoreId,
    pub offers: Offers<'a>,
    /// The store's local wall-clock time (time slots, near-expiry hours).
    pub local_time: jiff::civil::DateTime,
    /// When coupon validity is judged.
    pub now: jiff::Timestamp,
    /// The diner's member level at the brand (membership plugs in here; `None` today).
    pub member_level: Option<MemberLevel>,
    pub first_order: bool,
    /// The diner's own combination; `None` lets the engine choose the best one.
    pub chosen: Option<&'a [OfferRef]>,
}

/// How an offer is named on the wire: `promotion:<uuid>` or `coupon:<uuid>`.
pub fn offer_source(offer: &OfferRef) -> String {
    match offer {
        OfferRef::Promotion(id) => format!("promotion:{id}"),
        OfferRef::Coupon(id) => format!("coupon:{id}"),
    }
}

/// The reverse of [`offer_source`]; `None` for anything else.
pub fn parse_offer_source(source: &str) -> Option<OfferRef> {
    let (kind, id) = source.split_once(':')?;
    let id = uuid::Uuid::parse_str(id).ok()?;
    match kind {
        "promotion" => Some(OfferRef::Promotion(PromotionId::from_uuid(id))),
        "coupon" => Some(OfferRef::Coupon(CouponGrantId::from_uuid(id))),
        _ => None,
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// Changes whenever anything in the breakdown changes; an order must quote the current one.
    pub version: String,
    pub channel: Channel,
    pub lines: Vec<QuotedLine>,
    pub item_count: i64,
    pub subtotal_fen: Money,
    pub packing_fee_fen: Money,
    pub seat_fee_fen: Money,
    pub delivery_fee_fen: Money,
    pub delivery_zone: Option<String>,
    pub discounts: Vec<QuotedDiscount>,
    pub discount_total_fen: Money,
    pub total_fen: Money,
    #[serde(default)]
    pub gifts: Vec<QuotedGift>,
    /// Everything saved, gifts at their value included.
    #[serde(default)]
    pub saving_fen: Money,
    /// The offers this quote uses, as `source` strings (what placing the order redeems).
    #[serde(default)]
    pub chosen: Vec<String>,
    /// The engine proved no valid combination pays less (false for the diner's own pick).
    #[serde(default)]
    pub best_proven: bool,
    #[serde(default)]
    pub hint: Option<QuotedHint>,
    #[serde(default)]
    pub not_applicable: Vec<QuotedRefusal>,
}

impl Quote {
    /// Units each spec loses when this is ordered: the line's own spec and every spec inside a
    /// combo, summed per spec. Cancelling gives exactly these back.
    pub fn stock_claims(&self) -> Vec<(SkuId, i64)> {
        let mut per_sku: std::collections::BTreeMap<SkuId, i64> = Default::default();
        for line in &self.lines {
            *per_sku.entry(line.sku_id).or_default() += line.quantity;
            for item in &line.combo_items {
                *per_sku.entry(item.sku_id).or_default() += line.quantity * item.quantity as i64;
            }
        }
        per_sku.into_iter().collect()
    }
}

/// What is wrong with one line of the request.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LineProblem {
    UnknownItem,
    SoldOut,
    QuantityOutOfRange {
        min: i64,
        max: i64,
    },
    UnknownOption,
    MissingChoice {
        group: String,
    },
    TooManyChoices {
        group: String,
        max: u8,
    },
    NoteTooLong {
        max: usize,
    },
    /// Control or bidi characters in the note (line breaks are fine).
    NoteInvalidCharacters,
    /// The line's price does not fit in our amounts (a corrupt or hostile menu): refused, never free.
    PriceTooLarge,
}

impl LineProblem {
    pub fn message_zh(&self, item: &str) -> String {
        match self {
            LineProblem::UnknownItem => "有菜品已下架或不在供应时间，请刷新菜单".into(),
            LineProblem::SoldOut => format!("{item}已售罄"),
            LineProblem::QuantityOutOfRange { min, max } => {
                format!("{item}的数量需在 {min} 到 {max} 之间")
            }
            LineProblem::UnknownOption => format!("{item}的口味选项已变更，请重新选择"),
            LineProblem::MissingChoice { group } => format!("请为{item}选择{group}"),
            LineProblem::TooManyChoices { group, max } => format!("{item}的{group}最多选 {max} 项"),
            LineProblem::NoteTooLong { max } => format!("备注不能超过 {max} 字"),
            LineProblem::NoteInvalidCharacters => "备注包含不允许的字符".into(),
            LineProblem::PriceTooLarge => format!("{item}的价格有误，暂不能下单"),
        }
    }

    pub fn message_en(&self, item: &str) -> String {
        match self {
            LineProblem::UnknownItem => "An item is no longer available; refresh the menu".into(),
            LineProblem::SoldOut => format!("{item} is sold out"),
            LineProblem::QuantityOutOfRange { min, max } => {
                format!("Quantity of {item} must be {min} to {max}")
            }
            LineProblem::UnknownOption => format!("The options of {item} changed; choose again"),
            LineProblem::MissingChoice { group } => format!("Choose {group} for {item}"),
            LineProblem::TooManyChoices { group, max } => {
                format!("Choose at most {max} of {group} for {item}")
            }
            LineProblem::NoteTooLong { max } => format!("Notes must be at most {max} characters"),
            LineProblem::NoteInvalidCharacters => {
                "The note contains characters that are not allowed".into()
            }
            LineProblem::PriceTooLarge => {
                format!("The price of {item} is wrong; it cannot be ordered now")
            }
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            LineProblem::UnknownItem => "UNKNOWN_ITEM",
            LineProblem::SoldOut => "SOLD_OUT",
            LineProblem::QuantityOutOfRange { .. } => "QUANTITY_OUT_OF_RANGE",
            LineProblem::UnknownOption => "UNKNOWN_OPTION",
            LineProblem::MissingChoice { .. } => "MISSING_CHOICE",
            LineProblem::TooManyChoices { .. } => "TOO_MANY_CHOICES",
            LineProblem::NoteTooLong { .. } => "NOTE_TOO_LONG",
            LineProblem::NoteInvalidCharacters => "NOTE_INVALID_CHARACTERS",
            LineProblem::PriceTooLarge => "PRICE_TOO_LARGE",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub index: usize,
    /// The dish name when known, for messages.
    pub item: String,
    pub problem: LineProblem,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    #[error("the store is closed")]
    StoreClosed { opens_at: Option<String> },
    #[error("the order is empty")]
    Empty,
    #[error("too many lines")]
    TooManyLines { max: usize },
    #[error("some lines cannot be ordered")]
    Lines(Vec<LineError>),
    #[error("diners must be between 1 and {max}")]
    DinersOutOfRange { max: i64 },
    #[error("a delivery address is needed")]
    DeliveryAddressRequired,
    #[error("the address is outside every delivery zone")]
    OutsideDeliveryZones,
    /// The lines or fees add up to more than an amount can hold.
    #[error("the total is too large")]
    TotalTooLarge,
    /// The diner's chosen promotions or coupons cannot be used on this order.
    #[error("the chosen offers cannot be used")]
    OffersRefused(Vec<QuotedRefusal>),
    #[error("below the minimum order")]
    BelowMinimumOrder {
        minimum_fen: Money,
        subtotal_fen: Money,
    },
}

struct MenuIndex<'a> {
    skus: HashMap<SkuId, (&'a PublicDish, &'a PublicSku)>,
}

impl<'a> MenuIndex<'a> {
    fn new(menu: &'a PublicMenu) -> Self {
        let skus = menu
            .categories
            .iter()
            .flat_map(|c| c.dishes.iter())
            .flat_map(|d| d.skus.iter().map(move |s| (s.id, (d, s))))
            .collect();
        MenuIndex { skus }
    }
}

fn price_line(
    index: usize,
    line: &LineRequest,
    menu: &MenuIndex<'_>,
) -> Result<QuotedLine, LineError> {
    let fail = |item: &str, problem| LineError {
        index,
        item: item.to_owned(),
        problem,
    };
    let (dish, sku) = menu
        .skus
        .get(&line.sku_id)
        .copied()
        .ok_or_else(|| fail("", LineProblem::UnknownItem))?;
    let item = dish.name.as_str();
    if !(1..=MAX_QUANTITY).contains(&line.quantity) {
        return Err(fail(
            item,
            LineProblem::QuantityOutOfRange {
                min: 1,
                max: MAX_QUANTITY,
            },
        ));
    }
    if sku.sold_out || dish.sold_out {
        return Err(fail(item, LineProblem::SoldOut));
    }
    if let Some(remaining) = sku.remaining
        && line.quantity > remaining
    {
        return Err(fail(item, LineProblem::SoldOut));
    }
    let note = line
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    match note
        .as_deref()
        .map(|n| crate::text::check_text(n, MAX_NOTE_CHARS, crate::text::Lines::Many))
    {
        Some(Err(crate::validation::Problem::TooLong { .. })) => {
            return Err(fail(
                item,
                LineProblem::NoteTooLong {
                    max: MAX_NOTE_CHARS,
                },
            ));
        }
        Some(Err(_)) => return Err(fail(item, LineProblem::NoteInvalidCharacters)),
        _ => {}
    }

    let wanted: HashSet<OptionId> = line.option_ids.iter().copied().collect();
    if wanted.len() != line.option_ids.len() {
        return Err(fail(item, LineProblem::UnknownOption));
    }
    let mut options = Vec::new();
    for group in &dish.option_groups {
        let picked: Vec<_> = group
            .options
            .iter()
            .filter(|o| wanted.contains(&o.id))
            .collect();
        if picked.len() < group.min_select as usize {
            return Err(fail(
                item,
                LineProblem::MissingChoice {
                    group: group.name.clone(),
                },
            ));
        }
        if picked.len() > group.max_select as usize {
            return Err(fail(
                item,
                LineProblem::TooManyChoices {
                    group: group.name.clone(),
                    max: group.max_select,
                },
            ));
        }
        options.extend(picked.into_iter().map(|o| ChosenOption {
            id: o.id,
            group_name: group.name.clone(),
            name: o.name.clone(),
            name_en: o.name_en.clone(),
            price_delta_fen: o.price_delta_fen,
        }));
    }
    if options.len() != wanted.len() {
        return Err(fail(item, LineProblem::UnknownOption));
    }

    let wanted_choices: HashSet<ComboChoiceId> = line.combo_choice_ids.iter().copied().collect();
    if wanted_choices.len() != line.combo_choice_ids.len() {
        return Err(fail(item, LineProblem::UnknownOption));
    }
    let mut combo_items = Vec::new();
    for slot in &dish.combo_slots {
        // A slot with exactly as many choices as it requires is fixed: the diner picks nothing.
        let fixed = slot.choices.len() == slot.min_select as usize;
        let picked: Vec<_> = slot
            .choices
            .iter()
            .filter(|c| fixed || wanted_choices.contains(&c.id))
            .collect();
        if picked.len() < slot.min_select as usize {
            return Err(fail(
                item,
                LineProblem::MissingChoice {
                    group: slot.name.clone(),
                },
            ));
        }
        if picked.len() > slot.max_select as usize {
            return Err(fail(
                item,
                LineProblem::TooManyChoices {
                    group: slot.name.clone(),
                    max: slot.max_select,
                },
            ));
        }
        if picked.iter().any(|c| c.sold_out) {
            return Err(fail(item, LineProblem::SoldOut));
        }
        combo_items.extend(picked.into_iter().map(|c| ChosenComboItem {
            id: c.id,
            slot_name: slot.name.clone(),
            sku_id: c.sku_id,
            dish_name: c.dish_name.clone(),
            dish_name_en: c.dish_name_en.clone(),
            sku_name: c.sku_name.clone(),
            quantity: c.quantity,
            price_delta_fen: c.price_delta_fen,
        }));
    }
    let counted_choices = combo_items
        .iter()
        .filter(|c| wanted_choices.contains(&c.id))
        .count();
    if counted_choices != wanted_choices.len() {
        return Err(fail(item, LineProblem::UnknownOption));
    }

    let deltas = options
        .iter()
        .map(|o| o.price_delta_fen)
        .chain(combo_items.iter().map(|c| c.price_delta_fen));
    let (unit_price_fen, line_total_fen) =
        match Money::checked_sum(std::iter::once(sku.price_fen).chain(deltas)) {
            // A negative add-on can never make a line cost less than nothing.
            Some(unit) => {
                let unit = unit.max(Money::ZERO);
                match unit.checked_mul(line.quantity) {
                    Some(total) => (unit, total),
                    None => return Err(fail(item, LineProblem::PriceTooLarge)),
                }
            }
            None => return Err(fail(item, LineProblem::PriceTooLarge)),
        };
    Ok(QuotedLine {
        dish_id: dish.id,
        sku_id: sku.id,
        dish_name: dish.name.clone(),
        dish_name_en: dish.name_en.clone(),
        sku_name: sku.name.clone(),
        sku_name_en: sku.name_en.clone(),
        station_id: dish.station_id,
        quantity: line.quantity,
        options,
        combo_items,
        note,
        unit_price_fen,
        line_total_fen,
        discount_fen: Money::ZERO,
    })
}

/// What the promotions engine added to a quote.
#[derive(Default)]
struct Promoted {
    discounts: Vec<QuotedDiscount>,
    gifts: Vec<QuotedGift>,
    saving_fen: Money,
    chosen: Vec<String>,
    best_proven: bool,
    hint: Option<QuotedHint>,
    not_applicable: Vec<QuotedRefusal>,
}

fn offer_label(offers: &Offers<'_>, offer: &OfferRef) -> String {
    match offer {
        OfferRef::Promotion(id) => offers
            .promotions
            .iter()
            .find(|p| p.id() == *id)
            .map(|p| p.spec().name.clone()),
        OfferRef::Coupon(id) => offers
            .grants
            .iter()
            .find(|g| g.id == *id)
            .and_then(|g| offers.coupons.iter().find(|c| c.id() == g.coupon_id))
            .map(|c| c.spec().name.clone()),
    }
    .unwrap_or_default()
}

fn quoted_refusal(offers: &Offers<'_>, refusal: &Refusal) -> QuotedRefusal {
    QuotedRefusal {
        source: offer_source(&refusal.offer),
        label: offer_label(offers, &refusal.offer),
        code: refusal.reason.code().to_owned(),
        message: refusal.reason.message_zh(),
        message_en: refusal.reason.message_en(),
    }
}

fn class_name(class: crate::promotions::Class) -> &'static str {
    match class {
        crate::promotions::Class::Item => "item",
        crate::promotions::Class::Order => "order",
        crate::promotions::Class::DeliveryFee => "delivery_fee",
    }
}

/// Runs the promotions engine over the priced lines: the best combination (or the diner's
/// pick), each line's share of the discounts, and what was left out and why.
fn discount(
    menu: &PublicMenu,
    index: &MenuIndex<'_>,
    lines: &mut [QuotedLine],
    request: &QuoteRequest,
    delivery_fee_fen: Money,
    discounting: &Discounting<'_>,
) -> Result<Promoted, QuoteError> {
    let category_of: HashMap<DishId, CategoryId> = menu
        .categories
        .iter()
        .flat_map(|c| c.dishes.iter().map(move |d| (d.id, c.id)))
        .collect();
    let cart_lines = lines
        .iter()
        .map(|line| CartLine {
            dish_id: line.dish_id,
            category_id: category_of[&line.dish_id],
            unit_price: line.unit_price_fen,
            quantity: line.quantity,
            stock_left: index.skus.get(&line.sku_id).and_then(|(_, s)| s.remaining),
        })
        .collect();
    // Lines and amounts were checked above; a cart the engine refuses is priced at menu prices.
    let Ok(cart) = PromoCart::new(cart_lines) else {
        return Ok(Promoted::default());
    };
    let facts = OrderFacts {
        channel: request.channel,
        store_id: discounting.store_id,
        local_time: discounting.local_time,
        now: discounting.now,
        member_level: discounting.member_level,
        first_order: discounting.first_order,
        diners: request.diners.unwrap_or(1).clamp(1, MAX_DINERS),
        delivery_fee: delivery_fee_fen,
    };
    let offers = discounting.offers;
    let priced: Priced = match discounting.chosen {
        Some(picks) => price_chosen(&cart, &facts, offers, picks),
        None => best_price(&cart, &facts, offers),
    }
    .map_err(|error| match error {
        PricingError::Refused(refusals) => QuoteError::OffersRefused(
            refusals
                .iter()
                .map(|r| quoted_refusal(&offers, r))
                .collect(),
        ),
        // The caller caps the offers and checked the diners: neither can happen.
        PricingError::TooManyOffers { .. } | PricingError::InvalidFacts(_) => {
            QuoteError::TotalTooLarge
        }
    })?;
    let breakdown = &priced.breakdown;
    for (line, priced_line) in lines.iter_mut().zip(&breakdown.lines) {
        line.discount_fen = priced_line.discount;
    }
    let mut discounts = Vec::new();
    let mut gifts = Vec::new();
    for applied in &breakdown.discounts {
        let source = offer_source(&applied.offer);
        match &applied.gift {
            Some(gift) => gifts.push(QuotedGift {
                source,
                dish_id: gift.dish_id,
                name: gift.name.clone(),
                value_fen: gift.value,
            }),
            None => discounts.push(QuotedDiscount {
                source,
                label: applied.name.clone(),
                amount_fen: applied.amount,
                class: class_name(applied.class).to_owned(),
            }),
        }
    }
    Ok(Promoted {
        discounts,
        gifts,
        saving_fen: breakdown.saving,
        chosen: breakdown.chosen.iter().map(offer_source).collect(),
        best_proven: priced.best_proven,
        hint: priced.hint.as_ref().map(|hint| QuotedHint {
            source: offer_source(&hint.offer),
            label: hint.name.clone(),
            needed_fen: hint.needed,
            gives_fen: hint.gives,
            message: hint.message_zh(),
            message_en: hint.message_en(),
        }),
        not_applicable: priced
            .not_applicable
            .iter()
            .map(|r| quoted_refusal(&offers, r))
            .collect(),
    })
}

/// Prices a request against the store's orderable menu and rules.
pub fn quote(context: &PricingContext<'_>, request: &QuoteRequest) -> Result<Quote, QuoteError> {
    if !context.store_open {
        return Err(QuoteError::StoreClosed {
            opens_at: context.opens_at.clone(),
        });
    }
    if request.lines.is_empty() {
        return Err(QuoteError::Empty);
    }
    if request.lines.len() > MAX_LINES {
        return Err(QuoteError::TooManyLines { max: MAX_LINES });
    }
    let index = MenuIndex::new(context.menu);
    let mut lines = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in request.lines.iter().enumerate() {
        match price_line(i, line, &index) {
            Ok(priced) => lines.push(priced),
            Err(problem) => problems.push(problem),
        }
    }
    if !problems.is_empty() {
        return Err(QuoteError::Lines(problems));
    }
    // The same spec on several lines must still fit the stock that is left.
    let mut per_sku: HashMap<SkuId, i64> = HashMap::new();
    for line in &lines {
        *per_sku.entry(line.sku_id).or_default() += line.quantity;
    }
    for (i, line) in lines.iter().enumerate() {
        let remaining = index.skus.get(&line.sku_id).and_then(|(_, s)| s.remaining);
        if remaining.is_some_and(|left| per_sku[&line.sku_id] > left) {
            problems.push(LineError {
                index: i,
                item: line.dish_name.clone(),
                problem: LineProblem::SoldOut,
            });
        }
    }
    if !problems.is_empty() {
        return Err(QuoteError::Lines(problems));
    }

    let item_count: i64 = lines.iter().map(|l| l.quantity).sum();
    // Every sum below is checked: an amount that does not fit refuses the quote, never zeroes a part.
    let subtotal_fen = Money::checked_sum(lines.iter().map(|l| l.line_total_fen))
        .ok_or(QuoteError::TotalTooLarge)?;
    let takes_packing = matches!(request.channel, Channel::Pickup | Channel::Delivery);
    let packing_fee_fen = match (takes_packing, context.packing_fee) {
        (false, _) | (true, PackingFee::None) => Money::ZERO,
        (true, PackingFee::PerOrder { fee_fen }) => fee_fen,
        (true, PackingFee::PerItem { fee_fen }) => fee_fen
            .checked_mul(item_count)
            .ok_or(QuoteError::TotalTooLarge)?,
    };
    let seat_fee_fen = match request.channel {
        Channel::DineIn => {
            let diners = request.diners.unwrap_or(1);
            if !(1..=MAX_DINERS).contains(&diners) {
                return Err(QuoteError::DinersOutOfRange { max: MAX_DINERS });
            }
            context
                .seat_fee_fen
                .checked_mul(diners)
                .ok_or(QuoteError::TotalTooLarge)?
        }
        _ => Money::ZERO,
    };
    let (delivery_fee_fen, delivery_zone) = match request.channel {
        Channel::Delivery => {
            let to = request
                .delivery_to
                .ok_or(QuoteError::DeliveryAddressRequired)?;
            let zone = zone_for(context.delivery_zones, context.store_location, to)
                .ok_or(QuoteError::OutsideDeliveryZones)?;
            if subtotal_fen < zone.minimum_order_fen {
                return Err(QuoteError::BelowMinimumOrder {
                    minimum_fen: zone.minimum_order_fen,
                    subtotal_fen,
                });
            }
            (zone.fee_fen, Some(zone.name.clone()))
        }
        _ => (Money::ZERO, None),
    };
    let promoted = match &context.discounting {
        Some(discounting) => Some(discount(
            context.menu,
            &index,
            &mut lines,
            request,
            delivery_fee_fen,
            discounting,
        )?),
        None => None,
    };
    let Promoted {
        discounts,
        gifts,
        saving_fen,
        chosen,
        best_proven,
        hint,
        not_applicable,
    } = promoted.unwrap_or_default();
    let discount_total_fen = Money::checked_sum(discounts.iter().map(|d| d.amount_fen))
        .ok_or(QuoteError::TotalTooLarge)?;
    let total_fen = Money::checked_sum([
        subtotal_fen,
        packing_fee_fen,
        seat_fee_fen,
        delivery_fee_fen,
    ])
    .and_then(|charged| charged.checked_sub(discount_total_fen))
    .ok_or(QuoteError::TotalTooLarge)?
    .max(Money::ZERO);
    let mut quote = Quote {
        version: String::new(),
        channel: request.channel,
        lines,
        item_count,
        subtotal_fen,
        packing_fee_fen,
        seat_fee_fen,
        delivery_fee_fen,
        delivery_zone,
        discounts,
        discount_total_fen,
        total_fen,
        gifts,
        saving_fen,
        chosen,
        best_proven,
        hint,
        not_applicable,
    };
    quote.version = fingerprint(&serde_json::to_vec(&quote).expect("quotes serialize"));
    Ok(quote)
}

/// FNV-1a: the same on every instance and every build (quote versions; never for anything
/// derived from personal data, which gets a keyed HMAC).
pub fn fingerprint(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= *byte as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests;
