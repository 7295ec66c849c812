//! The RSA keys of the payment gateways: the merchant's private key that signs our requests,
//! and the gateway's public keys that vouch for its answers and notifications. Both protocols
//! use RSASSA-PKCS1-v1_5 with SHA-256 over UTF-8 text, with base64 signatures.

use super::der;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::signature::{self, RsaKeyPair, UnparsedPublicKey};
use rustls_pki_types::pem::{PemObject, SectionKind};
use std::fmt;

/// Why a key could not be loaded. The key itself never appears in the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("not a PEM block or base64 DER key")]
    NotAKey,
    #[error("not an RSA key of 2048 bits or more")]
    NotRsa,
}

/// The merchant's RSA private key (WeChat Pay `apiclient_key.pem`, Alipay 应用私钥).
pub struct MerchantKey {
    pair: RsaKeyPair,
}

impl fmt::Debug for MerchantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MerchantKey(<redacted>)")
    }
}

impl MerchantKey {
    /// Reads PKCS#8 (`PRIVATE KEY`, what WeChat Pay issues) or PKCS#1 (`RSA PRIVATE KEY`), as
    /// PEM or as the bare base64 DER that Alipay's key tool prints.
    pub fn parse(text: &str) -> Result<MerchantKey, KeyError> {
        let pair = match pem_section(text) {
            Some((SectionKind::PrivateKey, der)) => RsaKeyPair::from_pkcs8(&der),
            Some((SectionKind::RsaPrivateKey, der)) => RsaKeyPair::from_der(&der),
            Some(_) => return Err(KeyError::NotRsa),
            None => {
                let der = bare_base64(text).ok_or(KeyError::NotAKey)?;
                RsaKeyPair::from_pkcs8(&der).or_else(|_| RsaKeyPair::from_der(&der))
            }
        }
        .map_err(|_| KeyError::NotRsa)?;
        Ok(MerchantKey { pair })
    }

    /// base64(RSASSA-PKCS1-v1_5-SHA256(message)). Deterministic, so vectors reproduce.
    pub fn sign(&self, message: &[u8]) -> String {
        let mut signature = vec![0; self.pair.public().modulus_len()];
        // ring's PKCS#1 v1.5 signing never draws randomness; the generator is only its API.
        self.pair
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                message,
                &mut signature,
            )
            .expect("signing into a buffer of the modulus length cannot fail");
        BASE64.encode(signature)
    }

    /// The matching public key, for the simulators and for round-trip tests.
    pub fn public_key(&self) -> GatewayPublicKey {
        GatewayPublicKey {
            rsa: self.pair.public().as_ref().to_vec(),
        }
    }
}

/// A gateway's RSA public key (WeChat Pay platform key or certificate, Alipay 支付宝公钥).
#[derive(Clone, PartialEq, Eq)]
pub struct GatewayPublicKey {
    /// PKCS#1 `RSAPublicKey` DER, the form ring verifies with.
    rsa: Vec<u8>,
}

impl fmt::Debug for GatewayPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GatewayPublicKey({} bytes)", self.rsa.len())
    }
}

impl GatewayPublicKey {
    /// Reads a `PUBLIC KEY` PEM block or the bare base64 SubjectPublicKeyInfo that Alipay's
    /// console shows.
    pub fn parse(text: &str) -> Result<GatewayPublicKey, KeyError> {
        let spki = match pem_section(text) {
            Some((SectionKind::PublicKey, der)) => der,
            Some(_) => return Err(KeyError::NotRsa),
            None => bare_base64(text).ok_or(KeyError::NotAKey)?,
        };
        Self::from_spki(&spki)
    }

    /// Reads an X.509 certificate (WeChat Pay's legacy platform certificates) and returns its
    /// serial, upper-case hex as in `Wechatpay-Serial`, with its key.
    pub fn parse_certificate(pem: &str) -> Result<(String, GatewayPublicKey), KeyError> {
        let Some((SectionKind::Certificate, der)) = pem_section(pem) else {
            return Err(KeyError::NotAKey);
        };
        let (serial, spki) = der::certificate_serial_and_spki(&der).ok_or(KeyError::NotAKey)?;
        Ok((serial, Self::from_spki(spki)?))
    }

    fn from_spki(spki: &[u8]) -> Result<GatewayPublicKey, KeyError> {
        let rsa = der::rsa_key_of_spki(spki).ok_or(KeyError::NotRsa)?;
        Ok(GatewayPublicKey { rsa: rsa.to_vec() })
    }

