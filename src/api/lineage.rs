//! `/api/v1/decisions/{id}/…`: the lineage of a decision — amendments, outcomes, call-in,
//! rescission, supersession, erasure and publication — each appended as a new entry.
//!
//! Every handler checks, in this order: a token (401), the decision exists (404), the token may
//! write this kind for the decision's body (403); only then is the body read (415, 413, 408; see
//! `api::body`) and checked as a valid request (422); a supersession needs the token to write
//! for the successor's body too (403); and then, under the append lock, that the decision's
//! state allows it (409). Nothing is written unless all pass.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::auth::Caller;
use super::body::{MAX_WRITE_BODY_BYTES, read_json};
use super::decisions::LineageEvent;
use super::error::Problem;
use super::idempotency::{IdempotencyKey, REPLAYED_HEADER};
use super::{ApiError, AppState};
use crate::lineage::{
    AmendmentRequest, CallInRequest, OutcomeRequest, PublicationRequest, RedactionRequest, Refusal,
    RescissionRequest, SupersessionRequest,
};
use crate::store::{Appended, LineageRequest, Power, StoreError};

/// Who may append a kind of lineage entry.
enum Writer {
    /// A secretariat token scoped to the decision's body.
    Secretariat,
    /// A redactor token holding this power.
    Redactor(Power),
}

/// A request's unread body.
struct Body(HttpRequest, web::Payload);

async fn append(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    id: String,
    Body(http, payload): Body,
    writer: Writer,
    request: impl FnOnce(&Value) -> Result<LineageRequest, Refusal> + Send + 'static,
) -> Result<HttpResponse, ApiError> {
    caller.clone().require()?;
    let row = state
        .store
        .decision(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no decision {id}")))?;
    let token = match writer {
        Writer::Secretariat => caller.clone().require_recorder(&row.record.body)?,
        Writer::Redactor(power) => caller.clone().require_power(power)?,
    };
    key.check()?;
    // Only now, with the caller allowed to write here, is the body read.
    let body = read_json(
        &http,
        payload,
        MAX_WRITE_BODY_BYTES,
        state.body_read_timeout,
    )
    .await?;
    // Parsing the request and hashing it for the idempotency claim are linear in a body of at
    // most 256 KiB: on the blocking pool. Checking it against the decision's state happens under
    // the append lock, on a request the limits keep small.
    let claimant = token.clone();
    let (request, claim) = web::block(move || (request(&body), key.claim(&claimant, &body)))
        .await
        .map_err(|e| ApiError::Internal(format!("the blocking pool failed: {e}")))?;
    let claim = claim?;
    let request = request.map_err(StoreError::from)?;
    if let LineageRequest::Supersede(supersession) = &request {
        // A supersession changes the successor's state too (it lists what it supersedes), so
        // the caller must be one who may write for the successor's body as well. An unknown
        // successor is refused under the append lock with the state's other checks.
        let successor = supersession.superseded_by.to_string();
        if let Some(successor) = state.store.decision(&successor).await? {
            caller.clone().require_recorder(&successor.record.body)?;
        }
    }
    let now = (state.clock)();
    let appended = state
        .store
        .append_lineage(&id, &request, &token.name, claim.as_ref(), now)
        .await?;
    let (leaf, replayed) = match appended {
        Appended::Fresh(entry, _) | Appended::Recorded(entry, ..) => (entry.leaf_index, false),
        Appended::Replayed(leaf) => (leaf, true),
    };
    let event = state
        .store
        .event(leaf)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("no event for leaf {leaf}")))?;
    if event.decision_id != id {
        // The key was first used for another decision's path: the request hashes differ, so
        // the store refuses that before this point; this guards the invariant.
        return Err(ApiError::KeyReused(
            "this Idempotency-Key was already used for a different request".into(),
        ));
    }
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, format!("/api/v1/decisions/{id}")));
    if replayed {
        response.insert_header((REPLAYED_HEADER, "true"));
    }
    Ok(response.json(LineageEvent::render(event, true)))
}

fn parsed<T: DeserializeOwned + utoipa::PartialSchema>(
    wrap: impl FnOnce(T) -> LineageRequest + Send + 'static,
) -> impl FnOnce(&Value) -> Result<LineageRequest, Refusal> + Send + 'static {
    move |body| crate::lineage::parse::<T>(body).map(wrap)
}

