//! Bearer-token authentication as an extractor.
//!
//! [`Caller`] is `None` for an anonymous request and the token for an authenticated one. A request
//! that presents a token which is unknown, revoked or malformed is refused with 401 outright, so a
//! typo never silently downgrades a writer to an anonymous reader.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use super::ApiError;
use super::AppState;
use crate::record::Classification;
use crate::store::Token;

/// Who is asking.
#[derive(Debug, Clone)]
pub struct Caller(pub Option<Token>);

impl Caller {
    /// The token, or 401 when there is none.
    pub fn require(self) -> Result<Token, ApiError> {
        self.0.ok_or_else(|| {
            ApiError::Unauthorized("this operation needs an Authorization: Bearer token".into())
        })
    }

    /// Classifications this caller may read: anonymous callers see public records only.
    pub fn visible(&self) -> Vec<Classification> {
        match self.0 {
            None => vec![Classification::Public],
            Some(_) => vec![
                Classification::Public,
                Classification::Internal,
                Classification::Restricted,
            ],
        }
    }

    /// Whether this caller may read a record of `classification`.
    pub fn may_read(&self, classification: Classification) -> bool {
        self.visible().contains(&classification)
    }

    /// Whether this caller may see a disclosure stored with `visibility`.
    pub fn may_see(&self, visibility: &str) -> bool {
        self.0.is_some() || visibility == "public"
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = request.app_data::<web::Data<AppState>>().cloned();
        let presented = request
            .headers()
            .get(header::AUTHORIZATION)
            .map(|v| v.to_str().map(str::to_owned));
        Box::pin(async move {
            let Some(presented) = presented else {
                return Ok(Caller(None));
            };
            let bad = || ApiError::Unauthorized("the bearer token is not valid".into());
            let presented = presented.map_err(|_| bad())?;
            // The scheme name is case-insensitive (RFC 9110 §11.1).
            let secret = presented
                .split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, secret)| secret)
                .ok_or_else(|| {
                    ApiError::Unauthorized("use Authorization: Bearer <token>".into())
                })?;
            let state =
                state.ok_or_else(|| ApiError::Internal("application state missing".into()))?;
            match state.store.authenticate(secret.trim()).await? {
                Some(token) => Ok(Caller(Some(token))),
                None => Err(bad()),
            }
        })
    }
}
