//! Offline receipts: a decision's entries with their inclusion proofs and the signed checkpoint
//! they lead to, in a file that a secretariat can keep and an auditor can check years later with
//! the log's verifier key and no server.
//!
//! Two encodings: the JSON receipt (`decision-log-receipt/v1`, every entry of the decision with
//! the disclosures its requester could see) and, for one entry, the C2SP tlog-proof text
//! (<https://c2sp.org/tlog-proof>) with the canonical entry as its `extra` data. [`Receipt::check`]
//! is the verification both share; the server never runs it, the auditor's tool does.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ledger::checkpoint::Checkpoint;
use ledger::{Disclosure, Hash};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use utoipa::ToSchema;

/// The `format` of JSON receipts.
pub const RECEIPT_FORMAT: &str = "decision-log-receipt/v1";

/// The first line of a C2SP tlog-proof.
pub const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// A salted value that opens one commitment in an entry's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Disclosure)]
pub struct DisclosureDto {
    /// JSON Pointer of the committed value inside the entry's `record`.
    #[schema(example = "/participants/0/name")]
    pub path: String,
    /// 128 random bits, lowercase hex.
    #[schema(pattern = "^[0-9a-f]{32}$")]
    pub salt: String,
    /// The committed value.
    pub value: Value,
}

/// An inclusion proof inside a receipt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReceiptProof {
    /// The leaf proved.
    pub leaf_index: u64,
    /// The tree size: always the checkpoint's.
    pub tree_size: u64,
    /// Proof hashes from the leaf's sibling up to the root's child.
    #[schema(value_type = Vec<String>, pattern = "^[0-9a-f]{64}$")]
    pub hashes: Vec<Hash>,
}

/// One entry of the decision, with its proof.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReceiptEntry {
    /// Its position in the log.
    pub leaf_index: u64,
    /// SHA-256(0x00 ‖ RFC 8785 canonical bytes of `entry`).
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub entry_hash: Hash,
    /// The entry (see docs/log-format.md §3): its stored RFC 8785 canonical bytes, verbatim.
    #[schema(value_type = Object)]
    pub entry: Box<RawValue>,
    /// The disclosures its requester could see.
    pub disclosures: Vec<DisclosureDto>,
    /// Its inclusion proof in the checkpoint's tree.
    pub inclusion_proof: ReceiptProof,
}

/// A self-contained, offline-verifiable proof that a decision's entries are in the log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = OfflineReceipt)]
pub struct Receipt {
    /// Always `decision-log-receipt/v1`.
    #[schema(example = "decision-log-receipt/v1")]
    pub format: String,
    /// The decision.
    pub decision_id: uuid::Uuid,
    /// The log's origin (the first line of the checkpoint).
    pub origin: String,
    /// The signed checkpoint every proof leads to, verbatim (C2SP signed note).
    pub checkpoint: String,
    /// Every entry of the decision, in log order.
    pub entries: Vec<ReceiptEntry>,
}

/// Why a receipt does not prove what it claims.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("leaf {leaf_index}: {detail}")]
pub struct ReceiptError {
    /// The entry concerned.
    pub leaf_index: u64,
    /// What is wrong.
    pub detail: String,
}

impl Receipt {
    /// Checks every entry against `checkpoint`, which the caller MUST have opened with the log's
    /// verifier key: the entry hashes to its leaf, its proof leads to the checkpoint's root, it is
    /// about this decision, and its disclosures open its commitments.
    pub fn check(&self, checkpoint: &Checkpoint) -> Result<(), ReceiptError> {
        if self.format != RECEIPT_FORMAT {
            return Err(ReceiptError {
                leaf_index: 0,
                detail: format!("unknown receipt format {:?}", self.format),
            });
        }
        if self.entries.is_empty() {
            return Err(ReceiptError {
                leaf_index: 0,
                detail: "the receipt holds no entry".into(),
            });
        }
        if self.origin != checkpoint.origin {
            return Err(ReceiptError {
                leaf_index: 0,
                detail: format!(
                    "the receipt names origin {:?} but its checkpoint is {:?}'s",
                    self.origin, checkpoint.origin
                ),
            });
        }
        for e in &self.entries {
            let fail = |detail: String| ReceiptError {
                leaf_index: e.leaf_index,
                detail,
            };
            // The bytes as they stand in the receipt: a re-encoding could hide a non-canonical
            // or ambiguous (duplicate-member) entry.
            let canonical = e.entry.get().as_bytes();
            let entry = ledger::Entry::from_canonical_bytes(canonical)
                .map_err(|err| fail(err.to_string()))?;
            let hash = Hash::leaf(canonical);
            if e.entry_hash != hash {
                return Err(fail(format!(
                    "entry_hash says {} but the entry hashes to {hash}",
                    e.entry_hash
                )));
            }
            if entry.leaf_index != e.leaf_index || e.inclusion_proof.leaf_index != e.leaf_index {
                return Err(fail(format!(
                    "the entry says it is leaf {}",
                    entry.leaf_index
                )));
            }
            if entry.decision_id != self.decision_id.to_string() {
                return Err(fail(format!(
                    "the entry is about decision {}, not {}",
                    entry.decision_id, self.decision_id
                )));
            }
            if e.inclusion_proof.tree_size != checkpoint.size {
                return Err(fail(format!(
                    "the proof is for tree size {} but the checkpoint is for {}",
                    e.inclusion_proof.tree_size, checkpoint.size
                )));
            }
            ledger::merkle::verify_inclusion(
                e.leaf_index,
                checkpoint.size,
                &hash,
                &e.inclusion_proof.hashes,
                &checkpoint.root,
            )
            .map_err(|err| {
                fail(format!(
                    "the inclusion proof does not lead to the checkpoint's root: {err}"
                ))
            })?;
            let disclosures: Vec<Disclosure> = e
                .disclosures
                .iter()
                .map(|d| Disclosure {
                    path: d.path.clone(),
                    salt: d.salt.clone(),
                    value: d.value.clone(),
                })
                .collect();
            let mut record = entry.record.clone();
            ledger::disclosure::reveal_all(&mut record, &disclosures)
                .map_err(|err| fail(err.to_string()))?;
        }
        Ok(())
    }

