//! Criterion benchmarks of the verifier's per-entry work, in bytes per second over realistic
//! entries (a decision record of about 3 KB with five participants, reasons, alternatives, a vote
//! and six commitments, built with the ledger's own types):
//!
//! - `sha256`: SHA-256 of the canonical bytes, the floor;
//! - `check_canonical`: the one-pass canonical-form check alone;
//! - `check_entry`: [`chain::check_entry`] (check, parse, hash, index, six disclosures);
//! - `check_entry_2_threads`: the same over both halves of the log on two threads;
//! - `reserialise`: the path `check_entry` replaced (parse to a value, canonicalise it again and
//!   compare, deserialise the entry from the value, clone the record to reveal the disclosures).
//!
//! `cargo bench -p decision-log-ledger --bench check_entry`; the numbers are recorded in
//! docs/BENCHMARKS.md.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use decision_log_ledger::canonical;
use decision_log_ledger::chain;
use decision_log_ledger::disclosure;
use decision_log_ledger::entry::{self, Entry, EntryKind, FORMAT_VERSION, GENESIS_PREV_HASH};
use decision_log_ledger::{Disclosure, Hash};
use serde_json::{Value, json};

const ENTRIES: u64 = 1_000;

/// A decision record shaped like the service's example, varied by `i`.
fn record(i: u64) -> Value {
    json!({
        "title": format!("Decision {i}: close Northgate depot and move waste collection to Southfield"),
        "decision": "Northgate depot closes on 31 March 2027. Waste and recycling rounds move to the Southfield site, which is extended with a covered vehicle bay.",
        "decided_on": "2026-11-18",
        "body": "cabinet",
        "decision_maker": {"kind": "body", "name": "Cabinet"},
        "decision_type": "key",
        "reasons": "The Northgate lease ends in 2027 and the building needs £2.1m of repairs. Southfield has space for the fleet and cuts average round mileage by 9%.",
        "alternatives": [
            {"option": "Renew the Northgate lease and repair the building", "why_rejected": "£2.1m capital cost with no improvement to rounds."},
            {"option": "Outsource waste collection", "why_rejected": "Market testing in 2025 gave no bid below current cost."}
        ],
        "conflicts": [
            {"participant": 2, "nature": "Lives on a road next to the Southfield site.", "dispensation": {"granted_by": "Monitoring Officer", "granted_on": "2026-11-10", "note": "May speak and vote; the interest is shared with many residents."}}
        ],
        "participants": [
            {"name": "Cllr Amina Okafor", "role": "chair", "organisation": "Cabinet", "attendance": "present"},
            {"name": "Cllr Tom Reid", "role": "decision_maker", "organisation": "Cabinet", "attendance": "present"},
            {"name": "Cllr Priya Shah", "role": "decision_maker", "organisation": "Cabinet", "attendance": "remote"},
            {"name": "Cllr Owen Hughes", "role": "decision_maker", "organisation": "Cabinet", "attendance": "apologies"},
            {"name": "Dana Mills", "role": "advisor", "organisation": "Environmental Services", "attendance": "present"}
        ],
        "vote": {
            "method": "roll_call",
            "counts": {"for": 2, "against": 1, "abstain": 0},
            "votes": [
                {"participant": 0, "vote": "for"},
                {"participant": 1, "vote": "for"},
                {"participant": 2, "vote": "against"},
                {"participant": 3, "vote": "absent"}
            ],
            "result": "passed"
        },
        "classification": "public",
        "documents": [
            {"title": "Depot options appraisal", "uri": "https://intranet.example.gov.uk/papers/cabinet/2026-11-18/item-7.pdf", "sha256": "9f2c8d3b6a1e4f5071c2d8e9a0b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5"}
        ],
        "success_measures": "Round mileage down at least 8% and no missed-collection rise over 2% in the first six months.",
        "review_on": "2027-10-01",
        "input_from": [
            {"kind": "staff", "summary": "Crews asked for covered parking and earlier site opening.", "uri": "https://intranet.example.gov.uk/consultations/depot-staff"},
            {"kind": "community", "summary": "Southfield residents raised traffic at school times; rounds will leave before 07:30."}
        ],
        "effective_from": "2026-11-26",
        "tags": ["waste", "property"],
        "areas": ["Northgate", "Southfield"]
    })
}

