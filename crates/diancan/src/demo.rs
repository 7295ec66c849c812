//! The demo restaurant that `cargo run` shows on an empty database: 小满面馆, a noodle brand
//! with two Shanghai stores, about forty dishes with specs, tastes, add-ons and combos, tables in
//! 大厅 and 包间, three kitchen stations, and a login for every role. Pictures are drawn locally.

use diancan_domain::catalog::{
    Category, CategoryDraft, Dish, DishDraft, SkuStoreSettings, Station,
};
use diancan_domain::money::Money;
use diancan_domain::ordering::{DeliveryZone, ZoneArea};
use diancan_domain::schedule::{Schedule, TimeOfDay, TimeWindow, Weekdays};
use diancan_domain::staff::{Role, StoreAccess};
use diancan_domain::store::{GeoPoint, PackingFee, PayMode, StoreRules};
use diancan_domain::text::Name;
use diancan_domain::*;
use diancan_integrations::demo_images::{DishStyle, dish_picture};
use diancan_storage::{Brand, Db, DiningTable, ImageData, NewStaff, Store, StoreProfile};
use serde_json::json;
use std::collections::{HashMap, HashSet};

pub const DEMO_PASSWORD: &str = "diancan123";
pub const DEMO_BRAND_SLUG: &str = "xiaoman";

/// Login names and what they are for, as printed at start-up.
pub const DEMO_STAFF_LOGINS: [(&str, &str); 6] = [
    ("owner", "老板 owner: everything, both stores"),
    ("manager", "店长 manager: 人民广场店"),
    ("cashier", "收银 cashier: 人民广场店"),
    ("waiter", "服务员 waiter: 人民广场店"),
    ("kitchen", "后厨 kitchen: 人民广场店"),
    ("rider", "骑手 rider: 人民广场店"),
];

/// What the start-up banner points at.
pub struct DemoTour {
    pub store_id: StoreId,
    pub table_label: String,
    pub table_path: String,
}

/// The first demo store and one of its tables, when the demo brand exists.
pub async fn tour(db: &Db) -> anyhow::Result<Option<DemoTour>> {
    let Some(brand) = db
        .brands()
        .await?
        .into_iter()
        .find(|b| b.slug == DEMO_BRAND_SLUG)
    else {
        return Ok(None);
    };
    let Some(store) = db
        .stores_of_brand(brand.id)
        .await?
        .into_iter()
        .find_map(Result::ok)
    else {
        return Ok(None);
    };
    let areas = db.areas(brand.id, store.id).await?;
    let Some(table) = db
        .tables(brand.id, store.id)
        .await?
        .into_iter()
        .find(|t| t.code == "A3")
    else {
        return Ok(None);
    };
    let area = areas
        .iter()
        .find(|a| a.id == table.area_id)
        .map(|a| a.name.clone())
        .unwrap_or_default();
    Ok(Some(DemoTour {
        store_id: store.id,
        table_label: format!("{area} {}", table.code),
        table_path: format!("/t/{}", table.qr_token),
    }))
}

