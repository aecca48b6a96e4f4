//! Feeds of the pages that list decisions: `GET /feeds/decisions.atom` ([RFC 4287] Atom) and
//! `GET /feeds/decisions.json` ([JSON Feed 1.1]) for the whole log or any filter of `/`, and
//! `GET /feeds/search.atom` and `/feeds/search.json` for a search of `/search`.
//!
//! A feed takes exactly the query parameters of its page ([`PageFilter`], or the search's `q`)
//! and lists the same decisions in the same order, a page at a time, each as the reader would
//! see its card: the same query ([`decisions_page`], or the search's) and the same
//! [`Card::of`], so a feed never shows a reader more than the page would, withheld records
//! appear only by their public face, and erased values appear only as the redaction marker the
//! read views hold.
//!
//! Invariants:
//! - An entry's id is `urn:uuid:<decision id>`: it never changes, whatever happens to the
//!   decision later. Its `updated` is the time of the newest log entry about the decision, so an
//!   outcome, call-in, amendment or publication shows up as an update of the same entry.
//! - The feed's id is `urn:uuid:` of a UUIDv8 derived from the log's verifier key and the
//!   filter or search (see `feed_id`): the same feed keeps its id whichever host name it is reached by.
//! - A feed's `updated` is its newest entry's; an empty feed takes the time of the log's last
//!   entry (the Unix epoch for an empty log). The bytes of a feed are therefore a function of
//!   the log, the filter, the reader, the date and the host it is asked at alone, which makes
//!   the strong `ETag` (SHA-256 of the bytes) meaningful: `If-None-Match` with it answers 304
//!   until one of those changes. `Last-Modified` is the later of `updated` and the start of the
//!   day a listed decision's review fell overdue, the one change the date makes;
//!   `If-Modified-Since` is honoured when no `If-None-Match` is sent (RFC 9110 §13.2.2).
//! - Every link is absolute, built from [`BaseUrl`](crate::base_url::BaseUrl): the configured
//!   public URL, or the request's checked host, never an unchecked header.
//!
//! Atom is rendered by an askama template, which escapes every value; JSON Feed by serde, with
//! `<`, `>` and `&` written as `\u` escapes so that no markup appears in the bytes at all.
//! Characters XML 1.0 cannot carry are replaced with U+FFFD in both formats, so that the two
//! feeds say the same thing and the Atom feed is always well-formed.
//!
//! A feed costs the indexed query of one page (51 rows, or one page of search results) and the
//! list of bodies, whatever the size of the log.
//!
//! [RFC 4287]: https://www.rfc-editor.org/rfc/rfc4287
//! [JSON Feed 1.1]: https://www.jsonfeed.org/version/1.1/

use std::collections::BTreeMap;

use actix_web::http::header::{self, EntityTag, Header, HttpDate, IfModifiedSince, IfNoneMatch};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::filter::{CLASSIFICATIONS, DECISION_TYPES, PageFilter, STATUSES};
use super::pages::{PAGE_SIZE, body_names, decisions_page};
use super::search::SearchQuery;
use super::view::Card;
use super::{PageError, secure};
use crate::api::AppState;
use crate::api::auth::Caller;
use crate::api::decisions::Decision;

/// The media type of the Atom feed.
pub const ATOM_TYPE: &str = "application/atom+xml; charset=utf-8";
/// The media type of the JSON Feed.
pub const JSON_FEED_TYPE: &str = "application/feed+json";

const ATOM_PATH: &str = "/feeds/decisions.atom";
const JSON_PATH: &str = "/feeds/decisions.json";
const SEARCH_ATOM_PATH: &str = "/feeds/search.atom";
const SEARCH_JSON_PATH: &str = "/feeds/search.json";

/// `updated` of an empty feed on an empty log.
const EPOCH: &str = "1970-01-01T00:00:00Z";

/// A category of an entry: an Atom `category`, and the facts of the JSON Feed extension.
struct Category {
    /// The value, as spelt in the API.
    term: String,
    /// The page listing every decision with this value: the scheme plus the term, encoded.
    scheme: String,
    /// The value in words.
    label: String,
}

/// One decision as a feed entry; every string is already what the reader may see.
struct Entry {
    id: String,
    title: String,
    url: String,
    receipt_url: String,
    updated: String,
    published: String,
    summary: String,
    content: String,
    body: String,
    body_name: String,
    body_url: String,
    decision_type: String,
    classification: String,
    status: String,
    review_overdue: bool,
    decided_on: String,
    leaf_index: u64,
    entry_hash: String,
    tags: Vec<String>,
    categories: Vec<Category>,
}

