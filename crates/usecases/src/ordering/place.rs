//! Placing an order: priced again by the server from the current menu, confirmed against the
//! diner's quote, and written with its stock, slot, pickup number, table sitting, event and
//! outbox rows as one unit (through the write lanes). Idempotent per caller and key.

use super::access::{OrderSecret, replace, secret_hash};
use super::quote::{Cart, price};
use crate::contact::{Contact, seal};
use crate::context::Context;
use crate::error::{Error, Result};
use diancan_domain::ordering::{Channel, Order, order_start, ready_by, slot_claim};
use diancan_domain::store::TableOrdering;
use diancan_domain::validation::{FieldErrors, Problem};
use diancan_domain::*;
use diancan_storage::ordering::{NewOrder, NewOrderTable, PlaceError, Placed, SessionClaim};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

/// An order's note, as the document's `maxLength` says.
pub const MAX_ORDER_NOTE_CHARS: usize = 200;

/// Everything the diner confirmed at checkout.
#[derive(Debug, Clone, Serialize)]
pub struct PlaceOrder {
    pub cart: Cart,
    /// The `version` of the quote the diner confirmed.
    pub quote_version: String,
    pub contact: Option<Contact>,
    pub delivery_address: Option<String>,
    /// "asap" (or none) or a local time "HH:MM" today.
    pub pickup_time: Option<String>,
    pub note: Option<String>,
    /// The signed-in diner, if any: orders join their history, and their keys are their own.
    #[serde(skip)]
    pub customer: Option<CustomerId>,
    /// The client's `Idempotency-Key` (already checked for shape at the edge).
    #[serde(skip)]
    pub idempotency_key: String,
}

#[derive(Debug, Clone)]
pub struct PlacedOrder {
    pub order: Order,
    /// False when the same request was placed before under this key: that order again.
    pub created: bool,
    /// A guest's key to the order, shown to them in this answer only (never stored in the
    /// clear). A signed-in diner's order has none: their session reaches it.
    pub secret: Option<OrderSecret>,
}

