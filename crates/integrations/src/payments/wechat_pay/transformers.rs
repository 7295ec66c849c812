//! WeChat Pay's wire answers in our words: states, fen amounts, times and errors.

use super::wire::{ErrorAnswer, RefundAnswer, Transaction};
use crate::payments::error::PaymentError;
use crate::payments::model::{Provider, Refund, RefundState, Trade, TradeState};
use diancan_domain::money::Money;
use diancan_domain::redacted::Redacted;
use jiff::Timestamp;

fn time(text: Option<&str>) -> Result<Option<Timestamp>, PaymentError> {
    text.filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<Timestamp>()
                .map_err(|_| PaymentError::malformed(format!("time {t} is not RFC 3339")))
        })
        .transpose()
}

pub fn trade_state(state: &str) -> Result<TradeState, PaymentError> {
    Ok(match state {
        "SUCCESS" => TradeState::Paid,
        "REFUND" => TradeState::Refunded,
        "NOTPAY" => TradeState::NotPaid,
        "USERPAYING" => TradeState::Paying,
        "CLOSED" => TradeState::Closed,
        "REVOKED" => TradeState::Revoked,
        "PAYERROR" => TradeState::Failed,
        other => return Err(PaymentError::malformed(format!("trade_state {other}"))),
    })
}

pub fn trade(wire: Transaction) -> Result<Trade, PaymentError> {
    let state = trade_state(&wire.trade_state)?;
    let amount = wire.amount.as_ref();
    let total = amount.and_then(|a| a.total);
    if state.is_paid() && total.is_none() {
        return Err(PaymentError::malformed(
            "a paid transaction without amount.total",
        ));
    }
    Ok(Trade {
        provider: Provider::WechatPay,
        merchant_id: wire.mchid,
        app_id: wire.appid,
        out_trade_no: wire.out_trade_no,
        transaction_id: wire.transaction_id.filter(|id| !id.is_empty()),
        state,
        amount: Money::from_fen(total.unwrap_or(0)),
        currency: amount
            .and_then(|a| a.currency.clone())
            .unwrap_or_else(|| "CNY".to_owned()),
        payer: wire.payer.and_then(|p| p.openid).map(Redacted::new),
        paid_at: time(wire.success_time.as_deref())?,
    })
}

pub fn refund(wire: RefundAnswer) -> Result<Refund, PaymentError> {
    let state = match wire.status.as_str() {
        "SUCCESS" => RefundState::Succeeded,
        "PROCESSING" => RefundState::Processing,
        "CLOSED" => RefundState::Closed,
        "ABNORMAL" => RefundState::Abnormal,
        other => return Err(PaymentError::malformed(format!("refund status {other}"))),
    };
    Ok(Refund {
        provider: Provider::WechatPay,
        out_trade_no: wire.out_trade_no,
        out_refund_no: wire.out_refund_no,
        refund_id: wire.refund_id,
        state,
        amount: wire.amount.and_then(|a| a.refund).map(Money::from_fen),
        refunded_total: None,
        succeeded_at: time(wire.success_time.as_deref())?,
    })
}

/// A non-2xx answer. System errors, rate limits and 5xx leave the outcome unknown.
pub fn error(status: u16, body: &[u8]) -> PaymentError {
    let (code, message) = match serde_json::from_slice::<ErrorAnswer>(body) {
        Ok(answer) => (answer.code, answer.message.unwrap_or_default()),
        Err(_) => (
            format!("HTTP_{status}"),
            String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        ),
    };
    let outcome_unknown = status >= 500
        || matches!(
            code.as_str(),
            "SYSTEM_ERROR" | "BANK_ERROR" | "FREQUENCY_LIMITED" | "USERPAYING"
        );
    PaymentError::Gateway {
        status,
        code,
        message,
        outcome_unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_trade_state_maps_and_unknown_ones_are_refused() {
        for (wire, ours) in [
            ("SUCCESS", TradeState::Paid),
            ("REFUND", TradeState::Refunded),
            ("NOTPAY", TradeState::NotPaid),
            ("USERPAYING", TradeState::Paying),
            ("CLOSED", TradeState::Closed),
            ("REVOKED", TradeState::Revoked),
            ("PAYERROR", TradeState::Failed),
        ] {
            assert_eq!(trade_state(wire), Ok(ours));
        }
        assert!(trade_state("PAID").is_err());
    }

    #[test]
    fn errors_say_whether_money_may_have_moved() {
        let not_found = error(
            404,
            r#"{"code":"RESOURCE_NOT_EXISTS","message":"订单不存在"}"#.as_bytes(),
        );
        assert!(
            matches!(&not_found, PaymentError::Gateway { code, .. } if code == "RESOURCE_NOT_EXISTS")
        );
        assert!(!not_found.outcome_unknown());
        assert!(error(500, br#"{"code":"SYSTEM_ERROR","message":"x"}"#).outcome_unknown());
        assert!(error(502, b"<html>bad gateway</html>").outcome_unknown());
    }

    #[test]
    fn a_paid_transaction_must_carry_its_amount() {
        let wire: Transaction = serde_json::from_str(
            r#"{"out_trade_no":"1217752501201407033233368018","trade_state":"SUCCESS"}"#,
        )
        .unwrap();
        assert!(trade(wire).is_err());
        let unpaid: Transaction = serde_json::from_str(
            r#"{"out_trade_no":"1217752501201407033233368018","trade_state":"NOTPAY","success_time":""}"#,
        )
        .unwrap();
        assert_eq!(trade(unpaid).unwrap().state, TradeState::NotPaid);
    }
}
