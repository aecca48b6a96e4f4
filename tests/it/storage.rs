//! Durability and integrity of the stored log: restarts, append-only triggers, tampering caught
//! by `verify`, views rebuilt from the log alone, and several service processes on one database.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use sea_orm::{ConnectionTrait, DbBackend};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestDb, decision, run_cli};
use crate::on_both_backends;

on_both_backends!(
    a_restart_keeps_every_entry_and_continues_the_chain,
    the_database_refuses_to_update_or_delete_an_entry,
    verify_names_the_leaf_altered_behind_the_services_back,
    rebuilt_views_equal_the_views_built_while_appending,
    a_head_that_contradicts_the_log_refuses_appends,
    a_broken_database_answers_problem_json_not_a_panic,
    recorded_at_never_runs_backwards_when_the_clock_does,
    a_log_from_before_the_tree_gets_its_tree_once_at_start_up,
    a_log_from_before_the_workflow_upgrades_in_place,
);

async fn a_restart_keeps_every_entry_and_continues_the_chain(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for n in 0..3 {
        app.record(&decision(n)).await;
    }
    let before = app.get_json("/api/v1/decisions", Some(&app.auditor)).await;
    let (_, head) = app.head().await;
    let db = app.stop().await;

    let app = TestApp::spawn_on(db).await;
    assert_eq!(
        app.get_json("/api/v1/decisions", Some(&app.auditor)).await,
        before
    );
    let next = app.record(&decision(3)).await;
    assert_eq!(next["receipt"]["leaf_index"], 3);
    assert_eq!(next["receipt"]["prev_hash"], head.as_str());
    assert_eq!(app.check_log().await, 4);
}

async fn the_database_refuses_to_update_or_delete_an_entry(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.record(&decision(0)).await;
    let db = app.store.connection();
    for sql in [
        "UPDATE log_entries SET kind = 'decision.forged' WHERE leaf_index = 0",
        "DELETE FROM log_entries WHERE leaf_index = 0",
    ] {
        let error = db
            .execute_unprepared(sql)
            .await
            .expect_err("the trigger refuses");
        assert!(error.to_string().contains("append-only"), "{sql}: {error}");
    }
    assert_eq!(app.check_log().await, 1);
}

async fn verify_names_the_leaf_altered_behind_the_services_back(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for n in 0..6 {
        app.record(&decision(n)).await;
    }
    let (code, out, _) = run_cli(&["verify", "--database-url", &app.db.url]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("OK: test.decision-log.example/log: 6 entries verified; root "),
        "{out}"
    );
    assert!(
        out.trim()
            .ends_with(&format!("; head {}", app.head().await.1)),
        "{out}"
    );

    let db = app.store.connection();
    let (drop_triggers, tamper) = match db.get_database_backend() {
        DbBackend::Postgres => (
            vec![
                "DROP TRIGGER log_entries_no_update_delete ON log_entries",
                "DROP TRIGGER log_entries_no_truncate ON log_entries",
            ],
            "UPDATE log_entries SET canonical = convert_to(replace(convert_from(canonical, 'UTF8'), 'Decision 3:', 'Decision 9:'), 'UTF8') WHERE leaf_index = 3",
        ),
        _ => (
            vec![
                "DROP TRIGGER log_entries_no_update",
                "DROP TRIGGER log_entries_no_delete",
            ],
            "UPDATE log_entries SET canonical = CAST(replace(CAST(canonical AS TEXT), 'Decision 3:', 'Decision 9:') AS BLOB) WHERE leaf_index = 3",
        ),
    };
    for sql in drop_triggers {
        db.execute_unprepared(sql).await.expect("drop trigger");
    }
    let changed = db.execute_unprepared(tamper).await.expect("tamper");
    assert_eq!(changed.rows_affected(), 1);

    let (code, out, _) = run_cli(&["verify", "--database-url", &app.db.url]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("FAILED: leaf 3: stored entry hash"),
        "{out}"
    );
    assert!(out.contains("but the entry bytes hash to"), "{out}");
}

