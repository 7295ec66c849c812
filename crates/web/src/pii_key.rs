//! Where the master keys for diners' personal data come from, the blind-index key beside them,
//! and the re-seal that follows a key rotation.
//!
//! Production supplies the keys from a secret store as `DIANCAN_PII_KEY` (`id:hex,id:hex`, the
//! first current; one bare 64-hex key is id `0`). Without it a key is kept in the database like
//! the table-token key, so every instance agrees on it, but then a database dump holds the key
//! beside the ciphertext: the server says so loudly at start-up, and `--production` refuses it.
//! A key kept that way from before `DIANCAN_PII_KEY` was set stays in the ring as `db` until
//! `diancan pii reseal` has moved everything to the current key; the re-seal then forgets it.
//!
//! The blind-index key never rotates (openids are kept only as indexes). It is made once, from
//! the oldest key (what every deployment used before rotation existed), and kept in the
//! database sealed under a master key; the re-seal moves it to the current key too.

use diancan_integrations::pii::{PiiError, PiiKeyring, PiiVault};
use diancan_storage::Db;
use diancan_storage::sealed_columns::FIRST;

/// The environment variable that carries the master keys.
pub const ENV_VAR: &str = "DIANCAN_PII_KEY";
/// The name under which the fallback master key is kept in the database.
pub const KEY_NAME: &str = "pii_master_key";
/// The key id the database's fallback key has in the ring.
pub const DATABASE_KEY_ID: &str = "db";
/// The name under which the sealed blind-index key is kept in the database.
pub const INDEX_KEY_NAME: &str = "pii_index_key";
/// Rows re-sealed per page.
const RESEAL_PAGE: i64 = 500;

#[derive(Debug, thiserror::Error)]
pub enum PiiKeyError {
    #[error("{ENV_VAR} must be `id:hex,id:hex` or 64 hex digits (32 bytes each): {0}")]
    BadEnvKey(PiiError),
    #[error("the stored PII key is unusable: {0}")]
    BadStoredKey(PiiError),
    #[error(
        "the blind-index key is sealed under a key that {ENV_VAR} no longer lists; \
         put the old key back and run `diancan pii reseal` before dropping it"
    )]
    IndexKeyLocked,
    #[error(
        "{0} sealed value(s) open under no key that {ENV_VAR} lists; they were left as they are"
    )]
    Unopenable(u64),
    #[error(transparent)]
    Storage(#[from] diancan_storage::StorageError),
}

/// Where the current master key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// `DIANCAN_PII_KEY`, from the deployment's secret store.
    Environment,
    /// The fallback kept in the database, beside the data it protects.
    Database,
}

/// The vault of this deployment and what it was made from.
pub struct LoadedVault {
    pub vault: PiiVault,
    pub source: KeySource,
    /// Key ids, current first.
    pub key_ids: Vec<String>,
}

/// The vault for this deployment: from `DIANCAN_PII_KEY` when set, else the database's key.
pub async fn load(db: &Db) -> Result<LoadedVault, PiiKeyError> {
    load_from(db, std::env::var(ENV_VAR).ok().as_deref()).await
}

/// As [`load`], with the environment's value passed in (for tests).
pub async fn load_from(db: &Db, env_value: Option<&str>) -> Result<LoadedVault, PiiKeyError> {
    let (keyring, source) = match env_value.filter(|v| !v.trim().is_empty()) {
        Some(text) => {
            let mut keyring = PiiKeyring::parse(text).map_err(PiiKeyError::BadEnvKey)?;
            if let Some(stored) = db.stored_server_secret(KEY_NAME).await? {
                keyring
                    .push(DATABASE_KEY_ID, &stored)
                    .map_err(PiiKeyError::BadStoredKey)?;
            }
            (keyring, KeySource::Environment)
        }
        None => {
            let candidate: [u8; 32] = rand::random();
            let key = db.server_secret(KEY_NAME, &candidate).await?;
            let keyring =
                PiiKeyring::single(DATABASE_KEY_ID, &key).map_err(PiiKeyError::BadStoredKey)?;
            (keyring, KeySource::Database)
        }
    };
    let index_key = index_key(db, &keyring).await?;
    Ok(LoadedVault {
        vault: PiiVault::new(&keyring, index_key),
        source,
        key_ids: keyring.ids().map(str::to_owned).collect(),
    })
}

