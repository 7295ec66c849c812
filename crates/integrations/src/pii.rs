//! Field-level protection of personal data at rest (PIPL Art. 51): AES-256-GCM sealing and a
//! keyed blind index for equality lookups.
//!
//! Master keys come as a keyring (`DIANCAN_PII_KEY=2:hex,1:hex`, the first one current), so a
//! key can be rotated: new values are sealed under the current key and carry its id; values
//! sealed under an older key still open while that key is listed; `reseal` moves them to the
//! current one, after which the older key can be dropped. The blind-index key is separate and
//! never rotates (a WeChat openid is kept only as its index, so it could not be recomputed);
//! the web edge keeps it in the database sealed under the current master key.
//!
//! Where the master keys live matters more than the cipher: see `diancan_web::pii_key`.
//! Nothing here is ever logged.

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
/// Sealed values that name their key start with these two bytes, then the id's length and the
/// id. Values from before key ids existed are a bare nonce ‖ ciphertext and are tried with
/// every key; one of those starting with the marker by chance still opens, by that fallback.
const KEYED_MARKER: [u8; 2] = [0xD1, 0xC4];
/// The id a bare 64-hex `DIANCAN_PII_KEY` (no `id:`) gets.
pub const DEFAULT_KEY_ID: &str = "0";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PiiError {
    #[error("the PII master key must be 32 bytes, got {0}")]
    KeyLength(usize),
    #[error("a PII key id must be 1-16 letters, digits, '-' or '_': {0:?}")]
    KeyId(String),
    #[error("the PII key id {0:?} is listed twice")]
    DuplicateKeyId(String),
    #[error("no PII key given")]
    NoKey,
    /// Wrong key, truncated or tampered bytes: the tag does not verify.
    #[error("sealed personal data does not open with this key")]
    CannotOpen,
}

/// The master keys of a deployment, current first. Its `Debug` shows only the ids.
#[derive(Clone)]
pub struct PiiKeyring {
    keys: Vec<(String, [u8; 32])>,
}

impl std::fmt::Debug for PiiKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.ids().collect();
        f.debug_struct("PiiKeyring").field("ids", &ids).finish()
    }
}

impl PiiKeyring {
    /// `id:hex,id:hex` (the first is current) or one bare 64-hex key (id [`DEFAULT_KEY_ID`]).
    pub fn parse(text: &str) -> Result<PiiKeyring, PiiError> {
        let mut keyring = PiiKeyring { keys: Vec::new() };
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (id, hex) = entry.split_once(':').unwrap_or((DEFAULT_KEY_ID, entry));
            keyring.push(id.trim(), &master_key_from_hex(hex)?)?;
        }
        if keyring.keys.is_empty() {
            return Err(PiiError::NoKey);
        }
        Ok(keyring)
    }

    /// A keyring of one key.
    pub fn single(id: &str, master: &[u8]) -> Result<PiiKeyring, PiiError> {
        let mut keyring = PiiKeyring { keys: Vec::new() };
        keyring.push(id, master)?;
        Ok(keyring)
    }

    /// Adds an older key after those already listed.
    pub fn push(&mut self, id: &str, master: &[u8]) -> Result<(), PiiError> {
        let valid_id = (1..=16).contains(&id.len())
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid_id {
            return Err(PiiError::KeyId(id.to_owned()));
        }
        if self.keys.iter().any(|(known, _)| known == id) {
            return Err(PiiError::DuplicateKeyId(id.to_owned()));
        }
        let key: [u8; 32] = master
            .try_into()
            .map_err(|_| PiiError::KeyLength(master.len()))?;
        self.keys.push((id.to_owned(), key));
        Ok(())
    }

    pub fn current_id(&self) -> &str {
        &self.keys[0].0
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(id, _)| id.as_str())
    }

    /// The index key a deployment had before key ids existed: derived from its one master key,
    /// which in a rotated keyring is the oldest, listed last.
    pub fn legacy_index_key(&self) -> [u8; 32] {
        let (_, oldest) = self.keys.last().expect("a keyring is never empty");
        hkdf_expand_one_block(oldest, INDEX_KEY_LABEL)
    }
}

