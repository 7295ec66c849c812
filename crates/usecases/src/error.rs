//! The one error type of the use-case layer: each variant names a business outcome the caller
//! must tell the user about; the web edge maps each to a status and a stable code in one place.

use diancan_domain::kitchen::{KitchenTicket, TicketRefusal};
use diancan_domain::ordering::{InvalidPickupTime, Order, OrderRefusal, Quote, QuoteError};
use diancan_domain::payments::PaymentProvider;
use diancan_domain::staff::Permission;
use diancan_domain::validation::FieldErrors;
use diancan_integrations::payments::PaymentError;
use diancan_storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    #[error("the role may not {0:?}")]
    Forbidden(Permission),
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// A table code that is forged, rotated away, or of another store.
    #[error("unknown table code")]
    UnknownTableCode,
    #[error("the table is not open")]
    TableNotOpen,
    /// 换台 to a table where diners already sit.
    #[error("the table is taken")]
    TableTaken,
    #[error(transparent)]
    Quote(#[from] QuoteError),
    /// Prices or items changed since the diner's quote; here is the new one.
    #[error("the quote is stale")]
    StaleQuote(Box<Quote>),
    #[error(transparent)]
    PickupTime(#[from] InvalidPickupTime),
    #[error("the idempotency key was used for a different request")]
    KeyReused,
    #[error("the time slot is full")]
    SlotFull,
    #[error("{dish} sold out")]
    SoldOut { dish: String },
    #[error("the menu changed")]
    MenuChanged,
    /// The order was not changed; it is as `order` shows now.
    #[error("{refusal}")]
    Refused {
        refusal: OrderRefusal,
        order: Box<Order>,
    },
    /// A kitchen ticket was not changed; it is as `ticket` shows now.
    #[error("{refusal}")]
    TicketRefused {
        refusal: TicketRefusal,
        ticket: Box<KitchenTicket>,
    },
    /// The order does not wait for a payment (paid, cancelled, past its deadline, or paid by
    /// the table bill); it is as `order` shows now.
    #[error("the order does not wait for a payment")]
    NotPayable(Box<Order>),
    /// This way of paying is not configured here.
    #[error("{} is not offered", .0.as_str())]
    PaymentUnavailable(PaymentProvider),
    /// Paying from a balance needs the diner signed in.
    #[error("sign in to use the balance")]
    SignInRequired,
    /// The balance does not cover what it was asked to pay.
    #[error("only {available} fen is available")]
    InsufficientBalance { available: diancan_domain::Money },
    /// A combined payment asked for when the balance alone pays the whole order.
    #[error("the balance covers the whole order")]
    BalanceCoversOrder,
    /// The ledger's rule refused an entry (limit, zero, below what is held).
    #[error(transparent)]
    Balance(diancan_domain::balance::BalanceRefusal),
    /// Nothing (more) to refund, or more than was paid.
    #[error(transparent)]
    RefundRefused(diancan_domain::refunds::RefundRefusal),
    /// The gateway refused or could not be reached: the diner may pay another way.
    #[error(transparent)]
    Gateway(PaymentError),
    /// A print agent's attempt no longer holds the job (its lease ran out, or it moved to a
    /// fallback printer): the agent must not print it.
    #[error("the print job is no longer held by this attempt")]
    PrintJobNotHeld,
    /// A delivery was not given out or moved (already has one, not ready, another rider's).
    #[error(transparent)]
    Delivery(diancan_domain::dispatch::DeliveryRefusal),
    /// A courier declined, could not be reached, or sent a report we do not believe.
    #[error(transparent)]
    Courier(diancan_integrations::couriers::CourierError),
    /// A membership rule refused the input (levels, tiers, recharge amount, birthday).
    #[error(transparent)]
    Membership(diancan_domain::membership::MembershipRefusal),
    /// The points ledger's rule refused an entry (more than the balance).
    #[error(transparent)]
    Points(diancan_domain::membership::points::PointsRefusal),
    /// A member's birthday is set once.
    #[error("the birthday was set before")]
    BirthdayAlreadySet,
    /// A campaign that is sending or sent already; it is as shown.
    #[error("the campaign was sent already")]
    CampaignNotDraft(Box<diancan_storage::notifications::Campaign>),
    /// A chosen coupon was used on another order, expired or is not the diner's: nothing was
    /// placed and no coupon changed.
    #[error("the coupon cannot be used")]
    CouponUnavailable,
    /// The diner has used this promotion as often as it allows.
    #[error("the promotion's limit is reached")]
    PromotionLimitReached,
    /// Every coupon of the template has been given out.
    #[error("all coupons were claimed")]
    CouponsAllClaimed,
    /// The diner holds as many of this coupon as it allows.
    #[error("the coupon's limit per diner is reached")]
    CouponLimitReached,
    /// Someone saved the record since the editor read it (or a limit was set below what was
    /// issued already).
    #[error("the record changed since it was read")]
    VersionConflict,
    #[error(transparent)]
    Storage(StorageError),
}

impl From<StorageError> for Error {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::NotFound => Error::NotFound,
            other => Error::Storage(other),
        }
    }
}

impl From<FieldErrors> for Error {
    fn from(errors: FieldErrors) -> Self {
        Error::Invalid(errors)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
