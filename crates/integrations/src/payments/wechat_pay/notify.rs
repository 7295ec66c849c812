//! WeChat Pay's notifications: verify the signature on the raw body, decrypt the resource,
//! and answer in the form WeChat stops resending on (protocols.md §1.10).

use super::aead::{self, ApiV3Key};
use super::transformers;
use super::verify::PlatformKeys;
use super::wire::{NotificationEnvelope, RefundAnswer, Transaction};
use crate::payments::error::PaymentError;
use crate::payments::gateway::NotificationOutcome;
use crate::payments::model::{
    Acknowledgement, GatewayEvent, IncomingNotification, VerifiedNotification,
};
use crate::payments::transport::HttpResponse;
use jiff::Timestamp;

/// A notification body larger than this is not WeChat's.
const MAX_NOTIFICATION_BYTES: usize = 64 * 1024;

/// The envelope's id and event type with the decrypted resource.
pub(super) struct Opened {
    pub id: String,
    pub event_type: String,
    pub plaintext: Vec<u8>,
}

pub(super) fn open(
    keys: &PlatformKeys,
    api_key: &[u8],
    notification: &IncomingNotification,
    now: Timestamp,
) -> Result<Opened, PaymentError> {
    if notification.body.len() > MAX_NOTIFICATION_BYTES {
        return Err(PaymentError::malformed("notification over 64 KiB"));
    }
    keys.verify(|name| notification.header(name), &notification.body, now)?;
    let envelope: NotificationEnvelope = serde_json::from_slice(&notification.body)
        .map_err(|e| PaymentError::malformed(format!("notification is not WeChat's JSON: {e}")))?;
    let resource = &envelope.resource;
    if resource.algorithm != "AEAD_AES_256_GCM" {
        return Err(PaymentError::malformed(format!(
            "resource algorithm {}",
            resource.algorithm
        )));
    }
    let plaintext = aead::open(
        api_key,
        &resource.nonce,
        &resource.associated_data,
        &resource.ciphertext,
    )?;
    Ok(Opened {
        id: envelope.id,
        event_type: envelope.event_type,
        plaintext,
    })
}

pub(super) fn verify(
    keys: &PlatformKeys,
    api_key: &ApiV3Key,
    notification: &IncomingNotification,
    now: Timestamp,
) -> Result<VerifiedNotification, PaymentError> {
    let opened = api_key.with_bytes(|bytes| open(keys, bytes, notification, now))?;
    let malformed = |e: serde_json::Error| PaymentError::malformed(format!("resource: {e}"));
    let event = match opened.event_type.as_str() {
        "TRANSACTION.SUCCESS" => GatewayEvent::Trade(transformers::trade(
            serde_json::from_slice::<Transaction>(&opened.plaintext).map_err(malformed)?,
        )?),
        "REFUND.SUCCESS" | "REFUND.ABNORMAL" | "REFUND.CLOSED" => {
            GatewayEvent::Refund(transformers::refund(
                serde_json::from_slice::<RefundAnswer>(&opened.plaintext).map_err(malformed)?,
            )?)
        }
        other => {
            return Err(PaymentError::malformed(format!("event type {other}")));
        }
    };
    Ok(VerifiedNotification {
        notification_id: opened.id,
        event,
    })
}

