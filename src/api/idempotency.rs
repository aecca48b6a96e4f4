//! The `Idempotency-Key` request header, and the claim it makes on the store.
//!
//! Every POST accepts the header. The key (1 to 255 visible ASCII characters) is scoped to the
//! token that sends it; the request it stands for is the method, the path and the body in RFC 8785
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

/// The `Idempotency-Key` of a request, if it sent one.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    key: Option<String>,
    method: String,
    path: String,
}

impl IdempotencyKey {
    /// The claim this request makes for `token`, or `None` without a key.
    pub fn claim(&self, token: &Token, body: &Value) -> Option<Claim> {
        let key = self.key.clone()?;
        let canonical = ledger::canonical::to_canonical_bytes(body)
            .unwrap_or_else(|_| body.to_string().into_bytes());
        let mut request = Vec::with_capacity(canonical.len() + 64);
        request.extend_from_slice(self.method.as_bytes());
        request.push(b' ');
        request.extend_from_slice(self.path.as_bytes());
        request.push(b'\n');
        request.extend_from_slice(&canonical);
        Some(Claim {
            token: token.name.clone(),
            key,
            request_hash: Hash::digest(&request),
        })
    }
}

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<IdempotencyKey, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let key = match request.headers().get(HEADER) {
            None => Ok(None),
            Some(value) => value
                .to_str()
                .ok()
                .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
                .map(|k| Some(k.to_owned()))
                .ok_or_else(|| {
                    ApiError::BadRequest(
                        "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
                    )
                }),
        };
        ready(key.map(|key| IdempotencyKey {
            key,
            method: request.method().to_string(),
            path: request.path().to_owned(),
        }))
    }
}
