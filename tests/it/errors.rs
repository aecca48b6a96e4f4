//! Every class of bad request gets a precise problem+json answer and writes nothing.

use decision_log::store::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, decision};
use crate::on_both_backends;

on_both_backends!(
    bad_input_is_refused_precisely_and_writes_nothing,
    one_refusal_names_every_problem,
    health_probes_answer
);

fn with(change: impl FnOnce(&mut Value)) -> Value {
    let mut record = decision(0);
    change(&mut record);
    record
}

async fn bad_input_is_refused_precisely_and_writes_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let clerk = app
        .token("planning-clerk", Role::Secretariat, &["planning-committee"])
        .await;

    // 422: each class of invalid record, and the fields it must name.
    let invalid: Vec<(&str, Value, Vec<&str>)> = vec![
        (
            "unknown field",
            with(|r| r["colour"] = json!("blue")),
            vec!["colour"],
        ),
        (
            "wrong type",
            with(|r| r["reasons"] = json!(42)),
            vec!["reasons"],
        ),
        (
            "bad date",
            with(|r| r["decided_on"] = json!("18/11/2026")),
            vec!["decided_on"],
        ),
        (
            "impossible date",
            with(|r| r["review_on"] = json!("2027-02-30")),
            vec!["review_on"],
        ),
        (
            "empty required text",
            with(|r| r["title"] = json!("   ")),
            vec!["title"],
        ),
        (
            "missing field",
            with(|r| {
                r.as_object_mut().expect("object").remove("reasons");
            }),
            vec!["reasons"],
        ),
        (
            "bad enum deep inside",
            with(|r| r["participants"][1]["attendance"] = json!("asleep")),
            vec!["participants[1].attendance"],
        ),
        (
            "no alternatives and no statement",
            with(|r| r["alternatives"] = json!([])),
            vec!["alternatives"],
        ),
        (
            "vote that does not add up",
            with(|r| r["vote"]["counts"]["abstain"] = json!(1)),
            vec!["vote.counts"],
        ),
        (
            "result that does not follow",
            with(|r| r["vote"]["result"] = json!("failed")),
            vec!["vote.result"],
        ),
        (
            "restricted without exemption",
            with(|r| r["classification"] = json!("restricted")),
            vec!["exemption"],
        ),
        (
            "no decision maker",
            with(|r| {
                for p in r["participants"].as_array_mut().expect("array") {
                    if p["role"] == "decision_maker" {
                        p["role"] = json!("consulted");
                    }
                }
            }),
            vec!["participants"],
        ),
        (
            "index past the participants",
            with(|r| r["conflicts"][0]["participant"] = json!(9)),
            vec!["conflicts[0].participant"],
        ),
        (
            "bad document hash",
            with(|r| r["documents"][0]["sha256"] = json!("ABC")),
            vec!["documents[0].sha256"],
        ),
        (
            "several at once",
            with(|r| {
                r["title"] = json!("");
                r["body"] = json!("Cabinet Office");
                r["decision_type"] = json!("urgent");
            }),
            vec!["title", "body", "decision_type"],
        ),
        ("not an object", json!(["a decision"]), vec![""]),
        (
            "record over 64 KiB",
            with(|r| r["decision"] = json!("y".repeat(70 * 1024))),
            vec![""],
        ),
    ];
    for (what, body, fields) in invalid {
        let response = app.post_decision(&app.clerk, &body).await;
        assert_eq!(response.status(), 422, "{what}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{what}"
        );
        let problem: Value = response.json().await.expect("JSON");
        assert_eq!(problem["type"], "/problems/validation", "{what}");
        assert_eq!(problem["status"], 422, "{what}");
        let named: Vec<&str> = problem["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e["field"].as_str().expect("field"))
            .collect();
        for field in &fields {
            assert!(named.contains(field), "{what}: {field} not in {named:?}");
        }
        assert_eq!(named.len(), fields.len(), "{what}: {named:?}");
    }

    // Everything else, by status and problem type.
    let url = app.url("/api/v1/decisions");
    let client = &app.client;
    let huge = "x".repeat(1024 * 1024 + 1);
    // The record itself fits in 64 KiB; its entry, each name replaced by a commitment, does not.
    let big_entry = with(|r| {
        let people: Vec<Value> = (0..500)
            .map(|i| {
                let mut p = r["participants"][1].clone();
                p["name"] = json!(format!("P{i}"));
                p
            })
            .collect();
        r["participants"] = json!(people);
    });
    let cases: Vec<(&str, reqwest::RequestBuilder, u16, &str)> = vec![
        (
            "malformed JSON",
            client
                .post(&url)
                .bearer_auth(&app.clerk)
                .header("content-type", "application/json")
                .body("{\"title\": "),
            400,
            "bad-request",
        ),
        (
            "not JSON",
            client
                .post(&url)
                .bearer_auth(&app.clerk)
                .header("content-type", "text/plain")
                .body("a decision"),
            415,
            "unsupported-media-type",
        ),
        (
            "body over 1 MiB",
            client
                .post(&url)
                .bearer_auth(&app.clerk)
                .header("content-type", "application/json")
                .body(huge),
            413,
            "payload-too-large",
        ),
        (
            "entry over 64 KiB",
            client.post(&url).bearer_auth(&app.clerk).json(&big_entry),
            413,
            "payload-too-large",
        ),
        (
            "no token",
            client.post(&url).json(&decision(0)),
            401,
            "unauthorized",
        ),
        (
            "unknown token",
            client
                .post(&url)
                .bearer_auth("dlt_not-a-real-token")
                .json(&decision(0)),
            401,
            "unauthorized",
        ),
        (
            "not a bearer token",
            client
                .post(&url)
                .header("authorization", "Basic YTpi")
                .json(&decision(0)),
            401,
            "unauthorized",
        ),
        (
            "bad token on the head",
            client
                .get(app.url("/api/v1/log/head"))
                .bearer_auth("dlt_wrong"),
            401,
            "unauthorized",
        ),
        (
            "bad token on a read",
            client.get(&url).bearer_auth("dlt_wrong"),
            401,
            "unauthorized",
        ),
        (
            "another body's record",
            client.post(&url).bearer_auth(&clerk).json(&decision(0)),
            403,
            "forbidden",
        ),
        (
            "unknown route",
            client.get(app.url("/api/v1/nothing-here")),
            404,
            "not-found",
        ),
        (
            "unknown decision",
            client.get(app.url("/api/v1/decisions/01933f3c-0000-7000-8000-000000000000")),
            404,
            "not-found",
        ),
        (
            "malformed decision id",
            client.get(app.url("/api/v1/decisions/not-an-id")),
            404,
            "not-found",
        ),
        (
            "entry past the head",
            client.get(app.url("/api/v1/log/entries/5")),
            404,
            "not-found",
        ),
        (
            "entry index not a number",
            client.get(app.url("/api/v1/log/entries/five")),
            404,
            "not-found",
        ),
        (
            "entries limit too large",
            client.get(app.url("/api/v1/log/entries?limit=5000")),
            400,
            "bad-request",
        ),
        (
            "wrong method",
            client.delete(&url).bearer_auth(&app.auditor),
            405,
            "method-not-allowed",
        ),
        (
            "wrong method on the head",
            client.post(app.url("/api/v1/log/head")),
            405,
            "method-not-allowed",
        ),
    ];
    for (what, request, status, slug) in cases {
        let response = request.send().await.expect("request");
        assert_eq!(response.status().as_u16(), status, "{what}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{what}"
        );
        if status == 405 {
            assert!(
                response.headers().contains_key("allow"),
                "{what}: no Allow header"
            );
        }
        if status == 401 {
            assert_eq!(response.headers()["www-authenticate"], "Bearer", "{what}");
        }
        let problem: Value = response.json().await.expect("JSON");
        assert_eq!(problem["type"], format!("/problems/{slug}"), "{what}");
        assert_eq!(problem["status"], status, "{what}");
        assert!(
            problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{what}"
        );
    }

    // Nothing was written by any of it.
    assert_eq!(app.head().await, (0, "0".repeat(64)));
    let page = app.get_json("/api/v1/decisions", Some(&app.auditor)).await;
    assert_eq!(page["items"], json!([]));

    // The same secretariat token may record for its own body.
    let own = with(|r| r["body"] = json!("planning-committee"));
    assert_eq!(app.post_decision(&clerk, &own).await.status(), 201);
    // The scheme name is case-insensitive (RFC 9110).
    let lower = app
        .client
        .post(&url)
        .header("authorization", format!("bearer {clerk}"))
        .json(&own)
        .send()
        .await
        .expect("request");
    assert_eq!(lower.status(), 201);
    assert_eq!(app.check_log().await, 2);
}

