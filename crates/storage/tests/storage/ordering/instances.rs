//! Several instances on one database (a chain's app servers): each has its own pools and write
//! lanes, so only the database's locks stand between their orders.

use super::{business_date, menu_with_stock, new_order, stock_left};
use crate::{another_instance, both};
use diancan_storage::ordering::{PlaceError, Placed};
use diancan_storage::testing::TestDb;

async fn two_instances_race_sixty_orders_for_ten_bowls(test_db: &TestDb) {
    let db = &test_db.db;
    let other = another_instance(test_db).await;
    let menu = menu_with_stock(db, 10).await;
    let racers: Vec<_> = (0..60)
        .map(|i| {
            let instance = if i % 2 == 0 {
                db.clone()
            } else {
                other.clone()
            };
            let order = new_order(menu, &format!("diner-{i}"), 1);
            tokio::spawn(async move { instance.place_order(order).await })
        })
        .collect();
    let mut numbers = Vec::new();
    let mut sold_out = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(Placed::Created(order)) => numbers.push(order.pickup_number),
            Err(PlaceError::SoldOut(sku)) if sku == menu.sku => sold_out += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    numbers.sort();
    assert_eq!(
        numbers,
        (1..=10).collect::<Vec<_>>(),
        "exactly ten orders, numbered 1 to 10 across both instances"
    );
    assert_eq!(sold_out, 50);
    assert_eq!(stock_left(db, menu).await, Some(0));
    let board = other
        .store_orders(menu.brand, menu.store, business_date())
        .await
        .unwrap();
    assert_eq!(board.len(), 10, "either instance sees all ten");
    other.close().await;
}
both!(instances two_instances_race_sixty_orders_for_ten_bowls);
