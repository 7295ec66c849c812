//! An order as the restaurant knows it, and every decision about changing one: what status a new
//! order starts in, when it is due, whether it may be hurried or cancelled, and what each staff
//! action does to it. Storage maps rows into [`Order`]; use cases ask it what may happen next.

use super::{Channel, IllegalTransition, OrderAction, OrderStatus, Quote, next_status};
use crate::ids::*;
use crate::money::Money;
use crate::schedule::{BusinessDate, StoreTimeZone, TimeOfDay};
use crate::staff::{Permission, Role};
use crate::store::{PayMode, StoreRules};
use serde::Serialize;

/// The table an order was placed at, as it was called then, and which sitting (开台) it
/// belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderTable {
    pub table_id: TableId,
    pub session_id: TableSessionId,
    /// "A3"
    pub code: String,
    /// "大厅"
    pub area_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Order {
    pub id: OrderId,
    pub brand_id: BrandId,
    pub store_id: StoreId,
    pub channel: Channel,
    pub status: OrderStatus,
    /// Goes up by one with every change; callers send the version they saw.
    pub version: i64,
    pub table: Option<OrderTable>,
    /// 取餐号: per store and business day, from 1.
    pub pickup_number: i64,
    pub business_date: BusinessDate,
    /// 1 for a table's first order, 2 for the first 加菜, …
    pub round: i64,
    pub diners: Option<i64>,
    pub total: Money,
    /// The priced breakdown the diner confirmed: lines, fees, discounts.
    pub quote: Quote,
    /// The sealed contact (storage keeps it opaque; only the masked phone is readable).
    pub contact_sealed: Option<String>,
    pub note: Option<String>,
    pub ready_by_ms: Option<i64>,
    /// Pay-first orders: cancelled if not paid by then.
    pub pay_by_ms: Option<i64>,
    pub paid_at_ms: Option<i64>,
    pub cancel_requested: bool,
    pub last_hurry_ms: Option<i64>,
    pub customer_id: Option<CustomerId>,
    pub slot_start_ms: Option<i64>,
    pub placed_at_ms: i64,
    pub updated_at_ms: i64,
}

/// 催单 at most this often per order.
pub const HURRY_EVERY_MS: i64 = 2 * 60 * 1000;

impl Order {
    /// Orders the kitchen has (or is about to have) in hand can be hurried.
    pub fn can_hurry(&self) -> bool {
        status_can_hurry(self.status)
    }

    /// Whether the diner may still ask to cancel (at once, or by request after acceptance).
    pub fn diner_can_cancel(&self) -> bool {
        !self.status.is_final() && !self.cancel_requested
    }

    /// Money has been taken for this order (pay-first orders once 收款 or the gateway settled).
    pub fn is_paid(&self) -> bool {
        self.paid_at_ms.is_some()
    }

    /// Whether a diner may start paying it through a gateway now: a pay-first order still
    /// waiting for its money, before its deadline (after it, the timeout is closing it).
    pub fn awaits_online_payment(&self, now_ms: i64) -> bool {
        self.status == OrderStatus::AwaitingPayment
            && !self.is_paid()
            && self.pay_by_ms.is_none_or(|by| now_ms < by)
    }
}

/// The statuses in which 催单 makes sense (placed and not yet ready). Storage's guard for the
/// same rule is built from this list.
pub fn status_can_hurry(status: OrderStatus) -> bool {
    HURRYABLE.contains(&status)
}

pub const HURRYABLE: [OrderStatus; 3] = [
    OrderStatus::Placed,
    OrderStatus::Accepted,
    OrderStatus::Preparing,
];

/// How a new order starts: pay-first stores (and every pickup or delivery order) wait for
/// payment, with a deadline; pay-after-meal tables go straight to the kitchen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderStart {
    pub status: OrderStatus,
    pub pay_by_ms: Option<i64>,
}

pub fn order_start(rules: &StoreRules, channel: Channel, now_ms: i64) -> OrderStart {
    let pay_first = rules.pay_mode == PayMode::PayFirst || channel != Channel::DineIn;
    if pay_first {
        OrderStart {
            status: OrderStatus::AwaitingPayment,
            pay_by_ms: Some(now_ms + rules.unpaid_timeout_minutes as i64 * 60_000),
        }
    } else {
        OrderStart {
            status: OrderStatus::Placed,
            pay_by_ms: None,
        }
    }
}

/// The diner asked for a pickup time that is not possible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("pickup time must be within opening hours and at least {lead_minutes} minutes away")]
pub struct InvalidPickupTime {
    pub lead_minutes: u16,
}

