//! The permissions matrix: every role against every operation, for its own body and another's,
//! with the exact status — and on every refusal, proof that nothing was written.

use decision_log::store::{Power, Role};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, decision};
use crate::on_both_backends;

on_both_backends!(every_role_against_every_operation);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    Staff,
    Auditor,
    Admin,
    /// A secretariat token for `cabinet`, the body every target decision belongs to.
    OwnSecretariat,
    /// A secretariat token for `planning-committee` only.
    OtherSecretariat,
    Eraser,
    Publisher,
}

const EVERYONE: [Who; 8] = [
    Who::Anonymous,
    Who::Staff,
    Who::Auditor,
    Who::Admin,
    Who::OwnSecretariat,
    Who::OtherSecretariat,
    Who::Eraser,
    Who::Publisher,
];

#[derive(Debug, Clone, Copy)]
enum Op {
    CreateDecision,
    Amend,
    Outcome,
    CallIn,
    Rescind,
    Supersede,
    Redact,
    Publish,
    CreateBody,
    UpdateBody,
    AddMember,
    EndMembership,
    CreateToken,
    RevokeToken,
    ListTokens,
}

const OPS: [Op; 15] = [
    Op::CreateDecision,
    Op::Amend,
    Op::Outcome,
    Op::CallIn,
    Op::Rescind,
    Op::Supersede,
    Op::Redact,
    Op::Publish,
    Op::CreateBody,
    Op::UpdateBody,
    Op::AddMember,
    Op::EndMembership,
    Op::CreateToken,
    Op::RevokeToken,
    Op::ListTokens,
];

/// The one role each operation is for, and the status it answers that role.
fn allowed(op: Op) -> (Who, u16) {
    match op {
        Op::CreateDecision | Op::Amend | Op::Outcome | Op::CallIn | Op::Rescind | Op::Supersede => {
            (Who::OwnSecretariat, 201)
        }
        Op::Redact => (Who::Eraser, 201),
        Op::Publish => (Who::Publisher, 201),
        Op::CreateBody | Op::AddMember | Op::CreateToken => (Who::Admin, 201),
        Op::UpdateBody | Op::EndMembership | Op::RevokeToken | Op::ListTokens => (Who::Admin, 200),
    }
}

/// Everything a refused request could have changed.
async fn written(app: &TestApp, target: Option<&str>) -> Value {
    let target = match target {
        Some(id) => {
            app.get_json(&format!("/api/v1/decisions/{id}"), Some(&app.auditor))
                .await
        }
        None => Value::Null,
    };
    let tokens: Vec<String> = app
        .store
        .list_tokens()
        .await
        .expect("tokens")
        .into_iter()
        .map(|t| format!("{}:{:?}", t.name, t.revoked_at))
        .collect();
    json!({
        "head": app.get_json("/api/v1/log/head", None).await["tree_size"],
        "bodies": app.get_json("/api/v1/bodies", None).await,
        "cabinet": app.get_json("/api/v1/bodies/cabinet", None).await,
        "planning": app.get_json("/api/v1/bodies/planning-committee", None).await,
        "tokens": tokens,
        "target": target,
    })
}