/// A feed, whichever the format.
struct Feed {
    site_name: String,
    site_url: String,
    /// The Atom feed's id: stable across host names (see [`feed_id`]).
    id: String,
    title: String,
    description: String,
    updated: String,
    atom_url: String,
    json_url: String,
    html_url: String,
    next_atom_url: Option<String>,
    next_json_url: Option<String>,
    log_url: String,
    entries: Vec<Entry>,
    /// When the feed's content last changed: its `updated`, or later, the start of the day a
    /// listed decision's review fell overdue (which changes its entry but no log entry).
    last_modified: Option<DateTime<Utc>>,
}

#[derive(Template)]
#[template(
    ext = "xml",
    source = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <id>{{ f.id }}</id>
  <title type="text">{{ f.title }}</title>
  <subtitle type="text">{{ f.description }}</subtitle>
  <updated>{{ f.updated }}</updated>
  <author><name>{{ f.site_name }}</name><uri>{{ f.site_url }}</uri></author>
  <generator>decision-log</generator>
  <link rel="self" type="application/atom+xml" href="{{ f.atom_url }}"/>
  <link rel="alternate" type="text/html" href="{{ f.html_url }}"/>
  <link rel="alternate" type="application/feed+json" href="{{ f.json_url }}"/>
{%- if let Some(next) = f.next_atom_url %}
  <link rel="next" type="application/atom+xml" href="{{ next }}"/>
{%- endif %}
{%- for e in f.entries %}
  <entry>
    <id>urn:uuid:{{ e.id }}</id>
    <title type="text">{{ e.title }}</title>
    <updated>{{ e.updated }}</updated>
    <published>{{ e.published }}</published>
    <author><name>{{ e.body_name }}</name><uri>{{ e.body_url }}</uri></author>
    <link rel="alternate" type="text/html" href="{{ e.url }}"/>
    <link rel="related" type="application/json" title="Receipt" href="{{ e.receipt_url }}"/>
{%- for c in e.categories %}
    <category term="{{ c.term }}" scheme="{{ c.scheme }}" label="{{ c.label }}"/>
{%- endfor %}
    <summary type="text">{{ e.summary }}</summary>
    <content type="text">{{ e.content }}</content>
  </entry>
{%- endfor %}
</feed>
"#
)]
struct AtomFeed<'a> {
    f: &'a Feed,
}

/// `GET /feeds/decisions.atom`: the decisions of `/` for the same query, as an Atom feed.
pub async fn atom(
    state: web::Data<AppState>,
    caller: Caller,
    filter: web::Query<PageFilter>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let feed = filter_feed(&state, &caller, &filter.into_inner(), &request).await?;
    render(&state, &request, &feed, Format::Atom)
}

/// `GET /feeds/decisions.json`: the decisions of `/` for the same query, as a JSON Feed 1.1.
pub async fn json(
    state: web::Data<AppState>,
    caller: Caller,
    filter: web::Query<PageFilter>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let feed = filter_feed(&state, &caller, &filter.into_inner(), &request).await?;
    render(&state, &request, &feed, Format::Json)
}

/// `GET /feeds/search.atom`: the results of `/search` for the same query, as an Atom feed.
pub async fn search_atom(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<SearchQuery>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let feed = search_feed(&state, &caller, &query.into_inner(), &request).await?;
    render(&state, &request, &feed, Format::Atom)
}

/// `GET /feeds/search.json`: the results of `/search` for the same query, as a JSON Feed 1.1.
pub async fn search_json(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<SearchQuery>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let feed = search_feed(&state, &caller, &query.into_inner(), &request).await?;
    render(&state, &request, &feed, Format::Json)
}

/// The two formats every feed is served in.
#[derive(Clone, Copy)]
enum Format {
    Atom,
    Json,
}

fn render(
    state: &AppState,
    request: &HttpRequest,
    feed: &Feed,
    format: Format,
) -> Result<HttpResponse, PageError> {
    let (content_type, body) = match format {
        Format::Atom => (ATOM_TYPE, AtomFeed { f: feed }.render()?),
        Format::Json => (
            JSON_FEED_TYPE,
            json_feed(feed)
                .map_err(|e| PageError::Api(crate::api::ApiError::Internal(e.to_string())))?,
        ),
    };
    Ok(respond(
        request,
        content_type,
        body.into_bytes(),
        feed.last_modified,
        (state.clock)(),
    ))
}

