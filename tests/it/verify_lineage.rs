//! `decision-log verify` checks a log's lineage (`docs/log-format.md` §11), not only its hashes:
//! a disclosure served for an erased value, a published value no longer served, or an entry the
//! decision's lifecycle does not admit (§5.9) fails the log even though every hash, link and root
//! still verifies.

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, decision, run_cli};
use crate::on_both_backends;
use crate::proofs::{checkpoint, python, run_python};
use decision_log::store::{Appended, NewEntry, Power, Role};
use ledger::EntryKind;

on_both_backends!(
    verify_checks_lineage_and_names_what_was_tampered_with,
    verify_fails_on_an_outcome_after_rescission,
    verify_fails_on_a_second_rescission,
    verify_fails_on_an_upheld_call_in_without_a_call_in,
);

/// POSTs a lineage request and returns the appended event, failing the test on anything but 201.
async fn lineage(app: &TestApp, id: &str, what: &str, token: &str, body: Value) -> Value {
    let (status, event) = app
        .post(
            &format!("/api/v1/decisions/{id}/{what}"),
            Some(token),
            &body,
        )
        .await;
    assert_eq!(status, 201, "{what}: {event:#}");
    event
}

async fn record(app: &TestApp, body: &Value) -> String {
    app.record(body).await["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// The disclosure at `path` served with entry `leaf` to the auditor.
pub(crate) async fn served_disclosure(app: &TestApp, leaf: u64, path: &str) -> Value {
    let page = app
        .get_json(
            &format!("/api/v1/log/entries?from={leaf}&limit=1"),
            Some(&app.auditor),
        )
        .await;
    page["entries"][0]["disclosures"]
        .as_array()
        .expect("disclosures")
        .iter()
        .find(|d| d["path"] == path)
        .cloned()
        .unwrap_or_else(|| panic!("leaf {leaf} has no disclosure at {path}"))
}

/// Which verifier gave an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    Rust,
    Python,
}

/// `verify --url` as an auditor (`token`) or anonymously, `verify --database-url`, and the
/// independent Python verifier over HTTP when the suite provides it.
fn verify_all(app: &TestApp, token: Option<&str>) -> Vec<(By, i32, String, String)> {
    let vkey = app.vkey();
    let mut url = vec!["--url", app.base.as_str(), "--vkey", vkey.as_str()];
    if let Some(token) = token {
        url.extend(["--token", token]);
    }
    let mut answers = Vec::new();
    for args in [
        [&["verify"][..], &url].concat(),
        vec!["verify", "--database-url", &app.db.url],
    ] {
        let (code, out, err) = run_cli(&args);
        answers.push((By::Rust, code, out, err));
    }
    if let Some(python) = python() {
        let (code, out, err) = run_python(&python, &url);
        answers.push((By::Python, code, out, err));
    }
    answers
}

async fn verify_checks_lineage_and_names_what_was_tampered_with(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let eraser = app
        .token_with("dpo-office", Role::Redactor, &[], &[Power::Erase])
        .await;
    let publisher = app
        .token_with("publisher", Role::Redactor, &[], &[Power::Publish])
        .await;

    // Leaves 0 to 7: three decisions and every kind of lineage an auditor checks.
    let public = record(&app, &decision(0)).await;
    let mut restricted = decision(1);
    restricted["classification"] = json!("restricted");
    restricted["exemption"] = json!({"paragraph": 1, "public_interest_reason": "Personal information.",
                                     "public_summary": "A staffing decision."});
    let restricted = record(&app, &restricted).await;
    let successor = record(&app, &decision(2)).await;
    let erased = served_disclosure(&app, 0, "/participants/2/name").await;
    lineage(
        &app,
        &public,
        "amendments",
        &app.clerk,
        json!({"changes": {"title": "Decision 0: close Northgate depot in 2027"}, "reason": "Date added"}),
    )
    .await;
    let erasure = json!({"path": "/participants/2/name", "basis": "UK GDPR Art. 17",
                         "authorised_by": "Data Protection Officer", "reason": "Erasure request 2026-114"});
    for id in [&public, &restricted] {
        lineage(&app, id, "redactions", &eraser, erasure.clone()).await;
    }
    lineage(
        &app,
        &restricted,
        "publication",
        &publisher,
        json!({"reason": "The exemption has lapsed"}),
    )
    .await;
    lineage(
        &app,
        &public,
        "supersession",
        &app.clerk,
        json!({"superseded_by": successor, "reason": "Replaced by the Southfield plan"}),
    )
    .await;
    let size = app.check_log().await;
    assert_eq!(size, 8);
    checkpoint(&app, size).await;

    // The honest log verifies for every reader and source, and says that lineage was checked.
    for token in [Some(app.auditor.as_str()), None] {
        for (by, code, out, err) in verify_all(&app, token) {
            assert_eq!(code, 0, "{by:?}: {out}{err}");
            assert!(
                by == By::Python
                    || (err.contains("lineage checked: references, supersessions, redactions, erasures, publications and what is served to")
                        && err.contains("over 3 decisions")),
                "{err}"
            );
        }
    }
    let (code, out, err) = run_cli(&[
        "verify",
        "--url",
        &app.base,
        "--vkey",
        &app.vkey(),
        "--json",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        (&report["lineage"], &report["lineage_decisions"]),
        (&json!("checked"), &json!(3))
    );

    // An export carries the same check offline: a disclosure of the erased name added to it fails.
    let (code, export, err) = run_cli(&["export", "--url", &app.base]);
    assert_eq!(code, 0, "{err}");
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("log.jsonl");
    let file = file.to_str().expect("utf-8");
    std::fs::write(file, &export).expect("write");
    let (code, out, err) = run_cli(&["verify", "--file", file, "--vkey", &app.vkey()]);
    assert_eq!(code, 0, "{out}{err}");
    let leaked: String = export
        .lines()
        .enumerate()
        .map(|(n, line)| {
            let mut line: Value = serde_json::from_str(line).expect("JSON line");
            if n == 1 {
                line["disclosures"]
                    .as_array_mut()
                    .expect("disclosures")
                    .push(erased.clone());
            }
            format!("{line}\n")
        })
        .collect();
    std::fs::write(file, &leaked).expect("write");
    let (code, out, _) = run_cli(&["verify", "--file", file, "--vkey", &app.vkey()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("FAILED: leaf 4: erased value still held"),
        "{out}"
    );
    // The JSON report of a failed run says what the lineage check came to, never "checked".
    let report = |contents: &str| {
        std::fs::write(file, contents).expect("write");
        let (code, out, err) =
            run_cli(&["verify", "--file", file, "--vkey", &app.vkey(), "--json"]);
        assert_eq!(code, 1, "{out}{err}");
        let report: Value = serde_json::from_str(&out).expect("JSON");
        assert_eq!(report["ok"], false, "{report}");
        assert_eq!(report["lineage_decisions"], Value::Null, "{report}");
        report["lineage"].clone()
    };
    assert_eq!(report(&leaked), "failed", "a lineage rule failed");
    let hash_altered = |leaf: usize| -> String {
        export
            .lines()
            .enumerate()
            .map(|(n, line)| {
                let mut line: Value = serde_json::from_str(line).expect("JSON line");
                if n == leaf + 1 {
                    line["entry_hash"] = json!("00".repeat(32));
                }
                format!("{line}\n")
            })
            .collect()
    };
    assert_eq!(
        report(&hash_altered(2)),
        "incomplete",
        "the chain broke at leaf 2: lineage held on leaves 0 and 1 only"
    );
    assert_eq!(
        report(&hash_altered(0)),
        "not_checked",
        "the chain broke at leaf 0: no entry was checked"
    );
    std::fs::write(file, &export).expect("write");

    // A run resumed from a state file cannot check lineage, and says so; --full does.
    let state = dir.path().join("state.json");
    let state = state.to_str().expect("utf-8");
    let vkey = app.vkey();
    let stateful = |extra: &[&'static str]| {
        let mut args = vec![
            "verify", "--url", &app.base, "--vkey", &vkey, "--state", state, "--json",
        ];
        args.extend(extra);
        let (code, out, err) = run_cli(&args);
        assert_eq!(code, 0, "{out}{err}");
        serde_json::from_str::<Value>(&out).expect("JSON")
    };
    assert_eq!(
        stateful(&[])["lineage"],
        "checked",
        "the first run reads from 0"
    );
    lineage(
        &app,
        &successor,
        "amendments",
        &app.clerk,
        json!({"changes": {"title": "Decision 2: the Southfield plan"}, "reason": "Renamed"}),
    )
    .await;
    checkpoint(&app, 9).await;
    let resumed = stateful(&[]);
    assert_eq!(
        (&resumed["lineage"], &resumed["resumed_from"]),
        (&json!("not_checked"), &json!(8))
    );
    let (_, _, err) = run_cli(&[
        "verify", "--url", &app.base, "--vkey", &vkey, "--state", state,
    ]);
    assert!(err.contains("lineage and tiles not checked"), "{err}");
    assert_eq!(stateful(&["--full"])["lineage"], "checked");

    // Behind the service's back, the erased name is put back: every hash still verifies, but the
    // value the redaction at leaf 4 erased is served again.
    let db = app.store.connection();
    db.execute_unprepared(&format!(
        "INSERT INTO disclosures (leaf_index, path, salt, value, visibility) VALUES (0, '/participants/2/name', '{}', '{}', 'public')",
        erased["salt"].as_str().expect("salt"),
        erased["value"],
    ))
    .await
    .expect("insert");
    for token in [Some(app.auditor.as_str()), None] {
        for (by, code, out, err) in verify_all(&app, token) {
            assert_eq!(code, 1, "{by:?}: {out}{err}");
            assert!(
                out.starts_with("FAILED: leaf 4: erased value still held:")
                    && out.contains("leaf 0 /participants/2/name"),
                "{by:?}: {out}"
            );
        }
    }
    db.execute_unprepared(
        "DELETE FROM disclosures WHERE leaf_index = 0 AND path = '/participants/2/name'",
    )
    .await
    .expect("delete");
    for (by, code, out, err) in verify_all(&app, None) {
        assert_eq!(code, 0, "{by:?}: {out}{err}");
    }

    // A published value withdrawn: the publication at leaf 6 is no longer honoured.
    db.execute_unprepared("DELETE FROM disclosures WHERE leaf_index = 1 AND path = '/title'")
        .await
        .expect("delete");
    for token in [Some(app.auditor.as_str()), None] {
        for (by, code, out, err) in verify_all(&app, token) {
            assert_eq!(code, 1, "{by:?}: {out}{err}");
            assert!(
                out.starts_with(&format!(
                    "FAILED: leaf 6: publication not honoured: decision {restricted} published leaf 1 /title"
                )),
                "{by:?}: {out}"
            );
        }
    }
}

/// Today, as the service dates lineage requests.
fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

/// Asks the service for `what` on decision `id` and expects it refused with a 409; then appends
/// the entry `kind` with `record` behind the service's back, straight into the store (every hash,
/// link and checkpoint of it is genuine), and expects every verifier to fail at its leaf, naming
/// the decision's state `state` and, for the Rust verifier, the very refusal the service gave.
async fn forge_refused(
    app: &TestApp,
    id: &str,
    request: (&str, Value),
    kind: EntryKind,
    record: Value,
    state: &str,
) {
    let (status, problem) = app.lineage(id, request.0, &app.clerk, request.1).await;
    assert_eq!(status, 409, "{problem:#}");
    let refusal = problem["detail"].as_str().expect("detail").to_owned();

    let appended = app
        .store
        .append(
            NewEntry {
                kind,
                decision_id: id.to_owned(),
                recorded_by: "cabinet-secretariat".into(),
                record,
                disclosures: Vec::new(),
            },
            None,
            chrono::Utc::now(),
        )
        .await
        .expect("the store appends what it is given");
    let Appended::Fresh(entry, _) = appended else {
        panic!("a fresh append")
    };
    let leaf = entry.leaf_index;
    let size = app.check_log().await;
    assert_eq!(size, leaf + 1, "the forged entry is the last");
    checkpoint(app, size).await;

    let failure = format!(
        "FAILED: leaf {leaf}: transition refused: {} while decision {id} is {state}: ",
        kind.as_str()
    );
    for token in [Some(app.auditor.as_str()), None] {
        for (by, code, out, err) in verify_all(app, token) {
            assert_eq!(code, 1, "{by:?}: {out}{err}");
            assert!(out.starts_with(&failure), "{by:?}: {out}");
            assert!(
                by == By::Python || out.trim_end().ends_with(&refusal),
                "{by:?}: {out} does not end with the service's refusal: {refusal}"
            );
        }
    }
}

async fn verify_fails_on_an_outcome_after_rescission(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let id = record(&app, &decision(0)).await;
    lineage(
        &app,
        &id,
        "rescission",
        &app.clerk,
        json!({"reason": "Funding withdrawn"}),
    )
    .await;
    checkpoint(&app, app.check_log().await).await;
    for (by, code, out, err) in verify_all(&app, None) {
        assert_eq!(code, 0, "{by:?}: the honest log verifies: {out}{err}");
    }
    forge_refused(
        &app,
        &id,
        (
            "outcomes",
            json!({"status": "on_track", "narrative": "Collections moved."}),
        ),
        EntryKind::OutcomeReported,
        json!({"status": "on_track", "reported_on": today(), "narrative": "Collections moved."}),
        "rescinded",
    )
    .await;
}

async fn verify_fails_on_a_second_rescission(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let id = record(&app, &decision(0)).await;
    lineage(
        &app,
        &id,
        "rescission",
        &app.clerk,
        json!({"reason": "Funding withdrawn"}),
    )
    .await;
    forge_refused(
        &app,
        &id,
        ("rescission", json!({"reason": "Withdrawn again"})),
        EntryKind::DecisionRescinded,
        json!({"rescinded_on": today(), "reason": "Withdrawn again"}),
        "rescinded",
    )
    .await;
}

async fn verify_fails_on_an_upheld_call_in_without_a_call_in(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // Another decision's call-in is no call-in of this one.
    let other = record(&app, &decision(1)).await;
    lineage(
        &app,
        &other,
        "call-in",
        &app.clerk,
        json!({"status": "called_in", "on": today()}),
    )
    .await;
    let id = record(&app, &decision(0)).await;
    forge_refused(
        &app,
        &id,
        ("call-in", json!({"status": "upheld", "on": today()})),
        EntryKind::CallIn,
        json!({"status": "upheld", "on": today()}),
        "in_force",
    )
    .await;
}
