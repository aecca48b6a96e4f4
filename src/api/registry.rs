//! `/api/v1/bodies` and `/api/v1/tokens`: the registry of deciding bodies and their members, and
//! API tokens. Admins write both; anyone who may read the log reads bodies; only admins list
//! tokens. Writes take an `Idempotency-Key` like every POST.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::Value;

use super::auth::Caller;
use super::body::{MAX_REGISTRY_BODY_BYTES, read_json};
use super::error::Problem;
use super::idempotency::{IdempotencyKey, REPLAYED_HEADER};
use super::{ApiError, AppState};
use crate::lineage::Refusal;
use crate::store::{
    Body, BodyChange, EndMembership, Member, NewBody, NewMember, NewToken, RegistryOutcome, Replay,
    TokenInfo, Written,
};

/// A new token and its secret, shown once.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct CreatedToken {
    /// The token.
    #[serde(flatten)]
    pub token: TokenInfo,
    /// The secret to send as `Authorization: Bearer …`. It is not stored and is shown once:
    /// a replayed creation (same Idempotency-Key) omits it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// Reads a registry write's body (at most 16 KiB), once the caller is known to be an admin.
async fn read_body(
    state: &AppState,
    http: &HttpRequest,
    payload: web::Payload,
) -> Result<Value, ApiError> {
    read_json(
        http,
        payload,
        MAX_REGISTRY_BODY_BYTES,
        state.body_read_timeout,
    )
    .await
}

fn body_of<T: serde::de::DeserializeOwned + utoipa::PartialSchema>(
    body: &Value,
) -> Result<T, ApiError> {
    crate::lineage::parse(body).map_err(|refusal| match refusal {
        Refusal::Invalid(errors) => ApiError::Validation(errors),
        Refusal::Conflict(why) => ApiError::StateConflict(why),
    })
}

fn written(status: StatusCode, location: Option<String>, body: &impl Serialize) -> Written {
    let text = serde_json::to_string(body).unwrap_or_default();
    Written {
        status: status.as_u16(),
        location,
        body: text.clone(),
        replay_body: text,
    }
}

fn respond(outcome: RegistryOutcome) -> HttpResponse {
    let (status, location, body, replayed) = match outcome {
        RegistryOutcome::Written(w) => (w.status, w.location, w.body, false),
        RegistryOutcome::Replayed(Replay::Response {
            status,
            location,
            body,
        }) => (status, location, body, true),
        RegistryOutcome::Replayed(Replay::Entry(_)) => {
            return ApiError::KeyReused(
                "this Idempotency-Key was already used for a different request".into(),
            )
            .into();
        }
    };
    let mut response = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK));
    if let Some(location) = location {
        response.insert_header((header::LOCATION, location));
    }
    if replayed {
        response.insert_header((REPLAYED_HEADER, "true"));
    }
    response.content_type("application/json").body(body)
}

impl From<ApiError> for HttpResponse {
    fn from(error: ApiError) -> HttpResponse {
        actix_web::ResponseError::error_response(&error)
    }
}

/// List bodies.
#[utoipa::path(
    get, path = "/api/v1/bodies", tag = "bodies", operation_id = "listBodies",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Every registered body, by slug", body = Vec<Body>),
        (status = 401, description = "A bearer token was given but is not valid, or anonymous reading is off", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_bodies(
    state: web::Data<AppState>,
    _caller: Caller,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.store.list_bodies().await?))
}