/// The response for feed bytes `body`: 304 without a body when the client's copy is current.
///
/// `If-None-Match` decides when sent, and `If-Modified-Since` only when it is not (RFC 9110
/// §13.2.2). `Last-Modified` has whole seconds: it is sent only once the second of the last
/// change has passed, so that a later change within that second can never be answered 304.
fn respond(
    request: &HttpRequest,
    content_type: &'static str,
    body: Vec<u8>,
    last_modified: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> HttpResponse {
    let tag = EntityTag::new_strong(hex::encode(Sha256::digest(&body)));
    let last_modified = last_modified
        .map(|t| t.timestamp())
        .filter(|&seconds| seconds < now.timestamp())
        .and_then(|seconds| DateTime::<Utc>::from_timestamp(seconds, 0));
    let fresh = if request.headers().contains_key(header::IF_NONE_MATCH) {
        // GET compares entity tags weakly (RFC 9110 §13.1.2): a weak form of this tag matches.
        match IfNoneMatch::parse(request) {
            Ok(IfNoneMatch::Any) => true,
            Ok(IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(&tag)),
            Err(_) => false,
        }
    } else {
        match (IfModifiedSince::parse(request), last_modified) {
            (Ok(IfModifiedSince(since)), Some(modified)) => {
                HttpDate::from(std::time::SystemTime::from(modified)) <= since
            }
            _ => false,
        }
    };
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    secure(&mut response);
    response
        .insert_header(header::ETag(tag))
        // What a feed lists depends on who reads it: `response_headers` adds
        // `Vary: Authorization`, and makes the answer to a token private.
        .insert_header((header::CACHE_CONTROL, "no-cache"));
    if let Some(modified) = last_modified {
        response.insert_header(header::LastModified(HttpDate::from(
            std::time::SystemTime::from(modified),
        )));
    }
    if fresh {
        response.finish()
    } else {
        response.content_type(content_type).body(body)
    }
}

/// What a feed lists, whichever list it comes from: one page of decisions, where the page and
/// its neighbours are, and what it is in words.
struct Listing {
    decisions: Vec<Decision>,
    /// The HTML page that lists the same decisions, and the Atom and JSON Feed paths.
    html_path: &'static str,
    atom_path: &'static str,
    json_path: &'static str,
    /// The list's query string without the cursor, starting with `?` (or empty).
    query: String,
    /// The page cursor of this page, and of the next one.
    cursor: Option<String>,
    next: Option<String>,
    /// What the feed's id is derived from, with the verifier key: the same for every page of
    /// one list, different for every list.
    id_source: String,
    /// The decisions listed, in words ("decisions of Cabinet"), their order and page size.
    description: String,
    order: &'static str,
    page_size: u64,
}

/// `path` with `query` and, if there is one, the page cursor `cursor`.
fn address(path: &str, query: &str, cursor: Option<&str>) -> String {
    match cursor {
        None => format!("{path}{query}"),
        Some(cursor) => {
            let joiner = if query.is_empty() { '?' } else { '&' };
            format!(
                "{path}{query}{joiner}cursor={}",
                super::filter::encode(cursor)
            )
        }
    }
}

/// The feed of the decisions of `/` for `filter`.
async fn filter_feed(
    state: &AppState,
    caller: &Caller,
    filter: &PageFilter,
    request: &HttpRequest,
) -> Result<Feed, PageError> {
    let (decisions, next) = decisions_page(state, caller, filter, PAGE_SIZE).await?;
    let names = body_names(state).await?;
    let listing = Listing {
        decisions,
        html_path: "/",
        atom_path: ATOM_PATH,
        json_path: JSON_PATH,
        query: filter.query(),
        cursor: Some(filter.before.trim().to_owned()).filter(|c| !c.is_empty()),
        next,
        id_source: filter.query(),
        description: describe(filter, &names),
        order: if filter.by_decision_date() {
            "latest decision date first"
        } else {
            "newest recorded first"
        },
        page_size: PAGE_SIZE,
    };
    feed(state, listing, &names, request).await
}

/// The feed of the results of `/search` for `query`.
async fn search_feed(
    state: &AppState,
    caller: &Caller,
    query: &SearchQuery,
    request: &HttpRequest,
) -> Result<Feed, PageError> {
    let results = super::search::results(state, caller, query).await?;
    if results.q.is_empty() {
        return Err(PageError::BadRequest(
            "A search feed needs the words to search for, as q.".into(),
        ));
    }
    let names = body_names(state).await?;
    let search = format!("?q={}", super::filter::encode(&results.q));
    let listing = Listing {
        decisions: results.found.into_iter().map(|(d, _)| d).collect(),
        html_path: "/search",
        atom_path: SEARCH_ATOM_PATH,
        json_path: SEARCH_JSON_PATH,
        cursor: results.cursor,
        next: results.next,
        id_source: format!("search{search}"),
        description: format!("decisions matching “{}”", results.q),
        query: search,
        order: "newest recorded first",
        page_size: super::search::PAGE_SIZE,
    };
    feed(state, listing, &names, request).await
}

async fn feed(
    state: &AppState,
    listing: Listing,
    names: &BTreeMap<String, String>,
    request: &HttpRequest,
) -> Result<Feed, PageError> {
    let base = state.base_url.of(request);
    let entries: Vec<Entry> = listing
        .decisions
        .iter()
        .map(|d| entry(d, names, &base))
        .collect();
    let updated = match newest(&entries) {
        Some(updated) => updated,
        None => last_entry_time(state).await?,
    };
    let overdue_since = listing
        .decisions
        .iter()
        .filter(|d| d.state.review_overdue)
        .filter_map(|d| d.state.review_on?.succ_opt()?.and_hms_opt(0, 0, 0))
        .map(|midnight| midnight.and_utc())
        .max();
    let last_modified = DateTime::parse_from_rfc3339(&updated)
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .max(overdue_since);
    let here = |path: &str| {
        format!(
            "{base}{}",
            address(path, &listing.query, listing.cursor.as_deref())
        )
    };
    let next = |path: &str| {
        listing
            .next
            .as_deref()
            .map(|n| format!("{base}{}", address(path, &listing.query, Some(n))))
    };
    Ok(Feed {
        site_name: xml_text(&state.site_name),
        site_url: format!("{base}/"),
        id: feed_id(&state.vkey, &listing.id_source),
        title: xml_text(&format!("{}: {}", state.site_name, listing.description)),
        description: xml_text(&format!(
            "{}, {}, {} at a time; each entry links to its page and its log receipt.",
            super::view::capitalise(&listing.description),
            listing.order,
            listing.page_size,
        )),
        updated,
        atom_url: here(listing.atom_path),
        json_url: here(listing.json_path),
        html_url: here(listing.html_path),
        next_atom_url: next(listing.atom_path),
        next_json_url: next(listing.json_path),
        log_url: format!("{base}/log"),
        entries,
        last_modified,
    })
}

/// The Atom feed's id: `urn:uuid:` and a UUIDv8 whose bits are SHA-256 of the log's verifier
/// key (which names its origin) and the filter's query, cursor left out. It names the same feed
/// whichever host name, port or proxy the service was reached by, and never two logs' feeds.
fn feed_id(vkey: &str, query: &str) -> String {
    let digest = Sha256::digest(format!("decision-log feed\n{vkey}\n{query}"));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    format!(
        "urn:uuid:{}",
        uuid::Builder::from_custom_bytes(bytes).into_uuid()
    )
}

/// The newest `updated` among `entries`, comparing instants rather than spellings.
fn newest(entries: &[Entry]) -> Option<String> {
    entries
        .iter()
        .max_by_key(|e| chrono::DateTime::parse_from_rfc3339(&e.updated).ok())
        .map(|e| e.updated.clone())
}

/// When the log's last entry was recorded: what an empty feed reports as its `updated`, so that
/// it changes only when the log does.
async fn last_entry_time(state: &AppState) -> Result<String, PageError> {
    let head = state.store.head().await?;
    let Some(last) = head.tree_size.checked_sub(1) else {
        return Ok(EPOCH.to_owned());
    };
    Ok(state
        .store
        .event(last)
        .await?
        .map_or_else(|| EPOCH.to_owned(), |e| e.recorded_at))
}

fn label(options: &[(&str, &str)], key: &str) -> String {
    options
        .iter()
        .find(|(k, _)| *k == key)
        .map_or_else(|| key.replace('_', " "), |(_, l)| (*l).to_owned())
}

/// The filter in words: `latest decisions`, or `decisions of Cabinet, tagged “housing”`.
fn describe(filter: &PageFilter, names: &BTreeMap<String, String>) -> String {
    let mut parts = Vec::new();
    let set = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    if let Some(body) = set(&filter.body) {
        parts.push(format!("of {}", names.get(&body).cloned().unwrap_or(body)));
    }
    if let Some(kind) = set(&filter.decision_type) {
        parts.push(format!("of type “{}”", label(DECISION_TYPES, &kind)));
    }
    if let Some(status) = set(&filter.status) {
        parts.push(format!("with status “{}”", label(STATUSES, &status)));
    }
    if let Some(classification) = set(&filter.classification) {
        parts.push(format!(
            "classified “{}”",
            label(CLASSIFICATIONS, &classification)
        ));
    }
    if let Some(tag) = set(&filter.tag) {
        parts.push(format!("tagged “{tag}”"));
    }
    if let Some(from) = set(&filter.decided_from) {
        parts.push(format!("decided on or after {from}"));
    }
    if let Some(to) = set(&filter.decided_to) {
        parts.push(format!("decided on or before {to}"));
    }
    match (set(&filter.before), filter.by_decision_date()) {
        (Some(before), false) => parts.push(format!("recorded before log entry {before}")),
        (Some(before), true) => match before.split_once('.') {
            Some((day, leaf)) => parts.push(format!(
                "decided on or before {day} (on {day}, recorded before log entry {leaf})"
            )),
            None => parts.push(format!("continuing at {before}")),
        },
        (None, _) => {}
    }
    if parts.is_empty() {
        "latest decisions".to_owned()
    } else {
        format!("decisions {}", parts.join(", "))
    }
}

/// `text` with the characters XML 1.0 cannot carry (C0 controls other than tab, line feed and
/// carriage return; U+FFFE and U+FFFF) replaced with U+FFFD.
fn xml_text(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => '\u{fffd}',
            _ => c,
        })
        .collect()
}

