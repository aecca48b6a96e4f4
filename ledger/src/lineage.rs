//! The lineage checks of a verifier: the references between entries, erasures, publications and
//! the decision lifecycle.
//!
//! Every entry kind but `decision.recorded` belongs to the **lineage** of a decision recorded by
//! an earlier entry (`docs/log-format.md` §5). The hash chain and the Merkle tree prove that no
//! entry changed; they do not prove that the entries make sense together. [`LineageChecker`]
//! checks the rules §11 makes a verifier's business, fed every entry in log order with the
//! disclosures served with it:
//!
//! - a `decision.recorded` entry never reuses a decision id, and every other entry's
//!   `decision_id` names a decision recorded by an earlier entry;
//! - `decision.superseded` names, in `superseded_by`, an earlier recorded decision other than
//!   its own;
//! - `decision.redacted` names an earlier entry of the same decision, and `path` in that entry's
//!   record (opened with the disclosures served) holds a placeholder whose digest is the
//!   redaction's `commitment` and which no served disclosure opened: a served disclosure of an
//!   erased value means the service still holds it. A `path` that runs through a placeholder
//!   this reader was not shown cannot be checked and is skipped, as §11 says;
//! - `decision.published` has a valid scope, and every placeholder it publishes in the decision's
//!   earlier entries is opened by a served disclosure, unless a redaction anywhere in the log
//!   erased it or a value containing it. Because an erasure may follow the publication (and the
//!   service then no longer serves the value), this rule is settled by [`LineageChecker::finish`]
//!   once the whole log has been read;
//! - every lineage entry is one its decision's lifecycle state admits, replayed with the writer's
//!   own transition function ([`crate::lifecycle`], §5.9), and a `decision.superseded` entry's
//!   successor admits being one: an outcome on a rescinded decision, a second rescission or an
//!   `upheld` call-in of a decision never called in is an entry the service refuses, so a log that
//!   holds one fails;
//! - `access.granted` mints a grant id no decision or earlier grant uses; `access.revoked` names
//!   an earlier grant, of the same token, at most once (§5.10);
//! - for a checker that knows its reader ([`LineageChecker::for_reader`]), every placeholder is
//!   served to exactly the readers §6 gives it, judged at the size the log had when its page was
//!   read ([`LineageChecker::served_at`]): a value withheld from this reader, and not erased
//!   before that size, fails; so does one served to a reader who may not see it; and a source
//!   that shows the stored labels ([`LineageChecker::check_labelled`]) must label each as §6
//!   does. These, like the publication rule, are settled by [`LineageChecker::finish`];
//! - a redaction is read opened with its own disclosures: in format 2 a withheld decision's
//!   redaction commits its `path`, and a reader not shown it cannot tell which value was erased,
//!   so the publication rule excuses every placeholder of the entry it names;
//! - the record members these rules read have the types §11 requires.
//!
//! The other shapes of records are the writer's business (§5). Opening a disclosure against its
//! commitment is [`crate::chain::ChainVerifier`]'s check; this module opens them again only to
//! learn which placeholders a reader was shown.
//!
//! # Memory
//! Unlike the chain and the Merkle frontier, these rules need history: a redaction or a
//! publication may refer to any earlier entry of its decision. The checker therefore remembers,
//! for every decision, the leaf index and kind of each of its entries and each placeholder seen
//! in them (path, digest, whether a served disclosure opened it, whether a publication covers
//! it), plus the erasures and its lifecycle state (a status, a flag and a successor's id).
//! Memory grows with the number of decisions and their placeholders —
//! tens of bytes a placeholder — not with the size of the records. A verifier that resumes from
//! a remembered head without this state cannot apply the rules to the entries it reads.

use std::collections::HashMap;

use serde_json::Value;

use crate::access::{Reader, Visibility};
use crate::disclosure::{self, Disclosure, DisclosureError};
use crate::entry::{Entry, EntryKind};
use crate::hash::Hash;
use crate::lifecycle::{self, CallInStatus, Event, Lifecycle, Status};

/// The first lineage rule a log breaks, naming the leaf that breaks it and the evidence.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LineageError {
    /// A `decision.recorded` entry reuses the id of a decision recorded earlier.
    #[error("leaf {leaf_index}: decision {decision_id} was already recorded by leaf {first}")]
    RecordedTwice {
        /// The second `decision.recorded` entry.
        leaf_index: u64,
        /// The reused id.
        decision_id: String,
        /// The entry that recorded it first.
        first: u64,
    },
    /// A lineage entry refers to a decision that no earlier entry records.
    #[error(
        "leaf {leaf_index}: {} refers to decision {decision_id}, which no earlier decision.recorded entry records",
        .kind.as_str()
    )]
    UnknownDecision {
        /// The lineage entry.
        leaf_index: u64,
        /// Its kind.
        kind: EntryKind,
        /// The id it names.
        decision_id: String,
    },
    /// A record member the lineage rules read is missing or of the wrong type.
    #[error("leaf {leaf_index}: {}: record.{member} must be {expected}", .kind.as_str())]
    BadMember {
        /// The entry.
        leaf_index: u64,
        /// Its kind.
        kind: EntryKind,
        /// The member of `record`.
        member: &'static str,
        /// What it must be.
        expected: &'static str,
    },
    /// A decision is superseded by itself.
    #[error("leaf {leaf_index}: decision {decision_id} is superseded by itself")]
    SupersededBySelf {
        /// The `decision.superseded` entry.
        leaf_index: u64,
        /// The decision.
        decision_id: String,
    },
    /// A decision is superseded by one that no earlier entry records.
    #[error(
        "leaf {leaf_index}: superseded_by {superseded_by}: no earlier decision.recorded entry records that decision"
    )]
    UnknownSuccessor {
        /// The `decision.superseded` entry.
        leaf_index: u64,
        /// The id it names as the successor.
        superseded_by: String,
    },
    /// A redaction names an entry that is not earlier than itself.
    #[error("leaf {leaf_index}: redaction of leaf {target}, which is not an earlier entry")]
    RedactionNotEarlier {
        /// The `decision.redacted` entry.
        leaf_index: u64,
        /// The `leaf_index` it names.
        target: u64,
    },
    /// A redaction names an entry of another decision.
    #[error(
        "leaf {leaf_index}: redaction of leaf {target}, which is not an entry of decision {decision_id}"
    )]
    RedactionOfAnotherDecision {
        /// The `decision.redacted` entry.
        leaf_index: u64,
        /// The `leaf_index` it names.
        target: u64,
        /// The redaction's own decision.
        decision_id: String,
    },
    /// A redaction names a path that holds no placeholder.
    #[error(
        "leaf {leaf_index}: redaction of leaf {target} {path}: that entry holds no placeholder there"
    )]
    RedactionWithoutPlaceholder {
        /// The `decision.redacted` entry.
        leaf_index: u64,
        /// The entry it names.
        target: u64,
        /// The path it names.
        path: String,
    },
    /// A redaction repeats a digest other than the placeholder's.
    #[error(
        "leaf {leaf_index}: redaction of leaf {target} {path}: commitment is {claimed}, the placeholder there is {found}"
    )]
    RedactionCommitmentMismatch {
        /// The `decision.redacted` entry.
        leaf_index: u64,
        /// The entry it names.
        target: u64,
        /// The path it names.
        path: String,
        /// The `commitment` the redaction repeats.
        claimed: Hash,
        /// The digest of the placeholder in the named entry.
        found: Hash,
    },
    /// A served disclosure opens a value that a redaction erased.
    #[error(
        "leaf {leaf_index}: erased value still held: this entry erases leaf {target} {path}, but a disclosure of it is still served"
    )]
    ErasedValueStillHeld {
        /// The `decision.redacted` entry.
        leaf_index: u64,
        /// The entry that held the value.
        target: u64,
        /// The path of the value.
        path: String,
    },
    /// A value this reader should be served (§6) is not, and no redaction erased it: the service
    /// withholds it, or its disclosure was deleted behind the log's back.
    #[error(
        "leaf {leaf_index}: value withheld: {path} of decision {decision_id} is {visibility}, so a{} {reader} reader is served it, but no disclosure of it is served and no redaction erased it",
        if matches!(.reader, Reader::Anonymous | Reader::Auditor) { "n" } else { "" }
    )]
    DisclosureWithheld {
        /// The entry that holds the placeholder.
        leaf_index: u64,
        /// Its decision.
        decision_id: String,
        /// The placeholder's path.
        path: String,
        /// Who may be served it.
        visibility: Visibility,
        /// The reader the verifier ran as.
        reader: Reader,
    },
    /// A value is served to a reader who may not be served it (§6).
    #[error(
        "leaf {leaf_index}: value served beyond its readers: {path} of decision {decision_id} is {visibility}, but it is served to a{} {reader} reader",
        if matches!(.reader, Reader::Anonymous | Reader::Auditor) { "n" } else { "" }
    )]
    DisclosureOverserved {
        /// The entry that holds the placeholder.
        leaf_index: u64,
        /// Its decision.
        decision_id: String,
        /// The placeholder's path.
        path: String,
        /// Who may be served it.
        visibility: Visibility,
        /// The reader the verifier ran as.
        reader: Reader,
    },
    /// A disclosure is stored with another visibility than §6 gives it (read from the database,
    /// where every label is visible).
    #[error(
        "leaf {leaf_index}: disclosure {path} is stored as {stored}, but §6 makes it {expected}"
    )]
    VisibilityMislabelled {
        /// The entry that holds the placeholder.
        leaf_index: u64,
        /// The placeholder's path.
        path: String,
        /// The stored label.
        stored: String,
        /// The label the entries give it.
        expected: Visibility,
    },
    /// A published value is not served, and no redaction erased it.
    #[error(
        "leaf {leaf_index}: publication not honoured: decision {decision_id} published leaf {target} {path}, but no disclosure of it is served and no redaction erased it"
    )]
    PublicationNotHonoured {
        /// The `decision.published` entry.
        leaf_index: u64,
        /// The decision.
        decision_id: String,
        /// The entry that holds the placeholder.
        target: u64,
        /// The placeholder's path.
        path: String,
    },
    /// An entry mints an id — a decision's or a grant's — that an earlier entry minted.
    #[error("leaf {leaf_index}: {} reuses the id {id}, minted by leaf {first}", .kind.as_str())]
    IdReused {
        /// The entry.
        leaf_index: u64,
        /// Its kind.
        kind: EntryKind,
        /// The reused id.
        id: String,
        /// The entry that minted it.
        first: u64,
    },
    /// An `access.revoked` entry names no grant of an earlier `access.granted` entry.
    #[error(
        "leaf {leaf_index}: access.revoked names grant {grant_id}, which no earlier access.granted entry made"
    )]
    UnknownGrant {
        /// The `access.revoked` entry.
        leaf_index: u64,
        /// The grant id it names.
        grant_id: String,
    },
    /// An `access.revoked` entry names another token than the grant it revokes, or revokes a
    /// grant revoked before.
    #[error("leaf {leaf_index}: access.revoked of grant {grant_id}: {why}")]
    BadRevocation {
        /// The `access.revoked` entry.
        leaf_index: u64,
        /// The grant id it names.
        grant_id: String,
        /// What is wrong.
        why: String,
    },
    /// A lineage entry the decision's lifecycle state does not admit (§5.9): the service refuses
    /// such a request, so the log holds an entry it did not write faithfully. For a supersession
    /// whose successor refuses it, `decision_id` and `state` are the successor's.
    #[error(
        "leaf {leaf_index}: transition refused: {} while decision {decision_id} is {state}: {refusal}",
        .kind.as_str()
    )]
    TransitionRefused {
        /// The lineage entry.
        leaf_index: u64,
        /// The decision whose state refuses it.
        decision_id: String,
        /// The entry's kind.
        kind: EntryKind,
        /// That decision's status before the entry.
        state: Status,
        /// Why the state does not admit the entry: the message the service would have answered.
        refusal: lifecycle::Refusal,
    },
    /// A disclosure does not open a placeholder of its entry.
    #[error("leaf {leaf_index}: {source}")]
    BadDisclosure {
        /// The entry.
        leaf_index: u64,
        /// What is wrong with the disclosure.
        source: DisclosureError,
    },
}

