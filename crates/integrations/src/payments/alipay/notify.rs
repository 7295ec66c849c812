//! Alipay's asynchronous notifications (`notify_url`): a form post, verified on its fields
//! once decoded, answered with the seven bytes `success` (protocols.md §2.4).

use super::{sign, transformers};
use crate::payments::error::PaymentError;
use crate::payments::gateway::NotificationOutcome;
use crate::payments::keys::GatewayPublicKey;
use crate::payments::model::{
    Acknowledgement, GatewayEvent, IncomingNotification, Provider, Refund, RefundState, Trade,
    VerifiedNotification,
};
use crate::payments::transport::HttpResponse;
use crate::payments::yuan;
use diancan_domain::redacted::Redacted;

const MAX_NOTIFICATION_BYTES: usize = 64 * 1024;

/// Decodes the form once (`+` is a space, `%XX` a byte), as Alipay's SDKs read it.
pub fn form_fields(body: &[u8]) -> Result<Vec<(String, String)>, PaymentError> {
    if body.len() > MAX_NOTIFICATION_BYTES {
        return Err(PaymentError::malformed("notification over 64 KiB"));
    }
    if std::str::from_utf8(body).is_err() {
        return Err(PaymentError::malformed("notification is not UTF-8"));
    }
    let fields: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    if fields.is_empty() || fields.iter().any(|(k, _)| k.is_empty()) {
        return Err(PaymentError::malformed("notification is not a form"));
    }
    Ok(fields)
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn required<'a>(fields: &'a [(String, String)], name: &str) -> Result<&'a str, PaymentError> {
    field(fields, name)
        .ok_or_else(|| PaymentError::malformed(format!("notification without {name}")))
}

pub fn verify(
    key: &GatewayPublicKey,
    notification: &IncomingNotification,
) -> Result<VerifiedNotification, PaymentError> {
    let fields = form_fields(&notification.body)?;
    // Alipay may post in GBK when the request said so; we always ask for utf-8.
    if let Some(charset) = field(&fields, "charset")
        && !charset.eq_ignore_ascii_case("utf-8")
    {
        return Err(PaymentError::malformed(format!("charset {charset}")));
    }
    sign::verify_notification(key, &fields)?;
    let notification_id = required(&fields, "notify_id")?.to_owned();
    let out_trade_no = required(&fields, "out_trade_no")?.to_owned();
    // A refund is reported as a trade notification carrying the refund's number and the
    // cumulative refunded amount.
    if let (Some(out_refund_no), Some(refund_fee)) =
        (field(&fields, "out_biz_no"), field(&fields, "refund_fee"))
    {
        return Ok(VerifiedNotification {
            notification_id,
            event: GatewayEvent::Refund(Refund {
                provider: Provider::Alipay,
                out_trade_no,
                out_refund_no: out_refund_no.to_owned(),
                refund_id: field(&fields, "trade_no").map(str::to_owned),
                state: RefundState::Succeeded,
                amount: None,
                refunded_total: Some(yuan::parse("refund_fee", refund_fee)?),
                succeeded_at: transformers::parse_time(field(&fields, "gmt_refund"))?,
            }),
        });
    }
    let trade = Trade {
        provider: Provider::Alipay,
        merchant_id: field(&fields, "seller_id").map(str::to_owned),
        app_id: field(&fields, "app_id").map(str::to_owned),
        out_trade_no,
        transaction_id: field(&fields, "trade_no").map(str::to_owned),
        state: transformers::trade_state(required(&fields, "trade_status")?)?,
        amount: yuan::parse("total_amount", required(&fields, "total_amount")?)?,
        currency: "CNY".to_owned(),
        payer: field(&fields, "buyer_open_id")
            .or(field(&fields, "buyer_id"))
            .map(|p| Redacted::new(p.to_owned())),
        paid_at: transformers::parse_time(field(&fields, "gmt_payment"))?,
    };
    Ok(VerifiedNotification {
        notification_id,
        event: GatewayEvent::Trade(trade),
    })
}