async fn rebuilt_views_equal_the_views_built_while_appending(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for n in 0..5 {
        let mut record = decision(n);
        if n == 2 {
            record["classification"] = serde_json::json!("internal");
        }
        app.record(&record).await;
    }
    let before = snapshot(&app).await;
    assert_eq!(app.store.rebuild_views().await.expect("rebuilds"), 5);
    assert_eq!(snapshot(&app).await, before);

    let (code, _, err) = run_cli(&["rebuild-views", "--database-url", &app.db.url]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("from 5 entries"), "{err}");
    assert_eq!(snapshot(&app).await, before);
}

async fn a_head_that_contradicts_the_log_refuses_appends(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.record(&decision(0)).await;
    app.record(&decision(1)).await;
    let db = app.store.connection();
    let forged = match db.get_database_backend() {
        DbBackend::Postgres => "UPDATE log_head SET head_hash = sha256(head_hash)",
        _ => "UPDATE log_head SET head_hash = zeroblob(32)",
    };
    db.execute_unprepared(forged).await.expect("forge the head");

    let response = app.post_decision(&app.clerk, &decision(2)).await;
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.expect("JSON");
    assert_eq!(problem["type"], "/problems/log-inconsistent");
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("entry 1"),
        "{problem}"
    );
    // Nothing was appended: the entries still end at leaf 1.
    let entries = app
        .get_json("/api/v1/log/entries?from=0&limit=10", None)
        .await;
    assert_eq!(entries["entries"].as_array().expect("entries").len(), 2);
}

async fn a_broken_database_answers_problem_json_not_a_panic(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.record(&decision(0)).await;
    app.store
        .connection()
        .execute_unprepared("DROP TABLE decision_tags")
        .await
        .expect("drop a table");

    let response = app.get("/api/v1/decisions?tag=waste", None).await;
    assert_eq!(response.status(), 500);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.expect("JSON");
    assert_eq!(problem["type"], "/problems/internal");
    assert!(
        !problem["detail"]
            .as_str()
            .expect("detail")
            .contains("decision_tags"),
        "internals stay in the log"
    );

    // A failed append leaves no trace: the batch's transaction rolls back entry, disclosures and
    // head, and the caller is told that nothing was appended, without the database's words.
    let response = app.post_decision(&app.clerk, &decision(1)).await;
    assert_eq!(response.status(), 503);
    let problem: Value = response.json().await.expect("JSON");
    assert_eq!(problem["type"], "/problems/unavailable");
    let detail = problem["detail"].as_str().expect("detail");
    assert!(detail.contains("nothing was appended"), "{problem}");
    assert!(
        !detail.contains("decision_tags"),
        "internals stay in the log"
    );
    assert_eq!(app.head().await.0, 1);
    // The rest of the service keeps serving.
    assert_eq!(
        app.get("/api/v1/decisions/not-a-decision", None)
            .await
            .status(),
        404
    );
    assert_eq!(app.check_log().await, 1);
}

async fn recorded_at_never_runs_backwards_when_the_clock_does(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    // The clock reads 10:00:05, then 10:00:00 (an NTP step backwards), then 10:00:07.
    let at = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .expect("time")
            .with_timezone(&chrono::Utc)
    };
    let now = Arc::new(Mutex::new(at("2026-11-20T10:00:05Z")));
    let clock: decision_log::store::Clock = {
        let now = now.clone();
        Arc::new(move || *now.lock().expect("clock"))
    };
    let app = TestApp::spawn_with_clock(db, clock).await;
    let mut recorded = Vec::new();
    for (n, t) in [
        "2026-11-20T10:00:05Z",
        "2026-11-20T10:00:00Z",
        "2026-11-20T10:00:07Z",
    ]
    .iter()
    .enumerate()
    {
        *now.lock().expect("clock") = at(t);
        recorded.push(
            app.record(&decision(n)).await["receipt"]["recorded_at"]
                .as_str()
                .expect("time")
                .to_owned(),
        );
    }
    assert_eq!(
        recorded,
        [
            "2026-11-20T10:00:05.000Z",
            "2026-11-20T10:00:05.000Z",
            "2026-11-20T10:00:07.000Z"
        ]
    );
    // The server's date, not the machine's, decides what is "in the future".
    let mut tomorrow_but_one = decision(3);
    tomorrow_but_one["decided_on"] = serde_json::json!("2026-11-22");
    assert_eq!(
        app.post_decision(&app.clerk, &tomorrow_but_one)
            .await
            .status(),
        422
    );
    app.check_log().await;
}

