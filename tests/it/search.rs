//! The search page over real HTTP: what it finds and where it marks the match, what each reader
//! may find, how it follows amendments, erasures, publication and a rebuild of the views, that
//! hostile text and hostile queries render inert, and that a log from before search is indexed.

use decision_log::store::{Power, Role};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, decision};
use crate::on_both_backends;

on_both_backends!(
    old_matches_beyond_the_newest_rows_are_found,
    search_finds_every_indexed_field_and_marks_the_match,
    search_keeps_to_what_each_reader_may_read,
    search_follows_amendments_erasures_and_rebuilds,
    search_pages_through_many_results,
    a_log_from_before_search_is_indexed_at_start_up,
);

/// The search page for `q` as `token` reads it: (status, HTML).
async fn search(app: &TestApp, q: &str, token: Option<&str>) -> (u16, String) {
    search_page(app, &[("q", q)], token).await
}

async fn search_page(app: &TestApp, query: &[(&str, &str)], token: Option<&str>) -> (u16, String) {
    let mut request = app.client.get(app.url("/search")).query(query);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let csp = response
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let text = response.text().await.expect("text");
    (status, text)
}

/// The titles of the results on a search page, in order.
fn titles(page: &str) -> Vec<String> {
    page.split("<article class=\"card\">")
        .skip(1)
        .filter_map(|card| {
            let link = card.split_once("<h3><a href=\"")?.1;
            let title = link.split_once("\">")?.1.split_once("</a>")?.0;
            Some(title.to_owned())
        })
        .collect()
}

