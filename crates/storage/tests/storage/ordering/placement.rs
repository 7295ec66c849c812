//! Placing orders: one per idempotency key, stock and slots taken on locked rows, numbered in
//! arrival order, and a refused or unwritable order writing nothing.

use super::{diner_cancels, menu_with_stock, new_order, place, set_stock, stock_left};
use crate::{NOW_MS, both};
use diancan_domain::*;
use diancan_storage::Db;
use diancan_storage::ordering::{NewOrder, PlaceError, Placed};
use std::collections::HashSet;

/// Fires every order at once and collects the answers in the orders' order.
async fn place_together(db: &Db, orders: Vec<NewOrder>) -> Vec<Result<Placed, PlaceError>> {
    let racers: Vec<_> = orders
        .into_iter()
        .map(|order| {
            let db = db.clone();
            tokio::spawn(async move { db.place_order(order).await })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(racers.len());
    for racer in racers {
        outcomes.push(racer.await.unwrap());
    }
    outcomes
}

async fn an_idempotency_key_places_one_order(db: &Db) {
    let menu = menu_with_stock(db, 5).await;
    let first = new_order(menu, "key-1", 1);
    let created = place(db, first.clone()).await;
    let again = NewOrder {
        id: OrderId::new(),
        ..first.clone()
    };
    let Placed::Replayed(replayed) = db.place_order(again).await.unwrap() else {
        panic!("second replays")
    };
    assert_eq!(replayed.id, created.id);
    let different = new_order(menu, "key-1", 2);
    assert!(matches!(
        db.place_order(different).await,
        Err(PlaceError::KeyReused)
    ));
    assert_eq!(stock_left(db, menu).await, Some(4), "stock taken once");
    assert_eq!(created.pickup_number, 1);
}
both!(an_idempotency_key_places_one_order);

async fn fifty_diners_race_for_ten_bowls(db: &Db) {
    let menu = menu_with_stock(db, 10).await;
    let orders = (0..50)
        .map(|i| new_order(menu, &format!("race-{i}"), 1))
        .collect();
    let mut numbers = Vec::new();
    let mut sold_out = 0;
    for outcome in place_together(db, orders).await {
        match outcome {
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
    assert_eq!(stock_left(db, menu).await, Some(0));
}
both!(race fifty_diners_race_for_ten_bowls);

async fn a_full_slot_refuses_the_next_order_and_cancelling_frees_it(db: &Db) {
    let menu = menu_with_stock(db, 50).await;
    let slot = Some((1_795_000_900_000, 2));
    let in_slot = |key: &str| NewOrder {
        slot,
        ..new_order(menu, key, 1)
    };
    let first = place(db, in_slot("s1")).await;
    place(db, in_slot("s2")).await;
    assert!(matches!(
        db.place_order(in_slot("s3")).await,
        Err(PlaceError::SlotFull)
    ));
    assert_eq!(
        stock_left(db, menu).await,
        Some(48),
        "the refused order took nothing"
    );
    db.change_order(diner_cancels(first.id, crate::NOW_MS))
        .await
        .unwrap();
    assert!(matches!(
        db.place_order(in_slot("s4")).await,
        Ok(Placed::Created(_))
    ));
}
both!(a_full_slot_refuses_the_next_order_and_cancelling_frees_it);

async fn a_refused_order_frees_its_key_and_leaves_its_neighbours_placed(db: &Db) {
    let menu = menu_with_stock(db, 5).await;
    let orders: Vec<NewOrder> = ["a", "b", "c"]
        .iter()
        .map(|key| new_order(menu, key, 2))
        .collect();
    // Sent together, they usually share one transaction; the outcome must not depend on it.
    let outcomes = place_together(db, orders.clone()).await;
    let mut numbers = Vec::new();
    let mut refused = Vec::new();
    for (order, outcome) in orders.iter().zip(outcomes) {
        match outcome {
            Ok(Placed::Created(record)) => numbers.push(record.pickup_number),
            Err(PlaceError::SoldOut(s)) if s == menu.sku => refused.push(order.clone()),
            other => panic!("unexpected {other:?}"),
        }
    }
    numbers.sort();
    assert_eq!(numbers, [1, 2], "two of three fit in five bowls");
    assert_eq!(stock_left(db, menu).await, Some(1));

    set_stock(db, menu, 10).await;
    let retry = NewOrder {
        id: OrderId::new(),
        ..refused[0].clone()
    };
    let Ok(Placed::Created(record)) = db.place_order(retry).await else {
        panic!("the refused order's key is free again")
    };
    assert_eq!(record.pickup_number, 3);
    assert_eq!(stock_left(db, menu).await, Some(8));
}
both!(race a_refused_order_frees_its_key_and_leaves_its_neighbours_placed);

async fn a_retry_racing_its_original_gets_the_same_order(db: &Db) {
    let menu = menu_with_stock(db, 5).await;
    let original = new_order(menu, "twice", 1);
    let retries = (0..4)
        .map(|_| NewOrder {
            id: OrderId::new(),
            ..original.clone()
        })
        .collect();
    let mut created = 0;
    let mut ids = HashSet::new();
    for outcome in place_together(db, retries).await {
        match outcome.unwrap() {
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
    assert_eq!(stock_left(db, menu).await, Some(4));
}
both!(race a_retry_racing_its_original_gets_the_same_order);

async fn an_order_priced_from_an_old_menu_is_refused_and_writes_nothing(db: &Db) {
    let menu = menu_with_stock(db, 5).await;
    let current = db.menu_revision(menu.brand).await.unwrap();
    let stale = NewOrder {
        menu_revision: Some(current - 1),
        ..new_order(menu, "stale", 1)
    };
    assert!(matches!(
        db.place_order(stale.clone()).await,
        Err(PlaceError::MenuChanged)
    ));
    assert_eq!(stock_left(db, menu).await, Some(5), "nothing taken");
    let fresh = NewOrder {
        menu_revision: Some(current),
        ..stale
    };
    let Ok(Placed::Created(record)) = db.place_order(fresh).await else {
        panic!("priced from the current menu, under the same key")
    };
    assert_eq!(record.pickup_number, 1);
}
both!(an_order_priced_from_an_old_menu_is_refused_and_writes_nothing);

async fn one_unwritable_order_does_not_fail_the_orders_beside_it(db: &Db) {
    let menu = menu_with_stock(db, 10).await;
    let mut orders: Vec<NewOrder> = (0..5)
        .map(|i| new_order(menu, &format!("good-{i}"), 1))
        .collect();
    // A diner the database does not know: the order row's foreign key refuses it.
    orders.push(NewOrder {
        customer_id: Some(CustomerId::new()),
        ..new_order(menu, "bad", 1)
    });
    let keys: Vec<String> = orders.iter().map(|o| o.idempotency_key.clone()).collect();
    let mut placed = 0;
    for (key, outcome) in keys.iter().zip(place_together(db, orders).await) {
        match outcome {
            Ok(Placed::Created(_)) if key.starts_with("good") => placed += 1,
            Err(PlaceError::Storage(_)) if key == "bad" => {}
            other => panic!("unexpected {other:?} for {key}"),
        }
    }
    assert_eq!(placed, 5);
    assert_eq!(
        stock_left(db, menu).await,
        Some(5),
        "the bad order took nothing"
    );
}
both!(race one_unwritable_order_does_not_fail_the_orders_beside_it);

async fn a_guest_order_keeps_the_hash_it_was_placed_with_until_replaced_or_revoked(db: &Db) {
    let menu = menu_with_stock(db, 5).await;
    let guest = place(
        db,
        NewOrder {
            access_hash: Some("hash-at-placement".into()),
            ..new_order(menu, "guest-key", 1)
        },
    )
    .await;
    let member = place(db, new_order(menu, "member-key", 1)).await;
    assert_eq!(
        db.order_access_hash(guest.id).await.unwrap().as_deref(),
        Some("hash-at-placement")
    );
    assert_eq!(db.order_access_hash(member.id).await.unwrap(), None);

    db.replace_order_access(guest.id, "rotated", NOW_MS + 1)
        .await
        .unwrap();
    assert_eq!(
        db.order_access_hash(guest.id).await.unwrap().as_deref(),
        Some("rotated")
    );
    db.revoke_order_access(guest.id).await.unwrap();
    assert_eq!(db.order_access_hash(guest.id).await.unwrap(), None);
}
both!(a_guest_order_keeps_the_hash_it_was_placed_with_until_replaced_or_revoked);
