//! Salted commitments: personal and withheld values stay beside the log, not in it.
//!
//! A value that identifies a private person, or that a non-public record withholds, never enters
//! the hashed entry. In its place the entry holds a placeholder object
//! `{"commitment": "<hex>"}` whose digest is
//!
//! ```text
//! SHA-256( JCS( [salt, path, value] ) )
//! ```
//!
//! where `salt` is 128 random bits as 32 lowercase hex characters, `path` is the RFC 6901 JSON
//! Pointer of the value inside the entry's `record`, and `value` is the JSON value itself. The
//! triple is a [`Disclosure`]; it is stored beside the entry. Showing a reader the disclosure lets
//! them check the value against the log; deleting the disclosure (erasure) leaves the entry, its
//! hash and every proof intact while the value becomes unrecoverable, because the salt is gone too.
//! This is the pattern of SD-JWT selective disclosure (RFC 9901), in JSON-native form.
//!
//! Commitments nest: a withheld field may itself contain personal-data placeholders, each with its
//! own disclosure. Disclosures are therefore revealed parents first ([`reveal_all`]). A verifier
//! that only needs the verdict uses [`check_all`], which gives the same answer without copying or
//! changing the record.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::canonical::{self, CanonicalError};
use crate::hash::Hash;

/// The member name of a placeholder object.
pub const PLACEHOLDER_KEY: &str = "commitment";

/// A committed value with the salt and path that open its commitment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disclosure {
    /// RFC 6901 JSON Pointer of the value inside the entry's `record`, e.g. `/participants/0/name`.
    pub path: String,
    /// 128 random bits as 32 lowercase hexadecimal characters.
    pub salt: String,
    /// The value the commitment hides.
    pub value: Value,
}

/// Why a disclosure cannot be made or does not open its commitment.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DisclosureError {
    /// The path names nothing in the record.
    #[error("no value at {path}")]
    Missing {
        /// The JSON Pointer that was looked up.
        path: String,
    },
    /// The record holds a plain value where a placeholder was expected.
    #[error("the record holds no commitment at {path}")]
    NotCommitted {
        /// The JSON Pointer that was looked up.
        path: String,
    },
    /// The disclosure does not hash to the committed digest.
    #[error(
        "the disclosure for {path} does not match its commitment: expected {expected}, computed {computed}"
    )]
    Mismatch {
        /// The JSON Pointer of the commitment.
        path: String,
        /// The digest in the record.
        expected: Hash,
        /// The digest of the disclosure as given.
        computed: Hash,
    },
    /// The salt is not 32 lowercase hexadecimal characters.
    #[error("the salt for {path} is not 32 lowercase hexadecimal characters")]
    BadSalt {
        /// The JSON Pointer of the commitment.
        path: String,
    },
    /// The value has no canonical form.
    #[error(transparent)]
    Canonical(#[from] CanonicalError),
}

impl Disclosure {
    /// Builds a disclosure from 16 random bytes.
    pub fn new(path: impl Into<String>, salt: [u8; 16], value: Value) -> Disclosure {
        Disclosure {
            path: path.into(),
            salt: hex::encode(salt),
            value,
        }
    }

    /// SHA-256 of the canonical JSON array `[salt, path, value]`.
    pub fn digest(&self) -> Result<Hash, DisclosureError> {
        let salt_ok = self.salt.len() == 32
            && self
                .salt
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !salt_ok {
            return Err(DisclosureError::BadSalt {
                path: self.path.clone(),
            });
        }
        // The canonical array `[salt, path, value]`, framed by hand so that the value is not
        // cloned into a temporary array: JCS writes an array as its canonical elements between
        // brackets, separated by commas.
        let mut triple = Vec::with_capacity(64 + self.path.len());
        triple.extend_from_slice(b"[\"");
        triple.extend_from_slice(self.salt.as_bytes());
        triple.extend_from_slice(b"\",");
        canonical::write_canonical_str(&self.path, &mut triple);
        triple.push(b',');
        canonical::write_canonical(&self.value, &mut triple)?;
        triple.push(b']');
        Ok(Hash::digest(&triple))
    }
}

