//! Streaming verification of the hash chain.
//!
//! The work per entry is split in two, so that the expensive, independent part can run on several
//! threads while the cheap, sequential part runs in leaf order:
//!
//! - [`check_entry`] needs nothing but the entry: its bytes are a canonical entry of a supported
//!   format whose `leaf_index` is the position it was served at, its entry hash is the one the
//!   source claims (when the source claims one), and every disclosure offered with it opens a
//!   commitment in its record. It is pure, and its result ([`CheckedEntry`]) is `Send`.
//! - [`ChainVerifier::link`] takes checked entries in `leaf_index` order and keeps only the
//!   position and the previous entry hash, so checking a log of any size takes constant memory:
//!   the entry arrives at the next position (no gap, no repeat) and its `prev_hash` is the entry
//!   hash of the entry before it.
//!
//! [`ChainVerifier::check`] does both for one entry. For each entry it checks, in this order, and
//! reports the first failure with its evidence:
//!
//! 1. the entry arrives at the next position (`OutOfOrder`);
//! 2. its bytes are a canonical entry of a supported format (`BadEntry`) whose `leaf_index` is
//!    that position (`WrongIndex`);
//! 3. its entry hash equals the hash the source claims for it (`HashMismatch`);
//! 4. every disclosure offered with it opens a commitment in its record (`BadDisclosure`);
//! 5. its `prev_hash` equals the entry hash of the entry before it (`BrokenLink`).
//!
//! Disclosures are checked before the link since the split (an entry failing both reports
//! `BadDisclosure`). A caller that runs [`check_entry`] ahead on other threads MUST still report
//! failures in leaf order: the first failure is the one of the lowest leaf, whether it came from
//! [`check_entry`] or from [`ChainVerifier::link`].

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

    /// Checks the entry at `leaf_index` and advances: [`check_entry`] then
    /// [`ChainVerifier::link`], refusing an entry out of order before parsing it. `claimed_hash`
    /// is the hash the source stores or serves for it, if any. Returns the entry and its hash.
    pub fn check(
        &mut self,
        leaf_index: u64,
        canonical: &[u8],
        claimed_hash: Option<Hash>,
        disclosures: &[Disclosure],
    ) -> Result<(Entry, Hash), ChainError> {
        self.expect_next(leaf_index)?;
        let checked = check_entry(leaf_index, canonical, claimed_hash, disclosures)?;
        self.link(&checked)?;
        let leaf_hash = checked.leaf_hash();
        Ok((checked.into_entry(), leaf_hash))
    }

    /// Links an entry checked by [`check_entry`] to the chain and advances: it MUST be the next
    /// entry (`OutOfOrder`) and its `prev_hash` MUST be the entry hash of the last entry linked
    /// (`BrokenLink`). Nothing changes when it fails.
    pub fn link(&mut self, checked: &CheckedEntry) -> Result<(), ChainError> {
        self.expect_next(checked.leaf_index)?;
        let found = checked.prev_hash();
        if found != self.head {
            return Err(ChainError::BrokenLink {
                leaf_index: checked.leaf_index,
                expected: self.head,
                found,
            });
        }
        self.size += 1;
        self.head = checked.leaf_hash;
        Ok(())
    }

    /// Refuses `leaf_index` unless it is the next entry's (`OutOfOrder`): the first check of an
    /// entry, made before the result of [`check_entry`] is looked at.
    pub fn expect_next(&self, leaf_index: u64) -> Result<(), ChainError> {
        if leaf_index != self.size {
            return Err(ChainError::OutOfOrder {
                expected: self.size,
                found: leaf_index,
            });
        }
        Ok(())
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

/// An entry whose own checks passed ([`check_entry`]), waiting to be linked to the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedEntry {
    leaf_index: u64,
    leaf_hash: Hash,
    entry: Entry,
}

impl CheckedEntry {
    /// The position the entry was checked at, which its `leaf_index` member names.
    pub fn leaf_index(&self) -> u64 {
        self.leaf_index
    }

    /// The entry hash (RFC 6962 leaf hash) of its canonical bytes.
    pub fn leaf_hash(&self) -> Hash {
        self.leaf_hash
    }

    /// The entry hash it claims for the entry before it.
    pub fn prev_hash(&self) -> Hash {
        self.entry.prev_hash
    }

    /// The parsed entry.
    pub fn entry(&self) -> &Entry {
        &self.entry
    }

    /// The parsed entry, by value.
    pub fn into_entry(self) -> Entry {
        self.entry
    }
}