/// Seeds the demo when the database has no brand yet; returns the demo brand if it did.
/// `fast_hashing` is for tests only.
pub async fn seed_if_empty(db: &Db, fast_hashing: bool) -> anyhow::Result<Option<Brand>> {
    if !db.brands().await?.is_empty() {
        return Ok(None);
    }
    Ok(Some(seed(db, fast_hashing).await?))
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn window(days: Weekdays, start: &str, end: &str) -> TimeWindow {
    TimeWindow {
        weekdays: days,
        start: TimeOfDay::parse(start).expect("demo time"),
        end: TimeOfDay::parse(end).expect("demo time"),
    }
}

fn store_profile(
    name: &str,
    address: &str,
    lat: i64,
    lng: i64,
    pay_mode: PayMode,
    open: &str,
    close: &str,
) -> StoreProfile {
    StoreProfile {
        name: name.into(),
        name_en: None,
        address: address.into(),
        phone: Some("021-6351 8888".into()),
        location: GeoPoint::parse(lat, lng).expect("demo coordinates"),
        rules: StoreRules {
            time_zone: diancan_domain::schedule::StoreTimeZone::shanghai(),
            hours: Schedule::new(vec![window(Weekdays::ALL, open, close)]),
            accepting_orders: true,
            pay_mode,
            packing_fee: PackingFee::PerItem {
                fee_fen: Money::from_fen(100),
            },
            seat_fee_fen: if pay_mode == PayMode::PayAfterMeal {
                Money::from_fen(200)
            } else {
                Money::ZERO
            },
            business_day_starts_at: TimeOfDay::parse("04:00").expect("demo time"),
            table_ordering: Default::default(),
            delivery_zones: demo_zones(),
            slots: Default::default(),
            unpaid_timeout_minutes: 15,
            auto_accept: Default::default(),
        },
    }
}

/// Two rings around each store: ¥5 within 3 km (from ¥20), ¥8 within 5 km (from ¥40).
fn demo_zones() -> Vec<DeliveryZone> {
    let ring = |name: &str, radius_m, fee, minimum| DeliveryZone {
        name: name.into(),
        area: ZoneArea::Radius { radius_m },
        fee_fen: Money::from_yuan(fee),
        minimum_order_fen: Money::from_yuan(minimum),
    };
    vec![ring("3公里内", 3_000, 5, 20), ring("5公里内", 5_000, 8, 40)]
}

async fn seed(db: &Db, fast_hashing: bool) -> anyhow::Result<Brand> {
    let now = now_ms();
    let brand = db.create_brand("小满面馆", DEMO_BRAND_SLUG, now).await?;
    let people_square = db
        .create_store(
            brand.id,
            &store_profile(
                "人民广场店",
                "上海市黄浦区南京西路 2 号",
                31_232_400,
                121_475_600,
                PayMode::PayFirst,
                "07:00",
                "22:00",
            ),
            now,
        )
        .await?;
    let xujiahui = db
        .create_store(
            brand.id,
            &store_profile(
                "徐家汇店",
                "上海市徐汇区漕溪北路 88 号",
                31_195_500,
                121_437_000,
                PayMode::PayAfterMeal,
                "10:00",
                "21:30",
            ),
            now,
        )
        .await?;
    for store in [&people_square, &xujiahui] {
        seed_floor(db, &brand, store).await?;
    }
    seed_staff(db, &brand, &people_square, fast_hashing).await?;
    let dishes = seed_menu(db, &brand).await?;
    seed_store_stock(db, &brand, &people_square, &dishes).await?;
    seed_membership(db, &brand).await?;
    seed_promotions(db, &brand, &dishes).await?;
    Ok(brand)
}

/// The demo brand's 会员: the standard levels, a point per yuan, 会员日 every Wednesday with
/// double points, 充100送20 and 充200送50, and one member part-way to 黄金 with points and a
/// balance, so the console's 会员 page has someone to show.
async fn seed_membership(db: &Db, brand: &Brand) -> anyhow::Result<()> {
    use diancan_domain::balance::{EntryKind, reference as balance_reference};
    use diancan_domain::customer::BlindIndex;
    use diancan_domain::membership::points::{PointsKind, reference};
    use diancan_domain::membership::recharge::{RechargeTier, RechargeTiers};
    use diancan_domain::membership::{MemberDay, Programme};
    use diancan_storage::balance::NewEntry;
    use diancan_storage::membership::NewPoints;

    let now = now_ms();
    let tier = |pay, bonus| RechargeTier {
        pay_fen: Money::from_yuan(pay),
        bonus_fen: Money::from_yuan(bonus),
    };
    let programme = Programme {
        member_day: Some(MemberDay::parse(3, 2)?),
        recharge_tiers: RechargeTiers::parse(&[tier(100, 20), tier(200, 50)])?,
        ..Programme::standard()
    };
    db.save_membership_programme(brand.id, &programme, now)
        .await?;
    // A WeChat diner (no phone to seal here): the index is of a fixed demo openid.
    let member = db
        .customer_by_wechat_or_create(
            brand.id,
            &BlindIndex::from_bytes(b"demo-member-xiaoman-openid-00001".to_vec()),
            "演示会员 小满",
            now,
        )
        .await?;
    db.join_membership(brand.id, member.id, now).await?;
    let expires_at_ms = programme.expiry.expires_at_ms(
        now,
        diancan_domain::schedule::StoreTimeZone::shanghai().zone(),
    );
    db.post_points(
        brand.id,
        member.id,
        |_| {
            vec![NewPoints {
                kind: PointsKind::Adjust,
                points: 680,
                growth: 1_280,
                expires_at_ms,
                lot: None,
                reference: reference::staff(uuid::Uuid::from_u128(1)),
                order_id: None,
                reason: "演示数据：历史消费积分".into(),
                actor: "system".into(),
            }]
        },
        now,
    )
    .await?;
    for (kind, amount, reason) in [
        (EntryKind::Recharge, Money::from_yuan(100), "演示数据：充值"),
        (
            EntryKind::Bonus,
            Money::from_yuan(20),
            "演示数据：充100送20",
        ),
    ] {
        db.post_staff_entry(
            brand.id,
            member.id,
            NewEntry {
                kind,
                amount,
                reason,
                reference: balance_reference::staff(uuid::Uuid::from_u128(2)),
                order_id: None,
                actor: "system",
            },
            now,
        )
        .await?;
    }
    Ok(())
}

async fn seed_floor(db: &Db, brand: &Brand, store: &Store) -> anyhow::Result<()> {
    // Tokens are signed with the same database-held key the server verifies them with.
    let key = diancan_web::table_token::load_or_create_key(db).await?;
    let hall = db.create_area(brand.id, store.id, "大厅", 1).await?;
    let rooms = db.create_area(brand.id, store.id, "包间", 2).await?;
    for n in 1..=12 {
        let id = TableId::new();
        let token = diancan_web::table_token::issue(&key, id);
        let seats = if n <= 8 { 4 } else { 6 };
        db.create_table(
            brand.id,
            &DiningTable {
                id,
                store_id: store.id,
                area_id: hall.id,
                code: format!("A{n}"),
                seats,
                qr_token: token,
            },
        )
        .await?;
    }
    for n in 1..=4 {
        let id = TableId::new();
        let token = diancan_web::table_token::issue(&key, id);
        db.create_table(
            brand.id,
            &DiningTable {
                id,
                store_id: store.id,
                area_id: rooms.id,
                code: format!("包间{n}"),
                seats: 10,
                qr_token: token,
            },
        )
        .await?;
    }
    Ok(())
}

async fn seed_staff(
    db: &Db,
    brand: &Brand,
    store: &Store,
    fast_hashing: bool,
) -> anyhow::Result<()> {
    let hash = diancan_web::passwords::hash(DEMO_PASSWORD.to_owned(), fast_hashing).await;
    let people = [
        ("owner", "满老板", Role::Owner),
        ("manager", "李店长", Role::Manager),
        ("cashier", "王收银", Role::Cashier),
        ("waiter", "小张", Role::Waiter),
        ("kitchen", "陈师傅", Role::Kitchen),
        ("rider", "赵骑手", Role::Rider),
    ];
    for (login, name, role) in people {
        let access = if role == Role::Owner {
            StoreAccess::AllStores
        } else {
            StoreAccess::Only(vec![store.id])
        };
        db.create_staff(
            &NewStaff {
                brand_id: brand.id,
                login: login.into(),
                display_name: name.into(),
                password_hash: hash.clone(),
                role,
                access,
            },
            now_ms(),
        )
        .await?;
    }
    Ok(())
}

/// One row of the demo menu: category, name, English name, description, tags, station,
/// picture style, specs `(code, spec name, yuan)`, and the option groups by name.
struct DemoDish {
    category: &'static str,
    name: &'static str,
    name_en: &'static str,
    description: &'static str,
    tags: &'static [&'static str],
    station: &'static str,
    style: DishStyle,
    specs: &'static [(&'static str, &'static str, i64)],
    options: &'static [&'static str],
}

