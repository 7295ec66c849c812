//! Delivery dispatch (派单): staff give a ready delivery order to one of the store's riders or to
//! a courier; the rider taps 取货 and 送达 on their phone; a courier's signed reports arrive at
//! our webhook; a failed courier puts the order back on the board for the next one. Each step is
//! one call to the storage's `move_delivery`, which decides on the locked order and delivery and
//! writes the step with the order's change and its events (board, diner's page) together.

use crate::context::Context;
use crate::error::{Error, Result};
use crate::ordering::StaffCaller;
use diancan_domain::dispatch::{self, *};
use diancan_domain::staff::{Permission, Role};
use diancan_domain::*;
use diancan_integrations::couriers::{CourierError, CourierProvider, DeliveryAsk};
use diancan_storage::dispatch::{
    DeliveryError, DeliveryKey, DeliveryMoved, DeliveryRecord, DeliveryRequest, PlanDelivery,
};
use std::sync::Arc;

/// The courier providers this server may ask (none until configured; the simulator in demo).
#[derive(Clone, Default)]
pub struct Couriers {
    providers: Vec<Arc<dyn CourierProvider>>,
}

impl Couriers {
    pub fn new(providers: Vec<Arc<dyn CourierProvider>>) -> Couriers {
        Couriers { providers }
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn CourierProvider>> {
        self.providers.iter().find(|p| p.name() == name)
    }

    /// (name, 中文 name) of each, for the console's 派单 choice.
    pub fn names(&self) -> Vec<(&'static str, &'static str)> {
        self.providers
            .iter()
            .map(|p| (p.name(), p.label_zh()))
            .collect()
    }
}

/// Whom 派单 gives the order to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DispatchTo {
    OwnRider(StaffId),
    /// A configured courier provider, by name.
    Courier(String),
}

/// What a step did, for the caller to show.
#[derive(Debug)]
pub struct Moved {
    pub delivery: Delivery,
    pub order: diancan_domain::ordering::Order,
    /// False when a courier's report was already applied (nothing changed).
    pub changed: bool,
}

fn staff_actor(staff: &StaffCaller) -> DeliveryActor {
    DeliveryActor::Staff {
        id: staff.id,
        role: staff.role,
    }
}

fn from_storage(error: DeliveryError) -> Error {
    match error {
        DeliveryError::NotFound => Error::NotFound,
        DeliveryError::Refused(DeliveryRefusal::Forbidden(permission)) => {
            Error::Forbidden(permission)
        }
        DeliveryError::Refused(refusal) => Error::Delivery(refusal),
        DeliveryError::OrderRefused { refusal, order } => Error::Refused { refusal, order },
        DeliveryError::Storage(error) => error.into(),
    }
}

fn moved(outcome: DeliveryMoved) -> Result<Moved> {
    let delivery = outcome.delivery.ok_or(Error::NotFound)?;
    Ok(Moved {
        delivery,
        order: outcome.order,
        changed: outcome.changed,
    })
}

async fn run(ctx: &Context, request: DeliveryRequest) -> Result<Moved> {
    ctx.db
        .move_delivery(request)
        .await
        .map_err(from_storage)
        .and_then(moved)
}

fn require(staff: &StaffCaller, store: StoreId, permission: Permission) -> Result<()> {
    if !staff.access.allows(store) {
        return Err(Error::NotFound);
    }
    if !staff.role.can(permission) {
        return Err(Error::Forbidden(permission));
    }
    Ok(())
}

