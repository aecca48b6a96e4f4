//! Reading a write's JSON body: only after the caller is known, within a size limit and a
//! deadline, off the async workers.
//!
//! Write handlers take the body as a `web::Payload` and call [`read_json`] only once the token
//! has been checked (401) and its role allows the operation (403). A client without a valid
//! token is therefore answered without the server buffering its body; actix-web then closes the
//! connection instead of reading the rest. The memory a connection can pin is bounded by the
//! limit of the operation it is allowed to call ([`MAX_WRITE_BODY_BYTES`] for the log,
//! [`MAX_REGISTRY_BODY_BYTES`] for the registry), for at most the read deadline.
//!
//! In order: the media type must be `application/json`, optionally with `charset=utf-8` (415,
//! before anything is read); a declared `Content-Length` over the limit is refused at once
//! (413); the body must arrive whole within the deadline (408, and the connection is closed);
//! a chunked body that grows past the limit is refused (413). The JSON is then parsed and every
//! string normalised to NFC (`crate::text`) on the blocking pool.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, web};
use serde_json::Value;

use super::ApiError;

/// The largest body of a decision or lineage request: 256 KiB. A record is at most 65,535 bytes
/// in canonical form (`record::MAX_RECORD_BYTES`), and so is a lineage entry; four times that
/// leaves room for any formatting and escaping a client may use, and no valid request needs more.
pub const MAX_WRITE_BODY_BYTES: usize = 256 * 1024;

/// The largest body of a registry write (a body, a membership, a token): 16 KiB. The largest
/// valid one, a token scoped to `store::MAX_TOKEN_BODIES` bodies, is under 8 KiB.
pub const MAX_REGISTRY_BODY_BYTES: usize = 16 * 1024;

/// Checks the `Content-Type` of a request with a JSON body: `application/json`, with no
/// parameter but an optional `charset=utf-8` (both case-insensitive).
pub fn check_media_type(request: &HttpRequest) -> Result<(), ApiError> {
    let refuse = || {
        ApiError::UnsupportedMediaType(
            "send the body as Content-Type: application/json (optionally ; charset=utf-8)".into(),
        )
    };
    let value = request
        .headers()
        .get(header::CONTENT_TYPE)
        .ok_or_else(refuse)?
        .to_str()
        .map_err(|_| refuse())?;
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(refuse());
    }
    for parameter in parts.map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = parameter.split_once('=').ok_or_else(refuse)?;
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        if !(name.trim().eq_ignore_ascii_case("charset") && value.eq_ignore_ascii_case("utf-8")) {
            return Err(refuse());
        }
    }
    Ok(())
}

/// Reads the request's body as JSON, at most `limit` bytes within `deadline`, with every string
/// normalised to NFC. Call it only after the caller is authorised.
pub async fn read_json(
    request: &HttpRequest,
    payload: web::Payload,
    limit: usize,
    deadline: Duration,
) -> Result<Value, ApiError> {
    check_media_type(request)?;
    let too_large = || ApiError::PayloadTooLarge(format!("the body is larger than {limit} bytes"));
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let bytes = match actix_web::rt::time::timeout(deadline, payload.to_bytes_limited(limit)).await
    {
        Err(_) => {
            return Err(ApiError::RequestTimeout(format!(
                "the body did not arrive within {} ms",
                deadline.as_millis()
            )));
        }
        Ok(Err(_)) => return Err(too_large()),
        Ok(Ok(Err(error))) => {
            return Err(ApiError::BadRequest(format!(
                "the body could not be read: {error}"
            )));
        }
        Ok(Ok(Ok(bytes))) => bytes,
    };
    // Parsing and normalising up to `limit` bytes is linear but not free: keep it off the
    // workers that serve every other connection.
    web::block(move || {
        let mut value: Value = serde_json::from_slice(&bytes)?;
        crate::text::normalize(&mut value);
        Ok::<_, serde_json::Error>(value)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("the blocking pool failed: {e}")))?
    .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn media(value: &str) -> Result<(), ApiError> {
        check_media_type(
            &TestRequest::default()
                .insert_header((header::CONTENT_TYPE, value))
                .to_http_request(),
        )
    }

    #[test]
    fn only_json_in_utf_8_is_accepted() {
        for ok in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/json;charset=UTF-8",
            "application/json; charset=\"utf-8\"",
        ] {
            assert!(media(ok).is_ok(), "{ok}");
        }
        for bad in [
            "text/json",
            "application/evil+json",
            "application/json; charset=latin1",
            "application/json; charset=utf-8; profile=x",
            "application/jsonp",
            "text/plain",
            "",
        ] {
            assert!(
                matches!(media(bad), Err(ApiError::UnsupportedMediaType(_))),
                "{bad}"
            );
        }
        assert!(check_media_type(&TestRequest::default().to_http_request()).is_err());
    }
}
