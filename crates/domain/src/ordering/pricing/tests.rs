use super::*;
use crate::catalog::{
    CategoryDraft, DishDraft, MenuInputs, SkuStoreState, StoreClock, build_public_menu,
};
use crate::ordering::{DeliveryZone, ZoneArea};
use crate::schedule::{Schedule, TimeOfDay};
use jiff::tz::TimeZone;
use proptest::prelude::*;
use serde_json::json;

struct Shop {
    menu: PublicMenu,
    noodle_large: SkuId,
    noodle_medium: SkuId,
    spicy: Vec<OptionId>,
    egg: OptionId,
    beer: SkuId,
}

fn shop(beer_stock: Option<i64>) -> Shop {
    let brand = BrandId::new();
    let category = CategoryDraft {
        name: "面食".into(),
        name_en: None,
        sort_order: 0,
        availability: Schedule::always(),
    }
    .parse(CategoryId::new(), brand)
    .unwrap();
    let noodle: DishDraft = serde_json::from_value(json!({
        "category_id": category.id, "name": "牛肉面", "name_en": "Beef noodles",
        "skus": [{"code": "L", "name": "大碗", "name_en": "Large", "price_fen": 3200}, {"code": "M", "name": "中碗", "price_fen": 2800}],
        "option_groups": [
            {"name": "辣度", "min_select": 1, "max_select": 1, "options": [{"name": "微辣", "name_en": "Mild"}, {"name": "特辣"}]},
            {"name": "加料", "min_select": 0, "max_select": 2, "options": [{"name": "加蛋", "price_delta_fen": 200}, {"name": "加肉", "price_delta_fen": 1000}]}
        ]
    }))
    .unwrap();
    let beer: DishDraft = serde_json::from_value(json!({
        "category_id": category.id, "name": "啤酒", "skus": [{"code": "BEER", "price_fen": 1000}]
    }))
    .unwrap();
    let noodle = noodle.parse(DishId::new(), brand, &HashSet::new()).unwrap();
    let beer = beer.parse(DishId::new(), brand, &HashSet::new()).unwrap();
    let mut states = HashMap::new();
    if let Some(stock) = beer_stock {
        states.insert(
            beer.skus[0].id,
            SkuStoreState {
                stock: Some(stock),
                low_stock_threshold: Some(5),
                ..Default::default()
            },
        );
    }
    let zone = TimeZone::get("Asia/Shanghai").unwrap();
    let clock = StoreClock {
        now: "2026-11-25T04:00:00Z".parse().unwrap(),
        zone: &zone,
        business_day_starts_at: TimeOfDay::MIDNIGHT,
    };
    let dishes = [noodle.clone(), beer.clone()];
    let menu = build_public_menu(
        &MenuInputs {
            categories: &[category],
            dishes: &dishes,
            dish_settings: &HashMap::new(),
            sku_states: &states,
        },
        &clock,
    );
    Shop {
        menu,
        noodle_large: noodle.skus[0].id,
        noodle_medium: noodle.skus[1].id,
        spicy: noodle.option_groups[0]
            .options
            .iter()
            .map(|o| o.id)
            .collect(),
        egg: noodle.option_groups[1].options[0].id,
        beer: beer.skus[0].id,
    }
}

const ZONES: &[DeliveryZone] = &[];

fn context<'a>(menu: &'a PublicMenu, zones: &'a [DeliveryZone]) -> PricingContext<'a> {
    PricingContext {
        menu,
        store_open: true,
        opens_at: None,
        packing_fee: PackingFee::PerItem {
            fee_fen: Money::from_fen(100),
        },
        seat_fee_fen: Money::from_fen(300),
        store_location: GeoPoint::parse(31_230_000, 121_470_000).unwrap(),
        delivery_zones: zones,
        discounting: None,
    }
}

fn line(sku: SkuId, quantity: i64, options: Vec<OptionId>) -> LineRequest {
    LineRequest {
        sku_id: sku,
        quantity,
        option_ids: options,
        combo_choice_ids: vec![],
        note: None,
    }
}

