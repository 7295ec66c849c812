//! Pricing a cart: the authoritative breakdown the checkout shows and an order must confirm.

use crate::context::Context;
use crate::error::Result;
use crate::menus::CachedMenu;
use diancan_domain::StoreId;
use diancan_domain::ordering::{Channel, LineRequest, PricingContext, Quote, QuoteRequest};
use diancan_domain::store::GeoPoint;
use serde::Serialize;

/// What the diner wants priced.
#[derive(Debug, Clone, Serialize)]
pub struct Cart {
    pub channel: Channel,
    pub lines: Vec<LineRequest>,
    pub diners: Option<i64>,
    pub delivery_to: Option<GeoPoint>,
    /// Dine-in: the token from the table's QR code.
    pub table_token: Option<String>,
}

impl Cart {
    fn request(&self) -> QuoteRequest {
        QuoteRequest {
            channel: self.channel,
            lines: self.lines.clone(),
            diners: self.diners,
            delivery_to: self.delivery_to,
        }
    }
}

/// Prices `cart` at `store` from the current menu. A dine-in cart's table code must be this
/// store's.
pub async fn quote(ctx: &Context, store: StoreId, cart: &Cart) -> Result<Quote> {
    if let (Channel::DineIn, Some(token)) = (cart.channel, &cart.table_token) {
        crate::tables::resolve_in(ctx, store, token).await?;
    }
    let menu = ctx.menus.get_current(ctx, store).await?;
    price(&menu, cart)
}

/// The domain's one pricing function over a cached menu.
pub(super) fn price(menu: &CachedMenu, cart: &Cart) -> Result<Quote> {
    let rules = &menu.store.profile.rules;
    let context = PricingContext {
        menu: &menu.menu,
        store_open: menu.open_now,
        opens_at: menu.opens_at.clone(),
        packing_fee: rules.packing_fee,
        seat_fee_fen: rules.seat_fee_fen,
        store_location: menu.store.profile.location,
        delivery_zones: &rules.delivery_zones,
    };
    Ok(diancan_domain::ordering::quote(&context, &cart.request())?)
}