fn entry(decision: &Decision, names: &BTreeMap<String, String>, base: &str) -> Entry {
    let card = Card::of(decision, names);
    let status = serde_json::to_value(decision.state.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let decision_type = decision.decision_type.as_str().to_owned();
    let title = if card.title.trim().is_empty() {
        format!("{} of {}", card.decision_type, card.decided_on_long)
    } else {
        card.title.clone()
    };
    let facts = format!(
        "{}, decided on {} by {}. Status: {}{}.",
        card.decision_type,
        card.decided_on_long,
        card.body_name,
        card.status,
        if card.overdue { ", review overdue" } else { "" }
    );
    let content = if card.summary.is_empty() {
        facts
    } else {
        format!("{}\n\n{facts}", card.summary)
    };
    let filter_url = |key: &str| format!("{base}/?{key}=");
    let mut categories = vec![
        Category {
            term: card.body.clone(),
            scheme: filter_url("body"),
            label: card.body_name.clone(),
        },
        Category {
            term: decision_type.clone(),
            scheme: filter_url("decision_type"),
            label: card.decision_type.clone(),
        },
        Category {
            term: status.clone(),
            scheme: filter_url("status"),
            label: label(STATUSES, &status),
        },
        Category {
            term: card.classification.clone(),
            scheme: filter_url("classification"),
            label: label(CLASSIFICATIONS, &card.classification),
        },
    ];
    categories.extend(card.tags.iter().map(|tag| Category {
        term: tag.clone(),
        scheme: filter_url("tag"),
        label: tag.clone(),
    }));
    for c in &mut categories {
        c.term = xml_text(&c.term);
        c.label = xml_text(&c.label);
    }
    Entry {
        id: card.id.clone(),
        title: xml_text(&title),
        url: format!("{base}{}", card.url),
        receipt_url: format!("{base}/api/v1/decisions/{}/receipt", card.id),
        updated: decision.state.updated_at.clone(),
        published: decision.receipt.recorded_at.clone(),
        summary: xml_text(&card.summary),
        content: xml_text(&content),
        body_url: format!("{base}/bodies/{}", super::filter::encode(&card.body)),
        body_name: xml_text(&card.body_name),
        body: card.body,
        decision_type,
        classification: card.classification,
        status,
        review_overdue: card.overdue,
        decided_on: card.decided_on,
        leaf_index: decision.receipt.leaf_index,
        entry_hash: decision.receipt.entry_hash.clone(),
        tags: card.tags.iter().map(|t| xml_text(t)).collect(),
        categories,
    }
}

/// The JSON Feed document. Field names are the specification's.
#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: &'a str,
    feed_url: &'a str,
    description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_url: Option<&'a str>,
    authors: [JsonAuthor<'a>; 1],
    language: &'static str,
    #[serde(rename = "_decision_log")]
    extension: FeedExtension<'a>,
    items: Vec<JsonItem<'a>>,
}

#[derive(Serialize)]
struct JsonAuthor<'a> {
    name: &'a str,
    url: &'a str,
}