/// A row of `MENU`, in the field order of `DemoDish`.
macro_rules! dish {
    ($category:expr, $name:expr, $name_en:expr, $description:expr, $tags:expr, $station:expr, $style:expr, $specs:expr, $options:expr $(,)?) => {
        DemoDish {
            category: $category,
            name: $name,
            name_en: $name_en,
            description: $description,
            tags: $tags,
            station: $station,
            style: $style,
            specs: $specs,
            options: $options,
        }
    };
}

use DishStyle::*;

const MENU: &[DemoDish] = &[
    dish!(
        "热销",
        "红烧牛肉面",
        "Braised Beef Noodles",
        "慢炖四小时的牛腱，汤浓面韧",
        &["招牌", "辣"],
        "热菜",
        Noodles,
        &[("NR-L", "大碗", 32), ("NR-M", "中碗", 28)],
        &["辣度", "面条加料"],
    ),
    dish!(
        "热销",
        "老坛酸菜鱼",
        "Pickled Cabbage Fish",
        "现杀黑鱼，老坛酸菜，酸辣开胃",
        &["招牌", "辣"],
        "热菜",
        Soup,
        &[("SCY", "", 68)],
        &["辣度"],
    ),
    dish!(
        "热销",
        "葱油拌面",
        "Scallion Oil Noodles",
        "熬足葱油，开洋提鲜",
        &["招牌"],
        "热菜",
        Noodles,
        &[("CYBM", "", 18)],
        &["面条加料"],
    ),
    dish!(
        "热销",
        "小笼包",
        "Soup Dumplings",
        "八只一笼，皮薄汤多",
        &["招牌"],
        "热菜",
        Dumplings,
        &[("XLB", "8只", 22)],
        &[],
    ),
    dish!(
        "新品",
        "番茄肥牛面",
        "Tomato Beef Noodles",
        "新鲜番茄熬汤，肥牛现涮",
        &["新品"],
        "热菜",
        Noodles,
        &[("FQFN-L", "大碗", 36), ("FQFN-M", "中碗", 32)],
        &["面条加料"],
    ),
    dish!(
        "新品",
        "藤椒鸡丝凉面",
        "Sichuan Pepper Chicken Cold Noodles",
        "藤椒清麻，鸡丝手撕",
        &["新品", "辣"],
        "凉菜",
        Noodles,
        &[("TJLM", "", 26)],
        &["辣度"],
    ),
    dish!(
        "新品",
        "芋泥波波奶茶",
        "Taro Boba Milk Tea",
        "手捣芋泥配黑糖波波",
        &["新品"],
        "饮品",
        Drink,
        &[("YNBB-M", "中杯", 18), ("YNBB-L", "大杯", 21)],
        &["甜度", "温度"],
    ),
    dish!(
        "面食",
        "阳春面",
        "Plain Noodle Soup",
        "清汤细面，一撮葱花",
        &[],
        "热菜",
        Noodles,
        &[("YCM", "", 12)],
        &["面条加料"],
    ),
    dish!(
        "面食",
        "雪菜肉丝面",
        "Pickled Greens & Pork Noodles",
        "雪菜爽脆，肉丝滑嫩",
        &[],
        "热菜",
        Noodles,
        &[("XCRS", "", 22)],
        &["面条加料"],
    ),
    dish!(
        "面食",
        "大排面",
        "Pork Chop Noodles",
        "现炸大排，浇头另放",
        &[],
        "热菜",
        Noodles,
        &[("DPM", "", 26)],
        &["面条加料"],
    ),
    dish!(
        "面食",
        "辣肉面",
        "Spicy Pork Noodles",
        "本帮辣肉浇头，甜辣适口",
        &["辣"],
        "热菜",
        Noodles,
        &[("LRM", "", 24)],
        &["辣度", "面条加料"],
    ),
    dish!(
        "面食",
        "老北京炸酱面",
        "Zhajiang Noodles",
        "黄酱甜面酱双酱炒制",
        &[],
        "热菜",
        Noodles,
        &[("ZJM", "", 22)],
        &[],
    ),
    dish!(
        "面食",
        "虾仁拌面",
        "Shrimp Noodles",
        "现剥河虾仁",
        &[],
        "热菜",
        Noodles,
        &[("XRBM", "", 38)],
        &[],
    ),
    dish!(
        "面食",
        "三鲜馄饨",
        "Three-Treasure Wontons",
        "十二只，荠菜鲜肉虾仁",
        &[],
        "热菜",
        Dumplings,
        &[("SXHT", "12只", 20)],
        &[],
    ),
    dish!(
        "面食",
        "担担面",
        "Dan Dan Noodles",
        "芽菜肉末，红油花生碎",
        &["辣"],
        "热菜",
        Noodles,
        &[("DDM", "", 20)],
        &["辣度"],
    ),
    dish!(
        "面食",
        "牛肉炒面",
        "Beef Fried Noodles",
        "大火快炒，锅气十足",
        &[],
        "热菜",
        Noodles,
        &[("NRCM", "", 28)],
        &[],
    ),
    dish!(
        "小吃",
        "拍黄瓜",
        "Smashed Cucumber",
        "蒜香醋汁",
        &[],
        "凉菜",
        Greens,
        &[("PHG", "", 10)],
        &[],
    ),
    dish!(
        "小吃",
        "卤蛋",
        "Braised Egg",
        "老卤浸足一夜",
        &[],
        "凉菜",
        Snack,
        &[("LD", "", 3)],
        &[],
    ),
    dish!(
        "小吃",
        "炸春卷",
        "Spring Rolls",
        "四根，外酥里嫩",
        &[],
        "热菜",
        Snack,
        &[("ZCJ", "4根", 12)],
        &[],
    ),
    dish!(
        "小吃",
        "煎饺",
        "Pan-fried Dumplings",
        "底部焦脆，十只",
        &[],
        "热菜",
        Dumplings,
        &[("JJ", "10只", 16)],
        &[],
    ),
    dish!(
        "小吃",
        "凉拌木耳",
        "Wood Ear Salad",
        "小米辣，陈醋",
        &["辣"],
        "凉菜",
        Greens,
        &[("LBME", "", 14)],
        &[],
    ),
    dish!(
        "小吃",
        "口水鸡",
        "Mouthwatering Chicken",
        "红油麻辣，鸡肉嫩滑",
        &["辣"],
        "凉菜",
        Rice,
        &[("KSJ", "", 32)],
        &[],
    ),
    dish!(
        "小吃",
        "椒盐排条",
        "Salt & Pepper Pork Strips",
        "外脆里嫩",
        &[],
        "热菜",
        Snack,
        &[("JYPT", "", 28)],
        &[],
    ),
    dish!(
        "小吃",
        "糖醋小排",
        "Sweet & Sour Ribs",
        "本帮做法，浓油赤酱",
        &[],
        "热菜",
        Rice,
        &[("TCXP", "", 36)],
        &[],
    ),
    dish!(
        "小吃",
        "蒜蓉西兰花",
        "Garlic Broccoli",
        "清炒时蔬",
        &[],
        "热菜",
        Greens,
        &[("SRXLH", "", 18)],
        &[],
    ),
    dish!(
        "小吃",
        "生煎包",
        "Pan-fried Buns",
        "四只，汤汁饱满",
        &[],
        "热菜",
        Dumplings,
        &[("SJB", "4只", 15)],
        &[],
    ),
    dish!(
        "早餐",
        "豆浆",
        "Soy Milk",
        "现磨",
        &[],
        "饮品",
        Drink,
        &[("DJ-H", "热", 4), ("DJ-C", "冰", 4)],
        &["甜度"],
    ),
    dish!(
        "早餐",
        "油条",
        "Fried Dough Stick",
        "现炸",
        &[],
        "热菜",
        Snack,
        &[("YT", "", 3)],
        &[],
    ),
    dish!(
        "早餐",
        "粢饭团",
        "Sticky Rice Roll",
        "油条肉松咸蛋黄",
        &[],
        "热菜",
        Rice,
        &[("CFT", "", 8)],
        &[],
    ),
    dish!(
        "早餐",
        "菜肉包",
        "Vegetable & Pork Bun",
        "",
        &[],
        "热菜",
        Dumplings,
        &[("CRB", "", 3)],
        &[],
    ),
    dish!(
        "饮品",
        "酸梅汤",
        "Sour Plum Drink",
        "乌梅山楂桂花，古法熬煮",
        &[],
        "饮品",
        Drink,
        &[("SMT-M", "中杯", 8), ("SMT-L", "大杯", 10)],
        &[],
    ),
    dish!(
        "饮品",
        "冻柠檬茶",
        "Iced Lemon Tea",
        "港式手打",
        &[],
        "饮品",
        Drink,
        &[("DNMC", "", 12)],
        &["甜度"],
    ),
    dish!(
        "饮品",
        "珍珠奶茶",
        "Bubble Milk Tea",
        "",
        &[],
        "饮品",
        Drink,
        &[("ZZNC-M", "中杯", 15), ("ZZNC-L", "大杯", 18)],
        &["甜度", "温度", "奶茶加料"],
    ),
    dish!(
        "饮品",
        "可乐",
        "Cola",
        "",
        &[],
        "饮品",
        Drink,
        &[("KL", "330ml", 6)],
        &[],
    ),
    dish!(
        "饮品",
        "青岛啤酒",
        "Tsingtao Beer",
        "",
        &[],
        "饮品",
        Drink,
        &[("QDPJ", "500ml", 10)],
        &[],
    ),
    dish!(
        "甜品",
        "红糖糍粑",
        "Brown Sugar Rice Cakes",
        "外脆内糯，淋红糖浆",
        &[],
        "热菜",
        Dessert,
        &[("HTCB", "", 16)],
        &[],
    ),
    dish!(
        "甜品",
        "杨枝甘露",
        "Mango Pomelo Sago",
        "芒果西柚西米",
        &[],
        "饮品",
        Dessert,
        &[("YZGL", "", 22)],
        &[],
    ),
    dish!(
        "甜品",
        "桂花酒酿圆子",
        "Osmanthus Rice Balls",
        "",
        &[],
        "热菜",
        Dessert,
        &[("GHJN", "", 14)],
        &[],
    ),
];

