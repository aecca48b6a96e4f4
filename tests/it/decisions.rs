//! Recording, reading, listing and filtering decisions.

use decision_log::record::example;
use decision_log::store::Role;
use ledger::canonical::to_canonical_bytes;
use ledger::{Disclosure, Hash};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, decision};
use crate::on_both_backends;

on_both_backends!(
    a_recorded_decision_reads_back_with_its_receipt,
    filters_select_exactly_the_matching_decisions,
    pages_walk_the_whole_list_once_newest_first,
    non_public_content_stays_out_of_the_public_log,
    two_hundred_concurrent_appends_give_a_dense_valid_chain,
    rare_matches_behind_many_newer_decisions_are_listed,
    the_list_is_offered_by_decision_date_as_well,
);

async fn a_recorded_decision_reads_back_with_its_receipt(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let response = app.post_decision(&app.clerk, &example()).await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let created: Value = response.json().await.expect("JSON");
    assert_eq!(created["record"], example());
    assert_eq!(
        location,
        format!("/api/v1/decisions/{}", created["id"].as_str().expect("id"))
    );
    let receipt = &created["receipt"];
    assert_eq!(receipt["leaf_index"], 0);
    assert_eq!(receipt["prev_hash"], "0".repeat(64));
    assert!(
        receipt["recorded_by"]
            .as_str()
            .expect("name")
            .starts_with("clerk-")
    );

    let read = app.get_json(&location, None).await;
    assert_eq!(read, created);

    // A restricted record is answered as its recorder reads it back, commitments and all.
    let mut restricted = example();
    restricted["classification"] = json!("restricted");
    restricted["exemption"] = json!({"paragraph": 3, "public_interest_reason": "Price under negotiation.", "public_summary": "A property purchase in Southfield."});
    let response = app.post_decision(&app.clerk, &restricted).await;
    assert_eq!(response.status(), 201);
    let created_restricted: Value = response.json().await.expect("JSON");
    let id = created_restricted["id"].as_str().expect("id");
    let read = app
        .get_json(&format!("/api/v1/decisions/{id}"), Some(&app.clerk))
        .await;
    assert_eq!(read, created_restricted);

    let (size, _) = app.head().await;
    assert_eq!(size, 2);
    let entry = app.get_json("/api/v1/log/entries/0", None).await;
    assert_eq!(entry["entry_hash"], receipt["entry_hash"], "{entry:#}");

    // The public log entry hashes to the receipt's entry hash, carries no personal name, and its
    // public disclosures open every name commitment.
    let entry = app.get_json("/api/v1/log/entries/0", None).await;
    let canonical = to_canonical_bytes(&entry["entry"]).expect("canonical");
    assert_eq!(
        Hash::leaf(&canonical).to_hex(),
        receipt["entry_hash"].as_str().expect("hash")
    );
    assert!(!String::from_utf8_lossy(&canonical).contains("Okafor"));
    let disclosures: Vec<Disclosure> =
        serde_json::from_value(entry["disclosures"].clone()).expect("disclosures");
    assert_eq!(
        disclosures.len(),
        7,
        "every name, the decision maker's included"
    );
    let mut record = entry["entry"]["record"].clone();
    ledger::disclosure::reveal_all(&mut record, &disclosures).expect("disclosures open");
    assert_eq!(record, example());

    assert_eq!(app.check_log().await, 2);
}

