//! `/api/v1/decisions`: record a decision, list them, read one.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use ledger::EntryKind;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::body::{MAX_WRITE_BODY_BYTES, read_json};
use super::error::Problem;
use super::idempotency::IdempotencyKey;
use super::position::Position;
use super::{ApiError, AppState};
use crate::lineage::{OutcomeStatus, Status};
use crate::record::{
    Classification, DecisionRecord, DecisionType, Exemption, FieldError, ParticipantRole,
};
use crate::store::{Appended, DecisionFilter, DecisionRow, Event, ListOrder, NewEntry, Role};

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
    #[schema(format = DateTime, example = "2026-11-29T10:15:30.123Z")]
    pub recorded_at: String,
    /// Name of the token that recorded it.
    pub recorded_by: String,
}

/// A recorded decision: its public face, its state, its content if the caller may read it, and
/// its place in the log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Decision {
    /// The decision's id (a UUIDv7, so ids sort by time of recording).
    pub id: uuid::Uuid,
    /// Slug of the deciding body.
    pub body: String,
    /// The date the decision was made.
    #[schema(value_type = String, format = Date)]
    pub decided_on: NaiveDate,
    /// The statutory category of the decision.
    pub decision_type: DecisionType,
    /// The record's classification as recorded.
    pub classification: Classification,
    /// Where the decision stands, derived from its lineage.
    pub state: DecisionState,
    /// The current record — amendments applied, erased values shown as
    /// `[redacted: basis, date]` — when the caller may read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<DecisionRecord>,
    /// What a caller who may not read the record is told instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withheld: Option<Withheld>,
    /// Every entry about the decision, oldest first (on single-decision reads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineage: Option<Vec<LineageEvent>>,
    /// Where its `decision.recorded` entry sits in the log.
    pub receipt: Receipt,
}

/// A decision's state, derived from its entries in log order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DecisionState {
    /// in_force, called_in, referred_back, referred_to_council, rescinded or superseded.
    pub status: Status,
    /// When it takes effect: as recorded, cleared by a call-in, set when the call-in is upheld.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub effective_from: Option<NaiveDate>,
    /// When its outcome is next due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub review_on: Option<NaiveDate>,
    /// Whether `review_on` has passed while the decision still stands.
    pub review_overdue: bool,
    /// The latest outcome reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_outcome: Option<OutcomeStatus>,
    /// The decision that superseded this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<uuid::Uuid>,
    /// The decisions this one superseded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supersedes: Vec<uuid::Uuid>,
    /// Whether the whole record has been published.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub published: bool,
    /// Withheld fields published one by one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub published_fields: Vec<String>,
    /// When the newest entry about it was recorded.
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// What a caller who may not read a record is told: that it exists, why it is withheld, and
/// whatever of it has been published.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Withheld {
    /// Why the content is not shown.
    pub reason: String,
    /// The exemption of a restricted record (Schedule 12A paragraph, public interest reason and
    /// public summary), which is public.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exemption: Option<Exemption>,
    /// Withheld fields that have since been published, with their current values.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[schema(value_type = Object)]
    pub published: Map<String, Value>,
}

/// One entry in a decision's lineage.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LineageEvent {
    /// The entry's position in the log.
    pub leaf_index: u64,
    /// The entry's kind, e.g. `decision.amended`.
    pub kind: String,
    /// When it was recorded.
    #[schema(format = DateTime)]
    pub recorded_at: String,
    /// Which token recorded it.
    pub recorded_by: String,
    /// Its entry hash.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub entry_hash: String,
    /// What happened: the entry's record, revealed for a caller who may read the decision
    /// (withheld values shown as `"[withheld]"` otherwise). For an amendment, `changes` lists
    /// each field with its old and new value.
    #[schema(value_type = Object)]
    pub detail: Value,
}

