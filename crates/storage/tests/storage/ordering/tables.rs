//! Tables: one open sitting (开台) per table and one shared cart; a first order opens the table
//! in its own transaction, so a refused order leaves the table as it was.

use super::{Menu, menu_with_stock, new_order, place, quote, stock_left};
use crate::{NOW_MS, another_instance, both, brand_with_store};
use diancan_domain::ordering::{Channel, Order};
use diancan_domain::*;
use diancan_storage::carts::CartChange;
use diancan_storage::events::cart_stream;
use diancan_storage::ordering::{NewOrder, NewOrderTable, PlaceError, Placed, SessionClaim};
use diancan_storage::testing::TestDb;
use diancan_storage::{Db, DiningTable, StorageError};
use std::collections::HashSet;

async fn a_table_has_one_open_session_and_one_shared_cart(db: &Db) {
    let (brand, store) = brand_with_store(db, "tables").await;
    let area = db.create_area(brand.id, store.id, "大厅", 1).await.unwrap();
    let table = DiningTable {
        id: TableId::new(),
        store_id: store.id,
        area_id: area.id,
        code: "A1".into(),
        seats: 4,
        qr_token: "t".into(),
    };
    db.create_table(brand.id, &table).await.unwrap();
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
        db.events_after(&cart_stream(table.id), 1)
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

/// Table A1 in the menu's store, not yet opened.
pub(crate) async fn a_table(db: &Db, menu: Menu) -> DiningTable {
    let area = db
        .create_area(menu.brand, menu.store, "大厅", 1)
        .await
        .unwrap();
    let table = DiningTable {
        id: TableId::new(),
        store_id: menu.store,
        area_id: area.id,
        code: "A1".into(),
        seats: 4,
        qr_token: format!("qr-{}", TableId::new()),
    };
    db.create_table(menu.brand, &table).await.unwrap()
}

/// A diner's first scan at `table`: the order opens the table (开台) for two.
pub(crate) fn first_scan(menu: Menu, table: &DiningTable, key: &str, quantity: i64) -> NewOrder {
    NewOrder {
        channel: Channel::DineIn,
        table: Some(NewOrderTable {
            table_id: table.id,
            code: table.code.clone(),
            area_name: "大厅".into(),
            session: SessionClaim::OpenWithOrder { diners: Some(2) },
        }),
        diners: Some(2),
        quote: quote(menu, Channel::DineIn, quantity),
        ..new_order(menu, key, quantity)
    }
}

async fn a_refused_first_order_leaves_the_table_unopened(db: &Db) {
    let menu = menu_with_stock(db, 1).await;
    let table = a_table(db, menu).await;
    let put = CartChange::Put {
        line_id: CartLineId::new(),
        line: serde_json::json!({"sku_id": menu.sku}),
        quantity: 2,
        added_by: "小王".into(),
    };
    db.change_cart(menu.store, table.id, &put, NOW_MS)
        .await
        .unwrap();

    assert!(matches!(
        db.place_order(first_scan(menu, &table, "scan", 2)).await,
        Err(PlaceError::SoldOut(sku)) if sku == menu.sku
    ));
    assert!(
        db.open_table_session_of(table.id).await.unwrap().is_none(),
        "a refused order opens nothing"
    );
    assert_eq!(
        db.cart(table.id).await.unwrap().lines.len(),
        1,
        "and clears nothing"
    );
    assert_eq!(stock_left(db, menu).await, Some(1));

    let placed = place(db, first_scan(menu, &table, "scan", 1)).await;
    let session = db
        .open_table_session_of(table.id)
        .await
        .unwrap()
        .expect("the placed order opened the table");
    let at = placed
        .table
        .as_ref()
        .expect("a dine-in order has its table");
    assert_eq!(
        (at.table_id, at.session_id, at.code.as_str()),
        (table.id, session.id, "A1")
    );
    assert_eq!((session.diners, placed.round), (Some(2), 1));
    assert!(
        db.cart(table.id).await.unwrap().lines.is_empty(),
        "ordering empties the shared cart"
    );
}
both!(a_refused_first_order_leaves_the_table_unopened);

async fn ten_first_scans_at_one_table_open_one_sitting(test_db: &TestDb) {
    let db = &test_db.db;
    let other = another_instance(test_db).await;
    let menu = menu_with_stock(db, 100).await;
    let table = a_table(db, menu).await;
    let racers: Vec<_> = (0..10)
        .map(|i| {
            // Half the phones reach one instance, half the other.
            let db = if i % 2 == 0 {
                db.clone()
            } else {
                other.clone()
            };
            let order = first_scan(menu, &table, &format!("phone-{i}"), 1);
            tokio::spawn(async move { db.place_order(order).await })
        })
        .collect();
    let mut placed: Vec<Order> = Vec::new();
    for racer in racers {
        match racer.await.unwrap() {
            Ok(Placed::Created(order)) => placed.push(order),
            other => panic!("every phone's order is placed: {other:?}"),
        }
    }
    let sittings: HashSet<TableSessionId> = placed
        .iter()
        .map(|o| o.table.as_ref().unwrap().session_id)
        .collect();
    let open = db
        .open_table_session_of(table.id)
        .await
        .unwrap()
        .expect("the table is open");
    assert_eq!(
        sittings,
        HashSet::from([open.id]),
        "one sitting for all ten"
    );
    let mut rounds: Vec<i64> = placed.iter().map(|o| o.round).collect();
    rounds.sort();
    assert_eq!(rounds, (1..=10).collect::<Vec<_>>(), "one round each");
    assert_eq!(db.session_orders(open.id).await.unwrap().len(), 10);
    other.close().await;
}
both!(instances ten_first_scans_at_one_table_open_one_sitting);
