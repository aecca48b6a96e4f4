//! The RFC 6962 / RFC 9162 Merkle tree over the entry hashes: tree hashes, proofs, the frontier.
//!
//! This module owns the tree maths and nothing else: it never stores, fetches or signs. It
//! implements [RFC 9162 §2.1](https://www.rfc-editor.org/rfc/rfc9162#section-2.1), which keeps the
//! hashing of [RFC 6962 §2.1](https://www.rfc-editor.org/rfc/rfc6962#section-2.1) unchanged.
//!
//! # The Merkle Tree Hash
//!
//! For leaf hashes `D[0:n]` (each `SHA-256(0x00 ‖ entry)`, see [`Hash::leaf`]):
//!
//! ```text
//! MTH({})       = SHA-256()                                   (empty_root)
//! MTH({d0})     = d0                                          (the leaf hash itself)
//! MTH(D[0:n])   = SHA-256(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n]))   (node_hash)
//!                 where k is the largest power of two smaller than n
//! ```
//!
//! The distinct 0x00 and 0x01 prefixes keep a leaf from ever being read as an interior node
//! (second-preimage resistance). The functions here take leaf *hashes*: the caller applies
//! [`Hash::leaf`] exactly once, and nothing here hashes a leaf again.
//!
//! # Node numbering
//!
//! Only *complete* subtrees are named. [`NodeId`] `{ level, index }` is the subtree of `2^level`
//! leaves `[index · 2^level, (index + 1) · 2^level)`; level 0 is the leaves. A complete subtree's
//! hash never changes once its last leaf is appended, so storage MAY write it once and never
//! update it. Subtrees on the right edge that are not yet complete are never stored: their hash
//! is [`fold`]ed from the complete subtrees that cover them ([`range_nodes`]).
//!
//! # Plan, fetch, compute
//!
//! Every computation that needs stored hashes is split in three, so that this module stays
//! synchronous and free of I/O while the storage layer, which is async, reads everything it needs
//! in one batch (one round trip and one consistent snapshot, instead of a recursive algorithm that
//! awaits the database once per node):
//!
//! 1. plan: [`inclusion_proof_ranges`] / [`consistency_proof_ranges`] name the leaf ranges whose
//!    Merkle tree hashes form the proof (a root is the single range `[0, size)`);
//! 2. fetch: [`nodes_for_ranges`] lists the complete subtrees those ranges decompose into;
//! 3. compute: [`hashes_for_ranges`] folds the fetched hashes into one hash per range.
//!
//! [`MemoryTree`] runs the same three steps against nodes held in memory, so the tests of the
//! plan exercise the path the storage layer takes.
//!
//! # Complexity
//!
//! A proof for a tree of `n` leaves has at most `⌈log2 n⌉` (inclusion) or `⌈log2 n⌉ + 1`
//! (consistency) hashes. Every range in a proof is a complete subtree except at most one, on the
//! right edge of the tree, and a range decomposes into at most `⌈log2 n⌉` complete subtrees; so
//! building any proof reads O(log n) stored nodes (at most `2⌈log2 n⌉ + 1`, checked for every
//! proof of every size up to 1000). Verification is O(log n) hashes.
//! [`Frontier`] holds at most 64 hashes, appends with amortised O(1) hashing (O(log n) at worst)
//! and computes the root with at most 63 hashes.
//!
//! # Edge cases, decided
//!
//! - An inclusion proof needs `index < size`; there is none in the empty tree.
//! - A consistency proof from the empty tree (`old == 0`) is refused, by the planner and by the
//!   verifier alike: every tree extends the empty tree, so such a proof would show nothing, and
//!   neither RFC 9162's SUBPROOF recursion nor its verification algorithm (which starts from
//!   `first − 1`) is defined for it. This follows the transparency-dev vectors, which reject
//!   `old == 0` even when `new == 0`. Refusing on both sides keeps the invariant that every proof
//!   this module plans is one its verifier accepts.
//! - Between equal non-empty sizes the proof is empty and verifies exactly when the roots are
//!   equal.

use sha2::{Digest, Sha256};

use crate::hash::Hash;

/// Interior node hash: SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left.as_bytes());
    hasher.update(right.as_bytes());
    Hash(hasher.finalize().into())
}

/// Root of the empty tree: SHA-256 of nothing.
pub fn empty_root() -> Hash {
    Hash::digest(b"")
}

/// A complete subtree: the node at `level` (0 = leaves) and position `index` within that level,
/// covering leaves [index << level, (index + 1) << level).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height above the leaves: the subtree has `2^level` leaves. Below 64 in any tree.
    pub level: u8,
    /// Position among the nodes of this level, counted from the left.
    pub index: u64,
}

impl NodeId {
    /// The leaf range `[lo, hi)` the node covers. Positions beyond `u64::MAX`, which no tree
    /// reaches, saturate at `u64::MAX`.
    pub fn leaves(&self) -> (u64, u64) {
        let width = 1u128 << u32::from(self.level.min(64));
        let index = u128::from(self.index);
        let lo = index.saturating_mul(width);
        let hi = (index + 1).saturating_mul(width);
        (saturate(lo), saturate(hi))
    }
}

fn saturate(value: u128) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}

/// The complete subtrees that exactly cover leaves [lo, hi), left to right, each as large as
/// alignment allows. For every range that occurs in RFC 6962's recursion these come largest
/// first, and the range's Merkle tree hash is `fold(hashes of these nodes)`.
///
/// An empty or reversed range (`lo >= hi`) has no nodes.
pub fn range_nodes(lo: u64, hi: u64) -> Vec<NodeId> {
    let mut nodes = Vec::new();
    let mut lo = lo;
    while lo < hi {
        // The largest subtree that starts at `lo` (alignment: trailing zeros of `lo`, 64 for 0)
        // and still fits before `hi` (floor(log2(hi - lo))).
        let fits = (hi - lo).ilog2();
        let level = lo.trailing_zeros().min(fits);
        nodes.push(NodeId {
            // level <= fits <= 63, so the narrowing cannot lose bits.
            level: level as u8,
            index: lo >> level,
        });
        lo += 1 << level;
    }
    nodes
}

