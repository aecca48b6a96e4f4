//! `decision-log verify` against a store changed behind the service's back, as an intruder with
//! database access would change it: every change a reader could be shown must fail the log,
//! naming the leaf, node or tile; an honest log must verify however it was read; and the
//! verifier must write nothing.

use sea_orm::{ConnectionTrait, DbBackend};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestDb, decision, run_cli};
use crate::on_both_backends;
use crate::proofs::checkpoint;
use crate::verify_lineage::served_disclosure as disclosure;
use decision_log::store::{Power, Role};

on_both_backends!(
    verify_checks_who_is_served_what,
    verify_recomputes_the_stored_tree,
    verify_reads_the_bytes_the_log_stores,
    verify_reads_past_the_checkpoint_without_a_false_alarm,
    verify_database_writes_nothing_and_runs_beside_appends,
    verify_database_checks_every_stored_copy,
    verify_compares_the_served_key_with_the_pinned_one,
    verify_refuses_a_duplicate_member_in_a_stored_disclosure,
);

/// `verify --url`, with `token` and the extra arguments.
fn verify_url(app: &TestApp, token: Option<&str>, extra: &[&str]) -> (i32, String, String) {
    let vkey = app.vkey();
    let mut args = vec![
        "verify",
        "--url",
        app.base.as_str(),
        "--vkey",
        vkey.as_str(),
    ];
    if let Some(token) = token {
        args.extend(["--token", token]);
    }
    args.extend(extra);
    run_cli(&args)
}

/// `verify --url` and the independent Python verifier (`tools/independent-verifier`, when
/// DECISION_LOG_TEST_PYTHON is set) with the same arguments: each must give the same verdict.
fn verify_url_both(
    app: &TestApp,
    token: Option<&str>,
    extra: &[&str],
) -> Vec<(i32, String, String)> {
    let mut answers = vec![verify_url(app, token, extra)];
    if let Some(python) = crate::proofs::python() {
        let vkey = app.vkey();
        let mut args = vec!["--url", app.base.as_str(), "--vkey", vkey.as_str()];
        if let Some(token) = token {
            args.extend(["--token", token]);
        }
        args.extend(extra);
        let (code, out, err) = crate::proofs::run_python(&python, &args);
        answers.push((code, out, format!("(Python) {err}")));
    }
    answers
}

fn verify_db(url: &str) -> (i32, String, String) {
    run_cli(&["verify", "--database-url", url])
}

/// Records `body` and returns its id and leaf index.
async fn record(app: &TestApp, body: &Value) -> (String, u64) {
    let leaf = app.head().await.0;
    let id = app.record(body).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    (id, leaf)
}

fn restricted(n: usize) -> Value {
    let mut record = decision(n);
    record["classification"] = json!("restricted");
    record["exemption"] = json!({"paragraph": 1, "public_interest_reason": "Personal information.",
                                 "public_summary": "A staffing decision."});
    record
}

async fn sql(app: &TestApp, statement: &str) {
    app.store
        .connection()
        .execute_unprepared(statement)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
}

/// Deletes the disclosure at `path` of entry `leaf` behind the service's back; returns it.
async fn delete_disclosure(app: &TestApp, leaf: u64, path: &str) -> Value {
    let saved = disclosure(app, leaf, path).await;
    sql(
        app,
        &format!("DELETE FROM disclosures WHERE leaf_index = {leaf} AND path = '{path}'"),
    )
    .await;
    saved
}

/// Puts back a disclosure [`delete_disclosure`] took, with its stored `visibility`.
async fn restore_disclosure(app: &TestApp, leaf: u64, saved: &Value, visibility: &str) {
    sql(
        app,
        &format!(
            "INSERT INTO disclosures (leaf_index, path, salt, value, visibility) VALUES ({leaf}, '{}', '{}', '{}', '{visibility}')",
            saved["path"].as_str().expect("path"),
            saved["salt"].as_str().expect("salt"),
            saved["value"]
        ),
    )
    .await;
}

fn assert_fails(answer: (i32, String, String), starts: &str, what: &str) {
    let (code, out, err) = answer;
    assert_eq!(code, 1, "{what}: {out}{err}");
    assert!(
        out.starts_with(starts),
        "{what}: expected {starts:?}, got {out}"
    );
}

