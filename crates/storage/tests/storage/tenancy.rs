use crate::{NOW_MS, both, brand_with_store, store_profile};
use diancan_domain::{AreaId, StoreId, TableId};
use diancan_storage::{Db, DiningTable, StorageError};

fn table_at(store_id: StoreId, area_id: AreaId, code: &str, token: &str) -> DiningTable {
    DiningTable {
        id: TableId::new(),
        store_id,
        area_id,
        code: code.into(),
        seats: 4,
        qr_token: token.into(),
    }
}

async fn stores_areas_and_tables_stay_inside_their_brand(db: &Db) {
    let (brand, store) = brand_with_store(db, "laojie").await;
    let (other_brand, other_store) = brand_with_store(db, "other").await;

    let hall = db.create_area(brand.id, store.id, "大厅", 1).await.unwrap();
    let table = db
        .create_table(brand.id, &table_at(store.id, hall.id, "A1", "tok-a1"))
        .await
        .unwrap();
    assert_eq!(
        db.tables(brand.id, store.id).await.unwrap(),
        vec![table.clone()]
    );
    assert_eq!(db.table_by_token("tok-a1").await.unwrap().id, table.id);

    // Another brand sees nothing and can touch nothing.
    assert!(
        db.tables(other_brand.id, store.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        db.store_in_brand(other_brand.id, store.id).await,
        Err(StorageError::NotFound)
    ));
    assert!(matches!(
        db.create_area(other_brand.id, store.id, "包间", 2).await,
        Err(StorageError::NotFound)
    ));
    assert!(matches!(
        db.create_table(
            other_brand.id,
            &table_at(other_store.id, hall.id, "B1", "tok-b1")
        )
        .await,
        Err(StorageError::NotFound)
    ));
    let mut renamed = store_profile("外滩店");
    assert!(matches!(
        db.update_store(other_brand.id, store.id, &renamed, NOW_MS)
            .await,
        Err(StorageError::NotFound)
    ));
    renamed.rules.accepting_orders = false;
    db.update_store(brand.id, store.id, &renamed, NOW_MS)
        .await
        .unwrap();
    assert_eq!(db.store(store.id).await.unwrap().profile, renamed);
    assert_eq!(db.stores_of_brand(brand.id).await.unwrap().len(), 1);
    assert_eq!(db.all_stores().await.unwrap().len(), 2);
}
both!(stores_areas_and_tables_stay_inside_their_brand);

async fn duplicate_table_codes_and_tokens_conflict(db: &Db) {
    let (brand, store) = brand_with_store(db, "dup").await;
    let hall = db.create_area(brand.id, store.id, "大厅", 1).await.unwrap();
    db.create_table(brand.id, &table_at(store.id, hall.id, "A1", "t1"))
        .await
        .unwrap();
    assert!(matches!(
        db.create_table(brand.id, &table_at(store.id, hall.id, "A1", "t2"))
            .await,
        Err(StorageError::Conflict { .. })
    ));
    assert!(matches!(
        db.create_area(brand.id, store.id, "大厅", 3).await,
        Err(StorageError::Conflict { .. })
    ));
    assert_eq!(db.tables(brand.id, store.id).await.unwrap().len(), 1);
}
both!(duplicate_table_codes_and_tokens_conflict);
