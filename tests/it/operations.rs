//! What a platform team runs the service with: `/metrics` for Prometheus, JSON logs with an
//! access line per request, request ids end to end, and a graceful drain on SIGINT.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{Backend, Served, TestApp, TestDb, decision};
use crate::on_both_backends;

on_both_backends!(metrics_follow_requests_appends_and_the_log_head);

/// One sample of an exposition: its series (name and labels, as written) and value.
type Samples = HashMap<String, f64>;

/// Parses the Prometheus text format (0.0.4) strictly enough to catch a malformed exposition:
/// every line is a `# HELP`, a `# TYPE` of a known type, or a sample whose metric family was
/// typed before it, with well-formed labels and a number; no series appears twice.
fn parse_exposition(text: &str) -> Samples {
    fn is_name(name: &str) -> bool {
        let mut chars = name.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }
    /// Reads `{k="v",…}` from the start of `text`; returns the rest.
    fn labels(text: &str) -> &str {
        let mut rest = text.strip_prefix('{').expect("labels open with {");
        loop {
            if let Some(after) = rest.strip_prefix('}') {
                return after;
            }
            let (name, after) = rest.split_once("=\"").expect("label=\"value\"");
            assert!(is_name(name), "label name {name:?}");
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next().expect("label value ends") {
                    (_, '\\') => {
                        let (_, escaped) = chars.next().expect("escape");
                        assert!(matches!(escaped, '\\' | '"' | 'n'), "escape \\{escaped}");
                    }
                    (i, '"') => break i,
                    (_, c) => assert!(c != '\n', "raw newline in a label value"),
                }
            };
            rest = &after[end + 1..];
            rest = rest.strip_prefix(',').unwrap_or(rest);
        }
    }
    assert!(text.ends_with('\n'), "the exposition ends with a newline");
    let mut types: HashMap<String, String> = HashMap::new();
    let mut samples = Samples::new();
    for line in text.lines() {
        if let Some(help) = line.strip_prefix("# HELP ") {
            let (name, _) = help.split_once(' ').expect("HELP name text");
            assert!(is_name(name), "{line}");
        } else if let Some(typed) = line.strip_prefix("# TYPE ") {
            let (name, kind) = typed.split_once(' ').expect("TYPE name type");
            assert!(is_name(name), "{line}");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            assert!(
                types.insert(name.to_owned(), kind.to_owned()).is_none(),
                "{name} typed twice"
            );
        } else {
            assert!(!line.starts_with('#') && !line.is_empty(), "{line:?}");
            let name_end = line.find(['{', ' ']).expect("a sample has a value");
            let name = &line[..name_end];
            assert!(is_name(name), "{line}");
            let rest = if line[name_end..].starts_with('{') {
                labels(&line[name_end..])
            } else {
                &line[name_end..]
            };
            let value = rest.strip_prefix(' ').expect("a space before the value");
            let value: f64 = match value {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                v => v.parse().unwrap_or_else(|_| panic!("not a number: {line}")),
            };
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| {
                    name.strip_suffix(suffix)
                        .filter(|base| types.get(*base).is_some_and(|t| t == "histogram"))
                })
                .unwrap_or(name);
            assert!(types.contains_key(family), "{name} has no TYPE before it");
            let series = &line[..line.len() - rest.len()];
            assert!(
                samples.insert(series.to_owned(), value).is_none(),
                "{series} appears twice"
            );
        }
    }
    samples
}

async fn scrape(app: &TestApp) -> (String, Samples) {
    let response = app.get("/metrics", None).await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ASCII")
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.expect("text");
    let samples = parse_exposition(&text);
    (text, samples)
}