fn assert_passes(answer: (i32, String, String), what: &str) {
    let (code, out, err) = answer;
    assert_eq!(code, 0, "{what}: {out}{err}");
}

async fn verify_checks_who_is_served_what(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, public) = record(&app, &decision(0)).await;
    let (_, secret) = record(&app, &restricted(1)).await;
    let size = app.check_log().await;
    checkpoint(&app, size).await;
    let reader = &app.clerk.clone();
    let honest = |app: &TestApp| {
        for answer in verify_url_both(app, None, &[]) {
            assert_passes(answer, "anonymous");
        }
        for answer in verify_url_both(app, Some(&app.auditor), &[]) {
            assert_passes(answer, "auditor");
        }
        for answer in verify_url_both(app, Some(reader), &["--reader", "secretariat"]) {
            assert_passes(answer, "secretariat");
        }
        assert_passes(verify_db(&app.db.url), "database");
    };
    honest(&app);

    // A public name deleted from the store: no longer served to anyone.
    let name = delete_disclosure(&app, public, "/participants/0/name").await;
    let withheld = format!("FAILED: leaf {public}: value withheld: /participants/0/name");
    for answer in verify_url_both(&app, None, &[]) {
        assert_fails(answer, &withheld, "anonymous");
    }
    for answer in verify_url_both(&app, Some(&app.auditor), &[]) {
        assert_fails(answer, &withheld, "auditor");
    }
    assert_fails(verify_db(&app.db.url), &withheld, "database");
    restore_disclosure(&app, public, &name, "public").await;
    honest(&app);

    // A restricted value withheld from the auditor, who is served every value not erased; an
    // anonymous reader, never served it, cannot tell.
    let title = delete_disclosure(&app, secret, "/title").await;
    let withheld = format!("FAILED: leaf {secret}: value withheld: /title");
    for answer in verify_url_both(&app, Some(&app.auditor), &[]) {
        assert_fails(answer, &withheld, "auditor");
    }
    assert_fails(verify_db(&app.db.url), &withheld, "database");
    for answer in verify_url_both(&app, None, &[]) {
        assert_passes(answer, "anonymous");
    }
    restore_disclosure(&app, secret, &title, "restricted").await;
    honest(&app);

    // The restricted title relabelled public: served to anonymous readers and to staff.
    sql(
        &app,
        &format!(
            "UPDATE disclosures SET visibility = 'public' WHERE leaf_index = {secret} AND path = '/title'"
        ),
    )
    .await;
    let leaked = format!("FAILED: leaf {secret}: value served beyond its readers: /title");
    for answer in verify_url_both(&app, None, &[]) {
        assert_fails(answer, &leaked, "anonymous");
    }
    for answer in verify_url_both(&app, Some(reader), &["--reader", "secretariat"]) {
        assert_fails(answer, &leaked, "secretariat");
    }
    assert_fails(
        verify_db(&app.db.url),
        &format!("FAILED: leaf {secret}: disclosure /title is stored as public"),
        "database",
    );
}

/// A SQL literal of `bytes`, on `backend`.
fn literal(backend: DbBackend, bytes: &[u8]) -> String {
    let hex = hex::encode(bytes);
    match backend {
        DbBackend::Postgres => format!("decode('{hex}', 'hex')"),
        _ => format!("X'{hex}'"),
    }
}

/// SQL for 32 bytes of `byte`, on `backend`.
fn bytes(backend: DbBackend, byte: u8) -> String {
    literal(backend, &[byte; 32])
}

/// The one byte column `query` selects, as `value`.
async fn select_bytes(app: &TestApp, query: &str) -> Vec<u8> {
    let db = app.store.connection();
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            query.to_owned(),
        ))
        .await
        .expect("select")
        .unwrap_or_else(|| panic!("no row: {query}"));
    row.try_get("", "value").expect("value")
}

/// The stored tree node at `level`/`idx`.
async fn node(app: &TestApp, level: u8, idx: u64) -> Vec<u8> {
    select_bytes(
        app,
        &format!("SELECT hash AS value FROM merkle_nodes WHERE level = {level} AND idx = {idx}"),
    )
    .await
}

