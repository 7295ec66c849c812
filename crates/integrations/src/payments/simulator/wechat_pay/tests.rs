//! The WeChat Pay client against the simulator: the whole wire protocol both ways.

use super::*;
use crate::payments::gateway::{NotificationOutcome, PaymentGateway};
use crate::payments::keys::fixture;
use crate::payments::model::{
    ExpectedPayment, GatewayEvent, IncomingNotification, OutRefundNo, OutTradeNo, PayMethod,
    Prepared, PrepayRequest, RefundRequest, RefundState, TradeState,
};
use crate::payments::simulator::deliver_until_acknowledged;
use crate::payments::wechat_pay::notify::RETRY_SCHEDULE_SECS;
use crate::payments::wechat_pay::verify::PlatformKeys;
use crate::payments::wechat_pay::{WechatPay, WechatPayConfig};
use diancan_domain::money::Money;
use diancan_domain::redacted::Redacted;
use jiff::Timestamp;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

const API_V3_KEY: &str = "0123456789abcdef0123456789abcdef";

/// A clock the test moves by hand.
fn clock(seconds: Arc<AtomicI64>) -> Clock {
    Arc::new(move || Timestamp::from_second(seconds.load(Ordering::SeqCst)).unwrap())
}

struct World {
    merchant: Arc<WechatPay>,
    transport: Arc<SimulatorTransport>,
    simulator: Arc<WechatPaySimulator>,
    merchant_time: Arc<AtomicI64>,
}

fn world() -> World {
    let now = 1704081600;
    let simulator_time = Arc::new(AtomicI64::new(now));
    let merchant_time = Arc::new(AtomicI64::new(now));
    let simulator = Arc::new(WechatPaySimulator::new(
        WechatSimulatorKeys {
            mchid: "1230000109".into(),
            merchant_serial_no: "MERCHANT-SERIAL".into(),
            merchant_public_key: fixture::public_key(),
            platform_key: fixture::merchant_key(),
            platform_serial: "PUB_KEY_ID_0112300001092024010100000000000001".into(),
            api_v3_key: ApiV3Key::parse(API_V3_KEY).unwrap(),
        },
        clock(simulator_time),
    ));
    let transport = Arc::new(SimulatorTransport::new(simulator.clone()));
    let merchant = Arc::new(WechatPay::new(
        WechatPayConfig {
            mchid: "1230000109".into(),
            app_id: "wxd678efh567hg6787".into(),
            merchant_serial_no: "MERCHANT-SERIAL".into(),
            merchant_key: fixture::merchant_key(),
            api_v3_key: ApiV3Key::parse(API_V3_KEY).unwrap(),
            platform_keys: PlatformKeys::new().with_key(
                "PUB_KEY_ID_0112300001092024010100000000000001",
                fixture::public_key(),
            ),
            base_url: "http://simulator".into(),
        },
        transport.clone(),
        clock(merchant_time.clone()),
    ));
    World {
        merchant,
        transport,
        simulator,
        merchant_time,
    }
}

fn order(no: &str, fen: i64, method: PayMethod) -> PrepayRequest {
    PrepayRequest {
        out_trade_no: OutTradeNo::parse(no).unwrap(),
        description: "小满面馆-大厅A3".into(),
        amount: Money::from_fen(fen),
        method,
        notify_url: "http://merchant.test/notify/wechat".into(),
        expires_at: None,
    }
}

/// The merchant's notification endpoint: verify, then acknowledge.
struct Endpoint {
    merchant: Arc<WechatPay>,
    events: std::sync::Mutex<Vec<GatewayEvent>>,
    /// Answers this many posts with a failure first, like a merchant that was down.
    failures_left: AtomicI64,
}

impl Transport for Endpoint {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, PaymentError>> {
        Box::pin(async move {
            let incoming = IncomingNotification {
                headers: request
                    .headers
                    .iter()
                    .map(|(n, v)| ((*n).to_owned(), v.clone()))
                    .collect(),
                body: request.body.clone(),
            };
            let outcome = match self.merchant.verify_notification(&incoming) {
                Ok(_) if self.failures_left.fetch_sub(1, Ordering::SeqCst) > 0 => {
                    NotificationOutcome::Failed
                }
                Ok(verified) => {
                    self.events.lock().unwrap().push(verified.event);
                    NotificationOutcome::Recorded
                }
                Err(_) => NotificationOutcome::Failed,
            };
            let ack = self.merchant.acknowledgement(outcome);
            Ok(HttpResponse {
                status: ack.status,
                headers: vec![],
                body: ack.body,
            })
        })
    }
}

fn endpoint(world: &World, failures: i64) -> Endpoint {
    Endpoint {
        merchant: world.merchant.clone(),
        events: std::sync::Mutex::new(Vec::new()),
        failures_left: AtomicI64::new(failures),
    }
}

