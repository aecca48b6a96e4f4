//! C2SP tlog-checkpoint: the signed statement of the log's size and Merkle root.
//!
//! Implements <https://c2sp.org/tlog-checkpoint>, carried in a signed note
//! ([`crate::note`], <https://c2sp.org/signed-note>). The note text is:
//!
//! ```text
//! <origin>
//! <tree size, decimal, no leading zeros>
//! <root hash, standard base64 of 32 bytes>
//! [extension lines, each non-empty]
//! ```
//!
//! Invariants this module owns:
//!
//! - Parsing is strict, so each checkpoint has exactly one text: [`Checkpoint::parse`] of
//!   [`Checkpoint::to_text`] gives back the same checkpoint, and a text that parses is the
//!   `to_text` of what it parses to.
//! - The key name of a checkpoint's signer equals its origin. The spec only RECOMMENDS this;
//!   this log makes it a rule, so that a verifier configured for one log cannot be led to accept
//!   another log's checkpoint signed with the same key.
//! - A checkpoint is parsed only after its note has verified, as the spec requires of note
//!   text.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::hash::Hash;
use crate::note::{self, NoteError, Signer, Verifier};

/// A log's signed tree head: its origin, size and RFC 6962 root hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, also the name of the key that signs its checkpoints.
    pub origin: String,
    /// The number of leaves in the tree (`tree_size`).
    pub size: u64,
    /// The RFC 6962 Merkle tree root hash at `size` (`root_hash`).
    pub root: Hash,
    /// Opaque extension lines, without their newlines. The spec advises against them, as
    /// monitors cannot audit them.
    pub extensions: Vec<String>,
}

/// Why a checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The signed note around the checkpoint did not open, or could not be signed.
    #[error("checkpoint note: {0}")]
    Note(#[from] NoteError),
    /// The text does not end in a newline.
    #[error("the checkpoint text must end in a newline")]
    MissingFinalNewline,
    /// Fewer than the three mandatory lines.
    #[error("a checkpoint has at least 3 lines (origin, size, root hash), found {found}")]
    TooFewLines {
        /// Lines found.
        found: usize,
    },
    /// The origin line is empty.
    #[error("the origin line is empty")]
    EmptyOrigin,
    /// The origin contains a newline, so it would not survive as one line.
    #[error("the origin {origin:?} contains a newline")]
    MultilineOrigin {
        /// The refused origin.
        origin: String,
    },
    /// The size line is not a decimal number without leading zeros that fits in 64 bits.
    #[error("invalid tree size {line:?}: expected decimal digits without leading zeros")]
    InvalidSize {
        /// The size line.
        line: String,
    },
    /// The root hash line is not standard padded base64 of exactly 32 bytes.
    #[error("invalid root hash {line:?}: expected standard base64 of 32 bytes")]
    InvalidRootHash {
        /// The root hash line.
        line: String,
    },
    /// An extension line is empty or contains a newline.
    #[error("extension line {index} ({line:?}) must be one non-empty line")]
    InvalidExtension {
        /// 0-based index among the extension lines.
        index: usize,
        /// The extension line.
        line: String,
    },
    /// The signing or verifying key's name is not the checkpoint's origin.
    #[error("the checkpoint's origin is {origin:?} but the key is named {key_name:?}")]
    OriginMismatch {
        /// The checkpoint's origin.
        origin: String,
        /// The key's name.
        key_name: String,
    },
}

