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
);

async fn lineage(app: &TestApp, id: &str, what: &str, token: &str, body: Value) -> (u16, Value) {
    app.post(
        &format!("/api/v1/decisions/{id}/{what}"),
        Some(token),
        &body,
    )
    .await
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
    let (status, problem) = lineage(
        &app,
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
    let (status, event) = lineage(
        &app,
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
            let (status, event) = lineage(
                &app,
                &id,
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
        let (status, event) = lineage(
            &app,
            id,
            "redactions",
            &eraser,
            json!({"path": "/participants/4/name", "basis": "UK GDPR Art. 17",
                   "authorised_by": "data-protection-officer", "reason": "Erasure request"}),
        )
        .await;
        assert_eq!(status, 201, "{event:#}");
        // The log goes on; later writes touch the same rows.
        let (status, _) = lineage(
            &app,
            id,
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