pub async fn place(ctx: &Context, store_id: StoreId, input: PlaceOrder) -> Result<PlacedOrder> {
    let note = valid_note(input.note.as_deref())?;
    let request_hash = request_digest(ctx, &input);
    let idempotency_key = format!(
        "{}:{}",
        input.customer.map_or("guest".to_owned(), |c| c.to_string()),
        input.idempotency_key
    );
    let table = match (input.cart.channel, &input.cart.table_token) {
        (Channel::DineIn, Some(token)) => {
            Some(crate::tables::resolve_in(ctx, store_id, token).await?)
        }
        (Channel::DineIn, None) => {
            return Err(FieldErrors::single("table_token", Problem::Required).into());
        }
        _ => None,
    };
    // The cached menu prices the order; the write checks it is still the current one, so a menu
    // edit on another instance costs one repricing here rather than a query on every order.
    let mut menu = ctx.menus.get(ctx, store_id).await?;
    let mut repriced = false;
    let diner = crate::marketing::Diner::at(ctx, store_id, input.customer).await?;
    loop {
        let store = menu.store.clone();
        let rules = &store.profile.rules;
        let now = ctx.clock.now();
        // The diner's coupons and promotion uses as they are now; placement checks them again
        // under their locks, in the order's own transaction.
        let offers = crate::marketing::offers_for(ctx, &menu, diner, now).await?;
        let quote = price(&menu, &input.cart, &offers, now)?;
        if quote.version != input.quote_version {
            if !repriced {
                // This instance's menu may be older than the one the diner was quoted from.
                repriced = true;
                menu = ctx.menus.get_current(ctx, store_id).await?;
                continue;
            }
            return Err(Error::StaleQuote(Box::new(quote)));
        }
        let contact_sealed = match (input.cart.channel, &input.contact) {
            (Channel::Delivery, None) => {
                return Err(FieldErrors::single("contact", Problem::Required).into());
            }
            (_, Some(contact)) => Some(seal(ctx, contact, input.delivery_address.as_deref())?),
            (_, None) => None,
        };
        let now_ms = now.as_millisecond();
        let ready_by_ms = ready_by(rules, input.cart.channel, input.pickup_time.as_deref(), now)?;
        let table = match &table {
            Some(table) => Some(NewOrderTable {
                table_id: table.id,
                code: table.code.clone(),
                area_name: ctx.db.area_name(store.brand_id, table.area_id).await?,
                session: match (
                    ctx.db.open_table_session_of(table.id).await?,
                    rules.table_ordering,
                ) {
                    (Some(session), _) => SessionClaim::Open(session.id),
                    (None, TableOrdering::OpenOnFirstScan) => SessionClaim::OpenWithOrder {
                        diners: input.cart.diners,
                    },
                    (None, TableOrdering::RequireOpenTable) => return Err(Error::TableNotOpen),
                },
            }),
            None => None,
        };
        let id = OrderId::new();
        let secret = input.customer.is_none().then(OrderSecret::generate);
        let order = NewOrder {
            access_hash: secret.as_ref().map(|s| secret_hash(ctx, id, s)),
            id,
            brand_id: store.brand_id,
            store_id,
            channel: input.cart.channel,
            start: order_start(rules, input.cart.channel, now_ms),
            table,
            business_date: rules
                .time_zone
                .business_date(now, rules.business_day_starts_at),
            diners: input.cart.diners,
            quote: quote.clone(),
            contact_sealed,
            note: note.clone(),
            ready_by_ms,
            idempotency_key: idempotency_key.clone(),
            request_hash: request_hash.clone(),
            customer_id: input.customer,
            slot: slot_claim(rules, ready_by_ms),
            menu_revision: Some(menu.revision),
            redemptions: offers.redemptions(&quote),
            now_ms,
        };
        return match ctx.db.place_order(order).await {
            Ok(Placed::Created(order)) => Ok(PlacedOrder {
                order,
                created: true,
                secret,
            }),
            Ok(Placed::Replayed(order)) => {
                // Only the hash of the first answer's secret was kept, so a guest's retry (its
                // first answer lost) gets a new one, which replaces it. The same caller is the
                // only one holding the key and the identical request.
                let secret = match order.customer_id {
                    None => Some(replace(ctx, order.id).await?),
                    Some(_) => None,
                };
                Ok(PlacedOrder {
                    order,
                    created: false,
                    secret,
                })
            }
            Err(PlaceError::MenuChanged) if !repriced => {
                // The menu changed after this instance cached it: price again from the current one.
                repriced = true;
                menu = ctx.menus.get_current(ctx, store_id).await?;
                continue;
            }
            Err(PlaceError::MenuChanged) => Err(Error::MenuChanged),
            Err(PlaceError::KeyReused) => Err(Error::KeyReused),
            Err(PlaceError::CouponUnavailable(_)) => Err(Error::CouponUnavailable),
            Err(PlaceError::PromotionLimitReached(_)) => Err(Error::PromotionLimitReached),
            Err(PlaceError::SlotFull) => Err(Error::SlotFull),
            Err(PlaceError::SoldOut(sku)) => {
                // This instance's copy said otherwise: read the stock again next time.
                ctx.menus.invalidate(store_id);
                let dish = quote
                    .lines
                    .iter()
                    .find(|l| l.sku_id == sku)
                    .map(|l| l.dish_name.clone())
                    .unwrap_or_default();
                Err(Error::SoldOut { dish })
            }
            Err(PlaceError::Storage(error)) => Err(error.into()),
        };
    }
}

fn valid_note(note: Option<&str>) -> Result<Option<String>> {
    let mut errors = FieldErrors::new();
    // A note may span lines, as a line's note may (忌口 on one line, the pickup on the next).
    let note =
        diancan_domain::text::optional_lines(&mut errors, "note", note, MAX_ORDER_NOTE_CHARS);
    Ok(errors.finish(|| note)?)
}

/// What the idempotency record keeps of the request: an HMAC under a server key, so a copy of
/// the database cannot test guesses of the phone or address inside it.
fn request_digest(ctx: &Context, input: &PlaceOrder) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&ctx.keys.request_digest)
        .expect("HMAC takes keys of any length");
    mac.update(&serde_json::to_vec(input).unwrap_or_default());
    hex::encode(mac.finalize().into_bytes())
}
