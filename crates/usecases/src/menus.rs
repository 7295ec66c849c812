//! The public menu, computed once per store and served from memory with an ETag.
//! An entry is fresh until the menu could change by itself (a time window, the business day,
//! opening hours) or until a short TTL bounds how long another instance's edit stays unseen.
//! Edits made through this instance invalidate at once; stock that an order takes or a cancel
//! returns is announced through the outbox, and every instance drops that store's copy.

use crate::context::Context;
use crate::error::{Error, Result};
use crate::storefront::{PublicStore, StoreMenu, image_urls};
use bytes::Bytes;
use diancan_domain::StoreId;
use diancan_domain::catalog::{MenuInputs, PublicMenu, StoreClock, build_public_menu};
use diancan_storage::{StorageError, Store};
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub struct CachedMenu {
    pub etag: String,
    pub body: Bytes,
    /// The same body gzipped once, so phones (which all ask for gzip) never wait for compression.
    pub gzipped: Bytes,
    /// The same menu as a value, for the pricing function.
    pub menu: Arc<PublicMenu>,
    pub store: Arc<Store>,
    pub open_now: bool,
    pub opens_at: Option<String>,
    /// The brand's menu revision this was built from.
    pub revision: i64,
    /// The brand's switched-on promotions with readable rules (their windows and store lists
    /// are judged at pricing time). Saving one moves the menu revision, so this goes stale with it.
    pub promotions: Arc<Vec<diancan_storage::promotions::PromotionRecord>>,
    fresh_until_ms: i64,
}

#[derive(Clone)]
pub struct MenuCache {
    entries: moka::future::Cache<StoreId, Arc<CachedMenu>>,
    ttl_ms: i64,
}

impl MenuCache {
    pub fn new(ttl_ms: u64) -> MenuCache {
        MenuCache {
            entries: moka::future::Cache::new(10_000),
            ttl_ms: ttl_ms as i64,
        }
    }

    /// Drops every cached menu: called after any catalog or store change on this instance.
    pub fn invalidate_all(&self) {
        self.entries.invalidate_all();
    }

    /// Drops one store's menu (its stock changed).
    pub fn invalidate(&self, store: StoreId) {
        // moka's sync invalidation of a future cache: the entry is gone for the next `get`.
        let entries = self.entries.clone();
        tokio::spawn(async move { entries.invalidate(&store).await });
    }

    /// Follows the hub's announcements: `menu:<store>` drops that store, `*` drops all.
    pub fn follow(&self, hub: &crate::hub::EventHub) {
        let menus = self.clone();
        hub.observe(move |name| {
            if name == diancan_storage::events::EVERY_STREAM {
                menus.invalidate_all();
            } else if let Some(store) = name
                .strip_prefix("menu:")
                .and_then(|id| id.parse::<uuid::Uuid>().ok())
            {
                menus.invalidate(StoreId::from_uuid(store));
            }
        });
    }

    pub async fn get(&self, state: &Context, store_id: StoreId) -> Result<Arc<CachedMenu>> {
        let now_ms = state.clock.now_ms();
        if let Some(entry) = self.entries.get(&store_id).await {
            if now_ms < entry.fresh_until_ms {
                return Ok(entry);
            }
            self.entries.invalidate(&store_id).await;
        }
        // Concurrent misses for one store share a single build.
        self.entries
            .try_get_with(store_id, build(state, store_id, self.ttl_ms))
            .await
            .map_err(|e: Arc<Error>| match *e {
                Error::NotFound => Error::NotFound,
                Error::Storage(StorageError::StoreDamaged(store)) => {
                    Error::Storage(StorageError::StoreDamaged(store))
                }
                ref other => Error::Storage(StorageError::Unavailable(other.to_string())),
            })
    }

    /// Like `get`, but first confirms with the database that nothing changed the brand's menu
    /// since the entry was built (one primary-key read): what pricing and order placement use.
    pub async fn get_current(&self, state: &Context, store_id: StoreId) -> Result<Arc<CachedMenu>> {
        let entry = self.get(state, store_id).await?;
        if state.db.menu_revision(entry.store.brand_id).await? == entry.revision {
            return Ok(entry);
        }
        self.entries.invalidate(&store_id).await;
        self.get(state, store_id).await
    }
}

async fn build(state: &Context, store_id: StoreId, ttl_ms: i64) -> Result<Arc<CachedMenu>> {
    let store = state.db.store(store_id).await?;
    // Read the revision first: a change racing this build then makes the entry look stale, never fresh.
    let revision = state.db.menu_revision(store.brand_id).await?;
    let brand = state.db.brand(store.brand_id).await?;
    let categories = state.db.categories(store.brand_id).await?;
    let dishes = state.db.dishes(store.brand_id).await?;
    let settings = state.db.store_menu_settings(store_id).await?;
    let promotions: Vec<_> = state
        .db
        .promotions(store.brand_id)
        .await?
        .into_iter()
        .filter(|p| p.window.enabled && p.rule.is_some())
        .collect();
    let now = state.clock.now();
    let zone = store.profile.rules.time_zone.zone().clone();
    let clock = StoreClock {
        now,
        zone: &zone,
        business_day_starts_at: store.profile.rules.business_day_starts_at,
    };
    let menu = build_public_menu(
        &MenuInputs {
            categories: &categories,
            dishes: &dishes,
            dish_settings: &settings.dish_settings,
            sku_states: &settings.sku_states,
        },
        &clock,
    );
    let public_store = PublicStore::new(&store, &brand.name, now, None);
    let hours_change = public_store.next_change.map(|t| t.as_millisecond());
    let (open_now, opens_at) = (public_store.open_now, public_store.opens_at.clone());
    let response = StoreMenu {
        store: public_store,
        business_date: menu.business_date,
        valid_until: menu.valid_until,
        image_urls: image_urls(),
        categories: menu.categories.clone(),
    };
    let body = Bytes::from(serde_json::to_vec(&response).map_err(|e| Error::Storage(e.into()))?);
    let gzipped = Bytes::from(
        gzip(&body).map_err(|e| Error::Storage(StorageError::Unavailable(e.to_string())))?,
    );
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&body)[..12]));
    let fresh_until_ms = [
        Some(now.as_millisecond() + ttl_ms),
        menu.valid_until.map(|t| t.as_millisecond()),
        hours_change,
    ]
    .into_iter()
    .flatten()
    .min()
    .unwrap_or(now.as_millisecond() + ttl_ms);
    Ok(Arc::new(CachedMenu {
        etag,
        body,
        gzipped,
        menu: Arc::new(menu),
        store: Arc::new(store),
        open_now,
        opens_at,
        revision,
        promotions: Arc::new(promotions),
        fresh_until_ms,
    }))
}

fn gzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    encoder.write_all(body)?;
    encoder.finish()
}
