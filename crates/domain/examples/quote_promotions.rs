//! Times the promotions engine on a busy cart: 20 lines, 10 active promotions, 10 coupons,
//! next to today's quote of the same cart measured in the same run.
//! Run with `cargo run --release -p diancan-domain --example quote_promotions [runs]`.

use diancan_domain::catalog::{
    CategoryDraft, DishDraft, MenuInputs, PublicMenu, SkuStoreState, StoreClock, build_public_menu,
};
use diancan_domain::ids::{
    BrandId, CategoryId, CouponGrantId, CouponId, DishId, PromotionId, SkuId, StoreId,
};
use diancan_domain::money::Money;
use diancan_domain::ordering::{
    Channel, DeliveryZone, Discounting, LineRequest, PricingContext, Quote, QuoteRequest, ZoneArea,
    quote,
};
use diancan_domain::promotions::*;
use diancan_domain::schedule::{Schedule, TimeOfDay, TimeWindow, Weekdays};
use diancan_domain::store::{GeoPoint, PackingFee};
use jiff::Timestamp;
use jiff::civil::date;
use jiff::tz::TimeZone;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use uuid::Uuid;

fn dish(n: u128) -> DishId {
    DishId::from_uuid(Uuid::from_u128(1_000 + n))
}

fn category(n: u128) -> CategoryId {
    CategoryId::from_uuid(Uuid::from_u128(2_000 + n))
}

/// Twelve dishes of one spec each in four categories; dishes 0 and 10 are down to 5 portions.
fn menu() -> (PublicMenu, Vec<SkuId>) {
    let brand = BrandId::new();
    let categories: Vec<_> = (0..4u128)
        .map(|c| {
            CategoryDraft {
                name: format!("分类{c}"),
                name_en: None,
                sort_order: c as i64,
                availability: Schedule::always(),
            }
            .parse(category(c), brand)
            .expect("a valid category")
        })
        .collect();
    let dishes: Vec<_> = (0..12u128)
        .map(|d| {
            let draft: DishDraft = serde_json::from_value(serde_json::json!({
                "category_id": category(d % 4),
                "name": format!("菜品{d}"),
                "skus": [{"code": format!("D{d}"), "price_fen": 1_200 + (d as i64 * 737) % 3_800}],
            }))
            .expect("a dish draft");
            draft
                .parse(dish(d), brand, &HashSet::new())
                .expect("a valid dish")
        })
        .collect();
    let states = [0usize, 10]
        .into_iter()
        .map(|d| {
            let state = SkuStoreState {
                stock: Some(5),
                low_stock_threshold: Some(5),
                ..Default::default()
            };
            (dishes[d].skus[0].id, state)
        })
        .collect();
    let zone = TimeZone::get("Asia/Shanghai").expect("a bundled zone");
    let clock = StoreClock {
        now: "2026-12-02T04:30:00Z".parse().expect("an instant"),
        zone: &zone,
        business_day_starts_at: TimeOfDay::MIDNIGHT,
    };
    let menu = build_public_menu(
        &MenuInputs {
            categories: &categories,
            dishes: &dishes,
            dish_settings: &HashMap::new(),
            sku_states: &states,
        },
        &clock,
    );
    (menu, dishes.iter().map(|d| d.skus[0].id).collect())
}

/// The quote's lines as the promotions engine reads them.
fn cart_of(quote: &Quote, menu: &PublicMenu) -> Cart {
    let category_of = |dish_id: DishId| {
        menu.categories
            .iter()
            .find(|c| c.dishes.iter().any(|d| d.id == dish_id))
            .map(|c| c.id)
            .expect("a dish on the menu")
    };
    let remaining = |dish_id: DishId| {
        menu.categories
            .iter()
            .flat_map(|c| &c.dishes)
            .find(|d| d.id == dish_id)
            .and_then(|d| d.skus[0].remaining)
    };
    let lines = quote
        .lines
        .iter()
        .map(|l| CartLine {
            dish_id: l.dish_id,
            category_id: category_of(l.dish_id),
            unit_price: l.unit_price_fen,
            quantity: l.quantity,
            stock_left: remaining(l.dish_id),
        })
        .collect();
    Cart::new(lines).expect("a valid cart")
}

