//! The writes of a batch of appends, staged in memory and written with one statement per table.
//!
//! A batch holds the log's write lock from first entry to commit, so nobody else can move the
//! head meanwhile: the head and the Merkle frontier are kept in memory as a [`Tip`], read and
//! checked once per batch, and each entry is built against it. What a new decision writes (its
//! entry, disclosures and tree nodes; its read-view, search and statistics rows; the
//! idempotency key it claimed) is [`Pending`] until the batch flushes it: one multi-row
//! statement per table and one update of the head, whatever the batch's size. The frontier
//! covers a batch as it covers one leaf: every node a new leaf completes is computed from it,
//! and none is read back.
//!
//! An entry whose effects read the database (a lineage entry reads its decision's state, a
//! publication updates earlier disclosures) flushes what is pending first and writes its own
//! rows at once, so that it sees every entry before it, as a single append would.

use std::collections::HashSet;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use ledger::entry::{self, Entry, FORMAT_VERSION};
use ledger::merkle::{Frontier, NodeId};
use ledger::{Disclosure, EntryKind, Hash};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    QueryFilter, QuerySelect,
};

use super::append::{NewEntry, to_i64};
use super::entities::{disclosure, idempotency_key, log_entry, log_head};
use super::idempotency::Claim;
use super::views::{DecisionView, NewDecisions};
use super::{MAX_ENTRY_BYTES, StoreError, effects, head_of, tree, views};
use crate::record::Visibility;

/// Most rows per multi-row statement: at most 20 columns a row, so at most 5,120 bound values,
/// under both databases' limits (SQLite 32,766, PostgreSQL 65,535).
const MAX_ROWS_PER_INSERT: usize = 256;

/// The sizes of the statements that insert `n` rows: powers of two, largest first, at most
/// [`MAX_ROWS_PER_INSERT`]. A table is then written by at most nine shapes of statement, each
/// prepared once per connection and cached, instead of one new statement per batch size.
pub(super) fn chunk_sizes(mut n: usize) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if n == 0 {
            return None;
        }
        let size = if n >= MAX_ROWS_PER_INSERT {
            MAX_ROWS_PER_INSERT
        } else {
            1 << n.ilog2()
        };
        n -= size;
        Some(size)
    })
}