/// When a pickup or delivery order should be ready: as soon as the kitchen can (`None` or
/// "asap"), or at a local time today that is open and at least the lead time away. Dine-in
/// orders have no ready-by time.
pub fn ready_by(
    rules: &StoreRules,
    channel: Channel,
    pickup_time: Option<&str>,
    now: jiff::Timestamp,
) -> Result<Option<i64>, InvalidPickupTime> {
    if channel == Channel::DineIn {
        return Ok(None);
    }
    let earliest = now.as_millisecond() + rules.slots.lead_minutes as i64 * 60_000;
    let Some(text) = pickup_time.filter(|t| *t != "asap") else {
        return Ok(Some(earliest));
    };
    let bad = InvalidPickupTime {
        lead_minutes: rules.slots.lead_minutes,
    };
    let time = TimeOfDay::parse(text).map_err(|_| bad)?;
    let zone: &StoreTimeZone = &rules.time_zone;
    let today = now.to_zoned_datetime(zone.zone().clone()).datetime().date();
    let local = today.at(
        (time.minutes() / 60) as i8,
        (time.minutes() % 60) as i8,
        0,
        0,
    );
    let at = local
        .to_zoned_datetime(zone.zone().clone())
        .map_err(|_| bad)?
        .timestamp()
        .as_millisecond();
    if at < earliest || !rules.hours.contains(local) {
        return Err(bad);
    }
    Ok(Some(at))
}

/// The slot a pickup or delivery order takes when the store limits orders per slot:
/// (slot start, capacity).
pub fn slot_claim(rules: &StoreRules, ready_by_ms: Option<i64>) -> Option<(i64, i64)> {
    let capacity = rules.slots.capacity_per_slot as i64;
    let width = rules.slots.slot_minutes.max(1) as i64 * 60_000;
    ready_by_ms
        .filter(|_| capacity > 0)
        .map(|at| (at - at.rem_euclid(width), capacity))
}

/// Who is changing an order, as the order's history records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Diner,
    Staff {
        id: StaffId,
        role: Role,
    },
    /// A worker acting on the store's rules (the unpaid-order timeout, a payment gateway).
    System(&'static str),
}

impl Actor {
    pub fn label(&self) -> String {
        match self {
            Actor::Diner => "diner".to_owned(),
            Actor::Staff { id, .. } => format!("staff:{id}"),
            Actor::System(what) => format!("system:{what}"),
        }
    }
}

/// Something staff (or the system) do to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderCommand {
    /// Move it along: 收款, 接单, 开始制作, 出餐, 上菜, 取餐, 配送, 完成, or cancel.
    Act(OrderAction),
    /// Turn down a diner's request to cancel an accepted order.
    DeclineCancel,
}

impl OrderCommand {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderCommand::Act(action) => action.as_str(),
            OrderCommand::DeclineCancel => "decline_cancel",
        }
    }

    pub fn parse(text: &str) -> Option<OrderCommand> {
        if text == "decline_cancel" {
            return Some(OrderCommand::DeclineCancel);
        }
        OrderAction::ALL
            .into_iter()
            .find(|a| a.as_str() == text)
            .map(OrderCommand::Act)
    }

    pub const NAMES: [&'static str; 10] = [
        "pay",
        "accept",
        "start_preparing",
        "mark_ready",
        "serve",
        "hand_over",
        "dispatch",
        "complete",
        "cancel",
        "decline_cancel",
    ];
}

/// The permission a command needs on this order. Cancelling is the one that depends on the
/// order: before acceptance and unpaid it is routine, afterwards it costs the store money.
/// A cancel that confirms a diner's request is a decision on that request.
pub fn permission_for(command: OrderCommand, order: &Order) -> Permission {
    use OrderAction::*;
    match command {
        OrderCommand::DeclineCancel => Permission::DecideCancelRequests,
        OrderCommand::Act(action) => match action {
            Pay => Permission::RecordPayments,
            Accept => Permission::AcceptOrders,
            StartPreparing | MarkReady => Permission::Cook,
            Serve => Permission::ServeTables,
            HandOver => Permission::HandOverOrders,
            Dispatch => Permission::DispatchDeliveries,
            Complete if order.channel == Channel::Delivery => Permission::CompleteDeliveries,
            Complete => Permission::CompleteOrders,
            Cancel if order.cancel_requested => Permission::DecideCancelRequests,
            Cancel if order.is_paid() || !order.status.diner_may_cancel_directly() => {
                Permission::CancelAcceptedOrders
            }
            Cancel => Permission::CancelNewOrders,
        },
    }
}

