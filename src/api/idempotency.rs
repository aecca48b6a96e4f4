//! The `Idempotency-Key` request header, and the claim it makes on the store.
//!
//! Every POST accepts the header. The key (1 to 255 visible ASCII characters, [`PATTERN`]) is
//! scoped to the token that sends it; a malformed key is refused (400) only once the token has
//! been checked, so a request without a valid token is always a 401, whatever its headers. The
//! request a key stands for is the method, the path and the body in RFC 8785
//! canonical form, so a retry that re-serialises the same JSON differently is still a retry.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use ledger::Hash;
use serde_json::Value;

use super::ApiError;
use crate::store::{Claim, Token};

/// The header's name.
pub const HEADER: &str = "Idempotency-Key";

/// The response header set on a replayed response.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";

/// What a key may be, as the OpenAPI document declares it: 1 to 255 visible ASCII characters.
pub const PATTERN: &str = "^[!-~]{1,255}$";

/// The `Idempotency-Key` of a request, if it sent one.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    /// The key; `Err` for a header that is not a valid key.
    key: Result<Option<String>, ()>,
    method: String,
    path: String,
}

impl IdempotencyKey {
    /// Refuses a malformed key (400). Call it once the caller is authenticated.
    pub fn check(&self) -> Result<(), ApiError> {
        self.key.as_ref().map(|_| ()).map_err(|()| {
            ApiError::BadRequest("Idempotency-Key must be 1 to 255 visible ASCII characters".into())
        })
    }

    /// The claim this request makes for `token`, `None` without a key; a malformed key is
    /// refused as [`IdempotencyKey::check`] refuses it.
    pub fn claim(&self, token: &Token, body: &Value) -> Result<Option<Claim>, ApiError> {
        self.check()?;
        let Ok(Some(key)) = self.key.clone() else {
            return Ok(None);
        };
        let canonical = ledger::canonical::to_canonical_bytes(body)
            .unwrap_or_else(|_| body.to_string().into_bytes());
        let mut request = Vec::with_capacity(canonical.len() + 64);
        request.extend_from_slice(self.method.as_bytes());
        request.push(b' ');
        request.extend_from_slice(self.path.as_bytes());
        request.push(b'\n');
        request.extend_from_slice(&canonical);
        Ok(Some(Claim {
            token: token.name.clone(),
            key,
            request_hash: Hash::digest(&request),
        }))
    }
}

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<IdempotencyKey, ApiError>>;

    /// Never fails: a malformed key is refused by [`IdempotencyKey::check`], after the token.
    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let key = match request.headers().get(HEADER) {
            None => Ok(None),
            Some(value) => value
                .to_str()
                .ok()
                .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
                .map(|k| Some(k.to_owned()))
                .ok_or(()),
        };
        ready(Ok(IdempotencyKey {
            key,
            method: request.method().to_string(),
            path: request.path().to_owned(),
        }))
    }
}