/// Seals and indexes personal data. Holds keys, so its `Debug` shows none of them.
pub struct PiiVault {
    /// Current key first.
    ciphers: Vec<(String, Aes256Gcm)>,
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
    /// The vault for a keyring and the deployment's blind-index key.
    pub fn new(keyring: &PiiKeyring, index_key: [u8; 32]) -> PiiVault {
        let ciphers = keyring
            .keys
            .iter()
            .map(|(id, master)| {
                let seal_key = hkdf_expand_one_block(master, SEAL_KEY_LABEL);
                let cipher = Aes256Gcm::new_from_slice(&seal_key).expect("a 32-byte AES-256 key");
                (id.clone(), cipher)
            })
            .collect();
        PiiVault { ciphers, index_key }
    }

    /// The vault of a single uniformly random 32-byte master secret, with the index key
    /// derived from it (as every deployment had before rotation).
    pub fn from_master_key(master: &[u8]) -> Result<PiiVault, PiiError> {
        let keyring = PiiKeyring::single(DEFAULT_KEY_ID, master)?;
        Ok(Self::new(&keyring, keyring.legacy_index_key()))
    }

    /// A vault with a random key that dies with the process: for tests and throwaway demos only,
    /// since nothing it sealed can be opened after a restart.
    pub fn ephemeral() -> PiiVault {
        Self::from_master_key(&rand::random::<[u8; 32]>()).expect("32 bytes")
    }

    /// The id new values are sealed under.
    pub fn current_key_id(&self) -> &str {
        &self.ciphers[0].0
    }

    /// Marker ‖ key id ‖ a new random 96-bit nonce ‖ ciphertext ‖ 128-bit tag, under the current
    /// key. Sealing the same text twice gives different bytes, so equal phones do not show.
    pub fn seal(&self, plaintext: &str) -> Vec<u8> {
        let (id, cipher) = &self.ciphers[0];
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let ciphertext = cipher
            .encrypt(Nonce::from_slice(&nonce_bytes), plaintext.as_bytes())
            .expect("AES-GCM encrypts any message shorter than 64 GiB");
        let mut sealed = Vec::with_capacity(3 + id.len() + NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&KEYED_MARKER);
        sealed.push(id.len() as u8);
        sealed.extend_from_slice(id.as_bytes());
        sealed.extend_from_slice(&nonce_bytes);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    /// The key id a sealed value names, if it names one this vault holds, and the rest.
    fn keyed<'a>(&self, sealed: &'a [u8]) -> Option<(usize, &'a [u8])> {
        let rest = sealed.strip_prefix(&KEYED_MARKER)?;
        let (&len, rest) = rest.split_first()?;
        let id = rest.get(..len as usize)?;
        let position = self.ciphers.iter().position(|(k, _)| k.as_bytes() == id)?;
        Some((position, &rest[len as usize..]))
    }

