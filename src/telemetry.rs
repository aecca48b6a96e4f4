//! The server log and the request id: what a request leaves in the log, how every value is
//! written, and how a request is named in its response and in the log alike.
//!
//! Everything in a request — path, query, headers — is chosen by whoever sends it, and the log is
//! read by operators and by tools that split it into lines. Two rules keep it honest:
//!
//! - **No value can forge a line.** In the text format, [`EscapedFields`] writes every field of
//!   every event and span with its control characters escaped (`\n`, `\r`, `\u{1b}`, …, and the
//!   Unicode line breaks and bidirectional overrides), whichever code logs it; [`escape`] does the
//!   same for a value logged by hand. A percent-decoded `%0A` in a path ends up as the two
//!   characters `\n`. In the JSON format ([`LogFormat::Json`]) each event is one JSON object on
//!   one line: JSON string escaping keeps a value from breaking it, and the values a request
//!   chose (path, route, user agent) are passed through [`escape`] in both formats.
//! - **No secret is written.** [`RequestSpan`], the root span of every request, records the
//!   method, the route pattern, the path without its query (a query may carry a secret, such as
//!   an `access_token` a client added), the peer address, the user agent, the status and the
//!   request id; never a query string, the `Authorization` header or any other header. The
//!   access line [`observe`] writes after each request holds the same and no more.
//!
//! **Request ids.** [`observe`], the outermost middleware, names every request: the
//! `X-Request-Id` a trusted proxy (`--trusted-proxies`) sent, if it is 1 to 128 visible ASCII
//! characters, else a fresh UUID v7. A client that is not a trusted proxy cannot choose the id
//! its request is logged under. The id is in the request span, the access line, the
//! `X-Request-Id` response header and the `request_id` member of every problem body (read by
//! [`crate::api::error::ApiError::problem`] through [`current_request_id`]).

use std::fmt;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::{DefaultFields, Writer};

use crate::api::AppState;
use crate::metrics::HttpMetrics;

/// How log events are written to standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event, every field escaped.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `message`, the event's fields,
    /// and the request span's fields under `span`.
    Json,
}

/// Sets up the process's log in `format`: `RUST_LOG` (default `info`) to standard error.
pub fn init(format: LogFormat) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    match format {
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .fmt_fields(EscapedFields)
            .init(),
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
    }
}

/// The header that carries a request's id, in the request from a trusted proxy and in every
/// response.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// A request's id, in the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

tokio::task_local! {
    /// The id of the request whose handler is running, for problem bodies: an error's response
    /// is rendered without access to the request.
    static CURRENT_REQUEST_ID: String;
}

/// The id of the request being handled on this task, if any.
pub fn current_request_id() -> Option<String> {
    CURRENT_REQUEST_ID.try_with(Clone::clone).ok()
}

/// Whether `value` may be taken as a request id: 1 to 128 visible ASCII characters.
pub fn is_request_id(value: &[u8]) -> bool {
    (1..=128).contains(&value.len()) && value.iter().all(|b| b.is_ascii_graphic())
}

/// The middleware that names, counts and logs every request (see the module documentation).
/// It MUST be the outermost, so that every response — whichever layer made it — carries the id
/// and is counted.
pub async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let peer = request.peer_addr().map(|a| a.ip());
    let trusted = peer.is_some_and(|ip| {
        request
            .app_data::<web::Data<AppState>>()
            .is_some_and(|state| state.base_url.trusts(ip))
    });
    let id = request
        .headers()
        .get(&REQUEST_ID_HEADER)
        .filter(|value| trusted && is_request_id(value.as_bytes()))
        .and_then(|value| value.to_str().ok())
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    request.extensions_mut().insert(RequestId(id.clone()));
    let metrics = request.app_data::<web::Data<HttpMetrics>>().cloned();
    let method = request.method().clone();
    let path = escape(request.path());
    // Found from the resource map, as the router will: the same pattern whether the request then
    // succeeds or fails in a middleware.
    let route = request.match_pattern();
    let outcome = CURRENT_REQUEST_ID
        .scope(id.clone(), async move {
            match next.call(request).await {
                Ok(response) => Ok(response.map_into_boxed_body()),
                // A middleware failed: render its response here, inside the scope, so that a
                // problem body still carries the id, and hand it on ready-made.
                Err(error) => {
                    let response = error.error_response();
                    Err((error, response))
                }
            }
        })
        .await;
    let header = HeaderValue::from_str(&id).ok();
    let status = match &outcome {
        Ok(response) => response.status(),
        Err((_, response)) => response.status(),
    }
    .as_u16();
    let elapsed = started.elapsed();
    if let Some(metrics) = metrics {
        metrics.observe(route.as_deref(), &method, status, elapsed);
    }
    tracing::info!(
        http.method = %method,
        http.route = %escape(route.as_deref().unwrap_or(crate::metrics::UNMATCHED_ROUTE)),
        http.path = %path,
        http.status_code = status,
        duration_ms = elapsed.as_secs_f64() * 1_000.0,
        request_id = %id,
        peer = %peer.map(|ip| ip.to_string()).unwrap_or_default(),
        "request served"
    );
    match outcome {
        Ok(mut response) => {
            if let Some(value) = header {
                response.headers_mut().insert(REQUEST_ID_HEADER, value);
            }
            Ok(response)
        }
        Err((error, mut response)) => {
            if let Some(value) = header {
                response.headers_mut().insert(REQUEST_ID_HEADER, value);
            }
            Err(actix_web::error::InternalError::from_response(error, response).into())
        }
    }
}

