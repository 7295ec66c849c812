//! What every use case needs: the database, the clock, the PII vault, the menu cache, the event
//! hub and the server's keys. Built once by the binary (or a test) and cloned cheaply.

use crate::clock::Clock;
use crate::dispatch::Couriers;
use crate::hub::EventHub;
use crate::menus::MenuCache;
use crate::payments::PaymentGateways;
use diancan_integrations::notify::Notifiers;
use diancan_integrations::pii::PiiVault;
use diancan_integrations::printing::feie::FeieClient;
use diancan_storage::Db;
use std::sync::Arc;

/// Keys the server signs and digests with, shared by every instance through the database.
#[derive(Clone, Default)]
pub struct ServerKeys {
    /// Signs table QR tokens.
    pub table_token: Vec<u8>,
    /// Keys the digest of an order request stored with its idempotency key, so the digest
    /// says nothing about the phone or address inside the request without the key.
    pub request_digest: Vec<u8>,
    /// Keys the stored hash of each guest order's access secret.
    pub order_access: Vec<u8>,
}

#[derive(Clone)]
pub struct Context {
    pub db: Db,
    pub clock: Clock,
    /// Seals phones and addresses before they are stored (AES-256-GCM) and makes blind indexes.
    pub pii: Arc<PiiVault>,
    pub menus: MenuCache,
    pub hub: EventHub,
    pub keys: Arc<ServerKeys>,
    /// The payment gateways diners may pay through (none until configured).
    pub payments: PaymentGateways,
    /// The Feie cloud account `feie` printers print through (none until configured).
    pub feie: Option<Arc<FeieClient>>,
    /// The courier providers 派单 may ask (none until configured; the simulator in demo).
    pub couriers: Couriers,
    /// Where diners are told things besides their inbox (WeChat, SMS); none until configured.
    pub notifiers: Notifiers,
    /// How fast campaigns go out.
    pub campaign_pace: crate::notify::CampaignPace,
}

impl Context {
    /// A context whose menu cache serves an entry for at most `menu_ttl_ms` before re-reading
    /// (other instances' catalog edits are seen within that time).
    pub fn new(db: Db, clock: Clock, keys: ServerKeys, menu_ttl_ms: u64) -> Context {
        let hub = EventHub::new(db.clone());
        let menus = MenuCache::new(menu_ttl_ms);
        menus.follow(&hub);
        Context {
            db,
            clock,
            pii: Arc::new(PiiVault::ephemeral()),
            menus,
            hub,
            keys: Arc::new(keys),
            payments: PaymentGateways::default(),
            feie: None,
            couriers: Couriers::default(),
            notifiers: Notifiers::default(),
            campaign_pace: Default::default(),
        }
    }

    pub fn with_payments(mut self, payments: PaymentGateways) -> Context {
        self.payments = payments;
        self
    }

    pub fn with_feie(mut self, feie: FeieClient) -> Context {
        self.feie = Some(Arc::new(feie));
        self
    }

    pub fn with_couriers(mut self, couriers: Couriers) -> Context {
        self.couriers = couriers;
        self
    }

    pub fn with_notifiers(mut self, notifiers: Notifiers) -> Context {
        self.notifiers = notifiers;
        self
    }

    pub fn with_campaign_pace(mut self, pace: crate::notify::CampaignPace) -> Context {
        self.campaign_pace = pace;
        self
    }

    pub fn with_pii(mut self, vault: PiiVault) -> Context {
        self.pii = Arc::new(vault);
        self
    }
}