/// Why an order was not changed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OrderRefusal {
    /// The caller saw an older version: someone else changed the order meanwhile.
    #[error("the order changed since version {seen} (now {current})")]
    Stale { seen: i64, current: i64 },
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    #[error("the role may not do this")]
    Forbidden(Permission),
    /// Nothing to decide: no cancel request is pending.
    #[error("no cancel request is pending")]
    NoCancelRequest,
    #[error("the order is finished")]
    Finished,
    #[error("the order cannot be hurried now")]
    CannotHurry,
    #[error("hurried too recently")]
    HurriedTooSoon,
    /// The unpaid-order timeout found the order paid, cancelled or not yet due.
    #[error("the order is no longer waiting for payment past its deadline")]
    NotDue,
}

/// What a change does to an order, decided here and written by storage as one unit.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderChange {
    pub status: OrderStatus,
    pub cancel_requested: bool,
    pub paid_at_ms: Option<i64>,
    pub last_hurry_ms: Option<i64>,
    /// A status change to record in the order's history (action, actor).
    pub transition: Option<(OrderAction, String)>,
    /// The live event this change announces.
    pub event: OrderEventKind,
    /// A cancellation gives the stock and the slot back.
    pub releases_claims: bool,
    /// Why staff turned the order down, told to the diner and kept in the history.
    pub reason: Option<String>,
    /// The state its delivery is in after this change (`assigned`, `failed`, …), when the
    /// change is a delivery's step: pages show it without asking again.
    pub delivery_state: Option<&'static str>,
}

/// The kinds of event an order's live stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum OrderEventKind {
    Placed,
    Status,
    Hurry,
    CancelRequested,
    CancelDeclined,
    /// The order's sitting moved to another table (换台) or joined another (并台).
    TableChanged,
    /// Its delivery moved on without the order's status changing (骑手已接单, 配送失败).
    Delivery,
}

impl OrderEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderEventKind::Placed => "order.placed",
            OrderEventKind::Status => "order.status",
            OrderEventKind::Hurry => "order.hurry",
            OrderEventKind::CancelRequested => "order.cancel_requested",
            OrderEventKind::CancelDeclined => "order.cancel_declined",
            OrderEventKind::TableChanged => "order.table_changed",
            OrderEventKind::Delivery => "order.delivery",
        }
    }
}

impl Order {
    fn unchanged(&self, event: OrderEventKind) -> OrderChange {
        OrderChange {
            status: self.status,
            cancel_requested: self.cancel_requested,
            paid_at_ms: self.paid_at_ms,
            last_hurry_ms: self.last_hurry_ms,
            transition: None,
            event,
            releases_claims: false,
            reason: None,
            delivery_state: None,
        }
    }

    /// A step of this order's delivery that leaves its status alone: the order's version goes
    /// up and its stream says what the delivery is now (`note` is why a delivery failed).
    pub fn note_delivery(&self, state: &'static str, note: Option<&str>) -> OrderChange {
        let mut change = self.unchanged(OrderEventKind::Delivery);
        change.delivery_state = Some(state);
        change.reason = note.map(str::to_owned);
        change
    }

    /// A step of this order's delivery that moves the order along (the rider left: 配送中; the
    /// food arrived: 已完成), decided as the same action staff would take.
    pub fn delivery_transition(
        &self,
        action: OrderAction,
        actor: &Actor,
        state: &'static str,
        now_ms: i64,
    ) -> Result<OrderChange, OrderRefusal> {
        let mut change = self.decide(OrderCommand::Act(action), actor, None, now_ms)?;
        change.delivery_state = Some(state);
        Ok(change)
    }

    fn check_version(&self, seen: Option<i64>) -> Result<(), OrderRefusal> {
        match seen {
            Some(seen) if seen != self.version => Err(OrderRefusal::Stale {
                seen,
                current: self.version,
            }),
            _ => Ok(()),
        }
    }

    /// A staff member's (or the system's) command. `seen` is the version the caller acted on;
    /// `None` only for the system, which acts on whatever the order is now.
    pub fn decide(
        &self,
        command: OrderCommand,
        actor: &Actor,
        seen: Option<i64>,
        now_ms: i64,
    ) -> Result<OrderChange, OrderRefusal> {
        self.decide_with_reason(command, actor, seen, None, now_ms)
    }

