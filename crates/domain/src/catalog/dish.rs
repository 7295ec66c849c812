//! Categories and dishes with their specs (SKUs), option groups and combo slots,
//! and the drafts a merchant submits, parsed into valid values in one place.

use crate::ids::*;
use crate::money::{MAX_ITEM_PRICE, Money};
use crate::schedule::Schedule;
use crate::text::{Lines, Name, check_text, optional_note, optional_text, required_name};
use crate::validation::{FieldErrors, Problem, check_range};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

pub const MAX_DESCRIPTION_CHARS: usize = 500;
pub const MAX_TAGS: usize = 8;
pub const MAX_TAG_CHARS: usize = 8;
pub const MAX_ALLERGEN_CHARS: usize = 20;
pub const MAX_SKUS: usize = 20;
pub const MAX_OPTION_GROUPS: usize = 12;
pub const MAX_OPTIONS_PER_GROUP: usize = 30;
pub const MAX_COMBO_SLOTS: usize = 10;
pub const MAX_IMAGES: usize = 6;
pub const MAX_SORT_ORDER: i64 = 1_000_000;

/// A price must be positive and not absurd.
pub fn check_price(errors: &mut FieldErrors, field: &str, price: Money) {
    if price.fen() <= 0 {
        errors.add(field, Problem::MustBePositive);
    } else if price > MAX_ITEM_PRICE {
        errors.add(
            field,
            Problem::TooLarge {
                max: MAX_ITEM_PRICE.fen(),
            },
        );
    }
}

/// A price delta (加料 +¥2, 少饭 -¥1) stays within one item's price either way.
fn check_delta(errors: &mut FieldErrors, field: &str, delta: Money) {
    check_range(
        errors,
        field,
        delta.fen(),
        -MAX_ITEM_PRICE.fen(),
        MAX_ITEM_PRICE.fen(),
    );
}

/// A menu section (热销, 面食, 饮品) with an optional time window (breakfast-only).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Category {
    pub id: CategoryId,
    pub brand_id: BrandId,
    pub name: Name,
    pub name_en: Option<String>,
    pub sort_order: i64,
    pub availability: Schedule,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryDraft {
    #[cfg_attr(feature = "openapi", schema(max_length = 60))]
    pub name: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 60))]
    pub name_en: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000000))]
    pub sort_order: i64,
    #[serde(default)]
    pub availability: Schedule,
}

impl CategoryDraft {
    pub fn parse(self, id: CategoryId, brand_id: BrandId) -> Result<Category, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = required_name(&mut errors, "name", &self.name);
        let name_en = optional_text(
            &mut errors,
            "name_en",
            self.name_en.as_deref(),
            Name::MAX_CHARS,
        );
        check_range(
            &mut errors,
            "sort_order",
            self.sort_order,
            0,
            MAX_SORT_ORDER,
        );
        self.availability.validate(&mut errors, "availability");
        errors.finish(|| Category {
            id,
            brand_id,
            name: name.expect("checked"),
            name_en,
            sort_order: self.sort_order,
            availability: self.availability,
        })
    }
}

/// A kitchen station (热菜, 凉菜, 饮品) that receives its own tickets.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Station {
    pub id: StationId,
    pub brand_id: BrandId,
    pub name: Name,
    pub name_en: Option<String>,
    pub sort_order: i64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DishKind {
    /// An ordinary dish with one or more specs.
    Single,
    /// A set meal: slots of other dishes' specs at one price.
    Combo,
}

impl DishKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DishKind::Single => "single",
            DishKind::Combo => "combo",
        }
    }

    pub fn parse(text: &str) -> Option<DishKind> {
        match text {
            "single" => Some(DishKind::Single),
            "combo" => Some(DishKind::Combo),
            _ => None,
        }
    }
}

/// A sellable variant of a dish with its own code, price and stock (大/中/小, 热/冰).
/// A dish with one spec has one SKU whose `name` is `None`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sku {
    pub id: SkuId,
    pub code: String,
    pub name: Option<Name>,
    pub name_en: Option<String>,
    pub price_fen: Money,
}

