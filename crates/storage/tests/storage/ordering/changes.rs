//! Changing orders: every change is the domain's decision on the order as it is under the lock,
//! written with its history, its event and its announcement, or not at all.

use super::{
    actions_of, diner_cancels, menu_with_stock, new_order, place, staff_acts, stock_left,
    timeout_cancels,
};
use crate::{NOW_MS, another_instance, both};
use diancan_domain::ordering::{Order, OrderAction, OrderRefusal, OrderStart, OrderStatus};
use diancan_domain::*;
use diancan_storage::Db;
use diancan_storage::events::order_stream;
use diancan_storage::ordering::{ChangeError, ChangeRequest, NewOrder, PlaceError};
use diancan_storage::testing::TestDb;
use std::sync::Arc;
use tokio::sync::Barrier;
use tokio::task::JoinHandle;

/// Sends `request` once every racer sharing `start` is ready, so the changes really overlap.
fn change_when_ready(
    db: &Db,
    start: &Arc<Barrier>,
    request: ChangeRequest,
) -> JoinHandle<Result<Order, ChangeError>> {
    let (db, start) = (db.clone(), start.clone());
    tokio::spawn(async move {
        start.wait().await;
        db.change_order(request).await
    })
}

async fn transitions_are_recorded_and_cancelling_returns_stock(db: &Db) {
    let menu = menu_with_stock(db, 3).await;
    let order = place(db, new_order(menu, "k", 2)).await;
    assert_eq!(stock_left(db, menu).await, Some(1));
    let accepted = db
        .change_order(staff_acts(&order, OrderAction::Accept, Some(1), NOW_MS + 1))
        .await
        .unwrap();
    assert_eq!(
        (accepted.status, accepted.version),
        (OrderStatus::Accepted, 2)
    );
    assert!(matches!(
        db.change_order(staff_acts(
            &accepted,
            OrderAction::HandOver,
            Some(2),
            NOW_MS + 2
        ))
        .await,
        Err(ChangeError::Refused {
            refusal: OrderRefusal::Illegal(_),
            ..
        })
    ));
    let from_another_brand = ChangeRequest {
        scope: Some((BrandId::new(), menu.store)),
        ..staff_acts(&accepted, OrderAction::Cancel, Some(2), NOW_MS + 2)
    };
    assert!(matches!(
        db.change_order(from_another_brand).await,
        Err(ChangeError::NotFound)
    ));
    let no_such_order = diner_cancels(OrderId::new(), NOW_MS + 2);
    assert!(matches!(
        db.change_order(no_such_order).await,
        Err(ChangeError::NotFound)
    ));
    let cancelled = db
        .change_order(staff_acts(
            &accepted,
            OrderAction::Cancel,
            Some(2),
            NOW_MS + 3,
        ))
        .await
        .unwrap();
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(stock_left(db, menu).await, Some(3), "stock back");
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
    assert_eq!(db.order(order.id).await.unwrap(), cancelled);
}
both!(transitions_are_recorded_and_cancelling_returns_stock);

async fn a_stale_version_is_refused_and_writes_nothing(db: &Db) {
    let menu = menu_with_stock(db, 5).await;
    let order = place(db, new_order(menu, "stale", 1)).await;
    let accepted = db
        .change_order(staff_acts(&order, OrderAction::Accept, Some(1), NOW_MS + 1))
        .await
        .unwrap();
    let events_before = db.events_after(&order_stream(order.id), 0).await.unwrap();
    let outbox_before = db.outbox_counts().await.unwrap();

    // A second screen still shows version 1 and presses 开始制作.
    match db
        .change_order(staff_acts(
            &order,
            OrderAction::StartPreparing,
            Some(1),
            NOW_MS + 2,
        ))
        .await
    {
        Err(ChangeError::Refused { refusal, order }) => {
            assert_eq!(
                refusal,
                OrderRefusal::Stale {
                    seen: 1,
                    current: 2
                }
            );
            assert_eq!(*order, accepted, "the refusal shows the order as it is");
        }
        other => panic!("expected a stale refusal, got {other:?}"),
    }
    assert_eq!(
        db.order(order.id).await.unwrap(),
        accepted,
        "order unchanged"
    );
    assert_eq!(
        db.events_after(&order_stream(order.id), 0).await.unwrap(),
        events_before,
        "no event"
    );
    assert_eq!(
        db.outbox_counts().await.unwrap(),
        outbox_before,
        "nothing announced"
    );
}
both!(a_stale_version_is_refused_and_writes_nothing);

