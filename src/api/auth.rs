//! Bearer-token authentication as an extractor.
//!
//! [`Caller`] is `None` for an anonymous request and the token for an authenticated one. A request
//! that presents a token which is unknown, revoked, expired or malformed is refused with 401
//! outright, so a typo never silently downgrades a writer to an anonymous reader. A deployment
//! that does not allow anonymous reading refuses requests without a token the same way.
//! What each role may do is decided by [`Token`]; this module turns its answers into 401/403.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use super::ApiError;
use super::AppState;
use crate::record::Classification;
use crate::store::{Power, Token};

/// Who is asking: `None` for an anonymous reader.
#[derive(Debug, Clone)]
pub struct Caller(pub Option<Token>);

impl Caller {
    /// The token, or 401 when there is none.
    pub fn require(self) -> Result<Token, ApiError> {
        self.0.ok_or_else(|| {
            ApiError::Unauthorized("this operation needs an Authorization: Bearer token".into())
        })
    }

    /// The token if it may record decisions and lineage for `body`; 401 or 403 otherwise.
    pub fn require_recorder(self, body: &str) -> Result<Token, ApiError> {
        let token = self.require()?;
        if !token.may_record_for(body) {
            return Err(ApiError::Forbidden(format!(
                "token {:?} ({}) may not record for body {body:?}: that needs a secretariat token \
                 scoped to it",
                token.name,
                token.role.as_str()
            )));
        }
        Ok(token)
    }

    /// The token if it holds `power`; 401 or 403 otherwise.
    pub fn require_power(self, power: Power) -> Result<Token, ApiError> {
        let token = self.require()?;
        if !token.has(power) {
            let name = serde_json::to_value(power).unwrap_or_default();
            return Err(ApiError::Forbidden(format!(
                "token {:?} ({}) does not hold the {} power of a redactor",
                token.name,
                token.role.as_str(),
                name.as_str().unwrap_or("?")
            )));
        }
        Ok(token)
    }

    /// The token if it is an admin's; 401 or 403 otherwise.
    pub fn require_admin(self) -> Result<Token, ApiError> {
        let token = self.require()?;
        if !token.is_admin() {
            return Err(ApiError::Forbidden(format!(
                "token {:?} ({}) is not an admin token",
                token.name,
                token.role.as_str()
            )));
        }
        Ok(token)
    }

    /// Whether this caller may read the content of a record of `classification` of `body`:
    /// anonymous callers read public records only.
    pub fn may_read(&self, classification: Classification, body: &str) -> bool {
        match &self.0 {
            None => classification == Classification::Public,
            Some(token) => token.may_read(classification, body),
        }
    }

    /// Whether this caller may read records of `classification` whatever their body.
    pub fn may_read_any_body(&self, classification: Classification) -> bool {
        match &self.0 {
            None => classification == Classification::Public,
            Some(token) => token.may_read_any_body(classification),
        }
    }

    /// Whether this caller may see a disclosure stored with `visibility` on the log's endpoints.
    pub fn may_see(&self, visibility: &str) -> bool {
        match &self.0 {
            None => visibility == "public",
            Some(token) => token.may_see_everywhere(visibility),
        }
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
            let state =
                state.ok_or_else(|| ApiError::Internal("application state missing".into()))?;
            let Some(presented) = presented else {
                if !state.anonymous_read {
                    return Err(ApiError::Unauthorized(
                        "this deployment does not allow anonymous reading; send a bearer token"
                            .into(),
                    ));
                }
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
            match state
                .store
                .authenticate(secret.trim(), (state.clock)())
                .await?
            {
                Some(token) => Ok(Caller(Some(token))),
                None => Err(bad()),
            }
        })
    }
}
