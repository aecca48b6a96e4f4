//! The sequencer from outside: concurrent appends committed in batches, on both backends and
//! across processes, with the refusals, commit failures and crashes a batch must survive.

use std::collections::BTreeMap;

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestDb, decision, run_cli};
use crate::on_both_backends;
use crate::proofs::checkpoint;
use crate::storage::ServeProcess;

on_both_backends!(
    a_refused_entry_in_a_batch_leaves_its_neighbours_committed,
    one_idempotency_key_twice_in_a_batch_appends_once,
    the_largest_decision_is_written_across_several_statements,
    a_batch_whose_commit_fails_acknowledges_nothing_and_the_next_commits,
    kill_9_during_batches_loses_no_acknowledged_entry,
);

/// An app whose batches wait 50 ms for more appends, so that concurrent requests share one.
async fn batching_app(backend: Backend) -> Option<TestApp> {
    let db = TestDb::new(backend).await?;
    Some(
        TestApp::spawn_configured(db, decision_log::store::system_clock(), |config| {
            config.append_batch_delay_us = 50_000;
        })
        .await,
    )
}

/// `name{labels} value` from a Prometheus exposition.
fn sample(metrics: &str, series: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{metrics}"))
}

async fn metrics(app: &TestApp) -> String {
    app.get("/metrics", None)
        .await
        .text()
        .await
        .expect("metrics")
}

async fn a_refused_entry_in_a_batch_leaves_its_neighbours_committed(backend: Backend) {
    let Some(app) = batching_app(backend).await else {
        return;
    };
    let rescinded = app.record(&decision(0)).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, _) = app
        .lineage(
            &rescinded,
            "rescission",
            &app.clerk,
            json!({"reason": "Funding withdrawn"}),
        )
        .await;
    assert_eq!(status, 201);
    let (size_before, _) = app.head().await;

    // Ten decisions and, among them, a second rescission of the rescinded decision.
    let requests = (0..11).map(|n| {
        let (path, body) = if n == 5 {
            (
                format!("/api/v1/decisions/{rescinded}/rescission"),
                json!({"reason": "again"}),
            )
        } else {
            ("/api/v1/decisions".to_owned(), decision(n + 1))
        };
        let request = app
            .client
            .post(app.url(&path))
            .bearer_auth(&app.clerk)
            .json(&body);
        async move {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.expect("JSON"))
        }
    });
    let answers = futures_util::future::join_all(requests).await;
    let mut leaves = Vec::new();
    for (n, (status, body)) in answers.iter().enumerate() {
        if n == 5 {
            assert_eq!(*status, 409, "{body:#}");
            assert_eq!(body["type"], "/problems/state-conflict", "{body:#}");
        } else {
            assert_eq!(*status, 201, "{body:#}");
            leaves.push(body["receipt"]["leaf_index"].as_u64().expect("leaf"));
        }
    }
    leaves.sort_unstable();
    let expected: Vec<u64> = (size_before..size_before + 10).collect();
    assert_eq!(leaves, expected, "the neighbours are committed, densely");
    let exposition = metrics(&app).await;
    let batches = sample(&exposition, "decision_log_append_batch_size_count");
    let singles = sample(
        &exposition,
        "decision_log_append_batch_size_bucket{le=\"1\"}",
    );
    assert!(
        batches > singles,
        "some appends shared a batch:\n{exposition}"
    );
    assert_eq!(
        sample(&exposition, "decision_log_append_queue_depth"),
        0,
        "nothing is left queued"
    );
    assert_eq!(app.check_log().await, size_before + 10);
}