/// A choice on a dish: 辣度 (pick one), 加料 (pick up to three, each with a price).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptionGroup {
    pub id: OptionGroupId,
    pub name: Name,
    pub name_en: Option<String>,
    pub min_select: u8,
    pub max_select: u8,
    pub options: Vec<DishOption>,
}

impl OptionGroup {
    pub fn is_required(&self) -> bool {
        self.min_select > 0
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DishOption {
    pub id: OptionId,
    pub name: Name,
    pub name_en: Option<String>,
    pub price_delta_fen: Money,
}

/// One slot of a set meal: a fixed item (one choice, pick one) or a choice group.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComboSlot {
    pub id: ComboSlotId,
    pub name: Name,
    pub name_en: Option<String>,
    pub min_select: u8,
    pub max_select: u8,
    pub choices: Vec<ComboChoice>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComboChoice {
    pub id: ComboChoiceId,
    pub sku_id: SkuId,
    pub quantity: u8,
    pub price_delta_fen: Money,
}

/// A dish as the brand defines it for all its stores.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dish {
    pub id: DishId,
    pub brand_id: BrandId,
    pub category_id: CategoryId,
    pub kind: DishKind,
    pub name: Name,
    pub name_en: Option<String>,
    pub description: Option<String>,
    pub description_en: Option<String>,
    pub tags: Vec<String>,
    pub ingredients: Option<String>,
    pub allergens: Vec<String>,
    pub calories_kcal: Option<i64>,
    pub portion: Option<String>,
    pub sort_order: i64,
    pub station_id: Option<StationId>,
    pub on_shelf: bool,
    pub availability: Schedule,
    pub image_ids: Vec<ImageId>,
    pub skus: Vec<Sku>,
    pub option_groups: Vec<OptionGroup>,
    pub combo_slots: Vec<ComboSlot>,
}

impl Dish {
    pub fn sku(&self, id: SkuId) -> Option<&Sku> {
        self.skus.iter().find(|s| s.id == id)
    }

    /// The lowest spec price, shown as "¥18起" on the menu.
    pub fn from_price(&self) -> Money {
        self.skus
            .iter()
            .map(|s| s.price_fen)
            .min()
            .unwrap_or(Money::ZERO)
    }
}

// ---- drafts: what a merchant submits; ids are optional so edits keep them stable ----

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DishDraft {
    pub category_id: CategoryId,
    #[serde(default = "single_kind")]
    pub kind: DishKind,
    #[cfg_attr(feature = "openapi", schema(max_length = 60))]
    pub name: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 60))]
    pub name_en: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    pub description: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    pub description_en: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 8))]
    pub tags: Vec<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    pub ingredients: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 8))]
    pub allergens: Vec<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 10000))]
    pub calories_kcal: Option<i64>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 30))]
    pub portion: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000000))]
    pub sort_order: i64,
    #[serde(default)]
    pub station_id: Option<StationId>,
    #[serde(default = "yes")]
    pub on_shelf: bool,
    #[serde(default)]
    pub availability: Schedule,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 6))]
    pub image_ids: Vec<ImageId>,
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 20))]
    pub skus: Vec<SkuDraft>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 12))]
    pub option_groups: Vec<OptionGroupDraft>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 10))]
    pub combo_slots: Vec<ComboSlotDraft>,
}

fn single_kind() -> DishKind {
    DishKind::Single
}