/// Checks everything about the entry at `leaf_index` that does not need the entry before it:
/// its bytes are a canonical entry of a supported format (`BadEntry`) naming that position
/// (`WrongIndex`), they hash to `claimed_hash` when the source claims one (`HashMismatch`), and
/// every disclosure opens a commitment in the record (`BadDisclosure`), in that order.
///
/// Pure: entries may be checked on any thread, in any order, and then linked in leaf order with
/// [`ChainVerifier::link`].
pub fn check_entry(
    leaf_index: u64,
    canonical: &[u8],
    claimed_hash: Option<Hash>,
    disclosures: &[Disclosure],
) -> Result<CheckedEntry, ChainError> {
    let entry = Entry::from_canonical_bytes(canonical)
        .map_err(|source| ChainError::BadEntry { leaf_index, source })?;
    if entry.leaf_index != leaf_index {
        return Err(ChainError::WrongIndex {
            leaf_index,
            in_entry: entry.leaf_index,
        });
    }
    let leaf_hash = entry::entry_hash(canonical);
    if let Some(claimed) = claimed_hash
        && claimed != leaf_hash
    {
        return Err(ChainError::HashMismatch {
            leaf_index,
            claimed,
            computed: leaf_hash,
        });
    }
    disclosure::check_all(&entry.record, disclosures)
        .map_err(|source| ChainError::BadDisclosure { leaf_index, source })?;
    Ok(CheckedEntry {
        leaf_index,
        leaf_hash,
        entry,
    })
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

    #[test]
    fn entries_checked_on_other_threads_link_in_order() {
        let log = build(6);
        let checked: Vec<CheckedEntry> = std::thread::scope(|scope| {
            let handles: Vec<_> = log
                .iter()
                .enumerate()
                .map(|(i, (bytes, hash, ds))| {
                    scope.spawn(move || check_entry(i as u64, bytes, Some(*hash), ds))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("no panic").expect("checks"))
                .collect()
        });
        let mut v = ChainVerifier::new();
        for c in &checked {
            assert_eq!(c.leaf_hash(), log[c.leaf_index() as usize].1);
            v.link(c).expect("links");
        }
        assert_eq!(v.check_head(6, log[5].1), Ok(()));
        assert_eq!(checked[2].entry().leaf_index, 2);
        assert_eq!(checked[3].prev_hash(), log[2].1);
    }

    #[test]
    fn linking_out_of_order_fails_and_changes_nothing() {
        let log = build(3);
        let check = |i: usize| check_entry(i as u64, &log[i].0, None, &log[i].2).expect("checks");
        let mut v = ChainVerifier::new();
        v.link(&check(0)).expect("links");
        assert_eq!(
            v.link(&check(2)),
            Err(ChainError::OutOfOrder {
                expected: 1,
                found: 2
            })
        );
        assert_eq!(
            v.link(&check(0)),
            Err(ChainError::OutOfOrder {
                expected: 1,
                found: 0
            })
        );
        assert_eq!((v.size(), v.head()), (1, log[0].1));
        v.link(&check(1)).expect("links");
        v.link(&check(2)).expect("links");
    }

    #[test]
    fn check_refuses_an_entry_out_of_order_before_parsing_it() {
        let mut v = ChainVerifier::new();
        assert_eq!(
            v.check(1, b"not json", None, &[]),
            Err(ChainError::OutOfOrder {
                expected: 0,
                found: 1
            })
        );
    }

    #[test]
    fn a_forged_disclosure_is_reported_before_a_broken_link() {
        let log = build(2);
        let mut unlinked = Entry::from_canonical_bytes(&log[1].0).expect("entry");
        unlinked.prev_hash = GENESIS_PREV_HASH;
        let bytes = unlinked.canonical_bytes().expect("canonical");
        let forged = Disclosure {
            value: json!("B"),
            ..log[1].2[0].clone()
        };
        let mut v = ChainVerifier::new();
        v.check(0, &log[0].0, None, &log[0].2).expect("checks");
        assert!(matches!(
            v.check(1, &bytes, None, std::slice::from_ref(&forged)),
            Err(ChainError::BadDisclosure { leaf_index: 1, .. })
        ));
        assert!(matches!(
            v.check(1, &bytes, None, &log[1].2),
            Err(ChainError::BrokenLink { leaf_index: 1, .. })
        ));
    }

    #[test]
    fn checked_entries_can_be_sent_between_threads() {
        fn send<T: Send + Sync>() {}
        send::<CheckedEntry>();
    }
}
