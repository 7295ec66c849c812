//! The API v3 key and AEAD_AES_256_GCM, which WeChat Pay uses to encrypt the `resource` of
//! every notification (protocols.md §1.5).

use crate::payments::error::PaymentError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use diancan_domain::redacted::Redacted;
use ring::aead;

/// The 32-character API v3 key from the merchant console, used as raw bytes.
#[derive(Debug, Clone)]
pub struct ApiV3Key(Redacted<[u8; 32]>);

impl ApiV3Key {
    pub fn parse(text: &str) -> Result<ApiV3Key, PaymentError> {
        let bytes: [u8; 32] = text
            .as_bytes()
            .try_into()
            .map_err(|_| PaymentError::invalid("the API v3 key must be exactly 32 bytes"))?;
        Ok(ApiV3Key(Redacted::new(bytes)))
    }

    /// Lends the raw key to the notification reader without copying it out.
    pub(super) fn with_bytes<T>(&self, f: impl FnOnce(&[u8]) -> T) -> T {
        f(self.0.expose())
    }

    /// Opens a notification resource.
    pub fn decrypt(
        &self,
        nonce: &str,
        aad: &str,
        ciphertext: &str,
    ) -> Result<Vec<u8>, PaymentError> {
        open(self.0.expose(), nonce, aad, ciphertext)
    }

    /// Seals a resource as WeChat does (for the simulator and round trips).
    pub fn encrypt(
        &self,
        nonce: &str,
        aad: &str,
        plaintext: &[u8],
    ) -> Result<String, PaymentError> {
        let key = key_for(self.0.expose())?;
        let mut sealed = plaintext.to_vec();
        key.seal_in_place_append_tag(
            nonce_of(nonce)?,
            aead::Aad::from(aad.as_bytes()),
            &mut sealed,
        )
        .map_err(|_| PaymentError::Undecryptable)?;
        Ok(BASE64.encode(sealed))
    }
}

fn key_for(bytes: &[u8]) -> Result<aead::LessSafeKey, PaymentError> {
    // 32 bytes is the real key; 16 is what wechatpay-go's own vectors use (its AES picks the
    // size from the key), kept so those vectors run here too.
    let algorithm = match bytes.len() {
        32 => &aead::AES_256_GCM,
        16 => &aead::AES_128_GCM,
        _ => return Err(PaymentError::Undecryptable),
    };
    let key = aead::UnboundKey::new(algorithm, bytes).map_err(|_| PaymentError::Undecryptable)?;
    Ok(aead::LessSafeKey::new(key))
}

fn nonce_of(nonce: &str) -> Result<aead::Nonce, PaymentError> {
    aead::Nonce::try_assume_unique_for_key(nonce.as_bytes())
        .map_err(|_| PaymentError::malformed("the resource nonce must be 12 bytes"))
}