impl LineageEvent {
    /// The event as `caller` may see it.
    pub fn render(event: Event, reveal: bool) -> LineageEvent {
        LineageEvent {
            leaf_index: event.leaf_index,
            kind: event.kind.as_str().to_owned(),
            recorded_at: event.recorded_at,
            recorded_by: event.recorded_by,
            entry_hash: event.entry_hash.to_hex(),
            detail: if reveal {
                event.detail
            } else {
                event.public_detail
            },
        }
    }
}

impl Decision {
    /// The decision as `caller` may see it on `today`, with its lineage if given.
    pub fn render(
        row: DecisionRow,
        events: Option<Vec<Event>>,
        caller: &Caller,
        today: NaiveDate,
    ) -> Decision {
        let readable = caller.may_read(row.classification, &row.record.body);
        let state = DecisionState {
            status: row.status,
            effective_from: row.effective_from,
            review_on: row.review_on,
            review_overdue: !row.status.is_final() && row.review_on.is_some_and(|d| d < today),
            last_outcome: row.last_outcome,
            superseded_by: row.superseded_by,
            supersedes: row.supersedes,
            published: row.published.record,
            published_fields: row.published.fields.clone(),
            updated_at: row.updated_at,
        };
        let withheld = (!readable).then(|| {
            let document = serde_json::to_value(&row.record).unwrap_or(Value::Null);
            let published = row
                .published
                .fields
                .iter()
                .filter_map(|f| document.get(f).map(|v| (f.clone(), v.clone())))
                .collect();
            Withheld {
                reason: match row.record.classification {
                    Classification::Restricted => {
                        "exempt information (Local Government Act 1972, Schedule 12A)".into()
                    }
                    _ => "internal to the organisation; sign in to read it".into(),
                },
                exemption: row.record.exemption.clone(),
                published,
            }
        });
        Decision {
            id: row.id,
            body: row.record.body.clone(),
            decided_on: row.record.decided_on,
            decision_type: row.record.decision_type,
            classification: row.record.classification,
            state,
            lineage: events.map(|events| {
                events
                    .into_iter()
                    .map(|e| LineageEvent::render(e, readable))
                    .collect()
            }),
            record: readable.then_some(row.record),
            withheld,
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

/// The order of the decision list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionOrder {
    /// Newest recorded first (by leaf index).
    #[default]
    Recorded,
    /// Latest decision date (`decided_on`) first; decisions of one day newest recorded first.
    Decided,
}

/// The `status` filter of the decision list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    /// Standing.
    InForce,
    /// Called in.
    CalledIn,
    /// Referred back to the decision maker.
    ReferredBack,
    /// Referred to full council.
    ReferredToCouncil,
    /// Rescinded.
    Rescinded,
    /// Superseded.
    Superseded,
    /// Review date passed while the decision still stands.
    ReviewOverdue,
}

/// Filters and paging for the decision list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only decisions of this body (slug).
    #[param(max_length = 64, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub body: Option<String>,
    /// Only decisions of this type.
    pub decision_type: Option<DecisionType>,
    /// Only decisions of this classification (`public` includes records published since).
    pub classification: Option<Classification>,
    /// Only decisions in this state; `review_overdue` for those whose review date has passed
    /// while they still stand.
    pub status: Option<StatusFilter>,
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
    /// The order of the list: `recorded` (the default) or `decided`.
    pub order: Option<DecisionOrder>,
    /// The `next_cursor` of the previous page, in the same order.
    #[param(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// Record a decision.
///
/// Appends a `decision.recorded` entry to the log and returns the decision with its receipt.
/// Personal names are committed, not embedded, in the hashed entry; a record that is not public
/// also commits everything but its public face. Needs a secretariat token scoped to the record's
/// body, which must be registered. With an `Idempotency-Key`, a retry appends nothing and returns
/// the decision as it now stands, with `Idempotent-Replayed: true`.
#[utoipa::path(
    post, path = "/api/v1/decisions", tag = "decisions", operation_id = "createDecision",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body append once (kept 24 hours)")),
    request_body(content = DecisionRecord, description = "The decision record", content_type = "application/json",
        example = json!(crate::record::example())),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded (or a retry replayed); `Location` names the decision", body = Decision,
            headers(("Location" = String, description = "URL of the new decision"))),
        (status = 400, description = "The body is not JSON, or the Idempotency-Key is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a secretariat token scoped to the record's body", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive within the read deadline; the connection is closed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body exceeds 256 KiB, or the entry exceeds 65,535 bytes", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json (optionally ; charset=utf-8); `Accept-Post` names it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The record is not valid (`errors` names every offending field, including an unregistered body), or the Idempotency-Key was used for another request", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "An unexpected server error; the cause is logged, not sent", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The log is inconsistent or the database unavailable; nothing was written", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_decision(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let token = caller.clone().require()?;
    // Only a secretariat token records: any other is refused before its body is read.
    if token.role != Role::Secretariat {
        return Err(ApiError::Forbidden(format!(
            "token {:?} ({}) may not record decisions: that needs a secretariat token scoped to \
             the record's body",
            token.name,
            token.role.as_str()
        )));
    }
    key.check()?;
    let body = read_json(
        &request,
        payload,
        MAX_WRITE_BODY_BYTES,
        state.body_read_timeout,
    )
    .await?;
    let now = (state.clock)();
    // Scope is checked before content: a token learns nothing from records it may not write.
    // A body that is not even a slug is left to validation, which names it. So is a slug that
    // names no registered body: nobody may write for it, so the token is not refused (403) but
    // told, with every other problem of the record, that there is no such body. That reveals
    // nothing the registry does not: GET /api/v1/bodies lists every body to any reader.
    let declared_body = body
        .get("body")
        .and_then(Value::as_str)
        .filter(|b| crate::record::is_slug(b))
        .map(str::to_owned);
    let unregistered = match &declared_body {
        Some(declared) if state.store.body_exists(declared).await? => {
            caller.clone().require_recorder(declared)?;
            None
        }
        Some(declared) => Some(declared.clone()),
        None => None,
    };
    // Validation, commitments (a SHA-256 per committed value) and the canonical request hash of
    // the idempotency claim are linear in a body of at most 256 KiB: run them on the blocking
    // pool, not on the worker that serves other connections.
    let today = now.date_naive();
    let claimant = token.clone();
    let (checked, claim) = web::block(move || {
        let checked = DecisionRecord::from_json(&body, today)
            .map(|record| record.commit(rand::random))
            .map_err(ApiError::Validation);
        (checked, key.claim(&claimant, &body))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("the blocking pool failed: {e}")))?;
    let claim = claim?;
    let mut checked = checked;
    if let Some(declared) = &unregistered {
        let unknown = FieldError::new(
            "body",
            format!(
                "no body {declared:?} is registered (an admin registers bodies at /api/v1/bodies)"
            ),
        );
        checked = Err(match checked {
            Ok(_) => ApiError::Validation(vec![unknown]),
            Err(ApiError::Validation(mut errors)) => {
                errors.push(unknown);
                ApiError::Validation(errors)
            }
            Err(other) => other,
        });
    }
    let (hashed, disclosures) = checked?;
    let id = uuid::Uuid::now_v7();
    let appended = state
        .store
        .append(
            NewEntry {
                kind: EntryKind::DecisionRecorded,
                decision_id: id.to_string(),
                recorded_by: token.name,
                record: hashed,
                disclosures,
            },
            claim.as_ref(),
            now,
        )
        .await?;
    let mut response = HttpResponse::Created();
    // A fresh decision is answered from what was appended, as the read view now holds it; a
    // replay from the read view.
    let (row, events) = match appended {
        Appended::Recorded(_, _, view) => (view.row, view.events),
        Appended::Fresh(entry, _) => {
            return Err(ApiError::Internal(format!(
                "leaf {}: a new decision was appended without its view",
                entry.leaf_index
            )));
        }
        Appended::Replayed(leaf) => {
            let event =
                state.store.event(leaf).await?.ok_or_else(|| {
                    ApiError::Internal(format!("no event for replayed leaf {leaf}"))
                })?;
            let id = event.decision_id;
            response.insert_header((super::idempotency::REPLAYED_HEADER, "true"));
            let row = state.store.decision(&id).await?.ok_or_else(|| {
                ApiError::Internal(format!("decision {id} missing after its append"))
            })?;
            (row, state.store.events(&id).await?)
        }
    };
    response.insert_header((header::LOCATION, format!("/api/v1/decisions/{}", row.id)));
    Ok(response.json(Decision::render(
        row,
        Some(events),
        &caller,
        now.date_naive(),
    )))
}

