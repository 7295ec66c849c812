//! The command line: `serve` (the default), `migrate`, `seed-demo`, `create-owner`, menu
//! import/export, `pii reseal`, and `print-agent` (run in the shop).

use anyhow::Context;
use clap::builder::BoolishValueParser;
use clap::{ArgAction, Parser, Subcommand, ValueEnum};
use diancan_storage::{Db, DbConfig};
use diancan_web::forwarded::IpRange;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The embedded database `cargo run` uses; bare `diancan` on it starts the demo.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/diancan.db";

#[derive(Parser, Debug)]
#[command(
    name = "diancan",
    version,
    about = "Diancan 点餐: restaurant ordering in one binary"
)]
pub struct Cli {
    /// SQLite file (default) or PostgreSQL URL (postgres://user@host/db).
    #[arg(
        long,
        global = true,
        env = "DIANCAN_DATABASE_URL",
        default_value = DEFAULT_DATABASE_URL
    )]
    pub database_url: String,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server. Without `--demo` it seeds nothing and uses only the real login providers.
    Serve(Box<ServeArgs>),
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Add the demo restaurant (brand, two stores, menu, tables, staff) if it is not there.
    SeedDemo,
    /// Create the first brand and its owner on an empty database. The password is read from
    /// DIANCAN_OWNER_PASSWORD, or else from the first line of standard input (never echoed).
    CreateOwner(CreateOwnerArgs),
    /// Export or import a brand's menu as CSV or XLSX.
    #[command(subcommand)]
    Menu(MenuCommand),
    /// Personal data at rest: re-seal it under the current key after a rotation.
    #[command(subcommand)]
    Pii(PiiCommand),
    /// Run in the shop: connect out to the server with a print agent's device token, spool its
    /// jobs on this disk and print them on the shop's network printers (raw TCP 9100).
    PrintAgent(PrintAgentArgs),
}

#[derive(clap::Args, Debug, Clone)]
pub struct PrintAgentArgs {
    /// The server's address, `https://diancan.example.com`.
    #[arg(long, env = "DIANCAN_AGENT_SERVER")]
    pub server: String,
    /// The device token the console showed when the agent was added; set it in the environment.
    #[arg(long, env = "DIANCAN_AGENT_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Where jobs wait on this disk until the server has heard how they went.
    #[arg(long, env = "DIANCAN_AGENT_SPOOL", default_value = "data/print-spool")]
    pub spool: PathBuf,
}

/// The Feie cloud account `feie` printers print through (demo mode uses a local simulator).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct FeieArgs {
    /// The Feie console account (飞鹅云后台登录账号).
    #[arg(long, env = "DIANCAN_FEIE_USER")]
    pub feie_user: Option<String>,
    /// The account's UKEY; set it in the environment.
    #[arg(long, env = "DIANCAN_FEIE_UKEY", hide_env_values = true)]
    pub feie_ukey: Option<String>,
    /// Feie's API address (a regional host, or a test double).
    #[arg(
        long,
        env = "DIANCAN_FEIE_URL",
        default_value = "https://api.feieyun.cn/Api/Open/"
    )]
    pub feie_url: String,
}