/// Folds subtree hashes, largest (leftmost) first, into the hash of the tree they make up:
/// one hash is itself; [a, b, c] is node_hash(a, node_hash(b, c)); an empty slice is empty_root().
pub fn fold(hashes: &[Hash]) -> Hash {
    match hashes.split_last() {
        None => empty_root(),
        // MTH splits at the largest power of two, so the leftmost (largest) subtree is the left
        // child of the root and the rest nests to the right.
        Some((last, rest)) => rest
            .iter()
            .rev()
            .fold(*last, |right, left| node_hash(left, &right)),
    }
}

/// Whether `fold` over `range_nodes(lo, hi)` is the Merkle tree hash of leaves `[lo, hi)`.
///
/// It is exactly when `lo` is a multiple of the largest power of two not above `hi - lo`: then
/// the cover is the binary decomposition of the range's size, largest first, which is how MTH
/// splits. Every range produced by the RFC recursion starts at such a boundary. For other ranges
/// (e.g. `[1, 4)`, covered by `[1]` then `[2, 4)`) the fold is some hash, but not the MTH.
fn is_tree_range(lo: u64, hi: u64) -> bool {
    match hi.checked_sub(lo) {
        None => false,
        Some(0) => true,
        Some(width) => lo.trailing_zeros() >= width.ilog2(),
    }
}

/// The largest power of two strictly smaller than `n`; `n` MUST be at least 2.
fn split_point(n: u64) -> u64 {
    1 << (n - 1).ilog2()
}

/// The leaf ranges whose Merkle tree hashes make up the inclusion proof of leaf `index` in a
/// tree of `size` leaves, in proof order (nearest the leaf first), as in RFC 9162 §2.1.3.1.
///
/// Every range is a complete subtree except at most one: a right sibling that reaches the end of
/// the tree. Once the path turns left into a subtree of `2^j` leaves, everything below it is
/// complete.
pub fn inclusion_proof_ranges(index: u64, size: u64) -> Result<Vec<(u64, u64)>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    // PATH(m, D[lo:hi]) walked from the root down; the RFC lists the siblings from the leaf up.
    let mut ranges = Vec::new();
    let (mut lo, mut hi) = (0, size);
    while hi - lo > 1 {
        let mid = lo + split_point(hi - lo);
        if index < mid {
            ranges.push((mid, hi));
            hi = mid;
        } else {
            ranges.push((lo, mid));
            lo = mid;
        }
    }
    ranges.reverse();
    Ok(ranges)
}

/// The leaf ranges whose hashes make up the consistency proof from `old` to `new` leaves, in
/// proof order, as in RFC 9162 §2.1.4.1.
///
/// `old == new` (non-zero) has the empty proof. `old == 0` is refused with
/// [`ProofError::EmptyOldTree`], whatever `new` is: the module documentation says why.
///
/// Every range is a complete subtree except at most one: the first right sibling taken where the
/// old tree ends inside a left subtree, which may reach the ragged end of the new tree.
pub fn consistency_proof_ranges(old: u64, new: u64) -> Result<Vec<(u64, u64)>, ProofError> {
    if old > new {
        return Err(ProofError::SizesOutOfOrder { old, new });
    }
    if old == 0 {
        return Err(ProofError::EmptyOldTree { new });
    }
    // SUBPROOF(m, D[lo:hi], known) walked from the root down, `old` kept as an absolute leaf
    // position. Invariant: lo < old <= hi.
    let mut ranges = Vec::new();
    let (mut lo, mut hi) = (0, new);
    let mut known = true;
    while old < hi {
        let mid = lo + split_point(hi - lo);
        if old <= mid {
            ranges.push((mid, hi));
            hi = mid;
        } else {
            ranges.push((lo, mid));
            lo = mid;
            // The old tree now ends inside the right subtree: its hash is no longer one the
            // verifier holds.
            known = false;
        }
    }
    if !known {
        ranges.push((lo, hi));
    }
    ranges.reverse();
    Ok(ranges)
}

/// Every complete subtree the `ranges` decompose into, sorted and without repeats: the nodes to
/// fetch in one batch before [`hashes_for_ranges`].
pub fn nodes_for_ranges(ranges: &[(u64, u64)]) -> Vec<NodeId> {
    let mut nodes: Vec<NodeId> = ranges
        .iter()
        .flat_map(|&(lo, hi)| range_nodes(lo, hi))
        .collect();
    nodes.sort_unstable();
    nodes.dedup();
    nodes
}

