//! The log entry: what is appended, in what form it is hashed, and how it links to its parent.
//!
//! An entry is a JSON object with exactly these members (format version 2; format 1 has the
//! same members, and is read but no longer written):
//!
//! | member        | JSON type | meaning                                                         |
//! |---------------|-----------|-----------------------------------------------------------------|
//! | `format`      | number    | the entry format version, `1` or `2`                            |
//! | `leaf_index`  | number    | 0-based position in the log, dense                              |
//! | `kind`        | string    | what happened, e.g. `decision.recorded`                         |
//! | `decision_id` | string    | the decision (or, for `access.*`, the grant) it is about (a UUID) |
//! | `recorded_at` | string    | server time, RFC 3339 UTC with milliseconds and `Z`             |
//! | `recorded_by` | string    | the name of the API token that wrote it                         |
//! | `prev_hash`   | string    | entry hash of entry `leaf_index − 1`, or 64 zeros for entry 0   |
//! | `record`      | object    | the kind's payload, with committed values as placeholders       |
//!
//! The hashed form is the RFC 8785 canonical JSON of that object, and the entry hash is the
//! RFC 6962 leaf hash of those bytes. The stored canonical bytes are the source of truth: every
//! view the service offers is derived from them (and from the disclosures kept beside them).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::canonical::{self, CanonicalError};
use crate::hash::Hash;

/// The entry format this code writes.
///
/// Format 2 (`docs/log-format.md` §3) commits every name in a decision record, commits the
/// text of a redaction that a non-public decision's classification withholds, and adds the
/// `access.*` kinds. A log written by an earlier release starts with format 1 entries; the
/// format never decreases along a log.
pub const FORMAT_VERSION: u32 = 2;

/// The entry formats this code reads.
pub const SUPPORTED_FORMATS: std::ops::RangeInclusive<u32> = 1..=FORMAT_VERSION;

/// The `prev_hash` of entry 0.
pub const GENESIS_PREV_HASH: Hash = Hash::ZERO;

/// What an entry records. The kind names the shape of `record`; a change to a kind's shape is a
/// new kind name, never a silent change (see `docs/log-format.md` §5).
///
/// Every `decision.*` kind but `decision.recorded` refers to a decision recorded by an earlier
/// entry, through `decision_id`. The `access.*` kinds record who was granted which power: their
/// `decision_id` is the id of the grant, minted by `access.granted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EntryKind {
    /// A decision was recorded; `record` is the decision record.
    #[serde(rename = "decision.recorded")]
    DecisionRecorded,
    /// Named fields of a decision were corrected: `{changes: {field: value}, reason}`.
    #[serde(rename = "decision.amended")]
    DecisionAmended,
    /// Progress against the success measures was reported:
    /// `{status, reported_on, narrative, evidence?, next_review_on?}`.
    #[serde(rename = "decision.outcome_reported")]
    OutcomeReported,
    /// The decision's call-in status changed: `{status, on, note?}`.
    #[serde(rename = "decision.call_in")]
    CallIn,
    /// The decision was rescinded: `{rescinded_on, reason}`.
    #[serde(rename = "decision.rescinded")]
    DecisionRescinded,
    /// The decision was superseded by another: `{superseded_by, reason}`.
    #[serde(rename = "decision.superseded")]
    DecisionSuperseded,
    /// A committed personal value was erased:
    /// `{leaf_index, path, commitment, basis, authorised_by, reason}`.
    #[serde(rename = "decision.redacted")]
    DecisionRedacted,
    /// Withheld values of a decision were made public: `{fields, reason}`.
    #[serde(rename = "decision.published")]
    DecisionPublished,
    /// An API token was created: `{token, role, bodies?, powers?, expires_at?, created_at?}`.
    #[serde(rename = "access.granted")]
    AccessGranted,
    /// An API token was revoked: `{token}`.
    #[serde(rename = "access.revoked")]
    AccessRevoked,
}

impl EntryKind {
    /// Every kind, in the order they are documented.
    pub const ALL: [EntryKind; 10] = [
        EntryKind::DecisionRecorded,
        EntryKind::DecisionAmended,
        EntryKind::OutcomeReported,
        EntryKind::CallIn,
        EntryKind::DecisionRescinded,
        EntryKind::DecisionSuperseded,
        EntryKind::DecisionRedacted,
        EntryKind::DecisionPublished,
        EntryKind::AccessGranted,
        EntryKind::AccessRevoked,
    ];

