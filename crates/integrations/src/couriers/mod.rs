//! Third-party couriers (跑腿 / 同城配送): the one trait every courier provider implements —
//! quote a delivery, ask for it, call it back, and read the status reports it sends to our
//! webhook — and a local simulator for demo mode and tests.

pub mod simulator;

use crate::sms::BoxFuture;
use diancan_domain::Money;
use diancan_domain::dispatch::DeliveryStep;

/// What a courier needs to know to carry an order.
#[derive(Clone, PartialEq, Eq)]
pub struct DeliveryAsk {
    /// Our reference for the delivery (the order's id), which the courier echoes.
    pub reference: String,
    pub store_name: String,
    pub store_address: String,
    /// The diner's address and phone, opened from their seal for this call only.
    pub dropoff_address: String,
    pub dropoff_phone: String,
    pub item_count: i64,
    pub order_total: Money,
}

impl std::fmt::Debug for DeliveryAsk {
    // The diner's address and phone never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryAsk")
            .field("reference", &self.reference)
            .field("store_name", &self.store_name)
            .field("dropoff_address", &"<sealed>")
            .field("dropoff_phone", &"<sealed>")
            .field("item_count", &self.item_count)
            .field("order_total", &self.order_total)
            .finish()
    }
}

/// The courier's price and promise for a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CourierQuote {
    pub fee: Money,
    pub eta_minutes: u32,
}

/// A status report as the courier's callback said it, believed (its signature checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourierReport {
    /// The courier's id for the delivery (what `create` returned).
    pub external_id: String,
    /// The courier's id for this report: a resent report carries the same one.
    pub report_id: String,
    pub step: DeliveryStep,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CourierError {
    /// The courier answered no (out of its area, no riders at all); the reason is its words.
    #[error("the courier declined: {0}")]
    Declined(String),
    /// It could not be reached or answered nonsense; the request may be tried again.
    #[error("the courier is unavailable: {0}")]
    Unavailable(String),
    /// A callback whose signature or shape we do not believe.
    #[error("the courier's report is not believable: {0}")]
    BadReport(&'static str),
    #[error("the courier does not know delivery {0}")]
    UnknownDelivery(String),
}

pub trait CourierProvider: Send + Sync {
    /// The provider's name as deliveries record it (`simulator`): printable ASCII.
    fn name(&self) -> &'static str;

    /// 中文 name for the console (“闪送模拟器”).
    fn label_zh(&self) -> &'static str;

    fn quote<'a>(
        &'a self,
        ask: &'a DeliveryAsk,
    ) -> BoxFuture<'a, Result<CourierQuote, CourierError>>;

    /// Asks the courier to carry the delivery at `quote`; answers its id for the delivery.
    fn create<'a>(
        &'a self,
        ask: &'a DeliveryAsk,
        quote: CourierQuote,
    ) -> BoxFuture<'a, Result<String, CourierError>>;

    /// Calls the delivery back. A delivery the courier already forgot is not an error.
    fn cancel<'a>(&'a self, external_id: &'a str) -> BoxFuture<'a, Result<(), CourierError>>;

    /// Reads a callback to our webhook: `signature` is its signature header.
    fn parse_callback(
        &self,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<CourierReport, CourierError>;
}
