//! A fake `openapi.alipay.com/gateway.do` (protocols.md §2.5): it checks each request's RSA2
//! signature with the app's public key, keeps trades by `out_trade_no` with Alipay's quirks
//! (a precreated trade exists only once scanned; a refund number refunds once, `fund_change`
//! `N` on repeats), signs every `…_response`, and posts signed form notifications.

use super::SimulatorError;
use crate::payments::alipay::sign;
use crate::payments::error::PaymentError;
use crate::payments::gateway::Clock;
use crate::payments::keys::{GatewayPublicKey, MerchantKey};
use crate::payments::transport::{HttpRequest, HttpResponse, Method, Transport};
use crate::payments::yuan;
use crate::sms::BoxFuture;
use diancan_domain::money::Money;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug)]
pub struct AlipaySimulatorKeys {
    pub app_id: String,
    /// The app's public key (应用公钥), which must verify every request.
    pub app_public_key: GatewayPublicKey,
    /// What the simulator signs with: the counterpart of the merchant's 支付宝公钥.
    pub alipay_key: MerchantKey,
    /// The merchant's Alipay account (`seller_id` in notifications).
    pub seller_id: String,
}

#[derive(Debug, Clone)]
struct AlipayTrade {
    biz: Value,
    notify_url: Option<String>,
    /// `None` until a precreated QR is scanned: Alipay does not know the trade before.
    status: Option<&'static str>,
    trade_no: String,
    buyer_id: Option<String>,
    gmt_payment: Option<String>,
    refunded: Money,
}

#[derive(Default)]
struct Books {
    trades: HashMap<String, AlipayTrade>,
    /// Refunds by (out_trade_no, out_request_no): the amount and when it was made.
    refunds: HashMap<(String, String), (Money, String)>,
    sequence: u64,
    /// Bill zips by download token.
    bills: HashMap<String, Vec<u8>>,
}

pub struct AlipaySimulator {
    keys: AlipaySimulatorKeys,
    clock: Clock,
    books: Mutex<Books>,
}

impl AlipaySimulator {
    pub fn new(keys: AlipaySimulatorKeys, clock: Clock) -> AlipaySimulator {
        AlipaySimulator {
            keys,
            clock,
            books: Mutex::new(Books::default()),
        }
    }

    fn now(&self) -> String {
        crate::payments::alipay::transformers::china_time((self.clock)())
    }

    /// The diner's Alipay scans a precreated QR code: the trade now exists, unpaid.
    pub fn scan(&self, out_trade_no: &str) -> Result<(), SimulatorError> {
        let mut books = self.books.lock().unwrap();
        let trade = books
            .trades
            .get_mut(out_trade_no)
            .ok_or(SimulatorError::NoSuchOrder)?;
        trade.status.get_or_insert("WAIT_BUYER_PAY");
        Ok(())
    }

    /// The diner taps 支付 on the payment page (a wap.pay URL the browser brought here):
    /// the signed parameters must verify, and the trade is created.
    pub fn open_page(&self, url: &str) -> Result<String, PaymentError> {
        let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
        let fields: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        self.verify(&fields)?;
        let field = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let biz: Value = serde_json::from_str(&field("biz_content").unwrap_or_default())
            .map_err(|_| PaymentError::malformed("biz_content is not JSON"))?;
        let out_trade_no = biz["out_trade_no"].as_str().unwrap_or_default().to_owned();
        self.create(
            &out_trade_no,
            biz,
            field("notify_url"),
            Some("WAIT_BUYER_PAY"),
        )
        .map_err(|(code, message)| PaymentError::Gateway {
            status: 200,
            code: code.to_owned(),
            message: message.to_owned(),
            outcome_unknown: false,
        })?;
        Ok(out_trade_no)
    }