    fn open_with(cipher: &Aes256Gcm, body: &[u8]) -> Result<String, PiiError> {
        if body.len() < NONCE_LEN + TAG_LEN {
            return Err(PiiError::CannotOpen);
        }
        let (nonce, ciphertext) = body.split_at(NONCE_LEN);
        let plaintext = cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| PiiError::CannotOpen)?;
        String::from_utf8(plaintext).map_err(|_| PiiError::CannotOpen)
    }

    /// Opens a value sealed under any key of the ring, and says whether that was the current one.
    fn open_and_locate(&self, sealed: &[u8]) -> Result<(String, bool), PiiError> {
        if let Some((position, body)) = self.keyed(sealed)
            && let Ok(text) = Self::open_with(&self.ciphers[position].1, body)
        {
            return Ok((text, position == 0));
        }
        // A value from before key ids: whichever key opens it, it is not marked as current.
        self.ciphers
            .iter()
            .find_map(|(_, cipher)| Self::open_with(cipher, sealed).ok())
            .map(|text| (text, false))
            .ok_or(PiiError::CannotOpen)
    }

    pub fn open(&self, sealed: &[u8]) -> Result<String, PiiError> {
        self.open_and_locate(sealed).map(|(text, _)| text)
    }

    /// The value sealed afresh under the current key, or `None` when it already is.
    pub fn reseal(&self, sealed: &[u8]) -> Result<Option<Vec<u8>>, PiiError> {
        let (text, current) = self.open_and_locate(sealed)?;
        Ok((!current).then(|| self.seal(&text)))
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
        assert_eq!(
            sealed.len(),
            3 + 1 + NONCE_LEN + 11 + TAG_LEN,
            "marker, id \"0\""
        );
        assert!(!sealed.windows(11).any(|w| w == b"13812345678"));
        assert_eq!(v.open(&sealed).unwrap(), "13812345678");
        assert_ne!(v.seal("13812345678"), sealed, "fresh nonce each time");

        assert_eq!(vault(2).open(&sealed), Err(PiiError::CannotOpen));
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(v.open(&tampered), Err(PiiError::CannotOpen));
        assert_eq!(v.open(&sealed[..24]), Err(PiiError::CannotOpen));
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

    fn ring(text: &str) -> PiiKeyring {
        PiiKeyring::parse(text).unwrap()
    }

    #[test]
    fn a_rotated_key_keeps_old_values_open_until_they_are_resealed() {
        let (k1, k2) = ("11".repeat(32), "22".repeat(32));
        let before = ring(&format!("1:{k1}"));
        let index_key = before.legacy_index_key();
        let v1 = PiiVault::new(&before, index_key);
        let old = v1.seal("13812345678");
        let phone = Phone::parse("13812345678").unwrap();

        let rotated = PiiVault::new(&ring(&format!("2:{k2}, 1:{k1}")), index_key);
        assert_eq!(rotated.current_key_id(), "2");
        assert_eq!(
            rotated.open(&old).unwrap(),
            "13812345678",
            "old still opens"
        );
        let new = rotated.seal("13900000000");
        assert_eq!(rotated.open(&new).unwrap(), "13900000000");
        assert_eq!(
            v1.open(&new),
            Err(PiiError::CannotOpen),
            "new is under key 2"
        );
        assert_eq!(
            rotated.phone_index(&phone),
            v1.phone_index(&phone),
            "indexes stay"
        );

        let resealed = rotated.reseal(&old).unwrap().expect("old was under key 1");
        assert_eq!(
            rotated.reseal(&new).unwrap(),
            None,
            "new is already current"
        );
        assert_eq!(rotated.reseal(&resealed).unwrap(), None);

        let only_2 = PiiVault::new(&ring(&format!("2:{k2}")), index_key);
        assert_eq!(only_2.open(&resealed).unwrap(), "13812345678");
        assert_eq!(only_2.open(&new).unwrap(), "13900000000");
        assert_eq!(
            only_2.open(&old),
            Err(PiiError::CannotOpen),
            "key 1 is gone"
        );
    }

    #[test]
    fn values_sealed_before_key_ids_still_open_and_reseal() {
        let master = [7u8; 32];
        let cipher =
            Aes256Gcm::new_from_slice(&hkdf_expand_one_block(&master, SEAL_KEY_LABEL)).unwrap();
        let nonce = [9u8; NONCE_LEN];
        let mut legacy = nonce.to_vec();
        legacy.extend(
            cipher
                .encrypt(Nonce::from_slice(&nonce), b"secret".as_ref())
                .unwrap(),
        );

        let same = PiiVault::from_master_key(&master).unwrap();
        assert_eq!(same.open(&legacy).unwrap(), "secret");
        let rotated = ring(&format!(
            "new:{},old:{}",
            "33".repeat(32),
            hex::encode(master)
        ));
        let vault = PiiVault::new(&rotated, rotated.legacy_index_key());
        assert_eq!(vault.open(&legacy).unwrap(), "secret");
        assert!(
            vault.reseal(&legacy).unwrap().is_some(),
            "no key id: not current"
        );
        assert_eq!(
            vault.phone_index(&Phone::parse("13812345678").unwrap()),
            same.phone_index(&Phone::parse("13812345678").unwrap()),
            "the index key of the oldest key is the one the deployment always had"
        );
    }

    #[test]
    fn keyrings_parse_ids_and_refuse_nonsense() {
        let k = "ab".repeat(32);
        assert_eq!(ring(&k).current_id(), DEFAULT_KEY_ID);
        let two = ring(&format!("2026b:{k},2026a:{}", "cd".repeat(32)));
        assert_eq!(two.ids().collect::<Vec<_>>(), ["2026b", "2026a"]);
        assert!(!format!("{two:?}").contains(&k));
        assert!(matches!(PiiKeyring::parse(" , "), Err(PiiError::NoKey)));
        assert!(matches!(
            PiiKeyring::parse(&format!("a:{k},a:{k}")),
            Err(PiiError::DuplicateKeyId(_))
        ));
        assert!(matches!(
            PiiKeyring::parse(&format!("bad id:{k}")),
            Err(PiiError::KeyId(_))
        ));
        assert!(PiiKeyring::parse("1:abcd").is_err());
    }
}
