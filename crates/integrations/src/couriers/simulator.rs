//! A local stand-in for a courier, for demo mode and tests. It accepts every delivery, then
//! reports rider assigned → picked up → delivered as time passes, each report a signed JSON
//! callback for our webhook (HMAC-SHA256 of the body under the simulator's key, hex, in
//! [`SIGNATURE_HEADER`]). A delivery's steps run from when it was asked for, by the injected
//! clock, and [`CourierSimulator::due`] takes `now_ms`, so a test walks a delivery step by step
//! and demo mode drives it from a worker. A report stays due until [`CourierSimulator::delivered`] says our webhook took it
//! (a courier resends until then), and the simulator can be told to fail deliveries.

use super::{CourierError, CourierProvider, CourierQuote, CourierReport, DeliveryAsk};
use crate::payments::gateway::Clock;
use crate::sms::BoxFuture;
use diancan_domain::Money;
use diancan_domain::dispatch::{DeliveryStep, valid_courier_text};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// The provider name deliveries record.
pub const SIMULATOR: &str = "simulator";
/// The header our webhook reads the signature from.
pub const SIGNATURE_HEADER: &str = "x-courier-signature";
/// When each report falls due after the delivery was asked for.
pub const ASSIGNED_AFTER_MS: i64 = 15_000;
pub const PICKED_UP_AFTER_MS: i64 = 60_000;
pub const DELIVERED_AFTER_MS: i64 = 180_000;
/// Longest rider name and failure reason a report may carry.
const RIDER_NAME_MAX: usize = 20;
const REASON_MAX: usize = 60;

type HmacSha256 = Hmac<Sha256>;

/// A callback body as the simulator sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Callback {
    report_id: String,
    delivery_id: String,
    /// `rider_assigned`, `picked_up`, `delivered`, `failed`.
    status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rider_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// A report ready to be posted to our webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueCallback {
    pub external_id: String,
    pub body: Vec<u8>,
    pub signature: String,
}

#[derive(Debug, Clone)]
struct Simulated {
    asked_at_ms: i64,
    /// Reports our webhook took (0 to 3).
    reported: usize,
    /// Fails instead of finding a rider.
    fails_with: Option<String>,
}

#[derive(Default)]
struct State {
    next: u64,
    deliveries: BTreeMap<String, Simulated>,
    /// Deliveries asked for from now on fail with this reason.
    failing: Option<String>,
    /// `create` itself answers no while set.
    declining: Option<String>,
}

pub struct CourierSimulator {
    key: Vec<u8>,
    /// When a delivery is asked for (the steps' times run from it).
    clock: Clock,
    state: Mutex<State>,
}

/// The steps a delivery walks, with when each falls due.
const STEPS: [(&str, i64); 3] = [
    ("rider_assigned", ASSIGNED_AFTER_MS),
    ("picked_up", PICKED_UP_AFTER_MS),
    ("delivered", DELIVERED_AFTER_MS),
];
/// The simulated riders, chosen by delivery number.
const RIDERS: [&str; 3] = ["王师傅", "李师傅", "赵师傅"];

