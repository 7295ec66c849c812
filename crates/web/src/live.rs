//! Live streams over SSE, replayed from the durable event log. A reconnecting client sends
//! `Last-Event-ID` and gets everything after it. Writers on this instance wake readers at once;
//! on PostgreSQL every instance also wakes on the database's notification of each committed
//! event, and readers re-read the log every few seconds in case a notification was lost.

use crate::state::AppState;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast;

/// Tells readers on this instance that a stream has new events.
#[derive(Clone)]
pub struct LiveHub {
    sender: broadcast::Sender<String>,
}

impl Default for LiveHub {
    fn default() -> Self {
        LiveHub {
            sender: broadcast::channel(1024).0,
        }
    }
}

impl LiveHub {
    pub fn notify(&self, stream: &str) {
        // No receiver is fine: nobody is watching.
        let _ = self.sender.send(stream.to_owned());
    }
}

/// Wakes this instance's readers when another instance commits an event (PostgreSQL).
pub async fn listen_across_instances(state: &AppState) {
    let hub = state.live.clone();
    state
        .db
        .listen_for_events(move |stream| hub.notify(stream))
        .await;
}

/// The version to resume after, from `Last-Event-ID` (or 0 for everything).
pub fn last_event_id(headers: &HeaderMap) -> i64 {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

struct Cursor {
    state: AppState,
    stream: String,
    after: i64,
    pending: VecDeque<Event>,
    wake: broadcast::Receiver<String>,
}

/// An SSE response streaming `stream`'s events after `after`, each with its version as `id`.
pub fn stream_events(
    state: AppState,
    stream: String,
    after: i64,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let wake = state.live.sender.subscribe();
    let cursor = Cursor {
        state,
        stream,
        after,
        pending: VecDeque::new(),
        wake,
    };
    let events = futures::stream::unfold(cursor, |mut cursor| async move {
        loop {
            if let Some(event) = cursor.pending.pop_front() {
                return Some((Ok(event), cursor));
            }
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
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, stream = %cursor.stream, "reading events failed; retrying")
                }
            }
            wait_for(&mut cursor).await;
        }
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

async fn wait_for(cursor: &mut Cursor) {
    let deadline = tokio::time::sleep(Duration::from_millis(cursor.state.config.live_poll_ms));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            _ = &mut deadline => return,
            woke = cursor.wake.recv() => match woke {
                Ok(stream) if stream == cursor.stream => return,
                Ok(_) => continue,
                // Missed notifications: read the log now rather than guess.
                Err(broadcast::error::RecvError::Lagged(_)) => return,
                Err(broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}
