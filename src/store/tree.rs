//! The Merkle tree as stored: node reads, roots, proofs, tiles, and the one-time extension of a
//! log created before the tree existed.
//!
//! Every query here plans first with `ledger::merkle` (which complete subtrees does this answer
//! need?), then fetches exactly those nodes in one batched read, then computes. A root, an
//! inclusion proof or a consistency proof therefore reads O(log n) rows; a tile reads one range
//! of at most 256 rows; nothing reads the log.

use std::collections::HashMap;

use ledger::Hash;
use ledger::merkle::{self, Frontier, NodeId};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::append::to_i64;
use super::entities::{log_entry, log_head, merkle_node};
use super::{Store, StoreError};

/// Leaves per tile (C2SP tlog-tiles: tiles of height 8).
pub const TILE_WIDTH: u64 = 256;

/// An inclusion proof as served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    /// The leaf proved.
    pub leaf_index: u64,
    /// The tree it is proved in.
    pub tree_size: u64,
    /// The leaf's hash (its entry hash).
    pub leaf_hash: Hash,
    /// Proof hashes, nearest the leaf first.
    pub hashes: Vec<Hash>,
    /// The root of the tree of `tree_size` leaves.
    pub root_hash: Hash,
}

/// A consistency proof as served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// The older tree size.
    pub from: u64,
    /// The newer tree size.
    pub to: u64,
    /// Root of the older tree.
    pub from_root: Hash,
    /// Root of the newer tree.
    pub to_root: Hash,
    /// Proof hashes, in RFC 9162 order.
    pub hashes: Vec<Hash>,
}

/// Why a proof or tile was refused; the API turns these into 400/404.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeRequestError {
    /// The request names sizes or indexes that do not make sense together.
    #[error("{0}")]
    Invalid(String),
    /// The tree is not that large (yet).
    #[error("{0}")]
    NotYet(String),
}

/// Reads the hashes of `ids` in batches, failing if any is missing.
pub(super) async fn read_nodes(
    db: &impl ConnectionTrait,
    ids: &[NodeId],
) -> Result<HashMap<NodeId, Hash>, StoreError> {
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(128) {
        let mut any = Condition::any();
        for id in chunk {
            any = any.add(
                Condition::all()
                    .add(merkle_node::Column::Level.eq(i16::from(id.level)))
                    .add(merkle_node::Column::Idx.eq(to_i64(id.index)?)),
            );
        }
        for row in merkle_node::Entity::find().filter(any).all(db).await? {
            let id = NodeId {
                level: u8::try_from(row.level).unwrap_or(u8::MAX),
                index: row.idx as u64,
            };
            let hash = Hash::from_slice(&row.hash)
                .map_err(|_| StoreError::Inconsistent(format!("node {id:?} is not 32 bytes")))?;
            found.insert(id, hash);
        }
    }
    if let Some(missing) = ids.iter().find(|id| !found.contains_key(id)) {
        return Err(StoreError::Inconsistent(format!(
            "the Merkle tree lacks node {missing:?}"
        )));
    }
    Ok(found)
}

/// The Merkle tree hashes of `ranges`, from one batched node read.
async fn range_hashes(
    db: &impl ConnectionTrait,
    ranges: &[(u64, u64)],
) -> Result<Vec<Hash>, StoreError> {
    let plans: Vec<Vec<NodeId>> = ranges
        .iter()
        .map(|&(lo, hi)| merkle::range_nodes(lo, hi))
        .collect();
    let mut ids: Vec<NodeId> = plans.iter().flatten().copied().collect();
    ids.sort_unstable();
    ids.dedup();
    let nodes = read_nodes(db, &ids).await?;
    Ok(plans
        .iter()
        .map(|plan| merkle::fold(&plan.iter().map(|id| nodes[id]).collect::<Vec<_>>()))
        .collect())
}