/// Everything a reader with a token sees of the views, whole and filtered.
async fn snapshot(app: &TestApp) -> (Value, Value) {
    let all = app
        .get_json("/api/v1/decisions?limit=200", Some(&app.auditor))
        .await;
    let filtered = app
        .get_json(
            "/api/v1/decisions?tag=waste&participant_role=chair",
            Some(&app.auditor),
        )
        .await;
    (all, filtered)
}

/// A `decision-log serve` process on port 0; the port is read from its log line.
pub struct ServeProcess {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
}

impl ServeProcess {
    /// Starts the binary on `db`, once it listens. Killed (SIGKILL) when dropped.
    pub fn start(db: &TestDb) -> ServeProcess {
        let key = db.key.to_str().expect("utf-8 path");
        let mut child = Command::new(env!("CARGO_BIN_EXE_decision-log"))
            .args([
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--database-url",
                &db.url,
                "--signing-key",
                key,
            ])
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let base = loop {
            let line = lines
                .next()
                .expect("serve logs its address")
                .expect("utf-8");
            if let Some((_, rest)) = line.split_once("listening on ") {
                break rest
                    .split_whitespace()
                    .next()
                    .expect("address")
                    .trim_end_matches('\u{1b}')
                    .to_owned();
            }
        };
        // Keep draining the log so the process never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        ServeProcess { child, base }
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_service_processes_appending_to_one_postgres_neither_fork_nor_skip() {
    let Some(db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let one = ServeProcess::start(&db);
    let two = ServeProcess::start(&db);
    let app = TestApp::spawn_on(db).await;
    let client = reqwest::Client::new();
    let requests = (0..120).map(|n| {
        let base = if n % 2 == 0 { &one.base } else { &two.base };
        let request = client
            .post(format!("{base}/api/v1/decisions"))
            .bearer_auth(&app.clerk)
            .json(&decision(n));
        async move { request.send().await.expect("request") }
    });
    let mut indexes = Vec::new();
    for response in futures_util::future::join_all(requests).await {
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.expect("JSON");
        indexes.push(body["receipt"]["leaf_index"].as_u64().expect("index"));
    }
    indexes.sort_unstable();
    // Leaf 0 is the grant of the first-run admin token, which exactly one of them created.
    assert_eq!(indexes, (1..121).collect::<Vec<u64>>());
    assert_eq!(app.check_log().await, 121);
}

async fn a_log_from_before_the_tree_gets_its_tree_once_at_start_up(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for n in 0..7 {
        app.record(&decision(n)).await;
    }
    let root = crate::proofs::checkpoint(&app, 7).await.root;
    // Take the database back to what a log written before the Merkle tree looked like.
    let db = app.store.connection();
    let empty = match db.get_database_backend() {
        DbBackend::Postgres => "''::bytea",
        _ => "x''",
    };
    for sql in [
        "DELETE FROM merkle_nodes".to_owned(),
        "DELETE FROM checkpoints".to_owned(),
        format!("UPDATE log_head SET merkle_size = 0, frontier = {empty}"),
    ] {
        db.execute_unprepared(&sql).await.expect("downgrade");
    }
    let db = app.stop().await;

    // The next start extends the tree over the existing entries: same root, working proofs.
    let app = TestApp::spawn_on(db).await;
    let checkpoint = crate::proofs::checkpoint(&app, 7).await;
    assert_eq!((checkpoint.size, checkpoint.root), (7, root));
    let proof = app
        .get_json(
            "/api/v1/log/proofs/inclusion?leaf_index=3&tree_size=7",
            None,
        )
        .await;
    let hashes: Vec<ledger::Hash> =
        serde_json::from_value(proof["hashes"].clone()).expect("hashes");
    let leaf = ledger::Hash::parse(proof["leaf_hash"].as_str().expect("hex")).expect("hash");
    ledger::merkle::verify_inclusion(3, 7, &leaf, &hashes, &root).expect("the proof verifies");
    // And appends continue on the extended tree.
    app.record(&decision(7)).await;
    assert_eq!(app.check_log().await, 8);
    crate::proofs::checkpoint(&app, 8).await;
}

/// A database written before migration m0003: taken back to that schema, it upgrades at the next
/// start and every decision reads back as it did, with its state, a one-entry lineage and its
/// body registered.
async fn a_log_from_before_the_workflow_upgrades_in_place(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut restricted = decision(1);
    restricted["classification"] = json!("restricted");
    restricted["exemption"] = json!({"paragraph": 3, "public_interest_reason": "Terms.", "public_summary": "A depot decision."});
    let mut planning = decision(2);
    planning["body"] = json!("planning-committee");
    for record in [decision(0), restricted, planning] {
        app.record(&record).await;
    }
    let before = app.get_json("/api/v1/decisions", Some(&app.auditor)).await;
    let db = app.stop().await;

    let raw = sea_orm::Database::connect(db.url.as_str())
        .await
        .expect("connect");
    for sql in [
        // m0008's indexes name m0003's columns: they go first, and m0008 runs again.
        "DROP INDEX decisions_body_decided",
        "DROP INDEX decisions_type_decided",
        "DROP INDEX decisions_classification_decided",
        "DROP INDEX decisions_status_decided",
        "DELETE FROM seaql_migrations WHERE version = 'm0008_decided_order'",
        "DROP INDEX decisions_status",
        "DROP INDEX decisions_review_on",
        "DROP TABLE decision_events",
        "DROP TABLE body_members",
        "DROP TABLE bodies",
        "DROP TABLE idempotency_keys",
        "ALTER TABLE decisions DROP COLUMN status",
        "ALTER TABLE decisions DROP COLUMN effective_from",
        "ALTER TABLE decisions DROP COLUMN review_on",
        "ALTER TABLE decisions DROP COLUMN last_outcome",
        "ALTER TABLE decisions DROP COLUMN superseded_by",
        "ALTER TABLE decisions DROP COLUMN supersedes",
        "ALTER TABLE decisions DROP COLUMN published",
        "ALTER TABLE decisions DROP COLUMN updated_at",
        "ALTER TABLE api_tokens DROP COLUMN powers",
        "ALTER TABLE api_tokens DROP COLUMN expires_at",
        "ALTER TABLE api_tokens DROP COLUMN created_by",
        "DELETE FROM seaql_migrations WHERE version = 'm0003_workflow'",
    ] {
        raw.execute_unprepared(sql).await.expect(sql);
    }
    raw.close().await.expect("close");

    let app = TestApp::spawn_on(db).await;
    let after = app.get_json("/api/v1/decisions", Some(&app.auditor)).await;
    assert_eq!(after, before);
    for item in after["items"].as_array().expect("items") {
        let id = item["id"].as_str().expect("id");
        let one = app
            .get_json(&format!("/api/v1/decisions/{id}"), Some(&app.auditor))
            .await;
        assert_eq!(one["lineage"].as_array().expect("lineage").len(), 1);
        assert_eq!(one["lineage"][0]["kind"], "decision.recorded");
        assert_eq!(one["state"]["status"], "in_force");
    }
    let bodies = app.get_json("/api/v1/bodies", None).await;
    assert_eq!(bodies.as_array().expect("bodies").len(), 2);
    let first = after["items"][2]["id"].as_str().expect("id");
    let (status, _) = app
        .post(
            &format!("/api/v1/decisions/{first}/outcomes"),
            Some(&app.clerk),
            &json!({"status": "on_track", "narrative": "After the upgrade."}),
        )
        .await;
    assert_eq!(status, 201);
    app.store.rebuild_views().await.expect("rebuild");
    assert_eq!(app.check_log().await, 4);
}