/// 派单: gives `order_id` to one of the store's riders, or asks courier `to` for a rider at the
/// price it quotes. Two staff doing this at once leave one delivery; the other is told the
/// order already has one. A courier asked for an order that then could not take it is called
/// back at once.
pub async fn assign(
    ctx: &Context,
    staff: &StaffCaller,
    store: StoreId,
    order_id: OrderId,
    to: DispatchTo,
) -> Result<Moved> {
    require(staff, store, Permission::AssignDeliveries)?;
    let scope = (staff.brand_id, store);
    let order = ctx.db.order(order_id).await?;
    if (order.brand_id, order.store_id) != scope {
        return Err(Error::NotFound);
    }
    dispatch::check_dispatchable(&order).map_err(Error::Delivery)?;
    let (courier, fee, provider) = match to {
        DispatchTo::OwnRider(rider) => {
            let riders = store_riders(ctx, staff.brand_id, store).await?;
            if !riders.iter().any(|r| r.id == rider) {
                return Err(Error::Delivery(DeliveryRefusal::NotARider));
            }
            (Courier::OwnRider { staff_id: rider }, Money::ZERO, None)
        }
        DispatchTo::Courier(name) => {
            // A name that is none of the configured couriers is bad input, not an outage.
            let Some(provider) = ctx.couriers.get(&name).cloned() else {
                let mut errors = diancan_domain::validation::FieldErrors::new();
                let allowed = ctx
                    .couriers
                    .names()
                    .iter()
                    .map(|(n, _)| n.to_string())
                    .collect();
                errors.add(
                    "courier",
                    diancan_domain::validation::Problem::InvalidChoice { allowed },
                );
                return Err(Error::Invalid(errors));
            };
            let ask = delivery_ask(ctx, &order).await?;
            let quote = provider.quote(&ask).await.map_err(Error::Courier)?;
            let external_id = provider.create(&ask, quote).await.map_err(Error::Courier)?;
            if !valid_courier_text(&external_id) {
                return Err(Error::Courier(CourierError::Unavailable(
                    "the courier answered an unusable id".into(),
                )));
            }
            let courier = Courier::Provider {
                provider: provider.name().to_owned(),
                external_id: external_id.clone(),
            };
            (courier, quote.fee, Some((provider, external_id)))
        }
    };
    let actor = staff_actor(staff);
    let now = ctx.clock.now_ms();
    let plan_actor = actor.clone();
    let plan: PlanDelivery = Box::new(move |order, active| {
        dispatch::assign(order, active, courier, fee, &plan_actor, now).map(Some)
    });
    let request = DeliveryRequest {
        key: DeliveryKey::ActiveOf(order_id),
        scope: Some(scope),
        actor: actor.order_actor(),
        plan,
        now_ms: now,
    };
    let outcome = run(ctx, request).await;
    if outcome.is_err()
        && let Some((provider, external_id)) = provider
        && let Err(error) = provider.cancel(&external_id).await
    {
        tracing::warn!(%error, order = %order_id, "calling back an unneeded courier failed");
    }
    outcome
}

/// What the courier is told: the diner's address and phone are opened for this call only.
async fn delivery_ask(
    ctx: &Context,
    order: &diancan_domain::ordering::Order,
) -> Result<DeliveryAsk> {
    let store = ctx.db.store(order.store_id).await?;
    let contact = order
        .contact_sealed
        .as_deref()
        .and_then(|json| crate::contact::open(ctx, json).ok());
    let (address, phone) = match contact {
        Some(contact) => (contact.address.unwrap_or_default(), contact.phone),
        None => (String::new(), String::new()),
    };
    Ok(DeliveryAsk {
        reference: order.id.to_string(),
        store_name: store.profile.name,
        store_address: store.profile.address,
        dropoff_address: address,
        dropoff_phone: phone,
        item_count: order.quote.item_count,
        order_total: order.total,
    })
}

/// A rider who can be given orders of `store`: an active account with the rider role that
/// works there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreRider {
    pub id: StaffId,
    pub name: String,
}

pub async fn store_riders(
    ctx: &Context,
    brand: BrandId,
    store: StoreId,
) -> Result<Vec<StoreRider>> {
    Ok(ctx
        .db
        .brand_staff(brand)
        .await?
        .into_iter()
        .filter(|s| s.active && s.role == Role::Rider && s.access.allows(store))
        .map(|s| StoreRider {
            id: s.id,
            name: s.display_name,
        })
        .collect())
}

/// The riders and couriers 派单 can choose from, for staff who may hand orders out.
pub async fn dispatch_choices(
    ctx: &Context,
    staff: &StaffCaller,
    store: StoreId,
) -> Result<(Vec<StoreRider>, Vec<(&'static str, &'static str)>)> {
    require(staff, store, Permission::AssignDeliveries)?;
    let riders = store_riders(ctx, staff.brand_id, store).await?;
    Ok((riders, ctx.couriers.names()))
}

/// Our rider's 取货 (the order goes out: 配送中) or 送达 (completed). Only the rider it was
/// given to, or staff who hand deliveries out, may tap them.
pub async fn rider_step(
    ctx: &Context,
    staff: &StaffCaller,
    store: StoreId,
    delivery: DeliveryId,
    step: DeliveryStep,
) -> Result<Moved> {
    require(staff, store, Permission::ViewConsole)?;
    let actor = staff_actor(staff);
    let now = ctx.clock.now_ms();
    let plan_actor = actor.clone();
    let plan: PlanDelivery = Box::new(move |order, current| match current {
        Some(current) => current.step(order, &step, &plan_actor, now),
        None => Err(DeliveryRefusal::CourierDrives),
    });
    run(
        ctx,
        DeliveryRequest {
            key: DeliveryKey::Id(delivery),
            scope: Some((staff.brand_id, store)),
            actor: actor.order_actor(),
            plan,
            now_ms: now,
        },
    )
    .await
}

