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

/// A contact opened from its seal, for the one person who needs it (the delivery's rider, the
/// courier's request). Never logged.
pub struct OpenedContact {
    pub name: String,
    pub phone: String,
    pub address: Option<String>,
}

impl std::fmt::Debug for OpenedContact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpenedContact(<sealed>)")
    }
}

/// Opens the contact an order stored (see [`seal`]).
pub fn open(
    ctx: &Context,
    stored_json: &str,
) -> Result<OpenedContact, diancan_integrations::pii::PiiError> {
    use diancan_integrations::pii::PiiError;
    let stored: StoredContact =
        serde_json::from_str(stored_json).map_err(|_| PiiError::CannotOpen)?;
    let open_field = |field: &str| -> Result<String, PiiError> {
        let sealed = STANDARD.decode(field).map_err(|_| PiiError::CannotOpen)?;
        ctx.pii.open(&sealed)
    };
    Ok(OpenedContact {
        name: stored.name,
        phone: open_field(&stored.phone_sealed)?,
        address: stored
            .address_sealed
            .as_deref()
            .map(open_field)
            .transpose()?,
    })
}

/// The stored contact JSON with its sealed fields moved to the current key (for `pii reseal`),
/// or `None` when they already are under it. Fails when a field opens under no listed key.
pub fn reseal(
    vault: &diancan_integrations::pii::PiiVault,
    stored_json: &str,
) -> Result<Option<String>, diancan_integrations::pii::PiiError> {
    use diancan_integrations::pii::PiiError;
    let mut stored: StoredContact =
        serde_json::from_str(stored_json).map_err(|_| PiiError::CannotOpen)?;
    let reseal_field = |field: &mut String| -> Result<bool, PiiError> {
        let sealed = STANDARD.decode(&*field).map_err(|_| PiiError::CannotOpen)?;
        Ok(match vault.reseal(&sealed)? {
            Some(new) => {
                *field = STANDARD.encode(new);
                true
            }
            None => false,
        })
    };
    let mut changed = reseal_field(&mut stored.phone_sealed)?;
    if let Some(address) = stored.address_sealed.as_mut() {
        changed |= reseal_field(address)?;
    }
    if !changed {
        return Ok(None);
    }
    serde_json::to_string(&stored)
        .map(Some)
        .map_err(|_| PiiError::CannotOpen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use diancan_integrations::pii::{PiiKeyring, PiiVault};

    #[test]
    fn a_stored_contact_reseals_under_the_current_key_and_keeps_its_clear_fields() {
        let (k1, k2) = ("11".repeat(32), "22".repeat(32));
        let old_ring = PiiKeyring::parse(&format!("1:{k1}")).unwrap();
        let old = PiiVault::new(&old_ring, [5; 32]);
        let stored = serde_json::to_string(&StoredContact {
            name: "王女士".into(),
            phone_masked: "138****5678".into(),
            phone_sealed: STANDARD.encode(old.seal("13812345678")),
            address_sealed: Some(STANDARD.encode(old.seal("南京西路 2 号"))),
        })
        .unwrap();

        let rotated = PiiVault::new(
            &PiiKeyring::parse(&format!("2:{k2},1:{k1}")).unwrap(),
            [5; 32],
        );
        let resealed = reseal(&rotated, &stored).unwrap().expect("was under key 1");
        assert_eq!(
            reseal(&rotated, &resealed).unwrap(),
            None,
            "already current"
        );

        let only_2 = PiiVault::new(&PiiKeyring::parse(&format!("2:{k2}")).unwrap(), [5; 32]);
        let contact: StoredContact = serde_json::from_str(&resealed).unwrap();
        assert_eq!(
            (contact.name.as_str(), contact.phone_masked.as_str()),
            ("王女士", "138****5678")
        );
        let open = |field: &str| only_2.open(&STANDARD.decode(field).unwrap()).unwrap();
        assert_eq!(open(&contact.phone_sealed), "13812345678");
        assert_eq!(
            open(contact.address_sealed.as_deref().unwrap()),
            "南京西路 2 号"
        );
        assert!(
            reseal(&only_2, &stored).is_err(),
            "key 1 gone: the old row cannot open"
        );
    }
}
