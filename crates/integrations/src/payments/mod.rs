//! Taking money through the payment gateways: one provider-neutral model and trait, and one
//! module per gateway with its wire types, signatures and their mapping to ours.

pub mod alipay;
mod der;
pub mod error;
pub mod gateway;
pub mod keys;
pub mod model;
pub mod simulator;
pub mod transport;
pub mod wechat_pay;
pub mod yuan;

pub use error::PaymentError;
pub use gateway::{
    Clock, NotificationOutcome, PaymentCodePolicy, PaymentGateway, await_payment_code, system_clock,
};