/// Whether `c` must not appear raw in a log line: a control character, a Unicode line or
/// paragraph separator, or a bidirectional override that could make a line read as another.
fn must_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every character that could forge or disguise a log line escaped as Rust writes it
/// (`\n`, `\u{1b}`); everything else, backslashes included, unchanged.
pub fn escape(text: &str) -> String {
    if !text.chars().any(must_escape) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if must_escape(c) {
            // `escape_default` spells every one of these as `\n`, `\r`, `\t` or `\u{…}`.
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Formats fields as the default formatter does (`name=value`, the message bare), then escapes
/// the result with [`escape`], so that no field of any event or span can break a line.
#[derive(Debug, Default, Clone, Copy)]
pub struct EscapedFields;

impl<'writer> FormatFields<'writer> for EscapedFields {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        let mut plain = String::new();
        DefaultFields::new().format_fields(Writer::new(&mut plain), fields)?;
        writer.write_str(&escape(&plain))
    }
}

/// The root span of every request (see the module documentation for what it records and why).
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let route = request
            .match_pattern()
            .unwrap_or_else(|| crate::metrics::UNMATCHED_ROUTE.into());
        let user_agent = request
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(|id| id.0.clone())
            .unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %escape(&route),
            http.path = %escape(request.path()),
            http.flavor = ?request.version(),
            http.client_ip = %request.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default(),
            http.user_agent = %escape(&user_agent),
            http.status_code = tracing::field::Empty,
            request_id = %request_id,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let (status, error) = match outcome {
            Ok(response) => (
                response.status(),
                response.response().error().map(Error::as_response_error),
            ),
            Err(error) => {
                let error = error.as_response_error();
                (error.status_code(), Some(error))
            }
        };
        span.record("http.status_code", status.as_u16());
        if let Some(error) = error {
            let message = escape(&error.to_string());
            let details = escape(&format!("{error:?}"));
            span.record("exception.message", tracing::field::display(message));
            span.record("exception.details", tracing::field::display(details));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_id_is_1_to_128_visible_ascii_characters() {
        assert!(is_request_id(b"a"));
        assert!(is_request_id(b"0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(is_request_id(&[b'x'; 128]));
        assert!(!is_request_id(b""));
        assert!(!is_request_id(&[b'x'; 129]));
        assert!(!is_request_id(b"two words"));
        assert!(!is_request_id(b"tab\there"));
        assert!(!is_request_id("caf\u{e9}".as_bytes()));
    }

    #[test]
    fn control_characters_and_line_breaks_are_escaped() {
        assert_eq!(
            escape("no decision x\n2026-01-01T00:00:00Z ERROR forged"),
            "no decision x\\n2026-01-01T00:00:00Z ERROR forged"
        );
        assert_eq!(escape("a\r\tb\u{1b}[31m"), "a\\r\\tb\\u{1b}[31m");
        assert_eq!(escape("x\u{2028}y\u{202e}z"), "x\\u{2028}y\\u{202e}z");
        assert_eq!(escape("plain / path \\n café"), "plain / path \\n café");
    }
}
