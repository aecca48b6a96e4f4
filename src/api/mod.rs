//! The HTTP API under `/api/v1`, its OpenAPI document, the health probes and `/metrics`.
//!
//! Handlers speak DTOs (this module's types and `record`'s), never database rows. Every route is
//! registered with [`resource`]: `OPTIONS` answers 204 with `Allow`, other unmatched methods 405
//! with `Allow`, and `HEAD` is served wherever `GET` is ([`head_as_get`]). Every refusal is an
//! [`ApiError`] rendered as problem+json.

pub mod auth;
pub mod body;
pub mod contract;
pub mod decisions;
pub mod error;
pub mod health;
pub mod idempotency;
pub mod lineage;
pub mod log;
pub mod metrics;
pub mod paging;
pub mod position;
pub mod receipts;
pub mod registry;
pub mod spec;
pub mod tiles;

use actix_web::{HttpResponse, Resource, web};
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

use contract::Conventions;
pub use error::ApiError;
use spec::Limits;

use crate::store::{Clock, Store};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The log's database.
    pub store: Store,
    /// The server clock.
    pub clock: Clock,
    /// The log's signing key.
    pub signer: std::sync::Arc<ledger::note::Signer>,
    /// The log's verifier key (C2SP vkey text).
    pub vkey: String,
    /// Whether requests without a token may read public content.
    pub anonymous_read: bool,
    /// The name the pages carry.
    pub site_name: String,
    /// Where absolute links point.
    pub base_url: crate::base_url::BaseUrl,
    /// How long a write's body may take to arrive once it is read.
    pub body_read_timeout: std::time::Duration,
}