#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "DIANCAN_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Demo mode: seed the demo restaurant into an empty database, log diners in through the
    /// WeChat simulator and write SMS codes to the log. `cargo run` (bare `diancan` on the
    /// default database) turns it on; never use it where strangers can reach the server.
    #[arg(long, env = "DIANCAN_DEMO", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub demo: bool,
    /// Kept so old scripts still start: `serve` seeds nothing unless `--demo` is given.
    #[arg(long, hide = true)]
    pub no_demo: bool,
    /// Production: refuse to start without DIANCAN_PII_KEY, and refuse demo mode.
    #[arg(long, env = "DIANCAN_PRODUCTION", action = ArgAction::SetTrue, value_parser = BoolishValueParser::new())]
    pub production: bool,
    /// Mark session cookies Secure (set this behind HTTPS).
    #[arg(long, env = "DIANCAN_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Connections per instance to PostgreSQL (readers on SQLite).
    #[arg(long, env = "DIANCAN_DB_POOL", default_value_t = 16)]
    pub db_pool: u32,
    /// SQLite only: trade power-cut durability for write speed (synchronous=NORMAL).
    #[arg(long)]
    pub sqlite_fast_unsafe: bool,
    /// A reverse proxy (IP or CIDR, repeatable or comma-separated) whose X-Forwarded-For,
    /// -Host and -Proto are believed. Set it behind a TLS proxy, or every client counts as the
    /// proxy's one address in the login and SMS limits.
    #[arg(
        long = "trusted-proxy",
        env = "DIANCAN_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "CIDR"
    )]
    pub trusted_proxies: Vec<IpRange>,
    /// The longest a live order or cart stream stays open, in seconds (less up to a tenth at
    /// random); the browser then reconnects with Last-Event-ID and misses nothing.
    #[arg(long, env = "DIANCAN_STREAM_LIFETIME_SECS", default_value_t = 1800)]
    pub stream_lifetime_secs: u64,
    /// Live streams one order, signed-in diner or table may hold open at once (then 429).
    #[arg(long, env = "DIANCAN_STREAMS_PER_OWNER", default_value_t = 8)]
    pub streams_per_owner: usize,
    /// Live streams one client address (IPv6: one /64) may hold open at once (then 429).
    #[arg(long, env = "DIANCAN_STREAMS_PER_ADDRESS", default_value_t = 256)]
    pub streams_per_address: usize,
    #[command(flatten)]
    pub providers: ProviderArgs,
    #[command(flatten)]
    pub payments: PaymentArgs,
    #[command(flatten)]
    pub feie: FeieArgs,
}

/// The payment gateways of the deployment (demo mode uses their simulators instead). Keys are
/// read from files, the API v3 key from the environment: nothing secret on the command line.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct PaymentArgs {
    /// This site's public https address, which the gateways post their notifications to and
    /// send diners back to (`https://order.example.com`). Needed for any gateway.
    #[arg(long, env = "DIANCAN_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// WeChat Pay merchant id (mchid).
    #[arg(long, env = "DIANCAN_WECHATPAY_MCHID")]
    pub wechatpay_mchid: Option<String>,
    /// The AppID bound to the merchant (official account or mini-program).
    #[arg(long, env = "DIANCAN_WECHATPAY_APP_ID")]
    pub wechatpay_app_id: Option<String>,
    /// Serial number of the merchant's API certificate.
    #[arg(long, env = "DIANCAN_WECHATPAY_SERIAL_NO")]
    pub wechatpay_serial_no: Option<String>,
    /// PEM file of the merchant's API private key (apiclient_key.pem).
    #[arg(long, env = "DIANCAN_WECHATPAY_KEY_FILE")]
    pub wechatpay_key_file: Option<std::path::PathBuf>,
    /// The API v3 key (32 characters).
    #[arg(long, env = "DIANCAN_WECHATPAY_API_V3_KEY", hide_env_values = true)]
    pub wechatpay_api_v3_key: Option<String>,
    /// PEM file of WeChat Pay's platform public key (微信支付公钥), and its id (PUB_KEY_ID_…).
    #[arg(long, env = "DIANCAN_WECHATPAY_PLATFORM_KEY_FILE")]
    pub wechatpay_platform_key_file: Option<std::path::PathBuf>,
    #[arg(long, env = "DIANCAN_WECHATPAY_PLATFORM_KEY_ID")]
    pub wechatpay_platform_key_id: Option<String>,
    /// Alipay application id.
    #[arg(long, env = "DIANCAN_ALIPAY_APP_ID")]
    pub alipay_app_id: Option<String>,
    /// The merchant's Alipay account (seller id, 2088…), which notifications must name.
    #[arg(long, env = "DIANCAN_ALIPAY_SELLER_ID")]
    pub alipay_seller_id: Option<String>,
    /// PEM file of the application's private key (应用私钥).
    #[arg(long, env = "DIANCAN_ALIPAY_KEY_FILE")]
    pub alipay_key_file: Option<std::path::PathBuf>,
    /// PEM file of Alipay's public key (支付宝公钥).
    #[arg(long, env = "DIANCAN_ALIPAY_PUBLIC_KEY_FILE")]
    pub alipay_public_key_file: Option<std::path::PathBuf>,
}

