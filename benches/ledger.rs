//! Criterion benchmarks of the ledger core: proof generation and verification on large trees,
//! and the verifier's per-entry work (canonical entry hash, chain link, disclosures, Merkle
//! frontier) next to plain SHA-256 over the same bytes.
//!
//! `cargo bench --bench ledger`; the numbers are recorded in docs/BENCHMARKS.md.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use decision_log::record::DecisionRecord;
use ledger::entry::{Entry, EntryKind, FORMAT_VERSION, GENESIS_PREV_HASH, entry_hash};
use ledger::merkle::{self, Frontier, MemoryTree};
use ledger::{ChainVerifier, Disclosure, Hash};

/// `n` realistic canonical entries (the OpenAPI example record) with their disclosures.
fn log(n: u64) -> Vec<(Vec<u8>, Hash, Vec<Disclosure>)> {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).expect("date");
    let mut prev = GENESIS_PREV_HASH;
    (0..n)
        .map(|i| {
            let mut value = decision_log::record::example();
            value["title"] = format!("Decision {i}: close Northgate depot").into();
            let record = DecisionRecord::from_json(&value, today).expect("valid");
            let mut salt = 0u64;
            let (hashed, disclosures) = record.commit(|| {
                salt += 1;
                let mut s = [0u8; 16];
                s[..8].copy_from_slice(&(i * 64 + salt).to_le_bytes());
                s
            });
            let entry = Entry {
                format: FORMAT_VERSION,
                leaf_index: i,
                kind: EntryKind::DecisionRecorded,
                decision_id: format!("019a7c5e-3f00-7000-8000-{i:012x}"),
                recorded_at: "2026-11-29T10:15:30.123Z".into(),
                recorded_by: "bench".into(),
                prev_hash: prev,
                record: hashed,
            };
            let bytes = entry.canonical_bytes().expect("canonical");
            prev = entry_hash(&bytes);
            (
                bytes,
                prev,
                disclosures.into_iter().map(|(d, _)| d).collect(),
            )
        })
        .collect()
}

fn tree(n: u64) -> MemoryTree {
    let mut tree = MemoryTree::new();
    for i in 0..n {
        tree.push(Hash::leaf(&i.to_be_bytes()));
    }
    tree
}

fn proofs(c: &mut Criterion) {
    for size in [100_000u64, 1_000_000] {
        let t = tree(size);
        let root = t.root(size).expect("root");
        let mut group = c.benchmark_group(format!("proofs/{size}"));
        let index = size / 3 + 7;
        group.bench_function("inclusion_generate", |b| {
            b.iter(|| t.inclusion_proof(black_box(index), size).expect("proof"))
        });
        let proof = t.inclusion_proof(index, size).expect("proof");
        let leaf = Hash::leaf(&index.to_be_bytes());
        group.bench_function("inclusion_verify", |b| {
            b.iter(|| {
                merkle::verify_inclusion(black_box(index), size, &leaf, &proof, &root)
                    .expect("verifies")
            })
        });
        let old = size / 2 + 3;
        let old_root = t.root(old).expect("root");
        group.bench_function("consistency_generate", |b| {
            b.iter(|| t.consistency_proof(black_box(old), size).expect("proof"))
        });
        let proof = t.consistency_proof(old, size).expect("proof");
        group.bench_function("consistency_verify", |b| {
            b.iter(|| {
                merkle::verify_consistency(black_box(old), size, &old_root, &root, &proof)
                    .expect("verifies")
            })
        });
        group.bench_function("plan_inclusion_nodes", |b| {
            b.iter(|| {
                let ranges =
                    merkle::inclusion_proof_ranges(black_box(index), size).expect("ranges");
                merkle::nodes_for_ranges(&ranges)
            })
        });
        group.finish();
    }
}

fn verify(c: &mut Criterion) {
    let entries = log(10_000);
    let bytes: u64 = entries.iter().map(|(b, _, _)| b.len() as u64).sum();
    let mut group = c.benchmark_group("verify");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes));
    group.bench_with_input(
        BenchmarkId::new("entries", entries.len()),
        &entries,
        |b, entries| {
            b.iter(|| {
                let mut chain = ChainVerifier::new();
                let mut frontier = Frontier::new();
                for (i, (canonical, hash, disclosures)) in entries.iter().enumerate() {
                    let (_, h) = chain
                        .check(i as u64, canonical, Some(*hash), disclosures)
                        .expect("verifies");
                    frontier.push(h);
                }
                frontier.root()
            })
        },
    );
    let concatenated: Vec<u8> = entries
        .iter()
        .flat_map(|(b, _, _)| b.iter().copied())
        .collect();
    group.bench_with_input(
        BenchmarkId::new("sha256_baseline", entries.len()),
        &concatenated,
        |b, data| b.iter(|| Hash::digest(black_box(data))),
    );
    group.finish();
}

criterion_group!(benches, proofs, verify);
criterion_main!(benches);