/// The field of each error of a 422 answer, sorted.
fn named_fields(status: u16, problem: &Value) -> Vec<String> {
    assert_eq!(status, 422, "{problem:#}");
    assert_eq!(problem["type"], "/problems/validation", "{problem:#}");
    let mut fields: Vec<String> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field").to_owned())
        .collect();
    fields.sort();
    fields
}

async fn one_refusal_names_every_problem(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    // A type error, an unknown value at the top and deep inside, and a date in the future: the
    // semantic check of one field is not hidden by the parse errors of others.
    let record = with(|r| {
        r["reasons"] = json!(42);
        r["decision_type"] = json!("executive");
        r["participants"][2]["role"] = json!("executive");
        r["decided_on"] = json!("2199-01-01");
        // Dates that would come before it are a further (true) problem: left out here.
        let r = r.as_object_mut().expect("object");
        r.remove("review_on");
        r.remove("effective_from");
    });
    let response = app.post_decision(&app.clerk, &record).await;
    let status = response.status().as_u16();
    let problem: Value = response.json().await.expect("JSON");
    assert_eq!(
        named_fields(status, &problem),
        [
            "decided_on",
            "decision_type",
            "participants[2].role",
            "reasons"
        ]
    );
    let future = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .find(|e| e["field"] == "decided_on")
        .expect("decided_on");
    assert_eq!(
        future["message"], "must not be in the future",
        "{problem:#}"
    );

    // An unregistered body is named as such, with the record's other problems, whichever bodies
    // the token is scoped to; a registered body the token may not write for is still a 403.
    let planning = app
        .token("planning-only", Role::Secretariat, &["planning-committee"])
        .await;
    for token in [&app.clerk, &planning] {
        let record = with(|r| {
            r["body"] = json!("nowhere");
            r["title"] = json!(" ");
        });
        let response = app.post_decision(token, &record).await;
        let status = response.status().as_u16();
        let problem: Value = response.json().await.expect("JSON");
        assert_eq!(named_fields(status, &problem), ["body", "title"]);
        let body = problem["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .find(|e| e["field"] == "body")
            .expect("body");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("no body \"nowhere\" is registered")),
            "{problem:#}"
        );
    }
    let cabinet = with(|r| r["body"] = json!("cabinet"));
    assert_eq!(app.post_decision(&planning, &cabinet).await.status(), 403);

    // Lineage and registry bodies: every member named, by its path.
    let recorded = app.record(&decision(1)).await;
    let id = recorded["id"].as_str().expect("id");
    let (status, problem) = app
        .lineage(
            id,
            "outcomes",
            &app.clerk,
            json!({"status": "executive", "evidence": [{"title": "x", "uri": "https://x.example", "sha256": 7}], "next_review_on": "2300-01-01", "colour": "blue"}),
        )
        .await;
    assert_eq!(
        named_fields(status, &problem),
        [
            "colour",
            "evidence[0].sha256",
            "narrative",
            "next_review_on",
            "status"
        ]
    );
    let (status, problem) = app
        .post(
            "/api/v1/bodies",
            Some(&app.admin),
            &json!({"kind": "executive"}),
        )
        .await;
    assert_eq!(named_fields(status, &problem), ["kind", "name", "slug"]);
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("unknown variant `executive`")),
        "{problem:#}"
    );
    let (status, problem) = app
        .post(
            "/api/v1/bodies/cabinet/members",
            Some(&app.admin),
            &json!({"name": "Cllr A. Patel", "role": "chair", "from": "2300-01-01", "until": 3}),
        )
        .await;
    assert_eq!(named_fields(status, &problem), ["from", "until"]);
    assert_eq!(app.check_log().await, 1);
}

async fn health_probes_answer(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for path in ["/health/live", "/health/ready"] {
        assert_eq!(app.get_json(path, None).await, json!({"status": "ok"}));
    }
}
