//! The brand catalog (stations, categories, dishes with their SKUs), per-store menu settings,
//! dish images, and the all-or-nothing menu import. Every change bumps the brand's menu revision,
//! which is what the public menu cache keys on.

use crate::db::Db;
use crate::error::{Result, StorageError};
use crate::rows::{json, name, optional_name, to_json};
use crate::tx::Tx;
use diancan_domain::catalog::{
    Category, Dish, DishKind, DishStoreSettings, Sku, SkuStoreSettings, SkuStoreState, Station,
};
use diancan_domain::money::Money;
use diancan_domain::schedule::BusinessDate;
use diancan_domain::*;
use serde::Serialize;
use sqlx::FromRow;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

const BUMP_REVISION: &str = "UPDATE brands SET menu_revision = menu_revision + 1 WHERE id = $1";
const SELECT_REVISION: &str = "SELECT menu_revision FROM brands WHERE id = $1";

const INSERT_STATION: &str =
    "INSERT INTO stations (id, brand_id, name, name_en, sort_order) VALUES ($1, $2, $3, $4, $5)";
const SELECT_STATIONS: &str = "SELECT id, brand_id, name, name_en, sort_order FROM stations WHERE brand_id = $1 ORDER BY sort_order, name";

const INSERT_CATEGORY: &str = "INSERT INTO categories (id, brand_id, name, name_en, sort_order, availability_json) VALUES ($1, $2, $3, $4, $5, $6)";
const UPDATE_CATEGORY: &str = "UPDATE categories SET name = $3, name_en = $4, sort_order = $5, availability_json = $6 WHERE id = $1 AND brand_id = $2";
const DELETE_CATEGORY: &str = "DELETE FROM categories WHERE id = $1 AND brand_id = $2";
const CATEGORY_HAS_DISHES: &str =
    "SELECT COUNT(*) FROM dishes WHERE category_id = $1 AND brand_id = $2";
const SELECT_CATEGORIES: &str = "SELECT id, brand_id, name, name_en, sort_order, availability_json FROM categories WHERE brand_id = $1 ORDER BY sort_order, name";

const DISH_COLUMNS_INSERT: &str = "INSERT INTO dishes (id, brand_id, category_id, kind, name, name_en, description, description_en, tags_json, ingredients,
        allergens_json, calories_kcal, portion, sort_order, station_id, on_shelf, availability_json, image_ids_json, option_groups_json, combo_slots_json, created_at_ms, updated_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $21)";
const UPDATE_DISH: &str = "UPDATE dishes SET category_id = $3, kind = $4, name = $5, name_en = $6, description = $7, description_en = $8, tags_json = $9, ingredients = $10,
        allergens_json = $11, calories_kcal = $12, portion = $13, sort_order = $14, station_id = $15, on_shelf = $16, availability_json = $17, image_ids_json = $18,
        option_groups_json = $19, combo_slots_json = $20, updated_at_ms = $21
    WHERE id = $1 AND brand_id = $2";
const SELECT_DISHES: &str = "SELECT id, brand_id, category_id, kind, name, name_en, description, description_en, tags_json, ingredients, allergens_json, calories_kcal,
        portion, sort_order, station_id, on_shelf, availability_json, image_ids_json, option_groups_json, combo_slots_json
    FROM dishes WHERE brand_id = $1 ORDER BY sort_order, name";
const DELETE_DISH: &str = "DELETE FROM dishes WHERE id = $1 AND brand_id = $2";
const SELECT_SKUS: &str = "SELECT id, dish_id, code, name, name_en, price_fen FROM skus WHERE brand_id = $1 ORDER BY dish_id, position";
const SELECT_DISH_SKU_IDS: &str = "SELECT id FROM skus WHERE dish_id = $1";
const UPSERT_SKU: &str = "INSERT INTO skus (id, brand_id, dish_id, code, name, name_en, price_fen, position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name, name_en = excluded.name_en, price_fen = excluded.price_fen, position = excluded.position
    WHERE skus.dish_id = excluded.dish_id AND skus.brand_id = excluded.brand_id";
