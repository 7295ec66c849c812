//! Where the master secret for diners' personal data comes from. Production supplies it from a
//! secret store as `DIANCAN_PII_KEY` (64 hex digits), which takes precedence; otherwise one is
//! kept in the database like the table-token key, so every instance agrees on it. The key is
//! never logged. Set the variable before the first diner signs up: data sealed under one key
//! does not open under another (re-sealing on rotation is not built yet).

use diancan_integrations::pii::{PiiError, PiiVault, master_key_from_hex};

/// The environment variable that carries the master key.
pub const ENV_VAR: &str = "DIANCAN_PII_KEY";
/// The name under which the fallback key is kept in the database.
pub const KEY_NAME: &str = "pii_master_key";

#[derive(Debug, thiserror::Error)]
pub enum PiiKeyError {
    #[error("{ENV_VAR} must be 64 hex digits (32 bytes): {0}")]
    BadEnvKey(PiiError),
    #[error("the stored PII key is unusable: {0}")]
    BadStoredKey(PiiError),
    #[error(transparent)]
    Storage(#[from] diancan_storage::StorageError),
}

/// The vault for this deployment: from `DIANCAN_PII_KEY` when set, else the database's key.
pub async fn load_vault(db: &diancan_storage::Db) -> Result<PiiVault, PiiKeyError> {
    vault_from(db, std::env::var(ENV_VAR).ok().as_deref()).await
}

/// As [`load_vault`], with the environment's value passed in (for tests).
pub async fn vault_from(
    db: &diancan_storage::Db,
    env_value: Option<&str>,
) -> Result<PiiVault, PiiKeyError> {
    if let Some(hex) = env_value.filter(|v| !v.trim().is_empty()) {
        let key = master_key_from_hex(hex).map_err(PiiKeyError::BadEnvKey)?;
        return PiiVault::from_master_key(&key).map_err(PiiKeyError::BadEnvKey);
    }
    let candidate: [u8; 32] = rand::random();
    let key = db.server_secret(KEY_NAME, &candidate).await?;
    PiiVault::from_master_key(&key).map_err(PiiKeyError::BadStoredKey)
}
