//! Ordering stories: placing orders, changing them, table sittings, and several instances on one
//! database. This module holds what they all start from: a menu with counted stock, an order
//! priced from it, and the requests staff, diners and the unpaid-order timeout send.

mod changes;
mod instances;
mod placement;
pub(crate) mod tables;

use crate::{NOW_MS, brand_with_store};
use diancan_domain::catalog::{CategoryDraft, DishDraft, SkuStoreSettings};
use diancan_domain::money::Money;
use diancan_domain::ordering::{
    Actor, Channel, Order, OrderAction, OrderCommand, OrderStart, OrderStatus, Quote, QuotedLine,
};
use diancan_domain::schedule::BusinessDate;
use diancan_domain::staff::Role;
use diancan_domain::*;
use diancan_storage::Db;
use diancan_storage::ordering::{ChangeRequest, NewOrder, Placed};
use std::collections::HashSet;
use std::sync::Arc;

/// One dish (牛肉面, ¥28) with one spec, in a fresh brand's only store.
#[derive(Debug, Clone, Copy)]
pub struct Menu {
    pub brand: BrandId,
    pub store: StoreId,
    pub dish: DishId,
    pub sku: SkuId,
}

pub async fn menu_with_stock(db: &Db, stock: i64) -> Menu {
    menu_of_brand(db, "orders", stock).await
}

pub async fn menu_of_brand(db: &Db, slug: &str, stock: i64) -> Menu {
    let (brand, store) = brand_with_store(db, slug).await;
    let category = CategoryDraft {
        name: "面食".into(),
        name_en: None,
        sort_order: 0,
        availability: Default::default(),
    }
    .parse(CategoryId::new(), brand.id)
    .unwrap();
    db.create_category(&category).await.unwrap();
    let draft: DishDraft = serde_json::from_value(serde_json::json!({
        "category_id": category.id, "name": "牛肉面", "skus": [{"code": "NR", "price_fen": 2800}]
    }))
    .unwrap();
    let dish = draft
        .parse(DishId::new(), brand.id, &HashSet::new())
        .unwrap();
    db.save_dish(&dish, true, NOW_MS).await.unwrap();
    let menu = Menu {
        brand: brand.id,
        store: store.id,
        dish: dish.id,
        sku: dish.skus[0].id,
    };
    set_stock(db, menu, stock).await;
    menu
}

pub async fn set_stock(db: &Db, menu: Menu, stock: i64) {
    let settings = SkuStoreSettings {
        stock: Some(stock),
        ..Default::default()
    };
    db.set_sku_settings(menu.brand, menu.store, menu.sku, &settings)
        .await
        .unwrap();
}

pub async fn stock_left(db: &Db, menu: Menu) -> Option<i64> {
    db.store_menu_settings(menu.store).await.unwrap().sku_states[&menu.sku].stock
}

pub fn business_date() -> BusinessDate {
    BusinessDate::from_date(jiff::civil::date(2026, 11, 26))
}

/// The breakdown the pricing function would have made for `quantity` bowls, no fees.
pub fn quote(menu: Menu, channel: Channel, quantity: i64) -> Quote {
    let total = Money::from_fen(2800 * quantity);
    Quote {
        version: "test".into(),
        channel,
        lines: vec![QuotedLine {
            dish_id: menu.dish,
            sku_id: menu.sku,
            dish_name: "牛肉面".into(),
            dish_name_en: None,
            sku_name: None,
            sku_name_en: None,
            station_id: None,
            quantity,
            options: Vec::new(),
            combo_items: Vec::new(),
            note: None,
            unit_price_fen: Money::from_fen(2800),
            line_total_fen: total,
            discount_fen: Money::ZERO,
        }],
        item_count: quantity,
        subtotal_fen: total,
        packing_fee_fen: Money::ZERO,
        seat_fee_fen: Money::ZERO,
        delivery_fee_fen: Money::ZERO,
        delivery_zone: None,
        discounts: Vec::new(),
        discount_total_fen: Money::ZERO,
        total_fen: total,
        gifts: Vec::new(),
        saving_fen: Money::ZERO,
        chosen: Vec::new(),
        best_proven: false,
        hint: None,
        not_applicable: Vec::new(),
    }
}

/// A pickup order for `quantity` bowls that goes straight to the store (already paid, or a
/// pay-after store), under idempotency key `key`.
pub fn new_order(menu: Menu, key: &str, quantity: i64) -> NewOrder {
    NewOrder {
        id: OrderId::new(),
        brand_id: menu.brand,
        store_id: menu.store,
        channel: Channel::Pickup,
        start: OrderStart {
            status: OrderStatus::Placed,
            pay_by_ms: None,
        },
        table: None,
        business_date: business_date(),
        diners: None,
        quote: quote(menu, Channel::Pickup, quantity),
        contact_sealed: None,
        note: None,
        ready_by_ms: None,
        idempotency_key: key.into(),
        request_hash: format!("hash-{quantity}"),
        customer_id: None,
        access_hash: None,
        slot: None,
        menu_revision: None,
        redemptions: Vec::new(),
        now_ms: NOW_MS,
    }
}

/// Places an order that must be created.
pub async fn place(db: &Db, order: NewOrder) -> Order {
    match db.place_order(order).await {
        Ok(Placed::Created(order)) => order,
        other => panic!("expected a new order, got {other:?}"),
    }
}

/// A staff member's command as the console sends it: within their store, on the version they saw.
pub fn staff_request(
    order: &Order,
    command: OrderCommand,
    seen: Option<i64>,
    now_ms: i64,
) -> ChangeRequest {
    let actor = Actor::Staff {
        id: StaffId::new(),
        role: Role::Owner,
    };
    ChangeRequest {
        order_id: order.id,
        scope: Some((order.brand_id, order.store_id)),
        decide: Arc::new(move |o: &Order| o.decide(command, &actor, seen, now_ms)),
        now_ms,
    }
}

pub fn staff_acts(
    order: &Order,
    action: OrderAction,
    seen: Option<i64>,
    now_ms: i64,
) -> ChangeRequest {
    staff_request(order, OrderCommand::Act(action), seen, now_ms)
}

/// The diner's cancel from the order page (they hold the order's id; no store scope).
pub fn diner_cancels(order: OrderId, now_ms: i64) -> ChangeRequest {
    ChangeRequest {
        order_id: order,
        scope: None,
        decide: Arc::new(move |o: &Order| o.diner_cancel(now_ms)),
        now_ms,
    }
}

/// The unpaid-order worker cancelling an order whose payment window passed.
pub fn timeout_cancels(order: OrderId, now_ms: i64) -> ChangeRequest {
    ChangeRequest {
        order_id: order,
        scope: None,
        decide: Arc::new(move |o: &Order| {
            o.decide(
                OrderCommand::Act(OrderAction::Cancel),
                &Actor::System("unpaid_timeout"),
                None,
                now_ms,
            )
        }),
        now_ms,
    }
}

/// What each event of the order's stream says it did ("place", "accept", "cancel_requested"…).
pub async fn actions_of(db: &Db, order: OrderId) -> Vec<String> {
    let stream = diancan_storage::events::order_stream(order);
    db.events_after(&stream, 0)
        .await
        .unwrap()
        .iter()
        .map(|event| {
            let payload: serde_json::Value = serde_json::from_str(&event.payload_json).unwrap();
            payload["action"].as_str().unwrap().to_owned()
        })
        .collect()
}
