//! The first start and an operator's first mistakes, as the binary reports them: each is one
//! line on stderr naming the thing at fault and the fix, and nothing irreversible happens first.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;

/// `decision-log serve ARGS` in `dir`, with the embedded default unless `args` name a database.
fn serve(dir: &Path, args: &[&str]) -> Command {
    serve_with(Path::new(env!("CARGO_BIN_EXE_decision-log")), dir, args)
}

/// [`serve`] with the binary at `program`.
fn serve_with(program: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command
        .arg("serve")
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("DECISION_LOG_BIND")
        .env_remove("DECISION_LOG_SIGNING_KEY")
        .env_remove("DECISION_LOG_FIRST_RUN_ADMIN")
        .env("RUST_LOG", "warn");
    command
}

/// Runs `command`, which must end (a start that should have been refused serves instead: it
/// is stopped after a minute and the test fails): (exit code, stdout, stderr).
fn run(mut command: Command) -> (i32, String, String) {
    use std::io::Read;
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    // A copy of the binary just written may be held open for writing a moment longer by a child
    // that another test forked meanwhile (it inherits the descriptor until its own exec): the
    // exec then fails with "text file busy" until that child has exec'd.
    let mut tries = 0;
    let mut child = loop {
        match command.spawn() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 50 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            spawned => break spawned.expect("the binary runs"),
        }
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            stop(child);
            panic!("the command did not end: it was expected to refuse to start");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (mut out, mut err) = (String::new(), String::new());
    let _ = child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out);
    let _ = child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err);
    (status.code().unwrap_or(-1), out, err)
}

/// Starts `command` and reads its stdout lines on another thread, so that a server that prints
/// nothing fails the test rather than hangs it.
fn start(mut command: Command) -> (Child, Receiver<String>) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
            let _ = send.send(line);
        }
    });
    (child, receive)
}

/// The first `n` lines `receive` gets (fewer if the server stops printing for 20 s).
fn lines(receive: &Receiver<String>, n: usize) -> Vec<String> {
    (0..n)
        .map_while(|_| receive.recv_timeout(Duration::from_secs(20)).ok())
        .collect()
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_taken_port_fails_the_first_start_before_it_creates_a_key_or_a_token() {
    let dir = tempfile::tempdir().expect("dir");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let address = taken.local_addr().expect("address").to_string();
    let (code, out, err) = run(serve(dir.path(), &["--bind", &address]));
    assert_eq!(
        err.trim_end(),
        format!(
            "error: cannot listen on {address}: the address is already in use; stop what is \
             using it or choose another with --bind (DECISION_LOG_BIND)"
        )
    );
    assert_eq!(code, 2);
    assert_eq!(out, "", "nothing was created, so nothing is announced");
    assert!(!dir.path().join("decision-log.key").exists(), "no key");
    assert!(
        !dir.path().join("decision-log.db").exists(),
        "no database, so no token"
    );
    drop(taken);

    // The next start, on a free port, is the first: it creates both and shows both.
    let (child, receive) = start(serve(dir.path(), &["--bind", "127.0.0.1:0"]));
    let shown = lines(&receive, 5);
    stop(child);
    assert_eq!(shown.len(), 5, "serve printed {shown:?}");
    assert_eq!(
        shown[0],
        "Created this log's signing key. Verifier key (give it to auditors):"
    );
    let key = decision_log::keys::read(&dir.path().join("decision-log.key")).expect("the key");
    assert_eq!(shown[1], key.verifier().to_vkey());
    assert_eq!(
        shown[2],
        "This database had no API tokens, so an admin token named \"admin\" was created."
    );
    assert!(shown[4].starts_with("dlt_"), "{shown:?}");
}

#[test]
fn a_log_whose_key_file_was_deleted_is_refused_and_no_new_key_is_written() {
    let dir = tempfile::tempdir().expect("dir");
    let key = dir.path().join("decision-log.key");
    let (child, receive) = start(serve(
        dir.path(),
        &[
            "--bind",
            "127.0.0.1:0",
            "--origin",
            "council.example/decisions",
        ],
    ));
    // The admin token is created after the identity is pinned: once it is shown, the log exists.
    let shown = lines(&receive, 5);
    stop(child);
    assert_eq!(shown.len(), 5, "serve printed {shown:?}");
    std::fs::remove_file(&key).expect("the key existed");

    let (code, out, err) = run(serve(dir.path(), &["--bind", "127.0.0.1:0"]));
    assert_eq!(
        err.trim_end(),
        "error: the signing key file decision-log.key is missing, but this log was created with \
         it (origin \"council.example/decisions\"); a log that exists never gets a new key: \
         restore the key file from a backup"
    );
    assert_eq!(code, 2);
    assert_eq!(out, "");
    assert!(!key.exists(), "no new key is written for a log that exists");
}

/// Runs `sql` on the embedded database in `dir`, creating it (through the migrations) first.
async fn on_database(dir: &Path, sql: &str) {
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.join("decision-log.db").display()
    );
    let store = decision_log::store::Store::connect(&url, 1)
        .await
        .expect("the database");
    sea_orm::ConnectionTrait::execute_unprepared(store.connection(), sql)
        .await
        .expect("sql runs");
    store.connection().clone().close().await.expect("closed");
}

