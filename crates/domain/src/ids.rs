//! Identifiers made by the application (UUID v7: time-ordered, so inserts stay index-friendly
//! and an offline store node can mint ids that never collide with the cloud's).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$meta:meta])* $name:ident),* $(,)?) => {$(
        $(#[$meta])*
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    )*};
}

id_type!(
    BrandId,
    StoreId,
    AreaId,
    TableId,
    StaffId,
    StationId,
    CategoryId,
    DishId,
    SkuId,
    OptionGroupId,
    OptionId,
    ComboSlotId,
    ComboChoiceId,
    ImageId,
    OrderId,
    TableSessionId,
    CartLineId,
    CustomerId,
    OtpChallengeId,
    KitchenTicketId,
    PaymentId,
    RefundId,
    PrinterId,
    PrintAgentId,
    ReconciliationRunId,
    MismatchId,
    /// A message in a diner's in-app inbox (消息).
    InboxMessageId,
    /// A marketing message staff send to many diners (推送).
    CampaignId,
    /// A one-time WeChat subscribe-message consent (订阅授权).
    SubscribeGrantId,
);

// Promotions: a promotion, a coupon template and one diner's claimed copy of it.
id_type!(PromotionId, CouponId, CouponGrantId);

// Delivery dispatch: one delivery of a delivery order, by the store's rider or a courier.
id_type!(DeliveryId);
// Membership: a diner's membership at a brand, and a stored-value recharge through a gateway.
id_type!(MemberId, RechargeId);
