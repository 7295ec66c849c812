//! The gateways this deployment pays through, each with the merchant account its notifications
//! must be addressed to, and the address gateways post their notifications to.

use super::MerchantAccount;
use super::health::{BreakerSettings, GatewayHealth, Guarded, HealthReport, RetrySettings};
use diancan_domain::payments::PaymentProvider;
use diancan_integrations::payments::PaymentGateway;
use std::sync::{Arc, OnceLock};

/// One gateway as configured: its client and our account at it.
pub struct ConfiguredGateway {
    pub gateway: Arc<dyn PaymentGateway>,
    pub account: MerchantAccount,
}

/// The configured gateways. Cloned cheaply; a provider left unconfigured is simply not offered.
#[derive(Clone, Default)]
pub struct PaymentGateways {
    wechat_pay: Option<Arc<ConfiguredGateway>>,
    alipay: Option<Arc<ConfiguredGateway>>,
    /// Each configured gateway's breaker and recent calls, in configuration order.
    health: Vec<Arc<GatewayHealth>>,
    /// `https://host` the gateways reach us at: the configured public address, or (demo, tests)
    /// the address the server listens on, known only once it is bound.
    public_base: Arc<OnceLock<String>>,
}

impl PaymentGateways {
    /// Adds `gateway` behind a circuit breaker with the default settings and the system clock.
    pub fn with(self, provider: PaymentProvider, gateway: ConfiguredGateway) -> Self {
        let now_ms = Arc::new(|| jiff::Timestamp::now().as_millisecond());
        self.with_breaker(provider, gateway, BreakerSettings::default(), now_ms)
    }

    /// Adds `gateway` behind a breaker of `settings` that tells time by `now_ms`.
    pub fn with_breaker(
        mut self,
        provider: PaymentProvider,
        gateway: ConfiguredGateway,
        settings: BreakerSettings,
        now_ms: Arc<dyn Fn() -> i64 + Send + Sync>,
    ) -> Self {
        let health = Arc::new(GatewayHealth::new(provider, settings, now_ms));
        self.health.retain(|h| h.report().provider != provider);
        self.health.push(health.clone());
        let guarded = ConfiguredGateway {
            gateway: Arc::new(Guarded {
                inner: gateway.gateway,
                health,
                retry: RetrySettings::default(),
            }),
            account: gateway.account,
        };
        let slot = match provider {
            PaymentProvider::WechatPay => &mut self.wechat_pay,
            PaymentProvider::Alipay => &mut self.alipay,
        };
        *slot = Some(Arc::new(guarded));
        self
    }

    /// Each configured gateway's health, for the console.
    pub fn health(&self) -> Vec<HealthReport> {
        self.health.iter().map(|h| h.report()).collect()
    }

    /// Whether `provider`'s breaker refuses calls now: checkout refuses it at once.
    pub fn is_down(&self, provider: PaymentProvider) -> bool {
        self.health
            .iter()
            .find(|h| h.report().provider == provider)
            .is_some_and(|h| h.refuses_now())
    }

    pub fn get(&self, provider: PaymentProvider) -> Option<&ConfiguredGateway> {
        match provider {
            PaymentProvider::WechatPay => self.wechat_pay.as_deref(),
            PaymentProvider::Alipay => self.alipay.as_deref(),
        }
    }

    /// The providers a diner may choose, in the order the checkout offers them.
    pub fn offered(&self) -> Vec<PaymentProvider> {
        [PaymentProvider::WechatPay, PaymentProvider::Alipay]
            .into_iter()
            .filter(|p| self.get(*p).is_some())
            .collect()
    }

    /// Sets this site's public address (`https://host`); the first call wins (a configured public
    /// address is set before the server binds, and the bound address does not replace it).
    pub fn set_public_base(&self, base: &str) {
        let _ = self.public_base.set(base.trim_end_matches('/').to_owned());
    }

    /// `path` on this site as the gateways and diners' browsers reach it.
    pub fn public_url(&self, path: &str) -> Option<String> {
        Some(format!("{}{path}", self.public_base.get()?))
    }

    /// Where `provider` posts its notifications (no query string: WeChat refuses one).
    pub fn notify_url(&self, provider: PaymentProvider) -> Option<String> {
        self.public_url(&format!("/api/v1/payments/{}/notify", provider.as_str()))
    }
}
