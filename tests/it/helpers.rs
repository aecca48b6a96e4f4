//! Spawning the real app on a fresh database, and typed helpers to talk to it.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use decision_log::app::App;
use decision_log::config::ServeConfig;
use decision_log::store::{BodyKind, NewBody, Power, Role, Store};
use ledger::canonical::to_canonical_bytes;
use ledger::{ChainVerifier, Disclosure, Hash};
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;

/// Which database a scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty database: a SQLite file in a temporary folder, or a new PostgreSQL database on
/// the server named by `DECISION_LOG_TEST_POSTGRES`.
pub struct TestDb {
    pub url: String,
    /// The log's signing key file, created with the database.
    pub key: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestDb {
    /// `None` when PostgreSQL is asked for but not configured (plain `cargo test`); when
    /// `DECISION_LOG_REQUIRE_POSTGRES` is set (as `scripts/test.sh` does) that is a failure.
    pub async fn new(backend: Backend) -> Option<TestDb> {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = dir.path().join("log.key");
        let signer = decision_log::keys::generate("test.decision-log.example/log").expect("key");
        decision_log::keys::write_new(&key, &signer).expect("key file");
        let url = match backend {
            Backend::Sqlite => {
                format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("decision-log.db").display()
                )
            }
            Backend::Postgres => {
                let Ok(admin) = std::env::var("DECISION_LOG_TEST_POSTGRES") else {
                    assert!(
                        std::env::var_os("DECISION_LOG_REQUIRE_POSTGRES").is_none(),
                        "DECISION_LOG_TEST_POSTGRES is not set but PostgreSQL tests are required"
                    );
                    eprintln!(
                        "skipped: set DECISION_LOG_TEST_POSTGRES (scripts/test.sh does) to run on PostgreSQL"
                    );
                    return None;
                };
                let name = format!("t_{}", uuid::Uuid::new_v4().simple());
                let db = Database::connect(admin.as_str())
                    .await
                    .expect("connect to PostgreSQL");
                db.execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create database");
                db.close().await.expect("close");
                let (server, _) = admin.rsplit_once('/').expect("URL has a database path");
                format!("{server}/{name}")
            }
        };
        Some(TestDb {
            url,
            key,
            _dir: dir,
        })
    }
}

