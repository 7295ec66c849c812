//! What every handler shares: the use cases' context (database, clock, PII vault, menu cache,
//! event hub, server keys), process settings, and the login providers.

use diancan_domain::payments::PaymentProvider;
use diancan_integrations::payments::simulator::demo::DemoGateways;
use diancan_usecases::Context;
use std::sync::Arc;

pub use diancan_usecases::Clock;

/// Process settings that are not per-store data.
#[derive(Clone)]
pub struct AppConfig {
    /// Mark session cookies `Secure` (behind HTTPS in production).
    pub secure_cookies: bool,
    /// Cheap password hashing, for tests only.
    pub fast_password_hashing: bool,
    /// Key for signing table QR tokens; shared by all instances via the database.
    pub table_token_key: Vec<u8>,
    /// Key for the digest of order requests kept with their idempotency keys.
    pub request_digest_key: Vec<u8>,
    /// Key for the stored hashes of guest orders' access secrets.
    pub order_access_key: Vec<u8>,
    /// How long a public menu may be served from one instance's cache without re-reading it
    /// (changes made through this instance invalidate at once; others within this many ms).
    pub menu_cache_ttl_ms: u64,
    /// Run the background workers (outbox delivery, unpaid timeout, retention) with `serve`.
    /// Tests turn it off to stand between a commit and its delivery.
    pub run_workers: bool,
    /// Proxies (CIDRs) whose `X-Forwarded-For/-Host/-Proto` are believed; none by default.
    pub trusted_proxies: crate::forwarded::TrustedProxies,
    /// Caps on open live streams and their lifetime.
    pub stream_limits: crate::live::StreamLimits,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            secure_cookies: false,
            fast_password_hashing: false,
            table_token_key: Vec::new(),
            request_digest_key: Vec::new(),
            order_access_key: Vec::new(),
            menu_cache_ttl_ms: 2_000,
            run_workers: true,
            trusted_proxies: Default::default(),
            stream_limits: Default::default(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    /// The use cases' context; handlers reach `db`, `clock`, `menus`, `hub` through it.
    pub core: Context,
    pub config: Arc<AppConfig>,
    /// Delivers login codes: `LogSms` (writes them to the log, masked phone) until a gateway is set.
    pub sms: Arc<dyn diancan_integrations::sms::SmsSender>,
    /// Mini-program login: the offline `WeChatSimulator` until real credentials are set.
    pub wechat: Arc<dyn diancan_integrations::wechat::WeChatLogin>,
    /// This instance's open live streams, counted against `config.stream_limits`.
    pub streams: Arc<crate::live::OpenStreams>,
    /// Demo mode only: the gateway simulators behind the payment gateways, whose payment pages
    /// are then mounted under `/demo/pay/`.
    pub payment_simulators: Option<Arc<DemoGateways>>,
    /// Demo mode and tests: the local Feie cloud `feie` printers print to, kept running here.
    pub feie_simulator: Option<Arc<diancan_integrations::printing::feie_simulator::FeieSimulator>>,
    /// Demo mode and tests: the local courier 派单 may ask, whose reports a worker posts into
    /// the same use case the courier webhook calls.
    pub courier_simulator: Option<Arc<diancan_integrations::couriers::simulator::CourierSimulator>>,
}

impl std::ops::Deref for AppState {
    type Target = Context;
    fn deref(&self) -> &Context {
        &self.core
    }
}

impl AppState {
    /// The PII vault for keys from `DIANCAN_PII_KEY` or the database (see `pii_key`).
    pub fn with_pii(mut self, vault: diancan_integrations::pii::PiiVault) -> AppState {
        self.core = self.core.with_pii(vault);
        self
    }

    pub fn new(db: diancan_storage::Db, clock: Clock, config: AppConfig) -> AppState {
        let keys = diancan_usecases::ServerKeys {
            table_token: config.table_token_key.clone(),
            request_digest: config.request_digest_key.clone(),
            order_access: config.order_access_key.clone(),
        };
        // Like the login providers: simulated WeChat and logged SMS until real ones are set.
        let notifiers = diancan_integrations::notify::Notifiers::simulated(Arc::new(
            diancan_integrations::notify::sms::SmsNotifier(Arc::new(
                diancan_integrations::sms::LogSms,
            )),
        ));
        AppState {
            core: Context::new(db, clock, keys, config.menu_cache_ttl_ms).with_notifiers(notifiers),
            config: Arc::new(config),
            sms: Arc::new(diancan_integrations::sms::LogSms),
            wechat: Arc::new(diancan_integrations::wechat::WeChatSimulator::default()),
            streams: Default::default(),
            payment_simulators: None,
            feie_simulator: None,
            courier_simulator: None,
        }
    }

