//! The headers every response carries, set in one place for the API, the pages, the Swagger UI,
//! errors and the 404/405 fallbacks alike.
//!
//! **Caching.** A response whose content may depend on who asks MUST NOT be stored by a shared
//! cache or replayed to another reader:
//!
//! - every response gets `Vary: Authorization`, so no cache answers a reader with another's copy;
//! - a response to a request with an `Authorization` header, and every response of a deployment
//!   closed to anonymous readers (`--anonymous-read false`), is `Cache-Control: private`: the
//!   handler's own directives are kept except `public` and `s-maxage` (a tile stays immutable
//!   in the reader's own cache), and `private, no-cache` is used when the handler set none;
//! - token management (`/api/v1/tokens…`) is `Cache-Control: no-store`: it lists tokens and
//!   hands out secrets.
//!
//! Only what is identical for every anonymous reader of a deployment that allows anonymous
//! reading keeps the handler's `public` lifetime: tiles, assets.
//!
//! **Framing and sniffing.** Every response gets `X-Content-Type-Options: nosniff` and
//! `X-Frame-Options: DENY`, and a Content-Security-Policy if the handler set none: the pages set
//! their own strict one ([`crate::feed::CONTENT_SECURITY_POLICY`]); the Swagger UI gets
//! [`SWAGGER_UI_POLICY`]; everything else (JSON, text, problems) gets [`DATA_POLICY`], which
//! loads nothing and may not be framed.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

use crate::api::AppState;

/// Where the Swagger UI is served.
pub const SWAGGER_UI_PREFIX: &str = "/api/docs/";

/// The Content-Security-Policy of the Swagger UI. Its vendored files are all served from here
/// and it runs no inline script; its React components set inline `style` attributes, and its
/// stylesheet embeds `data:` images, hence `style-src 'unsafe-inline'` and `img-src data:`.
/// `connect-src 'self'` lets it fetch the OpenAPI document and "Try it out" against this API.
pub const SWAGGER_UI_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     object-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'";

/// The Content-Security-Policy of every response that is data rather than a page: load
/// nothing, never be framed.
pub const DATA_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// Whether `path` manages tokens.
fn is_token_management(path: &str) -> bool {
    path == "/api/v1/tokens" || path.starts_with("/api/v1/tokens/")
}

/// The middleware: runs the request, then sets the headers described in the module
/// documentation on whatever came back, success or refusal.
pub async fn set(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // A deployment without state (none exists) is treated as closed: private is the safe side.
    let anonymous_read = request
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| state.anonymous_read);
    let personal = !anonymous_read || request.headers().contains_key(header::AUTHORIZATION);
    let path = request.path().to_owned();
    // Handlers' and fallbacks' errors arrive here as responses already (the router renders
    // them); only a failure of the server's own machinery is an `Err`, which actix renders.
    let mut response = next.call(request).await?.map_into_boxed_body();
    let headers = response.headers_mut();
    vary_on_authorization(headers);
    if is_token_management(&path) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    } else if personal {
        make_private(headers);
    }
    set_default(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set_default(headers, header::X_FRAME_OPTIONS, "DENY");
    let policy = if path.starts_with(SWAGGER_UI_PREFIX) {
        SWAGGER_UI_POLICY
    } else {
        DATA_POLICY
    };
    set_default(headers, header::CONTENT_SECURITY_POLICY, policy);
    Ok(response)
}

fn set_default(headers: &mut HeaderMap, name: header::HeaderName, value: &'static str) {
    if !headers.contains_key(&name) {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// Adds `Authorization` to `Vary` unless it is there already (or `Vary: *`).
fn vary_on_authorization(headers: &mut HeaderMap) {
    let present = headers
        .get_all(header::VARY)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|v| v == "*" || v.eq_ignore_ascii_case("authorization"));
    if !present {
        headers.append(header::VARY, HeaderValue::from_static("Authorization"));
    }
}

/// Rewrites `Cache-Control` as `private` plus the handler's directives other than `public`,
/// `s-maxage` and `private`; `private, no-cache` when there were none.
fn make_private(headers: &mut HeaderMap) {
    let kept: Vec<String> = headers
        .get_all(header::CACHE_CONTROL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|d| {
            let name = d.split('=').next().unwrap_or_default().trim();
            !d.is_empty()
                && !name.eq_ignore_ascii_case("public")
                && !name.eq_ignore_ascii_case("private")
                && !name.eq_ignore_ascii_case("s-maxage")
        })
        .map(str::to_owned)
        .collect();
    let value = if kept.is_empty() {
        "private, no-cache".to_owned()
    } else {
        format!("private, {}", kept.join(", "))
    };
    // Made of the handler's own header text, which was valid; the fallback is stricter still.
    let value = HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("no-store"));
    headers.insert(header::CACHE_CONTROL, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn private(existing: &[&str]) -> String {
        let mut headers = HeaderMap::new();
        for value in existing {
            headers.append(
                header::CACHE_CONTROL,
                HeaderValue::from_str(value).expect("value"),
            );
        }
        make_private(&mut headers);
        headers
            .get(header::CACHE_CONTROL)
            .expect("Cache-Control")
            .to_str()
            .expect("text")
            .to_owned()
    }

    #[test]
    fn private_keeps_the_lifetime_but_not_public() {
        assert_eq!(
            private(&["public, max-age=31536000, immutable"]),
            "private, max-age=31536000, immutable"
        );
        assert_eq!(private(&["no-cache"]), "private, no-cache");
        assert_eq!(private(&[]), "private, no-cache");
        assert_eq!(
            private(&["public, s-maxage=60", "max-age=1"]),
            "private, max-age=1"
        );
    }

    #[test]
    fn authorization_is_added_to_vary_once() {
        let mut headers = HeaderMap::new();
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        vary_on_authorization(&mut headers);
        vary_on_authorization(&mut headers);
        let vary: Vec<_> = headers.get_all(header::VARY).collect();
        assert_eq!(vary, ["accept-encoding", "Authorization"]);
    }

    #[test]
    fn only_the_token_routes_manage_tokens() {
        assert!(is_token_management("/api/v1/tokens"));
        assert!(is_token_management("/api/v1/tokens/clerk"));
        assert!(!is_token_management("/api/v1/tokensx"));
    }
}