async fn filters_select_exactly_the_matching_decisions(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut planning = decision(1);
    planning["body"] = json!("planning-committee");
    planning["decision_type"] = json!("non_key");
    planning["tags"] = json!(["housing"]);
    planning["decided_on"] = json!("2026-06-01");
    planning["review_on"] = json!("2027-06-01");
    planning["effective_from"] = json!("2026-06-08");
    planning["conflicts"] = json!("none_declared");
    planning["vote"] = json!({"method": "show_of_hands", "counts": {"for": 1, "against": 0, "abstain": 0}, "result": "passed"});
    planning["participants"] =
        json!([{"name": "Cllr Jo Bell", "role": "decision_maker", "attendance": "present"}]);
    let cabinet = app.record(&decision(0)).await;
    let planning = app.record(&planning).await;
    let ids = |page: Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|d| d["id"].as_str().expect("id").to_owned())
            .collect()
    };
    let c = cabinet["id"].as_str().expect("id").to_owned();
    let p = planning["id"].as_str().expect("id").to_owned();
    for (query, want) in [
        ("", vec![&p, &c]),
        ("body=cabinet", vec![&c]),
        ("body=planning-committee", vec![&p]),
        ("body=nobody", vec![]),
        ("decision_type=non_key", vec![&p]),
        ("tag=waste", vec![&c]),
        ("tag=housing", vec![&p]),
        ("participant_role=chair", vec![&c]),
        ("participant_role=decision_maker", vec![&p, &c]),
        ("participant_role=observer", vec![]),
        ("decided_from=2026-11-01", vec![&c]),
        ("decided_to=2026-06-01", vec![&p]),
        (
            "decided_from=2026-06-01&decided_to=2026-11-18",
            vec![&p, &c],
        ),
        ("classification=public&body=cabinet&tag=waste", vec![&c]),
    ] {
        let got = ids(app
            .get_json(&format!("/api/v1/decisions?{query}"), None)
            .await);
        let want: Vec<String> = want.into_iter().cloned().collect();
        assert_eq!(got, want, "query {query:?}");
    }
    app.check_log().await;
}

async fn pages_walk_the_whole_list_once_newest_first(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for n in 0..7 {
        app.record(&decision(n)).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/decisions?limit=3&cursor={c}"),
            None => "/api/v1/decisions?limit=3".to_owned(),
        };
        let page = app.get_json(&path, None).await;
        pages += 1;
        for item in page["items"].as_array().expect("items") {
            seen.push(item["receipt"]["leaf_index"].as_u64().expect("index"));
        }
        match page.get("next_cursor").and_then(Value::as_str) {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, vec![6, 5, 4, 3, 2, 1, 0]);
    for bad in [
        "limit=0",
        "limit=201",
        "cursor=nonsense",
        "limit=ten",
        "colour=blue",
    ] {
        let response = app.get(&format!("/api/v1/decisions?{bad}"), None).await;
        assert_eq!(response.status(), 400, "{bad}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
}

async fn non_public_content_stays_out_of_the_public_log(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut internal = decision(1);
    internal["classification"] = json!("internal");
    internal["title"] = json!("Restructure of the Internal Audit team");
    let mut restricted = decision(2);
    restricted["classification"] = json!("restricted");
    restricted["title"] = json!("Purchase of 14 Mill Lane");
    restricted["exemption"] = json!({"paragraph": 3, "public_interest_reason": "Price under negotiation.", "public_summary": "A property purchase in Southfield."});
    let public = app.record(&decision(0)).await;
    let internal = app.record(&internal).await;
    let restricted = app.record(&restricted).await;

    // Anonymous readers read the public decision; of the others they learn that they exist,
    // their date, body and type, and a restricted record's exemption and public summary —
    // in lists and by id — and nothing of their content.
    let page = app.get_json("/api/v1/decisions", None).await;
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 3);
    assert_eq!(items[2]["id"], public["id"]);
    assert!(items[2]["record"].is_object());
    for hidden in [&internal, &restricted] {
        let id = hidden["id"].as_str().expect("id");
        let face = app.get_json(&format!("/api/v1/decisions/{id}"), None).await;
        assert!(face.get("record").is_none(), "{face:#}");
        assert_eq!(face["body"], "cabinet");
        assert_eq!(face["decided_on"], hidden["decided_on"]);
        let listed = items.iter().find(|i| i["id"] == id).expect("listed");
        assert!(listed.get("record").is_none());
        let text = serde_json::to_string(&face).expect("JSON");
        for secret in ["Internal Audit", "Mill Lane", "Okafor"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }
    let face = app
        .get_json(
            &format!(
                "/api/v1/decisions/{}",
                restricted["id"].as_str().expect("id")
            ),
            None,
        )
        .await;
    assert_eq!(
        face["withheld"]["exemption"]["public_summary"],
        "A property purchase in Southfield."
    );
    // Staff read internal content but not restricted; an auditor reads all three.
    let staff = app.token("staff", Role::Staff, &[]).await;
    let page = app.get_json("/api/v1/decisions", Some(&staff)).await;
    let readable: Vec<&Value> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["record"].is_object())
        .collect();
    assert_eq!(readable.len(), 2);
    let page = app.get_json("/api/v1/decisions", Some(&app.auditor)).await;
    let readable = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["record"].is_object())
        .count();
    assert_eq!(readable, 3);

    // The public log carries the restricted record's public face and nothing else of it.
    for (leaf, secret) in [(1, "Internal Audit"), (2, "Mill Lane")] {
        let entry = app
            .get_json(&format!("/api/v1/log/entries/{leaf}"), None)
            .await;
        let text = entry.to_string();
        assert!(!text.contains(secret), "leaf {leaf} leaks {secret}");
        assert!(!text.contains("Okafor"), "leaf {leaf} leaks a name");
        assert_eq!(entry["disclosures"], json!([]));
    }
    let entry = app.get_json("/api/v1/log/entries/2", None).await;
    assert_eq!(
        entry["entry"]["record"]["exemption"]["public_summary"],
        "A property purchase in Southfield."
    );
    // With a token the disclosures open the record to exactly what was submitted.
    let entry = app
        .get_json("/api/v1/log/entries/2", Some(&app.auditor))
        .await;
    let disclosures: Vec<Disclosure> =
        serde_json::from_value(entry["disclosures"].clone()).expect("disclosures");
    let mut record = entry["entry"]["record"].clone();
    ledger::disclosure::reveal_all(&mut record, &disclosures).expect("opens");
    assert_eq!(record, restricted["record"]);
    app.check_log().await;
}

