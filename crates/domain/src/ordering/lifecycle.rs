//! The order state machine. Each transition is a function that either returns the next state
//! or says why not, so an order cannot go from cancelled to preparing because nothing does that.

use serde::{Deserialize, Serialize};

/// How the diner gets the food.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    DineIn,
    Pickup,
    Delivery,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::DineIn => "dine_in",
            Channel::Pickup => "pickup",
            Channel::Delivery => "delivery",
        }
    }

    pub fn parse(text: &str) -> Option<Channel> {
        [Channel::DineIn, Channel::Pickup, Channel::Delivery]
            .into_iter()
            .find(|c| c.as_str() == text)
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Pay-first store, not paid yet: the kitchen does not see it.
    AwaitingPayment,
    /// Placed (and paid where the store is pay-first); waiting for the store to accept.
    Placed,
    Accepted,
    Preparing,
    Ready,
    Served,
    PickedUp,
    OutForDelivery,
    Completed,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 10] = [
        OrderStatus::AwaitingPayment,
        OrderStatus::Placed,
        OrderStatus::Accepted,
        OrderStatus::Preparing,
        OrderStatus::Ready,
        OrderStatus::Served,
        OrderStatus::PickedUp,
        OrderStatus::OutForDelivery,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::AwaitingPayment => "awaiting_payment",
            OrderStatus::Placed => "placed",
            OrderStatus::Accepted => "accepted",
            OrderStatus::Preparing => "preparing",
            OrderStatus::Ready => "ready",
            OrderStatus::Served => "served",
            OrderStatus::PickedUp => "picked_up",
            OrderStatus::OutForDelivery => "out_for_delivery",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            OrderStatus::AwaitingPayment => "待支付",
            OrderStatus::Placed => "已下单",
            OrderStatus::Accepted => "已接单",
            OrderStatus::Preparing => "制作中",
            OrderStatus::Ready => "请取餐",
            OrderStatus::Served => "已上菜",
            OrderStatus::PickedUp => "已取餐",
            OrderStatus::OutForDelivery => "配送中",
            OrderStatus::Completed => "已完成",
            OrderStatus::Cancelled => "已取消",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, OrderStatus::Completed | OrderStatus::Cancelled)
    }

    /// Before the store accepts, a diner may cancel at once; after, only by asking.
    pub fn diner_may_cancel_directly(self) -> bool {
        matches!(self, OrderStatus::AwaitingPayment | OrderStatus::Placed)
    }
}

/// Something that moves an order forward.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderAction {
    /// Payment settled (pay-first stores).
    Pay,
    Accept,
    StartPreparing,
    MarkReady,
    /// Dine-in: the food is on the table.
    Serve,
    /// Pickup: the diner collected it.
    HandOver,
    /// Delivery: the rider left.
    Dispatch,
    Complete,
    Cancel,
}

impl OrderAction {
    pub const ALL: [OrderAction; 9] = [
        OrderAction::Pay,
        OrderAction::Accept,
        OrderAction::StartPreparing,
        OrderAction::MarkReady,
        OrderAction::Serve,
        OrderAction::HandOver,
        OrderAction::Dispatch,
        OrderAction::Complete,
        OrderAction::Cancel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderAction::Pay => "pay",
            OrderAction::Accept => "accept",
            OrderAction::StartPreparing => "start_preparing",
            OrderAction::MarkReady => "mark_ready",
            OrderAction::Serve => "serve",
            OrderAction::HandOver => "hand_over",
            OrderAction::Dispatch => "dispatch",
            OrderAction::Complete => "complete",
            OrderAction::Cancel => "cancel",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an order that is {from:?} cannot {action:?} ({channel:?})")]
pub struct IllegalTransition {
    pub from: OrderStatus,
    pub action: OrderAction,
    pub channel: Channel,
}

/// The one place that says which action is allowed in which state, per channel.
pub fn next_status(
    from: OrderStatus,
    action: OrderAction,
    channel: Channel,
) -> Result<OrderStatus, IllegalTransition> {
    use OrderAction::*;
    use OrderStatus::*;
    let next = match (from, action, channel) {
        (AwaitingPayment, Pay, _) => Some(Placed),
        (Placed, Accept, _) => Some(Accepted),
        (Accepted, StartPreparing, _) => Some(Preparing),
        (Accepted | Preparing, MarkReady, _) => Some(Ready),
        (Ready, Serve, Channel::DineIn) => Some(Served),
        (Ready, HandOver, Channel::Pickup) => Some(PickedUp),
        (Ready, Dispatch, Channel::Delivery) => Some(OutForDelivery),
        (Served | PickedUp | OutForDelivery, Complete, _) => Some(Completed),
        (status, Cancel, _) if !status.is_final() => Some(Cancelled),
        _ => None,
    };
    next.ok_or(IllegalTransition {
        from,
        action,
        channel,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderAction::*;
    use OrderStatus::*;

    #[test]
    fn a_pickup_order_walks_the_happy_path() {
        let mut status = AwaitingPayment;
        for action in [Pay, Accept, StartPreparing, MarkReady, HandOver, Complete] {
            status = next_status(status, action, Channel::Pickup).unwrap();
        }
        assert_eq!(status, Completed);
    }

    #[test]
    fn finished_orders_stay_finished_and_channels_keep_their_last_step() {
        for action in [
            Pay,
            Accept,
            StartPreparing,
            MarkReady,
            Serve,
            HandOver,
            Dispatch,
            Complete,
            Cancel,
        ] {
            assert!(next_status(Cancelled, action, Channel::DineIn).is_err());
            assert!(next_status(Completed, action, Channel::DineIn).is_err());
        }
        assert!(next_status(Ready, Serve, Channel::Pickup).is_err());
        assert!(next_status(Ready, Dispatch, Channel::DineIn).is_err());
        assert!(
            next_status(Placed, MarkReady, Channel::DineIn).is_err(),
            "accept first"
        );
    }

    #[test]
    fn statuses_round_trip_through_text() {
        for status in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
        }
    }
}
