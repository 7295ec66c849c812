//! Alipay's OpenAPI gateway (the form-encoded "v2" API every merchant account has):
//! `trade.create` for the mini-program, `trade.precreate` QR, `trade.wap.pay` H5 and
//! `trade.pay` for 付款码, with query, close, cancel and refunds, all RSA2-signed both ways.

pub mod bill;
pub mod notify;
pub mod sign;
pub(crate) mod transformers;
pub mod wire;

use super::error::PaymentError;
use super::gateway::{Clock, NotificationOutcome, PaymentGateway};
use super::keys::{GatewayPublicKey, MerchantKey};
use super::model::{
    Acknowledgement, IncomingNotification, OutRefundNo, OutTradeNo, PayMethod, Prepared,
    PrepayRequest, Provider, Refund, RefundRequest, Statement, Trade, TradeState,
    VerifiedNotification,
};
use super::transport::{HttpRequest, Method, Transport};
use super::yuan;
use crate::sms::BoxFuture;
use std::sync::Arc;
use wire::Answer;

pub const GATEWAY: &str = "https://openapi.alipay.com/gateway.do";

/// One Alipay application. Keys print redacted or by size only.
#[derive(Debug)]
pub struct AlipayConfig {
    pub app_id: String,
    pub merchant_key: MerchantKey,
    /// 支付宝公钥 (public-key mode), which signs answers and notifications.
    pub alipay_public_key: GatewayPublicKey,
    /// `GATEWAY`, or the simulator's address.
    pub gateway_url: String,
}

pub struct Alipay {
    config: AlipayConfig,
    transport: Arc<dyn Transport>,
    clock: Clock,
}

/// Extras of one call beyond its biz_content.
#[derive(Default)]
struct Extras<'a> {
    notify_url: Option<&'a str>,
    return_url: Option<&'a str>,
}

impl Alipay {
    pub fn new(config: AlipayConfig, transport: Arc<dyn Transport>, clock: Clock) -> Alipay {
        Alipay {
            config,
            transport,
            clock,
        }
    }

    /// The common parameters, biz_content and `sign`, in the order the SDKs send them.
    fn signed_params(
        &self,
        method: &'static str,
        biz_content: String,
        extras: &Extras<'_>,
    ) -> Vec<(&'static str, String)> {
        let mut params = vec![
            ("app_id", self.config.app_id.clone()),
            ("method", method.to_owned()),
            ("format", "JSON".to_owned()),
            ("charset", "utf-8".to_owned()),
            ("sign_type", "RSA2".to_owned()),
            ("timestamp", transformers::china_time((self.clock)())),
            ("version", "1.0".to_owned()),
        ];
        if let Some(url) = extras.return_url {
            params.push(("return_url", url.to_owned()));
        }
        if let Some(url) = extras.notify_url {
            params.push(("notify_url", url.to_owned()));
        }
        params.push(("biz_content", biz_content));
        let sign = sign::sign_request(
            &self.config.merchant_key,
            params.iter().map(|(k, v)| (*k, v.as_str())),
        );
        params.push(("sign", sign));
        params
    }

