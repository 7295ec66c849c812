//! Alipay's `biz_content` objects and `…_response` answers (protocols.md §2.5). Field order
//! follows the published vectors, so a serialised `biz_content` matches them byte for byte.

use serde::{Deserialize, Serialize};

/// The biz_content of `trade.create` (mini-program), `trade.precreate` (QR), `trade.wap.pay`
/// (H5) and `trade.pay` (付款码): what is not used by a method stays out.
#[derive(Debug, Serialize)]
pub struct TradeBiz<'a> {
    pub out_trade_no: &'a str,
    pub total_amount: String,
    pub subject: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub op_app_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buyer_open_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scene: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quit_url: Option<&'a str>,
    /// `yyyy-MM-dd HH:mm:ss`, China time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_expire: Option<String>,
}

/// The biz_content of query, close and cancel.
#[derive(Debug, Serialize)]
pub struct TradeRef<'a> {
    pub out_trade_no: &'a str,
}

#[derive(Debug, Serialize)]
pub struct RefundBiz<'a> {
    pub out_trade_no: &'a str,
    pub refund_amount: String,
    /// Our refund number: the idempotency key, required for partial refunds.
    pub out_request_no: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_reason: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct RefundQueryBiz<'a> {
    pub out_trade_no: &'a str,
    pub out_request_no: &'a str,
}

/// Any `…_response` object: the common result fields and those of the methods we call.
#[derive(Debug, Default, Deserialize)]
pub struct Answer {
    pub code: String,
    pub msg: Option<String>,
    pub sub_code: Option<String>,
    pub sub_msg: Option<String>,
    pub out_trade_no: Option<String>,
    pub trade_no: Option<String>,
    pub qr_code: Option<String>,
    pub trade_status: Option<String>,
    pub total_amount: Option<String>,
    pub buyer_user_id: Option<String>,
    pub buyer_open_id: Option<String>,
    /// `trade.query`'s payment time; `trade.pay` calls it `gmt_payment`.
    #[serde(alias = "gmt_payment")]
    pub send_pay_date: Option<String>,
    pub fund_change: Option<String>,
    pub refund_fee: Option<String>,
    pub refund_status: Option<String>,
    pub refund_amount: Option<String>,
    pub gmt_refund_pay: Option<String>,
    pub out_request_no: Option<String>,
    /// `bill.downloadurl.query`: where the day's zip can be fetched for a while.
    pub bill_download_url: Option<String>,
}

/// The biz_content of `alipay.data.dataservice.bill.downloadurl.query`.
#[derive(Debug, Serialize)]
pub struct BillBiz {
    pub bill_type: &'static str,
    /// `yyyy-MM-dd`.
    pub bill_date: String,
}
