//! Live streams over SSE, replayed from the durable event log. A reconnecting client sends
//! `Last-Event-ID` and gets everything after it. A stream reads the log when the event hub says
//! its name was announced (the outbox announces every committed event, on every instance) and
//! otherwise costs nothing: no stream polls.

use crate::state::AppState;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use diancan_usecases::hub::Watch;
use futures::Stream;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

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
}

/// An SSE response streaming `stream`'s events after `after`, each with its version as `id`.
pub fn stream_events(
    state: AppState,
    stream: String,
    after: i64,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let watch = state.hub.watch(&stream);
    let cursor = Cursor {
        state,
        stream,
        after,
        pending: VecDeque::new(),
        watch,
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
                    for e in stored {
                        cursor.after = e.stream_version;
                        cursor.pending.push_back(
                            Event::default()
                                .id(e.stream_version.to_string())
                                .event(e.kind)
                                .data(e.payload_json),
                        );
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
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

struct Snapshots<F> {
    state: AppState,
    kind: &'static str,
    last: Option<String>,
    pending: Option<Event>,
    watch: Watch,
    read: F,
}

/// An SSE response for a screen that shows a small present state (expo's orders, the pickup
/// calls) rather than following a log: `read` is sent on connect and again whenever `channel` is
/// announced and the answer differs from the last one sent. A reconnect simply gets the state
/// as it is; there is nothing to replay. Heartbeats as [`heartbeat`].
pub fn stream_snapshots<F, Fut, E>(
    state: AppState,
    channel: String,
    kind: &'static str,
    read: F,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>>
where
    F: Fn(AppState) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<String, E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let watch = state.hub.watch(&channel);
    let snapshots = Snapshots {
        state,
        kind,
        last: None,
        pending: None,
        watch,
        read,
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
    Sse::new(events).keep_alive(heartbeat())
}
