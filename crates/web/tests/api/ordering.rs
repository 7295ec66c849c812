//! Diner ordering end to end through the router: quote, idempotent placement, stock races,
//! specific errors, table rounds, staff actions, hurry, cancel and the unpaid timeout.

use crate::app::{TestApp, code};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;

async fn set_stock(app: &TestApp, stock: i64) {
    let token = app.login(&app.a.owner_login).await;
    let settings = json!({"price_fen": null, "stock": stock, "daily_limit": null, "low_stock_threshold": null, "sold_out": false});
    let (status, _) = app
        .put(
            &format!("/api/v1/console/stores/{}/skus/{}", app.a.store, app.a.sku),
            Some(&token),
            settings,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

async fn stock(app: &TestApp) -> Option<i64> {
    app.db()
        .store_menu_settings(app.a.store)
        .await
        .unwrap()
        .sku_states
        .get(&app.a.sku)
        .and_then(|s| s.stock)
}

#[tokio::test]
async fn one_key_places_one_order_however_often_it_is_sent() {
    let app = TestApp::new().await;
    let body = app.quoted(app.pickup_body(2).await).await;
    let (status, first) = app.place("checkout-0001", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(
        first["status"], "awaiting_payment",
        "pickup at a pay-first store waits for payment"
    );
    assert_eq!(first["pickup_number"], 1);
    assert_eq!(
        first["quote"]["total_fen"],
        2 * 2800 + 2 * 100,
        "two bowls and packing per item"
    );

    let (status, again) = app.place("checkout-0001", &body).await;
    assert_eq!((status, &again["id"]), (StatusCode::OK, &first["id"]));

    let other = app.quoted(app.pickup_body(1).await).await;
    let (status, reused) = app.place("checkout-0001", &other).await;
    assert_eq!(
        (status, code(&reused)),
        (StatusCode::CONFLICT, "IDEMPOTENCY_KEY_REUSED")
    );
    let (status, missing) = app.place("", &body).await;
    assert_eq!(
        (status, code(&missing)),
        (StatusCode::BAD_REQUEST, "IDEMPOTENCY_KEY_REQUIRED")
    );
    let day_orders = app
        .db()
        .store_orders(
            app.a.brand,
            app.a.store,
            diancan_domain::schedule::BusinessDate::from_date(jiff::civil::date(2026, 11, 25)),
        )
        .await
        .unwrap();
    assert_eq!(day_orders.len(), 1);
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_orders_for_the_last_ten_bowls_make_ten_orders() {
    let app = TestApp::new().await;
    set_stock(&app, 10).await;
    let body = app.quoted(app.pickup_body(1).await).await;
    let mut racers = Vec::new();
    for i in 0..50 {
        let router = app.router.clone();
        let request = Request::post(format!("/api/v1/stores/{}/orders", app.a.store))
            .header(header::CONTENT_TYPE, "application/json")
            .header("idempotency-key", format!("racer-{i:04}"))
            .body(Body::from(body.to_string()))
            .unwrap();
        racers.push(tokio::spawn(async move {
            tower::ServiceExt::oneshot(router, request)
                .await
                .unwrap()
                .status()
        }));
    }
    let mut created = 0;
    let mut refused = 0;
    for racer in racers {
        match racer.await.unwrap() {
            StatusCode::CREATED => created += 1,
            // Sold out at placement, or already shown sold out when re-priced.
            StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((created, refused), (10, 40));
    assert_eq!(stock(&app).await, Some(0));
    app.cleanup().await;
}

#[tokio::test]
async fn bad_orders_get_specific_errors_and_change_nothing() {
    let app = TestApp::new().await;
    set_stock(&app, 5).await;
    let quote_path = format!("/api/v1/stores/{}/quote", app.a.store);
    let good = app.pickup_body(1).await;

    let mut zero = good.clone();
    zero["lines"][0]["quantity"] = json!(0);
    let mut huge = good.clone();
    huge["lines"][0]["quantity"] = json!(10_000);
    let mut unknown = good.clone();
    unknown["lines"][0]["sku_id"] = json!("00000000-0000-7000-8000-000000000000");
    let mut no_spice = good.clone();
    no_spice["lines"][0]["option_ids"] = json!([]);
    for (body, expected) in [
        (zero, "QUANTITY_OUT_OF_RANGE"),
        (huge, "QUANTITY_OUT_OF_RANGE"),
        (unknown, "UNKNOWN_ITEM"),
        (no_spice, "MISSING_CHOICE"),
    ] {
        let (status, error) = app.post(&quote_path, None, body).await;
        assert_eq!(
            (status, code(&error)),
            (StatusCode::UNPROCESSABLE_ENTITY, "LINE_PROBLEMS"),
            "{error}"
        );
        assert_eq!(error["error"]["details"][0]["code"], expected);
        assert_eq!(error["error"]["details"][0]["field"], "lines[0]");
    }
    let mut delivery = good.clone();
    delivery["channel"] = json!("delivery");
    delivery["delivery_to"] = json!({"latitude_e6": 31_235_000, "longitude_e6": 121_480_000});
    let (status, error) = app.post(&quote_path, None, delivery).await;
    assert_eq!(
        (status, code(&error)),
        (StatusCode::UNPROCESSABLE_ENTITY, "OUTSIDE_DELIVERY_ZONES"),
        "no zones configured"
    );

    // A stale quote is refused with the new one attached.
    let mut stale = app.quoted(good.clone()).await;
    stale["quote_version"] = json!("0000000000000000");
    let (status, error) = app.place("stale-quote-1", &stale).await;
    assert_eq!(
        (status, code(&error)),
        (StatusCode::CONFLICT, "STALE_QUOTE")
    );
    assert!(error["error"]["quote"]["total_fen"].is_number());
    assert_eq!(stock(&app).await, Some(5), "nothing taken");
    app.cleanup().await;
}

#[tokio::test]
async fn a_closed_store_says_when_it_opens() {
    let app = TestApp::with_clock(diancan_web::Clock::fixed(
        "2026-11-25T15:30:00Z".parse().unwrap(),
    ))
    .await;
    let (status, error) = app
        .post(
            &format!("/api/v1/stores/{}/quote", app.a.store),
            None,
            app.pickup_body(1).await,
        )
        .await;
    assert_eq!(
        (status, code(&error)),
        (StatusCode::UNPROCESSABLE_ENTITY, "STORE_CLOSED")
    );
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2026-11-26 07:00"),
        "{error}"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn staff_move_an_order_along_and_every_step_is_an_event() {
    let app = TestApp::new().await;
    let body = app.quoted(app.pickup_body(1).await).await;
    let (_, order) = app.place("lifecycle-01", &body).await;
    let id = order["id"].as_str().unwrap().to_owned();
    // Each step is taken by the role whose job it is, on the version the last answer showed.
    let manager = app.login("alpha-manager").await;
    let kitchen = app.login("alpha-kitchen").await;
    let waiter = app.login("alpha-waiter").await;
    let mut version = order["version"].clone();
    for (who, action, status) in [
        (&manager, "pay", "placed"),
        (&waiter, "accept", "accepted"),
        (&kitchen, "start_preparing", "preparing"),
        (&kitchen, "mark_ready", "ready"),
    ] {
        let (code_, moved) = app.act(who, &id, action, &version).await;
        assert_eq!(
            (code_, moved["status"].as_str().unwrap()),
            (StatusCode::OK, status),
            "{action}: {moved}"
        );
        assert_eq!(
            moved["version"].as_i64(),
            version.as_i64().map(|v| v + 1),
            "every step is a new version"
        );
        version = moved["version"].clone();
    }
    let (status, illegal) = app.act(&waiter, &id, "serve", &version).await;
    assert_eq!(
        (status, code(&illegal)),
        (StatusCode::CONFLICT, "ILLEGAL_TRANSITION"),
        "pickup orders are handed over, not served"
    );
    assert_eq!(
        (
            &illegal["error"]["order"]["status"],
            &illegal["error"]["order"]["version"]
        ),
        (&json!("ready"), &version),
        "the refusal shows the order as it is, unchanged"
    );
    let (status, _) = app.act(&waiter, &id, "hand_over", &version).await;
    assert_eq!(status, StatusCode::OK);
    let events = app
        .db()
        .events_after(&format!("order:{id}"), 0)
        .await
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "order.placed",
            "order.status",
            "order.status",
            "order.status",
            "order.status",
            "order.status"
        ]
    );
    // Another brand's staff cannot touch it.
    let other = app.login(&app.b.owner_login).await;
    let (status, _) = app
        .post(
            &format!("/api/v1/console/stores/{}/orders/{id}/actions", app.b.store),
            Some(&other),
            json!({"action": "complete", "version": version.as_i64().unwrap() + 1}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.cleanup().await;
}

#[tokio::test]
async fn diners_hurry_at_most_every_two_minutes_and_cancel_by_asking_after_acceptance() {
    let app = TestApp::new().await;
    let body = app.quoted(app.pickup_body(1).await).await;
    let (_, order) = app.place("hurry-cancel-1", &body).await;
    let id = order["id"].as_str().unwrap().to_owned();
    let (status, error) = app.as_guest(Method::POST, &id, "/hurry").await;
    assert_eq!(
        (status, code(&error)),
        (StatusCode::CONFLICT, "CANNOT_HURRY"),
        "not paid yet"
    );
    let cashier = app.login("alpha-manager").await;
    let mut version = order["version"].clone();
    for action in ["pay", "accept"] {
        let (status, moved) = app.act(&cashier, &id, action, &version).await;
        assert_eq!(status, StatusCode::OK, "{action}: {moved}");
        version = moved["version"].clone();
    }
    let (status, error) = app.act(&cashier, &id, "decline_cancel", &version).await;
    assert_eq!(
        (status, code(&error)),
        (StatusCode::CONFLICT, "NO_CANCEL_REQUEST"),
        "nothing to decline before the diner asks"
    );
    assert_eq!(
        app.as_guest(Method::POST, &id, "/hurry").await.0,
        StatusCode::ACCEPTED
    );
    let (status, error) = app.as_guest(Method::POST, &id, "/hurry").await;
    assert_eq!(
        (status, code(&error)),
        (StatusCode::TOO_MANY_REQUESTS, "HURRY_TOO_SOON")
    );

    let (status, asked) = app.as_guest(Method::POST, &id, "/cancel").await;
    assert_eq!(
        (status, &asked["status"], &asked["cancel_requested"]),
        (StatusCode::OK, &json!("accepted"), &json!(true))
    );
    let (status, declined) = app
        .act(&cashier, &id, "decline_cancel", &asked["version"])
        .await;
    assert_eq!(status, StatusCode::OK, "{declined}");
    assert_eq!(
        (&declined["status"], &declined["cancel_requested"]),
        (&json!("accepted"), &json!(false))
    );
    app.cleanup().await;
}

#[tokio::test]
async fn unpaid_orders_are_cancelled_after_the_timeout_and_their_stock_returns() {
    let now = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
    let start: jiff::Timestamp = crate::app::NOON_SHANGHAI.parse().unwrap();
    now.store(start.as_millisecond(), std::sync::atomic::Ordering::SeqCst);
    let clock_now = now.clone();
    let clock = diancan_web::Clock::from_fn(move || {
        jiff::Timestamp::from_millisecond(clock_now.load(std::sync::atomic::Ordering::SeqCst))
            .unwrap()
    });
    let app = TestApp::with_clock(clock).await;
    set_stock(&app, 5).await;
    let body = app.quoted(app.pickup_body(2).await).await;
    let (_, order) = app.place("unpaid-0001", &body).await;
    assert_eq!(stock(&app).await, Some(3));
    assert_eq!(
        diancan_usecases::ordering::cancel_unpaid_due(&app.state)
            .await
            .unwrap(),
        0,
        "still within the window"
    );
    now.fetch_add(16 * 60 * 1000, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        diancan_usecases::ordering::cancel_unpaid_due(&app.state)
            .await
            .unwrap(),
        1
    );
    let (_, after) = app
        .as_guest(Method::GET, order["id"].as_str().unwrap(), "")
        .await;
    assert_eq!(after["status"], "cancelled");
    assert_eq!(stock(&app).await, Some(5), "stock released");
    app.cleanup().await;
}

/// Seventy phones at one table add a dish at the same moment: the cart keeps at most its
/// 60 lines and says so to the rest, whichever database holds it.
#[tokio::test]
async fn parallel_adds_to_a_shared_cart_stop_at_its_cap() {
    let app = TestApp::new().await;
    let path = format!("/api/v1/tables/{}/cart", app.a.table_token);
    let adds = (0..70).map(|i| {
        let body = json!({"kind": "put", "line_id": uuid::Uuid::now_v7(), "line": {"sku_id": app.a.sku, "n": i}, "quantity": 1, "added_by": "小王"});
        app.post(&path, None, body)
    });
    let answers = futures::future::join_all(adds).await;
    let added = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let full: Vec<_> = answers
        .iter()
        .filter(|(s, _)| *s != StatusCode::OK)
        .map(|(s, body)| (*s, code(body).to_owned()))
        .collect();
    assert_eq!(added, 60);
    assert_eq!(
        full,
        vec![(StatusCode::CONFLICT, "CART_FULL".to_owned()); 10]
    );
    let (_, cart) = app.get(&path, None).await;
    assert_eq!(cart["lines"].as_array().unwrap().len(), 60);
    app.cleanup().await;
}

#[tokio::test]
async fn a_table_orders_in_rounds_and_its_shared_cart_empties_when_it_orders() {
    let app = TestApp::new().await;
    // Pay after the meal at this store, and staff open tables.
    let owner = app.login(&app.a.owner_login).await;
    let mut profile = serde_json::to_value(crate::app::store_profile("alpha 店")).unwrap();
    profile["rules"]["pay_mode"] = json!("pay_after_meal");
    profile["rules"]["table_ordering"] = json!("require_open_table");
    let (status, _) = app
        .put(
            &format!("/api/v1/console/stores/{}", app.a.store),
            Some(&owner),
            profile,
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let token = app.a.table_token.clone();
    let line_id = diancan_domain::CartLineId::new();
    let (status, cart) = app
        .post(&format!("/api/v1/tables/{token}/cart"), None, json!({"kind": "put", "line_id": line_id, "line": {"sku_id": app.a.sku}, "quantity": 2, "added_by": "小王"}))
        .await;
    assert_eq!(
        (status, cart["lines"][0]["added_by"].as_str()),
        (StatusCode::OK, Some("小王"))
    );

    let mut body = app.pickup_body(1).await;
    body["channel"] = json!("dine_in");
    body["table_token"] = json!(token);
    body["diners"] = json!(3);
    let body = app.quoted(body).await;
    let (status, error) = app.place("table-round-1", &body).await;
    assert_eq!(
        (status, code(&error)),
        (StatusCode::CONFLICT, "TABLE_NOT_OPEN")
    );

    let (status, _) = app
        .post(
            &format!(
                "/api/v1/console/stores/{}/tables/{}/session",
                app.a.store, app.a.table
            ),
            Some(&owner),
            json!({"diners": 3}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, first) = app.place("table-round-1", &body).await;
    assert_eq!(
        (
            status,
            &first["status"],
            &first["round"],
            &first["table_code"]
        ),
        (
            StatusCode::CREATED,
            &json!("placed"),
            &json!(1),
            &json!("A1")
        )
    );
    let (_, cart) = app.get(&format!("/api/v1/tables/{token}/cart"), None).await;
    assert!(
        cart["lines"].as_array().unwrap().is_empty(),
        "the order empties the shared cart"
    );
    let (status, second) = app.place("table-round-2", &body).await;
    assert_eq!(
        (status, &second["round"]),
        (StatusCode::CREATED, &json!(2)),
        "加菜 joins the open bill"
    );

    // Rotating the code kills the old one.
    let (status, rotated) = app
        .post(
            &format!(
                "/api/v1/console/stores/{}/tables/{}/rotate-token",
                app.a.store, app.a.table
            ),
            Some(&owner),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(rotated["qr_path"].as_str().unwrap(), format!("/t/{token}"));
    let (status, error) = app.get(&format!("/api/v1/tables/{token}"), None).await;
    assert_eq!(
        (status, code(&error)),
        (StatusCode::NOT_FOUND, "UNKNOWN_TABLE_CODE")
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_signed_in_diner_finds_their_orders_and_spending() {
    let app = TestApp::new().await;
    let (status, login) = app
        .post(
            &format!("/api/v1/stores/{}/customer/wechat-login", app.a.store),
            None,
            json!({"code": "sim-history"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let token = login["token"].as_str().unwrap().to_owned();
    let body = app.quoted(app.pickup_body(2).await).await;
    let request = Request::post(format!("/api/v1/stores/{}/orders", app.a.store))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Customer {token}"))
        .header("idempotency-key", "history-0001")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, _, order) = app.send_request(request).await;
    assert_eq!(status, StatusCode::CREATED);
    app.place("guest-order-1", &body).await; // a guest's order is not theirs
    let request = Request::get("/api/v1/customer/orders")
        .header(header::AUTHORIZATION, format!("Customer {token}"))
        .body(Body::empty())
        .unwrap();
    let (status, _, history) = app.send_request(request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(history["orders"].as_array().unwrap().len(), 1);
    assert_eq!(history["orders"][0]["id"], order["id"]);
    assert_eq!(history["spent_fen"], order["quote"]["total_fen"]);
    let (status, _) = app.get("/api/v1/customer/orders", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.cleanup().await;
}

#[tokio::test]
async fn a_full_pickup_slot_is_refused_with_a_clear_message() {
    let app = TestApp::new().await;
    let owner = app.login(&app.a.owner_login).await;
    let mut profile = serde_json::to_value(crate::app::store_profile("alpha 店")).unwrap();
    profile["rules"]["slots"] =
        json!({"lead_minutes": 20, "slot_minutes": 15, "capacity_per_slot": 1});
    let (status, body) = app
        .put(
            &format!("/api/v1/console/stores/{}", app.a.store),
            Some(&owner),
            profile,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut body = app.quoted(app.pickup_body(1).await).await;
    body["pickup_time"] = json!("13:00");
    assert_eq!(
        app.place("slot-order-1", &body).await.0,
        StatusCode::CREATED
    );
    let (status, error) = app.place("slot-order-2", &body).await;
    assert_eq!((status, code(&error)), (StatusCode::CONFLICT, "SLOT_FULL"));
    body["pickup_time"] = json!("11:00");
    let (status, error) = app.place("slot-order-3", &body).await;
    assert_eq!(
        (status, code(&error)),
        (StatusCode::UNPROCESSABLE_ENTITY, "INVALID_PICKUP_TIME"),
        "before the lead time"
    );
    app.cleanup().await;
}

/// Two instances on one database: a price changed through the second reaches orders placed
/// through the first, whose menu cache has not expired: never the old price.
#[tokio::test]
async fn a_price_changed_on_another_instance_is_caught_when_the_order_is_written() {
    let app = TestApp::new().await;
    let other = app.second_instance();
    let old_quote = app.quoted(app.pickup_body(1).await).await;
    let (_, before) = app
        .post(
            &format!("/api/v1/stores/{}/quote", app.a.store),
            None,
            app.pickup_body(1).await,
        )
        .await;

    let token = other.login(&other.a.owner_login).await;
    let settings = json!({"price_fen": 4200, "stock": null, "daily_limit": null, "low_stock_threshold": null, "sold_out": false});
    let (status, body) = other
        .put(
            &format!("/api/v1/console/stores/{}/skus/{}", app.a.store, app.a.sku),
            Some(&token),
            settings,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Quoted before the change, placed through the instance that has not heard of it.
    let (status, refused) = app.place("old-quote", &old_quote).await;
    assert_eq!(
        (status, code(&refused)),
        (StatusCode::CONFLICT, "STALE_QUOTE"),
        "{refused}"
    );
    assert_ne!(refused["error"]["quote"]["total_fen"], before["total_fen"]);

    // Quoted after the change through the other instance: the first one prices it the same.
    let new_quote = other.quoted(other.pickup_body(1).await).await;
    let (status, order) = app.place("new-quote", &new_quote).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(
        order["quote"]["total_fen"],
        refused["error"]["quote"]["total_fen"]
    );
    app.cleanup().await;
}
