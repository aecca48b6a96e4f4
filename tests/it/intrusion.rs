//! What an intruder or a careless client tried, and what the service must answer: no write
//! outside the caller's bodies, no filter that confirms withheld content, no erased value left in
//! the database files, no grant of power the log does not show.

use decision_log::store::{Power, Role};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, decision, encode};
use crate::on_both_backends;

on_both_backends!(
    a_supersession_needs_authority_over_the_successor_too,
    filters_match_only_what_the_reader_may_read,
    an_erased_value_is_gone_from_the_database_files,
    a_redaction_follows_its_decisions_classification,
    every_name_is_committed_and_no_erasure_is_claimed_that_did_not_happen,
    every_grant_of_power_is_on_the_log,
    tokens_from_before_grants_were_logged_are_recorded_once,
);

/// An erasure request for the value at `path`.
fn erasure(path: &str, reason: &str) -> Value {
    json!({"path": path, "basis": "UK GDPR Art. 17",
           "authorised_by": "data-protection-officer", "reason": reason})
}

/// Runs `decision-log verify` against the live log, with `token` or anonymously.
fn assert_verifies(app: &TestApp, token: Option<&str>) {
    let vkey = app.vkey();
    let mut args = vec!["verify", "--url", &app.base, "--vkey", &vkey];
    if let Some(token) = token {
        args.extend(["--token", token]);
    }
    let (code, out, err) = crate::helpers::run_cli(&args);
    assert_eq!(code, 0, "verify with {token:?}: {out}{err}");
}

fn id_of(created: &Value) -> String {
    created["id"].as_str().expect("id").to_owned()
}

async fn a_supersession_needs_authority_over_the_successor_too(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let cabinet_clerk = app
        .token("cabinet-clerk", Role::Secretariat, &["cabinet"])
        .await;
    let ours = id_of(&app.record(&decision(0)).await);
    let mut planning = decision(1);
    planning["body"] = json!("planning-committee");
    let theirs = id_of(&app.record(&planning).await);
    let (size, _) = app.head().await;

    // Body A's clerk may not make body B's decision the successor of its own.
    let (status, problem) = app
        .lineage(
            &ours,
            "supersession",
            &cabinet_clerk,
            json!({"superseded_by": theirs, "reason": "Replaced"}),
        )
        .await;
    assert_eq!(status, 403, "{problem:#}");
    assert_eq!(app.head().await.0, size, "a refusal writes nothing");
    let successor = app
        .get_json(&format!("/api/v1/decisions/{theirs}"), Some(&app.auditor))
        .await;
    assert!(
        successor["supersedes"]
            .as_array()
            .is_none_or(|list| list.is_empty()),
        "{successor:#}"
    );

    // A clerk of both bodies may.
    let (status, event) = app
        .lineage(
            &ours,
            "supersession",
            &app.clerk,
            json!({"superseded_by": theirs, "reason": "Replaced"}),
        )
        .await;
    assert_eq!(status, 201, "{event:#}");
    app.check_log().await;
}