#[test]
fn a_pickup_order_adds_options_and_packing_per_item() {
    let s = shop(None);
    let request = QuoteRequest {
        channel: Channel::Pickup,
        lines: vec![
            line(s.noodle_large, 2, vec![s.spicy[0], s.egg]),
            line(s.beer, 1, vec![]),
        ],
        diners: None,
        delivery_to: None,
    };
    let quote = quote(&context(&s.menu, ZONES), &request).unwrap();
    assert_eq!(quote.lines[0].unit_price_fen, Money::from_fen(3400));
    assert_eq!(quote.lines[0].line_total_fen, Money::from_fen(6800));
    assert_eq!(quote.subtotal_fen, Money::from_fen(7800));
    assert_eq!(
        quote.packing_fee_fen,
        Money::from_fen(300),
        "three items at ¥1"
    );
    assert_eq!(quote.seat_fee_fen, Money::ZERO);
    assert_eq!(quote.total_fen, Money::from_fen(8100));
    assert_eq!(
        quote.lines[0]
            .options
            .iter()
            .map(|o| o.name.as_str())
            .collect::<Vec<_>>(),
        ["微辣", "加蛋"]
    );
    // English where the merchant gave it, so a diner reading English sees it in the breakdown.
    let first = &quote.lines[0];
    assert_eq!(first.dish_name_en.as_deref(), Some("Beef noodles"));
    assert_eq!(first.sku_name_en.as_deref(), Some("Large"));
    assert_eq!(first.options[0].name_en.as_deref(), Some("Mild"));
    assert_eq!(first.options[1].name_en, None);
    assert_eq!(quote.lines[1].dish_name_en, None);
}

#[test]
fn dine_in_charges_seats_not_packing() {
    let s = shop(None);
    let request = QuoteRequest {
        channel: Channel::DineIn,
        lines: vec![line(s.beer, 1, vec![])],
        diners: Some(4),
        delivery_to: None,
    };
    let quote = quote(&context(&s.menu, ZONES), &request).unwrap();
    assert_eq!(
        (quote.packing_fee_fen, quote.seat_fee_fen, quote.total_fen),
        (Money::ZERO, Money::from_fen(1200), Money::from_fen(2200))
    );
    let too_many = QuoteRequest {
        diners: Some(500),
        ..request
    };
    assert_eq!(
        super::quote(&context(&s.menu, ZONES), &too_many),
        Err(QuoteError::DinersOutOfRange { max: MAX_DINERS })
    );
}

#[test]
fn every_bad_line_is_named() {
    let s = shop(Some(3));
    let request = QuoteRequest {
        channel: Channel::Pickup,
        lines: vec![
            line(s.noodle_medium, 1, vec![]),          // missing 辣度
            line(s.noodle_medium, 1, s.spicy.clone()), // two spice levels
            line(s.beer, 0, vec![]),                   // zero
            line(s.beer, 10_000, vec![]),              // absurd
            line(SkuId::new(), 1, vec![]),             // unknown
            line(s.beer, 1, vec![OptionId::new()]),    // option of nothing
        ],
        diners: None,
        delivery_to: None,
    };
    let Err(QuoteError::Lines(errors)) = quote(&context(&s.menu, ZONES), &request) else {
        panic!("expected line errors")
    };
    let codes: Vec<(usize, &str)> = errors.iter().map(|e| (e.index, e.problem.code())).collect();
    assert_eq!(
        codes,
        [
            (0, "MISSING_CHOICE"),
            (1, "TOO_MANY_CHOICES"),
            (2, "QUANTITY_OUT_OF_RANGE"),
            (3, "QUANTITY_OUT_OF_RANGE"),
            (4, "UNKNOWN_ITEM"),
            (5, "UNKNOWN_OPTION")
        ]
    );
    assert_eq!(
        errors[0].problem.message_zh(&errors[0].item),
        "请为牛肉面选择辣度"
    );
}

