//! What an intruder or a careless client tried, and what the service must answer: no write
//! outside the caller's bodies, no filter that confirms withheld content, no erased value left in
//! the database files, no grant of power the log does not show.

use decision_log::store::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, decision, encode};
use crate::on_both_backends;

on_both_backends!(
    a_supersession_needs_authority_over_the_successor_too,
    filters_match_only_what_the_reader_may_read,
);

async fn lineage(app: &TestApp, id: &str, what: &str, token: &str, body: Value) -> (u16, Value) {
    app.post(
        &format!("/api/v1/decisions/{id}/{what}"),
        Some(token),
        &body,
    )
    .await
}

fn id_of(created: &Value) -> String {
    created["id"].as_str().expect("id").to_owned()
}

async fn a_supersession_needs_authority_over_the_successor_too(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let cabinet_clerk = app
        .token("cabinet-clerk", Role::Secretariat, &["cabinet"])
        .await;
    let ours = id_of(&app.record(&decision(0)).await);
    let mut planning = decision(1);
    planning["body"] = json!("planning-committee");
    let theirs = id_of(&app.record(&planning).await);
    let (size, _) = app.head().await;

    // Body A's clerk may not make body B's decision the successor of its own.
    let (status, problem) = lineage(
        &app,
        &ours,
        "supersession",
        &cabinet_clerk,
        json!({"superseded_by": theirs, "reason": "Replaced"}),
    )
    .await;
    assert_eq!(status, 403, "{problem:#}");
    assert_eq!(app.head().await.0, size, "a refusal writes nothing");
    let successor = app
        .get_json(&format!("/api/v1/decisions/{theirs}"), Some(&app.auditor))
        .await;
    assert!(
        successor["supersedes"]
            .as_array()
            .is_none_or(|list| list.is_empty()),
        "{successor:#}"
    );

    // A clerk of both bodies may.
    let (status, event) = lineage(
        &app,
        &ours,
        "supersession",
        &app.clerk,
        json!({"superseded_by": theirs, "reason": "Replaced"}),
    )
    .await;
    assert_eq!(status, 201, "{event:#}");
    app.check_log().await;
}

/// The ids on the first page of `path` as `token` reads it.
async fn listed(app: &TestApp, path: &str, token: Option<&str>) -> Vec<String> {
    let page = app.get_json(path, token).await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|d| d["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn filters_match_only_what_the_reader_may_read(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let staff = app.token("staff-reader", Role::Staff, &[]).await;
    let planning_clerk = app
        .token("planning-clerk", Role::Secretariat, &["planning-committee"])
        .await;
    let cabinet_clerk = app
        .token("cabinet-clerk", Role::Secretariat, &["cabinet"])
        .await;

    let mut restricted = decision(0);
    restricted["classification"] = json!("restricted");
    restricted["tags"] = json!(["merger-talks"]);
    restricted["participants"][4]["role"] = json!("observer");
    restricted["exemption"] = json!({"paragraph": 3, "public_interest_reason": "Commercial terms.", "public_summary": "A commercial decision."});
    let restricted = id_of(&app.record(&restricted).await);
    let mut internal = decision(1);
    internal["classification"] = json!("internal");
    internal["tags"] = json!(["staff-restructure"]);
    let internal = id_of(&app.record(&internal).await);
    let public = id_of(&app.record(&decision(2)).await);

    // Unfiltered, the restricted decision's public face is listed to everyone.
    assert!(
        listed(&app, "/api/v1/decisions", None)
            .await
            .contains(&restricted)
    );

    let cases: [(&str, Option<&str>, Vec<&String>); 10] = [
        ("tag=merger-talks", None, vec![]),
        ("tag=merger-talks", Some(&staff), vec![]),
        ("tag=merger-talks", Some(&planning_clerk), vec![]),
        ("tag=merger-talks", Some(&cabinet_clerk), vec![&restricted]),
        ("tag=merger-talks", Some(&app.auditor), vec![&restricted]),
        ("tag=staff-restructure", None, vec![]),
        ("tag=staff-restructure", Some(&staff), vec![&internal]),
        ("participant_role=observer", None, vec![]),
        (
            "participant_role=observer",
            Some(&app.auditor),
            vec![&restricted],
        ),
        ("tag=waste", None, vec![&public]),
    ];
    for (query, token, expected) in cases {
        let got = listed(&app, &format!("/api/v1/decisions?{query}"), token).await;
        let expected: Vec<String> = expected.into_iter().cloned().collect();
        assert_eq!(got, expected, "?{query} read by {token:?}");
    }

    // The pages and the feeds use the same filter.
    for path in [
        "/?tag=merger-talks",
        "/feeds/decisions.atom?tag=merger-talks",
        "/feeds/decisions.json?tag=merger-talks",
        "/feeds/decisions.json?tag=staff-restructure",
    ] {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), 200, "{path}");
        let text = response.text().await.expect("text");
        for hidden in [&restricted, &internal] {
            assert!(!text.contains(hidden.as_str()), "{path} lists {hidden}");
        }
    }
    let text = app
        .get(
            &format!("/feeds/decisions.json?tag={}", encode("waste")),
            None,
        )
        .await
        .text()
        .await
        .expect("text");
    assert!(
        text.contains(public.as_str()),
        "the feed filter still matches"
    );
}
