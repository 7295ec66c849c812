use crate::{NOW_MS, both, brand_with_store};
use diancan_domain::login_throttle::{
    AddressLimit, LoginBackoff, STAFF_LOGIN_ADDRESS_LIMIT, STAFF_LOGIN_BACKOFF,
};
use diancan_domain::staff::{Role, StoreAccess};
use diancan_storage::{Db, LoginClaim, NewStaff, StorageError};

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

/// A small policy so the story fits in a few seconds of fake time: two free failures, then
/// 1 s, 2 s, 4 s; three failures per client in 10 s.
const BACKOFF: LoginBackoff = LoginBackoff {
    free_failures: 2,
    first_wait_ms: 1_000,
    max_wait_ms: 4_000,
    forget_after_ms: 60_000,
};
const PER_CLIENT: AddressLimit = AddressLimit {
    max_failures: 3,
    window_ms: 10_000,
};

async fn claim(db: &Db, account: &str, client: &str, at_ms: i64) -> LoginClaim {
    db.claim_login_attempt(account, Some(client), NOW_MS + at_ms, &BACKOFF, &PER_CLIENT)
        .await
        .unwrap()
}

fn refused(retry_after_ms: i64) -> LoginClaim {
    LoginClaim::Refused { retry_after_ms }
}

async fn login_attempts_back_off_per_account_and_stop_per_client(db: &Db) {
    use LoginClaim::Granted;
    // Two free tries, then the account waits 1 s, then 2 s.
    assert_eq!(claim(db, "login:owner", "ip:1", 0).await, Granted);
    assert_eq!(claim(db, "login:owner", "ip:1", 0).await, Granted);
    assert_eq!(claim(db, "login:owner", "ip:1", 0).await, refused(1_000));
    assert_eq!(claim(db, "login:owner", "ip:1", 1_000).await, Granted);
    assert_eq!(
        claim(db, "login:owner", "ip:1", 2_000).await,
        refused(1_000)
    );

    // The client has failed three times: its fourth is refused until its window ends, and the
    // refusal costs the other account nothing (it still has both free tries).
    assert_eq!(claim(db, "login:cook", "ip:1", 3_000).await, refused(7_000));
    assert_eq!(claim(db, "login:cook", "ip:2", 3_000).await, Granted);
    assert_eq!(claim(db, "login:cook", "ip:2", 3_000).await, Granted);
    assert_eq!(claim(db, "login:cook", "ip:2", 3_000).await, refused(1_000));

    // A success forgets the account's failures and gives the client its try back.
    db.login_succeeded("login:owner", Some("ip:1"))
        .await
        .unwrap();
    assert_eq!(claim(db, "login:owner", "ip:1", 3_000).await, Granted);
    assert_eq!(
        claim(db, "login:waiter", "ip:1", 3_000).await,
        refused(7_000)
    );

    // After a quiet minute the account starts over with its free tries.
    assert_eq!(claim(db, "login:cook", "ip:2", 63_000).await, Granted);
    assert_eq!(claim(db, "login:cook", "ip:2", 63_000).await, Granted);
    assert_eq!(
        claim(db, "login:cook", "ip:2", 63_000).await,
        refused(1_000)
    );
}
both!(login_attempts_back_off_per_account_and_stop_per_client);

async fn parallel_attempts_are_each_counted_before_any_is_granted(db: &Db) {
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let db = db.clone();
        attempts.spawn(async move {
            db.claim_login_attempt(
                "login:owner",
                Some("ip:9"),
                NOW_MS,
                &STAFF_LOGIN_BACKOFF,
                &STAFF_LOGIN_ADDRESS_LIMIT,
            )
            .await
            .unwrap()
        });
    }
    let granted = attempts
        .join_all()
        .await
        .into_iter()
        .filter(|claim| *claim == LoginClaim::Granted)
        .count() as i64;
    assert_eq!(granted, STAFF_LOGIN_BACKOFF.free_failures);
}
both!(parallel_attempts_are_each_counted_before_any_is_granted);
