//! WeChat Pay API v3 for a direct merchant (直连商户): JSAPI (WeChat's browser and the
//! mini-program), Native QR, H5 and 付款码, with query, close, revoke and refunds. Every request
//! is signed, every answer and notification verified before a byte of it is believed.

pub mod aead;
pub mod bill;
pub mod notify;
pub mod sign;
mod transformers;
pub mod verify;
pub mod wire;

use super::error::PaymentError;
use super::gateway::{Clock, NotificationOutcome, PaymentGateway};
use super::keys::MerchantKey;
use super::model::{
    Acknowledgement, IncomingNotification, OutRefundNo, OutTradeNo, PayMethod, Prepared,
    PrepayRequest, Provider, Refund, RefundRequest, Statement, StatementKind, StatementRow, Trade,
    TradeState, VerifiedNotification,
};
use super::transport::{HttpRequest, HttpResponse, Method, Transport};
use crate::sms::BoxFuture;
use aead::ApiV3Key;
use diancan_domain::money::Money;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use verify::PlatformKeys;

pub const API_BASE: &str = "https://api.mch.weixin.qq.com";

/// One merchant account. Keys print as `<redacted>`.
#[derive(Debug)]
pub struct WechatPayConfig {
    pub mchid: String,
    /// The mini-program's or official account's AppID bound to `mchid`.
    pub app_id: String,
    /// The serial of the merchant's API certificate, named in every `Authorization`.
    pub merchant_serial_no: String,
    pub merchant_key: MerchantKey,
    pub api_v3_key: ApiV3Key,
    pub platform_keys: PlatformKeys,
    /// `API_BASE`, or the simulator's address.
    pub base_url: String,
}

pub struct WechatPay {
    config: WechatPayConfig,
    transport: Arc<dyn Transport>,
    clock: Clock,
}

impl WechatPay {
    pub fn new(config: WechatPayConfig, transport: Arc<dyn Transport>, clock: Clock) -> WechatPay {
        WechatPay {
            config,
            transport,
            clock,
        }
    }

    /// Signs and sends one call, and returns the body once WeChat's signature on it holds.
    async fn call(
        &self,
        method: Method,
        uri: &str,
        body: Option<Vec<u8>>,
    ) -> Result<HttpResponse, PaymentError> {
        let response = self.send_signed(method, uri, body).await?;
        self.config.platform_keys.verify(
            |name| response.header(name),
            &response.body,
            (self.clock)(),
        )?;
        Ok(response)
    }

    /// Signs and sends one call; a non-2xx answer is the gateway's error.
    async fn send_signed(
        &self,
        method: Method,
        uri: &str,
        body: Option<Vec<u8>>,
    ) -> Result<HttpResponse, PaymentError> {
        let body = body.unwrap_or_default();
        let body_text = std::str::from_utf8(&body).expect("request bodies are serialised JSON");
        let signer = sign::RequestSigner {
            key: &self.config.merchant_key,
            mchid: &self.config.mchid,
            serial_no: &self.config.merchant_serial_no,
        };
        let authorization = signer.authorization(
            method.as_str(),
            uri,
            (self.clock)().as_second(),
            &sign::nonce(),
            body_text,
        );
        let mut headers = vec![
            ("authorization", authorization),
            ("accept", "application/json".to_owned()),
        ];
        if method == Method::Post {
            headers.push(("content-type", "application/json".to_owned()));
        }
        let response = self
            .transport
            .send(HttpRequest {
                method,
                url: format!("{}{uri}", self.config.base_url.trim_end_matches('/')),
                headers,
                body,
            })
            .await?;
        if !(200..300).contains(&response.status) {
            return Err(transformers::error(response.status, &response.body));
        }
        Ok(response)
    }

