//! What diners see of a store: its public profile with whether it is open now, and the whole
//! menu document the phone app reads (cached per store in `menus.rs`).

use diancan_domain::catalog::PublicCategory;
use diancan_domain::schedule::{BusinessDate, Schedule};
use diancan_domain::store::{GeoPoint, PackingFee, PayMode};
use diancan_domain::{BrandId, Money, StoreId};
use diancan_storage::Store;
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// A store as diners see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicStore {
    pub id: StoreId,
    pub brand_id: BrandId,
    pub brand_name: String,
    pub name: String,
    pub name_en: Option<String>,
    pub address: String,
    pub phone: Option<String>,
    pub location: GeoPoint,
    pub time_zone: String,
    pub hours: Schedule,
    /// Within opening hours and the merchant has not paused orders.
    pub open_now: bool,
    /// When closed: the next opening in the store's local time ("2026-11-27T11:00").
    pub opens_at: Option<String>,
    pub pay_mode: PayMode,
    pub packing_fee: PackingFee,
    pub seat_fee_fen: Money,
    /// Distance from the point the directory was asked about, in metres.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<u32>,
    #[serde(skip)]
    pub next_change: Option<Timestamp>,
}

impl PublicStore {
    pub fn new(
        store: &Store,
        brand_name: &str,
        now: Timestamp,
        from: Option<GeoPoint>,
    ) -> PublicStore {
        let rules = &store.profile.rules;
        let zone = rules.time_zone.zone();
        let local = now.to_zoned_datetime(zone.clone()).datetime();
        let in_hours = rules.hours.contains(local);
        let opens_at = (!in_hours)
            .then(|| rules.hours.next_start_at_or_after(local))
            .flatten();
        let next_change = rules
            .hours
            .next_change_after(local)
            .and_then(|l| l.to_zoned_datetime(zone.clone()).ok())
            .map(|z| z.timestamp());
        let (open_now, opens_at) = (
            in_hours && rules.accepting_orders,
            opens_at.map(|t| t.strftime("%Y-%m-%dT%H:%M").to_string()),
        );
        PublicStore {
            id: store.id,
            brand_id: store.brand_id,
            brand_name: brand_name.to_owned(),
            name: store.profile.name.clone(),
            name_en: store.profile.name_en.clone(),
            address: store.profile.address.clone(),
            phone: store.profile.phone.clone(),
            location: store.profile.location,
            time_zone: rules.time_zone.name().to_owned(),
            hours: rules.hours.clone(),
            open_now,
            opens_at,
            pay_mode: rules.pay_mode,
            packing_fee: rules.packing_fee,
            seat_fee_fen: rules.seat_fee_fen,
            distance_m: from.map(|p| p.distance_m(store.profile.location)),
            next_change,
        }
    }
}

/// Where a dish's images are: replace `{id}` with an id from `image_ids`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImageUrls {
    pub thumbnail: String,
    pub detail: String,
}

pub fn image_urls() -> ImageUrls {
    ImageUrls {
        thumbnail: "/images/{id}/thumbnail".into(),
        detail: "/images/{id}/detail".into(),
    }
}

/// Everything orderable at a store right now.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoreMenu {
    pub store: PublicStore,
    pub business_date: BusinessDate,
    /// The menu changes by itself at this instant (a time window opens or closes).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub valid_until: Option<Timestamp>,
    pub image_urls: ImageUrls,
    pub categories: Vec<PublicCategory>,
}