/// `serve`'s settings from the environment alone, for bare `diancan`.
#[derive(Parser)]
struct BareServe {
    #[command(flatten)]
    serve: ServeArgs,
}

/// Bare `diancan` (what `cargo run` runs): `serve` with the environment's settings, in demo
/// mode when the database is the embedded default (and production is not asked for).
fn bare_serve(database_url: &str) -> ServeArgs {
    let mut serve = BareServe::parse_from(["diancan"]).serve;
    if database_url == DEFAULT_DATABASE_URL && !serve.production {
        serve.demo = true;
    }
    serve
}

/// The real login providers, for every brand of the deployment. Secrets come from the
/// environment (the flags exist, but a flag shows in the process list).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ProviderArgs {
    /// WeChat mini-program AppID, for login through jscode2session.
    #[arg(long, env = "DIANCAN_WECHAT_APP_ID")]
    pub wechat_app_id: Option<String>,
    /// The mini-program's AppSecret; set it in the environment.
    #[arg(long, env = "DIANCAN_WECHAT_APP_SECRET", hide_env_values = true)]
    pub wechat_app_secret: Option<String>,
    /// The jscode2session endpoint: only for a test double or an egress proxy.
    #[arg(long, env = "DIANCAN_WECHAT_API_URL", hide = true)]
    pub wechat_api_url: Option<String>,
    /// Who sends login codes by SMS. `webhook`: POST each code as JSON to
    /// DIANCAN_SMS_WEBHOOK_URL (your gateway adapter). Unset: phone login answers 503.
    #[arg(long, env = "DIANCAN_SMS_PROVIDER", value_enum)]
    pub sms_provider: Option<SmsProvider>,
    /// Where the `webhook` provider posts codes.
    #[arg(long, env = "DIANCAN_SMS_WEBHOOK_URL")]
    pub sms_webhook_url: Option<String>,
    /// Bearer token the `webhook` provider sends; set it in the environment.
    #[arg(long, env = "DIANCAN_SMS_WEBHOOK_TOKEN", hide_env_values = true)]
    pub sms_webhook_token: Option<String>,
    /// A JSON file naming the mini-program's subscribe-message templates per kind, e.g.
    /// `{"order_accepted": {"template_id": "…", "fields": [["character_string1", "pickup_number"],
    /// ["thing2", "store_name"], ["phrase3", "status"], ["time4", "time"]]}}`. With the AppID and
    /// AppSecret it turns WeChat order notices on.
    #[arg(long, env = "DIANCAN_WECHAT_SUBSCRIBE_TEMPLATES")]
    pub wechat_subscribe_templates: Option<std::path::PathBuf>,
    /// The WeChat API base for subscribe messages: only for a test double or an egress proxy.
    #[arg(long, env = "DIANCAN_WECHAT_API_BASE", hide = true)]
    pub wechat_api_base: Option<String>,
    /// Campaign messages sent per minute, across all instances.
    #[arg(long, env = "DIANCAN_CAMPAIGN_PER_MINUTE", default_value_t = 600)]
    pub campaign_per_minute: i64,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsProvider {
    Webhook,
}

#[derive(clap::Args, Debug, Clone)]
pub struct CreateOwnerArgs {
    /// The brand's name, as diners see it.
    #[arg(long)]
    pub brand: String,
    /// The brand's short name in addresses (letters, digits, dashes); made from the name if omitted.
    #[arg(long)]
    pub slug: Option<String>,
    /// The owner's login name.
    #[arg(long)]
    pub login: String,
    /// The owner's name as the console shows it.
    #[arg(long, default_value = "老板")]
    pub display_name: String,
}

