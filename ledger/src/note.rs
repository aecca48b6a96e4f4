//! C2SP signed notes with Ed25519 keys: the envelope that carries checkpoints.
//!
//! Implements <https://c2sp.org/signed-note> for signature type `0x01` (Ed25519) only, compatible
//! with `golang.org/x/mod/sumdb/note`, so that notes written here open with Go tooling and with
//! witnesses, and the other way round.
//!
//! This module owns the key texts, the note layout and the verification rules:
//!
//! - A key name is non-empty and contains neither Unicode whitespace nor `+`. The key ID is the
//!   first four bytes of SHA-256(name ‖ `0x0A` ‖ `0x01` ‖ 32-byte public key).
//! - A verifier key is `<name>+<8 hex key ID>+<base64(0x01 ‖ public key)>`; a signer key is
//!   `PRIVATE+KEY+<name>+<8 hex key ID>+<base64(0x01 ‖ 32-byte seed)>`.
//! - A note is its text (UTF-8, ending in a newline, no control character other than the
//!   newline), a blank line, then one to [`MAX_SIGNATURES`] lines `— <name> <base64(key ID ‖
//!   signature)>`. The text MAY contain blank lines: the last blank line of the note separates
//!   text and signatures, which is unambiguous because signature lines are never blank.
//! - [`open`] ignores signatures whose (name, key ID) pair matches no known verifier, MUST verify
//!   every signature whose pair does match, rejects the whole note if any of those fails, and
//!   rejects it too when none of the known verifiers signed it.
//!
//! Base64 is standard and padded (RFC 4648 §4) and decoded strictly: non-zero trailing bits are
//! refused, so that each signature line has exactly one spelling.
//!
//! The module does no I/O and draws no randomness: Ed25519 signing is deterministic and callers
//! pass key seeds in.

use std::collections::HashSet;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// The signature type byte of Ed25519 in C2SP signed notes.
pub const ALG_ED25519: u8 = 0x01;

/// The most signature lines [`open`] reads from one note.
///
/// The spec requires accepting at least 16; Go's implementation stops at 100, and so does this
/// one, so that a note cannot make a verifier spend unbounded time.
pub const MAX_SIGNATURES: usize = 100;

/// What every signature line starts with: U+2014 EM DASH and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// The prefix that keeps a signer key from being mistaken for a verifier key.
const SIGNER_KEY_PREFIX: &str = "PRIVATE+KEY+";

