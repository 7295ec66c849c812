//! 派单 through the API: our rider carries an order from the board to the diner and only the
//! rider it was given to sees the address and taps 取货 / 送达; staff racing to give out one
//! order leave one delivery; a courier's repeated or reordered reports apply once and never go
//! back; a courier that fails puts the order back on the board, ready for the next.

use crate::app::{TestApp, code, store_profile};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use diancan_domain::Money;
use diancan_domain::ordering::{DeliveryZone, ZoneArea};
use diancan_domain::staff::{Role, StoreAccess};
use diancan_integrations::couriers::simulator::{
    CourierSimulator, DELIVERED_AFTER_MS, SIGNATURE_HEADER,
};
use serde_json::{Value, json};
use std::sync::Arc;

const ADDRESS: &str = "人民路 8 号 3 楼 301";
const PHONE: &str = "13800138000";

/// Tenant A delivers within 3 km, and its demo courier is the simulator.
async fn delivering_app() -> (TestApp, Arc<CourierSimulator>) {
    let mut app = TestApp::new().await;
    let mut profile = store_profile("人民广场店");
    profile.rules.delivery_zones = vec![DeliveryZone {
        name: "3公里内".into(),
        area: ZoneArea::Radius { radius_m: 3000 },
        fee_fen: Money::from_fen(500),
        minimum_order_fen: Money::ZERO,
    }];
    app.db()
        .update_store(app.a.brand, app.a.store, &profile, app.state.clock.now_ms())
        .await
        .unwrap();
    app.state = app.state.clone().with_simulated_couriers();
    app.router = diancan_web::router(app.state.clone());
    let simulator = app.state.courier_simulator.clone().unwrap();
    for login in ["alpha-rider", "alpha-rider-2"] {
        app.add_staff(login, Role::Rider, StoreAccess::Only(vec![app.a.store]))
            .await;
    }
    (app, simulator)
}

fn console(app: &TestApp, rest: &str) -> String {
    format!("/api/v1/console/stores/{}/{rest}", app.a.store)
}

