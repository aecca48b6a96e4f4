//! The server-rendered pages: latest decisions, a decision, a body and the log.
//!
//! Each page reads what the API would give the same reader — through the same store queries and
//! the same [`Decision::render`] — and renders it with an askama template, so escaping is the
//! template engine's job and no handler builds HTML by hand. A list page costs one indexed query
//! of `limit + 1` rows, whatever the size of the log.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use askama::Template;

use super::filter::{CLASSIFICATIONS, DECISION_TYPES, ORDERS, PageFilter, STATUSES};
use super::view::{Card, EventView, RecordView, WithheldView, long_date, words};
use super::{Chrome, PageError, html, html_page};
use crate::api::AppState;
use crate::api::auth::Caller;
use crate::api::decisions::Decision;

/// Decisions on one page.
pub const PAGE_SIZE: u64 = 50;

pub(super) async fn body_names(state: &AppState) -> Result<BTreeMap<String, String>, PageError> {
    Ok(state
        .store
        .list_bodies()
        .await?
        .into_iter()
        .map(|b| (b.slug, b.name))
        .collect())
}

/// One page of decisions for `filter`, as cards, and the page cursor of the next page.
pub(super) async fn decisions_page(
    state: &AppState,
    caller: &Caller,
    filter: &PageFilter,
    limit: u64,
) -> Result<(Vec<Decision>, Option<String>), PageError> {
    let today = (state.clock)().date_naive();
    let store_filter = filter.to_store(today).map_err(PageError::BadRequest)?;
    let mut rows = state
        .store
        .list_decisions(&store_filter, caller.0.as_ref(), limit + 1)
        .await?;
    let next = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last()
            .and_then(|r| PageFilter::cursor(&store_filter.order.after(r)))
    } else {
        None
    };
    let decisions = rows
        .into_iter()
        .map(|row| Decision::render(row, None, caller, today))
        .collect();
    Ok((decisions, next))
}

type Choice = (String, String, bool);