async fn two_hundred_concurrent_appends_give_a_dense_valid_chain(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let requests = (0..200).map(|n| {
        let app = &app;
        async move { app.post_decision(&app.clerk, &decision(n)).await }
    });
    let responses = futures_util::future::join_all(requests).await;
    let mut indexes = Vec::new();
    for response in responses {
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.expect("JSON");
        indexes.push(body["receipt"]["leaf_index"].as_u64().expect("index"));
    }
    indexes.sort_unstable();
    assert_eq!(indexes, (0..200).collect::<Vec<u64>>());
    assert_eq!(app.check_log().await, 200);
}

/// A filter that the newest decisions do not match still lists the older ones that do, newest
/// first and page by page, after the list has walked past its window of recent rows.
async fn rare_matches_behind_many_newer_decisions_are_listed(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut planning = Vec::new();
    for n in 0..3 {
        let mut record = decision(n);
        record["body"] = json!("planning-committee");
        planning.push(
            app.record(&record).await["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let cabinet = app.record(&decision(9)).await;
    let cabinet = cabinet["id"].as_str().expect("id");
    // Five thousand newer cabinet decisions, copied straight into the read view to keep the
    // test fast; they stand for a long log recorded since.
    let sql = format!(
        "INSERT INTO decisions \
         WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 5000) \
         SELECT 'filler-' || n, 1000 + n, entry_hash, prev_hash, recorded_at, recorded_by, body, \
                decision_type, classification, decided_on, title, document, status, \
                effective_from, review_on, last_outcome, superseded_by, supersedes, published, \
                updated_at \
         FROM decisions, g WHERE id = '{cabinet}'"
    );
    sea_orm::ConnectionTrait::execute_unprepared(app.store.connection(), &sql)
        .await
        .expect("filler rows");
    let page = app
        .get_json("/api/v1/decisions?body=planning-committee&limit=2", None)
        .await;
    let ids: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [planning[2].as_str(), planning[1].as_str()]);
    let cursor = page["next_cursor"].as_str().expect("a next page");
    let next = app
        .get_json(
            &format!("/api/v1/decisions?body=planning-committee&limit=2&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(next["items"][0]["id"], planning[0].as_str());
    assert!(next.get("next_cursor").is_none());

    // In decision-date order too: the filler rows share the cabinet decision's date, so the
    // planning decisions made earlier lie beyond the window, reached through the body's index.
    let mut seen = Vec::new();
    let mut path = "/api/v1/decisions?body=planning-committee&order=decided&limit=2".to_owned();
    loop {
        let page = app.get_json(&path, None).await;
        seen.extend(ids_of(&page));
        match page.get("next_cursor").and_then(Value::as_str) {
            Some(c) => {
                path = format!(
                    "/api/v1/decisions?body=planning-committee&order=decided&limit=2&cursor={c}"
                )
            }
            None => break,
        }
    }
    let newest_first: Vec<String> = planning.iter().rev().cloned().collect();
    assert_eq!(
        seen, newest_first,
        "one decision date: newest recorded first"
    );
}

fn ids_of(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_owned())
        .collect()
}

/// `order=decided` lists the latest decision date first (a day's decisions newest recorded
/// first), pages without gaps or repeats, and refuses a cursor issued for the other order; the
/// page offers both orders and says which it uses.
async fn the_list_is_offered_by_decision_date_as_well(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // Recorded in this order, decided on these dates.
    let dates = [
        "2026-03-01",
        "2026-11-02",
        "2025-12-31",
        "2026-11-02",
        "2026-06-15",
        "2026-03-01",
        "2026-11-10",
    ];
    let mut recorded = Vec::new();
    for (n, day) in dates.iter().enumerate() {
        let mut record = decision(n);
        record["decided_on"] = json!(day);
        let created = app.record(&record).await;
        recorded.push(created["id"].as_str().expect("id").to_owned());
    }
    let mut want: Vec<(&str, usize)> = dates.iter().copied().zip(0..).collect();
    want.sort_by(|a, b| b.cmp(a));
    let want: Vec<String> = want.iter().map(|(_, n)| recorded[*n].clone()).collect();

    let mut seen = Vec::new();
    let mut path = "/api/v1/decisions?order=decided&limit=3".to_owned();
    let mut pages = 0;
    loop {
        let response = app.get(&path, None).await;
        assert_eq!(response.status(), 200, "{path}");
        let link = response
            .headers()
            .get("link")
            .map(|l| l.to_str().expect("ascii").to_owned());
        let page: Value = response.json().await.expect("JSON");
        pages += 1;
        seen.extend(ids_of(&page));
        match page.get("next_cursor").and_then(Value::as_str) {
            Some(c) => {
                let link = link.expect("a Link header with the next page");
                assert!(link.contains("order=decided"), "{link}");
                path = format!("/api/v1/decisions?order=decided&limit=3&cursor={c}");
            }
            None => break,
        }
    }
    assert_eq!((pages, &seen), (3, &want));

    // The default is recording order, and a cursor continues only the order it came from.
    let recorded_page = app.get_json("/api/v1/decisions?limit=3", None).await;
    assert_eq!(
        ids_of(&recorded_page),
        [6, 5, 4].map(|n| recorded[n].clone())
    );
    let recorded_cursor = recorded_page["next_cursor"].as_str().expect("cursor");
    let decided_page = app
        .get_json("/api/v1/decisions?order=decided&limit=3", None)
        .await;
    let decided_cursor = decided_page["next_cursor"].as_str().expect("cursor");
    for path in [
        format!("/api/v1/decisions?order=decided&cursor={recorded_cursor}"),
        format!("/api/v1/decisions?cursor={decided_cursor}"),
        "/api/v1/decisions?order=alphabetical".to_owned(),
    ] {
        let response = app.get(&path, None).await;
        assert_eq!(response.status(), 400, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }

    // Filters combine with the order.
    let got = ids_of(
        &app.get_json(
            "/api/v1/decisions?order=decided&decided_from=2026-03-01&decided_to=2026-06-30",
            None,
        )
        .await,
    );
    assert_eq!(got, [4, 5, 0].map(|n| recorded[n].clone()));

    // The page: both orders offered, the one in use said, and its cards in that order.
    let page = app.get_json_text("/?order=decided").await;
    assert!(
        page.contains(r#"<option value="decided" selected>"#),
        "{page}"
    );
    assert!(page.contains("Latest decision date first (decisions made on the same day"));
    assert!(page.contains("/feeds/decisions.atom?order=decided"));
    let positions: Vec<usize> = want
        .iter()
        .map(|id| page.find(&format!("/decisions/{id}")).expect("a card"))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    let default = app.get_json_text("/").await;
    assert!(default.contains(r#"<option value="recorded" selected>"#));
    assert!(default.contains("Newest first by when each decision was recorded"));
    let refused = app.get("/?order=decided&cursor=12", None).await;
    assert_eq!(refused.status(), 400);
}
