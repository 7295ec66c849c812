//! WeChat Pay API v3 bodies as they travel (protocols.md §1.6–§1.10). Field order follows the
//! official examples, so a serialised request matches the published vectors byte for byte.

use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize)]
pub struct Amount {
    pub total: i64,
    pub currency: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Payer<'a> {
    pub openid: &'a str,
}

#[derive(Debug, Serialize)]
pub struct H5Info {
    #[serde(rename = "type")]
    pub kind: &'static str,
}

#[derive(Debug, Serialize)]
pub struct SceneInfo<'a> {
    pub payer_client_ip: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub h5_info: Option<H5Info>,
}

/// `POST /v3/pay/transactions/{jsapi,native,h5}`: JSAPI carries `payer`, H5 `scene_info`.
#[derive(Debug, Serialize)]
pub struct PrepayBody<'a> {
    pub appid: &'a str,
    pub mchid: &'a str,
    pub description: &'a str,
    pub out_trade_no: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_expire: Option<String>,
    pub notify_url: &'a str,
    pub amount: Amount,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payer: Option<Payer<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scene_info: Option<SceneInfo<'a>>,
}

#[derive(Debug, Serialize)]
pub struct AuthCode<'a> {
    pub auth_code: &'a str,
}

#[derive(Debug, Serialize)]
pub struct CodepaySceneInfo<'a> {
    pub device_ip: &'a str,
}

/// `POST /v3/pay/transactions/codepay` (付款码, API v3 since 2024; answers a Transaction).
#[derive(Debug, Serialize)]
pub struct CodepayBody<'a> {
    pub appid: &'a str,
    pub mchid: &'a str,
    pub description: &'a str,
    pub out_trade_no: &'a str,
    pub payer: AuthCode<'a>,
    pub amount: Amount,
    pub scene_info: CodepaySceneInfo<'a>,
}

/// The body of close (`mchid` only) and of 付款码 reverse (`appid` and `mchid`).
#[derive(Debug, Serialize)]
pub struct MerchantBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appid: Option<&'a str>,
    pub mchid: &'a str,
}

#[derive(Debug, Deserialize)]
pub struct JsapiAnswer {
    pub prepay_id: String,
}

#[derive(Debug, Deserialize)]
pub struct NativeAnswer {
    pub code_url: String,
}

#[derive(Debug, Deserialize)]
pub struct H5Answer {
    pub h5_url: String,
}

#[derive(Debug, Deserialize)]
pub struct PayerAnswer {
    pub openid: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct TransactionAmount {
    pub total: Option<i64>,
    pub currency: Option<String>,
}

/// A payment: query answers, 付款码 answers and decrypted `TRANSACTION.SUCCESS` resources.
#[derive(Debug, Deserialize)]
pub struct Transaction {
    pub appid: Option<String>,
    pub mchid: Option<String>,
    pub out_trade_no: String,
    pub transaction_id: Option<String>,
    pub trade_state: String,
    pub success_time: Option<String>,
    pub payer: Option<PayerAnswer>,
    pub amount: Option<TransactionAmount>,
}

#[derive(Debug, Serialize)]
pub struct RefundAmount {
    pub refund: i64,
    pub total: i64,
    pub currency: &'static str,
}

/// `POST /v3/refund/domestic/refunds`.
#[derive(Debug, Serialize)]
pub struct RefundBody<'a> {
    pub out_trade_no: &'a str,
    pub out_refund_no: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<&'a str>,
    pub amount: RefundAmount,
}

#[derive(Debug, Deserialize)]
pub struct RefundAmountAnswer {
    pub refund: Option<i64>,
}

/// A refund: the refund call's and query's answer (`status`) and the decrypted refund
/// notification resource (`refund_status`).
#[derive(Debug, Deserialize)]
pub struct RefundAnswer {
    pub out_trade_no: String,
    pub out_refund_no: String,
    pub refund_id: Option<String>,
    #[serde(alias = "refund_status")]
    pub status: String,
    pub success_time: Option<String>,
    pub amount: Option<RefundAmountAnswer>,
}

#[derive(Debug, Deserialize)]
pub struct ErrorAnswer {
    pub code: String,
    pub message: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct EncryptedResource {
    pub algorithm: String,
    pub ciphertext: String,
    #[serde(default)]
    pub associated_data: String,
    pub nonce: String,
}

/// What WeChat POSTs to `notify_url`.
#[derive(Debug, Deserialize)]
pub struct NotificationEnvelope {
    pub id: String,
    pub event_type: String,
    pub resource: EncryptedResource,
}

/// `GET /v3/bill/tradebill`: where the file is and its digest.
#[derive(Debug, Deserialize)]
pub struct BillAnswer {
    pub hash_type: String,
    pub hash_value: String,
    pub download_url: String,
}
