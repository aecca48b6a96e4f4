//! The one pagination convention of every list the API serves.
//!
//! A list takes `limit` and `cursor`; its answer carries `next_cursor` (absent, never `null`, on
//! the last page) and, with it, an RFC 8288 `Link: <…>; rel="next"` header whose target is this
//! request with the cursor put in: a client pages by following `rel="next"` until there is none,
//! or by passing `next_cursor` back as `cursor`. The link is relative (a path and query, resolved
//! against the request's URL), so it is right behind any proxy and never names a host.
//!
//! A cursor is opaque to clients of the decision list (it names where the page ended, in a
//! versioned encoding this service checks). The log is addressed by position, so its cursor is
//! that position in decimal, and `from` seeks to any position directly.

use actix_web::HttpRequest;

/// The `Link` header value of the page after this one: the request's path and query with
/// `cursor` set to `cursor` (and any `from` seek dropped, as the cursor replaces it).
pub fn next_link(request: &HttpRequest, cursor: &str) -> String {
    let mut query: Vec<&str> = request
        .query_string()
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            !pair.is_empty() && name != "cursor" && name != "from"
        })
        .collect();
    let cursor = format!("cursor={}", crate::base_url::percent_encode(cursor));
    query.push(&cursor);
    format!("<{}?{}>; rel=\"next\"", request.path(), query.join("&"))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn the_next_link_keeps_the_filters_and_replaces_the_cursor_and_seek() {
        let request = TestRequest::get()
            .uri("/api/v1/decisions?body=cabinet&cursor=old&limit=2&from=9")
            .to_http_request();
        assert_eq!(
            next_link(&request, "djE6NDI"),
            "</api/v1/decisions?body=cabinet&limit=2&cursor=djE6NDI>; rel=\"next\""
        );
        let bare = TestRequest::get()
            .uri("/api/v1/log/entries")
            .to_http_request();
        assert_eq!(
            next_link(&bare, "a b"),
            "</api/v1/log/entries?cursor=a%20b>; rel=\"next\""
        );
    }
}
