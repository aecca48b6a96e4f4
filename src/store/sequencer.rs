//! The sequencer: appends asked for concurrently are committed together.
//!
//! Every decision and lineage append of a process queues here ([`Store::append`],
//! [`Store::append_lineage`]). One task takes what is queued as a batch, takes the log's write
//! lock once ([`Store::lock_head`]), appends each job in queue order inside its own savepoint, and
//! commits once. A job refused under the lock (a lineage rule against the decision's state, a
//! reused idempotency key, an entry too large) is rolled back to its savepoint and refused alone;
//! the rest of the batch commits. Each request is answered only after the commit has returned, so
//! an acknowledged entry is durable exactly as before; if the commit fails, every request of the
//! batch is told that nothing was appended ([`StoreError::NotCommitted`]), and nothing was.
//!
//! A batch closes when the queue is empty or [`Batching::max_entries`] jobs are taken, after
//! waiting at most [`Batching::max_delay`] for more, and only once the lock is held: the requests
//! that queue while another process holds the lock join the batch that waited for it. With no
//! delay (the default), batches form by themselves under load: the requests that arrive while one
//! batch commits make the next.
//!
//! Several processes on one PostgreSQL database each run their own sequencer; their batches take
//! turns on the head lock as single appends did. Redactions do not queue: their erasure must be
//! scrubbed from the database files after their own commit, outside any batch.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseTransaction, TransactionTrait};
use tokio::sync::{mpsc, oneshot};

use ledger::{Entry, EntryKind, Hash};

use super::append::{Appended, NewEntry, replayed};
use super::batch::{Pending, Tip};
use super::entities::log_head;
use super::idempotency::{self, Claim};
use super::lineage::{LineageRequest, plan_lineage};
use super::views::DecisionView;
use super::{Store, StoreError};
use crate::metrics::AppendMetrics;

/// How the sequencer forms batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batching {
    /// The most jobs one batch takes.
    pub max_entries: usize,
    /// How long a batch waits for more jobs once it has one, when the queue runs dry.
    pub max_delay: Duration,
}

impl Default for Batching {
    fn default() -> Self {
        Batching {
            max_entries: 256,
            max_delay: Duration::ZERO,
        }
    }
}

/// What an append asks the log for.
pub(super) enum Job {
    /// A new decision (or any entry the caller built whole).
    Entry(NewEntry),
    /// A lineage entry about decision `id`, planned against its state under the lock.
    Lineage {
        id: String,
        request: LineageRequest,
        recorded_by: String,
    },
}

/// A job with what its request asked and where to answer it.
struct Queued {
    work: Work,
    asked: Instant,
    reply: oneshot::Sender<Result<Appended, StoreError>>,
}

/// What a batch appends for one request: the job, the idempotency key it claims, its time.
struct Work {
    job: Job,
    claim: Option<Claim>,
    now: DateTime<Utc>,
}

/// The queue into one process's sequencer task.
pub(super) struct Sequencer {
    queue: mpsc::UnboundedSender<Queued>,
    depth: Arc<AtomicU64>,
}

impl Sequencer {
    /// Starts the task that commits `store`'s batches. It ends when the last handle is dropped.
    pub(super) fn start(store: Store, batching: Batching) -> Sequencer {
        let (queue, jobs) = mpsc::unbounded_channel();
        let depth = Arc::new(AtomicU64::new(0));
        tokio::spawn(run(store, batching, jobs, depth.clone()));
        Sequencer { queue, depth }
    }

    /// Queues `job` and waits until its batch has committed (or failed).
    pub(super) async fn append(
        &self,
        job: Job,
        claim: Option<Claim>,
        now: DateTime<Utc>,
    ) -> Result<Appended, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.depth.fetch_add(1, Ordering::Relaxed);
        let queued = Queued {
            work: Work { job, claim, now },
            asked: Instant::now(),
            reply,
        };
        if self.queue.send(queued).is_err() {
            self.depth.fetch_sub(1, Ordering::Relaxed);
            return Err(StoreError::NotCommitted("the sequencer has stopped".into()));
        }
        answer.await.unwrap_or_else(|_| {
            Err(StoreError::NotCommitted(
                "the sequencer stopped before the batch committed".into(),
            ))
        })
    }

    /// Jobs queued and not yet taken into a batch.
    pub(super) fn depth(&self) -> u64 {
        self.depth.load(Ordering::Relaxed)
    }
}

async fn run(
    store: Store,
    batching: Batching,
    mut jobs: mpsc::UnboundedReceiver<Queued>,
    depth: Arc<AtomicU64>,
) {
    let max = batching.max_entries.max(1);
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + batching.max_delay;
        while batch.len() < max && !batching.max_delay.is_zero() {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => match tokio::time::timeout_at(deadline, jobs.recv()).await {
                    Ok(Some(job)) => batch.push(job),
                    Ok(None) | Err(_) => break,
                },
            }
        }
        // The lock is taken before the batch closes: what queued while another process held
        // it joins this batch instead of waiting for the next turn.
        let locked = store.lock_head().await;
        while batch.len() < max {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        depth.fetch_sub(batch.len() as u64, Ordering::Relaxed);
        commit(&store, locked, batch).await;
    }
}

