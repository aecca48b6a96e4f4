//! What a hostile client can send and what the service must not do with it: numbers past any
//! position, forged log lines and leaked secrets, forged hosts, responses cached for the wrong
//! reader, framing, and secrets printed by `--help`.

use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::helpers::{Backend, Served, TestApp, TestDb, decision};
use crate::on_both_backends;

on_both_backends!(out_of_range_numbers_are_refused_and_raise_no_alarm);

/// The largest `BIGINT`, and the first number past it.
const MAX: &str = "9223372036854775807";
const PAST_MAX: &str = "9223372036854775808";

/// GETs `path` anonymously and returns (status, content type, body).
async fn fetch(app: &TestApp, path: &str) -> (u16, String, String) {
    let response = app.get(path, None).await;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, content_type, response.text().await.expect("body"))
}

async fn out_of_range_numbers_are_refused_and_raise_no_alarm(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.record(&decision(0)).await;
    let cursor = |n: &str| URL_SAFE_NO_PAD.encode(format!("v1:{n}"));
    let problem = "application/problem+json";
    let page = "text/html; charset=utf-8";
    let refused: Vec<(String, u16, &str)> = vec![
        (format!("/api/v1/log/entries/{MAX}"), 404, problem),
        (format!("/api/v1/log/entries/{PAST_MAX}"), 404, problem),
        (format!("/api/v1/log/entries?from={PAST_MAX}"), 400, problem),
        (
            format!("/api/v1/log/entries?from={PAST_MAX}&limit=1"),
            400,
            problem,
        ),
        (
            format!("/api/v1/decisions?cursor={}", cursor(PAST_MAX)),
            400,
            problem,
        ),
        (
            format!("/api/v1/log/proofs/inclusion?leaf_index={PAST_MAX}&tree_size=1"),
            400,
            problem,
        ),
        (
            format!("/api/v1/log/proofs/inclusion?leaf_index=0&tree_size={PAST_MAX}"),
            400,
            problem,
        ),
        (
            format!("/api/v1/log/proofs/inclusion?leaf_index={MAX}&tree_size={MAX}"),
            400,
            problem,
        ),
        (
            format!("/api/v1/log/proofs/consistency?from={PAST_MAX}"),
            400,
            problem,
        ),
        (
            format!("/api/v1/log/proofs/consistency?from=0&to={PAST_MAX}"),
            400,
            problem,
        ),
        (
            format!("/api/v1/log/proofs/consistency?from=1&to={MAX}"),
            400,
            problem,
        ),
        (
            "/tlog/tile/0/x009/223/372/036/854/775/807".into(),
            404,
            problem,
        ),
        (
            "/tlog/tile/entries/x018/446/744/073/709/551/615".into(),
            404,
            problem,
        ),
        ("/tlog/tile/7/x036/028/797/018/963/967".into(), 404, problem),
        (format!("/?before={PAST_MAX}"), 400, page),
        (format!("/bodies/cabinet?before={PAST_MAX}"), 400, page),
        (format!("/search?q=depot&before={PAST_MAX}"), 400, page),
        (
            format!("/feeds/decisions.atom?before={PAST_MAX}"),
            400,
            page,
        ),
        (
            format!("/feeds/decisions.json?before={PAST_MAX}"),
            400,
            page,
        ),
    ];
    for (path, status, content_type) in &refused {
        let (got, got_type, body) = fetch(&app, path).await;
        assert_eq!(got, *status, "GET {path}: {body}");
        assert_eq!(got_type, *content_type, "GET {path}");
        assert!(!body.contains("inconsistent"), "GET {path}: {body}");
    }

    // The largest position itself is a number like any other: past the head, nothing there.
    let accepted = [
        format!("/api/v1/log/entries?from={MAX}"),
        format!("/api/v1/decisions?cursor={}", cursor(MAX)),
        format!("/?before={MAX}"),
        format!("/bodies/cabinet?before={MAX}"),
        format!("/search?q=depot&before={MAX}"),
        format!("/feeds/decisions.atom?before={MAX}"),
        format!("/feeds/decisions.json?before={MAX}"),
        format!("/log?before={PAST_MAX}"),
    ];
    for path in &accepted {
        let (status, _, body) = fetch(&app, path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
    }
    let listed = app
        .get_json(&format!("/api/v1/decisions?cursor={}", cursor(MAX)), None)
        .await;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));

    // No alarm was raised: the log still takes appends.
    app.record(&decision(1)).await;
    assert_eq!(app.check_log().await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_values_cannot_forge_log_lines_and_secrets_stay_out_of_the_log() {
    let db = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    let served = Served::start(&db, &[]);
    let client = reqwest::Client::new();
    let forged = "%0A2001-01-01T00:00:00.000000Z%20ERROR%20decision_log:%20FORGED%0D%0A";
    let requests: Vec<(String, Option<&str>)> = vec![
        (format!("/decisions/x{forged}"), None),
        (format!("/api/v1/decisions/x{forged}"), None),
        (format!("/bodies/x{forged}%1B[31m"), None),
        (format!("/nowhere{forged}"), None),
        (
            "/api/v1/log/entries?access_token=SECRET-IN-QUERY".into(),
            None,
        ),
        ("/?access_token=SECRET-IN-QUERY".into(), None),
        ("/api/v1/log/head?access_token=SECRET-IN-QUERY".into(), None),
        ("/api/v1/log/head".into(), Some("dlt_SECRET-IN-HEADER")),
        ("/api/v1/tokens".into(), Some(served.admin.as_str())),
    ];
    for (path, token) in &requests {
        let mut request = client.get(format!("{}{path}", served.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let status = request.send().await.expect("request").status();
        assert!(status.as_u16() < 500, "GET {path}: {status}");
    }
    let admin = served.admin.clone();
    let log = served.stop();

    // The forged text reached the log (escaped), so the checks below are not vacuous.
    assert!(log.contains("FORGED"), "{log}");
    assert!(log.contains("no decision x\\n2001-01-01"), "{log}");
    for line in log.lines() {
        assert!(
            !line.starts_with("2001-01-01") && !line.starts_with("FORGED"),
            "a request forged a log line: {line:?}"
        );
    }
    assert!(!log.contains('\r') && !log.contains('\u{1b}'), "{log:?}");
    for secret in ["SECRET-IN-QUERY", "SECRET-IN-HEADER", admin.as_str()] {
        assert!(!log.contains(secret), "{secret} is in the log:\n{log}");
    }
    assert!(
        log.contains("/api/v1/log/entries"),
        "the path is logged: {log}"
    );
}

/// The JSON Feed, the Atom feed and the `/log` page as fetched with `headers`, concatenated.
async fn linked_pages(app: &TestApp, headers: &[(&str, &str)]) -> String {
    let mut all = String::new();
    for path in ["/feeds/decisions.json", "/feeds/decisions.atom", "/log"] {
        let mut request = app.client.get(app.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), 200, "GET {path} with {headers:?}");
        all.push_str(&response.text().await.expect("text"));
    }
    all
}

/// Every absolute link in `text` (`http://…` or `https://…` up to a quote, `<` or space), except
/// the XML and feed namespaces.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for start in ["http://", "https://"] {
        for part in text.split(start).skip(1) {
            let end = part
                .find(|c: char| c == '"' || c == '<' || c == '\'' || c.is_whitespace())
                .unwrap_or(part.len());
            let link = format!("{start}{}", &part[..end]);
            if !link.contains("www.w3.org") && !link.contains("jsonfeed.org") {
                out.push(link);
            }
        }
    }
    out
}

