//! The command line: `serve` (the default), `migrate`, `seed-demo`, and menu import/export.

use anyhow::Context;
use clap::{Parser, Subcommand};
use diancan_storage::{Db, DbConfig};
use diancan_web::forwarded::IpRange;
use std::net::SocketAddr;
use std::path::PathBuf;

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
        default_value = "sqlite://data/diancan.db"
    )]
    pub database_url: String,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (what `cargo run` does).
    Serve(ServeArgs),
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Add the demo restaurant (brand, two stores, menu, tables, staff) if it is not there.
    SeedDemo,
    /// Export or import a brand's menu as CSV or XLSX.
    #[command(subcommand)]
    Menu(MenuCommand),
}

#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "DIANCAN_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Do not seed the demo restaurant into an empty database.
    #[arg(long)]
    pub no_demo: bool,
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
}

impl Default for ServeArgs {
    fn default() -> Self {
        ServeArgs {
            listen: "127.0.0.1:8080".parse().expect("valid"),
            no_demo: false,
            secure_cookies: false,
            db_pool: 16,
            sqlite_fast_unsafe: false,
            trusted_proxies: Vec::new(),
        }
    }
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

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => crate::server::run(&cli.database_url, args).await,
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
        Command::Menu(command) => crate::server::menu_command(&cli.database_url, command).await,
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
    use clap::Parser;

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
            super::redact_url("postgres://app:s3cret@db:5432/diancan"),
            "postgres://app:***@db:5432/diancan"
        );
        assert_eq!(
            super::redact_url("sqlite://data/diancan.db"),
            "sqlite://data/diancan.db"
        );
    }
}