async fn verify_recomputes_the_stored_tree(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for n in 0..6 {
        app.record(&decision(n)).await;
    }
    let size = app.check_log().await;
    checkpoint(&app, size).await;
    let (code, out, err) = verify_url(&app, None, &["--json"]);
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).expect("JSON report");
    // The partial hash tile and bundle at the checkpoint; every leaf's proof, every older size's.
    assert_eq!(report["tiles_checked"], 2, "{report}");
    assert_eq!(report["proofs_checked"], 2 * size - 1, "{report}");
    let (code, out, err) = run_cli(&["verify", "--database-url", &app.db.url, "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).expect("JSON report");
    // Every complete subtree: the leaves, then each level's pairs.
    let nodes: u64 = (0..64).map(|level| size >> level).sum();
    assert_eq!(report["nodes_checked"], nodes, "{report}");

    let db = app.store.connection().get_database_backend();
    let leaf_node = node(&app, 0, 2).await;
    let inner_node = node(&app, 1, 0).await;

    // A leaf hash altered where it is stored as a tree node: the tile built from it differs.
    sql(
        &app,
        &format!(
            "UPDATE merkle_nodes SET hash = {} WHERE level = 0 AND idx = 2",
            bytes(db, 7)
        ),
    )
    .await;
    let sevens = "07".repeat(32);
    assert_fails(
        verify_url(&app, None, &[]),
        &format!("FAILED: tile 0/000.p/{size}: hash 2 is {sevens}"),
        "url",
    );
    assert_fails(
        verify_db(&app.db.url),
        &format!("FAILED: stored tree node 0/2 (level/index): holds {sevens}"),
        "database",
    );
    sql(
        &app,
        &format!(
            "UPDATE merkle_nodes SET hash = {} WHERE level = 0 AND idx = 2",
            literal(db, &leaf_node)
        ),
    )
    .await;
    assert_passes(verify_url(&app, None, &[]), "restored");

    // An inner node, in no tile: the served proofs built from it fail.
    sql(
        &app,
        &format!(
            "UPDATE merkle_nodes SET hash = {} WHERE level = 1 AND idx = 0",
            bytes(db, 9)
        ),
    )
    .await;
    assert_fails(
        verify_url(&app, None, &[]),
        &format!(
            "FAILED: the served inclusion proof of leaf 2 in tree size {size}: it does not lead to the checkpoint's root"
        ),
        "url",
    );
    assert_fails(
        verify_db(&app.db.url),
        "FAILED: stored tree node 1/0 (level/index): holds 0909",
        "database",
    );
    sql(
        &app,
        &format!(
            "UPDATE merkle_nodes SET hash = {} WHERE level = 1 AND idx = 0",
            literal(db, &inner_node)
        ),
    )
    .await;
    assert_passes(verify_db(&app.db.url), "restored");
}

/// Lets the test rewrite stored entries, as someone with the database's files could.
async fn drop_append_only_triggers(app: &TestApp) {
    let statements: &[&str] = match app.store.connection().get_database_backend() {
        DbBackend::Postgres => &[
            "DROP TRIGGER log_entries_no_update_delete ON log_entries",
            "DROP TRIGGER log_entries_no_truncate ON log_entries",
        ],
        _ => &[
            "DROP TRIGGER log_entries_no_update",
            "DROP TRIGGER log_entries_no_delete",
        ],
    };
    for statement in statements {
        sql(app, statement).await;
    }
}

async fn verify_reads_the_bytes_the_log_stores(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for n in 0..5 {
        app.record(&decision(n)).await;
    }
    let size = app.check_log().await;
    checkpoint(&app, size).await;
    drop_append_only_triggers(&app).await;
    let original = app
        .get_json("/api/v1/log/entries?from=3&limit=1", None)
        .await["entries"][0]["entry"]
        .clone();
    let original = ledger::canonical::to_canonical_bytes(&original).expect("canonical");
    let backend = app.store.connection().get_database_backend();
    let rewrite = |bytes: &[u8]| {
        format!(
            "UPDATE log_entries SET canonical = {} WHERE leaf_index = 3",
            literal(backend, bytes)
        )
    };
    let export = tempfile::NamedTempFile::new().expect("temp file");
    let vkey = app.vkey();
    let export_and_verify = |app: &TestApp| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_decision-log"))
            .args(["export", "--url", &app.base])
            .output()
            .expect("export runs");
        assert!(output.status.success(), "export: {output:?}");
        std::fs::write(export.path(), &output.stdout).expect("write export");
        run_cli(&[
            "verify",
            "--file",
            export.path().to_str().expect("utf-8"),
            "--vkey",
            &vkey,
        ])
    };

    // The same JSON value, not in canonical form (a space after the first brace): the API and
    // the tiles serve these bytes, and they fail.
    let mut spaced = b"{ ".to_vec();
    spaced.extend_from_slice(&original[1..]);
    // A duplicated member: `{"format":9,...,"format":2,...}` parses (last wins) to the original.
    let mut twice = b"{\"format\":9,".to_vec();
    twice.extend_from_slice(&original[1..]);
    for (what, bytes) in [("non-canonical", &spaced), ("duplicate member", &twice)] {
        sql(&app, &rewrite(bytes)).await;
        for (code, out, err) in verify_url_both(&app, None, &[]) {
            assert_eq!(code, 1, "{what}: {out}{err}");
            assert!(out.starts_with("FAILED: leaf 3: "), "{what}: {out}{err}");
        }
        let (code, out, err) = export_and_verify(&app);
        assert_eq!(code, 1, "{what}, file: {out}{err}");
        assert!(out.starts_with("FAILED: leaf 3: "), "{what}, file: {out}");
        assert_fails(verify_db(&app.db.url), "FAILED: leaf 3: ", what);
    }
    sql(&app, &rewrite(&original)).await;
    for answer in verify_url_both(&app, None, &[]) {
        assert_passes(answer, "restored");
    }
    assert_passes(export_and_verify(&app), "restored, file");

    // A pinned key that is not the log's: the database's identity is compared with it.
    let other = decision_log::keys::generate("test.decision-log.example/log")
        .expect("key")
        .verifier()
        .to_vkey();
    assert_fails(
        run_cli(&["verify", "--database-url", &app.db.url, "--vkey", &other]),
        "FAILED: the log's verifier key is",
        "database, pinned",
    );
}