/// List decisions.
///
/// Newest first, filtered, in pages of at most 200. Every decision is listed with its public
/// face and state; its content only to callers who may read it (anonymous callers: public
/// records; staff and admins: public and internal; auditors and redactors: all; a secretariat:
/// also the restricted records of its bodies).
#[utoipa::path(
    get, path = "/api/v1/decisions", tag = "decisions", operation_id = "listDecisions",
    params(ListQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of decisions, newest first", body = DecisionPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` (RFC 8288): the next page, when there is one"))),
        (status = 400, description = "A filter, the limit or the cursor is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A bearer token was given but is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "An unexpected server error; the cause is logged, not sent", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable or the log inconsistent; retry after the `Retry-After` seconds", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_decisions(
    state: web::Data<AppState>,
    caller: Caller,
    request: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let today = (state.clock)().date_naive();
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_PAGE}"
        )));
    }
    if let Some(body) = query.body.as_deref().filter(|b| !crate::record::is_slug(b)) {
        return Err(ApiError::BadRequest(format!(
            "body={body:?} is not a body slug (lowercase letters, digits and single hyphens)"
        )));
    }
    let filter = DecisionFilter {
        body: query.body,
        decision_type: query.decision_type.map(|t| t.as_str().to_owned()),
        classification: query.classification.map(|c| c.as_str().to_owned()),
        status: query.status.and_then(|s| match s {
            StatusFilter::InForce => Some(Status::InForce),
            StatusFilter::CalledIn => Some(Status::CalledIn),
            StatusFilter::ReferredBack => Some(Status::ReferredBack),
            StatusFilter::ReferredToCouncil => Some(Status::ReferredToCouncil),
            StatusFilter::Rescinded => Some(Status::Rescinded),
            StatusFilter::Superseded => Some(Status::Superseded),
            StatusFilter::ReviewOverdue => None,
        }),
        review_overdue_on: (query.status == Some(StatusFilter::ReviewOverdue))
            .then(|| today.to_string()),
        tag: query.tag,
        decided_from: query.decided_from.map(|d| d.to_string()),
        decided_to: query.decided_to.map(|d| d.to_string()),
        participant_role: query.participant_role.map(|r| r.as_str().to_owned()),
        order: parse_cursor(query.order.unwrap_or_default(), query.cursor.as_deref())?,
    };
    // One row more than asked tells whether there is a next page without a count query.
    let mut rows = state
        .store
        .list_decisions(&filter, caller.0.as_ref(), u64::from(limit) + 1)
        .await?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last()
            .and_then(|r| make_cursor(&filter.order.after(r)))
    } else {
        None
    };
    let mut response = HttpResponse::Ok();
    if let Some(cursor) = &next_cursor {
        response.insert_header((header::LINK, super::paging::next_link(&request, cursor)));
    }
    Ok(response.json(DecisionPage {
        items: rows
            .into_iter()
            .map(|row| Decision::render(row, None, &caller, today))
            .collect(),
        next_cursor,
    }))
}

