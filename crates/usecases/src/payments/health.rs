//! Each gateway's health: a circuit breaker and a sliding window of recent calls, kept in this
//! process. A gateway that stops answering (timeouts, connection errors, its own system errors)
//! is opened after a run of failures, so diners are told at once to pay another way instead of
//! waiting on it; after a cool-down one probe call is let through, and its answer closes the
//! breaker again or keeps it open. A gateway's refusal of a request is an answer: it counts as
//! healthy.
//!
//! Calls that are safe to repeat (query, close, revoke, refund under its own number, refund
//! query, statement) are tried again when their outcome is unknown, a bounded number of times
//! with growing, jittered pauses, so one dropped connection does not leave a refund waiting for
//! the next sweep, and a gateway's hiccup does not make every worker retry in step. A prepay is
//! not: the diner is waiting, and is better told at once to pay another way.

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

/// How often a repeatable call whose outcome is unknown is tried, and the pauses between.
#[derive(Debug, Clone, Copy)]
pub struct RetrySettings {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// The pause before the first retry; each next one doubles, up to `max_delay_ms`.
    pub first_delay_ms: u64,
    pub max_delay_ms: u64,
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings {
            attempts: 3,
            first_delay_ms: 200,
            max_delay_ms: 2_000,
        }
    }
}

impl RetrySettings {
    /// The pause before retry number `retry` (1 for the first), given a random `unit` in
    /// [0, 1): between half and all of the doubled delay ("equal jitter"), so callers that
    /// failed together spread out but none retries at once.
    pub fn delay(&self, retry: u32, unit: f64) -> std::time::Duration {
        let doubled = self
            .first_delay_ms
            .saturating_mul(1u64 << retry.saturating_sub(1).min(20))
            .min(self.max_delay_ms);
        let half = doubled / 2;
        let jitter = ((doubled - half) as f64 * unit.clamp(0.0, 1.0)) as u64;
        std::time::Duration::from_millis(half + jitter.min(doubled - half))
    }
}

/// A gateway behind its breaker: refused at once while open, every call timed and recorded,
/// repeatable calls retried per `retry`.
pub struct Guarded {
    pub inner: Arc<dyn PaymentGateway>,
    pub health: Arc<GatewayHealth>,
    pub retry: RetrySettings,
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

