//! The one error type of the HTTP API, rendered as RFC 9457 `application/problem+json`.
//!
//! Every refusal the service makes — including the framework's own (unknown route, wrong method,
//! malformed JSON, oversized body) — goes through [`ApiError`], so clients parse one shape. Each
//! problem `type` is a stable relative URI under `/problems/`, listed in `docs/API.md`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::record::FieldError;
use crate::store::StoreError;

/// An RFC 9457 problem details object.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A stable URI reference naming the kind of problem, e.g. `/problems/validation`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong this time.
    pub detail: String,
    /// The offending fields of a validation problem, in the order they were found: the first
    /// [`MAX_LISTED_ERRORS`] of `errors_total`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 100)]
    pub errors: Vec<FieldError>,
    /// How many problems validation found; more than `errors` lists when over 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors_total: Option<usize>,
    /// The request's id, as in the `X-Request-Id` response header and the server log: quote it
    /// when reporting the problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "0192f7c4-6a3e-7c1d-9b8a-3f2e1d0c4b5a")]
    pub request_id: Option<String>,
}

/// Most field errors a problem lists; `errors_total` counts them all. A request that is wrong
/// everywhere gets an answer of bounded size, not one larger than itself.
pub const MAX_LISTED_ERRORS: usize = 100;

/// Longest `detail` (and log line) of a problem other than a validation problem, in characters.
const MAX_DETAIL_CHARS: usize = 1_000;

/// Most field names a validation problem's `detail` and log line quote.
const MAX_QUOTED_FIELDS: usize = 10;

/// A documented problem type, served at its `type` URI.
pub struct ProblemType {
    /// The last segment of the `type` URI.
    pub slug: &'static str,
    /// The HTTP status that carries it.
    pub status: u16,
    /// The problem's `title`.
    pub title: &'static str,
    /// When it happens and what to do.
    pub description: &'static str,
}

/// Every problem type the API answers with.
pub const PROBLEM_TYPES: &[ProblemType] = &[
    ProblemType {
        slug: "bad-request",
        status: 400,
        title: "Bad request",
        description: "The body is not valid JSON, or a query parameter, limit or cursor is malformed. Nothing was written.",
    },
    ProblemType {
        slug: "unauthorized",
        status: 401,
        title: "Authentication required",
        description: "The operation needs an `Authorization: Bearer` token, or the token given is unknown, revoked or malformed. Nothing was written.",
    },
    ProblemType {
        slug: "forbidden",
        status: 403,
        title: "Not allowed",
        description: "The token is valid but its role or bodies do not allow this operation. Nothing was written.",
    },
    ProblemType {
        slug: "not-found",
        status: 404,
        title: "Not found",
        description: "No such route, no such decision (or none the caller may read), or no entry at that leaf index.",
    },
    ProblemType {
        slug: "method-not-allowed",
        status: 405,
        title: "Method not allowed",
        description: "The route exists but not for this method; the `Allow` header lists the methods it accepts.",
    },
    ProblemType {
        slug: "conflict",
        status: 409,
        title: "Conflict",
        description: "The resource already exists (a token name, a body slug).",
    },
    ProblemType {
        slug: "state-conflict",
        status: 409,
        title: "The decision's state does not allow this",
        description: "The request is well formed but the current state forbids it: a second rescission, an outcome on a rescinded decision, a call-in transition out of order, erasing a value already erased, publishing what is already public, ending a membership that has ended. Nothing was written.",
    },
    ProblemType {
        slug: "request-timeout",
        status: 408,
        title: "Request timeout",
        description: "The request body did not arrive within the server's read deadline (10 seconds by default). The connection is closed. Nothing was written.",
    },
    ProblemType {
        slug: "payload-too-large",
        status: 413,
        title: "Payload too large",
        description: "The request body exceeds 256 KiB (16 KiB for the registry and tokens), or the canonical log entry it would produce exceeds 65,535 bytes. Nothing was written.",
    },
    ProblemType {
        slug: "unsupported-media-type",
        status: 415,
        title: "Unsupported media type",
        description: "The body must be sent as `application/json`, optionally with `; charset=utf-8`; the `Accept-Post` header says so. Nothing was written.",
    },
    ProblemType {
        slug: "validation",
        status: 422,
        title: "The request is not valid",
        description: "The body is JSON but not a valid record or request; `errors` lists every offending field with a message. Nothing was written.",
    },
    ProblemType {
        slug: "idempotency-key-reused",
        status: 422,
        title: "Idempotency-Key reused",
        description: "This `Idempotency-Key` was already used by this token with a different method, path or body. Use a fresh key for a new request. Nothing was written.",
    },
    ProblemType {
        slug: "log-inconsistent",
        status: 503,
        title: "The log is inconsistent",
        description: "The stored log contradicts itself (for example the head does not name the last entry). Appends are refused until an operator investigates with `decision-log verify`. Nothing was written.",
    },
    ProblemType {
        slug: "unavailable",
        status: 503,
        title: "Service unavailable",
        description: "The database cannot be reached, or another append took the position this one read. Retry after the `Retry-After` seconds. Nothing was written.",
    },
    ProblemType {
        slug: "internal",
        status: 500,
        title: "Internal server error",
        description: "An unexpected failure; the cause is in the server log, not in the response. A failed write is rolled back whole.",
    },
];

