//! Brands, their stores, and the areas and tables inside a store.

use crate::db::Db;
use crate::error::{Result, StorageError};
use crate::rows::to_json;
use diancan_domain::store::{GeoPoint, StoreRules};
use diancan_domain::validation::{FieldError, FieldErrors, Problem};
use diancan_domain::{AreaId, BrandId, StoreId, TableId};
use serde::Serialize;
use sqlx::FromRow;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Brand {
    pub id: BrandId,
    pub name: String,
    pub slug: String,
}

/// What a merchant edits about a store.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct StoreProfile {
    pub name: String,
    pub name_en: Option<String>,
    pub address: String,
    pub phone: Option<String>,
    pub location: GeoPoint,
    pub rules: StoreRules,
}

pub type NewStore = StoreProfile;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Store {
    pub id: StoreId,
    pub brand_id: BrandId,
    pub profile: StoreProfile,
}

/// A store row that no longer reads as a valid store (edited by hand, or saved before a rule
/// existed). Kept apart so one bad row costs that one store, never every list it is in, and
/// the owner can still open it and save a repaired profile over it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DamagedStore {
    pub id: StoreId,
    pub brand_id: BrandId,
    /// What the row holds, as far as it can be read.
    pub stored: StoredProfile,
    /// Each field that fails, by its path in the profile (`location.latitude_e6`, `rules`).
    pub problems: Vec<FieldError>,
}

/// A store's profile as its row holds it, where the domain types refuse it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredProfile {
    pub name: String,
    pub name_en: Option<String>,
    pub address: String,
    pub phone: Option<String>,
    /// `None` when the stored coordinates are off the globe.
    pub location: Option<GeoPoint>,
    /// `None` when the stored rules cannot be read.
    pub rules: Option<StoreRules>,
}

/// A store as read: sound, or damaged with what is wrong.
pub type StoreEntry = std::result::Result<Store, Box<DamagedStore>>;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Area {
    pub id: AreaId,
    pub store_id: StoreId,
    pub name: String,
    pub sort_order: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiningTable {
    pub id: TableId,
    pub store_id: StoreId,
    pub area_id: AreaId,
    pub code: String,
    pub seats: i64,
    pub qr_token: String,
}

pub(crate) const INSERT_BRAND: &str =
    "INSERT INTO brands (id, name, slug, menu_revision, created_at_ms) VALUES ($1, $2, $3, 0, $4)";
const SELECT_BRAND: &str = "SELECT id, name, slug FROM brands WHERE id = $1";
const SELECT_BRANDS: &str = "SELECT id, name, slug FROM brands ORDER BY created_at_ms";
const INSERT_STORE: &str = "INSERT INTO stores (id, brand_id, name, name_en, address, phone, latitude_e6, longitude_e6, rules_json, created_at_ms, updated_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)";
const UPDATE_STORE: &str = "UPDATE stores SET name = $3, name_en = $4, address = $5, phone = $6, latitude_e6 = $7, longitude_e6 = $8, rules_json = $9, updated_at_ms = $10
    WHERE id = $1 AND brand_id = $2";
const SELECT_STORE: &str = "SELECT id, brand_id, name, name_en, address, phone, latitude_e6, longitude_e6, rules_json FROM stores WHERE id = $1";
const SELECT_BRAND_STORES: &str = "SELECT id, brand_id, name, name_en, address, phone, latitude_e6, longitude_e6, rules_json FROM stores WHERE brand_id = $1 ORDER BY created_at_ms, name";
const SELECT_ALL_STORES: &str = "SELECT id, brand_id, name, name_en, address, phone, latitude_e6, longitude_e6, rules_json FROM stores ORDER BY created_at_ms, name";
const INSERT_AREA: &str =
    "INSERT INTO areas (id, brand_id, store_id, name, sort_order) VALUES ($1, $2, $3, $4, $5)";
const SELECT_AREAS: &str = "SELECT id, store_id, name, sort_order FROM areas WHERE brand_id = $1 AND store_id = $2 ORDER BY sort_order, name";
const INSERT_TABLE: &str = "INSERT INTO dining_tables (id, brand_id, store_id, area_id, code, seats, qr_token)
    SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM areas WHERE id = $4 AND store_id = $3 AND brand_id = $2)";