/// Records `record` and returns its id.
async fn record(app: &TestApp, record: &Value) -> String {
    app.record(record).await["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

async fn lineage(app: &TestApp, id: &str, kind: &str, token: &str, body: Value) {
    let (status, answer) = app
        .post(
            &format!("/api/v1/decisions/{id}/{kind}"),
            Some(token),
            &body,
        )
        .await;
    assert_eq!(status, 201, "{kind}: {answer:#}");
}

async fn search_finds_every_indexed_field_and_marks_the_match(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut depot = decision(0);
    depot["title"] = json!("Close the Quarrybank depot");
    depot["decision"] = json!("The fleet moves to Southfield and the yard is sold to Heronsgate.");
    depot["reasons"] = json!("Repairs would cost more than the Larkspur site is worth.");
    depot["alternatives"] = json!([
        {"option": "Lease a Wolverton warehouse", "why_rejected": "No Tamarisk bay for the lorries."}
    ]);
    let depot = record(&app, &depot).await;
    let mut other = decision(1);
    other["title"] = json!("Library opening hours <script>alert('owned')</script>");
    other["reasons"] = json!("Visitors asked for <img src=x onerror=alert(1)> later evenings.");
    record(&app, &other).await;
    lineage(
        &app,
        &depot,
        "outcomes",
        &app.clerk,
        json!({"status": "on_track", "narrative": "Rounds from Southfield cut mileage; the Nightjar route closed."}),
    )
    .await;

    for word in [
        "Quarrybank",
        "Heronsgate",
        "Larkspur",
        "Wolverton",
        "Tamarisk",
        "Nightjar",
    ] {
        let (status, page) = search(&app, word, None).await;
        assert_eq!(status, 200, "{word}");
        assert_eq!(
            titles(&page),
            ["Close the Quarrybank depot"],
            "{word}: {page}"
        );
        assert!(
            page.contains(&format!("<mark>{word}</mark>")),
            "{word} is marked: {page}"
        );
        assert!(page.contains(&format!("href=\"/decisions/{depot}\"")));
        assert!(page.contains("Cabinet"), "the body is shown");
        assert!(page.contains("18 November 2026"), "the date is shown");
        assert!(
            page.contains(&format!("value=\"{word}\"")),
            "the query is kept"
        );
    }
    // Stemmed and case-insensitive; every term must match.
    let (_, page) = search(&app, "quarrybank DEPOTS", None).await;
    assert_eq!(titles(&page), ["Close the Quarrybank depot"]);
    let (_, page) = search(&app, "Quarrybank library", None).await;
    assert!(titles(&page).is_empty());
    assert!(page.contains("No decisions you may read match"));

    // Hostile indexed text is escaped, in titles and in snippets.
    for word in ["alert", "evenings", "onerror"] {
        let (status, page) = search(&app, word, None).await;
        assert_eq!(status, 200);
        assert_eq!(titles(&page).len(), 1, "{word}: {page}");
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(page.contains("&lt;"), "{page}");
        assert!(page.contains("<mark>"), "{page}");
    }

    // The empty query shows the form alone.
    for query in [&[][..], &[("q", "")][..], &[("q", "   ")][..]] {
        let (status, page) = search_page(&app, query, None).await;
        assert_eq!(status, 200);
        assert!(page.contains("<label for=\"q\">"));
        assert!(page.contains("role=\"search\""));
        assert!(!page.contains("No decisions you may read match"));
        assert!(titles(&page).is_empty());
    }

    // Hostile and oversized queries are searches like any other.
    let huge = "Quarrybank ".repeat(200);
    for query in [
        huge.as_str(),
        "NEAR(Quarrybank depot, 3)",
        "\"Quarrybank",
        "Quarrybank\"",
        "title:Quarrybank",
        "Quarrybank*",
        "^Quarrybank OR -depot AND NOT",
        "' OR 1=1 --",
        "\u{E000}Quarrybank\u{E001}",
        "<script>alert(1)</script>",
        "%",
        "&&||!:*()",
    ] {
        let (status, page) = search(&app, query, None).await;
        assert_eq!(status, 200, "{query}: {page}");
        assert!(!page.contains("<script>alert(1)"), "{query}");
    }
    let (_, page) = search(&app, &"x".repeat(2_000), None).await;
    assert!(titles(&page).is_empty());
    let (_, page) = search(&app, "NEAR(Quarrybank depot, 3)", None).await;
    assert!(titles(&page).is_empty(), "NEAR is a word here: {page}");
    let (_, page) = search(&app, "title:Quarrybank", None).await;
    assert!(titles(&page).is_empty(), "no column filters: {page}");
    let (status, _) = search_page(&app, &[("q", "depot"), ("before", "soon")], None).await;
    assert_eq!(status, 400);
    app.check_log().await;
}

async fn search_keeps_to_what_each_reader_may_read(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let staff = app.token("staff", Role::Staff, &[]).await;
    let admin = app.admin.clone();
    let redactor = app
        .token_with("dpo", Role::Redactor, &[], &[Power::Erase])
        .await;
    let planning_clerk = app
        .token("planning-clerk", Role::Secretariat, &["planning-committee"])
        .await;
    let publisher = app
        .token_with("publisher", Role::Redactor, &[], &[Power::Publish])
        .await;

    let mut public = decision(0);
    public["title"] = json!("Zephyr public decision");
    record(&app, &public).await;
    let mut internal = decision(1);
    internal["title"] = json!("Zephyr internal decision");
    internal["classification"] = json!("internal");
    internal["reasons"] = json!("Kestrel staffing matters.");
    record(&app, &internal).await;
    let mut restricted = decision(2);
    restricted["title"] = json!("Zephyr restricted purchase");
    restricted["classification"] = json!("restricted");
    restricted["reasons"] = json!("The Mill Lane price is Osprey confidential.");
    restricted["exemption"] = json!({"paragraph": 3, "public_interest_reason": "Price under negotiation.", "public_summary": "A property purchase."});
    let restricted = record(&app, &restricted).await;

    let public_title = "Zephyr public decision";
    let internal_title = "Zephyr internal decision";
    let restricted_title = "Zephyr restricted purchase";
    let cases: [(&str, Option<&str>, &[&str]); 7] = [
        ("anonymous", None, &[public_title]),
        ("staff", Some(&staff), &[internal_title, public_title]),
        ("admin", Some(&admin), &[internal_title, public_title]),
        (
            "auditor",
            Some(&app.auditor),
            &[restricted_title, internal_title, public_title],
        ),
        (
            "redactor",
            Some(&redactor),
            &[restricted_title, internal_title, public_title],
        ),
        (
            "cabinet clerk",
            Some(&app.clerk),
            &[restricted_title, internal_title, public_title],
        ),
        (
            "planning clerk",
            Some(&planning_clerk),
            &[internal_title, public_title],
        ),
    ];
    for (who, token, expected) in cases {
        let (status, page) = search(&app, "zephyr", token).await;
        assert_eq!(status, 200);
        assert_eq!(titles(&page), expected, "{who}");
        // Words only in withheld content find nothing, and show nothing, to other readers.
        let (_, osprey) = search(&app, "Osprey", token).await;
        let may_read_restricted = expected.contains(&restricted_title);
        assert_eq!(!titles(&osprey).is_empty(), may_read_restricted, "{who}");
        if !may_read_restricted {
            assert!(
                !page.contains("Osprey") && !osprey.contains("Mill Lane"),
                "{who}"
            );
            assert!(!page.contains("restricted purchase"), "{who}");
        }
        let (_, kestrel) = search(&app, "Kestrel", token).await;
        assert_eq!(titles(&kestrel).is_empty(), token.is_none(), "{who}");
    }

    // Fields published from a record still withheld are not found by those who may not read it.
    lineage(
        &app,
        &restricted,
        "publication",
        &publisher,
        json!({"fields": ["title"], "reason": "The purchase is announced"}),
    )
    .await;
    let (_, page) = search(&app, "purchase", None).await;
    assert!(titles(&page).is_empty(), "{page}");
    // Published as a whole, it is found by everyone.
    lineage(
        &app,
        &restricted,
        "publication",
        &publisher,
        json!({"reason": "Contract signed"}),
    )
    .await;
    let (_, page) = search(&app, "Osprey", None).await;
    assert_eq!(titles(&page), [restricted_title]);
    assert!(page.contains("<mark>Osprey</mark>"));
    let (_, page) = search(&app, "zephyr", None).await;
    assert_eq!(titles(&page), [restricted_title, public_title]);
    app.check_log().await;
}

async fn search_follows_amendments_erasures_and_rebuilds(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let id = record(&app, &decision(0)).await;
    let mut other = decision(1);
    other["title"] = json!("Parks maintenance contract");
    other["decision"] = json!("Grounds maintenance is let to Verdant Ltd.");
    record(&app, &other).await;

    // Names of people are never indexed.
    for name in ["Priya", "Okafor", "Dana Mills"] {
        let (_, page) = search(&app, name, Some(&app.auditor)).await;
        assert!(titles(&page).is_empty(), "{name} is found: {page}");
    }
    let (_, page) = search(&app, "Decision 0", None).await;
    assert_eq!(titles(&page), ["Decision 0: close Northgate depot"]);

    lineage(
        &app,
        &id,
        "amendments",
        &app.clerk,
        json!({"changes": {"title": "Move waste rounds to Southfield"}, "reason": "Clearer title"}),
    )
    .await;
    let (_, page) = search(&app, "Move waste rounds", None).await;
    assert_eq!(titles(&page), ["Move waste rounds to Southfield"]);
    let (_, page) = search(&app, "Decision 0", None).await;
    assert!(titles(&page).is_empty(), "the old title is gone: {page}");

    let dpo = app
        .token_with("dpo", Role::Redactor, &[], &[Power::Erase])
        .await;
    lineage(
        &app,
        &id,
        "redactions",
        &dpo,
        json!({"path": "/participants/2/name", "basis": "UK GDPR Art. 17", "authorised_by": "Data Protection Officer", "reason": "r"}),
    )
    .await;
    for name in ["Priya", "Shah", "Priya Shah"] {
        let (_, page) = search(&app, name, Some(&app.auditor)).await;
        assert!(titles(&page).is_empty(), "{name} is found: {page}");
        assert!(!page.contains("<article"));
    }
    let (_, page) = search(&app, "Move", Some(&app.auditor)).await;
    assert_eq!(titles(&page), ["Move waste rounds to Southfield"]);

    let queries = [
        "Move",
        "Southfield",
        "Verdant",
        "depot",
        "Decision 0",
        "Priya",
    ];
    let mut before = Vec::new();
    for q in queries {
        before.push(search(&app, q, Some(&app.auditor)).await);
    }
    app.store.rebuild_views().await.expect("rebuild");
    for (q, expected) in queries.iter().zip(before) {
        assert_eq!(search(&app, q, Some(&app.auditor)).await, expected, "{q}");
    }
    app.check_log().await;
}

async fn search_pages_through_many_results(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for n in 0..23 {
        app.record(&decision(n)).await;
    }
    let (status, first) = search(&app, "Northgate", None).await;
    assert_eq!(status, 200);
    let first_titles = titles(&first);
    assert_eq!(first_titles.len(), 20);
    assert_eq!(
        first_titles[0], "Decision 22: close Northgate depot",
        "newest first"
    );
    let next = first
        .split_once("<a rel=\"next\" href=\"")
        .expect("a next page")
        .1
        .split_once('"')
        .expect("href")
        .0
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert!(next.starts_with("/search?q=Northgate&cursor="), "{next}");
    let response = app.get(&next, None).await;
    assert_eq!(response.status(), 200);
    let second = response.text().await.expect("text");
    assert_eq!(
        titles(&second),
        [
            "Decision 2: close Northgate depot",
            "Decision 1: close Northgate depot",
            "Decision 0: close Northgate depot",
        ]
    );
    assert!(!second.contains("rel=\"next\""));
}

/// A database written before migration m0004: taken back to that schema, it is searchable after
/// the next start.
async fn a_log_from_before_search_is_indexed_at_start_up(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let id = record(&app, &decision(0)).await;
    let mut restricted = decision(1);
    restricted["title"] = json!("Purchase of 14 Mill Lane");
    restricted["classification"] = json!("restricted");
    restricted["exemption"] = json!({"paragraph": 3, "public_interest_reason": "Terms.", "public_summary": "A purchase."});
    record(&app, &restricted).await;
    lineage(
        &app,
        &id,
        "outcomes",
        &app.clerk,
        json!({"status": "on_track", "narrative": "Missed collections fell by a Pelican margin."}),
    )
    .await;
    let db = app.stop().await;

    let raw = sea_orm::Database::connect(db.url.as_str())
        .await
        .expect("connect");
    for sql in [
        "DROP TABLE decision_search",
        "DELETE FROM seaql_migrations WHERE version = 'm0004_search'",
    ] {
        sea_orm::ConnectionTrait::execute_unprepared(&raw, sql)
            .await
            .expect(sql);
    }
    raw.close().await.expect("close");

    let app = TestApp::spawn_on(db).await;
    let (_, page) = search(&app, "Pelican", None).await;
    assert_eq!(titles(&page), ["Decision 0: close Northgate depot"]);
    let (_, page) = search(&app, "Mill Lane", None).await;
    assert!(titles(&page).is_empty());
    let (_, page) = search(&app, "Mill Lane", Some(&app.auditor)).await;
    assert_eq!(titles(&page), ["Purchase of 14 Mill Lane"]);
    // Appends carry on updating it.
    let mut later = decision(2);
    later["title"] = json!("Recorded after the upgrade");
    app.record(&later).await;
    let (_, page) = search(&app, "upgrade", None).await;
    assert_eq!(titles(&page), ["Recorded after the upgrade"]);
    assert_eq!(app.check_log().await, 4);
}

/// On PostgreSQL a search first walks the newest rows and then turns to the GIN index: matches
/// older than that window are found, in order, after newer ones. (On SQLite the index itself is
/// ordered; the scenario holds there too.)
async fn old_matches_beyond_the_newest_rows_are_found(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut ids = Vec::new();
    for n in 0..3 {
        let mut old = decision(n);
        old["title"] = json!(format!("Zebra crossing on Mill Lane {n}"));
        ids.push(record(&app, &old).await);
    }
    // Thousands of newer rows that do not match, written straight into the index so that the
    // test stays fast; they stand for a long log recorded since.
    let db = app.store.connection();
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            "INSERT INTO decision_search (leaf_index, decision_id, classification, body, content) \
             SELECT 1000 + g, 'filler-' || g, 'public', 'cabinet', 'Parking permits review' \
             FROM generate_series(1, 5000) AS g"
        }
        _ => {
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 5000) \
             INSERT INTO decision_search (rowid, decision_id, classification, body, title) \
             SELECT 1000 + n, 'filler-' || n, 'public', 'cabinet', 'Parking permits review' FROM g"
        }
    };
    sea_orm::ConnectionTrait::execute_unprepared(db, sql)
        .await
        .expect("filler rows");
    let (status, page) = search(&app, "zebra crossing", None).await;
    assert_eq!(status, 200);
    let positions: Vec<usize> = ids
        .iter()
        .map(|id| {
            page.find(id.as_str())
                .unwrap_or_else(|| panic!("{id} not found"))
        })
        .collect();
    assert!(
        positions[2] < positions[1] && positions[1] < positions[0],
        "newest first: {positions:?}"
    );
}