fn yes() -> bool {
    true
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkuDraft {
    #[serde(default)]
    pub id: Option<SkuId>,
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 32, pattern = "^[A-Za-z0-9_-]+$")
    )]
    pub code: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 60))]
    pub name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 60))]
    pub name_en: Option<String>,
    /// `check_price`: more than 0 and at most `MAX_ITEM_PRICE` (¥100,000).
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = i64, minimum = 1, maximum = 10_000_000)
    )]
    pub price_fen: Money,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionGroupDraft {
    #[serde(default)]
    pub id: Option<OptionGroupId>,
    #[cfg_attr(feature = "openapi", schema(max_length = 60))]
    pub name: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 60))]
    pub name_en: Option<String>,
    /// At least 0 and at most `max_select` and the number of choices (a rule across fields:
    /// refused with `OUT_OF_RANGE` or `MIN_ABOVE_MAX`).
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub min_select: i64,
    /// At least 1 and at most the number of choices.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub max_select: i64,
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 30))]
    pub options: Vec<OptionDraft>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionDraft {
    #[serde(default)]
    pub id: Option<OptionId>,
    #[cfg_attr(feature = "openapi", schema(max_length = 60))]
    pub name: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 60))]
    pub name_en: Option<String>,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = i64, minimum = -10_000_000, maximum = 10_000_000)
    )]
    pub price_delta_fen: Money,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComboSlotDraft {
    #[serde(default)]
    pub id: Option<ComboSlotId>,
    #[cfg_attr(feature = "openapi", schema(max_length = 60))]
    pub name: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 60))]
    pub name_en: Option<String>,
    /// At least 0 and at most `max_select` and the number of choices (a rule across fields:
    /// refused with `OUT_OF_RANGE` or `MIN_ABOVE_MAX`).
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub min_select: i64,
    /// At least 1 and at most the number of choices.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub max_select: i64,
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub choices: Vec<ComboChoiceDraft>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComboChoiceDraft {
    #[serde(default)]
    pub id: Option<ComboChoiceId>,
    pub sku_id: SkuId,
    #[serde(default = "one")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 20))]
    pub quantity: i64,
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = i64, minimum = -10_000_000, maximum = 10_000_000)
    )]
    pub price_delta_fen: Money,
}

fn one() -> i64 {
    1
}

/// A SKU code: letters, digits, `-` and `_`, unique within the brand (for imports and POS).
pub fn parse_sku_code(code: &str) -> Result<String, Problem> {
    let code = code.trim();
    if code.is_empty() {
        return Err(Problem::Required);
    }
    if code.len() > 32 {
        return Err(Problem::TooLong { max: 32 });
    }
    if !code
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Problem::InvalidCharacters);
    }
    Ok(code.to_owned())
}

fn parse_tags(
    errors: &mut FieldErrors,
    field: &str,
    tags: &[String],
    max_chars: usize,
) -> Vec<String> {
    if tags.len() > MAX_TAGS {
        errors.add(
            field,
            Problem::TooLarge {
                max: MAX_TAGS as i64,
            },
        );
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, tag) in tags.iter().enumerate() {
        // Checked as sent, then trimmed: the document's limits hold before trimming.
        if let Err(problem) = check_text(tag, max_chars, Lines::One) {
            errors.add(format!("{field}[{i}]"), problem);
            continue;
        }
        let tag = tag.trim();
        if tag.is_empty() {
            errors.add(format!("{field}[{i}]"), Problem::Required);
        } else if seen.insert(tag.to_owned()) {
            out.push(tag.to_owned());
        }
    }
    out
}

fn parse_select_bounds(
    errors: &mut FieldErrors,
    field: &str,
    min: i64,
    max: i64,
    count: usize,
) -> (u8, u8) {
    check_range(errors, &format!("{field}.min_select"), min, 0, count as i64);
    check_range(
        errors,
        &format!("{field}.max_select"),
        max,
        1,
        count.max(1) as i64,
    );
    if min > max {
        errors.add(format!("{field}.min_select"), Problem::MinAboveMax);
    }
    (min.clamp(0, 255) as u8, max.clamp(0, 255) as u8)
}

