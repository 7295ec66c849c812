use crate::{NOW_MS, both, brand_with_store};
use diancan_domain::catalog::{CategoryDraft, DishDraft, SkuStoreSettings};
use diancan_domain::ordering::{Channel, OrderAction, OrderStatus};
use diancan_domain::schedule::BusinessDate;
use diancan_domain::*;
use diancan_storage::carts::{CART_FULL, CartChange, MAX_CART_LINES};
use diancan_storage::ordering::{
    NewOrder, NewOrderLine, PlaceError, Placed, StockClaim, TransitionError, order_stream,
};
use diancan_storage::{Brand, Db, DiningTable, StorageError, Store};
use std::collections::HashSet;

async fn menu_with_stock(db: &Db, stock: i64) -> (BrandId, StoreId, DishId, SkuId) {
    menu_of_brand(db, "orders", stock).await
}

async fn menu_of_brand(db: &Db, slug: &str, stock: i64) -> (BrandId, StoreId, DishId, SkuId) {
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
    let settings = SkuStoreSettings {
        stock: Some(stock),
        ..Default::default()
    };
    db.set_sku_settings(brand.id, store.id, dish.skus[0].id, &settings)
        .await
        .unwrap();
    (brand.id, store.id, dish.id, dish.skus[0].id)
}

fn new_order(
    brand: BrandId,
    store: StoreId,
    dish: DishId,
    sku: SkuId,
    key: &str,
    quantity: i64,
) -> NewOrder {
    NewOrder {
        id: OrderId::new(),
        brand_id: brand,
        store_id: store,
        channel: Channel::Pickup,
        status: OrderStatus::Placed,
        table_session_id: None,
        table_id: None,
        business_date: BusinessDate::from_date(jiff::civil::date(2026, 11, 26)),
        diners: None,
        total_fen: 2800 * quantity,
        quote_json: quote_json(sku, dish, quantity),
        contact_json: None,
        note: None,
        ready_by_ms: None,
        pay_by_ms: None,
        lines: vec![NewOrderLine {
            sku_id: sku,
            dish_id: dish,
            station_id: None,
            name: "牛肉面".into(),
            quantity,
            unit_price_fen: 2800,
            line_total_fen: 2800 * quantity,
        }],
        stock: vec![StockClaim {
            sku_id: sku,
            quantity,
        }],
        idempotency_key: key.into(),
        request_hash: format!("hash-{quantity}"),
        clears_cart_of: None,
        customer_id: None,
        slot: None,
        menu_revision: None,
        now_ms: NOW_MS,
    }
}

/// A stored quote that claims `quantity` of `sku`, as the pricing function would have made it.
fn quote_json(sku: SkuId, dish: DishId, quantity: i64) -> String {
    serde_json::json!({
        "version": "test", "channel": "pickup", "item_count": quantity,
        "lines": [{"dish_id": dish, "sku_id": sku, "dish_name": "牛肉面", "sku_name": null, "station_id": null,
            "quantity": quantity, "options": [], "combo_items": [], "note": null,
            "unit_price_fen": 2800, "line_total_fen": 2800 * quantity}],
        "subtotal_fen": 2800 * quantity, "packing_fee_fen": 0, "seat_fee_fen": 0, "delivery_fee_fen": 0,
        "delivery_zone": null, "discounts": [], "discount_total_fen": 0, "total_fen": 2800 * quantity
    })
    .to_string()
}

async fn stock_left(db: &Db, store: StoreId, sku: SkuId) -> Option<i64> {
    db.store_menu_settings(store).await.unwrap().sku_states[&sku].stock
}

async fn an_idempotency_key_places_one_order(db: &Db) {
    let (brand, store, dish, sku) = menu_with_stock(db, 5).await;
    let first = new_order(brand, store, dish, sku, "key-1", 1);
    let Placed::Created(created) = db.place_order(&first).await.unwrap() else {
        panic!("first is created")
    };
    let again = NewOrder {
        id: OrderId::new(),
        ..first.clone()
    };
    let Placed::Replayed(replayed) = db.place_order(&again).await.unwrap() else {
        panic!("second replays")
    };
    assert_eq!(replayed.id, created.id);
    let different = new_order(brand, store, dish, sku, "key-1", 2);
    assert!(matches!(
        db.place_order(&different).await,
        Err(PlaceError::KeyReused)
    ));
    assert_eq!(
        stock_left(db, store, sku).await,
        Some(4),
        "stock taken once"
    );
    assert_eq!(created.pickup_number, 1);
}
both!(an_idempotency_key_places_one_order);