/// The feed's `_decision_log` extension object.
#[derive(Serialize)]
struct FeedExtension<'a> {
    /// Where a human learns what the log is and how to verify it.
    about: &'a str,
    /// The feed's `updated`, as in the Atom feed.
    updated: &'a str,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    id: String,
    url: &'a str,
    title: &'a str,
    content_text: &'a str,
    summary: &'a str,
    date_published: &'a str,
    date_modified: &'a str,
    authors: [JsonAuthor<'a>; 1],
    tags: &'a [String],
    #[serde(rename = "_decision_log")]
    extension: ItemExtension<'a>,
}

/// An item's `_decision_log` extension object: the decision's facts and its receipt.
#[derive(Serialize)]
struct ItemExtension<'a> {
    id: &'a str,
    body: &'a str,
    decision_type: &'a str,
    classification: &'a str,
    status: &'a str,
    review_overdue: bool,
    decided_on: &'a str,
    leaf_index: u64,
    entry_hash: &'a str,
    receipt_url: &'a str,
}

/// The JSON Feed text of `feed`, with `<`, `>` and `&` escaped.
fn json_feed(feed: &Feed) -> Result<String, serde_json::Error> {
    let document = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: &feed.title,
        home_page_url: &feed.html_url,
        feed_url: &feed.json_url,
        description: &feed.description,
        next_url: feed.next_json_url.as_deref(),
        authors: [JsonAuthor {
            name: &feed.site_name,
            url: &feed.site_url,
        }],
        language: "en",
        extension: FeedExtension {
            about: &feed.log_url,
            updated: &feed.updated,
        },
        items: feed
            .entries
            .iter()
            .map(|e| JsonItem {
                id: format!("urn:uuid:{}", e.id),
                url: &e.url,
                title: &e.title,
                content_text: &e.content,
                summary: &e.summary,
                date_published: &e.published,
                date_modified: &e.updated,
                authors: [JsonAuthor {
                    name: &e.body_name,
                    url: &e.body_url,
                }],
                tags: &e.tags,
                extension: ItemExtension {
                    id: &e.id,
                    body: &e.body,
                    decision_type: &e.decision_type,
                    classification: &e.classification,
                    status: &e.status,
                    review_overdue: e.review_overdue,
                    decided_on: &e.decided_on,
                    leaf_index: e.leaf_index,
                    entry_hash: &e.entry_hash,
                    receipt_url: &e.receipt_url,
                },
            })
            .collect(),
    };
    Ok(escape_markup(&serde_json::to_string(&document)?))
}

