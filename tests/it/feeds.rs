//! The Atom and JSON feeds over real HTTP: what they list for a filter and a reader, stable
//! entry ids, updates after lineage entries, conditional GET, hostile text, and validation by
//! third-party parsers (`tools/feed-check`).

use std::path::Path;

use serde_json::{Value, json};

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::helpers::{Backend, TestApp, TestDb, decision};
use crate::on_both_backends;
use crate::proofs::python;

on_both_backends!(
    feeds_follow_the_page_filters_and_the_log,
    feeds_answer_if_modified_since_and_keep_their_id_on_any_host,
    a_search_has_its_own_feeds_and_the_page_links_them
);

const ATOM: &str = "/feeds/decisions.atom";
const JSON: &str = "/feeds/decisions.json";

struct Fetched {
    status: u16,
    content_type: String,
    etag: String,
    cache_control: String,
    body: String,
}

async fn fetch(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    if_none_match: Option<&str>,
) -> Fetched {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(tag) = if_none_match {
        request = request.header("If-None-Match", tag);
    }
    let response = request.send().await.expect("request");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().expect("ASCII header").to_owned())
            .unwrap_or_default()
    };
    let (content_type, etag, cache_control) = (
        header("content-type"),
        header("etag"),
        header("cache-control"),
    );
    Fetched {
        status: response.status().as_u16(),
        content_type,
        etag,
        cache_control,
        body: response.text().await.expect("body"),
    }
}

/// A feed that must be served: 200 with its media type, a strong ETag and `no-cache`
/// (`private` too for a token).
async fn feed(app: &TestApp, path: &str, token: Option<&str>) -> Fetched {
    let fetched = fetch(app, path, token, None).await;
    assert_eq!(fetched.status, 200, "GET {path}: {}", fetched.body);
    let expected = if path.split('?').next().is_some_and(|p| p.ends_with(".atom")) {
        "application/atom+xml"
    } else {
        "application/feed+json"
    };
    assert!(
        fetched.content_type.starts_with(expected),
        "{path}: {}",
        fetched.content_type
    );
    assert!(
        fetched.etag.starts_with('"') && fetched.etag.len() > 2,
        "{path}: a strong ETag, not {:?}",
        fetched.etag
    );
    // What a token reads is for that reader alone.
    let cache_control = if token.is_some() {
        "private, no-cache"
    } else {
        "no-cache"
    };
    assert_eq!(fetched.cache_control, cache_control, "{path}");
    fetched
}

async fn json_feed(app: &TestApp, path: &str, token: Option<&str>) -> (Value, String) {
    let fetched = feed(app, path, token).await;
    let document: Value = serde_json::from_str(&fetched.body).expect("JSON");
    assert_eq!(document["version"], "https://jsonfeed.org/version/1.1");
    (document, fetched.etag)
}

fn items(document: &Value) -> &Vec<Value> {
    document["items"].as_array().expect("items")
}

fn item<'a>(document: &'a Value, id: &str) -> &'a Value {
    let urn = format!("urn:uuid:{id}");
    items(document)
        .iter()
        .find(|i| i["id"] == urn.as_str())
        .unwrap_or_else(|| panic!("no item {urn}"))
}

/// The text of the first `<tag>` inside the Atom `<entry>` whose id is `urn:uuid:<id>`.
fn atom_entry_field(atom: &str, id: &str, tag: &str) -> String {
    let entry = atom
        .split("<entry>")
        .find(|e| e.contains(&format!("<id>urn:uuid:{id}</id>")))
        .unwrap_or_else(|| panic!("no entry {id}"));
    let open = format!("<{tag}>");
    let start = entry.find(&open).expect("tag") + open.len();
    let end = start + entry[start..].find('<').expect("close");
    entry[start..end].to_owned()
}

/// The ids of the Atom feed's entries (the feed's own id, before the first entry, left out).
fn atom_ids(atom: &str) -> Vec<String> {
    atom.split("<entry>")
        .skip(1)
        .filter_map(|entry| entry.split("<id>urn:uuid:").nth(1))
        .map(|rest| rest.split('<').next().unwrap_or_default().to_owned())
        .collect()
}