async fn verify_reads_past_the_checkpoint_without_a_false_alarm(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let publisher = app
        .token_with("publisher", Role::Redactor, &[], &[Power::Publish])
        .await;
    let eraser = app
        .token_with("dpo-office", Role::Redactor, &[], &[Power::Erase])
        .await;
    let (id, _) = record(&app, &restricted(0)).await;
    let (status, body) = app
        .lineage(
            &id,
            "publication",
            &publisher,
            json!({"reason": "The exemption has lapsed"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let size = app.check_log().await;
    checkpoint(&app, size).await;

    // The same database, served with checkpoints ten minutes apart: the erasure that follows
    // the publication is in no checkpoint yet, but its value is no longer served.
    let db: TestDb = app.stop().await;
    let app = TestApp::spawn_configured(db, decision_log::store::system_clock(), |config| {
        config.checkpoint_interval_ms = 600_000;
    })
    .await;
    let (status, body) = app
        .lineage(
            &id,
            "redactions",
            &eraser,
            json!({"path": "/participants/2/name", "basis": "UK GDPR Art. 17",
                   "authorised_by": "Data Protection Officer", "reason": "Erasure request 2026-114"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        checkpoint(&app, 0).await.size,
        size,
        "no checkpoint covers the erasure"
    );
    for token in [None, Some(app.auditor.as_str())] {
        let (code, out, err) = verify_url(&app, token, &["--json"]);
        assert_eq!(code, 0, "{token:?}: {out}{err}");
        let report: Value = serde_json::from_str(&out).expect("JSON");
        assert_eq!(
            (&report["checkpoint_size"], &report["uncovered"]),
            (&json!(size), &json!(1)),
            "{report}"
        );
    }
    for token in [None, Some(app.auditor.as_str())] {
        for (code, out, err) in verify_url_both(&app, token, &[]) {
            assert_eq!(code, 0, "{token:?}: {out}{err}");
            assert!(
                err.contains(&format!(
                    "the first {size} are covered by the signed checkpoint; the newest 1 are not yet"
                )),
                "{err}"
            );
        }
    }
    assert_passes(verify_db(&app.db.url), "database");
}

/// Every file of a SQLite database (the database, its WAL and shared memory), by name.
fn sqlite_files(url: &str) -> Vec<(String, Vec<u8>)> {
    let path = url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .expect("path");
    let dir = std::path::Path::new(path).parent().expect("folder");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.to_string_lossy().contains("decision-log.db"))
        // A file removed since the folder was listed is absent.
        .filter_map(|p| Some((p.display().to_string(), std::fs::read(&p).ok()?)))
        .collect();
    files.sort();
    files
}

async fn verify_database_writes_nothing_and_runs_beside_appends(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for n in 0..5 {
        app.record(&decision(n)).await;
    }
    let size = app.check_log().await;
    checkpoint(&app, size).await;
    let admin_db = app.store.connection().clone();
    let url = match backend {
        Backend::Sqlite => app.db.url.clone(),
        Backend::Postgres => {
            // A role that may only read: no write, no lock, no migration would be allowed.
            let (server, name) = app.db.url.rsplit_once('/').expect("database");
            let role = format!("ro_{name}");
            for statement in [
                format!("CREATE ROLE {role} LOGIN"),
                format!("GRANT CONNECT ON DATABASE {name} TO {role}"),
                format!("GRANT USAGE ON SCHEMA public TO {role}"),
                format!("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"),
            ] {
                admin_db
                    .execute_unprepared(&statement)
                    .await
                    .unwrap_or_else(|e| panic!("{statement}: {e}"));
            }
            let (scheme, rest) = server.split_once("://").expect("scheme");
            let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
            format!("{scheme}://{role}@{host}/{name}")
        }
    };

    // Beside live appends.
    let appends = {
        let base = app.base.clone();
        let clerk = app.clerk.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            for n in 10..40 {
                let status = client
                    .post(format!("{base}/api/v1/decisions"))
                    .bearer_auth(&clerk)
                    .json(&decision(n))
                    .send()
                    .await
                    .expect("append")
                    .status();
                assert_eq!(status, 201);
            }
        })
    };
    for _ in 0..3 {
        let url = url.clone();
        let (code, out, err) = tokio::task::spawn_blocking(move || verify_db(&url))
            .await
            .expect("verify");
        assert_eq!(code, 0, "beside appends: {out}{err}");
    }
    appends.await.expect("appends");
    assert_passes(verify_db(&url), "after the appends");

    if backend == Backend::Sqlite {
        // With the service stopped, the files are exactly as they were.
        let db = app.stop().await;
        // The stopped service's last connections close (and remove the WAL) in the background.
        let mut before = sqlite_files(&db.url);
        for _ in 0..50 {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let now = sqlite_files(&db.url);
            if now == before {
                break;
            }
            before = now;
        }
        assert_passes(verify_db(&db.url), "stopped");
        let after = sqlite_files(&db.url);
        let names =
            |files: &[(String, Vec<u8>)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(&before),
            names(&after),
            "verify left or removed a file"
        );
        for ((name, a), (_, b)) in before.iter().zip(&after) {
            assert!(
                a == b,
                "verify changed {name}: {} bytes, then {}",
                a.len(),
                b.len()
            );
        }
    }
}

/// `verify --database-url` compares everything the store keeps beside the entries with the
/// entries: a read view's copy, a checkpoint's root column, the head's compact range.
async fn verify_database_checks_every_stored_copy(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for n in 0..3 {
        app.record(&decision(n)).await;
    }
    let size = app.check_log().await;
    checkpoint(&app, size).await;
    assert_passes(verify_db(&app.db.url), "honest");
    let db = app.store.connection().get_database_backend();

    sql(
        &app,
        "UPDATE decision_events SET recorded_by = 'someone-else' WHERE leaf_index = 1",
    )
    .await;
    assert_fails(
        verify_db(&app.db.url),
        "FAILED: stored decision_events row of leaf 1: recorded_by holds \"someone-else\"",
        "view row",
    );
    sql(
        &app,
        "UPDATE decision_events SET recorded_by = (SELECT recorded_by FROM decisions WHERE leaf_index = 1) WHERE leaf_index = 1",
    )
    .await;
    assert_passes(verify_db(&app.db.url), "view row restored");

    let frontier = select_bytes(&app, "SELECT frontier AS value FROM log_head").await;
    let mut wrong = frontier.clone();
    wrong[0] ^= 1;
    sql(
        &app,
        &format!("UPDATE log_head SET frontier = {}", literal(db, &wrong)),
    )
    .await;
    assert_fails(
        verify_db(&app.db.url),
        "FAILED: stored head row: its frontier is not the compact range",
        "head frontier",
    );
    sql(
        &app,
        &format!("UPDATE log_head SET frontier = {}", literal(db, &frontier)),
    )
    .await;
    assert_passes(verify_db(&app.db.url), "head restored");

    sql(
        &app,
        &format!(
            "UPDATE checkpoints SET root_hash = {} WHERE tree_size = {size}",
            bytes(db, 5)
        ),
    )
    .await;
    assert_fails(
        verify_db(&app.db.url),
        &format!("FAILED: stored checkpoint of tree size {size}: its root column holds"),
        "checkpoint root",
    );
}

/// A front for `app` that serves `key` at `/api/v1/log/key` and everything else as `app` does:
/// a log whose checkpoints verify under the pinned key but which tells its other readers
/// another key. Returns its base URL.
async fn serving_another_key(app: &TestApp, key: String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let front = format!("http://{}", listener.local_addr().expect("address"));
    let (base, client) = (app.base.clone(), app.client.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (base, client, key) = (base.clone(), client.clone(), key.clone());
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&request);
                let target = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let (status, body) = if target == "/api/v1/log/key" {
                    (200, format!("{key}\n").into_bytes())
                } else {
                    let response = client
                        .get(format!("{base}{target}"))
                        .send()
                        .await
                        .expect("forward");
                    let status = response.status().as_u16();
                    (status, response.bytes().await.expect("body").to_vec())
                };
                let head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body).await;
            });
        }
    });
    front
}