    /// The diner pays: TRADE_SUCCESS, and the signed notification Alipay would post.
    pub fn pay(&self, out_trade_no: &str, buyer_id: &str) -> Result<HttpRequest, SimulatorError> {
        let now = self.now();
        let mut books = self.books.lock().unwrap();
        let trade = books
            .trades
            .get_mut(out_trade_no)
            .ok_or(SimulatorError::NoSuchOrder)?;
        if trade.status.is_some_and(|s| s != "WAIT_BUYER_PAY") {
            return Err(SimulatorError::NotPayable(trade.status.unwrap_or_default()));
        }
        trade.status = Some("TRADE_SUCCESS");
        trade.buyer_id = Some(buyer_id.to_owned());
        trade.gmt_payment = Some(now.clone());
        let trade = trade.clone();
        drop(books);
        let total = trade.biz["total_amount"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let fields = vec![
            ("notify_time", now.clone()),
            ("notify_type", "trade_status_sync".to_owned()),
            ("notify_id", format!("{}{}", trade.trade_no, "N1")),
            ("app_id", self.keys.app_id.clone()),
            ("auth_app_id", self.keys.app_id.clone()),
            ("charset", "utf-8".to_owned()),
            ("version", "1.0".to_owned()),
            ("trade_no", trade.trade_no.clone()),
            ("out_trade_no", out_trade_no.to_owned()),
            ("buyer_id", buyer_id.to_owned()),
            ("seller_id", self.keys.seller_id.clone()),
            ("trade_status", "TRADE_SUCCESS".to_owned()),
            ("total_amount", total.clone()),
            ("receipt_amount", total.clone()),
            ("buyer_pay_amount", total),
            (
                "subject",
                trade.biz["subject"].as_str().unwrap_or_default().to_owned(),
            ),
            ("gmt_create", now.clone()),
            ("gmt_payment", now),
        ];
        Ok(self.notification(trade.notify_url.as_deref().unwrap_or_default(), fields))
    }

    fn notification(&self, url: &str, mut fields: Vec<(&'static str, String)>) -> HttpRequest {
        let sign = sign::sign_request(
            &self.keys.alipay_key,
            fields.iter().map(|(k, v)| (*k, v.as_str())),
        );
        fields.push(("sign", sign));
        fields.push(("sign_type", "RSA2".to_owned()));
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields.iter().map(|(k, v)| (*k, v.as_str())))
            .finish();
        HttpRequest {
            method: Method::Post,
            url: url.to_owned(),
            headers: vec![(
                "content-type",
                "application/x-www-form-urlencoded;charset=utf-8".to_owned(),
            )],
            body: body.into_bytes(),
        }
    }

    fn verify(&self, fields: &[(String, String)]) -> Result<(), PaymentError> {
        let signature = fields
            .iter()
            .find(|(k, _)| k == "sign")
            .map(|(_, v)| v.as_str())
            .ok_or(PaymentError::MissingHeader { name: "sign" })?;
        let content = sign::sign_content(
            fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &["sign"],
        );
        if self
            .keys
            .app_public_key
            .verifies(content.as_bytes(), signature)
        {
            Ok(())
        } else {
            Err(PaymentError::BadSignature)
        }
    }

    fn create(
        &self,
        out_trade_no: &str,
        biz: Value,
        notify_url: Option<String>,
        status: Option<&'static str>,
    ) -> Result<AlipayTrade, (&'static str, &'static str)> {
        let total_ok = biz["total_amount"]
            .as_str()
            .and_then(|t| yuan::parse("total_amount", t).ok())
            .is_some_and(|t| t.fen() > 0);
        if out_trade_no.is_empty() || !total_ok || biz["subject"].as_str().is_none() {
            return Err(("ACQ.INVALID_PARAMETER", "参数无效"));
        }
        let mut books = self.books.lock().unwrap();
        if let Some(known) = books.trades.get(out_trade_no) {
            if known.biz["total_amount"] != biz["total_amount"]
                || known.biz["subject"] != biz["subject"]
            {
                return Err(("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改"));
            }
            if known.status == Some("TRADE_SUCCESS") {
                return Err(("ACQ.TRADE_HAS_SUCCESS", "交易已被支付"));
            }
            return Ok(known.clone());
        }
        books.sequence += 1;
        let date = (self.clock)().strftime("%Y%m%d").to_string();
        let trade = AlipayTrade {
            biz,
            notify_url,
            status,
            trade_no: format!("{date}22001{:015}", books.sequence),
            buyer_id: None,
            gmt_payment: None,
            refunded: Money::ZERO,
        };
        books.trades.insert(out_trade_no.to_owned(), trade.clone());
        Ok(trade)
    }

    /// Answers one gateway call, signed; a GET of a bill address answers with its zip.
    pub fn handle(&self, request: &HttpRequest) -> HttpResponse {
        if request.method == Method::Get {
            return self.bill_file(&request.url);
        }
        let fields: Vec<(String, String)> =
            form_urlencoded::parse(&request.body).into_owned().collect();
        let field = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let method = field("method").unwrap_or_default();
        let answer = match self.verify(&fields) {
            Err(_) => {
                json!({"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature", "sub_msg": "验签出错"})
            }
            Ok(()) if field("app_id").as_deref() != Some(&self.keys.app_id) => {
                json!({"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-app-id", "sub_msg": "无效的AppID参数"})
            }
            Ok(()) => {
                let biz: Value = serde_json::from_str(&field("biz_content").unwrap_or_default())
                    .unwrap_or(Value::Null);
                self.route(&method, biz, field("notify_url"))
            }
        };
        let name = format!("{}_response", method.replace('.', "_"));
        let inner = answer.to_string();
        let sign = self.keys.alipay_key.sign(inner.as_bytes());
        let body = format!(r#"{{"{name}":{inner},"sign":"{sign}"}}"#);
        HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "text/html;charset=utf-8".into())],
            body: body.into_bytes(),
        }
    }

    fn route(&self, method: &str, biz: Value, notify_url: Option<String>) -> Value {
        let out_trade_no = biz["out_trade_no"].as_str().unwrap_or_default().to_owned();
        let refuse = |(sub_code, sub_msg): (&str, &str)| json!({"code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": sub_msg});
        let success = |mut extra: Value| {
            extra["code"] = json!("10000");
            extra["msg"] = json!("Success");
            extra
        };
        match method {
            "alipay.trade.precreate" => match self.create(&out_trade_no, biz, notify_url, None) {
                Ok(trade) => success(
                    json!({"out_trade_no": out_trade_no, "qr_code": format!("https://qr.alipay.com/sim{}", trade.trade_no)}),
                ),
                Err(refusal) => refuse(refusal),
            },
            "alipay.trade.create" => {
                match self.create(&out_trade_no, biz, notify_url, Some("WAIT_BUYER_PAY")) {
                    Ok(trade) => {
                        success(json!({"out_trade_no": out_trade_no, "trade_no": trade.trade_no}))
                    }
                    Err(refusal) => refuse(refusal),
                }
            }
            // 付款码: the diner confirms on the phone (10003) and pays through `pay`.
            "alipay.trade.pay" => {
                match self.create(&out_trade_no, biz, notify_url, Some("WAIT_BUYER_PAY")) {
                    Ok(trade) => {
                        json!({"code": "10003", "msg": "order success pay inprocess", "out_trade_no": out_trade_no, "trade_no": trade.trade_no, "total_amount": trade.biz["total_amount"]})
                    }
                    Err(refusal) => refuse(refusal),
                }
            }
            "alipay.data.dataservice.bill.downloadurl.query" => match self.trade_bill(&biz) {
                Ok(url) => success(json!({ "bill_download_url": url })),
                Err(refusal) => refuse(refusal),
            },
            _ => self.follow_up(method, &out_trade_no, &biz),
        }
    }

    fn follow_up(&self, method: &str, out_trade_no: &str, biz: &Value) -> Value {
        let refuse = |sub_code: &str, sub_msg: &str| json!({"code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": sub_msg});
        let mut books = self.books.lock().unwrap();
        let Some(trade) = books
            .trades
            .get(out_trade_no)
            .filter(|t| t.status.is_some())
            .cloned()
        else {
            return refuse("ACQ.TRADE_NOT_EXIST", "交易不存在");
        };
        let status = trade.status.unwrap_or_default();
        let common = json!({"code": "10000", "msg": "Success", "out_trade_no": out_trade_no, "trade_no": trade.trade_no});
        let with = |mut extra: Value| {
            for (k, v) in common.as_object().expect("an object") {
                extra[k] = v.clone();
            }
            extra
        };
        match method {
            "alipay.trade.query" => with(json!({
                "trade_status": status,
                "total_amount": trade.biz["total_amount"],
                "buyer_user_id": trade.buyer_id,
                "send_pay_date": trade.gmt_payment,
            })),
            "alipay.trade.close" if status == "WAIT_BUYER_PAY" => {
                books.trades.get_mut(out_trade_no).expect("known").status = Some("TRADE_CLOSED");
                common
            }
            "alipay.trade.close" => refuse("ACQ.TRADE_STATUS_ERROR", "交易状态不合法"),
            // Cancel closes an unpaid trade and refunds a paid one.
            "alipay.trade.cancel" => {
                books.trades.get_mut(out_trade_no).expect("known").status = Some("TRADE_CLOSED");
                with(
                    json!({"retry_flag": "N", "action": if status == "TRADE_SUCCESS" { "refund" } else { "close" }}),
                )
            }
            "alipay.trade.refund" => {
                let request_no = biz["out_request_no"]
                    .as_str()
                    .unwrap_or(out_trade_no)
                    .to_owned();
                let Some(refund) = biz["refund_amount"]
                    .as_str()
                    .and_then(|a| yuan::parse("refund_amount", a).ok())
                else {
                    return refuse("ACQ.INVALID_PARAMETER", "参数无效");
                };
                let key = (out_trade_no.to_owned(), request_no);
                if books.refunds.contains_key(&key) {
                    return with(
                        json!({"fund_change": "N", "refund_fee": yuan::format(trade.refunded)}),
                    );
                }
                let total = yuan::parse(
                    "total_amount",
                    trade.biz["total_amount"].as_str().unwrap_or_default(),
                )
                .unwrap_or(Money::ZERO);
                let after = trade
                    .refunded
                    .checked_add(refund)
                    .unwrap_or(Money::from_fen(i64::MAX));
                if status != "TRADE_SUCCESS" {
                    return refuse("ACQ.TRADE_STATUS_ERROR", "交易状态不合法");
                }
                if refund.fen() <= 0 || after > total {
                    return refuse("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限");
                }
                books.refunds.insert(key, (refund, self.now()));
                books.trades.get_mut(out_trade_no).expect("known").refunded = after;
                with(json!({"fund_change": "Y", "refund_fee": yuan::format(after)}))
            }
            "alipay.trade.fastpay.refund.query" => {
                let request_no = biz["out_request_no"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                match books
                    .refunds
                    .get(&(out_trade_no.to_owned(), request_no.clone()))
                {
                    Some((refund, _)) => with(
                        json!({"out_request_no": request_no, "refund_status": "REFUND_SUCCESS", "refund_amount": yuan::format(*refund), "total_amount": trade.biz["total_amount"]}),
                    ),
                    None => common,
                }
            }
            _ => {
                json!({"code": "40004", "msg": "Business Failed", "sub_code": "isv.invalid-method", "sub_msg": "不存在的方法名"})
            }
        }
    }
}

/// The simulator as the merchant's transport.
pub struct AlipaySimulatorTransport(pub Arc<AlipaySimulator>);

impl Transport for AlipaySimulatorTransport {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, PaymentError>> {
        Box::pin(async move { Ok(self.0.handle(&request)) })
    }
}

mod bill;
#[cfg(test)]
mod tests;
