//! Pricing a cart: the authoritative breakdown the checkout shows and an order must confirm.

use crate::context::Context;
use crate::error::Result;
use crate::marketing::{Diner, OfferSet, offers_for};
use crate::menus::CachedMenu;
use diancan_domain::StoreId;
use diancan_domain::ordering::{Channel, LineRequest, PricingContext, Quote, QuoteRequest};
use diancan_domain::promotions::OfferRef;
use diancan_domain::store::GeoPoint;
use jiff::Timestamp;
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
    /// The promotions and coupons the diner picked; `None` lets the server choose the best
    /// combination (what the diner pays is always the server's sum).
    pub chosen: Option<Vec<OfferRef>>,
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

/// Prices `cart` at `store` from the current menu, with the promotions in force and the
/// diner's coupons. A dine-in cart's table code must be this store's.
pub async fn quote(ctx: &Context, store: StoreId, cart: &Cart, diner: Diner) -> Result<Quote> {
    if let (Channel::DineIn, Some(token)) = (cart.channel, &cart.table_token) {
        crate::tables::resolve_in(ctx, store, token).await?;
    }
    let menu = ctx.menus.get_current(ctx, store).await?;
    let now = ctx.clock.now();
    let offers = offers_for(ctx, &menu, diner, now).await?;
    price(&menu, cart, &offers, now)
}

/// The domain's one pricing function over a cached menu and the order's offers at `now`.
pub(crate) fn price(
    menu: &CachedMenu,
    cart: &Cart,
    offers: &OfferSet,
    now: Timestamp,
) -> Result<Quote> {
    price_with(menu, cart, offers, now, false)
}

/// `price`, optionally as if the store were open (the console's preview at another hour).
pub(crate) fn price_with(
    menu: &CachedMenu,
    cart: &Cart,
    offers: &OfferSet,
    now: Timestamp,
    as_if_open: bool,
) -> Result<Quote> {
    let rules = &menu.store.profile.rules;
    let context = PricingContext {
        menu: &menu.menu,
        store_open: menu.open_now || as_if_open,
        opens_at: menu.opens_at.clone(),
        packing_fee: rules.packing_fee,
        seat_fee_fen: rules.seat_fee_fen,
        store_location: menu.store.profile.location,
        delivery_zones: &rules.delivery_zones,
        discounting: Some(offers.discounting(menu, now, cart.chosen.as_deref())),
    };
    Ok(diancan_domain::ordering::quote(&context, &cart.request())?)
}
