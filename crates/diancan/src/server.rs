//! Starting the server: check what the flags allow, connect, migrate, seed the demo in demo
//! mode, choose the login providers, print where to go (and any warning), and serve until Ctrl-C.

use crate::cli::{MenuCommand, ServeArgs, connect};
use crate::mode::StartMode;
use diancan_storage::Db;
use diancan_web::forwarded::TrustedProxies;
use diancan_web::pii_key::{KeySource, LoadedVault};
use diancan_web::{AppConfig, AppState, Clock};
use tokio::net::TcpListener;

/// Application state for a database: the signing key is shared by every instance through it.
pub async fn app_state(db: Db, clock: Clock, config: AppConfig) -> anyhow::Result<AppState> {
    let pii = diancan_web::pii_key::load(&db).await?;
    app_state_with(db, clock, config, pii).await
}

async fn app_state_with(
    db: Db,
    clock: Clock,
    mut config: AppConfig,
    pii: LoadedVault,
) -> anyhow::Result<AppState> {
    config.table_token_key = diancan_web::table_token::load_or_create_key(&db).await?;
    config.request_digest_key =
        diancan_usecases::tables::load_or_create_secret(&db, "request_digest_key").await?;
    config.order_access_key =
        diancan_usecases::tables::load_or_create_secret(&db, "order_access_key").await?;
    Ok(AppState::new(db, clock, config).with_pii(pii.vault))
}

pub async fn run(database_url: &str, args: ServeArgs) -> anyhow::Result<()> {
    // Refusals come before anything is touched, so a refused start changes nothing.
    let mode = StartMode::decide(&args, std::env::var(diancan_web::pii_key::ENV_VAR).ok())?;
    let providers = crate::providers::Providers::choose(&args.providers, mode.demo)?;
    let db = connect(database_url, args.db_pool, !args.sqlite_fast_unsafe).await?;
    let config = AppConfig {
        secure_cookies: args.secure_cookies,
        trusted_proxies: TrustedProxies::new(args.trusted_proxies.clone()),
        stream_limits: diancan_web::live::StreamLimits {
            per_owner: args.streams_per_owner.max(1),
            per_address: args.streams_per_address.max(1),
            max_lifetime: std::time::Duration::from_secs(args.stream_lifetime_secs.max(1)),
            ..Default::default()
        },
        ..AppConfig::default()
    };
    let pii = diancan_web::pii_key::load(&db).await?;
    let key_source = pii.source;
    let state = app_state_with(db.clone(), Clock::system(), config, pii)
        .await?
        .with_sms(providers.sms)
        .with_wechat(providers.wechat)
        .with_notifiers(providers.notifiers);
    let mut state = state;
    state.core = state
        .core
        .with_campaign_pace(diancan_usecases::notify::CampaignPace {
            per_minute: args.providers.campaign_per_minute.max(1),
            ..Default::default()
        });
    let (state, payment_notes) = crate::payment_setup::configure(state, &args.payments, mode.demo)?;
    let (state, feie_note) =
        crate::print_setup::configure_feie(state, &args.feie, mode.demo).await?;
    let mut notes = providers.notes.clone();
    notes.extend(payment_notes);
    notes.extend(feie_note);
    // Couriers are simulated in demo mode only; a real provider is not wired in yet.
    let state = if mode.demo {
        notes.push(
            "第三方配送 courier: 本地模拟 local simulator (接单 15 s, 取货 60 s, 送达 3 min)"
                .into(),
        );
        state.with_simulated_couriers()
    } else {
        state
    };
    let demo = if mode.demo {
        crate::demo::seed_if_empty(&db, false).await?
    } else {
        None
    };
    let listener = TcpListener::bind(args.listen).await?;
    let address = listener.local_addr()?;
    print_welcome(&state, address, demo.is_some()).await?;
    print_modes(&state, mode, key_source, &notes).await?;
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
            "  后厨屏       · kitchen display:        {base}/kds?store={}",
            tour.store_id
        );
        println!(
            "  出品 / 取餐屏 · expo / pickup screen:  {base}/kds/expo?store={0}  {base}/kds/pickup?store={0}",
            tour.store_id
        );
        println!(
            "  沽清         · sold-out board:         {base}/kitchen?store={}",
            tour.store_id
        );
        println!(
            "  骑手配送     · rider's phone (rider):  {base}/rider?store={}",
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
    let proxies = state.config.trusted_proxies.ranges();
    if proxies.is_empty() {
        println!("  未信任代理 · no trusted proxy: client addresses are the socket's own");
    } else {
        let list: Vec<String> = proxies.iter().map(ToString::to_string).collect();
        println!("  信任的代理 · trusted proxies: {}", list.join(", "));
    }
    println!();
    Ok(())
}

/// The lines that say how this server runs: demo mode, durability, where the PII key lives.
async fn print_modes(
    state: &AppState,
    mode: StartMode,
    key_source: KeySource,
    provider_notes: &[String],
) -> anyhow::Result<()> {
    if mode.demo {
        println!("  {}", crate::mode::DEMO_BANNER);
        tracing::warn!("{}", crate::mode::DEMO_BANNER);
    }
    if mode.production {
        println!("  生产模式 production mode");
    }
    for note in provider_notes {
        println!("  {note}");
    }
    // Read back from the connection that commits: what the server really runs with.
    if let Some(sqlite) = state.db.sqlite_durability().await? {
        println!(
            "  SQLite: journal_mode={}, synchronous={}",
            sqlite.journal_mode, sqlite.synchronous
        );
    }
    if key_source == KeySource::Database {
        for line in crate::mode::PII_KEY_IN_DATABASE_WARNING {
            eprintln!("  {line}");
        }
        tracing::warn!("{}", crate::mode::PII_KEY_IN_DATABASE_WARNING.join(" "));
    }
    println!();
    Ok(())
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down");
}

/// `diancan pii reseal`: every sealed value under the current key of `DIANCAN_PII_KEY`.
pub async fn reseal(database_url: &str) -> anyhow::Result<()> {
    let db = connect(database_url, 2, true).await?;
    let loaded = diancan_web::pii_key::load(&db).await?;
    let current = loaded.key_ids[0].clone();
    let report = diancan_web::pii_key::reseal(&db, &loaded).await;
    db.close().await;
    let report = report?;
    println!(
        "已用当前密钥 {current} 重新加密 · re-sealed under key {current}: {} customer phones, {} order contacts, {} WeChat grants{}",
        report.customer_phones,
        report.order_contacts,
        report.grant_openids,
        if report.index_key {
            ", the blind-index key"
        } else {
            ""
        }
    );
    if report.forgot_database_key {
        println!("  数据库中的旧密钥已删除 · the key kept in the database was deleted");
    }
    println!("  其余密钥现在可以移除 · the other keys may now be dropped from DIANCAN_PII_KEY");
    Ok(())
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
