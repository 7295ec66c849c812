//! Each gateway's health: a circuit breaker and a sliding window of recent calls, kept in this
//! process. A gateway that stops answering (timeouts, connection errors, its own system errors)
//! is opened after a run of failures, so diners are told at once to pay another way instead of
//! waiting on it; after a cool-down one probe call is let through, and its answer closes the
//! breaker again or keeps it open. A gateway's refusal of a request is an answer: it counts as
//! healthy.

use diancan_domain::payments::PaymentProvider;
use diancan_integrations::payments::model::{
    Acknowledgement, IncomingNotification, OutRefundNo, OutTradeNo, Prepared, PrepayRequest,
    Provider, Refund, RefundRequest, Statement, Trade, VerifiedNotification,
};
use diancan_integrations::payments::{NotificationOutcome, PaymentError, PaymentGateway};
use diancan_integrations::sms::BoxFuture;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// When the breaker opens and how long it stays open.
#[derive(Debug, Clone, Copy)]
pub struct BreakerSettings {
    /// Consecutive failures that open the breaker.
    pub open_after_failures: u32,
    /// How long it stays open before one probe is let through.
    pub cool_down_ms: i64,
    /// Calls the success rate and latencies are computed over.
    pub window: usize,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        BreakerSettings {
            open_after_failures: 5,
            cool_down_ms: 30_000,
            window: 200,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are refused at once until the cool-down ends.
    Open,
    /// One probe call is out; the others are refused until it answers.
    HalfOpen,
}

/// What the console shows of one gateway.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct HealthReport {
    pub provider: PaymentProvider,
    pub breaker: BreakerState,
    pub consecutive_failures: u32,
    /// Calls in the window.
    pub calls: usize,
    /// Answered calls per 10 000 in the window (basis points); absent before any call.
    pub success_rate_bp: Option<i64>,
    pub p50_ms: Option<i64>,
    pub p95_ms: Option<i64>,
    pub p99_ms: Option<i64>,
    pub opened_at_ms: Option<i64>,
}

struct Inner {
    state: BreakerState,
    consecutive_failures: u32,
    opened_at_ms: Option<i64>,
    /// (answered, latency ms), newest last.
    recent: VecDeque<(bool, i64)>,
}

/// One gateway's breaker and window.
pub struct GatewayHealth {
    provider: PaymentProvider,
    settings: BreakerSettings,
    now_ms: Arc<dyn Fn() -> i64 + Send + Sync>,
    inner: Mutex<Inner>,
}

impl GatewayHealth {
    pub fn new(
        provider: PaymentProvider,
        settings: BreakerSettings,
        now_ms: Arc<dyn Fn() -> i64 + Send + Sync>,
    ) -> GatewayHealth {
        GatewayHealth {
            provider,
            settings,
            now_ms,
            inner: Mutex::new(Inner {
                state: BreakerState::Closed,
                consecutive_failures: 0,
                opened_at_ms: None,
                recent: VecDeque::new(),
            }),
        }
    }

    /// Whether a call may go out now. An open breaker past its cool-down lets this one call
    /// through as the probe.
    pub fn admit(&self) -> bool {
        let mut inner = self.inner.lock().unwrap();
        match inner.state {
            BreakerState::Closed => true,
            BreakerState::HalfOpen => false,
            BreakerState::Open => {
                let since = inner.opened_at_ms.unwrap_or(i64::MIN);
                if (self.now_ms)() - since >= self.settings.cool_down_ms {
                    inner.state = BreakerState::HalfOpen;
                    true
                } else {
                    false
                }
            }
        }
    }

    /// Whether calls are refused right now (open and cooling down, or a probe is out). Asking
    /// takes no probe: the call that follows does.
    pub fn refuses_now(&self) -> bool {
        let inner = self.inner.lock().unwrap();
        match inner.state {
            BreakerState::Closed => false,
            BreakerState::HalfOpen => true,
            BreakerState::Open => {
                let since = inner.opened_at_ms.unwrap_or(i64::MIN);
                (self.now_ms)() - since < self.settings.cool_down_ms
            }
        }
    }

    /// Records a call's outcome: `answered` is false for no answer or the gateway's own
    /// system error.
    pub fn record(&self, answered: bool, latency_ms: i64) {
        let mut inner = self.inner.lock().unwrap();
        inner.recent.push_back((answered, latency_ms));
        while inner.recent.len() > self.settings.window {
            inner.recent.pop_front();
        }
        if answered {
            inner.consecutive_failures = 0;
            inner.state = BreakerState::Closed;
            inner.opened_at_ms = None;
        } else {
            inner.consecutive_failures += 1;
            let trips = inner.state == BreakerState::HalfOpen
                || inner.consecutive_failures >= self.settings.open_after_failures;
            if trips {
                inner.state = BreakerState::Open;
                inner.opened_at_ms = Some((self.now_ms)());
            }
        }
    }

    pub fn report(&self) -> HealthReport {
        let inner = self.inner.lock().unwrap();
        let calls = inner.recent.len();
        let answered = inner.recent.iter().filter(|(ok, _)| *ok).count();
        let mut latencies: Vec<i64> = inner.recent.iter().map(|(_, ms)| *ms).collect();
        latencies.sort_unstable();
        let percentile = |p: usize| -> Option<i64> {
            (!latencies.is_empty())
                .then(|| latencies[(latencies.len() * p).div_ceil(100).max(1) - 1])
        };
        HealthReport {
            provider: self.provider,
            breaker: inner.state,
            consecutive_failures: inner.consecutive_failures,
            calls,
            success_rate_bp: (calls > 0).then(|| (answered * 10_000 / calls) as i64),
            p50_ms: percentile(50),
            p95_ms: percentile(95),
            p99_ms: percentile(99),
            opened_at_ms: inner.opened_at_ms,
        }
    }
}