/// A placeholder seen in an entry: in its hashed record, or revealed inside an opened parent.
#[derive(Debug)]
struct Placeholder {
    /// The RFC 6901 pointer into the entry's `record`.
    path: Box<str>,
    digest: Hash,
    /// A served disclosure opened it.
    opened: bool,
    /// The visibility stored with that disclosure, when the source shows labels (a database).
    label: Option<Visibility>,
    /// The log's size when it was served: what it reflects of later erasures and publications.
    as_of: u64,
}

/// One entry of a decision.
#[derive(Debug)]
struct Leaf {
    index: u64,
    kind: EntryKind,
    placeholders: Vec<Placeholder>,
}

impl Leaf {
    fn placeholder(&self, path: &str) -> Option<&Placeholder> {
        self.placeholders.iter().find(|p| &*p.path == path)
    }

    /// Whether `path` lies inside a placeholder this reader was not shown.
    fn hides(&self, path: &str) -> bool {
        self.placeholders
            .iter()
            .any(|p| !p.opened && is_strictly_under(path, &p.path))
    }
}

/// What the checker remembers about one decision.
#[derive(Debug)]
struct Decision {
    /// Its `classification`: who may be served its committed values until published.
    class: Visibility,
    /// Its entries in log order; the first is its `decision.recorded` entry.
    leaves: Vec<Leaf>,
    /// Every erasure of one of its values.
    erasures: Vec<Erasure>,
    /// Every publication of some of its values.
    publications: Vec<Publication>,
    /// Its lifecycle state after the entries read so far.
    lifecycle: Lifecycle,
}

/// A `decision.redacted` entry.
#[derive(Debug)]
struct Erasure {
    /// The redaction entry.
    by: u64,
    /// The entry that held the value.
    target: u64,
    /// The erased path; `None` when it is committed and not shown to this reader, who then
    /// cannot tell which value of `target` was erased.
    path: Option<Box<str>>,
}

/// A `decision.published` entry.
#[derive(Debug)]
struct Publication {
    /// The publication entry.
    leaf: u64,
    /// Scope `fields`: the fields, as pointer tokens; scope `record`: `None`.
    fields: Option<Vec<String>>,
}

impl Publication {
    /// Whether this publication makes public the placeholder at `path` of an earlier entry of
    /// kind `kind` (§6).
    fn covers(&self, kind: EntryKind, path: &str) -> bool {
        let Some(fields) = &self.fields else {
            return true;
        };
        let prefix = match kind {
            EntryKind::DecisionRecorded => "",
            EntryKind::DecisionAmended => "/changes",
            // A scope `fields` publication covers only the record and its amendments.
            _ => return false,
        };
        fields.iter().any(|f| {
            path.strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix('/'))
                .and_then(|rest| rest.strip_prefix(f.as_str()))
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }
}

/// What the checker remembers about one grant of access.
#[derive(Debug)]
struct Grant {
    /// The `access.granted` entry.
    leaf: u64,
    /// The token it granted.
    token: String,
    /// The `access.revoked` entry, once there is one.
    revoked_by: Option<u64>,
}

impl Decision {
    fn leaf(&self, index: u64) -> Option<&Leaf> {
        self.leaves
            .binary_search_by_key(&index, |l| l.index)
            .ok()
            .map(|i| &self.leaves[i])
    }

    /// The first erasure before `as_of` of the value at `path` of entry `leaf`, or of a value
    /// containing it. A redaction whose path this reader was not shown may have erased any
    /// value of its entry.
    fn erasure(&self, leaf: u64, path: &str, as_of: u64) -> Option<&Erasure> {
        self.erasures.iter().find(|e| {
            e.target == leaf && e.by < as_of && e.path.as_deref().is_none_or(|p| is_under(path, p))
        })
    }

    /// The first publication between entry `leaf` and `as_of` that covers its `path`.
    fn publication(&self, leaf: &Leaf, path: &str, as_of: u64) -> Option<&Publication> {
        self.publications
            .iter()
            .find(|q| q.leaf > leaf.index && q.leaf < as_of && q.covers(leaf.kind, path))
    }
}

/// Checks the lineage rules of `docs/log-format.md` §11, fed every entry of a log in order from
/// entry 0. See the module documentation for the rules and what it remembers.
#[derive(Debug)]
pub struct LineageChecker {
    decisions: HashMap<String, Decision>,
    grants: HashMap<String, Grant>,
    /// Who the disclosures were served to; `None` when unknown (then only the publication rule
    /// says what must be served).
    reader: Option<Reader>,
    /// The log's size when the entries now being checked were served.
    as_of: u64,
}

impl Default for LineageChecker {
    fn default() -> LineageChecker {
        LineageChecker {
            decisions: HashMap::new(),
            grants: HashMap::new(),
            reader: None,
            as_of: u64::MAX,
        }
    }
}

impl LineageChecker {
    /// A checker positioned before entry 0, for disclosures served to an unknown reader: it
    /// checks what every reader is served (published values), not who is served the rest.
    pub fn new() -> LineageChecker {
        LineageChecker::default()
    }

    /// A checker for disclosures served to `reader`: every value §6 serves it must be served,
    /// and none other.
    pub fn for_reader(reader: Reader) -> LineageChecker {
        LineageChecker {
            reader: Some(reader),
            ..LineageChecker::default()
        }
    }

    /// The entries checked from now on were served when the log had `tree_size` entries (a
    /// page's `tree_size`, §9): their disclosures reflect the erasures and publications before
    /// that, and none after. Without it, they are taken to reflect the whole log read.
    pub fn served_at(&mut self, tree_size: u64) {
        self.as_of = tree_size;
    }

    /// Decisions recorded so far.
    pub fn decisions(&self) -> usize {
        self.decisions.len()
    }