/// Calls back the order's active delivery (before the food left). A courier's is called back
/// with the courier first, so it never sends a rider for an order we gave up on.
pub async fn cancel(
    ctx: &Context,
    staff: &StaffCaller,
    store: StoreId,
    order_id: OrderId,
    reason: Option<diancan_domain::text::Name>,
) -> Result<Moved> {
    require(staff, store, Permission::AssignDeliveries)?;
    let scope = (staff.brand_id, store);
    let active = ctx
        .db
        .deliveries_of_order(scope, order_id)
        .await?
        .into_iter()
        .map(|r| r.delivery)
        .find(|d| d.state.is_active())
        .ok_or(Error::NotFound)?;
    if active.state == DeliveryState::PickedUp {
        return Err(Error::Delivery(DeliveryRefusal::Illegal {
            from: active.state,
            to: DeliveryState::Cancelled,
        }));
    }
    if let Courier::Provider {
        provider,
        external_id,
    } = &active.courier
    {
        let provider = ctx.couriers.get(provider).ok_or_else(|| {
            Error::Courier(CourierError::Unavailable(format!(
                "{provider} is not configured"
            )))
        })?;
        provider.cancel(external_id).await.map_err(Error::Courier)?;
    }
    let step = DeliveryStep::Cancelled {
        reason: reason.map(|r| r.into_string()),
    };
    let actor = staff_actor(staff);
    let now = ctx.clock.now_ms();
    let plan_actor = actor.clone();
    let id = active.id;
    let plan: PlanDelivery = Box::new(move |order, current| match current {
        Some(current) => current.step(order, &step, &plan_actor, now),
        None => Err(DeliveryRefusal::CourierDrives),
    });
    run(
        ctx,
        DeliveryRequest {
            key: DeliveryKey::Id(id),
            scope: Some(scope),
            actor: actor.order_actor(),
            plan,
            now_ms: now,
        },
    )
    .await
}

/// Ends the active delivery of `order`, which was just cancelled: a courier's is called back
/// with the courier, our rider's leaves their list. Run after the cancel committed (a failure
/// here is logged; the order stays cancelled and the rider's list already hides it).
pub async fn end_with_cancelled_order(ctx: &Context, order: &diancan_domain::ordering::Order) {
    if order.channel != diancan_domain::ordering::Channel::Delivery {
        return;
    }
    let scope = (order.brand_id, order.store_id);
    let active = match ctx.db.deliveries_of_order(scope, order.id).await {
        Ok(records) => records
            .into_iter()
            .map(|r| r.delivery)
            .find(|d| d.state.is_active()),
        Err(error) => {
            tracing::warn!(%error, order = %order.id, "reading a cancelled order's delivery failed");
            return;
        }
    };
    let Some(active) = active else {
        return;
    };
    if let Courier::Provider {
        provider,
        external_id,
    } = &active.courier
        && let Some(courier) = ctx.couriers.get(provider)
        && let Err(error) = courier.cancel(external_id).await
    {
        tracing::warn!(%error, order = %order.id, "calling back the courier of a cancelled order failed");
    }
    let now = ctx.clock.now_ms();
    let plan: PlanDelivery =
        Box::new(move |_, current| Ok(current.and_then(|d| d.end_with_cancelled_order(now))));
    let request = DeliveryRequest {
        key: DeliveryKey::Id(active.id),
        scope: Some(scope),
        actor: diancan_domain::ordering::Actor::System("order-cancelled"),
        plan,
        now_ms: now,
    };
    if let Err(error) = ctx.db.move_delivery(request).await {
        tracing::warn!(%error, order = %order.id, "ending a cancelled order's delivery failed");
    }
}

