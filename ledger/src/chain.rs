//! Streaming verification of the hash chain.
//!
//! [`ChainVerifier`] is fed entries in `leaf_index` order and keeps only the position and the
//! previous entry hash, so checking a log of any size takes constant memory. For each entry it
//! checks, in this order, and reports the first failure with its evidence:
//!
//! 1. the entry arrives at the next position (no gap, no repeat);
//! 2. its bytes are a canonical entry of a supported format whose `leaf_index` is that position;
//! 3. its entry hash equals the hash the source claims for it (when the source claims one);
//! 4. its `prev_hash` equals the entry hash of the entry before it;
//! 5. every disclosure offered with it opens a commitment in its record.

use crate::disclosure::{self, Disclosure, DisclosureError};
use crate::entry::{self, Entry, EntryError, GENESIS_PREV_HASH};
use crate::hash::Hash;

/// The first thing found wrong with a log, naming the leaf and what differs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChainError {
    /// An entry is missing or out of order.
    #[error("leaf {expected}: expected the next entry, found leaf {found}")]
    OutOfOrder {
        /// The position that was due.
        expected: u64,
        /// The position that arrived.
        found: u64,
    },
    /// The entry bytes are not a valid canonical entry.
    #[error("leaf {leaf_index}: {source}")]
    BadEntry {
        /// The position of the entry.
        leaf_index: u64,
        /// What is wrong with it.
        source: EntryError,
    },
    /// The entry's own `leaf_index` member names another position.
    #[error("leaf {leaf_index}: the entry says it is leaf {in_entry}")]
    WrongIndex {
        /// The position of the entry.
        leaf_index: u64,
        /// The `leaf_index` written inside it.
        in_entry: u64,
    },
    /// The entry hash the source claims is not the hash of the bytes.
    #[error(
        "leaf {leaf_index}: stored entry hash {claimed} but the entry bytes hash to {computed}"
    )]
    HashMismatch {
        /// The position of the entry.
        leaf_index: u64,
        /// The hash the source gave.
        claimed: Hash,
        /// The hash of the bytes.
        computed: Hash,
    },
    /// The entry does not link to the one before it.
    #[error("leaf {leaf_index}: prev_hash is {found} but the previous entry hashes to {expected}")]
    BrokenLink {
        /// The position of the entry.
        leaf_index: u64,
        /// The entry hash of the previous entry (or the genesis constant).
        expected: Hash,
        /// The `prev_hash` written in the entry.
        found: Hash,
    },
    /// A disclosure does not open a commitment of the entry.
    #[error("leaf {leaf_index}: {source}")]
    BadDisclosure {
        /// The position of the entry.
        leaf_index: u64,
        /// What is wrong with the disclosure.
        source: DisclosureError,
    },
    /// The log's claimed head differs from the one recomputed.
    #[error(
        "head: the log claims size {claimed_size} with head {claimed_head}, the entries give size {size} with head {head}"
    )]
    HeadMismatch {
        /// Size the source claims.
        claimed_size: u64,
        /// Head hash the source claims.
        claimed_head: Hash,
        /// Size recomputed.
        size: u64,
        /// Head hash recomputed.
        head: Hash,
    },
}

/// Checks a log entry by entry in constant memory.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    size: u64,
    head: Hash,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier::new()
    }
}

impl ChainVerifier {
    /// A verifier positioned before entry 0.
    pub fn new() -> ChainVerifier {
        ChainVerifier {
            size: 0,
            head: GENESIS_PREV_HASH,
        }
    }

    /// A verifier positioned after `size` entries whose last entry hashes to `head`, as a
    /// previous run (an auditor's state file) left it.
    pub fn resume(size: u64, head: Hash) -> ChainVerifier {
        ChainVerifier { size, head }
    }

    /// Entries checked so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Entry hash of the last entry checked (the genesis constant before any).
    pub fn head(&self) -> Hash {
        self.head
    }