const SELECT_TABLES: &str = "SELECT id, store_id, area_id, code, seats, qr_token FROM dining_tables WHERE brand_id = $1 AND store_id = $2 ORDER BY code";
const SELECT_TABLE_BY_TOKEN: &str =
    "SELECT id, store_id, area_id, code, seats, qr_token FROM dining_tables WHERE qr_token = $1";

#[derive(FromRow)]
struct BrandRow {
    id: Uuid,
    name: String,
    slug: String,
}

#[derive(FromRow)]
struct StoreRow {
    id: Uuid,
    brand_id: Uuid,
    name: String,
    name_en: Option<String>,
    address: String,
    phone: Option<String>,
    latitude_e6: i64,
    longitude_e6: i64,
    rules_json: String,
}

#[derive(FromRow)]
struct AreaRow {
    id: Uuid,
    store_id: Uuid,
    name: String,
    sort_order: i64,
}

#[derive(FromRow)]
struct TableRow {
    id: Uuid,
    store_id: Uuid,
    area_id: Uuid,
    code: String,
    seats: i64,
    qr_token: String,
}

impl From<BrandRow> for Brand {
    fn from(r: BrandRow) -> Self {
        Brand {
            id: BrandId::from_uuid(r.id),
            name: r.name,
            slug: r.slug,
        }
    }
}

impl StoreRow {
    /// The store, or what of it can be read and which fields fail.
    fn into_entry(self) -> StoreEntry {
        let mut problems = FieldErrors::new();
        let location = GeoPoint::parse(self.latitude_e6, self.longitude_e6)
            .map_err(|errors| problems.absorb("location", errors))
            .ok();
        let rules = serde_json::from_str::<StoreRules>(&self.rules_json)
            .map_err(|_| problems.add("rules", Problem::Unreadable))
            .ok();
        let id = StoreId::from_uuid(self.id);
        let brand_id = BrandId::from_uuid(self.brand_id);
        let stored = StoredProfile {
            name: self.name,
            name_en: self.name_en,
            address: self.address,
            phone: self.phone,
            location,
            rules,
        };
        match (stored.location, stored.rules) {
            (Some(location), Some(rules)) => Ok(Store {
                id,
                brand_id,
                profile: StoreProfile {
                    name: stored.name,
                    name_en: stored.name_en,
                    address: stored.address,
                    phone: stored.phone,
                    location,
                    rules,
                },
            }),
            (location, rules) => {
                let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
                tracing::warn!(store_id = %id, ?fields, "store row does not read as a store; left out until repaired");
                Err(Box::new(DamagedStore {
                    id,
                    brand_id,
                    stored: StoredProfile {
                        location,
                        rules,
                        ..stored
                    },
                    problems: problems.into_vec(),
                }))
            }
        }
    }
}

impl From<AreaRow> for Area {
    fn from(r: AreaRow) -> Self {
        Area {
            id: AreaId::from_uuid(r.id),
            store_id: StoreId::from_uuid(r.store_id),
            name: r.name,
            sort_order: r.sort_order,
        }
    }
}

impl From<TableRow> for DiningTable {
    fn from(r: TableRow) -> Self {
        DiningTable {
            id: TableId::from_uuid(r.id),
            store_id: StoreId::from_uuid(r.store_id),
            area_id: AreaId::from_uuid(r.area_id),
            code: r.code,
            seats: r.seats,
            qr_token: r.qr_token,
        }
    }
}

impl Db {
    pub async fn create_brand(&self, name: &str, slug: &str, now_ms: i64) -> Result<Brand> {
        let id = BrandId::new();
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(INSERT_BRAND)
            .bind(id.as_uuid())
            .bind(name)
            .bind(slug)
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(Brand {
            id,
            name: name.to_owned(),
            slug: slug.to_owned(),
        })
    }

    pub async fn brand(&self, id: BrandId) -> Result<Brand> {
        let row: BrandRow = on_pool!(self, |p| sqlx::query_as(SELECT_BRAND)
            .bind(id.as_uuid())
            .fetch_one(p)
            .await)?;
        Ok(row.into())
    }

    pub async fn brands(&self) -> Result<Vec<Brand>> {
        let rows: Vec<BrandRow> =
            on_pool!(self, |p| sqlx::query_as(SELECT_BRANDS).fetch_all(p).await)?;
        Ok(rows.into_iter().map(Brand::from).collect())
    }

