//! The secretariat's workflow end to end: a decision's whole life, erasure, publication and
//! retried writes — with every verifier passing after every step and the read views matching
//! what a rebuild from the log alone derives.

use decision_log::store::{Power, Role};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, decision, run_cli};
use crate::on_both_backends;
use crate::proofs::{checkpoint, python, run_python};

on_both_backends!(
    a_decision_lives_its_whole_life,
    an_erased_value_is_gone_from_everything_the_service_holds,
    withheld_content_is_published_provably_unchanged,
    retried_writes_append_once,
    overdue_reviews_are_listed_until_an_outcome_is_reported,
);

/// Every check an auditor can make passes: the in-process chain check, `decision-log verify`
/// with an auditor's token, and the independent Python verifier (anonymous and with a token).
/// Then the read views are rebuilt from the log alone and must read back identically.
async fn all_verified(app: &TestApp, ids: &[&str]) {
    let size = app.check_log().await;
    checkpoint(app, size).await;
    let vkey = app.vkey();
    let (code, out, err) = run_cli(&[
        "verify",
        "--url",
        &app.base,
        "--vkey",
        &vkey,
        "--token",
        &app.auditor,
    ]);
    assert_eq!(code, 0, "verify at size {size}: {out}{err}");
    if let Some(python) = python() {
        for token in [None, Some(app.auditor.as_str())] {
            let mut args = vec!["--url", app.base.as_str(), "--vkey", vkey.as_str()];
            if let Some(token) = token {
                args.extend(["--token", token]);
            }
            let (code, out, err) = run_python(&python, &args);
            assert_eq!(code, 0, "python verifier at size {size}: {out}{err}");
        }
    }
    let mut before = Vec::new();
    for id in ids {
        before.push(read(app, id, Some(&app.auditor)).await);
    }
    app.store.rebuild_views().await.expect("rebuild");
    for (id, before) in ids.iter().zip(before) {
        assert_eq!(
            read(app, id, Some(&app.auditor)).await,
            before,
            "the view of {id} differs from one rebuilt from the log"
        );
    }
}

async fn read(app: &TestApp, id: &str, token: Option<&str>) -> Value {
    app.get_json(&format!("/api/v1/decisions/{id}"), token)
        .await
}

fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

