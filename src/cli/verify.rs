//! `decision-log verify`: the auditor's tool. It trusts nothing the server says without checking
//! it, writes nothing, and runs the same `ledger` code as the server.
//!
//! Four sources, one engine ([`Audit`]): the database (`--database-url`), a live log over HTTP
//! (`--url`), an export file (`--file`), and a receipt (`--receipt`). For a log, every entry is
//! streamed in order and checked — the canonical bytes, entry hash, chain link, disclosures —
//! while a Merkle frontier (at most 64 hashes) recomputes the root, which must equal the root of
//! the checkpoint signed by the log's key at its size. The chain and the root take constant
//! memory. The checks of an entry that need no other entry (its bytes, hash and disclosures, and
//! the placeholders the lineage rules look at) run on every core, a batch at a time
//! ([`precheck`]); the chain links, the tree and the lineage rules then take the batch in order.
//!
//! Entries are read past the checkpoint, up to the log's size when the last page was served:
//! each page says the size it was read at (its `tree_size`), and its disclosures reflect the
//! erasures and publications among exactly those entries, so the lineage rules must see them
//! all. Entries past the checkpoint are checked the same way but are not yet covered by a
//! signature; the report says how many.
//!
//! What each source checks besides (`docs/log-format.md` §11):
//! - every source that reads from entry 0 checks the lineage rules with [`LineageChecker`], for
//!   the reader the disclosures were served to (§6: no value withheld from it that it should be
//!   served, none served that it should not);
//! - `--url` compares the served verifier key with the pinned one, every hash tile and entry
//!   bundle up to the checkpoint with the ones the entries give (so the stored tree nodes the
//!   proofs are built from, and the bytes the tiles serve, are checked), and a sample of served
//!   inclusion and consistency proofs;
//! - `--database-url` opens the database read-only (no migration, no lock, beside a running
//!   service) and checks everything stored beside the entries: every tree node, every
//!   checkpoint, the copied columns, the read views' copies and the head — a fsck;
//! - a receipt proves that its entries are in the log (inclusion), not that it holds every entry
//!   of its decision.
//!
//! With `--state FILE`, `--url` remembers the last checkpoint it verified (size, root, chain head
//! and frontier). The next run checks a consistency proof from that checkpoint to the new one —
//! so a history rewritten or forked since, even under the same key and origin, is caught — and
//! then only has to read the entries appended since. Such a resumed run does not check lineage
//! or tiles: both need every earlier entry, which the state file does not hold. Its report says
//! so (`"lineage": "not_checked"`); `--full` re-reads the log and checks everything. A run that
//! fails reports `"failed"` when a lineage rule failed, and `"incomplete"` when it stopped at
//! another failure after some entries: `"checked"` only ever means every rule held over the log.
//!
//! Exit codes: 0 verified; 1 the log, file or receipt does not verify (the message names the leaf,
//! node or tile and the expected and computed values) — a served body that is not what the format
//! says counts as this; 2 it could not be read (network, file, database, usage).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use ledger::chain::{self, CheckedEntry};
use ledger::checkpoint::Checkpoint;
use ledger::lineage::{self, Prepared};
use ledger::merkle::{self, Frontier, NodeId};
use ledger::note::Verifier;
use ledger::{
    ChainError, ChainVerifier, Disclosure, Entry, Hash, LineageChecker, LineageError, Reader,
    Visibility,
};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::client::LogClient;
use super::progress::Progress;
use super::tilecheck::{ExpectedTile, TileCheck};
use crate::config::VerifyConfig;
use crate::receipt::{Receipt, TLOG_PROOF_HEADER};
use crate::store::{AuditBatch, Store};

/// Entries read per request or query.
const BATCH: u64 = 1000;

/// Served inclusion proofs, and consistency proofs, checked per run from entry 0.
const PROOF_SAMPLES: usize = 16;

/// The `format` of state files.
const STATE_FORMAT: &str = "decision-log-verify-state/v1";

/// Something about the log that does not verify, with its evidence.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// An entry, link or disclosure is wrong.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// Entries do not refer to each other as the format requires, an erased value is still
    /// served, or a published one is not.
    #[error(transparent)]
    Lineage(#[from] LineageError),
    /// A checkpoint is malformed or not signed by the log's key.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// The entries do not hash to the checkpoint's root.
    #[error(
        "tree size {tree_size}: the checkpoint's root is {expected} but the entries give {computed}"
    )]
    RootMismatch {
        /// The size checked.
        tree_size: u64,
        /// The signed root.
        expected: Hash,
        /// The root recomputed from the entries.
        computed: Hash,
    },
    /// The log no longer extends the history verified earlier.
    #[error(
        "history rewritten: the checkpoint verified earlier (size {old_size}, root {old_root}) is not a prefix of the log now (size {new_size}): {detail}"
    )]
    Rewritten {
        /// Size verified earlier.
        old_size: u64,
        /// Root verified earlier.
        old_root: Hash,
        /// Size now.
        new_size: u64,
        /// What did not match.
        detail: String,
    },
    /// The source ended before the checkpoint's size.
    #[error("the log ends at {got} entries but its checkpoint commits to {expected}")]
    Truncated {
        /// Entries the checkpoint commits to.
        expected: u64,
        /// Entries served.
        got: u64,
    },
    /// The log serves (or its database holds) another verifier key than the one pinned.
    #[error("the log's verifier key is {served:?}, not the pinned {pinned:?}")]
    KeyMismatch {
        /// The key given with `--vkey`.
        pinned: String,
        /// The key at `/api/v1/log/key`.
        served: String,
    },
    /// A receipt does not prove what it claims.
    #[error("receipt, leaf {leaf_index}: {detail}")]
    Receipt {
        /// The entry concerned.
        leaf_index: u64,
        /// What is wrong.
        detail: String,
    },
    /// A served tile differs from the one the entries give.
    #[error("tile {path}: {detail}")]
    Tile {
        /// The tile's path under `/tlog/tile/`.
        path: String,
        /// What differs.
        detail: String,
    },
    /// A served inclusion or consistency proof does not lead to the root the entries give.
    #[error("{what}: {detail}")]
    Proof {
        /// Which proof.
        what: String,
        /// What is wrong.
        detail: String,
    },
    /// Something the database stores beside the entries (a tree node, a checkpoint, a copied
    /// column, a read view, the head) disagrees with the entries.
    #[error("stored {what}: {detail}")]
    Stored {
        /// What is stored.
        what: String,
        /// How it disagrees.
        detail: String,
    },
    /// What the source served is not what the format says it serves.
    #[error("{0}")]
    Malformed(String),
}

