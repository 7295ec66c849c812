//! Moving a brand's menu in and out of spreadsheets: the file format lives in
//! `diancan_integrations::menu_files`; this maps it onto the catalog (names to ids, existing
//! dishes and SKU codes kept) and applies an import in one transaction.

use crate::error::{ApiError, ErrorDetail};
use axum::http::StatusCode;
use diancan_domain::catalog::{Category, Dish, DishDraft, DishKind, Station};
use diancan_domain::text::Name;
use diancan_domain::validation::Problem;
use diancan_domain::*;
use diancan_integrations::menu_files::{
    self, MenuFileError, MenuSheet, RowError, SheetCategory, SheetDish,
};
use diancan_storage::{Db, MenuImport, MenuImportReport};
use std::collections::{HashMap, HashSet};

fn is_xlsx(file_name: &str) -> bool {
    file_name.to_lowercase().ends_with(".xlsx")
}

/// The brand's menu (combos excepted: they point at other specs) as CSV or XLSX bytes.
pub async fn export(db: &Db, brand_id: BrandId, file_name: &str) -> Result<Vec<u8>, ApiError> {
    let stations: HashMap<StationId, String> = db
        .stations(brand_id)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name.into_string()))
        .collect();
    let dishes = db.dishes(brand_id).await?;
    let categories = db
        .categories(brand_id)
        .await?
        .into_iter()
        .map(|category| SheetCategory {
            dishes: dishes
                .iter()
                .filter(|d| d.category_id == category.id && d.kind == DishKind::Single)
                .map(|d| sheet_dish(d, &stations))
                .collect(),
            name: category.name.into_string(),
            sort_order: category.sort_order,
        })
        .collect();
    let sheet = MenuSheet { categories };
    if is_xlsx(file_name) {
        menu_files::write_xlsx(&sheet).map_err(ApiError::internal)
    } else {
        Ok(menu_files::write_csv(&sheet))
    }
}

fn sheet_dish(dish: &Dish, stations: &HashMap<StationId, String>) -> SheetDish {
    SheetDish {
        name: dish.name.to_string(),
        name_en: dish.name_en.clone(),
        description: dish.description.clone(),
        tags: dish.tags.clone(),
        station: dish.station_id.and_then(|id| stations.get(&id).cloned()),
        on_shelf: dish.on_shelf,
        sort_order: dish.sort_order,
        ingredients: dish.ingredients.clone(),
        allergens: dish.allergens.clone(),
        calories_kcal: dish.calories_kcal,
        portion: dish.portion.clone(),
        skus: dish
            .skus
            .iter()
            .map(|s| diancan_domain::catalog::SkuDraft {
                id: None,
                code: s.code.clone(),
                name: s.name.as_ref().map(|n| n.to_string()),
                name_en: s.name_en.clone(),
                price_fen: s.price_fen,
            })
            .collect(),
        option_groups: dish
            .option_groups
            .iter()
            .map(|g| diancan_domain::catalog::OptionGroupDraft {
                id: None,
                name: g.name.to_string(),
                name_en: g.name_en.clone(),
                min_select: g.min_select as i64,
                max_select: g.max_select as i64,
                options: g
                    .options
                    .iter()
                    .map(|o| diancan_domain::catalog::OptionDraft {
                        id: None,
                        name: o.name.to_string(),
                        name_en: o.name_en.clone(),
                        price_delta_fen: o.price_delta_fen,
                    })
                    .collect(),
            })
            .collect(),
        first_row: 0,
    }
}

fn row_details(rows: &[RowError]) -> Vec<ErrorDetail> {
    rows.iter()
        .map(|r| ErrorDetail {
            field: format!(
                "row {}{}",
                r.row,
                r.column
                    .as_ref()
                    .map(|c| format!(" {c}"))
                    .unwrap_or_default()
            ),
            code: r.problem.code().to_owned(),
            message: r.message_zh(),
            message_en: r.message_en(),
        })
        .collect()
}

/// A file's problem as an answer: a file past a size limit is 413 naming the limit, any other 422.
pub fn file_error(error: MenuFileError) -> ApiError {
    let (status, details) = match &error {
        MenuFileError::Rows(rows) => (StatusCode::UNPROCESSABLE_ENTITY, row_details(rows)),
        MenuFileError::TooLarge(limit) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            vec![ErrorDetail {
                field: limit.field().to_owned(),
                code: "TOO_LARGE".to_owned(),
                message: limit.message_zh(),
                message_en: limit.message_en(),
            }],
        ),
        _ => (StatusCode::UNPROCESSABLE_ENTITY, Vec::new()),
    };
    ApiError::new(status, error.code(), error.message_zh(), error.message_en())
        .with_details(details)
}

/// Reads a menu file on a blocking thread: a big sheet must not stall the async workers.
pub async fn read(file_name: String, bytes: Vec<u8>) -> Result<MenuSheet, ApiError> {
    tokio::task::spawn_blocking(move || menu_files::read_any(&file_name, &bytes))
        .await
        .map_err(ApiError::internal)?
        .map_err(file_error)
}

