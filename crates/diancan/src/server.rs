//! Starting the server: connect, migrate, seed the demo when the database is empty,
//! print where to go, and serve until Ctrl-C.

use crate::cli::{MenuCommand, ServeArgs, connect};
use diancan_storage::Db;
use diancan_web::{AppConfig, AppState, Clock};
use tokio::net::TcpListener;

/// Application state for a database: the signing key is shared by every instance through it.
pub async fn app_state(db: Db, clock: Clock, mut config: AppConfig) -> anyhow::Result<AppState> {
    config.table_token_key = diancan_web::table_token::load_or_create_key(&db).await?;
    // Diners' phones: DIANCAN_PII_KEY from the secret store, else the database's key.
    let pii = diancan_web::pii_key::load_vault(&db).await?;
    Ok(AppState::new(db, clock, config).with_pii(pii))
}

pub async fn run(database_url: &str, args: ServeArgs) -> anyhow::Result<()> {
    let db = connect(database_url, args.db_pool, !args.sqlite_fast_unsafe).await?;
    let config = AppConfig {
        secure_cookies: args.secure_cookies,
        ..AppConfig::default()
    };
    let state = app_state(db.clone(), Clock::system(), config).await?;
    let demo = if args.no_demo {
        None
    } else {
        crate::demo::seed_if_empty(&db, false).await?
    };
    let listener = TcpListener::bind(args.listen).await?;
    let address = listener.local_addr()?;
    print_welcome(&state, address, demo.is_some()).await?;
    diancan_web::serve(listener, state, shutdown_signal()).await?;
    db.close().await;
    Ok(())
}

async fn print_welcome(
    state: &AppState,
    address: std::net::SocketAddr,
    seeded_now: bool,
) -> anyhow::Result<()> {
    let base = format!("http://{address}");
    println!();
    println!(
        "  点餐 Diancan is running on {base} ({:?})",
        state.db.backend()
    );
    if seeded_now {
        println!("  (已创建演示餐厅 · demo restaurant created)");
    }
    if let Some(tour) = crate::demo::tour(&state.db).await? {
        println!();
        println!(
            "  顾客扫码点餐 · customer (table {}):  {base}{}",
            tour.table_label, tour.table_path
        );
        println!(
            "  外卖自取     · takeaway:               {base}/s/{}",
            tour.store_id
        );
        println!("  商家后台     · merchant console:       {base}/console/");
        println!(
            "  后厨屏       · kitchen display:        {base}/kitchen?store={}",
            tour.store_id
        );
        println!("  接口文档     · API docs:               {base}/api/v1/docs");
        println!();
        println!(
            "  演示账号 · demo logins (password {}):",
            crate::demo::DEMO_PASSWORD
        );
        for (login, role) in crate::demo::DEMO_STAFF_LOGINS {
            println!("    {login:<10} {role}");
        }
    } else {
        println!("  商家后台 · merchant console: {base}/console/");
        println!("  接口文档 · API docs:         {base}/api/v1/docs");
    }
    println!();
    Ok(())
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down");
}

pub async fn menu_command(database_url: &str, command: MenuCommand) -> anyhow::Result<()> {
    let db = connect(database_url, 2, true).await?;
    match command {
        MenuCommand::Export { store, file } => {
            let store = find_store(&db, &store).await?;
            let bytes =
                diancan_web::menu_transfer::export(&db, store.brand_id, &file.to_string_lossy())
                    .await?;
            std::fs::write(&file, bytes)?;
            println!("已导出 · exported {}", file.display());
        }
        MenuCommand::Import { store, file } => {
            let store = find_store(&db, &store).await?;
            let bytes = std::fs::read(&file)?;
            let now = jiff::Timestamp::now().as_millisecond();
            let file_name = file.to_string_lossy().into_owned();
            let imported = match diancan_web::menu_transfer::read(file_name, bytes).await {
                Ok(sheet) => {
                    diancan_web::menu_transfer::import(&db, store.brand_id, sheet, now).await
                }
                Err(error) => Err(error),
            };
            match imported {
                Ok(report) => println!(
                    "已导入 · imported: {} 个新分类, {} 道新菜, {} 道更新",
                    report.categories_created, report.dishes_created, report.dishes_updated
                ),
                Err(error) => {
                    eprintln!("{}", error.message_zh);
                    for detail in &error.details {
                        eprintln!("  {}", detail.message);
                    }
                    anyhow::bail!("导入失败，未做任何修改 · import failed; nothing was changed");
                }
            }
        }
    }
    Ok(())
}

async fn find_store(db: &Db, wanted: &str) -> anyhow::Result<diancan_storage::Store> {
    let stores = db.all_stores().await?;
    stores
        .into_iter()
        .find(|s| s.id.to_string() == wanted || s.profile.name == wanted)
        .ok_or_else(|| anyhow::anyhow!("没有这个门店 · no store with id or name {wanted:?}"))
}