    /// The spelling used in entries and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::DecisionRecorded => "decision.recorded",
            EntryKind::DecisionAmended => "decision.amended",
            EntryKind::OutcomeReported => "decision.outcome_reported",
            EntryKind::CallIn => "decision.call_in",
            EntryKind::DecisionRescinded => "decision.rescinded",
            EntryKind::DecisionSuperseded => "decision.superseded",
            EntryKind::DecisionRedacted => "decision.redacted",
            EntryKind::DecisionPublished => "decision.published",
            EntryKind::AccessGranted => "access.granted",
            EntryKind::AccessRevoked => "access.revoked",
        }
    }

    /// Whether the entry is about a decision (`decision.*`), rather than a grant of access.
    pub fn is_decision(self) -> bool {
        !matches!(self, EntryKind::AccessGranted | EntryKind::AccessRevoked)
    }

    /// The kind spelt `text`.
    pub fn parse(text: &str) -> Option<EntryKind> {
        EntryKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// One log entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// [`FORMAT_VERSION`] for entries this code writes; one of [`SUPPORTED_FORMATS`] when read.
    pub format: u32,
    /// 0-based position in the log.
    pub leaf_index: u64,
    /// What the entry records.
    pub kind: EntryKind,
    /// The decision the entry is about, or for an `access.*` entry the grant.
    pub decision_id: String,
    /// Server time of the append, RFC 3339 UTC, e.g. `2026-11-29T10:15:30.123Z`.
    pub recorded_at: String,
    /// Name of the API token that wrote the entry.
    pub recorded_by: String,
    /// Entry hash of the previous entry, or [`GENESIS_PREV_HASH`].
    pub prev_hash: Hash,
    /// The payload, with committed values replaced by placeholders.
    pub record: Value,
}

/// Why bytes are not a valid entry.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EntryError {
    /// The bytes are not JSON, or not an entry of a known format.
    #[error("not a valid entry: {0}")]
    Malformed(String),
    /// The bytes are JSON but not in canonical form, so their hash is not the entry hash.
    #[error("the entry bytes are not in RFC 8785 canonical form: {0}")]
    NotCanonical(CanonicalError),
    /// An object in the entry names a member twice: JSON readers disagree on which one counts,
    /// so such bytes never denote one entry.
    #[error("the entry's object at {path:?} has the member {member:?} more than once")]
    DuplicateMember {
        /// JSON Pointer to the object.
        path: String,
        /// The repeated member name.
        member: String,
    },
    /// The entry declares a format this code does not read.
    #[error(
        "entry format {0} is not supported (this verifier reads formats 1 to {FORMAT_VERSION})"
    )]
    UnsupportedFormat(u32),
    /// The entry has no canonical form.
    #[error(transparent)]
    Canonical(#[from] CanonicalError),
}

impl Entry {
    /// The RFC 8785 canonical bytes that are hashed and stored.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, EntryError> {
        let value = serde_json::to_value(self).map_err(|e| EntryError::Malformed(e.to_string()))?;
        Ok(canonical::to_canonical_bytes(&value)?)
    }

    /// Parses stored or served canonical bytes, refusing any other byte form.
    ///
    /// The bytes are checked to be canonical in one pass ([`canonical::check_canonical`]) and
    /// then deserialised directly; they are never re-serialised. Checking first matters: it
    /// refuses duplicate members, which `serde_json` would otherwise resolve silently.
    pub fn from_canonical_bytes(bytes: &[u8]) -> Result<Entry, EntryError> {
        canonical::check_canonical(bytes).map_err(|e| match e {
            CanonicalError::NotJson(reason) => EntryError::Malformed(reason),
            CanonicalError::DuplicateMember { path, member } => {
                EntryError::DuplicateMember { path, member }
            }
            unsafe_integer @ CanonicalError::UnsafeInteger { .. } => {
                EntryError::Canonical(unsafe_integer)
            }
            other => EntryError::NotCanonical(other),
        })?;
        match serde_json::from_slice::<Entry>(bytes) {
            Ok(entry) if SUPPORTED_FORMATS.contains(&entry.format) => Ok(entry),
            Ok(entry) => Err(EntryError::UnsupportedFormat(entry.format)),
            // An entry of an unknown format may have other members: its format is the finding.
            Err(e) => match declared_format(bytes) {
                Some(format) if !SUPPORTED_FORMATS.contains(&format) => {
                    Err(EntryError::UnsupportedFormat(format))
                }
                _ => Err(EntryError::Malformed(e.to_string())),
            },
        }
    }
}

/// The `format` member of entry bytes that do not deserialise as an [`Entry`]: 0 when it is
/// missing or not an integer, `u32::MAX` when it is too large; `None` when the bytes are not an
/// object.
fn declared_format(bytes: &[u8]) -> Option<u32> {
    #[derive(Deserialize)]
    struct Declared {
        format: Option<Value>,
    }
    let declared: Declared = serde_json::from_slice(bytes).ok()?;
    let format = declared
        .format
        .as_ref()
        .and_then(Value::as_u64)
        .unwrap_or(0);
    Some(u32::try_from(format).unwrap_or(u32::MAX))
}