    /// The first entry as a C2SP tlog-proof, with its canonical bytes as `extra`.
    pub fn to_tlog_proof(&self) -> Option<String> {
        let first = self.entries.first()?;
        let canonical = first.entry.get();
        let mut text = format!(
            "{TLOG_PROOF_HEADER}\nextra {}\nindex {}\n",
            STANDARD.encode(canonical),
            first.leaf_index
        );
        for hash in &first.inclusion_proof.hashes {
            text.push_str(&STANDARD.encode(hash.0));
            text.push('\n');
        }
        text.push('\n');
        text.push_str(&self.checkpoint);
        Some(text)
    }

    /// Reads a C2SP tlog-proof whose `extra` is a canonical entry (as [`Receipt::to_tlog_proof`]
    /// writes) into a one-entry receipt, to be checked like any other.
    pub fn from_tlog_proof(text: &str) -> Result<Receipt, String> {
        let (head, checkpoint) = text
            .split_once("\n\n")
            .ok_or("no blank line before the checkpoint")?;
        let mut lines = head.split('\n');
        if lines.next() != Some(TLOG_PROOF_HEADER) {
            return Err(format!("the first line is not {TLOG_PROOF_HEADER}"));
        }
        let extra = lines
            .next()
            .and_then(|l| l.strip_prefix("extra "))
            .ok_or("no `extra` line holding the entry")?;
        let canonical = STANDARD
            .decode(extra)
            .map_err(|e| format!("`extra` is not base64: {e}"))?;
        let index: u64 = lines
            .next()
            .and_then(|l| l.strip_prefix("index "))
            .and_then(|n| n.parse().ok())
            .ok_or("no `index` line")?;
        let hashes = lines
            .map(|l| {
                let bytes = STANDARD
                    .decode(l)
                    .map_err(|e| format!("a proof line is not base64: {e}"))?;
                Hash::from_slice(&bytes).map_err(|_| "a proof line is not 32 bytes".to_owned())
            })
            .collect::<Result<Vec<_>, _>>()?;
        let tree_size: u64 = checkpoint
            .lines()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .ok_or("the checkpoint has no tree size")?;
        let text =
            String::from_utf8(canonical.clone()).map_err(|_| "`extra` is not UTF-8".to_owned())?;
        let entry = RawValue::from_string(text).map_err(|e| format!("`extra` is not JSON: {e}"))?;
        let decision_id = serde_json::from_str::<Value>(entry.get())
            .map_err(|e| format!("`extra` is not an entry: {e}"))?["decision_id"]
            .as_str()
            .and_then(|id| uuid::Uuid::parse_str(id).ok())
            .ok_or("the entry names no decision")?;
        Ok(Receipt {
            format: RECEIPT_FORMAT.to_owned(),
            decision_id,
            origin: checkpoint.lines().next().unwrap_or_default().to_owned(),
            checkpoint: checkpoint.to_owned(),
            entries: vec![ReceiptEntry {
                leaf_index: index,
                entry_hash: Hash::leaf(&canonical),
                entry,
                disclosures: Vec::new(),
                inclusion_proof: ReceiptProof {
                    leaf_index: index,
                    tree_size,
                    hashes,
                },
            }],
        })
    }
}