fn option_group(name: &str) -> serde_json::Value {
    let (min, max, options): (i64, i64, Vec<(&str, i64)>) = match name {
        "辣度" => (
            1,
            1,
            vec![("不辣", 0), ("微辣", 0), ("中辣", 0), ("特辣", 0)],
        ),
        "面条加料" => (
            0,
            3,
            vec![
                ("加蛋", 200),
                ("加牛肉", 1000),
                ("加面", 300),
                ("加青菜", 200),
            ],
        ),
        "甜度" => (
            1,
            1,
            vec![("标准糖", 0), ("七分糖", 0), ("半糖", 0), ("无糖", 0)],
        ),
        "温度" => (
            1,
            1,
            vec![("正常冰", 0), ("少冰", 0), ("去冰", 0), ("热", 0)],
        ),
        "奶茶加料" => (0, 3, vec![("珍珠", 200), ("椰果", 200), ("布丁", 300)]),
        _ => (0, 1, vec![]),
    };
    let label = if name.ends_with("加料") {
        "加料"
    } else {
        name
    };
    json!({
        "name": label, "min_select": min, "max_select": max,
        "options": options.iter().map(|(n, fen)| json!({"name": n, "price_delta_fen": fen})).collect::<Vec<_>>()
    })
}

async fn picture(db: &Db, brand: BrandId, seed: u64, style: DishStyle) -> anyhow::Result<ImageId> {
    let processed = tokio::task::spawn_blocking(move || {
        let png = dish_picture(seed, style);
        diancan_integrations::images::process_upload(&png)
    })
    .await??;
    let id = ImageId::new();
    db.save_image(
        brand,
        &ImageData {
            id,
            thumbnail: processed.thumbnail,
            detail: processed.detail,
            width: processed.width,
            height: processed.height,
        },
        now_ms(),
    )
    .await?;
    Ok(id)
}

