//! A diner's contact for pickup and delivery: the phone and address are sealed (AES-256-GCM)
//! before they reach the database; only the masked phone (138****1234) is kept readable.

use crate::context::Context;
use crate::error::Result;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use diancan_domain::customer::Phone;
use diancan_domain::validation::{FieldErrors, Problem};
use serde::{Deserialize, Serialize};

/// What the orders table holds in `contact_json`.
#[derive(Serialize, Deserialize)]
pub struct StoredContact {
    pub name: String,
    pub phone_masked: String,
    pub phone_sealed: String,
    pub address_sealed: Option<String>,
}

/// Who to call about a pickup or delivery order, as the diner typed it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[schema(max_length = 40)]
    pub name: String,
    #[schema(max_length = 20)]
    pub phone: String,
}

/// Validates and seals a contact, returning the JSON to store.
pub fn seal(ctx: &Context, contact: &Contact, address: Option<&str>) -> Result<String> {
    let mut errors = FieldErrors::new();
    let name = diancan_domain::text::required_name(&mut errors, "contact.name", &contact.name);
    let phone = Phone::parse(&contact.phone)
        .map_err(|_| errors.add("contact.phone", Problem::InvalidCharacters))
        .ok();
    let address =
        diancan_domain::text::optional_text(&mut errors, "delivery_address", address, 200);
    let (name, phone) = errors.finish(|| (name.expect("checked"), phone.expect("checked")))?;
    let stored = StoredContact {
        name: name.into_string(),
        phone_masked: phone.masked(),
        phone_sealed: STANDARD.encode(ctx.pii.seal(phone.expose())),
        address_sealed: address.map(|a| STANDARD.encode(ctx.pii.seal(&a))),
    };
    Ok(serde_json::to_string(&stored).map_err(diancan_storage::StorageError::from)?)
}