/// The placeholder object that stands for a committed value.
pub fn placeholder(digest: Hash) -> Value {
    let mut object = Map::new();
    object.insert(PLACEHOLDER_KEY.to_owned(), Value::String(digest.to_hex()));
    Value::Object(object)
}

/// The digest held by a placeholder, or `None` when `value` is not one.
pub fn commitment_of(value: &Value) -> Option<Hash> {
    let object = value.as_object()?;
    if object.len() != 1 {
        return None;
    }
    Hash::parse(object.get(PLACEHOLDER_KEY)?.as_str()?).ok()
}

/// Replaces the value at `path` in `record` with its placeholder and returns the disclosure.
pub fn commit(
    record: &mut Value,
    path: &str,
    salt: [u8; 16],
) -> Result<Disclosure, DisclosureError> {
    let slot = record
        .pointer_mut(path)
        .ok_or_else(|| DisclosureError::Missing {
            path: path.to_owned(),
        })?;
    let disclosure = Disclosure::new(path, salt, slot.take());
    *slot = placeholder(disclosure.digest()?);
    Ok(disclosure)
}

/// Checks that `disclosure` opens the commitment at its path in `record` and, if so, puts the
/// value in place of the placeholder.
pub fn reveal(record: &mut Value, disclosure: &Disclosure) -> Result<(), DisclosureError> {
    let path = &disclosure.path;
    let slot = record
        .pointer_mut(path)
        .ok_or_else(|| DisclosureError::Missing { path: path.clone() })?;
    let expected =
        commitment_of(slot).ok_or_else(|| DisclosureError::NotCommitted { path: path.clone() })?;
    let computed = disclosure.digest()?;
    if expected != computed {
        return Err(DisclosureError::Mismatch {
            path: path.clone(),
            expected,
            computed,
        });
    }
    *slot = disclosure.value.clone();
    Ok(())
}

/// Reveals every disclosure, parents before children, stopping at the first that fails.
pub fn reveal_all<'a>(
    record: &mut Value,
    disclosures: impl IntoIterator<Item = &'a Disclosure>,
) -> Result<(), DisclosureError> {
    let mut ordered: Vec<&Disclosure> = disclosures.into_iter().collect();
    ordered.sort_by_key(|d| d.path.matches('/').count());
    ordered.into_iter().try_for_each(|d| reveal(record, d))
}

/// Checks that every disclosure opens its commitment in `record`, with the semantics and errors
/// of [`reveal_all`] (parents before children, stopping at the first failure), without cloning or
/// changing the record.
///
/// A disclosure below an earlier one (`/participants/0/name` under `/participants`) is looked up
/// in the earlier disclosure's value, where [`reveal_all`] would have put it.
pub fn check_all<'a>(
    record: &'a Value,
    disclosures: impl IntoIterator<Item = &'a Disclosure>,
) -> Result<(), DisclosureError> {
    in_reveal_order(record, disclosures, |_, d, expected| {
        let computed = d.digest()?;
        if expected != computed {
            return Err(DisclosureError::Mismatch {
                path: d.path.clone(),
                expected,
                computed,
            });
        }
        Ok(())
    })?;
    Ok(())
}

/// What [`reveal_all`] would have put where, in the order it would have done so: each pointer's
/// unescaped tokens and the value put there.
type Revealed<'v> = Vec<(Vec<Cow<'v, str>>, &'v Value)>;

