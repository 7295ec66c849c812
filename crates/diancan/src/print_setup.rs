//! Printing outside the server's own LAN: which Feie account `feie` printers print through
//! (demo mode: the local simulator), and `diancan print-agent`, the shop-side process.

use crate::cli::{FeieArgs, PrintAgentArgs};
use diancan_integrations::printing::agent::{self, AgentConfig, AgentError};
use diancan_integrations::printing::feie::{FeieAccount, FeieClient};
use diancan_web::AppState;

/// The state printing to Feie as configured; returns the banner's line about it.
pub async fn configure_feie(
    state: AppState,
    args: &FeieArgs,
    demo: bool,
) -> anyhow::Result<(AppState, Option<String>)> {
    if demo {
        let state = state.with_simulated_feie().await?;
        return Ok((
            state,
            Some("飞鹅云打印 Feie cloud printing: 本地模拟器 local simulator".into()),
        ));
    }
    match (&args.feie_user, &args.feie_ukey) {
        (Some(user), Some(ukey)) => {
            let account = FeieAccount {
                base_url: args.feie_url.clone(),
                user: user.clone(),
                ukey: ukey.clone(),
            };
            let note = format!("飞鹅云打印 Feie cloud printing: {user}");
            Ok((state.with_feie(FeieClient::new(account)), Some(note)))
        }
        (None, None) => Ok((state, None)),
        _ => anyhow::bail!(
            "飞鹅云需要 DIANCAN_FEIE_USER 和 DIANCAN_FEIE_UKEY 两项 · Feie needs both DIANCAN_FEIE_USER and DIANCAN_FEIE_UKEY"
        ),
    }
}

/// `diancan print-agent`: runs until its token is refused, then exits with the reason.
pub async fn run_agent(args: PrintAgentArgs) -> anyhow::Result<()> {
    let config = AgentConfig::new(&args.server, &args.token, args.spool.clone());
    println!(
        "  打印助手 print agent: server {}, spool {}",
        config.server,
        args.spool.display()
    );
    match agent::run(config).await {
        Ok(never) => match never {},
        Err(AgentError::Revoked) => {
            anyhow::bail!("{}", AgentError::Revoked)
        }
        Err(other) => Err(other.into()),
    }
}
