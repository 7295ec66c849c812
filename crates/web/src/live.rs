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