    pub async fn create_store(
        &self,
        brand_id: BrandId,
        profile: &StoreProfile,
        now_ms: i64,
    ) -> Result<Store> {
        let id = StoreId::new();
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(INSERT_STORE)
            .bind(id.as_uuid())
            .bind(brand_id.as_uuid())
            .bind(&profile.name)
            .bind(&profile.name_en)
            .bind(&profile.address)
            .bind(&profile.phone)
            .bind(profile.location.latitude_e6() as i64)
            .bind(profile.location.longitude_e6() as i64)
            .bind(to_json(&profile.rules))
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(Store {
            id,
            brand_id,
            profile: profile.clone(),
        })
    }

    /// Replaces a store's profile; the store must belong to `brand_id`.
    pub async fn update_store(
        &self,
        brand_id: BrandId,
        store_id: StoreId,
        profile: &StoreProfile,
        now_ms: i64,
    ) -> Result<Store> {
        let mut tx = self.begin().await?;
        let done = on_tx!(&mut tx, |c| sqlx::query(UPDATE_STORE)
            .bind(store_id.as_uuid())
            .bind(brand_id.as_uuid())
            .bind(&profile.name)
            .bind(&profile.name_en)
            .bind(&profile.address)
            .bind(&profile.phone)
            .bind(profile.location.latitude_e6() as i64)
            .bind(profile.location.longitude_e6() as i64)
            .bind(to_json(&profile.rules))
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(StorageError::NotFound);
        }
        // Hours and fees change what the public menu says.
        crate::catalog::bump_menu_revision(&mut tx, brand_id).await?;
        tx.commit().await?;
        Ok(Store {
            id: store_id,
            brand_id,
            profile: profile.clone(),
        })
    }

    /// Any store by id, sound or damaged: what the owner's console opens to repair a store.
    pub async fn store_entry(&self, id: StoreId) -> Result<StoreEntry> {
        let row: StoreRow = on_pool!(self, |p| sqlx::query_as(SELECT_STORE)
            .bind(id.as_uuid())
            .fetch_one(p)
            .await)?;
        Ok(row.into_entry())
    }

    /// Any store by id: for public pages, which are not scoped to a brand.
    /// A damaged store is `StoreDamaged`: that store is unavailable, nothing else is.
    pub async fn store(&self, id: StoreId) -> Result<Store> {
        self.store_entry(id)
            .await?
            .map_err(|damaged| StorageError::StoreDamaged(damaged.id))
    }

    /// A store, sound or damaged, only if it belongs to `brand_id`.
    pub async fn store_entry_in_brand(&self, brand_id: BrandId, id: StoreId) -> Result<StoreEntry> {
        let entry = self.store_entry(id).await?;
        let owner = match &entry {
            Ok(store) => store.brand_id,
            Err(damaged) => damaged.brand_id,
        };
        if owner != brand_id {
            return Err(StorageError::NotFound);
        }
        Ok(entry)
    }

    /// A store only if it belongs to `brand_id`: what every staff request uses.
    pub async fn store_in_brand(&self, brand_id: BrandId, id: StoreId) -> Result<Store> {
        self.store_entry_in_brand(brand_id, id)
            .await?
            .map_err(|damaged| StorageError::StoreDamaged(damaged.id))
    }

    /// Every store of the brand, damaged ones included, so the console can list and repair them.
    pub async fn stores_of_brand(&self, brand_id: BrandId) -> Result<Vec<StoreEntry>> {
        let rows: Vec<StoreRow> = on_pool!(self, |p| sqlx::query_as(SELECT_BRAND_STORES)
            .bind(brand_id.as_uuid())
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(StoreRow::into_entry).collect())
    }

    /// Every sound store, for the public directory: a damaged one is left out (and logged).
    pub async fn all_stores(&self) -> Result<Vec<Store>> {
        let rows: Vec<StoreRow> = on_pool!(self, |p| sqlx::query_as(SELECT_ALL_STORES)
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .filter_map(|row| row.into_entry().ok())
            .collect())
    }