    /// As [`Order::decide`], with the reason staff gave for turning the order down (拒单: "菜品售罄",
    /// "店铺太忙"). A reason belongs to a cancellation only; for any other command it is not written.
    pub fn decide_with_reason(
        &self,
        command: OrderCommand,
        actor: &Actor,
        seen: Option<i64>,
        reason: Option<&crate::text::Name>,
        now_ms: i64,
    ) -> Result<OrderChange, OrderRefusal> {
        let mut change = self.decide_command(command, actor, seen, now_ms)?;
        if change.status == OrderStatus::Cancelled && change.transition.is_some() {
            change.reason = reason.map(|r| r.as_str().to_owned());
        }
        Ok(change)
    }

    fn decide_command(
        &self,
        command: OrderCommand,
        actor: &Actor,
        seen: Option<i64>,
        now_ms: i64,
    ) -> Result<OrderChange, OrderRefusal> {
        self.check_version(seen)?;
        if let Actor::Staff { role, .. } = actor {
            let needed = permission_for(command, self);
            if !role.can(needed) {
                return Err(OrderRefusal::Forbidden(needed));
            }
        }
        match command {
            OrderCommand::DeclineCancel => {
                if !self.cancel_requested {
                    return Err(OrderRefusal::NoCancelRequest);
                }
                let mut change = self.unchanged(OrderEventKind::CancelDeclined);
                change.cancel_requested = false;
                Ok(change)
            }
            OrderCommand::Act(action) => self.transition(action, actor, now_ms),
        }
    }

    fn transition(
        &self,
        action: OrderAction,
        actor: &Actor,
        now_ms: i64,
    ) -> Result<OrderChange, OrderRefusal> {
        let next = next_status(self.status, action, self.channel)?;
        let mut change = self.unchanged(OrderEventKind::Status);
        change.status = next;
        change.transition = Some((action, actor.label()));
        if action == OrderAction::Pay {
            change.paid_at_ms = Some(now_ms);
        }
        if next == OrderStatus::Cancelled {
            change.cancel_requested = false;
            change.releases_claims = true;
        }
        Ok(change)
    }

    /// The diner's cancel: at once while the store has not accepted it, otherwise a request the
    /// store decides. Decided on the order as it is when the change is written, so an accept
    /// that lands first turns this into a request instead of being overridden.
    pub fn diner_cancel(&self, now_ms: i64) -> Result<OrderChange, OrderRefusal> {
        if self.status.is_final() {
            return Err(OrderRefusal::Finished);
        }
        if self.status.diner_may_cancel_directly() && !self.is_paid() {
            return self.transition(OrderAction::Cancel, &Actor::Diner, now_ms);
        }
        if self.cancel_requested {
            // Asking twice changes nothing; the store already sees the request.
            return Ok(self.unchanged(OrderEventKind::CancelRequested));
        }
        let mut change = self.unchanged(OrderEventKind::CancelRequested);
        change.cancel_requested = true;
        Ok(change)
    }

    /// The unpaid-order timeout: only a pay-first order still unpaid after its deadline is
    /// cancelled; one the diner paid a moment ago is left alone.
    pub fn expire_unpaid(&self, now_ms: i64) -> Result<OrderChange, OrderRefusal> {
        let due = self.status == OrderStatus::AwaitingPayment
            && !self.is_paid()
            && self.pay_by_ms.is_some_and(|by| by <= now_ms);
        if !due {
            return Err(OrderRefusal::NotDue);
        }
        self.transition(
            OrderAction::Cancel,
            &Actor::System("unpaid-timeout"),
            now_ms,
        )
    }

