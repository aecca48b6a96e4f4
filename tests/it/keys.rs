//! The signing key as operators meet it: keygen, the one-command start, and a wrong key refused.

use std::process::{Command, Stdio};

use crate::helpers::{Backend, TestApp, TestDb, run_cli};

#[test]
fn keygen_writes_a_private_key_and_prints_its_verifier_key() {
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("log.key");
    let out = out.to_str().expect("utf-8");
    let (code, vkey, err) = run_cli(&[
        "keygen",
        "--origin",
        "decisions.example.gov.uk/log",
        "--out",
        out,
    ]);
    assert_eq!(code, 0, "{err}");
    let vkey = vkey.trim();
    assert!(vkey.starts_with("decisions.example.gov.uk/log+"), "{vkey}");
    let signer =
        decision_log::keys::read(std::path::Path::new(out)).expect("the file holds the key");
    assert_eq!(signer.verifier().to_vkey(), vkey);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(out)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "only the owner may read the key");
    }
    let (code, _, err) = run_cli(&["keygen", "--origin", "x", "--out", out]);
    assert_eq!(code, 2, "an existing key is never overwritten");
    assert!(err.contains("must not exist"), "{err}");
    let (code, _, _) = run_cli(&[
        "keygen",
        "--origin",
        "has space",
        "--out",
        &format!("{out}2"),
    ]);
    assert_eq!(code, 2, "a name with a space is not a key name");
}

#[test]
fn the_first_embedded_start_creates_the_key_beside_the_database_and_prints_it() {
    let dir = tempfile::tempdir().expect("dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_decision-log"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--origin",
            "council.example/decisions",
        ])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    // Read on another thread so that a server that prints nothing fails the test, not hangs it.
    let stdout = child.stdout.take().expect("stdout");
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
            let _ = send.send(line);
        }
    });
    let lines: Vec<String> = (0..2)
        .map_while(|_| {
            receive
                .recv_timeout(std::time::Duration::from_secs(20))
                .ok()
        })
        .collect();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(lines.len(), 2, "serve printed {lines:?}");
    assert!(lines[0].contains("Verifier key"), "{lines:?}");
    let key = decision_log::keys::read(&dir.path().join("decision-log.key"))
        .expect("the key is beside the database");
    assert_eq!(lines[1].trim(), key.verifier().to_vkey());
    assert!(dir.path().join("decision-log.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_refuses_to_start_with_another_key() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    let db: TestDb = app.stop().await;
    let other = db.key.with_file_name("other.key");
    decision_log::keys::write_new(
        &other,
        &decision_log::keys::generate("test.decision-log.example/log").expect("key"),
    )
    .expect("write");
    let config = decision_log::config::ServeConfig::for_tests(&db.url, &other);
    let error = decision_log::app::App::build(&config)
        .await
        .err()
        .expect("refused");
    let message = format!("{error:#}");
    assert!(
        message.contains("this log was created with origin \"test.decision-log.example/log\""),
        "{message}"
    );
    // The original key still starts it.
    let app = TestApp::spawn_on(db).await;
    assert_eq!(app.head().await.0, 0);
}
