//! A diner paying an order through the gateways, on the real wire protocols: the server prepares
//! the payment at the simulator, the demo diner taps 支付 on the simulator's page, the simulator
//! posts its signed notification over HTTP to our notify address, and the order moves on. Unpaid
//! gateway orders are closed there before their order times out.

use crate::app::{TestApp, movable_clock, wait_until};
use axum::http::{Method, StatusCode};
use diancan_domain::payments::PaymentState;
use diancan_integrations::payments::PaymentGateway;
use diancan_integrations::payments::model::{OutTradeNo, TradeState};
use serde_json::{Value, json};

/// A guest's pay-first pickup order; returns its id and secret.
pub(crate) async fn unpaid_order(app: &TestApp, key: &str) -> (String, String) {
    let body = app.quoted(app.pickup_body(1).await).await;
    let (status, order) = app.place(key, &body).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "awaiting_payment");
    let id = order["id"].as_str().unwrap().to_owned();
    let secret = app.secret_of(&id);
    (id, secret)
}

pub(crate) async fn start(
    app: &TestApp,
    id: &str,
    secret: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let mut request = axum::http::Request::post(format!("/api/v1/orders/{id}/payments"))
        .header("content-type", "application/json");
    if let Some(secret) = secret {
        request = request.header("x-order-secret", secret);
    }
    let (status, _, body) = app
        .send_request(request.body(body.to_string().into()).unwrap())
        .await;
    (status, body)
}

pub(crate) async fn status_of(app: &TestApp, id: &str, secret: &str) -> String {
    let (_, order) = app
        .with_secret(Method::GET, &format!("/api/v1/orders/{id}"), Some(secret))
        .await;
    order["status"].as_str().unwrap_or_default().to_owned()
}