async fn one_idempotency_key_twice_in_a_batch_appends_once(backend: Backend) {
    let Some(app) = batching_app(backend).await else {
        return;
    };
    let (size_before, _) = app.head().await;
    // Four retries of one request, one reuse of its key for another, and four other decisions,
    // all at once: the batch stages the first and must see its key before the rest.
    let requests = (0..9).map(|n| {
        let (key, body) = match n {
            0..4 => (Some("retry-me"), decision(0)),
            4 => (Some("retry-me"), decision(99)),
            _ => (None, decision(n)),
        };
        let mut request = app
            .client
            .post(app.url("/api/v1/decisions"))
            .bearer_auth(&app.clerk)
            .json(&body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        async move {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            let replayed = response.headers().contains_key("idempotent-replayed");
            let body = response.json::<Value>().await.expect("JSON");
            (status, replayed, body)
        }
    });
    let answers = futures_util::future::join_all(requests).await;
    // Whichever of the five with the key came first appended; the retries of the same request
    // replay it, and the other request is refused.
    let keyed = &answers[..5];
    let first: Vec<usize> = (0..5)
        .filter(|&n| keyed[n].0 == 201 && !keyed[n].1)
        .collect();
    assert_eq!(first.len(), 1, "exactly one appended: {answers:#?}");
    let same_request = |n: usize| (n < 4) == (first[0] < 4);
    for (n, (status, replayed, body)) in keyed.iter().enumerate() {
        if n == first[0] {
            continue;
        }
        if same_request(n) {
            assert_eq!((*status, *replayed), (201, true), "{answers:#?}");
            assert_eq!(body["id"], keyed[first[0]].2["id"], "{answers:#?}");
        } else {
            assert_eq!(*status, 422, "{answers:#?}");
            assert_eq!(body["type"], "/problems/idempotency-key-reused");
        }
    }
    assert!(
        answers[5..].iter().all(|(status, ..)| *status == 201),
        "{answers:#?}"
    );
    assert_eq!(app.check_log().await, size_before + 5);
}

/// Makes every commit that appends an entry fail, at the commit itself, until [`heal`] runs:
/// a deferred check the database runs only at `COMMIT`.
async fn poison(app: &TestApp) {
    let db = app.store.connection();
    let statements: &[&str] = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => &[
            "CREATE FUNCTION refuse_commit() RETURNS trigger AS $$ BEGIN \
             RAISE EXCEPTION 'commit refused for this test'; END $$ LANGUAGE plpgsql",
            "CREATE CONSTRAINT TRIGGER refuse_commit AFTER INSERT ON log_entries \
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_commit()",
        ],
        _ => &[
            "CREATE TABLE refuse_target (id INTEGER PRIMARY KEY)",
            "CREATE TABLE refuse_commit (target INTEGER REFERENCES refuse_target (id) \
             DEFERRABLE INITIALLY DEFERRED)",
            "CREATE TRIGGER refuse_commit AFTER INSERT ON log_entries \
             BEGIN INSERT INTO refuse_commit (target) VALUES (1); END",
        ],
    };
    for sql in statements {
        db.execute_unprepared(sql).await.expect("poison");
    }
}

async fn heal(app: &TestApp) {
    let db = app.store.connection();
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => "DROP TRIGGER refuse_commit ON log_entries",
        _ => "DROP TRIGGER refuse_commit",
    };
    db.execute_unprepared(sql).await.expect("heal");
}

async fn a_batch_whose_commit_fails_acknowledges_nothing_and_the_next_commits(backend: Backend) {
    let Some(app) = batching_app(backend).await else {
        return;
    };
    app.record(&decision(0)).await;
    let before = app.head().await;
    poison(&app).await;
    let requests = (1..6).map(|n| {
        let request = app
            .client
            .post(app.url("/api/v1/decisions"))
            .bearer_auth(&app.clerk)
            .json(&decision(n));
        async move {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            let retry = response.headers().contains_key("retry-after");
            (status, retry, response.json::<Value>().await.expect("JSON"))
        }
    });
    for (status, retry, problem) in futures_util::future::join_all(requests).await {
        assert_eq!(status, 503, "{problem:#}");
        assert!(retry, "a retryable failure says when to retry");
        assert!(
            problem["detail"]
                .as_str()
                .expect("detail")
                .contains("nothing was appended"),
            "{problem:#}"
        );
    }
    assert_eq!(
        app.head().await,
        before,
        "nothing of the batch was appended"
    );

    heal(&app).await;
    let next = app.record(&decision(9)).await;
    assert_eq!(next["receipt"]["leaf_index"], before.0);
    assert_eq!(app.check_log().await, before.0 + 1);
}

async fn kill_9_during_batches_loses_no_acknowledged_entry(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let served = ServeProcess::start(&db);
    let app = TestApp::spawn_on(db).await;
    let client = reqwest::Client::new();
    let base = served.base.clone();
    let clerk = app.clerk.clone();
    let writers: Vec<_> = (0..16)
        .map(|writer| {
            let (client, base, clerk) = (client.clone(), base.clone(), clerk.clone());
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                for n in 0.. {
                    let sent = client
                        .post(format!("{base}/api/v1/decisions"))
                        .bearer_auth(&clerk)
                        .json(&decision(writer * 10_000 + n))
                        .send()
                        .await;
                    let Ok(response) = sent else { break };
                    if response.status() != 201 {
                        break;
                    }
                    let Ok(body) = response.json::<Value>().await else {
                        break;
                    };
                    acknowledged.push(body);
                }
                acknowledged
            })
        })
        .collect();
    // Let the writers fill a few batches, then kill the process in the middle of whatever it
    // is doing.
    let mut acknowledged_so_far = 0;
    for _ in 0..400 {
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        acknowledged_so_far = app.head().await.0;
        if acknowledged_so_far >= 60 {
            break;
        }
    }
    assert!(acknowledged_so_far >= 60, "the writers got going");
    drop(served);
    let mut acknowledged: BTreeMap<u64, Value> = BTreeMap::new();
    for writer in writers {
        for body in writer.await.expect("writer") {
            let leaf = body["receipt"]["leaf_index"].as_u64().expect("leaf");
            assert!(acknowledged.insert(leaf, body).is_none(), "one leaf each");
        }
    }
    assert!(!acknowledged.is_empty());

    // Every acknowledged entry is in the log, as acknowledged, and the log verifies.
    let size = app.check_log().await;
    for (leaf, body) in &acknowledged {
        assert!(
            *leaf < size,
            "acknowledged leaf {leaf} is in the log of {size}"
        );
        let entry = app
            .get_json(&format!("/api/v1/log/entries/{leaf}"), None)
            .await;
        assert_eq!(
            entry["entry_hash"], body["receipt"]["entry_hash"],
            "leaf {leaf}"
        );
        let id = body["id"].as_str().expect("id");
        let read = app.get_json(&format!("/api/v1/decisions/{id}"), None).await;
        assert_eq!(read["receipt"]["leaf_index"], *leaf);
    }
    // And appends go on after the crash.
    app.record(&decision(99_999)).await;
    assert_eq!(app.check_log().await, size + 1);
}