async fn every_role_against_every_operation(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let secrets = [
        (Who::Staff, app.token("staff", Role::Staff, &[]).await),
        (Who::Auditor, app.auditor.clone()),
        (Who::Admin, app.admin.clone()),
        (
            Who::OwnSecretariat,
            app.token("cabinet-clerk", Role::Secretariat, &["cabinet"])
                .await,
        ),
        (
            Who::OtherSecretariat,
            app.token("planning-clerk", Role::Secretariat, &["planning-committee"])
                .await,
        ),
        (
            Who::Eraser,
            app.token_with("dpo", Role::Redactor, &[], &[Power::Erase])
                .await,
        ),
        (
            Who::Publisher,
            app.token_with("publisher", Role::Redactor, &[], &[Power::Publish])
                .await,
        ),
    ];
    let secret = |who: Who| {
        secrets
            .iter()
            .find(|(w, _)| *w == who)
            .map(|(_, s)| s.as_str())
    };
    let today = chrono::Utc::now().date_naive().to_string();
    let mut n = 0usize;
    let mut cells = 0;
    for op in OPS {
        for who in EVERYONE {
            n += 1;
            // A fresh target for each cell, so an allowed write never meets a changed state.
            let mut target = None;
            let (method, path, body) = match op {
                Op::CreateDecision => (Method::POST, "/api/v1/decisions".to_owned(), decision(n)),
                Op::Amend
                | Op::Outcome
                | Op::CallIn
                | Op::Rescind
                | Op::Supersede
                | Op::Redact
                | Op::Publish => {
                    let mut record = decision(n);
                    if matches!(op, Op::Publish) {
                        record["classification"] = json!("internal");
                    }
                    let id = app.record(&record).await["id"]
                        .as_str()
                        .expect("id")
                        .to_owned();
                    let (what, body) = match op {
                        Op::Amend => (
                            "amendments",
                            json!({"changes": {"title": format!("Amended {n}")}, "reason": "r"}),
                        ),
                        Op::Outcome => {
                            ("outcomes", json!({"status": "on_track", "narrative": "n"}))
                        }
                        Op::CallIn => ("call-in", json!({"status": "called_in", "on": today})),
                        Op::Rescind => ("rescission", json!({"reason": "r"})),
                        Op::Supersede => {
                            let successor = app.record(&decision(n + 10_000)).await;
                            (
                                "supersession",
                                json!({"superseded_by": successor["id"], "reason": "r"}),
                            )
                        }
                        Op::Redact => (
                            "redactions",
                            json!({"path": "/participants/2/name", "basis": "UK GDPR Art. 17", "authorised_by": "Data Protection Officer", "reason": "r"}),
                        ),
                        _ => ("publication", json!({"reason": "r"})),
                    };
                    let path = format!("/api/v1/decisions/{id}/{what}");
                    target = Some(id);
                    (Method::POST, path, body)
                }
                Op::CreateBody => (
                    Method::POST,
                    "/api/v1/bodies".to_owned(),
                    json!({"slug": format!("panel-{n}"), "name": "A panel", "kind": "panel"}),
                ),
                Op::UpdateBody => (
                    Method::PUT,
                    "/api/v1/bodies/planning-committee".to_owned(),
                    json!({"name": format!("Planning Committee ({n})"), "kind": "committee"}),
                ),
                Op::AddMember => (
                    Method::POST,
                    "/api/v1/bodies/cabinet/members".to_owned(),
                    json!({"name": format!("Member {n}"), "role": "member", "from": "2026-05-21"}),
                ),
                Op::EndMembership => {
                    let (status, member) = app
                        .post(
                            "/api/v1/bodies/cabinet/members",
                            Some(&app.admin),
                            &json!({"name": format!("Leaver {n}"), "role": "member", "from": "2026-05-21"}),
                        )
                        .await;
                    assert_eq!(status, 201);
                    let id = member["id"].as_str().expect("id");
                    (
                        Method::POST,
                        format!("/api/v1/bodies/cabinet/members/{id}/end"),
                        json!({"until": "2026-11-01"}),
                    )
                }
                Op::CreateToken => (
                    Method::POST,
                    "/api/v1/tokens".to_owned(),
                    json!({"name": format!("reader-{n}"), "role": "staff"}),
                ),
                Op::RevokeToken => {
                    let name = format!("leaving-{n}");
                    app.token(&name, Role::Staff, &[]).await;
                    (
                        Method::DELETE,
                        format!("/api/v1/tokens/{name}"),
                        Value::Null,
                    )
                }
                Op::ListTokens => (Method::GET, "/api/v1/tokens".to_owned(), Value::Null),
            };
            let before = written(&app, target.as_deref()).await;
            let mut request = app.client.request(method.clone(), app.url(&path));
            if !body.is_null() {
                request = request.json(&body);
            }
            if who != Who::Anonymous {
                request = request.bearer_auth(secret(who).expect("secret"));
            }
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            let (allowed_who, allowed_status) = allowed(op);
            let expected = if who == allowed_who {
                allowed_status
            } else if who == Who::Anonymous {
                401
            } else {
                403
            };
            let answer = response.text().await.expect("body");
            assert_eq!(status, expected, "{op:?} as {who:?}: {answer}");
            if expected >= 400 {
                let problem: Value = serde_json::from_str(&answer).expect("problem+json");
                assert_eq!(problem["status"], expected, "{op:?} as {who:?}");
                assert_eq!(
                    written(&app, target.as_deref()).await,
                    before,
                    "{op:?} as {who:?} was refused but wrote something"
                );
            }
            cells += 1;
        }
    }
    assert_eq!(cells, OPS.len() * EVERYONE.len());

    // Reads: a restricted cabinet decision is listed to everyone, its content only to those
    // cleared for it, and its non-public disclosures likewise.
    let mut restricted = decision(0);
    restricted["classification"] = json!("restricted");
    restricted["title"] = json!("Purchase of 14 Mill Lane");
    restricted["exemption"] = json!({"paragraph": 3, "public_interest_reason": "Price under negotiation.", "public_summary": "A property purchase."});
    let created = app.record(&restricted).await;
    let id = created["id"].as_str().expect("id");
    let leaf = created["receipt"]["leaf_index"].as_u64().expect("leaf");
    for who in EVERYONE {
        let token = secret(who);
        let read = app
            .get_json(&format!("/api/v1/decisions/{id}"), token)
            .await;
        let cleared = matches!(
            who,
            Who::Auditor | Who::OwnSecretariat | Who::Eraser | Who::Publisher
        );
        assert_eq!(read["record"].is_object(), cleared, "{who:?}");
        assert_eq!(read["withheld"].is_object(), !cleared, "{who:?}");
        assert_eq!(
            read.to_string().contains("Mill Lane"),
            cleared,
            "{who:?}: {read}"
        );
        let listed = app.get_json("/api/v1/decisions?limit=1", token).await;
        assert_eq!(listed["items"][0]["id"], id, "{who:?}");
        assert_eq!(listed["items"][0]["record"].is_object(), cleared, "{who:?}");
        let entry = app
            .get_json(&format!("/api/v1/log/entries/{leaf}"), token)
            .await;
        let disclosed = entry["disclosures"].as_array().expect("disclosures").len();
        // The log's endpoints do not look up bodies: only auditors and redactors are served
        // restricted disclosures there.
        let log_cleared = matches!(who, Who::Auditor | Who::Eraser | Who::Publisher);
        assert_eq!(disclosed > 0, log_cleared, "{who:?}: {disclosed}");
        // A receipt is about one decision: whoever may read it gets its disclosures.
        let receipt = app
            .get_json(&format!("/api/v1/decisions/{id}/receipt"), token)
            .await;
        let in_receipt = receipt["entries"][0]["disclosures"]
            .as_array()
            .expect("disclosures")
            .len();
        assert_eq!(in_receipt > 0, cleared, "{who:?}: receipt {in_receipt}");
        for path in ["/api/v1/bodies", "/api/v1/bodies/cabinet"] {
            assert_eq!(
                app.get(path, token).await.status(),
                200,
                "{path} as {who:?}"
            );
        }
    }
    app.check_log().await;
}
