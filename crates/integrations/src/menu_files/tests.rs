use super::*;
use diancan_domain::Money;
use diancan_domain::catalog::OptionDraft;

const HEADER: &str = "分类,分类排序,菜品,英文名,描述,标签,档口,规格编码,规格,价格,上架,口味加料,排序,配料,过敏原,热量,份量";

fn option(name: &str, fen: i64) -> OptionDraft {
    OptionDraft {
        id: None,
        name: name.into(),
        name_en: None,
        price_delta_fen: Money::from_fen(fen),
    }
}

fn sku(code: &str, name: Option<&str>, fen: i64) -> SkuDraft {
    SkuDraft {
        id: None,
        code: code.into(),
        name: name.map(Into::into),
        name_en: None,
        price_fen: Money::from_fen(fen),
    }
}

fn plain_dish(name: &str, first_row: usize, skus: Vec<SkuDraft>) -> SheetDish {
    SheetDish {
        name: name.into(),
        name_en: None,
        description: None,
        tags: Vec::new(),
        station: None,
        on_shelf: true,
        sort_order: 0,
        ingredients: None,
        allergens: Vec::new(),
        calories_kcal: None,
        portion: None,
        skus,
        option_groups: Vec::new(),
        first_row,
    }
}

fn noodle_shop_menu() -> MenuSheet {
    let beef_noodles = SheetDish {
        name_en: Some("Braised Beef Noodles".into()),
        description: Some("慢炖 6 小时的牛腩, \"招牌\"汤底\n配手工拉面".into()),
        tags: vec!["招牌".into(), "辣".into()],
        station: Some("面档".into()),
        sort_order: 10,
        ingredients: Some("牛腩、面粉、葱".into()),
        allergens: vec!["麸质".into()],
        calories_kcal: Some(650),
        portion: Some("一人份".into()),
        option_groups: vec![
            OptionGroupDraft {
                id: None,
                name: "辣度".into(),
                name_en: None,
                min_select: 1,
                max_select: 1,
                options: vec![option("不辣", 0), option("微辣", 0), option("特辣", 0)],
            },
            OptionGroupDraft {
                id: None,
                name: "加料".into(),
                name_en: None,
                min_select: 0,
                max_select: 2,
                options: vec![
                    option("加蛋", 200),
                    option("加牛肉", 850),
                    option("少面", -100),
                ],
            },
        ],
        ..plain_dish(
            "红烧牛肉面",
            2,
            vec![
                sku("NR-L", Some("大碗"), 2800),
                sku("NR-M", Some("中碗"), 2450),
            ],
        )
    };
    let lemon_tea = SheetDish {
        on_shelf: false,
        ..plain_dish("港式柠檬茶", 4, vec![sku("LT", None, 1200)])
    };
    MenuSheet {
        categories: vec![
            SheetCategory {
                name: "面食".into(),
                sort_order: 1,
                dishes: vec![beef_noodles],
            },
            SheetCategory {
                name: "饮品".into(),
                sort_order: 2,
                dishes: vec![lemon_tea],
            },
        ],
    }
}

fn row_messages(result: Result<MenuSheet, MenuFileError>) -> Vec<String> {
    match result {
        Err(MenuFileError::Rows(rows)) => rows.iter().map(RowError::message_zh).collect(),
        other => panic!("expected row errors, got {other:?}"),
    }
}

#[test]
fn csv_round_trips_and_starts_with_a_bom() {
    let menu = noodle_shop_menu();
    let bytes = write_csv(&menu);
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    assert!(bytes[3..].starts_with(format!("{HEADER}\r\n").as_bytes()));
    assert_eq!(read_csv(&bytes), Ok(menu));
}

#[test]
fn xlsx_round_trips_even_when_named_like_a_csv() {
    let menu = noodle_shop_menu();
    let bytes = write_xlsx(&menu).expect("writes");
    assert_eq!(read_xlsx(&bytes), Ok(menu.clone()));
    assert_eq!(read_any("菜单.csv", &bytes), Ok(menu));
}

