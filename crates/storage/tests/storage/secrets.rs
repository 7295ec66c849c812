//! What `diancan pii reseal`, `create-owner` and the start-up banner rely on: sealed columns
//! read in pages and rewritten only over the bytes that were read, server secrets replaced and
//! forgotten, the first owner made only on an empty database, and SQLite's durability as its
//! writer reports it.

use crate::ordering::{menu_with_stock, new_order};
use crate::{NOW_MS, both};
use diancan_domain::customer::{BlindIndex, SealedPii};
use diancan_storage::ordering::Placed;
use diancan_storage::sealed_columns::FIRST;
use diancan_storage::{Backend, Db, FirstOwner};

async fn sealed_columns_are_paged_and_rewritten_only_over_what_was_read(db: &Db) {
    let menu = menu_with_stock(db, 10).await;
    let brand = menu.brand;
    for byte in 1..=3u8 {
        db.customer_by_phone_or_create(
            brand,
            &BlindIndex::from_bytes(vec![byte; 32]),
            &SealedPii::from_bytes(vec![byte; 40]),
            "顾客",
            NOW_MS,
        )
        .await
        .unwrap();
    }
    let first_page = db.sealed_customer_phones(FIRST, 2).await.unwrap();
    assert_eq!(first_page.len(), 2);
    let rest = db
        .sealed_customer_phones(first_page[1].id, 2)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1, "the page after the last id holds the third");
    assert!(rest[0].id > first_page[1].id);

    let row = &first_page[0];
    assert!(
        db.replace_sealed_customer_phone(row.id, &row.value, &[9; 40])
            .await
            .unwrap()
    );
    assert!(
        !db.replace_sealed_customer_phone(row.id, &row.value, &[8; 40])
            .await
            .unwrap(),
        "a value changed since it was read is left alone"
    );
    let again = db.sealed_customer_phones(FIRST, 10).await.unwrap();
    assert_eq!(
        again.iter().find(|r| r.id == row.id).unwrap().value,
        vec![9; 40]
    );

    let mut order = new_order(menu, "contact-1", 1);
    order.contact_sealed = Some(r#"{"phone_sealed":"old"}"#.into());
    assert!(matches!(
        db.place_order(order).await.unwrap(),
        Placed::Created(_)
    ));
    let contacts = db.sealed_order_contacts(FIRST, 10).await.unwrap();
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0].value, r#"{"phone_sealed":"old"}"#);
    let id = contacts[0].id;
    assert!(
        db.replace_sealed_order_contact(id, &contacts[0].value, r#"{"phone_sealed":"new"}"#)
            .await
            .unwrap()
    );
    assert!(
        !db.replace_sealed_order_contact(id, r#"{"phone_sealed":"old"}"#, "{}")
            .await
            .unwrap()
    );
    assert_eq!(
        db.sealed_order_contacts(FIRST, 10).await.unwrap()[0].value,
        r#"{"phone_sealed":"new"}"#
    );
}
both!(sealed_columns_are_paged_and_rewritten_only_over_what_was_read);

async fn server_secrets_are_read_replaced_and_forgotten(db: &Db) {
    assert_eq!(
        db.stored_server_secret("k").await.unwrap(),
        None,
        "reading creates nothing"
    );
    assert_eq!(db.server_secret("k", &[1; 4]).await.unwrap(), vec![1; 4]);
    assert_eq!(
        db.stored_server_secret("k").await.unwrap(),
        Some(vec![1; 4])
    );
    assert!(
        db.replace_server_secret("k", &[1; 4], &[2; 4])
            .await
            .unwrap()
    );
    assert!(
        !db.replace_server_secret("k", &[1; 4], &[3; 4])
            .await
            .unwrap()
    );
    assert_eq!(db.server_secret("k", &[7; 4]).await.unwrap(), vec![2; 4]);
    db.delete_server_secret("k").await.unwrap();
    assert_eq!(db.stored_server_secret("k").await.unwrap(), None);
}
both!(server_secrets_are_read_replaced_and_forgotten);

async fn the_first_owner_is_made_only_on_a_database_without_a_brand(db: &Db) {
    let owner = |login: &str| FirstOwner {
        brand_name: "老王面馆".into(),
        brand_slug: format!("wang-{login}"),
        login: login.into(),
        display_name: "老王".into(),
        password_hash: "$argon2id$test".into(),
    };
    let (brand, staff) = db
        .create_first_owner(&owner("wang"), NOW_MS)
        .await
        .unwrap()
        .expect("an empty database");
    let account = db.staff_by_login("wang").await.unwrap();
    assert_eq!((account.id, account.brand_id), (staff, brand.id));
    assert_eq!(account.role, diancan_domain::staff::Role::Owner);
    assert!(
        db.create_first_owner(&owner("li"), NOW_MS)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        db.brands().await.unwrap().len(),
        1,
        "nothing written the second time"
    );
    assert!(db.staff_by_login("li").await.is_err());
}
both!(the_first_owner_is_made_only_on_a_database_without_a_brand);

async fn sqlite_reports_its_durability_and_postgres_has_none(db: &Db) {
    let durability = db.sqlite_durability().await.unwrap();
    match db.backend() {
        // The test databases run with synchronous=NORMAL (speed); the binary test sees FULL.
        Backend::Sqlite => {
            let durability = durability.expect("a SQLite writer");
            assert_eq!(
                (durability.journal_mode.as_str(), durability.synchronous),
                ("WAL", "NORMAL")
            );
        }
        Backend::Postgres => assert_eq!(durability, None),
    }
}
both!(sqlite_reports_its_durability_and_postgres_has_none);
