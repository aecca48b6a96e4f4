//! The command line as an operator uses it.

use serde_json::Value;

use crate::helpers::{Backend, TestApp, TestDb, decision, run_cli};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_created_on_the_command_line_records_for_its_bodies_only() {
    let db = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    let (code, secret, err) = run_cli(&[
        "token",
        "create",
        "--database-url",
        &db.url,
        "--name",
        "cabinet-clerk",
        "--role",
        "secretariat",
        "--body",
        "cabinet",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("cannot be shown again"), "{err}");
    let secret = secret.trim().to_owned();
    assert!(secret.starts_with("dlt_") && secret.len() > 40, "{secret}");

    let (code, _, err) = run_cli(&[
        "token",
        "create",
        "--database-url",
        &db.url,
        "--name",
        "cabinet-clerk",
        "--role",
        "admin",
    ]);
    assert_eq!(code, 2, "a duplicate name is refused");
    assert!(err.contains("already exists"), "{err}");
    let (code, _, err) = run_cli(&[
        "token",
        "create",
        "--database-url",
        &db.url,
        "--name",
        "x",
        "--role",
        "secretariat",
    ]);
    assert_eq!(code, 2, "a secretariat token without a body is refused");
    assert!(err.contains("--body"), "{err}");

    let app = TestApp::spawn_on(db).await;
    let response = app.post_decision(&secret, &decision(0)).await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["receipt"]["recorded_by"], "cabinet-clerk");
    let mut other = decision(1);
    other["body"] = "planning-committee".into();
    assert_eq!(app.post_decision(&secret, &other).await.status(), 403);

    // The token's name is written into the hashed entry.
    let entry = app.get_json("/api/v1/log/entries/0", None).await;
    assert_eq!(entry["entry"]["recorded_by"], "cabinet-clerk");
}

#[test]
fn verify_exits_2_when_the_database_cannot_be_opened() {
    let (code, _, err) = run_cli(&[
        "verify",
        "--database-url",
        "sqlite:///nonexistent-dir/x.db?mode=ro",
    ]);
    assert_eq!(code, 2);
    assert!(err.starts_with("error:"), "{err}");
}