/// A delivery order at tenant A, paid at the counter and cooked: ready to go out.
async fn ready_delivery_order(app: &TestApp, key: &str, owner: &str) -> String {
    let mut body = app.pickup_body(1).await;
    body["channel"] = json!("delivery");
    body["delivery_to"] = json!({"latitude_e6": 31_236_000, "longitude_e6": 121_481_000});
    let mut body = app.quoted(body).await;
    body["delivery_address"] = json!(ADDRESS);
    body["contact"] = json!({"name": "林女士", "phone": PHONE});
    let (status, order) = app.place(key, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let id = order["id"].as_str().unwrap().to_owned();
    let mut version = order["version"].clone();
    for action in ["pay", "accept", "start_preparing", "mark_ready"] {
        let (status, moved) = app.act(owner, &id, action, &version).await;
        assert_eq!(status, StatusCode::OK, "{action}: {moved}");
        version = moved["version"].clone();
    }
    id
}

async fn rider_id(app: &TestApp, owner: &str, name_login: &str) -> String {
    let (status, staff) = app.get("/api/v1/console/staff", Some(owner)).await;
    assert_eq!(status, StatusCode::OK, "{staff}");
    staff
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["login"] == name_login)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn our_rider_carries_the_order_and_only_they_see_where_to() {
    let (app, _) = delivering_app().await;
    let owner = app.login(&app.a.owner_login).await;
    let order = ready_delivery_order(&app, "dispatch-rider-1", &owner).await;
    let rider = app.login("alpha-rider").await;
    let other = app.login("alpha-rider-2").await;
    let rider_staff = rider_id(&app, &owner, "alpha-rider").await;

    let (status, choices) = app
        .get(&console(&app, "dispatch-choices"), Some(&owner))
        .await;
    assert_eq!(status, StatusCode::OK, "{choices}");
    assert_eq!(choices["riders"].as_array().unwrap().len(), 2);
    assert_eq!(choices["couriers"][0]["name"], "simulator");
    // Riders carry deliveries; they do not hand them out.
    let (status, _) = app
        .get(&console(&app, "dispatch-choices"), Some(&rider))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let assign = console(&app, &format!("orders/{order}/deliveries"));
    let (status, refused) = app
        .post(&assign, Some(&rider), json!({"rider_id": rider_staff}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");

    let (status, given) = app
        .post(&assign, Some(&owner), json!({"rider_id": rider_staff}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{given}");
    assert_eq!(given["delivery"]["state"], "assigned");
    assert_eq!(given["delivery"]["fee_fen"], 0);
    assert_eq!(given["order"]["status"], "ready");
    let delivery = given["delivery"]["id"].as_str().unwrap().to_owned();

    let (_, mine) = app
        .get(&console(&app, "rider/deliveries"), Some(&rider))
        .await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine[0]["address"], ADDRESS);
    assert_eq!(mine[0]["phone"], PHONE);
    assert_eq!(mine[0]["contact_name"], "林女士");
    let (_, theirs) = app
        .get(&console(&app, "rider/deliveries"), Some(&other))
        .await;
    assert_eq!(theirs, json!([]), "another rider sees nothing of it");

    let pick_up = console(&app, &format!("deliveries/{delivery}/pick-up"));
    let (status, refused) = app.post(&pick_up, Some(&other), json!({})).await;
    assert_eq!(
        (status, code(&refused)),
        (StatusCode::FORBIDDEN, "NOT_YOUR_DELIVERY")
    );
    let (status, out) = app.post(&pick_up, Some(&rider), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["order"]["status"], "out_for_delivery");
    let (status, twice) = app.post(&pick_up, Some(&rider), json!({})).await;
    assert_eq!(
        (status, code(&twice)),
        (StatusCode::CONFLICT, "ILLEGAL_DELIVERY_STEP")
    );
    let (_, seen) = app
        .as_guest(axum::http::Method::GET, &order, "/delivery")
        .await;
    assert_eq!(seen["delivery"]["state"], "picked_up");
    assert_eq!(seen["delivery"]["state_label"], "配送中");

    let deliver = console(&app, &format!("deliveries/{delivery}/deliver"));
    let (status, done) = app.post(&deliver, Some(&rider), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["order"]["status"], "completed");
    let (_, seen) = app
        .as_guest(axum::http::Method::GET, &order, "/delivery")
        .await;
    assert_eq!(seen["delivery"]["state_label"], "已送达");
    let (_, mine) = app
        .get(&console(&app, "rider/deliveries"), Some(&rider))
        .await;
    assert_eq!(mine, json!([]));

    let (_, records) = app.get(&assign, Some(&owner)).await;
    let steps: Vec<&str> = records[0]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["to_state"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["assigned", "picked_up", "delivered"]);
    assert_eq!(
        records[0]["history"][1]["actor"],
        format!("staff:{rider_staff}")
    );
    // Without the order's secret the diner's delivery is not there at all.
    let (status, _) = app
        .get(&format!("/api/v1/orders/{order}/delivery"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_giving_out_one_order_at_once_leave_one_delivery() {
    let (app, simulator) = delivering_app().await;
    let owner = app.login(&app.a.owner_login).await;
    let manager = app.login("alpha-manager").await;
    let order = ready_delivery_order(&app, "dispatch-race-1", &owner).await;
    let rider = rider_id(&app, &owner, "alpha-rider").await;
    let assign = console(&app, &format!("orders/{order}/deliveries"));
    let mut racers = Vec::new();
    for n in 0..12 {
        let token = if n % 2 == 0 { &owner } else { &manager };
        let body = if n % 3 == 0 {
            json!({"courier": "simulator"})
        } else {
            json!({"rider_id": rider})
        };
        let request = Request::post(&assign)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(body.to_string()))
            .unwrap();
        let router = app.router.clone();
        racers.push(tokio::spawn(async move {
            let response = tower::ServiceExt::oneshot(router, request).await.unwrap();
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .unwrap();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap())
        }));
    }
    let mut given = Vec::new();
    for racer in racers {
        match racer.await.unwrap() {
            (StatusCode::CREATED, body) => given.push(body),
            (StatusCode::CONFLICT, body) => assert_eq!(code(&body), "DELIVERY_ALREADY_ASSIGNED"),
            (status, body) => panic!("unexpected {status}: {body}"),
        }
    }
    assert_eq!(given.len(), 1, "one delivery: {given:?}");
    let (_, records) = app.get(&assign, Some(&owner)).await;
    assert_eq!(records.as_array().unwrap().len(), 1);
    // Couriers asked by the losers were called back at once.
    let couriers_kept = usize::from(given[0]["delivery"]["courier_kind"] == "courier");
    assert_eq!(simulator.open_deliveries(), couriers_kept);
    app.cleanup().await;
}

async fn post_callback(app: &TestApp, body: &[u8], signature: &str) -> (StatusCode, Value) {
    let request = Request::post("/api/v1/couriers/simulator/callback")
        .header(header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(Body::from(body.to_vec()))
        .unwrap();
    let (status, _, value) = app.send_request(request).await;
    (status, value)
}

#[tokio::test]
async fn courier_reports_repeated_or_out_of_order_apply_once_and_never_go_back() {
    let (app, simulator) = delivering_app().await;
    let owner = app.login(&app.a.owner_login).await;
    let order = ready_delivery_order(&app, "dispatch-courier-1", &owner).await;
    let assign = console(&app, &format!("orders/{order}/deliveries"));
    let (status, given) = app
        .post(&assign, Some(&owner), json!({"courier": "simulator"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{given}");
    assert_eq!(given["delivery"]["state"], "requested");
    assert_eq!(given["delivery"]["fee_fen"], 500, "the simulator's quote");
    // A courier's delivery moves by its reports, not by staff taps.
    let delivery = given["delivery"]["id"].as_str().unwrap();
    let (status, refused) = app
        .post(
            &console(&app, &format!("deliveries/{delivery}/pick-up")),
            Some(&owner),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, code(&refused)),
        (StatusCode::CONFLICT, "COURIER_DRIVES_DELIVERY")
    );

    let far = app.state.clock.now_ms() + DELIVERED_AFTER_MS;
    let mut reports = Vec::new();
    for _ in 0..3 {
        let due = simulator.due(far);
        assert_eq!(due.len(), 1);
        reports.push(due[0].clone());
        simulator.delivered(&due[0]);
    }
    let [assigned, picked, delivered] = [&reports[0], &reports[1], &reports[2]];
    let sequence = [
        (picked, true, "picked_up"),
        (assigned, false, "picked_up"),
        (picked, false, "picked_up"),
        (delivered, true, "delivered"),
        (delivered, false, "delivered"),
        (assigned, false, "delivered"),
    ];
    for (report, changes, state) in sequence {
        let (status, moved) = post_callback(&app, &report.body, &report.signature).await;
        assert_eq!(status, StatusCode::OK, "{moved}");
        assert_eq!(moved["changed"], changes, "{moved}");
        assert_eq!(moved["delivery"]["state"], state);
    }
    let (_, now) = app.as_guest(axum::http::Method::GET, &order, "").await;
    assert_eq!(now["status"], "completed");
    let (_, records) = app.get(&assign, Some(&owner)).await;
    assert_eq!(
        records[0]["history"].as_array().unwrap().len(),
        3,
        "requested, picked up, delivered"
    );

    let (status, refused) = post_callback(&app, &assigned.body, "00ff").await;
    assert_eq!(
        (status, code(&refused)),
        (StatusCode::UNAUTHORIZED, "BAD_COURIER_REPORT")
    );
    let request = Request::post("/api/v1/couriers/nobody/callback")
        .body(Body::from("{}"))
        .unwrap();
    let (status, _, _) = app.send_request(request).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.cleanup().await;
}

#[tokio::test]
async fn a_courier_cannot_take_food_that_is_not_ready_and_says_so_again_later() {
    let (app, simulator) = delivering_app().await;
    let owner = app.login(&app.a.owner_login).await;
    let mut body = app.pickup_body(1).await;
    body["channel"] = json!("delivery");
    body["delivery_to"] = json!({"latitude_e6": 31_236_000, "longitude_e6": 121_481_000});
    let mut body = app.quoted(body).await;
    body["delivery_address"] = json!(ADDRESS);
    body["contact"] = json!({"name": "林女士", "phone": PHONE});
    let (_, placed) = app.place("dispatch-early-1", &body).await;
    let order = placed["id"].as_str().unwrap().to_owned();
    let mut version = placed["version"].clone();
    for action in ["pay", "accept", "start_preparing"] {
        let (_, moved) = app.act(&owner, &order, action, &version).await;
        version = moved["version"].clone();
    }
    let assign = console(&app, &format!("orders/{order}/deliveries"));
    let (status, _) = app
        .post(&assign, Some(&owner), json!({"courier": "simulator"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let far = app.state.clock.now_ms() + DELIVERED_AFTER_MS;
    let ctx = &app.state.core;
    assert_eq!(
        diancan_usecases::dispatch::drive_simulator(ctx, &simulator, far).await,
        1,
        "assigned"
    );
    assert_eq!(
        diancan_usecases::dispatch::drive_simulator(ctx, &simulator, far).await,
        0,
        "picked up is refused while the kitchen cooks"
    );
    let due = simulator.due(far);
    let (status, refused) = post_callback(&app, &due[0].body, &due[0].signature).await;
    assert_eq!(
        (status, code(&refused)),
        (StatusCode::CONFLICT, "ORDER_NOT_READY")
    );
    // The courier's notices moved the order's version on: act on it as it is now.
    let (_, now) = app.as_guest(axum::http::Method::GET, &order, "").await;
    assert!(now["version"].as_i64() > version.as_i64());
    let (_, ready) = app.act(&owner, &order, "mark_ready", &now["version"]).await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(
        diancan_usecases::dispatch::drive_simulator(ctx, &simulator, far).await,
        1,
        "sent again, taken"
    );
    assert_eq!(
        diancan_usecases::dispatch::drive_simulator(ctx, &simulator, far).await,
        1,
        "delivered"
    );
    let (_, now) = app.as_guest(axum::http::Method::GET, &order, "").await;
    assert_eq!(now["status"], "completed");
    app.cleanup().await;
}

#[tokio::test]
async fn a_failing_courier_puts_the_order_back_on_the_board() {
    let (app, simulator) = delivering_app().await;
    let owner = app.login(&app.a.owner_login).await;
    let order = ready_delivery_order(&app, "dispatch-fail-1", &owner).await;
    simulator.fail_deliveries(Some("附近暂无骑手"));
    let assign = console(&app, &format!("orders/{order}/deliveries"));
    let (status, _) = app
        .post(&assign, Some(&owner), json!({"courier": "simulator"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let far = app.state.clock.now_ms() + DELIVERED_AFTER_MS;
    assert_eq!(
        diancan_usecases::dispatch::drive_simulator(&app.state.core, &simulator, far).await,
        1
    );

    app.outbox_drained().await;
    let (status, board) = app.get(&console(&app, "board"), Some(&owner)).await;
    assert_eq!(status, StatusCode::OK, "{board}");
    let card = board["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == order.as_str())
        .unwrap();
    assert_eq!(card["status"], "ready", "still waiting at the counter");
    let delivery = board["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["order_id"] == order.as_str())
        .unwrap();
    assert_eq!(delivery["state"], "failed");
    assert_eq!(delivery["note"], "附近暂无骑手");
    // The board's log says so, for the alert on every open board.
    let stream = diancan_storage::events::orders_stream(app.a.store);
    let events = app.db().events_after(&stream, 0).await.unwrap();
    let failed = events
        .iter()
        .map(|e| serde_json::from_str::<Value>(&e.payload_json).unwrap())
        .find(|e| e["delivery_state"] == "failed")
        .expect("a failure on the board's log");
    assert_eq!(failed["reason"], "附近暂无骑手");
    // The diner is told it is being rearranged; the store gives it to our rider.
    let (_, seen) = app
        .as_guest(axum::http::Method::GET, &order, "/delivery")
        .await;
    assert_eq!(seen["delivery"]["state"], "failed");
    simulator.fail_deliveries(None);
    let rider = rider_id(&app, &owner, "alpha-rider").await;
    let (status, again) = app
        .post(&assign, Some(&owner), json!({"rider_id": rider}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again["delivery"]["state"], "assigned");
    let (status, called_back) = app
        .post(
            &console(&app, &format!("orders/{order}/deliveries/cancel")),
            Some(&owner),
            json!({"reason": "顾客改为自取"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{called_back}");
    assert_eq!(called_back["delivery"]["state"], "cancelled");
    app.cleanup().await;
}

#[tokio::test]
async fn a_dispatch_names_one_rider_of_the_store_or_one_configured_courier() {
    let (app, _) = delivering_app().await;
    let owner = app.login(&app.a.owner_login).await;
    let order = ready_delivery_order(&app, "dispatch-bad-1", &owner).await;
    let assign = console(&app, &format!("orders/{order}/deliveries"));
    let rider = rider_id(&app, &owner, "alpha-rider").await;
    let manager = rider_id(&app, &owner, "alpha-manager").await;
    for (body, expected) in [
        (json!({}), "VALIDATION_FAILED"),
        (
            json!({"rider_id": rider, "courier": "simulator"}),
            "VALIDATION_FAILED",
        ),
        (json!({"courier": "nobody"}), "VALIDATION_FAILED"),
        (json!({"courier": "有 空格"}), "VALIDATION_FAILED"),
        (json!({"rider_id": manager}), "NOT_A_RIDER"),
        (
            json!({"rider_id": diancan_domain::StaffId::new()}),
            "NOT_A_RIDER",
        ),
    ] {
        let (status, refused) = app.post(&assign, Some(&owner), body.clone()).await;
        assert_eq!(
            (status, code(&refused)),
            (StatusCode::UNPROCESSABLE_ENTITY, expected),
            "{body}: {refused}"
        );
    }
    let (_, records) = app.get(&assign, Some(&owner)).await;
    assert_eq!(records, json!([]), "nothing was given out");
    app.cleanup().await;
}

#[tokio::test]
async fn cancelling_the_order_ends_its_delivery_and_calls_the_courier_back() {
    let (app, simulator) = delivering_app().await;
    let owner = app.login(&app.a.owner_login).await;
    let rider_token = app.login("alpha-rider").await;
    let rider = rider_id(&app, &owner, "alpha-rider").await;
    for (key, body) in [
        ("dispatch-cancel-1", json!({"rider_id": rider})),
        ("dispatch-cancel-2", json!({"courier": "simulator"})),
    ] {
        let order = ready_delivery_order(&app, key, &owner).await;
        let assign = console(&app, &format!("orders/{order}/deliveries"));
        let (status, _) = app.post(&assign, Some(&owner), body).await;
        assert_eq!(status, StatusCode::CREATED);
        let (_, now) = app.as_guest(axum::http::Method::GET, &order, "").await;
        let (status, cancelled) = app.act(&owner, &order, "cancel", &now["version"]).await;
        assert_eq!(status, StatusCode::OK, "{cancelled}");
        let (_, records) = app.get(&assign, Some(&owner)).await;
        assert_eq!(records[0]["delivery"]["state"], "cancelled", "{records}");
        assert_eq!(records[0]["delivery"]["note"], "订单已取消");
    }
    let (_, mine) = app
        .get(&console(&app, "rider/deliveries"), Some(&rider_token))
        .await;
    assert_eq!(mine, json!([]));
    assert_eq!(
        simulator.open_deliveries(),
        0,
        "the courier was called back"
    );
    app.cleanup().await;
}
