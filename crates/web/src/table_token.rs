//! The token printed in a table's QR code: the table id, a generation nonce (rotating it
//! kills old codes), and an HMAC so forged or mistyped codes are refused before any lookup.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diancan_domain::TableId;
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

/// The one error for every way a table code can be wrong (forged, rotated, another store's).
pub fn unknown_table_code() -> crate::error::ApiError {
    crate::error::ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "UNKNOWN_TABLE_CODE",
        "桌码无效或已更换，请扫描桌上的新二维码",
        "This table code is invalid or was replaced; scan the code on the table",
    )
}

/// The table a QR token opens: signed by this deployment and still the table's current code
/// (a rotated code is refused).
pub async fn resolve(
    state: &crate::state::AppState,
    token: &str,
) -> crate::error::ApiResult<diancan_storage::DiningTable> {
    let unknown = unknown_table_code;
    let id = verify(&state.config.table_token_key, token).ok_or_else(unknown)?;
    let table = state
        .db
        .table_by_token(token)
        .await
        .map_err(|_| unknown())?;
    if table.id != id {
        return Err(unknown());
    }
    Ok(table)
}

/// The signing key shared by every instance: read from the database, created on first use.
pub async fn load_or_create_key(
    db: &diancan_storage::Db,
) -> Result<Vec<u8>, diancan_storage::StorageError> {
    let candidate: Vec<u8> = (0..2)
        .flat_map(|_| uuid::Uuid::new_v4().into_bytes())
        .collect();
    db.server_secret(KEY_NAME, &candidate).await
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