impl DishDraft {
    /// Checks every field and builds the dish, or returns every problem found.
    /// `known_skus` are the brand's other SKUs a combo may refer to.
    pub fn parse(
        self,
        id: DishId,
        brand_id: BrandId,
        known_skus: &HashSet<SkuId>,
    ) -> Result<Dish, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = required_name(&mut errors, "name", &self.name);
        let name_en = optional_text(
            &mut errors,
            "name_en",
            self.name_en.as_deref(),
            Name::MAX_CHARS,
        );
        let description = optional_note(
            &mut errors,
            "description",
            self.description.as_deref(),
            MAX_DESCRIPTION_CHARS,
        );
        let description_en = optional_note(
            &mut errors,
            "description_en",
            self.description_en.as_deref(),
            MAX_DESCRIPTION_CHARS,
        );
        let ingredients = optional_note(
            &mut errors,
            "ingredients",
            self.ingredients.as_deref(),
            MAX_DESCRIPTION_CHARS,
        );
        let portion = optional_text(&mut errors, "portion", self.portion.as_deref(), 30);
        let tags = parse_tags(&mut errors, "tags", &self.tags, MAX_TAG_CHARS);
        let allergens = parse_tags(
            &mut errors,
            "allergens",
            &self.allergens,
            MAX_ALLERGEN_CHARS,
        );
        if let Some(kcal) = self.calories_kcal {
            check_range(&mut errors, "calories_kcal", kcal, 0, 10_000);
        }
        check_range(
            &mut errors,
            "sort_order",
            self.sort_order,
            0,
            MAX_SORT_ORDER,
        );
        self.availability.validate(&mut errors, "availability");
        if self.image_ids.len() > MAX_IMAGES {
            errors.add(
                "image_ids",
                Problem::TooLarge {
                    max: MAX_IMAGES as i64,
                },
            );
        }

        let skus = parse_skus(&mut errors, self.skus);
        let option_groups = parse_option_groups(&mut errors, self.option_groups);
        let own_skus: HashSet<SkuId> = skus.iter().map(|s| s.id).collect();
        let combo_slots = match self.kind {
            DishKind::Single => {
                if !self.combo_slots.is_empty() {
                    errors.add(
                        "combo_slots",
                        Problem::InvalidChoice {
                            allowed: vec!["[]".into()],
                        },
                    );
                }
                Vec::new()
            }
            DishKind::Combo => {
                if self.combo_slots.is_empty() {
                    errors.add("combo_slots", Problem::Empty);
                }
                parse_combo_slots(&mut errors, self.combo_slots, known_skus, &own_skus)
            }
        };

        errors.finish(|| Dish {
            id,
            brand_id,
            category_id: self.category_id,
            kind: self.kind,
            name: name.expect("checked"),
            name_en,
            description,
            description_en,
            tags,
            ingredients,
            allergens,
            calories_kcal: self.calories_kcal,
            portion,
            sort_order: self.sort_order,
            station_id: self.station_id,
            on_shelf: self.on_shelf,
            availability: self.availability,
            image_ids: self.image_ids,
            skus,
            option_groups,
            combo_slots,
        })
    }
}

fn parse_skus(errors: &mut FieldErrors, drafts: Vec<SkuDraft>) -> Vec<Sku> {
    if drafts.is_empty() {
        errors.add("skus", Problem::Empty);
    }
    if drafts.len() > MAX_SKUS {
        errors.add(
            "skus",
            Problem::TooLarge {
                max: MAX_SKUS as i64,
            },
        );
    }
    let several = drafts.len() > 1;
    let mut codes = HashSet::new();
    let mut skus = Vec::new();
    for (i, draft) in drafts.into_iter().enumerate() {
        let field = format!("skus[{i}]");
        let code = match parse_sku_code(&draft.code) {
            Ok(code) if !codes.insert(code.clone()) => {
                errors.add(format!("{field}.code"), Problem::Duplicate);
                None
            }
            Ok(code) => Some(code),
            Err(problem) => {
                errors.add(format!("{field}.code"), problem);
                None
            }
        };
        // With several specs each needs a name (大/中/小); a single spec may go unnamed.
        // The name as sent: its limit holds before trimming.
        let name = match draft.name.as_deref().filter(|n| !n.trim().is_empty()) {
            Some(text) => required_name(errors, &format!("{field}.name"), text),
            None if several => {
                errors.add(format!("{field}.name"), Problem::Required);
                None
            }
            None => None,
        };
        let name_en = optional_text(
            errors,
            &format!("{field}.name_en"),
            draft.name_en.as_deref(),
            Name::MAX_CHARS,
        );
        check_price(errors, &format!("{field}.price_fen"), draft.price_fen);
        if let Some(code) = code {
            skus.push(Sku {
                id: draft.id.unwrap_or_default(),
                code,
                name,
                name_en,
                price_fen: draft.price_fen,
            });
        }
    }
    skus
}

