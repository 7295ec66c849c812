//! The Alipay client against the simulator: the whole wire protocol both ways.

use super::*;
use crate::payments::alipay::notify::RETRY_SCHEDULE_SECS;
use crate::payments::alipay::{Alipay, AlipayConfig};
use crate::payments::gateway::{
    NotificationOutcome, PaymentCodePolicy, PaymentGateway, await_payment_code,
};
use crate::payments::keys::fixture;
use crate::payments::model::{
    ExpectedPayment, GatewayEvent, IncomingNotification, OutRefundNo, OutTradeNo, PayMethod,
    Prepared, PrepayRequest, RefundRequest, RefundState, StatementKind, TradeState,
};
use crate::payments::simulator::deliver_until_acknowledged;
use diancan_domain::redacted::Redacted;
use jiff::Timestamp;

fn world() -> (Arc<Alipay>, Arc<AlipaySimulator>) {
    let clock: Clock = Arc::new(|| "2024-01-01T04:00:00Z".parse::<Timestamp>().unwrap());
    let simulator = Arc::new(AlipaySimulator::new(
        AlipaySimulatorKeys {
            app_id: "2021000000000000".into(),
            app_public_key: fixture::public_key(),
            alipay_key: fixture::merchant_key(),
            seller_id: "2088102177649450".into(),
        },
        clock.clone(),
    ));
    let client = Alipay::new(
        AlipayConfig {
            app_id: "2021000000000000".into(),
            merchant_key: fixture::merchant_key(),
            alipay_public_key: fixture::public_key(),
            gateway_url: "http://simulator/gateway.do".into(),
        },
        Arc::new(AlipaySimulatorTransport(simulator.clone())),
        clock,
    );
    (Arc::new(client), simulator)
}

fn order(no: &str, fen: i64, method: PayMethod) -> PrepayRequest {
    PrepayRequest {
        out_trade_no: OutTradeNo::parse(no).unwrap(),
        description: "小满面馆-外带".into(),
        amount: Money::from_fen(fen),
        method,
        notify_url: "http://merchant.test/notify/alipay".into(),
        expires_at: None,
    }
}

/// The merchant's notification endpoint, answering with the client's acknowledgement.
struct Endpoint {
    client: Arc<Alipay>,
    events: Mutex<Vec<GatewayEvent>>,
}

impl Transport for Endpoint {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, PaymentError>> {
        Box::pin(async move {
            let incoming = IncomingNotification {
                headers: vec![],
                body: request.body,
            };
            let outcome = match self.client.verify_notification(&incoming) {
                Ok(verified) => {
                    self.events.lock().unwrap().push(verified.event);
                    NotificationOutcome::Recorded
                }
                Err(_) => NotificationOutcome::Failed,
            };
            let ack = self.client.acknowledgement(outcome);
            Ok(HttpResponse {
                status: ack.status,
                headers: vec![],
                body: ack.body,
            })
        })
    }
}

