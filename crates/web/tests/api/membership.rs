//! 会员 over HTTP: a diner who signs in is a member; their paid order earns points and growth
//! once, and a partial refund takes back its share; a recharge through the gateway simulator
//! credits its amount and the brand's bonus once; amounts out of range and redemptions above
//! the balance change nothing; staff find members by phone, only at their own brand, each role
//! as far as it may.

use crate::app::{TestApp, code, wait_until};
use crate::checkout::tap_pay;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use diancan_domain::customer::BlindIndex;
use diancan_domain::staff::{Role, StoreAccess};
use diancan_domain::*;
use serde_json::{Value, json};

/// A signed-in diner of brand A: their id and session token.
async fn diner(app: &TestApp) -> (CustomerId, String) {
    app.signed_in_diner(app.a.brand).await
}

async fn as_diner(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    app.as_diner(method, path, token, body).await
}

async fn membership(app: &TestApp, token: &str) -> Value {
    let (status, body) = as_diner(
        app,
        "GET",
        &format!("/api/v1/customer/membership?store_id={}", app.a.store),
        token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn programme_body(tiers: Value) -> Value {
    json!({
        "levels": [
            {"level": "bronze", "growth_from": 0, "benefits": {"discount_bps": 0, "free_delivery": false, "birthday_gift": false}},
            {"level": "silver", "growth_from": 10, "benefits": {"discount_bps": 200, "free_delivery": false, "birthday_gift": true}},
            {"level": "gold", "growth_from": 2000, "benefits": {"discount_bps": 500, "free_delivery": true, "birthday_gift": true}},
            {"level": "diamond", "growth_from": 5000, "benefits": {"discount_bps": 1000, "free_delivery": true, "birthday_gift": true}}
        ],
        "points_per_yuan": 2,
        "expiry_months": 12,
        "member_day_weekday": null,
        "recharge_tiers": tiers
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recharge_through_the_simulator_credits_the_amount_and_the_bonus_once() {
    let mut app = TestApp::new().await;
    app.simulate_payments();
    let _served = app.serve().await;
    let owner = app.login(&app.a.owner_login).await;
    let (status, body) = app
        .put(
            "/api/v1/console/membership",
            Some(&owner),
            programme_body(json!([{"pay_fen": 10_000, "bonus_fen": 2_000}, {"pay_fen": 20_000, "bonus_fen": 5_000}])),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, token) = diner(&app).await;
    let view = membership(&app, &token).await;
    assert_eq!(view["programme"]["recharge_tiers"][1]["bonus_fen"], 5_000);
    assert_eq!(view["balance_fen"], 0);

    // Out of range: refused, nothing started.
    for fen in [99, 500_001] {
        let (status, body) = as_diner(
            &app,
            "POST",
            "/api/v1/customer/recharges",
            &token,
            Some(json!({"store_id": app.a.store, "amount_fen": fen,
                "payment": {"how": "browser", "provider": "wechat_pay", "return_path": "/s/x#member"}})),
        )
        .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::UNPROCESSABLE_ENTITY, "RECHARGE_OUT_OF_RANGE"),
            "{body}"
        );
    }

    let (status, started) = as_diner(
        &app,
        "POST",
        "/api/v1/customer/recharges",
        &token,
        Some(json!({"store_id": app.a.store, "amount_fen": 15_000,
            "payment": {"how": "browser", "provider": "wechat_pay", "return_path": "/s/x#member"}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    assert_eq!(
        started["recharge"]["bonus_fen"], 2_000,
        "充100送20 for ¥150"
    );
    assert_eq!(started["recharge"]["state"], "pending");
    tap_pay(&app, &started).await;
    let id = started["recharge"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/customer/recharges/{id}?store_id={}", app.a.store);
    wait_until("the recharge is credited", || async {
        as_diner(&app, "GET", &path, &token, None).await.1["state"] == "paid"
    })
    .await;
    // The simulator resends its notification on the gateway's schedule; it credits once.
    app.outbox_drained().await;
    let view = membership(&app, &token).await;
    assert_eq!(view["balance_fen"], 17_000);
    assert_eq!(view["available_fen"], 17_000);

    // Another diner cannot see it.
    let (_, other) = diner(&app).await;
    let (status, _) = as_diner(&app, "GET", &path, &other, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.cleanup().await;
}

/// Places a pickup order as the signed-in diner `token` (so it is theirs).
async fn members_order(app: &TestApp, token: &str, key: &str) -> String {
    let body = app.quoted(app.pickup_body(2).await).await;
    let request = Request::post(format!("/api/v1/stores/{}/orders", app.a.store))
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", key)
        .header(header::AUTHORIZATION, format!("Customer {token}"))
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, _, order) = app.send_request(request).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    order["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_order_earns_points_once_and_a_partial_refund_takes_back_its_share() {
    let app = TestApp::new().await;
    let owner = app.login(&app.a.owner_login).await;
    let (status, _) = app
        .put(
            "/api/v1/console/membership",
            Some(&owner),
            programme_body(json!([])),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (customer, token) = diner(&app).await;
    let id = members_order(&app, &token, "member-order").await;
    let total = app
        .db()
        .order(id.parse().unwrap())
        .await
        .unwrap()
        .total
        .fen();
    // Cash on the balance, then the order paid from it.
    let (status, body) = app
        .post(
            &format!("/api/v1/console/members/{customer}/balance"),
            Some(&owner),
            json!({"kind": "recharge", "amount_fen": total, "reason": "现金充值", "key": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = as_diner(
        &app,
        "POST",
        &format!("/api/v1/orders/{id}/balance-payment"),
        &token,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.outbox_drained().await;
    let earned = 2 * (total / 100);
    let view = membership(&app, &token).await;
    assert_eq!(view["points"], earned, "{view}");
    assert_eq!(view["growth"], total / 100);
    assert_eq!(
        view["standing"]["level"],
        "silver",
        "growth {} reaches 白银 at 10",
        total / 100
    );
    assert!(view["expiring_at_ms"].as_i64().is_some());

    // The earning is delivered again (a worker died before marking it): nothing more.
    let posting = diancan_usecases::membership::earn_for_order(&app.state, id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        posting.posted,
        diancan_storage::membership::PointsPosted::Repeat
    );
    assert_eq!(membership(&app, &token).await["points"], earned);

    // Half refunded: half the points (rounded down) go back, once per refund key.
    let key = uuid::Uuid::now_v7();
    for _ in 0..2 {
        let (status, body) = app
            .post(
                &format!("/api/v1/console/stores/{}/orders/{id}/refunds", app.a.store),
                Some(&owner),
                json!({"amount_fen": total / 2, "key": key}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    app.outbox_drained().await;
    let reversed = earned * (total / 2) / total;
    let (status, ledger) = as_diner(
        &app,
        "GET",
        &format!(
            "/api/v1/customer/membership/points?store_id={}",
            app.a.store
        ),
        &token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{ledger}");
    assert_eq!(ledger["points"], earned - reversed, "{ledger}");
    let kinds: Vec<&str> = ledger["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["reverse", "earn"]);

    // The rest refunded: every point of the order is back.
    let (status, _) = app
        .post(
            &format!("/api/v1/console/stores/{}/orders/{id}/refunds", app.a.store),
            Some(&owner),
            json!({"key": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    app.outbox_drained().await;
    let view = membership(&app, &token).await;
    assert_eq!(view["points"], 0);
    assert_eq!(view["growth"], 0);
    app.cleanup().await;
}

#[tokio::test]
async fn staff_find_members_by_phone_and_each_role_does_only_what_it_may() {
    let app = TestApp::new().await;
    let owner = app.login(&app.a.owner_login).await;
    let phone = diancan_domain::customer::Phone::parse("13812345678").unwrap();
    let now = app.state.clock.now_ms();
    let record = app
        .db()
        .customer_by_phone_or_create(
            app.a.brand,
            &app.state.pii.phone_index(&phone),
            &app.state.pii.seal_phone(&phone),
            "顾客",
            now,
        )
        .await
        .unwrap();
    app.db()
        .join_membership(app.a.brand, record.id, now)
        .await
        .unwrap();
    let (other, _) = diner(&app).await;
    app.db()
        .join_membership(app.a.brand, other, now)
        .await
        .unwrap();
    // A member of brand B is never listed for A.
    let b_diner = app
        .db()
        .customer_by_wechat_or_create(app.b.brand, &BlindIndex::from_bytes(vec![9; 32]), "B", now)
        .await
        .unwrap();
    app.db()
        .join_membership(app.b.brand, b_diner.id, now)
        .await
        .unwrap();

    let (status, all) = app.get("/api/v1/console/members", Some(&owner)).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(all["members"].as_array().unwrap().len(), 2);
    let (status, found) = app
        .get(
            "/api/v1/console/members?phone=138%201234%205678",
            Some(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["members"].as_array().unwrap().len(), 1);
    assert_eq!(found["members"][0]["phone_masked"], "138****5678");
    assert_eq!(found["members"][0]["customer_id"], record.id.to_string());
    let (status, body) = app
        .get("/api/v1/console/members?phone=12345", Some(&owner))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = app
        .get(
            &format!("/api/v1/console/members/{}/membership", b_diner.id),
            Some(&owner),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A redemption above the balance is refused and changes nothing.
    let points = |kind: &str, n: i64| json!({"kind": kind, "points": n, "reason": "柜台兑换", "key": uuid::Uuid::now_v7()});
    let path = format!("/api/v1/console/members/{}/points", record.id);
    let (status, body) = app.post(&path, Some(&owner), points("adjust", 50)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app.post(&path, Some(&owner), points("redeem", 51)).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "INSUFFICIENT_POINTS"),
        "{body}"
    );
    let (_, member) = app
        .get(
            &format!("/api/v1/console/members/{}/membership", record.id),
            Some(&owner),
        )
        .await;
    assert_eq!(member["membership"]["points"], 50);

    // A cashier looks members up and redeems at the counter, but configures nothing.
    app.add_staff(
        "cashier1",
        Role::Cashier,
        StoreAccess::Only(vec![app.a.store]),
    )
    .await;
    let cashier = app.login("cashier1").await;
    let (status, _) = app.get("/api/v1/console/members", Some(&cashier)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.post(&path, Some(&cashier), points("redeem", 20)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["points"], 30);
    let (status, _) = app.post(&path, Some(&cashier), points("adjust", 20)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .put(
            "/api/v1/console/membership",
            Some(&cashier),
            programme_body(json!([])),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A waiter sees no members at all.
    app.add_staff(
        "waiter1",
        Role::Waiter,
        StoreAccess::Only(vec![app.a.store]),
    )
    .await;
    let waiter = app.login("waiter1").await;
    let (status, _) = app.get("/api/v1/console/members", Some(&waiter)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A badly written programme is refused whole.
    let mut bad = programme_body(json!([{"pay_fen": 10_000, "bonus_fen": 20_000}]));
    let (status, body) = app
        .put("/api/v1/console/membership", Some(&owner), bad.clone())
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "BAD_RECHARGE_TIERS")
    );
    bad["recharge_tiers"] = json!([]);
    bad["levels"][2]["growth_from"] = json!(5);
    let (status, body) = app
        .put("/api/v1/console/membership", Some(&owner), bad)
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "BAD_LEVELS")
    );
    let (_, programme) = app.get("/api/v1/console/membership", Some(&owner)).await;
    assert_eq!(
        programme["levels"][1]["growth_from"], 500,
        "unchanged: the standard table"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_diner_joins_at_sign_in_and_tells_their_birthday_once() {
    let app = TestApp::new().await;
    let (customer, token) = diner(&app).await;
    // Not joined by the test's shortcut: the page opens the membership on first visit.
    assert!(
        app.db()
            .member(app.a.brand, customer)
            .await
            .unwrap()
            .is_none()
    );
    let view = membership(&app, &token).await;
    assert_eq!(view["standing"]["level"], "bronze");
    assert_eq!(view["points"], 0);
    let birthday =
        |month: i64, day: i64| json!({"store_id": app.a.store, "month": month, "day": day});
    let path = "/api/v1/customer/membership/birthday";
    let (status, body) = as_diner(&app, "PUT", path, &token, Some(birthday(2, 30))).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "BAD_BIRTHDAY")
    );
    let (status, _) = as_diner(&app, "PUT", path, &token, Some(birthday(2, 29))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = as_diner(&app, "PUT", path, &token, Some(birthday(3, 1))).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "BIRTHDAY_ALREADY_SET")
    );
    assert_eq!(
        membership(&app, &token).await["birthday"],
        json!({"month": 2, "day": 29})
    );
    // A guest has no membership.
    let (status, _) = app
        .get(
            &format!("/api/v1/customer/membership?store_id={}", app.a.store),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Another brand's store is no store of this diner's.
    let (status, _) = as_diner(
        &app,
        "GET",
        &format!("/api/v1/customer/membership?store_id={}", app.b.store),
        &token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recharge_nobody_pays_is_closed_at_its_gateway_and_credits_nothing() {
    let (clock, hand) = crate::app::movable_clock();
    let mut app = TestApp::with_clock(clock).await;
    app.simulate_payments();
    let served = app.serve().await;
    let (customer, token) = diner(&app).await;
    let (status, started) = as_diner(
        &app,
        "POST",
        "/api/v1/customer/recharges",
        &token,
        Some(json!({"store_id": app.a.store, "amount_fen": 10_000,
            "payment": {"how": "browser", "provider": "alipay", "return_path": "/s/x#member"}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    // Not yet due: the diner may still be paying.
    assert_eq!(
        diancan_usecases::membership::finish_abandoned_recharges(&app.state)
            .await
            .unwrap(),
        0
    );
    hand.advance_ms(21 * 60_000);
    assert_eq!(
        diancan_usecases::membership::finish_abandoned_recharges(&app.state)
            .await
            .unwrap(),
        1
    );
    let id = started["recharge"]["id"].as_str().unwrap();
    let (_, recharge) = as_diner(
        &app,
        "GET",
        &format!("/api/v1/customer/recharges/{id}?store_id={}", app.a.store),
        &token,
        None,
    )
    .await;
    assert_eq!(recharge["state"], "closed");
    assert!(
        app.db()
            .balance_account(app.a.brand, customer)
            .await
            .unwrap()
            .is_none()
    );
    served.stop().await;
    app.cleanup().await;
}
