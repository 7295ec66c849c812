//! Live streams over SSE, replayed from the durable event log. A reconnecting client sends
//! `Last-Event-ID` and gets everything after it. A stream reads the log when the event hub says
//! its name was announced (the outbox announces every committed event, on every instance) and
//! otherwise costs nothing: no stream polls.
//!
//! Streams are held open for long, so each is counted: per owner (the verified order, diner,
//! or table it follows) and per client address, and refused with 429 over either cap. Each
//! lives at most [`StreamLimits::max_lifetime`] (less a random tenth, so streams opened together
//! do not all reconnect together), then ends cleanly; the browser reconnects with
//! `Last-Event-ID` and misses nothing.

use crate::error::{ApiError, ApiResult};
use crate::forwarded::ClientIp;
use crate::state::AppState;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use diancan_storage::events::StoredEvent;
use diancan_usecases::hub::Watch;
use futures::future::BoxFuture;
use futures::{Stream, StreamExt};
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How many live streams a client may hold, and for how long.
#[derive(Debug, Clone)]
pub struct StreamLimits {
    /// Open streams per owner: one order (its guest's phones), one signed-in diner, one table.
    pub per_owner: usize,
    /// Open streams per client address (IPv6 per /64): a coarse backstop, set high because a
    /// restaurant's Wi-Fi puts every diner behind one address.
    pub per_address: usize,
    /// The longest a stream stays open before the server ends it and the client reconnects.
    pub max_lifetime: Duration,
    /// What a stream tells `EventSource` to wait before reconnecting (the SSE `retry:` field).
    pub reconnect_after: Duration,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            per_owner: 8,
            per_address: 256,
            max_lifetime: Duration::from_secs(30 * 60),
            reconnect_after: Duration::from_secs(3),
        }
    }
}

/// Seconds a refused client is told to wait: about as long as a phone takes to close a tab.
const RETRY_AFTER_SECS: u64 = 10;

/// The open streams of this instance, by owner and by address.
#[derive(Default)]
pub struct OpenStreams {
    counts: Mutex<HashMap<String, usize>>,
}

/// One admitted stream's place in the counts, given back when the stream is dropped: when it
/// ends, when its lifetime is up, or when the client goes away.
pub struct StreamSlot {
    open: Arc<OpenStreams>,
    keys: Vec<String>,
}

impl OpenStreams {
    /// A slot for a stream of `owner` from `client`, or 429 `TOO_MANY_STREAMS` over a cap.
    pub fn admit(
        self: &Arc<Self>,
        limits: &StreamLimits,
        owner: String,
        client: ClientIp,
    ) -> ApiResult<StreamSlot> {
        let mut wanted = vec![(owner, limits.per_owner)];
        if let Some(address) = client.throttle_key("stream") {
            wanted.push((address, limits.per_address));
        }
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        // Checked and taken under one lock: parallel opens cannot all slip under the cap.
        if wanted
            .iter()
            .any(|(key, cap)| counts.get(key).copied().unwrap_or(0) >= *cap)
        {
            return Err(ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "TOO_MANY_STREAMS",
                "打开的实时连接过多，请关闭其他页面后重试",
                "Too many live connections are open; close other tabs and try again",
            )
            .with_retry_after(RETRY_AFTER_SECS));
        }
        let keys: Vec<String> = wanted.into_iter().map(|(key, _)| key).collect();
        for key in &keys {
            *counts.entry(key.clone()).or_default() += 1;
        }
        Ok(StreamSlot {
            open: self.clone(),
            keys,
        })
    }

    /// Streams open for `owner` now (tests and diagnostics).
    pub fn count(&self, owner: &str) -> usize {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.get(owner).copied().unwrap_or(0)
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut counts = self.open.counts.lock().unwrap_or_else(|e| e.into_inner());
        for key in &self.keys {
            if let Some(count) = counts.get_mut(key) {
                *count -= 1;
                if *count == 0 {
                    counts.remove(key);
                }
            }
        }
    }
}

/// Opens a live stream of `stream` for `owner` (counted against the caps), resuming after the
/// request's `Last-Event-ID`.
pub fn open(
    state: AppState,
    owner: String,
    client: ClientIp,
    stream: String,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let after = last_event_id(headers);
    let keep_alive = KeepAlive::new().interval(Duration::from_secs(15));
    open_after(state, owner, client, stream, after, keep_alive)
}

