//! What a diner can order at one store right now: the brand catalog filtered by shelf,
//! time windows and store settings, with store prices and sold-out flags applied.

use super::{Category, Dish, DishKind, SkuStoreState};
use crate::ids::*;
use crate::money::Money;
use crate::schedule::{BusinessDate, TimeOfDay};
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A store's choices about one brand dish.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DishStoreSettings {
    /// Whether this store sells the dish at all.
    pub listed: bool,
}

impl Default for DishStoreSettings {
    fn default() -> Self {
        DishStoreSettings { listed: true }
    }
}

/// Everything the public menu is computed from.
pub struct MenuInputs<'a> {
    pub categories: &'a [Category],
    pub dishes: &'a [Dish],
    pub dish_settings: &'a HashMap<DishId, DishStoreSettings>,
    pub sku_states: &'a HashMap<SkuId, SkuStoreState>,
}

/// The clock as the store sees it.
pub struct StoreClock<'a> {
    pub now: Timestamp,
    pub zone: &'a TimeZone,
    pub business_day_starts_at: TimeOfDay,
}

impl StoreClock<'_> {
    pub fn local(&self) -> DateTime {
        self.now.to_zoned_datetime(self.zone.clone()).datetime()
    }

    pub fn business_date(&self) -> BusinessDate {
        BusinessDate::of(self.now, self.zone, self.business_day_starts_at)
    }

    fn to_timestamp(&self, local: DateTime) -> Option<Timestamp> {
        local
            .to_zoned_datetime(self.zone.clone())
            .ok()
            .map(|z| z.timestamp())
    }

    /// The next rollover of the business day, when daily limits reset.
    fn next_business_day_start(&self) -> Option<Timestamp> {
        let local = self.local();
        let start = TimeOfDay::from_minutes(self.business_day_starts_at.minutes() % (24 * 60))?;
        let today_start = local.date().at(
            (start.minutes() / 60) as i8,
            (start.minutes() % 60) as i8,
            0,
            0,
        );
        let next = if today_start > local {
            today_start
        } else {
            today_start.tomorrow().ok()?
        };
        self.to_timestamp(next)
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicMenu {
    pub business_date: BusinessDate,
    /// The menu may change by itself at this instant (a time window opens or closes).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub valid_until: Option<Timestamp>,
    pub categories: Vec<PublicCategory>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicCategory {
    pub id: CategoryId,
    pub name: String,
    pub name_en: Option<String>,
    pub dishes: Vec<PublicDish>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicDish {
    pub id: DishId,
    pub kind: DishKind,
    pub name: String,
    pub name_en: Option<String>,
    pub description: Option<String>,
    pub description_en: Option<String>,
    pub tags: Vec<String>,
    pub ingredients: Option<String>,
    pub allergens: Vec<String>,
    pub calories_kcal: Option<i64>,
    pub portion: Option<String>,
    pub station_id: Option<StationId>,
    pub image_ids: Vec<ImageId>,
    pub price_from_fen: Money,
    pub sold_out: bool,
    /// True when the diner must pick a spec or option before adding (选规格).
    pub needs_choices: bool,
    pub skus: Vec<PublicSku>,
    pub option_groups: Vec<PublicOptionGroup>,
    pub combo_slots: Vec<PublicComboSlot>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicSku {
    pub id: SkuId,
    pub name: Option<String>,
    pub name_en: Option<String>,
    pub price_fen: Money,
    pub sold_out: bool,
    /// Shown only when stock runs low ("仅剩 3 份").
    pub remaining: Option<i64>,
    /// Counted stock or a daily limit applies (限量): selling it can change the menu.
    pub limited: bool,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicOptionGroup {
    pub id: OptionGroupId,
    pub name: String,
    pub name_en: Option<String>,
    pub min_select: u8,
    pub max_select: u8,
    pub options: Vec<PublicOption>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicOption {
    pub id: OptionId,
    pub name: String,
    pub name_en: Option<String>,
    pub price_delta_fen: Money,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicComboSlot {
    pub id: ComboSlotId,
    pub name: String,
    pub name_en: Option<String>,
    pub min_select: u8,
    pub max_select: u8,
    pub choices: Vec<PublicComboChoice>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicComboChoice {
    pub id: ComboChoiceId,
    pub sku_id: SkuId,
    pub dish_name: String,
    pub dish_name_en: Option<String>,
    pub sku_name: Option<String>,
    pub sku_name_en: Option<String>,
    pub quantity: u8,
    pub price_delta_fen: Money,
    pub sold_out: bool,
}

/// Builds the orderable menu. Categories and dishes keep the merchant's sort order.
pub fn build_public_menu(inputs: &MenuInputs<'_>, clock: &StoreClock<'_>) -> PublicMenu {
    let local = clock.local();
    let today = clock.business_date();
    let default_state = SkuStoreState::default();
    let state_of = |sku: SkuId| inputs.sku_states.get(&sku).unwrap_or(&default_state);
    let orderable_dish = |dish: &Dish| {
        dish.on_shelf
            && inputs
                .dish_settings
                .get(&dish.id)
                .copied()
                .unwrap_or_default()
                .listed
            && dish.availability.contains(local)
    };
    let sku_index: HashMap<SkuId, (&Dish, &super::Sku)> = inputs
        .dishes
        .iter()
        .flat_map(|d| d.skus.iter().map(move |s| (s.id, (d, s))))
        .collect();

    let mut categories: Vec<&Category> = inputs.categories.iter().collect();
    categories.sort_by_key(|c| (c.sort_order, c.name.as_str()));
    let mut dishes: Vec<&Dish> = inputs.dishes.iter().collect();
    dishes.sort_by_key(|d| (d.sort_order, d.name.as_str()));

    let mut changes: Vec<DateTime> = Vec::new();
    let mut public_categories = Vec::new();
    for category in categories {
        changes.extend(category.availability.next_change_after(local));
        if !category.availability.contains(local) {
            continue;
        }
        let mut public_dishes = Vec::new();
        for dish in dishes.iter().filter(|d| d.category_id == category.id) {
            changes.extend(dish.availability.next_change_after(local));
            if !orderable_dish(dish) {
                continue;
            }
            let skus: Vec<PublicSku> = dish
                .skus
                .iter()
                .map(|sku| {
                    let state = state_of(sku.id);
                    PublicSku {
                        id: sku.id,
                        name: sku.name.as_ref().map(|n| n.to_string()),
                        name_en: sku.name_en.clone(),
                        price_fen: state.price_fen.unwrap_or(sku.price_fen),
                        sold_out: state.is_sold_out(today),
                        remaining: state
                            .is_low(today)
                            .then(|| state.remaining(today))
                            .flatten(),
                        limited: state.stock.is_some() || state.daily_limit.is_some(),
                    }
                })
                .collect();
            let combo_slots: Vec<PublicComboSlot> = dish
                .combo_slots
                .iter()
                .map(|slot| PublicComboSlot {
                    id: slot.id,
                    name: slot.name.to_string(),
                    name_en: slot.name_en.clone(),
                    min_select: slot.min_select,
                    max_select: slot.max_select,
                    choices: slot
                        .choices
                        .iter()
                        .filter_map(|choice| {
                            let (part_dish, part_sku) = sku_index.get(&choice.sku_id)?;
                            Some(PublicComboChoice {
                                id: choice.id,
                                sku_id: choice.sku_id,
                                dish_name: part_dish.name.to_string(),
                                dish_name_en: part_dish.name_en.clone(),
                                sku_name: part_sku.name.as_ref().map(|n| n.to_string()),
                                sku_name_en: part_sku.name_en.clone(),
                                quantity: choice.quantity,
                                price_delta_fen: choice.price_delta_fen,
                                sold_out: !orderable_dish(part_dish)
                                    || state_of(choice.sku_id).is_sold_out(today),
                            })
                        })
                        .collect(),
                })
                .collect();
            // A combo is sold out when some slot can no longer be filled.
            let combo_blocked = dish.kind == DishKind::Combo
                && combo_slots.iter().any(|slot| {
                    slot.choices.iter().filter(|c| !c.sold_out).count() < slot.min_select as usize
                });
            let sold_out = skus.iter().all(|s| s.sold_out) || combo_blocked;
            let price_from_fen = skus
                .iter()
                .filter(|s| !s.sold_out)
                .chain(skus.iter())
                .map(|s| s.price_fen)
                .min()
                .unwrap_or(Money::ZERO);
            let needs_choices = skus.len() > 1
                || dish
                    .option_groups
                    .iter()
                    .any(|g| g.is_required() || !g.options.is_empty())
                || combo_slots
                    .iter()
                    .any(|s| s.choices.len() > s.min_select as usize);
            public_dishes.push(PublicDish {
                id: dish.id,
                kind: dish.kind,
                name: dish.name.to_string(),
                name_en: dish.name_en.clone(),
                description: dish.description.clone(),
                description_en: dish.description_en.clone(),
                tags: dish.tags.clone(),
                ingredients: dish.ingredients.clone(),
                allergens: dish.allergens.clone(),
                calories_kcal: dish.calories_kcal,
                portion: dish.portion.clone(),
                station_id: dish.station_id,
                image_ids: dish.image_ids.clone(),
                price_from_fen,
                sold_out,
                needs_choices,
                skus,
                option_groups: dish
                    .option_groups
                    .iter()
                    .map(|g| PublicOptionGroup {
                        id: g.id,
                        name: g.name.to_string(),
                        name_en: g.name_en.clone(),
                        min_select: g.min_select,
                        max_select: g.max_select,
                        options: g
                            .options
                            .iter()
                            .map(|o| PublicOption {
                                id: o.id,
                                name: o.name.to_string(),
                                name_en: o.name_en.clone(),
                                price_delta_fen: o.price_delta_fen,
                            })
                            .collect(),
                    })
                    .collect(),
                combo_slots,
            });
        }
        if !public_dishes.is_empty() {
            public_categories.push(PublicCategory {
                id: category.id,
                name: category.name.to_string(),
                name_en: category.name_en.clone(),
                dishes: public_dishes,
            });
        }
    }

    let valid_until = changes
        .into_iter()
        .filter_map(|local| clock.to_timestamp(local))
        .chain(clock.next_business_day_start())
        .min();
    PublicMenu {
        business_date: today,
        valid_until,
        categories: public_categories,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{CategoryDraft, DishDraft};
    use crate::schedule::{Schedule, TimeWindow, Weekdays};
    use std::collections::HashSet;

    struct Fixture {
        brand: BrandId,
        categories: Vec<Category>,
        dishes: Vec<Dish>,
    }

    fn category(brand: BrandId, name: &str, sort: i64, availability: Schedule) -> Category {
        CategoryDraft {
            name: name.into(),
            name_en: None,
            sort_order: sort,
            availability,
        }
        .parse(CategoryId::new(), brand)
        .unwrap()
    }

    fn dish(brand: BrandId, category: CategoryId, name: &str, code: &str, price: i64) -> Dish {
        let draft: DishDraft = serde_json::from_value(serde_json::json!({
            "category_id": category, "name": name,
            "skus": [{"code": code, "price_fen": price}]
        }))
        .unwrap();
        draft.parse(DishId::new(), brand, &HashSet::new()).unwrap()
    }

    fn fixture() -> Fixture {
        let brand = BrandId::new();
        let breakfast = Schedule::new(vec![TimeWindow {
            weekdays: Weekdays::ALL,
            start: TimeOfDay::parse("06:00").unwrap(),
            end: TimeOfDay::parse("10:00").unwrap(),
        }]);
        let noodles = category(brand, "面食", 2, Schedule::always());
        let morning = category(brand, "早餐", 1, breakfast);
        let dishes = vec![
            dish(brand, noodles.id, "牛肉面", "BEEF", 2800),
            dish(brand, morning.id, "豆浆油条", "DOUJIANG", 800),
        ];
        Fixture {
            brand,
            categories: vec![noodles, morning],
            dishes,
        }
    }

    fn clock_at<'a>(zone: &'a TimeZone, utc: &str) -> StoreClock<'a> {
        StoreClock {
            now: utc.parse().unwrap(),
            zone,
            business_day_starts_at: TimeOfDay::parse("04:00").unwrap(),
        }
    }

    #[test]
    fn time_windows_and_store_settings_decide_what_shows() {
        let f = fixture();
        let zone = TimeZone::get("Asia/Shanghai").unwrap();
        let no_dish_settings = HashMap::new();
        let no_states = HashMap::new();
        let inputs = MenuInputs {
            categories: &f.categories,
            dishes: &f.dishes,
            dish_settings: &no_dish_settings,
            sku_states: &no_states,
        };
        // 00:30 UTC = 08:30 Shanghai: breakfast is on and sorts first.
        let morning = build_public_menu(&inputs, &clock_at(&zone, "2026-11-26T00:30:00Z"));
        let names: Vec<_> = morning.categories.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["早餐", "面食"]);
        assert_eq!(
            morning.valid_until,
            Some("2026-11-26T02:00:00Z".parse().unwrap()),
            "10:00 local"
        );

        // 04:00 UTC = noon: breakfast is gone.
        let noon = build_public_menu(&inputs, &clock_at(&zone, "2026-11-26T04:00:00Z"));
        let names: Vec<_> = noon.categories.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["面食"]);
        assert_eq!(f.brand, f.dishes[0].brand_id);
    }

    #[test]
    fn store_price_and_sold_out_apply_and_unlisted_dishes_vanish() {
        let f = fixture();
        let zone = TimeZone::get("Asia/Shanghai").unwrap();
        let beef = &f.dishes[0];
        let states = HashMap::from([(
            beef.skus[0].id,
            SkuStoreState {
                price_fen: Some(Money::from_fen(2600)),
                sold_out: true,
                ..Default::default()
            },
        )]);
        let settings = HashMap::from([(f.dishes[1].id, DishStoreSettings { listed: false })]);
        let inputs = MenuInputs {
            categories: &f.categories,
            dishes: &f.dishes,
            dish_settings: &settings,
            sku_states: &states,
        };
        let menu = build_public_menu(&inputs, &clock_at(&zone, "2026-11-26T00:30:00Z"));
        assert_eq!(
            menu.categories.len(),
            1,
            "breakfast category is empty in this store"
        );
        let shown = &menu.categories[0].dishes[0];
        assert_eq!(shown.skus[0].price_fen, Money::from_fen(2600));
        assert!(shown.sold_out);
        assert!(!shown.needs_choices);
    }
}