    /// Delivers through the local courier simulator (demo mode, tests), with a fresh signing
    /// key and this server's clock.
    pub fn with_simulated_couriers(mut self) -> AppState {
        use diancan_integrations::couriers::simulator::CourierSimulator;
        let key: [u8; 32] = rand::random();
        let clock = self.core.clock.clone();
        let simulator = Arc::new(CourierSimulator::new(&key, Arc::new(move || clock.now())));
        self.core = self
            .core
            .with_couriers(diancan_usecases::dispatch::Couriers::new(vec![
                simulator.clone(),
            ]));
        self.courier_simulator = Some(simulator);
        self
    }

    /// Prints `feie` printers through this Feie account.
    pub fn with_feie(mut self, feie: diancan_integrations::printing::feie::FeieClient) -> AppState {
        self.core = self.core.with_feie(feie);
        self
    }

    /// Prints `feie` printers through a local Feie simulator (demo mode, tests), started here
    /// on loopback with the demo account.
    pub async fn with_simulated_feie(self) -> std::io::Result<AppState> {
        use diancan_integrations::printing::feie_simulator::{DEMO_UKEY, DEMO_USER, FeieSimulator};
        let simulator = Arc::new(FeieSimulator::start(DEMO_USER, DEMO_UKEY).await?);
        let client = diancan_integrations::printing::feie::FeieClient::new(simulator.account());
        let mut state = self.with_feie(client);
        state.feie_simulator = Some(simulator);
        Ok(state)
    }

    /// Pays through `gateways`; `simulators`, in demo mode, are the simulators behind them.
    pub fn with_payments(
        mut self,
        gateways: diancan_usecases::payments::PaymentGateways,
        simulators: Option<Arc<DemoGateways>>,
    ) -> AppState {
        self.core = self.core.with_payments(gateways);
        self.payment_simulators = simulators;
        self
    }

    /// Demo payments: both gateways through their simulators with the published test keys,
    /// the simulators' notifications posted over HTTP to this server's notify addresses.
    pub fn with_simulated_payments(self) -> AppState {
        use diancan_integrations::payments::simulator::demo;
        use diancan_usecases::payments::{ConfiguredGateway, MerchantAccount, PaymentGateways};
        let deliverer = Arc::new(
            diancan_integrations::payments::transport::ReqwestTransport::new()
                .expect("an HTTP client builds"),
        );
        // The app's own clock, so a test standing at noon pays at noon on both sides.
        let clock = self.core.clock.clone();
        let simulators = Arc::new(DemoGateways::new(Arc::new(move || clock.now()), deliverer));
        let gateways = PaymentGateways::default()
            .with(
                PaymentProvider::WechatPay,
                ConfiguredGateway {
                    gateway: simulators.wechat_pay.clone(),
                    account: MerchantAccount {
                        merchant_id: demo::WECHAT_MCHID.into(),
                        app_id: demo::WECHAT_APP_ID.into(),
                    },
                },
            )
            .with(
                PaymentProvider::Alipay,
                ConfiguredGateway {
                    gateway: simulators.alipay.clone(),
                    account: MerchantAccount {
                        merchant_id: demo::ALIPAY_SELLER_ID.into(),
                        app_id: demo::ALIPAY_APP_ID.into(),
                    },
                },
            );
        self.with_payments(gateways, Some(simulators))
    }

    /// Replaces the SMS provider (a real gateway, or a test's capturing fake).
    /// Order notices by text go through the same provider.
    pub fn with_sms(mut self, sms: Arc<dyn diancan_integrations::sms::SmsSender>) -> AppState {
        self.core.notifiers.sms =
            Arc::new(diancan_integrations::notify::sms::SmsNotifier(sms.clone()));
        self.sms = sms;
        self
    }

    /// Replaces the notification channels (WeChat subscribe messages, SMS notices).
    pub fn with_notifiers(
        mut self,
        notifiers: diancan_integrations::notify::Notifiers,
    ) -> AppState {
        self.core = self.core.with_notifiers(notifiers);
        self
    }

    /// Replaces the WeChat login (real jscode2session client, or a fake).
    pub fn with_wechat(
        mut self,
        wechat: Arc<dyn diancan_integrations::wechat::WeChatLogin>,
    ) -> AppState {
        self.wechat = wechat;
        self
    }
}
