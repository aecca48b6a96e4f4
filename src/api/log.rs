//! `/api/v1/log`: the log itself, for auditors and mirrors.
//!
//! Entries are served as their stored canonical bytes, verbatim — the same bytes the tile entry
//! bundles hold — with the stored entry hash and the disclosures the caller may see, so a client
//! recomputes every hash from exactly what was stored. A page of entries is read in one snapshot
//! with the head: its `tree_size` says which erasures and publications its disclosures reflect.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::error::Problem;
use super::position::Position;
use super::{ApiError, AppState};
use crate::receipt::DisclosureDto;
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

/// One log entry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogEntry {
    /// Its position.
    pub leaf_index: u64,
    /// SHA-256(0x00 ‖ RFC 8785 canonical bytes of `entry`).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub entry_hash: String,
    /// The entry (see docs/log-format.md §3): its stored RFC 8785 canonical bytes, verbatim.
    #[schema(value_type = Object)]
    pub entry: Box<RawValue>,
    /// The disclosures the caller may see; erased or withheld ones are absent.
    pub disclosures: Vec<DisclosureDto>,
}

/// A run of consecutive entries.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogEntryPage {
    /// The entries, in order.
    pub entries: Vec<LogEntry>,
    /// The log's size when this page was read (in the same snapshot): its disclosures reflect
    /// exactly the erasures and publications among the first `tree_size` entries.
    pub tree_size: u64,
    /// Pass as `cursor` to get the next page: the position of its first entry, in decimal.
    /// Absent (never `null`) when this page reaches `tree_size`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^(0|[1-9][0-9]{0,18})$")]
    pub next_cursor: Option<String>,
}

/// Which entries to read.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntriesQuery {
    /// Seek: the first leaf index (default 0). Not with `cursor`.
    #[param(value_type = Option<u64>, maximum = 9223372036854775807_u64)]
    pub from: Option<Position>,
    /// The `next_cursor` of the previous page. Not with `from`.
    #[param(value_type = Option<String>, pattern = "^(0|[1-9][0-9]{0,18})$")]
    pub cursor: Option<Position>,
    /// How many, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
}

