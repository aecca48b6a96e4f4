//! The "who is in the room" statistics page over real HTTP: exact figures for known decisions,
//! what each reader's figures count, how lineage entries move them, filters, and that the
//! figures survive a rebuild of the views and are derived for a log recorded before them.

use std::sync::Arc;

use decision_log::store::{Clock, Power, Role};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestDb, decision};
use crate::on_both_backends;

on_both_backends!(
    statistics_count_who_is_in_the_room,
    statistics_are_derived_for_a_log_recorded_before_them,
);

/// 29 November 2026: the default period is December 2025 to November 2026.
fn clock() -> Clock {
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-29T10:00:00Z")
        .expect("time")
        .with_timezone(&chrono::Utc);
    Arc::new(move || now)
}

async fn spawn(backend: Backend) -> Option<TestApp> {
    Some(TestApp::spawn_with_clock(TestDb::new(backend).await?, clock()).await)
}

async fn page(app: &TestApp, query: &str, token: Option<&str>) -> String {
    let response = app.get(&format!("/stats{query}"), token).await;
    assert_eq!(response.status(), 200, "GET /stats{query}");
    response.text().await.expect("text")
}

/// The number in the cell marked `data-stat="{key}"`.
fn stat(page: &str, key: &str) -> i64 {
    cell(page, key)
        .parse()
        .unwrap_or_else(|_| panic!("{key} is not a number"))
}

fn cell<'a>(page: &'a str, key: &str) -> &'a str {
    let marker = format!("data-stat=\"{key}\">");
    let at = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {key} on the page:\n{page}"))
        + marker.len();
    let rest = &page[at..];
    &rest[..rest.find('<').expect("the cell closes")]
}

async fn lineage(app: &TestApp, id: &str, what: &str, token: &str, body: Value) {
    let (status, problem) = app
        .post(
            &format!("/api/v1/decisions/{id}/{what}"),
            Some(token),
            &body,
        )
        .await;
    assert_eq!(status, 201, "{what}: {problem:#}");
}

