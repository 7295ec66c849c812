//! The client against a loopback stand-in that checks our `Authorization` like WeChat does
//! and signs its answers with the test platform key.

use super::*;
use crate::payments::keys::fixture;
use crate::payments::model::{OutRefundNo, RefundState};
use crate::payments::transport::HttpResponse;
use diancan_domain::redacted::Redacted;
use jiff::Timestamp;
use std::sync::Mutex;

const NOW: i64 = 1704081606;

type Answer = Box<dyn Fn(&HttpRequest) -> (u16, String) + Send + Sync>;

/// Answers each request with `answer`, after checking its signature; records what it saw.
struct SigningWechat {
    answer: Answer,
    seen: Mutex<Vec<HttpRequest>>,
    sign_with_serial: &'static str,
}

impl Transport for SigningWechat {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, PaymentError>> {
        Box::pin(async move {
            let header = request
                .headers
                .iter()
                .find(|(n, _)| *n == "authorization")
                .map(|(_, v)| v.clone())
                .expect("every call carries Authorization");
            let auth = sign::parse_authorization(&header).expect("well-formed Authorization");
            let uri = request
                .url
                .strip_prefix("http://wechat.test")
                .expect("our base URL");
            let message = sign::request_message(
                request.method.as_str(),
                uri,
                auth.timestamp,
                &auth.nonce,
                std::str::from_utf8(&request.body).unwrap(),
            );
            assert!(
                fixture::public_key().verifies(message.as_bytes(), &auth.signature),
                "the simulated WeChat accepts our signature"
            );
            assert_eq!(auth.mchid, "1230000109");
            let (status, body) = (self.answer)(&request);
            self.seen.lock().unwrap().push(request);
            let nonce = "simulatednonce";
            let signed = format!("{NOW}\n{nonce}\n{body}\n");
            Ok(HttpResponse {
                status,
                headers: vec![
                    ("wechatpay-timestamp".into(), NOW.to_string()),
                    ("wechatpay-nonce".into(), nonce.into()),
                    ("wechatpay-serial".into(), self.sign_with_serial.into()),
                    (
                        "wechatpay-signature".into(),
                        fixture::merchant_key().sign(signed.as_bytes()),
                    ),
                ],
                body: body.into_bytes(),
            })
        })
    }
}

fn gateway(answer: Answer) -> (WechatPay, Arc<SigningWechat>) {
    gateway_signed_by("F5765756002FDD77", answer)
}

fn gateway_signed_by(serial: &'static str, answer: Answer) -> (WechatPay, Arc<SigningWechat>) {
    let fake = Arc::new(SigningWechat {
        answer,
        seen: Mutex::new(Vec::new()),
        sign_with_serial: serial,
    });
    let config = WechatPayConfig {
        mchid: "1230000109".into(),
        app_id: "wxd678efh567hg6787".into(),
        merchant_serial_no: "F5765756002FDD77".into(),
        merchant_key: fixture::merchant_key(),
        api_v3_key: ApiV3Key::parse("0123456789abcdef0123456789abcdef").unwrap(),
        platform_keys: PlatformKeys::new().with_key("F5765756002FDD77", fixture::public_key()),
        base_url: "http://wechat.test".into(),
    };
    let clock: Clock = Arc::new(|| Timestamp::from_second(NOW).unwrap());
    (WechatPay::new(config, fake.clone(), clock), fake)
}

fn request(method: PayMethod) -> PrepayRequest {
    PrepayRequest {
        out_trade_no: OutTradeNo::parse("1217752501201407033233368018").unwrap(),
        description: "Image形象店-深圳腾大-QQ公仔".into(),
        amount: Money::from_fen(100),
        method,
        notify_url: "https://www.weixin.qq.com/wxpay/pay.php".into(),
        expires_at: None,
    }
}

fn body_of(fake: &SigningWechat, index: usize) -> String {
    String::from_utf8(fake.seen.lock().unwrap()[index].body.clone()).unwrap()
}

#[tokio::test]
async fn jsapi_sends_wx1s_exact_body_and_signs_the_bridge() {
    let (wechat, fake) = gateway(Box::new(|_| {
        (
            200,
            r#"{"prepay_id":"wx26112221580621e9b071c00d9e093b0000"}"#.into(),
        )
    }));
    let payer = Redacted::new("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".to_owned());
    let prepared = wechat
        .prepay(&request(PayMethod::InApp { payer }))
        .await
        .unwrap();
    // The body of vector WX-1, byte for byte.
    assert_eq!(
        body_of(&fake, 0),
        r#"{"appid":"wxd678efh567hg6787","mchid":"1230000109","description":"Image形象店-深圳腾大-QQ公仔","out_trade_no":"1217752501201407033233368018","notify_url":"https://www.weixin.qq.com/wxpay/pay.php","amount":{"total":100,"currency":"CNY"},"payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}"#
    );
    let Prepared::WechatBridge(params) = prepared else {
        panic!("bridge parameters");
    };
    assert_eq!(
        params.package,
        "prepay_id=wx26112221580621e9b071c00d9e093b0000"
    );
    let message = format!(
        "wxd678efh567hg6787\n{}\n{}\n{}\n",
        params.time_stamp, params.nonce_str, params.package
    );
    assert!(fixture::public_key().verifies(message.as_bytes(), &params.pay_sign));
}

