//! Who may see and act on a diner's order: the diner's own session, or the order's access
//! secret, handed out once at placement to a guest. Anyone else is told the order does not
//! exist (`NotFound`), so an order id alone confirms nothing.

use crate::context::Context;
use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diancan_domain::ordering::Order;
use diancan_domain::redacted::Redacted;
use diancan_domain::*;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Longest secret accepted from a caller: ours are 43 characters; anything far longer is not
/// ours and is not worth hashing.
const MAX_SECRET_LEN: usize = 128;

/// An order's access secret: 256 random bits, URL-safe, redacted in `Debug`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSecret(Redacted<String>);

impl OrderSecret {
    /// A fresh secret: 32 random bytes, far beyond guessing (the brief asks for at least 128).
    pub fn generate() -> OrderSecret {
        OrderSecret(Redacted::new(
            URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()),
        ))
    }

    /// What a caller presented; `None` for nothing or something no secret of ours can be.
    pub fn presented(value: &str) -> Option<OrderSecret> {
        let value = value.trim();
        (!value.is_empty() && value.len() <= MAX_SECRET_LEN)
            .then(|| OrderSecret(Redacted::new(value.to_owned())))
    }

    /// The secret itself, for the one response that hands it to its diner.
    pub fn reveal(&self) -> &str {
        self.0.expose()
    }
}

/// What a diner's request carries to prove the order is theirs.
#[derive(Debug, Clone, Default)]
pub struct DinerPass {
    /// The signed-in diner behind the request's session, if any.
    pub customer: Option<CustomerId>,
    /// An `X-Order-Secret` header or `secret` query parameter, if any.
    pub secret: Option<OrderSecret>,
}

/// The keyed hash stored for `secret`. Bound to the order id, so a hash copied onto another
/// order's row opens nothing; keyed, so a copy of the table cannot be tested against guesses.
pub(crate) fn secret_hash(ctx: &Context, order: OrderId, secret: &OrderSecret) -> String {
    hex::encode(mac(ctx, order, secret).finalize().into_bytes())
}

fn mac(ctx: &Context, order: OrderId, secret: &OrderSecret) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&ctx.keys.order_access)
        .expect("HMAC takes keys of any length");
    mac.update(order.as_uuid().as_bytes());
    mac.update(secret.reveal().as_bytes());
    mac
}

/// The order, when `pass` opens it; `NotFound` otherwise, the same answer as for no order.
pub async fn diner_order(ctx: &Context, id: OrderId, pass: &DinerPass) -> Result<Order> {
    let order = ctx.db.order(id).await?;
    if pass.customer.is_some() && order.customer_id == pass.customer {
        return Ok(order);
    }
    let Some(secret) = &pass.secret else {
        return Err(Error::NotFound);
    };
    let Some(stored) = ctx.db.order_access_hash(id).await? else {
        return Err(Error::NotFound);
    };
    let stored = hex::decode(stored).map_err(|_| Error::NotFound)?;
    // `verify_slice` compares in constant time: timing says nothing about how close a guess was.
    match mac(ctx, id, secret).verify_slice(&stored) {
        Ok(()) => Ok(order),
        Err(_) => Err(Error::NotFound),
    }
}

/// A new secret for an order `pass` opens; the previous one stops working at once (a diner
/// who shared a link takes it back this way, and keeps the new one).
pub async fn rotate_secret(ctx: &Context, id: OrderId, pass: &DinerPass) -> Result<OrderSecret> {
    diner_order(ctx, id, pass).await?;
    replace(ctx, id).await
}

/// Revokes the order's secret: afterwards only the diner's session and staff reach it.
pub async fn revoke_secret(ctx: &Context, id: OrderId, pass: &DinerPass) -> Result<()> {
    diner_order(ctx, id, pass).await?;
    Ok(ctx.db.revoke_order_access(id).await?)
}

/// Mints and stores a new secret for `id`, replacing any before it.
pub(crate) async fn replace(ctx: &Context, id: OrderId) -> Result<OrderSecret> {
    let secret = OrderSecret::generate();
    let hash = secret_hash(ctx, id, &secret);
    ctx.db
        .replace_order_access(id, &hash, ctx.clock.now_ms())
        .await?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_url_safe_unguessable_and_never_printed() {
        let a = OrderSecret::generate();
        let b = OrderSecret::generate();
        assert_ne!(a, b);
        assert_eq!(a.reveal().len(), 43, "32 bytes in unpadded base64url");
        assert!(
            a.reveal()
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert!(!format!("{a:?}").contains(a.reveal()));
    }

    #[test]
    fn only_plausible_secrets_are_taken_from_a_request() {
        assert_eq!(OrderSecret::presented("  "), None);
        assert_eq!(
            OrderSecret::presented(&"x".repeat(MAX_SECRET_LEN + 1)),
            None
        );
        assert_eq!(
            OrderSecret::presented(" abc ").map(|s| s.reveal().to_owned()),
            Some("abc".to_owned())
        );
    }
}