/// As [`open`], resuming after `after` and keeping the connection alive with `keep_alive`.
pub fn open_after(
    state: AppState,
    owner: String,
    client: ClientIp,
    stream: String,
    after: i64,
    keep_alive: KeepAlive,
) -> ApiResult<Response> {
    open_hydrated(state, owner, client, stream, after, keep_alive, as_stored())
}

/// Turns stored events into what a stream sends. Most streams send each event as stored; the
/// orders board sends each with its order as it is now, read once per batch.
pub type Hydrate = Arc<
    dyn Fn(AppState, Vec<StoredEvent>) -> BoxFuture<'static, Result<Vec<Event>, String>>
        + Send
        + Sync,
>;

/// Each stored event as it was written, with its version as `id`.
fn as_stored() -> Hydrate {
    Arc::new(|_, stored| {
        Box::pin(async move {
            Ok(stored
                .into_iter()
                .map(|e| {
                    Event::default()
                        .id(e.stream_version.to_string())
                        .event(e.kind)
                        .data(e.payload_json)
                })
                .collect())
        })
    })
}

/// As [`open_after`], sending what `hydrate` makes of each batch of stored events.
pub fn open_hydrated(
    state: AppState,
    owner: String,
    client: ClientIp,
    stream: String,
    after: i64,
    keep_alive: KeepAlive,
    hydrate: Hydrate,
) -> ApiResult<Response> {
    let slot = state
        .streams
        .admit(&state.config.stream_limits, owner, client)?;
    Ok(stream_events(state, stream, after, slot, hydrate)
        .keep_alive(keep_alive)
        .into_response())
}

/// The version to resume after, from `Last-Event-ID` (or 0 for everything).
pub fn last_event_id(headers: &HeaderMap) -> i64 {
    resume_after(headers, None)
}

/// `Last-Event-ID` when the browser sends one (its own reconnect, which knows the latest event),
/// else `after` from the address (a screen's first connect, after the state it just read).
pub fn resume_after(headers: &HeaderMap, after: Option<i64>) -> i64 {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .or(after)
        .unwrap_or(0)
        .max(0)
}

/// How often an idle kitchen stream says it is alive. Screens say 离线 after 5 s of silence,
/// which a dead server or a pulled cable gives alike; the SSE layer sends it without reading
/// anything, so an idle stream still costs no queries.
pub const HEARTBEAT: Duration = Duration::from_secs(2);

/// A `heartbeat` event (with data, or browsers would not dispatch it) after 2 s of silence.
pub fn heartbeat() -> KeepAlive {
    KeepAlive::new()
        .interval(HEARTBEAT)
        .event(Event::default().event("heartbeat").data("1"))
}

struct Cursor {
    state: AppState,
    stream: String,
    after: i64,
    pending: VecDeque<Event>,
    watch: Watch,
    hydrate: Hydrate,
    /// Held for as long as the stream exists.
    _slot: StreamSlot,
}

