//! `diancan create-owner`: the first brand and its owner on a fresh deployment, so production
//! never needs the demo's published password. The password comes from `DIANCAN_OWNER_PASSWORD`
//! or standard input, is never echoed or logged, and is hashed with argon2 like every other.

use crate::cli::{CreateOwnerArgs, connect};
use diancan_domain::password::{NewPassword, PasswordProblem};
use diancan_storage::FirstOwner;
use std::io::BufRead;

/// The environment variable that may carry the owner's password (for scripted deploys).
pub const PASSWORD_ENV: &str = "DIANCAN_OWNER_PASSWORD";

pub async fn create(database_url: &str, args: CreateOwnerArgs) -> anyhow::Result<()> {
    let password = read_password()?;
    let password = NewPassword::parse(&password).map_err(|problem| match problem {
        PasswordProblem::TooShort => anyhow::anyhow!(
            "密码至少 {} 个字符 · the password needs at least {} characters",
            diancan_domain::password::MIN_PASSWORD_CHARS,
            diancan_domain::password::MIN_PASSWORD_CHARS
        ),
        PasswordProblem::Published => {
            anyhow::anyhow!("不能使用演示密码 · the demo password is public; choose your own")
        }
    })?;
    let login = args.login.trim();
    anyhow::ensure!(
        !login.is_empty() && login.chars().count() <= 64 && !login.chars().any(char::is_control),
        "登录名须为 1–64 个可见字符 · the login must be 1–64 visible characters"
    );
    let brand_name = args.brand.trim();
    anyhow::ensure!(
        !brand_name.is_empty() && brand_name.chars().count() <= 60,
        "品牌名须为 1–60 个字符 · the brand name must be 1–60 characters"
    );
    let slug = match args.slug {
        Some(slug) => slug,
        None => slug_from(brand_name),
    };
    anyhow::ensure!(
        is_slug(&slug),
        "品牌简称只能含小写字母、数字和短横线 · the slug may hold only a-z, 0-9 and '-'"
    );

    let db = connect(database_url, 2, true).await?;
    let owner = FirstOwner {
        brand_name: brand_name.to_owned(),
        brand_slug: slug,
        login: login.to_owned(),
        display_name: args.display_name.trim().to_owned(),
        password_hash: diancan_web::passwords::hash(password.into_inner(), false).await,
    };
    let now = jiff::Timestamp::now().as_millisecond();
    match db.create_first_owner(&owner, now).await? {
        Some((brand, _)) => {
            println!(
                "已创建品牌「{}」和老板账号 {} · brand {} and owner {} created; log in at /console/",
                brand.name, owner.login, brand.slug, owner.login
            );
            db.close().await;
            Ok(())
        }
        None => {
            db.close().await;
            anyhow::bail!(
                "数据库里已有品牌，未做任何修改 · the database already has a brand; nothing was changed"
            )
        }
    }
}

/// The password from the environment, else the first line of standard input. Nothing is
/// echoed: piped input never is, and a terminal is asked to hide what is typed.
fn read_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var(PASSWORD_ENV) {
        return Ok(password);
    }
    let stdin = std::io::stdin();
    let interactive = std::io::IsTerminal::is_terminal(&stdin);
    if interactive {
        eprint!("老板密码 · owner password: ");
        set_terminal_echo(false);
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if interactive {
        set_terminal_echo(true);
        eprintln!();
    }
    read?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(
        !password.is_empty(),
        "请在标准输入或 {PASSWORD_ENV} 中提供密码 · give the password on standard input or in {PASSWORD_ENV}"
    );
    Ok(password)
}

/// Turns the terminal's echo off or on with `stty`, so a typed password stays off the screen.
fn set_terminal_echo(on: bool) {
    let _ = std::process::Command::new("stty")
        .arg(if on { "echo" } else { "-echo" })
        .stdin(std::process::Stdio::inherit())
        .status();
}

/// A slug from the brand's name: its ASCII letters and digits, else a random one.
fn slug_from(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-').to_owned();
    if slug.is_empty() {
        let id = uuid::Uuid::now_v7().simple().to_string();
        format!("brand-{}", &id[id.len() - 8..])
    } else {
        slug
    }
}

fn is_slug(slug: &str) -> bool {
    (1..=40).contains(&slug.len())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs_come_from_ascii_or_are_made_up() {
        assert_eq!(super::slug_from("Noodle House 2"), "noodle-house-2");
        assert!(super::slug_from("小满面馆").starts_with("brand-"));
        assert!(super::is_slug(&super::slug_from("小满面馆")));
        assert!(!super::is_slug("Bad Slug"));
    }
}