/// Takes `disclosures` in the order [`reveal_all`] reveals them (parents first), finds the
/// placeholder each replaces in the record as revealed so far (`Missing`, `NotCommitted`), and
/// gives `each` its position among the disclosures, the disclosure and that placeholder's
/// digest, stopping at the first error. Returns what was revealed where.
fn in_reveal_order<'v>(
    record: &'v Value,
    disclosures: impl IntoIterator<Item = &'v Disclosure>,
    mut each: impl FnMut(usize, &'v Disclosure, Hash) -> Result<(), DisclosureError>,
) -> Result<Revealed<'v>, DisclosureError> {
    let mut ordered: Vec<(usize, &Disclosure)> = disclosures.into_iter().enumerate().collect();
    ordered.sort_by_key(|(_, d)| d.path.matches('/').count());
    let mut revealed: Revealed<'v> = Vec::with_capacity(ordered.len());
    for (i, d) in ordered {
        let path = &d.path;
        let missing = || DisclosureError::Missing { path: path.clone() };
        let tokens = pointer_tokens(path).ok_or_else(missing)?;
        let slot = resolve(record, &tokens, &revealed).ok_or_else(missing)?;
        let digest = commitment_of(slot)
            .ok_or_else(|| DisclosureError::NotCommitted { path: path.clone() })?;
        each(i, d, digest)?;
        revealed.push((tokens, &d.value));
    }
    Ok(revealed)
}

/// A placeholder of a record as a reader sees it once the served disclosures are revealed.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    /// The RFC 6901 pointer into the record.
    pub path: String,
    /// The digest the placeholder commits to.
    pub digest: Hash,
    /// The index, among the disclosures given, of the one that opens it; `None` when none does.
    pub opened_by: Option<usize>,
}

/// Every placeholder of `record` as [`reveal_all`] would leave it with `disclosures` revealed,
/// without cloning or changing the record: first each one the disclosures open, parents first,
/// then each left unopened (placeholders nested in a revealed value included), in the record's
/// member order.
///
/// A disclosure's path MUST name a placeholder (`Missing`, `NotCommitted`); whether its value
/// opens that placeholder is [`check_all`]'s concern, not checked again here.
pub fn placeholders(
    record: &Value,
    disclosures: &[Disclosure],
) -> Result<Vec<Seen>, DisclosureError> {
    let mut found = Vec::with_capacity(disclosures.len());
    let revealed = in_reveal_order(record, disclosures, |i, d, digest| {
        found.push(Seen {
            path: d.path.clone(),
            digest,
            opened_by: Some(i),
        });
        Ok(())
    })?;
    let mut walk = Walk {
        revealed: &revealed,
        at: Vec::new(),
        found,
    };
    walk.unopened(record);
    Ok(walk.found)
}

/// One step of the walk of [`placeholders`]: a member name, or an array index.
#[derive(Clone, Copy)]
enum Step<'v> {
    Member(&'v str),
    Index(usize),
}

impl Step<'_> {
    /// Whether this step is the one an unescaped pointer token names.
    fn is(&self, token: &str) -> bool {
        match *self {
            Step::Member(name) => name == token,
            Step::Index(i) => array_index(token) == Some(i),
        }
    }
}

/// The walk of [`placeholders`] over the revealed record: where it is, and what it has found.
struct Walk<'r, 'v> {
    revealed: &'r Revealed<'v>,
    at: Vec<Step<'v>>,
    found: Vec<Seen>,
}

impl<'v> Walk<'_, 'v> {
    fn unopened(&mut self, value: &'v Value) {
        let mut value = value;
        let mut digest = commitment_of(value);
        // A disclosure replaces a placeholder: the latest made here is the value in place.
        if digest.is_some()
            && let Some((_, replacement)) = self.revealed.iter().rev().find(|(tokens, _)| {
                tokens.len() == self.at.len()
                    && self
                        .at
                        .iter()
                        .zip(tokens)
                        .all(|(step, token)| step.is(token))
            })
        {
            value = replacement;
            digest = commitment_of(value);
        }
        if let Some(digest) = digest {
            let mut path = String::new();
            for step in &self.at {
                path.push('/');
                match *step {
                    Step::Member(name) => path.push_str(&escape_pointer_token(name)),
                    Step::Index(i) => path.push_str(&i.to_string()),
                }
            }
            self.found.push(Seen {
                path,
                digest,
                opened_by: None,
            });
            return;
        }
        match value {
            Value::Object(members) => {
                for (name, member) in members {
                    self.at.push(Step::Member(name));
                    self.unopened(member);
                    self.at.pop();
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.at.push(Step::Index(i));
                    self.unopened(item);
                    self.at.pop();
                }
            }
            _ => {}
        }
    }
}