/// An SSE response streaming `stream`'s events after `after`, each with its version as `id`,
/// until the stream's lifetime is up.
fn stream_events(
    state: AppState,
    stream: String,
    after: i64,
    slot: StreamSlot,
    hydrate: Hydrate,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let limits = state.config.stream_limits.clone();
    let watch = state.hub.watch(&stream);
    let cursor = Cursor {
        state,
        stream,
        after,
        pending: VecDeque::new(),
        watch,
        hydrate,
        _slot: slot,
    };
    let events = futures::stream::unfold(cursor, |mut cursor| async move {
        loop {
            if let Some(event) = cursor.pending.pop_front() {
                return Some((Ok(event), cursor));
            }
            // Armed before the read: an announcement during the read is not missed.
            let announced = cursor.watch.prepare();
            match cursor
                .state
                .db
                .events_after(&cursor.stream, cursor.after)
                .await
            {
                Ok(stored) if !stored.is_empty() => {
                    let last = stored.last().map_or(cursor.after, |e| e.stream_version);
                    let forgotten = skipped_versions(cursor.after, &stored);
                    match (cursor.hydrate)(cursor.state.clone(), stored).await {
                        Ok(events) => {
                            cursor.after = last;
                            cursor.pending.extend(forgotten.map(reset));
                            cursor.pending.extend(events);
                        }
                        Err(error) => {
                            tracing::warn!(%error, stream = %cursor.stream, "preparing events failed; retrying");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                    continue;
                }
                Ok(_) => announced.changed().await,
                Err(error) => {
                    tracing::warn!(%error, stream = %cursor.stream, "reading events failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    });
    Sse::new(within_lifetime(&limits, events))
}

/// Versions are gap-free within a stream, so a first event past `after + 1` means the log has
/// forgotten what came between (retention): the screen cannot catch up by replay alone.
fn skipped_versions(after: i64, stored: &[StoredEvent]) -> Option<(i64, i64)> {
    let first = stored.first()?.stream_version;
    (after > 0 && first > after + 1).then_some((after, first))
}

/// Tells the screen to read its state again: the events it missed are no longer kept. The
/// events that follow continue from the oldest one kept.
fn reset((after, oldest): (i64, i64)) -> Event {
    Event::default()
        .event("reset")
        .data(serde_json::json!({ "after": after, "oldest_kept": oldest }).to_string())
}

/// `events` after the `retry:` field, until the stream's lifetime is up. The field comes first,
/// so the reconnect after the lifetime ends comes soon and alike in every browser.
fn within_lifetime<S: Stream<Item = Result<Event, Infallible>>>(
    limits: &StreamLimits,
    events: S,
) -> impl Stream<Item = Result<Event, Infallible>> + use<S> {
    let reconnect_after = limits.reconnect_after;
    let retry = futures::stream::once(async move {
        Ok::<_, Infallible>(Event::default().retry(reconnect_after).comment("live"))
    });
    let lifetime = jittered(limits.max_lifetime);
    retry.chain(events).take_until(tokio::time::sleep(lifetime))
}

/// `lifetime` less up to a tenth, at random: streams opened in one burst (a restart, a busy
/// lunch) spread their reconnects out instead of returning together.
fn jittered(lifetime: Duration) -> Duration {
    lifetime.mul_f64(1.0 - rand::random::<f64>() / 10.0)
}

struct Snapshots<F> {
    state: AppState,
    kind: &'static str,
    last: Option<String>,
    pending: Option<Event>,
    watch: Watch,
    read: F,
    /// Held for as long as the stream exists.
    _slot: StreamSlot,
}

/// An SSE response for a screen that shows a small present state (expo's orders, the pickup
/// calls) rather than following a log: `read` is sent on connect and again whenever `channel` is
/// announced and the answer differs from the last one sent. A reconnect simply gets the state
/// as it is; there is nothing to replay. Heartbeats as [`heartbeat`]; counted against the caps
/// for `owner` and `client`, and ended after its lifetime, as every stream is.
pub fn open_snapshots<F, Fut, E>(
    state: AppState,
    owner: String,
    client: ClientIp,
    channel: String,
    kind: &'static str,
    read: F,
) -> ApiResult<Response>
where
    F: Fn(AppState) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<String, E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let slot = state
        .streams
        .admit(&state.config.stream_limits, owner, client)?;
    let limits = state.config.stream_limits.clone();
    let watch = state.hub.watch(&channel);
    let snapshots = Snapshots {
        state,
        kind,
        last: None,
        pending: None,
        watch,
        read,
        _slot: slot,
    };
    let events = futures::stream::unfold(snapshots, |mut s| async move {
        loop {
            if let Some(event) = s.pending.take() {
                return Some((Ok(event), s));
            }
            let announced = s.watch.prepare();
            match (s.read)(s.state.clone()).await {
                Ok(json) if s.last.as_deref() != Some(json.as_str()) => {
                    s.pending = Some(Event::default().event(s.kind).data(json.as_str()));
                    s.last = Some(json);
                    continue;
                }
                Ok(_) => announced.changed().await,
                Err(error) => {
                    tracing::warn!(%error, kind = s.kind, "reading a snapshot failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    });
    Ok(Sse::new(within_lifetime(&limits, events))
        .keep_alive(heartbeat())
        .into_response())
}