#[derive(Subcommand, Debug)]
pub enum MenuCommand {
    /// Write the menu of the store's brand to FILE (.csv or .xlsx).
    Export {
        /// The store whose brand menu to export (id or exact name).
        #[arg(long)]
        store: String,
        file: PathBuf,
    },
    /// Read FILE (.csv or .xlsx) into the menu of the store's brand; all rows or none.
    Import {
        #[arg(long)]
        store: String,
        file: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum PiiCommand {
    /// Re-seal every sealed phone and address under the current key (the first of
    /// DIANCAN_PII_KEY), so older keys can then be dropped.
    Reseal,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let command = match cli.command {
        Some(command) => command,
        None => Command::Serve(Box::new(bare_serve(&cli.database_url))),
    };
    match command {
        Command::Serve(args) => crate::server::run(&cli.database_url, *args).await,
        Command::Migrate => {
            let db = connect(&cli.database_url, 2, true).await?;
            println!(
                "数据库已是最新 · database is up to date ({:?})",
                db.backend()
            );
            Ok(())
        }
        Command::SeedDemo => {
            let db = connect(&cli.database_url, 2, true).await?;
            match crate::demo::seed_if_empty(&db, false).await? {
                Some(_) => println!("已创建演示餐厅 · demo restaurant created"),
                None => println!(
                    "数据库里已有品牌，未重复创建 · the database already has a brand; nothing added"
                ),
            }
            Ok(())
        }
        Command::CreateOwner(args) => crate::owner::create(&cli.database_url, args).await,
        Command::Menu(command) => crate::server::menu_command(&cli.database_url, command).await,
        Command::Pii(PiiCommand::Reseal) => crate::server::reseal(&cli.database_url).await,
        Command::PrintAgent(args) => crate::print_setup::run_agent(args).await,
    }
}

pub async fn connect(url: &str, pool: u32, durable: bool) -> anyhow::Result<Db> {
    let mut config = DbConfig::new(url);
    config.max_connections = pool;
    config.sqlite_durable = durable;
    Db::connect(&config)
        .await
        .with_context(|| format!("connecting to {}", redact_url(url)))
}

/// A database URL without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies_come_as_a_list_or_repeated_flags() {
        let cli = super::Cli::try_parse_from([
            "diancan",
            "serve",
            "--trusted-proxy",
            "10.0.0.0/8, 192.168.1.1",
            "--trusted-proxy=::1",
        ])
        .unwrap();
        let Some(super::Command::Serve(args)) = cli.command else {
            panic!("serve");
        };
        let shown: Vec<String> = args.trusted_proxies.iter().map(|r| r.to_string()).collect();
        assert_eq!(shown, ["10.0.0.0/8", "192.168.1.1/32", "::1/128"]);
        assert!(
            super::Cli::try_parse_from(["diancan", "serve", "--trusted-proxy", "proxy.local"])
                .is_err()
        );
    }

    #[test]
    fn database_passwords_never_reach_messages() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/diancan"),
            "postgres://app:***@db:5432/diancan"
        );
        assert_eq!(
            redact_url("sqlite://data/diancan.db"),
            "sqlite://data/diancan.db"
        );
    }

    #[test]
    fn serve_is_not_the_demo_unless_asked() {
        let parse = |args: &[&str]| match Cli::try_parse_from(args).unwrap().command {
            Some(Command::Serve(serve)) => *serve,
            other => panic!("{other:?}"),
        };
        assert!(!parse(&["diancan", "serve"]).demo);
        assert!(parse(&["diancan", "serve", "--demo"]).demo);
        assert!(!parse(&["diancan", "serve", "--no-demo"]).demo);
        assert!(parse(&["diancan", "serve", "--production"]).production);
    }
}
