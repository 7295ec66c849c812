//! The storage conformance suite: every story runs once on SQLite and once on PostgreSQL.

mod balance;
mod catalog;
mod customers;
mod dispatch;
mod kitchen;
mod membership;
mod notifications;
mod ordering;
mod outbox;
mod parity;
mod payments;
mod print_agents;
mod printing;
mod promotions;
mod reconciliation;
mod retention;
mod secrets;
mod staff;
mod tenancy;

use diancan_domain::money::Money;
use diancan_domain::schedule::{Schedule, StoreTimeZone, TimeOfDay};
use diancan_domain::store::{GeoPoint, PackingFee, PayMode, StoreRules};
use diancan_storage::testing::TestDb;
use diancan_storage::{Brand, Db, DbConfig, Store, StoreProfile};

/// Declares a story as two tests, `sqlite` and `postgres`, each on its own fresh database.
///
/// `both!(story)` runs on the default single-threaded runtime. `both!(race story)` runs on four
/// worker threads, so writes fired together really overlap (and really contend for locks).
/// `both!(instances story)` does too, and hands the story the whole [`TestDb`] so it can connect
/// a second instance (its own pools and write lanes) to the same database.
///
/// [`TestDb`]: diancan_storage::testing::TestDb
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        $crate::both!(@tests [tokio::test] $name, db);
    };
    (race $name:ident) => {
        $crate::both!(@tests [tokio::test(flavor = "multi_thread", worker_threads = 4)] $name, db);
    };
    (instances $name:ident) => {
        $crate::both!(@tests [tokio::test(flavor = "multi_thread", worker_threads = 4)] $name, whole);
    };
    (@tests [$($test:tt)*] $name:ident, $takes:ident) => {
        mod $name {
            #[$($test)*]
            async fn sqlite() {
                let test_db = diancan_storage::testing::TestDb::sqlite().await;
                super::$name($crate::both!(@arg test_db, $takes)).await;
                test_db.cleanup().await;
            }

            #[$($test)*]
            async fn postgres() {
                let Some(test_db) = diancan_storage::testing::TestDb::postgres().await else {
                    return;
                };
                super::$name($crate::both!(@arg test_db, $takes)).await;
                test_db.cleanup().await;
            }
        }
    };
    (@arg $test_db:ident, db) => {
        &$test_db.db
    };
    (@arg $test_db:ident, whole) => {
        &$test_db
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
            time_zone: StoreTimeZone::parse("Asia/Shanghai").unwrap(),
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
            auto_accept: Default::default(),
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

/// A second instance of the app on the test's database: its own pools and write lanes, as
/// another process would have (on SQLite, another writer on the same file).
pub async fn another_instance(test_db: &TestDb) -> Db {
    let mut config = DbConfig::new(&test_db.url);
    config.max_connections = 8;
    config.sqlite_durable = false;
    Db::connect(&config).await.expect("a second instance")
}