/// JSON text with `<`, `>` and `&` as `\u` escapes. Outside strings JSON never contains these
/// characters, so the value is unchanged, but no byte of it can be taken for markup by a
/// browser or a careless reader.
fn escape_markup(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escaping_keeps_the_value_and_hides_the_markup() {
        let value = serde_json::json!({"title": "<script>alert(1)</script> & more"});
        let text = escape_markup(&value.to_string());
        assert!(!text.contains('<') && !text.contains('&'));
        let back: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(back, value);
    }

    #[test]
    fn characters_xml_cannot_carry_are_replaced() {
        assert_eq!(xml_text("a\u{0}b\tc\u{ffff}"), "a\u{fffd}b\tc\u{fffd}");
        assert_eq!(xml_text("plain “text”"), "plain “text”");
    }

    #[test]
    fn filters_are_described_in_words() {
        let names = BTreeMap::from([("cabinet".to_owned(), "Cabinet".to_owned())]);
        assert_eq!(describe(&PageFilter::default(), &names), "latest decisions");
        let filter = PageFilter {
            body: "cabinet".into(),
            status: "in_force".into(),
            tag: "housing".into(),
            ..PageFilter::default()
        };
        assert_eq!(
            describe(&filter, &names),
            "decisions of Cabinet, with status “In force”, tagged “housing”"
        );
    }

    #[test]
    fn addresses_keep_the_cursor() {
        assert_eq!(
            address(ATOM_PATH, "?body=cabinet", Some("7")),
            "/feeds/decisions.atom?body=cabinet&cursor=7"
        );
        assert_eq!(
            address(ATOM_PATH, "", Some("2026-11-02.7")),
            "/feeds/decisions.atom?cursor=2026-11-02.7"
        );
        assert_eq!(address("/", "", None), "/");
    }
}
