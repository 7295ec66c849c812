//! A fake `api.mch.weixin.qq.com` (protocols.md §1.13): it checks each request's
//! `Authorization` with the merchant's public key, keeps orders by `out_trade_no`, signs each
//! answer with the platform key, and on a diner's 支付 posts an encrypted, signed
//! `TRANSACTION.SUCCESS` (and `REFUND.SUCCESS` after a refund) to the order's `notify_url`.

use super::SimulatorError;
use crate::payments::error::PaymentError;
use crate::payments::gateway::Clock;
use crate::payments::keys::{GatewayPublicKey, MerchantKey};
use crate::payments::transport::{HttpRequest, HttpResponse, Method, Transport};
use crate::payments::wechat_pay::aead::ApiV3Key;
use crate::payments::wechat_pay::sign;
use crate::payments::wechat_pay::verify::TIMESTAMP_WINDOW_SECS;
use crate::sms::BoxFuture;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;

/// The keys and merchant the simulator knows.
#[derive(Debug)]
pub struct WechatSimulatorKeys {
    pub mchid: String,
    /// The merchant's public key, under the serial its `Authorization` names.
    pub merchant_serial_no: String,
    pub merchant_public_key: GatewayPublicKey,
    /// The platform key the simulator signs with, and its serial.
    pub platform_key: MerchantKey,
    pub platform_serial: String,
    pub api_v3_key: ApiV3Key,
}

/// An answer's status and JSON body.
type Reply = (u16, String);

/// An error answer in WeChat's JSON shape.
fn wechat_error(status: u16, code: &str, message: &str) -> Reply {
    (
        status,
        json!({ "code": code, "message": message }).to_string(),
    )
}

#[derive(Debug, Clone)]
struct Order {
    /// The prepay request as received, to tell a retry from a reuse of the number.
    request: Value,
    prepay_id: String,
    trade_type: &'static str,
    state: &'static str,
    transaction_id: Option<String>,
    payer_openid: Option<String>,
    success_time: Option<String>,
    refunded: i64,
}

#[derive(Debug, Clone)]
struct RefundRecord {
    out_trade_no: String,
    refund_id: String,
    refund: i64,
    total: i64,
    create_time: String,
}

#[derive(Default)]
struct Books {
    orders: HashMap<String, Order>,
    refunds: HashMap<String, RefundRecord>,
    sequence: u64,
    /// Bill files by download token.
    bills: HashMap<String, String>,
}

pub struct WechatPaySimulator {
    keys: WechatSimulatorKeys,
    clock: Clock,
    books: Mutex<Books>,
}

impl WechatPaySimulator {
    pub fn new(keys: WechatSimulatorKeys, clock: Clock) -> WechatPaySimulator {
        WechatPaySimulator {
            keys,
            clock,
            books: Mutex::new(Books::default()),
        }
    }

    fn china_time(&self) -> String {
        crate::payments::wechat_pay::china_time((self.clock)())
    }