async fn metrics_follow_requests_appends_and_the_log_head(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let not_found = r#"decision_log_http_requests_total{route="/api/v1/decisions/{id}",method="GET",status="404"}"#;
    let recorded = r#"decision_log_appends_total{kind="decision.recorded"}"#;
    let (_, before) = scrape(&app).await;
    assert_eq!(before.get(recorded), Some(&0.0), "every kind starts at 0");
    for id in ["no-such-decision-a", "no-such-decision-b"] {
        let path = format!("/api/v1/decisions/{id}");
        assert_eq!(app.get(&path, None).await.status(), 404);
    }
    assert_eq!(app.get("/no/route/here", None).await.status(), 404);
    app.record(&decision(0)).await;
    let (text, after) = scrape(&app).await;

    // Requests are counted by their route pattern, never by the raw path.
    assert_eq!(
        after.get(not_found).copied().unwrap_or(0.0),
        before.get(not_found).copied().unwrap_or(0.0) + 2.0,
        "{text}"
    );
    assert!(!text.contains("no-such-decision") && !text.contains("/no/route/here"));
    let unmatched =
        r#"decision_log_http_requests_total{route="unmatched",method="GET",status="404"}"#;
    assert!(
        after.get(unmatched).copied().unwrap_or(0.0) >= 1.0,
        "{text}"
    );
    let created =
        r#"decision_log_http_requests_total{route="/api/v1/decisions",method="POST",status="201"}"#;
    assert_eq!(after.get(created), Some(&1.0), "{text}");
    let latency = r#"decision_log_http_request_duration_seconds_count{route="/api/v1/decisions",method="POST",status="201"}"#;
    assert_eq!(after.get(latency), Some(&1.0), "{text}");
    let inf = r#"decision_log_http_request_duration_seconds_bucket{route="/api/v1/decisions",method="POST",status="201",le="+Inf"}"#;
    assert_eq!(after.get(inf), Some(&1.0), "{text}");

    // The append is counted by kind, and timed.
    assert_eq!(after.get(recorded), Some(&1.0), "{text}");
    assert_eq!(
        after.get("decision_log_append_duration_seconds_count"),
        Some(&1.0),
        "{text}"
    );

    // The gauges read the log itself.
    let (tree_size, _) = app.head().await;
    assert_eq!(
        after.get("decision_log_tree_size"),
        Some(&(tree_size as f64)),
        "{text}"
    );
    assert_eq!(after.get("decision_log_database_up"), Some(&1.0));
    assert_eq!(
        after.get("decision_log_db_pool_connections_max"),
        Some(&10.0),
        "the test configuration's --max-connections: {text}"
    );
    let open = after["decision_log_db_pool_connections_in_use"]
        + after["decision_log_db_pool_connections_idle"];
    assert!((1.0..=10.0).contains(&open), "{text}");
    // The checkpointer signs the grown tree on its next tick; wait for it, then its age is known.
    let mut signed = None;
    for _ in 0..200 {
        let (_, now) = scrape(&app).await;
        if now.get("decision_log_checkpoint_tree_size") == Some(&(tree_size as f64)) {
            signed = Some(now);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let signed = signed.expect("a checkpoint of the grown tree is reported");
    let age = signed["decision_log_checkpoint_age_seconds"];
    assert!(age >= 0.0 && age.is_finite(), "{age}");
    app.check_log().await;
}

/// The `X-Request-Id` of `response`.
fn header_id(response: &reqwest::Response) -> String {
    response.headers()["x-request-id"]
        .to_str()
        .expect("ASCII")
        .to_owned()
}

async fn problem_with_id(request: reqwest::RequestBuilder, status: u16) -> (String, Value) {
    let response = request.send().await.expect("request");
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let id = header_id(&response);
    let problem: Value = response.json().await.expect("problem");
    assert_eq!(problem["request_id"], id.as_str(), "{problem}");
    (id, problem)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_are_in_every_response_and_problem_and_only_a_trusted_proxy_sets_them() {
    let db = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    let trusted = TestApp::spawn_configured(db, decision_log::store::system_clock(), |config| {
        config.trusted_proxies = vec!["127.0.0.1".parse().expect("range")];
    })
    .await;

    // A success carries a generated id, a fresh one each time.
    let first = header_id(&trusted.get("/health/live", None).await);
    let second = header_id(&trusted.get("/health/live", None).await);
    assert!(uuid::Uuid::parse_str(&first).is_ok(), "{first}");
    assert_ne!(first, second);

    // Problems of every origin carry it in the body too: a handler's 404, the router's 404 and
    // 405, and a refused write.
    let client = &trusted.client;
    for (request, status) in [
        (client.get(trusted.url("/api/v1/decisions/nope")), 404),
        (client.get(trusted.url("/nowhere")), 404),
        (client.delete(trusted.url("/api/v1/log/head")), 405),
        (
            client
                .post(trusted.url("/api/v1/decisions"))
                .json(&decision(0)),
            401,
        ),
    ] {
        let (id, _) = problem_with_id(request, status).await;
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    }

    // From a trusted proxy, a well-formed id is kept, in the header and the problem alike.
    let proxied = "edge-7f3a:req/42~ok";
    let (id, _) = problem_with_id(
        client
            .get(trusted.url("/api/v1/decisions/nope"))
            .header("X-Request-Id", proxied),
        404,
    )
    .await;
    assert_eq!(id, proxied);
    let long = "x".repeat(128);
    let kept = trusted
        .client
        .get(trusted.url("/health/live"))
        .header("X-Request-Id", long.as_str())
        .send()
        .await
        .expect("request");
    assert_eq!(header_id(&kept), long);

    // A malformed one is replaced by a generated id.
    for malformed in ["has space", &"y".repeat(129), "tab\tin"] {
        let (id, _) = problem_with_id(
            client
                .get(trusted.url("/nowhere"))
                .header("X-Request-Id", malformed),
            404,
        )
        .await;
        assert_ne!(id, malformed);
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    }

    // From a peer that is not a trusted proxy, even a well-formed id is ignored.
    let db = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    let direct = TestApp::spawn_configured(db, decision_log::store::system_clock(), |config| {
        config.trusted_proxies = vec!["10.0.0.0/8".parse().expect("range")];
    })
    .await;
    let (id, _) = problem_with_id(
        direct
            .client
            .get(direct.url("/api/v1/decisions/nope"))
            .header("X-Request-Id", proxied),
        404,
    )
    .await;
    assert_ne!(id, proxied);
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    direct.stop().await;
    trusted.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line_with_an_access_line_per_request() {
    let db = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    let mut served = Served::start(
        &db,
        &["--log-format", "json", "--trusted-proxies", "127.0.0.1"],
    );
    let client = reqwest::Client::new();
    let response = client
        .get(format!(
            "{}/api/v1/log/head?access_token=SECRET",
            served.base
        ))
        .header("X-Request-Id", "json-log-check")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let response = client
        .get(format!("{}/api/v1/decisions/missing", served.base))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 404);
    let missing_id = header_id(&response);
    served.wait_for_log(&missing_id).await;
    served.signal("TERM");
    assert!(served.exit_status().await.success());
    let log = served.log();

    let lines: Vec<Value> = log
        .lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not one JSON object: {line:?}: {e}"));
            assert!(value.is_object(), "{line}");
            value
        })
        .collect();
    let access = |id: &str| -> Value {
        lines
            .iter()
            .find(|l| l["message"] == "request served" && l["request_id"] == id)
            .unwrap_or_else(|| panic!("no access line for {id}:\n{log}"))
            .clone()
    };
    let head = access("json-log-check");
    assert_eq!(head["level"], "INFO");
    assert_eq!(head["http.method"], "GET");
    assert_eq!(head["http.route"], "/api/v1/log/head");
    assert_eq!(head["http.path"], "/api/v1/log/head", "no query string");
    assert_eq!(head["http.status_code"], 200);
    assert_eq!(head["peer"], "127.0.0.1");
    assert!(
        head["duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0),
        "{head}"
    );
    assert!(head["timestamp"].is_string());
    let missing = access(&missing_id);
    assert_eq!(missing["http.route"], "/api/v1/decisions/{id}");
    assert_eq!(missing["http.path"], "/api/v1/decisions/missing");
    assert_eq!(missing["http.status_code"], 404);
    assert!(!log.contains("SECRET"), "{log}");
    // The drain is logged too, as JSON.
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "drained: stopped" && l["level"] == "INFO"),
        "{log}"
    );
}

