//! Deliveries: a step and the order's change it takes along commit together; racing dispatchers
//! leave one delivery; a courier's repeated and reordered reports are applied once and never
//! move a delivery back; a failed courier leaves the order ready for the next one.

use crate::ordering::{Menu, menu_with_stock, new_order, place, quote, staff_acts};
use crate::{NOW_MS, both};
use diancan_domain::dispatch::{self, *};
use diancan_domain::ordering::{Channel, Order, OrderAction, OrderStatus};
use diancan_domain::staff::{Role, StoreAccess};
use diancan_domain::*;
use diancan_storage::dispatch::{DeliveryError, DeliveryKey, DeliveryMoved, DeliveryRequest};
use diancan_storage::{Db, NewStaff};

async fn ready_delivery_order(db: &Db, menu: &Menu, key: &str) -> Order {
    let mut order = new_order(*menu, key, 1);
    order.channel = Channel::Delivery;
    order.quote = quote(*menu, Channel::Delivery, 1);
    let order = place(db, order).await;
    for action in [
        OrderAction::Accept,
        OrderAction::StartPreparing,
        OrderAction::MarkReady,
    ] {
        db.change_order(staff_acts(&order, action, None, NOW_MS))
            .await
            .unwrap();
    }
    db.order(order.id).await.unwrap()
}

async fn rider(db: &Db, menu: &Menu, login: &str) -> StaffId {
    db.create_staff(
        &NewStaff {
            brand_id: menu.brand,
            login: login.into(),
            display_name: "骑手小李".into(),
            password_hash: "$argon2id$stub-for-storage-test".into(),
            role: Role::Rider,
            access: StoreAccess::Only(vec![menu.store]),
        },
        NOW_MS,
    )
    .await
    .unwrap()
}

fn dispatcher() -> DeliveryActor {
    DeliveryActor::Staff {
        id: StaffId::new(),
        role: Role::Cashier,
    }
}

fn simulator() -> DeliveryActor {
    DeliveryActor::Courier {
        provider: "simulator".into(),
    }
}

async fn give_out(
    db: &Db,
    order: &Order,
    courier: Courier,
) -> Result<DeliveryMoved, DeliveryError> {
    let actor = dispatcher();
    db.move_delivery(DeliveryRequest {
        key: DeliveryKey::ActiveOf(order.id),
        scope: Some((order.brand_id, order.store_id)),
        actor: actor.order_actor(),
        plan: Box::new(move |o, active| {
            dispatch::assign(o, active, courier, Money::from_fen(600), &actor, NOW_MS).map(Some)
        }),
        now_ms: NOW_MS,
    })
    .await
}

async fn step(
    db: &Db,
    key: DeliveryKey,
    step: DeliveryStep,
    actor: DeliveryActor,
) -> Result<DeliveryMoved, DeliveryError> {
    db.move_delivery(DeliveryRequest {
        key,
        scope: None,
        actor: actor.order_actor(),
        plan: Box::new(move |o, delivery| {
            delivery
                .expect("the key names a delivery")
                .step(o, &step, &actor, NOW_MS + 5)
        }),
        now_ms: NOW_MS + 5,
    })
    .await
}

fn simulated(external_id: &str) -> Courier {
    Courier::Provider {
        provider: "simulator".into(),
        external_id: external_id.into(),
    }
}

fn reported(external_id: &str) -> DeliveryKey {
    DeliveryKey::Courier {
        provider: "simulator".into(),
        external_id: external_id.into(),
    }
}

async fn our_rider_walks_the_order_from_ready_to_completed(db: &Db) {
    let menu = menu_with_stock(db, 10).await;
    let order = ready_delivery_order(db, &menu, "rider-1").await;
    let rider_id = rider(db, &menu, "rider1").await;
    let rider = DeliveryActor::Staff {
        id: rider_id,
        role: Role::Rider,
    };
    let given = give_out(db, &order, Courier::OwnRider { staff_id: rider_id })
        .await
        .unwrap();
    let delivery = given.delivery.unwrap();
    assert_eq!(delivery.state, DeliveryState::Assigned);
    assert_eq!(
        given.order.status,
        OrderStatus::Ready,
        "still waiting at the counter"
    );
    assert_eq!(
        given.order.version,
        order.version + 1,
        "the order's stream heard of it"
    );
    let scope = (order.brand_id, order.store_id);
    assert_eq!(db.rider_deliveries(scope, rider_id).await.unwrap().len(), 1);

    let out = step(
        db,
        DeliveryKey::Id(delivery.id),
        DeliveryStep::PickedUp,
        rider.clone(),
    )
    .await
    .unwrap();
    assert_eq!(out.order.status, OrderStatus::OutForDelivery);
    let done = step(
        db,
        DeliveryKey::Id(delivery.id),
        DeliveryStep::Delivered,
        rider,
    )
    .await
    .unwrap();
    assert_eq!(done.order.status, OrderStatus::Completed);
    assert_eq!(
        db.order(order.id).await.unwrap().status,
        OrderStatus::Completed
    );
    assert!(
        db.rider_deliveries(scope, rider_id)
            .await
            .unwrap()
            .is_empty()
    );

    let records = db.deliveries_of_order(scope, order.id).await.unwrap();
    assert_eq!(records.len(), 1);
    let states: Vec<DeliveryState> = records[0].events.iter().map(|e| e.to_state).collect();
    assert_eq!(
        states,
        [
            DeliveryState::Assigned,
            DeliveryState::PickedUp,
            DeliveryState::Delivered
        ]
    );
    assert_eq!(records[0].events[1].actor, format!("staff:{rider_id}"));
    let actions = crate::ordering::actions_of(db, order.id).await;
    assert_eq!(
        &actions[actions.len() - 3..],
        ["delivery", "dispatch", "complete"],
        "the diner's page hears every step"
    );
    let elsewhere = (BrandId::new(), order.store_id);
    assert!(
        db.deliveries_of_order(elsewhere, order.id)
            .await
            .unwrap()
            .is_empty()
    );
}
both!(our_rider_walks_the_order_from_ready_to_completed);