/// The ids on the first page of `path` as `token` reads it.
async fn listed(app: &TestApp, path: &str, token: Option<&str>) -> Vec<String> {
    let page = app.get_json(path, token).await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|d| d["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn filters_match_only_what_the_reader_may_read(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let staff = app.token("staff-reader", Role::Staff, &[]).await;
    let planning_clerk = app
        .token("planning-clerk", Role::Secretariat, &["planning-committee"])
        .await;
    let cabinet_clerk = app
        .token("cabinet-clerk", Role::Secretariat, &["cabinet"])
        .await;

    let mut restricted = decision(0);
    restricted["classification"] = json!("restricted");
    restricted["tags"] = json!(["merger-talks"]);
    restricted["participants"][4]["role"] = json!("observer");
    restricted["exemption"] = json!({"paragraph": 3, "public_interest_reason": "Commercial terms.", "public_summary": "A commercial decision."});
    let restricted = id_of(&app.record(&restricted).await);
    let mut internal = decision(1);
    internal["classification"] = json!("internal");
    internal["tags"] = json!(["staff-restructure"]);
    let internal = id_of(&app.record(&internal).await);
    let public = id_of(&app.record(&decision(2)).await);

    // Unfiltered, the restricted decision's public face is listed to everyone.
    assert!(
        listed(&app, "/api/v1/decisions", None)
            .await
            .contains(&restricted)
    );

    let cases: [(&str, Option<&str>, Vec<&String>); 10] = [
        ("tag=merger-talks", None, vec![]),
        ("tag=merger-talks", Some(&staff), vec![]),
        ("tag=merger-talks", Some(&planning_clerk), vec![]),
        ("tag=merger-talks", Some(&cabinet_clerk), vec![&restricted]),
        ("tag=merger-talks", Some(&app.auditor), vec![&restricted]),
        ("tag=staff-restructure", None, vec![]),
        ("tag=staff-restructure", Some(&staff), vec![&internal]),
        ("participant_role=observer", None, vec![]),
        (
            "participant_role=observer",
            Some(&app.auditor),
            vec![&restricted],
        ),
        ("tag=waste", None, vec![&public]),
    ];
    for (query, token, expected) in cases {
        let got = listed(&app, &format!("/api/v1/decisions?{query}"), token).await;
        let expected: Vec<String> = expected.into_iter().cloned().collect();
        assert_eq!(got, expected, "?{query} read by {token:?}");
    }

    // The pages and the feeds use the same filter.
    for path in [
        "/?tag=merger-talks",
        "/feeds/decisions.atom?tag=merger-talks",
        "/feeds/decisions.json?tag=merger-talks",
        "/feeds/decisions.json?tag=staff-restructure",
    ] {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), 200, "{path}");
        let text = response.text().await.expect("text");
        for hidden in [&restricted, &internal] {
            assert!(!text.contains(hidden.as_str()), "{path} lists {hidden}");
        }
    }
    let text = app
        .get(
            &format!("/feeds/decisions.json?tag={}", encode("waste")),
            None,
        )
        .await
        .text()
        .await
        .expect("text");
    assert!(
        text.contains(public.as_str()),
        "the feed filter still matches"
    );
}

/// Every file of the test's database: the SQLite file with its `-wal` and `-shm`, or the
/// PostgreSQL database's own folder under the server's data directory (`base/<oid>`), after a
/// checkpoint has written every dirty page to it. PostgreSQL's write-ahead log is not read:
/// it keeps what was written until its segments are recycled (docs/API.md, "Erasure").
async fn database_files(app: &TestApp, backend: Backend) -> Vec<(String, Vec<u8>)> {
    use sea_orm::ConnectionTrait;
    let folder = match backend {
        Backend::Sqlite => {
            let path = app
                .db
                .url
                .trim_start_matches("sqlite://")
                .split('?')
                .next()
                .expect("path")
                .to_owned();
            std::path::Path::new(&path)
                .parent()
                .expect("folder")
                .to_owned()
        }
        Backend::Postgres => {
            let db = app.store.connection();
            db.execute_unprepared("CHECKPOINT")
                .await
                .expect("checkpoint");
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    "SELECT current_setting('data_directory') || '/base/' || oid::text AS folder \
                     FROM pg_database WHERE datname = current_database()",
                ))
                .await
                .expect("query")
                .expect("row");
            std::path::PathBuf::from(row.try_get::<String>("", "folder").expect("folder"))
        }
    };
    let mut files = Vec::new();
    for file in std::fs::read_dir(&folder).expect("database folder") {
        let path = file.expect("entry").path();
        if path.is_file() && path.extension().is_none_or(|e| e != "key") {
            let bytes = std::fs::read(&path).expect("readable");
            files.push((path.display().to_string(), bytes));
        }
    }
    assert!(
        !files.is_empty(),
        "no database files in {}",
        folder.display()
    );
    files
}

fn holding(files: &[(String, Vec<u8>)], needle: &str) -> Vec<String> {
    files
        .iter()
        .filter(|(_, bytes)| {
            bytes
                .windows(needle.len())
                .any(|window| window == needle.as_bytes())
        })
        .map(|(name, _)| name.clone())
        .collect()
}