async fn verify_compares_the_served_key_with_the_pinned_one(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.record(&decision(0)).await;
    checkpoint(&app, app.check_log().await).await;
    let other = decision_log::keys::generate("test.decision-log.example/log")
        .expect("key")
        .verifier()
        .to_vkey();
    let honest = serving_another_key(&app, app.vkey()).await;
    let vkey = app.vkey();
    assert_passes(
        run_cli(&["verify", "--url", &honest, "--vkey", &vkey]),
        "the front itself changes nothing",
    );
    let front = serving_another_key(&app, other.clone()).await;
    assert_fails(
        run_cli(&["verify", "--url", &front, "--vkey", &vkey]),
        &format!("FAILED: the log's verifier key is {other:?}, not the pinned {vkey:?}"),
        "served key",
    );
}

/// A stored disclosure value with a member named twice, the first a forgery: read leniently it
/// is the committed value (the last member wins) and would open its commitment.
async fn verify_refuses_a_duplicate_member_in_a_stored_disclosure(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, leaf) = record(&app, &restricted(0)).await;
    let size = app.check_log().await;
    checkpoint(&app, size).await;
    assert_passes(verify_db(&app.db.url), "honest");
    let page = app
        .get_json(
            &format!("/api/v1/log/entries?from={leaf}&limit=1"),
            Some(&app.auditor),
        )
        .await;
    let (path, value) = page["entries"][0]["disclosures"]
        .as_array()
        .expect("disclosures")
        .iter()
        .find_map(|d| {
            let value = d["value"].as_object().filter(|m| !m.is_empty())?;
            Some((d["path"].as_str()?.to_owned(), Value::Object(value.clone())))
        })
        .expect("a restricted record commits an object value");
    let first = value
        .as_object()
        .and_then(|m| m.keys().next().cloned())
        .expect("a member");
    let canonical =
        String::from_utf8(ledger::canonical::to_canonical_bytes(&value).expect("canonical"))
            .expect("utf-8");
    let forged = format!("{{{}:\"forged\",{}", json!(first), &canonical[1..]);
    assert_eq!(serde_json::from_str::<Value>(&forged).expect("json"), value);
    sql(
        &app,
        &format!(
            "UPDATE disclosures SET value = '{}' WHERE leaf_index = {leaf} AND path = '{path}'",
            forged.replace('\'', "''")
        ),
    )
    .await;
    let (code, out, err) = verify_db(&app.db.url);
    assert_eq!(code, 1, "database: {out}{err}");
    assert!(
        out.starts_with(&format!(
            "FAILED: stored entries from leaf 0: leaf {leaf}: disclosure {path}"
        )),
        "database: {out}"
    );
    assert!(out.contains("duplicate"), "database: {out}");
    // The service does not serve the forgery as the committed value either.
    let (code, out, err) = verify_url(&app, Some(&app.auditor), &[]);
    assert_ne!(code, 0, "url: {out}{err}");
}
