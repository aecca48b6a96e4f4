//! `GET /search?q=…`: full-text search over the decisions the reader may read, and the page of
//! results that its feeds (`/feeds/search.atom`, `.json`) list.
//!
//! The store finds the decisions ([`Store::search`](crate::store::Store::search)): only those
//! whose content the reader may read in full, newest first, 20 to a page with a keyset cursor.
//! Each result is rendered with [`Decision::render`] like every other card, and shows a snippet
//! of the matching text. The snippet is the one piece of markup a handler builds: the database
//! marks matches with private-use sentinel characters, [`highlight`] escapes the whole snippet
//! and only then turns the sentinels into `<mark>` elements, so indexed text can never become
//! markup. The reader's words are reduced to plain terms by the store and only ever echoed back
//! through the template's escaping; a malformed or oversized query is a search that finds
//! nothing, never an error.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::filter::encode;
use super::pages::body_names;
use super::view::Card;
use super::{Chrome, PageError, html_page};
use crate::api::AppState;
use crate::api::auth::Caller;
use crate::api::decisions::Decision;
use crate::api::position::Position;
use crate::store::{MATCH_END, MATCH_START};

/// Results on one page.
pub const PAGE_SIZE: u64 = 20;

/// The longest query kept, in characters; the rest is ignored.
const MAX_QUERY_CHARS: usize = 500;

/// The query string of the search page.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct SearchQuery {
    /// What the reader typed.
    pub q: String,
    /// The page cursor: results recorded before this leaf index (`cursor`; `before`, its
    /// earlier name, is still read).
    #[serde(rename = "cursor", alias = "before")]
    pub before: String,
}

/// A decision found, as the page shows it.
struct Found {
    card: Card,
    /// The escaped snippet with its matches in `<mark>`: safe to insert as markup.
    snippet_html: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    q: String,
    searched: bool,
    results: Vec<Found>,
    next_url: Option<String>,
    atom_url: String,
    json_url: String,
}

/// One page of a search, as a page or a feed shows it.
pub(super) struct Results {
    /// The words searched for, trimmed and cut to [`MAX_QUERY_CHARS`]; empty for no search.
    pub q: String,
    /// The decisions found that the reader may read, with their snippets, newest first.
    pub found: Vec<(Decision, String)>,
    /// The page cursor of this page, and of the next one.
    pub cursor: Option<String>,
    pub next: Option<String>,
}

/// The page of results that `query` asks for, as `caller` may see them.
pub(super) async fn results(
    state: &AppState,
    caller: &Caller,
    query: &SearchQuery,
) -> Result<Results, PageError> {
    let q: String = query.q.trim().chars().take(MAX_QUERY_CHARS).collect();
    let before = match query.before.trim() {
        "" => None,
        text => Some(Position::parse(text).map(Position::get).ok_or_else(|| {
            PageError::BadRequest(format!("cursor must be a leaf index, not {text:?}"))
        })?),
    };
    let mut results = Results {
        q,
        found: Vec::new(),
        cursor: before.map(|b| b.to_string()),
        next: None,
    };
    if results.q.is_empty() {
        return Ok(results);
    }
    let found = state
        .store
        .search(caller.0.as_ref(), &results.q, before, PAGE_SIZE)
        .await?;
    let today = (state.clock)().date_naive();
    for hit in found.hits {
        let decision = Decision::render(hit.row, None, caller, today);
        // The store returns only decisions the reader may read; a card without its record would
        // be one the reader may not, and its snippet is not shown.
        if decision.record.is_some() {
            results.found.push((decision, hit.snippet));
        }
    }
    results.next = found.next.map(|n| n.to_string());
    Ok(results)
}

/// `GET /search`: the search form and, for a query, one page of results.
pub async fn search(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, PageError> {
    let results = results(&state, &caller, &query.into_inner()).await?;
    let names = if results.q.is_empty() {
        Default::default()
    } else {
        body_names(&state).await?
    };
    let q = encode(&results.q);
    let page = SearchPage {
        chrome: Chrome::new(&state, &caller, "search"),
        searched: !results.q.is_empty(),
        results: results
            .found
            .iter()
            .map(|(decision, snippet)| Found {
                card: Card::of(decision, &names),
                snippet_html: highlight(snippet),
            })
            .collect(),
        next_url: results.next.map(|n| format!("/search?q={q}&cursor={n}")),
        atom_url: format!("/feeds/search.atom?q={q}"),
        json_url: format!("/feeds/search.json?q={q}"),
        q: results.q,
    };
    html_page(page.render()?, page.next_url.as_deref())
}

/// HTML for a snippet whose matches are marked with [`MATCH_START`] and [`MATCH_END`]: every
/// character is escaped, then the markers become `<mark>` and `</mark>`, balanced even if the
/// markers are not.
pub fn highlight(snippet: &str) -> String {
    let mut out = String::with_capacity(snippet.len() + 32);
    let mut open = false;
    for c in snippet.chars() {
        match c {
            MATCH_START if !open => {
                out.push_str("<mark>");
                open = true;
            }
            MATCH_END if open => {
                out.push_str("</mark>");
                open = false;
            }
            MATCH_START | MATCH_END => {}
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    if open {
        out.push_str("</mark>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snippet_is_escaped_before_its_matches_are_marked() {
        assert_eq!(
            highlight("a <script>\u{E000}alert\u{E001}(\"x\")</script> & 'b'"),
            "a &lt;script&gt;<mark>alert</mark>(&quot;x&quot;)&lt;/script&gt; &amp; &#39;b&#39;"
        );
    }

    #[test]
    fn unbalanced_markers_still_give_balanced_marks() {
        assert_eq!(
            highlight("\u{E001}a \u{E000}b \u{E000}c"),
            "a <mark>b c</mark>"
        );
        assert_eq!(highlight("plain"), "plain");
    }
}