/// Appends every job of `batch` in one transaction, `locked` (the lock taken, or why not), and
/// answers each.
async fn commit(
    store: &Store,
    locked: Result<(DatabaseTransaction, log_head::Model), StoreError>,
    batch: Vec<Queued>,
) {
    let size = batch.len();
    let (work, waiting): (Vec<Work>, Vec<_>) = batch
        .into_iter()
        .map(|queued| (queued.work, (queued.asked, queued.reply)))
        .unzip();
    let appended = match locked {
        Ok((txn, head_row)) => append_all(txn, &head_row, work).await,
        Err(error) => Err(error),
    };
    let outcomes = match appended {
        Ok(outcomes) => outcomes,
        Err(error) => {
            let why = error.to_string();
            tracing::warn!(entries = size, error = %why, "a batch of appends did not commit");
            (0..size)
                .map(|_| {
                    Err(match &error {
                        // The log contradicts itself: every append says so, as a single one would.
                        StoreError::Inconsistent(what) => StoreError::Inconsistent(what.clone()),
                        _ => StoreError::NotCommitted(why.clone()),
                    })
                })
                .collect()
        }
    };
    if outcomes
        .iter()
        .any(|o| matches!(o, Ok(Appended::Fresh(..) | Appended::Recorded(..))))
    {
        store.moved();
    }
    let metrics: &AppendMetrics = &store.appends;
    metrics.observe_batch(size);
    for ((asked, reply), outcome) in waiting.into_iter().zip(outcomes) {
        if let Ok(Appended::Fresh(entry, _) | Appended::Recorded(entry, ..)) = &outcome {
            metrics.observe(entry.kind, asked.elapsed());
        }
        // A request that gave up waiting has nobody to answer; its entry stands.
        let _ = reply.send(outcome);
    }
}

/// The outcome of each job, in order, once the batch has committed; an error if it did not.
async fn append_all(
    txn: DatabaseTransaction,
    head_row: &log_head::Model,
    batch: Vec<Work>,
) -> Result<Vec<Result<Appended, StoreError>>, StoreError> {
    let mut tip = Tip::read(&txn, head_row).await?;
    let mut pending = Pending::new(&tip);
    let mut outcomes = Vec::with_capacity(batch.len());
    for work in batch {
        let staged = matches!(&work.job, Job::Entry(new) if new.kind == EntryKind::DecisionRecorded)
            && !work.claim.as_ref().is_some_and(|c| pending.has_claim(c));
        let outcome = if staged {
            // A new decision is only staged, and a refusal stages nothing.
            append_one(&txn, &mut pending, &mut tip, work).await
        } else {
            // Its checks read the database: write what is pending first, and give the job a
            // savepoint of its own, so that a refusal leaves its neighbours as they were.
            pending.flush(&txn, &tip).await?;
            let savepoint = txn.begin().await?;
            let before = tip.clone();
            let appended = match append_one(&savepoint, &mut pending, &mut tip, work).await {
                Ok(appended) => pending.flush(&savepoint, &tip).await.map(|()| appended),
                Err(refused) => Err(refused),
            };
            match appended {
                Ok(appended) => {
                    savepoint.commit().await?;
                    Ok(appended)
                }
                Err(refused) => {
                    savepoint.rollback().await?;
                    tip = before;
                    pending = Pending::new(&tip);
                    Err(refused)
                }
            }
        };
        outcomes.push(outcome);
    }
    pending.flush(&txn, &tip).await?;
    txn.commit().await?;
    Ok(outcomes)
}

/// One job inside the batch's transaction (which holds the lock): its idempotency key looked
/// up, a lineage request planned against the decision's current state, the entry appended.
async fn append_one(
    txn: &DatabaseTransaction,
    pending: &mut Pending,
    tip: &mut Tip,
    work: Work,
) -> Result<Appended, StoreError> {
    if let Some(claim) = &work.claim
        && let Some(replay) = idempotency::find(txn, claim).await?
    {
        return replayed(replay);
    }
    let new = match work.job {
        Job::Entry(new) => new,
        Job::Lineage {
            id,
            request,
            recorded_by,
        } => plan_lineage(txn, &id, &request, &recorded_by, work.now).await?,
    };
    let appended = pending
        .append(txn, tip, new, work.claim.as_ref(), work.now)
        .await?;
    Ok(fresh(appended))
}

/// What an append that appended says.
fn fresh((entry, entry_hash, view): (Entry, Hash, Option<DecisionView>)) -> Appended {
    match view {
        Some(view) => Appended::Recorded(entry, entry_hash, Box::new(view)),
        None => Appended::Fresh(entry, entry_hash),
    }
}
