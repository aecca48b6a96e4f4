//! `decision-log verify`: the auditor's tool. It trusts nothing the server says without checking
//! it, and runs the same `ledger` code as the server.
//!
//! Four sources, one engine ([`Audit`]): the database (`--database-url`), a live log over HTTP
//! (`--url`), an export file (`--file`), and a receipt (`--receipt`). For a log, every entry is
//! streamed in order and checked — entry hash, chain link, disclosures — while a Merkle frontier
//! (at most 64 hashes) recomputes the root, which must equal the root of a checkpoint signed by
//! the log's key. The chain and the root take constant memory.
//!
//! A run that reads a log from entry 0 also checks its lineage (`docs/log-format.md` §11) with
//! [`LineageChecker`]: every lineage entry refers to a decision recorded earlier, supersessions
//! name an earlier decision, redactions name an earlier entry and placeholder of their decision
//! and no erased value is still served, and — once the whole log is read — every published value
//! is served unless erased. That memory grows with the number of decisions and their
//! placeholders. Receipts are checked entry by entry, without lineage.
//!
//! With `--state FILE`, `--url` remembers the last checkpoint it verified (size, root, chain head
//! and frontier). The next run checks a consistency proof from that checkpoint to the new one —
//! so a history rewritten or forked since, even under the same key and origin, is caught — and
//! then only has to read the entries appended since. Such a resumed run does not check lineage:
//! the rules need every earlier entry of a decision and the disclosures served with it now (a
//! publication or an erasure changes what is served for entries read in an earlier run), which
//! the state file does not hold. Its report says so (`"lineage": "not_checked"`); `--full`
//! re-reads the log and checks lineage too.
//!
//! Exit codes: 0 verified; 1 the log, file or receipt does not verify (the message names the leaf
//! and the expected and computed values); 2 it could not be read (network, file, database, usage).

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use ledger::checkpoint::Checkpoint;
use ledger::merkle::{self, Frontier};
use ledger::note::Verifier;
use ledger::{ChainError, ChainVerifier, Disclosure, Hash, LineageChecker, LineageError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::client::LogClient;
use crate::config::VerifyConfig;
use crate::receipt::{Receipt, TLOG_PROOF_HEADER};
use crate::store::Store;

/// Entries read per request or query.
const BATCH: u64 = 1000;

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
    /// The server serves another verifier key than the one the auditor pinned.
    #[error("the server's verifier key is {served:?}, not the pinned {pinned:?}")]
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
}

/// What a successful verification covered.
#[derive(Debug, Serialize)]
struct Report {
    ok: bool,
    source: String,
    origin: Option<String>,
    tree_size: u64,
    root_hash: Option<String>,
    head_hash: Option<String>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<String>,
    /// For a receipt: the decision it proves.
    #[serde(skip_serializing_if = "Option::is_none")]
    receipt_for: Option<String>,
}

/// Which lineage rules (`docs/log-format.md` §11) a run checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum LineageCoverage {
    /// Every rule, over the whole log read from entry 0.
    Checked,
    /// None: the run resumed from a state file, or checked a receipt.
    NotChecked,
}

/// The streaming checker shared by every log source.
struct Audit {
    chain: ChainVerifier,
    frontier: Frontier,
    /// Present when the run starts at entry 0: the lineage rules need every earlier entry.
    lineage: Option<LineageChecker>,
    resumed_from: u64,
    bytes: u64,
    started: Instant,
    progress: ProgressBar,
}

