//! A WeChat Pay notification end to end, on the real wire protocol: the simulator signs and
//! encrypts it with the published test keys, the merchant client verifies it, the use case stores
//! it and answers with the exact acknowledgement, and the outbox settles it once, however many
//! copies arrive at once. A tampered copy is refused and stores nothing.

use crate::app::TestApp;
use diancan_domain::money::Money;
use diancan_domain::payments::{Payment, PaymentProvider, PaymentState};
use diancan_domain::redacted::Redacted;
use diancan_domain::*;
use diancan_integrations::payments::gateway::{NotificationOutcome, PaymentGateway, system_clock};
use diancan_integrations::payments::model::{
    IncomingNotification, OutTradeNo, PayMethod, PrepayRequest,
};
use diancan_integrations::payments::simulator::demo;
use diancan_integrations::payments::simulator::wechat_pay::WechatPaySimulator;
use diancan_integrations::payments::transport::ReqwestTransport;
use diancan_integrations::payments::wechat_pay::WechatPay;
use diancan_usecases::payments::{MerchantAccount, receive_notification};
use std::sync::Arc;

const MCHID: &str = demo::WECHAT_MCHID;
const APP_ID: &str = demo::WECHAT_APP_ID;

/// The demo's simulator and a merchant client of it, both on the system clock.
fn wechat_pay() -> (Arc<WechatPaySimulator>, Arc<WechatPay>) {
    // Nothing here is delivered by the simulator itself: the tests hand notifications over.
    let unused = Arc::new(ReqwestTransport::new().unwrap());
    let gateways = demo::DemoGateways::new(system_clock(), unused);
    (gateways.wechat_simulator, gateways.wechat_pay)
}

fn account() -> MerchantAccount {
    MerchantAccount {
        merchant_id: MCHID.into(),
        app_id: APP_ID.into(),
    }
}

/// A guest's pay-first pickup order, a pending WeChat payment of its total prepared at the
/// simulator, and the diner paying it there: returns the payment and the signed notification.
async fn paid_at_the_simulator(
    app: &TestApp,
    simulator: &WechatPaySimulator,
    merchant: &WechatPay,
    key: &str,
) -> (Payment, IncomingNotification) {
    let body = app.quoted(app.pickup_body(2).await).await;
    let (status, order) = app.place(key, &body).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "awaiting_payment");
    let order_id: OrderId = order["id"].as_str().unwrap().parse().unwrap();
    let total = Money::from_fen(order["quote"]["total_fen"].as_i64().unwrap());
    let payment = Payment::start(
        app.a.brand,
        app.a.store,
        order_id,
        PaymentProvider::WechatPay,
        "jsapi",
        total,
        app.state.clock.now_ms(),
    );
    app.db().create_payment(&payment).await.unwrap();
    merchant
        .prepay(&PrepayRequest {
            out_trade_no: OutTradeNo::parse(&payment.out_trade_no).unwrap(),
            description: "测试门店-取餐".into(),
            amount: total,
            method: PayMethod::InApp {
                payer: Redacted::new("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into()),
            },
            notify_url: "http://diancan.test/api/v1/payments/wechat_pay/notify".into(),
            expires_at: None,
        })
        .await
        .unwrap();
    let sent = simulator
        .pay(&payment.out_trade_no, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
        .unwrap();
    let notification = IncomingNotification {
        headers: sent
            .headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.clone()))
            .collect(),
        body: sent.body,
    };
    (payment, notification)
}

/// How many times the order's history says it was paid.
async fn times_paid(app: &TestApp, order: OrderId) -> usize {
    let stream = diancan_storage::events::order_stream(order);
    app.db()
        .events_after(&stream, 0)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.payload_json.contains("\"action\":\"pay\""))
        .count()
}

/// The payment as stored now.
async fn stored_payment(app: &TestApp, payment: &Payment) -> Payment {
    app.db()
        .payment_by_trade_no(&payment.out_trade_no)
        .await
        .unwrap()
        .expect("the payment is stored")
}

