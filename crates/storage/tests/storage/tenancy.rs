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

/// A store row saved off the globe (as an unchecked old version could) costs that store alone:
/// the directory and the brand's list still answer, and the owner can open it and save over it.
async fn a_damaged_store_row_degrades_to_that_store(db: &Db) {
    let (brand, store) = brand_with_store(db, "damaged").await;
    let sound = db
        .create_store(brand.id, &store_profile("外滩店"), NOW_MS)
        .await
        .unwrap();
    let changed = diancan_storage::testing::execute_unchecked(
        db,
        "UPDATE stores SET latitude_e6 = 2000000000 WHERE id = $1",
        store.id.as_uuid(),
    )
    .await
    .unwrap();
    assert_eq!(changed, 1);

    let directory = db.all_stores().await.unwrap();
    assert_eq!(
        directory.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![sound.id]
    );
    let listed = db.stores_of_brand(brand.id).await.unwrap();
    assert_eq!(listed.len(), 2);
    let damaged = listed
        .iter()
        .find_map(|entry| entry.as_ref().err())
        .expect("the bad row is listed as damaged");
    assert_eq!(
        (damaged.id, damaged.stored.name.as_str()),
        (store.id, "人民广场店")
    );
    assert_eq!(damaged.stored.location, None);
    let fields: Vec<_> = damaged.problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["location.latitude_e6"]);
    assert!(matches!(
        db.store(store.id).await,
        Err(StorageError::StoreDamaged(id)) if id == store.id
    ));
    assert!(db.store(sound.id).await.is_ok());

    // Unreadable rules are damage too, named as such.
    diancan_storage::testing::execute_unchecked(
        db,
        "UPDATE stores SET rules_json = '{\"time_zone\": 3}' WHERE id = $1",
        sound.id.as_uuid(),
    )
    .await
    .unwrap();
    let Err(damaged_rules) = db.store_entry(sound.id).await.unwrap() else {
        panic!("unreadable rules are damage")
    };
    assert_eq!(damaged_rules.problems[0].field, "rules");
    assert!(db.all_stores().await.unwrap().is_empty());

    // The owner saves a good profile over the bad row and the store is whole again.
    let repaired = db
        .update_store(brand.id, store.id, &store_profile("人民广场店"), NOW_MS + 1)
        .await
        .unwrap();
    assert_eq!(db.store(store.id).await.unwrap(), repaired);
    assert!(matches!(
        db.store_entry_in_brand(brand.id, sound.id).await,
        Ok(Err(_))
    ));
}
both!(a_damaged_store_row_degrades_to_that_store);
