//! Small conversions between column values and domain types, shared by the repositories.

use crate::error::{Result, StorageError};
use diancan_domain::text::Name;
use serde::de::DeserializeOwned;

pub fn name(text: String) -> Result<Name> {
    Name::parse(&text)
        .map_err(|_| StorageError::Corrupt(format!("stored name {text:?} is invalid")))
}

pub fn optional_name(text: Option<String>) -> Result<Option<Name>> {
    text.map(name).transpose()
}

pub fn json<T: DeserializeOwned>(text: &str) -> Result<T> {
    Ok(serde_json::from_str(text)?)
}

pub fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("domain values always serialize")
}