/// Inserts `rows` with as few statements of as few shapes as [`chunk_sizes`] gives.
pub(super) async fn insert_all<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> Result<(), StoreError>
where
    A: ActiveModelTrait,
{
    let mut rows = rows.into_iter();
    for size in chunk_sizes(rows.len()) {
        A::Entity::insert_many(rows.by_ref().take(size))
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// The head of the log as the batch has moved it: the next leaf index, the hash it links to,
/// the time it may not precede, and the Merkle frontier.
#[derive(Debug, Clone)]
pub(super) struct Tip {
    tree_size: u64,
    head_hash: Hash,
    recorded_at: Option<DateTime<Utc>>,
    frontier: Frontier,
}

impl Tip {
    /// The head `row`, read under the lock, checked against the last stored entry and the tree.
    pub(super) async fn read(
        db: &impl ConnectionTrait,
        row: &log_head::Model,
    ) -> Result<Tip, StoreError> {
        let head = head_of(row)?;
        if head.tree_size > 0 {
            let last = log_entry::Entity::find_by_id(to_i64(head.tree_size - 1)?)
                .select_only()
                .column(log_entry::Column::EntryHash)
                .into_tuple::<Vec<u8>>()
                .one(db)
                .await?;
            if last.as_deref() != Some(head.head_hash.as_bytes().as_slice()) {
                return Err(StoreError::Inconsistent(format!(
                    "the head says entry {} hashes to {}, but the stored entry does not",
                    head.tree_size - 1,
                    head.head_hash
                )));
            }
        }
        let frontier = tree::frontier_of(row)?;
        if frontier.size() != head.tree_size {
            return Err(StoreError::Inconsistent(format!(
                "the Merkle tree covers {} leaves but the log has {}",
                frontier.size(),
                head.tree_size
            )));
        }
        // Time never runs backwards along the log, even if the server clock does.
        let recorded_at = row
            .recorded_at
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        Ok(Tip {
            tree_size: head.tree_size,
            head_hash: head.head_hash,
            recorded_at,
            frontier,
        })
    }

    /// Builds the entry `new` would append at this tip, at `now` or the previous entry's time if
    /// later, with its canonical encoding and entry hash. Touches nothing.
    fn build(&self, new: NewEntry, now: DateTime<Utc>) -> Result<Built, StoreError> {
        // Times are kept to the millisecond, as entries record them.
        let recorded_at = self
            .recorded_at
            .map_or(now, |p| p.max(now))
            .trunc_subsecs(3);
        let entry = Entry {
            format: FORMAT_VERSION,
            leaf_index: self.tree_size,
            kind: new.kind,
            decision_id: new.decision_id,
            recorded_at: recorded_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            recorded_by: new.recorded_by,
            prev_hash: self.head_hash,
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
        let hash = entry::entry_hash(&canonical);
        Ok(Built {
            entry,
            hash,
            canonical,
            recorded_at,
            disclosures: new.disclosures,
        })
    }
}

/// An entry built at the tip, not yet staged.
struct Built {
    entry: Entry,
    hash: Hash,
    canonical: Vec<u8>,
    recorded_at: DateTime<Utc>,
    disclosures: Vec<(Disclosure, Visibility)>,
}

/// Everything a batch has appended and not yet written.
pub(super) struct Pending {
    /// The tree size the stored head row says.
    stored_size: u64,
    entries: Vec<log_entry::ActiveModel>,
    disclosures: Vec<disclosure::ActiveModel>,
    nodes: Vec<(NodeId, Hash)>,
    decisions: NewDecisions,
    keys: Vec<idempotency_key::ActiveModel>,
    claimed: HashSet<(String, String)>,
}

impl Pending {
    /// Nothing pending on top of the stored head `tip`.
    pub(super) fn new(tip: &Tip) -> Pending {
        Pending {
            stored_size: tip.tree_size,
            entries: Vec::new(),
            disclosures: Vec::new(),
            nodes: Vec::new(),
            decisions: NewDecisions::default(),
            keys: Vec::new(),
            claimed: HashSet::new(),
        }
    }

    /// Whether `claim`'s key was claimed by an entry still pending: it must be flushed before
    /// the key is looked up.
    pub(super) fn has_claim(&self, claim: &Claim) -> bool {
        self.claimed
            .contains(&(claim.token.clone(), claim.key.clone()))
    }

    /// Appends `new` at `tip`, with the idempotency key `claim` if given, and moves the tip past
    /// it; returns the entry, its hash and, for a new decision, how the read view will hold it.
    /// A new decision, whose effects are all new rows, is only staged. Any other entry first
    /// flushes what is pending, then writes its own rows and applies its effects at once, so that
    /// they see every entry before it. If it fails, nothing is staged and the tip has not moved;
    /// rows an unstaged entry wrote are the caller's to roll back.
    pub(super) async fn append(
        &mut self,
        db: &impl ConnectionTrait,
        tip: &mut Tip,
        new: NewEntry,
        claim: Option<&Claim>,
        now: DateTime<Utc>,
    ) -> Result<(Entry, Hash, Option<DecisionView>), StoreError> {
        let built = tip.build(new, now)?;
        let leaf_index = to_i64(built.entry.leaf_index)?;
        let disclosures: Vec<Disclosure> =
            built.disclosures.iter().map(|(d, _)| d.clone()).collect();
        let staged_only = built.entry.kind == EntryKind::DecisionRecorded;
        // Every fallible step before the rows are staged, so that a refusal stages nothing.
        let view = if staged_only {
            Some(self.decisions.add(&built.entry, built.hash, &disclosures)?)
        } else {
            self.flush(db, tip).await?;
            None
        };
        if let Some(claim) = claim {
            self.claimed
                .insert((claim.token.clone(), claim.key.clone()));
            self.keys.push(idempotency_key::ActiveModel {
                token_name: Set(claim.token.clone()),
                idem_key: Set(claim.key.clone()),
                request_hash: Set(claim.request_hash.as_bytes().to_vec()),
                leaf_index: Set(Some(leaf_index)),
                status: Set(None),
                location: Set(None),
                response: Set(None),
                created_at: Set(now.to_rfc3339_opts(SecondsFormat::Millis, true)),
            });
        }
        self.entries.push(log_entry::ActiveModel {
            leaf_index: Set(leaf_index),
            entry_hash: Set(built.hash.as_bytes().to_vec()),
            prev_hash: Set(built.entry.prev_hash.as_bytes().to_vec()),
            kind: Set(built.entry.kind.as_str().to_owned()),
            decision_id: Set(built.entry.decision_id.clone()),
            recorded_at: Set(built.entry.recorded_at.clone()),
            canonical: Set(built.canonical),
        });
        self.disclosures
            .extend(
                built
                    .disclosures
                    .into_iter()
                    .map(|(d, visibility)| disclosure::ActiveModel {
                        leaf_index: Set(leaf_index),
                        path: Set(d.path),
                        salt: Set(d.salt),
                        value: Set(d.value.to_string()),
                        visibility: Set(visibility.as_str().to_owned()),
                    }),
            );
        let mut moved = tip.clone();
        self.nodes.extend(moved.frontier.push(built.hash));
        moved.tree_size += 1;
        moved.head_hash = built.hash;
        moved.recorded_at = Some(built.recorded_at);
        if !staged_only {
            self.flush(db, &moved).await?;
            effects::apply(db, &built.entry, &disclosures).await?;
            views::apply(db, &built.entry, built.hash, &disclosures).await?;
        }
        *tip = moved;
        Ok((built.entry, built.hash, view))
    }

    /// Writes what is pending and moves the stored head to `tip`.
    pub(super) async fn flush(
        &mut self,
        db: &impl ConnectionTrait,
        tip: &Tip,
    ) -> Result<(), StoreError> {
        if tip.tree_size == self.stored_size {
            return Ok(());
        }
        insert_all(db, std::mem::take(&mut self.entries))
            .await
            .map_err(|e| match e {
                // The head lock makes this unreachable; should it ever happen, the constraint has
                // stopped a fork and the caller may retry.
                StoreError::Database(ref db)
                    if matches!(
                        db.sql_err(),
                        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                    ) =>
                {
                    StoreError::Contention {
                        leaf_index: self.stored_size,
                    }
                }
                e => e,
            })?;
        insert_all(db, std::mem::take(&mut self.disclosures)).await?;
        tree::insert_nodes(db, &std::mem::take(&mut self.nodes)).await?;
        if !self.decisions.is_empty() {
            self.decisions.write(db).await?;
        }
        insert_all(db, std::mem::take(&mut self.keys)).await?;
        self.claimed.clear();

        let advanced = log_head::Entity::update_many()
            .col_expr(log_head::Column::TreeSize, to_i64(tip.tree_size)?.into())
            .col_expr(log_head::Column::MerkleSize, to_i64(tip.tree_size)?.into())
            .col_expr(log_head::Column::Frontier, tip.frontier.to_bytes().into())
            .col_expr(
                log_head::Column::HeadHash,
                tip.head_hash.as_bytes().to_vec().into(),
            )
            .col_expr(
                log_head::Column::RecordedAt,
                tip.recorded_at
                    .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
                    .into(),
            )
            .filter(log_head::Column::Id.eq(1))
            .filter(log_head::Column::TreeSize.eq(to_i64(self.stored_size)?))
            .exec(db)
            .await?;
        if advanced.rows_affected != 1 {
            return Err(StoreError::Inconsistent(
                "the head moved during the append".into(),
            ));
        }
        if db.get_database_backend() == DbBackend::Postgres {
            // Delivered at commit, to every process that follows the head; never if it rolls back.
            db.execute_unprepared(&format!("NOTIFY {}", super::HEAD_CHANNEL))
                .await?;
        }
        self.stored_size = tip.tree_size;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_come_in_powers_of_two_that_add_up() {
        for n in 0..2000 {
            let sizes: Vec<usize> = chunk_sizes(n).collect();
            assert_eq!(sizes.iter().sum::<usize>(), n, "{n}");
            assert!(
                sizes
                    .iter()
                    .all(|s| s.is_power_of_two() && *s <= MAX_ROWS_PER_INSERT)
            );
            assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{n}: {sizes:?}");
        }
        assert_eq!(chunk_sizes(37).collect::<Vec<_>>(), [32, 4, 1]);
        assert_eq!(chunk_sizes(600).collect::<Vec<_>>(), [256, 256, 64, 16, 8]);
    }
}