/// The unescaped reference tokens of an RFC 6901 pointer, as `serde_json`'s `pointer` reads them.
/// Tokens without a `~` are borrowed: allocation dominates the cost of a lookup.
fn pointer_tokens(pointer: &str) -> Option<Vec<Cow<'_, str>>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    let tokens = pointer.strip_prefix('/')?.split('/');
    Some(
        tokens
            .map(|t| match t.contains('~') {
                true => Cow::Owned(t.replace("~1", "/").replace("~0", "~")),
                false => Cow::Borrowed(t),
            })
            .collect(),
    )
}

/// The value at `tokens` in `record` after the replacements in `revealed` (latest last).
///
/// Replacements are made parents first, so at each prefix the latest replacement made exactly
/// there is the value in place, and deeper ones are met further down the walk.
fn resolve<'v>(
    record: &'v Value,
    tokens: &[Cow<'_, str>],
    revealed: &[(Vec<Cow<'_, str>>, &'v Value)],
) -> Option<&'v Value> {
    let replaced = |depth: usize| {
        revealed
            .iter()
            .rev()
            .find(|(at, _)| at[..] == tokens[..depth])
            .map(|(_, value)| *value)
    };
    let mut current = replaced(0).unwrap_or(record);
    for (depth, token) in tokens.iter().enumerate() {
        current = match current {
            Value::Object(members) => members.get(token.as_ref())?,
            Value::Array(items) => items.get(array_index(token)?)?,
            _ => return None,
        };
        if let Some(value) = replaced(depth + 1) {
            current = value;
        }
    }
    Some(current)
}

/// An array index token as `serde_json`'s `pointer` accepts it: no sign, no leading zero.
fn array_index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.starts_with('0') && token.len() != 1) {
        return None;
    }
    token.parse().ok()
}

