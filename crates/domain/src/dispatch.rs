//! Delivery dispatch (派单): a delivery order is carried by one of the store's own riders or by
//! a third-party courier. A delivery goes requested → assigned → picked up → delivered, or ends
//! failed or cancelled; each step says what it does to the order (picked up: 配送中, delivered:
//! 已完成), and a courier's report that is late, repeated or out of order never moves it back.

use crate::ids::*;
use crate::money::Money;
use crate::ordering::{Actor, Channel, Order, OrderAction, OrderStatus};
use crate::staff::{Permission, Role};
use serde::{Deserialize, Serialize};

/// Where a delivery is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Asked of a courier, which has not found a rider yet.
    Requested,
    /// A rider has it (ours at once, a courier's when it says so).
    Assigned,
    /// The rider left the store with the food.
    PickedUp,
    Delivered,
    /// The courier gave up (no rider, rider could not reach the diner before pickup).
    Failed,
    /// The store called it back.
    Cancelled,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 6] = [
        DeliveryState::Requested,
        DeliveryState::Assigned,
        DeliveryState::PickedUp,
        DeliveryState::Delivered,
        DeliveryState::Failed,
        DeliveryState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Requested => "requested",
            DeliveryState::Assigned => "assigned",
            DeliveryState::PickedUp => "picked_up",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
            DeliveryState::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<DeliveryState> {
        DeliveryState::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            DeliveryState::Requested => "等待骑手接单",
            DeliveryState::Assigned => "骑手已接单",
            DeliveryState::PickedUp => "配送中",
            DeliveryState::Delivered => "已送达",
            DeliveryState::Failed => "配送失败",
            DeliveryState::Cancelled => "已取消配送",
        }
    }

    /// An order has at most one active delivery; a failed or cancelled one makes room for the
    /// next.
    pub fn is_active(self) -> bool {
        !matches!(
            self,
            DeliveryState::Delivered | DeliveryState::Failed | DeliveryState::Cancelled
        )
    }

    /// How far along the happy path: a report never moves a delivery to a lower rank.
    fn rank(self) -> u8 {
        match self {
            DeliveryState::Requested => 0,
            DeliveryState::Assigned => 1,
            DeliveryState::PickedUp => 2,
            DeliveryState::Delivered | DeliveryState::Failed | DeliveryState::Cancelled => 3,
        }
    }
}

/// Who carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Courier {
    /// One of the store's riders (a staff member with the rider role).
    OwnRider { staff_id: StaffId },
    /// A third-party courier (`provider` is its name, e.g. `simulator`), which knows the
    /// delivery by `external_id`.
    Provider {
        provider: String,
        external_id: String,
    },
}

impl Courier {
    pub fn rider(&self) -> Option<StaffId> {
        match self {
            Courier::OwnRider { staff_id } => Some(*staff_id),
            Courier::Provider { .. } => None,
        }
    }
}

/// A provider's name or its id for a delivery: printable ASCII, at most this long.
pub const COURIER_TEXT_MAX: usize = 64;

/// Whether `text` may be a provider's name or external id (stored and shown as given).
pub fn valid_courier_text(text: &str) -> bool {
    !text.is_empty() && text.len() <= COURIER_TEXT_MAX && text.bytes().all(|b| b.is_ascii_graphic())
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    pub id: DeliveryId,
    pub order_id: OrderId,
    pub brand_id: BrandId,
    pub store_id: StoreId,
    pub courier: Courier,
    pub state: DeliveryState,
    /// What the courier charges the store (quoted before it was asked); zero for our riders.
    pub fee: Money,
    /// The courier's rider, as it reported them (our own rider is a staff member instead).
    pub rider_name: Option<String>,
    /// Why it failed or was called back.
    pub note: Option<String>,
    /// Goes up by one with every step.
    pub version: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// One step of a delivery's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryEvent {
    pub delivery_id: DeliveryId,
    pub version: i64,
    pub from_state: Option<DeliveryState>,
    pub to_state: DeliveryState,
    /// `staff:<id>`, `courier:<provider>`.
    pub actor: String,
    pub note: Option<String>,
    pub at_ms: i64,
}

/// Who moves a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryActor {
    Staff {
        id: StaffId,
        role: Role,
    },
    /// A courier's report about its own delivery.
    Courier {
        provider: String,
    },
}

impl DeliveryActor {
    pub fn label(&self) -> String {
        match self {
            DeliveryActor::Staff { id, .. } => format!("staff:{id}"),
            DeliveryActor::Courier { provider } => format!("courier:{provider}"),
        }
    }

