//! Retention: a sweep forgets idempotency keys after a day, delivered outbox rows after a week
//! and the live events of orders finished long ago, and never an open order's events.

use crate::ordering::{actions_of, menu_with_stock, new_order, place, staff_acts};
use crate::outbox::deliver_all;
use crate::{NOW_MS, both};
use diancan_domain::ordering::{Order, OrderAction};
use diancan_storage::Db;
use diancan_storage::events::{kitchen_stream, orders_stream};
use diancan_storage::ordering::{NewOrder, PlaceError, Placed};
use diancan_storage::outbox::OutboxCounts;
use diancan_storage::printing::printing_stream;
use diancan_storage::retention::{Purged, Retention};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// 接单 to 完成 for a pickup order, all at `now_ms`.
async fn complete(db: &Db, order: &Order, now_ms: i64) {
    use OrderAction::*;
    let mut order = order.clone();
    for action in [Accept, StartPreparing, MarkReady, HandOver, Complete] {
        order = db
            .change_order(staff_acts(&order, action, Some(order.version), now_ms))
            .await
            .unwrap();
    }
}

async fn old_rows_go_and_open_orders_keep_their_history(db: &Db) {
    let keep = Retention::default();
    let menu = menu_with_stock(db, 100).await;
    let placed_at = |key: &str, now_ms: i64| NewOrder {
        now_ms,
        ..new_order(menu, key, 1)
    };
    let sweep_at = NOW_MS + keep.finished_order_events_ms + DAY_MS;

    // A month ago: one order cancelled, one completed, one left open, one completed only lately.
    let cancelled = place(db, placed_at("cancelled", NOW_MS)).await;
    db.change_order(staff_acts(
        &cancelled,
        OrderAction::Cancel,
        Some(1),
        NOW_MS + 1,
    ))
    .await
    .unwrap();
    let completed_long_ago = place(db, placed_at("completed-long-ago", NOW_MS)).await;
    complete(db, &completed_long_ago, NOW_MS + 2).await;
    let open = place(db, placed_at("open", NOW_MS)).await;
    let completed_lately = place(db, placed_at("completed-lately", NOW_MS)).await;
    let old_deliveries = deliver_all(db, NOW_MS + 3).await.len();

    let lately = sweep_at - 2 * DAY_MS;
    complete(db, &completed_lately, lately).await;
    let recent_deliveries = deliver_all(db, lately).await.len();
    let fresh = place(
        db,
        placed_at("fresh", sweep_at - keep.idempotency_keys_ms + 1),
    )
    .await;
    let pending = db.outbox_counts().await.unwrap().pending;
    assert!(pending > 0, "the fresh order's announcements wait");

    let store_streams = [
        orders_stream(menu.store),
        kitchen_stream(menu.store),
        printing_stream(menu.store),
    ];
    let stream_cutoff = sweep_at - keep.store_stream_events_ms;
    let mut old_store_events = 0;
    for stream in &store_streams {
        let events = db.events_after(stream, 0).await.unwrap();
        old_store_events += events
            .iter()
            .filter(|e| e.created_at_ms < stream_cutoff)
            .count() as u64;
    }
    assert!(old_store_events > 0, "the kitchen heard of the old orders");

    let purged = db.purge_expired(sweep_at, &keep).await.unwrap();
    assert_eq!(
        purged,
        Purged {
            idempotency_keys: 4,
            login_throttles: 0,
            outbox_rows: old_deliveries as u64,
            // place + cancel, and place + five steps to 完成.
            events: 2 + 6,
            store_stream_events: old_store_events,
            print_jobs: 0,
        }
    );
    for stream in &store_streams {
        let kept = db.events_after(stream, 0).await.unwrap();
        assert!(
            kept.iter().all(|e| e.created_at_ms >= stream_cutoff),
            "{stream} keeps only its last days"
        );
    }
    let kitchen = db
        .events_after(&kitchen_stream(menu.store), 0)
        .await
        .unwrap();
    assert!(
        !kitchen.is_empty(),
        "the lately completed order's kitchen events stay"
    );
    assert!(actions_of(db, cancelled.id).await.is_empty());
    assert!(actions_of(db, completed_long_ago.id).await.is_empty());
    assert_eq!(
        actions_of(db, open.id).await,
        ["place"],
        "an open order keeps its stream however old"
    );
    assert_eq!(
        actions_of(db, completed_lately.id).await,
        [
            "place",
            "accept",
            "start_preparing",
            "mark_ready",
            "hand_over",
            "complete"
        ],
        "a recently finished order keeps its whole stream"
    );
    assert_eq!(actions_of(db, fresh.id).await, ["place"]);
    assert_eq!(
        db.outbox_counts().await.unwrap(),
        OutboxCounts {
            pending,
            delivered: recent_deliveries as i64,
            retrying: 0,
        },
        "recent deliveries and undelivered rows stay"
    );

    // A forgotten key takes a new request; a kept one still guards its order.
    let reused = |key: &str| NewOrder {
        request_hash: "another request".into(),
        ..placed_at(key, sweep_at)
    };
    assert!(matches!(
        db.place_order(reused("cancelled")).await,
        Ok(Placed::Created(_))
    ));
    assert!(matches!(
        db.place_order(reused("fresh")).await,
        Err(PlaceError::KeyReused)
    ));
    assert_eq!(
        db.purge_expired(sweep_at, &keep).await.unwrap(),
        Purged::default(),
        "a second sweep finds nothing more"
    );
}
both!(old_rows_go_and_open_orders_keep_their_history);
