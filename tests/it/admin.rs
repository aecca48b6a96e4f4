//! Setting up a deployment: the first admin token, bodies and their members, tokens over HTTP,
//! and a deployment closed to anonymous readers.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use decision_log::store::{NewToken, Role};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestDb, decision};

/// Starts `serve` on `db` and returns (base URL, what it printed on stdout before listening).
fn serve(db: &TestDb) -> (std::process::Child, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_decision-log"))
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", &db.url])
        .args(["--signing-key", db.key.to_str().expect("utf-8")])
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let base = loop {
        let line = lines
            .next()
            .expect("serve logs its address")
            .expect("utf-8");
        if let Some((_, rest)) = line.split_once("listening on ") {
            break rest.split_whitespace().next().expect("address").to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    // stdout is written before the listener logs its address; read what is there.
    let stdout = child.stdout.take().expect("stdout");
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut printed = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            printed.push_str(&line);
            printed.push('\n');
            let _ = send.send(printed.clone());
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    let printed = receive.try_iter().last().unwrap_or_default();
    (child, base, printed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_start_prints_a_one_time_admin_token_that_sets_up_the_rest() {
    let db = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    let (mut first, base, printed) = serve(&db);
    let secret = printed
        .split_whitespace()
        .find(|w| w.starts_with("dlt_"))
        .unwrap_or_else(|| panic!("no admin token printed: {printed}"))
        .to_owned();
    let client = reqwest::Client::new();
    let body = client
        .post(format!("{base}/api/v1/bodies"))
        .bearer_auth(&secret)
        .json(&json!({"slug": "cabinet", "name": "Cabinet", "kind": "cabinet"}))
        .send()
        .await
        .expect("request");
    assert_eq!(body.status(), 201);
    let token: Value = client
        .post(format!("{base}/api/v1/tokens"))
        .bearer_auth(&secret)
        .json(&json!({"name": "cabinet-clerk", "role": "secretariat", "bodies": ["cabinet"]}))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON");
    let clerk = token["secret"].as_str().expect("secret");
    let recorded = client
        .post(format!("{base}/api/v1/decisions"))
        .bearer_auth(clerk)
        .json(&decision(0))
        .send()
        .await
        .expect("request");
    assert_eq!(recorded.status(), 201);
    first.kill().expect("kill");
    first.wait().expect("wait");

    // A database that has tokens gets no new one.
    let (mut second, _, printed) = serve(&db);
    assert!(!printed.contains("dlt_"), "{printed}");
    second.kill().expect("kill");
    second.wait().expect("wait");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_created_listed_revoked_and_expire() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    for (token, field) in [
        (
            json!({"name": "x", "role": "secretariat", "bodies": ["nowhere"]}),
            "bodies[0]",
        ),
        (json!({"name": "x", "role": "redactor"}), "powers"),
        (json!({"name": "Jane Smith", "role": "staff"}), "name"),
        (
            json!({"name": "x", "role": "staff", "expires_at": "2020-01-01T00:00:00Z"}),
            "expires_at",
        ),
    ] {
        let (status, problem) = app.post("/api/v1/tokens", Some(&app.admin), &token).await;
        assert_eq!(status, 422, "{problem:#}");
        assert_eq!(problem["errors"][0]["field"], field, "{problem:#}");
    }
    let (status, created) = app
        .post(
            "/api/v1/tokens",
            Some(&app.admin),
            &json!({"name": "cabinet-clerk", "role": "secretariat", "bodies": ["cabinet"],
                    "expires_at": "2099-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, 201, "{created:#}");
    let secret = created["secret"].as_str().expect("secret").to_owned();
    assert!(
        created["created_by"]
            .as_str()
            .is_some_and(|b| b.starts_with("admin-"))
    );
    let (status, _) = app
        .post(
            "/api/v1/tokens",
            Some(&app.admin),
            &json!({"name": "cabinet-clerk", "role": "staff"}),
        )
        .await;
    assert_eq!(status, 409);
    let listed = app.get_json("/api/v1/tokens", Some(&app.admin)).await;
    let text = listed.to_string();
    assert!(text.contains("cabinet-clerk") && text.contains("2099-01-01T00:00:00Z"));
    assert!(!text.contains("dlt_"), "secrets are never listed");
    assert_eq!(app.post_decision(&secret, &decision(0)).await.status(), 201);

    let revoked = app
        .client
        .delete(app.url("/api/v1/tokens/cabinet-clerk"))
        .bearer_auth(&app.admin)
        .send()
        .await
        .expect("request");
    assert_eq!(revoked.status(), 200);
    let revoked: Value = revoked.json().await.expect("JSON");
    assert!(revoked["revoked_at"].is_string());
    assert_eq!(app.post_decision(&secret, &decision(1)).await.status(), 401);
    let missing = app
        .client
        .delete(app.url("/api/v1/tokens/nobody"))
        .bearer_auth(&app.admin)
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), 404);

    // Expiry: the token works until the instant it expires.
    let soon = chrono::Utc::now() + chrono::Duration::hours(1);
    let (_, secret) = app
        .store
        .create_token(
            &NewToken {
                name: "temporary".into(),
                role: Role::Staff,
                bodies: vec![],
                powers: vec![],
                expires_at: Some(soon),
            },
            None,
            chrono::Utc::now(),
        )
        .await
        .expect("token");
    let now = chrono::Utc::now();
    assert!(
        app.store
            .authenticate(&secret, now)
            .await
            .expect("auth")
            .is_some()
    );
    let later = soon + chrono::Duration::seconds(1);
    assert!(
        app.store
            .authenticate(&secret, later)
            .await
            .expect("auth")
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_keep_their_members_over_time_and_decisions_need_one() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    let (status, body) = app
        .post(
            "/api/v1/bodies",
            Some(&app.admin),
            &json!({"slug": "licensing", "name": "Licensing Committee", "kind": "committee"}),
        )
        .await;
    assert_eq!(status, 201, "{body:#}");
    for (bad, field) in [
        (
            json!({"slug": "Licensing Two", "name": "x", "kind": "committee"}),
            "slug",
        ),
        (
            json!({"slug": "l2", "name": " ", "kind": "committee"}),
            "name",
        ),
    ] {
        let (status, problem) = app.post("/api/v1/bodies", Some(&app.admin), &bad).await;
        assert_eq!(status, 422, "{problem:#}");
        assert_eq!(problem["errors"][0]["field"], field);
    }
    let (status, _) = app
        .post(
            "/api/v1/bodies",
            Some(&app.admin),
            &json!({"slug": "licensing", "name": "x", "kind": "panel"}),
        )
        .await;
    assert_eq!(status, 409);
    let (_, chair) = app
        .post(
            "/api/v1/bodies/licensing/members",
            Some(&app.admin),
            &json!({"name": "Cllr A. Patel", "role": "chair", "from": "2025-05-21"}),
        )
        .await;
    let (status, _) = app
        .post(
            "/api/v1/bodies/licensing/members",
            Some(&app.admin),
            &json!({"name": "Cllr B. Jones", "role": "member", "from": "2026-05-20", "organisation": "Independent"}),
        )
        .await;
    assert_eq!(status, 201);
    let chair_id = chair["id"].as_str().expect("id");
    let path = format!("/api/v1/bodies/licensing/members/{chair_id}/end");
    let (status, problem) = app
        .post(&path, Some(&app.admin), &json!({"until": "2024-01-01"}))
        .await;
    assert_eq!(status, 422, "{problem:#}");
    let (status, ended) = app
        .post(&path, Some(&app.admin), &json!({"until": "2026-05-19"}))
        .await;
    assert_eq!(status, 200, "{ended:#}");
    let (status, _) = app
        .post(&path, Some(&app.admin), &json!({"until": "2026-05-19"}))
        .await;
    assert_eq!(status, 409, "ended twice");
    let licensing = app.get_json("/api/v1/bodies/licensing", None).await;
    let members = licensing["members"].as_array().expect("members");
    assert_eq!(members.len(), 2);
    assert_eq!(members[0]["until"], "2026-05-19");
    assert!(members[1].get("until").is_none());
    assert_eq!(app.get("/api/v1/bodies/nowhere", None).await.status(), 404);

    // Renamed, it keeps its slug, members and decisions.
    let renamed = app
        .client
        .put(app.url("/api/v1/bodies/licensing"))
        .bearer_auth(&app.admin)
        .json(&json!({"name": "Licensing and Regulatory Committee", "kind": "committee"}))
        .send()
        .await
        .expect("request");
    assert_eq!(renamed.status(), 200);
    let licensing = app.get_json("/api/v1/bodies/licensing", None).await;
    assert_eq!(licensing["name"], "Licensing and Regulatory Committee");
    assert_eq!(licensing["members"].as_array().expect("members").len(), 2);
    for (path, body, status) in [
        (
            "/api/v1/bodies/nowhere",
            json!({"name": "x", "kind": "panel"}),
            404,
        ),
        (
            "/api/v1/bodies/licensing",
            json!({"name": " ", "kind": "panel"}),
            422,
        ),
        (
            "/api/v1/bodies/licensing",
            json!({"name": "x", "kind": "club"}),
            422,
        ),
        (
            "/api/v1/bodies/licensing",
            json!({"slug": "other", "name": "x", "kind": "panel"}),
            422,
        ),
    ] {
        let response = app
            .client
            .put(app.url(path))
            .bearer_auth(&app.admin)
            .json(&body)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), status, "{path} {body}");
    }

    // A decision names a registered body: a record for any other is refused as invalid,
    // naming the body (the registry is public, so this tells the token nothing new).
    let cabinet_clerk = app
        .token("cabinet-only", Role::Secretariat, &["cabinet"])
        .await;
    let mut unknown = decision(0);
    unknown["body"] = json!("scrutiny");
    let response = app.post_decision(&cabinet_clerk, &unknown).await;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.expect("JSON");
    assert_eq!(problem["errors"][0]["field"], "body", "{problem:#}");
    let (_, token) = app
        .post(
            "/api/v1/tokens",
            Some(&app.admin),
            &json!({"name": "licensing-clerk", "role": "secretariat", "bodies": ["licensing"]}),
        )
        .await;
    let licensing_clerk = token["secret"].as_str().expect("secret");
    let mut for_licensing = decision(1);
    for_licensing["body"] = json!("licensing");
    let recorded = app.post_decision(licensing_clerk, &for_licensing).await;
    assert_eq!(recorded.status(), 201);
    let listed = app.get_json("/api/v1/decisions?body=licensing", None).await;
    assert_eq!(listed["items"].as_array().expect("items").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_deployment_refuses_anonymous_readers() {
    let db = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    let app = TestApp::spawn_configured(db, decision_log::store::system_clock(), |config| {
        config.anonymous_read = false;
    })
    .await;
    app.record(&decision(0)).await;
    for path in [
        "/api/v1/decisions",
        "/api/v1/bodies",
        "/api/v1/log/head",
        "/api/v1/log/entries?from=0",
        "/api/v1/log/checkpoint",
        "/api/v1/log/key",
        "/api/v1/log/proofs/inclusion?leaf_index=0&tree_size=1",
        "/tlog/checkpoint",
        "/tlog/tile/entries/000.p/1",
    ] {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), 401, "{path}");
        assert_eq!(
            app.get(path, Some(&app.auditor)).await.status(),
            200,
            "{path}"
        );
    }
    assert_eq!(app.get("/health/live", None).await.status(), 200);
    // Metrics are open like the probes: scrapers hold no token, and they carry no content.
    assert_eq!(app.get("/metrics", None).await.status(), 200);
}
