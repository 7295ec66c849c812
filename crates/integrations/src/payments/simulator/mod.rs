//! Gateway simulators that speak the real wire protocols with test keys, for demo mode and
//! for tests: they verify our signatures, keep orders and refunds in memory, sign their
//! answers, and post signed notifications on the gateway's own resend schedule until they
//! read the right acknowledgement.

pub mod alipay;
pub mod demo;
pub mod wechat_pay;

use super::transport::{HttpRequest, HttpResponse, Transport};
use std::time::Duration;

/// How a notification's delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Posts made, the first included.
    pub attempts: usize,
    pub acknowledged: bool,
}

/// Posts `notification` through `transport`, again after each delay of `schedule` (seconds)
/// until `acknowledged` approves an answer, as the gateways do: a merchant that is down or
/// answers wrongly is asked again, and must treat repeats as one.
pub async fn deliver_until_acknowledged(
    transport: &dyn Transport,
    notification: &HttpRequest,
    schedule: &[u64],
    acknowledged: impl Fn(&HttpResponse) -> bool,
) -> Delivery {
    let mut attempts = 0;
    let mut delays = schedule.iter();
    loop {
        attempts += 1;
        match transport.send(notification.clone()).await {
            Ok(answer) if acknowledged(&answer) => {
                return Delivery {
                    attempts,
                    acknowledged: true,
                };
            }
            Ok(answer) => tracing::info!(
                status = answer.status,
                attempts,
                "notification not acknowledged"
            ),
            Err(error) => {
                tracing::info!(code = error.code(), attempts, "notification not delivered")
            }
        }
        let Some(delay) = delays.next() else {
            return Delivery {
                attempts,
                acknowledged: false,
            };
        };
        tokio::time::sleep(Duration::from_secs(*delay)).await;
    }
}

/// What a simulated diner or cashier can get wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimulatorError {
    #[error("no such order")]
    NoSuchOrder,
    #[error("the order is {0}, not payable")]
    NotPayable(&'static str),
}