/// Asserts that `text` has absolute links and that every one is `base` or under it.
fn assert_links_at(text: &str, base: &str) {
    let found = links(text);
    assert!(!found.is_empty(), "the feeds and /log carry absolute links");
    for link in found {
        let rest = link.strip_prefix(base).unwrap_or("-");
        assert!(
            rest.is_empty() || rest.starts_with('/'),
            "{link} is not at {base}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_never_follow_forged_host_or_forwarded_headers() {
    let hostile: &[(&str, &str)] = &[
        ("X-Forwarded-Proto", "javascript"),
        ("X-Forwarded-Host", "evil.example"),
        ("Forwarded", "proto=javascript;host=evil.example"),
    ];

    // No public URL, no trusted proxy: forwarded headers are ignored, a bad Host too.
    let db = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    let app = TestApp::spawn_on(db).await;
    app.record(&decision(0)).await;
    for host in [
        "javascript://x",
        "evil.example/@x",
        "user@evil.example",
        "evil.example:99999",
    ] {
        let mut headers = hostile.to_vec();
        headers.push(("Host", host));
        let text = linked_pages(&app, &headers).await;
        assert_links_at(&text, &app.base);
        assert!(
            text.contains(&format!("verify --url {} ", app.base)),
            "{text}"
        );
        assert!(
            !text.contains("javascript") && !text.contains("evil"),
            "{text}"
        );
    }
    // A plain Host is what the reader asked for, and is used.
    let text = linked_pages(&app, &[("Host", "decisions.example:8080")]).await;
    assert_links_at(&text, "http://decisions.example:8080");
    app.stop().await;

    // Behind a trusted proxy: its forwarded headers count, checked.
    let db = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    let app = TestApp::spawn_configured(db, decision_log::store::system_clock(), |config| {
        config.trusted_proxies = vec!["127.0.0.0/8".parse().expect("range")];
    })
    .await;
    let forwarded = [
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "decisions.example"),
    ];
    let text = linked_pages(&app, &forwarded).await;
    assert!(
        text.contains("verify --url https://decisions.example "),
        "{text}"
    );
    assert_links_at(&text, "https://decisions.example");
    let text = linked_pages(
        &app,
        &[(
            "Forwarded",
            "proto=https;host=evil.example, proto=https;host=\"decisions.example\"",
        )],
    )
    .await;
    assert!(
        text.contains("verify --url https://decisions.example "),
        "{text}"
    );
    let text = linked_pages(
        &app,
        &[
            ("X-Forwarded-Proto", "javascript"),
            ("X-Forwarded-Host", "evil.example/x"),
            ("Host", "decisions.example"),
        ],
    )
    .await;
    assert_links_at(&text, "http://decisions.example");
    app.stop().await;

    // With a public URL, no header matters.
    let db = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    let app = TestApp::spawn_configured(db, decision_log::store::system_clock(), |config| {
        config.public_url = Some("https://decisions.example.gov.uk".parse().expect("URL"));
        config.trusted_proxies = vec!["127.0.0.1".parse().expect("range")];
    })
    .await;
    let mut headers = hostile.to_vec();
    headers.push(("Host", "evil.example"));
    let text = linked_pages(&app, &headers).await;
    assert!(
        text.contains("verify --url https://decisions.example.gov.uk "),
        "{text}"
    );
    assert_links_at(&text, "https://decisions.example.gov.uk");
    assert!(!text.contains("evil"), "{text}");
}

/// (Cache-Control, Vary) of `response`.
fn caching(response: &reqwest::Response) -> (String, String) {
    let all = |name: &str| {
        response
            .headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(", ")
    };
    (all("cache-control"), all("vary"))
}

/// Asserts that `response` to `what` may not be kept by a shared cache nor served to another
/// reader.
fn assert_private(what: &str, response: &reqwest::Response) {
    let (cache, vary) = caching(response);
    assert!(
        cache.starts_with("private"),
        "{what}: Cache-Control {cache:?}"
    );
    assert!(!cache.contains("public"), "{what}: Cache-Control {cache:?}");
    assert!(vary.contains("Authorization"), "{what}: Vary {vary:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_depends_on_the_reader_is_never_cached_for_another() {
    let db = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    let app = TestApp::spawn_on(db).await;
    let recorded = app.record(&decision(0)).await;
    let id = recorded["id"].as_str().expect("id");
    let tile = "/tlog/tile/entries/000.p/1";

    // Anonymous reading of what is the same for every anonymous reader stays public.
    let anonymous = app.get(tile, None).await;
    assert_eq!(anonymous.status(), 200);
    let (cache, vary) = caching(&anonymous);
    assert_eq!(cache, "public, max-age=31536000, immutable");
    assert!(vary.contains("Authorization"), "{vary}");

    // Anything asked with a token is private, whatever the handler said.
    for path in [
        tile.to_owned(),
        "/tlog/checkpoint".into(),
        "/api/v1/decisions".into(),
        format!("/api/v1/decisions/{id}"),
        format!("/api/v1/decisions/{id}/receipt"),
        "/api/v1/log/entries".into(),
        "/".into(),
        format!("/decisions/{id}"),
        "/search?q=depot".into(),
        "/feeds/decisions.atom".into(),
        "/feeds/decisions.json".into(),
        "/api/v1/decisions/00000000-0000-0000-0000-000000000000".into(),
    ] {
        let response = app.get(&path, Some(&app.auditor)).await;
        assert!(response.status().as_u16() < 500, "{path}");
        assert_private(&format!("GET {path} with a token"), &response);
    }
    let immutable = app.get(tile, Some(&app.auditor)).await;
    assert_eq!(
        caching(&immutable).0,
        "private, max-age=31536000, immutable",
        "the reader's own cache keeps the tile"
    );
    // A token's refusal is private too.
    let refused = app.get("/api/v1/decisions", Some("dlt_nonsense")).await;
    assert_eq!(refused.status(), 401);
    assert_private("a refused token", &refused);

    // Token management is never stored at all.
    let listed = app.get("/api/v1/tokens", Some(&app.admin)).await;
    assert_eq!(listed.status(), 200);
    assert_eq!(caching(&listed).0, "no-store");
    let created = app
        .client
        .post(app.url("/api/v1/tokens"))
        .bearer_auth(&app.admin)
        .json(&serde_json::json!({"name": "cache-check", "role": "staff"}))
        .send()
        .await
        .expect("request");
    assert_eq!(created.status(), 201);
    assert_eq!(caching(&created).0, "no-store");
    let revoked = app
        .client
        .delete(app.url("/api/v1/tokens/cache-check"))
        .bearer_auth(&app.admin)
        .send()
        .await
        .expect("request");
    assert!(revoked.status().is_success(), "{}", revoked.status());
    assert_eq!(caching(&revoked).0, "no-store");
    app.stop().await;

    // Closed to anonymous readers: every response depends on who asks, tiles included.
    let db = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    let app = TestApp::spawn_configured(db, decision_log::store::system_clock(), |config| {
        config.anonymous_read = false;
    })
    .await;
    app.record(&decision(0)).await;
    for (path, token) in [
        (tile, Some(app.auditor.as_str())),
        (tile, None),
        ("/tlog/checkpoint", Some(app.auditor.as_str())),
        ("/api/v1/decisions", None),
        ("/", None),
        ("/assets/site.css", None),
        ("/health/live", None),
    ] {
        let response = app.get(path, token).await;
        assert_private(&format!("GET {path} on a closed deployment"), &response);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_response_can_be_framed_or_sniffed() {
    let db = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    let app = TestApp::spawn_on(db).await;
    app.record(&decision(0)).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let requests = [
        ("GET", "/api/v1/log/head", 200),
        ("GET", "/api/v1/decisions", 200),
        ("GET", "/api/v1/openapi.json", 200),
        ("GET", "/api/v1/log/checkpoint", 200),
        ("GET", "/tlog/tile/entries/000.p/1", 200),
        ("GET", "/problems/bad-request", 200),
        ("GET", "/health/live", 200),
        ("GET", "/api/docs", 308),
        ("GET", "/api/docs/", 200),
        ("GET", "/api/docs/swagger-ui.css", 200),
        ("GET", "/api/docs/swagger-initializer.js", 200),
        ("GET", "/api/docs/no-such-file.js", 404),
        ("GET", "/log/format", 200),
        ("GET", "/", 200),
        ("GET", "/nowhere", 404),
        ("DELETE", "/api/v1/log/head", 405),
        ("GET", "/api/v1/decisions?zzz=1", 400),
        ("POST", "/api/v1/decisions", 401),
        ("GET", "/api/v1/tokens", 401),
        ("GET", "/decisions/nothing", 404),
    ];
    for (method, path, status) in requests {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let response = client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), status, "{method} {path}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(
            header("x-content-type-options"),
            "nosniff",
            "{method} {path}"
        );
        assert_eq!(header("x-frame-options"), "DENY", "{method} {path}");
        let csp = header("content-security-policy");
        assert!(
            csp.contains("frame-ancestors 'none'"),
            "{method} {path}: {csp}"
        );
        if path.starts_with("/api/docs/") {
            assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
            let scripts = csp
                .split(';')
                .find(|d| d.trim().starts_with("script-src"))
                .unwrap_or_default();
            assert_eq!(scripts.trim(), "script-src 'self'", "{path}: {csp}");
        } else if path == "/" || path == "/decisions/nothing" {
            assert_eq!(csp, decision_log::feed::CONTENT_SECURITY_POLICY, "{path}");
        } else {
            assert!(csp.starts_with("default-src 'none'"), "{path}: {csp}");
        }
    }
    // The Swagger UI asks nothing of another site: no validator badge.
    let initializer = app.get_json_text("/api/docs/swagger-initializer.js").await;
    assert!(
        initializer.contains("\"validatorUrl\": \"none\""),
        "{initializer}"
    );
}

#[test]
fn help_never_prints_the_secrets_in_the_environment() {
    let marker = "MARKER-SECRET-7f3a";
    let cases: [&[&str]; 7] = [
        &["serve", "--help"],
        &["serve", "-h"],
        &["verify", "--help"],
        &["verify", "-h"],
        &["token", "create", "--help"],
        &["token", "list", "--help"],
        &["rebuild-views", "--help"],
    ];
    for args in cases {
        let output = Command::new(env!("CARGO_BIN_EXE_decision-log"))
            .args(args)
            .env(
                "DATABASE_URL",
                format!("postgres://log:{marker}@db:5432/log"),
            )
            .env("DECISION_LOG_TOKEN", format!("dlt_{marker}"))
            .env("DECISION_LOG_SIGNING_KEY", format!("/etc/{marker}.key"))
            .env("DECISION_LOG_ORIGIN", format!("{marker}.example/log"))
            .env("DECISION_LOG_SITE_NAME", marker)
            .output()
            .expect("the binary runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{args:?}: {stderr}");
        // The variables are named, so the help is the one that would have shown them.
        assert!(stdout.contains("DATABASE_URL"), "{args:?}: {stdout}");
        assert!(
            !stdout.contains(marker) && !stderr.contains(marker),
            "{args:?} printed an environment value:\n{stdout}{stderr}"
        );
    }
}