/// A start that fails after it has created something nobody could read afterwards has shown
/// it first; the next start goes on from there, with the same key, and shows what it creates.
#[tokio::test]
async fn a_start_that_fails_after_creating_the_key_has_shown_it_and_the_next_goes_on() {
    let dir = tempfile::tempdir().expect("dir");
    let key_file = dir.path().join("decision-log.key");
    // The database refuses the admin token: the start fails after the key, the log's identity
    // and its first checkpoint exist.
    on_database(
        dir.path(),
        "CREATE TRIGGER refuse_tokens BEFORE INSERT ON api_tokens \
         BEGIN SELECT RAISE(ABORT, 'tokens refused for this test'); END",
    )
    .await;
    let (code, out, err) = run(serve(dir.path(), &["--bind", "127.0.0.1:0"]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.trim_end().starts_with("error: ") && err.contains("tokens refused for this test"),
        "{err}"
    );
    let key = decision_log::keys::read(&key_file).expect("the key was written");
    let vkey = key.verifier().to_vkey();
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "Created this log's signing key. Verifier key (give it to auditors):",
            vkey.as_str()
        ],
        "the key is shown before the start fails"
    );

    // Once the database accepts tokens, the next start keeps that key and shows the token.
    on_database(dir.path(), "DROP TRIGGER refuse_tokens").await;
    let (child, receive) = start(serve(dir.path(), &["--bind", "127.0.0.1:0"]));
    let shown = lines(&receive, 3);
    stop(child);
    assert_eq!(shown.len(), 3, "serve printed {shown:?}");
    assert_eq!(
        shown[0],
        "This database had no API tokens, so an admin token named \"admin\" was created."
    );
    assert!(shown[2].starts_with("dlt_"), "{shown:?}");
    let again = decision_log::keys::read(&key_file).expect("the key");
    assert_eq!(again.verifier().to_vkey(), vkey, "the same key");
}

/// `serve` on `database_url`, which fails before the key is read: (exit code, stderr).
fn serve_on(database_url: &str) -> (i32, String) {
    let dir = tempfile::tempdir().expect("dir");
    let key = dir.path().join("log.key");
    let key = key.to_str().expect("utf-8");
    let (code, _, err) = run(serve(
        dir.path(),
        &[
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            database_url,
            "--signing-key",
            key,
        ],
    ));
    (code, err.trim_end().to_owned())
}