async fn fifty_diners_race_for_ten_bowls(db: &Db) {
    let (brand, store, dish, sku) = menu_with_stock(db, 10).await;
    let mut racers = Vec::new();
    for i in 0..50 {
        let db = db.clone();
        let order = new_order(brand, store, dish, sku, &format!("race-{i}"), 1);
        racers.push(tokio::spawn(async move { db.place_order(&order).await }));
    }
    let mut numbers = Vec::new();
    let mut sold_out = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(Placed::Created(order)) => numbers.push(order.pickup_number),
            Err(PlaceError::SoldOut(_)) => sold_out += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    numbers.sort();
    assert_eq!(
        numbers,
        (1..=10).collect::<Vec<_>>(),
        "exactly ten orders, numbered 1 to 10"
    );
    assert_eq!(sold_out, 40);
    assert_eq!(stock_left(db, store, sku).await, Some(0));
}
both!(fifty_diners_race_for_ten_bowls);

async fn transitions_are_recorded_and_cancelling_returns_stock(db: &Db) {
    let (brand, store, dish, sku) = menu_with_stock(db, 3).await;
    let Placed::Created(order) = db
        .place_order(&new_order(brand, store, dish, sku, "k", 2))
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(stock_left(db, store, sku).await, Some(1));
    let accepted = db
        .transition_order(
            order.id,
            Some(brand),
            OrderAction::Accept,
            "staff:1",
            NOW_MS + 1,
        )
        .await
        .unwrap();
    assert_eq!(
        (accepted.status, accepted.version),
        (OrderStatus::Accepted, 2)
    );
    assert!(matches!(
        db.transition_order(
            order.id,
            Some(brand),
            OrderAction::HandOver,
            "staff:1",
            NOW_MS + 2
        )
        .await,
        Err(TransitionError::Illegal(_))
    ));
    assert!(matches!(
        db.transition_order(
            order.id,
            Some(BrandId::new()),
            OrderAction::Cancel,
            "staff:x",
            NOW_MS + 2
        )
        .await,
        Err(TransitionError::Storage(StorageError::NotFound))
    ));
    let cancelled = db
        .transition_order(
            order.id,
            Some(brand),
            OrderAction::Cancel,
            "staff:1",
            NOW_MS + 3,
        )
        .await
        .unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(stock_left(db, store, sku).await, Some(3), "stock back");
    let events = db.events_after(&order_stream(order.id), 0).await.unwrap();
    let versions: Vec<i64> = events.iter().map(|e| e.stream_version).collect();
    assert_eq!(versions, [1, 2, 3]);
    assert_eq!(
        db.events_after(&order_stream(order.id), 2)
            .await
            .unwrap()
            .len(),
        1,
        "replay from a Last-Event-ID"
    );
}
both!(transitions_are_recorded_and_cancelling_returns_stock);

async fn a_full_slot_refuses_the_next_order_and_cancelling_frees_it(db: &Db) {
    let (brand, store, dish, sku) = menu_with_stock(db, 50).await;
    let slot = Some((1_795_000_900_000, 2));
    let mut placed = Vec::new();
    for key in ["s1", "s2"] {
        let order = NewOrder {
            slot,
            ..new_order(brand, store, dish, sku, key, 1)
        };
        let Placed::Created(record) = db.place_order(&order).await.unwrap() else {
            panic!()
        };
        placed.push(record);
    }
    let third = NewOrder {
        slot,
        ..new_order(brand, store, dish, sku, "s3", 1)
    };
    assert!(matches!(
        db.place_order(&third).await,
        Err(PlaceError::SlotFull)
    ));
    assert_eq!(
        stock_left(db, store, sku).await,
        Some(48),
        "the refused order took nothing"
    );
    db.transition_order(
        placed[0].id,
        Some(brand),
        OrderAction::Cancel,
        "diner",
        NOW_MS,
    )
    .await
    .unwrap();
    let fourth = NewOrder {
        slot,
        ..new_order(brand, store, dish, sku, "s4", 1)
    };
    assert!(matches!(
        db.place_order(&fourth).await,
        Ok(Placed::Created(_))
    ));
}
both!(a_full_slot_refuses_the_next_order_and_cancelling_frees_it);

/// A brand, its store and one table A1 in the hall.
async fn store_with_table(db: &Db, slug: &str) -> (Brand, Store, DiningTable) {
    let (brand, store) = brand_with_store(db, slug).await;
    let area = db.create_area(brand.id, store.id, "大厅", 1).await.unwrap();
    let table = DiningTable {
        id: TableId::new(),
        store_id: store.id,
        area_id: area.id,
        code: "A1".into(),
        seats: 4,
        qr_token: format!("{slug}-a1"),
    };
    db.create_table(brand.id, &table).await.unwrap();
    (brand, store, table)
}