#[test]
fn stock_left_bounds_the_sum_of_lines_for_one_spec() {
    let s = shop(Some(3));
    let request = QuoteRequest {
        channel: Channel::Pickup,
        lines: vec![line(s.beer, 2, vec![]), line(s.beer, 2, vec![])],
        diners: None,
        delivery_to: None,
    };
    assert!(matches!(
        quote(&context(&s.menu, ZONES), &request),
        Err(QuoteError::Lines(_))
    ));
}

#[test]
fn delivery_needs_an_address_in_a_zone_and_the_zone_minimum() {
    let s = shop(None);
    let zones = vec![DeliveryZone {
        name: "3公里".into(),
        area: ZoneArea::Radius { radius_m: 3_000 },
        fee_fen: Money::from_fen(500),
        minimum_order_fen: Money::from_fen(2000),
    }];
    let near = GeoPoint::parse(31_240_000, 121_470_000).unwrap();
    let far = GeoPoint::parse(31_400_000, 121_470_000).unwrap();
    let ctx = context(&s.menu, &zones);
    let order = |lines, to| QuoteRequest {
        channel: Channel::Delivery,
        lines,
        diners: None,
        delivery_to: to,
    };
    assert_eq!(
        quote(&ctx, &order(vec![line(s.beer, 3, vec![])], None)),
        Err(QuoteError::DeliveryAddressRequired)
    );
    assert_eq!(
        quote(&ctx, &order(vec![line(s.beer, 3, vec![])], Some(far))),
        Err(QuoteError::OutsideDeliveryZones)
    );
    assert_eq!(
        quote(&ctx, &order(vec![line(s.beer, 1, vec![])], Some(near))),
        Err(QuoteError::BelowMinimumOrder {
            minimum_fen: Money::from_fen(2000),
            subtotal_fen: Money::from_fen(1000)
        })
    );
    let ok = quote(&ctx, &order(vec![line(s.beer, 3, vec![])], Some(near))).unwrap();
    assert_eq!(
        (ok.delivery_fee_fen, ok.total_fen),
        (Money::from_fen(500), Money::from_fen(3800))
    );
}

#[test]
fn a_closed_store_quotes_nothing_and_versions_follow_content() {
    let s = shop(None);
    let mut ctx = context(&s.menu, ZONES);
    let request = QuoteRequest {
        channel: Channel::Pickup,
        lines: vec![line(s.beer, 1, vec![])],
        diners: None,
        delivery_to: None,
    };
    let first = quote(&ctx, &request).unwrap();
    assert_eq!(
        first.version,
        quote(&ctx, &request).unwrap().version,
        "deterministic"
    );
    let two = QuoteRequest {
        lines: vec![line(s.beer, 2, vec![])],
        ..request.clone()
    };
    assert_ne!(first.version, quote(&ctx, &two).unwrap().version);
    ctx.store_open = false;
    ctx.opens_at = Some("2026-11-26T07:00".into());
    assert_eq!(
        quote(&ctx, &request),
        Err(QuoteError::StoreClosed {
            opens_at: Some("2026-11-26T07:00".into())
        })
    );
}

proptest! {
    #[test]
    fn totals_add_up_and_never_go_negative(
        large in 0i64..5, medium in 0i64..5, beer in 0i64..5, diners in 1i64..10, egg in any::<bool>(), channel in 0u8..2,
    ) {
        let s = shop(None);
        let mut lines = Vec::new();
        let extras = |egg: bool| if egg { vec![s.spicy[1], s.egg] } else { vec![s.spicy[1]] };
        if large > 0 { lines.push(line(s.noodle_large, large, extras(egg))); }
        if medium > 0 { lines.push(line(s.noodle_medium, medium, extras(!egg))); }
        if beer > 0 { lines.push(line(s.beer, beer, vec![])); }
        let channel = if channel == 0 { Channel::DineIn } else { Channel::Pickup };
        let request = QuoteRequest { channel, lines: lines.clone(), diners: Some(diners), delivery_to: None };
        match quote(&context(&s.menu, ZONES), &request) {
            Err(QuoteError::Empty) => prop_assert!(lines.is_empty()),
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
            Ok(q) => {
                prop_assert_eq!(q.subtotal_fen, q.lines.iter().map(|l| l.line_total_fen).sum::<Money>());
                prop_assert_eq!(q.total_fen, q.subtotal_fen + q.packing_fee_fen + q.seat_fee_fen + q.delivery_fee_fen - q.discount_total_fen);
                prop_assert!(!q.total_fen.is_negative());
                prop_assert_eq!(q.item_count, large + medium + beer);
            }
        }
    }
}

