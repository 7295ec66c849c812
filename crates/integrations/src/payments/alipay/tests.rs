//! The client against a stand-in gateway that checks our RSA2 signature as Alipay does and
//! signs its `…_response` with the test key.

use super::*;
use crate::payments::gateway::{PaymentCodePolicy, await_payment_code};
use crate::payments::keys::fixture;
use crate::payments::model::RefundState;
use crate::payments::transport::HttpResponse;
use diancan_domain::money::Money;
use diancan_domain::redacted::Redacted;
use jiff::Timestamp;
use std::sync::Mutex;

/// What the stand-in answers for a method: the `…_response` JSON text, and whether to sign it.
type Answer = Box<dyn Fn(&str, usize) -> (String, bool) + Send + Sync>;

/// One call as (method, its form fields).
type Call = (String, Vec<(String, String)>);

struct SigningAlipay {
    answer: Answer,
    seen: Mutex<Vec<Call>>,
}

impl Transport for SigningAlipay {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, PaymentError>> {
        Box::pin(async move {
            let fields: Vec<(String, String)> =
                form_urlencoded::parse(&request.body).into_owned().collect();
            verify_signed_request(&fields);
            let method = fields
                .iter()
                .find(|(k, _)| k == "method")
                .unwrap()
                .1
                .clone();
            let calls = {
                let mut seen = self.seen.lock().unwrap();
                seen.push((method.clone(), fields));
                seen.iter().filter(|(m, _)| *m == method).count()
            };
            let (inner, signed) = (self.answer)(&method, calls);
            let name = format!("{}_response", method.replace('.', "_"));
            let body = if signed {
                let sign = fixture::merchant_key().sign(inner.as_bytes());
                format!(r#"{{"{name}":{inner},"sign":"{sign}"}}"#)
            } else {
                format!(r#"{{"{name}":{inner}}}"#)
            };
            Ok(HttpResponse {
                status: 200,
                headers: vec![("content-type".into(), "text/html;charset=utf-8".into())],
                body: body.into_bytes(),
            })
        })
    }
}

/// Checks a request's RSA2 signature as Alipay does: every field but `sign`.
fn verify_signed_request(fields: &[(String, String)]) {
    let signature = field(fields, "sign").expect("signed");
    let content = sign::sign_content(
        fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &["sign"],
    );
    assert!(
        fixture::public_key().verifies(content.as_bytes(), signature),
        "the simulated Alipay accepts our signature"
    );
}

fn alipay(answer: Answer) -> (Alipay, Arc<SigningAlipay>) {
    let fake = Arc::new(SigningAlipay {
        answer,
        seen: Mutex::new(Vec::new()),
    });
    let config = AlipayConfig {
        app_id: "2021000000000000".into(),
        merchant_key: fixture::merchant_key(),
        alipay_public_key: fixture::public_key(),
        gateway_url: "http://alipay.test/gateway.do".into(),
    };
    // 2024-01-01 12:00:00 in China, the time of vectors ALI-1 and ALI-2.
    let clock: Clock = Arc::new(|| "2024-01-01T04:00:00Z".parse::<Timestamp>().unwrap());
    (Alipay::new(config, fake.clone(), clock), fake)
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn order(no: &str, fen: i64, subject: &str, method: PayMethod) -> PrepayRequest {
    PrepayRequest {
        out_trade_no: OutTradeNo::parse(no).unwrap(),
        description: subject.into(),
        amount: Money::from_fen(fen),
        method,
        notify_url: "https://merchant.example.com/alipay/notify".into(),
        expires_at: None,
    }
}

#[tokio::test]
async fn precreate_sends_ali1_and_believes_ali4() {
    const ALI4: &str = r#"{"alipay_trade_precreate_response":{"code":"10000","msg":"Success","out_trade_no":"T20240101120000001","qr_code":"https://qr.alipay.com/bax00000000000000000000"},"sign":"A4dbjJpJcD4L7KW2O2a4d07U6XypmdPO381C+wQ4wXazAaVMR3xRNgHCbyKGFZx/jsgX8hnT5gFHSwK75ydypxUKOeb8ZVHOKF+uOmVx7lMppohztxS94xO2YQmTjKISwOCX7/zi138ddNep0sazwnCjAjtzD2QHmIKUFWu3RIss7tVNa1MpXmqIRRmcoVyVsxnkxTv3QeZImvotzLTB1YiDeJInRWz9lLsTlNM5hr4SWiVhP/lg59vQonfREpteD+l8cXSYPQnTbqc37YJHMjNTDSrG4dWd5QB8euFgSCjbYl71RLfJTA/nB6mrBkPBHATlOHqotE7dIchWu5PSnQ=="}"#;
    /// Answers every call with the vector's exact bytes and records the body.
    struct Ali4(Mutex<Vec<Vec<u8>>>);
    impl Transport for Ali4 {
        fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, PaymentError>> {
            self.0.lock().unwrap().push(request.body);
            Box::pin(async {
                Ok(HttpResponse {
                    status: 200,
                    headers: vec![],
                    body: ALI4.as_bytes().to_vec(),
                })
            })
        }
    }
    let fake = Arc::new(Ali4(Mutex::new(Vec::new())));
    let (template, _) = alipay(Box::new(|_, _| unreachable!()));
    let client = Alipay::new(template.config, fake.clone(), template.clock);
    let prepared = client
        .prepay(&order(
            "T20240101120000001",
            8880,
            "桌号A12-堂食订单",
            PayMethod::Qr,
        ))
        .await
        .unwrap();
    assert_eq!(
        prepared,
        Prepared::QrCode("https://qr.alipay.com/bax00000000000000000000".into())
    );
    // Vector ALI-1's HTTP body, byte for byte.
    assert_eq!(
        String::from_utf8(fake.0.lock().unwrap()[0].clone()).unwrap(),
        "app_id=2021000000000000&method=alipay.trade.precreate&format=JSON&charset=utf-8&sign_type=RSA2&timestamp=2024-01-01+12%3A00%3A00&version=1.0&notify_url=https%3A%2F%2Fmerchant.example.com%2Falipay%2Fnotify&biz_content=%7B%22out_trade_no%22%3A%22T20240101120000001%22%2C%22total_amount%22%3A%2288.80%22%2C%22subject%22%3A%22%E6%A1%8C%E5%8F%B7A12-%E5%A0%82%E9%A3%9F%E8%AE%A2%E5%8D%95%22%7D&sign=qRIRtZcT%2BJRJzBC95KYlou%2F30P92E1055hcQbiBvm4%2FlT4HkA%2BJcejLUFw6vi3dHofhRBkUwE7ae%2Ba9LZnnbHTLSMQ5ZvXuXp5%2BgmfMDSOxm8rBwHZ3A3t9CgCvewwx5%2BqAcYepiooG5sMypV7RxZNT7ZRozrhP%2FkPGnWRTFfg46z2TCa1GZfsmTYtCHAMYg1vzdo8waEjqcIMDKcixOYSfDOt1KM%2BDEHumeNxOxuznVp3D7FjAaiIdxprhMK9PmjRwK%2BIEBiV6VucH4oWzHKP9wXsWBbCuQe2xvUcg48HxZPaZMyvriG3ZZ4yJxRtX9qdvYF2dhUXmH5cqT9F57MA%3D%3D"
    );
}

#[tokio::test]
async fn mini_program_create_signs_as_ali2() {
    let (client, fake) = alipay(Box::new(|_, _| {
        (
            r#"{"code":"10000","msg":"Success","out_trade_no":"T20240101120000002","trade_no":"2024010122001446880500000002"}"#.into(),
            true,
        )
    }));
    let payer = Redacted::new("074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5".to_owned());
    let prepared = client
        .prepay(&order(
            "T20240101120000002",
            3500,
            "外卖订单",
            PayMethod::InApp { payer },
        ))
        .await
        .unwrap();
    assert_eq!(
        prepared,
        Prepared::AlipayTradeNo("2024010122001446880500000002".into())
    );
    let seen = fake.seen.lock().unwrap();
    assert_eq!(
        field(&seen[0].1, "sign"),
        Some(
            "dq9Lijg0oD3QagKB2Q34NpsXXAsHxCffdhRNJNtY6AJyX7y5AoexU0nfdPJnJlCVRGzX3rb5sTNIokOAMGWelh6qjzNZspNd84HfQ8T9iskc/9aDbiWYEnVy62/1S+5OFk8b/KREPf6g+TFEbN3yWKbn1rmMgr7pF4FbDj5VWfadLSRbxMwmZzWj981vucrhnY/7eA6o4aSzE1pQbQqJ5ywPPvyCYQAjRFX6aBH2Af3pHS4uxekHFaLNmEHWO3nEJgCdOSikxP47FxweHTVgF2dET5xZ39SupJa7RCT9s4D/cpKpg7xGaPXDkPhtbJo2CilqSvxGoI6+CRUG7W0gLQ=="
        )
    );
}

#[tokio::test]
async fn wap_pay_is_a_signed_url_for_the_browser() {
    let (client, fake) = alipay(Box::new(|_, _| unreachable!("a page API makes no call")));
    let h5 = PayMethod::H5 {
        client_ip: "203.0.113.7".into(),
        return_url: Some("https://shop.example.com/paid".into()),
    };
    let Prepared::Redirect(url) = client
        .prepay(&order("T20240101120000003", 1200, "自取订单", h5))
        .await
        .unwrap()
    else {
        panic!("a redirect");
    };
    let query = url.strip_prefix("http://alipay.test/gateway.do?").unwrap();
    let fields: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    verify_signed_request(&fields);
    assert_eq!(field(&fields, "method"), Some("alipay.trade.wap.pay"));
    assert_eq!(
        field(&fields, "return_url"),
        Some("https://shop.example.com/paid")
    );
    assert!(
        field(&fields, "biz_content")
            .unwrap()
            .contains(r#""product_code":"QUICK_WAP_WAY""#)
    );
    assert!(fake.seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn forged_or_unsigned_answers_are_not_believed() {
    let (client, _) = alipay(Box::new(|_, _| {
        (r#"{"code":"10000","msg":"Success","out_trade_no":"T20240101120000001","qr_code":"https://qr.alipay.com/evil"}"#.into(), false)
    }));
    let qr = order(
        "T20240101120000001",
        8880,
        "桌号A12-堂食订单",
        PayMethod::Qr,
    );
    assert_eq!(
        client.prepay(&qr).await.unwrap_err(),
        PaymentError::BadSignature
    );

    struct Tampered;
    impl Transport for Tampered {
        fn send(&self, _: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, PaymentError>> {
            let inner = r#"{"code":"10000","msg":"Success","out_trade_no":"T20240101120000001","qr_code":"https://qr.alipay.com/a"}"#;
            let sign = fixture::merchant_key().sign(inner.as_bytes());
            let body = format!(
                r#"{{"alipay_trade_precreate_response":{},"sign":"{sign}"}}"#,
                inner.replace("/a\"", "/b\"")
            );
            Box::pin(async move {
                Ok(HttpResponse {
                    status: 200,
                    headers: vec![],
                    body: body.into_bytes(),
                })
            })
        }
    }
    let (template, _) = alipay(Box::new(|_, _| unreachable!()));
    let tampered = Alipay::new(template.config, Arc::new(Tampered), template.clock);
    assert_eq!(
        tampered.prepay(&qr).await.unwrap_err(),
        PaymentError::BadSignature
    );
}

#[tokio::test]
async fn refusals_carry_alipays_sub_code() {
    let (client, _) = alipay(Box::new(|_, _| {
        (r#"{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"}"#.into(), true)
    }));
    let error = client
        .query(&OutTradeNo::parse("T20240101120000001").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(&error, PaymentError::Gateway { code, .. } if code == "ACQ.TRADE_NOT_EXIST"));
}

#[tokio::test]
async fn refunds_close_and_cancel_reach_their_methods() {
    let (client, fake) = alipay(Box::new(|method, _| {
        let inner = match method {
            "alipay.trade.refund" => {
                r#"{"code":"10000","msg":"Success","trade_no":"2024010122001446880500000001","out_trade_no":"T20240101120000001","fund_change":"Y","refund_fee":"20.00"}"#
            }
            "alipay.trade.fastpay.refund.query" => {
                r#"{"code":"10000","msg":"Success","trade_no":"2024010122001446880500000001","out_trade_no":"T20240101120000001","out_request_no":"R1","refund_status":"REFUND_SUCCESS","refund_amount":"20.00","total_amount":"88.80","gmt_refund_pay":"2024-01-01 13:00:00"}"#
            }
            _ => {
                r#"{"code":"10000","msg":"Success","trade_no":"2024010122001446880500000001","out_trade_no":"T20240101120000001"}"#
            }
        };
        (inner.into(), true)
    }));
    let order_no = OutTradeNo::parse("T20240101120000001").unwrap();
    let refund_no = OutRefundNo::parse("R1").unwrap();
    let refund = client
        .refund(&RefundRequest {
            out_trade_no: order_no.clone(),
            out_refund_no: refund_no.clone(),
            refund: Money::from_fen(2000),
            total: Money::from_fen(8880),
            reason: None,
            notify_url: None,
        })
        .await
        .unwrap();
    assert_eq!(refund.state, RefundState::Succeeded);
    assert_eq!(refund.amount, Some(Money::from_fen(2000)));
    let queried = client.query_refund(&order_no, &refund_no).await.unwrap();
    assert_eq!(queried.state, RefundState::Succeeded);
    assert_eq!(
        queried.succeeded_at,
        Some("2024-01-01T05:00:00Z".parse().unwrap())
    );
    client.close(&order_no).await.unwrap();
    client.revoke(&order_no).await.unwrap();
    let seen = fake.seen.lock().unwrap();
    let methods: Vec<&str> = seen.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(
        methods,
        [
            "alipay.trade.refund",
            "alipay.trade.fastpay.refund.query",
            "alipay.trade.close",
            "alipay.trade.cancel"
        ]
    );
    assert_eq!(
        field(&seen[0].1, "biz_content"),
        Some(
            r#"{"out_trade_no":"T20240101120000001","refund_amount":"20.00","out_request_no":"R1"}"#
        )
    );
}

fn payment_code() -> PrepayRequest {
    order(
        "T20240101120000009",
        2500,
        "堂食 付款码",
        PayMethod::PaymentCode {
            auth_code: Redacted::new("286734567890123456".into()),
            device_ip: "192.168.1.20".into(),
        },
    )
}

/// Without `total_amount`, as a 10003 answer may come.
const WAITING: &str = r#"{"code":"10003","msg":"order success pay inprocess","out_trade_no":"T20240101120000009","trade_no":"2024010122001446880500000009"}"#;

#[tokio::test(start_paused = true)]
async fn a_payment_code_confirmed_in_time_is_paid_without_a_revoke() {
    let (client, fake) = alipay(Box::new(|method, calls| {
        let inner = match (method, calls) {
            ("alipay.trade.pay", _) => WAITING,
            ("alipay.trade.query", 1) => {
                r#"{"code":"10000","msg":"Success","out_trade_no":"T20240101120000009","trade_no":"2024010122001446880500000009","trade_status":"WAIT_BUYER_PAY","total_amount":"25.00"}"#
            }
            ("alipay.trade.query", _) => {
                r#"{"code":"10000","msg":"Success","out_trade_no":"T20240101120000009","trade_no":"2024010122001446880500000009","trade_status":"TRADE_SUCCESS","total_amount":"25.00","send_pay_date":"2024-01-01 12:00:09"}"#
            }
            other => panic!("unexpected {other:?}"),
        };
        (inner.into(), true)
    }));
    let request = payment_code();
    let Prepared::PaymentCode(first) = client.prepay(&request).await.unwrap() else {
        panic!("a 付款码 answer");
    };
    assert_eq!(first.state, TradeState::Paying);
    assert_eq!(first.amount, Money::from_fen(2500));
    let trade = await_payment_code(&client, &request.out_trade_no, PaymentCodePolicy::default())
        .await
        .unwrap();
    assert_eq!(trade.state, TradeState::Paid);
    assert_eq!(trade.amount, Money::from_fen(2500));
    let methods: Vec<String> = fake
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|(m, _)| m.clone())
        .collect();
    assert_eq!(
        methods,
        [
            "alipay.trade.pay",
            "alipay.trade.query",
            "alipay.trade.query"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_payment_code_left_unconfirmed_for_45_seconds_is_revoked() {
    let (client, fake) = alipay(Box::new(|method, calls| {
        let inner = match (method, calls) {
            ("alipay.trade.cancel", _) => {
                r#"{"code":"10000","msg":"Success","out_trade_no":"T20240101120000009","retry_flag":"N","action":"close"}"#
            }
            // The query after the revocation.
            ("alipay.trade.query", 10) => {
                r#"{"code":"10000","msg":"Success","out_trade_no":"T20240101120000009","trade_no":"2024010122001446880500000009","trade_status":"TRADE_CLOSED","total_amount":"25.00"}"#
            }
            _ => {
                r#"{"code":"10000","msg":"Success","out_trade_no":"T20240101120000009","trade_no":"2024010122001446880500000009","trade_status":"WAIT_BUYER_PAY","total_amount":"25.00"}"#
            }
        };
        (inner.into(), true)
    }));
    let started = tokio::time::Instant::now();
    let trade = await_payment_code(
        &client,
        &OutTradeNo::parse("T20240101120000009").unwrap(),
        PaymentCodePolicy::default(),
    )
    .await
    .unwrap();
    assert!(started.elapsed() >= std::time::Duration::from_secs(45));
    let methods: Vec<String> = fake
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|(m, _)| m.clone())
        .collect();
    // Nine polls five seconds apart, the revocation, and the final word.
    assert_eq!(
        methods
            .iter()
            .filter(|m| *m == "alipay.trade.query")
            .count(),
        10
    );
    assert_eq!(methods[9], "alipay.trade.cancel");
    assert_eq!(trade.state, TradeState::Closed);
}
