//! Group commit for every write of ordering.
//!
//! Placing an order or moving one along costs a flush to disk and a handful of statements; done
//! one per transaction, a busy store spends its time waiting on flushes and round trips rather
//! than working (staff actions ran at a fifth of placement's speed that way). So writes that
//! arrive together are written together: a lane task takes every write waiting in its queue and
//! runs the whole batch in one transaction, placements first (`placement.rs`) and then changes
//! (`changes.rs`), each with a fixed number of statements per batch, then commits once and only
//! then answers each caller. Nothing waits on a timer: a lone write commits at once, and writes
//! that arrive while a batch is being written form the next one.
//!
//! The lane runs apart from the request, so a client that hangs up mid-request can never leave
//! a transaction open, nor get an answer for a write that was not committed. Lanes are chosen by
//! store, so one store's writes never wait on each other's row locks inside one instance; if
//! PostgreSQL reports a deadlock (a console write, another instance) the whole batch rolled back
//! and is simply run again, and a batch that fails otherwise runs its writes one by one, so one
//! unwritable write fails alone.

use super::changes::{ChangeError, ChangeRequest, change_in};
use super::placement::{NewOrder, PlaceError, Placed, place_in};
use crate::error::{Result, StorageError};
use crate::tx::WritePool;
use diancan_domain::StoreId;
use diancan_domain::ordering::Order;
use std::sync::{Arc, OnceLock};
use tokio::sync::{Notify, mpsc, oneshot};

/// Most writes in one transaction: bounds how long the first of them waits for its answer.
const MAX_BATCH: usize = 128;
/// Writes queued per lane before callers wait to hand theirs over.
const QUEUE_DEPTH: usize = 2048;
/// A batch that hit a deadlock is run this many times before its callers get the error.
const ATTEMPTS: u8 = 3;

enum Job {
    Place {
        order: Box<NewOrder>,
        reply: oneshot::Sender<std::result::Result<Placed, PlaceError>>,
    },
    Change {
        request: ChangeRequest,
        /// Staff changes name their store; the diner's and the system's are looked up.
        store: Option<StoreId>,
        reply: oneshot::Sender<std::result::Result<Order, ChangeError>>,
    },
}

impl Job {
    fn store(&self) -> Option<StoreId> {
        match self {
            Job::Place { order, .. } => Some(order.store_id),
            Job::Change { store, .. } => *store,
        }
    }
}

/// The write lanes of one database (opaque), started on first use, so a `Db` can be made
/// outside a runtime.
#[derive(Clone)]
pub struct WriteLanes {
    pool: WritePool,
    count: usize,
    /// Rung after every commit: each batch writes outbox rows for the deliverer.
    bell: Arc<Notify>,
    senders: Arc<OnceLock<Vec<mpsc::Sender<Job>>>>,
}

impl WriteLanes {
    pub(crate) fn new(pool: WritePool, count: usize) -> Self {
        WriteLanes {
            pool,
            count: count.max(1),
            bell: Arc::new(Notify::new()),
            senders: Arc::new(OnceLock::new()),
        }
    }

    /// Rung after each commit of a batch (see the outbox worker).
    pub(crate) fn bell(&self) -> Arc<Notify> {
        self.bell.clone()
    }

    pub(crate) async fn place(&self, order: NewOrder) -> std::result::Result<Placed, PlaceError> {
        let (reply, answer) = oneshot::channel();
        let job = Job::Place {
            order: Box::new(order),
            reply,
        };
        self.submit(job).await.map_err(PlaceError::Storage)?;
        answer.await.map_err(|_| PlaceError::Storage(lane_gone()))?
    }

    pub(crate) async fn change(
        &self,
        request: ChangeRequest,
    ) -> std::result::Result<Order, ChangeError> {
        let (reply, answer) = oneshot::channel();
        let store = request.scope.map(|(_, store)| store);
        let job = Job::Change {
            request,
            store,
            reply,
        };
        self.submit(job).await.map_err(ChangeError::Storage)?;
        answer
            .await
            .map_err(|_| ChangeError::Storage(lane_gone()))?
    }