    /// Whether `signature` (base64) is this key's signature of `message`.
    pub fn verifies(&self, message: &[u8], signature: &str) -> bool {
        let Ok(signature) = BASE64.decode(signature.trim()) else {
            return false;
        };
        UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &self.rsa)
            .verify(message, &signature)
            .is_ok()
    }
}

fn pem_section(text: &str) -> Option<(SectionKind, Vec<u8>)> {
    if !text.contains("-----BEGIN") {
        return None;
    }
    <(SectionKind, Vec<u8>)>::from_pem_slice(text.as_bytes()).ok()
}

fn bare_base64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.split_whitespace().collect();
    BASE64.decode(compact).ok().filter(|der| !der.is_empty())
}

/// The shared public test fixture of `reference/protocols.md` §0.1 (from wechatpay-go's
/// tests), used as merchant key, WeChat platform key and Alipay key in every vector, and by the
/// gateway simulators of the demo and the tests. Published keys: never a real merchant's.
pub mod fixture {
    pub const PRIVATE_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDZUJN33V+dSfvd
fL0Mu+39XrZNXFFMQSy1V15FpncHeV47SmV0TzTqZc7hHB0ddqAdDi8Z5k3TKqb7
6sOwYr5TcAfuR6PIPaleyE0/0KrljBum2Isa2Nyq7Dgc3ElBQ6YN4l/a+DpvKaz1
FSKmKrhLNskqokWVSlu4g8OlKlbPXQ9ibII14MZRQrrkTmHYHzfi7GXXM0thAKuR
0HNvyhTHBh4/lrYM3GaMvmWwkwvsMavnOex6+eioZHBOb1/EIZ/LzC6zuHArPpyW
3daGaZ1rtQB1vVzTyERAVVFsXXgBHvfFud3w3ShsJYk8JvMwK2RpJ5/gV0QSARcm
LDRUAlPzAgMBAAECggEBAMc7rDeUaXiWv6bMGbZ3BTXpg1FhdddnWUnYE8HfX/km
OFI7XtBHXcgYFpcjYz4D5787pcsk7ezPidAj58zqenuclmjKnUmT3pfbI5eCA2v4
C9HnbYDrmUPK1ZcADtka4D6ScDccpNYNa1g2TFHzkIrEa6H+q7S3O2fqxY/DRVtN
0JIXalBb8daaqL5QVzSmM2BMVnHy+YITJWIkP2a3pKs9C0W65JGDsnG0wVrHinHF
+cnhFZIbaPEI//DAFMc9NkrWOKVRTEgcCUxCFaHOZVNxDWZD7A2ZfJB2rK6eg//y
gEiFDR2h6mTaDowMB4YF2n2dsIO4/dCG8vPHI20jn4ECgYEA/ZGu6lEMlO0XZnam
AZGtiNgLcCfM/C2ZERZE7QTRPZH1WdK92Al9ndldsswFw4baJrJLCmghjF/iG4zi
hhBvLnOLksnZUfjdumxoHDWXo2QBWbI5QsWIE7AuTiWgWj1I7X4fCXSQf6i+M/y2
6TogQ7d0ANpZFyOkTNMn/tiJvLECgYEA22XqlamG/yfAGWery5KNH2DGlTIyd6xJ
WtJ9j3jU99lZ0bCQ5xhiBbU9ImxCi3zgTsoqLWgA/p00HhNFNoUcTl9ofc0G3zwT
D1y0ZzcnVKxGJdZ6ohW52V0hJStAigtjYAsUgjm7//FH7PiQDBDP1Wa6xSRkDQU/
aSbQxvEE8+MCgYEA3bb8krW7opyM0XL9RHH0oqsFlVO30Oit5lrqebS0oHl3Zsr2
ZGgoBlWBsEzk3UqUhTFwm/DhJLTSJ/TQPRkxnhQ5/mewNhS9C7yua7wQkzVmWN+V
YeUGTvDGDF6qDz12/vJAgSwDDRym8x4NcXD5tTw7mmNRcwIfL22SkysThIECgYAV
BgccoEoXWS/HP2/u6fQr9ZIR6eV8Ij5FPbZacTG3LlS1Cz5XZra95UgebFFUHHtC
EY1JHJY7z8SWvTH8r3Su7eWNaIAoFBGffzqqSVazfm6aYZsOvRY6BfqPHT3p/H1h
Tq6AbBffxrcltgvXnCTORjHPglU0CjSxVs7awW3AEQKBgB5WtaC8VLROM7rkfVIq
+RXqE5vtJfa3e3N7W3RqxKp4zHFAPfr82FK5CX2bppEaxY7SEZVvVInKDc5gKdG/
jWNRBmvvftZhY59PILHO2X5vO4FXh7suEjy6VIh0gsnK36mmRboYIBGsNuDHjXLe
BDa+8mDLkWu5nHEhOxy2JJZl
-----END PRIVATE KEY-----
";

