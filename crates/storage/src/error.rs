//! Storage failures, named so the web edge can map them to stable API codes in one place.

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("not found")]
    NotFound,
    /// A unique or foreign-key constraint refused the write; `constraint` names what clashed.
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    /// Something the caller asked for contradicts stored data (e.g. deleting a category with dishes).
    #[error("{0}")]
    Refused(&'static str),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// The store's row does not read as a store; that store is unavailable until it is repaired.
    #[error("store {0} needs repair")]
    StoreDamaged(diancan_domain::StoreId),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// The write did not happen and may be tried again (the batch it rode in failed).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

impl StorageError {
    /// A deadlock or serialization failure: the transaction was rolled back and may be rerun.
    pub fn is_transient(&self) -> bool {
        match self {
            StorageError::Database(sqlx::Error::Database(db)) => {
                matches!(db.code().as_deref(), Some("40P01" | "40001"))
            }
            _ => false,
        }
    }
}

impl From<sqlx::Error> for StorageError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::RowNotFound => StorageError::NotFound,
            sqlx::Error::Database(db)
                if db.is_unique_violation() || db.is_foreign_key_violation() =>
            {
                // SQLite names no constraint; its message names the columns instead.
                let constraint = db
                    .constraint()
                    .map(str::to_owned)
                    .unwrap_or_else(|| db.message().to_owned());
                StorageError::Conflict { constraint }
            }
            _ => StorageError::Database(error),
        }
    }
}

impl From<serde_json::Error> for StorageError {
    fn from(error: serde_json::Error) -> Self {
        StorageError::Corrupt(error.to_string())
    }
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;
