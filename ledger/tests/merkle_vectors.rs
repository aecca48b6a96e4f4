//! RFC 6962 / RFC 9162 known-answer tests: every inclusion and consistency vector of
//! transparency-dev/merkle, and the roots of the RFC 6962 reference leaves.
//! Origins and licence: `tests/vectors/ORIGIN.md`.
//!
//! The vectors are byte strings, while this crate's verifiers take 32-byte [`Hash`]es. A value of
//! another length (the vectors' "garbage" and "wrong root" cases) can never reach the verifier:
//! a caller has to parse it first, and `Hash::from_slice` refuses it. Those files are run through
//! the verifier all the same, each such value replaced by a tagged SHA-256 of it, which keeps
//! equal values equal and distinct values distinct. Two files depend on the length alone; they
//! are named below with the reason.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use decision_log_ledger::Hash;
use decision_log_ledger::merkle::{
    Frontier, MemoryTree, ProofError, verify_consistency, verify_inclusion,
};
use serde::Deserialize;

/// Rejected by the type alone: root and leaf hash are both empty, so their stand-ins are equal
/// and a one-leaf tree "verifies". Go rejects it for the leaf hash's length, as
/// `Hash::from_slice` does.
const REJECTED_ONLY_FOR_LENGTH: &[&str] = &["inclusion/single-entry/empty-root-and-leaf.json"];

/// Valid although its roots are 12-byte placeholders: between equal sizes only the roots'
/// equality matters, which the stand-ins keep.
const VALID_WITH_PLACEHOLDER_ROOTS: &[&str] =
    &["consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"];

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/rfc6962/merkle-testdata")
}

/// Every `.json` file under `dir`, recursively, sorted.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).expect("vector directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn relative(path: &Path) -> String {
    path.strip_prefix(testdata())
        .expect("under testdata")
        .to_string_lossy()
        .replace('\\', "/")
}

fn folder(path: &Path) -> String {
    relative(path.parent().expect("parent"))
}

fn decode(b64: &str) -> Vec<u8> {
    STANDARD.decode(b64).expect("standard padded base64")
}