async fn deliver_everything(app: &TestApp) {
    while diancan_usecases::outbox::deliver_due(&app.state)
        .await
        .unwrap()
        .delivered
        > 0
    {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_copies_of_a_notification_are_all_acknowledged_and_settle_once() {
    let mut app = TestApp::new().await;
    // Delivered by hand below, so what is stored before it is applied can be seen.
    app.stop_outbox();
    let (simulator, merchant) = wechat_pay();
    let (payment, notification) =
        paid_at_the_simulator(&app, &simulator, &merchant, "wxpay-20-copies").await;
    let success = merchant.acknowledgement(NotificationOutcome::Recorded);

    let copies: Vec<_> = (0..20)
        .map(|_| {
            let (state, merchant, notification) =
                (app.state.clone(), merchant.clone(), notification.clone());
            tokio::spawn(async move {
                receive_notification(&state, merchant.as_ref(), &account(), &notification).await
            })
        })
        .collect();
    for copy in copies {
        assert_eq!(copy.await.unwrap(), success, "every copy is told success");
    }
    assert_eq!(
        times_paid(&app, payment.order_id).await,
        0,
        "acknowledged once stored; applied by the outbox"
    );
    deliver_everything(&app).await;
    // A copy that arrives after the settlement (the gateway's retry) changes nothing either.
    let late = receive_notification(&app.state, merchant.as_ref(), &account(), &notification).await;
    assert_eq!(late, success);
    deliver_everything(&app).await;

    assert_eq!(times_paid(&app, payment.order_id).await, 1);
    let stored = stored_payment(&app, &payment).await;
    assert_eq!(stored.state, PaymentState::Paid);
    assert!(
        stored
            .transaction_id
            .as_deref()
            .is_some_and(|t| t.starts_with("4200000000"))
    );
    assert!(!stored.refund_due);
    let counts = app.db().outbox_counts().await.unwrap();
    assert_eq!(
        (counts.pending, counts.retrying),
        (0, 0),
        "nothing left to retry"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_tampered_notification_is_refused_and_settles_nothing() {
    let mut app = TestApp::new().await;
    // Delivered by hand below, so what is stored before it is applied can be seen.
    app.stop_outbox();
    let (simulator, merchant) = wechat_pay();
    let (payment, mut notification) =
        paid_at_the_simulator(&app, &simulator, &merchant, "wxpay-tampered").await;
    let last = notification.body.len() - 2;
    notification.body[last] ^= 0x01;

    let answer =
        receive_notification(&app.state, merchant.as_ref(), &account(), &notification).await;
    assert_eq!(
        answer,
        merchant.acknowledgement(NotificationOutcome::Refused)
    );
    assert_ne!(
        answer,
        merchant.acknowledgement(NotificationOutcome::Recorded)
    );
    deliver_everything(&app).await;
    assert_eq!(times_paid(&app, payment.order_id).await, 0);
    let stored = stored_payment(&app, &payment).await;
    assert_eq!(stored.state, PaymentState::Pending);
    app.cleanup().await;
}

#[tokio::test]
async fn a_notification_for_another_merchant_is_refused() {
    let mut app = TestApp::new().await;
    // Delivered by hand below, so what is stored before it is applied can be seen.
    app.stop_outbox();
    let (simulator, merchant) = wechat_pay();
    let (payment, notification) =
        paid_at_the_simulator(&app, &simulator, &merchant, "wxpay-other").await;
    let someone_else = MerchantAccount {
        merchant_id: "9990000001".into(),
        app_id: APP_ID.into(),
    };
    let answer =
        receive_notification(&app.state, merchant.as_ref(), &someone_else, &notification).await;
    assert_eq!(
        answer,
        merchant.acknowledgement(NotificationOutcome::Refused)
    );
    deliver_everything(&app).await;
    assert_eq!(times_paid(&app, payment.order_id).await, 0);
    app.cleanup().await;
}