async fn a_decision_lives_its_whole_life(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let clerk = app.clerk.as_str();
    let a = app.record(&decision(0)).await;
    let a = a["id"].as_str().expect("id").to_owned();
    all_verified(&app, &[&a]).await;

    // Amended: current values change, the lineage says what, who, when and why.
    let (status, event) = app.lineage(&a,
        "amendments",
        clerk,
        json!({"changes": {"title": "Close Northgate depot (amended)", "tags": ["waste", "depots"]},
               "reason": "The title named the wrong site"}),
    )
    .await;
    assert_eq!(status, 201, "{event:#}");
    assert_eq!(event["kind"], "decision.amended");
    let now = read(&app, &a, None).await;
    assert_eq!(now["record"]["title"], "Close Northgate depot (amended)");
    let changes = &now["lineage"][1]["detail"]["changes"];
    assert_eq!(changes[0]["field"], "tags");
    assert_eq!(changes[0]["old"], json!(["waste", "property"]));
    assert_eq!(changes[1]["field"], "title");
    assert_eq!(changes[1]["new"], "Close Northgate depot (amended)");
    assert_eq!(
        now["lineage"][1]["detail"]["reason"],
        "The title named the wrong site"
    );
    assert!(
        now["lineage"][1]["recorded_by"]
            .as_str()
            .is_some_and(|by| by.starts_with("clerk-"))
    );
    let tagged = app.get_json("/api/v1/decisions?tag=depots", None).await;
    assert_eq!(tagged["items"][0]["id"], a.as_str());
    assert_eq!(
        app.get_json("/api/v1/decisions?tag=property", None).await["items"],
        json!([])
    );
    for (body, field) in [
        (
            json!({"changes": {"colour": "red"}, "reason": "r"}),
            "changes.colour",
        ),
        (
            json!({"changes": {"participants": []}, "reason": "r"}),
            "changes.participants",
        ),
        (
            json!({"changes": {"review_on": "2000-01-01"}, "reason": "r"}),
            "changes.review_on",
        ),
        (json!({"changes": {"title": "x"}}), "reason"),
    ] {
        let (status, problem) = app.lineage(&a, "amendments", clerk, body).await;
        assert_eq!(status, 422, "{problem:#}");
        assert_eq!(problem["errors"][0]["field"], field, "{problem:#}");
    }
    all_verified(&app, &[&a]).await;

    // Called in: suspended; upheld: in force from the date scrutiny let it stand.
    let (status, _) = app
        .lineage(
            &a,
            "call-in",
            clerk,
            json!({"status": "upheld", "on": today()}),
        )
        .await;
    assert_eq!(status, 409, "nothing to uphold before a call-in");
    let (status, problem) = app.lineage(&a,
        "call-in",
        clerk,
        json!({"status": "called_in", "on": today(), "note": "Called in by Overview and Scrutiny"}),
    )
    .await;
    assert_eq!(status, 201, "{problem:#}");
    let now = read(&app, &a, None).await;
    assert_eq!(now["state"]["status"], "called_in");
    assert!(now["state"].get("effective_from").is_none());
    let called = app
        .get_json("/api/v1/decisions?status=called_in", None)
        .await;
    assert_eq!(called["items"][0]["id"], a.as_str());
    all_verified(&app, &[&a]).await;
    let (status, _) = app
        .lineage(
            &a,
            "call-in",
            clerk,
            json!({"status": "upheld", "on": today()}),
        )
        .await;
    assert_eq!(status, 201);
    let now = read(&app, &a, None).await;
    assert_eq!(now["state"]["status"], "in_force");
    assert_eq!(now["state"]["effective_from"], today());
    let (status, problem) = app
        .lineage(
            &a,
            "call-in",
            clerk,
            json!({"status": "called_in", "on": today()}),
        )
        .await;
    assert_eq!(status, 409, "a decision is called in once");
    assert_eq!(problem["type"], "/problems/state-conflict");
    all_verified(&app, &[&a]).await;

    // An outcome: the next review date replaces the recorded one.
    let (status, problem) = app.lineage(&a,
        "outcomes",
        clerk,
        json!({"status": "on_track", "narrative": "Rounds moved on time.",
               "evidence": [{"title": "Quarterly report", "uri": "https://intranet.example.gov.uk/q1.pdf", "sha256": "ab".repeat(32)}],
               "next_review_on": "2027-06-01"}),
    )
    .await;
    assert_eq!(status, 201, "{problem:#}");
    let now = read(&app, &a, None).await;
    assert_eq!(now["state"]["last_outcome"], "on_track");
    assert_eq!(now["state"]["review_on"], "2027-06-01");
    all_verified(&app, &[&a]).await;

    // Superseded by a later decision: linked both ways, and nothing but erasure follows.
    let b = app.record(&decision(1)).await;
    let b = b["id"].as_str().expect("id").to_owned();
    let (status, problem) = app
        .lineage(
            &a,
            "supersession",
            clerk,
            json!({"superseded_by": uuid::Uuid::now_v7(), "reason": "r"}),
        )
        .await;
    assert_eq!(status, 422, "an unknown successor: {problem:#}");
    let (status, _) = app
        .lineage(
            &a,
            "supersession",
            clerk,
            json!({"superseded_by": a, "reason": "r"}),
        )
        .await;
    assert_eq!(status, 422, "a decision does not supersede itself");
    let (status, problem) = app
        .lineage(
            &a,
            "supersession",
            clerk,
            json!({"superseded_by": b, "reason": "Reconsidered after scrutiny"}),
        )
        .await;
    assert_eq!(status, 201, "{problem:#}");
    let now = read(&app, &a, None).await;
    assert_eq!(now["state"]["status"], "superseded");
    assert_eq!(now["state"]["superseded_by"], b.as_str());
    assert_eq!(
        read(&app, &b, None).await["state"]["supersedes"],
        json!([a])
    );
    for (what, body) in [
        ("outcomes", json!({"status": "achieved", "narrative": "n"})),
        ("rescission", json!({"reason": "r"})),
        (
            "amendments",
            json!({"changes": {"title": "t"}, "reason": "r"}),
        ),
        ("supersession", json!({"superseded_by": b, "reason": "r"})),
    ] {
        let (status, problem) = app.lineage(&a, what, clerk, body).await;
        assert_eq!(status, 409, "{what} after supersession: {problem:#}");
    }

    // Rescinded once, and only once.
    let (status, _) = app
        .lineage(
            &b,
            "rescission",
            clerk,
            json!({"reason": "Funding withdrawn"}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, problem) = app
        .lineage(&b, "rescission", clerk, json!({"reason": "again"}))
        .await;
    assert_eq!(status, 409);
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("rescinded")
    );
    let rescinded = app
        .get_json("/api/v1/decisions?status=rescinded", None)
        .await;
    assert_eq!(rescinded["items"][0]["id"], b.as_str());
    let kinds: Vec<Value> = read(&app, &a, None).await["lineage"]
        .as_array()
        .expect("lineage")
        .iter()
        .map(|e| e["kind"].clone())
        .collect();
    assert_eq!(
        kinds,
        json!([
            "decision.recorded",
            "decision.amended",
            "decision.call_in",
            "decision.call_in",
            "decision.outcome_reported",
            "decision.superseded"
        ])
        .as_array()
        .expect("array")
        .clone()
    );
    all_verified(&app, &[&a, &b]).await;
}

