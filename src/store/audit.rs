//! The auditor's read-only view of the database: what `decision-log verify --database-url`
//! reads, and nothing it could write.
//!
//! [`Store::open_read_only`] opens the database without running a migration, a backfill or a
//! lock: a SQLite file is opened read-only (its bytes are left as they were), and every
//! PostgreSQL session is read-only (`default_transaction_read_only`), so a verifier run beside a
//! live service cannot change what it audits, even by mistake. The schema must be the one this
//! build knows: a database migrated by another version is refused rather than misread.
//!
//! [`Store::audit_batch`] reads a run of entries with everything stored beside them — the
//! disclosures with their visibility labels, the columns copied out of each entry, the tree
//! nodes the run completes, the checkpoints it reaches, the read-view rows that repeat its hashes
//! — together with the head, in one read transaction (a snapshot), so that what the verifier
//! compares was true at one moment.

use std::collections::HashMap;
use std::time::Duration;

use ledger::merkle::NodeId;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectOptions, ConnectionTrait, Database, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};

use super::append::bound;
use super::entities::{checkpoint, decision, event, log_entry, log_head, merkle_node};
use super::entries::{StoredEntry, read_entries, read_snapshot};
use super::{Head, Store, StoreError, head_of};

/// The columns of `log_entries` copied out of the entry bytes, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryColumns {
    /// `prev_hash`, hex.
    pub prev_hash: String,
    /// `kind`.
    pub kind: String,
    /// `decision_id`.
    pub decision_id: String,
    /// `recorded_at`.
    pub recorded_at: String,
}

/// A read-view row that repeats an entry's identity: `decisions` for a recorded decision, and
/// `decision_events` for every entry of a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewCopy {
    /// Which table.
    pub table: &'static str,
    /// Its `leaf_index`.
    pub leaf_index: u64,
    /// Its decision id.
    pub decision_id: String,
    /// The entry kind it names (`decision.recorded` for a `decisions` row).
    pub kind: String,
    /// Its `recorded_at`.
    pub recorded_at: String,
    /// Its `recorded_by`.
    pub recorded_by: String,
    /// Its `entry_hash`, hex.
    pub entry_hash: String,
}

/// A run of entries and everything stored about them, read in one snapshot.
#[derive(Debug)]
pub struct AuditBatch {
    /// The head row at the snapshot.
    pub head: Head,
    /// The size and compact range of the tree the head row holds.
    pub tree: (u64, Vec<u8>),
    /// The entries, with their disclosures and visibility labels.
    pub entries: Vec<StoredEntry>,
    /// The copied columns of each entry, by leaf index.
    pub columns: HashMap<u64, EntryColumns>,
    /// The stored tree nodes the run's leaves complete (at most every node the entries'
    /// appends wrote), by node.
    pub nodes: HashMap<NodeId, Vec<u8>>,
    /// Stored checkpoints whose size falls in the run (`from < size ≤ from + len`), by size:
    /// the root column and the note.
    pub checkpoints: Vec<(u64, Vec<u8>, String)>,
    /// Read-view rows of the run's entries.
    pub views: Vec<ViewCopy>,
}

