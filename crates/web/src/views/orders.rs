//! An order as the diner and the console see it.

use diancan_domain::ordering::{Channel, Order, OrderStatus, Quote};
use diancan_domain::{OrderId, StoreId, TableSessionId};
use serde::Serialize;
use utoipa::ToSchema;

/// An order as the diner (and the console) sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    pub id: OrderId,
    pub store_id: StoreId,
    pub channel: Channel,
    pub status: OrderStatus,
    pub status_label: String,
    /// Send it back with a staff action: a change made meanwhile makes the action a 409.
    pub version: i64,
    pub pickup_number: i64,
    pub table_code: Option<String>,
    pub area_name: Option<String>,
    /// The sitting (开台) a dine-in order belongs to: its rounds share one bill.
    pub table_session_id: Option<TableSessionId>,
    /// 1 for the first order at a table, 2 for the first 加菜, …
    pub round: i64,
    pub diners: Option<i64>,
    pub quote: Quote,
    pub note: Option<String>,
    pub placed_at_ms: i64,
    pub ready_by_ms: Option<i64>,
    pub pay_by_ms: Option<i64>,
    pub paid_at_ms: Option<i64>,
    pub cancel_requested: bool,
    /// When the diner last asked the kitchen to hurry (催单).
    pub last_hurry_ms: Option<i64>,
    /// Why the store turned the order down, when it did and said (on a single order's read).
    pub cancel_reason: Option<String>,
    pub can_cancel: bool,
    pub can_hurry: bool,
}

impl From<Order> for OrderView {
    fn from(order: Order) -> OrderView {
        OrderView {
            id: order.id,
            store_id: order.store_id,
            channel: order.channel,
            status: order.status,
            status_label: order.status.label_zh().to_owned(),
            version: order.version,
            pickup_number: order.pickup_number,
            table_code: order.table.as_ref().map(|t| t.code.clone()),
            area_name: order.table.as_ref().map(|t| t.area_name.clone()),
            table_session_id: order.table.as_ref().map(|t| t.session_id),
            round: order.round,
            diners: order.diners,
            can_cancel: order.diner_can_cancel(),
            can_hurry: order.can_hurry(),
            quote: order.quote,
            note: order.note,
            placed_at_ms: order.placed_at_ms,
            ready_by_ms: order.ready_by_ms,
            pay_by_ms: order.pay_by_ms,
            paid_at_ms: order.paid_at_ms,
            cancel_requested: order.cancel_requested,
            last_hurry_ms: order.last_hurry_ms,
            cancel_reason: None,
        }
    }
}

impl OrderView {
    /// The view with the reason its cancellation gave, from the order's history.
    pub fn with_cancel_reason(
        mut self,
        history: &[diancan_storage::ordering::OrderTransition],
    ) -> Self {
        self.cancel_reason = history
            .iter()
            .rev()
            .find(|step| step.to_status == OrderStatus::Cancelled.as_str())
            .and_then(|step| step.reason.clone());
        self
    }
}

/// The answer to a placement: the order and, for a guest, its access secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlacedOrderView {
    #[serde(flatten)]
    pub order: OrderView,
    /// A guest's key to this order: send it as `X-Order-Secret` to read, follow (`?secret=` on
    /// the event stream), hurry or cancel it. Only its hash is kept, so it is never shown again;
    /// absent for a signed-in diner, whose session is the key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_secret: Option<String>,
}

/// A new access secret for an order.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderSecretView {
    pub access_secret: String,
}

/// A diner's order history and what they have spent.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderHistory {
    pub orders: Vec<OrderView>,
    /// Sum of the totals of orders that were not cancelled.
    pub spent_fen: i64,
}

impl OrderHistory {
    pub fn of(orders: Vec<Order>) -> OrderHistory {
        let spent_fen = orders
            .iter()
            .filter(|o| o.status != OrderStatus::Cancelled)
            .map(|o| o.total.fen())
            .sum();
        OrderHistory {
            orders: orders.into_iter().map(OrderView::from).collect(),
            spent_fen,
        }
    }
}