impl Audit {
    fn new(chain: ChainVerifier, frontier: Frontier, total: u64, quiet: bool) -> Audit {
        let progress = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} entries  {per_sec}  {binary_bytes_per_sec}  eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_position(frontier.size());
            bar
        };
        Audit {
            resumed_from: frontier.size(),
            lineage: (frontier.size() == 0).then(LineageChecker::new),
            chain,
            frontier,
            bytes: 0,
            started: Instant::now(),
            progress,
        }
    }

    fn check(
        &mut self,
        leaf_index: u64,
        canonical: &[u8],
        claimed: Option<Hash>,
        disclosures: &[Disclosure],
    ) -> Result<(), Failure> {
        let (entry, hash) = self
            .chain
            .check(leaf_index, canonical, claimed, disclosures)?;
        if let Some(lineage) = &mut self.lineage {
            lineage.check(&entry, disclosures)?;
        }
        self.frontier.push(hash);
        self.bytes += canonical.len() as u64;
        self.progress.inc(1);
        Ok(())
    }

    /// Checks that the entries so far hash to the checkpoint's root.
    fn check_root(&self, checkpoint: &Checkpoint) -> Result<(), Failure> {
        if self.frontier.size() != checkpoint.size {
            return Err(Failure::Truncated {
                expected: checkpoint.size,
                got: self.frontier.size(),
            });
        }
        let computed = self.frontier.root();
        if computed != checkpoint.root {
            return Err(Failure::RootMismatch {
                tree_size: checkpoint.size,
                expected: checkpoint.root,
                computed,
            });
        }
        Ok(())
    }

    /// The lineage rules settled only once the whole log is read (publications honoured).
    fn finish_lineage(&self) -> Result<(), Failure> {
        match &self.lineage {
            Some(lineage) => Ok(lineage.finish()?),
            None => Ok(()),
        }
    }

    fn report(&self, source: &str, origin: Option<&str>, failure: Option<&Failure>) -> Report {
        self.progress.finish_and_clear();
        let seconds = self.started.elapsed().as_secs_f64().max(1e-9);
        let checked = self.frontier.size() - self.resumed_from;
        Report {
            ok: failure.is_none(),
            source: source.to_owned(),
            origin: origin.map(str::to_owned),
            tree_size: self.frontier.size(),
            root_hash: Some(self.frontier.root().to_hex()),
            head_hash: Some(self.chain.head().to_hex()),
            entries_checked: checked,
            resumed_from: self.resumed_from,
            bytes: self.bytes,
            seconds,
            entries_per_second: checked as f64 / seconds,
            megabytes_per_second: self.bytes as f64 / seconds / 1e6,
            lineage: match self.lineage {
                Some(_) => LineageCoverage::Checked,
                None => LineageCoverage::NotChecked,
            },
            lineage_decisions: self.lineage.as_ref().map(LineageChecker::decisions),
            failure: failure.map(ToString::to_string),
            receipt_for: None,
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

/// A served or exported entry.
#[derive(Debug, Deserialize)]
struct ServedEntry {
    leaf_index: u64,
    entry_hash: Hash,
    entry: Value,
    #[serde(default)]
    disclosures: Vec<Disclosure>,
}

impl ServedEntry {
    fn check(&self, audit: &mut Audit) -> Result<(), Failure> {
        let canonical = ledger::canonical::to_canonical_bytes(&self.entry).map_err(|e| {
            Failure::Chain(ChainError::BadEntry {
                leaf_index: self.leaf_index,
                source: e.into(),
            })
        })?;
        audit.check(
            self.leaf_index,
            &canonical,
            Some(self.entry_hash),
            &self.disclosures,
        )
    }
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
                    serde_json::json!({"ok": false, "error": format!("{error:#}")})
                );
            }
            eprintln!("error: {error:#}");
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
    if let Some(decision) = &report.receipt_for {
        let origin = report.origin.as_deref().unwrap_or("-");
        let root = report.root_hash.as_deref().unwrap_or("-");
        let noun = if report.entries_checked == 1 {
            "entry"
        } else {
            "entries"
        };
        println!(
            "OK: {origin}: receipt for decision {decision}: {} {noun} included in tree size {}; root {root}",
            report.entries_checked, report.tree_size
        );
        return;
    }
    let noun = if report.tree_size == 1 {
        "entry"
    } else {
        "entries"
    };
    let root = report.root_hash.as_deref().unwrap_or("-");
    let head = report.head_hash.as_deref().unwrap_or("-");
    match &report.origin {
        Some(origin) => println!(
            "OK: {origin}: {} {noun} verified; root {root}; head {head}",
            report.tree_size
        ),
        None => println!(
            "OK: {} {noun} verified; root {root}; head {head}",
            report.tree_size
        ),
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
    match (report.lineage, report.lineage_decisions) {
        (LineageCoverage::Checked, Some(decisions)) => eprintln!(
            "lineage checked: references, supersessions, redactions, erasures and publications of {decisions} decisions"
        ),
        _ => eprintln!(
            "lineage not checked: this run resumed from the state file at {} entries, and the lineage rules need every earlier entry (use --full to check them)",
            report.resumed_from
        ),
    }
}

fn finish(
    audit: &Audit,
    source: &str,
    origin: Option<&str>,
    result: Result<(), Failure>,
) -> Report {
    audit.report(source, origin, result.err().as_ref())
}

async fn verify_url(url: &str, config: &VerifyConfig) -> Outcome {
    let vkey = config.vkey.as_deref().context("--url needs --vkey")?;
    let verifier = read_vkey(vkey)?;
    let client = LogClient::new(url, config.token.as_deref())?;

    let note = client.checkpoint().await?;
    let state = match &config.state {
        Some(path) => State::load(path)?,
        None => None,
    };
    let empty = Audit::new(ChainVerifier::new(), Frontier::new(), 0, true);
    let checkpoint = match open_checkpoint(&note, &verifier) {
        Ok(c) => c,
        Err(failure) => return Ok(empty.report(url, None, Some(&failure))),
    };
    let origin = Some(checkpoint.origin.as_str());
    let served_key = client.key().await?;
    if served_key.trim() != verifier.to_vkey() {
        let failure = Failure::KeyMismatch {
            pinned: verifier.to_vkey(),
            served: served_key.trim().to_owned(),
        };
        return Ok(empty.report(url, origin, Some(&failure)));
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
            return Ok(empty.report(url, origin, Some(&failure)));
        }
        // Every tree extends the empty one; RFC 9162 defines no proof for it.
        if state.tree_size == 0 {
            if state.root_hash != merkle::empty_root() {
                bail!("the state file is damaged: size 0 with a non-empty root");
            }
        } else {
            let proof = client
                .consistency_proof(state.tree_size, checkpoint.size)
                .await?;
            let hashes: Vec<Hash> = serde_json::from_value(proof["hashes"].clone())
                .context("the consistency proof is malformed")?;
            if let Err(e) = merkle::verify_consistency(
                state.tree_size,
                checkpoint.size,
                &state.root_hash,
                &checkpoint.root,
                &hashes,
            ) {
                return Ok(empty.report(
                    url,
                    origin,
                    Some(&rewritten(format!("the consistency proof fails: {e}"))),
                ));
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
    let mut audit = Audit::new(chain, frontier, checkpoint.size, config.json);
    // A page that cannot be fetched ends the run with exit 2 (`?`); one that does not verify
    // ends it with the failure (exit 1).
    let mut result = Ok(());
    'pages: while audit.frontier.size() < checkpoint.size {
        let from = audit.frontier.size();
        let limit = BATCH.min(checkpoint.size - from);
        let page = client.entries_page(from, limit).await?;
        let entries: Vec<ServedEntry> = match serde_json::from_slice::<Value>(&page)
            .and_then(|mut page| serde_json::from_value(page["entries"].take()))
        {
            Ok(entries) => entries,
            Err(e) => {
                result = Err(Failure::Checkpoint(format!(
                    "entries from {from} are malformed: {e}"
                )));
                break;
            }
        };
        if entries.is_empty() {
            result = Err(Failure::Truncated {
                expected: checkpoint.size,
                got: from,
            });
            break;
        }
        for entry in entries.iter().take(limit as usize) {
            if let Err(failure) = entry.check(&mut audit) {
                result = Err(failure);
                break 'pages;
            }
            if let Some(state) = &state
                && config.full
                && audit.frontier.size() == state.tree_size
                && audit.frontier.root() != state.root_hash
            {
                result = Err(Failure::Rewritten {
                    old_size: state.tree_size,
                    old_root: state.root_hash,
                    new_size: checkpoint.size,
                    detail: format!("the entries now hash to {}", audit.frontier.root()),
                });
                break 'pages;
            }
        }
    }
    let result = result
        .and_then(|()| audit.check_root(&checkpoint))
        .and_then(|()| audit.finish_lineage());
    if result.is_ok()
        && let Some(path) = &config.state
    {
        State {
            format: STATE_FORMAT.to_owned(),
            vkey: verifier.to_vkey(),
            tree_size: checkpoint.size,
            root_hash: checkpoint.root,
            head_hash: audit.chain.head(),
            frontier: audit.frontier.hashes().to_vec(),
        }
        .save(path)?;
    }
    Ok(finish(&audit, url, origin, result))
}

/// The first line of an export file.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ExportHeader {
    pub format: String,
    pub origin: String,
    pub checkpoint: String,
}

/// The `format` of export files.
pub(super) const EXPORT_FORMAT: &str = "decision-log-export/v1";

fn verify_file(path: &PathBuf, config: &VerifyConfig) -> Outcome {
    let verifier = read_vkey(config.vkey.as_deref().context("--file needs --vkey")?)?;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut lines = std::io::BufReader::new(file).lines();
    let header: ExportHeader =
        serde_json::from_str(&lines.next().context("the export file is empty")??)
            .context("the first line is not an export header")?;
    if header.format != EXPORT_FORMAT {
        bail!(
            "{} has format {:?}, not {EXPORT_FORMAT}",
            path.display(),
            header.format
        );
    }
    let source = path.display().to_string();
    let empty = Audit::new(ChainVerifier::new(), Frontier::new(), 0, true);
    let checkpoint = match open_checkpoint(&header.checkpoint, &verifier) {
        Ok(c) => c,
        Err(failure) => return Ok(empty.report(&source, None, Some(&failure))),
    };
    let mut audit = Audit::new(
        ChainVerifier::new(),
        Frontier::new(),
        checkpoint.size,
        config.json,
    );
    let mut result = Ok(());
    for (n, line) in lines.enumerate() {
        let line = line?;
        let entry: ServedEntry = serde_json::from_str(&line)
            .with_context(|| format!("line {} is not an exported entry", n + 2))?;
        if let Err(failure) = entry.check(&mut audit) {
            result = Err(failure);
            break;
        }
    }
    let result = result
        .and_then(|()| audit.check_root(&checkpoint))
        .and_then(|()| audit.finish_lineage());
    Ok(finish(&audit, &source, Some(&checkpoint.origin), result))
}

async fn verify_database(config: &VerifyConfig) -> Outcome {
    let store = Store::connect(&config.database.database_url, 1).await?;
    let head = store.head().await?;
    let checkpoint = match store.identity().await? {
        Some((_, vkey)) => match store.latest_checkpoint().await? {
            Some(stored) => Some((vkey, stored.note)),
            None => None,
        },
        None => None,
    };
    let source = "database".to_owned();
    let mut audit = Audit::new(
        ChainVerifier::new(),
        Frontier::new(),
        head.tree_size,
        config.json,
    );
    let checkpoint = match checkpoint {
        Some((vkey, note)) => {
            let verifier = read_vkey(&vkey)?;
            match open_checkpoint(&note, &verifier) {
                Ok(c) => Some(c),
                Err(failure) => return Ok(audit.report(&source, None, Some(&failure))),
            }
        }
        None => None,
    };
    let result: Result<(), Failure> = async {
        if let Some(c) = &checkpoint
            && c.size == 0
        {
            audit.check_root(c)?;
        }
        let mut from = 0;
        while from < head.tree_size {
            let batch = store
                .entries(from, BATCH.min(head.tree_size - from))
                .await
                .map_err(|e| {
                    Failure::Checkpoint(format!("cannot read entries from {from}: {e}"))
                })?;
            if batch.is_empty() {
                return Err(Failure::Truncated {
                    expected: head.tree_size,
                    got: from,
                });
            }
            for stored in &batch {
                let disclosures: Vec<Disclosure> =
                    stored.disclosures.iter().map(|(d, _)| d.clone()).collect();
                audit.check(
                    stored.leaf_index,
                    &stored.canonical,
                    Some(stored.entry_hash),
                    &disclosures,
                )?;
                if let Some(c) = &checkpoint
                    && audit.frontier.size() == c.size
                {
                    audit.check_root(c)?;
                }
            }
            from += batch.len() as u64;
        }
        if let Some(c) = &checkpoint
            && c.size > head.tree_size
        {
            return Err(Failure::Truncated {
                expected: c.size,
                got: head.tree_size,
            });
        }
        audit.chain.check_head(head.tree_size, head.head_hash)?;
        audit.finish_lineage()
    }
    .await;
    let origin = checkpoint.as_ref().map(|c| c.origin.clone());
    Ok(finish(&audit, &source, origin.as_deref(), result))
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
    let empty = Audit::new(ChainVerifier::new(), Frontier::new(), 0, true);
    let checkpoint = match open_checkpoint(&receipt.checkpoint, &verifier) {
        Ok(c) => c,
        Err(failure) => return Ok(empty.report(&source, None, Some(&failure))),
    };
    let result = receipt.check(&checkpoint).map_err(|e| Failure::Receipt {
        leaf_index: e.leaf_index,
        detail: e.detail,
    });
    let mut report = empty.report(&source, Some(&checkpoint.origin), result.as_ref().err());
    report.tree_size = checkpoint.size;
    report.root_hash = Some(checkpoint.root.to_hex());
    report.head_hash = None;
    report.entries_checked = receipt.entries.len() as u64;
    report.receipt_for = Some(receipt.decision_id.to_string());
    report.lineage = LineageCoverage::NotChecked;
    report.lineage_decisions = None;
    Ok(report)
}