/// Every text in every table, for the erasure check.
async fn every_stored_text(app: &TestApp) -> String {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let db = app.store.connection();
    let backend = db.get_database_backend();
    let tables_sql = match backend {
        DbBackend::Postgres => {
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table'",
    };
    let tables = db
        .query_all_raw(Statement::from_string(backend, tables_sql))
        .await
        .expect("tables");
    let mut all = String::new();
    for table in tables {
        let name: String = table.try_get("", "name").expect("name");
        let rows_sql = match backend {
            DbBackend::Postgres => format!("SELECT CAST(t AS TEXT) AS row FROM \"{name}\" t"),
            _ => {
                let columns = db
                    .query_all_raw(Statement::from_string(
                        backend,
                        format!("SELECT name FROM pragma_table_info('{name}')"),
                    ))
                    .await
                    .expect("columns");
                let cast: Vec<String> = columns
                    .iter()
                    .map(|c| {
                        let column: String = c.try_get("", "name").expect("column");
                        format!("COALESCE(CAST(\"{column}\" AS TEXT), '')")
                    })
                    .collect();
                format!("SELECT {} AS row FROM \"{name}\"", cast.join(" || '|' || "))
            }
        };
        for row in db
            .query_all_raw(Statement::from_string(backend, rows_sql))
            .await
            .expect("rows")
        {
            let text: Option<String> = row.try_get("", "row").ok();
            all.push_str(&text.unwrap_or_default());
            all.push('\n');
        }
    }
    all
}

async fn an_erased_value_is_gone_from_everything_the_service_holds(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let name = "Cllr Priya Shah";
    let created = app.record(&decision(0)).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let mut restricted = decision(1);
    restricted["classification"] = json!("restricted");
    restricted["exemption"] = json!({"paragraph": 1, "public_interest_reason": "Personal information.", "public_summary": "A staffing decision."});
    let hidden = app.record(&restricted).await;
    let hidden = hidden["id"].as_str().expect("id").to_owned();
    assert!(every_stored_text(&app).await.contains(name));

    let eraser = app
        .token_with("dpo-office", Role::Redactor, &[], &[Power::Erase])
        .await;
    let publisher = app
        .token_with("publisher", Role::Redactor, &[], &[Power::Publish])
        .await;
    let request = json!({"path": "/participants/2/name", "basis": "UK GDPR Art. 17",
                         "authorised_by": "Data Protection Officer", "reason": "Erasure request 2026-114"});
    for token in [&app.clerk, &app.auditor, &app.admin, &publisher] {
        let (status, _) = app.lineage(&id, "redactions", token, request.clone()).await;
        assert_eq!(status, 403);
    }
    for (path, status) in [("/title", 422), ("/participants/9/name", 422)] {
        let mut bad = request.clone();
        bad["path"] = json!(path);
        let (got, problem) = app.lineage(&id, "redactions", &eraser, bad).await;
        assert_eq!(got, status, "{path}: {problem:#}");
    }
    for target in [&id, &hidden] {
        let (status, event) = app
            .lineage(target, "redactions", &eraser, request.clone())
            .await;
        assert_eq!(status, 201, "{event:#}");
        assert_eq!(event["detail"]["basis"], "UK GDPR Art. 17");
    }
    let (status, problem) = app
        .lineage(&id, "redactions", &eraser, request.clone())
        .await;
    assert_eq!(status, 409, "erased twice: {problem:#}");

    let marker = format!("[redacted: UK GDPR Art. 17, {}]", today());
    for target in [&id, &hidden] {
        let read = read(&app, target, Some(&app.auditor)).await;
        assert_eq!(read["record"]["participants"][2]["name"], marker.as_str());
    }
    all_verified(&app, &[&id, &hidden]).await;

    // Published afterwards, the restricted record still does not bring the name back.
    let (status, _) = app
        .lineage(
            &hidden,
            "publication",
            &publisher,
            json!({"reason": "Spent"}),
        )
        .await;
    assert_eq!(status, 201);

    // Nowhere: the API (every reader), the log's entries and receipts, an export, the database.
    let mut seen = String::new();
    for token in [None, Some(app.auditor.as_str()), Some(app.clerk.as_str())] {
        for path in [
            format!("/api/v1/decisions/{id}"),
            format!("/api/v1/decisions/{hidden}"),
            "/api/v1/decisions?limit=200".to_owned(),
            "/api/v1/log/entries?from=0&limit=1000".to_owned(),
            format!("/api/v1/decisions/{id}/receipt"),
            format!("/api/v1/decisions/{hidden}/receipt"),
        ] {
            seen.push_str(&app.get_json(&path, token).await.to_string());
        }
    }
    let (code, export, err) = run_cli(&["export", "--url", &app.base]);
    assert_eq!(code, 0, "{err}");
    seen.push_str(&export);
    seen.push_str(&every_stored_text(&app).await);
    assert!(
        seen.contains("Cllr Tom Reid"),
        "the check reads real content"
    );
    assert!(!seen.contains(name), "the erased name survives somewhere");
    if backend == Backend::Sqlite {
        // SQLite overwrites deleted content instead of leaving it in free pages.
        let row = sea_orm::ConnectionTrait::query_one_raw(
            app.store.connection(),
            sea_orm::Statement::from_string(sea_orm::DbBackend::Sqlite, "PRAGMA secure_delete"),
        )
        .await
        .expect("pragma")
        .expect("a row");
        assert_eq!(row.try_get_by_index::<i32>(0).expect("value"), 1);
    }
    assert!(
        !seen.contains("Priya"),
        "part of the erased name survives somewhere"
    );
    all_verified(&app, &[&id, &hidden]).await;
}

async fn withheld_content_is_published_provably_unchanged(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut restricted = decision(0);
    restricted["classification"] = json!("restricted");
    restricted["title"] = json!("Purchase of 14 Mill Lane");
    restricted["exemption"] = json!({"paragraph": 3, "public_interest_reason": "Price under negotiation.", "public_summary": "A property purchase in Southfield."});
    let created = app.record(&restricted).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let (status, _) = app.lineage(&id,
        "amendments",
        &app.clerk,
        json!({"changes": {"reasons": "Revised reasons, still exempt."}, "reason": "Corrected figures"}),
    )
    .await;
    assert_eq!(status, 201);
    let face = read(&app, &id, None).await;
    assert!(face.get("record").is_none());
    let change = &face["lineage"][1]["detail"]["changes"][0];
    assert_eq!(change["field"], "reasons");
    assert_eq!(change["new"], "[withheld]");
    assert_eq!(face["lineage"][1]["detail"]["reason"], "[withheld]");
    assert!(!face.to_string().contains("Mill Lane"));

    let publisher = app
        .token_with("publisher", Role::Redactor, &[], &[Power::Publish])
        .await;
    let (status, problem) = app
        .lineage(
            &id,
            "publication",
            &publisher,
            json!({"fields": ["title", "reasons", "classification"], "reason": "r"}),
        )
        .await;
    assert_eq!(status, 422, "classification is not withheld: {problem:#}");
    let (status, problem) = app
        .lineage(
            &id,
            "publication",
            &publisher,
            json!({"fields": ["title", "reasons"], "reason": "Completion: the price is public"}),
        )
        .await;
    assert_eq!(status, 201, "{problem:#}");
    let face = read(&app, &id, None).await;
    assert!(face.get("record").is_none());
    assert_eq!(
        face["withheld"]["published"]["title"],
        "Purchase of 14 Mill Lane"
    );
    assert_eq!(
        face["withheld"]["published"]["reasons"],
        "Revised reasons, still exempt."
    );
    assert!(face["withheld"]["published"].get("decision").is_none());
    // The amendment of a published field now shows its values to every reader.
    let change = &face["lineage"][1]["detail"]["changes"][0];
    assert_eq!(change["new"], "Revised reasons, still exempt.");
    assert_eq!(face["lineage"][1]["detail"]["reason"], "[withheld]");
    // Anyone now receives the published disclosures and checks them against the commitments
    // recorded at the time: the anonymous verifiers open them.
    let entry = app.get_json("/api/v1/log/entries/0", None).await;
    let paths: Vec<&str> = entry["disclosures"]
        .as_array()
        .expect("disclosures")
        .iter()
        .map(|d| d["path"].as_str().expect("path"))
        .collect();
    assert!(
        paths.contains(&"/title") && paths.contains(&"/reasons"),
        "{paths:?}"
    );
    assert!(!paths.contains(&"/decision"), "{paths:?}");
    let (code, out, err) = run_cli(&["verify", "--url", &app.base, "--vkey", &app.vkey()]);
    assert_eq!(code, 0, "{out}{err}");
    all_verified(&app, &[&id]).await;

    let (status, _) = app
        .lineage(
            &id,
            "publication",
            &publisher,
            json!({"fields": ["title"], "reason": "r"}),
        )
        .await;
    assert_eq!(status, 409, "already published");
    let (status, _) = app
        .lineage(
            &id,
            "publication",
            &publisher,
            json!({"reason": "The purchase completed"}),
        )
        .await;
    assert_eq!(status, 201);
    let whole = read(&app, &id, None).await;
    assert_eq!(whole["record"]["title"], "Purchase of 14 Mill Lane");
    assert_eq!(whole["state"]["published"], true);
    let public = app
        .get_json("/api/v1/decisions?classification=public", None)
        .await;
    assert_eq!(public["items"][0]["id"], id.as_str());
    let (status, _) = app
        .lineage(&id, "publication", &publisher, json!({"reason": "again"}))
        .await;
    assert_eq!(status, 409);
    all_verified(&app, &[&id]).await;
}

async fn retried_writes_append_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let post = |path: &str, token: &str, key: &str, body: &Value| {
        app.client
            .post(app.url(path))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
    };
    // Sequential retries: the same response, nothing appended.
    let first = post("/api/v1/decisions", &app.clerk, "k-1", &decision(0))
        .await
        .expect("request");
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.expect("JSON");
    let again = post("/api/v1/decisions", &app.clerk, "k-1", &decision(0))
        .await
        .expect("request");
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.expect("JSON");
    assert_eq!(again, first);
    assert_eq!(app.head().await.0, 1);
    // The same key with another body is refused; another token's same key is its own.
    let other = post("/api/v1/decisions", &app.clerk, "k-1", &decision(1))
        .await
        .expect("request");
    assert_eq!(other.status(), 422);
    let problem: Value = other.json().await.expect("JSON");
    assert_eq!(problem["type"], "/problems/idempotency-key-reused");
    let second_clerk = app
        .token("second-clerk", Role::Secretariat, &["cabinet"])
        .await;
    let theirs = post("/api/v1/decisions", &second_clerk, "k-1", &decision(0))
        .await
        .expect("request");
    assert_eq!(theirs.status(), 201);
    assert_eq!(app.head().await.0, 2);

    // Concurrent retries of a record and of a lineage entry: exactly one append each.
    let ids: Vec<String> =
        futures_join((0..16).map(|_| post("/api/v1/decisions", &app.clerk, "k-2", &decision(2))))
            .await;
    assert!(ids.iter().all(|id| id == &ids[0]), "{ids:?}");
    assert_eq!(app.head().await.0, 3);
    let path = format!("/api/v1/decisions/{}/outcomes", ids[0]);
    let outcome = json!({"status": "on_track", "narrative": "Going well."});
    let leaves: Vec<String> =
        futures_join((0..16).map(|_| post(&path, &app.clerk, "k-3", &outcome))).await;
    assert!(leaves.iter().all(|l| l == &leaves[0]), "{leaves:?}");
    assert_eq!(app.head().await.0, 4);

    // Registry writes too, and a replayed token creation never shows the secret again.
    let body = json!({"slug": "licensing", "name": "Licensing Committee", "kind": "committee"});
    let slugs: Vec<String> =
        futures_join((0..8).map(|_| post("/api/v1/bodies", &app.admin, "k-4", &body))).await;
    assert!(slugs.iter().all(|s| s == "licensing"), "{slugs:?}");
    let token = json!({"name": "licensing-clerk", "role": "secretariat", "bodies": ["licensing"]});
    let created = post("/api/v1/tokens", &app.admin, "k-5", &token)
        .await
        .expect("request");
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("JSON");
    assert!(
        created["secret"]
            .as_str()
            .is_some_and(|s| s.starts_with("dlt_"))
    );
    let replayed = post("/api/v1/tokens", &app.admin, "k-5", &token)
        .await
        .expect("request");
    assert_eq!(replayed.status(), 201);
    assert_eq!(replayed.headers()["idempotent-replayed"], "true");
    let replayed: Value = replayed.json().await.expect("JSON");
    assert!(replayed.get("secret").is_none(), "{replayed:#}");
    assert_eq!(replayed["name"], "licensing-clerk");

    // Keys are kept for 24 hours at least, and forgotten after 48: a key then appends anew.
    let size = app.head().await.0;
    let now = chrono::Utc::now();
    let kept = app
        .store
        .purge_idempotency_keys(now + chrono::Duration::hours(24))
        .await
        .expect("purge");
    assert_eq!(kept, 0, "no key is forgotten within a day");
    let again = post("/api/v1/decisions", &app.clerk, "k-1", &decision(0))
        .await
        .expect("request");
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let forgotten = app
        .store
        .purge_idempotency_keys(now + chrono::Duration::hours(49))
        .await
        .expect("purge");
    assert!(forgotten >= 5, "{forgotten}");
    let fresh = post("/api/v1/decisions", &app.clerk, "k-1", &decision(0))
        .await
        .expect("request");
    assert_eq!(fresh.status(), 201);
    assert!(fresh.headers().get("idempotent-replayed").is_none());
    assert_eq!(app.head().await.0, size + 1);
    app.check_log().await;
}