/// What a verification covered.
#[derive(Debug, Serialize)]
struct Report {
    ok: bool,
    source: String,
    origin: Option<String>,
    /// Who the disclosures were served to, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    reader: Option<&'static str>,
    /// Entries verified: up to the log's size when the last page was read.
    tree_size: u64,
    /// Their root.
    root_hash: Option<String>,
    /// The entry hash of the last.
    head_hash: Option<String>,
    /// The size of the signed checkpoint whose root the entries reach.
    #[serde(skip_serializing_if = "Option::is_none")]
    checkpoint_size: Option<u64>,
    /// Entries past the checkpoint: checked, but not yet covered by a signature.
    uncovered: u64,
    entries_checked: u64,
    resumed_from: u64,
    bytes: u64,
    seconds: f64,
    entries_per_second: f64,
    megabytes_per_second: f64,
    /// Whether the lineage rules were checked, and over how many decisions.
    lineage: LineageCoverage,
    #[serde(skip_serializing_if = "Option::is_none")]
    lineage_decisions: Option<usize>,
    /// Served tiles compared with the ones the entries give.
    tiles_checked: u64,
    /// Served inclusion and consistency proofs checked.
    proofs_checked: u64,
    /// Stored tree nodes compared with the ones the entries give.
    nodes_checked: u64,
    /// Signed checkpoints checked against the entries.
    checkpoints_checked: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<String>,
    /// For a receipt: the decision it proves.
    #[serde(skip_serializing_if = "Option::is_none")]
    receipt_for: Option<String>,
}

/// Which lineage rules (`docs/log-format.md` §11) a run checked, and how that ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum LineageCoverage {
    /// Every rule, over the whole log read from entry 0, and every one held.
    Checked,
    /// A rule does not hold: the run's `failure` says which.
    Failed,
    /// Checked on the entries read before the run stopped at another failure: the rules that
    /// later entries settle were not.
    Incomplete,
    /// None: the run resumed from a state file, checked a receipt, or stopped before any entry.
    NotChecked,
}

/// Why a run stopped early: the log does not verify (exit 1), or could not be read (exit 2).
enum Stop {
    Failure(Failure),
    Error(anyhow::Error),
}

impl From<Failure> for Stop {
    fn from(failure: Failure) -> Stop {
        Stop::Failure(failure)
    }
}

impl From<anyhow::Error> for Stop {
    fn from(error: anyhow::Error) -> Stop {
        Stop::Error(error)
    }
}

impl From<ChainError> for Stop {
    fn from(error: ChainError) -> Stop {
        Stop::Failure(error.into())
    }
}

/// The streaming checker shared by every log source.
struct Audit {
    chain: ChainVerifier,
    frontier: Frontier,
    /// Present when the run starts at entry 0: the lineage rules need every earlier entry.
    lineage: Option<LineageChecker>,
    reader: Option<Reader>,
    /// The signed checkpoint the entries must reach, and its root.
    checkpoint: Option<Checkpoint>,
    /// The chain head and frontier at the checkpoint's size, once the entries reach it.
    at_checkpoint: Option<(Hash, Frontier)>,
    resumed_from: u64,
    bytes: u64,
    tiles_checked: u64,
    proofs_checked: u64,
    nodes_checked: u64,
    checkpoints_checked: u64,
    started: Instant,
    progress: Progress,
}

impl Audit {
    fn new(
        chain: ChainVerifier,
        frontier: Frontier,
        checkpoint: Option<Checkpoint>,
        reader: Option<Reader>,
        quiet: bool,
    ) -> Audit {
        let total = checkpoint.as_ref().map_or(0, |c| c.size);
        let progress = Progress::new(total, frontier.size(), quiet);
        Audit {
            resumed_from: frontier.size(),
            lineage: (frontier.size() == 0).then(|| match reader {
                Some(reader) => LineageChecker::for_reader(reader),
                None => LineageChecker::new(),
            }),
            reader,
            chain,
            frontier,
            checkpoint,
            at_checkpoint: None,
            bytes: 0,
            tiles_checked: 0,
            proofs_checked: 0,
            nodes_checked: 0,
            checkpoints_checked: 0,
            started: Instant::now(),
            progress,
        }
    }

    /// An audit that stops before reading any entry, to report a failure of the checkpoint.
    fn failed(source: &str, checkpoint: Option<Checkpoint>, failure: &Failure) -> Report {
        Audit::new(
            ChainVerifier::new(),
            Frontier::new(),
            checkpoint,
            None,
            true,
        )
        .report(source, Some(failure))
    }

    /// Checks the checkpoint against the entries the run starts from (none, or a state file's).
    fn start(&mut self) -> Result<(), Failure> {
        if let Some(c) = &self.checkpoint
            && c.size == self.frontier.size()
        {
            self.reached()?;
        }
        Ok(())
    }

    /// The entries checked from now on were served when the log had `tree_size` entries.
    fn served_at(&mut self, tree_size: u64) {
        self.progress.grow_to(tree_size);
        if let Some(lineage) = &mut self.lineage {
            lineage.served_at(tree_size);
        }
    }

    /// Checks the next entry, served with `disclosures`, given what [`precheck`] found of it.
    /// Returns the entry and the tree nodes its leaf completes.
    fn check(
        &mut self,
        leaf_index: u64,
        prechecked: Prechecked,
        disclosures: &[Disclosure],
    ) -> Result<(Entry, Vec<(NodeId, Hash)>), Failure> {
        self.chain.expect_next(leaf_index)?;
        let (checked, prepared) = prechecked.checked?;
        self.chain.link(&checked)?;
        if let Some(lineage) = &mut self.lineage {
            lineage.check_prepared(checked.entry(), disclosures, prepared?)?;
        }
        let nodes = self.frontier.push(checked.leaf_hash());
        self.bytes += prechecked.size as u64;
        self.progress.add(1, prechecked.size as u64);
        if self
            .checkpoint
            .as_ref()
            .is_some_and(|c| c.size == self.frontier.size())
        {
            self.reached()?;
        }
        Ok((checked.into_entry(), nodes))
    }

