//! Both gateway simulators wired to merchant clients of them, with the published test keys:
//! what `cargo run` pays through and what tests use. The merchant clients sign and verify
//! exactly as against the real gateways; only their transport answers in memory.

use super::alipay::{AlipaySimulator, AlipaySimulatorKeys, AlipaySimulatorTransport};
use super::wechat_pay::{WechatPaySimulator, WechatSimulatorKeys};
use super::{SimulatorError, deliver_until_acknowledged};
use crate::payments::alipay::{Alipay, AlipayConfig};
use crate::payments::error::PaymentError;
use crate::payments::gateway::Clock;
use crate::payments::keys::fixture;
use crate::payments::model::Provider;
use crate::payments::transport::HttpResponse;
use crate::payments::transport::{HttpRequest, Transport};
use crate::payments::wechat_pay::aead::ApiV3Key;
use crate::payments::wechat_pay::verify::PlatformKeys;
use crate::payments::wechat_pay::{WechatPay, WechatPayConfig};
use crate::sms::BoxFuture;
use std::sync::Arc;

/// The demo's WeChat Pay merchant and app (the reference's example numbers: nobody's account).
pub const WECHAT_MCHID: &str = "1230000109";
pub const WECHAT_APP_ID: &str = "wxd678efh567hg6787";
pub const WECHAT_API_V3_KEY: &str = "0123456789abcdef0123456789abcdef";
pub const WECHAT_PLATFORM_SERIAL: &str = "PUB_KEY_ID_0112300001092024010100000000000001";
const WECHAT_MERCHANT_SERIAL: &str = "DEMO-MERCHANT-SERIAL";
/// The demo's Alipay app and seller account.
pub const ALIPAY_APP_ID: &str = "2021000000000001";
pub const ALIPAY_SELLER_ID: &str = "2088102177649450";
/// The simulated diner's payer ids.
pub const DEMO_OPENID: &str = "oDemoDiner0000000000000000000";
pub const DEMO_ALIPAY_BUYER: &str = "2088102177846880";

pub struct DemoGateways {
    pub wechat_simulator: Arc<WechatPaySimulator>,
    pub alipay_simulator: Arc<AlipaySimulator>,
    /// Merchant clients whose calls the simulators answer.
    pub wechat_pay: Arc<WechatPay>,
    pub alipay: Arc<Alipay>,
    /// How the simulators' notifications reach the merchant (HTTP to its notify address).
    deliverer: Arc<dyn Transport>,
}

impl DemoGateways {
    /// `deliverer` carries the simulators' notifications to the merchant's notify address, as
    /// the gateways do (over HTTP in the demo).
    pub fn new(clock: Clock, deliverer: Arc<dyn Transport>) -> DemoGateways {
        let wechat_simulator = Arc::new(WechatPaySimulator::new(
            WechatSimulatorKeys {
                mchid: WECHAT_MCHID.into(),
                merchant_serial_no: WECHAT_MERCHANT_SERIAL.into(),
                merchant_public_key: fixture::public_key(),
                platform_key: fixture::merchant_key(),
                platform_serial: WECHAT_PLATFORM_SERIAL.into(),
                api_v3_key: ApiV3Key::parse(WECHAT_API_V3_KEY).expect("the demo key is 32 bytes"),
            },
            clock.clone(),
        ));
        let wechat_pay = Arc::new(WechatPay::new(
            WechatPayConfig {
                mchid: WECHAT_MCHID.into(),
                app_id: WECHAT_APP_ID.into(),
                merchant_serial_no: WECHAT_MERCHANT_SERIAL.into(),
                merchant_key: fixture::merchant_key(),
                api_v3_key: ApiV3Key::parse(WECHAT_API_V3_KEY).expect("the demo key is 32 bytes"),
                platform_keys: PlatformKeys::new()
                    .with_key(WECHAT_PLATFORM_SERIAL, fixture::public_key()),
                base_url: "http://wechat-pay.simulator".into(),
            },
            Arc::new(DeliveringTransport {
                simulator: wechat_simulator.clone(),
                deliverer: deliverer.clone(),
            }),
            clock.clone(),
        ));
        let alipay_simulator = Arc::new(AlipaySimulator::new(
            AlipaySimulatorKeys {
                app_id: ALIPAY_APP_ID.into(),
                app_public_key: fixture::public_key(),
                alipay_key: fixture::merchant_key(),
                seller_id: ALIPAY_SELLER_ID.into(),
            },
            clock.clone(),
        ));
        let alipay = Arc::new(Alipay::new(
            AlipayConfig {
                app_id: ALIPAY_APP_ID.into(),
                merchant_key: fixture::merchant_key(),
                alipay_public_key: fixture::public_key(),
                gateway_url: "http://alipay.simulator/gateway.do".into(),
            },
            Arc::new(AlipaySimulatorTransport(alipay_simulator.clone())),
            clock,
        ));
        DemoGateways {
            wechat_simulator,
            alipay_simulator,
            wechat_pay,
            alipay,
            deliverer,
        }
    }

