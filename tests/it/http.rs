//! HTTP as RFC 9110 and the ecosystem expect it: HEAD wherever GET, OPTIONS with Allow,
//! compression of API answers and tile entry bundles, the CORS allow-list on and off, one
//! pagination convention with RFC 8288 `Link` headers, and a token checked before any header.

use std::io::Read;

use reqwest::header;
use serde_json::Value;

use crate::helpers::{Backend, TestApp, TestDb, decision};
use crate::on_both_backends;

on_both_backends!(
    head_is_get_without_the_body_and_options_lists_the_methods,
    answers_and_entry_bundles_are_gzip_compressed_when_accepted,
    pages_link_to_the_next_one,
);

async fn head_is_get_without_the_body_and_options_lists_the_methods(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.record(&decision(1)).await;
    for path in [
        "/api/v1/decisions",
        "/api/v1/log/head",
        "/api/v1/log/checkpoint",
        "/tlog/checkpoint",
        "/tlog/tile/entries/000.p/1",
        "/api/v1/openapi.json",
        "/health/live",
        "/",
        "/log",
        "/feeds/decisions.atom",
    ] {
        let get = app.client.get(app.url(path)).send().await.expect("get");
        assert_eq!(get.status(), 200, "GET {path}");
        let get_type = get.headers().get(header::CONTENT_TYPE).cloned();
        let get_body = get.bytes().await.expect("body");
        let head = app.client.head(app.url(path)).send().await.expect("head");
        assert_eq!(head.status(), 200, "HEAD {path}");
        assert_eq!(
            head.headers().get(header::CONTENT_TYPE).cloned(),
            get_type,
            "{path}"
        );
        assert_eq!(
            head.headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()),
            Some(get_body.len().to_string().as_str()),
            "HEAD {path} announces the length of the GET"
        );
        assert!(
            head.bytes().await.expect("body").is_empty(),
            "HEAD {path} has a body"
        );
    }
    let options = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/decisions"))
        .send()
        .await
        .expect("options");
    assert_eq!(options.status(), 204);
    assert_eq!(options.headers()[header::ALLOW], "GET, HEAD, POST, OPTIONS");
    let refused = app
        .client
        .delete(app.url("/api/v1/log/head"))
        .send()
        .await
        .expect("delete");
    assert_eq!(refused.status(), 405);
    assert_eq!(refused.headers()[header::ALLOW], "GET, HEAD, OPTIONS");
    // HEAD is not a way to write: a POST-only resource refuses it as it refuses GET.
    let head = app
        .client
        .head(app.url("/api/v1/decisions/00000000-0000-7000-8000-000000000000/outcomes"))
        .send()
        .await
        .expect("head");
    assert_eq!(head.status(), 405);
    assert_eq!(head.headers()[header::ALLOW], "POST, OPTIONS");
    app.check_log().await;
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("gzip");
    out
}

async fn answers_and_entry_bundles_are_gzip_compressed_when_accepted(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for n in 0..3 {
        app.record(&decision(n)).await;
    }
    for path in [
        "/api/v1/decisions",
        "/tlog/tile/entries/000.p/3",
        "/api/v1/log/entries",
    ] {
        let plain = app.client.get(app.url(path)).send().await.expect("get");
        assert!(
            plain.headers().get(header::CONTENT_ENCODING).is_none(),
            "{path}"
        );
        let plain = plain.bytes().await.expect("body");
        let zipped = app
            .client
            .get(app.url(path))
            .header(header::ACCEPT_ENCODING, "gzip")
            .send()
            .await
            .expect("get");
        assert_eq!(zipped.status(), 200);
        assert_eq!(zipped.headers()[header::CONTENT_ENCODING], "gzip", "{path}");
        let vary: Vec<&str> = zipped
            .headers()
            .get_all(header::VARY)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        assert!(
            vary.iter()
                .any(|v| v.eq_ignore_ascii_case("accept-encoding")),
            "{path}: {vary:?}"
        );
        let zipped = zipped.bytes().await.expect("body");
        assert!(
            zipped.len() < plain.len(),
            "{path} is not smaller compressed"
        );
        assert_eq!(gunzip(&zipped), plain.to_vec(), "{path}");
    }
    app.check_log().await;
}

