//! The OpenAPI document: the committed file is what the server serves, and its examples work.

use std::path::Path;

use decision_log::store::{Power, Role};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, decision, run_cli};

fn committed() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json"))
        .expect("openapi/openapi.json is committed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_committed_spec_is_exactly_what_the_server_serves() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    let response = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(response.status(), 200);
    let served = response.text().await.expect("text");
    assert!(
        served == committed(),
        "openapi/openapi.json is stale: regenerate it with `cargo run -- openapi > openapi/openapi.json`"
    );
    let (code, printed, _) = run_cli(&["openapi"]);
    assert_eq!(code, 0);
    assert_eq!(
        printed, served,
        "`decision-log openapi` prints the served document"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_body_example_is_accepted_as_is() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    let redactor = app
        .token_with(
            "redactor",
            Role::Redactor,
            &[],
            &[Power::Erase, Power::Publish],
        )
        .await;
    let spec: Value = serde_json::from_str(&committed()).expect("JSON");
    let mut posted = 0;
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("operation") {
            let Some(example) = operation.pointer("/requestBody/content/application~1json/example")
            else {
                continue;
            };
            // Each lineage example gets a decision of its own (an internal one to publish).
            let mut url = path.replace("{slug}", "cabinet");
            if path.contains("{id}") {
                let mut record = decision(posted);
                if path.ends_with("/publication") {
                    record["classification"] = json!("internal");
                }
                let id = app.record(&record).await["id"]
                    .as_str()
                    .expect("id")
                    .to_owned();
                url = url.replace("{id}", &id);
            }
            let mut example = example.clone();
            if path.ends_with("/supersession") {
                // The example names a successor by id: record one to name.
                let successor = app.record(&decision(posted + 1000)).await;
                example["superseded_by"] = successor["id"].clone();
            }
            if path.contains("{member_id}") {
                // The example ends a membership: register one to end.
                let (status, member) = app
                    .post(
                        "/api/v1/bodies/cabinet/members",
                        Some(&app.admin),
                        &json!({"name": "Cllr B. Example", "role": "member", "from": "2026-01-05"}),
                    )
                    .await;
                assert_eq!(status, 201, "{member}");
                let member_id = member["id"].as_str().expect("member id").to_owned();
                url = url.replace("{member_id}", &member_id);
            }
            let token = match operation["tags"][0].as_str() {
                Some("bodies" | "tokens") => &app.admin,
                _ if path.ends_with("/redactions") || path.ends_with("/publication") => &redactor,
                _ => &app.clerk,
            };
            let request = app.client.request(
                method.to_uppercase().parse().expect("method"),
                app.url(&url),
            );
            let response = request
                .bearer_auth(token)
                .json(&example)
                .send()
                .await
                .expect("request");
            assert!(
                response.status().is_success(),
                "{method} {path}: {}",
                response.text().await.unwrap_or_default()
            );
            posted += 1;
        }
    }
    assert!(posted >= 1, "the spec has request examples");
    app.check_log().await;
}

#[test]
fn every_operation_documents_its_errors_and_has_an_operation_id() {
    let spec: Value = serde_json::from_str(&committed()).expect("JSON");
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("operation") {
            assert!(
                operation["operationId"].is_string(),
                "{method} {path} has no operationId"
            );
            let responses = operation["responses"].as_object().expect("responses");
            for (status, response) in responses {
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status}"
                );
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response
                            .pointer("/content/application~1problem+json")
                            .is_some(),
                        "{method} {path} {status} is not problem+json"
                    );
                }
            }
            if operation.get("parameters").is_some()
                || operation.get("requestBody").is_some()
                || path.contains("decisions")
            {
                assert!(
                    responses.keys().any(|s| s.starts_with('4')),
                    "{method} {path} documents no 4xx"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documentation_ui_is_served_without_any_external_asset() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let bare = client
        .get(app.url("/api/docs"))
        .send()
        .await
        .expect("request");
    assert_eq!(bare.status(), 308);
    assert_eq!(bare.headers()["location"], "/api/docs/");

    let page = app.get("/api/docs/", None).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("HTML");
    assert!(html.contains("swagger-ui"), "{html}");
    let mut assets = 0;
    for attribute in ["src=\"", "href=\""] {
        for part in html.split(attribute).skip(1) {
            let target = &part[..part.find('"').expect("closing quote")];
            assert!(
                !target.contains("://"),
                "the page loads {target} from elsewhere"
            );
            let response = app
                .get(
                    &format!("/api/docs/{}", target.trim_start_matches("./")),
                    None,
                )
                .await;
            assert_eq!(response.status(), 200, "{target}");
            assets += 1;
        }
    }
    assert!(
        assets >= 2,
        "the page's scripts and styles are served locally"
    );
    let initializer = app.get_json_text("/api/docs/swagger-initializer.js").await;
    assert!(
        initializer.contains("/api/v1/openapi.json"),
        "{initializer}"
    );
}