/// Applies a menu sheet to the brand: all of it or, on any problem, none of it.
/// Categories and stations match by name, dishes by name, specs by code, so re-importing an
/// edited export updates in place and keeps every store's stock and prices.
pub async fn import(
    db: &Db,
    brand_id: BrandId,
    sheet: MenuSheet,
    now_ms: i64,
) -> Result<MenuImportReport, ApiError> {
    let mut categories: HashMap<String, Category> = db
        .categories(brand_id)
        .await?
        .into_iter()
        .map(|c| (c.name.to_string(), c))
        .collect();
    let mut stations: HashMap<String, StationId> = db
        .stations(brand_id)
        .await?
        .into_iter()
        .map(|s| (s.name.to_string(), s.id))
        .collect();
    let existing = db.dishes(brand_id).await?;
    let dishes_by_name: HashMap<&str, &Dish> = existing
        .iter()
        .filter(|d| d.kind == DishKind::Single)
        .map(|d| (d.name.as_str(), d))
        .collect();
    let sku_owner: HashMap<&str, (DishId, SkuId)> = existing
        .iter()
        .flat_map(|d| d.skus.iter().map(move |s| (s.code.as_str(), (d.id, s.id))))
        .collect();

    let mut import = MenuImport::default();
    let mut row_errors = Vec::new();
    let imported_names: HashSet<&str> = sheet
        .categories
        .iter()
        .flat_map(|c| c.dishes.iter().map(|d| d.name.as_str()))
        .collect();
    for sheet_category in &sheet.categories {
        let category_id = match categories.get_mut(&sheet_category.name) {
            Some(category) => {
                if category.sort_order != sheet_category.sort_order {
                    category.sort_order = sheet_category.sort_order;
                    import.updated_categories.push(category.clone());
                }
                category.id
            }
            None => {
                let category = Category {
                    id: CategoryId::new(),
                    brand_id,
                    name: Name::parse(&sheet_category.name)
                        .map_err(|p| ApiError::invalid_field("分类", p))?,
                    name_en: None,
                    sort_order: sheet_category.sort_order,
                    availability: Default::default(),
                };
                import.new_categories.push(category.clone());
                let id = category.id;
                categories.insert(sheet_category.name.clone(), category);
                id
            }
        };
        for sheet_dish in &sheet_category.dishes {
            let station_id = match &sheet_dish.station {
                Some(name) => Some(match stations.get(name) {
                    Some(id) => *id,
                    None => {
                        let station = Station {
                            id: StationId::new(),
                            brand_id,
                            name: Name::parse(name)
                                .map_err(|p| ApiError::invalid_field("档口", p))?,
                            name_en: None,
                            sort_order: stations.len() as i64,
                        };
                        stations.insert(name.clone(), station.id);
                        let id = station.id;
                        import.new_stations.push(station);
                        id
                    }
                }),
                None => None,
            };
            let previous = dishes_by_name.get(sheet_dish.name.as_str()).copied();
            let dish_id = previous.map(|d| d.id).unwrap_or_default();
            let mut skus = sheet_dish.skus.clone();
            for (i, sku) in skus.iter_mut().enumerate() {
                match sku_owner.get(sku.code.as_str()) {
                    Some((owner, sku_id)) if *owner == dish_id => sku.id = Some(*sku_id),
                    // A code held by a dish this file does not also re-import would clash.
                    Some((owner, _)) => {
                        let owner_name = existing
                            .iter()
                            .find(|d| d.id == *owner)
                            .map(|d| d.name.as_str())
                            .unwrap_or("");
                        if !imported_names.contains(owner_name) || owner_name == sheet_dish.name {
                            row_errors.push(RowError {
                                row: sheet_dish.first_row + i,
                                column: Some("规格编码".into()),
                                problem: Problem::Duplicate,
                            });
                        }
                    }
                    None => {}
                }
            }
            let draft = DishDraft {
                category_id,
                kind: DishKind::Single,
                name: sheet_dish.name.clone(),
                name_en: sheet_dish.name_en.clone(),
                description: sheet_dish.description.clone(),
                description_en: previous.and_then(|d| d.description_en.clone()),
                tags: sheet_dish.tags.clone(),
                ingredients: sheet_dish.ingredients.clone(),
                allergens: sheet_dish.allergens.clone(),
                calories_kcal: sheet_dish.calories_kcal,
                portion: sheet_dish.portion.clone(),
                sort_order: sheet_dish.sort_order,
                station_id,
                on_shelf: sheet_dish.on_shelf,
                availability: previous.map(|d| d.availability.clone()).unwrap_or_default(),
                image_ids: previous.map(|d| d.image_ids.clone()).unwrap_or_default(),
                skus,
                option_groups: sheet_dish.option_groups.clone(),
                combo_slots: Vec::new(),
            };
            match draft.parse(dish_id, brand_id, &HashSet::new()) {
                Ok(dish) => import.dishes.push((dish, previous.is_none())),
                Err(errors) => {
                    for error in errors.iter() {
                        row_errors.push(RowError {
                            row: sheet_dish.first_row,
                            column: Some(error.field.clone()),
                            problem: error.problem.clone(),
                        });
                    }
                }
            }
        }
    }
    if !row_errors.is_empty() {
        return Err(file_error(MenuFileError::Rows(row_errors)));
    }
    Ok(db.import_menu(brand_id, &import, now_ms).await?)
}
