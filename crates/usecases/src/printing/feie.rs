//! The worker's Feie transport: a job's ESC/POS paper rewritten as Feie markup and sent with
//! `Open_printMsg`, after `Open_queryPrinterStatus` says the printer is online, so an offline
//! Feie box is down (its jobs to the fallback) instead of a job parked in Feie's queue.

use super::Outcome;
use crate::context::Context;
use diancan_integrations::printing::feie::{FeieError, FeieStatus};
use diancan_integrations::printing::feie_markup;
use diancan_storage::printing::{Failure, Printer};

fn stime(ctx: &Context) -> u64 {
    u64::try_from(ctx.clock.now_ms() / 1000).unwrap_or(0)
}

fn failed(error: String, uncertain: bool, printer_down: bool) -> Outcome {
    Outcome::Failed {
        failure: Failure { error, uncertain },
        printer_down,
    }
}

/// Whether Feie has this error's request possibly in hand: a request that went out and got no
/// readable answer may have been queued (and printed) there.
fn may_have_printed(error: &FeieError) -> bool {
    matches!(error, FeieError::Unreachable(_) | FeieError::BadResponse(_))
}

pub(super) async fn send(ctx: &Context, printer: &Printer, bytes: &[u8]) -> Outcome {
    let Some(feie) = ctx.feie.as_ref() else {
        return Outcome::GiveUp(
            "FEIE_NOT_CONFIGURED: 未配置飞鹅云账号 / no Feie account is configured on this server"
                .into(),
        );
    };
    let sn = &printer.address;
    match feie.printer_status(sn, stime(ctx)).await {
        Ok(FeieStatus::Ready) => {}
        Ok(status) => {
            return failed(
                format!(
                    "PRINTER_NOT_READY: 飞鹅打印机{} / Feie printer is {status:?}",
                    status.text()
                ),
                false,
                true,
            );
        }
        // Nothing was sent yet: not uncertain; Feie out of reach is the printer out of reach.
        Err(error) => return failed(error.to_string(), false, true),
    }
    let content = feie_markup::from_escpos(bytes);
    match feie.print(sn, &content, stime(ctx)).await {
        Ok(order_id) => {
            tracing::debug!(printer = %printer.name, %order_id, "Feie took the paper");
            Outcome::Printed
        }
        Err(FeieError::ContentTooLong(n)) => {
            Outcome::GiveUp(FeieError::ContentTooLong(n).to_string())
        }
        Err(error) => {
            let uncertain = may_have_printed(&error);
            failed(error.to_string(), uncertain, uncertain)
        }
    }
}

/// Whether a down Feie printer is online and working again.
pub(super) async fn ready(ctx: &Context, printer: &Printer) -> bool {
    match ctx.feie.as_ref() {
        Some(feie) => matches!(
            feie.printer_status(&printer.address, stime(ctx)).await,
            Ok(FeieStatus::Ready)
        ),
        None => false,
    }
}
