//! Demo or real, and what a production start refuses: decided once from the flags and the
//! environment, before the server touches the database.

use crate::cli::ServeArgs;

/// What the banner says in demo mode, word for word (tests look for it).
pub const DEMO_BANNER: &str =
    "演示模式 demo mode: WeChat login simulator, SMS codes in the log, payment simulators";

/// Printed (to stderr) and logged at every start whose PII key sits in the database.
pub const PII_KEY_IN_DATABASE_WARNING: [&str; 3] = [
    "!!! 警告 WARNING: 个人信息主密钥保存在数据库中，与密文放在一起 · the PII master key is kept in the database, beside the phones and addresses it seals.",
    "!!! Anyone with a copy of the database can read them. Set DIANCAN_PII_KEY from a secret store (see README, Deploying);",
    "!!! `--production` refuses to start without it.",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartMode {
    /// Seed the demo into an empty database, WeChat simulator, SMS codes in the log.
    pub demo: bool,
    pub production: bool,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum StartRefused {
    #[error(
        "生产模式不能使用演示模式 · --production refuses demo mode (the WeChat login simulator and SMS codes in the log); drop --demo / DIANCAN_DEMO"
    )]
    DemoInProduction,
    #[error(
        "生产模式需要 DIANCAN_PII_KEY · --production refuses to start without DIANCAN_PII_KEY: the key would otherwise be kept in the database beside the data it protects"
    )]
    NoPiiKeyInProduction,
}

impl StartMode {
    /// `pii_key_env` is the value of `DIANCAN_PII_KEY`, if set.
    pub fn decide(
        args: &ServeArgs,
        pii_key_env: Option<String>,
    ) -> Result<StartMode, StartRefused> {
        if args.production {
            if args.demo {
                return Err(StartRefused::DemoInProduction);
            }
            if pii_key_env.is_none_or(|key| key.trim().is_empty()) {
                return Err(StartRefused::NoPiiKeyInProduction);
            }
        }
        Ok(StartMode {
            demo: args.demo,
            production: args.production,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(demo: bool, production: bool) -> ServeArgs {
        let mut args = match crate::cli::Cli::try_parse_from(["diancan", "serve"])
            .unwrap()
            .command
        {
            Some(crate::cli::Command::Serve(args)) => *args,
            other => panic!("{other:?}"),
        };
        args.demo = demo;
        args.production = production;
        args
    }

    #[test]
    fn production_refuses_demo_mode_and_a_missing_key() {
        let key = Some("ab".repeat(32));
        assert_eq!(
            StartMode::decide(&args(true, true), key.clone()),
            Err(StartRefused::DemoInProduction)
        );
        assert_eq!(
            StartMode::decide(&args(false, true), None),
            Err(StartRefused::NoPiiKeyInProduction)
        );
        assert_eq!(
            StartMode::decide(&args(false, true), Some("  ".into())),
            Err(StartRefused::NoPiiKeyInProduction)
        );
        assert_eq!(
            StartMode::decide(&args(false, true), key),
            Ok(StartMode {
                demo: false,
                production: true
            })
        );
        assert!(StartMode::decide(&args(true, false), None).unwrap().demo);
    }
}