/// Reads from `stream` until `buffer` holds `marker`.
async fn read_until(stream: &mut tokio::net::TcpStream, buffer: &mut Vec<u8>, marker: &[u8]) {
    let mut chunk = [0u8; 1024];
    while !buffer.windows(marker.len()).any(|w| w == marker) {
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "closed before {:?}", String::from_utf8_lossy(marker));
        buffer.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_lets_a_request_in_flight_finish_refuses_new_connections_and_exits_0() {
    let db = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    let mut served = Served::start(&db, &["--body-read-timeout-ms", "120000"]);
    let body = json!({"slug": "drain-committee", "name": "Drain committee", "kind": "committee"})
        .to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut stream = tokio::net::TcpStream::connect(served.addr)
        .await
        .expect("connect");
    let head = format!(
        "POST /api/v1/bodies HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\
         Connection: close\r\n\r\n",
        served.addr,
        served.admin,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    // `100 Continue` is sent once a worker is serving the request: it is now in flight.
    let mut received = Vec::new();
    read_until(&mut stream, &mut received, b"100 Continue\r\n\r\n").await;
    stream.write_all(first.as_bytes()).await.expect("write");

    served.signal("INT");
    served.wait_for_log("draining").await;
    // The listener closes: a new connection is refused while the request is still unfinished.
    let mut refused = false;
    for _ in 0..400 {
        if tokio::net::TcpStream::connect(served.addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(refused, "new connections are still accepted while draining");
    assert!(
        served.child.try_wait().expect("wait").is_none(),
        "the process waits for the request in flight"
    );

    stream.write_all(rest.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    assert!(response.contains("drain-committee"), "{response}");

    let status = served.exit_status().await;
    assert_eq!(status.code(), Some(0), "{}", served.log());
    let log = served.log();
    assert!(log.contains("signal=\"SIGINT\""), "{log}");
    assert!(log.contains("drained: stopped"), "{log}");
    // The text format's access line, for the request that finished during the drain.
    let access = log
        .lines()
        .find(|l| l.contains("request served") && l.contains("http.route=/api/v1/bodies"))
        .unwrap_or_else(|| panic!("no access line:\n{log}"));
    assert!(access.contains("http.status_code=201"), "{access}");
    assert!(access.contains("http.method=POST"), "{access}");
    assert!(access.contains("request_id="), "{access}");
    assert!(access.contains("peer=127.0.0.1"), "{access}");
    assert!(access.contains("duration_ms="), "{access}");
}