    /// The entries have reached the checkpoint's size: they must hash to its root.
    fn reached(&mut self) -> Result<(), Failure> {
        let Some(checkpoint) = &self.checkpoint else {
            return Ok(());
        };
        let computed = self.frontier.root();
        if computed != checkpoint.root {
            return Err(Failure::RootMismatch {
                tree_size: checkpoint.size,
                expected: checkpoint.root,
                computed,
            });
        }
        self.checkpoints_checked += 1;
        self.at_checkpoint = Some((self.chain.head(), self.frontier.clone()));
        Ok(())
    }

    /// The rules settled once every entry is read: the checkpoint was reached, and the lineage
    /// rules that later entries decide.
    fn finish(&self) -> Result<(), Failure> {
        if let Some(c) = &self.checkpoint
            && self.at_checkpoint.is_none()
        {
            return Err(Failure::Truncated {
                expected: c.size,
                got: self.frontier.size(),
            });
        }
        if let Some(lineage) = &self.lineage {
            lineage.finish()?;
        }
        Ok(())
    }

    fn report(&self, source: &str, failure: Option<&Failure>) -> Report {
        self.progress.finish();
        let seconds = self.started.elapsed().as_secs_f64().max(1e-9);
        let read = self.frontier.size();
        let checked = read - self.resumed_from;
        let signed = self.checkpoint.as_ref().map(|c| c.size);
        Report {
            ok: failure.is_none(),
            source: source.to_owned(),
            origin: self.checkpoint.as_ref().map(|c| c.origin.clone()),
            reader: self.reader.map(Reader::as_str),
            tree_size: read,
            root_hash: Some(self.frontier.root().to_hex()),
            head_hash: Some(self.chain.head().to_hex()),
            checkpoint_size: signed,
            uncovered: read.saturating_sub(signed.unwrap_or(read)),
            entries_checked: checked,
            resumed_from: self.resumed_from,
            bytes: self.bytes,
            seconds,
            entries_per_second: checked as f64 / seconds,
            megabytes_per_second: self.bytes as f64 / seconds / 1e6,
            lineage: match (&self.lineage, failure) {
                (Some(_), None) => LineageCoverage::Checked,
                (Some(_), Some(Failure::Lineage(_))) => LineageCoverage::Failed,
                (Some(_), Some(_)) if checked > 0 => LineageCoverage::Incomplete,
                _ => LineageCoverage::NotChecked,
            },
            lineage_decisions: self
                .lineage
                .as_ref()
                .filter(|_| failure.is_none())
                .map(LineageChecker::decisions),
            tiles_checked: self.tiles_checked,
            proofs_checked: self.proofs_checked,
            nodes_checked: self.nodes_checked,
            checkpoints_checked: self.checkpoints_checked,
            failure: failure.map(ToString::to_string),
            receipt_for: None,
        }
    }

    /// The report of a run that ended with `result`; an unreadable source is an error (exit 2).
    fn conclude(&self, source: &str, result: Result<(), Stop>) -> Outcome {
        match result.and_then(|()| self.finish().map_err(Stop::from)) {
            Ok(()) => Ok(self.report(source, None)),
            Err(Stop::Failure(failure)) => Ok(self.report(source, Some(&failure))),
            Err(Stop::Error(error)) => Err(error),
        }
    }
}

/// The auditor's memory of the last checkpoint verified.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    format: String,
    vkey: String,
    tree_size: u64,
    root_hash: Hash,
    head_hash: Hash,
    frontier: Vec<Hash>,
}

impl State {
    fn load(path: &Path) -> anyhow::Result<Option<State>> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let state: State = serde_json::from_slice(&bytes)
                    .with_context(|| format!("{} is not a verify state file", path.display()))?;
                if state.format != STATE_FORMAT {
                    bail!(
                        "{} has format {:?}, not {STATE_FORMAT}",
                        path.display(),
                        state.format
                    );
                }
                Ok(Some(state))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Writes atomically: a crash leaves the old state or the new, never half of one.
    fn save(&self, path: &Path) -> anyhow::Result<()> {
        let tmp = path.with_extension("tmp");
        let mut file = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        serde_json::to_writer_pretty(&mut file, self)?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("cannot replace {}", path.display()))?;
        Ok(())
    }
}

/// A page of entries as `GET /api/v1/log/entries` serves it.
#[derive(Debug, Deserialize)]
pub(super) struct Page<'a> {
    #[serde(borrow)]
    pub entries: Vec<ServedEntry<'a>>,
    /// The log's size when the page was read.
    pub tree_size: u64,
}

/// What [`precheck`] found of one entry, to be linked in order by [`Audit::check`].
struct Prechecked {
    /// The entry, and the lineage rules' own part of its checks (used when they are checked).
    checked: Result<(CheckedEntry, Result<Prepared, LineageError>), ChainError>,
    /// The entry's canonical bytes.
    size: usize,
}

/// The checks of the entry at `leaf_index` that need no other entry ([`chain::check_entry`],
/// then [`lineage::prepare`] with the disclosures and their stored `labels`): pure, so entries
/// are prechecked on every core ([`on_every_core`]) before [`Audit::check`] links them in order.
fn precheck(
    leaf_index: u64,
    canonical: &[u8],
    claimed: Option<Hash>,
    disclosures: &[Disclosure],
    labels: &[Visibility],
) -> Prechecked {
    let checked = chain::check_entry(leaf_index, canonical, claimed, disclosures).map(|checked| {
        let prepared = lineage::prepare(checked.entry(), disclosures, labels);
        (checked, prepared)
    });
    Prechecked {
        checked,
        size: canonical.len(),
    }
}

