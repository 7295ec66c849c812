use crate::{NOW_MS, both, brand_with_store};
use diancan_domain::catalog::{
    Category, CategoryDraft, Dish, DishDraft, SkuStoreSettings, Station,
};
use diancan_domain::money::Money;
use diancan_domain::text::Name;
use diancan_domain::*;
use diancan_storage::{Db, ImageData, MenuImport, StorageError};
use std::collections::HashSet;

fn category(brand: BrandId, name: &str) -> Category {
    CategoryDraft {
        name: name.into(),
        name_en: None,
        sort_order: 1,
        availability: Default::default(),
    }
    .parse(CategoryId::new(), brand)
    .unwrap()
}

fn noodles(brand: BrandId, category: CategoryId, code_prefix: &str) -> Dish {
    let draft: DishDraft = serde_json::from_value(serde_json::json!({
        "category_id": category,
        "name": "红烧牛肉面",
        "tags": ["招牌"],
        "skus": [
            {"code": format!("{code_prefix}-L"), "name": "大碗", "price_fen": 2800},
            {"code": format!("{code_prefix}-M"), "name": "中碗", "price_fen": 2400}
        ],
        "option_groups": [{"name": "辣度", "min_select": 1, "max_select": 1, "options": [{"name": "微辣"}, {"name": "特辣"}]}]
    }))
    .unwrap();
    draft.parse(DishId::new(), brand, &HashSet::new()).unwrap()
}

async fn dishes_round_trip_with_skus_options_and_images(db: &Db) {
    let (brand, _) = brand_with_store(db, "menu").await;
    let station = Station {
        id: StationId::new(),
        brand_id: brand.id,
        name: Name::parse("热菜").unwrap(),
        name_en: None,
        sort_order: 1,
    };
    db.create_station(&station).await.unwrap();
    let noodle_cat = category(brand.id, "面食");
    db.create_category(&noodle_cat).await.unwrap();
    let image = ImageData {
        id: ImageId::new(),
        thumbnail: vec![1, 2, 3],
        detail: vec![4, 5],
        width: 2,
        height: 1,
    };
    db.save_image(brand.id, &image, NOW_MS).await.unwrap();

    let mut dish = noodles(brand.id, noodle_cat.id, "NR");
    dish.station_id = Some(station.id);
    dish.image_ids = vec![image.id];
    let revision_before = db.menu_revision(brand.id).await.unwrap();
    db.save_dish(&dish, true, NOW_MS).await.unwrap();
    assert!(
        db.menu_revision(brand.id).await.unwrap() > revision_before,
        "every edit bumps the revision"
    );
    assert_eq!(db.dish(brand.id, dish.id).await.unwrap(), dish);
    assert_eq!(db.image_bytes(image.id, true).await.unwrap(), vec![1, 2, 3]);
    assert_eq!(db.image_bytes(image.id, false).await.unwrap(), vec![4, 5]);

    // Edit: drop one spec, rename another, keep its id.
    dish.skus.truncate(1);
    dish.skus[0].price_fen = Money::from_fen(2600);
    db.save_dish(&dish, false, NOW_MS).await.unwrap();
    assert_eq!(db.dishes(brand.id).await.unwrap(), vec![dish.clone()]);

    // A category with dishes cannot be deleted; an empty one can.
    assert!(matches!(
        db.delete_category(brand.id, noodle_cat.id).await,
        Err(StorageError::Refused("CATEGORY_NOT_EMPTY"))
    ));
    db.delete_dish(brand.id, dish.id).await.unwrap();
    db.delete_category(brand.id, noodle_cat.id).await.unwrap();
    assert!(db.categories(brand.id).await.unwrap().is_empty());
}
both!(dishes_round_trip_with_skus_options_and_images);

async fn another_brand_cannot_reach_into_the_catalog(db: &Db) {
    let (brand, store) = brand_with_store(db, "mine").await;
    let (other, other_store) = brand_with_store(db, "theirs").await;
    let cat = category(brand.id, "面食");
    db.create_category(&cat).await.unwrap();
    let dish = noodles(brand.id, cat.id, "NR");
    db.save_dish(&dish, true, NOW_MS).await.unwrap();

    // Their dish in my category, their edit of my dish, their settings on my SKU.
    let intruder = noodles(other.id, cat.id, "X");
    assert!(matches!(
        db.save_dish(&intruder, true, NOW_MS).await,
        Err(StorageError::Refused("UNKNOWN_CATEGORY"))
    ));
    let mut hijack = dish.clone();
    hijack.brand_id = other.id;
    let other_cat = category(other.id, "面食");
    db.create_category(&other_cat).await.unwrap();
    hijack.category_id = other_cat.id;
    assert!(matches!(
        db.save_dish(&hijack, false, NOW_MS).await,
        Err(StorageError::NotFound)
    ));
    // Their new dish may not adopt my SKU ids either.
    let mut adopt = noodles(other.id, other_cat.id, "Y");
    adopt.skus[0].id = dish.skus[0].id;
    assert!(matches!(
        db.save_dish(&adopt, true, NOW_MS).await,
        Err(StorageError::Refused("UNKNOWN_SKU"))
    ));
    assert!(
        db.dishes(other.id).await.unwrap().is_empty(),
        "nothing half-written"
    );

    let settings = SkuStoreSettings {
        sold_out: true,
        ..Default::default()
    };
    assert!(matches!(
        db.set_sku_settings(other.id, store.id, dish.skus[0].id, &settings)
            .await,
        Err(StorageError::NotFound)
    ));
    assert!(matches!(
        db.set_sku_settings(other.id, other_store.id, dish.skus[0].id, &settings)
            .await,
        Err(StorageError::NotFound)
    ));
    assert!(matches!(
        db.delete_dish(other.id, dish.id).await,
        Err(StorageError::NotFound)
    ));
    assert!(matches!(
        db.dish(other.id, dish.id).await,
        Err(StorageError::NotFound)
    ));
    assert_eq!(db.dishes(brand.id).await.unwrap(), vec![dish]);
}
both!(another_brand_cannot_reach_into_the_catalog);

