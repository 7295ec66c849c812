//! `migrate`, `seed-demo` and `menu export/import`, run as an operator would.

use crate::process::{Scratch, read, run};
use crate::sqlite;
use diancan_storage::{Backend, Db};

#[tokio::test]
async fn migrate_creates_the_schema_and_a_second_run_changes_nothing() {
    let scratch = Scratch::new();
    let first = run(&scratch.url, &["migrate"]).success();
    assert!(
        first.output.contains("database is up to date"),
        "{}",
        first.output
    );

    let expected: Vec<i64> = Db::migration_versions(Backend::Sqlite)
        .into_iter()
        .map(|(version, _)| version)
        .collect();
    let applied = || async {
        let mut connection = sqlite::open(&scratch.db_file()).await;
        sqlx::query_scalar::<_, i64>(
            "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
        )
        .fetch_all(&mut connection)
        .await
        .expect("the migrations table")
    };
    assert_eq!(applied().await, expected, "every migration applied, once");
    for table in [
        "brands",
        "stores",
        "dishes",
        "orders",
        "customers",
        "events",
    ] {
        assert_eq!(
            sqlite::count(&scratch.db_file(), table).await,
            0,
            "{table} exists, empty"
        );
    }

    run(&scratch.url, &["migrate"]).success();
    assert_eq!(applied().await, expected, "nothing applied twice");
}

#[tokio::test]
async fn seed_demo_adds_the_demo_once_and_the_second_time_adds_nothing() {
    let scratch = Scratch::new();
    let first = run(&scratch.url, &["seed-demo"]).success();
    assert!(
        first.output.contains("demo restaurant created"),
        "{}",
        first.output
    );
    let db = scratch.db_file();
    let counts = || async {
        (
            sqlite::count(&db, "brands").await,
            sqlite::count(&db, "stores").await,
            sqlite::count(&db, "staff").await,
            sqlite::count(&db, "dishes").await,
        )
    };
    let seeded = counts().await;
    assert_eq!(
        (seeded.0, seeded.1, seeded.2),
        (1, 2, 6),
        "one brand, two stores, six logins"
    );
    assert!(seeded.3 >= 30, "about forty dishes, got {}", seeded.3);

    let second = run(&scratch.url, &["seed-demo"]).success();
    assert!(second.output.contains("nothing added"), "{}", second.output);
    assert_eq!(counts().await, seeded, "the second run is a no-op");
}

/// The CSV rows (without the BOM), for comparing menus.
fn csv_rows(bytes: &[u8]) -> Vec<csv::StringRecord> {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("a CSV row"))
        .collect()
}

fn write_csv(path: &std::path::Path, rows: &[csv::StringRecord]) {
    let mut writer = csv::Writer::from_path(path).expect("write CSV");
    for row in rows {
        writer.write_record(row).expect("a CSV row");
    }
    writer.flush().expect("flush");
}

#[tokio::test]
async fn a_menu_exported_as_csv_and_xlsx_imports_back_unchanged_and_edits_land() {
    let scratch = Scratch::new();
    run(&scratch.url, &["seed-demo"]).success();
    let store = "人民广场店";
    let export = |name: &str| {
        let file = scratch.path(name);
        let done = run(
            &scratch.url,
            &["menu", "export", "--store", store, file.to_str().unwrap()],
        )
        .success();
        assert!(done.output.contains("exported"), "{}", done.output);
        read(&file)
    };
    let import = |name: &str| {
        let file = scratch.path(name);
        run(
            &scratch.url,
            &["menu", "import", "--store", store, file.to_str().unwrap()],
        )
    };

    let original = csv_rows(&export("menu.csv"));
    assert!(original.len() > 30, "a header and a row per spec");
    let xlsx = export("menu.xlsx");
    assert_eq!(&xlsx[..2], b"PK", "an XLSX is a zip");

    // Both files import back without creating anything, and the menu reads the same after.
    for file in ["menu.csv", "menu.xlsx"] {
        let done = import(file).success();
        assert!(
            done.output.contains("0 个新分类, 0 道新菜"),
            "{file}: {}",
            done.output
        );
        assert_eq!(
            csv_rows(&export("again.csv")),
            original,
            "{file} round-trips"
        );
    }

    // An edited price lands.
    let header = &original[0];
    let price = header
        .iter()
        .position(|h| h == "价格")
        .expect("a 价格 column");
    let mut edited = original.clone();
    let mut row: Vec<String> = edited[1].iter().map(str::to_owned).collect();
    row[price] = "99.50".into();
    edited[1] = csv::StringRecord::from(row);
    write_csv(&scratch.path("edited.csv"), &edited);
    let done = import("edited.csv").success();
    assert!(done.output.contains("道更新"), "{}", done.output);
    let after = csv_rows(&export("after-edit.csv"));
    assert_eq!(&after[1][price], "99.50", "the new price is in the menu");

    // A bad row fails the whole file and changes nothing.
    let mut broken = after.clone();
    let mut row: Vec<String> = broken[2].iter().map(str::to_owned).collect();
    row[price] = "not a price".into();
    broken[2] = csv::StringRecord::from(row);
    write_csv(&scratch.path("broken.csv"), &broken);
    let refused = import("broken.csv").failure();
    assert!(
        refused.output.contains("nothing was changed"),
        "{}",
        refused.output
    );
    assert_eq!(
        csv_rows(&export("after-broken.csv")),
        after,
        "all rows or none"
    );
}