    /// Calls `method` and returns its `…_response` once Alipay's signature on its raw text
    /// holds. Business refusals come back as [`PaymentError::Gateway`] unless `accept` says the
    /// code is an answer (10003 for 付款码).
    async fn call(
        &self,
        method: &'static str,
        biz: &impl serde::Serialize,
        extras: Extras<'_>,
        accept: &[&str],
    ) -> Result<Answer, PaymentError> {
        let biz = serde_json::to_string(biz).expect("biz_content serialises");
        let body = form(&self.signed_params(method, biz, &extras));
        let response = self
            .transport
            .send(HttpRequest {
                method: Method::Post,
                url: self.config.gateway_url.clone(),
                headers: vec![(
                    "content-type",
                    "application/x-www-form-urlencoded;charset=utf-8".to_owned(),
                )],
                body: body.into_bytes(),
            })
            .await?;
        if !(200..300).contains(&response.status) {
            return Err(PaymentError::Gateway {
                status: response.status,
                code: format!("HTTP_{}", response.status),
                message: String::new(),
                outcome_unknown: response.status >= 500,
            });
        }
        let text = std::str::from_utf8(&response.body)
            .map_err(|_| PaymentError::malformed("Alipay answer is not UTF-8"))?;
        let name = format!("{}_response", method.replace('.', "_"));
        let raw = sign::raw_object(text, &name)
            .or_else(|| sign::raw_object(text, "error_response"))
            .ok_or_else(|| PaymentError::malformed(format!("Alipay answer without {name}")))?;
        let whole: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| PaymentError::malformed(format!("Alipay answer: {e}")))?;
        let answer: Answer = serde_json::from_str(raw)
            .map_err(|e| PaymentError::malformed(format!("Alipay {name}: {e}")))?;
        let key = &self.config.alipay_public_key;
        match whole.get("sign").and_then(|s| s.as_str()) {
            Some(signature) if !key.verifies(raw.as_bytes(), signature) => {
                return Err(PaymentError::BadSignature);
            }
            Some(_) => {}
            // Alipay leaves only gateway-level errors unsigned; an unsigned success is forged.
            None if answer.code == "10000" || accept.contains(&answer.code.as_str()) => {
                return Err(PaymentError::BadSignature);
            }
            None => {}
        }
        if accept.contains(&answer.code.as_str()) {
            return Ok(answer);
        }
        transformers::check(&answer)?;
        Ok(answer)
    }

    fn trade_biz<'a>(&self, request: &'a PrepayRequest) -> wire::TradeBiz<'a> {
        wire::TradeBiz {
            out_trade_no: request.out_trade_no.as_str(),
            total_amount: yuan::format(request.amount),
            subject: &request.description,
            product_code: None,
            op_app_id: None,
            buyer_open_id: None,
            scene: None,
            auth_code: None,
            quit_url: None,
            time_expire: request.expires_at.map(transformers::china_time),
        }
    }

    async fn prepare(&self, request: &PrepayRequest) -> Result<Prepared, PaymentError> {
        request.check()?;
        let notify = Extras {
            notify_url: Some(&request.notify_url),
            return_url: None,
        };
        let mut biz = self.trade_biz(request);
        match &request.method {
            PayMethod::InApp { payer } => {
                biz.product_code = Some("JSAPI_PAY");
                biz.op_app_id = Some(&self.config.app_id);
                biz.buyer_open_id = Some(payer.expose());
                let answer = self.call("alipay.trade.create", &biz, notify, &[]).await?;
                let trade_no = answer
                    .trade_no
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| PaymentError::malformed("trade.create without trade_no"))?;
                Ok(Prepared::AlipayTradeNo(trade_no))
            }
            PayMethod::Qr => {
                let answer = self
                    .call("alipay.trade.precreate", &biz, notify, &[])
                    .await?;
                let code = answer
                    .qr_code
                    .filter(|q| !q.is_empty())
                    .ok_or_else(|| PaymentError::malformed("precreate without qr_code"))?;
                Ok(Prepared::QrCode(code))
            }
            PayMethod::H5 { return_url, .. } => {
                // A page API: the phone's browser carries the signed parameters to Alipay.
                biz.product_code = Some("QUICK_WAP_WAY");
                biz.quit_url = return_url.as_deref();
                let biz = serde_json::to_string(&biz).expect("biz_content serialises");
                let extras = Extras {
                    notify_url: Some(&request.notify_url),
                    return_url: return_url.as_deref(),
                };
                let params = self.signed_params("alipay.trade.wap.pay", biz, &extras);
                Ok(Prepared::Redirect(format!(
                    "{}?{}",
                    self.config.gateway_url,
                    form(&params)
                )))
            }
            PayMethod::PaymentCode { auth_code, .. } => {
                biz.scene = Some("bar_code");
                biz.auth_code = Some(auth_code.expose());
                let mut answer = self
                    .call("alipay.trade.pay", &biz, notify, &["10003"])
                    .await?;
                // A 10003 answer may leave the amount out; it is the one we asked for.
                answer
                    .total_amount
                    .get_or_insert_with(|| yuan::format(request.amount));
                // 10003: created, the diner is confirming on the phone; poll.
                let state = if answer.code == "10003" {
                    TradeState::Paying
                } else {
                    TradeState::Paid
                };
                let mut trade = transformers::trade(answer, Some(state))?;
                trade.app_id = Some(self.config.app_id.clone());
                Ok(Prepared::PaymentCode(trade))
            }
        }
    }
}