/// 200 with `{"code":"SUCCESS"}` (accepted by both the older and current documentation, which
/// also allows a bare 204); a failure is a 4xx (refused) or 5xx (not stored) with
/// `{"code":"FAIL"}`, and WeChat resends on its schedule.
pub fn acknowledgement(outcome: NotificationOutcome) -> Acknowledgement {
    let (status, body) = match outcome {
        NotificationOutcome::Recorded => (200, r#"{"code":"SUCCESS","message":"成功"}"#),
        NotificationOutcome::Refused => (400, r#"{"code":"FAIL","message":"验签失败"}"#),
        NotificationOutcome::Failed => (500, r#"{"code":"FAIL","message":"失败"}"#),
    };
    Acknowledgement {
        status,
        content_type: "application/json",
        body: body.as_bytes().to_vec(),
    }
}

/// Whether WeChat takes `answer` as our acknowledgement: any 2xx (the documented 200 or 204).
pub fn acknowledged(answer: &HttpResponse) -> bool {
    (200..300).contains(&answer.status)
}

/// WeChat's resend delays after a failed or missing acknowledgement: 15 times over 24 h 4 min.
pub const RETRY_SCHEDULE_SECS: [u64; 15] = [
    15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
];

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::payments::keys::fixture;
    use crate::payments::model::{RefundState, TradeState};
    use diancan_domain::money::Money;

    fn keys() -> PlatformKeys {
        PlatformKeys::new()
            .with_public_key("F5765756002FDD77", fixture::PUBLIC_KEY)
            .unwrap()
            .with_public_key("D7CE59D1F522D701", fixture::PUBLIC_KEY)
            .unwrap()
    }

    fn notification(headers: &[(&str, &str)], body: &str) -> IncomingNotification {
        IncomingNotification {
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), (*v).to_owned()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    const PAYSCORE_BODY: &str = r#"{"id":"3119dfba-e649-5eec-ab1e-3412bc4d2e17","create_time":"2021-06-24T16:37:26+08:00","resource_type":"encrypt-resource","event_type":"PAYSCORE.USER_OPEN_SERVICE","summary":"签约成功","resource":{"original_type":"payscore","algorithm":"AEAD_AES_256_GCM","ciphertext":"YDS3lKPaC4Y52Gf3uhft5qUBlIa8b428AWTtTauHQfQrRw+X1WpiuHIDy0vo1Vd6VEq67aVyqPdDYMkRVSDaZL3iZttevRMOoPKMifozg6XPWjIZumks/GpT48lI4NizyeaqLBokNebthah3o1H76qSlO9NkDjp9bzmKLEYYH9TEklFUpsvPqOTOcgSLgh21YJXYR7dEBXFgRLiNIKRgO5JdXh1hccRUAlyVWxE54PXpnQ==","associated_data":"payscore","nonce":"Kj7QIyUiYx1q"}}"#;

    #[test]
    fn upstream_payscore_notification_verifies_and_decrypts() {
        // wechatpay-go core/notify/notify_test.go, with its 16-byte key and pinned clock.
        let incoming = notification(
            &[
                ("Wechatpay-Timestamp", "1624523846"),
                ("Wechatpay-Nonce", "EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz"),
                ("Wechatpay-Serial", "D7CE59D1F522D701"),
                (
                    "Wechatpay-Signature",
                    "tJHIiIS9eB2hAYstmAmbbD3ZE5LiIm/Ug5tuL4fC0YOFRWIHV39UFIZXC0e9Wl6lBu6sKvkqDkzpqzBsVHyXFlbYZTOQrVdG4b6LfTnK4mikv9++ixJMd3vTf2yCqvBkh98zs3Ds5zsYQakzbcwhmw4fMJs4nPLws28H0UW9FjDR//rxELLwXvV1VEA1IBLX70xptjL8hrfUjEE8kkry6yNJTHZRU8CAc7qHli2Ng1V1qb9ARbK8A3ThmFmPQvRGrapI/jS2laKKgYUmfdEdkNO6B2Cke5e8VTxY406ArAmQ90GAihDwIcb16TQMnzCMBoutnwZKNiKRACrFmtxw2Q==",
                ),
            ],
            PAYSCORE_BODY,
        );
        let opened = open(
            &keys(),
            b"testMchAPIv3Key0",
            &incoming,
            Timestamp::from_second(1624523846).unwrap(),
        )
        .unwrap();
        assert_eq!(opened.id, "3119dfba-e649-5eec-ab1e-3412bc4d2e17");
        assert_eq!(
            String::from_utf8(opened.plaintext).unwrap(),
            r#"{"mchid":"1234567890","appid":"054aa7d7a2a54ab5898df65bd96f001c","create_time":"2020-06-30T12:12:00+08:00","out_contract_code":"21640bdbd08e473e828f3206a2741c6e"}"#
        );
    }

    pub(crate) const WX4_SIGNATURE: &str = "Jat3XC/EzedWPquyYVv/pKwPwjA6GYSavSV3F2vja2jq3R9aNOkBa/jUlNTNN997CUfstDdok4donk/6MNPY9AV9/WlkWv/MMC19IT3oklhLvDjFgZXOXHnKqMpITJYgq0qqVC4ksHUpbn3PpNw8pB4leyEx73TzwwSxN96k23XtqnrjyVlB6BHq9LUSBeCIAyyEoM8liTypm1CA6C7sc2FEczfddabRXV09N8mPzdFLAHL3htVeyedkEVHa6oeeQv0MKCWp/DwSoIYZz3zgjUJvdBzQhS9JFWgpAbDnBd73QWYshn7VsTR4H0ymCejjub4he6/KNUXxW7+MqxQLvg==";
    pub(crate) const WX4_BODY: &str = r#"{"id":"EV-2018022511223320873","create_time":"2024-01-01T12:00:06+08:00","resource_type":"encrypt-resource","event_type":"TRANSACTION.SUCCESS","summary":"支付成功","resource":{"original_type":"transaction","algorithm":"AEAD_AES_256_GCM","ciphertext":"DUcegK33A8MEOgdJt8PWwAdrzVDy3c3BTENCdjZ/7K2gbkFM2sU/cZ/UPNrLir4DXaSrqBdzgGy/sMCWIPKVQdMoXpY4xG4iYhF7TH0MBs4T7FaM9hoFjn/sa9TCWtjLTRzZiknVkW9IXW37a35VmVaeZyQYgusGnnisNS4A5dYAMLanoUF4L3PO4m3uteG+aMmWJMtSbZltG3H2Cu2Vou2Js2PVFnyTfOk0kYJAGpoCL2ommjUrvbBvauITRk+k/y/n+JuGpdOpOis3M/eGUHdtAIyAvV/ITkfIG5HrFyBdGa2YLbf+GInakMOOp3keLCkCrXxqpGgj/93tkVOlMxLsBE4+v6PxO4W/XgV/4wFoXgWzaWtISZWXQg2PhNlSrB31Yh1oLOQLchwJxi52V1ku3ClmMKFUp+fxqVUY9Xd2v0aYu790sSKRsOWHztB93+hiJGRzz5d0g5EFcVOBDeBJ+CtvEvqoSFSV3DzAqI0D3zzR060zfnbXXysdautyGRF2j6wmjU07c3XWZ1AnERmofPEhEAoAoECGxd3QJSZbMotFyNGjepgqsnJTngjz8Nb8rtiHZ/I4PcbkuBqs","associated_data":"transaction","nonce":"fdasflkja484"}}"#;

    fn wx4(signature: &str, body: &str) -> IncomingNotification {
        notification(
            &[
                ("Wechatpay-Timestamp", "1704081606"),
                ("Wechatpay-Nonce", "3d980fb850fdce97f6bfb3d248597f16"),
                ("Wechatpay-Serial", "F5765756002FDD77"),
                ("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048"),
                ("Wechatpay-Signature", signature),
            ],
            body,
        )
    }

    fn api_key() -> ApiV3Key {
        ApiV3Key::parse("0123456789abcdef0123456789abcdef").unwrap()
    }

    #[test]
    fn wx4_payment_notification_becomes_a_paid_trade() {
        let now = Timestamp::from_second(1704081606 + 10).unwrap();
        let verified = verify(&keys(), &api_key(), &wx4(WX4_SIGNATURE, WX4_BODY), now).unwrap();
        assert_eq!(verified.notification_id, "EV-2018022511223320873");
        let GatewayEvent::Trade(trade) = verified.event else {
            panic!("a payment event");
        };
        assert_eq!(trade.state, TradeState::Paid);
        assert_eq!(trade.amount, Money::from_fen(100));
        assert_eq!(trade.currency, "CNY");
        assert_eq!(trade.merchant_id.as_deref(), Some("1230000109"));
        assert_eq!(trade.app_id.as_deref(), Some("wxd678efh567hg6787"));
        assert_eq!(trade.out_trade_no, "1217752501201407033233368018");
        assert_eq!(
            trade.transaction_id.as_deref(),
            Some("4200000000202401010000000001")
        );
        assert_eq!(
            trade.payer.as_ref().map(|p| p.expose().as_str()),
            Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
        );
        assert_eq!(
            trade.paid_at,
            Some("2024-01-01T04:00:05Z".parse::<Timestamp>().unwrap())
        );
    }

    #[test]
    fn bad_notifications_are_refused_by_name() {
        let now = Timestamp::from_second(1704081606).unwrap();
        let tampered_body = WX4_BODY.replace("支付成功", "支付失败");
        assert_eq!(
            verify(
                &keys(),
                &api_key(),
                &wx4(WX4_SIGNATURE, &tampered_body),
                now
            )
            .unwrap_err(),
            PaymentError::BadSignature
        );
        let late = Timestamp::from_second(1704081606 + 3600).unwrap();
        assert!(matches!(
            verify(&keys(), &api_key(), &wx4(WX4_SIGNATURE, WX4_BODY), late),
            Err(PaymentError::StaleTimestamp { .. })
        ));
        let other_key = ApiV3Key::parse("fedcba9876543210fedcba9876543210").unwrap();
        assert_eq!(
            verify(&keys(), &other_key, &wx4(WX4_SIGNATURE, WX4_BODY), now).unwrap_err(),
            PaymentError::Undecryptable
        );
        let unknown = PlatformKeys::new();
        assert!(matches!(
            verify(&unknown, &api_key(), &wx4(WX4_SIGNATURE, WX4_BODY), now),
            Err(PaymentError::UnknownSerial { .. })
        ));
    }

    #[test]
    fn a_signed_body_that_is_not_an_envelope_is_malformed() {
        // Signed correctly (by the fixture key), but not WeChat's JSON.
        let now = Timestamp::from_second(1704081606).unwrap();
        for body in ["not json", r#"{"id":"x"}"#] {
            let message = format!("1704081606\n3d980fb850fdce97f6bfb3d248597f16\n{body}\n");
            let signature = fixture::merchant_key().sign(message.as_bytes());
            assert!(matches!(
                verify(&keys(), &api_key(), &wx4(&signature, body), now),
                Err(PaymentError::MalformedBody { .. })
            ));
        }
    }

    #[test]
    fn a_refund_notification_becomes_a_refund_event() {
        let resource = serde_json::json!({
            "original_type": "refund", "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": crate::payments::wechat_pay::aead::tests::WX5_CIPHERTEXT,
            "associated_data": "refund", "nonce": "Kj7QIyUiYx1q"
        });
        let body = serde_json::json!({
            "id": "EV-R1", "create_time": "2024-01-01T13:00:01+08:00",
            "resource_type": "encrypt-resource", "event_type": "REFUND.SUCCESS",
            "summary": "退款成功", "resource": resource
        })
        .to_string();
        let message = format!("1704085201\nabc\n{body}\n");
        let signature = fixture::merchant_key().sign(message.as_bytes());
        let incoming = notification(
            &[
                ("Wechatpay-Timestamp", "1704085201"),
                ("Wechatpay-Nonce", "abc"),
                ("Wechatpay-Serial", "F5765756002FDD77"),
                ("Wechatpay-Signature", &signature),
            ],
            &body,
        );
        let now = Timestamp::from_second(1704085201).unwrap();
        let GatewayEvent::Refund(refund) =
            verify(&keys(), &api_key(), &incoming, now).unwrap().event
        else {
            panic!("a refund event");
        };
        assert_eq!(refund.state, RefundState::Succeeded);
        assert_eq!(refund.out_refund_no, "R1217752501201407033233368018");
        assert_eq!(refund.amount, Some(Money::from_fen(100)));
    }

    #[test]
    fn acknowledgements_are_the_documented_bytes() {
        let ok = acknowledgement(NotificationOutcome::Recorded);
        assert_eq!(
            (ok.status, ok.body.as_slice()),
            (200, r#"{"code":"SUCCESS","message":"成功"}"#.as_bytes())
        );
        let failed = acknowledgement(NotificationOutcome::Failed);
        assert_eq!(failed.status, 500);
        assert_eq!(
            failed.body,
            r#"{"code":"FAIL","message":"失败"}"#.as_bytes()
        );
        assert_eq!(RETRY_SCHEDULE_SECS.iter().sum::<u64>(), 24 * 3600 + 4 * 60);
    }
}