async fn an_erased_value_is_gone_from_the_database_files(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let eraser = app
        .token_with("dpo-office", Role::Redactor, &[], &[Power::Erase])
        .await;
    // A busy log: public, internal and restricted decisions, amended, outcomes reported, their
    // rows rewritten many times before and after each erasure.
    let names: Vec<String> = (0..15)
        .map(|n| format!("Erasable Resident {n:02}x"))
        .collect();
    let mut ids = Vec::new();
    for (n, name) in names.iter().enumerate() {
        let mut record = decision(n);
        record["participants"][4]["name"] = json!(name);
        match n % 3 {
            1 => record["classification"] = json!("internal"),
            2 => {
                record["classification"] = json!("restricted");
                record["exemption"] = json!({"paragraph": 1, "public_interest_reason": "Personal information.", "public_summary": "A staffing decision."});
            }
            _ => {}
        }
        let id = id_of(&app.record(&record).await);
        for round in 0..3 {
            let (status, event) = app.lineage(&id,
                "amendments",
                &app.clerk,
                json!({"changes": {"title": format!("Decision {n}, revision {round}")}, "reason": "Wording"}),
            )
            .await;
            assert_eq!(status, 201, "{event:#}");
        }
        ids.push(id);
    }
    let before = database_files(&app, backend).await;
    for name in &names {
        assert!(
            !holding(&before, name).is_empty(),
            "{name} is on disk before its erasure, so the check below can fail"
        );
    }

    for id in &ids {
        let (status, event) = app
            .lineage(
                id,
                "redactions",
                &eraser,
                erasure("/participants/4/name", "Erasure request"),
            )
            .await;
        assert_eq!(status, 201, "{event:#}");
        // The log goes on; later writes touch the same rows.
        let (status, _) = app.lineage(id,
            "amendments",
            &app.clerk,
            json!({"changes": {"title": format!("Decision {id}, after erasure")}, "reason": "Wording"}),
        )
        .await;
        assert_eq!(status, 201);
    }

    let after = database_files(&app, backend).await;
    for name in &names {
        assert_eq!(
            holding(&after, name),
            Vec::<String>::new(),
            "{name} was erased but is still in the database files"
        );
    }
    assert!(
        !holding(&after, "Cllr Tom Reid").is_empty(),
        "the files searched hold the log's other content"
    );
    // And after a graceful shutdown, which on SQLite leaves the files as they are.
    let db = app.stop().await;
    let restarted = TestApp::spawn_on(db).await;
    let files = database_files(&restarted, backend).await;
    for name in &names {
        assert_eq!(
            holding(&files, name),
            Vec::<String>::new(),
            "{name} after a restart"
        );
    }
    restarted.check_log().await;
}

async fn a_redaction_follows_its_decisions_classification(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let eraser = app
        .token_with("dpo-office", Role::Redactor, &[], &[Power::Erase])
        .await;
    let mut restricted = decision(0);
    restricted["classification"] = json!("restricted");
    restricted["exemption"] = json!({"paragraph": 1, "public_interest_reason": "Personal information.", "public_summary": "A staffing decision."});
    let hidden = id_of(&app.record(&restricted).await);
    let public = id_of(&app.record(&decision(1)).await);
    let request = |reason: &str| erasure("/participants/3/name", reason);
    let (status, hidden_event) = app
        .lineage(
            &hidden,
            "redactions",
            &eraser,
            request("Cllr Owen Hughes asked for erasure"),
        )
        .await;
    assert_eq!(status, 201, "{hidden_event:#}");
    let (status, public_event) = app
        .lineage(&public, "redactions", &eraser, request("Erasure request"))
        .await;
    assert_eq!(status, 201, "{public_event:#}");

    let size = app.head().await.0;
    let log = app
        .get_json(&format!("/api/v1/log/entries?from=0&limit={size}"), None)
        .await;
    let entries = log["entries"].as_array().expect("entries");
    let redaction = &entries[2]["entry"]["record"];
    // Withheld from anonymous readers: path, authority and reason; in clear: that a value of
    // that entry was erased, its basis and its commitment.
    for member in ["path", "authorised_by", "reason"] {
        assert!(
            redaction[member]["commitment"].is_string(),
            "{member}: {redaction:#}"
        );
    }
    assert_eq!(redaction["basis"], "UK GDPR Art. 17");
    assert_eq!(redaction["leaf_index"], 0);
    assert!(!log.to_string().contains("Owen Hughes"));
    // The public decision's redaction is in clear.
    assert_eq!(
        entries[3]["entry"]["record"]["path"],
        "/participants/3/name"
    );
    let timeline = app
        .get_json(&format!("/api/v1/decisions/{hidden}"), None)
        .await;
    assert!(
        !timeline.to_string().contains("Owen Hughes"),
        "{timeline:#}"
    );
    // A reader who may read the decision reads the whole redaction.
    let served = app
        .get_json("/api/v1/log/entries/2", Some(&app.auditor))
        .await;
    let mut paths: Vec<&str> = served["disclosures"]
        .as_array()
        .expect("disclosures")
        .iter()
        .map(|d| d["path"].as_str().expect("path"))
        .collect();
    paths.sort_unstable();
    assert_eq!(paths, ["/authorised_by", "/path", "/reason"]);
    app.check_log().await;
    assert_verifies(&app, Some(&app.auditor));
    assert_verifies(&app, None);
}

