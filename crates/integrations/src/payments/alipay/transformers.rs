//! Alipay's answers and notifications in our words: states, fen, China times and errors.

use super::wire::Answer;
use crate::payments::error::PaymentError;
use crate::payments::model::{Provider, Refund, RefundState, Trade, TradeState};
use crate::payments::yuan;
use diancan_domain::redacted::Redacted;
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::Offset;

const CHINA: Offset = Offset::constant(8);
const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// `yyyy-MM-dd HH:mm:ss` in China time, Alipay's format both ways (refund times may add
/// milliseconds).
pub fn china_time(at: Timestamp) -> String {
    CHINA.to_datetime(at).strftime(TIME_FORMAT).to_string()
}

pub fn parse_time(text: Option<&str>) -> Result<Option<Timestamp>, PaymentError> {
    text.filter(|t| !t.is_empty())
        .map(|t| {
            DateTime::strptime(TIME_FORMAT, t)
                .or_else(|_| DateTime::strptime("%Y-%m-%d %H:%M:%S%.f", t))
                .ok()
                .and_then(|civil| CHINA.to_timestamp(civil).ok())
                .ok_or_else(|| PaymentError::malformed(format!("time {t:?}")))
        })
        .transpose()
}

pub fn trade_state(status: &str) -> Result<TradeState, PaymentError> {
    Ok(match status {
        "WAIT_BUYER_PAY" => TradeState::NotPaid,
        "TRADE_SUCCESS" => TradeState::Paid,
        "TRADE_FINISHED" => TradeState::Finished,
        "TRADE_CLOSED" => TradeState::Closed,
        other => return Err(PaymentError::malformed(format!("trade_status {other}"))),
    })
}

/// `10000` is success; anything else is the gateway's refusal, by `sub_code` when it has one.
/// Service unavailable (`20000`) and `ACQ.SYSTEM_ERROR` leave the outcome unknown.
pub fn check(answer: &Answer) -> Result<(), PaymentError> {
    if answer.code == "10000" {
        return Ok(());
    }
    Err(refusal(answer))
}

pub fn refusal(answer: &Answer) -> PaymentError {
    let code = answer
        .sub_code
        .clone()
        .unwrap_or_else(|| answer.code.clone());
    let outcome_unknown =
        answer.code == "20000" || matches!(code.as_str(), "ACQ.SYSTEM_ERROR" | "isp.unknow-error");
    PaymentError::Gateway {
        status: 200,
        code,
        message: answer
            .sub_msg
            .clone()
            .or_else(|| answer.msg.clone())
            .unwrap_or_default(),
        outcome_unknown,
    }
}

fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str, PaymentError> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| PaymentError::malformed(format!("answer without {field}")))
}

/// A `trade.query` or `trade.pay` answer; `state` when the answer implies it (`trade.pay`).
pub fn trade(answer: Answer, state: Option<TradeState>) -> Result<Trade, PaymentError> {
    let state = match state {
        Some(state) => state,
        None => trade_state(required(&answer.trade_status, "trade_status")?)?,
    };
    Ok(Trade {
        provider: Provider::Alipay,
        merchant_id: None,
        app_id: None,
        out_trade_no: required(&answer.out_trade_no, "out_trade_no")?.to_owned(),
        transaction_id: answer.trade_no.filter(|t| !t.is_empty()),
        state,
        amount: yuan::parse(
            "total_amount",
            required(&answer.total_amount, "total_amount")?,
        )?,
        currency: "CNY".to_owned(),
        payer: answer
            .buyer_open_id
            .or(answer.buyer_user_id)
            .filter(|p| !p.is_empty())
            .map(Redacted::new),
        paid_at: parse_time(answer.send_pay_date.as_deref())?,
    })
}

/// A `trade.refund` answer. `fund_change=N` is a repeat of a refund already made (or still
/// pending): only a refund query can say it is done.
pub fn refund(
    answer: Answer,
    out_refund_no: &str,
    this_refund: &str,
) -> Result<Refund, PaymentError> {
    let state = if answer.fund_change.as_deref() == Some("Y") {
        RefundState::Succeeded
    } else {
        RefundState::Processing
    };
    Ok(Refund {
        provider: Provider::Alipay,
        out_trade_no: required(&answer.out_trade_no, "out_trade_no")?.to_owned(),
        out_refund_no: out_refund_no.to_owned(),
        refund_id: answer.trade_no,
        state,
        amount: Some(yuan::parse("refund_amount", this_refund)?),
        refunded_total: answer
            .refund_fee
            .as_deref()
            .map(|fee| yuan::parse("refund_fee", fee))
            .transpose()?,
        succeeded_at: None,
    })
}

/// A `trade.fastpay.refund.query` answer: `REFUND_SUCCESS` is done; no status means not
/// refunded (yet), and retrying with the same refund number is safe.
pub fn refund_query(
    answer: Answer,
    out_trade_no: &str,
    out_refund_no: &str,
) -> Result<Refund, PaymentError> {
    let state = match answer.refund_status.as_deref() {
        Some("REFUND_SUCCESS") => RefundState::Succeeded,
        _ => RefundState::Processing,
    };
    Ok(Refund {
        provider: Provider::Alipay,
        out_trade_no: answer
            .out_trade_no
            .unwrap_or_else(|| out_trade_no.to_owned()),
        out_refund_no: answer
            .out_request_no
            .unwrap_or_else(|| out_refund_no.to_owned()),
        refund_id: answer.trade_no,
        state,
        amount: answer
            .refund_amount
            .as_deref()
            .map(|a| yuan::parse("refund_amount", a))
            .transpose()?,
        refunded_total: None,
        succeeded_at: parse_time(answer.gmt_refund_pay.as_deref())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn china_times_round_trip() {
        let at = parse_time(Some("2024-01-01 12:00:05")).unwrap().unwrap();
        assert_eq!(at, "2024-01-01T04:00:05Z".parse::<Timestamp>().unwrap());
        assert_eq!(china_time(at), "2024-01-01 12:00:05");
        assert!(parse_time(Some("2024/01/01 12:00")).is_err());
        assert_eq!(parse_time(Some("")), Ok(None));
    }

    #[test]
    fn refusals_keep_the_sub_code_and_say_when_to_query() {
        let not_found = Answer {
            code: "40004".into(),
            msg: Some("Business Failed".into()),
            sub_code: Some("ACQ.TRADE_NOT_EXIST".into()),
            sub_msg: Some("交易不存在".into()),
            ..Answer::default()
        };
        let error = check(&not_found).unwrap_err();
        assert!(
            matches!(&error, PaymentError::Gateway { code, message, .. } if code == "ACQ.TRADE_NOT_EXIST" && message == "交易不存在")
        );
        assert!(!error.outcome_unknown());
        let busy = Answer {
            code: "20000".into(),
            ..Answer::default()
        };
        assert!(check(&busy).unwrap_err().outcome_unknown());
    }

    #[test]
    fn every_trade_status_maps() {
        assert_eq!(trade_state("WAIT_BUYER_PAY"), Ok(TradeState::NotPaid));
        assert_eq!(trade_state("TRADE_SUCCESS"), Ok(TradeState::Paid));
        assert_eq!(trade_state("TRADE_FINISHED"), Ok(TradeState::Finished));
        assert_eq!(trade_state("TRADE_CLOSED"), Ok(TradeState::Closed));
        assert!(trade_state("PAID").is_err());
    }
}