/// Read one decision.
#[utoipa::path(
    get, path = "/api/v1/decisions/{id}", tag = "decisions", operation_id = "getDecision",
    params(("id" = uuid::Uuid, Path, description = "The decision's id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The decision with its state, lineage and receipt; its content only if the caller may read it", body = Decision),
        (status = 401, description = "A bearer token was given but is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No decision with that id", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "An unexpected server error; the cause is logged, not sent", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable or the log inconsistent; retry after the `Retry-After` seconds", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_decision(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = state
        .store
        .decision(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no decision {id}")))?;
    let events = state.store.events(&id).await?;
    let today = (state.clock)().date_naive();
    Ok(HttpResponse::Ok().json(Decision::render(row, Some(events), &caller, today)))
}

/// The opaque cursor of `order`'s position: `v1:<leaf>` in recording order,
/// `v1:decided:<date>:<leaf>` in decision-date order, base64url-encoded.
fn make_cursor(order: &ListOrder) -> Option<String> {
    let text = match order {
        ListOrder::Recorded { before } => format!("v1:{}", (*before)?),
        ListOrder::Decided { before } => {
            let (day, leaf) = (*before)?;
            format!("v1:decided:{day}:{leaf}")
        }
    };
    Some(URL_SAFE_NO_PAD.encode(text))
}

/// The list order asked for, continuing at `cursor`, which must be one [`make_cursor`] issued
/// for that order.
fn parse_cursor(order: DecisionOrder, cursor: Option<&str>) -> Result<ListOrder, ApiError> {
    let foreign = || ApiError::BadRequest("the cursor is not one this service issued".into());
    let text = cursor
        .map(|cursor| {
            URL_SAFE_NO_PAD
                .decode(cursor)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .and_then(|text| text.strip_prefix("v1:").map(str::to_owned))
                .ok_or_else(foreign)
        })
        .transpose()?;
    let leaf = |v: &str| Position::parse(v).map(Position::get).ok_or_else(foreign);
    let decided = text.as_deref().map(|t| t.strip_prefix("decided:"));
    match (order, text.as_deref(), decided) {
        (DecisionOrder::Recorded, None, _) => Ok(ListOrder::Recorded { before: None }),
        (DecisionOrder::Decided, None, _) => Ok(ListOrder::Decided { before: None }),
        (DecisionOrder::Recorded, Some(text), Some(None)) => Ok(ListOrder::Recorded {
            before: Some(leaf(text)?),
        }),
        (DecisionOrder::Decided, Some(_), Some(Some(rest))) => {
            let (day, at) = rest.split_once(':').ok_or_else(foreign)?;
            let day = day.parse::<NaiveDate>().map_err(|_| foreign())?;
            Ok(ListOrder::Decided {
                before: Some((day, leaf(at)?)),
            })
        }
        _ => Err(ApiError::BadRequest(
            "the cursor belongs to a page in the other order; pass the same order as that page"
                .into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        let recorded = ListOrder::Recorded { before: Some(42) };
        let day = NaiveDate::from_ymd_opt(2026, 11, 2).expect("date");
        let decided = ListOrder::Decided {
            before: Some((day, 42)),
        };
        let of = |order: &ListOrder| make_cursor(order).expect("a position");
        let parse = |order, cursor: &str| parse_cursor(order, Some(cursor)).ok();
        assert_eq!(
            parse(DecisionOrder::Recorded, &of(&recorded)),
            Some(recorded.clone())
        );
        assert_eq!(
            parse(DecisionOrder::Decided, &of(&decided)),
            Some(decided.clone())
        );
        // A cursor continues only the order it was issued for.
        assert!(parse(DecisionOrder::Decided, &of(&recorded)).is_none());
        assert!(parse(DecisionOrder::Recorded, &of(&decided)).is_none());
        assert!(make_cursor(&ListOrder::default()).is_none());
        let parse = |cursor: &str| parse(DecisionOrder::Recorded, cursor);
        assert!(parse("42").is_none());
        assert!(parse(&URL_SAFE_NO_PAD.encode("v1:9223372036854775808")).is_none());
        assert!(parse(&URL_SAFE_NO_PAD.encode("v2:42")).is_none());
        let parse = |text: &str| {
            parse_cursor(DecisionOrder::Decided, Some(&URL_SAFE_NO_PAD.encode(text))).ok()
        };
        assert!(parse("v1:decided:2026-02-30:42").is_none());
        assert!(parse("v1:decided:2026-11-02").is_none());
        assert!(parse("v1:decided:2026-11-02:x").is_none());
    }
}
