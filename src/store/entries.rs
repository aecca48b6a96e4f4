//! Reading the log itself: canonical entries with their stored hashes and disclosures.

use ledger::{Disclosure, Hash};
use sea_orm::{
    AccessMode, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend,
    EntityTrait, IsolationLevel, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use super::append::bound;
use super::entities::{disclosure, log_entry, log_head};
use super::{Head, Store, StoreError, head_of};

/// A read-only transaction that sees one moment of the database: `REPEATABLE READ` on
/// PostgreSQL; on SQLite every read transaction reads one snapshot of the WAL.
pub(super) async fn read_snapshot(
    db: &DatabaseConnection,
) -> Result<DatabaseTransaction, StoreError> {
    Ok(match db.get_database_backend() {
        DbBackend::Postgres => {
            db.begin_with_config(
                Some(IsolationLevel::RepeatableRead),
                Some(AccessMode::ReadOnly),
            )
            .await?
        }
        _ => db.begin().await?,
    })
}

/// The head row, read through `db`.
pub(super) async fn head_in(db: &impl ConnectionTrait) -> Result<Head, StoreError> {
    let row = log_head::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| StoreError::Inconsistent("the log_head row is missing".into()))?;
    head_of(&row)
}

/// One stored entry, as read from the database (not yet verified).
#[derive(Debug, Clone)]
pub struct StoredEntry {
    /// Its position.
    pub leaf_index: u64,
    /// Its canonical bytes.
    pub canonical: Vec<u8>,
    /// The entry hash stored beside it.
    pub entry_hash: Hash,
    /// Its disclosures, each with the visibility stored beside it.
    pub disclosures: Vec<(Disclosure, String)>,
}

impl Store {
    /// The entry at `leaf_index`, if the log is that long.
    pub async fn entry(&self, leaf_index: u64) -> Result<Option<StoredEntry>, StoreError> {
        Ok(read_entries(&self.db, leaf_index, 1)
            .await?
            .into_iter()
            .next())
    }

    /// Every entry about decision `decision_id`, in log order (an indexed read).
    pub async fn entries_of_decision(
        &self,
        decision_id: &str,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        let indexes: Vec<i64> = log_entry::Entity::find()
            .select_only()
            .column(log_entry::Column::LeafIndex)
            .filter(log_entry::Column::DecisionId.eq(decision_id))
            .order_by_asc(log_entry::Column::LeafIndex)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut out = Vec::with_capacity(indexes.len());
        for index in indexes {
            let index = u64::try_from(index)
                .map_err(|_| StoreError::Inconsistent("negative leaf index".into()))?;
            out.extend(read_entries(&self.db, index, 1).await?);
        }
        Ok(out)
    }

    /// Up to `limit` entries from `from` on, in order.
    pub async fn entries(&self, from: u64, limit: u64) -> Result<Vec<StoredEntry>, StoreError> {
        read_entries(&self.db, from, limit).await
    }

    /// Up to `limit` entries from `from` on, with the head, read in one snapshot: the
    /// disclosures are exactly those stored when the log had `head.tree_size` entries, so a
    /// verifier knows which erasures and publications they reflect (`docs/log-format.md` §11).
    pub async fn entries_at_head(
        &self,
        from: u64,
        limit: u64,
    ) -> Result<(Head, Vec<StoredEntry>), StoreError> {
        let txn = read_snapshot(&self.db).await?;
        let head = head_in(&txn).await?;
        let entries =
            read_entries(&txn, from, limit.min(head.tree_size.saturating_sub(from))).await?;
        txn.commit().await?;
        Ok((head, entries))
    }
}

/// Two indexed range reads: entries `[from, from + limit)` and their disclosures.
pub(super) async fn read_entries(
    db: &impl ConnectionTrait,
    from: u64,
    limit: u64,
) -> Result<Vec<StoredEntry>, StoreError> {
    let start = bound(from);
    let end = bound(from.saturating_add(limit));
    let rows = log_entry::Entity::find()
        .filter(log_entry::Column::LeafIndex.gte(start))
        .filter(log_entry::Column::LeafIndex.lt(end))
        .order_by_asc(log_entry::Column::LeafIndex)
        .limit(limit)
        .all(db)
        .await?;
    let mut disclosures = disclosure::Entity::find()
        .filter(disclosure::Column::LeafIndex.gte(start))
        .filter(disclosure::Column::LeafIndex.lt(end))
        .order_by_asc(disclosure::Column::LeafIndex)
        .order_by_asc(disclosure::Column::Path)
        .all(db)
        .await?
        .into_iter()
        .peekable();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let leaf_index = u64::try_from(row.leaf_index)
            .map_err(|_| StoreError::Inconsistent("negative leaf index".into()))?;
        let entry_hash = Hash::from_slice(&row.entry_hash).map_err(|_| {
            StoreError::Inconsistent(format!(
                "leaf {leaf_index}: stored entry hash is not 32 bytes"
            ))
        })?;
        let mut own = Vec::new();
        while let Some(d) = disclosures.next_if(|d| d.leaf_index <= row.leaf_index) {
            if d.leaf_index != row.leaf_index {
                continue;
            }
            // Strictly: serde_json would keep the last of two members of one name, and serve a
            // value the stored text does not say.
            let value = ledger::canonical::parse_strict(d.value.as_bytes()).map_err(|e| {
                StoreError::Inconsistent(format!(
                    "leaf {leaf_index}: disclosure {} is not JSON without duplicate members: {e}",
                    d.path
                ))
            })?;
            own.push((
                Disclosure {
                    path: d.path,
                    salt: d.salt,
                    value,
                },
                d.visibility,
            ));
        }
        out.push(StoredEntry {
            leaf_index,
            canonical: row.canonical,
            entry_hash,
            disclosures: own,
        });
    }
    Ok(out)
}
