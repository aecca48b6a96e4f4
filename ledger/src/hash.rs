//! SHA-256 digests as a newtype, and the RFC 6962 leaf hash.
//!
//! Hashes travel as 64 lowercase hexadecimal characters in JSON and in the database. The leaf hash
//! of RFC 6962 §2.1, SHA-256(0x00 ‖ data), is the entry hash of this log, so that the Merkle tree
//! over the entries reuses it unchanged.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; 32]);

/// The reason a string is not a hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected 64 lowercase hexadecimal characters")]
pub struct ParseHashError;

impl Hash {
    /// The all-zero hash: the `prev_hash` of the first entry of every log.
    pub const ZERO: Hash = Hash([0; 32]);

    /// SHA-256 of `data`.
    pub fn digest(data: &[u8]) -> Hash {
        Hash(Sha256::digest(data).into())
    }

    /// The RFC 6962 leaf hash: SHA-256(0x00 ‖ `data`).
    pub fn leaf(data: &[u8]) -> Hash {
        let mut hasher = Sha256::new();
        hasher.update([0x00]);
        hasher.update(data);
        Hash(hasher.finalize().into())
    }

    /// Parses 64 lowercase hexadecimal characters. Uppercase is refused so that every hash has
    /// exactly one spelling.
    pub fn parse(text: &str) -> Result<Hash, ParseHashError> {
        // A verifier parses several hashes per entry (links, commitments): one pass, no table.
        fn nibble(b: u8) -> Option<u8> {
            match b {
                b'0'..=b'9' => Some(b - b'0'),
                b'a'..=b'f' => Some(b - b'a' + 10),
                _ => None,
            }
        }
        let bytes: &[u8; 64] = text.as_bytes().try_into().map_err(|_| ParseHashError)?;
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            *byte = (nibble(pair[0]).ok_or(ParseHashError)? << 4)
                | nibble(pair[1]).ok_or(ParseHashError)?;
        }
        Ok(Hash(out))
    }

    /// Builds a hash from a 32-byte slice, as stored in a database column.
    pub fn from_slice(bytes: &[u8]) -> Result<Hash, ParseHashError> {
        <[u8; 32]>::try_from(bytes)
            .map(Hash)
            .map_err(|_| ParseHashError)
    }

    /// The 32 raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hexadecimal.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Hash, D::Error> {
        let text = String::deserialize(deserializer)?;
        Hash::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input_hashes_to_the_sha256_of_nothing() {
        assert_eq!(
            Hash::digest(b"").to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn leaf_hash_prefixes_a_zero_byte() {
        // RFC 6962 reference leaf 0 is the empty string; its leaf hash is SHA-256(0x00).
        assert_eq!(
            Hash::leaf(b"").to_hex(),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn parse_accepts_only_lowercase_hex_of_the_right_length() {
        let hex = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d";
        assert_eq!(Hash::parse(hex).map(|h| h.to_hex()), Ok(hex.to_string()));
        assert!(Hash::parse(&hex.to_uppercase()).is_err());
        assert!(Hash::parse(&hex[1..]).is_err());
        assert!(Hash::parse(&format!("{hex}0")).is_err());
        assert!(Hash::parse(&hex.replace('6', "g")).is_err());
    }
}