/// Sends every request at once and returns, from each 201 answer, the decision id or slug or
/// leaf index it names.
async fn futures_join<F>(requests: impl Iterator<Item = F>) -> Vec<String>
where
    F: std::future::Future<Output = reqwest::Result<reqwest::Response>>,
{
    let responses = futures_util::future::join_all(requests).await;
    let mut out = Vec::new();
    for response in responses {
        let response = response.expect("request");
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.expect("JSON");
        let key = ["id", "slug", "leaf_index"]
            .iter()
            .find_map(|k| body.get(*k))
            .expect("an id");
        out.push(key.as_str().map_or_else(|| key.to_string(), str::to_owned));
    }
    out
}

async fn overdue_reviews_are_listed_until_an_outcome_is_reported(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut old = decision(0);
    old["decided_on"] = json!("2025-01-15");
    old["effective_from"] = json!("2025-01-22");
    old["review_on"] = json!("2025-07-01");
    old["conflicts"] = json!("none_declared");
    old["documents"] = json!([]);
    let old = app.record(&old).await;
    let old = old["id"].as_str().expect("id").to_owned();
    let current = app.record(&decision(1)).await;
    let mut ended = decision(2);
    ended["decided_on"] = json!("2025-01-15");
    ended["effective_from"] = json!("2025-01-22");
    ended["review_on"] = json!("2025-07-01");
    ended["conflicts"] = json!("none_declared");
    let ended = app.record(&ended).await;
    let ended = ended["id"].as_str().expect("id").to_owned();
    let (status, _) = app
        .lineage(&ended, "rescission", &app.clerk, json!({"reason": "r"}))
        .await;
    assert_eq!(status, 201);

    let overdue = app
        .get_json("/api/v1/decisions?status=review_overdue", None)
        .await;
    let ids: Vec<&str> = overdue["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [old.as_str()], "a rescinded decision is not overdue");
    assert_eq!(
        read(&app, &old, None).await["state"]["review_overdue"],
        true
    );
    assert_eq!(
        read(&app, current["id"].as_str().expect("id"), None).await["state"]["review_overdue"],
        false
    );

    let (status, problem) = app.lineage(&old,
        "outcomes",
        &app.clerk,
        json!({"status": "partly_achieved", "narrative": "Half the rounds moved.", "next_review_on": "2099-01-01"}),
    )
    .await;
    assert_eq!(status, 201, "{problem:#}");
    let overdue = app
        .get_json("/api/v1/decisions?status=review_overdue", None)
        .await;
    assert_eq!(overdue["items"], json!([]));
    assert_eq!(
        read(&app, &old, None).await["state"]["review_overdue"],
        false
    );
    app.check_log().await;
}