impl Alipay {
    /// The day's trade bill: the signed answer names a download address, whose zip is not
    /// signed itself (Alipay publishes no digest), so it is only read, never trusted beyond
    /// what reconciliation compares.
    pub async fn download_bill(&self, date: jiff::civil::Date) -> Result<Statement, PaymentError> {
        let biz = wire::BillBiz {
            bill_type: "trade",
            bill_date: date.to_string(),
        };
        let answer = self
            .call(
                "alipay.data.dataservice.bill.downloadurl.query",
                &biz,
                Extras::default(),
                &[],
            )
            .await?;
        let url = answer
            .bill_download_url
            .filter(|u| !u.is_empty())
            .ok_or_else(|| PaymentError::malformed("bill answer without bill_download_url"))?;
        let file = self
            .transport
            .send(HttpRequest {
                method: Method::Get,
                url,
                headers: Vec::new(),
                body: Vec::new(),
            })
            .await?;
        if !(200..300).contains(&file.status) {
            return Err(PaymentError::Gateway {
                status: file.status,
                code: format!("HTTP_{}", file.status),
                message: "bill download".to_owned(),
                outcome_unknown: false,
            });
        }
        let (rows, problems) = bill::read_bill_zip(&file.body)?;
        Ok(Statement {
            provider: Provider::Alipay,
            date,
            rows,
            problems,
        })
    }
}

fn form(params: &[(&'static str, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
        .finish()
}

impl PaymentGateway for Alipay {
    fn provider(&self) -> Provider {
        Provider::Alipay
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
            let biz = wire::TradeRef {
                out_trade_no: out_trade_no.as_str(),
            };
            let answer = self
                .call("alipay.trade.query", &biz, Extras::default(), &[])
                .await?;
            let mut trade = transformers::trade(answer, None)?;
            trade.app_id = Some(self.config.app_id.clone());
            Ok(trade)
        })
    }

    fn close<'a>(
        &'a self,
        out_trade_no: &'a OutTradeNo,
    ) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async move {
            let biz = wire::TradeRef {
                out_trade_no: out_trade_no.as_str(),
            };
            self.call("alipay.trade.close", &biz, Extras::default(), &[])
                .await?;
            Ok(())
        })
    }

    fn revoke<'a>(
        &'a self,
        out_trade_no: &'a OutTradeNo,
    ) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(async move {
            let biz = wire::TradeRef {
                out_trade_no: out_trade_no.as_str(),
            };
            self.call("alipay.trade.cancel", &biz, Extras::default(), &[])
                .await?;
            Ok(())
        })
    }

    fn refund<'a>(
        &'a self,
        request: &'a RefundRequest,
    ) -> BoxFuture<'a, Result<Refund, PaymentError>> {
        Box::pin(async move {
            request.check()?;
            let refund_amount = yuan::format(request.refund);
            let biz = wire::RefundBiz {
                out_trade_no: request.out_trade_no.as_str(),
                refund_amount: refund_amount.clone(),
                out_request_no: request.out_refund_no.as_str(),
                refund_reason: request.reason.as_deref(),
            };
            let answer = self
                .call("alipay.trade.refund", &biz, Extras::default(), &[])
                .await?;
            transformers::refund(answer, request.out_refund_no.as_str(), &refund_amount)
        })
    }

    fn query_refund<'a>(
        &'a self,
        out_trade_no: &'a OutTradeNo,
        out_refund_no: &'a OutRefundNo,
    ) -> BoxFuture<'a, Result<Refund, PaymentError>> {
        Box::pin(async move {
            let biz = wire::RefundQueryBiz {
                out_trade_no: out_trade_no.as_str(),
                out_request_no: out_refund_no.as_str(),
            };
            let answer = self
                .call(
                    "alipay.trade.fastpay.refund.query",
                    &biz,
                    Extras::default(),
                    &[],
                )
                .await?;
            transformers::refund_query(answer, out_trade_no.as_str(), out_refund_no.as_str())
        })
    }

    fn statement(&self, date: jiff::civil::Date) -> BoxFuture<'_, Result<Statement, PaymentError>> {
        Box::pin(self.download_bill(date))
    }

    fn verify_notification(
        &self,
        notification: &IncomingNotification,
    ) -> Result<VerifiedNotification, PaymentError> {
        notify::verify(&self.config.alipay_public_key, notification)
    }

    fn acknowledgement(&self, outcome: NotificationOutcome) -> Acknowledgement {
        notify::acknowledgement(outcome)
    }
}

#[cfg(test)]
mod tests;
