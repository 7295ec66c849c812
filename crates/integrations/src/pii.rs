//! Field-level protection of personal data at rest (PIPL Art. 51): AES-256-GCM sealing and a
//! keyed blind index for equality lookups, both from one 32-byte master secret.
//!
//! Where the master secret lives matters more than the cipher. The web edge reads it from
//! `DIANCAN_PII_KEY` (64 hex digits, from the deployment's secret store), and only when that is
//! unset falls back to a key kept in the database's `server_secrets` (convenient for one box,
//! but then a database dump holds the key beside the ciphertext). It is never logged.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use diancan_domain::customer::{BlindIndex, Phone, SealedPii};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// HKDF-Expand labels (RFC 5869, one block): the two subkeys never equal each other or the master.
const SEAL_KEY_LABEL: &[u8] = b"diancan pii seal v1";
const INDEX_KEY_LABEL: &[u8] = b"diancan pii blind index v1";
/// What each kind of value is prefixed with before indexing, so a phone and an openid
/// that happen to share characters never share an index.
const PHONE_INDEX_KIND: &str = "phone:";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PiiError {
    #[error("the PII master key must be 32 bytes, got {0}")]
    KeyLength(usize),
    /// Wrong key, truncated or tampered bytes: the tag does not verify.
    #[error("sealed personal data does not open with this key")]
    CannotOpen,
}

/// Seals and indexes personal data. Holds keys, so its `Debug` shows none of them.
pub struct PiiVault {
    cipher: Aes256Gcm,
    index_key: [u8; 32],
}

impl std::fmt::Debug for PiiVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PiiVault { .. }")
    }
}

type HmacSha256 = Hmac<Sha256>;

fn hkdf_expand_one_block(master: &[u8], label: &[u8]) -> [u8; 32] {
    let mut mac =
        <HmacSha256 as Mac>::new_from_slice(master).expect("HMAC takes keys of any length");
    mac.update(label);
    mac.update(&[1]);
    mac.finalize().into_bytes().into()
}

impl PiiVault {
    /// The vault for a uniformly random 32-byte master secret.
    pub fn from_master_key(master: &[u8]) -> Result<PiiVault, PiiError> {
        if master.len() != 32 {
            return Err(PiiError::KeyLength(master.len()));
        }
        let seal_key = hkdf_expand_one_block(master, SEAL_KEY_LABEL);
        let cipher = Aes256Gcm::new_from_slice(&seal_key).expect("a 32-byte AES-256 key");
        Ok(PiiVault {
            cipher,
            index_key: hkdf_expand_one_block(master, INDEX_KEY_LABEL),
        })
    }

    /// A vault with a random key that dies with the process: for tests and throwaway demos only,
    /// since nothing it sealed can be opened after a restart.
    pub fn ephemeral() -> PiiVault {
        Self::from_master_key(&rand::random::<[u8; 32]>()).expect("32 bytes")
    }