async fn a_table_has_one_open_session_and_one_shared_cart(db: &Db) {
    let (brand, store, table) = store_with_table(db, "tables").await;
    let first = db
        .open_table_session(brand.id, store.id, table.id, Some(3), NOW_MS)
        .await
        .unwrap();
    let again = db
        .open_table_session(brand.id, store.id, table.id, Some(5), NOW_MS)
        .await
        .unwrap();
    assert_eq!(
        first.id, again.id,
        "opening an open table returns its session"
    );
    db.close_table_session(brand.id, table.id, NOW_MS + 1)
        .await
        .unwrap();
    assert!(db.open_table_session_of(table.id).await.unwrap().is_none());
    assert!(matches!(
        db.close_table_session(brand.id, table.id, NOW_MS + 2).await,
        Err(StorageError::NotFound)
    ));

    let line = CartLineId::new();
    let put = CartChange::Put {
        line_id: line,
        line: serde_json::json!({"sku_id": "x"}),
        quantity: 1,
        added_by: "小王".into(),
    };
    db.change_cart(store.id, table.id, &put, NOW_MS)
        .await
        .unwrap();
    // Two phones set the same line; replays of the same absolute change converge.
    let set = CartChange::SetQuantity {
        line_id: line,
        quantity: 3,
    };
    db.change_cart(store.id, table.id, &set, NOW_MS)
        .await
        .unwrap();
    let cart = db
        .change_cart(store.id, table.id, &set, NOW_MS)
        .await
        .unwrap();
    assert_eq!(
        (cart.version, cart.lines.len(), cart.lines[0].quantity),
        (3, 1, 3)
    );
    assert_eq!(cart.lines[0].added_by, "小王");
    assert_eq!(
        db.events_after(&diancan_storage::ordering::cart_stream(table.id), 1)
            .await
            .unwrap()
            .len(),
        2
    );
    let cleared = db
        .change_cart(store.id, table.id, &CartChange::Clear, NOW_MS)
        .await
        .unwrap();
    assert!(cleared.lines.is_empty());
}
both!(a_table_has_one_open_session_and_one_shared_cart);

/// 70 phones add a line at once: the cap holds inside the write, so at most 60 lines land
/// and every other add is refused by name, not lost or half-written.
async fn parallel_adds_never_pass_the_cart_cap(db: &Db) {
    let (_, store, table) = store_with_table(db, "cart-cap").await;
    let adds = (0..70).map(|i| {
        let change = CartChange::Put {
            line_id: CartLineId::new(),
            line: serde_json::json!({"sku_id": "x", "n": i}),
            quantity: 1,
            added_by: "小王".into(),
        };
        async move { db.change_cart(store.id, table.id, &change, NOW_MS).await }
    });
    let results = futures::future::join_all(adds).await;
    let added = results.iter().filter(|r| r.is_ok()).count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(StorageError::Refused(code)) if *code == CART_FULL))
        .count();
    assert_eq!(
        (added, refused),
        (MAX_CART_LINES as usize, 10),
        "{results:?}"
    );
    assert_eq!(
        db.cart(table.id).await.unwrap().lines.len(),
        MAX_CART_LINES as usize
    );
    // Changing a line already in the full cart is still fine.
    let first = db.cart(table.id).await.unwrap().lines[0].clone();
    let again = CartChange::Put {
        line_id: first.id,
        line: first.line,
        quantity: 2,
        added_by: first.added_by,
    };
    db.change_cart(store.id, table.id, &again, NOW_MS)
        .await
        .unwrap();
}
both!(parallel_adds_never_pass_the_cart_cap);

async fn a_refused_order_frees_its_key_and_leaves_its_neighbours_placed(db: &Db) {
    let (brand, store, dish, sku) = menu_with_stock(db, 5).await;
    let orders: Vec<NewOrder> = ["a", "b", "c"]
        .iter()
        .map(|key| new_order(brand, store, dish, sku, key, 2))
        .collect();
    // Sent together, they usually share one transaction; the outcome must not depend on it.
    let racers: Vec<_> = orders
        .iter()
        .cloned()
        .map(|order| {
            let db = db.clone();
            tokio::spawn(async move { db.place_order(&order).await })
        })
        .collect();
    let mut numbers = Vec::new();
    let mut refused = Vec::new();
    for (order, racer) in orders.iter().zip(racers) {
        match racer.await.unwrap() {
            Ok(Placed::Created(record)) => numbers.push(record.pickup_number),
            Err(PlaceError::SoldOut(s)) if s == sku => refused.push(order.clone()),
            other => panic!("unexpected {other:?}"),
        }
    }
    numbers.sort();
    assert_eq!(numbers, [1, 2], "two of three fit in five bowls");
    assert_eq!(stock_left(db, store, sku).await, Some(1));

    let refill = SkuStoreSettings {
        stock: Some(10),
        ..Default::default()
    };
    db.set_sku_settings(brand, store, sku, &refill)
        .await
        .unwrap();
    let retry = NewOrder {
        id: OrderId::new(),
        ..refused[0].clone()
    };
    let Ok(Placed::Created(record)) = db.place_order(&retry).await else {
        panic!("the refused order's key is free again")
    };
    assert_eq!(record.pickup_number, 3);
    assert_eq!(stock_left(db, store, sku).await, Some(8));
}
both!(a_refused_order_frees_its_key_and_leaves_its_neighbours_placed);