#[test]
fn an_unreachable_postgresql_is_named_by_host_and_port() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a port")
        .local_addr()
        .expect("address")
        .port();
    let (code, err) = serve_on(&format!(
        "postgres://decision_log:secret@127.0.0.1:{closed}/log"
    ));
    assert_eq!(
        err,
        format!(
            "error: cannot reach PostgreSQL at 127.0.0.1:{closed}: connection refused; is the \
             server running, and are the host and port in DATABASE_URL right?"
        )
    );
    assert_eq!(code, 2);
}

#[test]
fn a_missing_postgresql_database_is_named_with_createdb() {
    let Ok(admin) = std::env::var("DECISION_LOG_TEST_POSTGRES") else {
        assert!(
            std::env::var_os("DECISION_LOG_REQUIRE_POSTGRES").is_none(),
            "DECISION_LOG_TEST_POSTGRES is not set but PostgreSQL tests are required"
        );
        eprintln!("skipped: set DECISION_LOG_TEST_POSTGRES to run on PostgreSQL");
        return;
    };
    let (server, _) = admin.rsplit_once('/').expect("URL has a database path");
    let name = format!("missing_{}", uuid::Uuid::new_v4().simple());
    let (code, err) = serve_on(&format!("{server}/{name}"));
    let host = server.rsplit_once('@').map_or(server, |(_, host)| host);
    assert_eq!(
        err,
        format!(
            "error: the PostgreSQL database \"{name}\" does not exist on {host}; create it \
             (`createdb {name}`, or CREATE DATABASE {name}) or name another in DATABASE_URL"
        )
    );
    assert_eq!(code, 2);
}

#[test]
fn an_unknown_url_scheme_is_named_with_the_supported_ones() {
    let (code, err) = serve_on("mysql://decision_log:secret@db.internal/log");
    assert_eq!(
        err,
        "error: the database URL's scheme \"mysql\" is not supported: use sqlite://PATH?mode=rwc \
         (embedded) or postgres://USER:PASSWORD@HOST:PORT/DB"
    );
    assert_eq!(code, 2);
}

#[test]
fn a_missing_sqlite_folder_is_named() {
    let dir = tempfile::tempdir().expect("dir");
    let folder = dir.path().join("no-such-folder");
    let file = folder.join("log.db");
    let (code, err) = serve_on(&format!("sqlite://{}?mode=rwc", file.display()));
    assert_eq!(
        err,
        format!(
            "error: cannot open the SQLite database {}: the folder {} does not exist; create it, \
             or choose another path in DATABASE_URL (--database-url)",
            file.display(),
            folder.display()
        )
    );
    assert_eq!(code, 2);
}

/// A folder for a user who may not write `ro` (mode 0555) nor `rw/log.db` (an existing file,
/// mode 0444), and `serve` run as that user: this one when unprivileged, else `nobody`, because
/// the superuser writes whatever the modes say.
#[cfg(unix)]
fn unwritable() -> (tempfile::TempDir, impl Fn(&str) -> (i32, String)) {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().expect("dir");
    let mode = |path: &Path, mode| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    };
    mode(dir.path(), 0o755);
    std::fs::create_dir(dir.path().join("ro")).expect("ro");
    std::fs::create_dir(dir.path().join("rw")).expect("rw");
    std::fs::write(dir.path().join("rw/log.db"), b"").expect("file");
    mode(&dir.path().join("ro"), 0o555);
    mode(&dir.path().join("rw"), 0o777);
    mode(&dir.path().join("rw/log.db"), 0o444);
    let root = std::fs::metadata(dir.path()).expect("meta").uid() == 0;
    let cwd = dir.path().to_owned();
    // `nobody` may not reach the build's own copy (a checkout may sit in a private folder):
    // it runs a copy in this folder.
    let program = if root {
        let copy = dir.path().join("decision-log");
        std::fs::copy(env!("CARGO_BIN_EXE_decision-log"), &copy).expect("copy the binary");
        mode(&copy, 0o755);
        copy
    } else {
        Path::new(env!("CARGO_BIN_EXE_decision-log")).to_owned()
    };
    let serve_as = move |url: &str| {
        let mut command = serve_with(
            &program,
            &cwd,
            &[
                "--bind",
                "127.0.0.1:0",
                "--database-url",
                url,
                "--signing-key",
                "unused.key",
            ],
        );
        if root {
            command.uid(65_534).gid(65_534);
        }
        let (code, _, err) = run(command);
        (code, err.trim_end().to_owned())
    };
    (dir, serve_as)
}

