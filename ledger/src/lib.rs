//! The I/O-free core of decision-log, shared by the server and the auditor's verifier.
//!
//! Everything that is hashed lives here, so that the service that writes the log and the tool that
//! checks it run the exact same code. Nothing in this crate touches a database, a socket, a file or
//! a clock: callers pass bytes, times and random salts in.
//!
//! # Layout
//! - [`hash`]: the [`Hash`](struct@Hash) newtype and RFC 6962 leaf hashing.
//! - [`canonical`]: RFC 8785 (JCS) canonical JSON, the only byte form that is ever hashed: the
//!   writer, a one-pass check of stored bytes, and a reader that refuses duplicate members.
//! - [`disclosure`]: salted commitments that keep personal and withheld values out of the hashed
//!   entry while letting anyone who is shown a value check it against the log.
//! - [`access`]: who is served which disclosure: visibility labels and reader classes.
//! - [`entry`]: the versioned log entry, its canonical bytes and its leaf hash.
//! - [`merkle`]: the RFC 6962 Merkle tree: planning, proofs, verification, the compact range.
//! - [`chain`]: a streaming verifier for the hash chain, with evidence on every failure; the
//!   per-entry checks run apart from the links so that they can run on several threads.
//! - [`lifecycle`]: the decision lifecycle state machine: which lineage entries a decision's
//!   status admits, checked by the writer before it appends and replayed by the verifier.
//! - [`lineage`]: the verifier's checks of references between entries, erasures, publications,
//!   who is served what and the lifecycle, which need each decision's history.
//! - [`note`]: C2SP signed notes with Ed25519 keys: key texts, signing and verification.
//! - [`checkpoint`]: C2SP tlog-checkpoints (origin, tree size, root hash) in signed notes.
//! - [`tile`]: C2SP tlog-tiles paths and entry bundles.
//!
//! The format is specified for auditors in `docs/log-format.md`; a change to anything here that
//! alters canonical bytes or hashes MUST bump [`entry::FORMAT_VERSION`] and be documented there.

pub mod access;
pub mod canonical;
pub mod chain;
pub mod checkpoint;
pub mod disclosure;
pub mod entry;
pub mod hash;
pub mod lifecycle;
pub mod lineage;
pub mod merkle;
pub mod note;
pub mod tile;

pub use access::{Reader, Visibility};
pub use chain::{ChainError, ChainVerifier, CheckedEntry};
pub use checkpoint::{Checkpoint, CheckpointError};
pub use disclosure::{Disclosure, DisclosureError};
pub use entry::{Entry, EntryError, EntryKind};
pub use hash::Hash;
pub use lifecycle::Lifecycle;
pub use lineage::{LineageChecker, LineageError};
pub use merkle::{Frontier, NodeId, ProofError};
pub use note::{Note, NoteError, Signer, Verifier};