/// A courier's callback to our webhook: believed only with the provider's signature, matched by
/// the courier's own id for the delivery, and applied at most once: a repeated or late report
/// answers `changed: false` and moves nothing back. A report the order cannot take yet (picked
/// up before the food is ready) is refused, and the courier sends it again.
pub async fn courier_report(
    ctx: &Context,
    provider: &str,
    signature: Option<&str>,
    body: &[u8],
) -> Result<Moved> {
    let courier = ctx.couriers.get(provider).ok_or(Error::NotFound)?;
    let report = courier
        .parse_callback(signature, body)
        .map_err(Error::Courier)?;
    let actor = DeliveryActor::Courier {
        provider: courier.name().to_owned(),
    };
    let now = ctx.clock.now_ms();
    let plan_actor = actor.clone();
    let step = report.step;
    let plan: PlanDelivery = Box::new(move |order, current| match current {
        Some(current) => current.step(order, &step, &plan_actor, now),
        None => Err(DeliveryRefusal::CourierDrives),
    });
    run(
        ctx,
        DeliveryRequest {
            key: DeliveryKey::Courier {
                provider: courier.name().to_owned(),
                external_id: report.external_id,
            },
            scope: None,
            actor: actor.order_actor(),
            plan,
            now_ms: now,
        },
    )
    .await
}

/// The order's deliveries with their history, newest first (the console's order detail).
pub async fn order_deliveries(
    ctx: &Context,
    staff: &StaffCaller,
    store: StoreId,
    order_id: OrderId,
) -> Result<Vec<DeliveryRecord>> {
    require(staff, store, Permission::ViewConsole)?;
    ctx.db
        .deliveries_of_order((staff.brand_id, store), order_id)
        .await
        .map_err(Error::from)
}

/// One delivery on the rider's phone: where to and whom to call, opened for them alone.
#[derive(Debug, Clone)]
pub struct RiderDelivery {
    pub delivery: Delivery,
    pub order: diancan_domain::ordering::Order,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

/// The deliveries given to the calling rider in `store`, oldest first, with the diner's address
/// and phone unsealed: the list only ever holds the caller's own deliveries.
pub async fn my_deliveries(
    ctx: &Context,
    staff: &StaffCaller,
    store: StoreId,
) -> Result<Vec<RiderDelivery>> {
    require(staff, store, Permission::DispatchDeliveries)?;
    let deliveries = ctx
        .db
        .rider_deliveries((staff.brand_id, store), staff.id)
        .await?;
    let mut mine = Vec::with_capacity(deliveries.len());
    for delivery in deliveries {
        let order = ctx.db.order(delivery.order_id).await?;
        // An order the store cancelled is not carried, whatever its delivery still says.
        if order.status == diancan_domain::ordering::OrderStatus::Cancelled {
            continue;
        }
        let contact = match order.contact_sealed.as_deref() {
            Some(json) => match crate::contact::open(ctx, json) {
                Ok(contact) => Some(contact),
                Err(error) => {
                    tracing::warn!(%error, order = %order.id, "a delivery's contact would not open");
                    None
                }
            },
            None => None,
        };
        let (contact_name, phone, address) = match contact {
            Some(c) => (Some(c.name), Some(c.phone), c.address),
            None => (None, None, None),
        };
        mine.push(RiderDelivery {
            delivery,
            order,
            contact_name,
            phone,
            address,
        });
    }
    Ok(mine)
}

/// The delivery of the diner's order as their page shows it (the latest, if any).
pub async fn diner_delivery(
    ctx: &Context,
    order: OrderId,
    pass: &crate::ordering::DinerPass,
) -> Result<Option<Delivery>> {
    let order = crate::ordering::diner_order(ctx, order, pass).await?;
    Ok(ctx.db.latest_delivery(order.id).await?)
}

/// Demo mode's courier: posts every report the simulator has due at `now_ms` into the same use
/// case our webhook calls, and tells the simulator which ones we took (the rest are resent).
/// Returns how many were taken.
pub async fn drive_simulator(
    ctx: &Context,
    simulator: &diancan_integrations::couriers::simulator::CourierSimulator,
    now_ms: i64,
) -> usize {
    let mut taken = 0;
    for callback in simulator.due(now_ms) {
        let name = diancan_integrations::couriers::simulator::SIMULATOR;
        match courier_report(ctx, name, Some(&callback.signature), &callback.body).await {
            Ok(_) => {
                simulator.delivered(&callback);
                taken += 1;
            }
            // The delivery is gone here (called back meanwhile): the courier stops sending.
            Err(Error::NotFound) => simulator.delivered(&callback),
            Err(error) => {
                tracing::debug!(%error, delivery = %callback.external_id, "a simulated courier report was not taken; it is sent again");
            }
        }
    }
    taken
}