fn parse_option_groups(
    errors: &mut FieldErrors,
    drafts: Vec<OptionGroupDraft>,
) -> Vec<OptionGroup> {
    if drafts.len() > MAX_OPTION_GROUPS {
        errors.add(
            "option_groups",
            Problem::TooLarge {
                max: MAX_OPTION_GROUPS as i64,
            },
        );
    }
    let mut groups = Vec::new();
    for (i, draft) in drafts.into_iter().enumerate() {
        let field = format!("option_groups[{i}]");
        let name = required_name(errors, &format!("{field}.name"), &draft.name);
        let name_en = optional_text(
            errors,
            &format!("{field}.name_en"),
            draft.name_en.as_deref(),
            Name::MAX_CHARS,
        );
        if draft.options.is_empty() {
            errors.add(format!("{field}.options"), Problem::Empty);
        }
        if draft.options.len() > MAX_OPTIONS_PER_GROUP {
            errors.add(
                format!("{field}.options"),
                Problem::TooLarge {
                    max: MAX_OPTIONS_PER_GROUP as i64,
                },
            );
        }
        let (min_select, max_select) = parse_select_bounds(
            errors,
            &field,
            draft.min_select,
            draft.max_select,
            draft.options.len(),
        );
        let mut names = HashSet::new();
        let mut options = Vec::new();
        for (j, option) in draft.options.into_iter().enumerate() {
            let option_field = format!("{field}.options[{j}]");
            let option_name = required_name(errors, &format!("{option_field}.name"), &option.name);
            if let Some(n) = &option_name
                && !names.insert(n.as_str().to_owned())
            {
                errors.add(format!("{option_field}.name"), Problem::Duplicate);
            }
            let option_name_en = optional_text(
                errors,
                &format!("{option_field}.name_en"),
                option.name_en.as_deref(),
                Name::MAX_CHARS,
            );
            check_delta(
                errors,
                &format!("{option_field}.price_delta_fen"),
                option.price_delta_fen,
            );
            if let Some(option_name) = option_name {
                options.push(DishOption {
                    id: option.id.unwrap_or_default(),
                    name: option_name,
                    name_en: option_name_en,
                    price_delta_fen: option.price_delta_fen,
                });
            }
        }
        if let Some(name) = name {
            groups.push(OptionGroup {
                id: draft.id.unwrap_or_default(),
                name,
                name_en,
                min_select,
                max_select,
                options,
            });
        }
    }
    groups
}