/// Runs `tools/feed-check/check.py` on `path` and expects it to accept the feed.
fn check_with_python(python: &str, app: &TestApp, path: &str, token: Option<&str>) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/feed-check/check.py");
    let mut command = std::process::Command::new(python);
    command.arg(script).arg(app.url(path));
    if let Some(token) = token {
        command.arg("--token").arg(token);
    }
    let output = command.output().expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.starts_with("OK: "),
        "feed-check refuses {path}:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn feeds_follow_the_page_filters_and_the_log(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };

    // An empty log: valid, empty feeds whose bytes do not change while the log does not.
    let (empty, empty_tag) = json_feed(&app, JSON, None).await;
    assert!(items(&empty).is_empty());
    assert_eq!(json_feed(&app, JSON, None).await.1, empty_tag);
    let empty_atom = feed(&app, ATOM, None).await;
    assert!(
        empty_atom
            .body
            .contains("<updated>1970-01-01T00:00:00Z</updated>")
    );

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
    let planning = app.record(&planning).await;
    let planning_id = planning["id"].as_str().expect("id").to_owned();

    // The whole log, newest first, as the page lists it.
    let (all, _) = json_feed(&app, JSON, None).await;
    let ids: Vec<&str> = items(&all)
        .iter()
        .map(|i| i["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        ids,
        [&planning_id, &restricted_id, &public_id].map(|id| format!("urn:uuid:{id}"))
    );
    let atom = feed(&app, ATOM, None).await.body;
    assert_eq!(
        atom_ids(&atom),
        [&planning_id, &restricted_id, &public_id].map(|s| s.as_str())
    );
    let base = app.url("");
    assert!(atom.contains(&format!(
        r#"<link rel="self" type="application/atom+xml" href="{base}/feeds/decisions.atom"/>"#
    )));
    assert!(atom.contains(&format!(
        r#"<link rel="alternate" type="text/html" href="{base}/"/>"#
    )));

    // A filter of the page: only the planning committee's decision, with every link absolute.
    let filtered_json = "/feeds/decisions.json?body=planning-committee&decision_type=&status=";
    let (filtered, _) = json_feed(&app, filtered_json, None).await;
    assert_eq!(items(&filtered).len(), 1);
    assert_eq!(
        filtered["feed_url"],
        format!("{base}/feeds/decisions.json?body=planning-committee")
    );
    assert_eq!(
        filtered["home_page_url"],
        format!("{base}/?body=planning-committee")
    );
    assert!(
        filtered["title"]
            .as_str()
            .expect("title")
            .contains("Planning Committee")
    );
    let one = item(&filtered, &planning_id);
    assert_eq!(one["title"], "Decision 2: close Northgate depot");
    assert_eq!(one["url"], format!("{base}/decisions/{planning_id}"));
    assert_eq!(
        one["_decision_log"]["receipt_url"],
        format!("{base}/api/v1/decisions/{planning_id}/receipt")
    );
    assert_eq!(one["authors"][0]["name"], "Planning Committee");
    assert_eq!(one["tags"], json!(["housing"]));
    assert_eq!(one["date_published"], planning["receipt"]["recorded_at"]);
    assert_eq!(one["date_modified"], planning["state"]["updated_at"]);
    let filtered_atom = feed(&app, "/feeds/decisions.atom?body=planning-committee", None)
        .await
        .body;
    assert_eq!(atom_ids(&filtered_atom), [planning_id.as_str()]);
    assert!(filtered_atom.contains(&format!(
        r#"<link rel="related" type="application/json" title="Receipt" href="{base}/api/v1/decisions/{planning_id}/receipt"/>"#
    )));
    assert!(filtered_atom.contains(&format!(
        r#"<link rel="alternate" type="text/html" href="{base}/decisions/{planning_id}"/>"#
    )));
    assert!(filtered_atom.contains(r#"<category term="housing""#));
    assert!(filtered_atom.contains("<name>Planning Committee</name>"));
    let (tagged, _) = json_feed(&app, "/feeds/decisions.json?tag=housing", None).await;
    assert_eq!(items(&tagged).len(), 1);
    let (none, _) = json_feed(&app, "/feeds/decisions.json?tag=nothing", None).await;
    assert!(items(&none).is_empty());
    for bad in [
        "?status=deleted",
        "?decided_from=yesterday",
        "?before=x",
        "?colour=red",
    ] {
        for path in [ATOM, JSON] {
            let fetched = fetch(&app, &format!("{path}{bad}"), None, None).await;
            assert_eq!(fetched.status, 400, "{path}{bad}");
        }
    }

    // A restricted decision appears to anonymous readers by its public face only.
    let anonymous_atom = feed(&app, ATOM, None).await.body;
    let anonymous_json = feed(&app, JSON, None).await.body;
    for text in [&anonymous_atom, &anonymous_json] {
        assert!(
            !text.contains("Mill Lane"),
            "withheld content is not listed"
        );
        assert!(text.contains("A property purchase in Southfield."));
    }
    let (cleared, _) = json_feed(&app, JSON, Some(&app.auditor)).await;
    assert_eq!(
        item(&cleared, &restricted_id)["title"],
        "Purchase of 14 Mill Lane"
    );

    // Conditional GET: the same ETag gives 304 with no body until the log changes.
    let first = feed(&app, JSON, None).await;
    let again = fetch(&app, JSON, None, Some(&first.etag)).await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.etag, first.etag);
    let first_atom = feed(&app, ATOM, None).await;
    assert_ne!(first_atom.etag, first.etag);
    assert_eq!(
        fetch(&app, ATOM, None, Some(&first_atom.etag)).await.status,
        304
    );
    assert_eq!(
        fetch(&app, JSON, None, Some(&format!("W/{}", first.etag)))
            .await
            .status,
        304,
        "GET compares entity tags weakly"
    );
    assert_eq!(fetch(&app, JSON, None, Some("\"other\"")).await.status, 200);
    // A reader who sees more gets other bytes, so another tag.
    assert_ne!(feed(&app, JSON, Some(&app.auditor)).await.etag, first.etag);

    // An outcome updates the same entry: same id, later `updated`, new ETag.
    let before = first_atom.body.clone();
    let (status, outcome) = app
        .post(
            &format!("/api/v1/decisions/{public_id}/outcomes"),
            Some(&app.clerk),
            &json!({"status": "on_track", "narrative": "x"}),
        )
        .await;
    assert_eq!(status, 201, "{outcome:#}");
    let after = fetch(&app, JSON, None, Some(&first.etag)).await;
    assert_eq!(after.status, 200);
    assert_ne!(after.etag, first.etag);
    let document: Value = serde_json::from_str(&after.body).expect("JSON");
    let updated = item(&document, &public_id);
    let old = item(&all, &public_id);
    assert_eq!(updated["id"], old["id"]);
    assert_eq!(updated["date_published"], old["date_published"]);
    let (old_time, new_time) = (
        chrono::DateTime::parse_from_rfc3339(old["date_modified"].as_str().expect("date"))
            .expect("RFC 3339"),
        chrono::DateTime::parse_from_rfc3339(updated["date_modified"].as_str().expect("date"))
            .expect("RFC 3339"),
    );
    assert!(new_time > old_time, "{old_time} then {new_time}");
    let after_atom = fetch(&app, ATOM, None, Some(&first_atom.etag)).await;
    assert_eq!(after_atom.status, 200);
    assert_ne!(
        atom_entry_field(&after_atom.body, &public_id, "updated"),
        atom_entry_field(&before, &public_id, "updated")
    );
    assert_eq!(
        atom_entry_field(&after_atom.body, &public_id, "updated"),
        updated["date_modified"].as_str().expect("date")
    );
    let feed_updated = |atom: &str| {
        let start = atom.find("<updated>").expect("updated") + "<updated>".len();
        atom[start..start + atom[start..].find('<').expect("close")].to_owned()
    };
    assert_eq!(
        feed_updated(&after_atom.body),
        updated["date_modified"].as_str().expect("date"),
        "the feed is as new as its newest entry"
    );
    // A feed listing nothing takes the time of the log's last entry.
    let empty_now = feed(&app, "/feeds/decisions.atom?tag=nothing", None).await;
    assert_eq!(
        feed_updated(&empty_now.body),
        updated["date_modified"].as_str().expect("date")
    );

    // Hostile text is escaped in Atom and only ever a JSON string in JSON Feed.
    let probe = "<script>alert(1)</script>";
    let mut hostile = decision(3);
    hostile["title"] = json!(format!("title {probe}"));
    hostile["decision"] = json!(format!("decision {probe} & <img src=x onerror=alert(2)>"));
    hostile["tags"] = json!([probe]);
    let hostile = app.record(&hostile).await;
    let hostile_id = hostile["id"].as_str().expect("id");
    let atom = feed(&app, ATOM, None).await.body;
    assert!(!atom.contains("<script"), "{atom}");
    assert!(!atom.contains("<img"));
    assert!(atom.contains("title &#60;script&#62;alert(1)&#60;/script&#62;"));
    let raw = feed(&app, JSON, None).await.body;
    assert!(!raw.contains("<script") && !raw.contains("<img"), "{raw}");
    let document: Value = serde_json::from_str(&raw).expect("JSON");
    let entry = item(&document, hostile_id);
    assert_eq!(entry["title"], format!("title {probe}"));
    assert!(
        entry["content_text"]
            .as_str()
            .expect("text")
            .contains(&format!("decision {probe} & <img"))
    );
    assert_eq!(entry["tags"], json!([probe]));

    // Third-party parsers and the JSON Feed 1.1 schema accept every feed.
    if let Some(python) = python() {
        for path in [
            ATOM,
            JSON,
            "/feeds/decisions.atom?body=planning-committee",
            "/feeds/decisions.json?body=planning-committee&tag=housing",
            "/feeds/decisions.atom?tag=nothing",
        ] {
            check_with_python(&python, &app, path, None);
        }
        check_with_python(&python, &app, JSON, Some(&app.auditor));
    }
    app.check_log().await;
}

/// A GET of `path` with `headers`: (status, `Last-Modified`, `ETag`, body).
async fn get_with(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, String, String, String) {
    let mut request = app.client.get(app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().expect("ASCII header").to_owned())
            .unwrap_or_default()
    };
    let (modified, etag) = (header("last-modified"), header("etag"));
    let status = response.status().as_u16();
    (status, modified, etag, response.text().await.expect("body"))
}