/// The served form of `stored`, with the disclosures whose visibility `may_see` admits.
pub(crate) fn to_dto(
    stored: StoredEntry,
    may_see: impl Fn(&str) -> bool,
) -> Result<LogEntry, ApiError> {
    // Served as stored: a verifier must see the bytes that were hashed, not a re-encoding.
    let entry = String::from_utf8(stored.canonical)
        .ok()
        .and_then(|text| RawValue::from_string(text).ok())
        .ok_or_else(|| {
            ApiError::LogInconsistent(format!(
                "leaf {}: stored entry is not JSON",
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
            .filter(|(_, visibility)| may_see(visibility))
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
        (status = 200, description = "Entries from `from` (or the cursor), at most `limit`", body = LogEntryPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` (RFC 8288): the next page, when there is one"))),
        (status = 400, description = "`from`, `cursor` or `limit` is malformed, or both `from` and `cursor` are given", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A bearer token was given but is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "An unexpected server error; the cause is logged, not sent", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable or the log inconsistent; retry after the `Retry-After` seconds", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_entries(
    state: web::Data<AppState>,
    caller: Caller,
    request: actix_web::HttpRequest,
    query: web::Query<EntriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let from = match (query.from, query.cursor) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "give from (a seek) or cursor (the next page), not both".into(),
            ));
        }
        (from, cursor) => from.or(cursor).map_or(0, Position::get),
    };
    let limit = query.limit.unwrap_or(100);
    if !(1..=MAX_ENTRIES).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_ENTRIES}"
        )));
    }
    let (head, stored) = state.store.entries_at_head(from, limit).await?;
    let entries = stored
        .into_iter()
        .map(|s| to_dto(s, |v| caller.may_see(v)))
        .collect::<Result<Vec<_>, _>>()?;
    let next = from.saturating_add(entries.len() as u64);
    let next_cursor = (next < head.tree_size && !entries.is_empty()).then(|| next.to_string());
    let mut response = HttpResponse::Ok();
    if let Some(cursor) = &next_cursor {
        response.insert_header((
            actix_web::http::header::LINK,
            super::paging::next_link(&request, cursor),
        ));
    }
    Ok(response.json(LogEntryPage {
        entries,
        tree_size: head.tree_size,
        next_cursor,
    }))
}

/// One entry.
#[utoipa::path(
    get, path = "/api/v1/log/entries/{leaf_index}", tag = "log", operation_id = "getLogEntry",
    params(("leaf_index" = u64, Path, maximum = 9223372036854775807_u64, description = "Position in the log, 0-based")),
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
    leaf_index: web::Path<Position>,
) -> Result<HttpResponse, ApiError> {
    let leaf_index = leaf_index.into_inner().get();
    let stored = state
        .store
        .entry(leaf_index)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no entry at leaf index {leaf_index}")))?;
    Ok(HttpResponse::Ok().json(to_dto(stored, |v| caller.may_see(v))?))
}

/// Which inclusion proof.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    /// The leaf to prove.
    #[param(value_type = u64, maximum = 9223372036854775807_u64)]
    pub leaf_index: Position,
    /// The tree to prove it in (default: the latest checkpoint's size); larger than
    /// `leaf_index`, and no larger than the log.
    #[param(value_type = Option<u64>, minimum = 1, maximum = 9223372036854775807_u64)]
    pub tree_size: Option<Position>,
}

/// An RFC 9162 inclusion proof.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InclusionProofDto {
    /// The leaf proved.
    pub leaf_index: u64,
    /// The size of the tree it is proved in.
    pub tree_size: u64,
    /// The leaf's hash: its entry hash.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub leaf_hash: String,
    /// The root of the tree of `tree_size` leaves.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub root_hash: String,
    /// Proof hashes from the leaf's sibling up to the root's child.
    #[schema(value_type = Vec<String>, pattern = "^[0-9a-f]{64}$")]
    pub hashes: Vec<String>,
}

/// Which consistency proof.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The older tree size: 1 or more (every tree extends the empty one, so there is no proof
    /// from 0), and no larger than `to`.
    #[param(value_type = u64, minimum = 1, maximum = 9223372036854775807_u64)]
    pub from: Position,
    /// The newer tree size (default: the latest checkpoint's size), no larger than the log.
    #[param(value_type = Option<u64>, minimum = 1, maximum = 9223372036854775807_u64)]
    pub to: Option<Position>,
}

/// An RFC 9162 consistency proof.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConsistencyProofDto {
    /// The older tree size.
    pub from: u64,
    /// The newer tree size.
    pub to: u64,
    /// Root of the older tree.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub from_root: String,
    /// Root of the newer tree.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub to_root: String,
    /// Proof hashes, in RFC 9162 order.
    #[schema(value_type = Vec<String>, pattern = "^[0-9a-f]{64}$")]
    pub hashes: Vec<String>,
}

pub(crate) fn hex_all(hashes: &[ledger::Hash]) -> Vec<String> {
    hashes.iter().map(ledger::Hash::to_hex).collect()
}

/// The newest checkpoint, signing one first if the tree has grown past it.
pub(crate) async fn current_checkpoint(
    state: &AppState,
) -> Result<crate::store::StoredCheckpoint, ApiError> {
    Ok(state
        .store
        .sign_checkpoint(&state.signer, (state.clock)())
        .await?)
}

fn tree_error(error: crate::store::TreeRequestError) -> ApiError {
    ApiError::BadRequest(error.to_string())
}

/// The latest signed checkpoint.
///
/// A C2SP tlog-checkpoint signed note: origin, tree size and base64 root, a blank line, and one
/// Ed25519 signature line per key. Verify it with the key from `GET /api/v1/log/key`.
#[utoipa::path(
    get, path = "/api/v1/log/checkpoint", tag = "log", operation_id = "getCheckpoint",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The signed checkpoint note", content_type = "text/plain; charset=utf-8", body = String,
            example = "decisions.example.gov.uk/log\n4\nKvBVmlSM2b0nCBYsaYkFP4gY3A6jbK8kwpeYGmqTdMo=\n\n— decisions.example.gov.uk/log Az3grlgtzBfLTDpbNJp1jdBgm/qBX4Ls0tS2lEu8SUYvt5zBuDkM2oEPeNEgYUcFsmASAJw0UKmlaq+q05WqtVxdAGw=\n"),
        (status = 500, description = "An unexpected server error; the cause is logged, not sent", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable; retry after the `Retry-After` seconds", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A bearer token was given but is not valid, or this deployment does not allow anonymous reading", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_checkpoint(
    state: web::Data<AppState>,
    _caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let checkpoint = state
        .store
        .latest_checkpoint()
        .await?
        .ok_or_else(|| ApiError::Unavailable("no checkpoint has been signed yet".into()))?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header(("Cache-Control", "max-age=1"))
        .body(checkpoint.note))
}

/// The log's verifier key.
///
/// The C2SP signed-note verifier key (`name+keyid+base64`) that checkpoints are signed with.
/// Auditors SHOULD obtain it out of band and compare.
#[utoipa::path(
    get, path = "/api/v1/log/key", tag = "log", operation_id = "getVerifierKey",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The verifier key, one line", content_type = "text/plain; charset=utf-8", body = String,
            example = "decisions.example.gov.uk/log+8a3f1c2d+AXcR9bE0mbK0b4Qa3Vd4m6mVzZ7dW6V3dcd2jyTqC7U1\n"),
        (status = 401, description = "A bearer token was given but is not valid, or this deployment does not allow anonymous reading", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_key(state: web::Data<AppState>, _caller: Caller) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(format!("{}\n", state.vkey))
}

/// An inclusion proof for one leaf.
#[utoipa::path(
    get, path = "/api/v1/log/proofs/inclusion", tag = "log", operation_id = "getInclusionProof",
    params(InclusionQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The proof, with the leaf hash and the root it leads to", body = InclusionProofDto),
        (status = 400, description = "The leaf is not in a tree of that size, or the tree is larger than the log", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "An unexpected server error; the cause is logged, not sent", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable or the log inconsistent; retry after the `Retry-After` seconds", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A bearer token was given but is not valid, or this deployment does not allow anonymous reading", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_inclusion_proof(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<InclusionQuery>,
) -> Result<HttpResponse, ApiError> {
    let tree_size = match query.tree_size {
        Some(size) => size.get(),
        None => current_checkpoint(&state).await?.tree_size,
    };
    let proof = state
        .store
        .inclusion_proof(query.leaf_index.get(), tree_size)
        .await?
        .map_err(tree_error)?;
    Ok(HttpResponse::Ok().json(InclusionProofDto {
        leaf_index: proof.leaf_index,
        tree_size: proof.tree_size,
        leaf_hash: proof.leaf_hash.to_hex(),
        root_hash: proof.root_hash.to_hex(),
        hashes: hex_all(&proof.hashes),
    }))
}

/// A consistency proof between two tree sizes.
#[utoipa::path(
    get, path = "/api/v1/log/proofs/consistency", tag = "log", operation_id = "getConsistencyProof",
    params(ConsistencyQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The proof, with both roots", body = ConsistencyProofDto),
        (status = 400, description = "`from` is larger than `to`, or `to` is larger than the log", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "An unexpected server error; the cause is logged, not sent", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable or the log inconsistent; retry after the `Retry-After` seconds", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A bearer token was given but is not valid, or this deployment does not allow anonymous reading", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_consistency_proof(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<ConsistencyQuery>,
) -> Result<HttpResponse, ApiError> {
    let to = match query.to {
        Some(size) => size.get(),
        None => current_checkpoint(&state).await?.tree_size,
    };
    let proof = state
        .store
        .consistency_proof(query.from.get(), to)
        .await?
        .map_err(tree_error)?;
    Ok(HttpResponse::Ok().json(ConsistencyProofDto {
        from: proof.from,
        to: proof.to,
        from_root: proof.from_root.to_hex(),
        to_root: proof.to_root.to_hex(),
        hashes: hex_all(&proof.hashes),
    }))
}
