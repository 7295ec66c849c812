//! Alipay's RSA2: requests sign their sorted parameters, answers sign the raw text of their
//! `…_response` object, notifications sign their sorted fields without `sign` and
//! `sign_type` (protocols.md §2.2–§2.4).

use crate::payments::error::PaymentError;
use crate::payments::keys::{GatewayPublicKey, MerchantKey};

/// `k=v` pairs sorted by key and joined with `&`, leaving out `excluded` keys and empty
/// values; values raw (no URL encoding), as Alipay's SDKs build it.
pub fn sign_content<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    excluded: &[&str],
) -> String {
    let mut pairs: Vec<(&str, &str)> = params
        .into_iter()
        .filter(|(k, v)| !k.is_empty() && !v.is_empty() && !excluded.contains(k))
        .collect();
    pairs.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut content = String::new();
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            content.push('&');
        }
        content.push_str(key);
        content.push('=');
        content.push_str(value);
    }
    content
}

/// The `sign` of a request: every parameter but `sign` itself (`sign_type` included).
pub fn sign_request<'a>(
    key: &MerchantKey,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    key.sign(sign_content(params, &["sign"]).as_bytes())
}

/// Checks a notification's (or a `return_url`'s) form fields, once form-decoded.
pub fn verify_notification(
    key: &GatewayPublicKey,
    fields: &[(String, String)],
) -> Result<(), PaymentError> {
    let signature = fields
        .iter()
        .find(|(k, _)| k == "sign")
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
        .ok_or(PaymentError::MissingHeader { name: "sign" })?;
    let content = sign_content(
        fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &["sign", "sign_type"],
    );
    if key.verifies(content.as_bytes(), signature) {
        Ok(())
    } else {
        Err(PaymentError::BadSignature)
    }
}