    /// Checks `entry`, served with `disclosures`, against the entries before it, and remembers
    /// what later entries may refer to.
    ///
    /// Entries MUST come in log order, each already accepted by
    /// [`ChainVerifier::check`](crate::chain::ChainVerifier::check) with the same disclosures.
    /// After an error the checker's state is unspecified: a verifier stops at the first failure.
    pub fn check(&mut self, entry: &Entry, disclosures: &[Disclosure]) -> Result<(), LineageError> {
        self.check_labelled(entry, disclosures, &[])
    }

    /// [`LineageChecker::check`] for a source that also shows the visibility stored with each
    /// disclosure (`labels[i]` for `disclosures[i]`): each must be the one §6 gives it.
    pub fn check_labelled(
        &mut self,
        entry: &Entry,
        disclosures: &[Disclosure],
        labels: &[Visibility],
    ) -> Result<(), LineageError> {
        let prepared = prepare(entry, disclosures, labels)?;
        self.check_prepared(entry, disclosures, prepared)
    }

    /// [`LineageChecker::check_labelled`] for an entry whose own part of the checks [`prepare`]
    /// has done, perhaps on another thread, with the same disclosures and labels.
    pub fn check_prepared(
        &mut self,
        entry: &Entry,
        disclosures: &[Disclosure],
        prepared: Prepared,
    ) -> Result<(), LineageError> {
        let leaf_index = entry.leaf_index;
        if !entry.kind.is_decision() {
            return self.check_access(entry);
        }
        if let Some(grant) = self.grants.get(&entry.decision_id) {
            return Err(if entry.kind == EntryKind::DecisionRecorded {
                LineageError::IdReused {
                    leaf_index,
                    kind: entry.kind,
                    id: entry.decision_id.clone(),
                    first: grant.leaf,
                }
            } else {
                LineageError::UnknownDecision {
                    leaf_index,
                    kind: entry.kind,
                    decision_id: entry.decision_id.clone(),
                }
            });
        }

        if entry.kind == EntryKind::DecisionRecorded {
            if let Some(first) = self.decisions.get(&entry.decision_id) {
                return Err(LineageError::RecordedTwice {
                    leaf_index,
                    decision_id: entry.decision_id.clone(),
                    first: first.leaves.first().map_or(0, |l| l.index),
                });
            }
        } else if !self.decisions.contains_key(&entry.decision_id) {
            return Err(LineageError::UnknownDecision {
                leaf_index,
                kind: entry.kind,
                decision_id: entry.decision_id.clone(),
            });
        }

        match entry.kind {
            EntryKind::DecisionSuperseded => self.check_supersession(entry)?,
            EntryKind::DecisionRedacted => self.check_redaction(entry, disclosures)?,
            EntryKind::DecisionPublished => self.note_publication(entry),
            _ => {}
        }
        self.check_lifecycle(entry)?;

        let mut placeholders = prepared.placeholders;
        for p in &mut placeholders {
            p.as_of = self.as_of;
        }
        self.decisions
            .entry(entry.decision_id.clone())
            .or_insert_with(|| Decision {
                // The member checks have established it.
                class: entry.record["classification"]
                    .as_str()
                    .and_then(Visibility::parse)
                    .unwrap_or(Visibility::Restricted),
                leaves: Vec::new(),
                erasures: Vec::new(),
                publications: Vec::new(),
                lifecycle: Lifecycle::recorded(),
            })
            .leaves
            .push(Leaf {
                index: leaf_index,
                kind: entry.kind,
                placeholders,
            });
        Ok(())
    }

    /// The rules settled only once every entry is known, because a later entry changes what an
    /// earlier one's disclosures must be: for every placeholder, an erasure before it was served
    /// means it must not be served; otherwise a reader §6 serves it (by the decision's
    /// classification, or a publication before it was served) must be served it, and no other
    /// reader. Call it once every entry has been checked; it reports the earliest failure.
    pub fn finish(&self) -> Result<(), LineageError> {
        let mut first: Option<((u64, u64, String), LineageError)> = None;
        let mut keep = |(by, leaf, path): (u64, u64, &str), error: LineageError| {
            let key = (by, leaf, path.to_owned());
            if first.as_ref().is_none_or(|(k, _)| key < *k) {
                first = Some((key, error));
            }
        };
        for (decision_id, decision) in &self.decisions {
            for leaf in &decision.leaves {
                for p in &leaf.placeholders {
                    let path = &*p.path;
                    if let Some(erasure) = decision.erasure(leaf.index, path, p.as_of) {
                        if p.opened
                            && let Some(erased) = &erasure.path
                        {
                            keep(
                                (erasure.by, leaf.index, path),
                                LineageError::ErasedValueStillHeld {
                                    leaf_index: erasure.by,
                                    target: leaf.index,
                                    path: erased.to_string(),
                                },
                            );
                        }
                        continue;
                    }
                    let publication = decision.publication(leaf, path, p.as_of);
                    let visibility = match publication {
                        Some(_) => Visibility::Public,
                        None => decision.class,
                    };
                    if let Some(stored) = p.label
                        && stored != visibility
                    {
                        keep(
                            (leaf.index, leaf.index, path),
                            LineageError::VisibilityMislabelled {
                                leaf_index: leaf.index,
                                path: path.to_owned(),
                                stored: stored.as_str().to_owned(),
                                expected: visibility,
                            },
                        );
                    }
                    let served_to_reader = match self.reader {
                        Some(reader) => reader.may_see(visibility),
                        // Unknown reader: every reader is served what is published.
                        None => publication.is_some(),
                    };
                    match (served_to_reader, p.opened) {
                        (true, false) => match publication {
                            Some(q) => keep(
                                (q.leaf, leaf.index, path),
                                LineageError::PublicationNotHonoured {
                                    leaf_index: q.leaf,
                                    decision_id: decision_id.clone(),
                                    target: leaf.index,
                                    path: path.to_owned(),
                                },
                            ),
                            None => keep(
                                (leaf.index, leaf.index, path),
                                LineageError::DisclosureWithheld {
                                    leaf_index: leaf.index,
                                    decision_id: decision_id.clone(),
                                    path: path.to_owned(),
                                    visibility,
                                    reader: self.reader.unwrap_or(Reader::Anonymous),
                                },
                            ),
                        },
                        (false, true) if let Some(reader) = self.reader => keep(
                            (leaf.index, leaf.index, path),
                            LineageError::DisclosureOverserved {
                                leaf_index: leaf.index,
                                decision_id: decision_id.clone(),
                                path: path.to_owned(),
                                visibility,
                                reader,
                            },
                        ),
                        _ => {}
                    }
                }
            }
        }
        first.map_or(Ok(()), |(_, e)| Err(e))
    }

    fn check_supersession(&self, entry: &Entry) -> Result<(), LineageError> {
        let successor = entry.record["superseded_by"].as_str().unwrap_or_default();
        if successor == entry.decision_id {
            return Err(LineageError::SupersededBySelf {
                leaf_index: entry.leaf_index,
                decision_id: entry.decision_id.clone(),
            });
        }
        if !self.decisions.contains_key(successor) {
            return Err(LineageError::UnknownSuccessor {
                leaf_index: entry.leaf_index,
                superseded_by: successor.to_owned(),
            });
        }
        Ok(())
    }

    /// Replays the lifecycle (§5.9) over a lineage entry of a recorded decision: its state MUST
    /// admit the entry, and for a supersession the successor's state MUST admit being one. The
    /// references have been checked, so both decisions are known.
    fn check_lifecycle(&mut self, entry: &Entry) -> Result<(), LineageError> {
        let event = match entry.kind {
            EntryKind::DecisionAmended => Event::Amended,
            EntryKind::OutcomeReported => Event::OutcomeReported,
            EntryKind::CallIn => {
                let Some(status) = entry.record["status"]
                    .as_str()
                    .and_then(CallInStatus::parse)
                else {
                    return Ok(()); // unreachable: the member checks have established it
                };
                Event::CallIn(status)
            }
            EntryKind::DecisionRescinded => Event::Rescinded,
            EntryKind::DecisionSuperseded => Event::Superseded {
                // The member checks have established it.
                by: entry.record["superseded_by"].as_str().unwrap_or_default(),
            },
            EntryKind::DecisionRedacted => Event::Redacted,
            EntryKind::DecisionPublished => Event::Published,
            EntryKind::DecisionRecorded | EntryKind::AccessGranted | EntryKind::AccessRevoked => {
                return Ok(());
            }
        };
        let refused = |decision_id: &str, state: Status, refusal| LineageError::TransitionRefused {
            leaf_index: entry.leaf_index,
            decision_id: decision_id.to_owned(),
            kind: entry.kind,
            state,
            refusal,
        };
        let Some(decision) = self.decisions.get(&entry.decision_id) else {
            return Ok(()); // unreachable: `check` has found the decision
        };
        let next = decision
            .lifecycle
            .apply(&entry.decision_id, event)
            .map_err(|refusal| refused(&entry.decision_id, decision.lifecycle.status, refusal))?;
        if let Event::Superseded { by } = event
            && let Some(successor) = self.decisions.get(by)
        {
            // Being named a successor changes nothing of its state; only the refusal matters.
            successor
                .lifecycle
                .apply(
                    by,
                    Event::Supersedes {
                        predecessor: &entry.decision_id,
                    },
                )
                .map_err(|refusal| refused(by, successor.lifecycle.status, refusal))?;
        }
        if let Some(decision) = self.decisions.get_mut(&entry.decision_id) {
            decision.lifecycle = next;
        }
        Ok(())
    }