/// 营销: 满减 tiers on every order, 第二份半价 on the signature noodle, a 下午茶 price for the
/// milk tea from 14:00 to 17:00, and three coupons in the coupon centre.
async fn seed_promotions(
    db: &Db,
    brand: &Brand,
    dishes: &HashMap<&'static str, Dish>,
) -> anyhow::Result<()> {
    use diancan_domain::promotions::*;
    use diancan_storage::promotions::{Issuing, PromotionWindow};
    let dish_id = |name: &str| {
        dishes
            .get(name)
            .map(|d| d.id)
            .ok_or_else(|| anyhow::anyhow!("demo dish {name}"))
    };
    let yuan = Money::from_yuan;
    let coupon_ids = [CouponId::new(), CouponId::new(), CouponId::new()];
    let afternoon = Conditions {
        schedule: Schedule::new(vec![window(Weekdays::ALL, "14:00", "17:00")]),
        ..Conditions::always()
    };
    let promotions = [
        (
            "满50减5，满100减15",
            Conditions::always(),
            PromotionBenefit::SpendAndSave {
                scope: ItemScope::everything(),
                tiers: vec![
                    Tier {
                        threshold: yuan(50),
                        save: yuan(5),
                    },
                    Tier {
                        threshold: yuan(100),
                        save: yuan(15),
                    },
                ],
            },
            // The brand's coupons come off on top; a second 满减 would not.
            Stacking {
                exclusive: false,
                with_classes: ClassSet::of(&[Class::Item, Class::DeliveryFee]),
                with_rules: coupon_ids.iter().map(|id| RuleRef::Coupon(*id)).collect(),
            },
        ),
        (
            "红烧牛肉面第二份半价",
            Conditions::always(),
            PromotionBenefit::NthItem {
                scope: ItemScope::dishes(&[dish_id("红烧牛肉面")?]),
                nth: 2,
                pays: BasisPoints::new(5_000).expect("a rate"),
            },
            Stacking::with_everything(),
        ),
        (
            "下午茶 芋泥波波奶茶 12 元",
            afternoon,
            PromotionBenefit::SlotPrice {
                dish_id: dish_id("芋泥波波奶茶")?,
                price: yuan(12),
            },
            Stacking::with_everything(),
        ),
    ];
    for (name, conditions, benefit, stacking) in promotions {
        let promotion = Promotion::new(PromotionSpec {
            id: PromotionId::new(),
            name: name.into(),
            conditions,
            benefit,
            stacking,
        })
        .map_err(|e| anyhow::anyhow!("demo promotion {name}: {e}"))?;
        let window = PromotionWindow {
            enabled: true,
            starts_at_ms: None,
            ends_at_ms: None,
            per_diner_limit: None,
        };
        db.save_promotion(brand.id, &promotion, &window, None, now_ms())
            .await?;
    }
    let coupons = [
        (
            "无门槛5元券",
            CouponBenefit::NoThreshold { off: yuan(5) },
            7,
            1,
            Some(1_000),
        ),
        (
            "满30减8元券",
            CouponBenefit::Threshold {
                min_spend: yuan(30),
                off: yuan(8),
            },
            14,
            2,
            None,
        ),
        (
            "外卖免配送费券",
            CouponBenefit::DeliveryFee {
                off: FeeOff::Free,
                min_spend: yuan(20),
            },
            30,
            3,
            None,
        ),
    ];
    for ((name, benefit, days, per_diner_limit, total_limit), id) in
        coupons.into_iter().zip(coupon_ids)
    {
        let coupon = Coupon::new(CouponSpec {
            id,
            name: name.into(),
            benefit,
            scope: ItemScope::everything(),
            conditions: Conditions::always(),
            validity: Validity::DaysAfterClaim { days },
            stacks_with_same_class: false,
            // One coupon per class (the engine's rule); with any promotion that accepts it.
            stacking: Stacking::with_everything(),
        })
        .map_err(|e| anyhow::anyhow!("demo coupon {name}: {e}"))?;
        let issuing = Issuing {
            enabled: true,
            claimable: true,
            per_diner_limit,
            total_limit,
        };
        db.save_coupon_template(brand.id, &coupon, &issuing, None, now_ms())
            .await?;
    }
    Ok(())
}