    /// The day's trade bill (type `ALL`), its rows in fen and checked against its summary.
    /// The file itself is not signed: its SHA-1, from the signed answer, vouches for it.
    pub async fn download_trade_bill(
        &self,
        date: jiff::civil::Date,
    ) -> Result<bill::TradeBill, PaymentError> {
        let uri = format!("/v3/bill/tradebill?bill_date={date}&bill_type=ALL");
        let answer: wire::BillAnswer = self.call_json(Method::Get, &uri, None).await?;
        if answer.hash_type != "SHA1" {
            return Err(PaymentError::malformed(format!(
                "bill hash {}",
                answer.hash_type
            )));
        }
        let file_uri = answer
            .download_url
            .find("/v3/")
            .map(|at| &answer.download_url[at..])
            .ok_or_else(|| PaymentError::malformed("bill download_url"))?;
        let file = self.send_signed(Method::Get, file_uri, None).await?;
        let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &file.body);
        if !hex::encode(digest.as_ref()).eq_ignore_ascii_case(&answer.hash_value) {
            return Err(PaymentError::Mismatch { field: "bill hash" });
        }
        let text = std::str::from_utf8(&file.body)
            .map_err(|_| PaymentError::malformed("bill is not UTF-8"))?;
        bill::parse_trade_bill(text)
    }

    /// The trade bill in our words: a `SUCCESS` line is a payment of its 订单金额, a `REFUND`
    /// line a refund of its 退款金额; other lines (a revoked 付款码) move no money.
    pub async fn statement_of(&self, date: jiff::civil::Date) -> Result<Statement, PaymentError> {
        let bill = self.download_trade_bill(date).await?;
        let rows = bill
            .rows
            .into_iter()
            .filter_map(|row| {
                let (kind, amount) = match row.state.as_str() {
                    "SUCCESS" => (StatementKind::Payment, row.order_amount),
                    "REFUND" => (StatementKind::Refund, row.refund),
                    _ => return None,
                };
                Some(StatementRow {
                    kind,
                    out_trade_no: row.out_trade_no,
                    out_refund_no: row.out_refund_no.filter(|_| kind == StatementKind::Refund),
                    transaction_id: row.transaction_id,
                    amount,
                    gateway_state: row.state,
                    at: row.traded_at,
                })
            })
            .collect();
        Ok(Statement {
            provider: Provider::WechatPay,
            date,
            rows,
            problems: bill.problems,
        })
    }

    async fn call_json<T: DeserializeOwned>(
        &self,
        method: Method,
        uri: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, PaymentError> {
        let response = self.call(method, uri, body).await?;
        serde_json::from_slice(&response.body)
            .map_err(|e| PaymentError::malformed(format!("WeChat Pay answer: {e}")))
    }

    fn prepay_body<'a>(&'a self, request: &'a PrepayRequest) -> wire::PrepayBody<'a> {
        wire::PrepayBody {
            appid: &self.config.app_id,
            mchid: &self.config.mchid,
            description: &request.description,
            out_trade_no: request.out_trade_no.as_str(),
            time_expire: request.expires_at.map(china_time),
            notify_url: &request.notify_url,
            amount: amount(request.amount),
            payer: None,
            scene_info: None,
        }
    }

    async fn prepare(&self, request: &PrepayRequest) -> Result<Prepared, PaymentError> {
        request.check()?;
        let mut body = self.prepay_body(request);
        match &request.method {
            PayMethod::InApp { payer } => {
                body.payer = Some(wire::Payer {
                    openid: payer.expose(),
                });
                let answer: wire::JsapiAnswer = self
                    .call_json(
                        Method::Post,
                        "/v3/pay/transactions/jsapi",
                        Some(json(&body)),
                    )
                    .await?;
                Ok(Prepared::WechatBridge(sign::bridge_params(
                    &self.config.merchant_key,
                    &self.config.app_id,
                    &answer.prepay_id,
                    (self.clock)().as_second(),
                    &sign::nonce(),
                )))
            }
            PayMethod::Qr => {
                let answer: wire::NativeAnswer = self
                    .call_json(
                        Method::Post,
                        "/v3/pay/transactions/native",
                        Some(json(&body)),
                    )
                    .await?;
                Ok(Prepared::QrCode(answer.code_url))
            }
            PayMethod::H5 {
                client_ip,
                return_url,
            } => {
                body.scene_info = Some(wire::SceneInfo {
                    payer_client_ip: client_ip,
                    h5_info: Some(wire::H5Info { kind: "Wap" }),
                });
                let answer: wire::H5Answer = self
                    .call_json(Method::Post, "/v3/pay/transactions/h5", Some(json(&body)))
                    .await?;
                // WeChat sends the browser back to `redirect_url` once the diner is done.
                Ok(Prepared::Redirect(match return_url {
                    Some(url) => format!("{}&redirect_url={}", answer.h5_url, encode(url)),
                    None => answer.h5_url,
                }))
            }
            PayMethod::PaymentCode {
                auth_code,
                device_ip,
            } => {
                let codepay = wire::CodepayBody {
                    appid: &self.config.app_id,
                    mchid: &self.config.mchid,
                    description: &request.description,
                    out_trade_no: request.out_trade_no.as_str(),
                    payer: wire::AuthCode {
                        auth_code: auth_code.expose(),
                    },
                    amount: amount(request.amount),
                    scene_info: wire::CodepaySceneInfo { device_ip },
                };
                let waiting = || {
                    Prepared::PaymentCode(Trade {
                        provider: Provider::WechatPay,
                        merchant_id: Some(self.config.mchid.clone()),
                        app_id: Some(self.config.app_id.clone()),
                        out_trade_no: request.out_trade_no.as_str().to_owned(),
                        transaction_id: None,
                        state: TradeState::Paying,
                        amount: request.amount,
                        currency: "CNY".to_owned(),
                        payer: None,
                        paid_at: None,
                    })
                };
                let answer = self
                    .call(
                        Method::Post,
                        "/v3/pay/transactions/codepay",
                        Some(json(&codepay)),
                    )
                    .await;
                match answer {
                    Ok(response) => {
                        if let Ok(transaction) =
                            serde_json::from_slice::<wire::Transaction>(&response.body)
                        {
                            return Ok(Prepared::PaymentCode(transformers::trade(transaction)?));
                        }
                        // A 2xx `{"code":"USERPAYING"}`: accepted, the diner is entering the
                        // password. Poll.
                        match serde_json::from_slice::<wire::ErrorAnswer>(&response.body) {
                            Ok(answer) if answer.code == "USERPAYING" => Ok(waiting()),
                            _ => Err(PaymentError::malformed("codepay answer")),
                        }
                    }
                    // The diner must confirm on the phone: not an error, a reason to poll.
                    Err(PaymentError::Gateway { code, .. }) if code == "USERPAYING" => {
                        Ok(waiting())
                    }
                    Err(other) => Err(other),
                }
            }
        }
    }

    fn trade_uri(&self, out_trade_no: &OutTradeNo, action: &str) -> String {
        format!(
            "/v3/pay/transactions/out-trade-no/{}{action}",
            out_trade_no.as_str()
        )
    }
}

