//! Liveness and readiness probes for orchestrators and load balancers.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiError, AppState};

/// A probe's answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the probe succeeds.
    #[schema(example = "ok")]
    pub status: String,
}

/// The process is up.
#[utoipa::path(
    get, path = "/health/live", tag = "health", operation_id = "getLiveness",
    responses((status = 200, description = "The process is serving requests", body = Health))
)]

pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".into(),
    })
}

/// The database answers and the log head can be read.
#[utoipa::path(
    get, path = "/health/ready", tag = "health", operation_id = "getReadiness",
    responses(
        (status = 200, description = "Ready to serve reads and writes", body = Health),
        (status = 503, description = "The database cannot be reached or the log head is missing", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]

pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state
        .store
        .ping()
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    state.store.head().await?;
    Ok(HttpResponse::Ok().json(Health {
        status: "ok".into(),
    }))
}