/// The Merkle tree hash of each range, in order, from the node hashes `lookup` gives.
///
/// Fails with [`ProofError::MissingNode`] when `lookup` lacks a node [`nodes_for_ranges`] named,
/// and refuses ranges whose hash is not the fold of their nodes (see [`range_nodes`]).
pub fn hashes_for_ranges(
    ranges: &[(u64, u64)],
    mut lookup: impl FnMut(NodeId) -> Option<Hash>,
) -> Result<Vec<Hash>, ProofError> {
    ranges
        .iter()
        .map(|&(lo, hi)| {
            if lo > hi {
                return Err(ProofError::ReversedRange { lo, hi });
            }
            if !is_tree_range(lo, hi) {
                return Err(ProofError::UnalignedRange { lo, hi });
            }
            let hashes = range_nodes(lo, hi)
                .into_iter()
                .map(|id| lookup(id).ok_or(ProofError::MissingNode(id)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(fold(&hashes))
        })
        .collect()
}

/// RFC 9162 §2.1.3.2.
///
/// The proof binds the leaf to its `index` and to `root`, but only loosely to `size`: a proof
/// can verify for another size whose path has the same shape (for example leaf 0 in trees of 5
/// to 8 leaves). The size MUST therefore come from the signed checkpoint that also signs `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    let expected = inclusion_proof_ranges(index, size)?.len();
    let wrong_length = ProofError::WrongProofLength {
        expected,
        got: proof.len(),
    };
    if proof.len() != expected {
        return Err(wrong_length);
    }
    // `f` and `s` are the RFC's `fn` and `sn`: the positions of the leaf and of the last leaf,
    // shifted up one level per step.
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        if s == 0 {
            return Err(wrong_length);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            // On the right edge of the tree a node can have no right sibling: skip the levels
            // where it is promoted unchanged.
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(wrong_length);
    }
    if r != *root {
        return Err(ProofError::RootMismatch {
            expected: *root,
            computed: r,
        });
    }
    Ok(())
}

/// RFC 9162 §2.1.4.2.
///
/// Equal non-zero sizes verify with an empty proof and equal roots; `old == 0` is refused (see
/// the module documentation).
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    let expected = consistency_proof_ranges(old, new)?.len();
    let wrong_length = ProofError::WrongProofLength {
        expected,
        got: proof.len(),
    };
    if proof.len() != expected {
        return Err(wrong_length);
    }
    if old == new {
        // Nothing was appended, so the new root is the old one.
        if old_root != new_root {
            return Err(ProofError::RootMismatch {
                expected: *new_root,
                computed: *old_root,
            });
        }
        return Ok(());
    }
    // The proof omits the old root when the old tree is a complete subtree of the new one, since
    // the verifier already holds it; put it back as the seed.
    let (seed, rest) = if old.is_power_of_two() {
        (*old_root, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => return Err(wrong_length),
        }
    };
    let (mut f, mut s) = (old - 1, new - 1);
    // Start from the largest complete subtree that ends where the old tree ends.
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (seed, seed);
    for c in rest {
        if s == 0 {
            return Err(wrong_length);
        }
        if f & 1 == 1 || f == s {
            // A left sibling belongs to both trees.
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            // A right sibling was appended after the old tree: only the new root includes it.
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(wrong_length);
    }
    if fr != *old_root {
        return Err(ProofError::OldRootMismatch {
            expected: *old_root,
            computed: fr,
        });
    }
    if sr != *new_root {
        return Err(ProofError::RootMismatch {
            expected: *new_root,
            computed: sr,
        });
    }
    Ok(())
}

/// The compact range of a tree: the hashes of the complete subtrees of its binary decomposition,
/// largest first (at most 64). Enough to append and to compute the root in O(log n) memory.
///
/// Invariant: `hashes` are the hashes of `range_nodes(0, size)`, so there are exactly
/// `size.count_ones()` of them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frontier {
    size: u64,
    hashes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// A frontier from stored parts. The hashes MUST be those of `range_nodes(0, size)`, largest
    /// first; only their number can be checked here.
    pub fn from_parts(size: u64, hashes: Vec<Hash>) -> Result<Frontier, ProofError> {
        let expected = size.count_ones() as usize;
        if hashes.len() != expected {
            return Err(ProofError::BadFrontier {
                size,
                expected,
                got: hashes.len(),
            });
        }
        Ok(Frontier { size, hashes })
    }

    /// Number of leaves in the tree.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The subtree hashes, largest (leftmost) first.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// Appends a leaf hash; returns every node this completes, the leaf itself (level 0) first,
    /// then each parent it closes, bottom up.
    ///
    /// A tree of `u64::MAX` leaves cannot be appended to; no log reaches that size.
    pub fn push(&mut self, leaf_hash: Hash) -> Vec<(NodeId, Hash)> {
        let mut id = NodeId {
            level: 0,
            index: self.size,
        };
        let mut hash = leaf_hash;
        let mut completed = vec![(id, hash)];
        // Each set low bit of the old size is a complete subtree of the same height just left of
        // the new node: they merge, like a carry in binary addition.
        while id.index & 1 == 1 {
            let Some(left) = self.hashes.pop() else {
                break;
            };
            hash = node_hash(&left, &hash);
            id = NodeId {
                level: id.level + 1,
                index: id.index >> 1,
            };
            completed.push((id, hash));
        }
        self.hashes.push(hash);
        self.size += 1;
        completed
    }

    /// The Merkle tree hash of the whole tree.
    pub fn root(&self) -> Hash {
        fold(&self.hashes)
    }

    /// 32 bytes per hash, largest first; the size is stored separately.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.hashes.iter().flat_map(|h| h.0).collect()
    }

    /// The inverse of [`Frontier::to_bytes`] for a tree of `size` leaves.
    pub fn from_bytes(size: u64, bytes: &[u8]) -> Result<Frontier, ProofError> {
        let expected_bytes = size.count_ones() as usize * 32;
        if bytes.len() != expected_bytes {
            return Err(ProofError::BadFrontierBytes {
                size,
                expected_bytes,
                got_bytes: bytes.len(),
            });
        }
        let hashes = bytes
            .chunks_exact(32)
            .map(|chunk| {
                Hash::from_slice(chunk).map_err(|_| ProofError::BadFrontierBytes {
                    size,
                    expected_bytes,
                    got_bytes: bytes.len(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Frontier::from_parts(size, hashes)
    }
}

/// Every node of a tree in memory: for tests, benchmarks and small verifiers.
///
/// Holds every complete subtree (about `2n` hashes), and answers at any size up to its own,
/// through the same plan-then-compute path as the storage layer.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    /// `levels[l][i]` is the hash of `NodeId { level: l, index: i }`.
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// The empty tree.
    pub fn new() -> MemoryTree {
        MemoryTree::default()
    }

    /// Appends a leaf hash and every node it completes.
    pub fn push(&mut self, leaf_hash: Hash) {
        let mut level = 0;
        let mut hash = leaf_hash;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let Some(row) = self.levels.get_mut(level) else {
                break;
            };
            row.push(hash);
            // An odd count means the node just added is a left child, still waiting for its
            // sibling; an even count means its parent is now complete.
            if row.len() % 2 != 0 {
                break;
            }
            let [.., left, right] = row.as_slice() else {
                break;
            };
            hash = node_hash(left, right);
            level += 1;
        }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// Hash of a stored complete subtree, if present.
    pub fn node(&self, id: NodeId) -> Option<Hash> {
        let index = usize::try_from(id.index).ok()?;
        self.levels.get(usize::from(id.level))?.get(index).copied()
    }

    /// Merkle tree hash of leaves [lo, hi) (through range_nodes + fold).
    ///
    /// Only ranges that start on a boundary of their own size are trees; others are refused with
    /// [`ProofError::UnalignedRange`].
    pub fn range_hash(&self, lo: u64, hi: u64) -> Result<Hash, ProofError> {
        self.check_size(hi)?;
        let hashes = hashes_for_ranges(&[(lo, hi)], |id| self.node(id))?;
        hashes
            .first()
            .copied()
            .ok_or(ProofError::ReversedRange { lo, hi })
    }

    /// Merkle tree hash of the first `size` leaves.
    pub fn root(&self, size: u64) -> Result<Hash, ProofError> {
        self.range_hash(0, size)
    }

    /// Inclusion proof of leaf `index` in the tree of the first `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(size)?;
        let ranges = inclusion_proof_ranges(index, size)?;
        hashes_for_ranges(&ranges, |id| self.node(id))
    }

    /// Consistency proof from the first `old` leaves to the first `new`.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(new)?;
        let ranges = consistency_proof_ranges(old, new)?;
        hashes_for_ranges(&ranges, |id| self.node(id))
    }

    fn check_size(&self, requested: u64) -> Result<(), ProofError> {
        if requested > self.size() {
            return Err(ProofError::BeyondTree {
                requested,
                tree_size: self.size(),
            });
        }
        Ok(())
    }
}

/// Why a proof could not be made or does not verify; each variant carries its evidence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf is not in the tree.
    #[error("leaf index {index} is not in a tree of {size} leaves")]
    IndexOutOfRange {
        /// The leaf asked for.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A consistency proof was asked from a larger tree to a smaller one.
    #[error("the old tree size {old} is larger than the new tree size {new}")]
    SizesOutOfOrder {
        /// The old tree size.
        old: u64,
        /// The new tree size.
        new: u64,
    },
    /// A consistency proof from the empty tree shows nothing and is not defined.
    #[error("no consistency proof from the empty tree (to size {new}): every tree extends it")]
    EmptyOldTree {
        /// The new tree size.
        new: u64,
    },
    /// The proof does not have the number of hashes the sizes call for.
    #[error("the proof has {got} hashes but these sizes need {expected}")]
    WrongProofLength {
        /// Hashes the proof must have.
        expected: usize,
        /// Hashes it has.
        got: usize,
    },
    /// The root recomputed from the proof is not the root given (for a consistency proof, the
    /// new root).
    #[error("the proof gives root {computed} but the expected root is {expected}")]
    RootMismatch {
        /// The root the caller holds.
        expected: Hash,
        /// The root the proof leads to.
        computed: Hash,
    },
    /// The consistency proof does not lead back to the old root: the old tree is not a prefix.
    #[error("the proof gives old root {computed} but the expected old root is {expected}")]
    OldRootMismatch {
        /// The old root the caller holds.
        expected: Hash,
        /// The old root the proof leads to.
        computed: Hash,
    },
    /// A leaf range ends before it starts.
    #[error("the leaf range [{lo}, {hi}) is reversed")]
    ReversedRange {
        /// Start of the range.
        lo: u64,
        /// End of the range.
        hi: u64,
    },
    /// A leaf range does not start on a boundary of its own size, so it is not a Merkle tree.
    #[error("the leaf range [{lo}, {hi}) is not aligned as a Merkle (sub)tree")]
    UnalignedRange {
        /// Start of the range.
        lo: u64,
        /// End of the range.
        hi: u64,
    },
    /// A size beyond the leaves held was asked for.
    #[error("size {requested} asked of a tree of {tree_size} leaves")]
    BeyondTree {
        /// The size asked for.
        requested: u64,
        /// The leaves held.
        tree_size: u64,
    },
    /// A node the plan named was not supplied.
    #[error("node at level {} index {} is missing", .0.level, .0.index)]
    MissingNode(NodeId),
    /// A frontier's hash count does not match its size.
    #[error("a frontier of size {size} has {expected} hashes, not {got}")]
    BadFrontier {
        /// The tree size.
        size: u64,
        /// `size.count_ones()`.
        expected: usize,
        /// Hashes supplied.
        got: usize,
    },
    /// Stored frontier bytes do not match its size.
    #[error("a frontier of size {size} is {expected_bytes} bytes, not {got_bytes}")]
    BadFrontierBytes {
        /// The tree size.
        size: u64,
        /// `32 · size.count_ones()`.
        expected_bytes: usize,
        /// Bytes supplied.
        got_bytes: usize,
    },
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;

    fn leaf(i: u64) -> Hash {
        Hash::leaf(&i.to_be_bytes())
    }

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(leaf).collect()
    }

    fn tree_of(hashes: &[Hash]) -> MemoryTree {
        let mut tree = MemoryTree::new();
        for h in hashes {
            tree.push(*h);
        }
        tree
    }

    /// One tree for the exhaustive tests, which ask it for every smaller size.
    fn tree_300() -> &'static (Vec<Hash>, MemoryTree) {
        static TREE: OnceLock<(Vec<Hash>, MemoryTree)> = OnceLock::new();
        TREE.get_or_init(|| {
            let d = leaves(300);
            let tree = tree_of(&d);
            (d, tree)
        })
    }

    /// A large tree for the randomised tests.
    fn tree_100k() -> &'static MemoryTree {
        static TREE: OnceLock<MemoryTree> = OnceLock::new();
        TREE.get_or_init(|| tree_of(&leaves(100_000)))
    }

    fn flip(h: &Hash, bit: usize) -> Hash {
        let mut out = *h;
        out.0[bit / 8 % 32] ^= 1 << (bit % 8);
        out
    }

    fn ceil_log2(n: u64) -> u64 {
        if n <= 1 {
            0
        } else {
            u64::from((n - 1).ilog2()) + 1
        }
    }

    // The RFC's definitions written out literally, recursion and all, as the reference that the
    // planned, iterative code is checked against.

    fn rfc_split(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    fn mth(d: &[Hash]) -> Hash {
        match d {
            [] => Hash::digest(b""),
            [one] => *one,
            _ => {
                let k = rfc_split(d.len());
                node_hash(&mth(&d[..k]), &mth(&d[k..]))
            }
        }
    }

    fn rfc_path(m: usize, d: &[Hash]) -> Vec<Hash> {
        if d.len() <= 1 {
            return Vec::new();
        }
        let k = rfc_split(d.len());
        if m < k {
            let mut p = rfc_path(m, &d[..k]);
            p.push(mth(&d[k..]));
            p
        } else {
            let mut p = rfc_path(m - k, &d[k..]);
            p.push(mth(&d[..k]));
            p
        }
    }

    fn rfc_subproof(m: usize, d: &[Hash], known: bool) -> Vec<Hash> {
        let n = d.len();
        if m == n {
            return if known { Vec::new() } else { vec![mth(d)] };
        }
        let k = rfc_split(n);
        if m <= k {
            let mut p = rfc_subproof(m, &d[..k], known);
            p.push(mth(&d[k..]));
            p
        } else {
            let mut p = rfc_subproof(m - k, &d[k..], false);
            p.push(mth(&d[..k]));
            p
        }
    }

    #[test]
    fn node_hash_prefixes_a_one_byte() {
        // RFC 6962 reference leaves 0 ("") and 1 (0x00): their tree is the reference root of 2.
        let root = node_hash(&Hash::leaf(b""), &Hash::leaf(&[0x00]));
        assert_eq!(
            root.to_hex(),
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"
        );
    }

    #[test]
    fn the_empty_root_is_the_sha256_of_nothing() {
        assert_eq!(
            empty_root().to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(MemoryTree::new().root(0), Ok(empty_root()));
        assert_eq!(Frontier::new().root(), empty_root());
    }

    #[test]
    fn a_node_id_covers_two_to_the_level_leaves_at_its_position() {
        assert_eq!(NodeId { level: 0, index: 5 }.leaves(), (5, 6));
        assert_eq!(NodeId { level: 3, index: 2 }.leaves(), (16, 24));
        assert_eq!(
            NodeId {
                level: 63,
                index: 0
            }
            .leaves(),
            (0, 1 << 63)
        );
        // Beyond any tree: saturates rather than wrapping or panicking.
        assert_eq!(
            NodeId {
                level: 63,
                index: 1
            }
            .leaves(),
            (1 << 63, u64::MAX)
        );
        assert_eq!(
            NodeId {
                level: 200,
                index: 1
            }
            .leaves(),
            (u64::MAX, u64::MAX)
        );
    }

    #[test]
    fn range_nodes_cover_a_range_with_the_largest_aligned_subtrees() {
        let ids = |v: &[(u8, u64)]| {
            v.iter()
                .map(|&(level, index)| NodeId { level, index })
                .collect::<Vec<_>>()
        };
        assert_eq!(range_nodes(0, 7), ids(&[(2, 0), (1, 2), (0, 6)]));
        assert_eq!(range_nodes(4, 7), ids(&[(1, 2), (0, 6)]));
        assert_eq!(range_nodes(3, 9), ids(&[(0, 3), (2, 1), (0, 8)]));
        assert_eq!(range_nodes(0, 1 << 40), ids(&[(40, 0)]));
        assert_eq!(range_nodes(5, 5), vec![]);
        assert_eq!(range_nodes(6, 5), vec![]);
        assert_eq!(range_nodes(0, u64::MAX).len(), 64);
    }

    #[test]
    fn range_nodes_tile_every_range_exactly_and_maximally() {
        for lo in 0..=130u64 {
            for hi in lo..=130u64 {
                let mut next = lo;
                for id in range_nodes(lo, hi) {
                    let (a, b) = id.leaves();
                    assert_eq!(a, next, "[{lo}, {hi}) contiguous");
                    assert!(b <= hi, "[{lo}, {hi}) within");
                    // Maximal: the subtree one level up starting here is unaligned or too long.
                    let parent_width = 2u64 << id.level;
                    assert!(
                        a % parent_width != 0 || a + parent_width > hi,
                        "[{lo}, {hi}): {id:?} could be larger"
                    );
                    next = b;
                }
                assert_eq!(next, hi, "[{lo}, {hi}) covered");
            }
        }
    }

    #[test]
    fn fold_nests_to_the_right() {
        let (a, b, c) = (leaf(1), leaf(2), leaf(3));
        assert_eq!(fold(&[]), empty_root());
        assert_eq!(fold(&[a]), a);
        assert_eq!(fold(&[a, b]), node_hash(&a, &b));
        assert_eq!(fold(&[a, b, c]), node_hash(&a, &node_hash(&b, &c)));
    }

    #[test]
    fn the_memory_tree_root_is_the_rfc6962_mth_for_every_size_up_to_300() {
        let (d, tree) = tree_300();
        for size in 0..=300 {
            assert_eq!(tree.root(size as u64), Ok(mth(&d[..size])), "size {size}");
        }
        assert_eq!(
            tree.root(301),
            Err(ProofError::BeyondTree {
                requested: 301,
                tree_size: 300
            })
        );
    }

    #[test]
    fn range_hash_is_the_mth_of_every_aligned_range_and_refuses_the_rest() {
        let d = leaves(64);
        let tree = tree_of(&d);
        for lo in 0..=64u64 {
            for hi in lo..=64u64 {
                let got = tree.range_hash(lo, hi);
                let aligned = hi == lo || lo % (1 << (hi - lo).ilog2()) == 0;
                if aligned {
                    assert_eq!(got, Ok(mth(&d[lo as usize..hi as usize])), "[{lo}, {hi})");
                } else {
                    assert_eq!(got, Err(ProofError::UnalignedRange { lo, hi }));
                }
            }
        }
        assert_eq!(
            tree.range_hash(5, 4),
            Err(ProofError::ReversedRange { lo: 5, hi: 4 })
        );
    }

    #[test]
    fn proof_ranges_match_the_examples_of_rfc6962() {
        // RFC 6962 §2.1.3, the tree of seven leaves d0..d6.
        assert_eq!(
            inclusion_proof_ranges(0, 7),
            Ok(vec![(1, 2), (2, 4), (4, 7)])
        );
        assert_eq!(
            inclusion_proof_ranges(3, 7),
            Ok(vec![(2, 3), (0, 2), (4, 7)])
        );
        assert_eq!(
            inclusion_proof_ranges(4, 7),
            Ok(vec![(5, 6), (6, 7), (0, 4)])
        );
        assert_eq!(inclusion_proof_ranges(6, 7), Ok(vec![(4, 6), (0, 4)]));
        assert_eq!(
            consistency_proof_ranges(3, 7),
            Ok(vec![(2, 3), (3, 4), (0, 2), (4, 7)])
        );
        assert_eq!(consistency_proof_ranges(4, 7), Ok(vec![(4, 7)]));
        assert_eq!(
            consistency_proof_ranges(6, 7),
            Ok(vec![(4, 6), (6, 7), (0, 4)])
        );
    }

    #[test]
    fn inclusion_proofs_are_the_rfc9162_path_for_every_index_and_size_up_to_64() {
        let (d, tree) = tree_300();
        for size in 1..=64usize {
            for index in 0..size {
                assert_eq!(
                    tree.inclusion_proof(index as u64, size as u64),
                    Ok(rfc_path(index, &d[..size])),
                    "leaf {index} of {size}"
                );
            }
        }
    }

    #[test]
    fn consistency_proofs_are_the_rfc9162_subproof_for_every_pair_up_to_64() {
        let (d, tree) = tree_300();
        for new in 1..=64usize {
            for old in 1..=new {
                assert_eq!(
                    tree.consistency_proof(old as u64, new as u64),
                    Ok(rfc_subproof(old, &d[..new], true)),
                    "{old} -> {new}"
                );
            }
        }
    }

    /// Arguments to `verify_inclusion`: index, size, leaf hash, proof, root.
    type InclusionCase = (u64, u64, Hash, Vec<Hash>, Hash);

    /// How many ways [`bad_inclusion`] has to spoil a proof of `len` hashes.
    fn inclusion_mutations(len: usize) -> usize {
        len + 6
    }

    /// The `k`-th way to spoil a valid inclusion case: flip a bit of proof hash `k`, or of the
    /// leaf or the root, claim another leaf index, or add or drop a hash.
    fn bad_inclusion(k: usize, case: &InclusionCase) -> InclusionCase {
        let (index, size, leaf_hash, proof, root) = case.clone();
        let bit = (k * 37 + (index + size) as usize) % 256;
        let len = proof.len();
        let mut bad = (index, size, leaf_hash, proof, root);
        match k {
            _ if k < len => bad.3[k] = flip(&bad.3[k], bit),
            _ if k == len => bad.2 = flip(&leaf_hash, bit),
            _ if k == len + 1 => bad.0 = (index + 1) % size.max(2),
            _ if k == len + 2 => bad.0 = index ^ 2,
            _ if k == len + 3 => bad.4 = flip(&root, bit),
            _ if k == len + 4 || len == 0 => bad.3.push(root),
            _ => {
                bad.3.pop();
            }
        }
        bad
    }

    fn check_inclusion(case: &InclusionCase) -> Result<(), ProofError> {
        let (index, size, leaf_hash, proof, root) = case;
        verify_inclusion(*index, *size, leaf_hash, proof, root)
    }

    fn inclusion_case(index: u64, size: u64) -> InclusionCase {
        let (d, tree) = tree_300();
        let proof = tree.inclusion_proof(index, size).expect("proof");
        let root = tree.root(size).expect("root");
        (index, size, d[index as usize], proof, root)
    }

    // SHA-256 costs about 7 µs in the debug profile, so trying every mutation of every proof up
    // to size 300 (about 3 million hashes) would take minutes. Every proof is verified; each
    // proof gets one mutation, taken in turn, so that every kind and position is tried thousands
    // of times; and every mutation of every proof is tried up to size 64.

    #[test]
    fn every_inclusion_proof_up_to_size_300_verifies_and_a_mutation_of_each_fails() {
        let mut turn = 0;
        for size in 1..=300u64 {
            for index in 0..size {
                let case = inclusion_case(index, size);
                assert_eq!(check_inclusion(&case), Ok(()), "leaf {index} of {size}");
                let k = turn % inclusion_mutations(case.3.len());
                turn += 1;
                assert!(
                    check_inclusion(&bad_inclusion(k, &case)).is_err(),
                    "leaf {index} of {size}: mutation {k} verified"
                );
            }
        }
    }

    #[test]
    fn every_mutation_of_every_inclusion_proof_up_to_size_64_fails() {
        for size in 1..=64u64 {
            for index in 0..size {
                let case = inclusion_case(index, size);
                for k in 0..inclusion_mutations(case.3.len()) {
                    assert!(
                        check_inclusion(&bad_inclusion(k, &case)).is_err(),
                        "leaf {index} of {size}: mutation {k} verified"
                    );
                }
            }
        }
    }

    #[test]
    fn every_bit_of_every_proof_hash_matters() {
        let cases = (1..=8u64)
            .flat_map(|size| (0..size).map(move |index| (index, size)))
            .chain([(0, 300), (255, 300), (299, 300)]);
        for (index, size) in cases {
            let (index, size, leaf_hash, proof, root) = inclusion_case(index, size);
            for j in 0..proof.len() {
                for bit in 0..256 {
                    let mut bad = proof.clone();
                    bad[j] = flip(&bad[j], bit);
                    assert!(verify_inclusion(index, size, &leaf_hash, &bad, &root).is_err());
                }
            }
        }
    }

    /// Which side each proof hash sits on, nearest the leaf first: what the verifier computes
    /// from (index, size).
    fn path_shape(index: u64, size: u64) -> Vec<bool> {
        inclusion_proof_ranges(index, size)
            .expect("in range")
            .iter()
            .map(|&(_, hi)| hi <= index)
            .collect()
    }

    #[test]
    fn a_wrong_tree_size_fails_exactly_when_it_changes_the_path() {
        // The proof does not carry the size, so another size with the same path shape gives the
        // same root: the size must come from the signed checkpoint (see `verify_inclusion`).
        let mut passed = 0;
        for size in 1..=40u64 {
            for index in 0..size {
                let (_, _, leaf_hash, proof, root) = inclusion_case(index, size);
                for other in (index + 1..=40).filter(|&o| o != size) {
                    let ok = verify_inclusion(index, other, &leaf_hash, &proof, &root).is_ok();
                    assert_eq!(
                        ok,
                        path_shape(index, size) == path_shape(index, other),
                        "leaf {index} of {size} checked as of {other}"
                    );
                    passed += usize::from(ok);
                }
            }
        }
        // Leaf 0 of 5 checks as leaf 0 of 6, 7 and 8, for example.
        assert!(passed > 0);
    }

    /// Arguments to `verify_consistency`: old, new, old root, new root, proof.
    type ConsistencyCase = (u64, u64, Hash, Hash, Vec<Hash>);

    fn consistency_mutations(len: usize) -> usize {
        len + 5
    }

    /// The `k`-th way to spoil a valid consistency case: flip a bit of proof hash `k` or of either
    /// root, swap the roots, or add or drop a hash.
    fn bad_consistency(k: usize, case: &ConsistencyCase) -> ConsistencyCase {
        let (old, new, old_root, new_root, proof) = case.clone();
        let bit = (k * 41 + (old + new) as usize) % 256;
        let len = proof.len();
        let mut bad = (old, new, old_root, new_root, proof);
        match k {
            _ if k < len => bad.4[k] = flip(&bad.4[k], bit),
            _ if k == len => bad.2 = flip(&old_root, bit),
            _ if k == len + 1 => bad.3 = flip(&new_root, bit),
            // Swapping equal roots changes nothing: spoil the new one instead.
            _ if k == len + 2 && old == new => bad.3 = flip(&new_root, bit),
            _ if k == len + 2 => (bad.2, bad.3) = (new_root, old_root),
            _ if k == len + 3 || len == 0 => bad.4.push(new_root),
            _ => {
                bad.4.pop();
            }
        }
        bad
    }

    fn check_consistency(case: &ConsistencyCase) -> Result<(), ProofError> {
        let (old, new, old_root, new_root, proof) = case;
        verify_consistency(*old, *new, old_root, new_root, proof)
    }

    fn consistency_case(old: u64, new: u64) -> ConsistencyCase {
        let (_, tree) = tree_300();
        let proof = tree.consistency_proof(old, new).expect("proof");
        let old_root = tree.root(old).expect("root");
        let new_root = tree.root(new).expect("root");
        (old, new, old_root, new_root, proof)
    }

    #[test]
    fn every_consistency_proof_up_to_size_200_verifies_and_a_mutation_of_each_fails() {
        let mut turn = 0;
        for new in 1..=200u64 {
            for old in 1..=new {
                let case = consistency_case(old, new);
                assert_eq!(check_consistency(&case), Ok(()), "{old} -> {new}");
                let k = turn % consistency_mutations(case.4.len());
                turn += 1;
                assert!(
                    check_consistency(&bad_consistency(k, &case)).is_err(),
                    "{old} -> {new}: mutation {k} verified"
                );
            }
        }
    }

    #[test]
    fn every_mutation_of_every_consistency_proof_up_to_size_64_fails() {
        for new in 1..=64u64 {
            for old in 1..=new {
                let case = consistency_case(old, new);
                for k in 0..consistency_mutations(case.4.len()) {
                    assert!(
                        check_consistency(&bad_consistency(k, &case)).is_err(),
                        "{old} -> {new}: mutation {k} verified"
                    );
                }
            }
        }
    }

    #[test]
    fn a_consistency_proof_from_the_empty_tree_is_refused_by_planner_and_verifier() {
        let root = leaf(0);
        for new in 0..5 {
            assert_eq!(
                consistency_proof_ranges(0, new),
                Err(ProofError::EmptyOldTree { new })
            );
            assert_eq!(
                verify_consistency(0, new, &empty_root(), &root, &[]),
                Err(ProofError::EmptyOldTree { new })
            );
        }
        assert_eq!(
            verify_consistency(0, 0, &empty_root(), &empty_root(), &[]),
            Err(ProofError::EmptyOldTree { new: 0 })
        );
    }

    #[test]
    fn equal_sizes_need_an_empty_proof_and_equal_roots() {
        let (a, b) = (leaf(1), leaf(2));
        assert_eq!(consistency_proof_ranges(5, 5), Ok(vec![]));
        assert_eq!(verify_consistency(5, 5, &a, &a, &[]), Ok(()));
        assert_eq!(
            verify_consistency(5, 5, &a, &b, &[]),
            Err(ProofError::RootMismatch {
                expected: b,
                computed: a
            })
        );
        assert_eq!(
            verify_consistency(5, 5, &a, &a, &[a]),
            Err(ProofError::WrongProofLength {
                expected: 0,
                got: 1
            })
        );
    }

    #[test]
    fn impossible_positions_are_refused_with_their_numbers() {
        assert_eq!(
            inclusion_proof_ranges(3, 3),
            Err(ProofError::IndexOutOfRange { index: 3, size: 3 })
        );
        assert_eq!(
            inclusion_proof_ranges(0, 0),
            Err(ProofError::IndexOutOfRange { index: 0, size: 0 })
        );
        assert_eq!(
            consistency_proof_ranges(4, 3),
            Err(ProofError::SizesOutOfOrder { old: 4, new: 3 })
        );
        assert_eq!(
            verify_inclusion(7, 7, &leaf(0), &[], &leaf(0)),
            Err(ProofError::IndexOutOfRange { index: 7, size: 7 })
        );
        let tree = tree_of(&leaves(4));
        assert_eq!(
            tree.inclusion_proof(0, 5),
            Err(ProofError::BeyondTree {
                requested: 5,
                tree_size: 4
            })
        );
    }

    #[test]
    fn a_failed_proof_reports_the_expected_and_computed_roots() {
        let tree = tree_of(&leaves(6));
        let root = tree.root(6).expect("root");
        let proof = tree.inclusion_proof(2, 6).expect("proof");
        let wrong = leaf(99);
        let computed = tree_of(&[leaf(0), leaf(1), wrong, leaf(3), leaf(4), leaf(5)])
            .root(6)
            .expect("root");
        assert_eq!(
            verify_inclusion(2, 6, &wrong, &proof, &root),
            Err(ProofError::RootMismatch {
                expected: root,
                computed
            })
        );

        let old_root = tree.root(3).expect("root");
        let proof = tree.consistency_proof(3, 6).expect("proof");
        assert!(matches!(
            verify_consistency(3, 6, &wrong, &root, &proof),
            Err(ProofError::OldRootMismatch { expected, .. }) if expected == wrong
        ));
        assert!(matches!(
            verify_consistency(3, 6, &old_root, &wrong, &proof),
            Err(ProofError::RootMismatch { expected, computed }) if expected == wrong && computed == root
        ));
    }

    /// Checks a plan's shape (every range a tree, at most one not a complete subtree) and
    /// returns how many nodes it reads.
    fn plan_cost(ranges: &[(u64, u64)]) -> Option<usize> {
        let incomplete = ranges
            .iter()
            .filter(|&&(lo, hi)| range_nodes(lo, hi).len() != 1)
            .count();
        let all_trees = ranges
            .iter()
            .all(|&(lo, hi)| lo < hi && is_tree_range(lo, hi));
        (incomplete <= 1 && all_trees).then(|| nodes_for_ranges(ranges).len())
    }

    #[test]
    fn every_proof_plan_reads_o_log_n_nodes_for_every_size_up_to_1000() {
        let (mut worst_inclusion, mut worst_consistency) = (0, 0);
        for size in 1..=1000u64 {
            let log = ceil_log2(size) as usize;
            for index in 0..size {
                let ranges = inclusion_proof_ranges(index, size).expect("plan");
                assert!(ranges.len() <= log);
                let cost = plan_cost(&ranges);
                assert!(
                    cost.is_some_and(|c| c <= 2 * log),
                    "leaf {index} of {size}: {ranges:?}"
                );
                worst_inclusion = worst_inclusion.max(cost.unwrap_or(0));
            }
            for old in 1..=size {
                let ranges = consistency_proof_ranges(old, size).expect("plan");
                assert!(ranges.len() <= log + 1);
                let cost = plan_cost(&ranges);
                assert!(
                    cost.is_some_and(|c| c <= 2 * log + 1),
                    "{old} -> {size}: {ranges:?}"
                );
                worst_consistency = worst_consistency.max(cost.unwrap_or(0));
            }
        }
        // With ⌈log2 n⌉ <= 10 the bounds are 20 and 21; the worst plans come close.
        assert_eq!((worst_inclusion, worst_consistency), (17, 18));
    }

    #[test]
    fn a_missing_node_is_named() {
        let ranges = inclusion_proof_ranges(0, 6).expect("plan");
        assert_eq!(
            nodes_for_ranges(&ranges),
            vec![
                NodeId { level: 0, index: 1 },
                NodeId { level: 1, index: 1 },
                NodeId { level: 1, index: 2 },
            ]
        );
        assert_eq!(
            hashes_for_ranges(&ranges, |_| None),
            Err(ProofError::MissingNode(NodeId { level: 0, index: 1 }))
        );
    }

    /// Every node a MemoryTree stores, in a canonical order.
    fn stored_nodes(tree: &MemoryTree) -> Vec<(NodeId, Hash)> {
        let mut out = Vec::new();
        for level in 0..64u8 {
            let mut index = 0;
            while let Some(h) = tree.node(NodeId { level, index }) {
                out.push((NodeId { level, index }, h));
                index += 1;
            }
        }
        out.sort();
        out
    }

    #[test]
    fn the_frontier_root_matches_the_memory_tree_for_every_size_up_to_300() {
        let (d, tree) = tree_300();
        let mut frontier = Frontier::new();
        let mut pushed = Vec::new();
        for (n, h) in d.iter().enumerate() {
            let completed = frontier.push(*h);
            assert_eq!(
                completed.first(),
                Some(&(
                    NodeId {
                        level: 0,
                        index: n as u64
                    },
                    *h
                ))
            );
            assert!(
                completed
                    .windows(2)
                    .all(|w| w[1].0.level == w[0].0.level + 1)
            );
            pushed.extend(completed);
            let size = n as u64 + 1;
            assert_eq!(frontier.size(), size);
            assert_eq!(Ok(frontier.root()), tree.root(size), "size {size}");
            // The frontier is the whole-tree cover: the nodes a root computation would fetch.
            let cover: Vec<Hash> = range_nodes(0, size)
                .into_iter()
                .map(|id| tree.node(id).expect("stored"))
                .collect();
            assert_eq!(frontier.hashes(), cover.as_slice());
        }
        pushed.sort();
        assert_eq!(
            pushed,
            stored_nodes(tree),
            "push reports exactly the stored nodes"
        );
    }

    #[test]
    fn frontier_bytes_round_trip_and_appending_resumes_from_them() {
        let d = leaves(40);
        let mut frontier = Frontier::new();
        for (n, h) in d.iter().enumerate() {
            let bytes = frontier.to_bytes();
            assert_eq!(bytes.len(), 32 * frontier.hashes().len());
            let mut restored = Frontier::from_bytes(n as u64, &bytes).expect("round trip");
            assert_eq!(restored, frontier);
            assert_eq!(restored.push(*h), frontier.push(*h));
            assert_eq!(restored, frontier);
        }
        assert_eq!(frontier.root(), mth(&d));
    }

    #[test]
    fn a_frontier_whose_parts_do_not_match_its_size_is_refused() {
        assert_eq!(
            Frontier::from_parts(6, vec![leaf(0)]),
            Err(ProofError::BadFrontier {
                size: 6,
                expected: 2,
                got: 1
            })
        );
        assert_eq!(
            Frontier::from_bytes(7, &[0; 64]),
            Err(ProofError::BadFrontierBytes {
                size: 7,
                expected_bytes: 96,
                got_bytes: 64
            })
        );
        assert!(Frontier::from_bytes(1, &[0; 31]).is_err());
        assert_eq!(Frontier::from_bytes(0, &[]), Ok(Frontier::new()));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn random_leaves_give_one_root_whichever_way_it_is_computed(
            data in vec(vec(any::<u8>(), 0..48), 0..80),
        ) {
            let d: Vec<Hash> = data.iter().map(|bytes| Hash::leaf(bytes)).collect();
            let tree = tree_of(&d);
            let mut frontier = Frontier::new();
            for h in &d {
                frontier.push(*h);
            }
            prop_assert_eq!(frontier.root(), mth(&d));
            prop_assert_eq!(tree.root(d.len() as u64), Ok(mth(&d)));
        }

        #[test]
        fn proofs_in_a_tree_of_100_000_leaves_verify(
            (size, index, old) in (1u64..=100_000).prop_flat_map(|s| (Just(s), 0..s, 1..=s)),
        ) {
            let tree = tree_100k();
            let root = tree.root(size)?;
            let proof = tree.inclusion_proof(index, size)?;
            prop_assert_eq!(verify_inclusion(index, size, &leaf(index), &proof, &root), Ok(()));
            let bad = flip(&leaf(index), 0);
            prop_assert!(verify_inclusion(index, size, &bad, &proof, &root).is_err());

            let old_root = tree.root(old)?;
            let proof = tree.consistency_proof(old, size)?;
            prop_assert_eq!(verify_consistency(old, size, &old_root, &root, &proof), Ok(()));
            if let Some(first) = proof.first() {
                let mut bad = proof.clone();
                bad[0] = flip(first, 255);
                prop_assert!(verify_consistency(old, size, &old_root, &root, &bad).is_err());
            }
        }

        #[test]
        fn proof_plans_stay_logarithmic_up_to_the_largest_tree(
            (size, index, old) in (1u64..=u64::MAX).prop_flat_map(|s| (Just(s), 0..s, 1..=s)),
        ) {
            let log = ceil_log2(size) as usize;
            let inclusion = inclusion_proof_ranges(index, size)?;
            prop_assert!(plan_cost(&inclusion).is_some_and(|c| c <= 2 * log), "{:?}", inclusion);
            let consistency = consistency_proof_ranges(old, size)?;
            prop_assert!(
                plan_cost(&consistency).is_some_and(|c| c <= 2 * log + 1),
                "{:?}",
                consistency
            );
        }
    }
}