#[tokio::test(start_paused = true)]
async fn a_qr_payment_from_prepay_to_notification_and_refund() {
    let world = world();
    let request = order("DC20240101000001", 3800, PayMethod::Qr);
    let Prepared::QrCode(code) = world.merchant.prepay(&request).await.unwrap() else {
        panic!("a QR code");
    };
    assert!(code.starts_with("weixin://wxpay/bizpayurl?pr=wx"));
    // A retry of the same request is the same payment; a changed amount is refused.
    assert_eq!(
        world.merchant.prepay(&request).await.unwrap(),
        Prepared::QrCode(code)
    );
    let changed = order("DC20240101000001", 3900, PayMethod::Qr);
    assert!(matches!(
        world.merchant.prepay(&changed).await,
        Err(PaymentError::Gateway { code, .. }) if code == "OUT_TRADE_NO_USED"
    ));
    assert_eq!(
        world
            .merchant
            .query(&request.out_trade_no)
            .await
            .unwrap()
            .state,
        TradeState::NotPaid
    );

    // The diner pays; the merchant was down for the first two posts.
    let notification = world.simulator.pay("DC20240101000001", "oDiner").unwrap();
    let merchant = endpoint(&world, 2);
    let started = tokio::time::Instant::now();
    let delivery = deliver_until_acknowledged(
        &merchant,
        &notification,
        &RETRY_SCHEDULE_SECS,
        crate::payments::wechat_pay::notify::acknowledged,
    )
    .await;
    assert_eq!((delivery.attempts, delivery.acknowledged), (3, true));
    assert_eq!(started.elapsed(), std::time::Duration::from_secs(15 + 15));
    let events = merchant.events.lock().unwrap().clone();
    let [GatewayEvent::Trade(paid)] = events.as_slice() else {
        panic!("one payment event, got {events:?}");
    };
    assert_eq!(paid.state, TradeState::Paid);
    let ours = ExpectedPayment {
        merchant_id: "1230000109",
        app_id: "wxd678efh567hg6787",
        out_trade_no: "DC20240101000001",
        amount: Money::from_fen(3800),
    };
    assert_eq!(paid.check_against(&ours), Ok(()));
    let queried = world.merchant.query(&request.out_trade_no).await.unwrap();
    assert_eq!(queried.transaction_id, paid.transaction_id);
    assert!(
        world.merchant.close(&request.out_trade_no).await.is_err(),
        "a paid order cannot close"
    );

    // A partial refund, its notification, and its query.
    let refund = RefundRequest {
        out_trade_no: request.out_trade_no.clone(),
        out_refund_no: OutRefundNo::parse("DC20240101000001R1").unwrap(),
        refund: Money::from_fen(800),
        total: Money::from_fen(3800),
        reason: Some("少上一份小菜".into()),
        notify_url: Some("http://merchant.test/notify/wechat".into()),
    };
    assert_eq!(
        world.merchant.refund(&refund).await.unwrap().state,
        RefundState::Processing
    );
    let [refund_notification] = world.transport.take_notifications().try_into().unwrap();
    let merchant = endpoint(&world, 0);
    let delivery = deliver_until_acknowledged(
        &merchant,
        &refund_notification,
        &RETRY_SCHEDULE_SECS,
        crate::payments::wechat_pay::notify::acknowledged,
    )
    .await;
    assert_eq!(delivery.attempts, 1);
    let events = merchant.events.lock().unwrap().clone();
    let [GatewayEvent::Refund(refunded)] = events.as_slice() else {
        panic!("one refund event");
    };
    assert_eq!(
        (refunded.state, refunded.amount),
        (RefundState::Succeeded, Some(Money::from_fen(800)))
    );
    // A retry of the refund refunds nothing more; too much is refused.
    world.merchant.refund(&refund).await.unwrap();
    let too_much = RefundRequest {
        out_refund_no: OutRefundNo::parse("DC20240101000001R2").unwrap(),
        refund: Money::from_fen(3001),
        ..refund.clone()
    };
    assert!(matches!(
        world.merchant.refund(&too_much).await,
        Err(PaymentError::Gateway { code, .. }) if code == "NOT_ENOUGH"
    ));
    let done = world
        .merchant
        .query_refund(&refund.out_trade_no, &refund.out_refund_no)
        .await
        .unwrap();
    assert_eq!(done.state, RefundState::Succeeded);

    // The day's bill, in yuan on the wire, is read back in fen and adds up.
    let bill = world
        .merchant
        .download_trade_bill(jiff::civil::date(2024, 1, 1))
        .await
        .unwrap();
    let mut states: Vec<(&str, i64, i64)> = bill
        .rows
        .iter()
        .map(|r| (r.state.as_str(), r.settled.fen(), r.refund.fen()))
        .collect();
    states.sort();
    assert_eq!(states, [("REFUND", 0, 800), ("SUCCESS", 3800, 0)]);
    assert_eq!(bill.fee_total, Money::from_fen(23 - 5));
    assert_eq!(
        bill.rows[0].transaction_id,
        paid.transaction_id.clone().unwrap()
    );
    let empty = world
        .merchant
        .download_trade_bill(jiff::civil::date(2024, 1, 2))
        .await
        .unwrap();
    assert!(empty.rows.is_empty());
    // The same bill in our words: a payment of its 订单金额 and a refund of its 退款金额.
    let statement = world
        .merchant
        .statement(jiff::civil::date(2024, 1, 1))
        .await
        .unwrap();
    let mut rows: Vec<_> = statement
        .rows
        .iter()
        .map(|r| (r.kind, r.out_refund_no.clone(), r.amount.fen()))
        .collect();
    rows.sort_by_key(|r| r.1.clone());
    assert_eq!(
        rows,
        [
            (crate::payments::model::StatementKind::Payment, None, 3800),
            (
                crate::payments::model::StatementKind::Refund,
                Some("DC20240101000001R1".to_owned()),
                800
            ),
        ]
    );
}

