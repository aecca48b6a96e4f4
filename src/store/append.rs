//! The one way to append to the log.
//!
//! [`Store::append`] owns ordering, chaining, disclosures, the head and the read views, and does
//! all of it in one transaction:
//!
//! 1. Take the write lock on the head: `SELECT … FOR UPDATE` on PostgreSQL (which serialises
//!    appenders across every service process on the database), a `BEGIN IMMEDIATE` transaction on
//!    SQLite (which holds the database write lock from the first statement).
//! 2. Check that the head names the last stored entry; if not, the log is inconsistent and the
//!    append is refused (a broken log is fatal for writes).
//! 3. Build the entry at `leaf_index = tree_size` linking to `head_hash`, with `recorded_at` never
//!    earlier than the previous entry's, and encode it canonically.
//! 4. Insert the entry and its disclosures, grow the Merkle tree, advance the head, carry out
//!    the entry's effects on stored disclosures (erasure, publication), update the read views,
//!    record the idempotency key if one was given, commit.
//!
//! Decision and lineage appends run these steps for a whole batch of entries in one transaction
//! (the [`super::sequencer`]); token changes run them inside their own.
//!
//! The entry is acknowledged only after the commit returns, so an acknowledged entry is durable.
//! Should two appenders ever read the same head despite the lock, the unique constraints on
//! `leaf_index` and `prev_hash` make the second insert fail instead of forking the chain.

use chrono::{DateTime, Utc};
use ledger::entry::Entry;
use ledger::{Disclosure, EntryKind, Hash};
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, QuerySelect,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use serde_json::Value;

use super::batch::{Pending, Tip};
use super::entities::log_head;
use super::idempotency::{Claim, Replay};
use super::sequencer::Job;
use super::{DecisionView, Store, StoreError};
use crate::record::Visibility;

/// What a caller asks to append; the store supplies position, link and time.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// What happened.
    pub kind: EntryKind,
    /// The decision it is about.
    pub decision_id: String,
    /// The name of the token that asked.
    pub recorded_by: String,
    /// The payload in hashed form (committed values as placeholders).
    pub record: Value,
    /// The disclosures that open the payload's commitments, with who may see each.
    pub disclosures: Vec<(Disclosure, Visibility)>,
}

impl Store {
    /// Opens a write transaction holding the log's write lock, and reads the head under it.
    /// Every writer of the log or its views goes through here, so they take turns.
    pub(super) async fn lock_head(
        &self,
    ) -> Result<(DatabaseTransaction, log_head::Model), StoreError> {
        let backend = self.backend();
        let txn = self
            .db
            .begin_with_options(TransactionOptions {
                isolation_level: None,
                access_mode: Some(AccessMode::ReadWrite).filter(|_| backend == DbBackend::Postgres),
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            })
            .await?;
        let mut head_query = log_head::Entity::find_by_id(1);
        if backend == DbBackend::Postgres {
            head_query = head_query.lock_exclusive();
        }
        let head_row = head_query
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::Inconsistent("the log_head row is missing".into()))?;
        Ok((txn, head_row))
    }

    /// Appends one entry and returns it with its entry hash once it is durable. With a claim on
    /// an idempotency key that was used before for the same request, appends nothing and says
    /// which entry the first request appended. The entry is committed in a batch with the
    /// appends asked for at the same time ([`super::sequencer`]).
    pub async fn append(
        &self,
        new: NewEntry,
        claim: Option<&Claim>,
        now: DateTime<Utc>,
    ) -> Result<Appended, StoreError> {
        self.sequencer()
            .append(Job::Entry(new), claim.cloned(), now)
            .await
    }
}

/// The head, read inside `txn`, a write transaction that may already hold the append lock:
/// takes it (a no-op when held).
pub(super) async fn read_head(txn: &DatabaseTransaction) -> Result<log_head::Model, StoreError> {
    let mut head_query = log_head::Entity::find_by_id(1);
    if txn.get_database_backend() == DbBackend::Postgres {
        head_query = head_query.lock_exclusive();
    }
    head_query
        .one(txn)
        .await?
        .ok_or_else(|| StoreError::Inconsistent("the log_head row is missing".into()))
}

/// Appends `new` inside `txn`, a write transaction that may already hold the append lock: takes
/// it (a no-op when held) and reads the head under it. For writes that append as part of a
/// larger change, such as a token and the grant that records it.
pub(super) async fn append_within(
    txn: &DatabaseTransaction,
    new: NewEntry,
    now: DateTime<Utc>,
) -> Result<(Entry, Hash), StoreError> {
    let head_row = read_head(txn).await?;
    append_locked(txn, &head_row, new, now).await
}

/// What an append did.
#[derive(Debug, Clone)]
pub enum Appended {
    /// It appended this entry, with this entry hash.
    Fresh(Entry, Hash),
    /// It appended this new decision, with this entry hash; the read view now holds it so.
    Recorded(Entry, Hash, Box<DecisionView>),
    /// It was a retry of the request that appended the entry at this leaf index.
    Replayed(u64),
}

pub(super) fn replayed(replay: Replay) -> Result<Appended, StoreError> {
    match replay {
        Replay::Entry(leaf) => Ok(Appended::Replayed(leaf)),
        Replay::Response { .. } => Err(StoreError::KeyReused),
    }
}

/// Appends `new` inside `txn`, which holds the append lock and read `head_row` under it: checks
/// the head, writes the entry, its disclosures, the tree nodes, the head and the read views
/// ([`super::batch`] does it, for a batch of one). The caller commits.
pub(super) async fn append_locked(
    txn: &DatabaseTransaction,
    head_row: &log_head::Model,
    new: NewEntry,
    now: DateTime<Utc>,
) -> Result<(Entry, Hash), StoreError> {
    let mut tip = Tip::read(txn, head_row).await?;
    let mut pending = Pending::new(&tip);
    let (entry, entry_hash, _) = pending.append(txn, &mut tip, new, None, now).await?;
    pending.flush(txn, &tip).await?;
    Ok((entry, entry_hash))
}

/// A position of the log as stored: one that does not fit a `BIGINT` means the log contradicts
/// itself. Never for a number from a request: see [`bound`].
pub(super) fn to_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Inconsistent(format!("{n} does not fit a BIGINT")))
}

/// A leaf index or tree size that a reader asked for, as a bound on a `BIGINT` column. No stored
/// position exceeds `i64::MAX` (no log reaches 2^63 entries), so a larger bound selects exactly
/// what `i64::MAX` does. Unlike [`to_i64`] it cannot fail: a request must never be able to make
/// the log look inconsistent.
pub(super) fn bound(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
