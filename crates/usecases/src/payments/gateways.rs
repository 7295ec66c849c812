//! The gateways this deployment pays through, each with the merchant account its notifications
//! must be addressed to, and the address gateways post their notifications to.

use super::MerchantAccount;
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
    /// `https://host` the gateways reach us at: the configured public address, or (demo, tests)
    /// the address the server listens on, known only once it is bound.
    public_base: Arc<OnceLock<String>>,
}

impl PaymentGateways {
    pub fn with(mut self, provider: PaymentProvider, gateway: ConfiguredGateway) -> Self {
        let slot = match provider {
            PaymentProvider::WechatPay => &mut self.wechat_pay,
            PaymentProvider::Alipay => &mut self.alipay,
        };
        *slot = Some(Arc::new(gateway));
        self
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