    /// 催单: while the kitchen has it, at most once every [`HURRY_EVERY_MS`].
    pub fn hurry(&self, now_ms: i64) -> Result<OrderChange, OrderRefusal> {
        if !self.can_hurry() {
            return Err(OrderRefusal::CannotHurry);
        }
        if self
            .last_hurry_ms
            .is_some_and(|last| now_ms - last < HURRY_EVERY_MS)
        {
            return Err(OrderRefusal::HurriedTooSoon);
        }
        let mut change = self.unchanged(OrderEventKind::Hurry);
        change.last_hurry_ms = Some(now_ms);
        Ok(change)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ordering::OrderAction::*;

    pub(crate) fn order(channel: Channel, status: OrderStatus) -> Order {
        Order {
            id: OrderId::new(),
            brand_id: BrandId::new(),
            store_id: StoreId::new(),
            channel,
            status,
            version: 3,
            table: None,
            pickup_number: 7,
            business_date: BusinessDate::from_date(jiff::civil::date(2026, 11, 25)),
            round: 1,
            diners: None,
            total: Money::from_fen(2800),
            quote: empty_quote(channel),
            contact_sealed: None,
            note: None,
            ready_by_ms: None,
            pay_by_ms: None,
            paid_at_ms: None,
            cancel_requested: false,
            last_hurry_ms: None,
            customer_id: None,
            slot_start_ms: None,
            placed_at_ms: 0,
            updated_at_ms: 0,
        }
    }

    fn empty_quote(channel: Channel) -> Quote {
        Quote {
            version: "v".into(),
            channel,
            lines: Vec::new(),
            item_count: 0,
            subtotal_fen: Money::ZERO,
            packing_fee_fen: Money::ZERO,
            seat_fee_fen: Money::ZERO,
            delivery_fee_fen: Money::ZERO,
            delivery_zone: None,
            discounts: Vec::new(),
            discount_total_fen: Money::ZERO,
            total_fen: Money::ZERO,
            gifts: Vec::new(),
            saving_fen: Money::ZERO,
            chosen: Vec::new(),
            best_proven: false,
            hint: None,
            not_applicable: Vec::new(),
        }
    }

    fn staff(role: Role) -> Actor {
        Actor::Staff {
            id: StaffId::new(),
            role,
        }
    }

    #[test]
    fn a_stale_version_is_refused_before_anything_else() {
        let placed = order(Channel::Pickup, OrderStatus::Placed);
        let refusal = placed
            .decide(OrderCommand::Act(Accept), &staff(Role::Owner), Some(2), 0)
            .unwrap_err();
        assert_eq!(
            refusal,
            OrderRefusal::Stale {
                seen: 2,
                current: 3
            }
        );
        assert!(
            placed
                .decide(OrderCommand::Act(Accept), &staff(Role::Owner), Some(3), 0)
                .is_ok()
        );
    }

    #[test]
    fn only_an_unpaid_pay_first_order_before_its_deadline_can_be_paid_online() {
        let mut due = order(Channel::Pickup, OrderStatus::AwaitingPayment);
        due.pay_by_ms = Some(1_000);
        assert!(due.awaits_online_payment(999));
        assert!(
            !due.awaits_online_payment(1_000),
            "the timeout is closing it"
        );
        let mut paid = due.clone();
        paid.paid_at_ms = Some(500);
        assert!(!paid.awaits_online_payment(600));
        let placed = order(Channel::DineIn, OrderStatus::Placed);
        assert!(
            !placed.awaits_online_payment(0),
            "pay-after tables pay by the bill"
        );
    }

    #[test]
    fn a_waiter_cannot_cancel_a_paid_order_but_a_manager_can() {
        let mut paid = order(Channel::Pickup, OrderStatus::Placed);
        paid.paid_at_ms = Some(1);
        let cancel = OrderCommand::Act(Cancel);
        assert_eq!(
            paid.decide(cancel, &staff(Role::Waiter), None, 0),
            Err(OrderRefusal::Forbidden(Permission::CancelAcceptedOrders))
        );
        let change = paid.decide(cancel, &staff(Role::Manager), None, 0).unwrap();
        assert_eq!(change.status, OrderStatus::Cancelled);
        assert!(change.releases_claims);

        let unpaid = order(Channel::DineIn, OrderStatus::Placed);
        assert!(unpaid.decide(cancel, &staff(Role::Waiter), None, 0).is_ok());
    }

    #[test]
    fn the_kitchen_cooks_but_takes_no_money_and_riders_only_deliver() {
        let due = order(Channel::Pickup, OrderStatus::AwaitingPayment);
        assert!(matches!(
            due.decide(OrderCommand::Act(Pay), &staff(Role::Kitchen), None, 0),
            Err(OrderRefusal::Forbidden(Permission::RecordPayments))
        ));
        let accepted = order(Channel::Pickup, OrderStatus::Accepted);
        assert!(
            accepted
                .decide(
                    OrderCommand::Act(StartPreparing),
                    &staff(Role::Kitchen),
                    None,
                    0
                )
                .is_ok()
        );
        let picked_up = order(Channel::Pickup, OrderStatus::PickedUp);
        assert!(
            picked_up
                .decide(OrderCommand::Act(Complete), &staff(Role::Rider), None, 0)
                .is_err()
        );
        let delivering = order(Channel::Delivery, OrderStatus::OutForDelivery);
        assert!(
            delivering
                .decide(OrderCommand::Act(Complete), &staff(Role::Rider), None, 0)
                .is_ok()
        );
        let ready = order(Channel::Delivery, OrderStatus::Ready);
        assert!(
            ready
                .decide(OrderCommand::Act(Dispatch), &staff(Role::Rider), None, 0)
                .is_ok()
        );
    }

    #[test]
    fn a_diner_cancels_at_once_before_acceptance_and_asks_after() {
        let placed = order(Channel::Pickup, OrderStatus::Placed);
        assert_eq!(
            placed.diner_cancel(5).unwrap().status,
            OrderStatus::Cancelled
        );
        let accepted = order(Channel::Pickup, OrderStatus::Accepted);
        let request = accepted.diner_cancel(5).unwrap();
        assert_eq!(request.status, OrderStatus::Accepted);
        assert!(request.cancel_requested);
        assert_eq!(request.event, OrderEventKind::CancelRequested);
        let mut paid = order(Channel::Pickup, OrderStatus::Placed);
        paid.paid_at_ms = Some(1);
        assert!(
            paid.diner_cancel(5).unwrap().cancel_requested,
            "money was taken: the store decides"
        );
        let done = order(Channel::Pickup, OrderStatus::Completed);
        assert_eq!(done.diner_cancel(5), Err(OrderRefusal::Finished));
    }

    #[test]
    fn declining_needs_a_pending_request() {
        let mut accepted = order(Channel::DineIn, OrderStatus::Accepted);
        let manager = staff(Role::Manager);
        assert_eq!(
            accepted.decide(OrderCommand::DeclineCancel, &manager, None, 0),
            Err(OrderRefusal::NoCancelRequest)
        );
        accepted.cancel_requested = true;
        let change = accepted
            .decide(OrderCommand::DeclineCancel, &manager, None, 0)
            .unwrap();
        assert!(!change.cancel_requested);
        assert_eq!(change.status, OrderStatus::Accepted);
        assert!(
            accepted
                .decide(OrderCommand::DeclineCancel, &staff(Role::Waiter), None, 0)
                .is_err()
        );
    }

    #[test]
    fn a_reason_is_kept_with_a_cancellation_only() {
        let reason = crate::text::Name::parse("菜品售罄").unwrap();
        let placed = order(Channel::Pickup, OrderStatus::Placed);
        let system = Actor::System("test");
        let cancel = placed
            .decide_with_reason(OrderCommand::Act(Cancel), &system, None, Some(&reason), 0)
            .unwrap();
        assert_eq!(cancel.reason.as_deref(), Some("菜品售罄"));
        let accept = placed
            .decide_with_reason(OrderCommand::Act(Accept), &system, None, Some(&reason), 0)
            .unwrap();
        assert_eq!(accept.reason, None, "an accept has nothing to explain");
    }

    #[test]
    fn hurrying_is_rate_limited_and_only_while_cooking() {
        let mut preparing = order(Channel::Pickup, OrderStatus::Preparing);
        let change = preparing.hurry(1_000_000).unwrap();
        assert_eq!(change.last_hurry_ms, Some(1_000_000));
        preparing.last_hurry_ms = Some(1_000_000);
        assert_eq!(
            preparing.hurry(1_000_000 + HURRY_EVERY_MS - 1),
            Err(OrderRefusal::HurriedTooSoon)
        );
        assert!(preparing.hurry(1_000_000 + HURRY_EVERY_MS).is_ok());
        let ready = order(Channel::Pickup, OrderStatus::Ready);
        assert_eq!(ready.hurry(0), Err(OrderRefusal::CannotHurry));
    }

    #[test]
    fn only_an_unpaid_order_past_its_deadline_expires() {
        let mut due = order(Channel::Pickup, OrderStatus::AwaitingPayment);
        due.pay_by_ms = Some(100);
        assert_eq!(due.expire_unpaid(99), Err(OrderRefusal::NotDue));
        assert_eq!(
            due.expire_unpaid(100).unwrap().status,
            OrderStatus::Cancelled
        );
        let paid = order(Channel::Pickup, OrderStatus::Placed);
        assert_eq!(paid.expire_unpaid(1_000), Err(OrderRefusal::NotDue));
    }

    #[test]
    fn commands_round_trip_through_text() {
        for name in OrderCommand::NAMES {
            assert_eq!(OrderCommand::parse(name).unwrap().as_str(), name);
        }
        assert_eq!(OrderCommand::parse("teleport"), None);
    }
}