/// The paths committed in each record: every participant's name and the conflict's nature.
const COMMITTED: [&str; 6] = [
    "/participants/0/name",
    "/participants/1/name",
    "/participants/2/name",
    "/participants/3/name",
    "/participants/4/name",
    "/conflicts/0/nature",
];

type Log = Vec<(Vec<u8>, Hash, Vec<Disclosure>)>;

fn log(n: u64) -> Log {
    let mut prev = GENESIS_PREV_HASH;
    (0..n)
        .map(|i| {
            let mut record = record(i);
            let disclosures: Vec<Disclosure> = COMMITTED
                .iter()
                .zip(0u8..)
                .map(|(path, k)| {
                    let mut salt = [k; 16];
                    salt[..8].copy_from_slice(&i.to_le_bytes());
                    disclosure::commit(&mut record, path, salt).expect("commits")
                })
                .collect();
            let entry = Entry {
                format: FORMAT_VERSION,
                leaf_index: i,
                kind: EntryKind::DecisionRecorded,
                decision_id: format!("019a7c5e-3f00-7000-8000-{i:012x}"),
                recorded_at: "2026-11-29T10:15:30.123Z".into(),
                recorded_by: "bench".into(),
                prev_hash: prev,
                record,
            };
            let bytes = entry.canonical_bytes().expect("canonical");
            prev = entry::entry_hash(&bytes);
            (bytes, prev, disclosures)
        })
        .collect()
}

/// The per-entry work before `check_entry`: re-canonicalise to check, deserialise from the
/// value, reveal the disclosures into a copy of the record.
fn reserialise(bytes: &[u8], claimed: Hash, disclosures: &[Disclosure]) -> Entry {
    let value: Value = serde_json::from_slice(bytes).expect("JSON");
    assert!(canonical::to_canonical_bytes(&value).expect("canonical") == bytes);
    let entry: Entry = serde_json::from_value(value).expect("entry");
    assert!(entry::entry_hash(bytes) == claimed);
    let mut record = entry.record.clone();
    disclosure::reveal_all(&mut record, disclosures).expect("opens");
    entry
}

fn check_all(log: &[(Vec<u8>, Hash, Vec<Disclosure>)], first: u64) {
    for (i, (bytes, hash, disclosures)) in log.iter().enumerate() {
        let checked =
            chain::check_entry(first + i as u64, bytes, Some(*hash), disclosures).expect("checks");
        black_box(checked);
    }
}

fn per_entry(c: &mut Criterion) {
    let log = log(ENTRIES);
    let bytes: u64 = log.iter().map(|(b, _, _)| b.len() as u64).sum();
    let mut group = c.benchmark_group(format!("check_entry/{ENTRIES}"));
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("sha256", |b| {
        b.iter(|| {
            for (bytes, _, _) in &log {
                black_box(entry::entry_hash(black_box(bytes)));
            }
        })
    });
    group.bench_function("check_canonical", |b| {
        b.iter(|| {
            for (bytes, _, _) in &log {
                canonical::check_canonical(black_box(bytes)).expect("canonical");
            }
        })
    });
    group.bench_function("check_entry", |b| b.iter(|| check_all(&log, 0)));
    let (front, back) = log.split_at(log.len() / 2);
    group.bench_function("check_entry_2_threads", |b| {
        b.iter(|| {
            std::thread::scope(|scope| {
                scope.spawn(|| check_all(back, front.len() as u64));
                check_all(front, 0);
            })
        })
    });
    group.bench_function("reserialise", |b| {
        b.iter(|| {
            for (bytes, hash, disclosures) in &log {
                black_box(reserialise(black_box(bytes), *hash, disclosures));
            }
        })
    });
    group.finish();
    println!(
        "{ENTRIES} entries, {bytes} bytes, {} bytes per entry on average",
        bytes / ENTRIES
    );
}

criterion_group!(benches, per_entry);
criterion_main!(benches);
