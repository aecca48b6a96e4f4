//! What a hostile client can send and what the service must not do with it: numbers past any
//! position, forged log lines and leaked secrets, forged hosts, responses cached for the wrong
//! reader, framing, and secrets printed by `--help`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::helpers::{Backend, TestApp, decision};
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