async fn pages_link_to_the_next_one(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for n in 0..5 {
        app.record(&decision(n)).await;
    }
    // Following rel="next" reads each list whole, and the last page has neither link nor cursor.
    for (first, items, cursor) in [
        (
            "/api/v1/decisions?limit=2&body=cabinet",
            "items",
            "next_cursor",
        ),
        ("/api/v1/log/entries?limit=2", "entries", "next_cursor"),
    ] {
        let mut next = Some(first.to_owned());
        let mut seen = 0;
        let mut pages = 0;
        while let Some(path) = next.take() {
            let response = app.get(&path, None).await;
            assert_eq!(response.status(), 200, "{path}");
            let link = response
                .headers()
                .get(header::LINK)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let page: Value = response.json().await.expect("json");
            seen += page[items].as_array().map_or(0, Vec::len);
            pages += 1;
            match (&link, page[cursor].as_str()) {
                (Some(link), Some(cursor)) => {
                    let target = link
                        .strip_prefix('<')
                        .and_then(|l| l.strip_suffix(">; rel=\"next\""))
                        .expect("an RFC 8288 next link");
                    assert!(target.ends_with(&format!("cursor={cursor}")), "{target}");
                    assert!(
                        target.contains("limit=2"),
                        "the link keeps the query: {target}"
                    );
                    next = Some(target.to_owned());
                }
                (None, None) => {}
                other => panic!("{path}: link and cursor disagree: {other:?}"),
            }
            assert!(pages < 10, "{first} does not end");
        }
        assert_eq!(seen, 5, "{first}");
        assert_eq!(pages, 3, "{first}");
    }
    // HTML pages of a list carry the same header: the search page, 20 results to a page.
    for n in 5..21 {
        app.record(&decision(n)).await;
    }
    let mut next = Some("/search?q=Northgate".to_owned());
    let mut results = 0;
    let mut pages = 0;
    while let Some(path) = next.take() {
        let response = app.get(&path, None).await;
        assert_eq!(response.status(), 200, "{path}");
        next = response
            .headers()
            .get(header::LINK)
            .and_then(|v| v.to_str().ok())
            .map(|l| {
                l.strip_prefix('<')
                    .and_then(|l| l.strip_suffix(">; rel=\"next\""))
                    .expect("an RFC 8288 next link")
                    .to_owned()
            });
        let html = response.text().await.expect("html");
        results += html.matches(r#"<article class="card">"#).count();
        pages += 1;
        let in_markup = html
            .split_once(r#"<a rel="next" href=""#)
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(href, _)| href.replace("&#38;", "&").replace("&amp;", "&"));
        assert_eq!(in_markup, next, "the header and the markup agree");
        assert!(pages < 5, "the search does not end");
    }
    assert_eq!((results, pages), (21, 2));
    let first = app.get("/", None).await;
    assert!(first.headers().get(header::LINK).is_none(), "one page only");

    // The log's cursor is its position; a seek and a cursor together are refused.
    let page = app.get_json("/api/v1/log/entries?limit=2", None).await;
    assert_eq!(page["next_cursor"], "2");
    let both = app.get("/api/v1/log/entries?from=1&cursor=2", None).await;
    assert_eq!(both.status(), 400);
    app.check_log().await;
}

/// A request without a valid token is a 401 whatever its Idempotency-Key; with one, a malformed
/// key is a 400 that writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_checked_before_the_idempotency_key() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    for token in [None, Some("dlt_not-a-token")] {
        let mut request = app
            .client
            .post(app.url("/api/v1/decisions"))
            .header("Idempotency-Key", "has spaces")
            .json(&decision(0));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("post");
        assert_eq!(response.status(), 401, "{token:?}");
    }
    let response = app
        .client
        .post(app.url("/api/v1/decisions"))
        .bearer_auth(&app.clerk)
        .header("Idempotency-Key", "has spaces")
        .json(&decision(0))
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 400);
    let problem: Value = response.json().await.expect("json");
    assert_eq!(
        problem["detail"],
        "Idempotency-Key must be 1 to 255 visible ASCII characters"
    );
    assert_eq!(app.head().await.0, 0, "a refused request wrote nothing");
}

/// Without an allow-list no answer carries CORS headers; with one, a listed origin may read
/// (GET, HEAD) without credentials, and any other origin gets no CORS headers but is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_is_off_by_default_and_allows_only_the_listed_origins_to_read() {
    let dashboard = "https://dashboard.county.example.gov.uk";
    let Some(off) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let response = off
        .client
        .get(off.url("/api/v1/log/head"))
        .header(header::ORIGIN, dashboard)
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 200);
    assert!(
        response
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );
    off.stop().await;

    let Some(db) = TestDb::new(Backend::Sqlite).await else {
        return;
    };
    let on = TestApp::spawn_configured(db, decision_log::store::system_clock(), |config| {
        config.cors_allowed_origins = vec![dashboard.parse().expect("origin")];
    })
    .await;
    let response = on
        .client
        .get(on.url("/api/v1/log/head"))
        .header(header::ORIGIN, dashboard)
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        dashboard
    );
    assert!(
        response
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
            .is_none()
    );
    let preflight = on
        .client
        .request(reqwest::Method::OPTIONS, on.url("/api/v1/decisions"))
        .header(header::ORIGIN, dashboard)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
        .send()
        .await
        .expect("preflight");
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let methods = preflight.headers()[header::ACCESS_CONTROL_ALLOW_METHODS]
        .to_str()
        .expect("text")
        .to_owned();
    assert!(
        methods.contains("GET") && !methods.contains("POST"),
        "{methods}"
    );
    let write = on
        .client
        .request(reqwest::Method::OPTIONS, on.url("/api/v1/decisions"))
        .header(header::ORIGIN, dashboard)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .send()
        .await
        .expect("preflight");
    assert!(
        write
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
            || !write.status().is_success(),
        "a write across origins is allowed"
    );
    let stranger = on
        .client
        .get(on.url("/api/v1/log/head"))
        .header(header::ORIGIN, "https://elsewhere.example")
        .send()
        .await
        .expect("get");
    assert_eq!(stranger.status(), 200);
    assert!(
        stranger
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );
    on.stop().await;
}