fn parse_combo_slots(
    errors: &mut FieldErrors,
    drafts: Vec<ComboSlotDraft>,
    known_skus: &HashSet<SkuId>,
    own_skus: &HashSet<SkuId>,
) -> Vec<ComboSlot> {
    if drafts.len() > MAX_COMBO_SLOTS {
        errors.add(
            "combo_slots",
            Problem::TooLarge {
                max: MAX_COMBO_SLOTS as i64,
            },
        );
    }
    let mut slots = Vec::new();
    for (i, draft) in drafts.into_iter().enumerate() {
        let field = format!("combo_slots[{i}]");
        let name = required_name(errors, &format!("{field}.name"), &draft.name);
        let name_en = optional_text(
            errors,
            &format!("{field}.name_en"),
            draft.name_en.as_deref(),
            Name::MAX_CHARS,
        );
        if draft.choices.is_empty() {
            errors.add(format!("{field}.choices"), Problem::Empty);
        }
        let (min_select, max_select) = parse_select_bounds(
            errors,
            &field,
            draft.min_select,
            draft.max_select,
            draft.choices.len(),
        );
        let mut choices = Vec::new();
        for (j, choice) in draft.choices.into_iter().enumerate() {
            let choice_field = format!("{field}.choices[{j}]");
            // A combo may not contain itself, and may only contain specs the brand has.
            if own_skus.contains(&choice.sku_id) || !known_skus.contains(&choice.sku_id) {
                errors.add(format!("{choice_field}.sku_id"), Problem::UnknownReference);
            }
            check_range(
                errors,
                &format!("{choice_field}.quantity"),
                choice.quantity,
                1,
                20,
            );
            check_delta(
                errors,
                &format!("{choice_field}.price_delta_fen"),
                choice.price_delta_fen,
            );
            choices.push(ComboChoice {
                id: choice.id.unwrap_or_default(),
                sku_id: choice.sku_id,
                quantity: choice.quantity.clamp(1, 20) as u8,
                price_delta_fen: choice.price_delta_fen,
            });
        }
        if let Some(name) = name {
            slots.push(ComboSlot {
                id: draft.id.unwrap_or_default(),
                name,
                name_en,
                min_select,
                max_select,
                choices,
            });
        }
    }
    slots
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noodle_draft() -> DishDraft {
        serde_json::from_value(serde_json::json!({
            "category_id": CategoryId::new(),
            "name": " 红烧牛肉面 ",
            "tags": ["招牌", "辣"],
            "skus": [
                {"code": "NR-L", "name": "大碗", "price_fen": 2800},
                {"code": "NR-M", "name": "中碗", "price_fen": 2400}
            ],
            "option_groups": [
                {"name": "辣度", "min_select": 1, "max_select": 1,
                 "options": [{"name": "不辣"}, {"name": "微辣"}, {"name": "特辣"}]},
                {"name": "加料", "min_select": 0, "max_select": 2,
                 "options": [{"name": "加蛋", "price_delta_fen": 200}, {"name": "加牛肉", "price_delta_fen": 800}]}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn a_good_draft_becomes_a_dish() {
        let dish = noodle_draft()
            .parse(DishId::new(), BrandId::new(), &HashSet::new())
            .unwrap();
        assert_eq!(dish.name.as_str(), "红烧牛肉面");
        assert_eq!(dish.from_price(), Money::from_fen(2400));
        assert!(dish.option_groups[0].is_required());
        assert!(!dish.option_groups[1].is_required());
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let mut draft = noodle_draft();
        draft.name = "  ".into();
        draft.skus[0].price_fen = Money::from_fen(-100);
        draft.skus[1].code = "NR-L".into();
        draft.option_groups[0].min_select = 3;
        draft.option_groups[0].max_select = 2;
        let errors = draft
            .parse(DishId::new(), BrandId::new(), &HashSet::new())
            .unwrap_err();
        let found: Vec<(String, &str)> = errors
            .iter()
            .map(|e| (e.field.clone(), e.problem.code()))
            .collect();
        assert_eq!(
            found,
            [
                ("name".to_owned(), "REQUIRED"),
                ("skus[0].price_fen".to_owned(), "MUST_BE_POSITIVE"),
                ("skus[1].code".to_owned(), "DUPLICATE"),
                ("option_groups[0].min_select".to_owned(), "MIN_ABOVE_MAX"),
            ]
        );
    }

    #[test]
    fn several_specs_each_need_a_name_and_absurd_prices_are_refused() {
        let mut draft = noodle_draft();
        draft.skus[1].name = None;
        draft.skus[0].price_fen = Money::from_fen(MAX_ITEM_PRICE.fen() + 1);
        let errors = draft
            .parse(DishId::new(), BrandId::new(), &HashSet::new())
            .unwrap_err();
        let codes: Vec<_> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.problem.code()))
            .collect();
        assert_eq!(
            codes,
            [
                ("skus[0].price_fen", "TOO_LARGE"),
                ("skus[1].name", "REQUIRED")
            ]
        );
    }

    #[test]
    fn combos_must_point_at_existing_specs() {
        let known = SkuId::new();
        let draft: DishDraft = serde_json::from_value(serde_json::json!({
            "category_id": CategoryId::new(),
            "kind": "combo",
            "name": "工作日午市套餐",
            "skus": [{"code": "LUNCH", "price_fen": 3200}],
            "combo_slots": [
                {"name": "主食", "min_select": 1, "max_select": 1,
                 "choices": [{"sku_id": known}, {"sku_id": SkuId::new()}]}
            ]
        }))
        .unwrap();
        let errors = draft
            .parse(DishId::new(), BrandId::new(), &HashSet::from([known]))
            .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["combo_slots[0].choices[1].sku_id"]);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let result: Result<DishDraft, _> = serde_json::from_value(serde_json::json!({
            "category_id": CategoryId::new(), "name": "x", "skus": [], "colour": "red"
        }));
        assert!(result.is_err());
    }
}