/// The bare `success` stops the resends; anything else (here `fail`) asks for another.
pub fn acknowledgement(outcome: NotificationOutcome) -> Acknowledgement {
    let (status, body): (u16, &[u8]) = match outcome {
        NotificationOutcome::Recorded => (200, b"success"),
        NotificationOutcome::Refused => (400, b"fail"),
        NotificationOutcome::Failed => (500, b"fail"),
    };
    Acknowledgement {
        status,
        content_type: "text/plain",
        body: body.to_vec(),
    }
}

/// Whether Alipay takes `answer` as our acknowledgement: the bare body `success`, nothing else.
pub fn acknowledged(answer: &HttpResponse) -> bool {
    answer.body == b"success"
}

/// Alipay's delays between posts of a notification not answered `success`: after the first,
/// 4 m, 10 m, 10 m, 1 h, 2 h, 6 h and 15 h (about 25 hours in all).
pub const RETRY_SCHEDULE_SECS: [u64; 7] = [240, 600, 600, 3600, 7200, 21600, 54000];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payments::keys::fixture;
    use crate::payments::model::TradeState;
    use diancan_domain::money::Money;

    pub(crate) const ALI3_BODY: &str = "gmt_create=2024-01-01+12%3A00%3A01&charset=utf-8&gmt_payment=2024-01-01+12%3A00%3A05&notify_time=2024-01-01+12%3A00%3A06&subject=%E6%A1%8C%E5%8F%B7A12-%E5%A0%82%E9%A3%9F%E8%AE%A2%E5%8D%95&buyer_id=2088102177846880&invoice_amount=88.80&version=1.0&notify_id=2024010100222120005000000000000001&fund_bill_list=%5B%7B%22amount%22%3A%2288.80%22%2C%22fundChannel%22%3A%22ALIPAYACCOUNT%22%7D%5D&notify_type=trade_status_sync&out_trade_no=T20240101120000001&total_amount=88.80&trade_status=TRADE_SUCCESS&trade_no=2024010122001446880500000001&auth_app_id=2021000000000000&receipt_amount=88.80&point_amount=0.00&buyer_pay_amount=88.80&app_id=2021000000000000&seller_id=2088102177649450&sign=ft2DaYp4QUfx67Dy5g7DslTIDrcupKrMY2zuRB0AaAhEcW3RauqLMJAdcbKInkcdYSHTWHeBZssF5anhOHmtOzi0F2avk45iJWMBBpPI0aA2g2M330XfH7S3EuSRzh%2BYhiiu1RTaXepD%2F%2F1MAP%2FheFVkS2DHubltw1M8UVbut0DrRR3iorijc6NqOn6%2BFp4E7vJTijHpJ1EcSsCVvYzIoIiA7atcl%2BQv%2F9MlB2Ku0WLDEkgbQDRfm4UhDVYpECXhYIr2hKtxK%2BNNLJL1pb99KNka1LlBQpedteKl8XRduaJUM75yXUvD6y6EXPJzXTUGR4nYQab51vBsSQ9e5153sA%3D%3D&sign_type=RSA2";

    fn incoming(body: &str) -> IncomingNotification {
        IncomingNotification {
            headers: vec![(
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            )],
            body: body.as_bytes().to_vec(),
        }
    }

    /// Signs `fields` with the fixture key and posts them as a form, like the simulator.
    fn signed_form(fields: &[(String, String)]) -> String {
        let sign = sign::sign_request(
            &fixture::merchant_key(),
            fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let mut body = form_urlencoded::Serializer::new(String::new());
        body.extend_pairs(fields.iter())
            .append_pair("sign", &sign)
            .append_pair("sign_type", "RSA2");
        body.finish()
    }

    #[test]
    fn ali3_signed_content_is_rebuilt_from_the_form() {
        let fields = form_fields(ALI3_BODY.as_bytes()).unwrap();
        assert_eq!(
            sign::sign_content(
                fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                &["sign", "sign_type"]
            ),
            r#"app_id=2021000000000000&auth_app_id=2021000000000000&buyer_id=2088102177846880&buyer_pay_amount=88.80&charset=utf-8&fund_bill_list=[{"amount":"88.80","fundChannel":"ALIPAYACCOUNT"}]&gmt_create=2024-01-01 12:00:01&gmt_payment=2024-01-01 12:00:05&invoice_amount=88.80&notify_id=2024010100222120005000000000000001&notify_time=2024-01-01 12:00:06&notify_type=trade_status_sync&out_trade_no=T20240101120000001&point_amount=0.00&receipt_amount=88.80&seller_id=2088102177649450&subject=桌号A12-堂食订单&total_amount=88.80&trade_no=2024010122001446880500000001&trade_status=TRADE_SUCCESS&version=1.0"#
        );
    }

    #[test]
    fn ali3_notification_becomes_a_paid_trade_in_fen() {
        let verified = verify(&fixture::public_key(), &incoming(ALI3_BODY)).unwrap();
        assert_eq!(
            verified.notification_id,
            "2024010100222120005000000000000001"
        );
        let GatewayEvent::Trade(trade) = verified.event else {
            panic!("a payment");
        };
        assert_eq!(trade.state, TradeState::Paid);
        assert_eq!(trade.amount, Money::from_fen(8880));
        assert_eq!(trade.out_trade_no, "T20240101120000001");
        assert_eq!(
            trade.transaction_id.as_deref(),
            Some("2024010122001446880500000001")
        );
        assert_eq!(trade.merchant_id.as_deref(), Some("2088102177649450"));
        assert_eq!(trade.app_id.as_deref(), Some("2021000000000000"));
        assert_eq!(trade.paid_at, Some("2024-01-01T04:00:05Z".parse().unwrap()));
    }

    #[test]
    fn tampered_or_foreign_notifications_are_refused() {
        let cheaper = ALI3_BODY.replace("total_amount=88.80", "total_amount=0.01");
        assert_eq!(
            verify(&fixture::public_key(), &incoming(&cheaper)).unwrap_err(),
            PaymentError::BadSignature
        );
        let unsigned = ALI3_BODY.split("&sign=").next().unwrap().to_owned();
        assert_eq!(
            verify(&fixture::public_key(), &incoming(&unsigned)).unwrap_err(),
            PaymentError::MissingHeader { name: "sign" }
        );
        assert!(matches!(
            verify(&fixture::public_key(), &incoming("")),
            Err(PaymentError::MalformedBody { .. })
        ));
        assert!(matches!(
            verify(
                &fixture::public_key(),
                &incoming(r#"{"trade_status":"TRADE_SUCCESS"}"#)
            ),
            Err(PaymentError::MissingHeader { name: "sign" })
        ));
        let gbk = ALI3_BODY.replace("charset=utf-8", "charset=gbk");
        assert!(matches!(
            verify(&fixture::public_key(), &incoming(&gbk)),
            Err(PaymentError::MalformedBody { .. })
        ));
    }

    #[test]
    fn a_refund_notification_is_a_refund_event() {
        let mut fields = form_fields(ALI3_BODY.as_bytes()).unwrap();
        fields.retain(|(k, _)| k != "sign" && k != "sign_type");
        fields.push(("out_biz_no".into(), "R1".into()));
        fields.push(("refund_fee".into(), "20.00".into()));
        // Real posts carry milliseconds here (`yyyy-MM-dd HH:mm:ss.S`).
        fields.push(("gmt_refund".into(), "2024-01-01 13:00:00.250".into()));
        let verified = verify(&fixture::public_key(), &incoming(&signed_form(&fields))).unwrap();
        let GatewayEvent::Refund(refund) = verified.event else {
            panic!("a refund");
        };
        assert_eq!(refund.out_refund_no, "R1");
        assert_eq!(refund.refunded_total, Some(Money::from_fen(2000)));
        assert_eq!(
            refund.succeeded_at,
            Some("2024-01-01T05:00:00.25Z".parse().unwrap())
        );
    }

    #[test]
    fn the_acknowledgement_is_seven_bare_bytes() {
        let ok = acknowledgement(NotificationOutcome::Recorded);
        assert_eq!(
            (ok.status, ok.body.as_slice()),
            (200, b"success".as_slice())
        );
        assert_ne!(
            acknowledgement(NotificationOutcome::Failed).body,
            b"success"
        );
    }
}
