//! Signing what we send to WeChat Pay: the `Authorization` header of every API v3 request
//! and the `paySign` of the in-app payment sheet (protocols.md §1.3, §1.6).

use crate::payments::keys::MerchantKey;
use crate::payments::model::WechatBridgeParams;
use rand::Rng;

pub const SCHEMA: &str = "WECHATPAY2-SHA256-RSA2048";

/// The signed text of a request: method, request-URI (path and raw query, no host),
/// timestamp, nonce and the exact body, each followed by a newline.
pub fn request_message(method: &str, uri: &str, timestamp: i64, nonce: &str, body: &str) -> String {
    format!("{method}\n{uri}\n{timestamp}\n{nonce}\n{body}\n")
}

/// The merchant identity every request is signed under.
pub struct RequestSigner<'a> {
    pub key: &'a MerchantKey,
    pub mchid: &'a str,
    /// The serial of the merchant's API certificate.
    pub serial_no: &'a str,
}

impl RequestSigner<'_> {
    /// The value of the `Authorization` header for one request.
    pub fn authorization(
        &self,
        method: &str,
        uri: &str,
        timestamp: i64,
        nonce: &str,
        body: &str,
    ) -> String {
        let message = request_message(method, uri, timestamp, nonce, body);
        let signature = self.key.sign(message.as_bytes());
        let (mchid, serial_no) = (self.mchid, self.serial_no);
        format!(
            r#"{SCHEMA} mchid="{mchid}",nonce_str="{nonce}",timestamp="{timestamp}",serial_no="{serial_no}",signature="{signature}""#
        )
    }
}

/// An `Authorization` header taken apart (the simulator checks our requests with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    pub mchid: String,
    pub nonce: String,
    pub timestamp: i64,
    pub serial_no: String,
    pub signature: String,
}

pub fn parse_authorization(header: &str) -> Option<ParsedAuthorization> {
    let fields = header.strip_prefix(SCHEMA)?.strip_prefix(' ')?;
    let mut found = [None, None, None, None, None];
    const NAMES: [&str; 5] = ["mchid", "nonce_str", "timestamp", "serial_no", "signature"];
    for pair in fields.split(',') {
        let (name, value) = pair.trim().split_once('=')?;
        let value = value.strip_prefix('"')?.strip_suffix('"')?;
        let slot = NAMES.iter().position(|n| *n == name)?;
        found[slot] = Some(value.to_owned());
    }
    let [
        Some(mchid),
        Some(nonce),
        Some(timestamp),
        Some(serial_no),
        Some(signature),
    ] = found
    else {
        return None;
    };
    Some(ParsedAuthorization {
        mchid,
        nonce,
        timestamp: timestamp.parse().ok()?,
        serial_no,
        signature,
    })
}

/// The parameters for `WeixinJSBridge.invoke('getBrandWCPayRequest')` / `wx.requestPayment`.
/// The app id is signed even where the mini-program call does not pass it.
pub fn bridge_params(
    key: &MerchantKey,
    app_id: &str,
    prepay_id: &str,
    timestamp: i64,
    nonce: &str,
) -> WechatBridgeParams {
    let package = format!("prepay_id={prepay_id}");
    let message = format!("{app_id}\n{timestamp}\n{nonce}\n{package}\n");
    WechatBridgeParams {
        app_id: app_id.to_owned(),
        time_stamp: timestamp.to_string(),
        nonce_str: nonce.to_owned(),
        package,
        sign_type: "RSA",
        pay_sign: key.sign(message.as_bytes()),
    }
}

