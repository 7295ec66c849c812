//! A gateway that stops answering: after a run of failures its breaker opens, the diner's
//! checkout is refused at once with 503 so they pick the other gateway, the console shows the
//! breaker and the calls; after the cool-down one probe goes through and, answered, closes it.

use crate::app::{TestApp, movable_clock};
use crate::checkout::unpaid_order;
use diancan_domain::payments::PaymentProvider;
use diancan_integrations::payments::model::*;
use diancan_integrations::payments::{NotificationOutcome, PaymentError, PaymentGateway};
use diancan_integrations::sms::BoxFuture;
use diancan_usecases::payments::health::BreakerSettings;
use diancan_usecases::payments::{ConfiguredGateway, MerchantAccount, PaymentGateways};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The simulator's WeChat Pay client, unreachable while `down` is set.
struct Flaky {
    inner: Arc<dyn PaymentGateway>,
    down: AtomicBool,
}

impl Flaky {
    fn check(&self) -> Result<(), PaymentError> {
        if self.down.load(Ordering::SeqCst) {
            Err(PaymentError::Transport {
                reason: "connection refused".into(),
                timed_out: false,
            })
        } else {
            Ok(())
        }
    }
}

impl PaymentGateway for Flaky {
    fn provider(&self) -> Provider {
        self.inner.provider()
    }
    fn prepay<'a>(&'a self, r: &'a PrepayRequest) -> BoxFuture<'a, Result<Prepared, PaymentError>> {
        Box::pin(async move {
            self.check()?;
            self.inner.prepay(r).await
        })
    }
    fn query<'a>(&'a self, n: &'a OutTradeNo) -> BoxFuture<'a, Result<Trade, PaymentError>> {
        Box::pin(async move {
            self.check()?;
            self.inner.query(n).await
        })
    }
    fn close<'a>(&'a self, n: &'a OutTradeNo) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async move {
            self.check()?;
            self.inner.close(n).await
        })
    }
    fn revoke<'a>(&'a self, n: &'a OutTradeNo) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async move {
            self.check()?;
            self.inner.revoke(n).await
        })
    }
    fn refund<'a>(&'a self, r: &'a RefundRequest) -> BoxFuture<'a, Result<Refund, PaymentError>> {
        Box::pin(async move {
            self.check()?;
            self.inner.refund(r).await
        })
    }
    fn query_refund<'a>(
        &'a self,
        n: &'a OutTradeNo,
        r: &'a OutRefundNo,
    ) -> BoxFuture<'a, Result<Refund, PaymentError>> {
        Box::pin(async move {
            self.check()?;
            self.inner.query_refund(n, r).await
        })
    }
    fn statement(&self, d: jiff::civil::Date) -> BoxFuture<'_, Result<Statement, PaymentError>> {
        Box::pin(async move {
            self.check()?;
            self.inner.statement(d).await
        })
    }
    fn verify_notification(
        &self,
        n: &IncomingNotification,
    ) -> Result<VerifiedNotification, PaymentError> {
        self.inner.verify_notification(n)
    }
    fn acknowledgement(&self, o: NotificationOutcome) -> Acknowledgement {
        self.inner.acknowledgement(o)
    }
}

fn browser(provider: &str) -> serde_json::Value {
    json!({"provider": provider, "how": "browser", "return_path": "/s/demo#order=1"})
}

async fn start(app: &TestApp, id: &str, secret: &str, provider: &str) -> (u16, serde_json::Value) {
    let request = axum::http::Request::post(format!("/api/v1/orders/{id}/payments"))
        .header("content-type", "application/json")
        .header("x-order-secret", secret)
        .body(browser(provider).to_string().into())
        .unwrap();
    let (status, _, body) = app.send_request(request).await;
    (status.as_u16(), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_gateway_opens_its_breaker_and_a_probe_after_the_cool_down_closes_it() {
    let (clock, hand) = movable_clock();
    let mut app = TestApp::with_clock(clock.clone()).await;
    app.simulate_payments();
    let simulators = app.state.payment_simulators.clone().unwrap();
    let flaky = Arc::new(Flaky {
        inner: simulators.wechat_pay.clone(),
        down: AtomicBool::new(true),
    });
    let now_ms = {
        let clock = clock.clone();
        Arc::new(move || clock.now_ms())
    };
    let settings = BreakerSettings {
        open_after_failures: 3,
        cool_down_ms: 30_000,
        window: 50,
    };
    let gateways = PaymentGateways::default()
        .with_breaker(
            PaymentProvider::WechatPay,
            ConfiguredGateway {
                gateway: flaky.clone(),
                account: MerchantAccount {
                    merchant_id: diancan_integrations::payments::simulator::demo::WECHAT_MCHID
                        .into(),
                    app_id: diancan_integrations::payments::simulator::demo::WECHAT_APP_ID.into(),
                },
            },
            settings,
            now_ms,
        )
        .with(
            PaymentProvider::Alipay,
            ConfiguredGateway {
                gateway: simulators.alipay.clone(),
                account: MerchantAccount {
                    merchant_id: diancan_integrations::payments::simulator::demo::ALIPAY_SELLER_ID
                        .into(),
                    app_id: diancan_integrations::payments::simulator::demo::ALIPAY_APP_ID.into(),
                },
            },
        );
    gateways.set_public_base("http://127.0.0.1:9");
    app.state = app.state.clone().with_payments(gateways, Some(simulators));
    app.router = diancan_web::router(app.state.clone());

    let (id, secret) = unpaid_order(&app, "breaker-order").await;
    // Three failures reach the gateway and are told so; the breaker then opens.
    for _ in 0..3 {
        let (status, body) = start(&app, &id, &secret, "wechat_pay").await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["error"]["code"], "PAYMENT_GATEWAY_UNAVAILABLE");
    }
    let owner = app.login(&app.a.owner_login).await;
    let (status, health) = app
        .get("/api/v1/console/payments/health", Some(&owner))
        .await;
    assert_eq!(status, 200, "{health}");
    let wechat = health
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["provider"] == "wechat_pay")
        .unwrap()
        .clone();
    assert_eq!(wechat["breaker"], "open", "{wechat}");
    assert_eq!(wechat["calls"], 3);
    assert_eq!(wechat["success_rate_bp"], 0);

    // Open: refused at once, without a payment row or a call; the other gateway still works.
    let payments_before = app
        .db()
        .payments_of_order(id.parse().unwrap())
        .await
        .unwrap()
        .len();
    flaky.down.store(false, Ordering::SeqCst);
    let (status, body) = start(&app, &id, &secret, "wechat_pay").await;
    assert_eq!(status, 503, "{body}");
    let payments_after = app
        .db()
        .payments_of_order(id.parse().unwrap())
        .await
        .unwrap()
        .len();
    assert_eq!(
        payments_after, payments_before,
        "nothing written while open"
    );
    let (status, body) = start(&app, &id, &secret, "alipay").await;
    assert_eq!(status, 201, "the diner pays the other way: {body}");

    // After the cool-down the next checkout is the probe; answered, the breaker closes.
    hand.advance_ms(30_000);
    let (status, body) = start(&app, &id, &secret, "wechat_pay").await;
    assert_eq!(status, 201, "{body}");
    let (_, health) = app
        .get("/api/v1/console/payments/health", Some(&owner))
        .await;
    let wechat = health
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["provider"] == "wechat_pay")
        .unwrap()
        .clone();
    assert_eq!(wechat["breaker"], "closed", "{wechat}");
    assert_eq!(wechat["calls"], 4);
    assert_eq!(wechat["success_rate_bp"], 2_500);
    app.cleanup().await;
}