    async fn submit(&self, job: Job) -> Result<()> {
        let senders = self.senders.get_or_init(|| {
            (0..self.count)
                .map(|_| {
                    let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
                    tokio::spawn(run_lane(self.pool.clone(), self.bell.clone(), receiver));
                    sender
                })
                .collect()
        });
        // A change without a store (the diner's, the system's) may go to any lane: its order's
        // row lock orders it against the store's other writes.
        let key = job.store().map_or(0, |s| {
            (s.as_uuid().as_u128() % senders.len() as u128) as usize
        });
        senders[key].send(job).await.map_err(|_| lane_gone())
    }
}

fn lane_gone() -> StorageError {
    StorageError::Unavailable("the order writer has stopped".into())
}

async fn run_lane(pool: WritePool, bell: Arc<Notify>, mut queue: mpsc::Receiver<Job>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // Arrival order is kept: it decides who gets the last bowl, and whether an accept or a
        // diner's cancel came first. Lock order comes from the ordered maps inside the batch.
        match write_with_retries(&pool, &batch).await {
            Ok(outcomes) => {
                bell.notify_one();
                answer(batch, outcomes)
            }
            // One bad write must not fail its neighbours: run each alone to find it.
            Err(error) if batch.len() > 1 => {
                tracing::warn!(%error, writes = batch.len(), "a batch failed; writing one by one");
                for job in batch {
                    let alone = std::slice::from_ref(&job);
                    match write_with_retries(&pool, alone).await {
                        Ok(outcomes) => {
                            bell.notify_one();
                            answer(vec![job], outcomes)
                        }
                        Err(error) => fail(job, &error),
                    }
                }
            }
            Err(error) => batch.into_iter().for_each(|job| fail(job, &error)),
        }
    }
}

/// The answers of one batch, in the order of its placements and then its changes.
struct Outcomes {
    placed: Vec<std::result::Result<Placed, PlaceError>>,
    changed: Vec<std::result::Result<Order, ChangeError>>,
}

async fn write_with_retries(pool: &WritePool, batch: &[Job]) -> Result<Outcomes> {
    let mut attempt = 1;
    loop {
        match write_batch(pool, batch).await {
            Err(error) if error.is_transient() && attempt < ATTEMPTS => attempt += 1,
            other => return other,
        }
    }
}

async fn write_batch(pool: &WritePool, batch: &[Job]) -> Result<Outcomes> {
    let orders: Vec<&NewOrder> = batch
        .iter()
        .filter_map(|job| match job {
            Job::Place { order, .. } => Some(order.as_ref()),
            Job::Change { .. } => None,
        })
        .collect();
    let requests: Vec<&ChangeRequest> = batch
        .iter()
        .filter_map(|job| match job {
            Job::Change { request, .. } => Some(request),
            Job::Place { .. } => None,
        })
        .collect();
    let mut tx = pool.begin().await?;
    let placed = if orders.is_empty() {
        Vec::new()
    } else {
        place_in(&mut tx, &orders).await?
    };
    let changed = if requests.is_empty() {
        Vec::new()
    } else {
        change_in(&mut tx, &requests).await?
    };
    tx.commit().await?;
    Ok(Outcomes { placed, changed })
}

fn answer(jobs: Vec<Job>, outcomes: Outcomes) {
    let mut placed = outcomes.placed.into_iter();
    let mut changed = outcomes.changed.into_iter();
    for job in jobs {
        // The caller may have hung up; its write stands, and a retry replays it.
        match job {
            Job::Place { reply, .. } => {
                if let Some(outcome) = placed.next() {
                    let _ = reply.send(outcome);
                }
            }
            Job::Change { reply, .. } => {
                if let Some(outcome) = changed.next() {
                    let _ = reply.send(outcome);
                }
            }
        }
    }
}

fn fail(job: Job, error: &StorageError) {
    match job {
        Job::Place { order, reply } => {
            tracing::error!(%error, order = %order.id, "placing an order failed");
            let _ = reply.send(Err(PlaceError::Storage(StorageError::Unavailable(
                error.to_string(),
            ))));
        }
        Job::Change { request, reply, .. } => {
            tracing::error!(%error, order = %request.order_id, "changing an order failed");
            let _ = reply.send(Err(ChangeError::from_storage(error)));
        }
    }
}