fn choices(options: &[(&str, &str)], selected: &str) -> Vec<Choice> {
    options
        .iter()
        .map(|(k, label)| ((*k).to_owned(), (*label).to_owned(), *k == selected))
        .collect()
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage {
    chrome: Chrome,
    heading: String,
    filter: PageFilter,
    bodies: Vec<Choice>,
    types: Vec<Choice>,
    statuses: Vec<Choice>,
    classifications: Vec<Choice>,
    orders: Vec<Choice>,
    /// Whether the list is in decision-date order (else recording order).
    by_decision_date: bool,
    items: Vec<Card>,
    next_url: Option<String>,
    atom_url: String,
    json_url: String,
}

/// `GET /`: the latest decisions, filtered.
pub async fn index(
    state: web::Data<AppState>,
    caller: Caller,
    filter: web::Query<PageFilter>,
) -> Result<HttpResponse, PageError> {
    let filter = filter.into_inner();
    let names = body_names(&state).await?;
    let (decisions, next) = decisions_page(&state, &caller, &filter, PAGE_SIZE).await?;
    let items = decisions.iter().map(|d| Card::of(d, &names)).collect();
    let query = filter.query();
    let page = IndexPage {
        chrome: Chrome::new(&state, &caller, "decisions"),
        heading: if filter.is_empty() {
            "Latest decisions".into()
        } else {
            "Decisions matching your filters".into()
        },
        bodies: names
            .iter()
            .map(|(slug, name)| (slug.clone(), name.clone(), *slug == filter.body))
            .collect(),
        types: choices(DECISION_TYPES, &filter.decision_type),
        statuses: choices(STATUSES, &filter.status),
        classifications: choices(CLASSIFICATIONS, &filter.classification),
        items,
        next_url: next.map(|n| filter.next_page("/", &n)),
        orders: choices(
            ORDERS,
            if filter.by_decision_date() {
                "decided"
            } else {
                "recorded"
            },
        ),
        by_decision_date: filter.by_decision_date(),
        atom_url: format!("/feeds/decisions.atom{query}"),
        json_url: format!("/feeds/decisions.json{query}"),
        filter,
    };
    html_page(page.render()?, page.next_url.as_deref())
}

#[derive(Template)]
#[template(path = "decision.html")]
struct DecisionPage {
    chrome: Chrome,
    d: Card,
    effective_from: Option<String>,
    review_on: Option<String>,
    last_outcome: Option<String>,
    /// The successor, as (id, title the reader may see).
    superseded_by: Option<(String, String)>,
    /// The decisions it superseded, as (id, title the reader may see).
    supersedes: Vec<(String, String)>,
    withheld: Option<WithheldView>,
    record: Option<RecordView>,
    timeline: Vec<EventView>,
    log: LogPlace,
}

struct LogPlace {
    leaf_index: u64,
    entry_hash: String,
    prev_hash: String,
    recorded_at: String,
    recorded_at_long: String,
    recorded_by: String,
    checkpoint: Option<String>,
}

/// The title of decision `id` as `caller` may see it: its own title when readable, otherwise
/// its public face ("Key decision of 3 December 2026"), as a card and a feed show it.
async fn title_of(
    state: &AppState,
    caller: &Caller,
    names: &BTreeMap<String, String>,
    id: &str,
) -> Result<(String, String), PageError> {
    let today = (state.clock)().date_naive();
    let title = match state.store.decision(id).await? {
        Some(row) => {
            let card = Card::of(&Decision::render(row, None, caller, today), names);
            if card.title.trim().is_empty() {
                format!("{} of {}", card.decision_type, card.decided_on_long)
            } else {
                card.title
            }
        }
        None => format!("decision {id}"),
    };
    Ok((id.to_owned(), title))
}

/// `GET /decisions/{id}`: one decision, its timeline and its place in the log.
pub async fn decision(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let row = state
        .store
        .decision(&id)
        .await?
        .ok_or_else(|| PageError::NotFound(format!("There is no decision {id}.")))?;
    let events = state.store.events(&id).await?;
    let today = (state.clock)().date_naive();
    let decision = Decision::render(row, Some(events), &caller, today);
    let names = body_names(&state).await?;
    let checkpoint = state
        .store
        .latest_checkpoint()
        .await?
        .map(|c| format!("{} entries, root {}", c.tree_size, c.root_hash.to_hex()));
    let withheld = decision.withheld.as_ref().map(|w| WithheldView {
        reason: w.reason.clone(),
        paragraph: w.exemption.as_ref().map(|e| e.paragraph),
        public_summary: w.exemption.as_ref().map(|e| e.public_summary.clone()),
        public_interest_reason: w
            .exemption
            .as_ref()
            .map(|e| e.public_interest_reason.clone()),
        published: w
            .published
            .iter()
            .map(|(field, value)| {
                let text = match value {
                    serde_json::Value::String(s) => s.clone(),
                    other => serde_json::to_string_pretty(other).unwrap_or_default(),
                };
                (super::view::capitalise(&words(field)), text)
            })
            .collect(),
    });
    let state_view = &decision.state;
    let superseded_by = match state_view.superseded_by {
        Some(id) => Some(title_of(&state, &caller, &names, &id.to_string()).await?),
        None => None,
    };
    let mut supersedes = Vec::with_capacity(state_view.supersedes.len());
    for id in &state_view.supersedes {
        supersedes.push(title_of(&state, &caller, &names, &id.to_string()).await?);
    }
    let page = DecisionPage {
        chrome: Chrome::new(&state, &caller, "decisions"),
        d: Card::of(&decision, &names),
        effective_from: state_view.effective_from.map(long_date),
        review_on: state_view.review_on.map(long_date),
        last_outcome: state_view.last_outcome.map(|o| {
            words(
                serde_json::to_value(o)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
                    .as_str(),
            )
        }),
        superseded_by,
        supersedes,
        withheld,
        record: decision.record.as_ref().map(RecordView::of),
        timeline: decision
            .lineage
            .iter()
            .flatten()
            .map(EventView::of)
            .collect(),
        log: LogPlace {
            leaf_index: decision.receipt.leaf_index,
            entry_hash: decision.receipt.entry_hash.clone(),
            prev_hash: decision.receipt.prev_hash.clone(),
            recorded_at: decision.receipt.recorded_at.clone(),
            recorded_at_long: super::view::long_time_text(&decision.receipt.recorded_at),
            recorded_by: decision.receipt.recorded_by.clone(),
            checkpoint,
        },
    };
    html(page.render()?)
}

#[derive(Template)]
#[template(path = "body.html")]
struct BodyPage {
    chrome: Chrome,
    slug: String,
    name: String,
    kind: String,
    /// (name, role, organisation, from, until)
    members: Vec<(String, String, String, String, String)>,
    items: Vec<Card>,
    next_url: Option<String>,
    atom_url: String,
    json_url: String,
}

/// Paging of a body's page.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BodyQuery {
    /// The page cursor; `before`, its earlier name, is still read.
    #[serde(rename = "cursor", alias = "before")]
    before: String,
}

