//! The intranet pages over real HTTP: what they show each reader, their filters, their security
//! headers, and that hostile text renders inert.

use serde_json::json;

use crate::helpers::{Backend, TestApp, decision};
use crate::on_both_backends;

on_both_backends!(
    pages_show_each_reader_what_the_api_would,
    pages_speak_to_people_in_their_words
);

async fn page(app: &TestApp, path: &str, token: Option<&str>) -> (u16, String) {
    let response = app.get(path, token).await;
    let status = response.status().as_u16();
    if status < 400 || path != "/assets/site.css" {
        let csp = response
            .headers()
            .get("content-security-policy")
            .map(|v| v.to_str().unwrap_or_default().to_owned())
            .unwrap_or_default();
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
    }
    (status, response.text().await.expect("text"))
}

async fn pages_show_each_reader_what_the_api_would(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let public = app.record(&decision(0)).await;
    let public_id = public["id"].as_str().expect("id").to_owned();
    let mut restricted = decision(1);
    restricted["classification"] = json!("restricted");
    restricted["title"] = json!("Purchase of 14 Mill Lane");
    restricted["exemption"] = json!({"paragraph": 3, "public_interest_reason": "Price under negotiation.", "public_summary": "A property purchase in Southfield."});
    let restricted = app.record(&restricted).await;
    let restricted_id = restricted["id"].as_str().expect("id").to_owned();
    let mut planning = decision(2);
    planning["body"] = json!("planning-committee");
    planning["tags"] = json!(["housing"]);
    app.record(&planning).await;

    let (status, index) = page(&app, "/", None).await;
    assert_eq!(status, 200);
    assert!(
        index.contains("Decision 0: close Northgate depot"),
        "{index}"
    );
    assert!(index.contains("A property purchase in Southfield."));
    assert!(
        !index.contains("Mill Lane"),
        "withheld content is not listed"
    );
    assert!(index.contains("/feeds/decisions.atom"));
    assert!(
        index.contains("Newest first by when each decision was recorded in the log"),
        "the page says in which order it lists"
    );
    let (_, filtered) = page(
        &app,
        "/?body=planning-committee&decision_type=&status=",
        None,
    )
    .await;
    assert!(filtered.contains("Decision 2"));
    assert!(!filtered.contains("Decision 0"));
    assert!(filtered.contains("/feeds/decisions.atom?body=planning-committee"));
    let (_, tagged) = page(&app, "/?tag=housing", None).await;
    assert!(tagged.contains("Decision 2") && !tagged.contains("Decision 0"));
    for bad in [
        "/?status=deleted",
        "/?colour=blue",
        "/bodies/cabinet?page=2",
    ] {
        let response = app.get(bad, None).await;
        assert_eq!(response.status(), 400, "{bad}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            content_type.starts_with("text/html"),
            "{bad}: {content_type}"
        );
    }

    let (status, one) = page(&app, &format!("/decisions/{public_id}"), None).await;
    assert_eq!(status, 200);
    for expected in [
        "The decision",
        "Alternatives considered and rejected",
        "Outsource waste collection",
        "Conflicts of interest",
        "Decision makers",
        "Cllr Tom Reid",
        "2 for, 1 against",
        "Depot options appraisal",
        "Timeline",
        "Recorded",
        public["receipt"]["entry_hash"].as_str().expect("hash"),
        "/assets/verify.js",
    ] {
        assert!(one.contains(expected), "{expected} missing");
    }
    let (_, face) = page(&app, &format!("/decisions/{restricted_id}"), None).await;
    assert!(face.contains("A property purchase in Southfield."));
    assert!(face.contains("Schedule 12A, paragraph 3"));
    assert!(!face.contains("Mill Lane") && !face.contains("Okafor"));
    let (_, cleared) = page(
        &app,
        &format!("/decisions/{restricted_id}"),
        Some(&app.auditor),
    )
    .await;
    assert!(cleared.contains("Purchase of 14 Mill Lane"));
    let (status, _) = page(&app, "/decisions/no-such-decision", None).await;
    assert_eq!(status, 404);

    let (status, body) = page(&app, "/bodies/cabinet", None).await;
    assert_eq!(status, 200);
    assert!(body.contains("Cabinet") && body.contains("Decision 0"));
    assert!(!body.contains("Decision 2"));
    assert_eq!(page(&app, "/bodies/nowhere", None).await.0, 404);

    let (status, log) = page(&app, "/log", None).await;
    assert_eq!(status, 200);
    assert!(
        log.contains(&app.vkey()),
        "the log page shows the verifier key"
    );
    assert!(log.contains("decision-log verify"));
    assert_eq!(app.get("/log/format", None).await.status(), 200);
    assert_eq!(app.get("/assets/site.css", None).await.status(), 200);

    // Hostile text in every text field — the record, its lineage, the registry, the search
    // box — renders as text, and a hostile address is never a link.
    let probe = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&";
    let (status, _) = app
        .post(
            "/api/v1/bodies",
            Some(&app.admin),
            &json!({"slug": "probe-panel", "name": format!("Panel {probe}"), "kind": "panel"}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = app
        .post(
            "/api/v1/bodies/cabinet/members",
            Some(&app.admin),
            &json!({"name": probe, "role": probe, "organisation": probe, "from": "2026-01-01"}),
        )
        .await;
    assert_eq!(status, 201);
    let mut hostile = decision(3);
    for field in ["title", "decision", "reasons", "success_measures"] {
        hostile[field] = json!(format!("{field} {probe}"));
    }
    hostile["decision_maker"] = json!({"kind": "member", "name": probe, "title": probe});
    hostile["tags"] = json!([probe]);
    hostile["areas"] = json!([probe]);
    hostile["participants"][0]["name"] = json!(probe);
    hostile["participants"][0]["organisation"] = json!(probe);
    hostile["alternatives"] = json!([{"option": probe, "why_rejected": probe}]);
    hostile["conflicts"] = json!([{"participant": 2, "nature": probe,
        "dispensation": {"granted_by": probe, "granted_on": "2026-11-10", "note": probe}}]);
    hostile["documents"] =
        json!([{"title": probe, "uri": "javascript:alert(3)", "sha256": "ab".repeat(32)}]);
    hostile["input_from"] =
        json!([{"kind": "community", "summary": probe, "uri": "javascript:alert(4)"}]);
    let created = app.record(&hostile).await;
    let id = created["id"].as_str().expect("id");
    for (what, body) in [
        (
            "amendments",
            json!({"changes": {"title": format!("Amended {probe}")}, "reason": probe}),
        ),
        (
            "outcomes",
            json!({"status": "on_track", "narrative": probe}),
        ),
        (
            "call-in",
            json!({"status": "called_in", "on": created["decided_on"], "note": probe}),
        ),
        ("rescission", json!({"reason": probe})),
    ] {
        let (status, answer) = app
            .post(
                &format!("/api/v1/decisions/{id}/{what}"),
                Some(&app.clerk),
                &body,
            )
            .await;
        assert_eq!(status, 201, "{what}: {answer}");
    }
    for path in [
        format!("/decisions/{id}"),
        "/".to_owned(),
        "/bodies/cabinet".to_owned(),
        "/bodies/probe-panel".to_owned(),
        format!("/search?q={}", crate::helpers::encode(probe)),
        "/search?q=Amended".to_owned(),
        "/stats".to_owned(),
    ] {
        let (status, text) = page(&app, &path, Some(&app.auditor)).await;
        assert_eq!(status, 200, "{path}");
        assert!(!text.contains("<script>alert"), "{path}");
        assert!(!text.contains("<img src=x"), "{path}");
        assert!(
            !text.contains("javascript:"),
            "{path}: a hostile address became a link"
        );
        if !path.starts_with("/stats") {
            assert!(
                text.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
                "{path}: the probe is shown as text"
            );
        }
    }
    app.check_log().await;
}

/// A GET of `path` with `Accept: accept`: (status, Content-Type, body).
async fn get_accepting(app: &TestApp, path: &str, accept: &str) -> (u16, String, String) {
    let response = app
        .client
        .get(app.url(path))
        .header("Accept", accept)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.expect("text"))
}

async fn pages_speak_to_people_in_their_words(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // An unknown address: an HTML page for a browser, problem+json for any other client.
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let (status, content_type, body) = get_accepting(&app, "/no/such/page", browser).await;
    assert_eq!(status, 404);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(body.contains("There is no page at /no/such/page"), "{body}");
    for accept in [
        "application/json",
        "*/*",
        "application/problem+json, text/html;q=0.5",
    ] {
        let (status, content_type, body) = get_accepting(&app, "/no/such/page", accept).await;
        assert_eq!(status, 404, "{accept}");
        assert_eq!(content_type, "application/problem+json", "{accept}");
        assert!(body.contains("/problems/not-found"), "{accept}: {body}");
    }

    // The log format: HTML from the Markdown, and the Markdown itself on request.
    let markdown = include_str!("../../docs/log-format.md");
    let (status, content_type, format) = get_accepting(&app, "/log/format", browser).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(
        format.contains("<h2>1. Conventions</h2>"),
        "rendered headings"
    );
    assert!(format.contains("<table>"), "rendered tables");
    assert!(format.contains("href=\"/log/format.md\""));
    for (path, accept) in [
        ("/log/format.md", browser),
        ("/log/format", "text/markdown"),
    ] {
        let (status, content_type, body) = get_accepting(&app, path, accept).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            content_type.starts_with("text/markdown"),
            "{path}: {content_type}"
        );
        assert_eq!(body, markdown, "{path}");
    }

    // A superseded decision names its successor by the title this reader may see.
    let old = app.record(&decision(0)).await;
    let old_id = old["id"].as_str().expect("id").to_owned();
    let mut successor = decision(1);
    successor["classification"] = json!("restricted");
    successor["title"] = json!("Purchase of 14 Mill Lane");
    successor["exemption"] = json!({"paragraph": 3, "public_interest_reason": "Price under negotiation.", "public_summary": "A property purchase in Southfield."});
    let successor = app.record(&successor).await;
    let successor_id = successor["id"].as_str().expect("id").to_owned();
    let (status, superseded) = app
        .lineage(
            &old_id,
            "supersession",
            &app.clerk,
            json!({"superseded_by": successor_id, "reason": "Replaced by the purchase"}),
        )
        .await;
    assert_eq!(status, 201, "{superseded:#}");
    let link = format!("<a href=\"/decisions/{successor_id}\">");
    let (_, public) = page(&app, &format!("/decisions/{old_id}"), None).await;
    let shown = public
        .split(&link)
        .nth(1)
        .and_then(|rest| rest.split("</a>").next())
        .expect("a link to the successor");
    assert!(
        !shown.contains(&successor_id),
        "a title, not the id: {shown}"
    );
    assert!(
        !public.contains("Mill Lane"),
        "the withheld title stays withheld"
    );
    let (_, cleared) = page(&app, &format!("/decisions/{old_id}"), Some(&app.auditor)).await;
    assert!(
        cleared.contains(&format!("{link}Purchase of 14 Mill Lane</a>")),
        "{cleared}"
    );
    let (_, back) = page(
        &app,
        &format!("/decisions/{successor_id}"),
        Some(&app.auditor),
    )
    .await;
    assert!(back.contains(&format!(
        "<a href=\"/decisions/{old_id}\">Decision 0: close Northgate depot</a>"
    )));

    // Times in words, each in a machine-readable <time>.
    let recorded_at = old["receipt"]["recorded_at"].as_str().expect("recorded_at");
    let words = chrono::DateTime::parse_from_rfc3339(recorded_at)
        .expect("RFC 3339")
        .format("%-d %B %Y, %H:%M UTC")
        .to_string();
    assert!(
        public.contains(&format!("<time datetime=\"{recorded_at}\">{words}</time>")),
        "{public}"
    );
    let superseded_at = superseded["recorded_at"].as_str().expect("recorded_at");
    assert!(public.contains(&format!("<time datetime=\"{superseded_at}\">")));
    app.check_log().await;
}
