use crate::{NOW_MS, both, brand_with_store};
use diancan_domain::OtpChallengeId;
use diancan_domain::customer::{BlindIndex, OTP_MAX_ATTEMPTS, OtpRefusal, SealedPii};
use diancan_storage::{Db, NewOtpChallenge, OtpAttempt, StorageError};

fn index(byte: u8) -> BlindIndex {
    BlindIndex::from_bytes(vec![byte; 32])
}

fn sealed(byte: u8) -> SealedPii {
    SealedPii::from_bytes(vec![byte; 39])
}

async fn a_phone_is_one_customer_per_brand_found_by_its_index(db: &Db) {
    let (brand, _) = brand_with_store(db, "c1").await;
    let (other_brand, _) = brand_with_store(db, "c2").await;

    let first = db
        .customer_by_phone_or_create(brand.id, &index(1), &sealed(1), "顾客", NOW_MS)
        .await
        .unwrap();
    assert_eq!(first.phone, Some(sealed(1)));
    assert!(!first.has_wechat);
    let again = db
        .customer_by_phone_or_create(brand.id, &index(1), &sealed(9), "另一个名字", NOW_MS + 1)
        .await
        .unwrap();
    assert_eq!(
        again, first,
        "second login finds the first customer, unchanged"
    );
    assert_eq!(
        db.customer_by_phone_index(brand.id, &index(1))
            .await
            .unwrap(),
        first
    );
    assert_eq!(db.customer(brand.id, first.id).await.unwrap(), first);

    let elsewhere = db
        .customer_by_phone_or_create(other_brand.id, &index(1), &sealed(1), "顾客", NOW_MS)
        .await
        .unwrap();
    assert_ne!(elsewhere.id, first.id, "each brand has its own customers");
    assert!(matches!(
        db.customer(other_brand.id, first.id).await,
        Err(StorageError::NotFound)
    ));
    assert!(matches!(
        db.customer_by_phone_index(brand.id, &index(2)).await,
        Err(StorageError::NotFound)
    ));
}
both!(a_phone_is_one_customer_per_brand_found_by_its_index);

async fn a_wechat_user_is_one_customer_per_brand(db: &Db) {
    let (brand, _) = brand_with_store(db, "w").await;
    let first = db
        .customer_by_wechat_or_create(brand.id, &index(7), "微信顾客", NOW_MS)
        .await
        .unwrap();
    assert!(first.has_wechat);
    assert_eq!(first.phone, None);
    let again = db
        .customer_by_wechat_or_create(brand.id, &index(7), "微信顾客", NOW_MS)
        .await
        .unwrap();
    assert_eq!(again.id, first.id);
    let other = db
        .customer_by_wechat_or_create(brand.id, &index(8), "微信顾客", NOW_MS)
        .await
        .unwrap();
    assert_ne!(other.id, first.id);
}
both!(a_wechat_user_is_one_customer_per_brand);

async fn customer_sessions_resolve_until_logout_or_expiry(db: &Db) {
    let (brand, _) = brand_with_store(db, "s").await;
    let customer = db
        .customer_by_phone_or_create(brand.id, &index(1), &sealed(1), "顾客", NOW_MS)
        .await
        .unwrap();
    let token_hash = [3u8; 32];
    db.create_customer_session(&token_hash, &customer, NOW_MS, NOW_MS + 1_000)
        .await
        .unwrap();
    assert_eq!(
        db.session_customer(&token_hash, NOW_MS + 999)
            .await
            .unwrap(),
        customer
    );
    assert!(matches!(
        db.session_customer(&token_hash, NOW_MS + 1_000).await,
        Err(StorageError::NotFound)
    ));
    db.delete_customer_session(&token_hash).await.unwrap();
    assert!(matches!(
        db.session_customer(&token_hash, NOW_MS + 1).await,
        Err(StorageError::NotFound)
    ));
}
both!(customer_sessions_resolve_until_logout_or_expiry);

fn challenge(brand: &diancan_storage::Brand, phone: u8) -> NewOtpChallenge {
    NewOtpChallenge {
        id: OtpChallengeId::new(),
        brand_id: brand.id,
        phone_index: index(phone),
        code_hash: vec![phone; 32],
        expires_at_ms: NOW_MS + 300_000,
    }
}

