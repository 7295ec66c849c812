//! The kitchen display's shapes: tickets with their prep-time clock, the station board, expo's
//! orders and the all-day counts. A ticket here has the same fields as the `ticket` in a kitchen
//! stream event, plus the clock, so a screen keeps one shape whichever way a ticket arrived.

use diancan_domain::catalog::Station;
use diancan_domain::kitchen::{AllDayCounts, ExpoStatus, KitchenTicket, PrepStatus, PrepTarget};
use diancan_domain::ordering::{Channel, OrderStatus};
use diancan_domain::schedule::BusinessDate;
use diancan_domain::{DishId, OrderId, StationId};
use diancan_usecases::kitchen::{Board, Expo, ExpoOrder, StationTarget, target_of};
use serde::Serialize;
use utoipa::ToSchema;

/// A ticket with its prep-time clock at `now_ms` of the answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketView {
    #[serde(flatten)]
    pub ticket: KitchenTicket,
    /// Since when its oldest item still to cook has been cooking; `null` when nothing is
    /// (all done, held or cancelled). Amber and red count from here, against the station's
    /// `prep`.
    pub cooking_since_ms: Option<i64>,
    pub elapsed_ms: Option<i64>,
    pub prep_status: Option<PrepStatus>,
}

impl TicketView {
    pub fn of(ticket: KitchenTicket, target: PrepTarget, now_ms: i64) -> TicketView {
        let cooking_since_ms = ticket.cooking_since_ms();
        TicketView {
            cooking_since_ms,
            elapsed_ms: cooking_since_ms.map(|since| now_ms - since),
            prep_status: ticket.prep_status(target, now_ms),
            ticket,
        }
    }
}

/// A station's prep-time target: its tickets turn amber, then red, after these many seconds.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrepView {
    pub target_secs: u32,
    pub amber_after_secs: u32,
    pub red_after_secs: u32,
}

impl From<PrepTarget> for PrepView {
    fn from(target: PrepTarget) -> PrepView {
        PrepView {
            target_secs: target.target_secs(),
            amber_after_secs: target.amber_after_secs(),
            red_after_secs: target.red_after_secs(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StationView {
    #[serde(flatten)]
    pub station: Station,
    pub prep: PrepView,
}

impl From<StationTarget> for StationView {
    fn from(s: StationTarget) -> StationView {
        StationView {
            station: s.station,
            prep: s.target.into(),
        }
    }
}

/// What a station's screen shows, and where to follow the kitchen stream from.
#[derive(Debug, Serialize, ToSchema)]
pub struct KitchenBoardView {
    /// Open `…/kitchen/events?after=` this: every change after these tickets were read.
    pub last_event_id: i64,
    /// The server's clock when this was read, so a screen measures elapsed time on its clock.
    pub now_ms: i64,
    pub business_date: BusinessDate,
    /// Every station of the brand, in sort order, with its prep-time target.
    pub stations: Vec<StationView>,
    /// Open and recalled tickets, oldest first (arrival order, left to right).
    pub tickets: Vec<TicketView>,
}

impl KitchenBoardView {
    pub fn of(board: Board, now_ms: i64) -> KitchenBoardView {
        let tickets = board
            .tickets
            .iter()
            .map(|t| TicketView::of(t.clone(), target_of(&board.stations, t.station_id), now_ms))
            .collect();
        KitchenBoardView {
            last_event_id: board.last_event_id,
            now_ms,
            business_date: board.business_date,
            stations: board.stations.into_iter().map(StationView::from).collect(),
            tickets,
        }
    }
}

/// One dish still open at one station (红烧牛肉面 ×7).
#[derive(Debug, Serialize, ToSchema)]
pub struct AllDayRow {
    pub station_id: Option<StationId>,
    pub dish_id: DishId,
    pub dish_name: String,
    /// To cook now.
    pub open: i64,
    /// 叫起: waiting for the table.
    pub held: i64,
}

pub fn all_day_rows(counts: &AllDayCounts) -> Vec<AllDayRow> {
    counts
        .iter()
        .map(|(key, count)| AllDayRow {
            station_id: key.station_id,
            dish_id: key.dish_id,
            dish_name: count.dish_name.clone(),
            open: count.open,
            held: count.held,
        })
        .collect()
}

/// An order on the expo screen: every station's ticket, and whether all are out.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExpoOrderView {
    pub order_id: OrderId,
    /// Send with `mark_ready` to the order's actions once `expo.ready`.
    pub order_version: i64,
    pub order_status: OrderStatus,
    pub channel: Channel,
    pub pickup_number: i64,
    pub table_code: Option<String>,
    pub round: i64,
    pub placed_at_ms: i64,
    pub expo: ExpoStatus,
    pub tickets: Vec<TicketView>,
}

/// Expo: every station's prep-time target and the orders still in the kitchen.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExpoView {
    pub now_ms: i64,
    pub stations: Vec<StationView>,
    /// Oldest first.
    pub orders: Vec<ExpoOrderView>,
}

impl ExpoView {
    pub fn of(expo: Expo, now_ms: i64) -> ExpoView {
        let orders = expo
            .orders
            .into_iter()
            .map(|o| ExpoOrderView::of(o, &expo.stations, now_ms))
            .collect();
        ExpoView {
            now_ms,
            stations: expo.stations.into_iter().map(StationView::from).collect(),
            orders,
        }
    }
}

impl ExpoOrderView {
    fn of(expo: ExpoOrder, stations: &[StationTarget], now_ms: i64) -> ExpoOrderView {
        let order = expo.order;
        ExpoOrderView {
            order_id: order.id,
            order_version: order.version,
            order_status: order.status,
            channel: order.channel,
            pickup_number: order.pickup_number,
            table_code: order.table.as_ref().map(|t| t.code.clone()),
            round: order.round,
            placed_at_ms: order.placed_at_ms,
            expo: expo.status,
            tickets: expo
                .tickets
                .into_iter()
                .map(|t| {
                    let target = target_of(stations, t.station_id);
                    TicketView::of(t, target, now_ms)
                })
                .collect(),
        }
    }
}

/// The pickup screen's list: the numbers to call now.
#[derive(Debug, Serialize, ToSchema)]
pub struct PickupCalls {
    /// Oldest first.
    pub calling: Vec<i64>,
}