async fn feeds_answer_if_modified_since_and_keep_their_id_on_any_host(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    // A clock the scenario moves by hand, in milliseconds since the epoch.
    let millis = Arc::new(AtomicI64::new(
        chrono::DateTime::parse_from_rfc3339("2026-11-29T10:00:00.500Z")
            .expect("time")
            .timestamp_millis(),
    ));
    let now = millis.clone();
    let clock: decision_log::store::Clock = Arc::new(move || {
        chrono::DateTime::from_timestamp_millis(now.load(Ordering::SeqCst)).expect("time")
    });
    let app = TestApp::spawn_with_clock(db, clock).await;
    app.record(&decision(1)).await;

    for path in [ATOM, JSON] {
        // Within the second of the last change, no Last-Modified: a change later in that
        // second would carry the same date.
        let (status, modified, _, _) = get_with(&app, path, &[]).await;
        assert_eq!((status, modified.as_str()), (200, ""), "{path}");
    }
    millis.fetch_add(2_000, Ordering::SeqCst);
    for path in [ATOM, JSON] {
        let (status, modified, etag, _) = get_with(&app, path, &[]).await;
        assert_eq!(status, 200);
        assert_eq!(modified, "Sun, 29 Nov 2026 10:00:00 GMT", "{path}");
        let (status, again, same, body) =
            get_with(&app, path, &[("If-Modified-Since", &modified)]).await;
        assert_eq!((status, body.as_str()), (304, ""), "{path}");
        assert_eq!((again, same), (modified.clone(), etag.clone()), "{path}");
        let earlier = "Sun, 29 Nov 2026 09:59:59 GMT";
        assert_eq!(
            get_with(&app, path, &[("If-Modified-Since", earlier)])
                .await
                .0,
            200
        );
        // If-None-Match takes precedence (RFC 9110 §13.2.2): a tag that does not match is a
        // 200 whatever the date says, and a matching one a 304.
        let headers = [
            ("If-None-Match", "\"other\""),
            ("If-Modified-Since", &modified),
        ];
        assert_eq!(get_with(&app, path, &headers).await.0, 200, "{path}");
        let headers = [
            ("If-None-Match", etag.as_str()),
            ("If-Modified-Since", earlier),
        ];
        assert_eq!(get_with(&app, path, &headers).await.0, 304, "{path}");
    }
    // A new decision is a modification.
    app.record(&decision(2)).await;
    millis.fetch_add(2_000, Ordering::SeqCst);
    let (status, modified, _, _) = get_with(
        &app,
        JSON,
        &[("If-Modified-Since", "Sun, 29 Nov 2026 10:00:00 GMT")],
    )
    .await;
    assert_eq!(
        (status, modified.as_str()),
        (200, "Sun, 29 Nov 2026 10:00:02 GMT")
    );

    // The Atom feed's id is the same on every host name, and differs from filter to filter.
    let feed_id = |atom: &str| {
        atom.split("<id>")
            .nth(1)
            .and_then(|rest| rest.split("</id>").next())
            .expect("feed id")
            .to_owned()
    };
    let mut ids = Vec::new();
    for host in [
        "decisions.example",
        "127.0.0.1:8080",
        "intranet.example:443",
    ] {
        let (status, _, _, atom) = get_with(&app, ATOM, &[("Host", host)]).await;
        assert_eq!(status, 200);
        assert!(
            atom.contains(&format!("http://{host}/")),
            "links follow the host"
        );
        ids.push(feed_id(&atom));
    }
    assert!(ids[0].starts_with("urn:uuid:"), "{ids:?}");
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let (_, _, _, filtered) = get_with(&app, &format!("{ATOM}?body=cabinet"), &[]).await;
    assert_ne!(feed_id(&filtered), ids[0]);
    app.check_log().await;
}