    /// The diner taps 支付 (or confirms a 付款码 on the phone): the order is paid, and the
    /// notification WeChat would post is returned for delivery.
    pub fn pay(&self, out_trade_no: &str, openid: &str) -> Result<HttpRequest, SimulatorError> {
        let success_time = self.china_time();
        let mut books = self.books.lock().unwrap();
        books.sequence += 1;
        let sequence = books.sequence;
        let order = books
            .orders
            .get_mut(out_trade_no)
            .ok_or(SimulatorError::NoSuchOrder)?;
        if !matches!(order.state, "NOTPAY" | "USERPAYING") {
            return Err(SimulatorError::NotPayable(order.state));
        }
        let date = (self.clock)().strftime("%Y%m%d").to_string();
        order.state = "SUCCESS";
        order.transaction_id = Some(format!("4200000000{date}{sequence:010}"));
        order.payer_openid = Some(openid.to_owned());
        order.success_time = Some(success_time);
        let resource = self.transaction(out_trade_no, order);
        let notify_url = order.request["notify_url"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        drop(books);
        Ok(self.notification(
            &notify_url,
            "TRANSACTION.SUCCESS",
            "支付成功",
            "transaction",
            &resource,
        ))
    }

    fn transaction(&self, out_trade_no: &str, order: &Order) -> Value {
        let total = order.request["amount"]["total"].as_i64().unwrap_or(0);
        let mut transaction = json!({
            "appid": order.request["appid"],
            "mchid": self.keys.mchid,
            "out_trade_no": out_trade_no,
            "trade_type": order.trade_type,
            "trade_state": order.state,
            "trade_state_desc": order.state,
            "amount": {"total": total, "currency": "CNY"},
        });
        if let Some(id) = &order.transaction_id {
            transaction["transaction_id"] = json!(id);
            transaction["success_time"] = json!(order.success_time);
            transaction["payer"] = json!({"openid": order.payer_openid});
            transaction["amount"]["payer_total"] = json!(total);
            transaction["amount"]["payer_currency"] = json!("CNY");
        }
        transaction
    }

    /// An encrypted, signed notification as WeChat posts it.
    fn notification(
        &self,
        notify_url: &str,
        event_type: &str,
        summary: &str,
        original_type: &str,
        resource: &Value,
    ) -> HttpRequest {
        let nonce: String = sign::nonce().chars().take(12).collect();
        let ciphertext = self
            .keys
            .api_v3_key
            .encrypt(&nonce, original_type, resource.to_string().as_bytes())
            .expect("a 12-byte nonce seals");
        let id = format!("EV-{}", sign::nonce());
        let body = json!({
            "id": id,
            "create_time": self.china_time(),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": summary,
            "resource": {
                "original_type": original_type,
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": ciphertext,
                "associated_data": original_type,
                "nonce": nonce,
            },
        })
        .to_string();
        let mut headers = self.signature_headers(body.as_bytes());
        headers.push(("content-type", "application/json".to_owned()));
        HttpRequest {
            method: Method::Post,
            url: notify_url.to_owned(),
            headers,
            body: body.into_bytes(),
        }
    }

    fn signature_headers(&self, body: &[u8]) -> Vec<(&'static str, String)> {
        let timestamp = (self.clock)().as_second().to_string();
        let nonce = sign::nonce();
        let mut message = format!("{timestamp}\n{nonce}\n").into_bytes();
        message.extend_from_slice(body);
        message.push(b'\n');
        vec![
            ("wechatpay-timestamp", timestamp),
            ("wechatpay-nonce", nonce),
            ("wechatpay-serial", self.keys.platform_serial.clone()),
            ("wechatpay-signature-type", sign::SCHEMA.to_owned()),
            ("wechatpay-signature", self.keys.platform_key.sign(&message)),
        ]
    }

    /// Answers one API request as WeChat Pay would, signed. Refund notifications that the
    /// request causes are returned alongside, for delivery.
    pub fn handle(&self, request: &HttpRequest) -> (HttpResponse, Option<HttpRequest>) {
        let uri = match request.url.find("/v3/") {
            Some(at) => &request.url[at..],
            None => "",
        };
        let ((status, body), notification) = match self.authenticate(request, uri) {
            Err(refusal) => (refusal, None),
            Ok(()) => self.route(request.method, uri, &request.body),
        };
        let headers = self
            .signature_headers(body.as_bytes())
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v))
            .collect();
        (
            HttpResponse {
                status,
                headers,
                body: body.into_bytes(),
            },
            notification,
        )
    }

    fn authenticate(&self, request: &HttpRequest, uri: &str) -> Result<(), Reply> {
        let refuse = |why: &str| Err(wechat_error(401, "SIGN_ERROR", why));
        let Some(header) = request
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| v.as_str())
        else {
            return refuse("缺少 Authorization");
        };
        let Some(auth) = sign::parse_authorization(header) else {
            return refuse("Authorization 格式错误");
        };
        if auth.mchid != self.keys.mchid || auth.serial_no != self.keys.merchant_serial_no {
            return refuse("商户证书序列号有误");
        }
        if auth.timestamp.abs_diff((self.clock)().as_second())
            >= TIMESTAMP_WINDOW_SECS.unsigned_abs()
        {
            return refuse("请求时间戳已过期");
        }
        let Ok(body) = std::str::from_utf8(&request.body) else {
            return refuse("请求体不是 UTF-8");
        };
        let message = sign::request_message(
            request.method.as_str(),
            uri,
            auth.timestamp,
            &auth.nonce,
            body,
        );
        if self
            .keys
            .merchant_public_key
            .verifies(message.as_bytes(), &auth.signature)
        {
            Ok(())
        } else {
            refuse("签名错误")
        }
    }

    fn route(&self, method: Method, uri: &str, body: &[u8]) -> (Reply, Option<HttpRequest>) {
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        let json_body = || {
            serde_json::from_slice::<Value>(body)
                .map_err(|_| wechat_error(400, "PARAM_ERROR", "请求体不是 JSON"))
        };
        let answer = match (method, path.strip_prefix("/v3/")) {
            (Method::Post, Some(p))
                if p.starts_with("pay/transactions/") && !p.contains("out-trade-no") =>
            {
                let kind = p.trim_start_matches("pay/transactions/");
                json_body().and_then(|b| self.prepay(kind, b))
            }
            (Method::Get, Some(p)) if p.starts_with("pay/transactions/out-trade-no/") => {
                let no = p.trim_start_matches("pay/transactions/out-trade-no/");
                if query != format!("mchid={}", self.keys.mchid) {
                    Err(wechat_error(400, "PARAM_ERROR", "mchid 有误"))
                } else {
                    self.query(no)
                }
            }
            (Method::Post, Some(p)) if p.starts_with("pay/transactions/out-trade-no/") => {
                let rest = p.trim_start_matches("pay/transactions/out-trade-no/");
                match rest.rsplit_once('/') {
                    Some((no, "close")) => self.close(no),
                    Some((no, "reverse")) => self.reverse(no),
                    _ => Err(wechat_error(404, "NOT_FOUND", "无此接口")),
                }
            }
            (Method::Post, Some("refund/domestic/refunds")) => {
                return match json_body().and_then(|b| self.refund(b)) {
                    Ok((answer, notification)) => (answer, notification),
                    Err(refusal) => (refusal, None),
                };
            }
            (Method::Get, Some("bill/tradebill")) => self.trade_bill(query),
            (Method::Get, Some("billdownload/file")) => {
                let token = query.strip_prefix("token=").unwrap_or_default();
                let books = self.books.lock().unwrap();
                books
                    .bills
                    .get(token)
                    .map(|file| (200, file.clone()))
                    .ok_or_else(|| wechat_error(404, "RESOURCE_NOT_EXISTS", "账单不存在"))
            }
            (Method::Get, Some(p)) if p.starts_with("refund/domestic/refunds/") => {
                self.query_refund(p.trim_start_matches("refund/domestic/refunds/"))
            }
            _ => Err(wechat_error(404, "NOT_FOUND", "无此接口")),
        };
        (answer.unwrap_or_else(|refusal| refusal), None)
    }

    fn prepay(&self, kind: &str, body: Value) -> Result<Reply, Reply> {
        let trade_type = match kind {
            "jsapi" => "JSAPI",
            "native" => "NATIVE",
            "h5" => "MWEB",
            "codepay" => "MICROPAY",
            _ => return Err(wechat_error(404, "NOT_FOUND", "无此接口")),
        };
        let text = |name: &str| body[name].as_str().filter(|v| !v.is_empty());
        let total = body["amount"]["total"].as_i64().filter(|t| *t > 0);
        let required_ok = text("appid").is_some()
            && text("mchid") == Some(self.keys.mchid.as_str())
            && text("description").is_some()
            && text("out_trade_no").is_some()
            && (trade_type == "MICROPAY" || text("notify_url").is_some())
            && total.is_some()
            && match trade_type {
                "JSAPI" => body["payer"]["openid"].as_str().is_some(),
                "MWEB" => body["scene_info"]["payer_client_ip"].as_str().is_some(),
                "MICROPAY" => body["payer"]["auth_code"].as_str().is_some(),
                _ => true,
            };
        if !required_ok {
            return Err(wechat_error(400, "PARAM_ERROR", "缺少必填参数或参数有误"));
        }
        let out_trade_no = text("out_trade_no").unwrap_or_default().to_owned();
        let mut books = self.books.lock().unwrap();
        let known = books.orders.get(&out_trade_no).cloned();
        if let Some(order) = &known
            && order.request != body
        {
            return Err(wechat_error(403, "OUT_TRADE_NO_USED", "商户订单号重复"));
        }
        books.sequence += 1;
        let fresh_id = format!("wx{:032}", books.sequence);
        let order = known.unwrap_or(Order {
            request: body,
            prepay_id: fresh_id,
            trade_type,
            state: if trade_type == "MICROPAY" {
                "USERPAYING"
            } else {
                "NOTPAY"
            },
            transaction_id: None,
            payer_openid: None,
            success_time: None,
            refunded: 0,
        });
        books.orders.insert(out_trade_no.clone(), order.clone());
        // A retried request gets the id it got the first time.
        let prepay_id = order.prepay_id.clone();
        Ok(match trade_type {
            "JSAPI" => (200, json!({ "prepay_id": prepay_id }).to_string()),
            "NATIVE" => (200, json!({ "code_url": format!("weixin://wxpay/bizpayurl?pr={prepay_id}") }).to_string()),
            "MWEB" => (200, json!({ "h5_url": format!("https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id={prepay_id}&package=1") }).to_string()),
            _ => (202, self.transaction(&out_trade_no, &order).to_string()),
        })
    }

    fn query(&self, out_trade_no: &str) -> Result<Reply, Reply> {
        let books = self.books.lock().unwrap();
        let order = books
            .orders
            .get(out_trade_no)
            .ok_or_else(|| wechat_error(404, "ORDER_NOT_EXIST", "订单不存在"))?;
        Ok((200, self.transaction(out_trade_no, order).to_string()))
    }

    fn close(&self, out_trade_no: &str) -> Result<Reply, Reply> {
        let mut books = self.books.lock().unwrap();
        let order = books
            .orders
            .get_mut(out_trade_no)
            .ok_or_else(|| wechat_error(404, "ORDER_NOT_EXIST", "订单不存在"))?;
        match order.state {
            "NOTPAY" | "CLOSED" => {
                order.state = "CLOSED";
                Ok((204, String::new()))
            }
            _ => Err(wechat_error(400, "ORDERPAID", "订单已支付")),
        }
    }

    /// A 付款码 payment revoked: unpaid ones close, paid ones are refunded in full.
    fn reverse(&self, out_trade_no: &str) -> Result<Reply, Reply> {
        let mut books = self.books.lock().unwrap();
        let order = books
            .orders
            .get_mut(out_trade_no)
            .ok_or_else(|| wechat_error(404, "ORDER_NOT_EXIST", "订单不存在"))?;
        if order.trade_type != "MICROPAY" {
            return Err(wechat_error(400, "INVALID_REQUEST", "仅付款码订单可撤销"));
        }
        order.state = "REVOKED";
        Ok((204, String::new()))
    }

    fn refund(&self, body: Value) -> Result<(Reply, Option<HttpRequest>), Reply> {
        let (Some(out_trade_no), Some(out_refund_no), Some(refund), Some(total)) = (
            body["out_trade_no"].as_str(),
            body["out_refund_no"].as_str(),
            body["amount"]["refund"].as_i64(),
            body["amount"]["total"].as_i64(),
        ) else {
            return Err(wechat_error(400, "PARAM_ERROR", "缺少必填参数"));
        };
        let create_time = self.china_time();
        let mut books = self.books.lock().unwrap();
        // The same refund number refunds once: a retry gets the first answer.
        if let Some(known) = books.refunds.get(out_refund_no) {
            return Ok((
                (
                    200,
                    refund_json(out_refund_no, known, "PROCESSING", None).to_string(),
                ),
                None,
            ));
        }
        books.sequence += 1;
        let refund_id = format!("5000000{:022}", books.sequence);
        let order = books
            .orders
            .get_mut(out_trade_no)
            .ok_or_else(|| wechat_error(404, "RESOURCE_NOT_EXISTS", "订单不存在"))?;
        let paid = order.request["amount"]["total"].as_i64().unwrap_or(0);
        if !matches!(order.state, "SUCCESS" | "REFUND") {
            return Err(wechat_error(403, "INVALID_REQUEST", "订单未支付"));
        }
        if total != paid || refund <= 0 || order.refunded + refund > paid {
            return Err(wechat_error(403, "NOT_ENOUGH", "退款金额超过可退金额"));
        }
        order.refunded += refund;
        order.state = "REFUND";
        let record = RefundRecord {
            out_trade_no: out_trade_no.to_owned(),
            refund_id,
            refund,
            total,
            create_time,
        };
        books
            .refunds
            .insert(out_refund_no.to_owned(), record.clone());
        drop(books);
        let answer = refund_json(out_refund_no, &record, "PROCESSING", None).to_string();
        let notification = body["notify_url"].as_str().map(|url| {
            let mut resource =
                refund_json(out_refund_no, &record, "SUCCESS", Some(self.china_time()));
            // The notification resource names its state `refund_status`.
            let fields = resource.as_object_mut().expect("an object");
            let status = fields.remove("status").unwrap_or_default();
            fields.insert("refund_status".into(), status);
            fields.insert("mchid".into(), json!(self.keys.mchid));
            self.notification(url, "REFUND.SUCCESS", "退款成功", "refund", &resource)
        });
        Ok(((200, answer), notification))
    }

    /// A refund is done as soon as it is asked for: the query says so, the answer did not.
    fn query_refund(&self, out_refund_no: &str) -> Result<Reply, Reply> {
        let books = self.books.lock().unwrap();
        let record = books
            .refunds
            .get(out_refund_no)
            .ok_or_else(|| wechat_error(404, "RESOURCE_NOT_EXISTS", "退款单不存在"))?;
        Ok((
            200,
            refund_json(
                out_refund_no,
                record,
                "SUCCESS",
                Some(record.create_time.clone()),
            )
            .to_string(),
        ))
    }
}