    /// `access.granted` mints a grant id no entry minted before; `access.revoked` names one,
    /// for the same token, at most once.
    fn check_access(&mut self, entry: &Entry) -> Result<(), LineageError> {
        let leaf_index = entry.leaf_index;
        let id = &entry.decision_id;
        // The member checks have established this.
        let token = entry.record["token"].as_str().unwrap_or_default();
        match entry.kind {
            EntryKind::AccessGranted => {
                let first = self.grants.get(id).map(|g| g.leaf).or_else(|| {
                    self.decisions
                        .get(id)
                        .and_then(|d| d.leaves.first())
                        .map(|l| l.index)
                });
                if let Some(first) = first {
                    return Err(LineageError::IdReused {
                        leaf_index,
                        kind: entry.kind,
                        id: id.clone(),
                        first,
                    });
                }
                self.grants.insert(
                    id.clone(),
                    Grant {
                        leaf: leaf_index,
                        token: token.to_owned(),
                        revoked_by: None,
                    },
                );
            }
            _ => {
                let Some(grant) = self.grants.get_mut(id) else {
                    return Err(LineageError::UnknownGrant {
                        leaf_index,
                        grant_id: id.clone(),
                    });
                };
                let bad = |why: String| LineageError::BadRevocation {
                    leaf_index,
                    grant_id: id.clone(),
                    why,
                };
                if grant.token != token {
                    return Err(bad(format!(
                        "it names token {token:?}, the grant was of {:?}",
                        grant.token
                    )));
                }
                if let Some(first) = grant.revoked_by {
                    return Err(bad(format!("leaf {first} revoked it already")));
                }
                grant.revoked_by = Some(leaf_index);
            }
        }
        Ok(())
    }

    fn check_redaction(
        &mut self,
        entry: &Entry,
        disclosures: &[Disclosure],
    ) -> Result<(), LineageError> {
        let leaf_index = entry.leaf_index;
        // The member checks have established these.
        let target = entry.record["leaf_index"].as_u64().unwrap_or(u64::MAX);
        let opened = opened_record(entry, disclosures)?;
        let claimed = entry.record["commitment"]
            .as_str()
            .and_then(|c| Hash::parse(c).ok())
            .unwrap_or_default();
        if target >= leaf_index {
            return Err(LineageError::RedactionNotEarlier { leaf_index, target });
        }
        let Some(decision) = self.decisions.get_mut(&entry.decision_id) else {
            return Ok(()); // unreachable: `check` has found the decision
        };
        let Some(leaf) = decision.leaf(target) else {
            return Err(LineageError::RedactionOfAnotherDecision {
                leaf_index,
                target,
                decision_id: entry.decision_id.clone(),
            });
        };
        // In format 2 a non-public decision's redaction commits its path: a reader not shown it
        // cannot tell which value was erased, only in which entry (§11).
        let Some(path) = opened["path"].as_str() else {
            decision.erasures.push(Erasure {
                by: leaf_index,
                target,
                path: None,
            });
            return Ok(());
        };
        match leaf.placeholder(path) {
            Some(p) if p.digest != claimed => {
                return Err(LineageError::RedactionCommitmentMismatch {
                    leaf_index,
                    target,
                    path: path.to_owned(),
                    claimed,
                    found: p.digest,
                });
            }
            // Whether it is still served is settled by `finish`, which knows when it was served.
            Some(_) => {}
            // Inside a value withheld from this reader: neither check can be made (§11).
            None if leaf.hides(path) => {}
            None => {
                return Err(LineageError::RedactionWithoutPlaceholder {
                    leaf_index,
                    target,
                    path: path.to_owned(),
                });
            }
        }
        decision.erasures.push(Erasure {
            by: leaf_index,
            target,
            path: Some(path.into()),
        });
        Ok(())
    }

