//! Checking that an answer or a notification really comes from WeChat Pay: the platform key
//! named by `Wechatpay-Serial` must sign timestamp, nonce and the raw body, and the timestamp
//! must be within five minutes of ours (protocols.md §1.4).

use crate::payments::error::PaymentError;
use crate::payments::keys::{GatewayPublicKey, KeyError};
use jiff::Timestamp;

/// WeChat's own window (`consts.FiveMinute`): a skew of 300 s or more is refused.
pub const TIMESTAMP_WINDOW_SECS: i64 = 300;

/// The keys WeChat Pay signs with, by the serial it names: a platform public key's id
/// (`PUB_KEY_ID_…`) or a platform certificate's serial. Several during a rotation.
#[derive(Debug, Clone, Default)]
pub struct PlatformKeys {
    keys: Vec<(String, GatewayPublicKey)>,
}

impl PlatformKeys {
    pub fn new() -> PlatformKeys {
        PlatformKeys::default()
    }

    /// A platform public key (the current mode) under its `PUB_KEY_ID_…`.
    pub fn with_public_key(mut self, id: &str, pem: &str) -> Result<PlatformKeys, KeyError> {
        self.keys
            .push((id.to_owned(), GatewayPublicKey::parse(pem)?));
        Ok(self)
    }

    /// A platform certificate (legacy mode), under its own serial.
    pub fn with_certificate(mut self, pem: &str) -> Result<PlatformKeys, KeyError> {
        self.keys.push(GatewayPublicKey::parse_certificate(pem)?);
        Ok(self)
    }

    /// A key already loaded (a simulator's own, under the serial it signs with).
    pub fn with_key(mut self, serial: &str, key: GatewayPublicKey) -> PlatformKeys {
        self.keys.push((serial.to_owned(), key));
        self
    }

    fn by_serial(&self, serial: &str) -> Option<&GatewayPublicKey> {
        self.keys
            .iter()
            .find(|(s, _)| s.eq_ignore_ascii_case(serial))
            .map(|(_, key)| key)
    }