    /// A new random 96-bit nonce ‖ ciphertext ‖ 128-bit tag. Sealing the same text twice gives
    /// different bytes, so equal phones are not visible as equal ciphertexts.
    pub fn seal(&self, plaintext: &str) -> Vec<u8> {
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce_bytes), plaintext.as_bytes())
            .expect("AES-GCM encrypts any message shorter than 64 GiB");
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&nonce_bytes);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    pub fn open(&self, sealed: &[u8]) -> Result<String, PiiError> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(PiiError::CannotOpen);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let plaintext = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| PiiError::CannotOpen)?;
        String::from_utf8(plaintext).map_err(|_| PiiError::CannotOpen)
    }

    /// HMAC-SHA256 of an already normalised value under the index subkey: deterministic, so
    /// equal values find each other, but useless without the key.
    pub fn blind_index(&self, normalized: &str) -> Vec<u8> {
        let mut mac = self.index_mac();
        mac.update(normalized.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// Whether `expected` is the blind index of `normalized`, compared in constant time.
    pub fn verify_index(&self, normalized: &str, expected: &[u8]) -> bool {
        let mut mac = self.index_mac();
        mac.update(normalized.as_bytes());
        mac.verify_slice(expected).is_ok()
    }

    fn index_mac(&self) -> HmacSha256 {
        <HmacSha256 as Mac>::new_from_slice(&self.index_key).expect("HMAC takes keys of any length")
    }

    pub fn seal_phone(&self, phone: &Phone) -> SealedPii {
        SealedPii::from_bytes(self.seal(phone.expose()))
    }

    pub fn open_phone(&self, sealed: &SealedPii) -> Result<Phone, PiiError> {
        let digits = self.open(sealed.as_bytes())?;
        Phone::parse(&digits).map_err(|_| PiiError::CannotOpen)
    }

    pub fn phone_index(&self, phone: &Phone) -> BlindIndex {
        BlindIndex::from_bytes(self.blind_index(&format!("{PHONE_INDEX_KIND}{}", phone.expose())))
    }

    /// The index of an identifier issued by an outside platform, such as a WeChat openid
    /// (`kind` = "wechat-openid:wx1234…"), so ids of different apps never collide.
    pub fn external_id_index(&self, kind: &str, id: &str) -> BlindIndex {
        BlindIndex::from_bytes(self.blind_index(&format!("{kind}:{id}")))
    }
}

/// Parses a master key given as 64 hex digits (as `DIANCAN_PII_KEY` carries it).
pub fn master_key_from_hex(text: &str) -> Result<Vec<u8>, PiiError> {
    let bytes = hex::decode(text.trim()).map_err(|_| PiiError::KeyLength(0))?;
    if bytes.len() != 32 {
        return Err(PiiError::KeyLength(bytes.len()));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault(byte: u8) -> PiiVault {
        PiiVault::from_master_key(&[byte; 32]).unwrap()
    }

    #[test]
    fn sealed_text_opens_only_with_the_same_key_and_untampered() {
        let v = vault(1);
        let sealed = v.seal("13812345678");
        assert_eq!(sealed.len(), NONCE_LEN + 11 + TAG_LEN);
        assert!(!sealed.windows(11).any(|w| w == b"13812345678"));
        assert_eq!(v.open(&sealed).unwrap(), "13812345678");
        assert_ne!(v.seal("13812345678"), sealed, "fresh nonce each time");

        assert_eq!(vault(2).open(&sealed), Err(PiiError::CannotOpen));
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(v.open(&tampered), Err(PiiError::CannotOpen));
        assert_eq!(v.open(&sealed[..20]), Err(PiiError::CannotOpen));
        assert_eq!(v.open(&[]), Err(PiiError::CannotOpen));
    }

    #[test]
    fn blind_indexes_are_stable_per_key_and_separate_kinds() {
        let v = vault(1);
        let phone = Phone::parse("+86 138 1234 5678").unwrap();
        let same = Phone::parse("13812345678").unwrap();
        assert_eq!(v.phone_index(&phone), v.phone_index(&same));
        assert_ne!(v.phone_index(&phone), vault(2).phone_index(&phone));
        assert_ne!(
            v.phone_index(&phone),
            v.external_id_index("phone", "13812345678x")
        );
        assert_eq!(v.phone_index(&phone).as_bytes().len(), 32);
        assert!(v.verify_index("abc", &v.blind_index("abc")));
        assert!(!v.verify_index("abd", &v.blind_index("abc")));
        // The index key is not the sealing key, and neither is the master.
        let seal_key = hkdf_expand_one_block(&[1; 32], SEAL_KEY_LABEL);
        assert_ne!(seal_key, v.index_key);
        assert_ne!(v.index_key, [1; 32]);
    }

    #[test]
    fn phones_round_trip_and_keys_never_print() {
        let v = vault(3);
        let phone = Phone::parse("13987654321").unwrap();
        let sealed = v.seal_phone(&phone);
        assert_eq!(v.open_phone(&sealed).unwrap(), phone);
        assert_eq!(format!("{v:?}"), "PiiVault { .. }");
    }

    #[test]
    fn master_keys_must_be_32_bytes() {
        assert!(PiiVault::from_master_key(&[0; 16]).is_err());
        assert_eq!(
            master_key_from_hex(&"ab".repeat(32)).unwrap(),
            vec![0xab; 32]
        );
        assert_eq!(master_key_from_hex("abcd"), Err(PiiError::KeyLength(2)));
        assert!(master_key_from_hex(&"zz".repeat(32)).is_err());
    }
}