#[test]
fn an_excel_saved_csv_with_crlf_bom_and_chinese_punctuation_reads() {
    let file = format!(
        "\u{feff}{HEADER}\r\n\
         主食,1,卤肉饭,,,招牌，下饭,,LRF,小份,18.5,Y,\"辣度[1-1]:不辣,微辣\",,,,,\r\n\
         ,,,,,,,,,,,,,,,,\r\n\
         主食,1,卤肉饭,,,,,LRF-L,大份,22,,,,,,,\r\n"
    );
    let menu = read_any("menu.csv", file.as_bytes()).expect("reads");
    let dish = &menu.categories[0].dishes[0];
    assert_eq!(dish.tags, ["招牌", "下饭"]);
    assert_eq!(dish.option_groups[0].options.len(), 2);
    assert_eq!(dish.skus[1], sku("LRF-L", Some("大份"), 2200));
    assert_eq!(dish.skus[0].price_fen, Money::from_fen(1850));
}

#[test]
fn every_bad_row_is_reported_with_its_row_and_column() {
    let file = format!(
        "{HEADER}\n\
         面食,1,红烧牛肉面,,,,,NR-L,大碗,0,是,,,,,,\n\
         面食,1,红烧牛肉面,,,,,NR-M,中碗,二十,是,,,,,,\n\
         饮品,2,柠檬茶,,,,,NR-L,,12,也许,加料 0-1,,,,很多,\n\
         面食,2,柠檬茶,,,,,,,,,,,,,,\n\
         ,,,,,,,,,,,,,,,,\n\
         ,,凉拌黄瓜,,,,,LBHG,,8,,,,,,,\n\
         面食,1,红烧牛肉面,,,,,NR-S,小碗,20,是,,,,,,\n"
    );
    assert_eq!(
        row_messages(read_csv(file.as_bytes())),
        [
            "第 2 行: 价格必须大于 0",
            "第 3 行: 价格不是有效的金额（最多两位小数）",
            "第 4 行: 规格编码重复",
            "第 4 行: 规格必填",
            "第 4 行: 上架只能是：是、否",
            "第 4 行: 口味加料只能是：辣度[1-1]:不辣,微辣; 加料[0-2]:加蛋+2,加牛肉+8",
            "第 4 行: 热量必须在 0 到 10000 之间",
            "第 5 行: 分类只能是：饮品",
            "第 5 行: 规格编码必填",
            "第 5 行: 规格必填",
            "第 5 行: 价格必填",
            "第 7 行: 分类必填",
            "第 8 行: 菜品重复",
        ]
    );
}

#[test]
fn english_messages_name_the_chinese_column() {
    let file = format!("{HEADER}\n面食,1,红烧牛肉面,,,,,NR-L,大碗,0,是,,,,,,\n");
    let Err(MenuFileError::Rows(rows)) = read_csv(file.as_bytes()) else {
        panic!("expected row errors")
    };
    assert_eq!(rows[0].message_en(), "Row 2: 价格 must be greater than 0");
    assert_eq!(rows[0].column.as_deref(), Some("价格"));
}

#[test]
fn missing_columns_are_named() {
    let file = "分类,分类排序,菜品,英文名,描述,标签,档口,规格编码,规格,上架,口味加料,排序,配料,过敏原,热量\n";
    let error = read_csv(file.as_bytes()).unwrap_err();
    assert_eq!(
        error,
        MenuFileError::MissingColumns(vec!["价格".into(), "份量".into()])
    );
    assert_eq!(error.code(), "MENU_FILE_MISSING_COLUMNS");
    assert_eq!(error.message_zh(), "缺少列：价格、份量");
}

#[test]
fn empty_and_gbk_files_are_refused_plainly() {
    assert_eq!(read_csv(b""), Err(MenuFileError::Empty));
    assert_eq!(
        read_csv(format!("{HEADER}\r\n,,,\r\n").as_bytes()),
        Err(MenuFileError::Empty)
    );
    // "菜品" in GBK, as Excel zh-CN saves a plain CSV.
    assert_eq!(read_csv(b"\xB2\xCB\xC6\xB7\n"), Err(MenuFileError::NotUtf8));
    assert_eq!(
        read_any("menu.xlsx", b"not a zip").map_err(|e| e.code()),
        Err("MENU_FILE_UNREADABLE")
    );
}