impl Store {
    /// Opens the database at `url` for auditing: read-only, no migration, no lock. Fails if the
    /// database does not exist, was never migrated, or was migrated by another version.
    pub async fn open_read_only(url: &str) -> Result<Store, StoreError> {
        if let super::open::Kind::Sqlite(Some(path)) = super::open::check(url).await?
            && !path.exists()
        {
            return Err(StoreError::CannotOpen(format!(
                "the SQLite database {} does not exist; check the path in DATABASE_URL \
                 (--database-url)",
                path.display()
            )));
        }
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(2)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(30))
            // Closed before a server or proxy would close it under us.
            .idle_timeout(Duration::from_secs(60))
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|opts| {
                // A database no service has open (no write-ahead log beside it) is opened
                // immutable: SQLite then creates no `-wal` or `-shm` file and leaves every byte
                // as it was. One in use is read through its WAL, as any reader does.
                let mut wal = opts.get_filename().as_os_str().to_owned();
                wal.push("-wal");
                let idle = !std::path::Path::new(&wal).exists();
                opts.read_only(true)
                    .immutable(idle)
                    .create_if_missing(false)
                    .busy_timeout(Duration::from_secs(30))
            })
            .map_sqlx_postgres_opts(|opts| opts.options([("default_transaction_read_only", "on")]));
        let db = Database::connect(options).await?;
        let store = Store::over(db);
        store.check_schema().await?;
        Ok(store)
    }

    /// Refuses a database whose applied migrations are not exactly this build's.
    async fn check_schema(&self) -> Result<(), StoreError> {
        let rows = self
            .db
            .query_all_raw(Statement::from_string(
                self.db.get_database_backend(),
                "SELECT version FROM seaql_migrations ORDER BY version",
            ))
            .await
            .map_err(|e| {
                StoreError::Inconsistent(format!(
                    "this is not a decision-log database (no migrations table: {e})"
                ))
            })?;
        let applied: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<String>("", "version"))
            .collect::<Result<_, _>>()?;
        let known: Vec<String> = Migrator::migrations()
            .iter()
            .map(|m| m.name().to_owned())
            .collect();
        if let Some(pending) = known.iter().find(|m| !applied.contains(m)) {
            return Err(StoreError::Inconsistent(format!(
                "the database has not been migrated to this version (migration {pending} is \
                 pending): start the service once, or verify with the version that wrote it"
            )));
        }
        if let Some(unknown) = applied.iter().find(|m| !known.contains(m)) {
            return Err(StoreError::Inconsistent(format!(
                "the database was migrated by a newer version (migration {unknown}): verify it \
                 with that version"
            )));
        }
        Ok(())
    }

    /// Entries `[from, from + limit)` (fewer at the head) and everything stored about them, in
    /// one read-only snapshot.
    pub async fn audit_batch(&self, from: u64, limit: u64) -> Result<AuditBatch, StoreError> {
        let txn = read_snapshot(&self.db).await?;
        let head_row = log_head::Entity::find_by_id(1)
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::Inconsistent("the log_head row is missing".into()))?;
        let head = head_of(&head_row)?;
        let tree = (
            u64::try_from(head_row.merkle_size)
                .map_err(|_| StoreError::Inconsistent("negative merkle_size".into()))?,
            head_row.frontier.clone(),
        );
        let limit = limit.min(head.tree_size.saturating_sub(from));
        let entries = read_entries(&txn, from, limit).await?;
        let end = from + entries.len() as u64;

        let columns = log_entry::Entity::find()
            .select_only()
            .column(log_entry::Column::LeafIndex)
            .column(log_entry::Column::PrevHash)
            .column(log_entry::Column::Kind)
            .column(log_entry::Column::DecisionId)
            .column(log_entry::Column::RecordedAt)
            .filter(log_entry::Column::LeafIndex.gte(bound(from)))
            .filter(log_entry::Column::LeafIndex.lt(bound(end)))
            .into_tuple::<(i64, Vec<u8>, String, String, String)>()
            .all(&txn)
            .await?
            .into_iter()
            .map(|(leaf, prev, kind, decision_id, recorded_at)| {
                (
                    leaf as u64,
                    EntryColumns {
                        prev_hash: hex::encode(prev),
                        kind,
                        decision_id,
                        recorded_at,
                    },
                )
            })
            .collect();

        let mut nodes = HashMap::new();
        let completing = completed_ranges(from, end);
        for chunk in completing.chunks(16) {
            let mut any = Condition::any();
            for (level, lo, hi) in chunk {
                any = any.add(
                    Condition::all()
                        .add(merkle_node::Column::Level.eq(i16::from(*level)))
                        .add(merkle_node::Column::Idx.gte(bound(*lo)))
                        .add(merkle_node::Column::Idx.lt(bound(*hi))),
                );
            }
            for row in merkle_node::Entity::find().filter(any).all(&txn).await? {
                let id = NodeId {
                    level: u8::try_from(row.level).unwrap_or(u8::MAX),
                    index: row.idx as u64,
                };
                nodes.insert(id, row.hash);
            }
        }

        let mut checkpoints: Vec<(u64, Vec<u8>, String)> = checkpoint::Entity::find()
            .filter(checkpoint::Column::TreeSize.gt(bound(from)))
            .filter(checkpoint::Column::TreeSize.lte(bound(end)))
            .order_by_asc(checkpoint::Column::TreeSize)
            .all(&txn)
            .await?
            .into_iter()
            .map(|c| (c.tree_size as u64, c.root_hash, c.note))
            .collect();
        // The empty tree's checkpoint belongs to the run that starts the log.
        if from == 0
            && let Some(c) = checkpoint::Entity::find_by_id(0).one(&txn).await?
        {
            checkpoints.insert(0, (0, c.root_hash, c.note));
        }

        // Only the copied columns: a view row's document can be large.
        let mut views: Vec<ViewCopy> = decision::Entity::find()
            .select_only()
            .column(decision::Column::LeafIndex)
            .column(decision::Column::Id)
            .column(decision::Column::RecordedAt)
            .column(decision::Column::RecordedBy)
            .column(decision::Column::EntryHash)
            .filter(decision::Column::LeafIndex.gte(bound(from)))
            .filter(decision::Column::LeafIndex.lt(bound(end)))
            .into_tuple::<(i64, String, String, String, String)>()
            .all(&txn)
            .await?
            .into_iter()
            .map(
                |(leaf, id, recorded_at, recorded_by, entry_hash)| ViewCopy {
                    table: "decisions",
                    leaf_index: leaf as u64,
                    decision_id: id,
                    kind: ledger::EntryKind::DecisionRecorded.as_str().to_owned(),
                    recorded_at,
                    recorded_by,
                    entry_hash,
                },
            )
            .collect();
        views.extend(
            event::Entity::find()
                .select_only()
                .column(event::Column::LeafIndex)
                .column(event::Column::DecisionId)
                .column(event::Column::Kind)
                .column(event::Column::RecordedAt)
                .column(event::Column::RecordedBy)
                .column(event::Column::EntryHash)
                .filter(event::Column::LeafIndex.gte(bound(from)))
                .filter(event::Column::LeafIndex.lt(bound(end)))
                .into_tuple::<(i64, String, String, String, String, String)>()
                .all(&txn)
                .await?
                .into_iter()
                .map(
                    |(leaf, decision_id, kind, recorded_at, recorded_by, entry_hash)| ViewCopy {
                        table: "decision_events",
                        leaf_index: leaf as u64,
                        decision_id,
                        kind,
                        recorded_at,
                        recorded_by,
                        entry_hash,
                    },
                ),
        );
        txn.commit().await?;
        Ok(AuditBatch {
            head,
            tree,
            entries,
            columns,
            nodes,
            checkpoints,
            views,
        })
    }
}