    /// Verifies `body` under the `Wechatpay-*` headers that `header` looks up by name.
    pub fn verify<'h>(
        &self,
        header: impl Fn(&str) -> Option<&'h str>,
        body: &[u8],
        now: Timestamp,
    ) -> Result<(), PaymentError> {
        let required = |name: &'static str| {
            header(name)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .ok_or(PaymentError::MissingHeader { name })
        };
        let timestamp = required("Wechatpay-Timestamp")?;
        let nonce = required("Wechatpay-Nonce")?;
        let signature = required("Wechatpay-Signature")?;
        let serial = required("Wechatpay-Serial")?;
        if let Some(kind) = header("Wechatpay-Signature-Type")
            && kind.trim() != super::sign::SCHEMA
        {
            return Err(PaymentError::malformed(format!("signature type {kind}")));
        }
        let stale = || PaymentError::StaleTimestamp {
            timestamp: timestamp.to_owned(),
        };
        let seconds: i64 = timestamp.parse().map_err(|_| stale())?;
        if seconds.abs_diff(now.as_second()) >= TIMESTAMP_WINDOW_SECS.unsigned_abs() {
            return Err(stale());
        }
        let key = self
            .by_serial(serial)
            .ok_or_else(|| PaymentError::UnknownSerial {
                serial: serial.to_owned(),
            })?;
        let mut message = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
        for part in [timestamp.as_bytes(), nonce.as_bytes(), body] {
            message.extend_from_slice(part);
            message.push(b'\n');
        }
        if key.verifies(&message, signature) {
            Ok(())
        } else {
            Err(PaymentError::BadSignature)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payments::keys::fixture;

    pub(crate) fn headers<'a>(list: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |name| {
            list.iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| *v)
        }
    }

    fn keys() -> PlatformKeys {
        PlatformKeys::new()
            .with_public_key("F5765756002FDD77", fixture::PUBLIC_KEY)
            .unwrap()
    }

    const WX3_BODY: &[u8] = br#"{"prepay_id":"wx26112221580621e9b071c00d9e093b0000"}"#;
    const WX3_SIGNATURE: &str = "MKsnsdC3plTZu7xrynhiOvBr3fCo3idyGVXjoIvn3R2EhfRylEi8CeV+OGKk+/3uOERkGM8zy5Z6nb/Zxv1nzgzcIyR5zNqi+/6ckyPPuGWFFzNihnH/9E9IY0TeLLsMjuS+CpirWvEuhBDU2np6J9ohoyyj4UHjv4r18sOXXUnYks2A+H1VqL4yiGb+TJeb65U8Tu91XHCDzGadOImUUmeVTEedhnbuha1z6I5iDpHsARqJZiH/iOw2cTkO0ZbXPtWIWcsl5JLVkRcdOjPD8Eu+MRIGleOCyAemAnb1u2b68iY6I/YgLwoZxvtrbKru7Iz74HbLPVXfPoLO4dtVEA==";

    fn wx3(serial: &str, signature: &str) -> Vec<(&'static str, String)> {
        vec![
            ("Wechatpay-Timestamp", "1554209980".into()),
            ("Wechatpay-Nonce", "c5ac7061fccab6bf3e254dcf98995b8c".into()),
            ("Wechatpay-Serial", serial.into()),
            ("Wechatpay-Signature", signature.into()),
        ]
    }

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap()
    }

    fn check(list: &[(&'static str, String)], body: &[u8], now: i64) -> Result<(), PaymentError> {
        let borrowed: Vec<(&str, &str)> = list.iter().map(|(n, v)| (*n, v.as_str())).collect();
        keys().verify(headers(&borrowed), body, at(now))
    }

    #[test]
    fn wx3_response_verifies() {
        assert_eq!(
            check(
                &wx3("F5765756002FDD77", WX3_SIGNATURE),
                WX3_BODY,
                1554209980
            ),
            Ok(())
        );
        // Serials compare without regard to case, as WeChat's own SDKs do.
        assert_eq!(
            check(
                &wx3("f5765756002fdd77", WX3_SIGNATURE),
                WX3_BODY,
                1554210100
            ),
            Ok(())
        );
    }

    #[test]
    fn a_changed_body_or_signature_is_refused() {
        let changed = br#"{"prepay_id":"wx26112221580621e9b071c00d9e093b0001"}"#;
        assert_eq!(
            check(&wx3("F5765756002FDD77", WX3_SIGNATURE), changed, 1554209980),
            Err(PaymentError::BadSignature)
        );
        let tampered = WX3_SIGNATURE.replacen('M', "N", 1);
        assert_eq!(
            check(&wx3("F5765756002FDD77", &tampered), WX3_BODY, 1554209980),
            Err(PaymentError::BadSignature)
        );
        // The signature probe WeChat sends to test that merchants really verify.
        assert_eq!(
            check(
                &wx3("F5765756002FDD77", "WECHATPAY/SIGNTEST/abc"),
                WX3_BODY,
                1554209980
            ),
            Err(PaymentError::BadSignature)
        );
    }

    #[test]
    fn timestamps_five_minutes_away_are_refused() {
        let good = wx3("F5765756002FDD77", WX3_SIGNATURE);
        assert_eq!(check(&good, WX3_BODY, 1554209980 + 299), Ok(()));
        assert!(matches!(
            check(&good, WX3_BODY, 1554209980 + 300),
            Err(PaymentError::StaleTimestamp { .. })
        ));
        assert!(matches!(
            check(&good, WX3_BODY, 1554209980 - 300),
            Err(PaymentError::StaleTimestamp { .. })
        ));
    }

    #[test]
    fn unknown_serials_and_missing_headers_are_refused() {
        assert_eq!(
            check(
                &wx3("5157F09EFDC096DE15EBE81A47057A7232F1B8E1", WX3_SIGNATURE),
                WX3_BODY,
                1554209980
            ),
            Err(PaymentError::UnknownSerial {
                serial: "5157F09EFDC096DE15EBE81A47057A7232F1B8E1".into()
            })
        );
        let mut missing = wx3("F5765756002FDD77", WX3_SIGNATURE);
        missing.remove(1);
        assert_eq!(
            check(&missing, WX3_BODY, 1554209980),
            Err(PaymentError::MissingHeader {
                name: "Wechatpay-Nonce"
            })
        );
        let mut other_kind = wx3("F5765756002FDD77", WX3_SIGNATURE);
        other_kind.push(("Wechatpay-Signature-Type", "WECHATPAY2-SM2-WITH-SM3".into()));
        assert!(matches!(
            check(&other_kind, WX3_BODY, 1554209980),
            Err(PaymentError::MalformedBody { .. })
        ));
    }

    #[test]
    fn a_platform_certificate_serves_under_its_serial() {
        let keys = PlatformKeys::new()
            .with_certificate(include_str!("../testdata/platform-certificate.pem"))
            .unwrap();
        let list = wx3("F5765756002FDD77", WX3_SIGNATURE);
        let borrowed: Vec<(&str, &str)> = list.iter().map(|(n, v)| (*n, v.as_str())).collect();
        assert_eq!(
            keys.verify(headers(&borrowed), WX3_BODY, at(1554209980)),
            Ok(())
        );
    }
}
