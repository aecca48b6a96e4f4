//! `docs/log-format.md` is a spec an auditor implements from: its worked example is recomputed
//! here from the record it shows, with the ledger code, byte for byte.

use std::path::Path;

use chrono::NaiveDate;
use decision_log::record::DecisionRecord;
use ledger::entry::{Entry, EntryKind, FORMAT_VERSION, GENESIS_PREV_HASH, entry_hash};
use serde_json::Value;

/// The fenced block that follows `<!-- example:NAME -->` in the spec.
fn block<'a>(doc: &'a str, name: &str) -> &'a str {
    let marker = format!("<!-- example:{name} -->");
    let start = doc
        .find(&marker)
        .unwrap_or_else(|| panic!("docs/log-format.md has no {marker}"));
    let after = &doc[start + marker.len()..];
    let open = after
        .find("```")
        .expect("a fenced block follows the marker");
    let body = &after[open..];
    let body = &body[body.find('\n').expect("fence line") + 1..];
    body[..body.find("```").expect("closing fence")].trim_end_matches('\n')
}

#[test]
fn the_worked_example_in_the_log_format_spec_is_exact() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/log-format.md"))
            .expect("docs/log-format.md");
    let submitted: Value =
        serde_json::from_str(block(&doc, "record")).expect("the example record is JSON");
    let record = DecisionRecord::from_json(
        &submitted,
        NaiveDate::from_ymd_opt(2026, 11, 29).expect("date"),
    )
    .expect("the example record is valid");

    // Salts 00 01 … 0f for the first commitment, 10 11 … 1f for the second, and so on.
    let mut next = 0u8;
    let (hashed, disclosures) = record.commit(|| {
        let salt = std::array::from_fn(|i| next * 16 + i as u8);
        next += 1;
        salt
    });
    let entry = Entry {
        format: FORMAT_VERSION,
        leaf_index: 0,
        kind: EntryKind::DecisionRecorded,
        decision_id: "019a7c5e-3f00-7000-8000-00000000d0c5".into(),
        recorded_at: "2026-11-20T09:30:00.000Z".into(),
        recorded_by: "finance-clerk".into(),
        prev_hash: GENESIS_PREV_HASH,
        record: hashed,
    };

    let (first, _) = &disclosures[0];
    let triple = ledger::canonical::to_canonical_bytes(&serde_json::json!([
        first.salt,
        first.path,
        first.value
    ]))
    .expect("canonical");
    let canonical = entry.canonical_bytes().expect("canonical");
    let disclosures_json: Vec<Value> = disclosures
        .iter()
        .map(|(d, _)| serde_json::json!({"path": d.path, "salt": d.salt, "value": d.value}))
        .collect();
    let want = [
        (
            "disclosure-triple",
            String::from_utf8(triple).expect("utf-8"),
        ),
        (
            "disclosure-digest",
            first.digest().expect("digest").to_hex(),
        ),
        (
            "canonical-entry",
            String::from_utf8(canonical.clone()).expect("utf-8"),
        ),
        ("entry-hash", entry_hash(&canonical).to_hex()),
        (
            "disclosures",
            serde_json::to_string_pretty(&disclosures_json).expect("JSON"),
        ),
    ];
    for (name, computed) in want {
        assert_eq!(
            block(&doc, name),
            computed,
            "docs/log-format.md example:{name} differs from the code"
        );
    }
}
