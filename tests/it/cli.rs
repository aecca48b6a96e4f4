//! The command line as an operator uses it.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestDb, decision, run_cli};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_created_on_the_command_line_records_for_its_bodies_only() {
    let db = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    // The app registers the bodies `cabinet` and `planning-committee`.
    let app = TestApp::spawn_on(db).await;
    let db = &app.db;
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
    assert!(err.contains("must name at least one body"), "{err}");
    let (code, _, err) = run_cli(&[
        "token",
        "create",
        "--database-url",
        &db.url,
        "--name",
        "x",
        "--role",
        "secretariat",
        "--body",
        "no-such-body",
    ]);
    assert_eq!(
        code, 2,
        "a secretariat token for an unregistered body is refused"
    );
    assert!(
        err.contains("no body \"no-such-body\" is registered"),
        "{err}"
    );

    let (code, listed, _) = run_cli(&["token", "list", "--database-url", &db.url]);
    assert_eq!(code, 0);
    assert!(
        listed.contains("cabinet-clerk\tsecretariat\tcabinet\tlive"),
        "{listed}"
    );
    let response = app.post_decision(&secret, &decision(0)).await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["receipt"]["recorded_by"], "cabinet-clerk");
    let mut other = decision(1);
    other["body"] = "planning-committee".into();
    assert_eq!(app.post_decision(&secret, &other).await.status(), 403);

    // The token's name is written into the hashed entry.
    let leaf = body["receipt"]["leaf_index"].as_u64().expect("leaf");
    let entry = app
        .get_json(&format!("/api/v1/log/entries/{leaf}"), None)
        .await;
    assert_eq!(entry["entry"]["recorded_by"], "cabinet-clerk");
    // And its grant, made on the command line, is on the log before it, without the secret.
    let grant = app
        .get_json(&format!("/api/v1/log/entries/{}", leaf - 1), None)
        .await;
    assert_eq!(grant["entry"]["kind"], "access.granted");
    assert_eq!(grant["entry"]["recorded_by"], "operator");
    assert_eq!(
        grant["entry"]["record"],
        json!({"token": "cabinet-clerk", "role": "secretariat", "bodies": ["cabinet"]})
    );
    assert!(!grant.to_string().contains(secret.trim()));

    // Revoked on the command line, the token stops working at once.
    let (code, _, _) = run_cli(&[
        "token",
        "revoke",
        "--database-url",
        &db.url,
        "--name",
        "cabinet-clerk",
    ]);
    assert_eq!(code, 0);
    assert_eq!(app.post_decision(&secret, &decision(2)).await.status(), 401);
    let (code, _, err) = run_cli(&[
        "token",
        "revoke",
        "--database-url",
        &db.url,
        "--name",
        "nobody",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("no token named"), "{err}");
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