pub(crate) fn browser(provider: &str) -> Value {
    json!({"provider": provider, "how": "browser", "return_path": "/s/demo#order=1"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_pays_on_each_simulator_page_and_the_order_moves_on() {
    let mut app = TestApp::new().await;
    app.simulate_payments();
    let served = app.serve().await;
    for provider in ["wechat_pay", "alipay"] {
        let (id, secret) = unpaid_order(&app, &format!("pay-{provider}")).await;
        let (status, options) = app
            .with_secret(
                Method::GET,
                &format!("/api/v1/orders/{id}/payments"),
                Some(&secret),
            )
            .await;
        assert_eq!(status, 200, "{options}");
        assert_eq!(options["providers"], json!(["wechat_pay", "alipay"]));

        let (status, started) = start(&app, &id, Some(&secret), browser(provider)).await;
        assert_eq!(status, 201, "{started}");
        assert_eq!(started["next"]["kind"], "redirect");
        assert_eq!(started["payment"]["state"], "pending");
        let total = app.db().order(id.parse().unwrap()).await.unwrap().total;
        assert_eq!(
            started["payment"]["amount_fen"],
            total.fen(),
            "the server's own total"
        );
        let page = started["simulator_url"].as_str().unwrap().to_owned();
        assert!(
            page.starts_with(&format!("/demo/pay/{provider}/")),
            "{page}"
        );
        assert!(page.contains("back=%2Fs%2Fdemo"), "{page}");

        // The page, then the diner's tap: the simulator's notification arrives over HTTP.
        let path = page.split('?').next().unwrap();
        let (status, details) = app.get(&format!("{path}/details"), None).await;
        assert_eq!(
            (status, details["amount_fen"].as_i64()),
            (StatusCode::OK, Some(total.fen()))
        );
        let to = url_query(&page, "to");
        let (status, _) = app.post(path, None, json!({ "to": to })).await;
        assert_eq!(status, 202);
        wait_until("the order is paid", || async {
            status_of(&app, &id, &secret).await == "placed"
        })
        .await;
        let payments = app
            .db()
            .payments_of_order(id.parse().unwrap())
            .await
            .unwrap();
        assert_eq!(payments.len(), 1);
        assert_eq!(payments[0].state, PaymentState::Paid);

        // Paid: nothing more to pay, and the simulator's page says so.
        let (status, refused) = start(&app, &id, Some(&secret), browser(provider)).await;
        assert_eq!(
            (status, refused["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("ORDER_NOT_PAYABLE"))
        );
        assert_eq!(refused["error"]["order"]["status"], "placed");
    }
    served.stop().await;
    app.cleanup().await;
}

/// The `name` parameter of `url`'s query, decoded.
pub(crate) fn url_query(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn only_the_orders_diner_may_pay_and_only_back_to_this_site() {
    let mut app = TestApp::new().await;
    app.simulate_payments();
    let served = app.serve().await;
    let (id, secret) = unpaid_order(&app, "pay-whose-order").await;
    let (status, _) = start(&app, &id, None, browser("wechat_pay")).await;
    assert_eq!(status, 404, "an order id alone opens nothing");
    let (status, _) = start(&app, &id, Some("not-the-secret"), browser("wechat_pay")).await;
    assert_eq!(status, 404);
    for elsewhere in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let body = json!({"provider": "alipay", "how": "browser", "return_path": elsewhere});
        let (status, refused) = start(&app, &id, Some(&secret), body).await;
        assert_eq!(status, 422, "{elsewhere}: {refused}");
    }
    let (status, refused) = start(
        &app,
        &id,
        Some(&secret),
        json!({"provider": "wechat_pay", "how": "in_app"}),
    )
    .await;
    assert_eq!(status, 422, "in_app needs the payer: {refused}");
    assert!(
        app.db()
            .payments_of_order(id.parse().unwrap())
            .await
            .unwrap()
            .is_empty(),
        "nothing was started"
    );
    served.stop().await;
    app.cleanup().await;
}

#[tokio::test]
async fn a_server_without_gateways_offers_none() {
    let app = TestApp::new().await;
    let (id, secret) = unpaid_order(&app, "pay-nothing-offered").await;
    let (_, options) = app
        .with_secret(
            Method::GET,
            &format!("/api/v1/orders/{id}/payments"),
            Some(&secret),
        )
        .await;
    assert_eq!(options["providers"], json!([]));
    let (status, refused) = start(&app, &id, Some(&secret), browser("wechat_pay")).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("PAYMENT_METHOD_UNAVAILABLE"))
    );
    let (status, _) = app
        .post("/api/v1/payments/wechat_pay/notify", None, json!({}))
        .await;
    assert_eq!(status, 404, "no gateway, no notify address");
    let (status, _) = app
        .get(
            "/demo/pay/wechat_pay/0123456789abcdef0123456789abcdef",
            None,
        )
        .await;
    assert_eq!(status, 404, "simulator pages exist in demo mode only");
    app.cleanup().await;
}

#[tokio::test]
async fn an_unpaid_gateway_order_is_closed_there_before_its_order_times_out() {
    let (clock, hand) = movable_clock();
    let mut app = TestApp::with_clock(clock).await;
    app.simulate_payments();
    let served = app.serve().await;
    let (id, secret) = unpaid_order(&app, "pay-timeout").await;
    let (status, started) = start(&app, &id, Some(&secret), browser("wechat_pay")).await;
    assert_eq!(status, 201, "{started}");
    let number = OutTradeNo::parse(
        started["simulator_url"]
            .as_str()
            .unwrap()
            .split('/')
            .nth(4)
            .unwrap()
            .split('?')
            .next()
            .unwrap(),
    )
    .unwrap();

    hand.advance_ms(16 * 60_000);
    let cancelled = diancan_usecases::ordering::cancel_unpaid_due(&app.state)
        .await
        .unwrap();
    assert_eq!(cancelled, 1);
    assert_eq!(status_of(&app, &id, &secret).await, "cancelled");
    let payments = app
        .db()
        .payments_of_order(id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(payments[0].state, PaymentState::Closed);
    let simulators = app.state.payment_simulators.clone().unwrap();
    let trade = simulators.wechat_pay.query(&number).await.unwrap();
    assert_eq!(trade.state, TradeState::Closed, "closed at the gateway too");
    served.stop().await;
    app.cleanup().await;
}

#[tokio::test]
async fn money_that_arrived_unannounced_is_found_by_the_timeout_and_settled() {
    let (clock, hand) = movable_clock();
    let mut app = TestApp::with_clock(clock).await;
    app.simulate_payments();
    let (id, secret) = unpaid_order(&app, "pay-late-money").await;
    // Not served: the simulator's notification never reaches us, as when our server was down.
    app.state.payments.set_public_base("http://127.0.0.1:9");
    pay_on_the_page(&app, &id, &secret, "alipay").await;

    hand.advance_ms(16 * 60_000);
    let cancelled = diancan_usecases::ordering::cancel_unpaid_due(&app.state)
        .await
        .unwrap();
    assert_eq!(cancelled, 0, "the diner paid: nothing to cancel");
    app.outbox_drained().await;
    assert_eq!(status_of(&app, &id, &secret).await, "placed");
    let payments = app
        .db()
        .payments_of_order(id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(payments[0].state, PaymentState::Paid);
    assert!(!payments[0].refund_due);
    app.cleanup().await;
}

/// Starts paying `id` at `provider` and taps 支付 on the simulator's page.
pub(crate) async fn pay_on_the_page(app: &TestApp, id: &str, secret: &str, provider: &str) {
    let (status, started) = start(app, id, Some(secret), browser(provider)).await;
    assert_eq!(status, 201, "{started}");
    tap_pay(app, &started).await;
}

/// The demo diner's tap on the simulator page of a started payment.
pub(crate) async fn tap_pay(app: &TestApp, started: &Value) {
    let page = started["simulator_url"].as_str().unwrap();
    let path = page.split('?').next().unwrap();
    let (status, _) = app
        .post(path, None, json!({ "to": url_query(page, "to") }))
        .await;
    assert_eq!(status, 202);
}

pub(crate) async fn refunds_settle(
    app: &TestApp,
    id: &str,
) -> Vec<diancan_domain::refunds::Refund> {
    let order = id.parse().unwrap();
    wait_until("the refunds are answered", || async {
        let refunds = app.db().refunds_of_order(order).await.unwrap();
        !refunds.is_empty()
            && refunds
                .iter()
                .all(|r| r.state == diancan_domain::refunds::RefundState::Succeeded)
    })
    .await;
    app.db().refunds_of_order(order).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_order_cancelled_by_the_manager_is_refunded_once_in_full() {
    let mut app = TestApp::new().await;
    app.simulate_payments();
    let served = app.serve().await;
    let (id, secret) = unpaid_order(&app, "pay-then-cancel").await;
    pay_on_the_page(&app, &id, &secret, "wechat_pay").await;
    wait_until("paid", || async {
        status_of(&app, &id, &secret).await == "placed"
    })
    .await;

    let token = app.login(&app.a.owner_login).await;
    let (_, order) = app
        .with_secret(Method::GET, &format!("/api/v1/orders/{id}"), Some(&secret))
        .await;
    let (status, cancelled) = app.act(&token, &id, "cancel", &order["version"]).await;
    assert_eq!(status, 200, "{cancelled}");
    let refunds = refunds_settle(&app, &id).await;
    let total = app.db().order(id.parse().unwrap()).await.unwrap().total;
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].amount, total);

    // The refund asked again (the outbox redelivers) refunds nothing more.
    let again = diancan_usecases::payments::refund_cancelled_order(&app.state, id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(again, 0);
    assert_eq!(
        app.db()
            .refunds_of_order(id.parse().unwrap())
            .await
            .unwrap()
            .len(),
        1
    );
    served.stop().await;
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_paid_through_two_gateways_gives_the_second_back() {
    let mut app = TestApp::new().await;
    app.simulate_payments();
    let served = app.serve().await;
    let (id, secret) = unpaid_order(&app, "pay-twice-over").await;
    // Two tabs: both payments prepared while the order still waits, then both paid.
    let (_, first) = start(&app, &id, Some(&secret), browser("wechat_pay")).await;
    let (_, second) = start(&app, &id, Some(&secret), browser("alipay")).await;
    for started in [&first, &second] {
        tap_pay(&app, started).await;
    }
    let refunds = refunds_settle(&app, &id).await;
    assert_eq!(status_of(&app, &id, &secret).await, "placed", "paid once");
    let payments = app
        .db()
        .payments_of_order(id.parse().unwrap())
        .await
        .unwrap();
    assert!(payments.iter().all(|p| p.state == PaymentState::Paid));
    let owed: Vec<_> = payments.iter().filter(|p| p.refund_due).collect();
    assert_eq!(owed.len(), 1, "one of the two is owed back");
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].payment_id, owed[0].id);
    assert_eq!(refunds[0].amount, owed[0].amount);
    served.stop().await;
    app.cleanup().await;
}
