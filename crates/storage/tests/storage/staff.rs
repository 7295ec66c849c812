use crate::{NOW_MS, both, brand_with_store};
use diancan_domain::staff::{Role, StoreAccess};
use diancan_storage::{Db, NewStaff, StorageError};

async fn sessions_resolve_to_staff_until_logout_or_expiry(db: &Db) {
    let (brand, store) = brand_with_store(db, "staff").await;
    let staff_id = db
        .create_staff(
            &NewStaff {
                brand_id: brand.id,
                login: "waiter1".into(),
                display_name: "小王".into(),
                password_hash: "$argon2id$stub-for-storage-test".into(),
                role: Role::Waiter,
                access: StoreAccess::Only(vec![store.id]),
            },
            NOW_MS,
        )
        .await
        .unwrap();
    let account = db.staff_by_login("waiter1").await.unwrap();
    assert_eq!(account.id, staff_id);
    assert_eq!(account.role, Role::Waiter);

    let token_hash = [7u8; 32];
    db.create_session(&token_hash, staff_id, brand.id, NOW_MS, NOW_MS + 1_000)
        .await
        .unwrap();
    let who = db.session_staff(&token_hash, NOW_MS + 1).await.unwrap();
    assert_eq!(who.brand_id, brand.id);
    assert_eq!(who.access, StoreAccess::Only(vec![store.id]));
    assert!(
        matches!(
            db.session_staff(&token_hash, NOW_MS + 1_000).await,
            Err(StorageError::NotFound)
        ),
        "expired"
    );
    db.delete_session(&token_hash).await.unwrap();
    assert!(
        matches!(
            db.session_staff(&token_hash, NOW_MS + 1).await,
            Err(StorageError::NotFound)
        ),
        "logged out"
    );
    assert!(matches!(
        db.staff_by_login("nobody").await,
        Err(StorageError::NotFound)
    ));
}
both!(sessions_resolve_to_staff_until_logout_or_expiry);

async fn staff_cannot_be_assigned_to_another_brands_store(db: &Db) {
    let (brand, _) = brand_with_store(db, "a").await;
    let (_, foreign_store) = brand_with_store(db, "b").await;
    let result = db
        .create_staff(
            &NewStaff {
                brand_id: brand.id,
                login: "sneaky".into(),
                display_name: "x".into(),
                password_hash: "x".into(),
                role: Role::Manager,
                access: StoreAccess::Only(vec![foreign_store.id]),
            },
            NOW_MS,
        )
        .await;
    assert!(matches!(result, Err(StorageError::NotFound)));
    assert!(
        matches!(
            db.staff_by_login("sneaky").await,
            Err(StorageError::NotFound)
        ),
        "nothing half-written"
    );
}
both!(staff_cannot_be_assigned_to_another_brands_store);

async fn login_failures_count_within_a_window(db: &Db) {
    assert_eq!(db.recent_login_failures("owner", 0).await.unwrap(), 0);
    for expected in 1..=3 {
        assert_eq!(
            db.record_login_failure("owner", 1_000 + expected, 0)
                .await
                .unwrap(),
            expected
        );
    }
    assert_eq!(db.recent_login_failures("owner", 0).await.unwrap(), 3);
    // A window that began after the first failures starts the count over.
    assert_eq!(db.recent_login_failures("owner", 5_000).await.unwrap(), 0);
    assert_eq!(
        db.record_login_failure("owner", 9_000, 5_000)
            .await
            .unwrap(),
        1
    );
    db.clear_login_failures("owner").await.unwrap();
    assert_eq!(db.recent_login_failures("owner", 0).await.unwrap(), 0);
}
both!(login_failures_count_within_a_window);
