//! The server log: what a request leaves in it, and how every value is written.
//!
//! Everything in a request — path, query, headers — is chosen by whoever sends it, and the log is
//! read by operators and by tools that split it into lines. Two rules keep it honest:
//!
//! - **No value can forge a line.** [`EscapedFields`] writes every field of every event and span
//!   with its control characters escaped (`\n`, `\r`, `\u{1b}`, …, and the Unicode line breaks
//!   and bidirectional overrides), whichever code logs it; [`escape`] does the same for a value
//!   logged by hand. A percent-decoded `%0A` in a path ends up as the two characters `\n`.
//! - **No secret is written.** [`RequestSpan`], the root span of every request, records the
//!   method, the route pattern, the path without its query (a query may carry a secret, such as
//!   an `access_token` a client added), the peer address, the user agent, the status and the
//!   request id; never a query string, the `Authorization` header or any other header.

use std::fmt;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::{DefaultFields, Writer};

/// Sets up the process's log: `RUST_LOG` (default `info`) to standard error, every field escaped.
pub fn init() {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .fmt_fields(EscapedFields)
        .init();
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
        let route = request.match_pattern().unwrap_or_else(|| "default".into());
        let user_agent = request
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
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