async fn record(app: &TestApp, body: &Value) -> String {
    app.record(body).await["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// Seven decisions with known participants and content; returns their ids.
async fn record_known_decisions(app: &TestApp) -> Vec<String> {
    // 0: the example — public cabinet, November 2026: chair, three decision makers and an
    // advisor; two alternatives; a conflict with a dispensation; a roll call 2–1; staff and
    // community input.
    let d0 = decision(0);
    // 1: public cabinet, October 2026: no alternatives, conflicts or vote; expert input.
    let mut d1 = decision(1);
    d1["decided_on"] = json!("2026-10-05");
    d1["effective_from"] = json!("2026-10-12");
    d1["decision_type"] = json!("non_key");
    d1["alternatives"] = json!("none_considered");
    d1["conflicts"] = json!("none_declared");
    d1["participants"] = json!([
        {"name": "Ada Stone", "role": "decision_maker", "organisation": "Finance", "attendance": "present"},
        {"name": "Ben Ray", "role": "consulted", "organisation": "Northgate Residents Association", "attendance": "absent"}
    ]);
    d1["input_from"] = json!([{"kind": "expert", "summary": "The auditor's view."}]);
    let d1 = remove(d1, &["vote", "review_on"]);
    // 2: internal cabinet: a motion that failed.
    let mut d2 = decision(2);
    d2["classification"] = json!("internal");
    d2["decision_type"] = json!("officer_delegated");
    d2["conflicts"] = json!("none_declared");
    d2["vote"] = json!({"method": "show_of_hands", "counts": {"for": 1, "against": 2, "abstain": 0}, "result": "failed"});
    // 3: restricted cabinet.
    let mut d3 = decision(3);
    d3["classification"] = json!("restricted");
    d3["decision_type"] = json!("special_urgency");
    d3["exemption"] = json!({"paragraph": 3, "public_interest_reason": "Terms under negotiation.", "public_summary": "A depot lease."});
    // 4: public planning committee.
    let mut d4 = decision(4);
    d4["body"] = json!("planning-committee");
    d4["decided_on"] = json!("2026-11-02");
    d4["decision_type"] = json!("general_exception");
    d4["conflicts"] = json!("none_declared");
    d4["participants"] = json!([
        {"name": "Cllr Rae", "role": "chair", "organisation": "Planning", "attendance": "present"},
        {"name": "Cllr Lund", "role": "decision_maker", "organisation": "Planning", "attendance": "present"}
    ]);
    let d4 = remove(d4, &["vote", "input_from"]);
    // 5 and 6: public cabinet, January 2025, reviews due July 2025; 6 is rescinded.
    let old = |n| {
        let mut d = decision(n);
        d["decided_on"] = json!("2025-01-15");
        d["effective_from"] = json!("2025-01-22");
        d["review_on"] = json!("2025-07-01");
        d["conflicts"] = json!("none_declared");
        d
    };
    let mut ids = Vec::new();
    for d in [d0, d1, d2, d3, d4, old(5), old(6)] {
        ids.push(record(app, &d).await);
    }
    lineage(
        app,
        &ids[6],
        "rescission",
        &app.clerk,
        json!({"reason": "Funding withdrawn"}),
    )
    .await;
    ids
}

fn remove(mut record: Value, fields: &[&str]) -> Value {
    for field in fields {
        record.as_object_mut().expect("object").remove(*field);
    }
    record
}

const CABINET_AUTUMN: &str = "?body=cabinet&from=2026-10&to=2026-11";

async fn statistics_count_who_is_in_the_room(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let ids = record_known_decisions(&app).await;

    // An auditor's figures count every decision: 0, 1, 2 and 3 are cabinet's in the period.
    let all = page(&app, CABINET_AUTUMN, Some(&app.auditor)).await;
    for (key, want) in [
        ("decisions", 4),
        ("participants", 17),
        ("role.decision_maker", 10),
        ("role.chair", 3),
        ("role.advisor", 3),
        ("role.consulted", 1),
        ("role.informed", 0),
        ("role.observer", 0),
        ("organisation.Cabinet", 12),
        ("organisation.Environmental Services", 3),
        ("organisation.Finance", 1),
        ("organisation.Northgate Residents Association", 1),
        ("attendance.present", 10),
        ("attendance.remote", 3),
        ("attendance.apologies", 3),
        ("attendance.absent", 1),
        ("with_alternatives", 3),
        ("with_conflicts", 2),
        ("conflicts", 2),
        ("dispensations", 2),
        ("input.community", 3),
        ("input.staff", 3),
        ("input.expert", 1),
        ("with_vote", 3),
        ("with_dissent", 3),
        ("with_outcome", 0),
        ("review_overdue", 0),
        ("type.key", 1),
        ("type.non_key", 1),
        ("type.officer_delegated", 1),
        ("type.special_urgency", 1),
        ("type.general_exception", 0),
        ("status.in_force", 4),
        ("month.2026-10", 1),
        ("month.2026-11", 3),
    ] {
        assert_eq!(stat(&all, key), want, "{key} for an auditor");
    }
    assert_eq!(cell(&all, "share.with_alternatives"), "75%");
    assert!(!all.contains("data-stat=\"not_counted\""));
    assert!(all.contains("public, internal and restricted decisions"));

    // An anonymous reader's figures count public decisions only: 0 and 1.
    let public = page(&app, CABINET_AUTUMN, None).await;
    for (key, want) in [
        ("decisions", 2),
        ("participants", 7),
        ("role.decision_maker", 4),
        ("organisation.Cabinet", 4),
        ("with_alternatives", 1),
        ("conflicts", 1),
        ("with_vote", 1),
        ("with_dissent", 1),
        ("not_counted", 2),
    ] {
        assert_eq!(stat(&public, key), want, "{key} for an anonymous reader");
    }
    assert_eq!(cell(&public, "share.with_alternatives"), "50%");
    assert!(public.contains("public decisions only"));
    // Signed-in staff add internal decisions; a secretariat is told why restricted ones are out.
    let staff = app.token("stats-staff", Role::Staff, &[]).await;
    let staff_page = page(&app, CABINET_AUTUMN, Some(&staff)).await;
    assert_eq!(stat(&staff_page, "decisions"), 3);
    assert_eq!(stat(&staff_page, "not_counted"), 1);
    assert!(!staff_page.contains("not even those of your own bodies"));
    let clerk_page = page(&app, CABINET_AUTUMN, Some(&app.clerk)).await;
    assert_eq!(stat(&clerk_page, "decisions"), 3);
    assert!(clerk_page.contains("not even those of your own bodies"));

    // The markup: captions, header cells, labelled charts, nothing inline the CSP would block.
    assert!(public.contains("<caption>") && public.contains("<th scope=\"row\">"));
    assert!(public.contains("role=\"img\"") && public.contains("<title>"));
    assert!(public.contains("aria-label=\"Share of decisions: Alternatives documented 50%"));
    assert!(!public.contains("style=") && !public.contains("<script"));
    assert!(public.contains("aria-current=\"page\">Who is in the room"));

    // Lineage moves the figures: an outcome, an amendment of the alternatives, a new decision
    // date, and a publication that makes an internal record public.
    lineage(
        &app,
        &ids[0],
        "outcomes",
        &app.clerk,
        json!({"status": "on_track", "narrative": "Rounds moved on time."}),
    )
    .await;
    lineage(
        &app,
        &ids[0],
        "amendments",
        &app.clerk,
        json!({"changes": {"alternatives": "none_considered"}, "reason": "None were in fact appraised"}),
    )
    .await;
    lineage(
        &app,
        &ids[1],
        "amendments",
        &app.clerk,
        json!({"changes": {"decided_on": "2026-09-28"}, "reason": "The date was mistyped"}),
    )
    .await;
    let public = page(&app, CABINET_AUTUMN, None).await;
    assert_eq!(
        stat(&public, "decisions"),
        1,
        "decision 1 moved to September"
    );
    assert_eq!(stat(&public, "with_outcome"), 1);
    assert_eq!(stat(&public, "with_alternatives"), 0);
    assert_eq!(cell(&public, "share.with_alternatives"), "0%");
    let all = page(&app, CABINET_AUTUMN, Some(&app.auditor)).await;
    assert_eq!(stat(&all, "decisions"), 3);
    assert_eq!(stat(&all, "with_alternatives"), 2);
    assert_eq!(cell(&all, "share.with_alternatives"), "67%");
    let september = page(&app, "?body=cabinet&from=2026-09&to=2026-09", None).await;
    assert_eq!(stat(&september, "decisions"), 1);
    assert_eq!(stat(&september, "input.expert"), 1);
    let publisher = app
        .token_with("stats-publisher", Role::Redactor, &[], &[Power::Publish])
        .await;
    lineage(
        &app,
        &ids[2],
        "publication",
        &publisher,
        json!({"reason": "Spent"}),
    )
    .await;
    let public = page(&app, CABINET_AUTUMN, None).await;
    assert_eq!(stat(&public, "decisions"), 2);
    assert_eq!(stat(&public, "with_dissent"), 2);
    assert_eq!(stat(&public, "not_counted"), 1);

    // Reviews: decision 5 is overdue, the rescinded decision 6 is not; an outcome with a later
    // review date ends it.
    let since_2025 = "?body=cabinet&from=2025-01&to=2026-11";
    let long = page(&app, since_2025, None).await;
    assert_eq!(stat(&long, "decisions"), 5);
    assert_eq!(stat(&long, "review_overdue"), 1);
    assert_eq!(stat(&long, "status.rescinded"), 1);
    assert_eq!(stat(&long, "status.in_force"), 4);
    assert_eq!(stat(&long, "month.2025-01"), 2);
    lineage(
        &app,
        &ids[5],
        "outcomes",
        &app.clerk,
        json!({"status": "partly_achieved", "narrative": "Half the rounds moved.", "next_review_on": "2099-01-01"}),
    )
    .await;
    let long = page(&app, since_2025, None).await;
    assert_eq!(stat(&long, "review_overdue"), 0);
    assert_eq!(stat(&long, "with_outcome"), 2);
    // Over more than two years the figures are by year.
    let years = page(&app, "?body=cabinet&from=2024-01&to=2026-11", None).await;
    assert_eq!(stat(&years, "year.2025"), 2);
    assert_eq!(stat(&years, "year.2026"), 3);

    // Every body, the default period (December 2025 to November 2026), and each body compared.
    let every = page(&app, "", None).await;
    assert!(every.contains("December 2025 to November 2026"));
    assert_eq!(stat(&every, "decisions"), 4);
    assert_eq!(stat(&every, "body.cabinet.decisions"), 3);
    assert_eq!(stat(&every, "body.planning-committee.decisions"), 1);
    assert_eq!(stat(&every, "body.planning-committee.participants"), 2);
    assert_eq!(cell(&every, "body.cabinet.alternatives"), "33%");
    let planning = page(&app, "?body=planning-committee", None).await;
    assert_eq!(stat(&planning, "decisions"), 1);
    assert_eq!(stat(&planning, "role.chair"), 1);
    assert_eq!(stat(&planning, "organisation.Planning"), 2);
    assert_eq!(stat(&planning, "type.general_exception"), 1);
    assert!(
        !planning.contains("body.cabinet.decisions"),
        "no comparison for one body"
    );
    let november = page(&app, "?from=2026-11&to=2026-11", Some(&app.auditor)).await;
    assert_eq!(stat(&november, "decisions"), 4);
    assert_eq!(stat(&november, "body.cabinet.decisions"), 3);

    for (query, status) in [
        ("?from=2026-13", 400),
        ("?from=2026-11&to=2026-10", 400),
        ("?to=November", 400),
        ("?body=parks", 404),
    ] {
        let response = app.get(&format!("/stats{query}"), None).await;
        assert_eq!(response.status(), status, "{query}");
    }

    // The figures rebuilt from the log alone are the same figures.
    let queries = ["", CABINET_AUTUMN, since_2025, "?body=planning-committee"];
    let mut before = Vec::new();
    for query in queries {
        before.push(page(&app, query, None).await);
        before.push(page(&app, query, Some(&app.auditor)).await);
    }
    app.store.rebuild_views().await.expect("rebuild");
    let mut after = Vec::new();
    for query in queries {
        after.push(page(&app, query, None).await);
        after.push(page(&app, query, Some(&app.auditor)).await);
    }
    assert!(
        before == after,
        "the figures differ once rebuilt from the log"
    );
    app.check_log().await;
}

async fn statistics_are_derived_for_a_log_recorded_before_them(backend: Backend) {
    let Some(app) = spawn(backend).await else {
        return;
    };
    let ids = record_known_decisions(&app).await;
    lineage(
        &app,
        &ids[0],
        "outcomes",
        &app.clerk,
        json!({"status": "on_track", "narrative": "Rounds moved on time."}),
    )
    .await;
    let queries = ["", CABINET_AUTUMN, "?body=cabinet&from=2025-01&to=2026-11"];
    let mut before = Vec::new();
    for query in queries {
        before.push(page(&app, query, None).await);
    }
    let db = app.stop().await;

    let raw = sea_orm::Database::connect(db.url.as_str())
        .await
        .expect("connect");
    for sql in [
        "DROP TABLE stats_rollups",
        "DROP TABLE stats_contributions",
        "DELETE FROM seaql_migrations WHERE version = 'm0005_stats'",
    ] {
        sea_orm::ConnectionTrait::execute_unprepared(&raw, sql)
            .await
            .expect(sql);
    }
    raw.close().await.expect("close");

    let app = TestApp::spawn_with_clock(db, clock()).await;
    for (query, before) in queries.iter().zip(&before) {
        assert!(
            page(&app, query, None).await == *before,
            "the figures of {query:?} differ once derived at start-up"
        );
    }
    let all = page(&app, CABINET_AUTUMN, Some(&app.auditor)).await;
    assert_eq!(stat(&all, "decisions"), 4);
    assert_eq!(stat(&all, "with_outcome"), 1);
    // Appends carry on from the derived figures.
    app.record(&decision(7)).await;
    let all = page(&app, CABINET_AUTUMN, Some(&app.auditor)).await;
    assert_eq!(stat(&all, "decisions"), 5);
    assert_eq!(stat(&all, "role.decision_maker"), 13);
    app.check_log().await;
}
