//! The event hub: wakes whoever watches a stream (an order page, the board, a kitchen screen)
//! when the outbox announces it, and tells observers (the menu cache) what changed. On
//! PostgreSQL an announcement is a NOTIFY that every instance's listener hears (this one's
//! too); SQLite is one process, so the hub wakes its watchers directly. Watching costs nothing
//! while idle: each stream name has one `Notify`, created on first watch and dropped with its
//! last watcher; no watcher polls.

use diancan_storage::events::EVERY_STREAM;
use diancan_storage::{Backend, Db, StorageError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::Notify;

type Observer = Arc<dyn Fn(&str) + Send + Sync>;

#[derive(Clone)]
pub struct EventHub {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    watched: Mutex<Watched>,
    observers: Mutex<Vec<Observer>>,
    /// Woken by `*`: a listener reconnected and announcements may have been missed.
    everything: Notify,
}

#[derive(Default)]
struct Watched {
    streams: HashMap<String, Weak<Notify>>,
    /// New watches since the last sweep of dead entries.
    since_sweep: usize,
}

/// A watch on one stream: `changed()` returns when the stream may have news.
pub struct Watch {
    stream: Arc<Notify>,
    hub: EventHub,
}

impl Watch {
    /// Waits for the next announcement of this stream (or of every stream). Register with
    /// [`Watch::prepare`] before reading the log, so an announcement between the read and the
    /// wait is not missed.
    pub fn prepare(&self) -> Prepared<'_> {
        let mut stream = Box::pin(self.stream.notified());
        stream.as_mut().enable();
        let mut everything = Box::pin(self.hub.inner.everything.notified());
        everything.as_mut().enable();
        Prepared { stream, everything }
    }
}

/// An armed wait (see [`Watch::prepare`]).
pub struct Prepared<'a> {
    stream: std::pin::Pin<Box<tokio::sync::futures::Notified<'a>>>,
    everything: std::pin::Pin<Box<tokio::sync::futures::Notified<'a>>>,
}

impl Prepared<'_> {
    pub async fn changed(self) {
        let Prepared { stream, everything } = self;
        tokio::select! {
            _ = stream => {}
            _ = everything => {}
        }
    }
}

impl EventHub {
    pub fn new(db: Db) -> EventHub {
        EventHub {
            inner: Arc::new(Inner {
                db,
                watched: Mutex::new(Watched::default()),
                observers: Mutex::new(Vec::new()),
                everything: Notify::new(),
            }),
        }
    }

    pub fn watch(&self, stream: &str) -> Watch {
        let mut watched = self.inner.watched.lock().expect("hub lock");
        watched.since_sweep += 1;
        if watched.since_sweep > 1024 {
            watched.streams.retain(|_, w| w.strong_count() > 0);
            watched.since_sweep = 0;
        }
        let notify = match watched.streams.get(stream).and_then(Weak::upgrade) {
            Some(existing) => existing,
            None => {
                let fresh = Arc::new(Notify::new());
                watched
                    .streams
                    .insert(stream.to_owned(), Arc::downgrade(&fresh));
                fresh
            }
        };
        Watch {
            stream: notify,
            hub: self.clone(),
        }
    }

    /// Called with every announced name, on this instance, whoever announced it.
    pub fn observe(&self, observer: impl Fn(&str) + Send + Sync + 'static) {
        self.inner
            .observers
            .lock()
            .expect("hub lock")
            .push(Arc::new(observer));
    }

    /// How many streams are being watched right now (for health and tests).
    pub fn watched_streams(&self) -> usize {
        let watched = self.inner.watched.lock().expect("hub lock");
        watched
            .streams
            .values()
            .filter(|w| w.strong_count() > 0)
            .count()
    }

    /// Announces names to every instance: NOTIFY on PostgreSQL (this instance hears its own),
    /// directly on SQLite.
    pub async fn announce(&self, names: &[String]) -> Result<(), StorageError> {
        match self.inner.db.backend() {
            Backend::Postgres => self.inner.db.announce(names).await,
            Backend::Sqlite => {
                for name in names {
                    self.heard(name);
                }
                Ok(())
            }
        }
    }

    /// Starts hearing other instances' announcements (PostgreSQL); returns once listening.
    pub async fn listen_across_instances(&self) {
        let hub = self.clone();
        self.inner
            .db
            .listen_for_announcements(move |name| hub.heard(name))
            .await;
    }

    /// Wakes this instance's watchers of `name` and tells the observers.
    pub fn heard(&self, name: &str) {
        if name == EVERY_STREAM {
            self.inner.everything.notify_waiters();
        } else if let Some(notify) = self
            .inner
            .watched
            .lock()
            .expect("hub lock")
            .streams
            .get(name)
            .and_then(Weak::upgrade)
        {
            notify.notify_waiters();
        }
        let observers = self.inner.observers.lock().expect("hub lock").clone();
        for observer in observers {
            observer(name);
        }
    }
}
