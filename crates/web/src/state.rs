//! What every handler shares: the database, the menu cache, the clock and the server's keys.

use crate::menu_cache::MenuCache;
use diancan_storage::Db;
use jiff::Timestamp;
use std::sync::Arc;

/// The time source, injected so tests can stand at 11:59 on a Friday.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> Timestamp + Send + Sync>);

impl Clock {
    pub fn system() -> Clock {
        Clock(Arc::new(Timestamp::now))
    }

    pub fn fixed(at: Timestamp) -> Clock {
        Clock(Arc::new(move || at))
    }

    pub fn from_fn(f: impl Fn() -> Timestamp + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(f))
    }

    pub fn now(&self) -> Timestamp {
        (self.0)()
    }

    pub fn now_ms(&self) -> i64 {
        self.now().as_millisecond()
    }
}

/// Process settings that are not per-store data.
#[derive(Clone)]
pub struct AppConfig {
    /// Mark session cookies `Secure` (behind HTTPS in production).
    pub secure_cookies: bool,
    /// Cheap password hashing, for tests only.
    pub fast_password_hashing: bool,
    /// Key for signing table QR tokens; shared by all instances via the database.
    pub table_token_key: Vec<u8>,
    /// How long a public menu may be served from one instance's cache without re-reading it
    /// (changes made through this instance invalidate at once; others within this many ms).
    pub menu_cache_ttl_ms: u64,
    /// Live streams re-read the event log this often even without a wake-up, so an event whose
    /// notification was lost (a reconnecting listener) still arrives.
    pub live_poll_ms: u64,
    /// Proxies (CIDRs) whose `X-Forwarded-For/-Host/-Proto` are believed; none by default.
    pub trusted_proxies: crate::forwarded::TrustedProxies,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            secure_cookies: false,
            fast_password_hashing: false,
            table_token_key: Vec::new(),
            menu_cache_ttl_ms: 2_000,
            live_poll_ms: 3_000,
            trusted_proxies: Default::default(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: Clock,
    pub config: Arc<AppConfig>,
    pub(crate) menus: MenuCache,
    pub(crate) live: crate::live::LiveHub,
    /// Seals phones and addresses before they are stored (AES-256-GCM) and makes blind indexes.
    pub pii: Arc<diancan_integrations::pii::PiiVault>,
    /// Delivers login codes: `LogSms` (writes them to the log, masked phone) until a gateway is set.
    pub sms: Arc<dyn diancan_integrations::sms::SmsSender>,
    /// Mini-program login: the offline `WeChatSimulator` until real credentials are set.
    pub wechat: Arc<dyn diancan_integrations::wechat::WeChatLogin>,
}

impl AppState {
    /// The PII vault for keys from `DIANCAN_PII_KEY` or the database (see `pii_key`).
    pub fn with_pii(mut self, vault: diancan_integrations::pii::PiiVault) -> AppState {
        self.pii = Arc::new(vault);
        self
    }

    pub fn new(db: Db, clock: Clock, config: AppConfig) -> AppState {
        let menus = MenuCache::new(config.menu_cache_ttl_ms);
        AppState {
            db,
            clock,
            config: Arc::new(config),
            menus,
            live: Default::default(),
            pii: Arc::new(diancan_integrations::pii::PiiVault::ephemeral()),
            sms: Arc::new(diancan_integrations::sms::LogSms),
            wechat: Arc::new(diancan_integrations::wechat::WeChatSimulator::default()),
        }
    }

    /// Replaces the SMS provider (a real gateway, or a test's capturing fake).
    pub fn with_sms(mut self, sms: Arc<dyn diancan_integrations::sms::SmsSender>) -> AppState {
        self.sms = sms;
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