/// The raw text of the JSON value under `"name"` at the top level of `body`, from its `{` to
/// the matching `}`: Alipay signs those bytes, so they are never re-serialised.
pub fn raw_object<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    let needle = format!("\"{name}\"");
    let after_key = body.find(&needle)? + needle.len();
    let rest = body[after_key..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let start = body.len() - rest.len();
    if !rest.starts_with('{') {
        return None;
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, c) in rest.char_indices() {
        match (in_string, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') => in_string = false,
            (true, false, _) => {}
            (false, _, '"') => in_string = true,
            (false, _, '{') => depth += 1,
            (false, _, '}') => {
                depth -= 1;
                if depth == 0 {
                    return Some(&body[start..start + i + 1]);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::payments::keys::fixture;

    pub(crate) const ALI1_BIZ: &str = r#"{"out_trade_no":"T20240101120000001","total_amount":"88.80","subject":"桌号A12-堂食订单"}"#;

    pub(crate) fn ali1_params() -> Vec<(&'static str, &'static str)> {
        vec![
            ("app_id", "2021000000000000"),
            ("method", "alipay.trade.precreate"),
            ("format", "JSON"),
            ("charset", "utf-8"),
            ("sign_type", "RSA2"),
            ("timestamp", "2024-01-01 12:00:00"),
            ("version", "1.0"),
            ("notify_url", "https://merchant.example.com/alipay/notify"),
            ("biz_content", ALI1_BIZ),
        ]
    }

    pub(crate) const ALI1_SIGN: &str = "qRIRtZcT+JRJzBC95KYlou/30P92E1055hcQbiBvm4/lT4HkA+JcejLUFw6vi3dHofhRBkUwE7ae+a9LZnnbHTLSMQ5ZvXuXp5+gmfMDSOxm8rBwHZ3A3t9CgCvewwx5+qAcYepiooG5sMypV7RxZNT7ZRozrhP/kPGnWRTFfg46z2TCa1GZfsmTYtCHAMYg1vzdo8waEjqcIMDKcixOYSfDOt1KM+DEHumeNxOxuznVp3D7FjAaiIdxprhMK9PmjRwK+IEBiV6VucH4oWzHKP9wXsWBbCuQe2xvUcg48HxZPaZMyvriG3ZZ4yJxRtX9qdvYF2dhUXmH5cqT9F57MA==";

    #[test]
    fn ali1_precreate_sign_content_and_signature() {
        assert_eq!(
            sign_content(ali1_params(), &["sign"]),
            r#"app_id=2021000000000000&biz_content={"out_trade_no":"T20240101120000001","total_amount":"88.80","subject":"桌号A12-堂食订单"}&charset=utf-8&format=JSON&method=alipay.trade.precreate&notify_url=https://merchant.example.com/alipay/notify&sign_type=RSA2&timestamp=2024-01-01 12:00:00&version=1.0"#
        );
        assert_eq!(
            sign_request(&fixture::merchant_key(), ali1_params()),
            ALI1_SIGN
        );
    }

    #[test]
    fn ali2_trade_create_signature() {
        let biz = r#"{"out_trade_no":"T20240101120000002","total_amount":"35.00","subject":"外卖订单","product_code":"JSAPI_PAY","op_app_id":"2021000000000000","buyer_open_id":"074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5"}"#;
        let mut params = ali1_params();
        params[1].1 = "alipay.trade.create";
        params[8].1 = biz;
        // An empty value and a stale sign never enter the content.
        params.push(("app_auth_token", ""));
        params.push(("sign", "old"));
        assert_eq!(
            sign_request(&fixture::merchant_key(), params),
            "dq9Lijg0oD3QagKB2Q34NpsXXAsHxCffdhRNJNtY6AJyX7y5AoexU0nfdPJnJlCVRGzX3rb5sTNIokOAMGWelh6qjzNZspNd84HfQ8T9iskc/9aDbiWYEnVy62/1S+5OFk8b/KREPf6g+TFEbN3yWKbn1rmMgr7pF4FbDj5VWfadLSRbxMwmZzWj981vucrhnY/7eA6o4aSzE1pQbQqJ5ywPPvyCYQAjRFX6aBH2Af3pHS4uxekHFaLNmEHWO3nEJgCdOSikxP47FxweHTVgF2dET5xZ39SupJa7RCT9s4D/cpKpg7xGaPXDkPhtbJo2CilqSvxGoI6+CRUG7W0gLQ=="
        );
    }

    #[test]
    fn upstream_sync_response_verifies_on_its_raw_text() {
        // alipay-sdk-nodejs-all test/alipay.test.ts, a production answer and Alipay's key.
        let key = GatewayPublicKey::parse("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAk7LzhmMa2c4qQd4fqAqenfbuFoA7stPKvoS1LrZEsVnOOGUUjwoa1oU9xsSPjcOWhIerU/VAN4J95GIAXx59ipcleIyfLn2FhHXPgLJpvo+b2jJFyn/1/DbeJDh+0yDVAOf50Z7HhI0mdUhFMkXlT7BU0ZMtJf/TmISFEfhDU/w6qFd6D42L97byAkq0K6LroglSVF24GqJEa7hSeUIkZWj7RasykXrc2uVJ1+ejkXE0LyPxa2AHykMGbJLf5SiZvaNzUZgnKIR36mLOHpQ/2JCXxhXZYUWHzy0kMH54JcUEeksFWBYLGvLjV1phbcUIc3Q76tIuqApY6E222OoZZQIDAQAB").unwrap();
        let body = r#"{"alipay_open_file_upload_response":{"code":"10000","msg":"Success","file_id":"CAxAToWB1JsAAAAAAAAAAAAADgSLAQBr"},"sign":"F+LDzpTNiavn7xVZPGuPCSSVRSmWzJGgtuji6tVELGEaqMaNj0jRKXUEr5nloZJBBmwEnddOyCjjepMmrTKTvoOqQ0Efxpr/R1iEeHTHVbb/Q8TTh6Up5gHJDkILdaWS2q1cWeQ6VT+HQY9P3WRXS7uhILHuDODIhpAyCu5KhWGt0rMCIG+Im6NODJP2oohtSCtmTFXg58HH587Z2y2bdbjzOxLvzD9IrU1imghXQ2S/Q+wMIvRk9on6cWnBLkrNvJKapA2ReNGWOwyuASvB9zDVzhMPbR+3mfRGkVDxsq5HYLjBKGskJMXHw0HuugZij6ScRuaLPODhmHwr/pJ9yw=="}"#;
        let content = raw_object(body, "alipay_open_file_upload_response").unwrap();
        assert_eq!(
            content,
            r#"{"code":"10000","msg":"Success","file_id":"CAxAToWB1JsAAAAAAAAAAAAADgSLAQBr"}"#
        );
        let sign: serde_json::Value = serde_json::from_str(body).unwrap();
        assert!(key.verifies(content.as_bytes(), sign["sign"].as_str().unwrap()));
    }

    #[test]
    fn raw_objects_survive_braces_and_quotes_inside_strings() {
        let body = r#"{"x_response" : {"msg":"a \"}\" b","n":{"m":"{"}},"sign":"s"}"#;
        assert_eq!(
            raw_object(body, "x_response"),
            Some(r#"{"msg":"a \"}\" b","n":{"m":"{"}}"#)
        );
        assert_eq!(raw_object(body, "y_response"), None);
        assert_eq!(raw_object(r#"{"x_response":{"open":1"#, "x_response"), None);
    }

    /// The real 语雀 notification of alipay-sdk-nodejs-all ("verify sign should delete
    /// sign_type"): its signed content split back into fields, with sign and sign_type added.
    #[test]
    fn upstream_notification_verifies_without_sign_type() {
        let key = GatewayPublicKey::parse("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqObrdC7hrgAVM98tK0nv3hSQRGGKT4lBsQjHiGjeYZjOPIPHR5knm2jnnz/YGIXIofVHkA/tAlBAd5DrY7YpvI4tP5EONLtZKC2ghBMx7McI2wRD0xiqzxOQr1FuhZGJ8/AUokBzJrzY+aGX2xcOrxFYRlFilvVLTXg4LWjR1tdPkO6+i7wQZAIVMClPkwVRZEbaERRHlKqTzv2gGv5rDU8gRoe1LeaN+6BlbTqHWkQcNCUNrA8C6l17XAXGKDsm/9TFWwO8EPHHHCaQdjtV5/FdcWIt+L8SR1ss7EXTjYDFtxcKVv9rEoY1lX8T4mX+GbXfZHraG5NCF1+XioL5JwIDAQAB").unwrap();
        let content = r#"app_id=2019073166072302&auth_app_id=2019073166072302&buyer_id=2088102534368455&buyer_logon_id=xud***@126.com&buyer_pay_amount=0.10&charset=utf-8&fund_bill_list=[{"amount":"0.10","fundChannel":"ALIPAYACCOUNT"}]&gmt_create=2019-08-15 15:56:22&gmt_payment=2019-08-15 15:56:24&invoice_amount=0.10&notify_id=2019081500222155624068450559358070&notify_time=2019-08-15 15:56:25&notify_type=trade_status_sync&out_trade_no=20190815155618536-564-57&point_amount=0.00&receipt_amount=0.10&seller_email=z97-yuquerevenue@service.aliyun.com&seller_id=2088531891668739&subject=语雀空间 500人规模&total_amount=0.10&trade_no=2019081522001468450512505578&trade_status=TRADE_SUCCESS&version=1.0"#;
        let mut fields: Vec<(String, String)> = content
            .split('&')
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap();
                (k.to_owned(), v.to_owned())
            })
            .collect();
        fields.push(("sign_type".into(), "RSA2".into()));
        fields.push(("sign".into(), "QfTb8tqE1BMhS5qAnXtvsF3/jBkEvu9q9en0pdbBUDDjvKycZhQb7h8GDs4FKfi049PynaNuatxSgLb/nLWZpXyyh0LEWdK2S6Ri7nPwrVgOs08zugLO20vOQz44y3ti2Ncm8/wZts1Fr2gZ7pShnVX3d1B50hbsXnObT1r/U8ONNQjWXd0HIul4TG+Q3fm3svmSvFEy0WnzuhcyHPX5Gm4ELNctL6Qd5YniGJFNcc7kopHYtI/XD9YCKCH6Ct02rzUs9i11C9CsadtZn+WhxF26Dqt9sGEFajkJ8cxUTLi8+VCpLHsgPE8P0y095uQcDdK0YjCh4x7wVSov+lrmOQ==".into()));
        assert_eq!(verify_notification(&key, &fields), Ok(()));
        let total = fields
            .iter_mut()
            .find(|(k, _)| k == "total_amount")
            .unwrap();
        total.1 = "1.00".into();
        assert_eq!(
            verify_notification(&key, &fields),
            Err(PaymentError::BadSignature)
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]

        /// The content is the same whatever order the parameters come in, and a change to any
        /// signed value breaks the signature.
        #[test]
        fn order_does_not_matter_and_every_value_counts(
            values in proptest::collection::btree_map("[a-z_]{1,12}", "[^&=]{1,20}", 1..8),
            rotate in 0usize..8,
            victim in 0usize..8,
        ) {
            let mut params: Vec<(String, String)> = values.into_iter().collect();
            let key = fixture::merchant_key();
            let sorted = sign_request(&key, params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            let shift = rotate % params.len();
            params.rotate_left(shift);
            let rotated = sign_request(&key, params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            proptest::prop_assert_eq!(&sorted, &rotated);
            let content = sign_content(params.iter().map(|(k, v)| (k.as_str(), v.as_str())), &["sign"]);
            proptest::prop_assert!(fixture::public_key().verifies(content.as_bytes(), &sorted));
            let at = victim % params.len();
            if params[at].0 != "sign" {
                params[at].1.push('x');
                let changed = sign_content(params.iter().map(|(k, v)| (k.as_str(), v.as_str())), &["sign"]);
                proptest::prop_assert!(!fixture::public_key().verifies(changed.as_bytes(), &sorted));
            }
        }
    }
}