/// AES-GCM open of base64 `ciphertext` (tag appended) with the nonce and associated data as
/// UTF-8 bytes.
pub(super) fn open(
    key: &[u8],
    nonce: &str,
    aad: &str,
    ciphertext: &str,
) -> Result<Vec<u8>, PaymentError> {
    let key = key_for(key)?;
    let mut sealed = BASE64
        .decode(ciphertext)
        .map_err(|_| PaymentError::malformed("resource ciphertext is not base64"))?;
    let plain = key
        .open_in_place(
            nonce_of(nonce)?,
            aead::Aad::from(aad.as_bytes()),
            &mut sealed,
        )
        .map_err(|_| PaymentError::Undecryptable)?;
    Ok(plain.to_vec())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn upstream_aes_vector() {
        // wechatpay-go utils/aes_test.go (a 16-byte key).
        let plain = open(
            b"testAPIv3Key0000",
            "wCq51qZv4Yfg",
            "Dl56FrqWQJF1t9LtC3vEUsniZKvbqdR8",
            "FsdXzxryWfKwvLJKf8LG/ToRPTRh8RN9wROC",
        )
        .unwrap();
        assert_eq!(plain, b"Hello World");
    }

    #[test]
    fn wx5_refund_resource_decrypts() {
        let key = ApiV3Key::parse("0123456789abcdef0123456789abcdef").unwrap();
        let plain = key
            .decrypt("Kj7QIyUiYx1q", "refund", WX5_CIPHERTEXT)
            .unwrap();
        assert_eq!(
            String::from_utf8(plain).unwrap(),
            r#"{"mchid":"1230000109","out_trade_no":"1217752501201407033233368018","transaction_id":"4200000000202401010000000001","out_refund_no":"R1217752501201407033233368018","refund_id":"50000000382019052709732678859","refund_status":"SUCCESS","success_time":"2024-01-01T13:00:00+08:00","user_received_account":"支付用户零钱","amount":{"total":100,"refund":100,"payer_total":100,"payer_refund":100}}"#
        );
    }

    pub(crate) const WX5_CIPHERTEXT: &str = "3o+HCNs3jCx1rxU4dWAZxsbr4jGt2omLqvZ+gQ5Vls99tP634Mlfa96UK6E9aV4xr23+qwJE8CSkQPP9DVhl0sZGwzM1ErFtR2ZK2ShnA/cQ4LO4b2G0orCR0YiAbw1q91ijXwAoO2d3piRko9+n35LJYOcZVLIoLuuTLveEZMtLQki1lcPJ8i9A1DLkq/KY7y9++2LFRilL9vlyHi6jemb4lJ5TbLSt5Ncl21Dt9eem1HSqB9ZytDxH/1g5rkloIDv9+hepwRH2qr82f8oLAV0P41fqdEQJbUIuEOM6/K1nmf4On4MQqoTdukc1Z3alpZc+eHscXUXN5J9qfdMoDa4N1GfrrPSPvs44Fu2GN+e+OJuZlypAlR/8bioUm8jnpMEmJ16F6vwDgbCmREnpJEYSmLNMCdtL4ADkCd21JwMAd+ATPn8cmMrnhc/v2p+wzNgOFBK6PdvCMdwC3nuZgcUQQsj+9kx4O6srh7JguRGvO2pJHtv+qW0G07ZM8zD8O29DbFgjA5eeZoeGa1x6Ew44qyW9BCp5HrMF";

    #[test]
    fn wrong_key_aad_or_nonce_does_not_open() {
        let other = ApiV3Key::parse("0123456789abcdef0123456789abcdeF").unwrap();
        assert_eq!(
            other.decrypt("Kj7QIyUiYx1q", "refund", WX5_CIPHERTEXT),
            Err(PaymentError::Undecryptable)
        );
        let key = ApiV3Key::parse("0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(
            key.decrypt("Kj7QIyUiYx1q", "transaction", WX5_CIPHERTEXT),
            Err(PaymentError::Undecryptable)
        );
        assert!(matches!(
            key.decrypt("short", "refund", WX5_CIPHERTEXT),
            Err(PaymentError::MalformedBody { .. })
        ));
    }

    #[test]
    fn seal_then_open_round_trips_and_the_key_never_prints() {
        let key = ApiV3Key::parse("0123456789abcdef0123456789abcdef").unwrap();
        let sealed = key
            .encrypt("fdasflkja484", "transaction", "支付成功".as_bytes())
            .unwrap();
        assert_eq!(
            key.decrypt("fdasflkja484", "transaction", &sealed).unwrap(),
            "支付成功".as_bytes()
        );
        assert!(ApiV3Key::parse("too short").is_err());
        assert!(!format!("{key:?}").contains("0123"));
    }

    proptest::proptest! {
        #[test]
        fn any_resource_seals_and_opens_and_a_flipped_byte_does_not(
            plain in proptest::collection::vec(proptest::num::u8::ANY, 0..512),
            flip in 0usize..528,
        ) {
            let key = ApiV3Key::parse("0123456789abcdef0123456789abcdef").unwrap();
            let sealed = key.encrypt("fdasflkja484", "transaction", &plain).unwrap();
            proptest::prop_assert_eq!(key.decrypt("fdasflkja484", "transaction", &sealed).unwrap(), plain);
            let mut bytes = BASE64.decode(&sealed).unwrap();
            let at = flip % bytes.len();
            bytes[at] ^= 1;
            proptest::prop_assert_eq!(
                key.decrypt("fdasflkja484", "transaction", &BASE64.encode(bytes)),
                Err(PaymentError::Undecryptable)
            );
        }
    }
}