/// The shop with every spec and add-on price replaced, as a corrupt or hostile menu could have it.
fn priced_shop(sku_fen: i64, delta_fen: i64) -> Shop {
    let mut s = shop(None);
    for dish in s.menu.categories.iter_mut().flat_map(|c| &mut c.dishes) {
        for sku in &mut dish.skus {
            sku.price_fen = Money::from_fen(sku_fen);
        }
        for option in dish.option_groups.iter_mut().flat_map(|g| &mut g.options) {
            option.price_delta_fen = Money::from_fen(delta_fen);
        }
    }
    s
}

#[test]
fn a_line_whose_price_overflows_is_refused_not_free() {
    let s = priced_shop(i64::MAX / 2, 0);
    let request = QuoteRequest {
        channel: Channel::DineIn,
        lines: vec![line(s.beer, 3, vec![])],
        diners: Some(1),
        delivery_to: None,
    };
    let Err(QuoteError::Lines(errors)) = quote(&context(&s.menu, ZONES), &request) else {
        panic!("an overflowing line must be an error")
    };
    assert_eq!(errors[0].problem, LineProblem::PriceTooLarge);
    assert_eq!(errors[0].problem.code(), "PRICE_TOO_LARGE");

    // Each line fits; their sum does not.
    let s = priced_shop(i64::MAX / 3, 0);
    let request = QuoteRequest {
        lines: vec![
            line(s.beer, 2, vec![]),
            line(s.noodle_large, 2, vec![s.spicy[0]]),
        ],
        ..request
    };
    assert_eq!(
        quote(&context(&s.menu, ZONES), &request),
        Err(QuoteError::TotalTooLarge)
    );
}

#[test]
fn fees_that_overflow_are_refused_not_waived() {
    let s = shop(None);
    let mut ctx = context(&s.menu, ZONES);
    ctx.seat_fee_fen = Money::from_fen(i64::MAX / 2);
    let request = QuoteRequest {
        channel: Channel::DineIn,
        lines: vec![line(s.beer, 1, vec![])],
        diners: Some(3),
        delivery_to: None,
    };
    assert_eq!(quote(&ctx, &request), Err(QuoteError::TotalTooLarge));
    ctx.seat_fee_fen = Money::ZERO;
    ctx.packing_fee = PackingFee::PerItem {
        fee_fen: Money::from_fen(i64::MAX / 2),
    };
    let request = QuoteRequest {
        channel: Channel::Pickup,
        lines: vec![line(s.beer, 3, vec![])],
        ..request
    };
    assert_eq!(quote(&ctx, &request), Err(QuoteError::TotalTooLarge));
}

