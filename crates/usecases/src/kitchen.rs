//! Kitchen tickets and the kitchen display: what cooks and expo do to a ticket (划菜 per item
//! or per ticket, 叫起 / 起菜, recall), each one use case, and what the screens read (a
//! station's board, today's bumped tickets, the all-day counts, expo, the pickup calls).
//! Tickets themselves are written by the order change that accepts the order (storage's kitchen
//! hook), announced on the store's kitchen stream (`kitchen:<id>`) and its channel
//! (`store:<id>`) that the boards wake on.

use crate::context::Context;
use crate::error::{Error, Result};
use crate::ordering::StaffCaller;
use diancan_domain::catalog::Station;
use diancan_domain::kitchen::*;
use diancan_domain::ordering::{Actor, Channel, Order, OrderStatus};
use diancan_domain::schedule::BusinessDate;
use diancan_domain::staff::Permission;
use diancan_domain::*;
use diancan_storage::Store;
use diancan_storage::kitchen::TicketError;

/// Applies one cook's or expo's command to a ticket: 划菜 an item (the last one out bumps the
/// ticket), 出餐 a whole ticket (a second bump is refused as `AlreadyBumped`), recall a bumped
/// ticket of the store's business day, 叫起 (hold dine-in items until the table asks) or 起菜
/// (fire held items). `seen` is the ticket version the screen showed.
pub async fn change_ticket(
    ctx: &Context,
    staff: &StaffCaller,
    store_id: StoreId,
    ticket: KitchenTicketId,
    command: TicketCommand,
    seen: i64,
) -> Result<ChangedTicket> {
    let (_, today) = kitchen_store(ctx, staff, store_id, Permission::Cook).await?;
    let now = ctx.clock.now();
    let by = Actor::Staff {
        id: staff.id,
        role: staff.role,
    }
    .label();
    let now_ms = now.as_millisecond();
    let decide = move |t: &KitchenTicket| t.decide(&command, &by, seen, today, now_ms);
    match ctx
        .db
        .change_ticket(staff.brand_id, store_id, ticket, decide, now_ms)
        .await
    {
        Ok(change) => {
            let target = target_of(
                &station_targets(ctx, staff.brand_id).await?,
                change.ticket.station_id,
            );
            Ok(ChangedTicket { change, target })
        }
        Err(TicketError::NotFound) => Err(Error::NotFound),
        Err(TicketError::Refused { refusal, ticket }) => {
            Err(Error::TicketRefused { refusal, ticket })
        }
        Err(TicketError::Storage(error)) => Err(error.into()),
    }
}

/// A ticket after a command, with its station's prep-time target to show it against.
#[derive(Debug, Clone)]
pub struct ChangedTicket {
    pub change: TicketChange,
    pub target: PrepTarget,
}

/// A store of the caller's where their role may do `permission`, and its business day now.
/// Another brand's store, or one the caller does not work in, does not exist for them.
pub(crate) async fn kitchen_store(
    ctx: &Context,
    staff: &StaffCaller,
    store_id: StoreId,
    permission: Permission,
) -> Result<(Store, BusinessDate)> {
    if !staff.access.allows(store_id) {
        return Err(Error::NotFound);
    }
    if !staff.role.can(permission) {
        return Err(Error::Forbidden(permission));
    }
    let store = ctx.db.store(store_id).await?;
    if store.brand_id != staff.brand_id {
        return Err(Error::NotFound);
    }
    let today = business_date(ctx, &store);
    Ok((store, today))
}

fn business_date(ctx: &Context, store: &Store) -> BusinessDate {
    let rules = &store.profile.rules;
    rules
        .time_zone
        .business_date(ctx.clock.now(), rules.business_day_starts_at)
}

/// A station with the prep-time target its tickets turn amber and red by.
#[derive(Debug, Clone)]
pub struct StationTarget {
    pub station: Station,
    pub target: PrepTarget,
}

/// What a station's screen (or expo, with no station) shows: the open tickets oldest first,
/// and the kitchen stream's version they were read at, to follow the stream from.
#[derive(Debug, Clone)]
pub struct Board {
    pub last_event_id: i64,
    pub business_date: BusinessDate,
    pub stations: Vec<StationTarget>,
    pub tickets: Vec<KitchenTicket>,
}

/// The target a ticket of `station` is measured against; a brand without stations uses the
/// default.
pub fn target_of(stations: &[StationTarget], station: Option<StationId>) -> PrepTarget {
    stations
        .iter()
        .find(|s| Some(s.station.id) == station)
        .map(|s| s.target)
        .unwrap_or_default()
}

/// The brand's stations in sort order, each with its prep-time target.
async fn station_targets(ctx: &Context, brand: BrandId) -> Result<Vec<StationTarget>> {
    let targets = ctx.db.station_prep_targets(brand).await?;
    let stations = ctx.db.stations(brand).await?;
    Ok(stations
        .into_iter()
        .map(|station| StationTarget {
            target: targets
                .iter()
                .find(|t| t.station_id == station.id)
                .map(|t| t.target)
                .unwrap_or_default(),
            station,
        })
        .collect())
}