async fn seed_menu(db: &Db, brand: &Brand) -> anyhow::Result<HashMap<&'static str, Dish>> {
    let mut stations = HashMap::new();
    for (i, (name, en)) in [
        ("热菜", "Hot kitchen"),
        ("凉菜", "Cold kitchen"),
        ("饮品", "Drinks bar"),
    ]
    .into_iter()
    .enumerate()
    {
        let station = Station {
            id: StationId::new(),
            brand_id: brand.id,
            name: Name::parse(name)
                .map_err(|p| anyhow::anyhow!("demo station: {}", p.message_en()))?,
            name_en: Some(en.into()),
            sort_order: i as i64,
        };
        db.create_station(&station).await?;
        stations.insert(name, station.id);
    }
    let breakfast = Schedule::new(vec![window(Weekdays::ALL, "06:30", "10:30")]);
    let weekday_lunch = Schedule::new(vec![window(Weekdays::MON_TO_FRI, "10:30", "14:30")]);
    let mut categories: HashMap<&str, Category> = HashMap::new();
    for (i, (name, en, availability)) in [
        ("热销", "Best sellers", Schedule::always()),
        ("新品", "New", Schedule::always()),
        ("套餐", "Set meals", Schedule::always()),
        ("早餐", "Breakfast", breakfast),
        ("面食", "Noodles", Schedule::always()),
        ("小吃", "Small plates", Schedule::always()),
        ("饮品", "Drinks", Schedule::always()),
        ("甜品", "Desserts", Schedule::always()),
    ]
    .into_iter()
    .enumerate()
    {
        let category = CategoryDraft {
            name: name.into(),
            name_en: Some(en.into()),
            sort_order: i as i64 * 10,
            availability,
        }
        .parse(CategoryId::new(), brand.id)
        .map_err(|e| anyhow::anyhow!("demo category {name}: {e}"))?;
        db.create_category(&category).await?;
        categories.insert(name, category);
    }

    let mut dishes = HashMap::new();
    for (i, demo) in MENU.iter().enumerate() {
        let image = picture(db, brand.id, i as u64 * 7919 + 17, demo.style).await?;
        let skus: Vec<_> = demo
            .specs
            .iter()
            .map(|(code, spec, yuan)| json!({"code": code, "name": if spec.is_empty() { None } else { Some(*spec) }, "price_fen": yuan * 100}))
            .collect();
        let draft: DishDraft = serde_json::from_value(json!({
            "category_id": categories[demo.category].id,
            "name": demo.name,
            "name_en": demo.name_en,
            "description": if demo.description.is_empty() { None } else { Some(demo.description) },
            "tags": demo.tags,
            "station_id": stations[demo.station],
            "sort_order": i,
            "image_ids": [image],
            "portion": if demo.category == "面食" || demo.category == "热销" { Some("一人份") } else { None },
            "calories_kcal": if demo.style == Noodles { Some(620) } else { None },
            "skus": skus,
            "option_groups": demo.options.iter().map(|n| option_group(n)).collect::<Vec<_>>(),
        }))?;
        let dish = draft
            .parse(DishId::new(), brand.id, &HashSet::new())
            .map_err(|e| anyhow::anyhow!("demo dish {}: {e}", demo.name))?;
        db.save_dish(&dish, true, now_ms()).await?;
        dishes.insert(demo.name, dish);
    }

    let sku = |name: &str, index: usize| dishes[name].skus[index].id;
    let combos = [
        (
            "工作日午市套餐",
            "Weekday Lunch Set",
            "一碗面 + 一份小吃 + 一杯饮品，周一至周五 10:30–14:30",
            3900,
            weekday_lunch,
            json!([
                {"name": "主食", "min_select": 1, "max_select": 1, "choices": [
                    {"sku_id": sku("红烧牛肉面", 1)}, {"sku_id": sku("葱油拌面", 0)}, {"sku_id": sku("番茄肥牛面", 1), "price_delta_fen": 400}]},
                {"name": "小吃", "min_select": 1, "max_select": 1, "choices": [
                    {"sku_id": sku("拍黄瓜", 0)}, {"sku_id": sku("卤蛋", 0)}, {"sku_id": sku("炸春卷", 0)}]},
                {"name": "饮品", "min_select": 1, "max_select": 1, "choices": [
                    {"sku_id": sku("酸梅汤", 0)}, {"sku_id": sku("冻柠檬茶", 0)}]}
            ]),
        ),
        (
            "双人套餐",
            "Set for Two",
            "招牌牛肉面、葱油拌面、小笼包，再选两杯饮品",
            9800,
            Schedule::always(),
            json!([
                {"name": "招牌牛肉面", "min_select": 1, "max_select": 1, "choices": [{"sku_id": sku("红烧牛肉面", 0)}]},
                {"name": "葱油拌面", "min_select": 1, "max_select": 1, "choices": [{"sku_id": sku("葱油拌面", 0)}]},
                {"name": "小笼包", "min_select": 1, "max_select": 1, "choices": [{"sku_id": sku("小笼包", 0)}]},
                {"name": "饮品两杯", "min_select": 2, "max_select": 2, "choices": [
                    {"sku_id": sku("酸梅汤", 0)}, {"sku_id": sku("冻柠檬茶", 0)}, {"sku_id": sku("可乐", 0)}, {"sku_id": sku("珍珠奶茶", 0), "price_delta_fen": 500}]}
            ]),
        ),
    ];
    let known: HashSet<SkuId> = dishes
        .values()
        .flat_map(|d| d.skus.iter().map(|s| s.id))
        .collect();
    for (i, (name, en, description, price, availability, slots)) in combos.into_iter().enumerate() {
        let image = picture(db, brand.id, 900 + i as u64, Combo).await?;
        let draft: DishDraft = serde_json::from_value(json!({
            "category_id": categories["套餐"].id, "kind": "combo", "name": name, "name_en": en,
            "description": description, "tags": if i == 0 { vec!["超值"] } else { vec!["招牌"] },
            "image_ids": [image], "sort_order": i, "availability": availability,
            "skus": [{"code": format!("COMBO-{}", i + 1), "price_fen": price}],
            "combo_slots": slots,
        }))?;
        let dish = draft
            .parse(DishId::new(), brand.id, &known)
            .map_err(|e| anyhow::anyhow!("demo combo {name}: {e}"))?;
        db.save_dish(&dish, true, now_ms()).await?;
    }
    Ok(dishes)
}

/// A realistic day at the first store: a daily limit on the fish, shrimp noodles sold out,
/// a little beer left.
async fn seed_store_stock(
    db: &Db,
    brand: &Brand,
    store: &Store,
    dishes: &HashMap<&'static str, Dish>,
) -> anyhow::Result<()> {
    let settings = [
        (
            "老坛酸菜鱼",
            SkuStoreSettings {
                daily_limit: Some(20),
                low_stock_threshold: Some(5),
                ..Default::default()
            },
        ),
        (
            "虾仁拌面",
            SkuStoreSettings {
                sold_out: true,
                ..Default::default()
            },
        ),
        (
            "青岛啤酒",
            SkuStoreSettings {
                stock: Some(4),
                low_stock_threshold: Some(5),
                ..Default::default()
            },
        ),
    ];
    for (name, setting) in settings {
        db.set_sku_settings(brand.id, store.id, dishes[name].skus[0].id, &setting)
            .await?;
    }
    Ok(())
}