/// `GET /bodies/{slug}`: a body, its members over time and its decisions.
pub async fn body(
    state: web::Data<AppState>,
    caller: Caller,
    slug: web::Path<String>,
    query: web::Query<BodyQuery>,
) -> Result<HttpResponse, PageError> {
    let body = state
        .store
        .body(&slug)
        .await?
        .ok_or_else(|| PageError::NotFound(format!("There is no body {slug}.")))?;
    let filter = PageFilter {
        body: body.slug.clone(),
        before: query.into_inner().before,
        ..PageFilter::default()
    };
    let names = body_names(&state).await?;
    let (decisions, next) = decisions_page(&state, &caller, &filter, PAGE_SIZE).await?;
    let members = body
        .members
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            (
                m.name,
                m.role,
                m.organisation.unwrap_or_default(),
                long_date(m.from),
                m.until.map_or_else(|| "serving".to_owned(), long_date),
            )
        })
        .collect();
    let kind = serde_json::to_value(body.kind)
        .ok()
        .and_then(|v| v.as_str().map(super::view::capitalise))
        .unwrap_or_default();
    let query = filter.query();
    let page = BodyPage {
        chrome: Chrome::new(&state, &caller, "decisions"),
        items: decisions.iter().map(|d| Card::of(d, &names)).collect(),
        next_url: next.map(|n| format!("/bodies/{}?cursor={n}", body.slug)),
        atom_url: format!("/feeds/decisions.atom{query}"),
        json_url: format!("/feeds/decisions.json{query}"),
        slug: body.slug,
        name: body.name,
        kind,
        members,
    };
    html_page(page.render()?, page.next_url.as_deref())
}

#[derive(Template)]
#[template(path = "log.html")]
struct LogPage {
    chrome: Chrome,
    size: u64,
    head_hash: String,
    origin: String,
    vkey: String,
    checkpoint: String,
    base_hint: String,
}

/// `GET /log`: the log's size, latest checkpoint and key, and how to verify it.
pub async fn log(
    state: web::Data<AppState>,
    caller: Caller,
    request: actix_web::HttpRequest,
) -> Result<HttpResponse, PageError> {
    let head = state.store.head().await?;
    let checkpoint = state
        .store
        .latest_checkpoint()
        .await?
        .map(|c| c.note)
        .unwrap_or_else(|| "No checkpoint has been signed yet.".into());
    let page = LogPage {
        chrome: Chrome::new(&state, &caller, "log"),
        size: head.tree_size,
        head_hash: head.head_hash.to_hex(),
        origin: state.signer.name().to_owned(),
        vkey: state.vkey.clone(),
        checkpoint,
        base_hint: state.base_url.of(&request),
    };
    html(page.render()?)
}

/// The log format specification, as written.
const LOG_FORMAT: &str = include_str!("../../docs/log-format.md");

#[derive(Template)]
#[template(path = "format.html")]
struct FormatPage {
    chrome: Chrome,
    /// The specification rendered from Markdown; its own markup is escaped, never passed on.
    body: String,
}

/// `GET /log/format`: the auditor's specification of the log format, as an HTML page; as
/// Markdown text to a client that asks for `text/markdown` before `text/html`.
pub async fn log_format(
    state: web::Data<AppState>,
    caller: Caller,
    request: actix_web::HttpRequest,
) -> Result<HttpResponse, PageError> {
    use actix_web::http::header::{self, Header};
    let markdown_first = header::Accept::parse(&request)
        .is_ok_and(|accept| accept.preference().essence_str() == "text/markdown");
    if markdown_first {
        let mut response = log_format_markdown().await;
        response
            .headers_mut()
            .insert(header::VARY, header::HeaderValue::from_static("Accept"));
        return Ok(response);
    }
    let page = FormatPage {
        chrome: Chrome::new(&state, &caller, "log"),
        body: markdown_html(LOG_FORMAT),
    };
    let mut response = html(page.render()?)?;
    response
        .headers_mut()
        .insert(header::VARY, header::HeaderValue::from_static("Accept"));
    Ok(response)
}

/// `GET /log/format.md`: the specification as Markdown text.
pub async fn log_format_markdown() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/markdown; charset=utf-8")
        .body(LOG_FORMAT)
}

/// `markdown` as HTML (CommonMark with tables), any HTML inside it shown as text.
fn markdown_html(markdown: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser};
    let events = Parser::new_ext(markdown, Options::ENABLE_TABLES).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_rendered_and_its_own_html_escaped() {
        let out = markdown_html(
            "# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<script>x</script>\n\nA `<b>` tag.\n",
        );
        assert!(out.contains("<h1>Title</h1>"), "{out}");
        assert!(out.contains("<table>"), "{out}");
        assert!(out.contains("&lt;script&gt;"), "{out}");
        assert!(!out.contains("<script>"), "{out}");
        assert!(out.contains("<code>&lt;b&gt;</code>"), "{out}");
    }
}
