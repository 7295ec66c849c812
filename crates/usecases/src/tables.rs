//! The token printed in a table's QR code: the table id, a generation nonce (rotating it
//! kills old codes), and an HMAC so forged or mistyped codes are refused before any lookup.

use crate::context::Context;
use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diancan_domain::{StoreId, TableId};
use diancan_storage::DiningTable;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const TAG_LEN: usize = 10;

fn tag(key: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(payload);
    mac.finalize().into_bytes()[..TAG_LEN].to_vec()
}

/// A new token for `table`: base64url(table id ‖ 6 random bytes ‖ 10-byte tag).
pub fn issue(key: &[u8], table: TableId) -> String {
    let mut payload = table.as_uuid().as_bytes().to_vec();
    payload.extend_from_slice(&rand::random::<[u8; 6]>());
    let signature = tag(key, &payload);
    payload.extend_from_slice(&signature);
    URL_SAFE_NO_PAD.encode(payload)
}

/// The table a well-formed, correctly signed token names. The caller still checks the token
/// is the table's current one (a rotated-away token verifies but matches no table).
pub fn verify(key: &[u8], token: &str) -> Option<TableId> {
    let bytes = URL_SAFE_NO_PAD.decode(token.as_bytes()).ok()?;
    if bytes.len() != 16 + 6 + TAG_LEN {
        return None;
    }
    let (payload, signature) = bytes.split_at(16 + 6);
    let expected = tag(key, payload);
    // Constant-time comparison through the MAC API.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    mac.update(payload);
    mac.verify_truncated_left(signature).ok()?;
    debug_assert_eq!(expected, signature);
    let id = uuid::Uuid::from_slice(&payload[..16]).ok()?;
    Some(TableId::from_uuid(id))
}

/// The name under which the signing key is kept in the database.
pub const KEY_NAME: &str = "table_token_key";

/// The table a QR token opens: signed by this deployment and still the table's current code
/// (a rotated code is refused). Every way a code can be wrong is the same error.
pub async fn resolve(ctx: &Context, token: &str) -> Result<DiningTable> {
    let id = verify(&ctx.keys.table_token, token).ok_or(Error::UnknownTableCode)?;
    let table = ctx
        .db
        .table_by_token(token)
        .await
        .map_err(|_| Error::UnknownTableCode)?;
    if table.id != id {
        return Err(Error::UnknownTableCode);
    }
    Ok(table)
}

/// The table a token names, if it is valid and belongs to `store`.
pub async fn resolve_in(ctx: &Context, store: StoreId, token: &str) -> Result<DiningTable> {
    let table = resolve(ctx, token).await?;
    if table.store_id != store {
        return Err(Error::UnknownTableCode);
    }
    Ok(table)
}

/// The signing key shared by every instance: read from the database, created on first use.
pub async fn load_or_create_key(
    db: &diancan_storage::Db,
) -> Result<Vec<u8>, diancan_storage::StorageError> {
    load_or_create_secret(db, KEY_NAME).await
}

/// A 32-byte server secret shared by every instance through the database, created on first use.
pub async fn load_or_create_secret(
    db: &diancan_storage::Db,
    name: &str,
) -> Result<Vec<u8>, diancan_storage::StorageError> {
    let candidate: Vec<u8> = (0..2)
        .flat_map(|_| uuid::Uuid::new_v4().into_bytes())
        .collect();
    db.server_secret(name, &candidate).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_and_tampered_ones_do_not() {
        let key = b"test key";
        let table = TableId::new();
        let token = issue(key, table);
        assert_eq!(verify(key, &token), Some(table));
        assert_ne!(issue(key, table), token, "each issue is a new generation");
        assert_eq!(verify(b"other key", &token), None);
        let mut tampered = token.clone().into_bytes();
        tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
        assert_eq!(verify(key, std::str::from_utf8(&tampered).unwrap()), None);
        assert_eq!(verify(key, "hello"), None);
    }
}