    /// The same caller as the order's history names it. A courier moves the order as the
    /// system does (its step was authorised by the staff who asked for it).
    pub fn order_actor(&self) -> Actor {
        match self {
            DeliveryActor::Staff { id, role } => Actor::Staff {
                id: *id,
                role: *role,
            },
            DeliveryActor::Courier { .. } => Actor::System("courier"),
        }
    }
}

/// What happened to a delivery, as a courier reports it (or our rider taps it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryStep {
    /// A courier found a rider.
    Assigned {
        rider_name: Option<String>,
    },
    PickedUp,
    Delivered,
    Failed {
        reason: String,
    },
    Cancelled {
        reason: Option<String>,
    },
}

impl DeliveryStep {
    fn target(&self) -> DeliveryState {
        match self {
            DeliveryStep::Assigned { .. } => DeliveryState::Assigned,
            DeliveryStep::PickedUp => DeliveryState::PickedUp,
            DeliveryStep::Delivered => DeliveryState::Delivered,
            DeliveryStep::Failed { .. } => DeliveryState::Failed,
            DeliveryStep::Cancelled { .. } => DeliveryState::Cancelled,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryRefusal {
    #[error("only delivery orders are delivered")]
    NotADeliveryOrder,
    /// Accepted and not yet on its way: only then is there something to hand to a rider.
    #[error("an order that is {0:?} cannot be given to a courier")]
    OrderNotDispatchable(OrderStatus),
    /// The rider can leave only once the food is ready (出餐).
    #[error("the order is {0:?}, not ready to be picked up")]
    OrderNotReady(OrderStatus),
    #[error("the order already has an active delivery")]
    AlreadyAssigned,
    #[error("a delivery that is {from:?} cannot become {to:?}")]
    Illegal {
        from: DeliveryState,
        to: DeliveryState,
    },
    #[error("the role may not do this")]
    Forbidden(Permission),
    /// A rider acts on the deliveries given to them and on no other.
    #[error("the delivery is another rider's")]
    NotYourDelivery,
    /// A courier's deliveries move by its reports; staff can only call them back.
    #[error("the courier reports this delivery's steps")]
    CourierDrives,
    #[error("the staff member is not one of the store's riders")]
    NotARider,
}

/// What a step does: the delivery as it will be, and the order's actions it takes along (in
/// order: a courier that reports 送达 before 取货 takes both).
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryDecision {
    pub delivery: Delivery,
    pub event: DeliveryEvent,
    pub order_actions: Vec<OrderAction>,
}

/// Whether `order` may be given to a courier now: a delivery order the store accepted and that
/// has not left yet.
pub fn check_dispatchable(order: &Order) -> Result<(), DeliveryRefusal> {
    if order.channel != Channel::Delivery {
        return Err(DeliveryRefusal::NotADeliveryOrder);
    }
    match order.status {
        OrderStatus::Accepted | OrderStatus::Preparing | OrderStatus::Ready => Ok(()),
        status => Err(DeliveryRefusal::OrderNotDispatchable(status)),
    }
}

/// 派单: a new delivery of `order`, which has no active one. Our own rider has it at once; a
/// courier's starts as requested, with the fee it quoted.
pub fn assign(
    order: &Order,
    active: Option<&Delivery>,
    courier: Courier,
    fee: Money,
    actor: &DeliveryActor,
    now_ms: i64,
) -> Result<DeliveryDecision, DeliveryRefusal> {
    if let DeliveryActor::Staff { role, .. } = actor
        && !role.can(Permission::AssignDeliveries)
    {
        return Err(DeliveryRefusal::Forbidden(Permission::AssignDeliveries));
    }
    check_dispatchable(order)?;
    if active.is_some_and(|d| d.state.is_active()) {
        return Err(DeliveryRefusal::AlreadyAssigned);
    }
    let state = match courier {
        Courier::OwnRider { .. } => DeliveryState::Assigned,
        Courier::Provider { .. } => DeliveryState::Requested,
    };
    let fee = if courier.rider().is_some() {
        Money::ZERO
    } else {
        fee
    };
    let delivery = Delivery {
        id: DeliveryId::new(),
        order_id: order.id,
        brand_id: order.brand_id,
        store_id: order.store_id,
        courier,
        state,
        fee,
        rider_name: None,
        note: None,
        version: 1,
        created_at_ms: now_ms,
        updated_at_ms: now_ms,
    };
    let event = DeliveryEvent {
        delivery_id: delivery.id,
        version: 1,
        from_state: None,
        to_state: state,
        actor: actor.label(),
        note: None,
        at_ms: now_ms,
    };
    Ok(DeliveryDecision {
        delivery,
        event,
        order_actions: Vec::new(),
    })
}

/// Why a delivery ended when its order was cancelled.
pub const ORDER_CANCELLED_NOTE: &str = "订单已取消";

/// What a report changes: `None` when the delivery is already there or past it (a repeated or
/// late report), so applying the same report twice changes nothing.
pub type StepOutcome = Result<Option<DeliveryDecision>, DeliveryRefusal>;

impl Delivery {
    /// Moves the delivery by `step`, on `order` as it is now.
    pub fn step(
        &self,
        order: &Order,
        step: &DeliveryStep,
        actor: &DeliveryActor,
        now_ms: i64,
    ) -> StepOutcome {
        self.check_actor(step, actor)?;
        let to = step.target();
        let from = self.state;
        if from == to || (!from.is_active()) || to.rank() < from.rank() {
            // A courier repeats and reorders its reports: one about where the delivery has
            // been is news no longer. Staff are told, since they expected a change.
            return match actor {
                DeliveryActor::Courier { .. } => Ok(None),
                DeliveryActor::Staff { .. } => Err(DeliveryRefusal::Illegal { from, to }),
            };
        }
        let order_actions = match (from, to) {
            (_, DeliveryState::PickedUp) => vec![OrderAction::Dispatch],
            (DeliveryState::PickedUp, DeliveryState::Delivered) => vec![OrderAction::Complete],
            (_, DeliveryState::Delivered) => vec![OrderAction::Dispatch, OrderAction::Complete],
            // Once the food has left, failing or calling it back would strand the order
            // on its way: the rider finishes it.
            (DeliveryState::PickedUp, _) => {
                return match actor {
                    DeliveryActor::Courier { .. } => Ok(None),
                    DeliveryActor::Staff { .. } => Err(DeliveryRefusal::Illegal { from, to }),
                };
            }
            _ => Vec::new(),
        };
        // Staff may have moved the order on by hand (配送, 完成): the step then only records
        // what the order already says.
        let order_actions: Vec<OrderAction> = order_actions
            .into_iter()
            .filter(|action| match action {
                OrderAction::Dispatch => !matches!(
                    order.status,
                    OrderStatus::OutForDelivery | OrderStatus::Completed
                ),
                OrderAction::Complete => order.status != OrderStatus::Completed,
                _ => true,
            })
            .collect();
        if order_actions.first() == Some(&OrderAction::Dispatch)
            && order.status != OrderStatus::Ready
        {
            return Err(DeliveryRefusal::OrderNotReady(order.status));
        }
        let mut delivery = self.clone();
        delivery.state = to;
        delivery.version += 1;
        delivery.updated_at_ms = now_ms;
        let note = match step {
            DeliveryStep::Assigned { rider_name } => {
                if rider_name.is_some() {
                    delivery.rider_name.clone_from(rider_name);
                }
                None
            }
            DeliveryStep::Failed { reason } => Some(reason.clone()),
            DeliveryStep::Cancelled { reason } => reason.clone(),
            DeliveryStep::PickedUp | DeliveryStep::Delivered => None,
        };
        if note.is_some() {
            delivery.note.clone_from(&note);
        }
        let event = DeliveryEvent {
            delivery_id: self.id,
            version: delivery.version,
            from_state: Some(from),
            to_state: to,
            actor: actor.label(),
            note,
            at_ms: now_ms,
        };
        Ok(Some(DeliveryDecision {
            delivery,
            event,
            order_actions,
        }))
    }

    /// The order was cancelled: an active delivery ends with it, wherever it was (a rider out
    /// on the road brings the food back). `None` for a delivery that already ended.
    pub fn end_with_cancelled_order(&self, now_ms: i64) -> Option<DeliveryDecision> {
        if !self.state.is_active() {
            return None;
        }
        let note = Some(ORDER_CANCELLED_NOTE.to_owned());
        let mut delivery = self.clone();
        delivery.state = DeliveryState::Cancelled;
        delivery.version += 1;
        delivery.updated_at_ms = now_ms;
        delivery.note.clone_from(&note);
        let event = DeliveryEvent {
            delivery_id: self.id,
            version: delivery.version,
            from_state: Some(self.state),
            to_state: DeliveryState::Cancelled,
            actor: "system:order-cancelled".to_owned(),
            note,
            at_ms: now_ms,
        };
        Some(DeliveryDecision {
            delivery,
            event,
            order_actions: Vec::new(),
        })
    }

    /// Staff may call any delivery back (with 派单's permission), and move our own rider's
    /// steps: the rider themself, or a manager on their behalf. A courier reports on its own
    /// deliveries only.
    fn check_actor(
        &self,
        step: &DeliveryStep,
        actor: &DeliveryActor,
    ) -> Result<(), DeliveryRefusal> {
        match actor {
            DeliveryActor::Courier { provider } => match &self.courier {
                Courier::Provider { provider: own, .. } if own == provider => Ok(()),
                _ => Err(DeliveryRefusal::CourierDrives),
            },
            DeliveryActor::Staff { id, role } => {
                let dispatcher = role.can(Permission::AssignDeliveries);
                match (step, &self.courier) {
                    (DeliveryStep::Cancelled { .. }, _) if dispatcher => Ok(()),
                    (DeliveryStep::Cancelled { .. }, _) => {
                        Err(DeliveryRefusal::Forbidden(Permission::AssignDeliveries))
                    }
                    (
                        DeliveryStep::PickedUp | DeliveryStep::Delivered,
                        Courier::OwnRider { staff_id },
                    ) => {
                        let needed = match step {
                            DeliveryStep::PickedUp => Permission::DispatchDeliveries,
                            _ => Permission::CompleteDeliveries,
                        };
                        if !role.can(needed) {
                            Err(DeliveryRefusal::Forbidden(needed))
                        } else if staff_id == id || dispatcher {
                            Ok(())
                        } else {
                            Err(DeliveryRefusal::NotYourDelivery)
                        }
                    }
                    _ => Err(DeliveryRefusal::CourierDrives),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ordering::order_for_tests;

    fn rider() -> (StaffId, DeliveryActor) {
        let id = StaffId::new();
        (
            id,
            DeliveryActor::Staff {
                id,
                role: Role::Rider,
            },
        )
    }

    fn cashier() -> DeliveryActor {
        DeliveryActor::Staff {
            id: StaffId::new(),
            role: Role::Cashier,
        }
    }

    fn courier() -> DeliveryActor {
        DeliveryActor::Courier {
            provider: "simulator".into(),
        }
    }

    fn by_courier() -> Courier {
        Courier::Provider {
            provider: "simulator".into(),
            external_id: "SIM-1".into(),
        }
    }

    fn applied(
        delivery: &Delivery,
        order: &Order,
        step: DeliveryStep,
        actor: &DeliveryActor,
    ) -> DeliveryDecision {
        delivery
            .step(order, &step, actor, 10)
            .unwrap()
            .expect("a change")
    }

    #[test]
    fn our_rider_is_assigned_at_once_and_walks_the_order_to_completed() {
        let order = order_for_tests(Channel::Delivery, OrderStatus::Ready);
        let (rider_id, rider) = rider();
        let made = assign(
            &order,
            None,
            Courier::OwnRider { staff_id: rider_id },
            Money::from_fen(500),
            &cashier(),
            1,
        )
        .unwrap();
        assert_eq!(made.delivery.state, DeliveryState::Assigned);
        assert_eq!(
            made.delivery.fee,
            Money::ZERO,
            "our own rider costs no courier fee"
        );
        let picked = applied(&made.delivery, &order, DeliveryStep::PickedUp, &rider);
        assert_eq!(picked.order_actions, vec![OrderAction::Dispatch]);
        let out = order_for_tests(Channel::Delivery, OrderStatus::OutForDelivery);
        let done = applied(&picked.delivery, &out, DeliveryStep::Delivered, &rider);
        assert_eq!(done.order_actions, vec![OrderAction::Complete]);
        assert_eq!(done.delivery.state, DeliveryState::Delivered);
        assert_eq!(done.delivery.version, 3);
        assert_eq!(done.event.from_state, Some(DeliveryState::PickedUp));
    }

    #[test]
    fn only_a_delivery_order_the_store_accepted_can_be_given_out_and_only_once() {
        let actor = cashier();
        let courier = || by_courier();
        for status in [
            OrderStatus::Placed,
            OrderStatus::AwaitingPayment,
            OrderStatus::OutForDelivery,
            OrderStatus::Completed,
            OrderStatus::Cancelled,
        ] {
            let order = order_for_tests(Channel::Delivery, status);
            assert_eq!(
                assign(&order, None, courier(), Money::ZERO, &actor, 1).unwrap_err(),
                DeliveryRefusal::OrderNotDispatchable(status)
            );
        }
        let pickup = order_for_tests(Channel::Pickup, OrderStatus::Ready);
        assert_eq!(
            assign(&pickup, None, courier(), Money::ZERO, &actor, 1).unwrap_err(),
            DeliveryRefusal::NotADeliveryOrder
        );
        let order = order_for_tests(Channel::Delivery, OrderStatus::Preparing);
        let first = assign(&order, None, courier(), Money::from_fen(600), &actor, 1).unwrap();
        assert_eq!(first.delivery.state, DeliveryState::Requested);
        assert_eq!(first.delivery.fee, Money::from_fen(600));
        assert_eq!(
            assign(
                &order,
                Some(&first.delivery),
                courier(),
                Money::ZERO,
                &actor,
                1
            )
            .unwrap_err(),
            DeliveryRefusal::AlreadyAssigned
        );
        let mut failed = first.delivery.clone();
        failed.state = DeliveryState::Failed;
        assert!(
            assign(&order, Some(&failed), courier(), Money::ZERO, &actor, 1).is_ok(),
            "a failed delivery makes room"
        );
        let (_, rider) = rider();
        assert_eq!(
            assign(&order, None, courier(), Money::ZERO, &rider, 1).unwrap_err(),
            DeliveryRefusal::Forbidden(Permission::AssignDeliveries)
        );
    }

    #[test]
    fn a_rider_moves_only_their_own_delivery_and_never_a_couriers() {
        let order = order_for_tests(Channel::Delivery, OrderStatus::Ready);
        let (mine, _) = rider();
        let (_, someone_else) = rider();
        let ours = assign(
            &order,
            None,
            Courier::OwnRider { staff_id: mine },
            Money::ZERO,
            &cashier(),
            1,
        )
        .unwrap()
        .delivery;
        assert_eq!(
            ours.step(&order, &DeliveryStep::PickedUp, &someone_else, 2)
                .unwrap_err(),
            DeliveryRefusal::NotYourDelivery
        );
        assert!(
            ours.step(&order, &DeliveryStep::PickedUp, &cashier(), 2)
                .is_ok(),
            "a dispatcher may tap for the rider"
        );
        assert_eq!(
            ours.step(
                &order,
                &DeliveryStep::Cancelled { reason: None },
                &someone_else,
                2
            )
            .unwrap_err(),
            DeliveryRefusal::Forbidden(Permission::AssignDeliveries)
        );
        let waiter = DeliveryActor::Staff {
            id: mine,
            role: Role::Waiter,
        };
        assert_eq!(
            ours.step(&order, &DeliveryStep::PickedUp, &waiter, 2)
                .unwrap_err(),
            DeliveryRefusal::Forbidden(Permission::DispatchDeliveries)
        );
        let theirs = assign(&order, None, by_courier(), Money::ZERO, &cashier(), 1)
            .unwrap()
            .delivery;
        assert_eq!(
            theirs
                .step(&order, &DeliveryStep::PickedUp, &cashier(), 2)
                .unwrap_err(),
            DeliveryRefusal::CourierDrives
        );
        let other_courier = DeliveryActor::Courier {
            provider: "other".into(),
        };
        assert_eq!(
            theirs
                .step(&order, &DeliveryStep::PickedUp, &other_courier, 2)
                .unwrap_err(),
            DeliveryRefusal::CourierDrives
        );
        assert_eq!(
            ours.step(&order, &DeliveryStep::PickedUp, &courier(), 2)
                .unwrap_err(),
            DeliveryRefusal::CourierDrives
        );
    }

    #[test]
    fn courier_reports_apply_once_and_never_move_back() {
        let ready = order_for_tests(Channel::Delivery, OrderStatus::Ready);
        let out = order_for_tests(Channel::Delivery, OrderStatus::OutForDelivery);
        let done = order_for_tests(Channel::Delivery, OrderStatus::Completed);
        let requested = assign(&ready, None, by_courier(), Money::ZERO, &cashier(), 1)
            .unwrap()
            .delivery;
        let assigned = applied(
            &requested,
            &ready,
            DeliveryStep::Assigned {
                rider_name: Some("王师傅".into()),
            },
            &courier(),
        )
        .delivery;
        assert_eq!(assigned.rider_name.as_deref(), Some("王师傅"));
        assert_eq!(
            assigned.step(
                &ready,
                &DeliveryStep::Assigned { rider_name: None },
                &courier(),
                3
            ),
            Ok(None),
            "repeated"
        );
        let picked = applied(&assigned, &ready, DeliveryStep::PickedUp, &courier()).delivery;
        assert_eq!(
            picked.step(
                &out,
                &DeliveryStep::Assigned { rider_name: None },
                &courier(),
                3
            ),
            Ok(None),
            "late"
        );
        assert_eq!(
            picked.step(
                &out,
                &DeliveryStep::Failed { reason: "x".into() },
                &courier(),
                3
            ),
            Ok(None),
            "the food has left"
        );
        let delivered = applied(&picked, &out, DeliveryStep::Delivered, &courier()).delivery;
        for step in [
            DeliveryStep::Assigned { rider_name: None },
            DeliveryStep::PickedUp,
            DeliveryStep::Delivered,
            DeliveryStep::Failed { reason: "x".into() },
        ] {
            assert_eq!(
                delivered.step(&done, &step, &courier(), 4),
                Ok(None),
                "{step:?} after delivered"
            );
        }
        // Delivered straight from requested takes the order out and completes it.
        let jump = applied(&requested, &ready, DeliveryStep::Delivered, &courier());
        assert_eq!(
            jump.order_actions,
            vec![OrderAction::Dispatch, OrderAction::Complete]
        );
    }

    #[test]
    fn pickup_waits_for_the_food_and_failure_leaves_the_order_alone() {
        let preparing = order_for_tests(Channel::Delivery, OrderStatus::Preparing);
        let requested = assign(&preparing, None, by_courier(), Money::ZERO, &cashier(), 1)
            .unwrap()
            .delivery;
        assert_eq!(
            requested
                .step(&preparing, &DeliveryStep::PickedUp, &courier(), 2)
                .unwrap_err(),
            DeliveryRefusal::OrderNotReady(OrderStatus::Preparing)
        );
        let failed = applied(
            &requested,
            &preparing,
            DeliveryStep::Failed {
                reason: "附近暂无骑手".into(),
            },
            &courier(),
        );
        assert!(failed.order_actions.is_empty());
        assert_eq!(failed.delivery.note.as_deref(), Some("附近暂无骑手"));
        assert!(!failed.delivery.state.is_active());
    }

    #[test]
    fn a_step_staff_already_took_by_hand_is_only_recorded() {
        let out = order_for_tests(Channel::Delivery, OrderStatus::OutForDelivery);
        let (rider_id, rider) = rider();
        let ready = order_for_tests(Channel::Delivery, OrderStatus::Ready);
        let ours = assign(
            &ready,
            None,
            Courier::OwnRider { staff_id: rider_id },
            Money::ZERO,
            &cashier(),
            1,
        )
        .unwrap()
        .delivery;
        let picked = applied(&ours, &out, DeliveryStep::PickedUp, &rider);
        assert!(picked.order_actions.is_empty(), "the order is out already");
        let done = order_for_tests(Channel::Delivery, OrderStatus::Completed);
        let delivered = applied(&picked.delivery, &done, DeliveryStep::Delivered, &rider);
        assert!(delivered.order_actions.is_empty());
        assert_eq!(delivered.delivery.state, DeliveryState::Delivered);
    }

    #[test]
    fn a_cancelled_order_ends_its_delivery_wherever_it_was() {
        let ready = order_for_tests(Channel::Delivery, OrderStatus::Ready);
        let (rider_id, rider) = rider();
        let ours = assign(
            &ready,
            None,
            Courier::OwnRider { staff_id: rider_id },
            Money::ZERO,
            &cashier(),
            1,
        )
        .unwrap()
        .delivery;
        let out = applied(&ours, &ready, DeliveryStep::PickedUp, &rider).delivery;
        let ended = out.end_with_cancelled_order(9).unwrap();
        assert_eq!(ended.delivery.state, DeliveryState::Cancelled);
        assert!(ended.order_actions.is_empty());
        assert_eq!(ended.event.from_state, Some(DeliveryState::PickedUp));
        assert_eq!(ended.delivery.end_with_cancelled_order(10), None, "once");
    }

    #[test]
    fn states_round_trip_through_text() {
        for state in DeliveryState::ALL {
            assert_eq!(DeliveryState::parse(state.as_str()), Some(state));
        }
        assert!(valid_courier_text("SIM-42"));
        assert!(!valid_courier_text("有 空格"));
        assert!(!valid_courier_text(""));
    }
}