/// Amend a decision.
///
/// Appends a `decision.amended` entry correcting the named fields, with the reason. The
/// decision's lineage then shows each field's old and new value, who changed it, when and why.
/// Fields carrying personal data cannot be amended. Needs a secretariat token for the decision's
/// body.
#[utoipa::path(
    post, path = "/api/v1/decisions/{id}/amendments", tag = "lineage", operation_id = "amendDecision",
    params(("id" = uuid::Uuid, Path, description = "The decision's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body append once (kept 24 hours)")),
    request_body(content = AmendmentRequest, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Appended (or a retry replayed, with `Idempotent-Replayed: true`)", body = LineageEvent),
        (status = 400, description = "The body is not JSON, or the Idempotency-Key is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a secretariat token scoped to the decision's body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such decision", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive within the read deadline; the connection is closed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The decision is rescinded or superseded", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body exceeds 256 KiB, or the entry exceeds 65,535 bytes", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json (optionally ; charset=utf-8); `Accept-Post` names it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown or unamendable field, an invalid value, no change at all, or a reused Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The log is inconsistent or the database unavailable; nothing was written", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn amend(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    id: web::Path<String>,
    http: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let writer = Writer::Secretariat;
    let request = parsed(LineageRequest::Amend);
    append(
        state,
        caller,
        key,
        id.into_inner(),
        Body(http, payload),
        writer,
        request,
    )
    .await
}

/// Report an outcome.
///
/// Appends a `decision.outcome_reported` entry: progress against the success measures, a
/// narrative, evidence documents by hash and the next review date (which becomes the decision's
/// review date; without one, no further review is due). Needs a secretariat token for the
/// decision's body.
#[utoipa::path(
    post, path = "/api/v1/decisions/{id}/outcomes", tag = "lineage", operation_id = "reportOutcome",
    params(("id" = uuid::Uuid, Path, description = "The decision's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body append once (kept 24 hours)")),
    request_body(content = OutcomeRequest, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Appended (or a retry replayed, with `Idempotent-Replayed: true`)", body = LineageEvent),
        (status = 400, description = "The body is not JSON, or the Idempotency-Key is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a secretariat token scoped to the decision's body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such decision", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive within the read deadline; the connection is closed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The decision is rescinded or superseded", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body exceeds 256 KiB, or the entry exceeds 65,535 bytes", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json (optionally ; charset=utf-8); `Accept-Post` names it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid outcome (`errors` names every field), or a reused Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The log is inconsistent or the database unavailable; nothing was written", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn report_outcome(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    id: web::Path<String>,
    http: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let writer = Writer::Secretariat;
    let request = parsed(LineageRequest::Outcome);
    append(
        state,
        caller,
        key,
        id.into_inner(),
        Body(http, payload),
        writer,
        request,
    )
    .await
}

/// Record a call-in status change.
///
/// Appends a `decision.call_in` entry. `called_in` (once, on a decision in force) suspends the
/// decision; `upheld` (after `called_in` or `referred_to_council`) puts it in force from `on`;
/// `referred_back` and `referred_to_council` follow `called_in`. Needs a secretariat token for
/// the decision's body.
#[utoipa::path(
    post, path = "/api/v1/decisions/{id}/call-in", tag = "lineage", operation_id = "recordCallIn",
    params(("id" = uuid::Uuid, Path, description = "The decision's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body append once (kept 24 hours)")),
    request_body(content = CallInRequest, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Appended (or a retry replayed, with `Idempotent-Replayed: true`)", body = LineageEvent),
        (status = 400, description = "The body is not JSON, or the Idempotency-Key is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a secretariat token scoped to the decision's body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such decision", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive within the read deadline; the connection is closed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The transition is not allowed from the decision's current status", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body exceeds 256 KiB, or the entry exceeds 65,535 bytes", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json (optionally ; charset=utf-8); `Accept-Post` names it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid request, or a reused Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The log is inconsistent or the database unavailable; nothing was written", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn call_in(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    id: web::Path<String>,
    http: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let writer = Writer::Secretariat;
    let request = parsed(LineageRequest::CallIn);
    append(
        state,
        caller,
        key,
        id.into_inner(),
        Body(http, payload),
        writer,
        request,
    )
    .await
}

/// Rescind a decision.
///
/// Appends a `decision.rescinded` entry. A decision is rescinded once; nothing but erasure and
/// publication follows. Needs a secretariat token for the decision's body.
#[utoipa::path(
    post, path = "/api/v1/decisions/{id}/rescission", tag = "lineage", operation_id = "rescindDecision",
    params(("id" = uuid::Uuid, Path, description = "The decision's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body append once (kept 24 hours)")),
    request_body(content = RescissionRequest, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Appended (or a retry replayed, with `Idempotent-Replayed: true`)", body = LineageEvent),
        (status = 400, description = "The body is not JSON, or the Idempotency-Key is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a secretariat token scoped to the decision's body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such decision", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive within the read deadline; the connection is closed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already rescinded or superseded", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body exceeds 256 KiB, or the entry exceeds 65,535 bytes", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json (optionally ; charset=utf-8); `Accept-Post` names it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid request, or a reused Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The log is inconsistent or the database unavailable; nothing was written", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn rescind(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    id: web::Path<String>,
    http: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let writer = Writer::Secretariat;
    let request = parsed(LineageRequest::Rescind);
    append(
        state,
        caller,
        key,
        id.into_inner(),
        Body(http, payload),
        writer,
        request,
    )
    .await
}

/// Mark a decision superseded.
///
/// Appends a `decision.superseded` entry naming the recorded decision that replaces this one;
/// both decisions then show the link. Needs a secretariat token for this decision's body.
#[utoipa::path(
    post, path = "/api/v1/decisions/{id}/supersession", tag = "lineage", operation_id = "supersedeDecision",
    params(("id" = uuid::Uuid, Path, description = "The decision's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body append once (kept 24 hours)")),
    request_body(content = SupersessionRequest, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Appended (or a retry replayed, with `Idempotent-Replayed: true`)", body = LineageEvent),
        (status = 400, description = "The body is not JSON, or the Idempotency-Key is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a secretariat token scoped to the bodies of both the decision and its successor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such decision", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive within the read deadline; the connection is closed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "This decision has ended, or the successor is rescinded or itself superseded by this one", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body exceeds 256 KiB, or the entry exceeds 65,535 bytes", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json (optionally ; charset=utf-8); `Accept-Post` names it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown successor, the decision itself, or a reused Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The log is inconsistent or the database unavailable; nothing was written", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn supersede(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    id: web::Path<String>,
    http: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let writer = Writer::Secretariat;
    let request = parsed(LineageRequest::Supersede);
    append(
        state,
        caller,
        key,
        id.into_inner(),
        Body(http, payload),
        writer,
        request,
    )
    .await
}

/// Erase a personal value.
///
/// Appends a `decision.redacted` entry naming the value's path and commitment, the legal basis,
/// the office that authorised it and why, and deletes the value and its salt everywhere the
/// service keeps them. The chain, the proofs and the verifier still pass; readers see
/// `[redacted: basis, date]`. Needs a redactor token with the `erase` power.
#[utoipa::path(
    post, path = "/api/v1/decisions/{id}/redactions", tag = "lineage", operation_id = "redactValue",
    params(("id" = uuid::Uuid, Path, description = "The decision's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body append once (kept 24 hours)")),
    request_body(content = RedactionRequest, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Erased (or a retry replayed, with `Idempotent-Replayed: true`)", body = LineageEvent),
        (status = 400, description = "The body is not JSON, or the Idempotency-Key is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a redactor token with the erase power", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such decision", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive within the read deadline; the connection is closed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The value has already been erased", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body exceeds 256 KiB, or the entry exceeds 65,535 bytes", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json (optionally ; charset=utf-8); `Accept-Post` names it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a personal-data path, no value there, a missing basis or reason, or a reused Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The log is inconsistent or the database unavailable; nothing was written", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn redact(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    id: web::Path<String>,
    http: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let writer = Writer::Redactor(Power::Erase);
    let request = parsed(LineageRequest::Redact);
    append(
        state,
        caller,
        key,
        id.into_inner(),
        Body(http, payload),
        writer,
        request,
    )
    .await
}

/// Publish withheld content.
///
/// Appends a `decision.published` entry and serves the published disclosures to anyone, who can
/// check them against the commitments recorded at the time. Without `fields`, the whole record
/// and its lineage become public. Needs a redactor token with the `publish` power.
#[utoipa::path(
    post, path = "/api/v1/decisions/{id}/publication", tag = "lineage", operation_id = "publishDecision",
    params(("id" = uuid::Uuid, Path, description = "The decision's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body append once (kept 24 hours)")),
    request_body(content = PublicationRequest, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Published (or a retry replayed, with `Idempotent-Replayed: true`)", body = LineageEvent),
        (status = 400, description = "The body is not JSON, or the Idempotency-Key is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a redactor token with the publish power", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such decision", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive within the read deadline; the connection is closed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The decision, or every field named, is already public", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body exceeds 256 KiB, or the entry exceeds 65,535 bytes", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json (optionally ; charset=utf-8); `Accept-Post` names it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field that is not withheld or not present, a missing reason, or a reused Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The log is inconsistent or the database unavailable; nothing was written", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn publish(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    id: web::Path<String>,
    http: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let writer = Writer::Redactor(Power::Publish);
    let request = parsed(LineageRequest::Publish);
    append(
        state,
        caller,
        key,
        id.into_inner(),
        Body(http, payload),
        writer,
        request,
    )
    .await
}