impl Checkpoint {
    /// The note body: `"<origin>\n<size>\n<base64 root>\n"`, then each extension line and `"\n"`.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root.as_bytes())
        );
        for extension in &self.extensions {
            text.push_str(extension);
            text.push('\n');
        }
        text
    }

    /// Parses a checkpoint body strictly: a non-empty origin, a decimal size without leading
    /// zeros (except `0`), standard padded base64 of exactly 32 bytes, and non-empty extension
    /// lines, each ending in a newline.
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::MissingFinalNewline)?;
        let lines: Vec<&str> = body.split('\n').collect();
        let [origin, size, root, extensions @ ..] = lines.as_slice() else {
            return Err(CheckpointError::TooFewLines { found: lines.len() });
        };
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        let checkpoint = Checkpoint {
            origin: origin.to_string(),
            size: parse_size(size).ok_or_else(|| CheckpointError::InvalidSize {
                line: size.to_string(),
            })?,
            root: parse_root(root).ok_or_else(|| CheckpointError::InvalidRootHash {
                line: root.to_string(),
            })?,
            extensions: extensions.iter().map(|line| line.to_string()).collect(),
        };
        checkpoint.check_lines()?;
        Ok(checkpoint)
    }

    /// Signs the checkpoint and returns the signed note. The signer's name MUST equal the
    /// origin (C2SP: the key name is the log's origin).
    pub fn sign(&self, signer: &Signer) -> Result<String, CheckpointError> {
        if signer.name() != self.origin {
            return Err(CheckpointError::OriginMismatch {
                origin: self.origin.clone(),
                key_name: signer.name().to_string(),
            });
        }
        // A valid key name is non-empty and has no newline, so the origin is one line; the
        // extensions are checked so that the signed text parses back to this very checkpoint.
        self.check_lines()?;
        Ok(note::sign(&self.to_text(), &[signer])?)
    }

    /// Opens a signed checkpoint note with `verifier`, whose name MUST equal the origin, and
    /// parses it. Signatures by other keys (witnesses, rotated keys) are ignored.
    pub fn open(note: &str, verifier: &Verifier) -> Result<Checkpoint, CheckpointError> {
        let opened = note::open(note, std::slice::from_ref(verifier))?;
        let checkpoint = Checkpoint::parse(&opened.text)?;
        if checkpoint.origin != verifier.name() {
            return Err(CheckpointError::OriginMismatch {
                origin: checkpoint.origin,
                key_name: verifier.name().to_string(),
            });
        }
        Ok(checkpoint)
    }

    fn check_lines(&self) -> Result<(), CheckpointError> {
        if self.origin.contains('\n') {
            return Err(CheckpointError::MultilineOrigin {
                origin: self.origin.clone(),
            });
        }
        match self
            .extensions
            .iter()
            .enumerate()
            .find(|(_, line)| line.is_empty() || line.contains('\n'))
        {
            Some((index, line)) => Err(CheckpointError::InvalidExtension {
                index,
                line: line.clone(),
            }),
            None => Ok(()),
        }
    }
}

/// Decimal digits without leading zeros (except "0" itself), within `u64`.
fn parse_size(line: &str) -> Option<u64> {
    let canonical = !line.is_empty()
        && line.bytes().all(|b| b.is_ascii_digit())
        && (line == "0" || !line.starts_with('0'));
    // `u64::from_str` alone would also accept a leading '+'.
    if canonical { line.parse().ok() } else { None }
}