    pub async fn create_area(
        &self,
        brand_id: BrandId,
        store_id: StoreId,
        name: &str,
        sort_order: i64,
    ) -> Result<Area> {
        self.store_in_brand(brand_id, store_id).await?;
        let id = AreaId::new();
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(INSERT_AREA)
            .bind(id.as_uuid())
            .bind(brand_id.as_uuid())
            .bind(store_id.as_uuid())
            .bind(name)
            .bind(sort_order)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(Area {
            id,
            store_id,
            name: name.to_owned(),
            sort_order,
        })
    }

    /// The name of one area ("大厅"), as an order placed there records it.
    pub async fn area_name(&self, brand_id: BrandId, area_id: AreaId) -> Result<String> {
        const SELECT_AREA_NAME: &str = "SELECT name FROM areas WHERE id = $1 AND brand_id = $2";
        let (name,): (String,) = on_pool!(self, |p| sqlx::query_as(SELECT_AREA_NAME)
            .bind(area_id.as_uuid())
            .bind(brand_id.as_uuid())
            .fetch_one(p)
            .await)?;
        Ok(name)
    }

    pub async fn areas(&self, brand_id: BrandId, store_id: StoreId) -> Result<Vec<Area>> {
        let rows: Vec<AreaRow> = on_pool!(self, |p| sqlx::query_as(SELECT_AREAS)
            .bind(brand_id.as_uuid())
            .bind(store_id.as_uuid())
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(Area::from).collect())
    }

    /// Adds a table to an area of the store. `qr_token` is made by the caller (it signs it).
    pub async fn create_table(
        &self,
        brand_id: BrandId,
        table: &DiningTable,
    ) -> Result<DiningTable> {
        let DiningTable {
            id,
            store_id,
            area_id,
            code,
            seats,
            qr_token,
        } = table.clone();
        let mut tx = self.begin().await?;
        let done = on_tx!(&mut tx, |c| sqlx::query(INSERT_TABLE)
            .bind(id.as_uuid())
            .bind(brand_id.as_uuid())
            .bind(store_id.as_uuid())
            .bind(area_id.as_uuid())
            .bind(&code)
            .bind(seats)
            .bind(&qr_token)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(StorageError::NotFound);
        }
        tx.commit().await?;
        Ok(table.clone())
    }

    pub async fn tables(&self, brand_id: BrandId, store_id: StoreId) -> Result<Vec<DiningTable>> {
        let rows: Vec<TableRow> = on_pool!(self, |p| sqlx::query_as(SELECT_TABLES)
            .bind(brand_id.as_uuid())
            .bind(store_id.as_uuid())
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(DiningTable::from).collect())
    }

    pub async fn table_by_token(&self, token: &str) -> Result<DiningTable> {
        let row: TableRow = on_pool!(self, |p| sqlx::query_as(SELECT_TABLE_BY_TOKEN)
            .bind(token)
            .fetch_one(p)
            .await)?;
        Ok(row.into())
    }
}

const INSERT_SECRET: &str =
    "INSERT INTO server_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
const SELECT_SECRET: &str = "SELECT secret FROM server_secrets WHERE name = $1";

impl Db {
    /// The named server secret, storing `candidate` first if there is none yet.
    /// Every instance on the same database ends up with the same value.
    pub async fn server_secret(&self, name: &str, candidate: &[u8]) -> Result<Vec<u8>> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(INSERT_SECRET)
            .bind(name)
            .bind(candidate)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        let (secret,): (Vec<u8>,) = on_tx!(&mut tx, |c| sqlx::query_as(SELECT_SECRET)
            .bind(name)
            .fetch_one(&mut *c)
            .await)?;
        tx.commit().await?;
        Ok(secret)
    }
}

const UPDATE_TABLE_TOKEN: &str =
    "UPDATE dining_tables SET qr_token = $3 WHERE id = $1 AND brand_id = $2";

impl Db {
    /// Replaces a table's QR token; the old code stops matching any table.
    pub async fn set_table_token(
        &self,
        brand_id: BrandId,
        table: TableId,
        token: &str,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let changed = on_tx!(&mut tx, |c| sqlx::query(UPDATE_TABLE_TOKEN)
            .bind(table.as_uuid())
            .bind(brand_id.as_uuid())
            .bind(token)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Err(StorageError::NotFound);
        }
        tx.commit().await
    }
}