/// The real app, serving on a free loopback port.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db: TestDb,
    pub store: Store,
    /// An admin token.
    pub admin: String,
    /// A secretariat token for the bodies `cabinet` and `planning-committee`, which are
    /// registered.
    pub clerk: String,
    /// An auditor token: reads everything.
    pub auditor: String,
    handle: actix_web::dev::ServerHandle,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Some(TestApp::spawn_on(TestDb::new(backend).await?).await)
    }

    pub async fn spawn_on(db: TestDb) -> TestApp {
        TestApp::spawn_with_clock(db, decision_log::store::system_clock()).await
    }

    pub async fn spawn_with_clock(db: TestDb, clock: decision_log::store::Clock) -> TestApp {
        TestApp::spawn_configured(db, clock, |_| {}).await
    }

    /// [`TestApp::spawn_with_clock`] with the test configuration adjusted by `adjust`.
    pub async fn spawn_configured(
        db: TestDb,
        clock: decision_log::store::Clock,
        adjust: impl FnOnce(&mut ServeConfig),
    ) -> TestApp {
        let mut config = ServeConfig::for_tests(&db.url, &db.key);
        adjust(&mut config);
        let app = App::build_with_clock(&config, clock)
            .await
            .expect("app builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        let store = Store::connect(&db.url, 2).await.expect("store connects");
        let now = chrono::Utc::now();
        for (slug, name, kind) in [
            ("cabinet", "Cabinet", BodyKind::Cabinet),
            (
                "planning-committee",
                "Planning Committee",
                BodyKind::Committee,
            ),
        ] {
            let body = NewBody {
                slug: slug.into(),
                name: name.into(),
                kind,
            };
            // A second app on the same database finds them registered.
            match decision_log::store::insert_body(store.connection(), &body, "test", now).await {
                Ok(_) | Err(decision_log::store::StoreError::Duplicate(_)) => {}
                Err(e) => panic!("body: {e}"),
            }
        }
        let mut app = TestApp {
            base,
            client: reqwest::Client::new(),
            db,
            store,
            admin: String::new(),
            clerk: String::new(),
            auditor: String::new(),
            handle,
        };
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let suffix = &suffix[..8];
        app.admin = app
            .token(&format!("admin-{suffix}"), Role::Admin, &[])
            .await;
        app.clerk = app
            .token(
                &format!("clerk-{suffix}"),
                Role::Secretariat,
                &["cabinet", "planning-committee"],
            )
            .await;
        app.auditor = app
            .token(&format!("auditor-{suffix}"), Role::Auditor, &[])
            .await;
        app
    }

    /// Stops the server, finishing requests in flight, and hands back its database.
    pub async fn stop(self) -> TestDb {
        self.handle.stop(true).await;
        self.store
            .connection()
            .clone()
            .close()
            .await
            .expect("close");
        self.db
    }

    /// A fixture token, written straight into the token table, and its secret.
    ///
    /// Every token the service creates is recorded on the log by an `access.granted` entry
    /// (tested through the API and the command line in `admin.rs`, `cli.rs` and
    /// `intrusion.rs`). Fixture tokens are not, so that a scenario's log holds exactly the
    /// entries the scenario appends. They carry a grant id, so the upgrade that records the
    /// grants of older tokens leaves them alone; a scenario never revokes one.
    pub async fn token(&self, name: &str, role: Role, bodies: &[&str]) -> String {
        self.token_with(name, role, bodies, &[]).await
    }

    /// [`TestApp::token`] with redactor powers.
    pub async fn token_with(
        &self,
        name: &str,
        role: Role,
        bodies: &[&str],
        powers: &[Power],
    ) -> String {
        let secret = format!("dlt_fixture{}", uuid::Uuid::new_v4().simple());
        let db = self.store.connection();
        let backend = db.get_database_backend();
        let sql = match backend {
            sea_orm::DbBackend::Postgres => {
                "INSERT INTO api_tokens (name, token_hash, role, bodies, powers, created_at, grant_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)"
            }
            _ => {
                "INSERT INTO api_tokens (name, token_hash, role, bodies, powers, created_at, grant_id) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)"
            }
        };
        let bodies: Vec<&str> = bodies.to_vec();
        db.execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [
                name.into(),
                Hash::digest(secret.as_bytes()).as_bytes().to_vec().into(),
                role.as_str().into(),
                serde_json::to_string(&bodies).expect("json").into(),
                serde_json::to_string(powers).expect("json").into(),
                chrono::Utc::now()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    .into(),
                format!("fixture-{}", uuid::Uuid::new_v4()).into(),
            ],
        ))
        .await
        .expect("fixture token");
        secret
    }

    /// POSTs `body` to `path` with `token` and returns (status, JSON body).
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// POSTs a lineage request (`amendments`, `redactions`, …) about decision `id`.
    pub async fn lineage(&self, id: &str, what: &str, token: &str, body: Value) -> (u16, Value) {
        self.post(
            &format!("/api/v1/decisions/{id}/{what}"),
            Some(token),
            &body,
        )
        .await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post_decision(&self, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/decisions"))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Records `body` and returns the created decision, failing the test on anything but 201.
    pub async fn record(&self, body: &Value) -> Value {
        let response = self.post_decision(&self.clerk, body).await;
        let status = response.status();
        let json: Value = response.json().await.expect("JSON body");
        assert_eq!(status, 201, "{json:#}");
        json
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }

    pub async fn get_json(&self, path: &str, token: Option<&str>) -> Value {
        let response = self.get(path, token).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("JSON body")
    }

    pub async fn get_json_text(&self, path: &str) -> String {
        let response = self.get(path, None).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.text().await.expect("text")
    }

    /// The log's verifier key, from its key file (what an auditor holds), not from the server.
    pub fn vkey(&self) -> String {
        decision_log::keys::read(&self.db.key)
            .expect("key")
            .verifier()
            .to_vkey()
    }

    pub async fn head(&self) -> (u64, String) {
        let head = self.get_json("/api/v1/log/head", None).await;
        (
            head["tree_size"].as_u64().expect("size"),
            head["head_hash"].as_str().expect("hash").to_owned(),
        )
    }

    /// The invariant checker: fetches every entry over HTTP, recomputes every entry hash, chain
    /// link and disclosure with the ledger code, and checks the served head. Returns the size.
    pub async fn check_log(&self) -> u64 {
        let (size, head) = self.head().await;
        let mut verifier = ChainVerifier::new();
        let mut from = 0;
        while from < size {
            let page = self
                .get_json(
                    &format!("/api/v1/log/entries?from={from}&limit=1000"),
                    Some(&self.auditor),
                )
                .await;
            let entries = page["entries"].as_array().expect("entries");
            assert!(
                !entries.is_empty(),
                "the log ends early at {from} of {size}"
            );
            for e in entries {
                let canonical = to_canonical_bytes(&e["entry"]).expect("canonical");
                let claimed = Hash::parse(e["entry_hash"].as_str().expect("hash")).expect("hex");
                let disclosures: Vec<Disclosure> =
                    serde_json::from_value(e["disclosures"].clone()).expect("disclosures");
                let leaf = e["leaf_index"].as_u64().expect("index");
                verifier
                    .check(leaf, &canonical, Some(claimed), &disclosures)
                    .expect("the log verifies");
            }
            from += entries.len() as u64;
        }
        verifier
            .check_head(size, Hash::parse(&head).expect("hex"))
            .expect("the head matches");
        size
    }
}

/// Runs the `decision-log` binary with `args` and returns (exit code, stdout, stderr).
pub fn run_cli(args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_decision-log"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A valid record whose title is made unique by `n`.
pub fn decision(n: usize) -> Value {
    let mut record = decision_log::record::example();
    record["title"] = Value::String(format!("Decision {n}: close Northgate depot"));
    record
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The real binary serving on a database of its own, with what it writes to standard error
/// collected as it comes and the first admin token it printed. Killed when dropped.
pub struct Served {
    pub child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub addr: std::net::SocketAddr,
    pub admin: String,
    log: Arc<Mutex<String>>,
}

impl Served {
    /// `decision-log serve` on `db` with `args`, once it listens.
    pub fn start(db: &TestDb, args: &[&str]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_decision-log"))
            .args(["serve", "--bind", "127.0.0.1:0", "--database-url", &db.url])
            .args(["--signing-key", db.key.to_str().expect("utf-8")])
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        let log = Arc::new(Mutex::new(String::new()));
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
        let base = loop {
            let mut line = String::new();
            assert!(
                stderr.read_line(&mut line).expect("utf-8") > 0,
                "serve exited before listening: {}",
                log.lock().expect("log")
            );
            log.lock().expect("log").push_str(&line);
            if let Some((_, rest)) = line.split_once("listening on ") {
                // Text ends the address with the line, JSON with the string's closing quote.
                let end = rest.find(['"', ' ', '\n']).unwrap_or(rest.len());
                break rest[..end].to_owned();
            }
        };
        let collected = log.clone();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                let text = String::from_utf8_lossy(&buffer[..n]).into_owned();
                collected.lock().expect("log").push_str(&text);
            }
        });
        // The first admin token is printed on stdout before the address is logged.
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let admin = loop {
            let mut line = String::new();
            assert!(
                stdout.read_line(&mut line).expect("utf-8") > 0,
                "serve printed its first admin token"
            );
            if line.starts_with("dlt_") {
                break line.trim().to_owned();
            }
        };
        std::thread::spawn(move || for _ in stdout.lines().map_while(Result::ok) {});
        let addr = base
            .strip_prefix("http://")
            .expect("http")
            .parse()
            .expect("address");
        Served {
            child,
            base,
            addr,
            admin,
            log,
        }
    }

    /// Everything it has written to standard error so far.
    pub fn log(&self) -> String {
        self.log.lock().expect("log").clone()
    }

    /// Waits until the log holds `text`, for at most 10 seconds.
    pub async fn wait_for_log(&self, text: &str) {
        for _ in 0..400 {
            if self.log().contains(text) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the log never said {text:?}:\n{}", self.log());
    }

    /// Sends it signal `name` (`TERM`, `INT`, …).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits for the process to exit, for at most 60 seconds.
    pub async fn exit_status(&mut self) -> ExitStatus {
        for _ in 0..2_400 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.child.kill().ok();
        panic!("serve did not exit:\n{}", self.log());
    }

    /// Stops the server and returns everything it logged.
    pub fn stop(mut self) -> String {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
        std::thread::sleep(Duration::from_millis(100));
        self.log()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.child.kill().ok();
            self.child.wait().ok();
        }
    }
}