    /// `call` for a request that is safe to send again: retried while its outcome is unknown,
    /// up to `retry.attempts` tries, never while the breaker refuses.
    async fn call_repeatable<'a, T>(
        &'a self,
        call: impl Fn() -> BoxFuture<'a, Result<T, PaymentError>>,
    ) -> Result<T, PaymentError> {
        let mut tried = 0;
        loop {
            tried += 1;
            let result = self.call(call()).await;
            match &result {
                Err(error)
                    if error.outcome_unknown()
                        && tried < self.retry.attempts
                        && !self.health.refuses_now() =>
                {
                    tracing::info!(provider = ?self.health.provider, %error, tried, "gateway call failed; retrying");
                    tokio::time::sleep(self.retry.delay(tried, rand::random::<f64>())).await;
                }
                _ => return result,
            }
        }
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
        Box::pin(self.call_repeatable(move || self.inner.query(out_trade_no)))
    }

    fn close<'a>(
        &'a self,
        out_trade_no: &'a OutTradeNo,
    ) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(self.call_repeatable(move || self.inner.close(out_trade_no)))
    }

    fn revoke<'a>(
        &'a self,
        out_trade_no: &'a OutTradeNo,
    ) -> BoxFuture<'a, Result<(), PaymentError>> {
        Box::pin(self.call_repeatable(move || self.inner.revoke(out_trade_no)))
    }

    fn refund<'a>(
        &'a self,
        request: &'a RefundRequest,
    ) -> BoxFuture<'a, Result<Refund, PaymentError>> {
        Box::pin(self.call_repeatable(move || self.inner.refund(request)))
    }

    fn query_refund<'a>(
        &'a self,
        out_trade_no: &'a OutTradeNo,
        out_refund_no: &'a OutRefundNo,
    ) -> BoxFuture<'a, Result<Refund, PaymentError>> {
        Box::pin(self.call_repeatable(move || self.inner.query_refund(out_trade_no, out_refund_no)))
    }

    fn statement(&self, date: jiff::civil::Date) -> BoxFuture<'_, Result<Statement, PaymentError>> {
        Box::pin(self.call_repeatable(move || self.inner.statement(date)))
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
    fn retry_pauses_double_up_to_the_cap_and_jitter_within_the_upper_half() {
        let retry = RetrySettings::default();
        let ms = |retry_no, unit| retry.delay(retry_no, unit).as_millis() as u64;
        assert_eq!((ms(1, 0.0), ms(1, 0.999_999)), (100, 199));
        assert_eq!((ms(2, 0.0), ms(2, 0.5)), (200, 300));
        assert_eq!(ms(3, 0.0), 400);
        assert_eq!((ms(9, 0.0), ms(9, 1.0)), (1_000, 2_000), "capped");
        assert_eq!(ms(u32::MAX, 1.0), 2_000, "no overflow however many");
    }

    /// A gateway whose `close` fails with `failure` the first `failures` times.
    struct Scripted {
        failures: u32,
        failure: fn() -> PaymentError,
        calls: std::sync::atomic::AtomicU32,
    }

    impl PaymentGateway for Scripted {
        fn provider(&self) -> Provider {
            Provider::WechatPay
        }
        fn prepay<'a>(
            &'a self,
            _: &'a PrepayRequest,
        ) -> BoxFuture<'a, Result<Prepared, PaymentError>> {
            Box::pin(async { Err((self.failure)()) })
        }
        fn query<'a>(&'a self, _: &'a OutTradeNo) -> BoxFuture<'a, Result<Trade, PaymentError>> {
            Box::pin(async { Err((self.failure)()) })
        }
        fn close<'a>(&'a self, _: &'a OutTradeNo) -> BoxFuture<'a, Result<(), PaymentError>> {
            Box::pin(async {
                let call = self.calls.fetch_add(1, Ordering::SeqCst);
                if call < self.failures {
                    Err((self.failure)())
                } else {
                    Ok(())
                }
            })
        }
        fn revoke<'a>(&'a self, _: &'a OutTradeNo) -> BoxFuture<'a, Result<(), PaymentError>> {
            Box::pin(async { Err((self.failure)()) })
        }
        fn refund<'a>(
            &'a self,
            _: &'a RefundRequest,
        ) -> BoxFuture<'a, Result<Refund, PaymentError>> {
            Box::pin(async { Err((self.failure)()) })
        }
        fn query_refund<'a>(
            &'a self,
            _: &'a OutTradeNo,
            _: &'a OutRefundNo,
        ) -> BoxFuture<'a, Result<Refund, PaymentError>> {
            Box::pin(async { Err((self.failure)()) })
        }
        fn statement(
            &self,
            _: jiff::civil::Date,
        ) -> BoxFuture<'_, Result<Statement, PaymentError>> {
            Box::pin(async { Err((self.failure)()) })
        }
        fn verify_notification(
            &self,
            _: &IncomingNotification,
        ) -> Result<VerifiedNotification, PaymentError> {
            Err(PaymentError::BadSignature)
        }
        fn acknowledgement(&self, _: NotificationOutcome) -> Acknowledgement {
            Acknowledgement {
                status: 200,
                content_type: "text/plain",
                body: Vec::new(),
            }
        }
    }

    fn dropped() -> PaymentError {
        PaymentError::Transport {
            reason: "connection reset".into(),
            timed_out: false,
        }
    }

    fn refused() -> PaymentError {
        PaymentError::Gateway {
            status: 400,
            code: "ORDERPAID".into(),
            message: "already paid".into(),
            outcome_unknown: false,
        }
    }

    fn guarded(failures: u32, failure: fn() -> PaymentError) -> (Guarded, Arc<Scripted>) {
        let (health, _) = health();
        let scripted = Arc::new(Scripted {
            failures,
            failure,
            calls: Default::default(),
        });
        let guarded = Guarded {
            inner: scripted.clone(),
            health: Arc::new(health),
            retry: RetrySettings {
                attempts: 3,
                first_delay_ms: 1,
                max_delay_ms: 2,
            },
        };
        (guarded, scripted)
    }

    #[tokio::test]
    async fn a_repeatable_call_is_retried_while_its_outcome_is_unknown_and_no_further() {
        let number = OutTradeNo::parse("T20261207000001").unwrap();
        let (gateway, scripted) = guarded(2, dropped);
        assert!(
            gateway.close(&number).await.is_ok(),
            "the third try answers"
        );
        assert_eq!(scripted.calls.load(Ordering::SeqCst), 3);
        assert_eq!(gateway.health.report().calls, 3, "each try is recorded");

        let (gateway, scripted) = guarded(5, dropped);
        assert!(
            gateway.close(&number).await.is_err(),
            "bounded: three tries, then the error"
        );
        assert_eq!(scripted.calls.load(Ordering::SeqCst), 3);

        let (gateway, scripted) = guarded(5, refused);
        assert!(gateway.close(&number).await.is_err());
        assert_eq!(
            scripted.calls.load(Ordering::SeqCst),
            1,
            "a refusal is an answer: not retried"
        );
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