const DELETE_SKU: &str = "DELETE FROM skus WHERE id = $1";
// Combo slots are JSON on the combo dish, so "is this SKU in a combo" is a text search.
const SKU_IN_COMBO: &str =
    "SELECT COUNT(*) FROM dishes WHERE brand_id = $1 AND id <> $2 AND combo_slots_json LIKE $3";
const BRAND_OWNS_CATEGORY: &str = "SELECT COUNT(*) FROM categories WHERE id = $1 AND brand_id = $2";
const BRAND_OWNS_STATION: &str = "SELECT COUNT(*) FROM stations WHERE id = $1 AND brand_id = $2";
const BRAND_OWNS_IMAGE: &str = "SELECT COUNT(*) FROM images WHERE id = $1 AND brand_id = $2";
const BRAND_OWNS_SKU: &str = "SELECT COUNT(*) FROM skus WHERE id = $1 AND brand_id = $2";

const SELECT_DISH_SETTINGS: &str =
    "SELECT dish_id, listed FROM store_dish_settings WHERE store_id = $1";
const UPSERT_DISH_SETTING: &str = "INSERT INTO store_dish_settings (store_id, dish_id, listed)
    SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM dishes WHERE id = $2 AND brand_id = $4)
    ON CONFLICT (store_id, dish_id) DO UPDATE SET listed = excluded.listed";
const SELECT_SKU_STATES: &str = "SELECT sku_id, price_fen, stock, daily_limit, sold_count, sold_on, low_stock_threshold, sold_out FROM store_sku_states WHERE store_id = $1";
const UPSERT_SKU_SETTINGS: &str = "INSERT INTO store_sku_states (store_id, sku_id, price_fen, stock, daily_limit, sold_count, sold_on, low_stock_threshold, sold_out)
    SELECT $1, $2, $3, $4, $5, 0, NULL, $6, $7 WHERE EXISTS (SELECT 1 FROM skus WHERE id = $2 AND brand_id = $8)
    ON CONFLICT (store_id, sku_id) DO UPDATE SET price_fen = excluded.price_fen, stock = excluded.stock, daily_limit = excluded.daily_limit,
        low_stock_threshold = excluded.low_stock_threshold, sold_out = excluded.sold_out";

const INSERT_IMAGE: &str = "INSERT INTO images (id, brand_id, thumbnail, detail, width, height, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)";
const SELECT_THUMBNAIL: &str = "SELECT thumbnail FROM images WHERE id = $1";
const SELECT_DETAIL: &str = "SELECT detail FROM images WHERE id = $1";

/// A processed dish photo ready to store.
pub struct ImageData {
    pub id: ImageId,
    pub thumbnail: Vec<u8>,
    pub detail: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// One store's layer over the brand menu.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StoreMenuSettings {
    pub dish_settings: HashMap<DishId, DishStoreSettings>,
    pub sku_states: HashMap<SkuId, SkuStoreState>,
}