/// Four service processes on one PostgreSQL database, each batching its own requests: 500
/// concurrent appends make one dense chain that verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_on_one_postgres_append_500_into_one_chain() {
    let Some(db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let processes: Vec<ServeProcess> = (0..4).map(|_| ServeProcess::start(&db)).collect();
    let app = TestApp::spawn_on(db).await;
    let (first, _) = app.head().await;
    let client = reqwest::Client::new();
    let requests = (0..500).map(|n| {
        let request = client
            .post(format!("{}/api/v1/decisions", processes[n % 4].base))
            .bearer_auth(&app.clerk)
            .json(&decision(n));
        async move { request.send().await.expect("request") }
    });
    let mut leaves = Vec::new();
    for response in futures_util::future::join_all(requests).await {
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.expect("JSON");
        leaves.push(body["receipt"]["leaf_index"].as_u64().expect("leaf"));
    }
    leaves.sort_unstable();
    assert_eq!(leaves, (first..first + 500).collect::<Vec<u64>>());
    assert_eq!(app.check_log().await, first + 500);
}

/// Another process moves the head of a PostgreSQL log (a token created on the command line
/// records its grant): the serving instance hears of it by `NOTIFY` and signs a checkpoint for it
/// long before its timer would have looked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_moved_by_another_process_is_signed_without_polling() {
    let Some(db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let started = std::time::Instant::now();
    let app = TestApp::spawn_on(db).await;
    let (size, _) = app.head().await;
    assert_eq!(checkpoint(&app, size).await.size, size);
    let (code, _, err) = run_cli(&[
        "token",
        "create",
        "--database-url",
        &app.db.url,
        "--name",
        "late-clerk",
        "--role",
        "staff",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(app.head().await.0, size + 1, "the command line appended");
    assert_eq!(checkpoint(&app, size + 1).await.size, size + 1);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "signed within the signer's 10 s fallback, so it was told: {:?}",
        started.elapsed()
    );
}

/// A decision with 300 participants, whose participant and disclosure rows exceed one multi-row
/// statement, in a batch with other decisions and with one whose canonical entry is over the
/// limit (500 participants), which is refused alone.
async fn the_largest_decision_is_written_across_several_statements(backend: Backend) {
    let Some(app) = batching_app(backend).await else {
        return;
    };
    let with_participants = |n: usize| {
        let mut large = decision(0);
        let template = large["participants"][1].clone();
        large["participants"] = Value::Array(
            (0..n)
                .map(|i| {
                    let mut participant = template.clone();
                    participant["name"] = json!(format!("Member {i}"));
                    participant
                })
                .collect(),
        );
        large["vote"] = json!({"method": "show_of_hands", "result": "passed",
                               "counts": {"for": 200, "against": 100, "abstain": 0}});
        large
    };
    let (size_before, _) = app.head().await;
    let app = &app;
    let posts = (0..5).map(|n| {
        let body = match n {
            1 => with_participants(300),
            3 => with_participants(decision_log::record::MAX_PARTICIPANTS),
            _ => decision(n),
        };
        async move {
            let response = app.post_decision(&app.clerk, &body).await;
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.expect("JSON"))
        }
    });
    let answers = futures_util::future::join_all(posts).await;
    for (n, (status, body)) in answers.iter().enumerate() {
        let expected = if n == 3 { 413 } else { 201 };
        assert_eq!(*status, expected, "{n}: {body:#}");
    }
    let created = &answers[1].1;
    let id = created["id"].as_str().expect("id");
    let read = app.get_json(&format!("/api/v1/decisions/{id}"), None).await;
    assert_eq!(&read, created);
    assert_eq!(
        read["record"]["participants"]
            .as_array()
            .expect("participants")
            .len(),
        300
    );
    let page = app
        .get_json(
            "/api/v1/decisions?participant_role=decision_maker&limit=200",
            None,
        )
        .await;
    assert!(
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|d| d["id"] == id),
        "the participants' rows are indexed: {page:#}"
    );
    assert_eq!(app.check_log().await, size_before + 4);
}

/// A PostgreSQL instance with a pool of one connection serves: the listener for other
/// instances' heads holds a connection of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_of_one_connection_still_serves_on_postgres() {
    let Some(db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let app = TestApp::spawn_configured(db, decision_log::store::system_clock(), |config| {
        config.max_connections = 1;
    })
    .await;
    let created = app.record(&decision(0)).await;
    let id = created["id"].as_str().expect("id");
    assert_eq!(
        app.get_json(&format!("/api/v1/decisions/{id}"), None).await,
        created
    );
    assert_eq!(app.check_log().await, 1);
}