fn amount(amount: Money) -> wire::Amount {
    wire::Amount {
        total: amount.fen(),
        currency: "CNY",
    }
}

fn json(body: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(body).expect("wire bodies serialise")
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// RFC 3339 in China time, as WeChat writes its own times.
pub(crate) fn china_time(at: jiff::Timestamp) -> String {
    let offset = jiff::tz::Offset::constant(8);
    at.to_zoned_datetime(offset.to_time_zone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

impl PaymentGateway for WechatPay {
    fn provider(&self) -> Provider {
        Provider::WechatPay
    }

    fn prepay<'a>(
        &'a self,
        request: &'a PrepayRequest,
    ) -> BoxFuture<'a, Result<Prepared, PaymentError>> {
        Box::pin(self.prepare(request))
    }

    fn query<'a>(
        &'a self,
        out_trade_no: &'a OutTradeNo,
    ) -> BoxFuture<'a, Result<Trade, PaymentError>> {
        Box::pin(async move {
            let uri = self.trade_uri(out_trade_no, &format!("?mchid={}", self.config.mchid));
            transformers::trade(self.call_json(Method::Get, &uri, None).await?)
        })
    }

    fn close<'a>(
        &'a self,
        out_trade_no: &'a OutTradeNo,
    ) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async move {
            let body = wire::MerchantBody {
                appid: None,
                mchid: &self.config.mchid,
            };
            let uri = self.trade_uri(out_trade_no, "/close");
            self.call(Method::Post, &uri, Some(json(&body))).await?;
            Ok(())
        })
    }

    fn revoke<'a>(
        &'a self,
        out_trade_no: &'a OutTradeNo,
    ) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async move {
            let body = wire::MerchantBody {
                appid: Some(&self.config.app_id),
                mchid: &self.config.mchid,
            };
            let uri = self.trade_uri(out_trade_no, "/reverse");
            self.call(Method::Post, &uri, Some(json(&body))).await?;
            Ok(())
        })
    }

    fn refund<'a>(
        &'a self,
        request: &'a RefundRequest,
    ) -> BoxFuture<'a, Result<Refund, PaymentError>> {
        Box::pin(async move {
            request.check()?;
            let body = wire::RefundBody {
                out_trade_no: request.out_trade_no.as_str(),
                out_refund_no: request.out_refund_no.as_str(),
                reason: request.reason.as_deref(),
                notify_url: request.notify_url.as_deref(),
                amount: wire::RefundAmount {
                    refund: request.refund.fen(),
                    total: request.total.fen(),
                    currency: "CNY",
                },
            };
            let answer = self
                .call_json(
                    Method::Post,
                    "/v3/refund/domestic/refunds",
                    Some(json(&body)),
                )
                .await?;
            transformers::refund(answer)
        })
    }

    fn query_refund<'a>(
        &'a self,
        _out_trade_no: &'a OutTradeNo,
        out_refund_no: &'a OutRefundNo,
    ) -> BoxFuture<'a, Result<Refund, PaymentError>> {
        Box::pin(async move {
            let uri = format!("/v3/refund/domestic/refunds/{}", out_refund_no.as_str());
            transformers::refund(self.call_json(Method::Get, &uri, None).await?)
        })
    }

    fn statement(&self, date: jiff::civil::Date) -> BoxFuture<'_, Result<Statement, PaymentError>> {
        Box::pin(self.statement_of(date))
    }

    fn verify_notification(
        &self,
        notification: &IncomingNotification,
    ) -> Result<VerifiedNotification, PaymentError> {
        notify::verify(
            &self.config.platform_keys,
            &self.config.api_v3_key,
            notification,
            (self.clock)(),
        )
    }

    fn acknowledgement(&self, outcome: NotificationOutcome) -> Acknowledgement {
        notify::acknowledgement(outcome)
    }
}

#[cfg(test)]
mod tests;
