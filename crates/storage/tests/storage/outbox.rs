//! The outbox: a change's announcement commits with it, and is handed to one worker at a time,
//! again after a lease runs out or a failed delivery's retry time comes, and never once delivered.

use crate::ordering::{menu_with_stock, new_order, place, staff_acts};
use crate::{NOW_MS, another_instance, both};
use diancan_domain::ordering::OrderAction;
use diancan_storage::Db;
use diancan_storage::events::{ANNOUNCE, order_stream, store_channel};
use diancan_storage::outbox::{OutboxCounts, OutboxEntry, OutboxMessage};
use diancan_storage::testing::TestDb;
use std::collections::HashSet;

const LEASE_MS: i64 = 30_000;

/// Leases everything due at `now_ms` and marks it delivered, as the worker does.
pub async fn deliver_all(db: &Db, now_ms: i64) -> Vec<OutboxMessage> {
    let mut delivered = Vec::new();
    loop {
        let leased = db.claim_outbox(now_ms, LEASE_MS, 100).await.unwrap();
        if leased.is_empty() {
            return delivered;
        }
        let outcomes: Vec<_> = leased.iter().map(|m| (m.id, Ok(()))).collect();
        db.settle_outbox(&outcomes, now_ms).await.unwrap();
        delivered.extend(leased);
    }
}

fn ids(messages: &[OutboxMessage]) -> Vec<i64> {
    messages.iter().map(|m| m.id).collect()
}

async fn a_change_and_its_announcement_commit_together(db: &Db) {
    let menu = menu_with_stock(db, 5).await;
    let order = place(db, new_order(menu, "k", 1)).await;
    let placement = deliver_all(db, NOW_MS).await;
    assert!(
        placement
            .iter()
            .any(|m| m.subject == Some(order_stream(order.id))),
        "placing announces the order: {placement:?}"
    );

    let now = NOW_MS + 1_000;
    let accepted = db
        .change_order(staff_acts(&order, OrderAction::Accept, Some(1), now))
        .await
        .unwrap();
    let (leased, kitchen): (Vec<_>, Vec<_>) = db
        .claim_outbox(now, LEASE_MS, 10)
        .await
        .unwrap()
        .into_iter()
        .partition(|m| m.topic == ANNOUNCE && m.subject == Some(order_stream(order.id)));
    assert_eq!(
        leased.len(),
        1,
        "one announcement of the order for one change: {leased:?}"
    );
    // The orders board's entry for the change commits with it too.
    assert_eq!(
        kitchen
            .iter()
            .filter(|m| m.topic == diancan_storage::ordering::board::BOARD_TOPIC
                && m.subject == Some(order_stream(order.id)))
            .count(),
        1,
        "one board entry for one change: {kitchen:?}"
    );
    // The accept also sent the order to the kitchen: its tickets' announcement commits with it;
    // they (and the board entry) are delivered here so the story follows the order's row alone.
    let kitchen_stream = diancan_storage::events::kitchen_stream(menu.store);
    assert!(
        kitchen
            .iter()
            .any(|m| m.subject == Some(kitchen_stream.clone()))
    );
    let kitchen_done: Vec<_> = kitchen.iter().map(|m| (m.id, Ok(()))).collect();
    db.settle_outbox(&kitchen_done, now).await.unwrap();
    let message = &leased[0];
    assert_eq!(message.topic, ANNOUNCE);
    assert_eq!(message.subject, Some(order_stream(order.id)));
    assert_eq!(message.attempt, 1);
    let payload: serde_json::Value = serde_json::from_str(&message.payload_json).unwrap();
    let names: HashSet<&str> = payload["names"]
        .as_array()
        .expect("an announcement names what changed")
        .iter()
        .map(|name| name.as_str().unwrap())
        .collect();
    let expected = [order_stream(order.id), store_channel(menu.store)];
    assert_eq!(names, expected.iter().map(String::as_str).collect());
    let events = db.events_after(&order_stream(order.id), 1).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
        [accepted.version],
        "the event it announces is there too"
    );

    assert!(
        db.claim_outbox(now + LEASE_MS - 1, LEASE_MS, 10)
            .await
            .unwrap()
            .is_empty(),
        "not handed out again while leased"
    );
    // The worker died holding it: once the lease runs out, it is due again.
    let lease_over = now + LEASE_MS;
    let again = db.claim_outbox(lease_over, LEASE_MS, 10).await.unwrap();
    assert_eq!(ids(&again), [message.id]);
    assert_eq!(again[0].attempt, 2);

    let retry_at = lease_over + 5_000;
    let failure = Err((retry_at, "LISTEN connection lost".to_owned()));
    db.settle_outbox(&[(message.id, failure)], lease_over)
        .await
        .unwrap();
    assert_eq!(db.outbox_counts().await.unwrap().retrying, 1);
    assert_eq!(db.next_outbox_due().await.unwrap(), Some(retry_at));
    assert!(
        db.claim_outbox(retry_at - 1, LEASE_MS, 10)
            .await
            .unwrap()
            .is_empty(),
        "not before its retry time"
    );
    let retried = db.claim_outbox(retry_at, LEASE_MS, 10).await.unwrap();
    assert_eq!(ids(&retried), [message.id]);
    assert_eq!(retried[0].attempt, 3);
    assert_eq!(
        db.outbox_counts().await.unwrap().retrying,
        1,
        "the last error is kept while it is tried again"
    );

    db.settle_outbox(&[(message.id, Ok(()))], retry_at + 1)
        .await
        .unwrap();
    assert_eq!(
        db.outbox_counts().await.unwrap(),
        OutboxCounts {
            pending: 0,
            delivered: placement.len() as i64 + kitchen.len() as i64 + 1,
            retrying: 0,
        }
    );
    assert_eq!(db.next_outbox_due().await.unwrap(), None);
    assert!(
        db.claim_outbox(retry_at + 100 * LEASE_MS, LEASE_MS, 10)
            .await
            .unwrap()
            .is_empty(),
        "a delivered row is never handed out again"
    );
}
both!(a_change_and_its_announcement_commit_together);

async fn two_instances_never_lease_the_same_row(test_db: &TestDb) {
    const ROWS: usize = 300;
    let db = &test_db.db;
    let other = another_instance(test_db).await;
    let entries: Vec<OutboxEntry> = (0..ROWS)
        .map(|i| OutboxEntry {
            topic: ANNOUNCE,
            subject: Some(format!("test:{i}")),
            payload: serde_json::json!({ "names": [] }),
        })
        .collect();
    db.enqueue_outbox(&entries, NOW_MS).await.unwrap();

    // Two workers on each instance, each leasing small batches until nothing is left.
    let workers: Vec<_> = [db, &other, db, &other]
        .into_iter()
        .map(|instance| {
            let instance = instance.clone();
            tokio::spawn(async move {
                let mut leased = Vec::new();
                loop {
                    let batch = instance.claim_outbox(NOW_MS, LEASE_MS, 7).await.unwrap();
                    if batch.is_empty() {
                        return leased;
                    }
                    leased.extend(ids(&batch));
                }
            })
        })
        .collect();
    let mut leased = Vec::new();
    for worker in workers {
        leased.extend(worker.await.unwrap());
    }
    let distinct: HashSet<i64> = leased.iter().copied().collect();
    assert_eq!(distinct.len(), ROWS, "every row was leased");
    assert_eq!(leased.len(), ROWS, "and none twice");
    other.close().await;
}
both!(instances two_instances_never_lease_the_same_row);
