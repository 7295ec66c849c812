//! 储值 and combined payment: a signed-in diner's balance pays orders exactly as far as it
//! goes, however many race for it; the balance part of a combined payment is captured with
//! the gateway's money or given back when that never comes; refunds return to each channel in
//! the proportions paid, once; and one brand's balance is nothing at another.

use crate::app::{Tenant, TestApp, code, movable_clock, wait_until};
use crate::checkout::{browser, status_of, tap_pay, unpaid_order};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use diancan_domain::balance::{EntryKind, replay};
use diancan_domain::refunds::RefundState;
use diancan_domain::*;
use serde_json::{Value, json};

/// A signed-in diner of `tenant`'s brand: their id and session token.
async fn diner(app: &TestApp, tenant: &Tenant) -> (CustomerId, String) {
    app.signed_in_diner(tenant.brand).await
}

/// A POST as the diner `token`, opening order paths with `secret`.
async fn diner_post(
    app: &TestApp,
    path: &str,
    token: &str,
    secret: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let mut request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Customer {token}"));
    if let Some(secret) = secret {
        request = request.header("x-order-secret", secret);
    }
    let (status, _, body) = app
        .send_request(request.body(Body::from(body.to_string())).unwrap())
        .await;
    (status, body)
}

async fn my_balance(app: &TestApp, token: &str) -> Value {
    let request = Request::get("/api/v1/customer/balance?limit=100")
        .header(header::AUTHORIZATION, format!("Customer {token}"))
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = app.send_request(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The owner of `tenant` puts `fen` on `customer`'s balance (cash at the counter).
async fn recharge(app: &TestApp, tenant: &Tenant, customer: CustomerId, fen: i64) -> Value {
    let owner = app.login(&tenant.owner_login).await;
    let (status, body) = app
        .post(
            &format!("/api/v1/console/members/{customer}/balance"),
            Some(&owner),
            json!({"kind": "recharge", "amount_fen": fen, "reason": "现金充值", "key": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn pay_by_balance(app: &TestApp, id: &str, secret: &str, token: &str) -> (StatusCode, Value) {
    diner_post(
        app,
        &format!("/api/v1/orders/{id}/balance-payment"),
        token,
        Some(secret),
        json!({}),
    )
    .await
}

/// The ledger of `customer` at `brand` agrees with its account by the one rule.
async fn assert_ledger_adds_up(app: &TestApp, brand: BrandId, customer: CustomerId) -> (i64, i64) {
    let account = app
        .db()
        .balance_account(brand, customer)
        .await
        .unwrap()
        .expect("an account");
    let mut entries = app
        .db()
        .balance_entries(account.id, None, 1_000)
        .await
        .unwrap();
    entries.reverse();
    assert_eq!(
        replay(brand, customer, &entries),
        Ok((account.balance, account.held)),
        "the account is its ledger folded"
    );
    assert!(!account.balance.is_negative() && account.held <= account.balance);
    (account.balance.fen(), account.held.fen())
}

async fn order_total(app: &TestApp, id: &str) -> i64 {
    app.db()
        .order(id.parse().unwrap())
        .await
        .unwrap()
        .total
        .fen()
}

async fn kinds_for_order(app: &TestApp, brand: BrandId, customer: CustomerId) -> Vec<EntryKind> {
    let account = app
        .db()
        .balance_account(brand, customer)
        .await
        .unwrap()
        .unwrap();
    let mut entries = app
        .db()
        .balance_entries(account.id, None, 1_000)
        .await
        .unwrap();
    entries.reverse();
    entries.into_iter().map(|e| e.kind).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_orders_racing_one_balance_pay_exactly_as_many_as_it_covers() {
    let app = TestApp::new().await;
    let (customer, token) = diner(&app, &app.a).await;
    let mut orders = Vec::new();
    for n in 0..20 {
        orders.push(unpaid_order(&app, &format!("race-balance-{n}")).await);
    }
    let total = order_total(&app, &orders[0].0).await;
    recharge(&app, &app.a, customer, 5 * total).await;

    let answers = futures::future::join_all(
        orders
            .iter()
            .map(|(id, secret)| pay_by_balance(&app, id, secret, &token)),
    )
    .await;
    let paid = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(paid, 5, "{answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_eq!(
            (*status, code(body)),
            (StatusCode::CONFLICT, "INSUFFICIENT_BALANCE")
        );
    }
    let mut placed = 0;
    for (id, secret) in &orders {
        if status_of(&app, id, secret).await == "placed" {
            placed += 1;
        }
    }
    assert_eq!(placed, 5, "the orders paid are exactly those answered 200");
    assert_eq!(
        assert_ledger_adds_up(&app, app.a.brand, customer).await,
        (0, 0)
    );
    let balance = my_balance(&app, &token).await;
    assert_eq!(balance["available_fen"], 0);
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_order_paid_by_balance_twice_at_once_is_captured_once() {
    let app = TestApp::new().await;
    let (customer, token) = diner(&app, &app.a).await;
    let (id, secret) = unpaid_order(&app, "balance-twice").await;
    let total = order_total(&app, &id).await;
    recharge(&app, &app.a, customer, 3 * total).await;

    let answers =
        futures::future::join_all((0..6).map(|_| pay_by_balance(&app, &id, &secret, &token))).await;
    assert_eq!(
        answers.iter().filter(|(s, _)| *s == StatusCode::OK).count(),
        1,
        "{answers:?}"
    );
    for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_eq!(
            (*status, code(body)),
            (StatusCode::CONFLICT, "ORDER_NOT_PAYABLE")
        );
    }
    let kinds = kinds_for_order(&app, app.a.brand, customer).await;
    assert_eq!(
        kinds.iter().filter(|k| **k == EntryKind::Capture).count(),
        1
    );
    assert_eq!(
        assert_ledger_adds_up(&app, app.a.brand, customer).await,
        (2 * total, 0)
    );
    assert_eq!(status_of(&app, &id, &secret).await, "placed");
    app.cleanup().await;
}

#[tokio::test]
async fn paying_by_balance_needs_a_signed_in_diner_with_enough() {
    let app = TestApp::new().await;
    let (id, secret) = unpaid_order(&app, "balance-guest").await;
    let (status, body) = app
        .with_secret(
            axum::http::Method::POST,
            &format!("/api/v1/orders/{id}/balance-payment"),
            Some(&secret),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "SIGN_IN_REQUIRED")
    );
    let (_, token) = diner(&app, &app.a).await;
    let (status, body) = pay_by_balance(&app, &id, &secret, &token).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "INSUFFICIENT_BALANCE"),
        "no account is no money"
    );
    assert_eq!(status_of(&app, &id, &secret).await, "awaiting_payment");
    app.cleanup().await;
}

/// Starts a combined payment of `id` through the WeChat Pay simulator.
async fn start_combined(app: &TestApp, id: &str, secret: &str, token: &str) -> Value {
    let mut body = browser("wechat_pay");
    body["use_balance"] = json!(true);
    let (status, started) = diner_post(
        app,
        &format!("/api/v1/orders/{id}/payments"),
        token,
        Some(secret),
        body,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    started
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_combined_payment_captures_the_hold_when_the_gateway_part_settles() {
    let mut app = TestApp::new().await;
    app.simulate_payments();
    let served = app.serve().await;
    let (customer, token) = diner(&app, &app.a).await;
    let (id, secret) = unpaid_order(&app, "combined-settles").await;
    let total = order_total(&app, &id).await;
    let part = total / 3;
    recharge(&app, &app.a, customer, part).await;

    let started = start_combined(&app, &id, &secret, &token).await;
    assert_eq!(started["balance_fen"], part);
    assert_eq!(
        started["payment"]["amount_fen"],
        total - part,
        "the gateway takes the rest"
    );
    assert_eq!(
        assert_ledger_adds_up(&app, app.a.brand, customer).await,
        (part, part),
        "held while the gateway part is open"
    );
    tap_pay(&app, &started).await;
    wait_until("the order is paid", || async {
        status_of(&app, &id, &secret).await == "placed"
    })
    .await;
    assert_eq!(
        assert_ledger_adds_up(&app, app.a.brand, customer).await,
        (0, 0),
        "captured with the gateway's money"
    );
    assert_eq!(
        kinds_for_order(&app, app.a.brand, customer).await,
        [EntryKind::Recharge, EntryKind::Hold, EntryKind::Capture]
    );

    // A balance that covers the whole order pays by balance alone.
    let (other, other_secret) = unpaid_order(&app, "combined-covered").await;
    recharge(&app, &app.a, customer, total).await;
    let mut body = browser("alipay");
    body["use_balance"] = json!(true);
    let (status, refused) = diner_post(
        &app,
        &format!("/api/v1/orders/{other}/payments"),
        &token,
        Some(&other_secret),
        body,
    )
    .await;
    assert_eq!(
        (status, code(&refused)),
        (StatusCode::CONFLICT, "BALANCE_COVERS_ORDER")
    );
    served.stop().await;
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_combined_payment_that_expires_gives_the_hold_back() {
    let (clock, hand) = movable_clock();
    let mut app = TestApp::with_clock(clock).await;
    app.simulate_payments();
    let served = app.serve().await;
    let (customer, token) = diner(&app, &app.a).await;
    let (id, secret) = unpaid_order(&app, "combined-expires").await;
    let part = order_total(&app, &id).await / 2;
    recharge(&app, &app.a, customer, part).await;
    start_combined(&app, &id, &secret, &token).await;
    assert_eq!(my_balance(&app, &token).await["available_fen"], 0);

    hand.advance_ms(16 * 60_000);
    let cancelled = diancan_usecases::ordering::cancel_unpaid_due(&app.state)
        .await
        .unwrap();
    assert_eq!(cancelled, 1);
    assert_eq!(status_of(&app, &id, &secret).await, "cancelled");
    assert_eq!(
        assert_ledger_adds_up(&app, app.a.brand, customer).await,
        (part, 0),
        "the balance is back where it was"
    );
    assert_eq!(
        kinds_for_order(&app, app.a.brand, customer).await,
        [EntryKind::Recharge, EntryKind::Hold, EntryKind::Release]
    );
    let shown = my_balance(&app, &token).await;
    assert_eq!(shown["available_fen"], part);
    assert_eq!(shown["entries"][0]["kind"], "release");
    served.stop().await;
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_combined_payment_is_refunded_in_its_proportions_and_never_twice() {
    let mut app = TestApp::new().await;
    app.simulate_payments();
    let served = app.serve().await;
    let (customer, token) = diner(&app, &app.a).await;
    let (id, secret) = unpaid_order(&app, "combined-refund").await;
    let total = order_total(&app, &id).await;
    let part = total / 4;
    recharge(&app, &app.a, customer, part).await;
    let started = start_combined(&app, &id, &secret, &token).await;
    tap_pay(&app, &started).await;
    wait_until("the order is paid", || async {
        status_of(&app, &id, &secret).await == "placed"
    })
    .await;

    let owner = app.login(&app.a.owner_login).await;
    let path = format!("/api/v1/console/stores/{}/orders/{id}/refunds", app.a.store);
    let key = uuid::Uuid::now_v7();
    let half = total / 2;
    let (status, first) = app
        .post(&path, Some(&owner), json!({"amount_fen": half, "key": key}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let balance_share = half * part / total;
    assert_eq!(first["balance_fen"], balance_share, "{first}");
    assert_eq!(first["gateway_fen"], half - balance_share);

    // The same click again: nothing more.
    let (status, again) = app
        .post(&path, Some(&owner), json!({"amount_fen": half, "key": key}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again["repeat"], true);
    // More than is left: refused, nothing written.
    let (status, above) = app
        .post(
            &path,
            Some(&owner),
            json!({"amount_fen": total - half + 1, "key": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(
        (status, code(&above)),
        (StatusCode::CONFLICT, "REFUND_ABOVE_PAID")
    );
    // Everything left, then once more.
    let (status, rest) = app
        .post(&path, Some(&owner), json!({"key": uuid::Uuid::now_v7()}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rest}");
    assert_eq!(rest["balance_fen"], part - balance_share);
    assert_eq!(rest["gateway_fen"], (total - part) - (half - balance_share));
    let (status, nothing) = app
        .post(&path, Some(&owner), json!({"key": uuid::Uuid::now_v7()}))
        .await;
    assert_eq!(
        (status, code(&nothing)),
        (StatusCode::CONFLICT, "REFUND_ABOVE_PAID")
    );

    assert_eq!(
        assert_ledger_adds_up(&app, app.a.brand, customer).await,
        (part, 0),
        "the balance part is all back"
    );
    let order = id.parse().unwrap();
    wait_until("the gateway refunds succeed", || async {
        let refunds = app.db().refunds_of_order(order).await.unwrap();
        refunds.len() == 2 && refunds.iter().all(|r| r.state == RefundState::Succeeded)
    })
    .await;
    let refunded: i64 = app
        .db()
        .refunds_of_order(order)
        .await
        .unwrap()
        .iter()
        .map(|r| r.amount.fen())
        .sum();
    assert_eq!(
        refunded,
        total - part,
        "the gateway gave back exactly its part"
    );
    served.stop().await;
    app.cleanup().await;
}

#[tokio::test]
async fn a_balance_at_one_brand_is_nothing_at_another() {
    let app = TestApp::new().await;
    let (alice, alice_token) = diner(&app, &app.a).await;
    recharge(&app, &app.a, alice, 10_000).await;
    assert_eq!(my_balance(&app, &alice_token).await["balance_fen"], 10_000);

    // Brand B's diner (whoever they are) sees and spends nothing of it.
    let (_, bob_token) = diner(&app, &app.b).await;
    let shown = my_balance(&app, &bob_token).await;
    assert_eq!(
        (shown["balance_fen"].clone(), shown["entries"].clone()),
        (json!(0), json!([]))
    );

    // Brand B's console does not know brand A's member, nor may it write on their balance.
    let b_owner = app.login(&app.b.owner_login).await;
    let (status, _) = app
        .get(
            &format!("/api/v1/console/members/{alice}/balance"),
            Some(&b_owner),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .post(
            &format!("/api/v1/console/members/{alice}/balance"),
            Some(&b_owner),
            json!({"kind": "adjustment", "amount_fen": -10_000, "reason": "试图扣款", "key": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Alice's session on a brand B order (she holds its secret): her brand A money does not pay it.
    let (status, b_order) = place_at(&app, &app.b).await;
    assert_eq!(status, StatusCode::CREATED, "{b_order}");
    let id = b_order["id"].as_str().unwrap();
    let secret = b_order["access_secret"].as_str().unwrap();
    let (status, refused) = pay_by_balance(&app, id, secret, &alice_token).await;
    assert_eq!(
        (status, code(&refused)),
        (StatusCode::CONFLICT, "INSUFFICIENT_BALANCE")
    );
    assert_eq!(
        assert_ledger_adds_up(&app, app.a.brand, alice).await,
        (10_000, 0)
    );
    app.cleanup().await;
}

#[tokio::test]
async fn staff_entries_are_written_once_and_checked() {
    let app = TestApp::new().await;
    let (customer, _) = diner(&app, &app.a).await;
    let owner = app.login(&app.a.owner_login).await;
    let path = format!("/api/v1/console/members/{customer}/balance");
    let key = uuid::Uuid::now_v7();
    let entry = json!({"kind": "recharge", "amount_fen": 5_000, "reason": "现金充值", "key": key});
    for _ in 0..2 {
        let (status, body) = app.post(&path, Some(&owner), entry.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["balance_fen"], 5_000, "a retry writes nothing more");
    }
    let (status, body) = app
        .post(
            &path,
            Some(&owner),
            json!({"kind": "adjustment", "amount_fen": -5_001, "reason": "更正", "key": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::CONFLICT, "INSUFFICIENT_BALANCE")
    );
    for bad in [
        json!({"kind": "recharge", "amount_fen": 0, "reason": "x", "key": uuid::Uuid::now_v7()}),
        json!({"kind": "recharge", "amount_fen": 100, "reason": "", "key": uuid::Uuid::now_v7()}),
        json!({"kind": "recharge", "amount_fen": 100, "reason": "长".repeat(101), "key": uuid::Uuid::now_v7()}),
        json!({"kind": "recharge", "amount_fen": 100_000_000, "reason": "x", "key": uuid::Uuid::now_v7()}),
    ] {
        let (status, body) = app.post(&path, Some(&owner), bad.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
    app.add_staff(
        "balance-cashier",
        diancan_domain::staff::Role::Cashier,
        diancan_domain::staff::StoreAccess::AllStores,
    )
    .await;
    let cashier = app.login("balance-cashier").await;
    let (status, _) = app.post(&path, Some(&cashier), entry).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only owners and managers");
    let (status, _) = app.get(&path, Some(&cashier)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        assert_ledger_adds_up(&app, app.a.brand, customer).await,
        (5_000, 0)
    );
    app.cleanup().await;
}

/// A pickup order at `tenant`'s store, placed by a guest.
async fn place_at(app: &TestApp, tenant: &Tenant) -> (StatusCode, Value) {
    let (_, menu) = app
        .get(&format!("/api/v1/stores/{}/menu", tenant.store), None)
        .await;
    let dish = &menu["categories"][0]["dishes"][0];
    let mut body = json!({
        "channel": "pickup",
        "lines": [{"sku_id": dish["skus"][0]["id"], "quantity": 1, "option_ids": [dish["option_groups"][0]["options"][0]["id"]]}]
    });
    let (status, quote) = app
        .post(
            &format!("/api/v1/stores/{}/quote", tenant.store),
            None,
            body.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{quote}");
    body["quote_version"] = quote["version"].clone();
    let request = Request::post(format!("/api/v1/stores/{}/orders", tenant.store))
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", "balance-brand-b")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, _, body) = app.send_request(request).await;
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_balance_paid_order_cancelled_by_the_manager_is_credited_back_once() {
    let app = TestApp::new().await;
    let (customer, token) = diner(&app, &app.a).await;
    let (id, secret) = unpaid_order(&app, "balance-then-cancel").await;
    let total = order_total(&app, &id).await;
    recharge(&app, &app.a, customer, total).await;
    let (status, paid) = pay_by_balance(&app, &id, &secret, &token).await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(paid["available_fen"], 0);

    let owner = app.login(&app.a.owner_login).await;
    let (status, cancelled) = app
        .act(&owner, &id, "cancel", &paid["order"]["version"])
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    wait_until("the balance is credited back", || async {
        my_balance(&app, &token).await["available_fen"] == total
    })
    .await;
    // The outbox delivering again credits nothing more.
    let again = diancan_usecases::payments::refund_cancelled_order(&app.state, id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(again, 0);
    assert_eq!(
        assert_ledger_adds_up(&app, app.a.brand, customer).await,
        (total, 0)
    );
    app.cleanup().await;
}