    /// Remembers a publication: `finish` settles what it makes public.
    fn note_publication(&mut self, entry: &Entry) {
        let fields = match entry.record["scope"].as_str() {
            Some("fields") => Some(
                entry.record["fields"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(disclosure::escape_pointer_token)
                    .collect(),
            ),
            _ => None,
        };
        if let Some(decision) = self.decisions.get_mut(&entry.decision_id) {
            decision.publications.push(Publication {
                leaf: entry.leaf_index,
                fields,
            });
        }
    }
}

/// The part of the lineage checks of one entry that needs no other entry: the record members
/// the rules read have their types, and the placeholders this reader sees are found. Made by
/// [`prepare`], on any thread, and consumed in log order by [`LineageChecker::check_prepared`].
#[derive(Debug)]
pub struct Prepared {
    placeholders: Vec<Placeholder>,
}

/// Checks what of `entry`, served with `disclosures` (and `labels`, as for
/// [`LineageChecker::check_labelled`]), depends on no other entry. Pure: entries may be
/// prepared on several threads, then checked in log order.
pub fn prepare(
    entry: &Entry,
    disclosures: &[Disclosure],
    labels: &[Visibility],
) -> Result<Prepared, LineageError> {
    check_members(entry, disclosures)?;
    let placeholders = match entry.kind.is_decision() {
        true => placeholders_seen(entry, disclosures, labels)?,
        false => Vec::new(),
    };
    Ok(Prepared { placeholders })
}

/// `entry`'s record with the served `disclosures` put in place of their placeholders. The chain
/// verifier has already checked that each opens its placeholder.
fn opened_record(entry: &Entry, disclosures: &[Disclosure]) -> Result<Value, LineageError> {
    let mut record = entry.record.clone();
    disclosure::reveal_all(&mut record, disclosures).map_err(|source| {
        LineageError::BadDisclosure {
            leaf_index: entry.leaf_index,
            source,
        }
    })?;
    Ok(record)
}

/// The member types the lineage rules rely on (§11); nothing else about a record's shape. A
/// member that may be committed is checked as the reader sees it: opened by a served
/// disclosure, or a placeholder withheld from this reader.
fn check_members(entry: &Entry, disclosures: &[Disclosure]) -> Result<(), LineageError> {
    let opened;
    let record = if entry.kind == EntryKind::DecisionRedacted && !disclosures.is_empty() {
        opened = opened_record(entry, disclosures)?;
        &opened
    } else {
        &entry.record
    };
    let bad = |member: &'static str, expected: &'static str| LineageError::BadMember {
        leaf_index: entry.leaf_index,
        kind: entry.kind,
        member,
        expected,
    };
    let is_string = |member: &str| record.get(member).is_some_and(Value::is_string);
    match entry.kind {
        EntryKind::DecisionRecorded
            if record
                .get("classification")
                .and_then(Value::as_str)
                .and_then(Visibility::parse)
                .is_none() =>
        {
            return Err(bad("classification", "public, internal or restricted"));
        }
        EntryKind::CallIn
            if record
                .get("status")
                .and_then(Value::as_str)
                .and_then(CallInStatus::parse)
                .is_none() =>
        {
            return Err(bad(
                "status",
                "called_in, upheld, referred_back or referred_to_council",
            ));
        }
        EntryKind::DecisionSuperseded if !is_string("superseded_by") => {
            return Err(bad("superseded_by", "a decision id"));
        }
        EntryKind::DecisionRedacted => {
            if record.get("leaf_index").and_then(Value::as_u64).is_none() {
                return Err(bad("leaf_index", "a leaf index"));
            }
            for member in ["path", "basis", "authorised_by", "reason"] {
                let placeholder = record
                    .get(member)
                    .is_some_and(|v| disclosure::commitment_of(v).is_some());
                if !is_string(member) && !placeholder {
                    return Err(bad(member, "a string or a placeholder"));
                }
            }
            let commitment = record.get("commitment").and_then(Value::as_str);
            if commitment.is_none_or(|c| Hash::parse(c).is_err()) {
                return Err(bad("commitment", "64 lowercase hex digits"));
            }
        }
        EntryKind::DecisionPublished => match record.get("scope").and_then(Value::as_str) {
            Some("record") => {}
            Some("fields") => {
                let names = record.get("fields").and_then(Value::as_array);
                if names.is_none_or(|f| f.is_empty() || !f.iter().all(Value::is_string)) {
                    return Err(bad("fields", "a non-empty list of names"));
                }
            }
            _ => return Err(bad("scope", "\"record\" or \"fields\"")),
        },
        EntryKind::AccessGranted | EntryKind::AccessRevoked if !is_string("token") => {
            return Err(bad("token", "a token name"));
        }
        EntryKind::AccessGranted if !is_string("role") => {
            return Err(bad("role", "a role"));
        }
        _ => {}
    }
    Ok(())
}

/// Every placeholder of `entry`'s record as this reader sees it: those the served disclosures
/// open (parents first, so that placeholders nested in a disclosed value are opened too), then
/// those left in the opened record.
fn placeholders_seen(
    entry: &Entry,
    disclosures: &[Disclosure],
    labels: &[Visibility],
) -> Result<Vec<Placeholder>, LineageError> {
    let seen = disclosure::placeholders(&entry.record, disclosures).map_err(|source| {
        LineageError::BadDisclosure {
            leaf_index: entry.leaf_index,
            source,
        }
    })?;
    Ok(seen
        .into_iter()
        .map(|s| Placeholder {
            path: s.path.into_boxed_str(),
            digest: s.digest,
            opened: s.opened_by.is_some(),
            label: s.opened_by.and_then(|i| labels.get(i).copied()),
            as_of: u64::MAX,
        })
        .collect())
}

/// `path` is `parent` or a pointer below it.
fn is_under(path: &str, parent: &str) -> bool {
    path == parent || is_strictly_under(path, parent)
}

/// `path` is a pointer below `parent`.
fn is_strictly_under(path: &str, parent: &str) -> bool {
    path.strip_prefix(parent)
        .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{FORMAT_VERSION, GENESIS_PREV_HASH};
    use serde_json::json;

    const A: &str = "0193a1b2-0000-7000-8000-00000000000a";
    const B: &str = "0193a1b2-0000-7000-8000-00000000000b";

    /// A log under construction: entries with the disclosures served with them.
    #[derive(Default)]
    struct Log {
        entries: Vec<(Entry, Vec<Disclosure>)>,
    }

    impl Log {
        /// Appends an entry of `kind` for `decision`, committing the values at `commit` (in that
        /// order), and returns its leaf index.
        fn push(&mut self, kind: EntryKind, decision: &str, record: Value, commit: &[&str]) -> u64 {
            let leaf_index = self.entries.len() as u64;
            let mut record = record;
            let disclosures = commit
                .iter()
                .enumerate()
                .map(|(i, path)| {
                    let mut salt = [0; 16];
                    salt[0] = leaf_index as u8;
                    salt[1] = i as u8;
                    disclosure::commit(&mut record, path, salt).expect("commits")
                })
                .collect();
            let entry = Entry {
                format: FORMAT_VERSION,
                leaf_index,
                kind,
                decision_id: decision.into(),
                recorded_at: "2026-11-29T10:15:30.123Z".into(),
                recorded_by: "clerk".into(),
                prev_hash: GENESIS_PREV_HASH,
                record,
            };
            self.entries.push((entry, disclosures));
            leaf_index
        }

        /// A public decision with two committed participant names.
        fn record_public(&mut self, decision: &str) -> u64 {
            self.push(
                EntryKind::DecisionRecorded,
                decision,
                json!({"title": "T", "classification": "public",
                       "participants": [{"name": "Ann"}, {"name": "Bob"}]}),
                &["/participants/0/name", "/participants/1/name"],
            )
        }

        /// A restricted decision: names committed, then `title` and `participants` as wholes.
        fn record_restricted(&mut self, decision: &str) -> u64 {
            self.push(
                EntryKind::DecisionRecorded,
                decision,
                json!({"title": "Secret", "classification": "restricted",
                       "participants": [{"name": "Ann"}, {"name": "Bob"}]}),
                &[
                    "/participants/0/name",
                    "/participants/1/name",
                    "/title",
                    "/participants",
                ],
            )
        }

        /// The digest of the placeholder at `path` of entry `leaf`, found after opening its
        /// parents.
        fn digest(&self, leaf: u64, path: &str) -> String {
            let (entry, disclosures) = &self.entries[leaf as usize];
            let mut record = entry.record.clone();
            let parents: Vec<&Disclosure> = disclosures
                .iter()
                .filter(|d| is_strictly_under(path, &d.path))
                .collect();
            disclosure::reveal_all(&mut record, parents).expect("reveals");
            disclosure::commitment_of(record.pointer(path).expect("a value"))
                .expect("a placeholder")
                .to_hex()
        }

        /// Erases the value at `path` of entry `leaf` as the service does: a redaction entry,
        /// and the disclosure no longer served.
        fn redact(&mut self, decision: &str, leaf: u64, path: &str) -> u64 {
            let commitment = self.digest(leaf, path);
            self.entries[leaf as usize].1.retain(|d| d.path != path);
            self.push(
                EntryKind::DecisionRedacted,
                decision,
                redaction(leaf, path, &commitment),
                &[],
            )
        }

        /// Withholds every disclosure of entry `leaf` from this reader.
        fn withhold(&mut self, leaf: u64) {
            self.entries[leaf as usize].1.clear();
        }

        /// Checks the log as served to `reader`, entry `i` served when the log had `as_of[i]`
        /// entries (the whole log when `as_of` is shorter), with `labels` for entry 0's
        /// disclosures when given.
        fn run_as(
            &self,
            reader: Reader,
            as_of: &[u64],
            labels: &[Visibility],
        ) -> Result<(), LineageError> {
            let mut checker = LineageChecker::for_reader(reader);
            for (i, (entry, disclosures)) in self.entries.iter().enumerate() {
                checker.served_at(as_of.get(i).copied().unwrap_or(self.entries.len() as u64));
                let labels = if i == 0 { labels } else { &[] };
                checker.check_labelled(entry, disclosures, labels)?;
            }
            checker.finish()
        }

        fn run(&self) -> Result<LineageChecker, LineageError> {
            let mut checker = LineageChecker::new();
            for (entry, disclosures) in &self.entries {
                checker.check(entry, disclosures)?;
            }
            checker.finish()?;
            Ok(checker)
        }
    }

    fn redaction(leaf: u64, path: &str, commitment: &str) -> Value {
        json!({"leaf_index": leaf, "path": path, "commitment": commitment,
               "basis": "UK GDPR Art. 17", "authorised_by": "data-protection-officer",
               "reason": "Erasure request"})
    }

    #[test]
    fn a_log_with_every_kind_of_lineage_verifies() {
        let mut log = Log::default();
        log.record_public(A);
        log.record_restricted(B);
        log.push(
            EntryKind::DecisionAmended,
            A,
            json!({"changes": {"title": "T2"}, "reason": "typo"}),
            &[],
        );
        log.push(
            EntryKind::OutcomeReported,
            A,
            json!({"status": "on_track", "reported_on": "2027-01-01", "narrative": "n"}),
            &[],
        );
        log.push(
            EntryKind::CallIn,
            B,
            json!({"status": "called_in", "on": "2027-01-01", "note": "n"}),
            &["/note"],
        );
        log.redact(A, 0, "/participants/1/name");
        log.redact(B, 1, "/participants/0/name");
        log.push(
            EntryKind::DecisionPublished,
            B,
            json!({"scope": "record", "reason": "spent"}),
            &[],
        );
        log.push(
            EntryKind::DecisionSuperseded,
            B,
            json!({"superseded_by": A, "reason": "r"}),
            &["/reason"],
        );
        log.push(
            EntryKind::DecisionRescinded,
            A,
            json!({"rescinded_on": "2027-02-01", "reason": "r"}),
            &[],
        );
        assert_eq!(log.run().expect("verifies").decisions(), 2);
    }

    #[test]
    fn a_decision_recorded_twice_is_caught_at_the_second_entry() {
        let mut log = Log::default();
        log.record_public(A);
        log.record_public(B);
        log.record_public(A);
        assert_eq!(
            log.run().err(),
            Some(LineageError::RecordedTwice {
                leaf_index: 2,
                decision_id: A.into(),
                first: 0
            })
        );
    }

    #[test]
    fn lineage_of_a_decision_never_recorded_is_caught() {
        let mut log = Log::default();
        log.record_public(A);
        log.push(
            EntryKind::DecisionRescinded,
            B,
            json!({"rescinded_on": "2027-02-01", "reason": "r"}),
            &[],
        );
        let error = log.run().expect_err("fails");
        assert!(
            matches!(&error, LineageError::UnknownDecision { leaf_index: 1, kind: EntryKind::DecisionRescinded, decision_id } if decision_id == B),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .starts_with("leaf 1: decision.rescinded refers to decision")
        );
    }

    #[test]
    fn lineage_before_its_decision_is_recorded_is_caught() {
        let mut log = Log::default();
        log.push(
            EntryKind::DecisionAmended,
            A,
            json!({"changes": {"title": "T2"}, "reason": "typo"}),
            &[],
        );
        log.record_public(A);
        assert!(matches!(
            log.run(),
            Err(LineageError::UnknownDecision { leaf_index: 0, .. })
        ));
    }

    #[test]
    fn supersession_by_itself_or_by_an_unrecorded_decision_is_caught() {
        let superseded = |by: &str| json!({"superseded_by": by, "reason": "r"});
        let mut log = Log::default();
        log.record_public(A);
        log.push(EntryKind::DecisionSuperseded, A, superseded(A), &[]);
        assert!(matches!(
            log.run(),
            Err(LineageError::SupersededBySelf { leaf_index: 1, .. })
        ));

        // A successor recorded later does not count: it must be recorded by an earlier entry.
        let mut log = Log::default();
        log.record_public(A);
        log.push(EntryKind::DecisionSuperseded, A, superseded(B), &[]);
        log.record_public(B);
        assert_eq!(
            log.run().err(),
            Some(LineageError::UnknownSuccessor {
                leaf_index: 1,
                superseded_by: B.into()
            })
        );

        let mut log = Log::default();
        log.record_public(A);
        log.push(
            EntryKind::DecisionSuperseded,
            A,
            json!({"superseded_by": 7, "reason": "r"}),
            &[],
        );
        assert!(matches!(
            log.run(),
            Err(LineageError::BadMember {
                leaf_index: 1,
                member: "superseded_by",
                ..
            })
        ));
    }

    #[test]
    fn a_redaction_must_name_an_earlier_entry_of_its_own_decision() {
        let mut log = Log::default();
        log.record_public(A);
        log.record_public(B);
        let commitment = log.digest(0, "/participants/0/name");
        log.push(
            EntryKind::DecisionRedacted,
            B,
            redaction(0, "/participants/0/name", &commitment),
            &[],
        );
        assert!(matches!(
            log.run(),
            Err(LineageError::RedactionOfAnotherDecision {
                leaf_index: 2,
                target: 0,
                ..
            })
        ));

        let mut log = Log::default();
        log.record_public(A);
        log.push(
            EntryKind::DecisionRedacted,
            A,
            redaction(1, "/participants/0/name", &commitment),
            &[],
        );
        assert_eq!(
            log.run().err(),
            Some(LineageError::RedactionNotEarlier {
                leaf_index: 1,
                target: 1
            })
        );
    }

    #[test]
    fn a_redaction_must_repeat_the_placeholders_digest() {
        let mut log = Log::default();
        log.record_public(A);
        let other = log.digest(0, "/participants/1/name");
        log.entries[0].1.clear();
        log.push(
            EntryKind::DecisionRedacted,
            A,
            redaction(0, "/participants/0/name", &other),
            &[],
        );
        assert!(matches!(
            log.run(),
            Err(LineageError::RedactionCommitmentMismatch {
                leaf_index: 1,
                target: 0,
                ..
            })
        ));
    }

    #[test]
    fn a_redaction_of_a_path_without_a_placeholder_is_caught() {
        for path in ["/title", "/participants/5/name", "/nothing"] {
            let mut log = Log::default();
            log.record_public(A);
            log.push(
                EntryKind::DecisionRedacted,
                A,
                redaction(0, path, &"ab".repeat(32)),
                &[],
            );
            assert_eq!(
                log.run().err(),
                Some(LineageError::RedactionWithoutPlaceholder {
                    leaf_index: 1,
                    target: 0,
                    path: path.into()
                }),
                "{path}"
            );
        }
    }

    #[test]
    fn an_erased_value_still_served_is_caught() {
        let mut log = Log::default();
        log.record_public(A);
        log.redact(A, 0, "/participants/1/name");
        log.run().expect("the disclosure is gone");

        // The service kept the disclosure the redaction says it deleted.
        let mut log = Log::default();
        log.record_public(A);
        let commitment = log.digest(0, "/participants/1/name");
        log.push(
            EntryKind::DecisionRedacted,
            A,
            redaction(0, "/participants/1/name", &commitment),
            &[],
        );
        let error = log.run().expect_err("fails");
        assert_eq!(
            error,
            LineageError::ErasedValueStillHeld {
                leaf_index: 1,
                target: 0,
                path: "/participants/1/name".into()
            }
        );
        assert!(
            error
                .to_string()
                .starts_with("leaf 1: erased value still held")
        );
    }

    #[test]
    fn a_redaction_inside_a_value_withheld_from_the_reader_is_skipped() {
        let mut log = Log::default();
        log.record_restricted(A);
        log.redact(A, 0, "/participants/1/name");
        log.withhold(0);
        log.run().expect("cannot be checked, so passes");

        // Shown the parent, the reader checks the erasure.
        let mut log = Log::default();
        log.record_restricted(A);
        log.redact(A, 0, "/participants/1/name");
        log.run().expect("verifies");
        let commitment = log.digest(0, "/participants/0/name");
        log.push(
            EntryKind::DecisionRedacted,
            A,
            redaction(0, "/participants/0/name", &commitment),
            &[],
        );
        assert!(matches!(
            log.run(),
            Err(LineageError::ErasedValueStillHeld { leaf_index: 2, .. })
        ));
    }

    #[test]
    fn redaction_members_are_type_checked() {
        let good = redaction(0, "/participants/0/name", &"ab".repeat(32));
        for (member, value) in [
            ("leaf_index", json!(-1)),
            ("leaf_index", json!("0")),
            ("path", json!(3)),
            ("basis", Value::Null),
            ("authorised_by", json!(["dpo"])),
            ("reason", json!({})),
            ("commitment", json!("AB".repeat(32))),
            ("commitment", json!("ab")),
        ] {
            let mut record = good.clone();
            record[member] = value;
            let mut log = Log::default();
            log.record_public(A);
            log.push(EntryKind::DecisionRedacted, A, record, &[]);
            let error = log.run().expect_err("fails");
            assert!(
                matches!(&error, LineageError::BadMember { leaf_index: 1, member: m, .. } if *m == member),
                "{member}: {error}"
            );
        }
    }

    #[test]
    fn publication_members_are_type_checked() {
        for (record, member) in [
            (json!({"reason": "r"}), "scope"),
            (json!({"scope": "all", "reason": "r"}), "scope"),
            (json!({"scope": "fields", "reason": "r"}), "fields"),
            (
                json!({"scope": "fields", "fields": [], "reason": "r"}),
                "fields",
            ),
            (
                json!({"scope": "fields", "fields": ["title", 1], "reason": "r"}),
                "fields",
            ),
        ] {
            let mut log = Log::default();
            log.record_restricted(A);
            log.push(EntryKind::DecisionPublished, A, record.clone(), &[]);
            let error = log.run().expect_err("fails");
            assert!(
                matches!(&error, LineageError::BadMember { leaf_index: 1, member: m, .. } if *m == member),
                "{record}: {error}"
            );
        }
    }

    #[test]
    fn a_published_value_that_is_not_served_is_caught_at_the_end() {
        let mut log = Log::default();
        log.record_restricted(A);
        log.push(
            EntryKind::DecisionPublished,
            A,
            json!({"scope": "record", "reason": "spent"}),
            &[],
        );
        log.withhold(0);
        let mut checker = LineageChecker::new();
        for (entry, disclosures) in &log.entries {
            checker.check(entry, disclosures).expect("entry by entry");
        }
        let error = checker.finish().expect_err("not honoured");
        assert_eq!(
            error,
            LineageError::PublicationNotHonoured {
                leaf_index: 1,
                decision_id: A.into(),
                target: 0,
                path: "/participants".into()
            }
        );
    }

    #[test]
    fn a_value_erased_after_its_publication_need_not_be_served() {
        let mut log = Log::default();
        log.record_restricted(A);
        log.push(
            EntryKind::DecisionPublished,
            A,
            json!({"scope": "record", "reason": "spent"}),
            &[],
        );
        log.redact(A, 0, "/participants/1/name");
        log.run().expect("the erasure excuses it");

        // Only the erased value is excused.
        log.entries[0]
            .1
            .retain(|d| d.path != "/participants/0/name");
        assert_eq!(
            log.run().err(),
            Some(LineageError::PublicationNotHonoured {
                leaf_index: 1,
                decision_id: A.into(),
                target: 0,
                path: "/participants/0/name".into()
            })
        );
    }

    #[test]
    fn erasing_a_parent_excuses_the_values_inside_it() {
        let mut log = Log::default();
        log.record_restricted(A);
        log.push(
            EntryKind::DecisionPublished,
            A,
            json!({"scope": "record", "reason": "spent"}),
            &[],
        );
        log.redact(A, 0, "/participants");
        // The names inside cannot be opened without their parent, so they are not served either.
        log.entries[0].1.retain(|d| d.path == "/title");
        log.run()
            .expect("the erasure excuses the parent and what it holds");

        log.withhold(0);
        assert!(matches!(
            log.run(),
            Err(LineageError::PublicationNotHonoured { leaf_index: 1, target: 0, ref path, .. })
                if path == "/title"
        ));
    }

    #[test]
    fn a_fields_publication_covers_only_those_fields_of_the_record_and_its_amendments() {
        let mut log = Log::default();
        log.record_restricted(A);
        log.push(
            EntryKind::DecisionAmended,
            A,
            json!({"changes": {"title": "Still secret", "reasons": "R"}, "reason": "typo"}),
            &["/changes/title", "/changes/reasons", "/reason"],
        );
        log.push(
            EntryKind::OutcomeReported,
            A,
            json!({"status": "on_track", "reported_on": "2027-01-01", "narrative": "n"}),
            &["/narrative"],
        );
        log.push(
            EntryKind::DecisionPublished,
            A,
            json!({"scope": "fields", "fields": ["title"], "reason": "spent"}),
            &[],
        );
        // An anonymous reader: only the published values are served.
        log.entries[0].1.retain(|d| d.path == "/title");
        log.entries[1].1.retain(|d| d.path == "/changes/title");
        log.withhold(2);
        log.run().expect("everything published is served");

        log.entries[1].1.clear();
        assert_eq!(
            log.run().err(),
            Some(LineageError::PublicationNotHonoured {
                leaf_index: 3,
                decision_id: A.into(),
                target: 1,
                path: "/changes/title".into()
            })
        );
    }

    #[test]
    fn a_publication_covers_only_earlier_entries() {
        let mut log = Log::default();
        log.record_restricted(A);
        log.push(
            EntryKind::DecisionPublished,
            A,
            json!({"scope": "record", "reason": "spent"}),
            &[],
        );
        log.push(
            EntryKind::DecisionRescinded,
            A,
            json!({"rescinded_on": "2027-02-01", "reason": "r"}),
            &["/reason"],
        );
        log.withhold(2);
        log.run().expect("the later reason is not published");
    }

    #[test]
    fn the_earliest_unhonoured_publication_is_reported() {
        let mut log = Log::default();
        log.record_restricted(A);
        log.record_restricted(B);
        for decision in [B, A] {
            log.push(
                EntryKind::DecisionPublished,
                decision,
                json!({"scope": "record", "reason": "spent"}),
                &[],
            );
        }
        log.withhold(0);
        log.withhold(1);
        assert!(matches!(
            log.run(),
            Err(LineageError::PublicationNotHonoured { leaf_index: 2, target: 1, ref path, .. })
                if path == "/participants"
        ));
    }

    #[test]
    fn pointer_tokens_are_escaped_when_placeholders_are_collected() {
        let mut log = Log::default();
        log.push(
            EntryKind::DecisionRecorded,
            A,
            json!({"classification": "restricted", "a/b": {"c~d": "x"}}),
            &["/a~1b/c~0d"],
        );
        log.withhold(0);
        let commitment = log.digest(0, "/a~1b/c~0d");
        log.push(
            EntryKind::DecisionRedacted,
            A,
            redaction(0, "/a~1b/c~0d", &commitment),
            &[],
        );
        log.run().expect("the escaped path is found");
    }

    fn grant(token: &str) -> Value {
        json!({"token": token, "role": "secretariat", "bodies": ["cabinet"]})
    }

    const G: &str = "0193a1b2-0000-7000-8000-0000000000aa";

    #[test]
    fn grants_are_minted_once_and_revoked_once_for_their_own_token() {
        let mut log = Log::default();
        log.record_public(A);
        log.push(EntryKind::AccessGranted, G, grant("clerk"), &[]);
        log.push(EntryKind::AccessRevoked, G, json!({"token": "clerk"}), &[]);
        log.run().expect("a grant and its revocation verify");

        let mut twice = Log::default();
        twice.push(EntryKind::AccessGranted, G, grant("clerk"), &[]);
        twice.push(EntryKind::AccessRevoked, G, json!({"token": "clerk"}), &[]);
        twice.push(EntryKind::AccessRevoked, G, json!({"token": "clerk"}), &[]);
        assert!(matches!(
            twice.run().err(),
            Some(LineageError::BadRevocation { leaf_index: 2, .. })
        ));

        let mut other = Log::default();
        other.push(EntryKind::AccessGranted, G, grant("clerk"), &[]);
        other.push(
            EntryKind::AccessRevoked,
            G,
            json!({"token": "auditor"}),
            &[],
        );
        assert!(matches!(
            other.run().err(),
            Some(LineageError::BadRevocation { leaf_index: 1, .. })
        ));

        let mut unknown = Log::default();
        unknown.push(EntryKind::AccessRevoked, G, json!({"token": "clerk"}), &[]);
        assert_eq!(
            unknown.run().err(),
            Some(LineageError::UnknownGrant {
                leaf_index: 0,
                grant_id: G.into()
            })
        );
    }

    #[test]
    fn grant_ids_and_decision_ids_never_collide() {
        let mut log = Log::default();
        log.record_public(A);
        log.push(EntryKind::AccessGranted, A, grant("clerk"), &[]);
        assert!(matches!(
            log.run().err(),
            Some(LineageError::IdReused {
                leaf_index: 1,
                first: 0,
                ..
            })
        ));

        let mut log = Log::default();
        log.push(EntryKind::AccessGranted, G, grant("clerk"), &[]);
        log.record_public(G);
        assert!(matches!(
            log.run().err(),
            Some(LineageError::IdReused {
                leaf_index: 1,
                first: 0,
                ..
            })
        ));

        // Lineage of a grant is not lineage of a decision.
        let mut log = Log::default();
        log.push(EntryKind::AccessGranted, G, grant("clerk"), &[]);
        log.push(
            EntryKind::DecisionRescinded,
            G,
            json!({"rescinded_on": "2027-01-01", "reason": "r"}),
            &[],
        );
        assert!(matches!(
            log.run().err(),
            Some(LineageError::UnknownDecision { leaf_index: 1, .. })
        ));

        let mut log = Log::default();
        log.push(EntryKind::AccessGranted, G, json!({"role": "staff"}), &[]);
        assert!(matches!(
            log.run().err(),
            Some(LineageError::BadMember {
                member: "token",
                ..
            })
        ));
    }

    #[test]
    fn a_committed_redaction_is_checked_when_opened_and_excuses_its_entry_when_not() {
        // A restricted decision, its fields published, then a name in it erased by a redaction
        // that commits its path, authority and reason (format 2).
        let mut log = Log::default();
        log.record_restricted(A);
        log.push(
            EntryKind::DecisionPublished,
            A,
            json!({"scope": "fields", "fields": ["participants"], "reason": "spent"}),
            &[],
        );
        let path = "/participants/1/name";
        let commitment = log.digest(0, path);
        log.entries[0].1.retain(|d| d.path != path);
        log.push(
            EntryKind::DecisionRedacted,
            A,
            redaction(0, path, &commitment),
            &["/path", "/authorised_by", "/reason"],
        );
        log.run()
            .expect("opened: the erasure is checked and excuses the value");

        // Opened, a wrong commitment is still caught.
        let mut wrong = log.entries.clone();
        wrong[2].0.record["commitment"] = json!(log.digest(0, "/participants/0/name"));
        let wrong = Log { entries: wrong };
        assert!(matches!(
            wrong.run().err(),
            Some(LineageError::RedactionCommitmentMismatch { leaf_index: 2, .. })
        ));

        // A reader shown the published participants but not the redaction's path cannot tell
        // which name was erased: the publication check excuses that entry's values.
        log.entries[2].1.clear();
        log.run().expect("unseen: excused");

        // A path that is neither a string nor a placeholder is malformed.
        log.entries[2].0.record["path"] = json!(7);
        assert!(matches!(
            log.run().err(),
            Some(LineageError::BadMember { member: "path", .. })
        ));
    }

    #[test]
    fn each_reader_must_be_served_exactly_what_section_6_gives_it() {
        // A restricted decision as served to an auditor: everything.
        let mut log = Log::default();
        log.record_restricted(A);
        log.run_as(Reader::Auditor, &[], &[]).expect("all served");
        assert!(matches!(
            log.run_as(Reader::Anonymous, &[], &[]),
            Err(LineageError::DisclosureOverserved {
                leaf_index: 0,
                reader: Reader::Anonymous,
                visibility: Visibility::Restricted,
                ..
            })
        ));
        assert!(matches!(
            log.run_as(Reader::Authenticated, &[], &[]),
            Err(LineageError::DisclosureOverserved {
                reader: Reader::Authenticated,
                ..
            })
        ));
        // Withheld from everyone: fine for anonymous readers, a failure for an auditor.
        log.withhold(0);
        log.run_as(Reader::Anonymous, &[], &[])
            .expect("nothing is theirs");
        let error = log.run_as(Reader::Auditor, &[], &[]).expect_err("withheld");
        assert!(
            matches!(&error, LineageError::DisclosureWithheld { leaf_index: 0, path, reader: Reader::Auditor, .. } if path == "/participants"),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .starts_with("leaf 0: value withheld: /participants")
        );

        // A public decision's name deleted from the store, with no redaction.
        let mut log = Log::default();
        log.record_public(A);
        log.entries[0]
            .1
            .retain(|d| d.path != "/participants/1/name");
        for reader in [Reader::Anonymous, Reader::Authenticated, Reader::Auditor] {
            assert!(matches!(
                log.run_as(reader, &[], &[]),
                Err(LineageError::DisclosureWithheld { leaf_index: 0, ref path, .. }) if path == "/participants/1/name"
            ));
        }
        // The same, erased by a redaction: nobody is served it.
        let mut log = Log::default();
        log.record_public(A);
        log.redact(A, 0, "/participants/1/name");
        log.run_as(Reader::Anonymous, &[], &[]).expect("erased");
    }

    #[test]
    fn what_is_served_is_judged_at_the_size_it_was_served_at() {
        // A restricted decision, published whole at leaf 1, one name erased at leaf 2.
        let mut log = Log::default();
        log.record_restricted(A);
        log.push(
            EntryKind::DecisionPublished,
            A,
            json!({"scope": "record", "reason": "r"}),
            &[],
        );
        let commitment = log.digest(0, "/participants/1/name");
        log.push(
            EntryKind::DecisionRedacted,
            A,
            redaction(0, "/participants/1/name", &commitment),
            &[],
        );

        // Read when the log had 2 entries (published, not yet erased): all of it is public.
        log.run_as(Reader::Anonymous, &[2, 2, 3], &[])
            .expect("served before the erasure");
        // Read when it had 1 entry (not yet published): an anonymous reader is served nothing.
        let mut before = Log {
            entries: log.entries.clone(),
        };
        before.withhold(0);
        before
            .run_as(Reader::Anonymous, &[1, 3, 3], &[])
            .expect("withheld before publication");
        assert!(matches!(
            before.run_as(Reader::Anonymous, &[2, 3, 3], &[]),
            Err(LineageError::PublicationNotHonoured {
                leaf_index: 1,
                target: 0,
                ..
            })
        ));
        // Read after the erasure, the erased name must be gone.
        assert!(matches!(
            log.run_as(Reader::Anonymous, &[3, 3, 3], &[]),
            Err(LineageError::ErasedValueStillHeld {
                leaf_index: 2,
                target: 0,
                ..
            })
        ));
    }

    #[test]
    fn stored_labels_must_be_those_section_6_gives() {
        let mut log = Log::default();
        log.record_restricted(A);
        let restricted = [Visibility::Restricted; 4];
        log.run_as(Reader::Auditor, &[], &restricted)
            .expect("labelled right");
        let mut labels = restricted;
        labels[2] = Visibility::Public; // the title, labelled public
        assert!(matches!(
            log.run_as(Reader::Auditor, &[], &labels),
            Err(LineageError::VisibilityMislabelled { leaf_index: 0, ref path, expected: Visibility::Restricted, .. }) if path == "/title"
        ));
    }

    fn call_in(status: &str) -> Value {
        json!({"status": status, "on": "2026-12-03"})
    }

    fn rescission() -> Value {
        json!({"rescinded_on": "2027-01-15", "reason": "Funding withdrawn"})
    }

    fn outcome() -> Value {
        json!({"status": "on_track", "reported_on": "2027-01-01", "narrative": "n"})
    }

    #[test]
    fn a_log_that_follows_the_lifecycle_verifies() {
        let mut log = Log::default();
        log.record_public(A);
        log.record_public(B);
        log.push(EntryKind::CallIn, A, call_in("called_in"), &[]);
        log.push(EntryKind::CallIn, A, call_in("referred_to_council"), &[]);
        log.push(EntryKind::CallIn, A, call_in("upheld"), &[]);
        log.push(EntryKind::OutcomeReported, A, outcome(), &[]);
        log.push(EntryKind::CallIn, B, call_in("called_in"), &[]);
        log.push(EntryKind::CallIn, B, call_in("referred_back"), &[]);
        log.push(
            EntryKind::DecisionAmended,
            B,
            json!({"changes": {"title": "Reconsidered"}, "reason": "referred back"}),
            &[],
        );
        log.push(
            EntryKind::DecisionSuperseded,
            A,
            json!({"superseded_by": B, "reason": "replaced"}),
            &[],
        );
        // An ended decision still takes erasures.
        log.redact(A, 0, "/participants/0/name");
        log.push(EntryKind::DecisionRescinded, B, rescission(), &[]);
        log.run().expect("every entry is one the service admits");
    }

    #[test]
    fn an_outcome_after_rescission_fails_naming_the_leaf_the_state_and_the_refusal() {
        let mut log = Log::default();
        log.record_public(A);
        log.push(EntryKind::DecisionRescinded, A, rescission(), &[]);
        log.push(EntryKind::OutcomeReported, A, outcome(), &[]);
        let error = log.run().expect_err("refused");
        assert_eq!(
            error,
            LineageError::TransitionRefused {
                leaf_index: 2,
                decision_id: A.into(),
                kind: EntryKind::OutcomeReported,
                state: Status::Rescinded,
                refusal: lifecycle::Refusal::Ended {
                    decision_id: A.into(),
                    status: Status::Rescinded,
                    kind: EntryKind::OutcomeReported,
                },
            }
        );
        assert_eq!(
            error.to_string(),
            format!(
                "leaf 2: transition refused: decision.outcome_reported while decision {A} is \
                 rescinded: decision {A} is rescinded; outcomes are reported on decisions that stand"
            )
        );
    }

    #[test]
    fn a_second_rescission_fails() {
        let mut log = Log::default();
        log.record_public(A);
        log.push(EntryKind::DecisionRescinded, A, rescission(), &[]);
        log.run().expect("one rescission");
        log.push(EntryKind::DecisionRescinded, A, rescission(), &[]);
        assert!(matches!(
            log.run(),
            Err(LineageError::TransitionRefused {
                leaf_index: 2,
                kind: EntryKind::DecisionRescinded,
                state: Status::Rescinded,
                ..
            })
        ));
    }

    #[test]
    fn a_call_in_the_table_does_not_lead_to_fails() {
        let mut upheld = Log::default();
        upheld.record_public(A);
        upheld.push(EntryKind::CallIn, A, call_in("upheld"), &[]);
        let error = upheld.run().expect_err("upheld without a call-in");
        assert!(
            matches!(
                &error,
                LineageError::TransitionRefused {
                    leaf_index: 1,
                    state: Status::InForce,
                    refusal: lifecycle::Refusal::CallIn {
                        to: CallInStatus::Upheld,
                        ..
                    },
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .ends_with("cannot move to call-in status upheld: the decision is in_force"),
            "{error}"
        );

        let mut twice = Log::default();
        twice.record_public(A);
        for status in ["called_in", "upheld", "called_in"] {
            twice.push(EntryKind::CallIn, A, call_in(status), &[]);
        }
        let error = twice.run().expect_err("called in twice");
        assert!(
            matches!(error, LineageError::TransitionRefused { leaf_index: 3, .. }),
            "{error:?}"
        );
        assert!(error.to_string().ends_with("a decision is called in once"));

        let mut after_end = Log::default();
        after_end.record_public(A);
        after_end.record_public(B);
        after_end.push(
            EntryKind::DecisionSuperseded,
            A,
            json!({"superseded_by": B, "reason": "replaced"}),
            &[],
        );
        after_end.push(EntryKind::CallIn, A, call_in("called_in"), &[]);
        assert!(matches!(
            after_end.run(),
            Err(LineageError::TransitionRefused {
                leaf_index: 3,
                state: Status::Superseded,
                ..
            })
        ));
    }

    #[test]
    fn a_supersession_fails_when_its_successor_is_rescinded_or_superseded_by_it() {
        let supersede = |by: &str| json!({"superseded_by": by, "reason": "replaced"});
        let mut rescinded = Log::default();
        rescinded.record_public(A);
        rescinded.record_public(B);
        rescinded.push(EntryKind::DecisionRescinded, B, rescission(), &[]);
        rescinded.push(EntryKind::DecisionSuperseded, A, supersede(B), &[]);
        let error = rescinded.run().expect_err("a rescinded successor");
        assert_eq!(
            error.to_string(),
            format!(
                "leaf 3: transition refused: decision.superseded while decision {B} is rescinded: \
                 decision {B} is rescinded and cannot supersede another"
            )
        );

        let mut mutual = Log::default();
        mutual.record_public(A);
        mutual.record_public(B);
        mutual.push(EntryKind::DecisionSuperseded, B, supersede(A), &[]);
        mutual.run().expect("B superseded by A");
        mutual.push(EntryKind::DecisionSuperseded, A, supersede(B), &[]);
        assert!(matches!(
            mutual.run(),
            Err(LineageError::TransitionRefused {
                leaf_index: 3,
                state: Status::Superseded,
                refusal: lifecycle::Refusal::SuccessorSupersededByPredecessor { .. },
                ref decision_id,
                ..
            }) if decision_id == B
        ));
    }

    #[test]
    fn a_call_in_status_outside_the_table_of_section_5_4_is_malformed() {
        for status in [json!("rescinded"), json!(null), json!(1)] {
            let mut log = Log::default();
            log.record_public(A);
            log.push(
                EntryKind::CallIn,
                A,
                json!({"status": status, "on": "2026-12-03"}),
                &[],
            );
            assert!(
                matches!(
                    log.run(),
                    Err(LineageError::BadMember {
                        leaf_index: 1,
                        member: "status",
                        ..
                    })
                ),
                "{status}"
            );
        }
    }
}
