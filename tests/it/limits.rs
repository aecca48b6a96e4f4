//! Input limits: a write's body is read only after its token is checked, within a size limit and
//! a deadline; only `application/json` is accepted; lists and errors are bounded; text is
//! normalised to NFC and checked. Durations are never measured: a test only requires an answer
//! (or a closed connection) before a deadline far longer than the server needs.

use std::time::Duration;

use decision_log::store::Role;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Backend, TestApp, TestDb, decision};
use crate::on_both_backends;

on_both_backends!(
    only_json_is_accepted_and_nothing_else_is_written,
    a_request_wrong_everywhere_gets_a_bounded_answer,
    text_is_normalised_to_nfc_and_checked,
);

/// Long enough for any answer the server gives at once, on a loaded machine.
const PROMPT: Duration = Duration::from_secs(10);

/// An app whose body and head deadlines are set by `body_ms` and `head_ms`, and which waits
/// half a second for a client to close after a refusal.
async fn spawn(body_ms: u64, head_ms: u64) -> TestApp {
    let db = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    TestApp::spawn_configured(db, decision_log::store::system_clock(), |config| {
        config.body_read_timeout_ms = body_ms;
        config.client_request_timeout_ms = head_ms;
        config.client_disconnect_timeout_ms = 500;
    })
    .await
}

/// Opens a connection and sends `head` (request line and headers, without the blank line) and
/// then `body`.
async fn send(app: &TestApp, head: &str, body: &[u8]) -> TcpStream {
    let port = app.base.rsplit(':').next().expect("port");
    let mut stream = TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .expect("connect");
    stream
        .write_all(format!("{head}\r\nHost: localhost\r\n\r\n").as_bytes())
        .await
        .expect("head");
    stream.write_all(body).await.expect("body");
    stream
}

/// Reads one response, returning its status and text, or `None` if none came before `deadline`.
async fn response(stream: &mut TcpStream, deadline: Duration) -> Option<(u16, String)> {
    let read = async {
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    let status = text.get(9..12)?.parse().ok()?;
                    return Some((status, text));
                }
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => {
                    let status = text.get(9..12)?.parse().ok()?;
                    return Some((status, text));
                }
                Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            }
        }
    };
    tokio::time::timeout(deadline, read).await.ok().flatten()
}