/// `f` over every item, on every core, in order: the batch is cut into one run of items per
/// core and the calling thread takes the first.
fn on_every_core<'a, T: Sync, U: Send>(items: &'a [T], f: impl Fn(&'a T) -> U + Sync) -> Vec<U> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores == 1 || items.len() < 2 {
        return items.iter().map(f).collect();
    }
    let run = items.len().div_ceil(cores);
    let f = &f;
    std::thread::scope(|scope| {
        let others: Vec<_> = items
            .chunks(run)
            .skip(1)
            .map(|chunk| scope.spawn(move || chunk.iter().map(f).collect::<Vec<U>>()))
            .collect();
        let mut out: Vec<U> = items[..run].iter().map(f).collect();
        for other in others {
            match other.join() {
                Ok(results) => out.extend(results),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

/// Who a run reads as: `--reader`, else an auditor with a token and anonymous without.
pub(super) fn reader_of(reader: Option<Reader>, token: Option<&str>) -> Reader {
    reader.unwrap_or(if token.is_some() {
        Reader::Auditor
    } else {
        Reader::Anonymous
    })
}

/// A served or exported entry: the entry's bytes exactly as served.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ServedEntry<'a> {
    pub leaf_index: u64,
    pub entry_hash: Hash,
    #[serde(borrow)]
    pub entry: &'a RawValue,
    #[serde(default, deserialize_with = "strict_disclosures")]
    pub disclosures: Vec<Disclosure>,
    /// In an export: the log's size when the entry's page was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tree_size: Option<u64>,
}

/// Served disclosures, read refusing a duplicate member name anywhere in a value (§2), which
/// `serde_json` would merge into a value the served text does not say.
fn strict_disclosures<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Disclosure>, D::Error> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Served {
        path: String,
        salt: String,
        value: ledger::canonical::StrictValue,
    }
    let served = Vec::<Served>::deserialize(deserializer)?;
    Ok(served
        .into_iter()
        .map(|d| Disclosure {
            path: d.path,
            salt: d.salt,
            value: d.value.0,
        })
        .collect())
}

/// Reads `--vkey`: the key text itself, or a file holding it.
fn read_vkey(text: &str) -> anyhow::Result<Verifier> {
    let path = Path::new(text);
    let text = if path.is_file() {
        std::fs::read_to_string(path)?
    } else {
        text.to_owned()
    };
    Verifier::from_vkey(text.trim())
        .map_err(|e| anyhow::anyhow!("--vkey is not a verifier key: {e}"))
}

fn open_checkpoint(note: &str, verifier: &Verifier) -> Result<Checkpoint, Failure> {
    Checkpoint::open(note, verifier).map_err(|e| Failure::Checkpoint(e.to_string()))
}

/// Runs `verify` and maps the outcome to an exit code.
pub async fn verify(config: &VerifyConfig) -> ExitCode {
    let outcome = if let Some(url) = &config.url {
        verify_url(url, config).await
    } else if let Some(file) = &config.file {
        verify_file(file, config)
    } else if let Some(receipt) = &config.receipt {
        verify_receipt(receipt, config)
    } else {
        verify_database(config).await
    };
    match outcome {
        Ok(report) => {
            print_report(&report, config.json);
            if report.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(error) => {
            if config.json {
                println!(
                    "{}",
                    serde_json::json!({"ok": false, "error": super::one_line(&error)})
                );
            }
            eprintln!("error: {}", super::one_line(&error));
            ExitCode::from(2)
        }
    }
}

type Outcome = anyhow::Result<Report>;

fn print_report(report: &Report, json: bool) {
    if json {
        println!("{}", serde_json::to_string(report).unwrap_or_default());
        return;
    }
    if let Some(failure) = &report.failure {
        println!("FAILED: {failure}");
        return;
    }
    let origin = report.origin.as_deref();
    let root = report.root_hash.as_deref().unwrap_or("-");
    if let Some(decision) = &report.receipt_for {
        let noun = if report.entries_checked == 1 {
            "entry"
        } else {
            "entries"
        };
        println!(
            "OK: {}: receipt for decision {decision}: {} {noun} included in tree size {}; root {root}",
            origin.unwrap_or("-"),
            report.entries_checked,
            report.tree_size
        );
        eprintln!(
            "a receipt proves that its entries are in the log, not that it holds every entry of the decision"
        );
        return;
    }
    let noun = if report.tree_size == 1 {
        "entry"
    } else {
        "entries"
    };
    let head = report.head_hash.as_deref().unwrap_or("-");
    match origin {
        Some(origin) => println!(
            "OK: {origin}: {} {noun} verified; root {root}; head {head}",
            report.tree_size
        ),
        None => println!(
            "OK: {} {noun} verified; root {root}; head {head}",
            report.tree_size
        ),
    }
    match report.checkpoint_size {
        Some(signed) if report.uncovered > 0 => eprintln!(
            "the first {signed} are covered by the signed checkpoint; the newest {} are not yet",
            report.uncovered
        ),
        Some(_) => {}
        None => eprintln!("the log has no signed checkpoint yet: no signature covers them"),
    }
    if report.entries_checked > 0 {
        eprintln!(
            "checked {} entries ({} from the state file) in {:.2}s: {:.0} entries/s, {:.1} MB/s",
            report.entries_checked,
            report.resumed_from,
            report.seconds,
            report.entries_per_second,
            report.megabytes_per_second
        );
    }
    let also = [
        (report.tiles_checked, "served tiles"),
        (report.proofs_checked, "served proofs"),
        (report.nodes_checked, "stored tree nodes"),
        (report.checkpoints_checked, "checkpoints"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect::<Vec<_>>();
    if !also.is_empty() {
        eprintln!("also checked: {}", also.join(", "));
    }
    match (report.lineage, report.lineage_decisions) {
        (LineageCoverage::Checked, Some(decisions)) => eprintln!(
            "lineage checked: references, supersessions, redactions, erasures, publications and what is served to {} readers, over {decisions} decisions",
            report.reader.unwrap_or("any")
        ),
        _ => eprintln!(
            "lineage and tiles not checked: this run resumed from the state file at {} entries, and they need every earlier entry (use --full to check them)",
            report.resumed_from
        ),
    }
}

/// The leaves and sizes whose served proofs a run checks, and what the entries gave for them.
struct Samples {
    /// Leaf index → its entry hash, once read.
    leaves: BTreeMap<u64, Option<Hash>>,
    /// Tree size → its root, once reached.
    sizes: BTreeMap<u64, Option<Hash>>,
}

impl Samples {
    /// The first and last leaves of a tree of `size` and random others; random smaller sizes.
    fn new(size: u64) -> Samples {
        let mut rng = rand::rng();
        let mut leaves = BTreeSet::new();
        let mut sizes = BTreeSet::new();
        if size > 0 {
            leaves.insert(0);
            leaves.insert(size - 1);
            while leaves.len() < PROOF_SAMPLES.min(size as usize) {
                leaves.insert(rng.random_range(0..size));
            }
            while sizes.len() < PROOF_SAMPLES.min(size as usize - 1) {
                sizes.insert(rng.random_range(1..size));
            }
        }
        Samples {
            leaves: leaves.into_iter().map(|l| (l, None)).collect(),
            sizes: sizes.into_iter().map(|s| (s, None)).collect(),
        }
    }

    fn observe(&mut self, leaf_index: u64, frontier: &Frontier, nodes: &[(NodeId, Hash)]) {
        if let Some(slot) = self.leaves.get_mut(&leaf_index)
            && let Some((_, hash)) = nodes.first()
        {
            *slot = Some(*hash);
        }
        if let Some(slot) = self.sizes.get_mut(&frontier.size()) {
            *slot = Some(frontier.root());
        }
    }

    /// Checks the served proofs of the sampled leaves and sizes against `checkpoint`.
    async fn check(
        &self,
        client: &LogClient,
        checkpoint: &Checkpoint,
        audit: &mut Audit,
    ) -> Result<(), Stop> {
        #[derive(Deserialize)]
        struct Inclusion {
            leaf_hash: Hash,
            hashes: Vec<Hash>,
        }
        #[derive(Deserialize)]
        struct Consistency {
            hashes: Vec<Hash>,
        }
        let size = checkpoint.size;
        for (&leaf, hash) in &self.leaves {
            let Some(hash) = hash else { continue };
            let what = format!("the served inclusion proof of leaf {leaf} in tree size {size}");
            let proof: Inclusion =
                serde_json::from_value(client.inclusion_proof(leaf, size).await?)
                    .map_err(|e| Failure::Malformed(format!("{what} is malformed: {e}")))?;
            if proof.leaf_hash != *hash {
                return Err(Failure::Proof {
                    what,
                    detail: format!(
                        "it proves leaf hash {} but the entry hashes to {hash}",
                        proof.leaf_hash
                    ),
                }
                .into());
            }
            merkle::verify_inclusion(leaf, size, hash, &proof.hashes, &checkpoint.root).map_err(
                |e| Failure::Proof {
                    what,
                    detail: format!("it does not lead to the checkpoint's root: {e}"),
                },
            )?;
            audit.proofs_checked += 1;
        }
        for (&old, root) in &self.sizes {
            let Some(root) = root else { continue };
            let what = format!("the served consistency proof from tree size {old} to {size}");
            let proof: Consistency =
                serde_json::from_value(client.consistency_proof(old, size).await?)
                    .map_err(|e| Failure::Malformed(format!("{what} is malformed: {e}")))?;
            merkle::verify_consistency(old, size, root, &checkpoint.root, &proof.hashes).map_err(
                |e| Failure::Proof {
                    what,
                    detail: format!(
                        "it does not lead from the root the entries give ({root}) to the checkpoint's: {e}"
                    ),
                },
            )?;
            audit.proofs_checked += 1;
        }
        Ok(())
    }
}

/// Compares a served tile with the one the entries give.
async fn check_tile(
    client: &LogClient,
    tile: &ExpectedTile,
    audit: &mut Audit,
) -> Result<(), Stop> {
    let path = tile.id.path();
    let Some(served) = client.tile(&path).await? else {
        return Err(Failure::Tile {
            path,
            detail: "the log does not serve it (404)".into(),
        }
        .into());
    };
    if served != tile.bytes {
        let detail = match tile.id.kind {
            ledger::tile::TileKind::Entries => format!(
                "the bundle ({} bytes) is not the entries the API serves ({} bytes)",
                served.len(),
                tile.bytes.len()
            ),
            ledger::tile::TileKind::Hashes { .. } => {
                let at = served
                    .chunks(32)
                    .zip(tile.bytes.chunks(32))
                    .position(|(a, b)| a != b)
                    .unwrap_or(served.len().min(tile.bytes.len()) / 32);
                format!(
                    "hash {at} is {} but the entries give {}",
                    served
                        .get(at * 32..at * 32 + 32)
                        .map_or("missing".to_owned(), hex::encode),
                    tile.bytes
                        .get(at * 32..at * 32 + 32)
                        .map_or("nothing".to_owned(), hex::encode)
                )
            }
        };
        return Err(Failure::Tile { path, detail }.into());
    }
    audit.tiles_checked += 1;
    Ok(())
}

async fn verify_url(url: &str, config: &VerifyConfig) -> Outcome {
    let vkey = config.vkey.as_deref().context("--url needs --vkey")?;
    let verifier = read_vkey(vkey)?;
    let client = LogClient::new(url, config.token.as_deref())?;
    let reader = reader_of(config.reader, config.token.as_deref());

    let note = client.checkpoint().await?;
    let state = match &config.state {
        Some(path) => State::load(path)?,
        None => None,
    };
    let checkpoint = match open_checkpoint(&note, &verifier) {
        Ok(c) => c,
        Err(failure) => return Ok(Audit::failed(url, None, &failure)),
    };
    let served_key = client.key().await?;
    if served_key.trim() != verifier.to_vkey() {
        let failure = Failure::KeyMismatch {
            pinned: verifier.to_vkey(),
            served: served_key.trim().to_owned(),
        };
        return Ok(Audit::failed(url, Some(checkpoint), &failure));
    }

    // Consistency with what was verified before: the proof, and (below) our own recomputation.
    if let Some(state) = &state {
        if state.vkey != verifier.to_vkey() {
            bail!(
                "the state file is for another log ({}), not {}",
                state.vkey,
                verifier.to_vkey()
            );
        }
        let rewritten = |detail: String| Failure::Rewritten {
            old_size: state.tree_size,
            old_root: state.root_hash,
            new_size: checkpoint.size,
            detail,
        };
        if checkpoint.size < state.tree_size {
            let failure = rewritten(format!(
                "the log shrank from {} to {} entries",
                state.tree_size, checkpoint.size
            ));
            return Ok(Audit::failed(url, Some(checkpoint), &failure));
        }
        // Every tree extends the empty one, and a tree itself; neither has a proof.
        if state.tree_size == 0 {
            if state.root_hash != merkle::empty_root() {
                bail!("the state file is damaged: size 0 with a non-empty root");
            }
        } else if state.tree_size == checkpoint.size {
            if state.root_hash != checkpoint.root {
                let failure = rewritten("the same size now has another root".into());
                return Ok(Audit::failed(url, Some(checkpoint), &failure));
            }
        } else {
            let proof = client
                .consistency_proof(state.tree_size, checkpoint.size)
                .await?;
            let hashes: Result<Vec<Hash>, _> = serde_json::from_value(proof["hashes"].clone());
            let checked = match hashes {
                Ok(hashes) => merkle::verify_consistency(
                    state.tree_size,
                    checkpoint.size,
                    &state.root_hash,
                    &checkpoint.root,
                    &hashes,
                )
                .map_err(|e| rewritten(format!("the consistency proof fails: {e}"))),
                Err(e) => Err(Failure::Malformed(format!(
                    "the consistency proof is malformed: {e}"
                ))),
            };
            if let Err(failure) = checked {
                return Ok(Audit::failed(url, Some(checkpoint), &failure));
            }
        }
    }

    let (chain, frontier) = match (&state, config.full) {
        (Some(state), false) => (
            ChainVerifier::resume(state.tree_size, state.head_hash),
            Frontier::from_parts(state.tree_size, state.frontier.clone())
                .context("the state file's frontier is damaged")?,
        ),
        _ => (ChainVerifier::new(), Frontier::new()),
    };
    // Tiles and proofs are checked against the tree recomputed from entry 0.
    let fresh = frontier.size() == 0;
    let mut audit = Audit::new(
        chain,
        frontier,
        Some(checkpoint.clone()),
        Some(reader),
        config.json,
    );
    let mut tiles = fresh.then(TileCheck::new);
    let mut samples = fresh.then(|| Samples::new(checkpoint.size));
    let result = async {
        audit.start()?;
        let mut target = checkpoint.size;
        let mut read_once = false;
        while audit.frontier.size() < target || !read_once {
            read_once = true;
            let from = audit.frontier.size();
            let body = client.entries_page(from, BATCH).await?;
            let page: Page = serde_json::from_slice(&body).map_err(|e| {
                Failure::Malformed(format!("the page of entries from {from} is malformed: {e}"))
            })?;
            if page.tree_size < checkpoint.size {
                return Err(Failure::Truncated {
                    expected: checkpoint.size,
                    got: page.tree_size,
                }
                .into());
            }
            target = target.max(page.tree_size);
            audit.served_at(page.tree_size);
            if page.entries.is_empty() && from < target {
                return Err(Failure::Truncated {
                    expected: target,
                    got: from,
                }
                .into());
            }
            let prechecked = on_every_core(&page.entries, |served| {
                let canonical = served.entry.get().as_bytes();
                let claimed = Some(served.entry_hash);
                precheck(
                    served.leaf_index,
                    canonical,
                    claimed,
                    &served.disclosures,
                    &[],
                )
            });
            for (served, prechecked) in page.entries.iter().zip(prechecked) {
                if served.leaf_index >= page.tree_size {
                    return Err(Failure::Malformed(format!(
                        "the page read at tree size {} serves leaf {}",
                        page.tree_size, served.leaf_index
                    ))
                    .into());
                }
                let canonical = served.entry.get().as_bytes();
                let (_, nodes) = audit.check(served.leaf_index, prechecked, &served.disclosures)?;
                if let Some(state) = &state
                    && config.full
                    && audit.frontier.size() == state.tree_size
                    && audit.frontier.root() != state.root_hash
                {
                    return Err(Failure::Rewritten {
                        old_size: state.tree_size,
                        old_root: state.root_hash,
                        new_size: checkpoint.size,
                        detail: format!("the entries now hash to {}", audit.frontier.root()),
                    }
                    .into());
                }
                if served.leaf_index >= checkpoint.size {
                    continue;
                }
                if let Some(samples) = &mut samples {
                    samples.observe(served.leaf_index, &audit.frontier, &nodes);
                }
                if let Some(tiles) = &mut tiles {
                    let mut due = tiles.push(canonical, &nodes);
                    if served.leaf_index + 1 == checkpoint.size {
                        due.extend(tiles.partial());
                    }
                    for tile in &due {
                        check_tile(&client, tile, &mut audit).await?;
                    }
                }
            }
        }
        if let Some(samples) = &samples {
            samples.check(&client, &checkpoint, &mut audit).await?;
        }
        Ok(())
    }
    .await;
    let report = audit.conclude(url, result)?;
    if report.ok
        && let (Some(path), Some((head, frontier))) = (&config.state, &audit.at_checkpoint)
    {
        State {
            format: STATE_FORMAT.to_owned(),
            vkey: verifier.to_vkey(),
            tree_size: checkpoint.size,
            root_hash: checkpoint.root,
            head_hash: *head,
            frontier: frontier.hashes().to_vec(),
        }
        .save(path)?;
    }
    Ok(report)
}

/// The first line of an export file.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ExportHeader {
    pub format: String,
    pub origin: String,
    pub checkpoint: String,
    /// Who the disclosures were served to (format 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader: Option<String>,
}

/// The `format` of export files written now: each line carries the size its page was read at.
pub(super) const EXPORT_FORMAT: &str = "decision-log-export/v2";

/// The first format, still read: entries up to the checkpoint, served anonymously.
const EXPORT_FORMAT_V1: &str = "decision-log-export/v1";

fn verify_file(path: &PathBuf, config: &VerifyConfig) -> Outcome {
    let verifier = read_vkey(config.vkey.as_deref().context("--file needs --vkey")?)?;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut lines = std::io::BufReader::new(file).lines();
    let header: ExportHeader =
        serde_json::from_str(&lines.next().context("the export file is empty")??)
            .context("the first line is not an export header")?;
    let reader =
        match header.format.as_str() {
            EXPORT_FORMAT => match header.reader.as_deref() {
                Some(text) => Some(Reader::parse(text).with_context(|| {
                    format!("the export header names an unknown reader {text:?}")
                })?),
                None => None,
            },
            EXPORT_FORMAT_V1 => None,
            other => bail!(
                "{} has format {other:?}, not {EXPORT_FORMAT} or {EXPORT_FORMAT_V1}",
                path.display()
            ),
        };
    let source = path.display().to_string();
    let checkpoint = match open_checkpoint(&header.checkpoint, &verifier) {
        Ok(c) => c,
        Err(failure) => return Ok(Audit::failed(&source, None, &failure)),
    };
    let mut audit = Audit::new(
        ChainVerifier::new(),
        Frontier::new(),
        Some(checkpoint),
        reader,
        config.json,
    );
    let result = (|| {
        audit.start()?;
        let mut numbered = lines.enumerate();
        loop {
            let mut batch = Vec::with_capacity(BATCH as usize);
            for (n, line) in numbered.by_ref().take(BATCH as usize) {
                let line = line.with_context(|| format!("cannot read {}", path.display()))?;
                batch.push((n + 2, line));
            }
            if batch.is_empty() {
                return Ok(());
            }
            let prechecked = on_every_core(&batch, |(number, line)| {
                let entry: ServedEntry = serde_json::from_str(line).map_err(|e| {
                    Failure::Malformed(format!("line {number} is not an exported entry: {e}"))
                })?;
                let canonical = entry.entry.get().as_bytes();
                let claimed = Some(entry.entry_hash);
                let prechecked = precheck(
                    entry.leaf_index,
                    canonical,
                    claimed,
                    &entry.disclosures,
                    &[],
                );
                Ok::<_, Failure>((entry, prechecked))
            });
            for parsed in prechecked {
                let (entry, prechecked) = parsed?;
                if let Some(size) = entry.tree_size {
                    audit.served_at(size);
                }
                audit.check(entry.leaf_index, prechecked, &entry.disclosures)?;
            }
        }
    })();
    audit.conclude(&source, result)
}

async fn verify_database(config: &VerifyConfig) -> Outcome {
    let source = "database".to_owned();
    let store = Store::open_read_only(&config.database.database_url).await?;
    let Some((_, vkey)) = store.identity().await? else {
        bail!("the log has no identity yet: it was never served");
    };
    let verifier = read_vkey(&vkey).context("the stored verifier key")?;
    if let Some(pinned) = &config.vkey {
        let pinned = read_vkey(pinned)?;
        if pinned.to_vkey() != verifier.to_vkey() {
            let failure = Failure::KeyMismatch {
                pinned: pinned.to_vkey(),
                served: verifier.to_vkey(),
            };
            return Ok(Audit::failed(&source, None, &failure));
        }
    }
    let checkpoint = match store.latest_checkpoint().await? {
        Some(stored) => match open_checkpoint(&stored.note, &verifier) {
            Ok(c) => Some(c),
            Err(failure) => return Ok(Audit::failed(&source, None, &failure)),
        },
        None => None,
    };
    // Every disclosure is in the database, labelled: it is read as an auditor is served.
    let mut audit = Audit::new(
        ChainVerifier::new(),
        Frontier::new(),
        checkpoint,
        Some(Reader::Auditor),
        config.json,
    );
    let result = async {
        audit.start()?;
        let mut target = 0;
        loop {
            let from = audit.frontier.size();
            let batch = match store.audit_batch(from, BATCH).await {
                Ok(batch) => batch,
                // Stored rows that do not decode as their schema says: evidence, not an outage.
                Err(crate::store::StoreError::Inconsistent(detail)) => {
                    let what = format!("entries from leaf {from}");
                    return Err(Failure::Stored { what, detail }.into());
                }
                Err(e) => {
                    return Err(anyhow::Error::from(e)
                        .context(format!("cannot read entries from {from}"))
                        .into());
                }
            };
            target = target.max(batch.head.tree_size);
            audit.served_at(batch.head.tree_size);
            if batch.entries.is_empty() && from < target {
                return Err(Failure::Truncated {
                    expected: target,
                    got: from,
                }
                .into());
            }
            check_batch(&mut audit, &batch, &verifier)?;
            if audit.frontier.size() == batch.head.tree_size {
                check_head(&audit, &batch)?;
                return Ok(());
            }
        }
    }
    .await;
    audit.conclude(&source, result)
}

/// Checks a database batch: its entries, and everything stored beside them.
fn check_batch(audit: &mut Audit, batch: &AuditBatch, verifier: &Verifier) -> Result<(), Stop> {
    let stored_fail =
        |what: String, detail: String| Stop::Failure(Failure::Stored { what, detail });
    let mut views: HashMap<u64, Vec<&crate::store::ViewCopy>> = HashMap::new();
    for view in &batch.views {
        views.entry(view.leaf_index).or_default().push(view);
    }
    let checkpoints: HashMap<u64, (&[u8], &str)> = batch
        .checkpoints
        .iter()
        .map(|(size, root, note)| (*size, (root.as_slice(), note.as_str())))
        .collect();
    let check_checkpoint = |audit: &mut Audit| -> Result<(), Stop> {
        let size = audit.frontier.size();
        let Some((root, note)) = checkpoints.get(&size) else {
            return Ok(());
        };
        let what = format!("checkpoint of tree size {size}");
        let opened = open_checkpoint(note, verifier)
            .map_err(|e| stored_fail(what.clone(), format!("its note does not open: {e}")))?;
        let computed = audit.frontier.root();
        if opened.size != size || opened.root != computed {
            return Err(stored_fail(
                what,
                format!(
                    "its note signs size {} root {} but the entries give root {computed}",
                    opened.size, opened.root
                ),
            ));
        }
        if *root != computed.0 {
            return Err(stored_fail(
                what,
                format!(
                    "its root column holds {} but the entries give {computed}",
                    hex::encode(root)
                ),
            ));
        }
        audit.checkpoints_checked += 1;
        Ok(())
    };
    if audit.frontier.size() == 0 {
        check_checkpoint(audit)?;
    }
    let prechecked = on_every_core(&batch.entries, |stored| {
        let leaf = stored.leaf_index;
        let mut disclosures = Vec::with_capacity(stored.disclosures.len());
        let mut labels = Vec::with_capacity(stored.disclosures.len());
        for (disclosure, label) in &stored.disclosures {
            let visibility = Visibility::parse(label).ok_or_else(|| Failure::Stored {
                what: format!("disclosure {} of leaf {leaf}", disclosure.path),
                detail: format!("its visibility {label:?} is not public, internal or restricted"),
            })?;
            disclosures.push(disclosure.clone());
            labels.push(visibility);
        }
        let claimed = Some(stored.entry_hash);
        let prechecked = precheck(leaf, &stored.canonical, claimed, &disclosures, &labels);
        Ok::<_, Failure>((disclosures, prechecked))
    });
    for (stored, prechecked) in batch.entries.iter().zip(prechecked) {
        let leaf = stored.leaf_index;
        let (disclosures, prechecked) = prechecked?;
        let (entry, nodes) = audit.check(leaf, prechecked, &disclosures)?;

        let columns = batch
            .columns
            .get(&leaf)
            .ok_or_else(|| stored_fail(format!("columns of leaf {leaf}"), "are missing".into()))?;
        let prev = entry.prev_hash.to_hex();
        for (name, stored, expected) in [
            ("prev_hash", &columns.prev_hash, &prev),
            ("kind", &columns.kind, &entry.kind.as_str().to_owned()),
            ("decision_id", &columns.decision_id, &entry.decision_id),
            ("recorded_at", &columns.recorded_at, &entry.recorded_at),
        ] {
            if stored != expected {
                return Err(stored_fail(
                    format!("column {name} of leaf {leaf}"),
                    format!("holds {stored:?} but the entry says {expected:?}"),
                ));
            }
        }

        for (id, hash) in &nodes {
            let what = || format!("tree node {}/{} (level/index)", id.level, id.index);
            match batch.nodes.get(id) {
                None => return Err(stored_fail(what(), "is missing".into())),
                Some(bytes) if bytes[..] != hash.0 => {
                    return Err(stored_fail(
                        what(),
                        format!("holds {} but the entries give {hash}", hex::encode(bytes)),
                    ));
                }
                Some(_) => audit.nodes_checked += 1,
            }
        }

        if entry.kind.is_decision() {
            let mut tables = vec!["decision_events"];
            if entry.kind == ledger::EntryKind::DecisionRecorded {
                tables.push("decisions");
            }
            let rows = views.get(&leaf).map(Vec::as_slice).unwrap_or_default();
            let hash = stored.entry_hash.to_hex();
            for table in tables {
                let what = format!("{table} row of leaf {leaf}");
                let Some(row) = rows.iter().find(|r| r.table == table) else {
                    return Err(stored_fail(what, "is missing".into()));
                };
                for (name, stored, expected) in [
                    ("decision_id", &row.decision_id, &entry.decision_id),
                    ("kind", &row.kind, &entry.kind.as_str().to_owned()),
                    ("recorded_at", &row.recorded_at, &entry.recorded_at),
                    ("recorded_by", &row.recorded_by, &entry.recorded_by),
                    ("entry_hash", &row.entry_hash, &hash),
                ] {
                    if stored != expected {
                        return Err(stored_fail(
                            what,
                            format!("{name} holds {stored:?} but the entry says {expected:?}"),
                        ));
                    }
                }
            }
        }
        check_checkpoint(audit)?;
    }
    Ok(())
}

/// The head row at the end of the log read: its size, head hash and Merkle compact range.
fn check_head(audit: &Audit, batch: &AuditBatch) -> Result<(), Stop> {
    audit
        .chain
        .check_head(batch.head.tree_size, batch.head.head_hash)?;
    let (merkle_size, frontier) = &batch.tree;
    let detail = if *merkle_size != audit.frontier.size() {
        format!(
            "merkle_size is {merkle_size} but the log has {} entries",
            audit.frontier.size()
        )
    } else if *frontier != audit.frontier.to_bytes() {
        "its frontier is not the compact range of the entries' tree".to_owned()
    } else {
        return Ok(());
    };
    Err(Failure::Stored {
        what: "head row".into(),
        detail,
    }
    .into())
}

fn verify_receipt(path: &PathBuf, config: &VerifyConfig) -> Outcome {
    let verifier = read_vkey(config.vkey.as_deref().context("--receipt needs --vkey")?)?;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let source = path.display().to_string();
    let receipt = if text.starts_with(TLOG_PROOF_HEADER) {
        Receipt::from_tlog_proof(&text)
            .map_err(|e| anyhow::anyhow!("{} is not a tlog-proof: {e}", path.display()))?
    } else {
        serde_json::from_str::<Receipt>(&text)
            .with_context(|| format!("{} is not a receipt", path.display()))?
    };
    let checkpoint = match open_checkpoint(&receipt.checkpoint, &verifier) {
        Ok(c) => c,
        Err(failure) => return Ok(Audit::failed(&source, None, &failure)),
    };
    let result = receipt.check(&checkpoint).map_err(|e| Failure::Receipt {
        leaf_index: e.leaf_index,
        detail: e.detail,
    });
    let (checkpoint_size, checkpoint_root) = (checkpoint.size, checkpoint.root);
    let audit = Audit::new(
        ChainVerifier::new(),
        Frontier::new(),
        Some(checkpoint),
        None,
        true,
    );
    let mut report = audit.report(&source, result.as_ref().err());
    report.tree_size = checkpoint_size;
    report.root_hash = Some(checkpoint_root.to_hex());
    report.head_hash = None;
    report.uncovered = 0;
    report.entries_checked = receipt.entries.len() as u64;
    report.receipt_for = Some(receipt.decision_id.to_string());
    report.lineage = LineageCoverage::NotChecked;
    report.lineage_decisions = None;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_keeps_the_order_of_the_batch() {
        for len in [0, 1, 2, 3, 999, 1000, 1001] {
            let items: Vec<u64> = (0..len).collect();
            let doubled = on_every_core(&items, |i| i * 2);
            assert_eq!(doubled, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_served_disclosure_with_a_duplicate_member_is_refused() {
        let line = |value: &str| {
            format!(
                r#"{{"leaf_index":0,"entry_hash":"{}","entry":{{}},"disclosures":[{{"path":"/a","salt":"00","value":{value}}}]}}"#,
                "0".repeat(64)
            )
        };
        let good = line(r#"{"x":1,"y":2}"#);
        let served: ServedEntry = serde_json::from_str(&good).expect("parses");
        assert_eq!(served.disclosures[0].value["x"], 1);
        let twice = line(r#"{"x":"forged","x":1,"y":2}"#);
        let error = serde_json::from_str::<ServedEntry>(&twice).expect_err("refused");
        assert!(error.to_string().contains("more than once"), "{error}");
    }
}