async fn a_code_takes_five_guesses_and_is_used_once(db: &Db) {
    let (brand, _) = brand_with_store(db, "o").await;
    let sent = challenge(&brand, 1);
    db.create_otp_challenge(&sent, NOW_MS, NOW_MS - 3_600_000)
        .await
        .unwrap();
    for guess in 1..=OTP_MAX_ATTEMPTS {
        let attempt = db
            .claim_otp_attempt(brand.id, &index(1), OTP_MAX_ATTEMPTS, NOW_MS + 1)
            .await
            .unwrap();
        assert_eq!(
            attempt,
            OtpAttempt::Open {
                challenge_id: sent.id,
                code_hash: vec![1; 32],
                attempts: guess
            }
        );
    }
    assert_eq!(
        db.claim_otp_attempt(brand.id, &index(1), OTP_MAX_ATTEMPTS, NOW_MS + 1)
            .await
            .unwrap(),
        OtpAttempt::Refused(OtpRefusal::Locked)
    );

    // A new code replaces the locked one; it is used once.
    let resent = challenge(&brand, 1);
    db.create_otp_challenge(&resent, NOW_MS + 60_000, NOW_MS - 3_600_000)
        .await
        .unwrap();
    let OtpAttempt::Open { challenge_id, .. } = db
        .claim_otp_attempt(brand.id, &index(1), OTP_MAX_ATTEMPTS, NOW_MS + 60_001)
        .await
        .unwrap()
    else {
        panic!("the new code is open");
    };
    assert_eq!(challenge_id, resent.id);
    assert!(db.consume_otp_challenge(resent.id).await.unwrap());
    assert!(
        !db.consume_otp_challenge(resent.id).await.unwrap(),
        "only once"
    );
    assert_eq!(
        db.claim_otp_attempt(brand.id, &index(1), OTP_MAX_ATTEMPTS, NOW_MS + 60_002)
            .await
            .unwrap(),
        OtpAttempt::Refused(OtpRefusal::NoChallenge)
    );
}
both!(a_code_takes_five_guesses_and_is_used_once);

async fn codes_expire_and_belong_to_one_phone_and_brand(db: &Db) {
    let (brand, _) = brand_with_store(db, "e1").await;
    let (other_brand, _) = brand_with_store(db, "e2").await;
    let sent = challenge(&brand, 1);
    db.create_otp_challenge(&sent, NOW_MS, NOW_MS - 3_600_000)
        .await
        .unwrap();
    for (brand_id, phone) in [(brand.id, 2), (other_brand.id, 1)] {
        assert_eq!(
            db.claim_otp_attempt(brand_id, &index(phone), OTP_MAX_ATTEMPTS, NOW_MS)
                .await
                .unwrap(),
            OtpAttempt::Refused(OtpRefusal::NoChallenge)
        );
    }
    assert_eq!(
        db.claim_otp_attempt(brand.id, &index(1), OTP_MAX_ATTEMPTS, sent.expires_at_ms)
            .await
            .unwrap(),
        OtpAttempt::Refused(OtpRefusal::Expired)
    );

    // Making another code purges long-expired ones.
    let later = sent.expires_at_ms + 3_600_000;
    db.create_otp_challenge(&challenge(&brand, 3), later, later - 3_600_000)
        .await
        .unwrap();
    assert_eq!(
        db.claim_otp_attempt(brand.id, &index(1), OTP_MAX_ATTEMPTS, later)
            .await
            .unwrap(),
        OtpAttempt::Refused(OtpRefusal::NoChallenge)
    );
}
both!(codes_expire_and_belong_to_one_phone_and_brand);

async fn the_throttle_counts_hits_in_a_fixed_window(db: &Db) {
    let key = "otp-1m:abcdef";
    let first = db.hit_throttle(key, NOW_MS, 60_000).await.unwrap();
    assert_eq!((first.count, first.window_started_ms), (1, NOW_MS));
    let second = db.hit_throttle(key, NOW_MS + 59_999, 60_000).await.unwrap();
    assert_eq!((second.count, second.window_started_ms), (2, NOW_MS));
    let next_window = db.hit_throttle(key, NOW_MS + 60_000, 60_000).await.unwrap();
    assert_eq!(
        (next_window.count, next_window.window_started_ms),
        (1, NOW_MS + 60_000)
    );
    assert_eq!(
        db.hit_throttle("other", NOW_MS, 60_000)
            .await
            .unwrap()
            .count,
        1
    );
}
both!(the_throttle_counts_hits_in_a_fixed_window);

async fn favourites_are_the_customers_own_and_the_brands_dishes(db: &Db) {
    let menu = crate::ordering::menu_with_stock(db, 5).await;
    let foreign = crate::ordering::menu_of_brand(db, "elsewhere", 5).await;
    let (brand, dish) = (menu.brand, menu.dish);
    let customer = db
        .customer_by_phone_or_create(brand, &index(7), &sealed(7), "顾客", NOW_MS)
        .await
        .unwrap();

    assert!(
        db.add_favourites(brand, customer.id, &[dish, dish], NOW_MS)
            .await
            .unwrap(),
        "starring twice is fine"
    );
    assert!(
        !db.add_favourites(brand, customer.id, &[foreign.dish], NOW_MS)
            .await
            .unwrap(),
        "another brand's dish cannot be starred"
    );
    assert_eq!(db.favourites(brand, customer.id).await.unwrap(), [dish]);
    db.remove_favourite(customer.id, dish).await.unwrap();
    assert!(db.favourites(brand, customer.id).await.unwrap().is_empty());
}
both!(favourites_are_the_customers_own_and_the_brands_dishes);