/// Why a key, a text or a note was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// A key name is empty, or contains a Unicode space or `+`.
    #[error("invalid key name {name:?}: it must be non-empty, without spaces or '+'")]
    InvalidKeyName {
        /// The refused name.
        name: String,
    },
    /// A verifier key text is not `<name>+<8 hex>+<base64>`.
    #[error("malformed verifier key {vkey:?}: {reason}")]
    MalformedVerifierKey {
        /// The refused key text (public, so safe to echo).
        vkey: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A signer key text is not `PRIVATE+KEY+<name>+<8 hex>+<base64>`. The key text itself is
    /// never echoed, as it is a secret.
    #[error("malformed signer key: {reason}")]
    MalformedSignerKey {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A key names a signature type other than Ed25519.
    #[error("unsupported signature type 0x{algorithm:02x} (only Ed25519, 0x01, is supported)")]
    UnsupportedAlgorithm {
        /// The signature type byte found.
        algorithm: u8,
    },
    /// A key's 32 bytes are not a valid Ed25519 public key.
    #[error("key {name} is not a valid Ed25519 public key")]
    InvalidPublicKey {
        /// The key name.
        name: String,
    },
    /// The key ID written in a key text is not the one its name and key give.
    #[error(
        "key {name} claims key ID {} but its name and public key give {}",
        hex::encode(.claimed),
        hex::encode(.computed)
    )]
    KeyIdMismatch {
        /// The key name.
        name: String,
        /// The key ID written in the key text.
        claimed: [u8; 4],
        /// The key ID computed from the name and public key.
        computed: [u8; 4],
    },
    /// Text to be signed does not end in a newline.
    #[error("the note text must end in a newline")]
    TextWithoutFinalNewline,
    /// A note or text contains an ASCII control character other than the newline.
    #[error("control character 0x{byte:02x} at byte {offset}: notes may contain only newlines")]
    ControlCharacter {
        /// Byte offset of the character.
        offset: usize,
        /// The character.
        byte: u8,
    },
    /// [`sign`] was given no signer: a note needs at least one signature line.
    #[error("a note needs at least one signer")]
    NoSigners,
    /// The note does not end in a newline, so its last signature line is cut short: the note is
    /// most likely truncated.
    #[error("the note does not end in a newline (truncated?)")]
    MissingFinalNewline,
    /// The note has no blank line between its text and its signatures.
    #[error("the note has no blank line before its signatures")]
    MissingBlankLine,
    /// Nothing follows the blank line.
    #[error("the note has no signature lines after its blank line")]
    NoSignatureLines,
    /// A line of the signature block does not start with an em dash (U+2014) and a space.
    #[error("line {line}: a signature line must start with an em dash (U+2014) and a space")]
    MissingEmDash {
        /// 1-based line number in the note.
        line: usize,
    },
    /// A signature line starts correctly but its name or signature is malformed.
    #[error("line {line}: malformed signature line: {reason}")]
    MalformedSignatureLine {
        /// 1-based line number in the note.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The note carries more signature lines than [`MAX_SIGNATURES`].
    #[error("the note has {found} signature lines, more than the limit of {limit}")]
    TooManySignatures {
        /// Signature lines found.
        found: usize,
        /// The limit.
        limit: usize,
    },
    /// Two known verifiers share a name and key ID but hold different keys, so a signature
    /// cannot be attributed.
    #[error("two known verifiers are both {name}+{}", hex::encode(.key_id))]
    AmbiguousVerifier {
        /// The shared key name.
        name: String,
        /// The shared key ID.
        key_id: [u8; 4],
    },
    /// A signature by a known key does not verify: the text or the signature was altered.
    #[error("invalid signature by known key {name}+{}", hex::encode(.key_id))]
    InvalidSignature {
        /// The key name.
        name: String,
        /// The key ID.
        key_id: [u8; 4],
    },
    /// The note is well formed but none of the known verifiers signed it.
    #[error("the note is signed by no known key (it is signed by: {})", .signed_by.join(", "))]
    UnverifiedNote {
        /// `<name>+<key ID>` of each distinct signature found, all by unknown keys.
        signed_by: Vec<String>,
    },
}

