//! A diner starting to pay an order through a gateway. The amount is the order's own total as
//! the server priced it; each attempt is a new payment with its own number at the gateway, so
//! a diner who switches from WeChat Pay to Alipay (or back) never reuses an order the gateway
//! may already hold with other parameters. Attempts left unpaid are closed by the sweep.
//!
//! Combined payment: with `use_balance`, the diner's free balance (up to the total) is held in
//! the transaction that records the payment, and only the rest goes to the gateway; the hold is
//! captured when that money settles and released when the payment closes unpaid.

use crate::context::Context;
use crate::error::{Error, Result};
use crate::ordering::{DinerPass, diner_order};
use diancan_domain::payments::{Payment, PaymentProvider};
use diancan_domain::redacted::Redacted;
use diancan_domain::*;
use diancan_integrations::payments::PaymentError;
use diancan_integrations::payments::model::{OutTradeNo, PayMethod, Prepared, PrepayRequest};

/// How the diner's device completes the payment.
#[derive(Debug, Clone)]
pub enum Checkout {
    /// A phone browser outside the gateway's app (WeChat H5, Alipay `wap.pay`).
    Browser {
        client_ip: String,
        return_url: Option<String>,
    },
    /// A QR code to scan with the gateway's app (a second screen, a desktop).
    Qr,
    /// Inside the gateway's own app, as the diner `payer` (openid / buyer id).
    InApp { payer: Redacted<String> },
}

impl Checkout {
    /// The method's name as stored with the payment.
    pub fn method_name(&self, provider: PaymentProvider) -> &'static str {
        match (self, provider) {
            (Checkout::Browser { .. }, PaymentProvider::WechatPay) => "h5",
            (Checkout::Browser { .. }, PaymentProvider::Alipay) => "wap",
            (Checkout::Qr, PaymentProvider::WechatPay) => "native",
            (Checkout::Qr, PaymentProvider::Alipay) => "precreate",
            (Checkout::InApp { .. }, PaymentProvider::WechatPay) => "jsapi",
            (Checkout::InApp { .. }, PaymentProvider::Alipay) => "create",
        }
    }

    pub(crate) fn pay_method(self) -> PayMethod {
        match self {
            Checkout::Browser {
                client_ip,
                return_url,
            } => PayMethod::H5 {
                client_ip,
                return_url,
            },
            Checkout::Qr => PayMethod::Qr,
            Checkout::InApp { payer } => PayMethod::InApp { payer },
        }
    }
}

/// A payment prepared at its gateway, and what the diner's device does next.
#[derive(Debug, Clone)]
pub struct StartedPayment {
    pub payment: Payment,
    pub prepared: Prepared,
    /// The part of the order held from the diner's balance (zero when none).
    pub balance_held: Money,
}

/// Prepares a payment of `id`'s total at `provider`, for a diner `pass` lets in; with
/// `use_balance`, the signed-in diner's balance pays first and the gateway the rest.
pub async fn start_payment(
    ctx: &Context,
    id: OrderId,
    pass: &DinerPass,
    provider: PaymentProvider,
    checkout: Checkout,
    use_balance: bool,
) -> Result<StartedPayment> {
    let owner = if use_balance {
        Some(super::balance::balance_owner(pass)?)
    } else {
        None
    };
    let order = diner_order(ctx, id, pass).await?;
    let now = ctx.clock.now_ms();
    if !order.awaits_online_payment(now) {
        return Err(Error::NotPayable(Box::new(order)));
    }
    let (Some(configured), Some(notify_url)) = (
        ctx.payments.get(provider),
        ctx.payments.notify_url(provider),
    ) else {
        return Err(Error::PaymentUnavailable(provider));
    };
    // A gateway that keeps failing is refused before a payment row is written: the diner is
    // told at once to choose the other (503 PAYMENT_GATEWAY_UNAVAILABLE).
    if ctx.payments.is_down(provider) {
        return Err(Error::Gateway(PaymentError::Transport {
            reason: "circuit breaker open".into(),
            timed_out: false,
        }));
    }
    let available = match owner {
        Some(customer) => ctx
            .db
            .balance_account(order.brand_id, customer)
            .await?
            .map_or(Money::ZERO, |a| a.available()),
        None => Money::ZERO,
    };
    let balance_held = available.min(order.total);
    if balance_held == order.total && balance_held > Money::ZERO {
        // Nothing would be left for the gateway: the diner pays by balance alone.
        return Err(Error::BalanceCoversOrder);
    }
    let payment = Payment::start(
        order.brand_id,
        order.store_id,
        order.id,
        provider,
        checkout.method_name(provider),
        order.total - balance_held,
        now,
    );
    match owner.filter(|_| balance_held > Money::ZERO) {
        Some(customer) => ctx
            .db
            .create_payment_with_hold(&payment, customer, balance_held, now)
            .await?
            .map(drop)
            .map_err(Error::Balance)?,
        None => ctx.db.create_payment(&payment).await?,
    }
    let request = PrepayRequest {
        out_trade_no: OutTradeNo::parse(&payment.out_trade_no).map_err(Error::Gateway)?,
        description: format!("点餐订单 取餐号 {}", order.pickup_number),
        amount: payment.amount,
        method: checkout.pay_method(),
        notify_url,
        expires_at: order
            .pay_by_ms
            .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()),
    };
    let prepared = match configured.gateway.prepay(&request).await {
        Ok(prepared) => prepared,
        Err(error) => {
            tracing::warn!(order = %order.id, out_trade_no = %payment.out_trade_no,
                provider = provider.as_str(), code = error.code(), %error, "prepay failed");
            if balance_held > Money::ZERO {
                // Give the hold back now if the gateway can say it holds nothing; otherwise
                // the sweep does once the order stops waiting.
                if let Err(error) = super::finish_at_gateway(ctx, &payment).await {
                    tracing::warn!(%error, out_trade_no = %payment.out_trade_no,
                        "closing a failed combined payment failed; the sweep will");
                }
            }
            return Err(Error::Gateway(error));
        }
    };
    Ok(StartedPayment {
        payment,
        prepared,
        balance_held,
    })
}