/// A search is a list of decisions like any other: its page links its Atom and JSON feeds, and
/// they list what the page lists, for that reader, with an id of their own.
async fn a_search_has_its_own_feeds_and_the_page_links_them(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut recycling = decision(1);
    recycling["title"] = json!("Kerbside recycling contract & depot");
    let recycling = app.record(&recycling).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut restricted = decision(2);
    restricted["classification"] = json!("restricted");
    restricted["title"] = json!("Kerbside depot land purchase");
    restricted["exemption"] = json!({"paragraph": 3, "public_interest_reason": "Price under negotiation.", "public_summary": "A property purchase."});
    let restricted = app.record(&restricted).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.record(&decision(3)).await;

    let page = app.get_json_text("/search?q=kerbside").await;
    for link in [
        r#"<link rel="alternate" type="application/atom+xml" title="Decisions matching “kerbside” (Atom)" href="/feeds/search.atom?q=kerbside">"#,
        r#"<link rel="alternate" type="application/feed+json" title="Decisions matching “kerbside” (JSON Feed)" href="/feeds/search.json?q=kerbside">"#,
    ] {
        assert!(page.contains(link), "{link} in {page}");
    }
    let form = app.get_json_text("/search").await;
    assert!(!form.contains("/feeds/search."), "no feed for no search");

    // Anonymously: the public match only, as on the page.
    let (anonymous, _) = json_feed(&app, "/feeds/search.json?q=kerbside", None).await;
    let ids: Vec<&str> = items(&anonymous)
        .iter()
        .map(|i| i["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [format!("urn:uuid:{recycling}").as_str()]);
    assert_eq!(
        anonymous["title"],
        "Decision log: decisions matching “kerbside”"
    );
    assert!(
        anonymous["home_page_url"]
            .as_str()
            .expect("url")
            .ends_with("/search?q=kerbside")
    );
    let atom = feed(&app, "/feeds/search.atom?q=kerbside", None).await.body;
    assert_eq!(atom_ids(&atom), std::slice::from_ref(&recycling));

    // A reader of restricted records finds both, newest first.
    let auditor = app
        .token("auditor", decision_log::store::Role::Auditor, &[])
        .await;
    let (full, _) = json_feed(&app, "/feeds/search.json?q=kerbside", Some(&auditor)).await;
    let ids: Vec<String> = items(&full)
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(
        ids,
        [restricted, recycling].map(|id| format!("urn:uuid:{id}"))
    );

    // Its own id, not the decisions feed's; no words is no feed.
    let (all, _) = json_feed(&app, JSON, None).await;
    let atom_id = |atom: &str| {
        atom.split("<id>")
            .nth(1)
            .map(|r| r.split('<').next().unwrap_or_default().to_owned())
    };
    let all_atom = feed(&app, ATOM, None).await.body;
    assert_ne!(atom_id(&atom), atom_id(&all_atom));
    assert_ne!(all["home_page_url"], anonymous["home_page_url"]);
    for path in [
        "/feeds/search.atom",
        "/feeds/search.json?q=%20",
        "/feeds/search.json?q=x&cursor=y",
    ] {
        assert_eq!(fetch(&app, path, None, None).await.status, 400, "{path}");
    }
    if let Some(python) = python() {
        check_with_python(&python, &app, "/feeds/search.atom?q=kerbside", None);
        check_with_python(&python, &app, "/feeds/search.json?q=kerbside", None);
    }
}