#[tokio::test]
async fn a_qr_trade_exists_once_scanned_and_pays_refunds_once() {
    let (client, simulator) = world();
    let request = order("AL20240101000001", 8880, PayMethod::Qr);
    assert!(matches!(
        client.prepay(&request).await.unwrap(),
        Prepared::QrCode(_)
    ));
    assert!(matches!(
        client.query(&request.out_trade_no).await,
        Err(PaymentError::Gateway { code, .. }) if code == "ACQ.TRADE_NOT_EXIST"
    ));
    let changed = order("AL20240101000001", 1, PayMethod::Qr);
    assert!(matches!(
        client.prepay(&changed).await,
        Err(PaymentError::Gateway { code, .. }) if code == "ACQ.CONTEXT_INCONSISTENT"
    ));
    simulator.scan("AL20240101000001").unwrap();
    assert_eq!(
        client.query(&request.out_trade_no).await.unwrap().state,
        TradeState::NotPaid
    );

    let notification = simulator
        .pay("AL20240101000001", "2088102177846880")
        .unwrap();
    let endpoint = Endpoint {
        client: client.clone(),
        events: Mutex::new(Vec::new()),
    };
    let delivery = deliver_until_acknowledged(
        &endpoint,
        &notification,
        &RETRY_SCHEDULE_SECS,
        crate::payments::alipay::notify::acknowledged,
    )
    .await;
    assert_eq!((delivery.attempts, delivery.acknowledged), (1, true));
    let events = endpoint.events.lock().unwrap().clone();
    let [GatewayEvent::Trade(paid)] = events.as_slice() else {
        panic!("one payment, got {events:?}");
    };
    let ours = ExpectedPayment {
        merchant_id: "2088102177649450",
        app_id: "2021000000000000",
        out_trade_no: "AL20240101000001",
        amount: Money::from_fen(8880),
    };
    assert_eq!(paid.check_against(&ours), Ok(()));
    assert!(
        client.close(&request.out_trade_no).await.is_err(),
        "a paid trade cannot close"
    );

    let refund = RefundRequest {
        out_trade_no: request.out_trade_no.clone(),
        out_refund_no: OutRefundNo::parse("AL20240101000001R1").unwrap(),
        refund: Money::from_fen(880),
        total: Money::from_fen(8880),
        reason: None,
        notify_url: None,
    };
    let first = client.refund(&refund).await.unwrap();
    assert_eq!(
        (first.state, first.refunded_total),
        (RefundState::Succeeded, Some(Money::from_fen(880)))
    );
    let again = client.refund(&refund).await.unwrap();
    assert_eq!(
        (again.state, again.refunded_total),
        (RefundState::Processing, Some(Money::from_fen(880)))
    );
    let queried = client
        .query_refund(&refund.out_trade_no, &refund.out_refund_no)
        .await
        .unwrap();
    assert_eq!(
        (queried.state, queried.amount),
        (RefundState::Succeeded, Some(Money::from_fen(880)))
    );
    let too_much = RefundRequest {
        out_refund_no: OutRefundNo::parse("AL20240101000001R2").unwrap(),
        refund: Money::from_fen(8001),
        ..refund
    };
    assert!(matches!(
        client.refund(&too_much).await,
        Err(PaymentError::Gateway { code, .. }) if code == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
    ));

    // The day's bill lists what the simulator took and gave back, in fen once read.
    let statement = client
        .statement(jiff::civil::date(2024, 1, 1))
        .await
        .unwrap();
    assert!(statement.problems.is_empty(), "{:?}", statement.problems);
    let mut rows: Vec<_> = statement
        .rows
        .iter()
        .map(|r| {
            (
                r.kind,
                r.out_trade_no.as_str(),
                r.out_refund_no.as_deref(),
                r.amount.fen(),
            )
        })
        .collect();
    rows.sort_by_key(|r| r.2);
    assert_eq!(
        rows,
        [
            (StatementKind::Payment, "AL20240101000001", None, 8880),
            (
                StatementKind::Refund,
                "AL20240101000001",
                Some("AL20240101000001R1"),
                880
            ),
        ]
    );
    assert_eq!(
        statement.rows[0].transaction_id,
        paid.transaction_id.clone().unwrap()
    );
    let other_day = client
        .statement(jiff::civil::date(2024, 1, 2))
        .await
        .unwrap();
    assert!(other_day.rows.is_empty());
}

#[tokio::test]
async fn the_wap_payment_page_checks_the_signed_url() {
    let (client, simulator) = world();
    let h5 = PayMethod::H5 {
        client_ip: "203.0.113.7".into(),
        return_url: None,
    };
    let Prepared::Redirect(url) = client
        .prepay(&order("AL20240101000002", 1200, h5))
        .await
        .unwrap()
    else {
        panic!("a redirect");
    };
    let tampered = url.replace("12.00", "0.01");
    assert_eq!(
        simulator.open_page(&tampered).unwrap_err(),
        PaymentError::BadSignature
    );
    assert_eq!(simulator.open_page(&url).unwrap(), "AL20240101000002");
    simulator
        .pay("AL20240101000002", "2088102177846880")
        .unwrap();
    let trade = client
        .query(&OutTradeNo::parse("AL20240101000002").unwrap())
        .await
        .unwrap();
    assert_eq!(
        (trade.state, trade.amount),
        (TradeState::Paid, Money::from_fen(1200))
    );
}

#[tokio::test(start_paused = true)]
async fn a_payment_code_confirmed_on_the_phone_is_found_by_polling() {
    let (client, simulator) = world();
    let request = order(
        "AL20240101000003",
        2500,
        PayMethod::PaymentCode {
            auth_code: Redacted::new("286734567890123456".into()),
            device_ip: "192.168.1.20".into(),
        },
    );
    let Prepared::PaymentCode(first) = client.prepay(&request).await.unwrap() else {
        panic!("a 付款码 answer");
    };
    assert_eq!(first.state, TradeState::Paying);
    let diner = {
        let simulator = simulator.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_secs(12)).await;
            simulator
                .pay("AL20240101000003", "2088102177846880")
                .unwrap();
        })
    };
    let trade = await_payment_code(
        client.as_ref(),
        &request.out_trade_no,
        PaymentCodePolicy::default(),
    )
    .await
    .unwrap();
    diner.await.unwrap();
    assert_eq!(trade.state, TradeState::Paid);
}