    /// Checks the entry at `leaf_index` and advances. `claimed_hash` is the hash the source
    /// stores or serves for it, if any. Returns the entry and its hash.
    pub fn check(
        &mut self,
        leaf_index: u64,
        canonical: &[u8],
        claimed_hash: Option<Hash>,
        disclosures: &[Disclosure],
    ) -> Result<(Entry, Hash), ChainError> {
        if leaf_index != self.size {
            return Err(ChainError::OutOfOrder {
                expected: self.size,
                found: leaf_index,
            });
        }
        let entry = Entry::from_canonical_bytes(canonical)
            .map_err(|source| ChainError::BadEntry { leaf_index, source })?;
        if entry.leaf_index != leaf_index {
            return Err(ChainError::WrongIndex {
                leaf_index,
                in_entry: entry.leaf_index,
            });
        }
        let computed = entry::entry_hash(canonical);
        if let Some(claimed) = claimed_hash
            && claimed != computed
        {
            return Err(ChainError::HashMismatch {
                leaf_index,
                claimed,
                computed,
            });
        }
        if entry.prev_hash != self.head {
            return Err(ChainError::BrokenLink {
                leaf_index,
                expected: self.head,
                found: entry.prev_hash,
            });
        }
        if !disclosures.is_empty() {
            let mut record = entry.record.clone();
            disclosure::reveal_all(&mut record, disclosures)
                .map_err(|source| ChainError::BadDisclosure { leaf_index, source })?;
        }
        self.size += 1;
        self.head = computed;
        Ok((entry, computed))
    }

    /// Checks that the source's claimed size and head are the ones recomputed.
    pub fn check_head(&self, claimed_size: u64, claimed_head: Hash) -> Result<(), ChainError> {
        if claimed_size != self.size || claimed_head != self.head {
            return Err(ChainError::HeadMismatch {
                claimed_size,
                claimed_head,
                size: self.size,
                head: self.head,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{EntryKind, FORMAT_VERSION};
    use serde_json::json;

    fn build(n: u64) -> Vec<(Vec<u8>, Hash, Vec<Disclosure>)> {
        let mut prev = GENESIS_PREV_HASH;
        (0..n)
            .map(|i| {
                let mut record = json!({"title": format!("decision {i}"), "name": "A"});
                let d = disclosure::commit(&mut record, "/name", [i as u8; 16]).expect("commits");
                let entry = Entry {
                    format: FORMAT_VERSION,
                    leaf_index: i,
                    kind: EntryKind::DecisionRecorded,
                    decision_id: format!("d{i}"),
                    recorded_at: "2026-11-29T10:15:30.123Z".into(),
                    recorded_by: "clerk".into(),
                    prev_hash: prev,
                    record,
                };
                let bytes = entry.canonical_bytes().expect("canonical");
                prev = entry::entry_hash(&bytes);
                (bytes, prev, vec![d])
            })
            .collect()
    }

    fn run(log: &[(Vec<u8>, Hash, Vec<Disclosure>)]) -> Result<ChainVerifier, ChainError> {
        let mut v = ChainVerifier::new();
        for (i, (bytes, hash, ds)) in log.iter().enumerate() {
            v.check(i as u64, bytes, Some(*hash), ds)?;
        }
        Ok(v)
    }

    #[test]
    fn an_untouched_chain_verifies_and_reports_its_head() {
        let log = build(5);
        let v = run(&log).expect("verifies");
        assert_eq!(v.size(), 5);
        assert_eq!(v.check_head(5, log[4].1), Ok(()));
        assert!(v.check_head(4, log[4].1).is_err());
    }

    #[test]
    fn a_changed_byte_is_caught_at_that_leaf() {
        let mut log = build(5);
        let text = String::from_utf8(log[3].0.clone())
            .expect("utf-8")
            .replace("decision 3", "decision X");
        log[3].0 = text.into_bytes();
        assert!(matches!(
            run(&log),
            Err(ChainError::HashMismatch { leaf_index: 3, .. })
        ));
    }

    #[test]
    fn a_rehashed_rewrite_breaks_the_next_link() {
        let mut log = build(5);
        let text = String::from_utf8(log[2].0.clone())
            .expect("utf-8")
            .replace("decision 2", "decision X");
        log[2].0 = text.into_bytes();
        log[2].1 = entry::entry_hash(&log[2].0);
        assert!(matches!(
            run(&log),
            Err(ChainError::BrokenLink { leaf_index: 3, .. })
        ));
    }

    #[test]
    fn a_missing_entry_is_caught() {
        let mut log = build(5);
        log.remove(2);
        assert!(matches!(
            run(&log),
            Err(ChainError::WrongIndex {
                leaf_index: 2,
                in_entry: 3
            })
        ));
    }

    #[test]
    fn a_forged_disclosure_is_caught() {
        let mut log = build(3);
        log[1].2[0].value = json!("B");
        assert!(matches!(
            run(&log),
            Err(ChainError::BadDisclosure { leaf_index: 1, .. })
        ));
    }
}