/// The C2SP key ID of an Ed25519 key: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[..4].
pub fn key_id(name: &str, public_key: &VerifyingKey) -> [u8; 4] {
    let digest = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update([b'\n', ALG_ED25519])
        .chain_update(public_key.as_bytes())
        .finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// Whether `name` may name a key: non-empty, with no Unicode whitespace and no `+`.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

fn check_key_name(name: &str) -> Result<(), NoteError> {
    if is_valid_key_name(name) {
        Ok(())
    } else {
        Err(NoteError::InvalidKeyName {
            name: name.to_string(),
        })
    }
}

/// Parses exactly eight hexadecimal digits. Either case is accepted, as Go's parser does;
/// keys are always written in lowercase.
fn parse_key_id(text: &str) -> Option<[u8; 4]> {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 4];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

/// Decodes `base64(0x01 ‖ 32 bytes)`, the key data of both key texts.
enum KeyData {
    Ed25519([u8; 32]),
    Malformed(&'static str),
    Unsupported(u8),
}

fn parse_key_data(text: &str) -> KeyData {
    let Ok(bytes) = BASE64.decode(text) else {
        return KeyData::Malformed("key data is not standard padded base64");
    };
    match bytes.split_first() {
        None => KeyData::Malformed("key data is empty"),
        Some((&ALG_ED25519, key)) => match <[u8; 32]>::try_from(key) {
            Ok(key) => KeyData::Ed25519(key),
            Err(_) => KeyData::Malformed("an Ed25519 key is 32 bytes after the type byte"),
        },
        Some((&algorithm, _)) => KeyData::Unsupported(algorithm),
    }
}

fn encode_key_data(key: &[u8; 32]) -> String {
    let mut bytes = Vec::with_capacity(33);
    bytes.push(ALG_ED25519);
    bytes.extend_from_slice(key);
    BASE64.encode(bytes)
}

/// Refuses ASCII control characters other than the newline, as the spec requires of notes.
fn check_control_characters(text: &str) -> Result<(), NoteError> {
    match text
        .bytes()
        .enumerate()
        .find(|&(_, b)| b < 0x20 && b != b'\n')
    {
        Some((offset, byte)) => Err(NoteError::ControlCharacter { offset, byte }),
        None => Ok(()),
    }
}

/// An Ed25519 signing key with its C2SP name and key ID.
///
/// The seed is secret: [`Signer`]'s `Debug` shows only the name and key ID, and errors never
/// echo a signer key. The `ed25519-dalek` key is wiped on drop; strings returned by
/// [`Signer::to_skey`] are not, so callers MUST keep them out of logs.
#[derive(Clone)]
pub struct Signer {
    name: String,
    key_id: [u8; 4],
    key: SigningKey,
}

impl Signer {
    /// A signer for `name` from a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Signer, NoteError> {
        check_key_name(name)?;
        let key = SigningKey::from_bytes(&seed);
        Ok(Signer {
            name: name.to_string(),
            key_id: key_id(name, &key.verifying_key()),
            key,
        })
    }

    /// Parses a `PRIVATE+KEY+<name>+<key ID>+<key data>` text, ignoring surrounding whitespace
    /// (key files end in a newline). The key ID MUST match the name and the derived public key.
    pub fn from_skey(skey: &str) -> Result<Signer, NoteError> {
        let malformed = |reason| NoteError::MalformedSignerKey { reason };
        let rest = skey
            .trim()
            .strip_prefix(SIGNER_KEY_PREFIX)
            .ok_or(malformed("it does not start with PRIVATE+KEY+"))?;
        // Names never contain '+', so the first two '+' end the name and the key ID; the key
        // data is base64 and may contain '+' itself.
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(data)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("expected PRIVATE+KEY+<name>+<key ID>+<key data>"));
        };
        check_key_name(name)?;
        let claimed = parse_key_id(id_hex).ok_or(malformed("the key ID is not 8 hex digits"))?;
        let seed = match parse_key_data(data) {
            KeyData::Ed25519(seed) => seed,
            KeyData::Malformed(reason) => return Err(malformed(reason)),
            KeyData::Unsupported(algorithm) => {
                return Err(NoteError::UnsupportedAlgorithm { algorithm });
            }
        };
        let signer = Signer::from_seed(name, seed)?;
        if signer.key_id != claimed {
            return Err(NoteError::KeyIdMismatch {
                name: name.to_string(),
                claimed,
                computed: signer.key_id,
            });
        }
        Ok(signer)
    }

    /// The `PRIVATE+KEY+…` text of this key. It is a secret.
    pub fn to_skey(&self) -> String {
        format!(
            "{SIGNER_KEY_PREFIX}{}+{}+{}",
            self.name,
            hex::encode(self.key_id),
            encode_key_data(&self.key.to_bytes())
        )
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    /// The matching verifier, to hand to those who check this signer's notes.
    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// The signature line for `text`, without its newline.
    fn signature_line(&self, text: &str) -> String {
        use ed25519_dalek::Signer as _;
        let signature = self.key.sign(text.as_bytes());
        let mut bytes = Vec::with_capacity(4 + Signature::BYTE_SIZE);
        bytes.extend_from_slice(&self.key_id);
        bytes.extend_from_slice(&signature.to_bytes());
        format!("{SIGNATURE_PREFIX}{} {}", self.name, BASE64.encode(bytes))
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.name)
            .field("key_id", &hex::encode(self.key_id))
            .finish_non_exhaustive()
    }
}

/// An Ed25519 public key with its C2SP name and key ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    key_id: [u8; 4],
    key: VerifyingKey,
}

impl Verifier {
    /// A verifier for `name` from a 32-byte Ed25519 public key.
    pub fn from_public_key(name: &str, public_key: [u8; 32]) -> Result<Verifier, NoteError> {
        check_key_name(name)?;
        let key =
            VerifyingKey::from_bytes(&public_key).map_err(|_| NoteError::InvalidPublicKey {
                name: name.to_string(),
            })?;
        Ok(Verifier {
            name: name.to_string(),
            key_id: key_id(name, &key),
            key,
        })
    }