/// Whether the server closes the connection (EOF or reset) before `deadline`.
async fn closed(stream: &mut TcpStream, deadline: Duration) -> bool {
    let drain = async {
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(deadline, drain).await.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_without_a_valid_token_is_refused_before_its_body_is_read() {
    // The body deadline is far away: only an answer that does not wait for the body is prompt.
    let app = spawn(600_000, 10_000).await;
    let staff = app.token("staff-reader", Role::Staff, &[]).await;
    let id = app.record(&decision(0)).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let cases = [
        ("POST /api/v1/decisions", None, 401),
        ("POST /api/v1/decisions", Some("dlt_not-a-real-token"), 401),
        ("POST /api/v1/decisions", Some(staff.as_str()), 403),
        ("POST /api/v1/decisions", Some(app.admin.as_str()), 403),
        (
            &*format!("POST /api/v1/decisions/{id}/amendments"),
            None,
            401,
        ),
        (
            &*format!("POST /api/v1/decisions/{id}/outcomes"),
            Some(staff.as_str()),
            403,
        ),
        (
            &*format!("POST /api/v1/decisions/{id}/redactions"),
            Some(app.clerk.as_str()),
            403,
        ),
        ("POST /api/v1/bodies", None, 401),
        ("POST /api/v1/tokens", Some(app.clerk.as_str()), 403),
        ("PUT /api/v1/bodies/cabinet", Some(staff.as_str()), 403),
    ];
    for (line, token, status) in cases {
        let auth = token
            .map(|t| format!("\r\nAuthorization: Bearer {t}"))
            .unwrap_or_default();
        // 10 KB of a declared 15 KB: within every limit, and never completed.
        let head = format!(
            "{line} HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 15000{auth}"
        );
        let mut stream = send(&app, &head, &[b' '; 10_000]).await;
        let (got, text) = response(&mut stream, PROMPT)
            .await
            .unwrap_or_else(|| panic!("{line}: no answer while the body is incomplete"));
        assert_eq!(got, status, "{line}: {text}");
        assert!(text.contains("application/problem+json"), "{line}: {text}");
        assert!(
            closed(&mut stream, PROMPT).await,
            "{line}: the connection stays open for the rest of the body"
        );
    }
    assert_eq!(app.check_log().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_body_or_head_is_cut_off() {
    let app = spawn(300, 1_000).await;
    // An allowed writer who sends part of the body and holds.
    let head = format!(
        "POST /api/v1/decisions HTTP/1.1\r\nContent-Type: application/json\r\n\
         Content-Length: 5000\r\nAuthorization: Bearer {}",
        app.clerk
    );
    let mut stream = send(&app, &head, b"{\"title\": ").await;
    let (status, text) = response(&mut stream, PROMPT)
        .await
        .expect("the slow body is answered");
    assert_eq!(status, 408, "{text}");
    assert!(text.contains("/problems/request-timeout"), "{text}");
    assert!(
        closed(&mut stream, PROMPT).await,
        "the connection is closed"
    );

    // A client that never finishes its headers; actix's own default would wait 5 seconds.
    let port = app.base.rsplit(':').next().expect("port");
    let mut stream = TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .expect("connect");
    stream
        .write_all(b"POST /api/v1/decisions HTTP/1.1\r\nContent-Ty")
        .await
        .expect("partial head");
    assert!(
        closed(&mut stream, Duration::from_secs(4)).await,
        "a slow head is cut off by the configured timeout"
    );
    assert_eq!(app.check_log().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_its_limit_is_refused_from_its_declared_length() {
    let app = spawn(600_000, 10_000).await;
    let id = app.record(&decision(0)).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for (line, token, length) in [
        (
            "POST /api/v1/decisions".to_owned(),
            &app.clerk,
            256 * 1024 + 1,
        ),
        (
            format!("POST /api/v1/decisions/{id}/amendments"),
            &app.clerk,
            256 * 1024 + 1,
        ),
        ("POST /api/v1/bodies".to_owned(), &app.admin, 16 * 1024 + 1),
        ("POST /api/v1/tokens".to_owned(), &app.admin, 16 * 1024 + 1),
    ] {
        // Only the head is sent: the answer cannot wait for the body.
        let head = format!(
            "{line} HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\
             Authorization: Bearer {token}"
        );
        let mut stream = send(&app, &head, b"").await;
        let (status, text) = response(&mut stream, PROMPT)
            .await
            .unwrap_or_else(|| panic!("{line}: no answer"));
        assert_eq!(status, 413, "{line}: {text}");
        assert!(text.contains("/problems/payload-too-large"), "{line}");
    }
    // A chunked body, which declares no length, is cut off as it passes the limit.
    let head = format!(
        "POST /api/v1/decisions HTTP/1.1\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nAuthorization: Bearer {}",
        app.clerk
    );
    let mut stream = send(&app, &head, b"").await;
    let chunk = format!("{:x}\r\n{}\r\n", 32 * 1024, " ".repeat(32 * 1024));
    for _ in 0..10 {
        // The server may stop reading, and close, before the last chunk.
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let (status, text) = response(&mut stream, PROMPT)
        .await
        .expect("the chunked body is answered");
    assert_eq!(status, 413, "{text}");
    assert_eq!(app.check_log().await, 1);
}

async fn only_json_is_accepted_and_nothing_else_is_written(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let body = decision(0).to_string();
    let post = |content_type: Option<&str>, path: &str, token: &str, body: String| {
        let mut request = app.client.post(app.url(path)).bearer_auth(token).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        request.send()
    };
    for content_type in [
        Some("text/json"),
        Some("application/evil+json"),
        Some("application/json; charset=latin1"),
        Some("application/json; charset=utf-8; v=2"),
        Some("text/plain"),
        None,
    ] {
        for (path, token, body) in [
            ("/api/v1/decisions", &app.clerk, body.clone()),
            (
                "/api/v1/bodies",
                &app.admin,
                json!({"slug": "audit", "name": "Audit", "kind": "committee"}).to_string(),
            ),
        ] {
            let response = post(content_type, path, token, body)
                .await
                .expect("request");
            assert_eq!(response.status(), 415, "{content_type:?} on {path}");
            assert_eq!(
                response.headers()["accept-post"],
                "application/json",
                "{content_type:?}"
            );
            let problem: Value = response.json().await.expect("problem");
            assert_eq!(problem["type"], "/problems/unsupported-media-type");
        }
    }
    assert_eq!(app.head().await.0, 0, "nothing was written");
    let bodies = app.get_json("/api/v1/bodies", None).await;
    assert_eq!(bodies.as_array().map(Vec::len), Some(2), "{bodies}");

    for content_type in ["application/json; charset=UTF-8", "Application/Json"] {
        let response = post(
            Some(content_type),
            "/api/v1/decisions",
            &app.clerk,
            body.clone(),
        )
        .await
        .expect("request");
        assert_eq!(response.status(), 201, "{content_type}");
    }
    assert_eq!(app.check_log().await, 2);
}

async fn a_request_wrong_everywhere_gets_a_bounded_answer(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // 30,000 tags, all the same: one error naming the list, found without comparing each with
    // each.
    let mut tags = decision(0);
    tags["tags"] = json!(vec!["waste"; 30_000]);
    let (status, problem) = app.post("/api/v1/decisions", Some(&app.clerk), &tags).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"].as_array().map(Vec::len), Some(1));
    assert_eq!(problem["errors"][0]["field"], "tags");
    assert_eq!(problem["errors_total"], 1);

    // 20,000 unknown members: the first 100 listed, all counted, the answer a few kilobytes.
    let mut unknown = decision(0);
    for i in 0..20_000 {
        unknown[format!("x{i}")] = json!(0);
    }
    let response = app.post_decision(&app.clerk, &unknown).await;
    assert_eq!(response.status(), 422);
    let text = response.text().await.expect("text");
    assert!(text.len() < 32 * 1024, "{} bytes", text.len());
    let problem: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(problem["errors"].as_array().map(Vec::len), Some(100));
    assert_eq!(problem["errors_total"], 20_000);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.ends_with("and 19990 more")),
        "{}",
        problem["detail"]
    );

    // Every list of every body has its limit.
    let many = |n: usize, item: Value| json!(vec![item; n]);
    let id = app.record(&decision(1)).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let document = json!({"title": "t", "uri": "https://x.example/a", "sha256": "ab".repeat(32)});
    for (path, token, body, field) in [
        (
            "/api/v1/decisions".to_owned(),
            &app.clerk,
            {
                let mut r = decision(2);
                r["participants"] = many(501, r["participants"][1].clone());
                r
            },
            "participants",
        ),
        (
            "/api/v1/decisions".to_owned(),
            &app.clerk,
            {
                let mut r = decision(2);
                r["alternatives"] = many(51, r["alternatives"][0].clone());
                r
            },
            "alternatives",
        ),
        (
            format!("/api/v1/decisions/{id}/outcomes"),
            &app.clerk,
            json!({"status": "on_track", "narrative": "n", "evidence": many(101, document.clone())}),
            "evidence",
        ),
        (
            format!("/api/v1/decisions/{id}/amendments"),
            &app.clerk,
            json!({"changes": {"documents": many(101, document)}, "reason": "r"}),
            "changes.documents",
        ),
        (
            "/api/v1/tokens".to_owned(),
            &app.admin,
            json!({"name": "c", "role": "secretariat", "bodies": many(101, json!("cabinet"))}),
            "bodies",
        ),
    ] {
        let (status, problem) = app.post(&path, Some(token), &body).await;
        assert_eq!(status, 422, "{path}: {problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{path}: {problem}");
        assert_eq!(problem["errors_total"], 1, "{path}: {problem}");
    }
    assert_eq!(app.check_log().await, 1);
}

async fn text_is_normalised_to_nfc_and_checked(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // Decomposed input is recorded composed: the hashed entry holds NFC.
    let mut record = decision(0);
    record["title"] = json!("Re\u{301}sume\u{301} of the cafe\u{301} lease");
    record["tags"] = json!(["cafe\u{301}"]);
    let created = app.record(&record).await;
    assert_eq!(
        created["record"]["title"],
        "R\u{e9}sum\u{e9} of the caf\u{e9} lease"
    );
    let leaf = created["receipt"]["leaf_index"].as_u64().expect("leaf");
    let entry = app
        .get_json(&format!("/api/v1/log/entries/{leaf}"), None)
        .await;
    assert_eq!(entry["entry"]["record"]["tags"], json!(["caf\u{e9}"]));
    // Two spellings of one tag are one tag.
    let mut twice = decision(1);
    twice["tags"] = json!(["caf\u{e9}", "cafe\u{301}"]);
    let (status, problem) = app
        .post("/api/v1/decisions", Some(&app.clerk), &twice)
        .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "tags[1]", "{problem}");

    let fields = |problem: &Value| -> Vec<String> {
        problem["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut ancient = decision(2);
    ancient["decided_on"] = json!("0000-01-01");
    let (status, problem) = app
        .post("/api/v1/decisions", Some(&app.clerk), &ancient)
        .await;
    assert_eq!(
        (status, fields(&problem)),
        (422, vec!["decided_on".to_owned()])
    );
    let mut bad = decision(2);
    bad["title"] = json!("Close\u{0} the depot");
    bad["tags"] = json!(["cabinet\u{200b}"]);
    bad["participants"][0]["name"] = json!("Cllr \u{202e}rofakO");
    bad["reasons"] = json!("Costs\u{7} rise");
    let (status, problem) = app.post("/api/v1/decisions", Some(&app.clerk), &bad).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        fields(&problem),
        ["title", "participants[0].name", "tags[0]", "reasons"]
    );

    let id = created["id"].as_str().expect("id");
    let (status, problem) = app
        .post(
            &format!("/api/v1/decisions/{id}/rescission"),
            Some(&app.clerk),
            &json!({"reason": "Funding\u{0} withdrawn"}),
        )
        .await;
    assert_eq!((status, fields(&problem)), (422, vec!["reason".to_owned()]));
    let (status, problem) = app
        .post(
            "/api/v1/bodies",
            Some(&app.admin),
            &json!({"slug": "audit", "name": "Audit\u{2066} Committee", "kind": "committee"}),
        )
        .await;
    assert_eq!((status, fields(&problem)), (422, vec!["name".to_owned()]));
    let (status, problem) = app
        .post(
            "/api/v1/bodies/cabinet/members",
            Some(&app.admin),
            &json!({"name": "Cllr A. Patel", "role": "chair", "from": "0000-01-01"}),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(app.check_log().await, 1);
}