impl CourierSimulator {
    pub fn new(key: &[u8], clock: Clock) -> CourierSimulator {
        CourierSimulator {
            key: key.to_vec(),
            clock,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn mac(&self) -> HmacSha256 {
        <HmacSha256 as Mac>::new_from_slice(&self.key).expect("HMAC takes keys of any length")
    }

    /// The signature of `body` as a genuine callback carries it.
    pub fn sign(&self, body: &[u8]) -> String {
        let mut mac = self.mac();
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    /// Deliveries asked for from now on fail with `reason` (where a rider would have been
    /// assigned); `None` makes them succeed again.
    pub fn fail_deliveries(&self, reason: Option<&str>) {
        self.state().failing = reason.map(str::to_owned);
    }

    /// While set, asking for a delivery is declined outright.
    pub fn decline_requests(&self, reason: Option<&str>) {
        self.state().declining = reason.map(str::to_owned);
    }

    /// The next report of each delivery whose time has come at `now_ms` (one per delivery,
    /// oldest delivery first).
    pub fn due(&self, now_ms: i64) -> Vec<DueCallback> {
        let state = self.state();
        let mut due = Vec::new();
        for (external_id, delivery) in &state.deliveries {
            let Some(callback) = next_report(external_id, delivery, now_ms) else {
                continue;
            };
            let body = serde_json::to_vec(&callback).expect("a callback serialises");
            let signature = self.sign(&body);
            due.push(DueCallback {
                external_id: external_id.clone(),
                body,
                signature,
            });
        }
        due
    }

    /// Our webhook took `callback`: its delivery's next report becomes due in its time.
    pub fn delivered(&self, callback: &DueCallback) {
        let Ok(sent) = serde_json::from_slice::<Callback>(&callback.body) else {
            return;
        };
        let mut state = self.state();
        let Some(delivery) = state.deliveries.get_mut(&callback.external_id) else {
            return;
        };
        if sent.status == "failed" {
            state.deliveries.remove(&callback.external_id);
            return;
        }
        if STEPS
            .get(delivery.reported)
            .is_some_and(|(status, _)| *status == sent.status)
        {
            delivery.reported += 1;
        }
        if delivery.reported == STEPS.len() {
            state.deliveries.remove(&callback.external_id);
        }
    }

    /// How many deliveries the simulator is still carrying.
    pub fn open_deliveries(&self) -> usize {
        self.state().deliveries.len()
    }
}

fn next_report(external_id: &str, delivery: &Simulated, now_ms: i64) -> Option<Callback> {
    let (status, after) = STEPS.get(delivery.reported)?;
    if now_ms < delivery.asked_at_ms + after {
        return None;
    }
    let number: usize = external_id
        .trim_start_matches("SIM-")
        .parse()
        .unwrap_or_default();
    let report_id = format!("{external_id}-{}", delivery.reported + 1);
    if let Some(reason) = &delivery.fails_with {
        return Some(Callback {
            report_id,
            delivery_id: external_id.to_owned(),
            status: "failed".into(),
            rider_name: None,
            reason: Some(reason.clone()),
        });
    }
    Some(Callback {
        report_id,
        delivery_id: external_id.to_owned(),
        status: (*status).to_owned(),
        rider_name: (*status == "rider_assigned").then(|| RIDERS[number % RIDERS.len()].to_owned()),
        reason: None,
    })
}

fn bounded(text: Option<String>, max: usize) -> Result<Option<String>, CourierError> {
    match text {
        Some(text) if text.chars().count() > max || text.chars().any(char::is_control) => Err(
            CourierError::BadReport("a text field is too long or has control characters"),
        ),
        other => Ok(other),
    }
}

impl CourierProvider for CourierSimulator {
    fn name(&self) -> &'static str {
        SIMULATOR
    }

    fn label_zh(&self) -> &'static str {
        "同城配送（模拟）"
    }

    fn quote<'a>(
        &'a self,
        ask: &'a DeliveryAsk,
    ) -> BoxFuture<'a, Result<CourierQuote, CourierError>> {
        // ¥5 a trip and ¥0.50 an item past the third, at most ¥15.
        let extra = (ask.item_count - 3).clamp(0, 20) * 50;
        let quote = CourierQuote {
            fee: Money::from_fen(500 + extra),
            eta_minutes: 30,
        };
        Box::pin(async move { Ok(quote) })
    }

    fn create<'a>(
        &'a self,
        _ask: &'a DeliveryAsk,
        _quote: CourierQuote,
    ) -> BoxFuture<'a, Result<String, CourierError>> {
        Box::pin(async move {
            let mut state = self.state();
            if let Some(reason) = &state.declining {
                return Err(CourierError::Declined(reason.clone()));
            }
            state.next += 1;
            let external_id = format!("SIM-{}", state.next);
            let fails_with = state.failing.clone();
            state.deliveries.insert(
                external_id.clone(),
                Simulated {
                    asked_at_ms: (self.clock)().as_millisecond(),
                    reported: 0,
                    fails_with,
                },
            );
            Ok(external_id)
        })
    }

    fn cancel<'a>(&'a self, external_id: &'a str) -> BoxFuture<'a, Result<(), CourierError>> {
        Box::pin(async move {
            self.state().deliveries.remove(external_id);
            Ok(())
        })
    }

    fn parse_callback(
        &self,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<CourierReport, CourierError> {
        let signature = signature
            .and_then(|s| hex::decode(s.trim()).ok())
            .ok_or(CourierError::BadReport("no readable signature"))?;
        let mut mac = self.mac();
        mac.update(body);
        mac.verify_slice(&signature)
            .map_err(|_| CourierError::BadReport("the signature does not match"))?;
        let callback: Callback = serde_json::from_slice(body)
            .map_err(|_| CourierError::BadReport("the body is not a status report"))?;
        if !valid_courier_text(&callback.delivery_id) || !valid_courier_text(&callback.report_id) {
            return Err(CourierError::BadReport("ids must be short printable ASCII"));
        }
        let rider_name = bounded(callback.rider_name, RIDER_NAME_MAX)?;
        let reason = bounded(callback.reason, REASON_MAX)?;
        let step = match callback.status.as_str() {
            "rider_assigned" => DeliveryStep::Assigned { rider_name },
            "picked_up" => DeliveryStep::PickedUp,
            "delivered" => DeliveryStep::Delivered,
            "failed" => DeliveryStep::Failed {
                reason: reason.unwrap_or_else(|| "配送失败".to_owned()),
            },
            _ => return Err(CourierError::BadReport("unknown status")),
        };
        Ok(CourierReport {
            external_id: callback.delivery_id,
            report_id: callback.report_id,
            step,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn ask() -> DeliveryAsk {
        DeliveryAsk {
            reference: "order-1".into(),
            store_name: "老街面馆".into(),
            store_address: "南京东路 1 号".into(),
            dropoff_address: "人民路 8 号".into(),
            dropoff_phone: "13800138000".into(),
            item_count: 5,
            order_total: Money::from_fen(5600),
        }
    }

    fn simulator() -> CourierSimulator {
        CourierSimulator::new(
            b"key",
            Arc::new(|| jiff::Timestamp::from_millisecond(1_000).unwrap()),
        )
    }

    async fn asked(sim: &CourierSimulator) -> String {
        let quote = sim.quote(&ask()).await.unwrap();
        assert_eq!(quote.fee, Money::from_fen(600));
        sim.create(&ask(), quote).await.unwrap()
    }

    #[tokio::test]
    async fn a_delivery_reports_each_step_in_its_time_until_the_webhook_takes_it() {
        let sim = simulator();
        let id = asked(&sim).await;
        assert!(sim.due(1_000 + ASSIGNED_AFTER_MS - 1).is_empty());
        let first = sim.due(1_000 + ASSIGNED_AFTER_MS);
        assert_eq!(first.len(), 1);
        let report = sim
            .parse_callback(Some(&first[0].signature), &first[0].body)
            .unwrap();
        assert_eq!(report.external_id, id);
        assert!(matches!(
            report.step,
            DeliveryStep::Assigned {
                rider_name: Some(_)
            }
        ));
        // Not taken: resent, the same report.
        assert_eq!(sim.due(1_000 + PICKED_UP_AFTER_MS), first);
        sim.delivered(&first[0]);
        sim.delivered(&first[0]);
        let second = sim.due(1_000 + PICKED_UP_AFTER_MS);
        let report = sim
            .parse_callback(Some(&second[0].signature), &second[0].body)
            .unwrap();
        assert_eq!(report.step, DeliveryStep::PickedUp);
        sim.delivered(&second[0]);
        assert!(sim.due(1_000 + PICKED_UP_AFTER_MS).is_empty());
        let third = sim.due(1_000 + DELIVERED_AFTER_MS);
        sim.delivered(&third[0]);
        assert_eq!(sim.open_deliveries(), 0);
    }

    #[tokio::test]
    async fn it_fails_or_declines_when_told_and_forgets_cancelled_deliveries() {
        let sim = simulator();
        sim.fail_deliveries(Some("附近暂无骑手"));
        asked(&sim).await;
        let due = sim.due(1_000 + ASSIGNED_AFTER_MS);
        let report = sim
            .parse_callback(Some(&due[0].signature), &due[0].body)
            .unwrap();
        assert_eq!(
            report.step,
            DeliveryStep::Failed {
                reason: "附近暂无骑手".into()
            }
        );
        sim.delivered(&due[0]);
        assert_eq!(sim.open_deliveries(), 0);
        sim.fail_deliveries(None);
        let id = asked(&sim).await;
        sim.cancel(&id).await.unwrap();
        assert!(sim.due(1_000 + DELIVERED_AFTER_MS).is_empty());
        sim.decline_requests(Some("超出配送范围"));
        let quote = sim.quote(&ask()).await.unwrap();
        assert!(matches!(
            sim.create(&ask(), quote).await,
            Err(CourierError::Declined(_))
        ));
    }

    #[test]
    fn a_report_with_a_wrong_or_missing_signature_or_shape_is_not_believed() {
        let sim = simulator();
        let body = br#"{"report_id":"SIM-1-1","delivery_id":"SIM-1","status":"delivered"}"#;
        let good = sim.sign(body);
        assert!(sim.parse_callback(Some(&good), body).is_ok());
        assert!(sim.parse_callback(None, body).is_err());
        assert!(sim.parse_callback(Some("zz"), body).is_err());
        let forged = CourierSimulator::new(b"other", Arc::new(jiff::Timestamp::now)).sign(body);
        assert!(sim.parse_callback(Some(&forged), body).is_err());
        let odd = br#"{"report_id":"SIM-1-1","delivery_id":"SIM 1","status":"delivered"}"#;
        assert!(sim.parse_callback(Some(&sim.sign(odd)), odd).is_err());
        let unknown = br#"{"report_id":"SIM-1-1","delivery_id":"SIM-1","status":"lost"}"#;
        assert!(
            sim.parse_callback(Some(&sim.sign(unknown)), unknown)
                .is_err()
        );
    }
}