/// Inserts nodes completed by an append.
pub(super) async fn insert_nodes(
    db: &impl ConnectionTrait,
    nodes: &[(NodeId, Hash)],
) -> Result<(), StoreError> {
    if nodes.is_empty() {
        return Ok(());
    }
    let rows = nodes
        .iter()
        .map(|(id, hash)| {
            Ok(merkle_node::ActiveModel {
                level: Set(i16::from(id.level)),
                idx: Set(to_i64(id.index)?),
                hash: Set(hash.as_bytes().to_vec()),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    super::batch::insert_all(db, rows).await
}

/// The frontier stored in a head row.
pub(super) fn frontier_of(row: &log_head::Model) -> Result<Frontier, StoreError> {
    let size = u64::try_from(row.merkle_size)
        .map_err(|_| StoreError::Inconsistent("negative merkle_size".into()))?;
    Frontier::from_bytes(size, &row.frontier)
        .map_err(|e| StoreError::Inconsistent(format!("the stored frontier is damaged: {e}")))
}

impl Store {
    /// The size the tree covers and its root, from the head row alone.
    pub async fn tree_head(&self) -> Result<(u64, Hash), StoreError> {
        let row = log_head::Entity::find_by_id(1)
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::Inconsistent("the log_head row is missing".into()))?;
        let frontier = frontier_of(&row)?;
        Ok((frontier.size(), frontier.root()))
    }

    /// The root of the tree of `size` leaves.
    pub async fn root(&self, size: u64) -> Result<Result<Hash, TreeRequestError>, StoreError> {
        let (current, _) = self.tree_head().await?;
        if size > current {
            return Ok(Err(TreeRequestError::NotYet(format!(
                "the tree has {current} leaves, not {size}"
            ))));
        }
        Ok(Ok(range_hashes(&self.db, &[(0, size)]).await?[0]))
    }

    /// The inclusion proof of leaf `leaf_index` in the tree of `tree_size` leaves.
    pub async fn inclusion_proof(
        &self,
        leaf_index: u64,
        tree_size: u64,
    ) -> Result<Result<InclusionProof, TreeRequestError>, StoreError> {
        let (current, _) = self.tree_head().await?;
        if tree_size > current {
            return Ok(Err(TreeRequestError::NotYet(format!(
                "the tree has {current} leaves, not {tree_size}"
            ))));
        }
        let ranges = match merkle::inclusion_proof_ranges(leaf_index, tree_size) {
            Ok(ranges) => ranges,
            Err(e) => return Ok(Err(TreeRequestError::Invalid(e.to_string()))),
        };
        let mut all = ranges.clone();
        all.push((leaf_index, leaf_index + 1));
        all.push((0, tree_size));
        let mut hashes = range_hashes(&self.db, &all).await?;
        let root_hash = hashes.pop().unwrap_or_else(merkle::empty_root);
        let leaf_hash = hashes.pop().unwrap_or_default();
        Ok(Ok(InclusionProof {
            leaf_index,
            tree_size,
            leaf_hash,
            hashes,
            root_hash,
        }))
    }

    /// The consistency proof from the tree of `from` leaves to the tree of `to` leaves.
    pub async fn consistency_proof(
        &self,
        from: u64,
        to: u64,
    ) -> Result<Result<ConsistencyProof, TreeRequestError>, StoreError> {
        let (current, _) = self.tree_head().await?;
        if to > current {
            return Ok(Err(TreeRequestError::NotYet(format!(
                "the tree has {current} leaves, not {to}"
            ))));
        }
        let ranges = match merkle::consistency_proof_ranges(from, to) {
            Ok(ranges) => ranges,
            Err(e) => return Ok(Err(TreeRequestError::Invalid(e.to_string()))),
        };
        let mut all = ranges.clone();
        all.push((0, from));
        all.push((0, to));
        let mut hashes = range_hashes(&self.db, &all).await?;
        let to_root = hashes.pop().unwrap_or_else(merkle::empty_root);
        let from_root = hashes.pop().unwrap_or_else(merkle::empty_root);
        Ok(Ok(ConsistencyProof {
            from,
            to,
            from_root,
            to_root,
            hashes,
        }))
    }

    /// The hashes of tile `index` at tile level `level`, `width` wide, when the tree holds them.
    pub async fn hash_tile(
        &self,
        level: u8,
        index: u64,
        width: u64,
    ) -> Result<Option<Vec<Hash>>, StoreError> {
        let tree_level = u32::from(level) * 8;
        let (current, _) = self.tree_head().await?;
        let first = index.checked_mul(TILE_WIDTH);
        let last_leaf = first
            .and_then(|f| f.checked_add(width))
            .and_then(|end| end.checked_mul(1u64.checked_shl(tree_level)?));
        match last_leaf {
            Some(end) if end <= current && tree_level < 64 => {}
            _ => return Ok(None),
        }
        let first = first.unwrap_or_default();
        let rows = merkle_node::Entity::find()
            .filter(merkle_node::Column::Level.eq(i16::try_from(tree_level).unwrap_or(i16::MAX)))
            .filter(merkle_node::Column::Idx.gte(to_i64(first)?))
            .filter(merkle_node::Column::Idx.lt(to_i64(first + width)?))
            .order_by_asc(merkle_node::Column::Idx)
            .all(&self.db)
            .await?;
        if rows.len() as u64 != width {
            return Err(StoreError::Inconsistent(format!(
                "tile {level}/{index} lacks nodes"
            )));
        }
        rows.iter()
            .map(|r| {
                Hash::from_slice(&r.hash)
                    .map_err(|_| StoreError::Inconsistent("node is not 32 bytes".into()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// The canonical bytes of entries `[index·256, index·256 + width)`, when the tree holds them.
    pub async fn entry_bundle(
        &self,
        index: u64,
        width: u64,
    ) -> Result<Option<Vec<Vec<u8>>>, StoreError> {
        let (current, _) = self.tree_head().await?;
        let Some(first) = index.checked_mul(TILE_WIDTH) else {
            return Ok(None);
        };
        if first.saturating_add(width) > current {
            return Ok(None);
        }
        let rows = log_entry::Entity::find()
            .select_only()
            .column(log_entry::Column::Canonical)
            .filter(log_entry::Column::LeafIndex.gte(to_i64(first)?))
            .filter(log_entry::Column::LeafIndex.lt(to_i64(first + width)?))
            .order_by_asc(log_entry::Column::LeafIndex)
            .into_tuple::<Vec<u8>>()
            .all(&self.db)
            .await?;
        Ok(Some(rows))
    }

    /// Extends the Merkle tree over entries appended before it existed (a log created by an
    /// earlier version). Runs once, under the append lock; a no-op on every later start.
    pub(super) async fn extend_tree(&self) -> Result<u64, StoreError> {
        let (txn, head_row) = self.lock_head().await?;
        let mut frontier = frontier_of(&head_row)?;
        let tree_size = u64::try_from(head_row.tree_size).unwrap_or(0);
        let added = tree_size.saturating_sub(frontier.size());
        while frontier.size() < tree_size {
            let from = frontier.size();
            let hashes = log_entry::Entity::find()
                .select_only()
                .column(log_entry::Column::EntryHash)
                .filter(log_entry::Column::LeafIndex.gte(to_i64(from)?))
                .order_by_asc(log_entry::Column::LeafIndex)
                .limit(1000)
                .into_tuple::<Vec<u8>>()
                .all(&txn)
                .await?;
            if hashes.is_empty() {
                return Err(StoreError::Inconsistent(format!(
                    "the log ends at {from}, before its head"
                )));
            }
            let mut nodes = Vec::new();
            for bytes in hashes.iter().take((tree_size - from) as usize) {
                let hash = Hash::from_slice(bytes)
                    .map_err(|_| StoreError::Inconsistent("entry hash is not 32 bytes".into()))?;
                nodes.extend(frontier.push(hash));
            }
            for batch in nodes.chunks(500) {
                insert_nodes(&txn, batch).await?;
            }
        }
        if added > 0 {
            log_head::Entity::update_many()
                .col_expr(
                    log_head::Column::MerkleSize,
                    to_i64(frontier.size())?.into(),
                )
                .col_expr(log_head::Column::Frontier, frontier.to_bytes().into())
                .filter(log_head::Column::Id.eq(1))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(added)
    }
}