/// Standard padded base64 of exactly 32 bytes, with zero trailing bits.
fn parse_root(line: &str) -> Option<Hash> {
    let bytes = BASE64.decode(line).ok()?;
    Hash::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "example.com/decisions";

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            origin: ORIGIN.into(),
            size: 42,
            root: Hash::digest(b"root"),
            extensions: vec![],
        }
    }

    fn log_signer() -> Signer {
        Signer::from_seed(ORIGIN, [3; 32]).expect("valid name")
    }

    #[test]
    fn a_signed_checkpoint_opens_to_the_same_checkpoint() {
        let signer = log_signer();
        let mut original = checkpoint();
        original.extensions = vec!["ext one".into(), "ext two".into()];
        let note = original.sign(&signer).expect("signs");
        assert_eq!(
            Checkpoint::open(&note, &signer.verifier()),
            Ok(original.clone())
        );
        assert!(note.starts_with(&original.to_text()));
    }

    #[test]
    fn the_text_has_origin_size_and_base64_root_on_three_lines() {
        assert_eq!(
            checkpoint().to_text(),
            format!("{ORIGIN}\n42\n{}\n", BASE64.encode(Hash::digest(b"root").0))
        );
    }

    #[test]
    fn a_signer_named_otherwise_than_the_origin_is_refused() {
        let other = Signer::from_seed("example.com/other", [3; 32]).expect("valid name");
        assert_eq!(
            checkpoint().sign(&other),
            Err(CheckpointError::OriginMismatch {
                origin: ORIGIN.into(),
                key_name: "example.com/other".into()
            })
        );
    }

    #[test]
    fn a_checkpoint_whose_origin_differs_from_the_key_name_does_not_open() {
        // The same key under another name signs a checkpoint for another origin.
        let other = Signer::from_seed("example.com/other", [3; 32]).expect("valid name");
        let mut foreign = checkpoint();
        foreign.origin = "example.com/other".into();
        let body = foreign
            .to_text()
            .replace("example.com/other", "example.com/elsewhere");
        let note = note::sign(&body, &[&other]).expect("signs");
        assert_eq!(
            Checkpoint::open(&note, &other.verifier()),
            Err(CheckpointError::OriginMismatch {
                origin: "example.com/elsewhere".into(),
                key_name: "example.com/other".into()
            })
        );
    }

    #[test]
    fn a_checkpoint_signed_by_another_key_is_an_unverified_note() {
        let impostor = Signer::from_seed(ORIGIN, [4; 32]).expect("valid name");
        let note = checkpoint().sign(&impostor).expect("signs");
        assert!(matches!(
            Checkpoint::open(&note, &log_signer().verifier()),
            Err(CheckpointError::Note(NoteError::UnverifiedNote { .. }))
        ));
    }

    #[test]
    fn sizes_with_leading_zeros_signs_or_overflow_are_refused() {
        let root = BASE64.encode([0u8; 32]);
        for size in [
            "",
            "01",
            "00",
            "+1",
            "-1",
            " 1",
            "1 ",
            "18446744073709551616",
            "1e3",
        ] {
            assert_eq!(
                Checkpoint::parse(&format!("o\n{size}\n{root}\n")),
                Err(CheckpointError::InvalidSize {
                    line: size.to_string()
                }),
                "{size:?}"
            );
        }
        for (size, value) in [("0", 0), ("10", 10), ("18446744073709551615", u64::MAX)] {
            assert_eq!(
                Checkpoint::parse(&format!("o\n{size}\n{root}\n")).map(|c| c.size),
                Ok(value)
            );
        }
    }

    #[test]
    fn root_hashes_that_are_not_32_bytes_of_standard_base64_are_refused() {
        let good = BASE64.encode([0xabu8; 32]);
        let unpadded = good.trim_end_matches('=').to_string();
        let url_safe = base64::engine::general_purpose::URL_SAFE.encode([0xfbu8; 32]);
        let short = BASE64.encode([0u8; 31]);
        let long = BASE64.encode([0u8; 33]);
        // Same bytes, non-zero trailing bits: a second spelling of one root.
        let mut trailing = good.clone();
        trailing.replace_range(42..43, "t");
        assert_ne!(trailing, good);
        for root in [unpadded, url_safe, short, long, trailing, String::new()] {
            assert_eq!(
                Checkpoint::parse(&format!("o\n1\n{root}\n")),
                Err(CheckpointError::InvalidRootHash { line: root.clone() }),
                "{root:?}"
            );
        }
    }

    #[test]
    fn structurally_incomplete_texts_are_refused() {
        let root = BASE64.encode([0u8; 32]);
        assert_eq!(
            Checkpoint::parse(&format!("o\n1\n{root}")),
            Err(CheckpointError::MissingFinalNewline)
        );
        assert_eq!(
            Checkpoint::parse("o\n1\n"),
            Err(CheckpointError::TooFewLines { found: 2 })
        );
        assert_eq!(
            Checkpoint::parse(&format!("\n1\n{root}\n")),
            Err(CheckpointError::EmptyOrigin)
        );
        assert_eq!(
            Checkpoint::parse(&format!("o\n1\n{root}\next\n\n")),
            Err(CheckpointError::InvalidExtension {
                index: 1,
                line: String::new()
            })
        );
    }

    #[test]
    fn a_checkpoint_with_a_multiline_extension_is_not_signed() {
        let mut bad = checkpoint();
        bad.extensions = vec!["one\ntwo".into()];
        assert_eq!(
            bad.sign(&log_signer()),
            Err(CheckpointError::InvalidExtension {
                index: 0,
                line: "one\ntwo".into()
            })
        );
    }

    #[test]
    fn parse_inverts_to_text() {
        let mut original = checkpoint();
        original.size = 0;
        original.extensions = vec!["x".into()];
        assert_eq!(Checkpoint::parse(&original.to_text()), Ok(original));
    }
}
