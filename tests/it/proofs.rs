//! The verifiable log: checkpoints, inclusion and consistency proofs, tiles, receipts, and the
//! auditor's verifier against a live, an exported and a rewritten log.

use std::path::Path;

use ledger::Hash;
use ledger::checkpoint::Checkpoint;
use ledger::merkle::{self, MemoryTree};
use ledger::note::Verifier;
use ledger::tile::{TileId, TileKind};
use serde_json::Value;

use crate::helpers::{Backend, TestApp, TestDb, decision, run_cli};
use crate::on_both_backends;

on_both_backends!(
    every_proof_verifies_against_the_served_checkpoint,
    tiles_reassemble_into_the_checkpointed_tree,
);

/// Records `n` decisions, eight at a time.
pub async fn fill(app: &TestApp, from: usize, n: usize) {
    for chunk in (from..from + n).collect::<Vec<_>>().chunks(8) {
        let requests = chunk
            .iter()
            .map(|&i| async move { app.post_decision(&app.clerk, &decision(i)).await });
        for response in futures_util::future::join_all(requests).await {
            assert_eq!(response.status(), 201);
        }
    }
}

/// The served checkpoint, checked with the log's verifier key as the test knows it (not as the
/// server says it), once it covers at least `size` entries.
pub async fn checkpoint(app: &TestApp, size: u64) -> Checkpoint {
    let vkey = app.vkey();
    assert_eq!(
        app.get_json_text("/api/v1/log/key").await.trim(),
        vkey,
        "the served key is the log's key"
    );
    let verifier = Verifier::from_vkey(&vkey).expect("vkey");
    for _ in 0..100 {
        let note = app.get_json_text("/api/v1/log/checkpoint").await;
        let checkpoint = Checkpoint::open(&note, &verifier).expect("the checkpoint verifies");
        if checkpoint.size >= size {
            return checkpoint;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no checkpoint covers {size} entries after 5 s");
}

/// Every entry hash, from the entries themselves (not from the tree).
async fn leaf_hashes(app: &TestApp, size: u64) -> MemoryTree {
    let mut tree = MemoryTree::new();
    let mut from = 0;
    while from < size {
        let page = app
            .get_json(&format!("/api/v1/log/entries?from={from}&limit=1000"), None)
            .await;
        for e in page["entries"].as_array().expect("entries") {
            let canonical = ledger::canonical::to_canonical_bytes(&e["entry"]).expect("canonical");
            tree.push(Hash::leaf(&canonical));
            from += 1;
        }
    }
    tree
}

fn hashes(value: &Value) -> Vec<Hash> {
    serde_json::from_value(value.clone()).expect("hex hashes")
}

async fn every_proof_verifies_against_the_served_checkpoint(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    fill(&app, 0, 2100).await;
    let checkpoint = checkpoint(&app, 2100).await;
    let size = checkpoint.size;
    let reference = leaf_hashes(&app, size).await;
    assert_eq!(
        reference.root(size).expect("root"),
        checkpoint.root,
        "the entries hash to the signed root"
    );

    for leaf in 0..size {
        let proof = app
            .get_json(
                &format!("/api/v1/log/proofs/inclusion?leaf_index={leaf}&tree_size={size}"),
                None,
            )
            .await;
        let leaf_hash = Hash::parse(proof["leaf_hash"].as_str().expect("hex")).expect("hash");
        assert_eq!(
            Some(leaf_hash),
            reference.node(merkle::NodeId {
                level: 0,
                index: leaf
            })
        );
        merkle::verify_inclusion(
            leaf,
            size,
            &leaf_hash,
            &hashes(&proof["hashes"]),
            &checkpoint.root,
        )
        .unwrap_or_else(|e| panic!("leaf {leaf}: {e}"));
    }
    // Without tree_size the proof is for the latest checkpoint.
    let proof = app
        .get_json("/api/v1/log/proofs/inclusion?leaf_index=7", None)
        .await;
    assert_eq!(proof["tree_size"], size);

    let mut pairs = vec![
        (1, size),
        (size, size),
        (1, 2),
        (255, 256),
        (256, 257),
        (1000, 2047),
        (2047, 2048),
    ];
    pairs.extend((1..size).step_by(97).map(|m| (m, size)));
    pairs.extend((3..size).step_by(211).map(|m| (m, m + 300).min((m, size))));
    for (old, new) in pairs {
        let proof = app
            .get_json(
                &format!("/api/v1/log/proofs/consistency?from={old}&to={new}"),
                None,
            )
            .await;
        let old_root = reference.root(old).expect("root");
        let new_root = reference.root(new).expect("root");
        merkle::verify_consistency(old, new, &old_root, &new_root, &hashes(&proof["hashes"]))
            .unwrap_or_else(|e| panic!("{old} → {new}: {e}"));
        // A tampered proof fails, naming what differs.
        let mut forged = hashes(&proof["hashes"]);
        if let Some(first) = forged.first_mut() {
            first.0[0] ^= 1;
            let error = merkle::verify_consistency(old, new, &old_root, &new_root, &forged)
                .expect_err("tampered");
            assert!(!error.to_string().is_empty());
        }
    }
    // A tampered inclusion proof, root or leaf fails.
    let proof = app
        .get_json(
            &format!("/api/v1/log/proofs/inclusion?leaf_index=1234&tree_size={size}"),
            None,
        )
        .await;
    let leaf_hash = Hash::parse(proof["leaf_hash"].as_str().expect("hex")).expect("hash");
    let mut forged = hashes(&proof["hashes"]);
    forged[3].0[31] ^= 0x80;
    assert!(merkle::verify_inclusion(1234, size, &leaf_hash, &forged, &checkpoint.root).is_err());
    let mut wrong_root = checkpoint.root;
    wrong_root.0[0] ^= 1;
    assert!(
        merkle::verify_inclusion(
            1234,
            size,
            &leaf_hash,
            &hashes(&proof["hashes"]),
            &wrong_root
        )
        .is_err()
    );
    assert!(
        merkle::verify_inclusion(
            1235,
            size,
            &leaf_hash,
            &hashes(&proof["hashes"]),
            &checkpoint.root
        )
        .is_err()
    );

    // Requests the tree cannot answer are refused with 400.
    for bad in [
        format!("inclusion?leaf_index={size}&tree_size={size}"),
        format!("inclusion?leaf_index=0&tree_size={}", size + 10_000),
        format!("consistency?from={}&to={size}", size + 1),
        format!("consistency?from=5&to={}", size + 10_000),
        "inclusion?tree_size=5".to_owned(),
    ] {
        let response = app.get(&format!("/api/v1/log/proofs/{bad}"), None).await;
        assert_eq!(response.status(), 400, "{bad}");
    }

    // The auditor's verifier agrees, over HTTP, and reports in JSON for machines.
    let (code, out, err) = run_cli(&[
        "verify",
        "--url",
        &app.base,
        "--vkey",
        &app.vkey(),
        "--json",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).expect("one JSON object");
    assert_eq!(report["ok"], true);
    assert!(report["tree_size"].as_u64().expect("size") >= size);
    // With a token, the disclosures of non-public records are served and checked too.
    let (code, out, err) = run_cli(&[
        "verify",
        "--url",
        &app.base,
        "--vkey",
        &app.vkey(),
        "--token",
        &app.auditor,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(report["entries_per_second"].as_f64().expect("rate") > 0.0);
}

async fn tiles_reassemble_into_the_checkpointed_tree(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    fill(&app, 0, 600).await;
    let checkpoint = checkpoint(&app, 600).await;
    assert_eq!(
        app.get_json_text("/tlog/checkpoint").await.lines().nth(1),
        Some(checkpoint.size.to_string().as_str())
    );
    let size = checkpoint.size;

    let fetch = |id: TileId| {
        let app = &app;
        async move {
            let response = app.get(&format!("/tlog/tile/{}", id.path()), None).await;
            assert_eq!(response.status(), 200, "{}", id.path());
            assert_eq!(
                response.headers()["content-type"],
                "application/octet-stream"
            );
            assert!(
                response.headers()["cache-control"]
                    .to_str()
                    .expect("ascii")
                    .contains("immutable")
            );
            response.bytes().await.expect("bytes").to_vec()
        }
    };
    // Level 0: every leaf hash, in full tiles and one partial; each entry bundle hashes to it.
    let mut leaves = Vec::new();
    let mut index = 0;
    while index * 256 < size {
        let width = (size - index * 256).min(256);
        let tile = fetch(TileId {
            kind: TileKind::Hashes { level: 0 },
            index,
            width,
        })
        .await;
        let bundle = fetch(TileId {
            kind: TileKind::Entries,
            index,
            width,
        })
        .await;
        let entries = ledger::tile::split_entry_bundle(&bundle).expect("a well-formed bundle");
        assert_eq!(entries.len() as u64, width);
        for (i, entry) in entries.iter().enumerate() {
            assert_eq!(
                Hash::leaf(entry).0.as_slice(),
                &tile[i * 32..(i + 1) * 32],
                "entry {}",
                index * 256 + i as u64
            );
        }
        leaves.extend(
            tile.chunks(32)
                .map(|c| Hash::from_slice(c).expect("32 bytes")),
        );
        index += 1;
    }
    let mut tree = MemoryTree::new();
    for leaf in &leaves {
        tree.push(*leaf);
    }
    assert_eq!(
        tree.root(size).expect("root"),
        checkpoint.root,
        "level-0 tiles give the signed root"
    );
    // Level 1: each hash is the tree hash of a full level-0 tile.
    let level1 = fetch(TileId {
        kind: TileKind::Hashes { level: 1 },
        index: 0,
        width: size / 256,
    })
    .await;
    for (n, hash) in level1.chunks(32).enumerate() {
        let full = merkle::fold(
            &merkle::range_nodes(n as u64 * 256, (n as u64 + 1) * 256)
                .iter()
                .map(|id| tree.node(*id).expect("node"))
                .collect::<Vec<_>>(),
        );
        assert_eq!(hash, full.0.as_slice(), "level-1 hash {n}");
    }
    // Tiles the tree does not hold, and malformed paths, are 404.
    for bad in [
        "0/002",
        "0/002.p/255",
        "1/000",
        "entries/003",
        "0/2",
        "0/x000/001",
        "64/000",
        "0/000.p/256",
    ] {
        let response = app.get(&format!("/tlog/tile/{bad}"), None).await;
        assert_eq!(response.status(), 404, "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_checkpoint_follows_a_burst_of_appends_within_a_second_not_one_per_entry() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    fill(&app, 0, 40).await;
    let started = std::time::Instant::now();
    checkpoint(&app, 40).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let signed: i64 = sea_orm::ConnectionTrait::query_one_raw(
        app.store.connection(),
        sea_orm::Statement::from_string(
            app.store.backend(),
            "SELECT COUNT(*) AS n FROM checkpoints",
        ),
    )
    .await
    .expect("query")
    .expect("row")
    .try_get("", "n")
    .expect("count");
    assert!(signed < 40, "{signed} checkpoints for 40 entries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_verify_offline_after_the_server_is_gone_and_tampering_is_named() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    fill(&app, 0, 5).await;
    let created = app.record(&decision(5)).await;
    fill(&app, 6, 4).await;
    let id = created["id"].as_str().expect("id");
    let receipt = app
        .get_json(&format!("/api/v1/decisions/{id}/receipt"), None)
        .await;
    let tlog_proof = app
        .get_json_text(&format!("/api/v1/decisions/{id}/receipt.tlog-proof"))
        .await;
    assert!(
        tlog_proof.starts_with("c2sp.org/tlog-proof@v1\nextra "),
        "{tlog_proof}"
    );
    assert_eq!(receipt["entries"][0]["leaf_index"], 5);
    let vkey = app.vkey();
    let dir = tempfile::tempdir().expect("dir");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path.to_str().expect("utf-8").to_owned()
    };
    let json = write("receipt.json", &receipt.to_string());
    let text = write("receipt.tlog-proof", &tlog_proof);
    drop(app.stop().await);

    for file in [&json, &text] {
        let (code, out, err) = run_cli(&["verify", "--receipt", file, "--vkey", &vkey]);
        assert_eq!(code, 0, "{file}: {out}{err}");
        assert!(
            out.starts_with("OK: test.decision-log.example/log"),
            "{out}"
        );
    }
    let tampered = |name: &str, change: &dyn Fn(&mut Value)| {
        let mut r = receipt.clone();
        change(&mut r);
        write(name, &r.to_string())
    };
    let cases: Vec<(String, &str)> = vec![
        (
            tampered("entry.json", &|r| {
                r["entries"][0]["entry"]["record"]["title"] =
                    "Decision 5: keep Northgate depot".into()
            }),
            "FAILED: receipt, leaf 5: entry_hash says",
        ),
        (
            tampered("proof.json", &|r| {
                let h = r["entries"][0]["inclusion_proof"]["hashes"][0]
                    .as_str()
                    .expect("hex")
                    .to_owned();
                let first = if h.starts_with('0') { '1' } else { '0' };
                let flipped = format!("{first}{}", &h[1..]);
                r["entries"][0]["inclusion_proof"]["hashes"][0] = flipped.into();
            }),
            "FAILED: receipt, leaf 5: the inclusion proof does not lead to the checkpoint's root",
        ),
        (
            tampered("origin.json", &|r| r["origin"] = "other.example/log".into()),
            "FAILED: receipt, leaf 0: the receipt names origin \"other.example/log\"",
        ),
        (
            tampered("signature.json", &|r| {
                let note = r["checkpoint"]
                    .as_str()
                    .expect("note")
                    .replace("\n10\n", "\n11\n");
                r["checkpoint"] = note.into();
            }),
            "FAILED: checkpoint:",
        ),
        (
            tampered("name.json", &|r| {
                for d in r["entries"][0]["disclosures"]
                    .as_array_mut()
                    .expect("disclosures")
                {
                    if d["path"] == "/participants/0/name" {
                        d["value"] = "Someone Else".into();
                    }
                }
            }),
            "FAILED: receipt, leaf 5: the disclosure for /participants/0/name does not match its commitment",
        ),
    ];
    for (file, want) in cases {
        let (code, out, _) = run_cli(&["verify", "--receipt", &file, "--vkey", &vkey]);
        assert_eq!(code, 1, "{file}: {out}");
        assert!(out.starts_with(want), "{file}: {out}");
    }
    // Another log's key does not verify it.
    let other = decision_log::keys::generate("other.example/log")
        .expect("key")
        .verifier()
        .to_vkey();
    let (code, out, _) = run_cli(&["verify", "--receipt", &json, "--vkey", &other]);
    assert_eq!(code, 1, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_verifies_offline_and_a_changed_line_is_named() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    fill(&app, 0, 30).await;
    checkpoint(&app, 30).await;
    let (code, export, err) = run_cli(&["export", "--url", &app.base]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(export.lines().count(), 31);
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("log.jsonl");
    std::fs::write(&path, &export).expect("write");
    let path = path.to_str().expect("utf-8");
    let (code, out, _) = run_cli(&["verify", "--file", path, "--vkey", &app.vkey()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("OK: test.decision-log.example/log: 30 entries verified"),
        "{out}"
    );

    let changed: String = export
        .lines()
        .enumerate()
        .map(|(n, line)| if n == 13 { line.replace("Decision ", "Decisi0n ") } else { line.to_owned() } + "\n")
        .collect();
    std::fs::write(path, changed).expect("write");
    let (code, out, _) = run_cli(&["verify", "--file", path, "--vkey", &app.vkey()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("FAILED: leaf 12: stored entry hash"),
        "{out}"
    );
}

/// Copies a stopped SQLite log (database and key) to a new folder: a second log with the same
/// key, origin and first entries.
async fn clone_log(db: &TestDb) -> TestDb {
    let source = Path::new(
        db.url
            .trim_start_matches("sqlite://")
            .split('?')
            .next()
            .expect("path"),
    )
    .to_owned();
    let copy = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    let target = Path::new(
        copy.url
            .trim_start_matches("sqlite://")
            .split('?')
            .next()
            .expect("path"),
    )
    .to_owned();
    for suffix in ["", "-wal", "-shm"] {
        let from = format!("{}{suffix}", source.display());
        if Path::new(&from).exists() {
            std::fs::copy(&from, format!("{}{suffix}", target.display())).expect("copy");
        }
    }
    std::fs::copy(&db.key, &copy.key).expect("copy key");
    copy
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_state_file_catches_a_history_rewritten_under_the_same_key() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    fill(&app, 0, 5).await;
    let db = app.stop().await;
    let fork = clone_log(&db).await;

    // The log as the auditor first sees it: entries 0 to 9.
    let honest = TestApp::spawn_on(db).await;
    fill(&honest, 5, 5).await;
    checkpoint(&honest, 10).await;
    let state_dir = tempfile::tempdir().expect("dir");
    let state = state_dir.path().join("state.json");
    let state = state.to_str().expect("utf-8");
    let vkey = honest.vkey();
    let (code, out, err) = run_cli(&[
        "verify",
        "--url",
        &honest.base,
        "--vkey",
        &vkey,
        "--state",
        state,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    // A later run resumes: only what was appended since is read, and consistency is proved.
    fill(&honest, 10, 3).await;
    checkpoint(&honest, 13).await;
    let (code, out, err) = run_cli(&[
        "verify",
        "--url",
        &honest.base,
        "--vkey",
        &vkey,
        "--state",
        state,
        "--json",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        (
            report["resumed_from"].as_u64(),
            report["entries_checked"].as_u64()
        ),
        (Some(10), Some(3))
    );

    // Another history under the same key and origin, diverging at entry 5.
    let forged = TestApp::spawn_on(fork).await;
    assert_eq!(forged.vkey(), vkey);
    let mut different = decision(5);
    different["title"] = "Decision 5: keep Northgate depot open".into();
    forged.record(&different).await;
    fill(&forged, 6, 9).await;
    checkpoint(&forged, 15).await;
    // On its own it is a perfectly valid log...
    let (code, out, _) = run_cli(&["verify", "--url", &forged.base, "--vkey", &vkey]);
    assert_eq!(code, 0, "{out}");
    // ...but not the one the auditor verified before.
    for full in [false, true] {
        let mut args = vec![
            "verify",
            "--url",
            &forged.base,
            "--vkey",
            &vkey,
            "--state",
            state,
        ];
        if full {
            args.push("--full");
        }
        let (code, out, _) = run_cli(&args);
        assert_eq!(code, 1, "{out}");
        assert!(
            out.starts_with("FAILED: history rewritten: the checkpoint verified earlier (size 13"),
            "{out}"
        );
    }
}

/// The Python interpreter with `cryptography` that `scripts/test.sh` prepares; `None` under a
/// plain `cargo test`, unless the full suite is required.
pub fn python() -> Option<String> {
    match std::env::var("DECISION_LOG_TEST_PYTHON") {
        Ok(python) => Some(python),
        Err(_) => {
            assert!(
                std::env::var_os("DECISION_LOG_REQUIRE_POSTGRES").is_none(),
                "DECISION_LOG_TEST_PYTHON is not set but the full suite is required"
            );
            eprintln!("skipped: set DECISION_LOG_TEST_PYTHON (scripts/test.sh does)");
            None
        }
    }
}

pub fn run_python(python: &str, args: &[&str]) -> (i32, String, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/independent-verifier/verify.py");
    let output = std::process::Command::new(python)
        .arg(script)
        .args(args)
        .output()
        .expect("python runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_independent_python_verifier_written_from_the_spec_agrees() {
    let Some(python) = python() else { return };
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    fill(&app, 0, 300).await;
    let mut restricted = decision(300);
    restricted["classification"] = "restricted".into();
    restricted["exemption"] = serde_json::json!({"paragraph": 3, "public_interest_reason": "Terms under negotiation.", "public_summary": "A depot decision."});
    let created = app.record(&restricted).await;
    let checkpoint = checkpoint(&app, 301).await;
    let vkey = app.vkey();
    let ok = format!(
        "OK: {} {} {}",
        checkpoint.origin, checkpoint.size, checkpoint.root
    );
    for args in [
        vec!["--url", app.base.as_str(), "--vkey", vkey.as_str()],
        vec![
            "--url",
            app.base.as_str(),
            "--vkey",
            vkey.as_str(),
            "--token",
            app.auditor.as_str(),
        ],
        vec![
            "--url",
            app.base.as_str(),
            "--vkey",
            vkey.as_str(),
            "--tiles",
        ],
    ] {
        let (code, out, err) = run_python(&python, &args);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        assert!(out.contains(&ok), "{args:?}: {out}");
    }
    let id = created["id"].as_str().expect("id");
    let receipt = app
        .get_json(
            &format!("/api/v1/decisions/{id}/receipt"),
            Some(&app.auditor),
        )
        .await
        .to_string();
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("receipt.json");
    std::fs::write(&path, &receipt).expect("write");
    let (code, out, err) = run_python(
        &python,
        &["--receipt", path.to_str().expect("utf-8"), "--vkey", &vkey],
    );
    assert_eq!(code, 0, "{out}{err}");
    // And it fails, as ours does, on a receipt whose entry was changed.
    std::fs::write(&path, receipt.replace("Decision 300", "Decision 999")).expect("write");
    let (code, out, _) = run_python(
        &python,
        &["--receipt", path.to_str().expect("utf-8"), "--vkey", &vkey],
    );
    assert_eq!(code, 1, "{out}");
}