async fn a_retry_racing_its_original_gets_the_same_order(db: &Db) {
    let (brand, store, dish, sku) = menu_with_stock(db, 5).await;
    let original = new_order(brand, store, dish, sku, "twice", 1);
    let racers: Vec<_> = (0..4)
        .map(|_| {
            let db = db.clone();
            let order = NewOrder {
                id: OrderId::new(),
                ..original.clone()
            };
            tokio::spawn(async move { db.place_order(&order).await })
        })
        .collect();
    let mut created = 0;
    let mut ids = HashSet::new();
    for racer in racers {
        match racer.await.unwrap().unwrap() {
            Placed::Created(record) => {
                created += 1;
                ids.insert(record.id);
            }
            Placed::Replayed(record) => {
                ids.insert(record.id);
            }
        }
    }
    assert_eq!((created, ids.len()), (1, 1), "one order, four answers");
    assert_eq!(stock_left(db, store, sku).await, Some(4));
}
both!(a_retry_racing_its_original_gets_the_same_order);

async fn favourites_are_the_customers_own_and_the_brands_dishes(db: &Db) {
    let (brand, _, dish, _) = menu_with_stock(db, 5).await;
    let (_, _, foreign_dish, _) = menu_of_brand(db, "elsewhere", 5).await;
    let index = diancan_domain::customer::BlindIndex::from_bytes(vec![7; 32]);
    let sealed = diancan_domain::customer::SealedPii::from_bytes(vec![7; 39]);
    let customer = db
        .customer_by_phone_or_create(brand, &index, &sealed, "顾客", crate::NOW_MS)
        .await
        .unwrap();

    assert!(
        db.add_favourites(brand, customer.id, &[dish, dish], crate::NOW_MS)
            .await
            .unwrap(),
        "starring twice is fine"
    );
    assert!(
        !db.add_favourites(brand, customer.id, &[foreign_dish], crate::NOW_MS)
            .await
            .unwrap(),
        "another brand's dish cannot be starred"
    );
    assert_eq!(db.favourites(brand, customer.id).await.unwrap(), [dish]);
    db.remove_favourite(customer.id, dish).await.unwrap();
    assert!(db.favourites(brand, customer.id).await.unwrap().is_empty());
}
both!(favourites_are_the_customers_own_and_the_brands_dishes);

async fn an_order_priced_from_an_old_menu_is_refused_and_writes_nothing(db: &Db) {
    let (brand, store, dish, sku) = menu_with_stock(db, 5).await;
    let current = db.menu_revision(brand).await.unwrap();
    let stale = NewOrder {
        menu_revision: Some(current - 1),
        ..new_order(brand, store, dish, sku, "stale", 1)
    };
    assert!(matches!(
        db.place_order(&stale).await,
        Err(PlaceError::MenuChanged)
    ));
    assert_eq!(stock_left(db, store, sku).await, Some(5), "nothing taken");
    let fresh = NewOrder {
        menu_revision: Some(current),
        ..stale.clone()
    };
    let Ok(Placed::Created(record)) = db.place_order(&fresh).await else {
        panic!("priced from the current menu, under the same key")
    };
    assert_eq!(record.pickup_number, 1);
}
both!(an_order_priced_from_an_old_menu_is_refused_and_writes_nothing);

async fn one_unwritable_order_does_not_fail_the_orders_beside_it(db: &Db) {
    let (brand, store, dish, sku) = menu_with_stock(db, 10).await;
    let mut orders: Vec<NewOrder> = (0..5)
        .map(|i| new_order(brand, store, dish, sku, &format!("good-{i}"), 1))
        .collect();
    // A diner the database does not know: the order row's foreign key refuses it.
    orders.push(NewOrder {
        customer_id: Some(CustomerId::new()),
        ..new_order(brand, store, dish, sku, "bad", 1)
    });
    let racers: Vec<_> = orders
        .into_iter()
        .map(|order| {
            let db = db.clone();
            tokio::spawn(
                async move { (order.idempotency_key.clone(), db.place_order(&order).await) },
            )
        })
        .collect();
    let mut placed = 0;
    for racer in racers {
        match racer.await.unwrap() {
            (key, Ok(Placed::Created(_))) if key.starts_with("good") => placed += 1,
            (key, Err(PlaceError::Storage(_))) if key == "bad" => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(placed, 5);
    assert_eq!(
        stock_left(db, store, sku).await,
        Some(5),
        "the bad order took nothing"
    );
}
both!(one_unwritable_order_does_not_fail_the_orders_beside_it);