    /// The demo diner taps 支付 on the simulator's page for our order `out_trade_no`. For
    /// Alipay's `wap.pay`, `alipay_page` is the signed page address the browser was sent to
    /// (Alipay learns of the trade only when it is opened). The signed notification is then
    /// posted on the gateway's own resend schedule, in the background, until acknowledged.
    pub fn pay(
        &self,
        provider: Provider,
        out_trade_no: &str,
        alipay_page: Option<&str>,
    ) -> Result<(), SimulatorError> {
        let (notification, schedule, acknowledged): (HttpRequest, &'static [u64], fn(&_) -> bool) =
            match provider {
                Provider::WechatPay => (
                    self.wechat_simulator.pay(out_trade_no, DEMO_OPENID)?,
                    &crate::payments::wechat_pay::notify::RETRY_SCHEDULE_SECS,
                    crate::payments::wechat_pay::notify::acknowledged,
                ),
                Provider::Alipay => {
                    if let Some(page) = alipay_page {
                        // A page whose signature fails is simply a trade Alipay never saw.
                        if let Err(error) = self.alipay_simulator.open_page(page) {
                            tracing::warn!(code = error.code(), "simulated Alipay page refused");
                        }
                    } else {
                        let _ = self.alipay_simulator.scan(out_trade_no);
                    }
                    (
                        self.alipay_simulator.pay(out_trade_no, DEMO_ALIPAY_BUYER)?,
                        &crate::payments::alipay::notify::RETRY_SCHEDULE_SECS,
                        crate::payments::alipay::notify::acknowledged,
                    )
                }
            };
        deliver_in_background(self.deliverer.clone(), notification, schedule, acknowledged);
        Ok(())
    }
}

/// Posts `notification` on `schedule` until acknowledged, without holding up the caller.
fn deliver_in_background(
    deliverer: Arc<dyn Transport>,
    notification: HttpRequest,
    schedule: &'static [u64],
    acknowledged: fn(&HttpResponse) -> bool,
) {
    tokio::spawn(async move {
        let delivery =
            deliver_until_acknowledged(deliverer.as_ref(), &notification, schedule, acknowledged)
                .await;
        tracing::info!(
            attempts = delivery.attempts,
            acknowledged = delivery.acknowledged,
            "simulated gateway notification delivered"
        );
    });
}

/// The WeChat Pay simulator as the merchant's transport, posting the refund notifications its
/// answers cause to the merchant, as WeChat does.
struct DeliveringTransport {
    simulator: Arc<WechatPaySimulator>,
    deliverer: Arc<dyn Transport>,
}

impl Transport for DeliveringTransport {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, PaymentError>> {
        Box::pin(async move {
            let (answer, notification) = self.simulator.handle(&request);
            if let Some(notification) = notification {
                deliver_in_background(
                    self.deliverer.clone(),
                    notification,
                    &crate::payments::wechat_pay::notify::RETRY_SCHEDULE_SECS,
                    crate::payments::wechat_pay::notify::acknowledged,
                );
            }
            Ok(answer)
        })
    }
}