/// The OpenAPI document of this service.
#[derive(OpenApi)]
#[openapi(
    info(title = "decision-log"),
    paths(
        decisions::create_decision,
        decisions::list_decisions,
        decisions::get_decision,
        lineage::amend,
        lineage::report_outcome,
        lineage::call_in,
        lineage::rescind,
        lineage::supersede,
        lineage::redact,
        lineage::publish,
        registry::list_bodies,
        registry::create_body,
        registry::get_body,
        registry::update_body,
        registry::add_member,
        registry::end_member,
        registry::list_tokens,
        registry::create_token,
        registry::revoke_token,
        log::get_head,
        log::list_entries,
        log::get_entry,
        log::get_checkpoint,
        log::get_key,
        log::get_inclusion_proof,
        log::get_consistency_proof,
        receipts::get_receipt,
        receipts::get_tlog_proof,
        tiles::get_checkpoint,
        tiles::get_tile,
        health::live,
        health::ready,
        metrics::get_metrics,
    ),
    components(schemas(
        error::Problem,
        crate::record::FieldError,
        decisions::StatusFilter,
        decisions::DecisionOrder
    )),
    modifiers(&BearerAuth, &Limits, &Conventions),
    tags(
        (name = "decisions", description = "Record, list and read decisions"),
        (name = "lineage", description = "What happens to a decision after it is recorded: amendments, outcomes, call-in, rescission, supersession, erasure and publication, each a new log entry"),
        (name = "bodies", description = "The registry of deciding bodies and their members over time"),
        (name = "tokens", description = "API tokens and their roles (admin only)"),
        (name = "log", description = "The append-only log: entries, hashes, disclosures, checkpoints and proofs"),
        (name = "tlog-tiles", description = "The log as C2SP tlog-tiles, for standard transparency-log clients"),
        (name = "health", description = "Probes and metrics for orchestrators and monitoring"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.description = Some(
            "A token from `decision-log token create`, as `Authorization: Bearer dlt_…`".into(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The OpenAPI document as pretty JSON with a trailing newline: exactly `openapi/openapi.json`.
pub fn openapi_json() -> String {
    let mut text = ApiDoc::openapi().to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

/// The `Allow` header of a resource whose routes answer `methods` (`"GET, POST"`): `HEAD` with
/// `GET`, and `OPTIONS` always.
pub fn allow_header(methods: &str) -> String {
    let mut allow: Vec<&str> = Vec::new();
    for method in methods.split(',').map(str::trim) {
        allow.push(method);
        if method == "GET" {
            allow.push("HEAD");
        }
    }
    allow.push("OPTIONS");
    allow.join(", ")
}

/// A resource whose routes answer `methods`: `OPTIONS` answers 204 listing them in `Allow`, any
/// other method 405 listing them.
pub fn resource(path: &str, methods: &'static str) -> Resource {
    let allow = allow_header(methods);
    web::resource(path).default_service(web::to(move |request: actix_web::HttpRequest| {
        let allow = allow.clone();
        async move {
            if request.method() == actix_web::http::Method::OPTIONS {
                return Ok(HttpResponse::NoContent()
                    .insert_header((actix_web::http::header::ALLOW, allow))
                    .finish());
            }
            Err::<HttpResponse, _>(ApiError::MethodNotAllowed { allow })
        }
    }))
}

/// The middleware that serves `HEAD` as `GET` (RFC 9110 §9.3.2): the request is routed as a
/// `GET`, and the connection sends the answer's headers, `Content-Length` included, without its
/// body (the HTTP/1 and HTTP/2 encoders leave the body out of every answer to a `HEAD`).
pub async fn head_as_get(
    mut request: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    if request.method() == actix_web::http::Method::HEAD {
        request.head_mut().method = actix_web::http::Method::GET;
    }
    next.call(request).await
}

/// Registers every API route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::QueryConfig::default().error_handler(error::query_error))
        .app_data(web::PathConfig::default().error_handler(error::path_error))
        .service(
            resource("/api/v1/decisions", "GET, POST")
                .route(web::get().to(decisions::list_decisions))
                .route(web::post().to(decisions::create_decision)),
        )
        .service(
            resource("/api/v1/decisions/{id}", "GET").route(web::get().to(decisions::get_decision)),
        )
        .service(
            resource("/api/v1/decisions/{id}/amendments", "POST")
                .route(web::post().to(lineage::amend)),
        )
        .service(
            resource("/api/v1/decisions/{id}/outcomes", "POST")
                .route(web::post().to(lineage::report_outcome)),
        )
        .service(
            resource("/api/v1/decisions/{id}/call-in", "POST")
                .route(web::post().to(lineage::call_in)),
        )
        .service(
            resource("/api/v1/decisions/{id}/rescission", "POST")
                .route(web::post().to(lineage::rescind)),
        )
        .service(
            resource("/api/v1/decisions/{id}/supersession", "POST")
                .route(web::post().to(lineage::supersede)),
        )
        .service(
            resource("/api/v1/decisions/{id}/redactions", "POST")
                .route(web::post().to(lineage::redact)),
        )
        .service(
            resource("/api/v1/decisions/{id}/publication", "POST")
                .route(web::post().to(lineage::publish)),
        )
        .service(
            resource("/api/v1/bodies", "GET, POST")
                .route(web::get().to(registry::list_bodies))
                .route(web::post().to(registry::create_body)),
        )
        .service(
            resource("/api/v1/bodies/{slug}", "GET, PUT")
                .route(web::get().to(registry::get_body))
                .route(web::put().to(registry::update_body)),
        )
        .service(
            resource("/api/v1/bodies/{slug}/members", "POST")
                .route(web::post().to(registry::add_member)),
        )
        .service(
            resource("/api/v1/bodies/{slug}/members/{member_id}/end", "POST")
                .route(web::post().to(registry::end_member)),
        )
        .service(
            resource("/api/v1/tokens", "GET, POST")
                .route(web::get().to(registry::list_tokens))
                .route(web::post().to(registry::create_token)),
        )
        .service(
            resource("/api/v1/tokens/{name}", "DELETE")
                .route(web::delete().to(registry::revoke_token)),
        )
        .service(resource("/api/v1/log/head", "GET").route(web::get().to(log::get_head)))
        .service(resource("/api/v1/log/entries", "GET").route(web::get().to(log::list_entries)))
        .service(
            resource("/api/v1/log/entries/{leaf_index}", "GET")
                .route(web::get().to(log::get_entry)),
        )
        .service(
            resource("/api/v1/decisions/{id}/receipt", "GET")
                .route(web::get().to(receipts::get_receipt)),
        )
        .service(
            resource("/api/v1/decisions/{id}/receipt.tlog-proof", "GET")
                .route(web::get().to(receipts::get_tlog_proof)),
        )
        .service(
            resource("/api/v1/log/checkpoint", "GET").route(web::get().to(log::get_checkpoint)),
        )
        .service(resource("/api/v1/log/key", "GET").route(web::get().to(log::get_key)))
        .service(
            resource("/api/v1/log/proofs/inclusion", "GET")
                .route(web::get().to(log::get_inclusion_proof)),
        )
        .service(
            resource("/api/v1/log/proofs/consistency", "GET")
                .route(web::get().to(log::get_consistency_proof)),
        )
        .service(resource("/tlog/checkpoint", "GET").route(web::get().to(tiles::get_checkpoint)))
        .service(resource("/tlog/tile/{tile:.*}", "GET").route(web::get().to(tiles::get_tile)))
        .service(resource("/api/v1/openapi.json", "GET").route(web::get().to(serve_openapi)))
        .service(resource("/problems/{slug}", "GET").route(web::get().to(error::describe_problem)))
        .service(resource("/health/live", "GET").route(web::get().to(health::live)))
        .service(resource("/health/ready", "GET").route(web::get().to(health::ready)))
        .service(resource("/metrics", "GET").route(web::get().to(metrics::get_metrics)));
}

async fn serve_openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(openapi_json())
}