/// Whether the caller may follow the store's kitchen live: checked before a stream opens, so
/// another brand's store answers 404 rather than a stream that never says anything.
pub async fn may_watch(ctx: &Context, staff: &StaffCaller, store_id: StoreId) -> Result<()> {
    kitchen_store(ctx, staff, store_id, Permission::ViewConsole).await?;
    Ok(())
}

/// The open tickets of a store, of one station or (`None`) all of them.
pub async fn board(
    ctx: &Context,
    staff: &StaffCaller,
    store_id: StoreId,
    station: Option<StationId>,
) -> Result<Board> {
    let (_, today) = kitchen_store(ctx, staff, store_id, Permission::ViewConsole).await?;
    // The version first: an event committed while the tickets are read is replayed, and the
    // screen keeps whichever copy of a ticket has the higher version.
    let last_event_id = ctx.db.kitchen_stream_version(store_id).await?;
    let tickets = ctx
        .db
        .open_tickets(staff.brand_id, store_id, station)
        .await?;
    Ok(Board {
        last_event_id,
        business_date: today,
        stations: station_targets(ctx, staff.brand_id).await?,
        tickets,
    })
}

/// Tickets bumped today, latest first: what a cook may recall.
pub async fn bumped_today(
    ctx: &Context,
    staff: &StaffCaller,
    store_id: StoreId,
    station: Option<StationId>,
) -> Result<Vec<KitchenTicket>> {
    let (_, today) = kitchen_store(ctx, staff, store_id, Permission::ViewConsole).await?;
    Ok(ctx
        .db
        .bumped_tickets(staff.brand_id, store_id, station, today)
        .await?)
}

/// The all-day counts of the store, or of one station.
pub async fn all_day(
    ctx: &Context,
    staff: &StaffCaller,
    store_id: StoreId,
    station: Option<StationId>,
) -> Result<AllDayCounts> {
    kitchen_store(ctx, staff, store_id, Permission::ViewConsole).await?;
    let counts = ctx.db.all_day_counts(staff.brand_id, store_id).await?;
    Ok(match station {
        Some(station) => counts.of_station(Some(station)),
        None => counts,
    })
}

/// One order on the expo screen: its tickets of every station and whether all are out.
#[derive(Debug, Clone)]
pub struct ExpoOrder {
    pub order: Order,
    pub tickets: Vec<KitchenTicket>,
    pub status: ExpoStatus,
}

#[derive(Debug, Clone)]
pub struct Expo {
    pub stations: Vec<StationTarget>,
    pub orders: Vec<ExpoOrder>,
}

/// Expo: every order the kitchen is still working on (accepted or preparing, with tickets),
/// oldest first, with all its stations' tickets. An order leaves expo when it is marked ready.
pub async fn expo(ctx: &Context, staff: &StaffCaller, store_id: StoreId) -> Result<Expo> {
    let (_, today) = kitchen_store(ctx, staff, store_id, Permission::ViewConsole).await?;
    let mut tickets = ctx.db.open_tickets(staff.brand_id, store_id, None).await?;
    tickets.extend(
        ctx.db
            .bumped_tickets(staff.brand_id, store_id, None, today)
            .await?,
    );
    let mut orders = ctx.db.store_orders(staff.brand_id, store_id, today).await?;
    orders.retain(|o| matches!(o.status, OrderStatus::Accepted | OrderStatus::Preparing));
    orders.sort_by_key(|o| (o.placed_at_ms, o.id));
    let orders = orders
        .into_iter()
        .filter_map(|order| {
            let mut own: Vec<KitchenTicket> = tickets
                .iter()
                .filter(|t| t.order_id == order.id)
                .cloned()
                .collect();
            if own.is_empty() {
                return None;
            }
            own.sort_by_key(|t| (t.created_at_ms, t.id));
            Some(ExpoOrder {
                status: expo_status(&own),
                tickets: own,
                order,
            })
        })
        .collect();
    Ok(Expo {
        stations: station_targets(ctx, staff.brand_id).await?,
        orders,
    })
}

/// The pickup numbers to call now (请 23 号取餐): today's pickup orders that are ready and
/// not yet handed over, in the order they were placed. Public: a number says nothing else.
pub async fn pickup_calls(ctx: &Context, store_id: StoreId) -> Result<Vec<i64>> {
    let store = ctx.db.store(store_id).await?;
    let today = business_date(ctx, &store);
    let mut ready: Vec<Order> = ctx
        .db
        .store_orders(store.brand_id, store_id, today)
        .await?
        .into_iter()
        .filter(|o| o.status == OrderStatus::Ready && o.channel == Channel::Pickup)
        .collect();
    ready.sort_by_key(|o| (o.placed_at_ms, o.id));
    Ok(ready.into_iter().map(|o| o.pickup_number).collect())
}