async fn racing_dispatchers_leave_one_delivery(db: &Db) {
    let menu = menu_with_stock(db, 10).await;
    let order = ready_delivery_order(db, &menu, "race-1").await;
    let mut racers = Vec::new();
    for n in 0..8 {
        let db = db.clone();
        let order = order.clone();
        racers.push(tokio::spawn(async move {
            give_out(&db, &order, simulated(&format!("SIM-race-{n}"))).await
        }));
    }
    let mut given = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(_) => given += 1,
            Err(DeliveryError::Refused(DeliveryRefusal::AlreadyAssigned)) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(given, 1);
    let scope = (order.brand_id, order.store_id);
    assert_eq!(
        db.deliveries_of_order(scope, order.id).await.unwrap().len(),
        1
    );
}
both!(race racing_dispatchers_leave_one_delivery);

async fn courier_reports_apply_once_and_never_move_back(db: &Db) {
    let menu = menu_with_stock(db, 10).await;
    let order = ready_delivery_order(db, &menu, "courier-1").await;
    give_out(db, &order, simulated("SIM-7")).await.unwrap();
    let reports = [
        (DeliveryStep::PickedUp, true),
        (
            DeliveryStep::Assigned {
                rider_name: Some("王师傅".into()),
            },
            false,
        ),
        (DeliveryStep::PickedUp, false),
        (DeliveryStep::Delivered, true),
        (DeliveryStep::Delivered, false),
        (
            DeliveryStep::Failed {
                reason: "迟到的失败".into(),
            },
            false,
        ),
        (DeliveryStep::Assigned { rider_name: None }, false),
    ];
    for (report, changes) in reports {
        let moved = step(db, reported("SIM-7"), report.clone(), simulator())
            .await
            .unwrap();
        assert_eq!(moved.changed, changes, "{report:?}");
    }
    let order = db.order(order.id).await.unwrap();
    assert_eq!(order.status, OrderStatus::Completed);
    let scope = (order.brand_id, order.store_id);
    let records = db.deliveries_of_order(scope, order.id).await.unwrap();
    assert_eq!(records[0].delivery.state, DeliveryState::Delivered);
    assert_eq!(
        records[0].events.len(),
        3,
        "requested, picked up, delivered"
    );
    let unknown = step(
        db,
        reported("SIM-nope"),
        DeliveryStep::PickedUp,
        simulator(),
    )
    .await;
    assert!(matches!(unknown, Err(DeliveryError::NotFound)));
}
both!(courier_reports_apply_once_and_never_move_back);

async fn a_failed_courier_leaves_the_order_ready_for_the_next(db: &Db) {
    let menu = menu_with_stock(db, 10).await;
    let order = ready_delivery_order(db, &menu, "fail-1").await;
    give_out(db, &order, simulated("SIM-f1")).await.unwrap();
    let failed = step(
        db,
        reported("SIM-f1"),
        DeliveryStep::Failed {
            reason: "附近暂无骑手".into(),
        },
        simulator(),
    )
    .await
    .unwrap();
    assert!(failed.changed);
    assert_eq!(failed.order.status, OrderStatus::Ready);
    let events = db
        .events_after(&diancan_storage::events::order_stream(order.id), 0)
        .await
        .unwrap();
    let last: serde_json::Value =
        serde_json::from_str(&events.last().unwrap().payload_json).unwrap();
    assert_eq!(last["delivery_state"], "failed");
    assert_eq!(last["reason"], "附近暂无骑手");
    let again = give_out(db, &order, simulated("SIM-f2")).await.unwrap();
    assert_eq!(again.delivery.unwrap().state, DeliveryState::Requested);
    let scope = (order.brand_id, order.store_id);
    assert_eq!(
        db.deliveries_of_order(scope, order.id).await.unwrap().len(),
        2
    );
    // The courier cannot take the food before it is ready, nor move a pickup order.
    let menu2 = crate::ordering::menu_of_brand(db, "pickups", 10).await;
    let pickup = place(db, new_order(menu2, "pickup-1", 1)).await;
    let refused = give_out(db, &pickup, simulated("SIM-p")).await;
    assert!(matches!(
        refused,
        Err(DeliveryError::Refused(DeliveryRefusal::NotADeliveryOrder))
    ));
}
both!(a_failed_courier_leaves_the_order_ready_for_the_next);