/// A gateway behind its breaker: refused at once while open, every call timed and recorded.
pub struct Guarded {
    pub inner: Arc<dyn PaymentGateway>,
    pub health: Arc<GatewayHealth>,
}

fn refused_open() -> PaymentError {
    PaymentError::Transport {
        reason: "circuit breaker open: the gateway failed repeatedly".into(),
        timed_out: false,
    }
}

impl Guarded {
    async fn call<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, PaymentError>>,
    ) -> Result<T, PaymentError> {
        if !self.health.admit() {
            return Err(refused_open());
        }
        let started = std::time::Instant::now();
        let result = call.await;
        let answered = !matches!(&result, Err(error) if error.outcome_unknown());
        self.health
            .record(answered, started.elapsed().as_millis() as i64);
        result
    }
}

impl PaymentGateway for Guarded {
    fn provider(&self) -> Provider {
        self.inner.provider()
    }

    fn prepay<'a>(
        &'a self,
        request: &'a PrepayRequest,
    ) -> BoxFuture<'a, Result<Prepared, PaymentError>> {
        Box::pin(self.call(self.inner.prepay(request)))
    }

    fn query<'a>(
        &'a self,
        out_trade_no: &'a OutTradeNo,
    ) -> BoxFuture<'a, Result<Trade, PaymentError>> {
        Box::pin(self.call(self.inner.query(out_trade_no)))
    }

    fn close<'a>(
        &'a self,
        out_trade_no: &'a OutTradeNo,
    ) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(self.call(self.inner.close(out_trade_no)))
    }

    fn revoke<'a>(
        &'a self,
        out_trade_no: &'a OutTradeNo,
    ) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(self.call(self.inner.revoke(out_trade_no)))
    }

    fn refund<'a>(
        &'a self,
        request: &'a RefundRequest,
    ) -> BoxFuture<'a, Result<Refund, PaymentError>> {
        Box::pin(self.call(self.inner.refund(request)))
    }

    fn query_refund<'a>(
        &'a self,
        out_trade_no: &'a OutTradeNo,
        out_refund_no: &'a OutRefundNo,
    ) -> BoxFuture<'a, Result<Refund, PaymentError>> {
        Box::pin(self.call(self.inner.query_refund(out_trade_no, out_refund_no)))
    }

    fn statement(&self, date: jiff::civil::Date) -> BoxFuture<'_, Result<Statement, PaymentError>> {
        Box::pin(self.call(self.inner.statement(date)))
    }

    // Notifications come to us: they say nothing of whether our calls reach the gateway.
    fn verify_notification(
        &self,
        notification: &IncomingNotification,
    ) -> Result<VerifiedNotification, PaymentError> {
        self.inner.verify_notification(notification)
    }

    fn acknowledgement(&self, outcome: NotificationOutcome) -> Acknowledgement {
        self.inner.acknowledgement(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};

    fn health() -> (GatewayHealth, Arc<AtomicI64>) {
        let now = Arc::new(AtomicI64::new(1_000));
        let clock = now.clone();
        let health = GatewayHealth::new(
            PaymentProvider::WechatPay,
            BreakerSettings {
                open_after_failures: 3,
                cool_down_ms: 10_000,
                window: 10,
            },
            Arc::new(move || clock.load(Ordering::SeqCst)),
        );
        (health, now)
    }

    #[test]
    fn the_breaker_opens_after_failures_and_a_probe_closes_it() {
        let (health, now) = health();
        for _ in 0..2 {
            assert!(health.admit());
            health.record(false, 3_000);
        }
        assert_eq!(health.report().breaker, BreakerState::Closed);
        assert!(health.admit());
        health.record(false, 3_000);
        assert_eq!(health.report().breaker, BreakerState::Open);
        assert!(
            health.refuses_now() && !health.admit(),
            "open: refused at once"
        );
        now.fetch_add(10_000, Ordering::SeqCst);
        assert!(
            !health.refuses_now(),
            "cooled down: the next call may probe"
        );
        assert!(health.admit(), "the probe after the cool-down");
        assert!(health.refuses_now());
        assert!(!health.admit(), "only one probe at a time");
        health.record(false, 3_000);
        assert_eq!(
            health.report().breaker,
            BreakerState::Open,
            "a failed probe reopens"
        );
        assert!(!health.admit());
        now.fetch_add(10_000, Ordering::SeqCst);
        assert!(health.admit());
        health.record(true, 80);
        let report = health.report();
        assert_eq!(report.breaker, BreakerState::Closed);
        assert_eq!(report.consecutive_failures, 0);
        assert_eq!(report.calls, 5);
        assert_eq!(report.success_rate_bp, Some(2_000));
        assert_eq!(report.p50_ms, Some(3_000));
        assert!(health.admit());
    }

    #[test]
    fn the_window_keeps_the_latest_calls_and_their_percentiles() {
        let (health, _) = health();
        assert_eq!(health.report().success_rate_bp, None);
        for ms in 1..=20 {
            health.record(true, ms * 10);
        }
        let report = health.report();
        assert_eq!(report.calls, 10);
        assert_eq!(report.success_rate_bp, Some(10_000));
        assert_eq!((report.p50_ms, report.p99_ms), (Some(150), Some(200)));
    }
}