/// The entry hash of canonical entry bytes: the RFC 6962 leaf hash.
pub fn entry_hash(canonical_bytes: &[u8]) -> Hash {
    Hash::leaf(canonical_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Entry {
        Entry {
            format: FORMAT_VERSION,
            leaf_index: 0,
            kind: EntryKind::DecisionRecorded,
            decision_id: "0193a1b2-0000-7000-8000-000000000000".into(),
            recorded_at: "2026-11-29T10:15:30.123Z".into(),
            recorded_by: "clerk".into(),
            prev_hash: GENESIS_PREV_HASH,
            record: json!({"title": "T", "b": 1}),
        }
    }

    #[test]
    fn kind_spellings_match_serde() {
        for kind in EntryKind::ALL {
            assert_eq!(
                serde_json::to_value(kind).expect("serialises"),
                json!(kind.as_str())
            );
            assert_eq!(EntryKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EntryKind::parse("decision.deleted"), None);
    }

    #[test]
    fn canonical_bytes_round_trip() {
        let entry = sample();
        let bytes = entry.canonical_bytes().expect("canonical");
        assert_eq!(Entry::from_canonical_bytes(&bytes), Ok(entry));
    }

    #[test]
    fn canonical_bytes_sort_members() {
        let bytes = sample().canonical_bytes().expect("canonical");
        let text = String::from_utf8(bytes).expect("utf-8");
        assert!(text.starts_with(r#"{"decision_id":"0193a1b2-0000-7000-8000-000000000000","format":2,"kind":"decision.recorded","leaf_index":0,"prev_hash":"0000"#));
        assert!(text.contains(r#""record":{"b":1,"title":"T"}"#));
    }

    #[test]
    fn non_canonical_bytes_are_refused() {
        let bytes = sample().canonical_bytes().expect("canonical");
        let mut spaced = b" ".to_vec();
        spaced.extend_from_slice(&bytes);
        assert_eq!(
            Entry::from_canonical_bytes(&spaced),
            Err(EntryError::NotCanonical(CanonicalError::Whitespace {
                offset: 0
            }))
        );
    }

    #[test]
    fn a_duplicate_member_is_refused_though_serde_json_would_keep_the_last() {
        let bytes = sample().canonical_bytes().expect("canonical");
        let text = String::from_utf8(bytes).expect("utf-8");
        let doubled = text.replacen(r#""record":{"b":1,"#, r#""record":{"b":1,"b":2,"#, 1);
        assert_ne!(doubled, text);
        assert_eq!(
            Entry::from_canonical_bytes(doubled.as_bytes()),
            Err(EntryError::DuplicateMember {
                path: "/record".into(),
                member: "b".into()
            })
        );
        let top = text.replacen(
            r#"{"decision_id":"#,
            r#"{"decision_id":"x","decision_id":"#,
            1,
        );
        assert!(matches!(
            Entry::from_canonical_bytes(top.as_bytes()),
            Err(EntryError::DuplicateMember { path, .. }) if path.is_empty()
        ));
    }

    #[test]
    fn the_parsed_entry_is_the_one_the_old_reserialising_reader_gave() {
        let mut entry = sample();
        entry.record = json!({"n": [0.5, -3, 1e-7, 1e21], "s": "a\u{1}\"\\é😂", "z": {}});
        let bytes = entry.canonical_bytes().expect("canonical");
        let value: Value = serde_json::from_slice(&bytes).expect("JSON");
        assert_eq!(canonical::to_canonical_bytes(&value).as_ref(), Ok(&bytes));
        let old: Entry = serde_json::from_value(value).expect("entry");
        assert_eq!(Entry::from_canonical_bytes(&bytes), Ok(old));
    }

    #[test]
    fn bytes_that_are_not_json_are_malformed() {
        assert!(matches!(
            Entry::from_canonical_bytes(b"{\"format\":2"),
            Err(EntryError::Malformed(_))
        ));
        assert!(matches!(
            Entry::from_canonical_bytes(b"[1]"),
            Err(EntryError::Malformed(_))
        ));
    }

    #[test]
    fn unknown_members_and_formats_are_refused() {
        let mut value = serde_json::to_value(sample()).expect("value");
        value["extra"] = json!(1);
        let bytes = canonical::to_canonical_bytes(&value).expect("canonical");
        assert!(matches!(
            Entry::from_canonical_bytes(&bytes),
            Err(EntryError::Malformed(_))
        ));

        let mut value = serde_json::to_value(sample()).expect("value");
        value["format"] = json!(3);
        value["extra"] = json!(1);
        let bytes = canonical::to_canonical_bytes(&value).expect("canonical");
        assert_eq!(
            Entry::from_canonical_bytes(&bytes),
            Err(EntryError::UnsupportedFormat(3))
        );

        for (format, read) in [(0, false), (1, true), (2, true), (3, false)] {
            let mut value = serde_json::to_value(sample()).expect("value");
            value["format"] = json!(format);
            let bytes = canonical::to_canonical_bytes(&value).expect("canonical");
            let parsed = Entry::from_canonical_bytes(&bytes);
            if read {
                assert_eq!(parsed.map(|e| e.format), Ok(format));
            } else {
                assert_eq!(parsed, Err(EntryError::UnsupportedFormat(format)));
            }
        }
    }
}
