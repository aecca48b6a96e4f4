//! `GET /metrics`: the service's metrics for Prometheus (see [`crate::metrics`]).
//!
//! Served to anyone, like the health probes: scrapers rarely hold tokens, and it carries only
//! counts, sizes, timings and route patterns — no decision, identifier, token or path a client
//! sent. A deployment that wants it private blocks `/metrics` at its proxy.

use actix_web::{HttpResponse, web};

use super::AppState;
use crate::metrics::{self, Gauges, HttpMetrics};

/// The service's metrics in the Prometheus text exposition format.
#[utoipa::path(
    get, path = "/metrics", tag = "health", operation_id = "getMetrics",
    security(()),
    responses((
        status = 200,
        description = "Prometheus text exposition format 0.0.4: HTTP requests and their latency by route pattern, method and status; appends by entry kind and their latency; the tree size and the newest checkpoint's size and age; database pool use. Reading it costs a few counters and two one-row reads.",
        body = String,
        content_type = "text/plain; version=0.0.4",
    ))
)]
pub async fn get_metrics(state: web::Data<AppState>, http: web::Data<HttpMetrics>) -> HttpResponse {
    let tree_size = match state.store.head().await {
        Ok(head) => Some(head.tree_size),
        Err(error) => {
            tracing::warn!(%error, "metrics: could not read the log head");
            None
        }
    };
    let checkpoint = match state.store.latest_checkpoint_signed().await {
        Ok(latest) => latest.map(|(size, signed_at)| {
            let age = ((state.clock)() - signed_at).num_milliseconds().max(0) as f64 / 1e3;
            (size, age)
        }),
        Err(error) => {
            tracing::warn!(%error, "metrics: could not read the newest checkpoint");
            None
        }
    };
    let (pool_in_use, pool_idle, pool_max) = state.store.pool_use();
    let gauges = Gauges {
        tree_size,
        checkpoint,
        pool_in_use,
        pool_idle,
        pool_max,
        append_queue: state.store.append_queue_depth(),
    };
    HttpResponse::Ok()
        .content_type(metrics::CONTENT_TYPE)
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(metrics::render(
            &http,
            state.store.append_metrics(),
            &gauges,
        ))
}