#[tokio::test]
async fn the_simulator_refuses_stale_or_forged_requests_like_wechat() {
    let world = world();
    world.merchant_time.fetch_add(300, Ordering::SeqCst);
    let request = order("DC20240101000002", 100, PayMethod::Qr);
    assert!(matches!(
        world.merchant.prepay(&request).await,
        Err(PaymentError::Gateway { status: 401, code, .. }) if code == "SIGN_ERROR"
    ));
    world.merchant_time.fetch_sub(300, Ordering::SeqCst);
    let forged = HttpRequest {
        method: Method::Post,
        url: "http://simulator/v3/pay/transactions/native".into(),
        headers: vec![("authorization", r#"WECHATPAY2-SHA256-RSA2048 mchid="1230000109",nonce_str="n",timestamp="1704081600",serial_no="MERCHANT-SERIAL",signature="AAAA""#.into())],
        body: br#"{"appid":"x"}"#.to_vec(),
    };
    assert_eq!(world.simulator.handle(&forged).0.status, 401);
}

#[tokio::test(start_paused = true)]
async fn a_notification_nobody_acknowledges_is_sent_on_the_whole_schedule() {
    let world = world();
    world
        .merchant
        .prepay(&order("DC20240101000003", 100, PayMethod::Qr))
        .await
        .unwrap();
    let notification = world.simulator.pay("DC20240101000003", "oDiner").unwrap();
    // A merchant that answers, but not with WeChat's success form.
    let merchant = endpoint(&world, i64::MAX);
    let started = tokio::time::Instant::now();
    let delivery = deliver_until_acknowledged(
        &merchant,
        &notification,
        &RETRY_SCHEDULE_SECS,
        crate::payments::wechat_pay::notify::acknowledged,
    )
    .await;
    assert_eq!((delivery.attempts, delivery.acknowledged), (16, false));
    assert_eq!(
        started.elapsed(),
        std::time::Duration::from_secs(24 * 3600 + 4 * 60)
    );
}

#[tokio::test]
async fn payment_code_waits_for_the_diner_and_can_be_revoked() {
    let world = world();
    let request = order(
        "DC20240101000004",
        2500,
        PayMethod::PaymentCode {
            auth_code: Redacted::new("134567890123456789".into()),
            device_ip: "192.168.1.20".into(),
        },
    );
    let Prepared::PaymentCode(first) = world.merchant.prepay(&request).await.unwrap() else {
        panic!("a 付款码 answer");
    };
    assert_eq!(first.state, TradeState::Paying);
    world.merchant.revoke(&request.out_trade_no).await.unwrap();
    assert_eq!(
        world
            .merchant
            .query(&request.out_trade_no)
            .await
            .unwrap()
            .state,
        TradeState::Revoked
    );
    assert_eq!(
        world
            .simulator
            .pay("DC20240101000004", "oDiner")
            .unwrap_err(),
        SimulatorError::NotPayable("REVOKED")
    );
}

#[tokio::test]
async fn an_unpaid_jsapi_order_closes() {
    let world = world();
    let payer = Redacted::new("oDiner".to_owned());
    let request = order("DC20240101000005", 990, PayMethod::InApp { payer });
    assert!(matches!(
        world.merchant.prepay(&request).await.unwrap(),
        Prepared::WechatBridge(_)
    ));
    world.merchant.close(&request.out_trade_no).await.unwrap();
    assert_eq!(
        world
            .merchant
            .query(&request.out_trade_no)
            .await
            .unwrap()
            .state,
        TradeState::Closed
    );
    assert!(matches!(
        world
            .merchant
            .query(&OutTradeNo::parse("DC-NEVER-MADE").unwrap())
            .await,
        Err(PaymentError::Gateway { status: 404, .. })
    ));
}