/// For the leaves `[from, end)`: per tree level, the index range `[lo, hi)` of the nodes whose
/// last leaf is among them — exactly the nodes their appends completed.
pub fn completed_ranges(from: u64, end: u64) -> Vec<(u8, u64, u64)> {
    let mut out = Vec::new();
    for level in 0..64u8 {
        let width = 1u64 << level;
        // Node i at this level covers leaves [i·w, (i+1)·w) and is completed by leaf (i+1)·w − 1.
        let lo = (from + 1).div_ceil(width).saturating_sub(1);
        let hi = end / width;
        if width > end {
            break;
        }
        if lo < hi {
            out.push((level, lo, hi));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger::Hash;
    use ledger::merkle::Frontier;

    #[test]
    fn completed_ranges_name_exactly_the_nodes_the_appends_wrote() {
        for (from, end) in [
            (0, 1),
            (0, 1000),
            (1000, 2000),
            (5, 6),
            (1023, 1025),
            (7, 300),
        ] {
            let mut frontier = Frontier::new();
            let mut written = Vec::new();
            for leaf in 0..end {
                let nodes = frontier.push(Hash::from_slice(&[leaf as u8; 32]).expect("32 bytes"));
                if leaf >= from {
                    written.extend(nodes.into_iter().map(|(id, _)| id));
                }
            }
            let mut named: Vec<NodeId> = completed_ranges(from, end)
                .into_iter()
                .flat_map(|(level, lo, hi)| (lo..hi).map(move |index| NodeId { level, index }))
                .collect();
            named.sort_by_key(|id| (id.level, id.index));
            written.sort_by_key(|id| (id.level, id.index));
            assert_eq!(named, written, "leaves {from}..{end}");
        }
    }
}