async fn a_diners_cancel_racing_an_accept_never_cancels_an_accepted_order(db: &Db) {
    const ROUNDS: i64 = 20;
    let menu = menu_with_stock(db, ROUNDS).await;
    let mut accepted_first = 0;
    for round in 0..ROUNDS {
        let order = place(db, new_order(menu, &format!("round-{round}"), 1)).await;
        let start = Arc::new(Barrier::new(2));
        let accept = change_when_ready(
            db,
            &start,
            staff_acts(&order, OrderAction::Accept, Some(1), NOW_MS + 1),
        );
        let cancel = change_when_ready(db, &start, diner_cancels(order.id, NOW_MS + 1));
        let (accept, cancel) = (accept.await.unwrap(), cancel.await.unwrap());
        let stored = db.order(order.id).await.unwrap();
        match (accept, cancel) {
            // The accept landed first: the diner's cancel became a request the store decides.
            (Ok(accepted), Ok(asked)) => {
                assert_eq!(
                    (accepted.status, accepted.version),
                    (OrderStatus::Accepted, 2)
                );
                assert_eq!(
                    (asked.status, asked.cancel_requested, asked.version),
                    (OrderStatus::Accepted, true, 3),
                    "round {round}"
                );
                assert_eq!(stored, asked);
                assert_eq!(
                    actions_of(db, order.id).await,
                    ["place", "accept", "cancel_requested"]
                );
                accepted_first += 1;
            }
            // The cancel landed first: the accept was made on a version that is gone.
            (Err(ChangeError::Refused { refusal, .. }), Ok(cancelled)) => {
                assert!(
                    matches!(
                        refusal,
                        OrderRefusal::Stale {
                            seen: 1,
                            current: 2
                        } | OrderRefusal::Illegal(_)
                    ),
                    "round {round}: {refusal:?}"
                );
                assert_eq!(
                    (cancelled.status, cancelled.version),
                    (OrderStatus::Cancelled, 2)
                );
                assert_eq!(stored, cancelled);
                assert_eq!(actions_of(db, order.id).await, ["place", "cancel"]);
            }
            other => panic!("round {round}: accepted and then cancelled? {other:?}"),
        }
    }
    eprintln!("accept first in {accepted_first} of {ROUNDS} rounds");
    assert_eq!(
        stock_left(db, menu).await,
        Some(ROUNDS - accepted_first),
        "orders cancelled before acceptance gave their bowl back"
    );
}
both!(race a_diners_cancel_racing_an_accept_never_cancels_an_accepted_order);

async fn a_cancel_and_a_timeout_give_stock_and_slot_back_once(test_db: &TestDb) {
    let db = &test_db.db;
    // The unpaid-order worker may run on another instance than the diner's request.
    let worker = another_instance(test_db).await;
    let menu = menu_with_stock(db, 100).await;
    let pay_by = NOW_MS + 15 * 60_000;
    for round in 0..10 {
        let slot = (1_795_000_900_000 + round * 900_000, 2);
        let unpaid = |key: &str| NewOrder {
            start: OrderStart {
                status: OrderStatus::AwaitingPayment,
                pay_by_ms: Some(pay_by),
            },
            slot: Some(slot),
            ..new_order(menu, &format!("{round}-{key}"), 1)
        };
        let stock_before = stock_left(db, menu).await.unwrap();
        let order = place(db, unpaid("raced")).await;
        place(db, unpaid("kept")).await;

        let start = Arc::new(Barrier::new(2));
        let diner = change_when_ready(db, &start, diner_cancels(order.id, pay_by));
        let timeout = change_when_ready(&worker, &start, timeout_cancels(order.id, pay_by));
        let outcomes = [diner.await.unwrap(), timeout.await.unwrap()];
        let won: Vec<&Order> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
        assert_eq!(won.len(), 1, "round {round}: one cancel wins: {outcomes:?}");
        assert_eq!((won[0].status, won[0].version), (OrderStatus::Cancelled, 2));
        for outcome in &outcomes {
            if let Err(error) = outcome {
                assert!(
                    matches!(
                        error,
                        ChangeError::Refused {
                            refusal: OrderRefusal::Finished | OrderRefusal::Illegal(_),
                            ..
                        }
                    ),
                    "round {round}: the loser is refused: {error:?}"
                );
            }
        }
        assert_eq!(actions_of(db, order.id).await, ["place", "cancel"]);
        assert_eq!(
            stock_left(db, menu).await,
            Some(stock_before - 1),
            "round {round}: the cancelled bowl came back once"
        );
        // The slot has one place again, not two.
        place(db, unpaid("after")).await;
        assert!(
            matches!(
                db.place_order(unpaid("one-too-many")).await,
                Err(PlaceError::SlotFull)
            ),
            "round {round}: the slot was freed twice"
        );
    }
    worker.close().await;
}
both!(instances a_cancel_and_a_timeout_give_stock_and_slot_back_once);