proptest! {
    /// Whatever the prices, a quote either refuses or charges at least every line it lists,
    /// and each line is exactly its unit price times its quantity.
    #[test]
    fn huge_prices_never_make_a_total_below_any_line(
        sku_fen in prop_oneof![0i64..10_000, (i64::MAX / 200)..i64::MAX, Just(i64::MAX)],
        delta_fen in prop_oneof![-10_000i64..10_000, (i64::MAX / 4)..i64::MAX],
        quantities in proptest::collection::vec(1i64..=MAX_QUANTITY, 1..6),
        fee_fen in prop_oneof![0i64..1_000, (i64::MAX / 100)..i64::MAX],
        diners in 1i64..=MAX_DINERS,
        channel in 0u8..2,
    ) {
        let s = priced_shop(sku_fen, delta_fen);
        let mut ctx = context(&s.menu, ZONES);
        ctx.packing_fee = PackingFee::PerItem { fee_fen: Money::from_fen(fee_fen) };
        ctx.seat_fee_fen = Money::from_fen(fee_fen);
        let lines = quantities
            .iter()
            .enumerate()
            .map(|(i, &q)| match i % 3 {
                0 => line(s.beer, q, vec![]),
                1 => line(s.noodle_large, q, vec![s.spicy[0], s.egg]),
                _ => line(s.noodle_medium, q, vec![s.spicy[1]]),
            })
            .collect();
        let channel = if channel == 0 { Channel::DineIn } else { Channel::Pickup };
        let request = QuoteRequest { channel, lines, diners: Some(diners), delivery_to: None };
        match quote(&ctx, &request) {
            Err(QuoteError::TotalTooLarge) => {}
            Err(QuoteError::Lines(errors)) => {
                prop_assert!(errors.iter().all(|e| e.problem == LineProblem::PriceTooLarge), "{errors:?}");
            }
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
            Ok(q) => {
                for l in &q.lines {
                    prop_assert_eq!(l.line_total_fen.fen() as i128, l.unit_price_fen.fen() as i128 * l.quantity as i128);
                    prop_assert!(l.line_total_fen <= q.total_fen, "line {:?} above total {:?}", l.line_total_fen, q.total_fen);
                }
                let subtotal: i128 = q.lines.iter().map(|l| l.line_total_fen.fen() as i128).sum();
                prop_assert_eq!(q.subtotal_fen.fen() as i128, subtotal);
                prop_assert!(q.total_fen >= q.subtotal_fen);
            }
        }
    }
}

mod with_promotions {
    use super::*;
    use crate::promotions::*;
    use crate::schedule::{TimeWindow, Weekdays};

    fn tiers() -> Promotion {
        Promotion::new(PromotionSpec {
            id: PromotionId::new(),
            name: "满50减5，满100减15".into(),
            conditions: Conditions::always(),
            benefit: PromotionBenefit::SpendAndSave {
                scope: ItemScope::everything(),
                tiers: vec![
                    Tier {
                        threshold: Money::from_yuan(50),
                        save: Money::from_yuan(5),
                    },
                    Tier {
                        threshold: Money::from_yuan(100),
                        save: Money::from_yuan(15),
                    },
                ],
            },
            stacking: Stacking::with_other_classes(Class::Order),
        })
        .unwrap()
    }

    fn afternoon_beer(s: &Shop) -> Promotion {
        let beer_dish = s
            .menu
            .categories
            .iter()
            .flat_map(|c| &c.dishes)
            .find(|d| d.name == "啤酒")
            .unwrap()
            .id;
        Promotion::new(PromotionSpec {
            id: PromotionId::new(),
            name: "下午茶啤酒6元".into(),
            conditions: Conditions {
                schedule: Schedule::new(vec![TimeWindow {
                    weekdays: Weekdays::ALL,
                    start: TimeOfDay::parse("14:00").unwrap(),
                    end: TimeOfDay::parse("17:00").unwrap(),
                }]),
                ..Conditions::always()
            },
            benefit: PromotionBenefit::SlotPrice {
                dish_id: beer_dish,
                price: Money::from_yuan(6),
            },
            stacking: Stacking::with_everything(),
        })
        .unwrap()
    }

    fn priced(
        s: &Shop,
        promotions: &[Promotion],
        local: &str,
        lines: Vec<LineRequest>,
        chosen: Option<&[OfferRef]>,
    ) -> Result<Quote, QuoteError> {
        let mut context = context(&s.menu, ZONES);
        let local_time: jiff::civil::DateTime = local.parse().unwrap();
        context.discounting = Some(Discounting {
            store_id: StoreId::new(),
            offers: Offers {
                promotions,
                coupons: &[],
                grants: &[],
            },
            local_time,
            now: "2026-11-25T06:00:00Z".parse().unwrap(),
            member_level: None,
            first_order: false,
            chosen,
        });
        quote(
            &context,
            &QuoteRequest {
                channel: Channel::DineIn,
                lines,
                diners: Some(1),
                delivery_to: None,
            },
        )
    }