    /// Parses a `<name>+<key ID>+<key data>` text, ignoring surrounding whitespace (key files
    /// end in a newline). The key ID MUST match the name and the public key.
    pub fn from_vkey(vkey: &str) -> Result<Verifier, NoteError> {
        let trimmed = vkey.trim();
        let malformed = |reason| NoteError::MalformedVerifierKey {
            vkey: trimmed.to_string(),
            reason,
        };
        // Names never contain '+', so the first two '+' end the name and the key ID; the key
        // data is base64 and may contain '+' itself.
        let mut parts = trimmed.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(data)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("expected <name>+<key ID>+<key data>"));
        };
        check_key_name(name)?;
        let claimed = parse_key_id(id_hex).ok_or(malformed("the key ID is not 8 hex digits"))?;
        let public_key = match parse_key_data(data) {
            KeyData::Ed25519(key) => key,
            KeyData::Malformed(reason) => return Err(malformed(reason)),
            KeyData::Unsupported(algorithm) => {
                return Err(NoteError::UnsupportedAlgorithm { algorithm });
            }
        };
        let verifier = Verifier::from_public_key(name, public_key)?;
        if verifier.key_id != claimed {
            return Err(NoteError::KeyIdMismatch {
                name: name.to_string(),
                claimed,
                computed: verifier.key_id,
            });
        }
        Ok(verifier)
    }

    /// The `<name>+<key ID>+<key data>` text of this key.
    pub fn to_vkey(&self) -> String {
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(self.key_id),
            encode_key_data(self.key.as_bytes())
        )
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    /// The 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Whether `signature` is this key's signature of `text`.
    ///
    /// `verify_strict` also refuses small-order keys and `R` points, with which one signature
    /// can verify for many texts; honest Ed25519 signatures never use them.
    fn verifies(&self, text: &str, signature: &[u8]) -> bool {
        Signature::from_slice(signature)
            .and_then(|signature| self.key.verify_strict(text.as_bytes(), &signature))
            .is_ok()
    }
}

/// Signs `text` (which must end in '\n') and returns the complete note: text, blank line, one
/// signature line per signer, in the order given.
///
/// The text MUST be what [`open`] accepts (no control character but the newline), and the
/// signers at most [`MAX_SIGNATURES`], so that every note signed here also opens.
pub fn sign(text: &str, signers: &[&Signer]) -> Result<String, NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::TextWithoutFinalNewline);
    }
    check_control_characters(text)?;
    if signers.is_empty() {
        return Err(NoteError::NoSigners);
    }
    if signers.len() > MAX_SIGNATURES {
        return Err(NoteError::TooManySignatures {
            found: signers.len(),
            limit: MAX_SIGNATURES,
        });
    }
    let mut note = String::with_capacity(text.len() + 1 + signers.len() * 128);
    note.push_str(text);
    note.push('\n');
    for signer in signers {
        note.push_str(&signer.signature_line(text));
        note.push('\n');
    }
    Ok(note)
}

/// A note whose signatures were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The signed text, ending in a newline, without the separating blank line.
    pub text: String,
    /// The names of known verifiers whose signature verified, in order of first appearance, one
    /// entry per (name, key ID) pair.
    pub verified_by: Vec<String>,
    /// Distinct signature lines by unknown keys; identical repeated lines count once.
    pub unverified: usize,
}

/// One parsed signature line.
struct SignatureLine<'a> {
    name: &'a str,
    key_id: [u8; 4],
    signature: Vec<u8>,
    raw: &'a str,
}