/// A whole menu file, already resolved to ids and validated, to apply in one transaction.
#[derive(Debug, Default)]
pub struct MenuImport {
    pub new_stations: Vec<Station>,
    pub new_categories: Vec<Category>,
    pub updated_categories: Vec<Category>,
    /// Dishes with `true` when they are new.
    pub dishes: Vec<(Dish, bool)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MenuImportReport {
    pub categories_created: usize,
    pub dishes_created: usize,
    pub dishes_updated: usize,
}

#[derive(FromRow)]
struct StationRow {
    id: Uuid,
    brand_id: Uuid,
    name: String,
    name_en: Option<String>,
    sort_order: i64,
}

#[derive(FromRow)]
struct CategoryRow {
    id: Uuid,
    brand_id: Uuid,
    name: String,
    name_en: Option<String>,
    sort_order: i64,
    availability_json: String,
}

#[derive(FromRow)]
struct DishRow {
    id: Uuid,
    brand_id: Uuid,
    category_id: Uuid,
    kind: String,
    name: String,
    name_en: Option<String>,
    description: Option<String>,
    description_en: Option<String>,
    tags_json: String,
    ingredients: Option<String>,
    allergens_json: String,
    calories_kcal: Option<i64>,
    portion: Option<String>,
    sort_order: i64,
    station_id: Option<Uuid>,
    on_shelf: bool,
    availability_json: String,
    image_ids_json: String,
    option_groups_json: String,
    combo_slots_json: String,
}

#[derive(FromRow)]
struct SkuRow {
    id: Uuid,
    dish_id: Uuid,
    code: String,
    name: Option<String>,
    name_en: Option<String>,
    price_fen: i64,
}

#[derive(FromRow)]
pub(crate) struct SkuStateRow {
    sku_id: Uuid,
    price_fen: Option<i64>,
    stock: Option<i64>,
    daily_limit: Option<i64>,
    sold_count: i64,
    sold_on: Option<String>,
    low_stock_threshold: Option<i64>,
    sold_out: bool,
}

impl TryFrom<CategoryRow> for Category {
    type Error = StorageError;
    fn try_from(r: CategoryRow) -> Result<Self> {
        Ok(Category {
            id: CategoryId::from_uuid(r.id),
            brand_id: BrandId::from_uuid(r.brand_id),
            name: name(r.name)?,
            name_en: r.name_en,
            sort_order: r.sort_order,
            availability: json(&r.availability_json)?,
        })
    }
}

fn dish_from(r: DishRow, skus: Vec<Sku>) -> Result<Dish> {
    Ok(Dish {
        id: DishId::from_uuid(r.id),
        brand_id: BrandId::from_uuid(r.brand_id),
        category_id: CategoryId::from_uuid(r.category_id),
        kind: DishKind::parse(&r.kind)
            .ok_or_else(|| StorageError::Corrupt(format!("dish kind {:?}", r.kind)))?,
        name: name(r.name)?,
        name_en: r.name_en,
        description: r.description,
        description_en: r.description_en,
        tags: json(&r.tags_json)?,
        ingredients: r.ingredients,
        allergens: json(&r.allergens_json)?,
        calories_kcal: r.calories_kcal,
        portion: r.portion,
        sort_order: r.sort_order,
        station_id: r.station_id.map(StationId::from_uuid),
        on_shelf: r.on_shelf,
        availability: json(&r.availability_json)?,
        image_ids: json(&r.image_ids_json)?,
        skus,
        option_groups: json(&r.option_groups_json)?,
        combo_slots: json(&r.combo_slots_json)?,
    })
}

pub(crate) fn sku_state_from(r: SkuStateRow) -> Result<(SkuId, SkuStoreState)> {
    let sold_on = match r.sold_on {
        Some(text) => {
            Some(BusinessDate::from_date(text.parse().map_err(|_| {
                StorageError::Corrupt(format!("sold_on {text:?}"))
            })?))
        }
        None => None,
    };
    Ok((
        SkuId::from_uuid(r.sku_id),
        SkuStoreState {
            price_fen: r.price_fen.map(Money::from_fen),
            stock: r.stock,
            daily_limit: r.daily_limit,
            sold_count: r.sold_count,
            sold_on,
            low_stock_threshold: r.low_stock_threshold,
            sold_out: r.sold_out,
        },
    ))
}

pub(crate) async fn bump_menu_revision(tx: &mut Tx, brand_id: BrandId) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(BUMP_REVISION)
        .bind(brand_id.as_uuid())
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Counts rows of an ownership or reference check inside a transaction.
async fn count_in(tx: &mut Tx, sql: &'static str, a: Uuid, b: Uuid) -> Result<i64> {
    let (n,): (i64,) = on_tx!(tx, |c| sqlx::query_as(sql)
        .bind(a)
        .bind(b)
        .fetch_one(&mut *c)
        .await)?;
    Ok(n)
}

async fn require_owned(
    tx: &mut Tx,
    sql: &'static str,
    id: Uuid,
    brand_id: BrandId,
    what: &'static str,
) -> Result<()> {
    if count_in(tx, sql, id, brand_id.as_uuid()).await? == 0 {
        return Err(StorageError::Refused(what));
    }
    Ok(())
}

async fn insert_category(tx: &mut Tx, category: &Category) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(INSERT_CATEGORY)
        .bind(category.id.as_uuid())
        .bind(category.brand_id.as_uuid())
        .bind(category.name.as_str())
        .bind(&category.name_en)
        .bind(category.sort_order)
        .bind(to_json(&category.availability))
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

async fn update_category_in(tx: &mut Tx, category: &Category) -> Result<()> {
    let done = on_tx!(tx, |c| sqlx::query(UPDATE_CATEGORY)
        .bind(category.id.as_uuid())
        .bind(category.brand_id.as_uuid())
        .bind(category.name.as_str())
        .bind(&category.name_en)
        .bind(category.sort_order)
        .bind(to_json(&category.availability))
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    if done == 0 {
        return Err(StorageError::NotFound);
    }
    Ok(())
}

async fn insert_station(tx: &mut Tx, station: &Station) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(INSERT_STATION)
        .bind(station.id.as_uuid())
        .bind(station.brand_id.as_uuid())
        .bind(station.name.as_str())
        .bind(&station.name_en)
        .bind(station.sort_order)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Writes one dish and its SKUs inside `tx`, checking every reference belongs to the dish's brand.
async fn save_dish_in(tx: &mut Tx, dish: &Dish, is_new: bool, now_ms: i64) -> Result<()> {
    let brand = dish.brand_id;
    require_owned(
        tx,
        BRAND_OWNS_CATEGORY,
        dish.category_id.as_uuid(),
        brand,
        "UNKNOWN_CATEGORY",
    )
    .await?;
    if let Some(station) = dish.station_id {
        require_owned(
            tx,
            BRAND_OWNS_STATION,
            station.as_uuid(),
            brand,
            "UNKNOWN_STATION",
        )
        .await?;
    }
    for image in &dish.image_ids {
        require_owned(
            tx,
            BRAND_OWNS_IMAGE,
            image.as_uuid(),
            brand,
            "UNKNOWN_IMAGE",
        )
        .await?;
    }
    for choice in dish.combo_slots.iter().flat_map(|s| &s.choices) {
        require_owned(
            tx,
            BRAND_OWNS_SKU,
            choice.sku_id.as_uuid(),
            brand,
            "UNKNOWN_SKU",
        )
        .await?;
    }
    let sql = if is_new {
        DISH_COLUMNS_INSERT
    } else {
        UPDATE_DISH
    };
    let done = on_tx!(tx, |c| sqlx::query(sql)
        .bind(dish.id.as_uuid())
        .bind(brand.as_uuid())
        .bind(dish.category_id.as_uuid())
        .bind(dish.kind.as_str())
        .bind(dish.name.as_str())
        .bind(&dish.name_en)
        .bind(&dish.description)
        .bind(&dish.description_en)
        .bind(to_json(&dish.tags))
        .bind(&dish.ingredients)
        .bind(to_json(&dish.allergens))
        .bind(dish.calories_kcal)
        .bind(&dish.portion)
        .bind(dish.sort_order)
        .bind(dish.station_id.map(|s| s.as_uuid()))
        .bind(dish.on_shelf)
        .bind(to_json(&dish.availability))
        .bind(to_json(&dish.image_ids))
        .bind(to_json(&dish.option_groups))
        .bind(to_json(&dish.combo_slots))
        .bind(now_ms)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    if done == 0 {
        return Err(StorageError::NotFound);
    }

    let existing: Vec<(Uuid,)> = on_tx!(tx, |c| sqlx::query_as(SELECT_DISH_SKU_IDS)
        .bind(dish.id.as_uuid())
        .fetch_all(&mut *c)
        .await)?;
    let kept: HashSet<Uuid> = dish.skus.iter().map(|s| s.id.as_uuid()).collect();
    for (gone,) in existing.into_iter().filter(|(id,)| !kept.contains(id)) {
        let pattern = format!("%{gone}%");
        let (uses,): (i64,) = on_tx!(tx, |c| sqlx::query_as(SKU_IN_COMBO)
            .bind(brand.as_uuid())
            .bind(dish.id.as_uuid())
            .bind(&pattern)
            .fetch_one(&mut *c)
            .await)?;
        if uses > 0 {
            return Err(StorageError::Refused("SKU_IN_COMBO"));
        }
        on_tx!(tx, |c| sqlx::query(DELETE_SKU)
            .bind(gone)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    for (position, sku) in dish.skus.iter().enumerate() {
        let done = on_tx!(tx, |c| sqlx::query(UPSERT_SKU)
            .bind(sku.id.as_uuid())
            .bind(brand.as_uuid())
            .bind(dish.id.as_uuid())
            .bind(&sku.code)
            .bind(sku.name.as_ref().map(|n| n.as_str()))
            .bind(&sku.name_en)
            .bind(sku.price_fen.fen())
            .bind(position as i64)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if done == 0 {
            // The id belongs to another dish or brand: never let a draft move someone else's SKU.
            return Err(StorageError::Refused("UNKNOWN_SKU"));
        }
    }
    Ok(())
}

impl Db {
    /// The brand's menu revision; it changes with every catalog or store-menu edit.
    pub async fn menu_revision(&self, brand_id: BrandId) -> Result<i64> {
        let (revision,): (i64,) = on_pool!(self, |p| sqlx::query_as(SELECT_REVISION)
            .bind(brand_id.as_uuid())
            .fetch_one(p)
            .await)?;
        Ok(revision)
    }

    pub async fn create_station(&self, station: &Station) -> Result<()> {
        let mut tx = self.begin().await?;
        insert_station(&mut tx, station).await?;
        bump_menu_revision(&mut tx, station.brand_id).await?;
        tx.commit().await
    }

    pub async fn stations(&self, brand_id: BrandId) -> Result<Vec<Station>> {
        let rows: Vec<StationRow> = on_pool!(self, |p| sqlx::query_as(SELECT_STATIONS)
            .bind(brand_id.as_uuid())
            .fetch_all(p)
            .await)?;
        rows.into_iter()
            .map(|r| {
                Ok(Station {
                    id: StationId::from_uuid(r.id),
                    brand_id: BrandId::from_uuid(r.brand_id),
                    name: name(r.name)?,
                    name_en: r.name_en,
                    sort_order: r.sort_order,
                })
            })
            .collect()
    }

    pub async fn create_category(&self, category: &Category) -> Result<()> {
        let mut tx = self.begin().await?;
        insert_category(&mut tx, category).await?;
        bump_menu_revision(&mut tx, category.brand_id).await?;
        tx.commit().await
    }

    pub async fn update_category(&self, category: &Category) -> Result<()> {
        let mut tx = self.begin().await?;
        update_category_in(&mut tx, category).await?;
        bump_menu_revision(&mut tx, category.brand_id).await?;
        tx.commit().await
    }

    /// Deletes an empty category; one that still holds dishes is refused, not emptied.
    pub async fn delete_category(&self, brand_id: BrandId, id: CategoryId) -> Result<()> {
        let mut tx = self.begin().await?;
        let (dishes,): (i64,) = on_tx!(&mut tx, |c| sqlx::query_as(CATEGORY_HAS_DISHES)
            .bind(id.as_uuid())
            .bind(brand_id.as_uuid())
            .fetch_one(&mut *c)
            .await)?;
        if dishes > 0 {
            return Err(StorageError::Refused("CATEGORY_NOT_EMPTY"));
        }
        let done = on_tx!(&mut tx, |c| sqlx::query(DELETE_CATEGORY)
            .bind(id.as_uuid())
            .bind(brand_id.as_uuid())
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(StorageError::NotFound);
        }
        bump_menu_revision(&mut tx, brand_id).await?;
        tx.commit().await
    }

    pub async fn categories(&self, brand_id: BrandId) -> Result<Vec<Category>> {
        let rows: Vec<CategoryRow> = on_pool!(self, |p| sqlx::query_as(SELECT_CATEGORIES)
            .bind(brand_id.as_uuid())
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(Category::try_from).collect()
    }

    /// Every dish of the brand with its SKUs, in menu order.
    pub async fn dishes(&self, brand_id: BrandId) -> Result<Vec<Dish>> {
        let (dish_rows, sku_rows): (Vec<DishRow>, Vec<SkuRow>) = on_pool!(self, |p| {
            let dishes = sqlx::query_as(SELECT_DISHES)
                .bind(brand_id.as_uuid())
                .fetch_all(p)
                .await?;
            let skus = sqlx::query_as(SELECT_SKUS)
                .bind(brand_id.as_uuid())
                .fetch_all(p)
                .await?;
            Ok::<_, sqlx::Error>((dishes, skus))
        })?;
        let mut skus_by_dish: HashMap<Uuid, Vec<Sku>> = HashMap::new();
        for r in sku_rows {
            skus_by_dish.entry(r.dish_id).or_default().push(Sku {
                id: SkuId::from_uuid(r.id),
                code: r.code,
                name: optional_name(r.name)?,
                name_en: r.name_en,
                price_fen: Money::from_fen(r.price_fen),
            });
        }
        dish_rows
            .into_iter()
            .map(|r| {
                let skus = skus_by_dish.remove(&r.id).unwrap_or_default();
                dish_from(r, skus)
            })
            .collect()
    }

    pub async fn dish(&self, brand_id: BrandId, id: DishId) -> Result<Dish> {
        self.dishes(brand_id)
            .await?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or(StorageError::NotFound)
    }

    /// Creates (`is_new`) or replaces a dish with its SKUs.
    pub async fn save_dish(&self, dish: &Dish, is_new: bool, now_ms: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        save_dish_in(&mut tx, dish, is_new, now_ms).await?;
        bump_menu_revision(&mut tx, dish.brand_id).await?;
        tx.commit().await
    }

    pub async fn delete_dish(&self, brand_id: BrandId, id: DishId) -> Result<()> {
        let mut tx = self.begin().await?;
        let sku_ids: Vec<(Uuid,)> = on_tx!(&mut tx, |c| sqlx::query_as(SELECT_DISH_SKU_IDS)
            .bind(id.as_uuid())
            .fetch_all(&mut *c)
            .await)?;
        for (sku,) in sku_ids {
            let pattern = format!("%{sku}%");
            let (uses,): (i64,) = on_tx!(&mut tx, |c| sqlx::query_as(SKU_IN_COMBO)
                .bind(brand_id.as_uuid())
                .bind(id.as_uuid())
                .bind(&pattern)
                .fetch_one(&mut *c)
                .await)?;
            if uses > 0 {
                return Err(StorageError::Refused("SKU_IN_COMBO"));
            }
        }
        let done = on_tx!(&mut tx, |c| sqlx::query(DELETE_DISH)
            .bind(id.as_uuid())
            .bind(brand_id.as_uuid())
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(StorageError::NotFound);
        }
        bump_menu_revision(&mut tx, brand_id).await?;
        tx.commit().await
    }

    /// Every SKU id of the brand, which a combo may refer to.
    pub async fn brand_sku_ids(&self, brand_id: BrandId) -> Result<HashSet<SkuId>> {
        Ok(self
            .dishes(brand_id)
            .await?
            .iter()
            .flat_map(|d| d.skus.iter().map(|s| s.id))
            .collect())
    }

    pub async fn store_menu_settings(&self, store_id: StoreId) -> Result<StoreMenuSettings> {
        let (dish_rows, state_rows): (Vec<(Uuid, bool)>, Vec<SkuStateRow>) = on_pool!(self, |p| {
            let dishes = sqlx::query_as(SELECT_DISH_SETTINGS)
                .bind(store_id.as_uuid())
                .fetch_all(p)
                .await?;
            let states = sqlx::query_as(SELECT_SKU_STATES)
                .bind(store_id.as_uuid())
                .fetch_all(p)
                .await?;
            Ok::<_, sqlx::Error>((dishes, states))
        })?;
        Ok(StoreMenuSettings {
            dish_settings: dish_rows
                .into_iter()
                .map(|(id, listed)| (DishId::from_uuid(id), DishStoreSettings { listed }))
                .collect(),
            sku_states: state_rows
                .into_iter()
                .map(sku_state_from)
                .collect::<Result<_>>()?,
        })
    }

    /// Whether `store_id` (of `brand_id`) sells a dish at all.
    pub async fn set_dish_listed(
        &self,
        brand_id: BrandId,
        store_id: StoreId,
        dish_id: DishId,
        listed: bool,
    ) -> Result<()> {
        self.store_in_brand(brand_id, store_id).await?;
        let mut tx = self.begin().await?;
        let done = on_tx!(&mut tx, |c| sqlx::query(UPSERT_DISH_SETTING)
            .bind(store_id.as_uuid())
            .bind(dish_id.as_uuid())
            .bind(listed)
            .bind(brand_id.as_uuid())
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(StorageError::NotFound);
        }
        bump_menu_revision(&mut tx, brand_id).await?;
        tx.commit().await
    }

    /// Sets a store's price, stock, daily limit and 沽清 for one SKU. Today's sold count is kept.
    pub async fn set_sku_settings(
        &self,
        brand_id: BrandId,
        store_id: StoreId,
        sku_id: SkuId,
        settings: &SkuStoreSettings,
    ) -> Result<()> {
        self.store_in_brand(brand_id, store_id).await?;
        let mut tx = self.begin().await?;
        let done = on_tx!(&mut tx, |c| sqlx::query(UPSERT_SKU_SETTINGS)
            .bind(store_id.as_uuid())
            .bind(sku_id.as_uuid())
            .bind(settings.price_fen.map(Money::fen))
            .bind(settings.stock)
            .bind(settings.daily_limit)
            .bind(settings.low_stock_threshold)
            .bind(settings.sold_out)
            .bind(brand_id.as_uuid())
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(StorageError::NotFound);
        }
        bump_menu_revision(&mut tx, brand_id).await?;
        tx.commit().await
    }

    pub async fn save_image(
        &self,
        brand_id: BrandId,
        image: &ImageData,
        now_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, |c| sqlx::query(INSERT_IMAGE)
            .bind(image.id.as_uuid())
            .bind(brand_id.as_uuid())
            .bind(&image.thumbnail)
            .bind(&image.detail)
            .bind(image.width as i64)
            .bind(image.height as i64)
            .bind(now_ms)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        tx.commit().await
    }

    /// The JPEG bytes of an image: the square thumbnail or the large detail picture.
    pub async fn image_bytes(&self, id: ImageId, thumbnail: bool) -> Result<Vec<u8>> {
        let sql = if thumbnail {
            SELECT_THUMBNAIL
        } else {
            SELECT_DETAIL
        };
        let (bytes,): (Vec<u8>,) = on_pool!(self, |p| sqlx::query_as(sql)
            .bind(id.as_uuid())
            .fetch_one(p)
            .await)?;
        Ok(bytes)
    }

    /// Applies a whole imported menu or nothing at all.
    pub async fn import_menu(
        &self,
        brand_id: BrandId,
        import: &MenuImport,
        now_ms: i64,
    ) -> Result<MenuImportReport> {
        let mut tx = self.begin().await?;
        for station in &import.new_stations {
            insert_station(&mut tx, station).await?;
        }
        for category in &import.new_categories {
            insert_category(&mut tx, category).await?;
        }
        for category in &import.updated_categories {
            update_category_in(&mut tx, category).await?;
        }
        for (dish, is_new) in &import.dishes {
            if dish.brand_id != brand_id {
                return Err(StorageError::NotFound);
            }
            save_dish_in(&mut tx, dish, *is_new, now_ms).await?;
        }
        bump_menu_revision(&mut tx, brand_id).await?;
        tx.commit().await?;
        let created = import.dishes.iter().filter(|(_, new)| *new).count();
        Ok(MenuImportReport {
            categories_created: import.new_categories.len(),
            dishes_created: created,
            dishes_updated: import.dishes.len() - created,
        })
    }
}
