//! `/api/v1/log`: the log itself, for auditors and mirrors.
//!
//! Entries are served as their canonical JSON objects with the stored entry hash and the
//! disclosures the caller may see. Re-canonicalising an entry object gives back its exact bytes
//! (RFC 8785 is idempotent), so a client can recompute every hash from these responses.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::error::Problem;
use super::{ApiError, AppState};
use crate::store::StoredEntry;

/// The most entries one page returns.
pub const MAX_ENTRIES: u64 = 1000;

/// Size and head of the log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogHead {
    /// Number of entries.
    pub tree_size: u64,
    /// Entry hash of the last entry; 64 zeros for an empty log.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub head_hash: String,
}

/// A salted value that opens one commitment in an entry's record.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = Disclosure)]
pub struct DisclosureDto {
    /// JSON Pointer of the committed value inside the entry's `record`.
    #[schema(example = "/participants/0/name")]
    pub path: String,
    /// 128 random bits, lowercase hex.
    #[schema(pattern = "^[0-9a-f]{32}$")]
    pub salt: String,
    /// The committed value.
    pub value: Value,
}

/// One log entry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogEntry {
    /// Its position.
    pub leaf_index: u64,
    /// SHA-256(0x00 ‖ RFC 8785 canonical bytes of `entry`).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub entry_hash: String,
    /// The entry (format 1, see docs/log-format.md).
    pub entry: Value,
    /// The disclosures the caller may see; erased or withheld ones are absent.
    pub disclosures: Vec<DisclosureDto>,
}

/// A run of consecutive entries.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogEntryPage {
    /// The entries, in order.
    pub entries: Vec<LogEntry>,
    /// The `from` of the next page; absent when this page reaches the head.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_from: Option<u64>,
}

/// Which entries to read.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntriesQuery {
    /// First leaf index (default 0).
    pub from: Option<u64>,
    /// How many, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
}

fn to_dto(stored: StoredEntry, caller: &Caller) -> Result<LogEntry, ApiError> {
    let entry = serde_json::from_slice(&stored.canonical).map_err(|e| {
        ApiError::LogInconsistent(format!(
            "leaf {}: stored entry is not JSON: {e}",
            stored.leaf_index
        ))
    })?;
    Ok(LogEntry {
        leaf_index: stored.leaf_index,
        entry_hash: stored.entry_hash.to_hex(),
        entry,
        disclosures: stored
            .disclosures
            .into_iter()
            .filter(|(_, visibility)| caller.may_see(visibility))
            .map(|(d, _)| DisclosureDto {
                path: d.path,
                salt: d.salt,
                value: d.value,
            })
            .collect(),
    })
}

/// The log's size and head hash.
#[utoipa::path(
    get, path = "/api/v1/log/head", tag = "log", operation_id = "getLogHead",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Size and head hash", body = LogHead),
        (status = 401, description = "A bearer token was given but is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "An unexpected server error; the cause is logged, not sent", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable or the log inconsistent; retry after the `Retry-After` seconds", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_head(
    state: web::Data<AppState>,
    _caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let head = state.store.head().await?;
    Ok(HttpResponse::Ok().json(LogHead {
        tree_size: head.tree_size,
        head_hash: head.head_hash.to_hex(),
    }))
}

/// A run of entries, in order.
#[utoipa::path(
    get, path = "/api/v1/log/entries", tag = "log", operation_id = "listLogEntries",
    params(EntriesQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Entries from `from`, at most `limit`", body = LogEntryPage),
        (status = 400, description = "`from` or `limit` is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A bearer token was given but is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "An unexpected server error; the cause is logged, not sent", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable or the log inconsistent; retry after the `Retry-After` seconds", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_entries(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<EntriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let from = query.from.unwrap_or(0);
    let limit = query.limit.unwrap_or(100);
    if !(1..=MAX_ENTRIES).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_ENTRIES}"
        )));
    }
    let head = state.store.head().await?;
    let stored = state
        .store
        .entries(from, limit.min(head.tree_size.saturating_sub(from)))
        .await?;
    let entries = stored
        .into_iter()
        .map(|s| to_dto(s, &caller))
        .collect::<Result<Vec<_>, _>>()?;
    let next = from.saturating_add(entries.len() as u64);
    let next_from = (next < head.tree_size && !entries.is_empty()).then_some(next);
    Ok(HttpResponse::Ok().json(LogEntryPage { entries, next_from }))
}

/// One entry.
#[utoipa::path(
    get, path = "/api/v1/log/entries/{leaf_index}", tag = "log", operation_id = "getLogEntry",
    params(("leaf_index" = u64, Path, description = "Position in the log, 0-based")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The entry, its hash and the disclosures the caller may see", body = LogEntry),
        (status = 401, description = "A bearer token was given but is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The log is not that long", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "An unexpected server error; the cause is logged, not sent", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable or the log inconsistent; retry after the `Retry-After` seconds", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_entry(
    state: web::Data<AppState>,
    caller: Caller,
    leaf_index: web::Path<u64>,
) -> Result<HttpResponse, ApiError> {
    let stored = state
        .store
        .entry(*leaf_index)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no entry at leaf index {leaf_index}")))?;
    Ok(HttpResponse::Ok().json(to_dto(stored, &caller)?))
}