async fn every_name_is_committed_and_no_erasure_is_claimed_that_did_not_happen(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let eraser = app
        .token_with("dpo-office", Role::Redactor, &[], &[Power::Erase])
        .await;
    let mut record = decision(0);
    record["decision_maker"] = json!({"kind": "body", "name": "Cllr Jane Doe's panel"});
    let id = id_of(&app.record(&record).await);
    let entry = app.get_json("/api/v1/log/entries/0", None).await;
    assert!(
        entry["entry"]["record"]["decision_maker"]["name"]["commitment"].is_string(),
        "a body's name is committed too: {entry:#}"
    );
    let request = erasure("/decision_maker/name", "Erasure request");
    let (status, event) = app
        .lineage(&id, "redactions", &eraser, request.clone())
        .await;
    assert_eq!(status, 201, "{event:#}");
    let read = app.get_json(&format!("/api/v1/decisions/{id}"), None).await;
    assert!(!read.to_string().contains("Jane Doe"), "{read:#}");
    let (status, problem) = app.lineage(&id, "redactions", &eraser, request).await;
    assert_eq!(status, 409, "erased once, then already erased: {problem:#}");
    app.check_log().await;
}

async fn every_grant_of_power_is_on_the_log(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let before = app.head().await.0;
    // An admin mints itself an auditor token: the log shows who did it.
    let (status, created) = app
        .post(
            "/api/v1/tokens",
            Some(&app.admin),
            &json!({"name": "shadow-auditor", "role": "auditor"}),
        )
        .await;
    assert_eq!(status, 201, "{created:#}");
    let secret = created["secret"].as_str().expect("secret").to_owned();
    let (status, created) = app
        .post(
            "/api/v1/tokens",
            Some(&app.admin),
            &json!({"name": "clerk-2027", "role": "secretariat", "bodies": ["cabinet"],
                    "expires_at": "2027-12-31T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, 201, "{created:#}");
    let revoked = app
        .client
        .delete(app.url("/api/v1/tokens/shadow-auditor"))
        .bearer_auth(&app.admin)
        .send()
        .await
        .expect("request");
    assert_eq!(revoked.status(), 200);
    // Revoking again changes nothing and records nothing.
    let again = app
        .client
        .delete(app.url("/api/v1/tokens/shadow-auditor"))
        .bearer_auth(&app.admin)
        .send()
        .await
        .expect("request");
    assert_eq!(again.status(), 200);

    let size = app.head().await.0;
    assert_eq!(size, before + 3);
    let log = app
        .get_json(&format!("/api/v1/log/entries?from={before}&limit=3"), None)
        .await;
    let entries: Vec<&Value> = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| &e["entry"])
        .collect();
    assert_eq!(entries[0]["kind"], "access.granted");
    assert_eq!(
        entries[0]["record"],
        json!({"token": "shadow-auditor", "role": "auditor"})
    );
    assert!(
        entries[0]["recorded_by"]
            .as_str()
            .is_some_and(|by| by.starts_with("admin-")),
        "the granting admin is named: {}",
        entries[0]
    );
    assert_eq!(
        entries[1]["record"],
        json!({"token": "clerk-2027", "role": "secretariat", "bodies": ["cabinet"],
               "expires_at": "2027-12-31T00:00:00Z"})
    );
    assert_eq!(entries[2]["kind"], "access.revoked");
    assert_eq!(entries[2]["decision_id"], entries[0]["decision_id"]);
    assert_eq!(entries[2]["record"], json!({"token": "shadow-auditor"}));
    assert!(!log.to_string().contains(&secret), "never the secret");
    // Grants are not decisions.
    let listed = app.get_json("/api/v1/decisions", None).await;
    assert_eq!(listed["items"], json!([]));
    app.check_log().await;
    assert_verifies(&app, None);
}

async fn tokens_from_before_grants_were_logged_are_recorded_once(backend: Backend) {
    use sea_orm::ConnectionTrait;
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // Two tokens as an earlier release left them: no grant id, one of them revoked.
    let db = app.store.connection();
    let (p, q) = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => ("$1, $2, $3", "$4"),
        _ => ("?, ?, ?", "?"),
    };
    for (name, revoked) in [
        ("old-clerk", None),
        ("old-auditor", Some("2026-10-02T00:00:00Z")),
    ] {
        let role = if revoked.is_some() {
            "auditor"
        } else {
            "secretariat"
        };
        db.execute_raw(sea_orm::Statement::from_sql_and_values(
            db.get_database_backend(),
            format!(
                "INSERT INTO api_tokens (name, token_hash, role, bodies, powers, created_at, revoked_at) \
                 VALUES ({p}, '[]', '[]', '2026-10-01T00:00:00Z', {q})"
            ),
            [
                name.into(),
                ledger::Hash::digest(name.as_bytes())
                    .as_bytes()
                    .to_vec()
                    .into(),
                role.into(),
                revoked.map(str::to_owned).into(),
            ],
        ))
        .await
        .expect("an older token");
    }
    db.execute_unprepared(
        "UPDATE api_tokens SET bodies = '[\"cabinet\"]' WHERE name = 'old-clerk'",
    )
    .await
    .expect("bodies");
    let before = app.head().await.0;

    // The next start records their grants, oldest first, as the operator, with the original
    // times; the start after that records nothing more.
    let db = app.stop().await;
    let app = TestApp::spawn_on(db).await;
    let size = app.head().await.0;
    assert_eq!(size, before + 3);
    let log = app
        .get_json(&format!("/api/v1/log/entries?from={before}&limit=3"), None)
        .await;
    let entries: Vec<&Value> = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| &e["entry"])
        .collect();
    let kinds: Vec<&str> = entries
        .iter()
        .map(|e| e["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(
        kinds,
        ["access.granted", "access.revoked", "access.granted"]
    );
    assert!(entries.iter().all(|e| e["recorded_by"] == "operator"));
    assert_eq!(
        entries[0]["record"],
        json!({"token": "old-auditor", "role": "auditor", "created_at": "2026-10-01T00:00:00Z"})
    );
    assert_eq!(
        entries[1]["record"],
        json!({"token": "old-auditor", "revoked_at": "2026-10-02T00:00:00Z"})
    );
    assert_eq!(entries[1]["decision_id"], entries[0]["decision_id"]);
    assert_eq!(
        entries[2]["record"],
        json!({"token": "old-clerk", "role": "secretariat", "bodies": ["cabinet"],
               "created_at": "2026-10-01T00:00:00Z"})
    );
    let db = app.stop().await;
    let app = TestApp::spawn_on(db).await;
    assert_eq!(app.head().await.0, size, "recorded once");
    app.check_log().await;
    assert_verifies(&app, None);

    // No token may take the name grants made without one are recorded under.
    let (status, problem) = app
        .post(
            "/api/v1/tokens",
            Some(&app.admin),
            &json!({"name": "operator", "role": "staff"}),
        )
        .await;
    assert_eq!(status, 422, "{problem:#}");
}