fn refund_json(
    out_refund_no: &str,
    record: &RefundRecord,
    status: &str,
    success_time: Option<String>,
) -> Value {
    let mut refund = json!({
        "refund_id": record.refund_id,
        "out_refund_no": out_refund_no,
        "out_trade_no": record.out_trade_no,
        "channel": "ORIGINAL",
        "user_received_account": "支付用户零钱",
        "create_time": record.create_time,
        "status": status,
        "amount": {"total": record.total, "refund": record.refund, "payer_total": record.total, "payer_refund": record.refund, "currency": "CNY"},
    });
    if let Some(time) = success_time {
        refund["success_time"] = json!(time);
    }
    refund
}

/// The simulator as the merchant's transport: calls are answered in memory, and the refund
/// notifications they cause are kept for [`SimulatorTransport::take_notifications`].
pub struct SimulatorTransport {
    pub simulator: std::sync::Arc<WechatPaySimulator>,
    pending: Mutex<Vec<HttpRequest>>,
}

impl SimulatorTransport {
    pub fn new(simulator: std::sync::Arc<WechatPaySimulator>) -> SimulatorTransport {
        SimulatorTransport {
            simulator,
            pending: Mutex::new(Vec::new()),
        }
    }

    pub fn take_notifications(&self) -> Vec<HttpRequest> {
        std::mem::take(&mut self.pending.lock().unwrap())
    }
}

impl Transport for SimulatorTransport {
    fn send(&self, request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, PaymentError>> {
        Box::pin(async move {
            let (answer, notification) = self.simulator.handle(&request);
            self.pending.lock().unwrap().extend(notification);
            Ok(answer)
        })
    }
}

mod bill;
#[cfg(test)]
mod tests;
