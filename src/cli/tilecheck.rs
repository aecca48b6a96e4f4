//! The tiles a log should serve, recomputed from its entries: `verify --url` compares them with
//! the served C2SP tlog-tiles, byte for byte.
//!
//! The tree nodes the verifier's Merkle frontier completes as it appends each leaf are exactly
//! the hashes the hash tiles hold: tile level `L` holds tree level `8·L`, 256 to a tile. A
//! served tile built from altered stored nodes (which served inclusion and consistency proofs
//! are built from too) therefore differs from the one recomputed here. Entry bundles are compared
//! with the entry bytes the API served, so the two views of the log can never disagree.
//!
//! Memory: at most one unfinished tile per level (256 hashes each) and the bytes of the entries
//! of one unfinished bundle.

use ledger::Hash;
use ledger::merkle::NodeId;
use ledger::tile::{FULL_WIDTH, TileId, TileKind};

/// A tile the log must serve, with the bytes it must hold.
pub struct ExpectedTile {
    /// Which tile.
    pub id: TileId,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// The tiles of a tree, recomputed leaf by leaf.
#[derive(Default)]
pub struct TileCheck {
    /// Per tile level, the hashes of its unfinished tile.
    levels: Vec<Vec<Hash>>,
    /// The entries of the unfinished bundle.
    bundle: Vec<Vec<u8>>,
    /// Leaves appended.
    size: u64,
}

impl TileCheck {
    /// A check of a tree from its first leaf.
    pub fn new() -> TileCheck {
        TileCheck::default()
    }

    /// Appends a leaf: its canonical entry and the nodes its append completed (as
    /// [`ledger::Frontier::push`] returns them). Returns the tiles it completed.
    pub fn push(&mut self, canonical: &[u8], completed: &[(NodeId, Hash)]) -> Vec<ExpectedTile> {
        let mut done = Vec::new();
        self.bundle.push(canonical.to_vec());
        self.size += 1;
        for (id, hash) in completed {
            if id.level % 8 != 0 {
                continue;
            }
            let level = usize::from(id.level / 8);
            if self.levels.len() <= level {
                self.levels.resize_with(level + 1, Vec::new);
            }
            self.levels[level].push(*hash);
            if self.levels[level].len() as u64 == FULL_WIDTH {
                done.push(hash_tile(level, id.index / FULL_WIDTH, &self.levels[level]));
                self.levels[level].clear();
            }
        }
        if self.bundle.len() as u64 == FULL_WIDTH {
            done.push(self.bundle_tile((self.size - 1) / FULL_WIDTH));
            self.bundle.clear();
        }
        done
    }

    /// The partial tiles of the tree as it stands: what a client of a checkpoint of this size
    /// fetches for its rightmost edge.
    pub fn partial(&self) -> Vec<ExpectedTile> {
        let mut out = Vec::new();
        for (level, hashes) in self.levels.iter().enumerate() {
            if !hashes.is_empty() {
                let width = FULL_WIDTH.pow(level as u32 + 1);
                out.push(hash_tile(level, self.size / width, hashes));
            }
        }
        if !self.bundle.is_empty() {
            out.push(self.bundle_tile(self.size / FULL_WIDTH));
        }
        out
    }

    fn bundle_tile(&self, index: u64) -> ExpectedTile {
        let bytes =
            ledger::tile::entry_bundle(self.bundle.iter().map(Vec::as_slice)).unwrap_or_default();
        ExpectedTile {
            id: TileId {
                kind: TileKind::Entries,
                index,
                width: self.bundle.len() as u64,
            },
            bytes,
        }
    }
}

fn hash_tile(level: usize, index: u64, hashes: &[Hash]) -> ExpectedTile {
    ExpectedTile {
        id: TileId {
            kind: TileKind::Hashes {
                level: u8::try_from(level).unwrap_or(u8::MAX),
            },
            index,
            width: hashes.len() as u64,
        },
        bytes: hashes.iter().flat_map(|h| h.0).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger::merkle::{Frontier, MemoryTree};

    #[test]
    fn recomputed_tiles_hold_the_trees_nodes() {
        let mut frontier = Frontier::new();
        let mut tree = MemoryTree::new();
        let mut check = TileCheck::new();
        let mut full = Vec::new();
        let size = 256 * 256 + 300;
        for n in 0..size {
            let entry = format!("{{\"n\":{n}}}");
            let leaf = Hash::leaf(entry.as_bytes());
            tree.push(leaf);
            let nodes = frontier.push(leaf);
            full.extend(check.push(entry.as_bytes(), &nodes));
        }
        // 257 full level-0 tiles, one full level-1 tile and 257 full bundles.
        let count = |kind: fn(&TileKind) -> bool| full.iter().filter(|t| kind(&t.id.kind)).count();
        assert_eq!(count(|k| *k == TileKind::Hashes { level: 0 }), 257);
        assert_eq!(count(|k| *k == TileKind::Hashes { level: 1 }), 1);
        assert_eq!(count(|k| *k == TileKind::Entries), 257);
        let partial = check.partial();
        let paths: Vec<String> = partial.iter().map(|t| t.id.path()).collect();
        // Level 2 holds the one complete subtree of 65,536 leaves (§10: width ⌊s / 256²⌋ mod 256).
        assert_eq!(
            paths,
            ["0/257.p/44", "1/001.p/1", "2/000.p/1", "entries/257.p/44"]
        );
        for tile in full.iter().chain(&partial) {
            let TileKind::Hashes { level } = tile.id.kind else {
                let split = ledger::tile::split_entry_bundle(&tile.bytes).expect("a bundle");
                let first = tile.id.index * 256;
                assert_eq!(split[0], format!("{{\"n\":{first}}}").as_bytes());
                continue;
            };
            for (i, hash) in tile.bytes.chunks(32).enumerate() {
                let id = NodeId {
                    level: level * 8,
                    index: tile.id.index * 256 + i as u64,
                };
                assert_eq!(
                    Some(hash),
                    tree.node(id).as_ref().map(|h| &h.0[..]),
                    "{id:?}"
                );
            }
        }
    }
}
