//! `/api/v1/decisions`: record a decision, list them, read one.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use ledger::EntryKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::error::Problem;
use super::{ApiError, AppState};
use crate::record::{Classification, DecisionRecord, DecisionType, ParticipantRole};
use crate::store::{DecisionFilter, DecisionRow, NewEntry};

/// The most decisions one page returns.
pub const MAX_PAGE: u32 = 200;
const DEFAULT_PAGE: u32 = 50;

/// Where a decision sits in the log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Receipt {
    /// Position of the `decision.recorded` entry in the log (0-based).
    pub leaf_index: u64,
    /// Entry hash of that entry: SHA-256(0x00 ‖ canonical entry bytes).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub entry_hash: String,
    /// Entry hash of the entry before it (64 zeros for the first entry).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub prev_hash: String,
    /// Server time of the append, RFC 3339 UTC.
    #[schema(example = "2026-11-29T10:15:30.123Z")]
    pub recorded_at: String,
    /// Name of the token that recorded it.
    pub recorded_by: String,
}

/// A recorded decision with its place in the log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Decision {
    /// The decision's id (a UUIDv7, so ids sort by time of recording).
    pub id: uuid::Uuid,
    /// The record as submitted.
    pub record: DecisionRecord,
    /// Its place and hash in the log.
    pub receipt: Receipt,
}

impl From<DecisionRow> for Decision {
    fn from(row: DecisionRow) -> Decision {
        Decision {
            id: row.id,
            record: row.record,
            receipt: Receipt {
                leaf_index: row.leaf_index,
                entry_hash: row.entry_hash.to_hex(),
                prev_hash: row.prev_hash.to_hex(),
                recorded_at: row.recorded_at,
                recorded_by: row.recorded_by,
            },
        }
    }
}

/// One page of decisions, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DecisionPage {
    /// The decisions on this page.
    pub items: Vec<Decision>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Filters and paging for the decision list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only decisions of this body (slug).
    pub body: Option<String>,
    /// Only decisions of this type.
    pub decision_type: Option<DecisionType>,
    /// Only decisions of this classification (among those the caller may read).
    pub classification: Option<Classification>,
    /// Only decisions carrying this tag.
    pub tag: Option<String>,
    /// Only decisions made on or after this date.
    #[param(value_type = Option<String>, format = Date)]
    pub decided_from: Option<NaiveDate>,
    /// Only decisions made on or before this date.
    #[param(value_type = Option<String>, format = Date)]
    pub decided_to: Option<NaiveDate>,
    /// Only decisions where some participant held this role.
    pub participant_role: Option<ParticipantRole>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Record a decision.
///
/// Appends a `decision.recorded` entry to the log and returns the decision with its receipt.
/// Personal names are committed, not embedded, in the hashed entry; a record that is not public
/// also commits everything but its public face. Needs a token whose role may record for the
/// record's body.
#[utoipa::path(
    post, path = "/api/v1/decisions", tag = "decisions", operation_id = "createDecision",
    request_body(content = DecisionRecord, description = "The decision record", content_type = "application/json",
        example = json!(crate::record::example())),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded; `Location` names the new decision", body = Decision,
            headers(("Location" = String, description = "URL of the new decision"))),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may not record for this body", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body exceeds 1 MiB or the entry exceeds 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The record is not valid; `errors` names every offending field", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The log is inconsistent or the database unavailable; nothing was written", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "An unexpected server error; the cause is logged, not sent", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_decision(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let token = caller.require()?;
    let now = (state.clock)();
    let record =
        DecisionRecord::from_json(&body, now.date_naive()).map_err(ApiError::Validation)?;
    if !token.may_record_for(&record.body) {
        return Err(ApiError::Forbidden(format!(
            "token {:?} may not record decisions for body {:?}",
            token.name, record.body
        )));
    }
    let id = uuid::Uuid::now_v7();
    let (hashed, disclosures) = record.commit(rand::random);
    let (entry, entry_hash) = state
        .store
        .append(
            NewEntry {
                kind: EntryKind::DecisionRecorded,
                decision_id: id.to_string(),
                recorded_by: token.name,
                record: hashed,
                disclosures,
            },
            now,
        )
        .await?;
    let decision = Decision {
        id,
        record,
        receipt: Receipt {
            leaf_index: entry.leaf_index,
            entry_hash: entry_hash.to_hex(),
            prev_hash: entry.prev_hash.to_hex(),
            recorded_at: entry.recorded_at,
            recorded_by: entry.recorded_by,
        },
    };
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/decisions/{id}")))
        .json(decision))
}

/// List decisions.
///
/// Newest first, filtered, in pages of at most 200. Anonymous callers see public decisions only.
#[utoipa::path(
    get, path = "/api/v1/decisions", tag = "decisions", operation_id = "listDecisions",
    params(ListQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of decisions", body = DecisionPage),
        (status = 400, description = "A filter, the limit or the cursor is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A bearer token was given but is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "An unexpected server error; the cause is logged, not sent", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable or the log inconsistent; retry after the `Retry-After` seconds", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_decisions(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_PAGE}"
        )));
    }
    let filter = DecisionFilter {
        body: query.body,
        decision_type: query.decision_type.map(|t| t.as_str().to_owned()),
        classification: query.classification.map(|c| c.as_str().to_owned()),
        visible: caller.visible(),
        tag: query.tag,
        decided_from: query.decided_from.map(|d| d.to_string()),
        decided_to: query.decided_to.map(|d| d.to_string()),
        participant_role: query.participant_role.map(|r| r.as_str().to_owned()),
        before: query.cursor.as_deref().map(parse_cursor).transpose()?,
    };
    // One row more than asked tells whether there is a next page without a count query.
    let mut rows = state
        .store
        .list_decisions(&filter, u64::from(limit) + 1)
        .await?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| make_cursor(r.leaf_index))
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(DecisionPage {
        items: rows.into_iter().map(Decision::from).collect(),
        next_cursor,
    }))
}

/// Read one decision.
#[utoipa::path(
    get, path = "/api/v1/decisions/{id}", tag = "decisions", operation_id = "getDecision",
    params(("id" = uuid::Uuid, Path, description = "The decision's id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The decision with its receipt", body = Decision),
        (status = 401, description = "A bearer token was given but is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No decision with that id that the caller may read", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "An unexpected server error; the cause is logged, not sent", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable or the log inconsistent; retry after the `Retry-After` seconds", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_decision(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::NotFound(format!("no decision {id}"));
    let row = state.store.decision(&id).await?.ok_or_else(not_found)?;
    if !caller.may_read(row.classification) {
        return Err(not_found());
    }
    Ok(HttpResponse::Ok().json(Decision::from(row)))
}

fn make_cursor(leaf_index: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{leaf_index}"))
}

fn parse_cursor(cursor: &str) -> Result<u64, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("v1:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| ApiError::BadRequest("the cursor is not one this service issued".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        assert_eq!(parse_cursor(&make_cursor(42)).ok(), Some(42));
        assert!(parse_cursor("42").is_err());
        assert!(parse_cursor(&URL_SAFE_NO_PAD.encode("v2:42")).is_err());
    }
}