#[cfg(unix)]
#[test]
fn an_unwritable_sqlite_folder_is_named() {
    let (dir, serve_as) = unwritable();
    let folder = dir.path().join("ro");
    let file = folder.join("log.db");
    let (code, err) = serve_as(&format!("sqlite://{}?mode=rwc", file.display()));
    assert_eq!(
        err,
        format!(
            "error: cannot write in the folder {} of the SQLite database {}: permission denied; \
             SQLite keeps its journal beside the database, so give this user write access to the \
             folder, or choose another path in DATABASE_URL (--database-url)",
            folder.display(),
            file.display()
        )
    );
    assert_eq!(code, 2);
}

#[cfg(unix)]
#[test]
fn an_unwritable_sqlite_file_is_named() {
    let (dir, serve_as) = unwritable();
    let file = dir.path().join("rw/log.db");
    let (code, err) = serve_as(&format!("sqlite://{}?mode=rwc", file.display()));
    assert_eq!(
        err,
        format!(
            "error: cannot write the SQLite database {}: permission denied; give this user write \
             access to it, or choose another path in DATABASE_URL (--database-url)",
            file.display()
        )
    );
    assert_eq!(code, 2);
}

crate::on_both_backends!(export_and_verify_send_the_token_to_a_log_closed_to_anonymous_readers);

/// On a deployment where every reader signs in, `export` and `verify --url` read every page,
/// tile, proof and the key with the token given.
async fn export_and_verify_send_the_token_to_a_log_closed_to_anonymous_readers(
    backend: crate::helpers::Backend,
) {
    let Some(db) = crate::helpers::TestDb::new(backend).await else {
        return;
    };
    let app = crate::helpers::TestApp::spawn_configured(
        db,
        decision_log::store::system_clock(),
        |config| config.anonymous_read = false,
    )
    .await;
    for n in 0..3 {
        app.record(&crate::helpers::decision(n)).await;
    }
    let head = app.get_json("/api/v1/log/head", Some(&app.auditor)).await;
    let size = head["tree_size"].as_u64().expect("size");
    assert_eq!(app.get("/api/v1/log/head", None).await.status(), 401);
    // Tiles are checked up to the checkpoint: wait until one covers the entries.
    for _ in 0..100 {
        let response = app.get("/api/v1/log/checkpoint", Some(&app.auditor)).await;
        let note = response.text().await.expect("note");
        if note.lines().nth(1).and_then(|n| n.parse::<u64>().ok()) >= Some(size) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let vkey = app.vkey();

    let (code, _, err) = crate::helpers::run_cli(&["export", "--url", &app.base]);
    assert_eq!(code, 2, "anonymous export is refused");
    assert!(err.contains("401"), "{err}");
    let (code, export, err) =
        crate::helpers::run_cli(&["export", "--url", &app.base, "--token", &app.auditor]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(export.lines().count() as u64, size + 1, "{export}");
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("log.jsonl");
    std::fs::write(&file, &export).expect("write");
    let file = file.to_str().expect("utf-8");
    let (code, out, err) = crate::helpers::run_cli(&["verify", "--file", file, "--vkey", &vkey]);
    assert_eq!(code, 0, "{out}{err}");

    let (code, out, err) = crate::helpers::run_cli(&[
        "verify",
        "--url",
        &app.base,
        "--vkey",
        &vkey,
        "--token",
        &app.auditor,
        "--json",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(report["lineage"], "checked", "{report}");
    assert!(report["tiles_checked"].as_u64() > Some(0), "{report}");
    assert!(report["proofs_checked"].as_u64() > Some(0), "{report}");
}