    #[test]
    fn the_best_tier_is_taken_off_and_spread_over_the_lines_exactly() {
        let s = shop(None);
        let promotions = [tiers()];
        let lines = vec![
            line(s.noodle_large, 3, vec![s.spicy[0]]),
            line(s.beer, 1, vec![]),
        ];
        let quote = priced(&s, &promotions, "2026-11-25T12:00", lines, None).unwrap();
        // 3 × ¥32 + ¥10 = ¥106: 满100减15.
        assert_eq!(quote.subtotal_fen, Money::from_fen(10_600));
        assert_eq!(quote.discount_total_fen, Money::from_yuan(15));
        assert_eq!(quote.discounts.len(), 1);
        assert_eq!(quote.discounts[0].label, "满50减5，满100减15");
        assert_eq!(quote.discounts[0].class, "order");
        assert_eq!(
            quote.lines.iter().map(|l| l.discount_fen).sum::<Money>(),
            Money::from_yuan(15),
            "the lines carry the whole discount, to the fen"
        );
        assert_eq!(
            quote.total_fen,
            quote.subtotal_fen + quote.seat_fee_fen - Money::from_yuan(15)
        );
        assert_eq!(
            quote.chosen,
            vec![offer_source(&OfferRef::Promotion(promotions[0].id()))]
        );
        assert!(quote.best_proven);
    }

    #[test]
    fn the_cart_bar_hints_at_the_next_tier() {
        let s = shop(None);
        let promotions = [tiers()];
        let quote = priced(
            &s,
            &promotions,
            "2026-11-25T12:00",
            vec![line(s.noodle_large, 2, vec![s.spicy[0]])],
            None,
        )
        .unwrap();
        // ¥64: 满50减5 applies; ¥36 more reaches 满100减15.
        assert_eq!(quote.discount_total_fen, Money::from_yuan(5));
        let hint = quote.hint.expect("a next tier");
        assert_eq!(hint.needed_fen, Money::from_yuan(36));
        assert_eq!(hint.message, "再买 36 元减 15");
    }

    #[test]
    fn the_afternoon_price_ends_at_five_sharp() {
        let s = shop(None);
        let promotions = [afternoon_beer(&s)];
        let beer = || vec![line(s.beer, 2, vec![])];
        let at_459 = priced(&s, &promotions, "2026-11-25T16:59:59", beer(), None).unwrap();
        assert_eq!(at_459.discount_total_fen, Money::from_yuan(8));
        assert_eq!(at_459.discounts[0].class, "item");
        let at_five = priced(&s, &promotions, "2026-11-25T17:00:00", beer(), None).unwrap();
        assert_eq!(at_five.discount_total_fen, Money::ZERO);
        assert_eq!(at_five.not_applicable[0].code, "OUTSIDE_HOURS");
    }

    #[test]
    fn a_pick_the_engine_cannot_use_is_refused_with_reasons() {
        let s = shop(None);
        let promotions = [afternoon_beer(&s)];
        let pick = [OfferRef::Promotion(promotions[0].id())];
        let refused = priced(
            &s,
            &promotions,
            "2026-11-25T10:00",
            vec![line(s.beer, 1, vec![])],
            Some(&pick),
        );
        let Err(QuoteError::OffersRefused(reasons)) = refused else {
            panic!("expected a refusal, got {refused:?}");
        };
        assert_eq!(reasons[0].code, "OUTSIDE_HOURS");
        assert_eq!(reasons[0].label, "下午茶啤酒6元");
        // Choosing nothing prices at menu prices.
        let none = priced(
            &s,
            &promotions,
            "2026-11-25T15:00",
            vec![line(s.beer, 1, vec![])],
            Some(&[]),
        )
        .unwrap();
        assert_eq!(none.discount_total_fen, Money::ZERO);
        assert!(!none.best_proven);
    }

    #[test]
    fn offer_sources_round_trip() {
        let offer = OfferRef::Coupon(CouponGrantId::new());
        assert_eq!(parse_offer_source(&offer_source(&offer)), Some(offer));
        assert_eq!(parse_offer_source("member:1"), None);
        assert_eq!(parse_offer_source("coupon:not-a-uuid"), None);
    }
}