async fn sku_codes_are_unique_within_a_brand(db: &Db) {
    let (brand, _) = brand_with_store(db, "codes").await;
    let (other, _) = brand_with_store(db, "codes2").await;
    let cat = category(brand.id, "面食");
    db.create_category(&cat).await.unwrap();
    db.save_dish(&noodles(brand.id, cat.id, "NR"), true, NOW_MS)
        .await
        .unwrap();
    let clash = noodles(brand.id, cat.id, "NR");
    assert!(matches!(
        db.save_dish(&clash, true, NOW_MS).await,
        Err(StorageError::Conflict { .. })
    ));
    assert_eq!(
        db.dishes(brand.id).await.unwrap().len(),
        1,
        "the clashing dish left no row behind"
    );
    // The same code in another brand is fine.
    let other_cat = category(other.id, "面食");
    db.create_category(&other_cat).await.unwrap();
    db.save_dish(&noodles(other.id, other_cat.id, "NR"), true, NOW_MS)
        .await
        .unwrap();
}
both!(sku_codes_are_unique_within_a_brand);

async fn store_settings_layer_over_the_brand_menu(db: &Db) {
    let (brand, store) = brand_with_store(db, "layer").await;
    let cat = category(brand.id, "面食");
    db.create_category(&cat).await.unwrap();
    let dish = noodles(brand.id, cat.id, "NR");
    db.save_dish(&dish, true, NOW_MS).await.unwrap();

    let settings = SkuStoreSettings {
        price_fen: Some(Money::from_fen(2999)),
        stock: Some(12),
        daily_limit: Some(30),
        low_stock_threshold: Some(3),
        sold_out: false,
    };
    db.set_sku_settings(brand.id, store.id, dish.skus[0].id, &settings)
        .await
        .unwrap();
    db.set_dish_listed(brand.id, store.id, dish.id, false)
        .await
        .unwrap();
    let layer = db.store_menu_settings(store.id).await.unwrap();
    let state = &layer.sku_states[&dish.skus[0].id];
    assert_eq!(state.price_fen, Some(Money::from_fen(2999)));
    assert_eq!(
        (state.stock, state.daily_limit, state.sold_count),
        (Some(12), Some(30), 0)
    );
    assert!(!layer.dish_settings[&dish.id].listed);
}
both!(store_settings_layer_over_the_brand_menu);

async fn a_menu_import_applies_whole_or_not_at_all(db: &Db) {
    let (brand, _) = brand_with_store(db, "import").await;
    let existing = category(brand.id, "面食");
    db.create_category(&existing).await.unwrap();
    db.save_dish(&noodles(brand.id, existing.id, "OLD"), true, NOW_MS)
        .await
        .unwrap();

    let drinks = category(brand.id, "饮品");
    let good = noodles(brand.id, drinks.id, "NEW1");
    let clashing = noodles(brand.id, drinks.id, "OLD"); // its codes are taken
    let failing = MenuImport {
        new_categories: vec![drinks.clone()],
        dishes: vec![(good.clone(), true), (clashing, true)],
        ..Default::default()
    };
    assert!(db.import_menu(brand.id, &failing, NOW_MS).await.is_err());
    assert_eq!(
        db.categories(brand.id).await.unwrap().len(),
        1,
        "no category from the failed import"
    );
    assert_eq!(
        db.dishes(brand.id).await.unwrap().len(),
        1,
        "no dish from the failed import"
    );

    let working = MenuImport {
        new_categories: vec![drinks],
        dishes: vec![(good, true)],
        ..Default::default()
    };
    let report = db.import_menu(brand.id, &working, NOW_MS).await.unwrap();
    assert_eq!(
        (
            report.categories_created,
            report.dishes_created,
            report.dishes_updated
        ),
        (1, 1, 0)
    );
    assert_eq!(db.dishes(brand.id).await.unwrap().len(), 2);
}
both!(a_menu_import_applies_whole_or_not_at_all);