/// Opens `note`, checking its signatures against the `known` verifiers.
///
/// The whole note is parsed before any signature is checked, so a malformed note is reported as
/// such whatever its signatures. A signature counts as a known key's only when both its name and
/// key ID match; the spec requires ignoring signatures that share just one of them. Every
/// signature by a known key is verified, repeats included, and one failure rejects the note:
/// this is stricter than Go, which skips repeats, and is what the spec's MUST asks.
pub fn open(note: &str, known: &[Verifier]) -> Result<Note, NoteError> {
    check_control_characters(note)?;
    if !note.ends_with('\n') {
        return Err(NoteError::MissingFinalNewline);
    }
    // Signature lines are never blank, so the last blank line is the separator even when the
    // text itself contains blank lines.
    let split = note.rfind("\n\n").ok_or(NoteError::MissingBlankLine)?;
    let (text, block) = (&note[..=split], &note[split + 2..]);
    if block.is_empty() {
        return Err(NoteError::NoSignatureLines);
    }
    let lines: Vec<&str> = block[..block.len() - 1].split('\n').collect();
    if lines.len() > MAX_SIGNATURES {
        return Err(NoteError::TooManySignatures {
            found: lines.len(),
            limit: MAX_SIGNATURES,
        });
    }
    // Line numbers count from the top of the note: the text's lines, then the blank line.
    let first_line = text.matches('\n').count() + 2;
    let signatures = lines
        .iter()
        .enumerate()
        .map(|(i, raw)| parse_signature_line(first_line + i, raw))
        .collect::<Result<Vec<_>, _>>()?;

    let mut verified_by = Vec::new();
    let mut verified = HashSet::new();
    let mut unknown_lines = HashSet::new();
    let mut signed_by = Vec::new();
    for signature in &signatures {
        let verifier = find_verifier(known, signature.name, signature.key_id)?;
        let Some(verifier) = verifier else {
            if unknown_lines.insert(signature.raw) {
                let who = format!("{}+{}", signature.name, hex::encode(signature.key_id));
                if !signed_by.contains(&who) {
                    signed_by.push(who);
                }
            }
            continue;
        };
        if !verifier.verifies(text, &signature.signature) {
            return Err(NoteError::InvalidSignature {
                name: signature.name.to_string(),
                key_id: signature.key_id,
            });
        }
        if verified.insert((signature.name, signature.key_id)) {
            verified_by.push(signature.name.to_string());
        }
    }
    if verified_by.is_empty() {
        return Err(NoteError::UnverifiedNote { signed_by });
    }
    Ok(Note {
        text: text.to_string(),
        verified_by,
        unverified: unknown_lines.len(),
    })
}

fn parse_signature_line(line: usize, raw: &str) -> Result<SignatureLine<'_>, NoteError> {
    let malformed = |reason| NoteError::MalformedSignatureLine { line, reason };
    let rest = raw
        .strip_prefix(SIGNATURE_PREFIX)
        .ok_or(NoteError::MissingEmDash { line })?;
    let (name, encoded) = rest
        .split_once(' ')
        .ok_or(malformed("no space between the key name and the signature"))?;
    if encoded.is_empty() {
        return Err(malformed("no signature after the key name"));
    }
    if !is_valid_key_name(name) {
        return Err(malformed("invalid key name"));
    }
    let bytes = BASE64
        .decode(encoded)
        .map_err(|_| malformed("the signature is not standard padded base64"))?;
    // At least one byte of signature after the key ID, as Go requires; other signature types
    // have other lengths, so the Ed25519 length is checked only for known keys.
    if bytes.len() < 5 {
        return Err(malformed(
            "the signature is shorter than a key ID and one byte",
        ));
    }
    let key_id = [bytes[0], bytes[1], bytes[2], bytes[3]];
    Ok(SignatureLine {
        name,
        key_id,
        signature: bytes[4..].to_vec(),
        raw,
    })
}