/// How often the scheduler has taken this thread off its core (Linux): a run during which it
/// did measured the machine's other work, not the engine.
fn involuntary_switches() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/thread-self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("nonvoluntary_ctxt_switches:"))
        .and_then(|n| n.trim().parse().ok())
}

fn percentiles(mut took: Vec<Duration>) -> String {
    took.sort();
    let at = |q: f64| took[((took.len() as f64 * q) as usize).min(took.len() - 1)];
    format!(
        "p50 {:?}, p90 {:?}, p99 {:?}, max {:?}",
        at(0.50),
        at(0.90),
        at(0.99),
        took[took.len() - 1]
    )
}

fn bp(n: u16) -> BasisPoints {
    BasisPoints::new(n).expect("a rate")
}

fn yuan(y: i64) -> Money {
    Money::from_yuan(y)
}

fn promotion(
    n: u128,
    benefit: PromotionBenefit,
    conditions: Conditions,
    stacking: Stacking,
) -> Promotion {
    Promotion::new(PromotionSpec {
        id: PromotionId::from_uuid(Uuid::from_u128(4_000 + n)),
        name: format!("活动{n}"),
        conditions,
        benefit,
        stacking,
    })
    .expect("a valid promotion")
}

fn coupon(n: u128, benefit: CouponBenefit, stacks: bool) -> Coupon {
    let class = benefit.class();
    Coupon::new(CouponSpec {
        id: CouponId::from_uuid(Uuid::from_u128(5_000 + n)),
        name: format!("券{n}"),
        benefit,
        scope: ItemScope::everything(),
        conditions: Conditions::always(),
        validity: Validity::DaysAfterClaim { days: 30 },
        stacks_with_same_class: stacks,
        stacking: if n.is_multiple_of(3) {
            Stacking::with_everything()
        } else {
            Stacking::with_other_classes(class)
        },
    })
    .expect("a valid coupon")
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let (menu, skus) = menu();
    let store_location = GeoPoint::parse(31_230_000, 121_470_000).expect("a point");
    let zones = [DeliveryZone {
        name: "5公里内".into(),
        area: ZoneArea::Radius { radius_m: 5_000 },
        fee_fen: Money::from_yuan(6),
        minimum_order_fen: Money::ZERO,
    }];
    let context = PricingContext {
        menu: &menu,
        store_open: true,
        opens_at: None,
        packing_fee: PackingFee::PerOrder {
            fee_fen: Money::from_yuan(2),
        },
        seat_fee_fen: Money::ZERO,
        store_location,
        delivery_zones: &zones,
        discounting: None,
    };
    let request = QuoteRequest {
        channel: Channel::Delivery,
        lines: (0..20usize)
            .map(|i| LineRequest {
                sku_id: skus[i % 12],
                quantity: 1 + (i as i64 % 3),
                option_ids: Vec::new(),
                combo_choice_ids: Vec::new(),
                note: None,
            })
            .collect(),
        diners: None,
        delivery_to: Some(store_location),
    };
    let today = quote(&context, &request).expect("quoted");
    let cart = cart_of(&today, &menu);
    let always = Conditions::always;
    let promotions = vec![
        promotion(
            1,
            PromotionBenefit::SpendAndSave {
                scope: ItemScope::everything(),
                tiers: vec![
                    Tier {
                        threshold: yuan(100),
                        save: yuan(10),
                    },
                    Tier {
                        threshold: yuan(300),
                        save: yuan(40),
                    },
                    Tier {
                        threshold: yuan(800),
                        save: yuan(120),
                    },
                ],
            },
            always(),
            Stacking::with_other_classes(Class::Order),
        ),
        promotion(
            2,
            PromotionBenefit::NthItem {
                scope: ItemScope::dishes(&[dish(1), dish(2)]),
                nth: 2,
                pays: bp(5_000),
            },
            always(),
            Stacking::with_everything(),
        ),
        promotion(
            3,
            PromotionBenefit::ItemDiscount {
                scope: ItemScope::categories(&[category(2)]),
                off: ItemOff::Percent { off: bp(2_000) },
            },
            always(),
            Stacking::with_everything(),
        ),
        promotion(
            4,
            PromotionBenefit::SlotPrice {
                dish_id: dish(3),
                price: yuan(9),
            },
            Conditions {
                schedule: Schedule::new(vec![TimeWindow {
                    weekdays: Weekdays::ALL,
                    start: TimeOfDay::parse("11:00").expect("a time"),
                    end: TimeOfDay::parse("14:00").expect("a time"),
                }]),
                ..always()
            },
            Stacking::with_everything(),
        ),
        promotion(
            5,
            PromotionBenefit::MemberPrices {
                prices: (0..6)
                    .map(|d| MemberPrice {
                        level: MemberLevel(1 + (d % 2) as u8),
                        dish_id: dish(d),
                        price: yuan(10 + d as i64),
                    })
                    .collect(),
            },
            always(),
            Stacking::with_everything(),
        ),
        promotion(
            6,
            PromotionBenefit::NearExpiry {
                scope: ItemScope::everything(),
                max_stock_left: 5,
                from: TimeOfDay::parse("12:00").expect("a time"),
                pays: bp(7_000),
            },
            always(),
            Stacking::with_everything(),
        ),
        promotion(
            7,
            PromotionBenefit::OrderDiscount {
                off: OrderOff::Fixed { amount: yuan(15) },
                min_spend: yuan(50),
            },
            Conditions {
                first_order_only: true,
                ..always()
            },
            Stacking::with_everything(),
        ),
        promotion(
            8,
            PromotionBenefit::OrderDiscount {
                off: OrderOff::Percent {
                    off: bp(1_200),
                    cap: Some(yuan(60)),
                },
                min_spend: yuan(200),
            },
            Conditions {
                min_diners: Some(4),
                ..always()
            },
            Stacking::with_other_classes(Class::Order),
        ),
        promotion(
            9,
            PromotionBenefit::Gift {
                min_spend: yuan(400),
                gift: GiftItem {
                    dish_id: dish(20),
                    name: "酸梅汤".into(),
                    value: yuan(8),
                },
            },
            always(),
            Stacking::with_everything(),
        ),
        promotion(
            10,
            PromotionBenefit::DeliveryFeeOff {
                off: FeeOff::Free,
                min_spend: yuan(300),
            },
            always(),
            Stacking::with_everything(),
        ),
    ];
    let coupons = vec![
        coupon(1, CouponBenefit::NoThreshold { off: yuan(5) }, false),
        coupon(
            2,
            CouponBenefit::Threshold {
                min_spend: yuan(100),
                off: yuan(20),
            },
            false,
        ),
        coupon(
            3,
            CouponBenefit::Percent {
                off: bp(1_500),
                cap: yuan(30),
                min_spend: yuan(80),
            },
            true,
        ),
        coupon(
            4,
            CouponBenefit::ItemVoucher {
                dish_id: dish(5),
                pays: Money::ZERO,
            },
            false,
        ),
        coupon(
            5,
            CouponBenefit::DeliveryFee {
                off: FeeOff::Fixed { amount: yuan(3) },
                min_spend: Money::ZERO,
            },
            false,
        ),
        coupon(
            6,
            CouponBenefit::Threshold {
                min_spend: yuan(500),
                off: yuan(60),
            },
            true,
        ),
        coupon(7, CouponBenefit::NoThreshold { off: yuan(8) }, true),
        coupon(
            8,
            CouponBenefit::ItemVoucher {
                dish_id: dish(7),
                pays: yuan(5),
            },
            true,
        ),
        coupon(
            9,
            CouponBenefit::Threshold {
                min_spend: yuan(300),
                off: yuan(35),
            },
            false,
        ),
        coupon(
            10,
            CouponBenefit::Percent {
                off: bp(1_000),
                cap: yuan(50),
                min_spend: Money::ZERO,
            },
            false,
        ),
    ];
    let claimed: Timestamp = "2026-11-20T00:00:00Z".parse().expect("an instant");
    let grants: Vec<CouponGrant> = coupons
        .iter()
        .enumerate()
        .map(|(i, c)| CouponGrant {
            id: CouponGrantId::from_uuid(Uuid::from_u128(6_000 + i as u128)),
            coupon_id: c.id(),
            claimed_at: claimed,
            state: GrantState::Available,
        })
        .collect();
    let facts = OrderFacts {
        channel: Channel::Delivery,
        store_id: StoreId::from_uuid(Uuid::from_u128(3_000)),
        local_time: date(2026, 12, 2).at(12, 30, 0, 0),
        now: "2026-12-02T04:30:00Z".parse().expect("an instant"),
        member_level: Some(MemberLevel(2)),
        first_order: true,
        diners: 4,
        delivery_fee: today.delivery_fee_fen,
    };
    let offers = Offers {
        promotions: &promotions,
        coupons: &coupons,
        grants: &grants,
    };

    let (priced, evaluations) =
        best_price_counted(&cart, &facts, offers, MAX_EVALUATIONS).expect("priced");
    // The one pricing function as quotes and orders call it, promotions wired in.
    let promoted_context = PricingContext {
        menu: &menu,
        store_open: true,
        opens_at: None,
        packing_fee: PackingFee::PerOrder {
            fee_fen: Money::from_yuan(2),
        },
        seat_fee_fen: Money::ZERO,
        store_location,
        delivery_zones: &zones,
        discounting: Some(Discounting {
            store_id: facts.store_id,
            offers,
            local_time: facts.local_time,
            now: facts.now,
            member_level: facts.member_level,
            first_order: facts.first_order,
            chosen: None,
        }),
    };
    let wired = quote(&promoted_context, &request).expect("quoted");
    assert_eq!(wired.discount_total_fen, priced.breakdown.discount_total());
    let mut quote_only = Vec::with_capacity(runs);
    let mut with_promotions = Vec::with_capacity(runs);
    let mut engine_only = Vec::with_capacity(runs);
    let mut engine_on_core = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let quoted = quote(&context, &request).expect("quoted");
        quote_only.push(start.elapsed());
        std::hint::black_box(quoted);

        let quoted = quote(&context, &request).expect("quoted");
        let cart = cart_of(&quoted, &menu);
        let switches = involuntary_switches();
        let engine_start = Instant::now();
        let priced = best_price(&cart, &facts, offers).expect("priced");
        let took = engine_start.elapsed();
        engine_only.push(took);
        if switches.is_some() && switches == involuntary_switches() {
            engine_on_core.push(took);
        }
        std::hint::black_box(priced);

        let start = Instant::now();
        let quoted = quote(&promoted_context, &request).expect("quoted");
        with_promotions.push(start.elapsed());
        std::hint::black_box(quoted);
    }
    let b = &priced.breakdown;
    println!(
        "cart: {} lines, subtotal {}, {} promotions, {} coupons",
        cart.lines().len(),
        b.subtotal,
        promotions.len(),
        grants.len()
    );
    println!(
        "best: {} offers, discount {}, total {}, {} combinations evaluated",
        b.chosen.len(),
        b.discount_total(),
        b.total,
        evaluations
    );
    if let Some(hint) = &priced.hint {
        println!("hint: {}", hint.message_zh());
    }
    // A busy machine stretches the slow tail (a run that loses its core waits milliseconds):
    // the load average says how busy this one was.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().next().unwrap_or("unknown");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("over {runs} runs (load average {load} on {cores} cores):");
    println!("  today's quote:          {}", percentiles(quote_only));
    println!("  promotions engine:      {}", percentiles(engine_only));
    println!("  quote with promotions:  {}", percentiles(with_promotions));
    if !engine_on_core.is_empty() {
        println!(
            "  engine, the {} runs the scheduler never preempted: {}",
            engine_on_core.len(),
            percentiles(engine_on_core)
        );
    }
}