/// The deployment's blind-index key, made and stored (sealed) the first time.
async fn index_key(db: &Db, keyring: &PiiKeyring) -> Result<[u8; 32], PiiKeyError> {
    // Only sealing and opening are used here; this vault's own index key does not matter.
    let wrapping = PiiVault::new(keyring, [0; 32]);
    let candidate = wrapping.seal(&hex::encode(keyring.legacy_index_key()));
    let stored = db.server_secret(INDEX_KEY_NAME, &candidate).await?;
    let text = wrapping
        .open(&stored)
        .map_err(|_| PiiKeyError::IndexKeyLocked)?;
    hex::decode(text)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or(PiiKeyError::IndexKeyLocked)
}

/// What a re-seal changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ResealReport {
    pub customer_phones: u64,
    pub order_contacts: u64,
    /// WeChat openids kept with subscribe grants.
    pub grant_openids: u64,
    pub index_key: bool,
    /// The database's fallback key was forgotten: nothing is sealed under it any more.
    pub forgot_database_key: bool,
}

/// Re-seals every sealed column, and the blind-index key, under the current key. Values that
/// open under no listed key are counted and left alone; the re-seal then fails at the end and
/// keeps the database's fallback key.
pub async fn reseal(db: &Db, loaded: &LoadedVault) -> Result<ResealReport, PiiKeyError> {
    let vault = &loaded.vault;
    let mut report = ResealReport::default();
    let mut unopenable = 0u64;

    let mut after = FIRST;
    loop {
        let page = db.sealed_customer_phones(after, RESEAL_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for row in &page {
            match vault.reseal(&row.value) {
                Ok(Some(new)) => {
                    if db
                        .replace_sealed_customer_phone(row.id, &row.value, &new)
                        .await?
                    {
                        report.customer_phones += 1;
                    }
                }
                Ok(None) => {}
                Err(_) => unopenable += 1,
            }
        }
    }

    let mut after = FIRST;
    loop {
        let page = db.sealed_grant_openids(after, RESEAL_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for row in &page {
            match vault.reseal(&row.value) {
                Ok(Some(new)) => {
                    if db
                        .replace_sealed_grant_openid(row.id, &row.value, &new)
                        .await?
                    {
                        report.grant_openids += 1;
                    }
                }
                Ok(None) => {}
                Err(_) => unopenable += 1,
            }
        }
    }

    let mut after = FIRST;
    loop {
        let page = db.sealed_order_contacts(after, RESEAL_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for row in &page {
            match diancan_usecases::contact::reseal(vault, &row.value) {
                Ok(Some(new)) => {
                    if db
                        .replace_sealed_order_contact(row.id, &row.value, &new)
                        .await?
                    {
                        report.order_contacts += 1;
                    }
                }
                Ok(None) => {}
                Err(_) => unopenable += 1,
            }
        }
    }

    if let Some(stored) = db.stored_server_secret(INDEX_KEY_NAME).await? {
        match vault.reseal(&stored) {
            Ok(Some(new)) => {
                report.index_key = db
                    .replace_server_secret(INDEX_KEY_NAME, &stored, &new)
                    .await?;
            }
            Ok(None) => {}
            Err(_) => return Err(PiiKeyError::IndexKeyLocked),
        }
    }

    if unopenable > 0 {
        return Err(PiiKeyError::Unopenable(unopenable));
    }
    let database_key_is_old = loaded.source == KeySource::Environment
        && loaded.key_ids.iter().any(|id| id == DATABASE_KEY_ID);
    if database_key_is_old {
        db.delete_server_secret(KEY_NAME).await?;
        report.forgot_database_key = true;
    }
    Ok(report)
}