/// Escapes one JSON Pointer reference token (RFC 6901 §3): `~` as `~0`, `/` as `~1`.
pub fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SALT: [u8; 16] = [7; 16];

    #[test]
    fn digest_hashes_the_canonical_triple() {
        let d = Disclosure::new("/participants/0/name", SALT, json!("Cllr A. Example"));
        let canonical = format!(
            r#"["{}","/participants/0/name","Cllr A. Example"]"#,
            "07".repeat(16)
        );
        assert_eq!(d.digest(), Ok(Hash::digest(canonical.as_bytes())));
    }

    /// What [`placeholders`] must find: reveal a copy, then walk it.
    fn placeholders_of_a_revealed_copy(record: &Value, disclosures: &[Disclosure]) -> Vec<Seen> {
        fn walk(value: &Value, pointer: &mut String, found: &mut Vec<Seen>) {
            if let Some(digest) = commitment_of(value) {
                found.push(Seen {
                    path: pointer.clone(),
                    digest,
                    opened_by: None,
                });
                return;
            }
            let len = pointer.len();
            let children: Vec<(String, &Value)> = match value {
                Value::Object(m) => m
                    .iter()
                    .map(|(k, v)| (escape_pointer_token(k), v))
                    .collect(),
                Value::Array(a) => a
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (i.to_string(), v))
                    .collect(),
                _ => Vec::new(),
            };
            for (token, child) in children {
                pointer.push('/');
                pointer.push_str(&token);
                walk(child, pointer, found);
                pointer.truncate(len);
            }
        }
        let mut copy = record.clone();
        let mut ordered: Vec<(usize, &Disclosure)> = disclosures.iter().enumerate().collect();
        ordered.sort_by_key(|(_, d)| d.path.matches('/').count());
        let mut found = Vec::new();
        for (i, d) in ordered {
            let digest = copy
                .pointer(&d.path)
                .and_then(commitment_of)
                .expect("committed");
            reveal(&mut copy, d).expect("opens");
            found.push(Seen {
                path: d.path.clone(),
                digest,
                opened_by: Some(i),
            });
        }
        walk(&copy, &mut String::new(), &mut found);
        found
    }

    #[test]
    fn placeholders_are_those_a_revealed_copy_holds() {
        let mut record = json!({
            "a/b~c": "odd name",
            "participants": [
                {"name": "A", "role": "chair", "email": "a@example.org"},
                {"name": "B", "role": "member"},
            ],
            "title": "T",
        });
        let email = commit(&mut record, "/participants/0/email", SALT).expect("commits");
        let name_a = commit(&mut record, "/participants/0/name", SALT).expect("commits");
        let first = commit(&mut record, "/participants/0", SALT).expect("commits");
        let name_b = commit(&mut record, "/participants/1/name", SALT).expect("commits");
        let odd = commit(&mut record, "/a~1b~0c", SALT).expect("commits");
        let title = commit(&mut record, "/title", SALT).expect("commits");
        let cases: Vec<Vec<Disclosure>> = vec![
            vec![],
            vec![title.clone()],
            vec![first.clone()],
            vec![name_a.clone(), first.clone()],
            vec![email.clone(), name_a.clone(), first.clone(), odd.clone()],
            vec![name_b, title, odd, first, email, name_a],
        ];
        for disclosures in cases {
            check_all(&record, &disclosures).expect("opens");
            assert_eq!(
                placeholders(&record, &disclosures).expect("finds"),
                placeholders_of_a_revealed_copy(&record, &disclosures),
                "with {:?}",
                disclosures.iter().map(|d| &d.path).collect::<Vec<_>>()
            );
        }
        // A disclosure under a placeholder not opened, or of a value not committed.
        let nested = commit(&mut json!({"x": {"y": 1}}), "/x/y", SALT).expect("commits");
        assert!(matches!(
            placeholders(&record, &[nested]),
            Err(DisclosureError::Missing { .. })
        ));
        let plain = Disclosure::new("/participants", SALT, json!([]));
        assert!(matches!(
            placeholders(&record, &[plain]),
            Err(DisclosureError::NotCommitted { .. })
        ));
    }

    #[test]
    fn commit_then_reveal_restores_the_record() {
        let original = json!({"participants": [{"name": "A", "role": "chair"}]});
        let mut record = original.clone();
        let d = commit(&mut record, "/participants/0/name", SALT).expect("commits");
        assert!(commitment_of(&record["participants"][0]["name"]).is_some());
        assert_eq!(record["participants"][0]["role"], "chair");
        reveal(&mut record, &d).expect("reveals");
        assert_eq!(record, original);
    }

    #[test]
    fn reveal_fails_when_the_value_was_changed() {
        let mut record = json!({"name": "A"});
        let mut d = commit(&mut record, "/name", SALT).expect("commits");
        d.value = json!("B");
        assert!(matches!(
            reveal(&mut record, &d),
            Err(DisclosureError::Mismatch { .. })
        ));
    }

    #[test]
    fn reveal_fails_when_the_path_was_changed() {
        let mut record = json!({"a": "A", "b": null});
        let d = commit(&mut record, "/a", SALT).expect("commits");
        let _ = commit(&mut record, "/b", SALT).expect("commits");
        let moved = Disclosure {
            path: "/b".into(),
            ..d
        };
        assert!(matches!(
            reveal(&mut record, &moved),
            Err(DisclosureError::Mismatch { .. })
        ));
    }

    #[test]
    fn reveal_fails_on_a_plain_value() {
        let mut record = json!({"a": "A"});
        let d = Disclosure::new("/a", SALT, json!("A"));
        assert_eq!(
            reveal(&mut record, &d),
            Err(DisclosureError::NotCommitted { path: "/a".into() })
        );
    }

    #[test]
    fn nested_commitments_reveal_parents_first() {
        let original = json!({"participants": [{"name": "A"}]});
        let mut record = original.clone();
        let child = commit(&mut record, "/participants/0/name", SALT).expect("commits");
        let parent = commit(&mut record, "/participants", [9; 16]).expect("commits");
        reveal_all(&mut record, [&child, &parent]).expect("reveals in depth order");
        assert_eq!(record, original);
    }

    #[test]
    fn a_bad_salt_is_refused() {
        let d = Disclosure {
            path: "/a".into(),
            salt: "00".into(),
            value: json!(1),
        };
        assert!(matches!(d.digest(), Err(DisclosureError::BadSalt { .. })));
    }

    #[test]
    fn digest_is_the_hash_of_the_canonical_triple_for_paths_that_need_escapes() {
        for path in ["/a", "/a~1b/\"q\"", "/\u{1}\t\\", "/é/😂", ""] {
            let d = Disclosure::new(path, SALT, json!({"z": [1, 2.5], "a": "\n"}));
            let triple = json!([d.salt, d.path, d.value]);
            let canonical = canonical::to_canonical_bytes(&triple).expect("canonical");
            assert_eq!(d.digest(), Ok(Hash::digest(&canonical)), "{path:?}");
        }
    }

    /// check_all's verdict and reveal_all's on a copy of the record.
    fn both(record: &Value, disclosures: &[Disclosure]) -> [Result<(), DisclosureError>; 2] {
        let mut copy = record.clone();
        [
            check_all(record, disclosures),
            reveal_all(&mut copy, disclosures),
        ]
    }

    #[test]
    fn check_all_agrees_with_reveal_all_on_nested_and_forged_disclosures() {
        let original = json!({"participants": [{"name": "A", "a/b": {"~": 1}}], "x": [0, 1]});
        let mut record = original.clone();
        let name = commit(&mut record, "/participants/0/name", SALT).expect("commits");
        let tilde = commit(&mut record, "/participants/0/a~1b/~0", [3; 16]).expect("commits");
        let parent = commit(&mut record, "/participants", [9; 16]).expect("commits");
        let x = commit(&mut record, "/x/1", [5; 16]).expect("commits");
        let good = [name.clone(), tilde.clone(), parent.clone(), x.clone()];
        assert_eq!(both(&record, &good), [Ok(()), Ok(())]);

        let forged = Disclosure {
            value: json!("B"),
            ..name.clone()
        };
        let cases: Vec<Vec<Disclosure>> = vec![
            // The child cannot be opened without its parent.
            vec![name.clone()],
            vec![forged, parent.clone()],
            vec![parent.clone(), parent.clone()],
            vec![Disclosure::new("/x/01", SALT, json!(1))],
            vec![Disclosure::new("/x/+1", SALT, json!(1))],
            vec![Disclosure::new("/x/0", SALT, json!(0))],
            vec![Disclosure::new("x", SALT, json!(0))],
            vec![Disclosure::new("/x/9", SALT, json!(0))],
            vec![Disclosure::new("/x/1/y", SALT, json!(0))],
            vec![Disclosure {
                salt: "00".into(),
                ..x.clone()
            }],
            vec![x.clone(), Disclosure::new("/x/1", SALT, json!(1))],
        ];
        for disclosures in cases {
            let [checked, revealed] = both(&record, &disclosures);
            assert!(checked.is_err(), "{disclosures:?}");
            assert_eq!(checked, revealed, "{disclosures:?}");
        }
    }

    #[test]
    fn check_all_opens_a_commitment_of_the_whole_record() {
        let mut record = json!({"a": 1});
        let d = commit(&mut record, "", SALT).expect("commits");
        assert_eq!(both(&record, &[d]), [Ok(()), Ok(())]);
    }
}