/// 32 random characters of `[0-9A-Za-z]`, as the SDKs make them.
pub fn nonce() -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payments::keys::fixture;

    /// WX-1's body, exactly as the vector signs it.
    pub(crate) const WX1_BODY: &str = r#"{"appid":"wxd678efh567hg6787","mchid":"1230000109","description":"Image形象店-深圳腾大-QQ公仔","out_trade_no":"1217752501201407033233368018","notify_url":"https://www.weixin.qq.com/wxpay/pay.php","amount":{"total":100,"currency":"CNY"},"payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}"#;

    #[test]
    fn upstream_structural_messages() {
        // wechatpay-go core/auth/credentials/wechat_pay_credential_test.go
        assert_eq!(
            request_message("GET", "/v3/certificates", 1624523846, "A1B2C3D4E5F6G7", ""),
            "GET\n/v3/certificates\n1624523846\nA1B2C3D4E5F6G7\n\n"
        );
        assert!(
            request_message(
                "POST",
                "/v3/x",
                1624523846,
                "A1B2C3D4E5F6G7",
                "Hello World!\n"
            )
            .ends_with("\nHello World!\n\n")
        );
    }

    #[test]
    fn wx1_jsapi_prepay_authorization() {
        let key = fixture::merchant_key();
        let signer = RequestSigner {
            key: &key,
            mchid: "1230000109",
            serial_no: "F5765756002FDD77",
        };
        let header = signer.authorization(
            "POST",
            "/v3/pay/transactions/jsapi",
            1554208460,
            "593BEC0C930BF1AFEB40B4A08C8FB242",
            WX1_BODY,
        );
        assert_eq!(
            header,
            r#"WECHATPAY2-SHA256-RSA2048 mchid="1230000109",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",timestamp="1554208460",serial_no="F5765756002FDD77",signature="pZiQhrF522xeAq+RRHDJybp2Pa+UY+kdjK/7ttFy6n20wjQGCBWdMWasBFz0gS+hxH3ljSj6KXmwA2jtjZTsdZoWBf5SDw1OfgmXpI0onXKS08kt7+mnMkJFpuT3QtlDBtfOcW5DQjA2JezMtJLsVDfd1cja8EyDVkRAmVeI2ZK3/+OFZirZ9Qt10l7ojFZyc2nb8yOCi6w1W2UUEZenveeim5v9qFLZbTupUkzR8TwjSJXOKK4EA+OY6HACrFD8QeaKvezTwQbGqTiH3gZvajrbuK4iHIZKThBs413j4xRau+ZocaMYm18dgCX2DitoYqjpsmIiL69zeD8dWz4LuQ==""#
        );
        let parsed = parse_authorization(&header).expect("our own header parses");
        assert_eq!(parsed.mchid, "1230000109");
        assert_eq!(parsed.timestamp, 1554208460);
        assert_eq!(parsed.serial_no, "F5765756002FDD77");
        let message = request_message(
            "POST",
            "/v3/pay/transactions/jsapi",
            parsed.timestamp,
            &parsed.nonce,
            WX1_BODY,
        );
        assert!(fixture::public_key().verifies(message.as_bytes(), &parsed.signature));
    }

    #[test]
    fn wx1b_get_query_signature() {
        let uri = "/v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid=1230000109";
        let message = request_message(
            "GET",
            uri,
            1554208460,
            "593BEC0C930BF1AFEB40B4A08C8FB242",
            "",
        );
        assert!(message.ends_with("\n\n"));
        assert_eq!(
            fixture::merchant_key().sign(message.as_bytes()),
            "Mi6/vU9oV2sHqOtO5LZDQBvzCU+Hti+oFJOfyB0oyR0kxDgmeHmTqczM3gzb5jNY/uFYvtMBOke1DxYDEK6rSE3l7Y0Xp3WrgX7gZgRTHJAz/qFRze1qVxK1kWx1wcXs9jqWHy3BApmDEFO+2oBGfde4qmTG9oAMYmJZ3QTWVjNOKTaJ3lH5HbAdX+gFAO1PIOUmL8HnMlLWVNyW7BJzFFYiBvJmsSp5lgdW0Jw76oMZ0LCiPqe5FlzovlZQXx4uup7PMpGcUVzFQ69APJeBVQqAMuQJDiCbl5/XCi3eteFKVj0ZpQrcpJa+kynM0Z8TE/CwPMVR0c5b2xN1s7ofUQ=="
        );
    }

    #[test]
    fn wx2_pay_sign_for_the_bridge() {
        let params = bridge_params(
            &fixture::merchant_key(),
            "wxd678efh567hg6787",
            "wx201410272009395522657a690389285100",
            1414561699,
            "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        );
        assert_eq!(
            params.package,
            "prepay_id=wx201410272009395522657a690389285100"
        );
        assert_eq!(params.sign_type, "RSA");
        assert_eq!(
            params.pay_sign,
            "dlpClyhBr9pAFk1jQYtG0R9aFMJVaYKex+J+ZT/yH8DBwFn5NM+BIVtfIJ43ha4oF50dV0c5h8ziGCNJXVfnhu5e+WBW/E4sduswH7WNnZ9NMVLG0+dp7C/DKN4d99fc4GeAO7WtBFC+e7UyFdKppJxinKTeaQE6M49XWRd9/tc3/fUgsBJ9dBUDNctZXTRW07H7NBo1vQLVzN7N/zXynlOKKv5gnsprw4yZ1c16E3VXoK8nbxXoh/xQd9miXDsqzxIbveBX7Rp7QRjcXl4haR2yHgyRs2FGiHXrIoDNk2L51CR+HGU4WQUQwuOVvvx8hyBKK2ay3ZClHnMCtgkQag=="
        );
        let json = serde_json::to_value(&params).unwrap();
        assert_eq!(json["timeStamp"], "1414561699");
        assert_eq!(json["paySign"], params.pay_sign.as_str());
    }

    #[test]
    fn nonces_are_32_alphanumerics_and_differ() {
        let (a, b) = (nonce(), nonce());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn foreign_or_partial_headers_do_not_parse() {
        assert!(parse_authorization("Bearer abc").is_none());
        assert!(
            parse_authorization(r#"WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n""#).is_none()
        );
    }
}