/// Describes a problem type at its `type` URI, `/problems/{slug}`, as plain text.
pub async fn describe_problem(
    slug: actix_web::web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let t = PROBLEM_TYPES
        .iter()
        .find(|t| t.slug == slug.as_str())
        .ok_or_else(|| ApiError::NotFound(format!("no problem type {slug}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(format!("{} ({})\n\n{}\n", t.title, t.status, t.description)))
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed (bad JSON, bad query parameter, bad cursor).
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid bearer token where one is needed.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the token may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such resource or route.
    #[error("{0}")]
    NotFound(String),
    /// 405: the route exists but not for this method; `Allow` lists the methods that do.
    #[error("method not allowed; allowed: {allow}")]
    MethodNotAllowed {
        /// The methods the route accepts, as the `Allow` header lists them.
        allow: String,
    },
    /// 409: the resource already exists.
    #[error("{0}")]
    Conflict(String),
    /// 409: the decision's state does not allow the request.
    #[error("{0}")]
    StateConflict(String),
    /// 422: an idempotency key was reused for a different request.
    #[error("{0}")]
    KeyReused(String),
    /// 408: the body did not arrive within the read deadline; the connection is closed.
    #[error("{0}")]
    RequestTimeout(String),
    /// 413: the body (over its operation's limit) or the resulting entry (over 65,535 bytes) is
    /// too large.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 415: the body is not `application/json` (in UTF-8); sent with `Accept-Post`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: the body is JSON but not a valid record or request; `errors` names every offending
    /// field.
    #[error("the request is not valid ({} problems)", .0.len())]
    Validation(Vec<FieldError>),
    /// 503: the log is inconsistent, so writes are refused until an operator investigates.
    #[error("{0}")]
    LogInconsistent(String),
    /// 503: the database cannot be reached.
    #[error("{0}")]
    Unavailable(String),
    /// 500: anything else; the cause is logged, not sent.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// The problem type's slug: the last segment of its `type` URI.
    pub fn slug(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad-request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not-found",
            ApiError::MethodNotAllowed { .. } => "method-not-allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::StateConflict(_) => "state-conflict",
            ApiError::KeyReused(_) => "idempotency-key-reused",
            ApiError::RequestTimeout(_) => "request-timeout",
            ApiError::PayloadTooLarge(_) => "payload-too-large",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::Validation(_) => "validation",
            ApiError::LogInconsistent(_) => "log-inconsistent",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The problem details body.
    pub fn problem(&self) -> Problem {
        let slug = self.slug();
        let title = PROBLEM_TYPES
            .iter()
            .find(|t| t.slug == slug)
            .map_or("Error", |t| t.title);
        let detail = match self {
            ApiError::Internal(_) => {
                "the server could not complete the request; the cause has been logged".to_owned()
            }
            ApiError::Validation(errors) => {
                let fields: Vec<&str> = errors
                    .iter()
                    .take(MAX_QUOTED_FIELDS)
                    .map(|e| {
                        if e.field.is_empty() {
                            "(the body)"
                        } else {
                            e.field.as_str()
                        }
                    })
                    .collect();
                let more = match errors.len().saturating_sub(MAX_QUOTED_FIELDS) {
                    0 => String::new(),
                    n => format!(" and {n} more"),
                };
                format!(
                    "{} invalid: {}{more}",
                    if errors.len() == 1 {
                        "1 field is"
                    } else {
                        "fields are"
                    },
                    fields.join(", ")
                )
            }
            // Details can quote the request (a path, a slug, a name): bounded like field errors.
            other => crate::text::truncate(&other.to_string(), MAX_DETAIL_CHARS).into_owned(),
        };
        Problem {
            problem_type: format!("/problems/{slug}"),
            title: title.to_owned(),
            status: self.status_code().as_u16(),
            detail,
            errors: match self {
                ApiError::Validation(errors) => {
                    errors.iter().take(MAX_LISTED_ERRORS).cloned().collect()
                }
                _ => Vec::new(),
            },
            errors_total: match self {
                ApiError::Validation(errors) => Some(errors.len()),
                _ => None,
            },
            request_id: crate::telemetry::current_request_id(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) | ApiError::StateConflict(_) => StatusCode::CONFLICT,
            ApiError::KeyReused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::LogInconsistent(_) | ApiError::Unavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            ApiError::Internal(cause) => tracing::error!(%cause, "internal error"),
            ApiError::LogInconsistent(cause) => {
                tracing::error!(%cause, "LOG INCONSISTENT: appends refused")
            }
            ApiError::Unavailable(cause) => tracing::error!(%cause, "database unavailable"),
            // The fields come from the request: log how many and the first few, escaped
            // (`Debug`), never the whole list.
            ApiError::Validation(errors) => tracing::warn!(
                status = status.as_u16(),
                problems = errors.len(),
                first = ?errors
                    .iter()
                    .take(MAX_QUOTED_FIELDS)
                    .map(|e| e.field.as_str())
                    .collect::<Vec<_>>(),
                "request refused"
            ),
            other => {
                tracing::warn!(
                    status = status.as_u16(),
                    error = ?crate::text::truncate(&other.to_string(), MAX_DETAIL_CHARS),
                    "request refused"
                )
            }
        }
        let mut response = HttpResponse::build(status);
        response.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        match self {
            ApiError::MethodNotAllowed { allow } => {
                if let Ok(allow) = HeaderValue::from_str(allow) {
                    response.insert_header((header::ALLOW, allow));
                }
            }
            ApiError::Unauthorized(_) => {
                response
                    .insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            ApiError::LogInconsistent(_) | ApiError::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("5")));
            }
            ApiError::UnsupportedMediaType(_) => {
                response.insert_header((
                    header::HeaderName::from_static("accept-post"),
                    HeaderValue::from_static("application/json"),
                ));
            }
            _ => {}
        }
        // These refuse a write before (or while) its body is read: close the connection rather
        // than read or drain the rest of a body nobody will use.
        if matches!(
            self,
            ApiError::Unauthorized(_)
                | ApiError::Forbidden(_)
                | ApiError::RequestTimeout(_)
                | ApiError::PayloadTooLarge(_)
                | ApiError::UnsupportedMediaType(_)
        ) {
            response.force_close();
        }
        response.json(self.problem())
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::Inconsistent(cause) => ApiError::LogInconsistent(cause),
            StoreError::EntryTooLarge { .. } => ApiError::PayloadTooLarge(error.to_string()),
            StoreError::Contention { .. } | StoreError::NotCommitted(_) => {
                ApiError::Unavailable(error.to_string())
            }
            StoreError::IdentityMismatch { .. } => ApiError::Internal(error.to_string()),
            StoreError::Duplicate(what) => ApiError::Conflict(format!("{what} already exists")),
            StoreError::Invalid(errors) => ApiError::Validation(errors),
            StoreError::Conflict(why) => ApiError::StateConflict(why),
            StoreError::NotFound(what) => ApiError::NotFound(what),
            StoreError::KeyReused => ApiError::KeyReused(error.to_string()),
            StoreError::CannotOpen(why) => ApiError::Unavailable(why),
            StoreError::Database(e) => match e {
                sea_orm::DbErr::ConnectionAcquire(_) | sea_orm::DbErr::Conn(_) => {
                    ApiError::Unavailable(e.to_string())
                }
                other => ApiError::Internal(other.to_string()),
            },
        }
    }
}

/// Renders a query-string error as 400.
pub fn query_error(
    error: actix_web::error::QueryPayloadError,
    _: &HttpRequest,
) -> actix_web::Error {
    ApiError::BadRequest(format!("bad query parameters: {error}")).into()
}

/// Renders a path-parameter error as 404: no resource has that name.
pub fn path_error(error: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::NotFound(format!("no such resource: {error}")).into()
}

/// The response for any unknown route.
pub async fn not_found(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "no route for {}",
        request.path()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validation_problem_lists_the_first_100_errors_and_counts_them_all() {
        let errors: Vec<FieldError> = (0..255_000)
            .map(|i| FieldError::new(format!("participants[{i}].name"), "must not be empty"))
            .collect();
        let problem = ApiError::Validation(errors).problem();
        assert_eq!(problem.errors.len(), MAX_LISTED_ERRORS);
        assert_eq!(problem.errors_total, Some(255_000));
        assert_eq!(problem.errors[99].field, "participants[99].name");
        assert!(
            problem
                .detail
                .ends_with("participants[9].name and 254990 more")
        );
        let size = serde_json::to_vec(&problem).map_or(usize::MAX, |b| b.len());
        assert!(size < 16 * 1024, "{size} bytes");
    }

    #[test]
    fn a_detail_quoting_the_request_is_bounded() {
        let long = format!("no decision {}", "x".repeat(100_000));
        let detail = ApiError::NotFound(long).problem().detail;
        assert!(
            detail.chars().count() <= MAX_DETAIL_CHARS + 1,
            "{}",
            detail.len()
        );
    }

    #[test]
    fn a_small_validation_problem_is_listed_whole() {
        let problem = ApiError::Validation(vec![FieldError::new("title", "empty")]).problem();
        assert_eq!(problem.errors.len(), 1);
        assert_eq!(problem.errors_total, Some(1));
        assert_eq!(problem.detail, "1 field is invalid: title");
        assert_eq!(ApiError::NotFound("x".into()).problem().errors_total, None);
    }
}