/// Read a body and its members over time.
#[utoipa::path(
    get, path = "/api/v1/bodies/{slug}", tag = "bodies", operation_id = "getBody",
    params(("slug" = String, Path, description = "The body's slug")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The body with its members, earliest first", body = Body),
        (status = 401, description = "A bearer token was given but is not valid, or anonymous reading is off", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such body", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_body(
    state: web::Data<AppState>,
    _caller: Caller,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let body = state
        .store
        .body(&slug)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no body {slug:?}")))?;
    Ok(HttpResponse::Ok().json(body))
}

/// Register a body.
///
/// Needs an admin token. A decision must name a registered body.
#[utoipa::path(
    post, path = "/api/v1/bodies", tag = "bodies", operation_id = "createBody",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe (kept 24 hours)")),
    request_body(content = NewBody, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Registered", body = Body, headers(("Location" = String, description = "URL of the body"))),
        (status = 400, description = "The body is not JSON, or the Idempotency-Key is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin token", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive within the read deadline; the connection is closed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body exceeds 16 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json (optionally ; charset=utf-8); `Accept-Post` names it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid slug, name or kind, or a reused Idempotency-Key", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_body(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    http: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let token = caller.require_admin()?;
    key.check()?;
    let body = read_body(&state, &http, payload).await?;
    let new: NewBody = body_of(&body)?;
    let claim = key.claim(&token, &body)?;
    let now = (state.clock)();
    let outcome = state
        .store
        .registry_write(claim.as_ref(), now, async |txn| {
            let created = crate::store::insert_body(txn, &new, &token.name, now).await?;
            let location = format!("/api/v1/bodies/{}", created.slug);
            Ok(written(StatusCode::CREATED, Some(location), &created))
        })
        .await?;
    Ok(respond(outcome))
}

/// Rename a body or change its kind.
///
/// Needs an admin token. The slug never changes: decisions name the body by it.
#[utoipa::path(
    put, path = "/api/v1/bodies/{slug}", tag = "bodies", operation_id = "updateBody",
    params(("slug" = String, Path, description = "The body's slug")),
    request_body(content = BodyChange, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = Body),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such body", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive within the read deadline; the connection is closed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body exceeds 16 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json (optionally ; charset=utf-8); `Accept-Post` names it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid name or kind", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_body(
    state: web::Data<AppState>,
    caller: Caller,
    slug: web::Path<String>,
    http: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let body = read_body(&state, &http, payload).await?;
    let change: BodyChange = body_of(&body)?;
    let updated = state
        .store
        .update_body(&slug, &change)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no body {slug:?}")))?;
    Ok(HttpResponse::Ok().json(updated))
}

/// Add a member to a body.
///
/// Needs an admin token.
#[utoipa::path(
    post, path = "/api/v1/bodies/{slug}/members", tag = "bodies", operation_id = "addMember",
    params(("slug" = String, Path, description = "The body's slug"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe (kept 24 hours)")),
    request_body(content = NewMember, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Added", body = Member),
        (status = 400, description = "The body is not JSON, or the Idempotency-Key is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such body", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive within the read deadline; the connection is closed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body exceeds 16 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json (optionally ; charset=utf-8); `Accept-Post` names it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid membership, or a reused Idempotency-Key", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn add_member(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    slug: web::Path<String>,
    http: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let token = caller.require_admin()?;
    key.check()?;
    let body = read_body(&state, &http, payload).await?;
    let new: NewMember = body_of(&body)?;
    let claim = key.claim(&token, &body)?;
    let now = (state.clock)();
    let outcome = state
        .store
        .registry_write(claim.as_ref(), now, async |txn| {
            let member = crate::store::insert_member(txn, &slug, &new).await?;
            Ok(written(StatusCode::CREATED, None, &member))
        })
        .await?;
    Ok(respond(outcome))
}

/// End a membership.
///
/// Needs an admin token.
#[utoipa::path(
    post, path = "/api/v1/bodies/{slug}/members/{member_id}/end", tag = "bodies", operation_id = "endMembership",
    params(("slug" = String, Path, description = "The body's slug"),
        ("member_id" = uuid::Uuid, Path, description = "The membership's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe (kept 24 hours)")),
    request_body(content = EndMembership, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Ended", body = Member),
        (status = 400, description = "The body is not JSON, or the Idempotency-Key is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such body or membership", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive within the read deadline; the connection is closed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The membership has already ended", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body exceeds 16 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json (optionally ; charset=utf-8); `Accept-Post` names it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An end before the start, or a reused Idempotency-Key", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn end_member(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    path: web::Path<(String, String)>,
    http: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let token = caller.require_admin()?;
    key.check()?;
    let body = read_body(&state, &http, payload).await?;
    let end: EndMembership = body_of(&body)?;
    let (slug, member_id) = path.into_inner();
    let claim = key.claim(&token, &body)?;
    let now = (state.clock)();
    let outcome = state
        .store
        .registry_write(claim.as_ref(), now, async |txn| {
            let member = crate::store::end_member(txn, &slug, &member_id, &end).await?;
            Ok(written(StatusCode::OK, None, &member))
        })
        .await?;
    Ok(respond(outcome))
}

/// List tokens.
///
/// Needs an admin token. Secrets are never listed.
#[utoipa::path(
    get, path = "/api/v1/tokens", tag = "tokens", operation_id = "listTokens",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every token, by name", body = Vec<TokenInfo>),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin token", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_tokens(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    Ok(HttpResponse::Ok().json(state.store.list_tokens().await?))
}

/// Create a token.
///
/// Needs an admin token. The secret is in the response once; it is stored only as a hash.
#[utoipa::path(
    post, path = "/api/v1/tokens", tag = "tokens", operation_id = "createToken",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe (kept 24 hours); a replay omits the secret")),
    request_body(content = NewToken, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `secret` is shown this once", body = CreatedToken),
        (status = 400, description = "The body is not JSON, or the Idempotency-Key is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin token", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive within the read deadline; the connection is closed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body exceeds 16 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/json (optionally ; charset=utf-8); `Accept-Post` names it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid name, role, scope, power or expiry, an unregistered body, or a reused Idempotency-Key", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_token(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    http: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let admin = caller.require_admin()?;
    key.check()?;
    let body = read_body(&state, &http, payload).await?;
    let new: NewToken = body_of(&body)?;
    let claim = key.claim(&admin, &body)?;
    let now = (state.clock)();
    let outcome = state
        .store
        .registry_write(claim.as_ref(), now, async |txn| {
            let (token, secret) =
                crate::store::insert_token(txn, &new, Some(&admin.name), now).await?;
            let shown = CreatedToken {
                token: token.clone(),
                secret: Some(secret),
            };
            let mut w = written(StatusCode::CREATED, None, &shown);
            w.replay_body = serde_json::to_string(&CreatedToken {
                token,
                secret: None,
            })
            .unwrap_or_default();
            Ok(w)
        })
        .await?;
    Ok(respond(outcome))
}

/// Revoke a token.
///
/// Needs an admin token. The token stops working at once; revoking it again changes nothing.
#[utoipa::path(
    delete, path = "/api/v1/tokens/{name}", tag = "tokens", operation_id = "revokeToken",
    params(("name" = String, Path, description = "The token's name")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Revoked", body = TokenInfo),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such token", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn revoke_token(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let admin = caller.require_admin()?;
    let revoked = state
        .store
        .revoke_token(&name, Some(&admin.name), (state.clock)())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no token {name:?}")))?;
    Ok(HttpResponse::Ok().json(revoked))
}
