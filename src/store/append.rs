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

use chrono::{DateTime, SecondsFormat, Utc};
use ledger::entry::{self, Entry, FORMAT_VERSION};
use ledger::{Disclosure, EntryKind, Hash};
use sea_orm::{
    AccessMode, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend,
    EntityTrait, QueryFilter, QuerySelect, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use serde_json::Value;

use super::entities::{disclosure, log_entry, log_head};
use super::idempotency::{Claim, Replay};
use super::sequencer::Job;
use super::{MAX_ENTRY_BYTES, Store, StoreError, effects, head_of, tree, views};
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
/// the head, writes the entry, its disclosures, the tree nodes, the head and the read views.
/// The caller commits.
pub(super) async fn append_locked(
    txn: &DatabaseTransaction,
    head_row: &log_head::Model,
    new: NewEntry,
    now: DateTime<Utc>,
) -> Result<(Entry, Hash), StoreError> {
    {
        let head = head_of(head_row)?;

        if head.tree_size > 0 {
            let last = log_entry::Entity::find_by_id(to_i64(head.tree_size - 1)?)
                .select_only()
                .column(log_entry::Column::EntryHash)
                .into_tuple::<Vec<u8>>()
                .one(txn)
                .await?;
            if last.as_deref() != Some(head.head_hash.as_bytes().as_slice()) {
                return Err(StoreError::Inconsistent(format!(
                    "the head says entry {} hashes to {}, but the stored entry does not",
                    head.tree_size - 1,
                    head.head_hash
                )));
            }
        }

        // Time never runs backwards along the log, even if the server clock does.
        let previous = head_row
            .recorded_at
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        let recorded_at = previous.map_or(now, |p| p.max(now));

        let entry = Entry {
            format: FORMAT_VERSION,
            leaf_index: head.tree_size,
            kind: new.kind,
            decision_id: new.decision_id,
            recorded_at: recorded_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            recorded_by: new.recorded_by,
            prev_hash: head.head_hash,
            record: new.record,
        };
        let canonical = entry.canonical_bytes().map_err(|e| {
            StoreError::Inconsistent(format!("the entry has no canonical form: {e}"))
        })?;
        if canonical.len() > MAX_ENTRY_BYTES {
            return Err(StoreError::EntryTooLarge {
                size: canonical.len(),
            });
        }
        let entry_hash = entry::entry_hash(&canonical);
        let leaf_index = to_i64(entry.leaf_index)?;

        log_entry::Entity::insert(log_entry::ActiveModel {
            leaf_index: Set(leaf_index),
            entry_hash: Set(entry_hash.as_bytes().to_vec()),
            prev_hash: Set(entry.prev_hash.as_bytes().to_vec()),
            kind: Set(entry.kind.as_str().to_owned()),
            decision_id: Set(entry.decision_id.clone()),
            recorded_at: Set(entry.recorded_at.clone()),
            canonical: Set(canonical),
        })
        .exec_without_returning(txn)
        .await
        .map_err(|e| match e.sql_err() {
            // The head lock makes this unreachable; should it ever happen, the constraint has
            // stopped a fork and the caller may retry.
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => StoreError::Contention {
                leaf_index: entry.leaf_index,
            },
            _ => StoreError::Database(e),
        })?;

        if !new.disclosures.is_empty() {
            let rows = new
                .disclosures
                .iter()
                .map(|(d, visibility)| disclosure::ActiveModel {
                    leaf_index: Set(leaf_index),
                    path: Set(d.path.clone()),
                    salt: Set(d.salt.clone()),
                    value: Set(d.value.to_string()),
                    visibility: Set(visibility.as_str().to_owned()),
                });
            disclosure::Entity::insert_many(rows)
                .exec_without_returning(txn)
                .await?;
        }

        // The new leaf completes at most log2(n) nodes; the frontier supplies every left sibling,
        // so the tree grows without reading a single node.
        let mut frontier = tree::frontier_of(head_row)?;
        if frontier.size() != head.tree_size {
            return Err(StoreError::Inconsistent(format!(
                "the Merkle tree covers {} leaves but the log has {}",
                frontier.size(),
                head.tree_size
            )));
        }
        let nodes = frontier.push(entry_hash);
        tree::insert_nodes(txn, &nodes).await?;

        let advanced = log_head::Entity::update_many()
            .col_expr(log_head::Column::TreeSize, (leaf_index + 1).into())
            .col_expr(log_head::Column::MerkleSize, (leaf_index + 1).into())
            .col_expr(log_head::Column::Frontier, frontier.to_bytes().into())
            .col_expr(
                log_head::Column::HeadHash,
                entry_hash.as_bytes().to_vec().into(),
            )
            .col_expr(
                log_head::Column::RecordedAt,
                entry.recorded_at.clone().into(),
            )
            .filter(log_head::Column::Id.eq(1))
            .filter(log_head::Column::TreeSize.eq(leaf_index))
            .exec(txn)
            .await?;
        if advanced.rows_affected != 1 {
            return Err(StoreError::Inconsistent(
                "the head moved during the append".into(),
            ));
        }

        let disclosures: Vec<Disclosure> = new.disclosures.into_iter().map(|(d, _)| d).collect();
        effects::apply(txn, &entry, &disclosures).await?;
        views::apply(txn, &entry, entry_hash, &disclosures).await?;
        Ok((entry, entry_hash))
    }
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