/// The one known verifier with this name and key ID, if any.
fn find_verifier<'a>(
    known: &'a [Verifier],
    name: &str,
    key_id: [u8; 4],
) -> Result<Option<&'a Verifier>, NoteError> {
    let mut matches = known
        .iter()
        .filter(|v| v.name == name && v.key_id == key_id);
    let Some(first) = matches.next() else {
        return Ok(None);
    };
    // The same key listed twice is harmless; two keys colliding on name and ID are a
    // misconfiguration (or an attack on it) and no signature can be attributed.
    if matches.any(|other| other.key != first.key) {
        return Err(NoteError::AmbiguousVerifier {
            name: name.to_string(),
            key_id,
        });
    }
    Ok(Some(first))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(name: &str, byte: u8) -> Signer {
        Signer::from_seed(name, [byte; 32]).expect("valid name")
    }

    #[test]
    fn a_signed_note_opens_with_its_verifier() {
        let alice = signer("example.com/alice", 1);
        let note = sign("hello\n", &[&alice]).expect("signs");
        let opened = open(&note, &[alice.verifier()]).expect("opens");
        assert_eq!(opened.text, "hello\n");
        assert_eq!(opened.verified_by, vec!["example.com/alice".to_string()]);
        assert_eq!(opened.unverified, 0);
    }

    #[test]
    fn key_names_with_spaces_plus_signs_or_nothing_are_refused() {
        for name in ["", "a b", "a+b", "a\u{2003}b", "a\nb"] {
            assert_eq!(
                Signer::from_seed(name, [0; 32]).map(|s| s.name().to_string()),
                Err(NoteError::InvalidKeyName {
                    name: name.to_string()
                })
            );
        }
    }

    #[test]
    fn skey_and_vkey_texts_round_trip() {
        let alice = signer("example.com/alice", 7);
        let again = Signer::from_skey(&alice.to_skey()).expect("parses");
        assert_eq!(again.key_id(), alice.key_id());
        assert_eq!(again.to_skey(), alice.to_skey());
        let verifier = Verifier::from_vkey(&alice.verifier().to_vkey()).expect("parses");
        assert_eq!(verifier, alice.verifier());
    }

    #[test]
    fn a_vkey_whose_key_id_does_not_match_is_refused_with_both_ids() {
        let alice = signer("example.com/alice", 7).verifier();
        let vkey = alice.to_vkey();
        let wrong = vkey.replacen(&hex::encode(alice.key_id()), "00000000", 1);
        assert_eq!(
            Verifier::from_vkey(&wrong),
            Err(NoteError::KeyIdMismatch {
                name: "example.com/alice".into(),
                claimed: [0; 4],
                computed: alice.key_id(),
            })
        );
    }

    #[test]
    fn a_vkey_of_another_algorithm_is_refused() {
        let mut data = vec![0x02];
        data.extend_from_slice(&[9; 32]);
        let vkey = format!("example.com/x+01020304+{}", BASE64.encode(data));
        assert_eq!(
            Verifier::from_vkey(&vkey),
            Err(NoteError::UnsupportedAlgorithm { algorithm: 0x02 })
        );
    }

    #[test]
    fn a_vkey_is_not_accepted_as_an_skey() {
        let vkey = signer("example.com/alice", 7).verifier().to_vkey();
        assert!(matches!(
            Signer::from_skey(&vkey),
            Err(NoteError::MalformedSignerKey { .. })
        ));
    }

    #[test]
    fn signer_debug_output_hides_the_seed() {
        let alice = signer("example.com/alice", 7);
        let debug = format!("{alice:?}");
        assert!(debug.contains("example.com/alice"));
        assert!(!debug.contains(&hex::encode([7u8; 32])));
        assert!(!debug.contains(&alice.to_skey()));
    }

    #[test]
    fn text_without_a_final_newline_is_not_signed() {
        let alice = signer("a", 1);
        assert_eq!(
            sign("hello", &[&alice]),
            Err(NoteError::TextWithoutFinalNewline)
        );
    }

    #[test]
    fn text_with_a_control_character_is_not_signed() {
        let alice = signer("a", 1);
        assert_eq!(
            sign("tab\there\n", &[&alice]),
            Err(NoteError::ControlCharacter {
                offset: 3,
                byte: b'\t'
            })
        );
    }

    #[test]
    fn a_note_needs_at_least_one_signer() {
        assert_eq!(sign("hello\n", &[]), Err(NoteError::NoSigners));
    }

    #[test]
    fn text_containing_blank_lines_is_separated_at_the_last_blank_line() {
        let alice = signer("a", 1);
        let text = "first\n\nsecond\n\n";
        let note = sign(text, &[&alice]).expect("signs");
        let opened = open(&note, &[alice.verifier()]).expect("opens");
        assert_eq!(opened.text, text);
    }

    #[test]
    fn signatures_by_unknown_keys_are_counted_but_ignored() {
        let alice = signer("a", 1);
        let bob = signer("b", 2);
        let note = sign("hello\n", &[&bob, &alice]).expect("signs");
        let opened = open(&note, &[alice.verifier()]).expect("opens");
        assert_eq!(opened.verified_by, vec!["a".to_string()]);
        assert_eq!(opened.unverified, 1);
    }

    #[test]
    fn a_known_name_with_another_key_id_is_an_unknown_key() {
        let alice = signer("a", 1);
        let impostor = signer("a", 2);
        let note = sign("hello\n", &[&impostor]).expect("signs");
        assert_eq!(
            open(&note, &[alice.verifier()]),
            Err(NoteError::UnverifiedNote {
                signed_by: vec![format!("a+{}", hex::encode(impostor.key_id()))]
            })
        );
    }

    #[test]
    fn one_bad_signature_by_a_known_key_rejects_the_note_even_beside_a_good_one() {
        let alice = signer("a", 1);
        let bob = signer("b", 2);
        let note = sign("hello\n", &[&alice, &bob]).expect("signs");
        // Bob's line now carries his valid signature of another text.
        let other = sign("bye\n", &[&bob]).expect("signs");
        let bad_line = other.lines().last().expect("signature line");
        let good_line = note.lines().last().expect("signature line");
        let tampered = note.replace(good_line, bad_line);
        assert_ne!(tampered, note);
        assert_eq!(
            open(&tampered, &[alice.verifier(), bob.verifier()]),
            Err(NoteError::InvalidSignature {
                name: "b".into(),
                key_id: bob.key_id()
            })
        );
    }

    #[test]
    fn a_repeated_bad_signature_by_a_known_key_is_still_verified() {
        let alice = signer("a", 1);
        let note = sign("hello\n", &[&alice]).expect("signs");
        let forged = sign("bye\n", &[&alice]).expect("signs");
        let tampered = format!("{note}{}\n", forged.lines().last().expect("line"));
        assert_eq!(
            open(&tampered, &[alice.verifier()]),
            Err(NoteError::InvalidSignature {
                name: "a".into(),
                key_id: alice.key_id()
            })
        );
    }

    #[test]
    fn identical_signature_lines_count_once() {
        let alice = signer("a", 1);
        let bob = signer("b", 2);
        let note = sign("hello\n", &[&alice, &alice, &bob, &bob]).expect("signs");
        let opened = open(&note, &[alice.verifier()]).expect("opens");
        assert_eq!(opened.verified_by, vec!["a".to_string()]);
        assert_eq!(opened.unverified, 1);
    }

    #[test]
    fn more_than_a_hundred_signature_lines_are_refused() {
        let alice = signer("a", 1);
        let note = sign("hello\n", &[&alice]).expect("signs");
        let line = note.lines().last().expect("line");
        let many = format!(
            "hello\n\n{}",
            format!("{line}\n").repeat(MAX_SIGNATURES + 1)
        );
        assert_eq!(
            open(&many, &[alice.verifier()]),
            Err(NoteError::TooManySignatures {
                found: MAX_SIGNATURES + 1,
                limit: MAX_SIGNATURES
            })
        );
        let enough = format!("hello\n\n{}", format!("{line}\n").repeat(MAX_SIGNATURES));
        assert!(open(&enough, &[alice.verifier()]).is_ok());
    }

    #[test]
    fn two_different_known_keys_with_one_name_and_id_are_ambiguous() {
        let alice = signer("a", 1);
        let mut twin = signer("a", 2).verifier();
        twin.key_id = alice.key_id();
        let note = sign("hello\n", &[&alice]).expect("signs");
        assert_eq!(
            open(&note, &[alice.verifier(), twin]),
            Err(NoteError::AmbiguousVerifier {
                name: "a".into(),
                key_id: alice.key_id()
            })
        );
        assert!(open(&note, &[alice.verifier(), alice.verifier()]).is_ok());
    }

    #[test]
    fn signature_lines_with_bad_base64_or_names_are_malformed_with_their_line_number() {
        let alice = signer("a", 1);
        let known = [alice.verifier()];
        for (block, reason) in [
            (
                "\u{2014} a\n",
                "no space between the key name and the signature",
            ),
            (
                "\u{2014} a not*base64\n",
                "the signature is not standard padded base64",
            ),
            ("\u{2014} a \n", "no signature after the key name"),
            ("\u{2014}  AAAAAAA=\n", "invalid key name"),
            (
                "\u{2014} a AAAA\n",
                "the signature is shorter than a key ID and one byte",
            ),
            // "AAAAAB==" has non-zero trailing bits: the same bytes as "AAAAAA==", spelled
            // differently.
            (
                "\u{2014} a AAAAAB==\n",
                "the signature is not standard padded base64",
            ),
        ] {
            assert_eq!(
                open(&format!("one\ntwo\n\n{block}"), &known),
                Err(NoteError::MalformedSignatureLine { line: 4, reason }),
                "{block:?}"
            );
        }
    }

    #[test]
    fn a_blank_line_with_nothing_after_it_has_no_signature_lines() {
        assert_eq!(open("hello\n\n", &[]), Err(NoteError::NoSignatureLines));
    }

    #[test]
    fn control_characters_in_a_note_are_refused() {
        assert_eq!(
            open("he\rllo\n\n\u{2014} a AAAAAA==\n", &[]),
            Err(NoteError::ControlCharacter {
                offset: 2,
                byte: b'\r'
            })
        );
    }
}