    pub const PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA2VCTd91fnUn73Xy9DLvt
/V62TVxRTEEstVdeRaZ3B3leO0pldE806mXO4RwdHXagHQ4vGeZN0yqm++rDsGK+
U3AH7kejyD2pXshNP9Cq5YwbptiLGtjcquw4HNxJQUOmDeJf2vg6byms9RUipiq4
SzbJKqJFlUpbuIPDpSpWz10PYmyCNeDGUUK65E5h2B834uxl1zNLYQCrkdBzb8oU
xwYeP5a2DNxmjL5lsJML7DGr5znsevnoqGRwTm9fxCGfy8wus7hwKz6clt3Whmmd
a7UAdb1c08hEQFVRbF14AR73xbnd8N0obCWJPCbzMCtkaSef4FdEEgEXJiw0VAJT
8wIDAQAB
-----END PUBLIC KEY-----
";

    pub fn merchant_key() -> super::MerchantKey {
        super::MerchantKey::parse(PRIVATE_KEY).expect("fixture key")
    }

    pub fn public_key() -> super::GatewayPublicKey {
        super::GatewayPublicKey::parse(PUBLIC_KEY).expect("fixture public key")
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::*;
    use super::*;

    /// protocols.md §0.1, upstream: the signature of "source" with the test key.
    const SOURCE_SIGNATURE: &str = "BKyAfU4iMCuvXMXS0Wzam3V/cnxZ+JaqigPM5OhljS2iOT95OO6Fsuml2JkFANJU9K6q9bLlDhPXuoVz+pp4hAm6pHU4ld815U4jsKu1RkyaII+1CYBUYC8TK0XtJ8FwUXXz8vZHh58rrAVN1XwNyvD1vfpxrMT4SL536GLwvpUHlCqIMzoZUguLli/K8V29QiOhuH6IEqLNJn8e9b3nwNcQ7be3CzYGpDAKBfDGPCqCv8Rw5zndhlffk2FEA70G4hvMwe51qMN/RAJbknXG23bSlObuTCN7Ndj1aJGH6/L+hdwfLpUtJm4QYVazzW7DFD27EpSQEqA8bX9+8m1rLg==";

    #[test]
    fn signs_the_upstream_vector() {
        assert_eq!(merchant_key().sign(b"source"), SOURCE_SIGNATURE);
    }

    #[test]
    fn verifies_the_upstream_vector_and_refuses_changes() {
        let key = public_key();
        assert!(key.verifies(b"source", SOURCE_SIGNATURE));
        assert!(!key.verifies(b"sourcf", SOURCE_SIGNATURE));
        let tampered = SOURCE_SIGNATURE.replacen('B', "C", 1);
        assert!(!key.verifies(b"source", &tampered));
        assert!(!key.verifies(b"source", "not base64!"));
    }

    #[test]
    fn the_private_key_carries_the_published_public_key() {
        assert_eq!(merchant_key().public_key(), public_key());
    }

    #[test]
    fn bare_base64_keys_load_as_alipay_prints_them() {
        let body: String = PUBLIC_KEY
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        assert_eq!(GatewayPublicKey::parse(&body).unwrap(), public_key());
        let private: String = PRIVATE_KEY
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        assert_eq!(
            MerchantKey::parse(&private).unwrap().sign(b"source"),
            SOURCE_SIGNATURE
        );
    }

    /// A self-signed certificate over the fixture key with WeChat's test serial, made with
    /// `openssl req -x509 -set_serial 0xF5765756002FDD77`: the serial's DER has a sign byte.
    const CERTIFICATE: &str = include_str!("testdata/platform-certificate.pem");

    #[test]
    fn a_platform_certificate_yields_its_serial_and_key() {
        let (serial, key) = GatewayPublicKey::parse_certificate(CERTIFICATE).unwrap();
        assert_eq!(serial, "F5765756002FDD77");
        assert_eq!(key, public_key());
        assert_eq!(
            GatewayPublicKey::parse_certificate(PUBLIC_KEY).unwrap_err(),
            KeyError::NotAKey
        );
    }

    #[test]
    fn wrong_material_is_refused_and_keys_never_print() {
        assert_eq!(MerchantKey::parse("hello").unwrap_err(), KeyError::NotAKey);
        assert_eq!(
            MerchantKey::parse(PUBLIC_KEY).unwrap_err(),
            KeyError::NotRsa,
            "a public key is not a private key"
        );
        assert_eq!(format!("{:?}", merchant_key()), "MerchantKey(<redacted>)");
    }
}