/// The hash a value stands for: itself when it is 32 bytes, otherwise a stand-in. The stand-in
/// is domain-separated, because the plain SHA-256 of an empty value is the empty tree's root,
/// which the vectors also use.
fn stand_in(bytes: &[u8]) -> Hash {
    Hash::from_slice(bytes).unwrap_or_else(|_| {
        let mut tagged = b"decision-log test stand-in for a value that is not 32 bytes:".to_vec();
        tagged.extend_from_slice(bytes);
        Hash::digest(&tagged)
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InclusionVector {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConsistencyVector {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

#[derive(Deserialize)]
struct ReferenceRoots {
    leaf_inputs_hex: Vec<String>,
    leaf_hashes_hex: Vec<String>,
    roots_by_size_hex: BTreeMap<u64, String>,
}

fn reference() -> ReferenceRoots {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/rfc6962/reference-roots.json");
    serde_json::from_slice(&fs::read(path).expect("reference roots")).expect("reference JSON")
}

/// The tree of the 8 RFC 6962 reference leaves, over which the valid vectors are built.
fn reference_tree() -> MemoryTree {
    let mut tree = MemoryTree::new();
    for input in reference().leaf_inputs_hex {
        tree.push(Hash::leaf(&hex::decode(input).expect("hex")));
    }
    tree
}

/// What running the files of one kind found.
#[derive(Default, Debug)]
struct Tally {
    per_folder: BTreeMap<String, usize>,
    valid: usize,
    invalid: usize,
    /// Valid files whose proof this crate also generated, byte for byte.
    generated: usize,
    rejected_only_for_length: Vec<String>,
    valid_with_placeholders: Vec<String>,
}

impl Tally {
    /// Checks one file's verdict against `want_err` and records it.
    fn record(
        &mut self,
        path: &Path,
        desc: &str,
        values: &[Vec<u8>],
        want_err: bool,
        result: Result<(), ProofError>,
    ) {
        let name = relative(path);
        *self.per_folder.entry(folder(path)).or_default() += 1;
        let representable = values.iter().all(|v| Hash::from_slice(v).is_ok());
        if want_err {
            self.invalid += 1;
            if result.is_ok() {
                assert!(!representable, "{name} ({desc}): an invalid proof verified");
                self.rejected_only_for_length.push(name);
            }
        } else {
            self.valid += 1;
            assert_eq!(result, Ok(()), "{name} ({desc}): a valid proof failed");
            if !representable {
                self.valid_with_placeholders.push(name);
            }
        }
    }
}

fn expected_folders(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|&(f, n)| (f.to_string(), n)).collect()
}

#[test]
fn every_inclusion_vector_verifies_or_fails_as_it_should() {
    let tree = reference_tree();
    let mut tally = Tally::default();
    for path in json_files(&testdata().join("inclusion")) {
        let v: InclusionVector =
            serde_json::from_slice(&fs::read(&path).expect("vector")).expect("inclusion JSON");
        let root = decode(&v.root);
        let leaf_hash = decode(&v.leaf_hash);
        let proof: Vec<Vec<u8>> = v.proof.iter().flatten().map(|p| decode(p)).collect();
        let proof_hashes: Vec<Hash> = proof.iter().map(|p| stand_in(p)).collect();
        let result = verify_inclusion(
            v.leaf_idx,
            v.tree_size,
            &stand_in(&leaf_hash),
            &proof_hashes,
            &stand_in(&root),
        );
        let mut values = vec![root.clone(), leaf_hash];
        values.extend(proof);
        tally.record(&path, &v.desc, &values, v.want_err, result);

        if !v.want_err && Hash::from_slice(&root).is_ok_and(|r| tree.root(v.tree_size) == Ok(r)) {
            assert_eq!(
                tree.inclusion_proof(v.leaf_idx, v.tree_size),
                Ok(proof_hashes),
                "{}: generated proof differs",
                relative(&path)
            );
            tally.generated += 1;
        }
    }
    assert_eq!(
        tally.per_folder,
        expected_folders(&[
            ("inclusion/0", 13),
            ("inclusion/1", 18),
            ("inclusion/2", 18),
            ("inclusion/3", 15),
            ("inclusion/4", 18),
            ("inclusion/additional/0", 3),
            ("inclusion/additional/1", 3),
            ("inclusion/additional/2", 3),
            ("inclusion/additional/3", 3),
            ("inclusion/single-entry", 4),
        ]),
        "every inclusion folder is present and complete"
    );
    assert_eq!((tally.valid, tally.invalid), (6, 92));
    assert_eq!(tally.generated, 5, "the five happy paths are regenerated");
    assert_eq!(tally.rejected_only_for_length, REJECTED_ONLY_FOR_LENGTH);
    assert!(tally.valid_with_placeholders.is_empty());
}

#[test]
fn every_consistency_vector_verifies_or_fails_as_it_should() {
    let tree = reference_tree();
    let mut tally = Tally::default();
    for path in json_files(&testdata().join("consistency")) {
        let v: ConsistencyVector =
            serde_json::from_slice(&fs::read(&path).expect("vector")).expect("consistency JSON");
        let root1 = decode(&v.root1);
        let root2 = decode(&v.root2);
        let proof: Vec<Vec<u8>> = v.proof.iter().flatten().map(|p| decode(p)).collect();
        let proof_hashes: Vec<Hash> = proof.iter().map(|p| stand_in(p)).collect();
        let result = verify_consistency(
            v.size1,
            v.size2,
            &stand_in(&root1),
            &stand_in(&root2),
            &proof_hashes,
        );
        let mut values = vec![root1, root2.clone()];
        values.extend(proof);
        tally.record(&path, &v.desc, &values, v.want_err, result);

        if !v.want_err && Hash::from_slice(&root2).is_ok_and(|r| tree.root(v.size2) == Ok(r)) {
            assert_eq!(
                tree.consistency_proof(v.size1, v.size2),
                Ok(proof_hashes),
                "{}: generated proof differs",
                relative(&path)
            );
            tally.generated += 1;
        }
    }
    assert_eq!(
        tally.per_folder,
        expected_folders(&[
            ("consistency/0", 1),
            ("consistency/1", 21),
            ("consistency/2", 21),
            ("consistency/3", 20),
            ("consistency/4", 21),
            ("consistency/additional", 14),
        ]),
        "every consistency folder is present and complete"
    );
    assert_eq!((tally.valid, tally.invalid), (6, 92));
    assert_eq!(tally.generated, 5, "the five happy paths are regenerated");
    assert!(tally.rejected_only_for_length.is_empty());
    assert_eq!(tally.valid_with_placeholders, VALID_WITH_PLACEHOLDER_ROOTS);
}

#[test]
fn the_reference_leaves_give_the_reference_roots_for_sizes_0_to_8() {
    let reference = reference();
    let leaf_hashes: Vec<String> = reference
        .leaf_inputs_hex
        .iter()
        .map(|input| Hash::leaf(&hex::decode(input).expect("hex")).to_hex())
        .collect();
    assert_eq!(leaf_hashes, reference.leaf_hashes_hex);

    let tree = reference_tree();
    let mut frontier = Frontier::new();
    let mut checked = 0;
    for (&size, root) in &reference.roots_by_size_hex {
        while frontier.size() < size {
            let next = tree
                .range_hash(frontier.size(), frontier.size() + 1)
                .expect("leaf");
            frontier.push(next);
        }
        assert_eq!(
            tree.root(size).map(|h| h.to_hex()),
            Ok(root.clone()),
            "size {size}"
        );
        assert_eq!(frontier.root().to_hex(), *root, "frontier of size {size}");
        checked += 1;
    }
    assert_eq!(checked, 9, "roots of sizes 0 to 8");
}
