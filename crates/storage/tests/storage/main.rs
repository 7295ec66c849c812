//! The storage conformance suite: every story runs once on SQLite and once on PostgreSQL.

mod catalog;
mod customers;
mod ordering;
mod parity;
mod secrets;
mod staff;
mod tenancy;

use diancan_domain::money::Money;
use diancan_domain::schedule::{Schedule, TimeOfDay};
use diancan_domain::store::{GeoPoint, PackingFee, PayMode, StoreRules};
use diancan_storage::{Brand, Db, Store, StoreProfile};

/// Declares a story as two tests, `sqlite` and `postgres`, each on its own fresh database.
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let test_db = diancan_storage::testing::TestDb::sqlite().await;
                super::$name(&test_db.db).await;
                test_db.cleanup().await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(test_db) = diancan_storage::testing::TestDb::postgres().await else {
                    return;
                };
                super::$name(&test_db.db).await;
                test_db.cleanup().await;
            }
        }
    };
}

pub const NOW_MS: i64 = 1_795_000_000_000;

pub fn store_profile(name: &str) -> StoreProfile {
    StoreProfile {
        name: name.to_owned(),
        name_en: None,
        address: "上海市黄浦区南京东路 1 号".to_owned(),
        phone: None,
        location: GeoPoint::parse(31_235_000, 121_480_000).unwrap(),
        rules: StoreRules {
            time_zone: "Asia/Shanghai".to_owned(),
            hours: Schedule::always(),
            accepting_orders: true,
            pay_mode: PayMode::PayFirst,
            packing_fee: PackingFee::PerItem {
                fee_fen: Money::from_fen(100),
            },
            seat_fee_fen: Money::ZERO,
            business_day_starts_at: TimeOfDay::parse("04:00").unwrap(),
            table_ordering: Default::default(),
            delivery_zones: Vec::new(),
            slots: Default::default(),
            unpaid_timeout_minutes: 15,
        },
    }
}

/// A brand with one store, the starting point of most stories.
pub async fn brand_with_store(db: &Db, slug: &str) -> (Brand, Store) {
    let brand = db.create_brand("老街面馆", slug, NOW_MS).await.unwrap();
    let store = db
        .create_store(brand.id, &store_profile("人民广场店"), NOW_MS)
        .await
        .unwrap();
    (brand, store)
}