#[tokio::test]
async fn native_h5_and_expiry_reach_the_wire() {
    let (wechat, fake) = gateway(Box::new(|request| {
        let answer = if request.url.ends_with("/native") {
            r#"{"code_url":"weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}"#
        } else {
            r#"{"h5_url":"https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1&package=1"}"#
        };
        (200, answer.into())
    }));
    let mut qr = request(PayMethod::Qr);
    qr.expires_at = Some("2024-01-01T04:15:00Z".parse().unwrap());
    assert_eq!(
        wechat.prepay(&qr).await.unwrap(),
        Prepared::QrCode("weixin://wxpay/bizpayurl?pr=p4lpSuKzz".into())
    );
    assert!(body_of(&fake, 0).contains(r#""time_expire":"2024-01-01T12:15:00+08:00""#));
    assert!(!body_of(&fake, 0).contains("payer"));
    let h5 = request(PayMethod::H5 {
        client_ip: "203.0.113.7".into(),
        return_url: Some("https://shop.example.com/paid?o=1".into()),
    });
    let Prepared::Redirect(url) = wechat.prepay(&h5).await.unwrap() else {
        panic!("a redirect");
    };
    assert!(url.ends_with("&redirect_url=https%3A%2F%2Fshop.example.com%2Fpaid%3Fo%3D1"));
    assert!(
        body_of(&fake, 1)
            .contains(r#""scene_info":{"payer_client_ip":"203.0.113.7","h5_info":{"type":"Wap"}}"#)
    );
}

#[tokio::test]
async fn an_answer_signed_by_an_unknown_key_is_not_believed() {
    let (wechat, _) = gateway_signed_by(
        "PUB_KEY_ID_0000000000000000000000000000000000",
        Box::new(|_| {
            (
                200,
                r#"{"code_url":"weixin://wxpay/bizpayurl?pr=evil"}"#.into(),
            )
        }),
    );
    assert!(matches!(
        wechat.prepay(&request(PayMethod::Qr)).await,
        Err(PaymentError::UnknownSerial { .. })
    ));
}

#[tokio::test]
async fn query_close_revoke_and_refund_use_the_documented_paths() {
    let (wechat, fake) = gateway(Box::new(|request| {
        let uri = request.url.trim_start_matches("http://wechat.test");
        match (request.method, uri) {
            (Method::Get, u) if u.starts_with("/v3/pay/transactions/out-trade-no/") => (
                200,
                r#"{"appid":"wxd678efh567hg6787","mchid":"1230000109","out_trade_no":"1217752501201407033233368018","transaction_id":"4200000000202401010000000001","trade_type":"MICROPAY","trade_state":"USERPAYING","amount":{"total":100,"currency":"CNY"}}"#.into(),
            ),
            (Method::Post, u) if u.ends_with("/close") || u.ends_with("/reverse") => (204, String::new()),
            (_, u) if u.starts_with("/v3/refund/domestic/refunds") => (
                200,
                r#"{"refund_id":"50000000382019052709732678859","out_refund_no":"R1","transaction_id":"4200000000202401010000000001","out_trade_no":"1217752501201407033233368018","channel":"ORIGINAL","status":"PROCESSING","create_time":"2024-01-01T13:00:00+08:00","amount":{"total":100,"refund":40,"payer_total":100,"payer_refund":40,"currency":"CNY"}}"#.into(),
            ),
            other => panic!("unexpected call {other:?}"),
        }
    }));
    let order = OutTradeNo::parse("1217752501201407033233368018").unwrap();
    let trade = wechat.query(&order).await.unwrap();
    assert_eq!(trade.state, TradeState::Paying);
    wechat.close(&order).await.unwrap();
    wechat.revoke(&order).await.unwrap();
    let refund_no = OutRefundNo::parse("R1").unwrap();
    let refund = wechat
        .refund(&RefundRequest {
            out_trade_no: order.clone(),
            out_refund_no: refund_no.clone(),
            refund: Money::from_fen(40),
            total: Money::from_fen(100),
            reason: Some("商品已售完".into()),
            notify_url: None,
        })
        .await
        .unwrap();
    assert_eq!(refund.state, RefundState::Processing);
    assert_eq!(refund.amount, Some(Money::from_fen(40)));
    wechat.query_refund(&order, &refund_no).await.unwrap();
    let seen: Vec<String> = fake
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r.method.as_str(),
                r.url.trim_start_matches("http://wechat.test")
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            "GET /v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid=1230000109",
            "POST /v3/pay/transactions/out-trade-no/1217752501201407033233368018/close",
            "POST /v3/pay/transactions/out-trade-no/1217752501201407033233368018/reverse",
            "POST /v3/refund/domestic/refunds",
            "GET /v3/refund/domestic/refunds/R1",
        ]
    );
    assert_eq!(body_of(&fake, 1), r#"{"mchid":"1230000109"}"#);
    assert_eq!(
        body_of(&fake, 2),
        r#"{"appid":"wxd678efh567hg6787","mchid":"1230000109"}"#
    );
    assert_eq!(
        body_of(&fake, 3),
        r#"{"out_trade_no":"1217752501201407033233368018","out_refund_no":"R1","reason":"商品已售完","amount":{"refund":40,"total":100,"currency":"CNY"}}"#
    );
}

#[tokio::test]
async fn gateway_errors_keep_their_code_and_refunds_are_checked_first() {
    let (wechat, fake) = gateway(Box::new(|_| {
        (
            403,
            r#"{"code":"OUT_TRADE_NO_USED","message":"商户订单号重复"}"#.into(),
        )
    }));
    let error = wechat.prepay(&request(PayMethod::Qr)).await.unwrap_err();
    assert!(
        matches!(&error, PaymentError::Gateway { status: 403, code, .. } if code == "OUT_TRADE_NO_USED")
    );
    assert!(!error.outcome_unknown());
    let too_much = RefundRequest {
        out_trade_no: OutTradeNo::parse("1217752501201407033233368018").unwrap(),
        out_refund_no: OutRefundNo::parse("R2").unwrap(),
        refund: Money::from_fen(101),
        total: Money::from_fen(100),
        reason: None,
        notify_url: None,
    };
    assert!(matches!(
        wechat.refund(&too_much).await,
        Err(PaymentError::InvalidRequest { .. })
    ));
    assert_eq!(
        fake.seen.lock().unwrap().len(),
        1,
        "a bad refund is never sent"
    );
}

#[tokio::test]
async fn payment_code_waiting_for_the_diner_is_not_an_error() {
    let (wechat, fake) = gateway(Box::new(|_| {
        (202, r#"{"appid":"wxd678efh567hg6787","mchid":"1230000109","out_trade_no":"1217752501201407033233368018","trade_state":"USERPAYING","amount":{"total":100,"currency":"CNY"}}"#.into())
    }));
    let code = request(PayMethod::PaymentCode {
        auth_code: Redacted::new("134567890123456789".into()),
        device_ip: "192.168.1.20".into(),
    });
    let Prepared::PaymentCode(trade) = wechat.prepay(&code).await.unwrap() else {
        panic!("a 付款码 answer");
    };
    assert_eq!(trade.state, TradeState::Paying);
    assert!(body_of(&fake, 0).contains(r#""payer":{"auth_code":"134567890123456789"}"#));

    // The other form WeChat may answer with while the diner types the password.
    let (wechat, _) = gateway(Box::new(|_| {
        (
            202,
            r#"{"code":"USERPAYING","message":"需要用户输入支付密码"}"#.into(),
        )
    }));
    let Prepared::PaymentCode(trade) = wechat.prepay(&code).await.unwrap() else {
        panic!("a 付款码 answer");
    };
    assert_eq!(
        (trade.state, trade.amount),
        (TradeState::Paying, Money::from_fen(100))
    );
    assert!(
        fake.seen.lock().unwrap()[0]
            .url
            .ends_with("/v3/pay/transactions/codepay")
    );
}

#[tokio::test]
async fn a_bill_file_that_does_not_match_its_signed_digest_is_refused() {
    let (wechat, _) = gateway(Box::new(|request| {
        if request
            .url
            .contains("/v3/bill/tradebill?bill_date=2024-01-01&bill_type=ALL")
        {
            (
                200,
                r#"{"hash_type":"SHA1","hash_value":"79bb0f45fc4c42234a918000b2668d689e2bde04","download_url":"https://api.mch.weixin.qq.com/v3/billdownload/file?token=T1"}"#.into(),
            )
        } else {
            assert!(request.url.ends_with("/v3/billdownload/file?token=T1"));
            (200, format!("{}\n", bill::TRADE_BILL_HEADER))
        }
    }));
    assert_eq!(
        wechat
            .download_trade_bill(jiff::civil::date(2024, 1, 1))
            .await
            .unwrap_err(),
        PaymentError::Mismatch { field: "bill hash" }
    );
}

#[test]
fn configuration_never_prints_its_keys() {
    let (wechat, _) = gateway(Box::new(|_| unreachable!()));
    let printed = format!("{:?}", wechat.config);
    assert!(printed.contains("1230000109"));
    assert!(!printed.contains("0123456789abcdef"), "API v3 key");
    assert!(!printed.contains("MIIE"), "merchant key");
    assert!(printed.contains("<redacted>"));
}
