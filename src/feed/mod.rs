//! The intranet feed: server-rendered pages and feeds for staff, from the same binary as the API.
//!
//! This module owns everything a browser or feed reader sees: HTML pages rendered with askama
//! templates (`templates/`), the stylesheet and the one script (`assets/`), and the security
//! headers every page carries. It reads through the store and renders decisions with the API's
//! [`Decision::render`](crate::api::decisions::Decision::render), so a page never shows a reader
//! more than the API would. Pages work with JavaScript off; the script only adds the in-browser
//! verification of a decision's entry.
//!
//! Readers are identified as on the API: a bearer token (for example one an intranet proxy adds
//! after single sign-on) or anonymous, if the deployment allows it.

pub mod feeds;
pub mod filter;
pub mod pages;
pub mod search;
pub mod stats;
pub mod view;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError, web};
use askama::Template;

use crate::api::auth::Caller;
use crate::api::{ApiError, AppState};
use crate::store::StoreError;

/// The Content-Security-Policy of every page: nothing but this origin's own stylesheet and
/// script, no inline script or style, no framing, forms post only here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// What every page's frame shows.
pub struct Chrome {
    /// The site's name.
    pub site_name: String,
    /// Which section of the navigation is current.
    pub section: &'static str,
    /// Whether the reader presented a token.
    pub signed_in: bool,
    /// Who the reader is, when signed in.
    pub reader: String,
}

impl Chrome {
    /// The frame for `caller` in `section`.
    pub fn new(state: &AppState, caller: &Caller, section: &'static str) -> Chrome {
        Chrome {
            site_name: state.site_name.clone(),
            section,
            signed_in: caller.0.is_some(),
            reader: caller
                .0
                .as_ref()
                .map(|t| format!("{} ({})", t.name, t.role.as_str()))
                .unwrap_or_default(),
        }
    }
}

/// Adds the headers every page and asset carries.
fn secure(response: &mut actix_web::HttpResponseBuilder) {
    response
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .insert_header((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .insert_header((
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .insert_header((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")));
}

/// A rendered page as a response.
pub fn html(body: String) -> Result<HttpResponse, PageError> {
    let mut response = HttpResponse::Ok();
    secure(&mut response);
    Ok(response
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body))
}

/// [`html`] for one page of a list: with an RFC 8288 `Link: <next>; rel="next"` header when
/// there is a next page, as the API's lists have, so that a client can page without parsing HTML.
pub fn html_page(body: String, next: Option<&str>) -> Result<HttpResponse, PageError> {
    let mut response = html(body)?;
    if let Some(link) =
        next.and_then(|next| header::HeaderValue::from_str(&format!("<{next}>; rel=\"next\"")).ok())
    {
        response.headers_mut().insert(header::LINK, link);
    }
    Ok(response)
}

/// Why a page could not be shown; rendered as an HTML page with the right status.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// 400: a filter or cursor is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// 404: no such decision, body or page.
    #[error("{0}")]
    NotFound(String),
    /// Anything the API would refuse the same way (401, 503, 500).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// A template failed to render.
    #[error("the page could not be rendered: {0}")]
    Render(#[from] askama::Error),
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> PageError {
        PageError::Api(error.into())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    title: String,
    detail: String,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::Api(e) => e.status_code(),
            PageError::Render(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (title, detail) = match self {
            PageError::BadRequest(d) => ("This page address is not valid".to_owned(), d.clone()),
            PageError::NotFound(d) => ("Not found".to_owned(), d.clone()),
            PageError::Api(e) => {
                // Logged and worded by the API's own error handling.
                let _ = e.error_response();
                let problem = e.problem();
                (problem.title, problem.detail)
            }
            PageError::Render(e) => {
                tracing::error!(error = %e, "a page failed to render");
                (
                    "Something went wrong".to_owned(),
                    "The page could not be shown; the cause has been logged.".to_owned(),
                )
            }
        };
        let page = ErrorPage {
            chrome: Chrome {
                site_name: "Decision log".into(),
                section: "",
                signed_in: false,
                reader: String::new(),
            },
            title,
            detail,
        };
        let mut response = HttpResponse::build(status);
        secure(&mut response);
        if let PageError::Api(ApiError::Unauthorized(_)) = self {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response
            .content_type("text/html; charset=utf-8")
            .body(page.render().unwrap_or_else(|_| "Error".into()))
    }
}

/// The answer for any unknown route: an HTML page for a client that prefers HTML (a browser),
/// problem+json (`api::error::not_found`) for everyone else.
pub async fn not_found(request: actix_web::HttpRequest) -> Result<HttpResponse, actix_web::Error> {
    use actix_web::http::header::Header;
    let prefers_html = header::Accept::parse(&request).is_ok_and(|accept| {
        let preferred = accept.preference();
        matches!(
            preferred.essence_str(),
            "text/html" | "application/xhtml+xml"
        )
    });
    match crate::api::error::not_found(request.clone()).await {
        Err(ApiError::NotFound(_)) if prefers_html => Err(PageError::NotFound(format!(
            "There is no page at {}. The latest decisions are on the home page.",
            request.path()
        ))
        .into()),
        other => other.map_err(actix_web::Error::from),
    }
}

async fn stylesheet() -> HttpResponse {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../assets/site.css"),
    )
}

async fn script() -> HttpResponse {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/verify.js"),
    )
}

fn asset(content_type: &str, body: &'static str) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    secure(&mut response);
    response
        .content_type(content_type.to_owned())
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body)
}

/// Registers the pages and assets.
pub fn configure(cfg: &mut web::ServiceConfig) {
    use crate::api::resource;
    // A page whose query string cannot be read answers with an HTML page, not problem+json.
    let page = |path: &str| {
        resource(path, "GET").app_data(web::QueryConfig::default().error_handler(|error, _| {
            PageError::BadRequest(format!(
                "The address has a parameter this page does not take: {error}."
            ))
            .into()
        }))
    };
    cfg.service(page("/").route(web::get().to(pages::index)))
        .service(page("/decisions/{id}").route(web::get().to(pages::decision)))
        .service(page("/bodies/{slug}").route(web::get().to(pages::body)))
        .service(page("/search").route(web::get().to(search::search)))
        .service(page("/stats").route(web::get().to(stats::stats)))
        .service(resource("/log", "GET").route(web::get().to(pages::log)))
        .service(resource("/log/format", "GET").route(web::get().to(pages::log_format)))
        .service(resource("/log/format.md", "GET").route(web::get().to(pages::log_format_markdown)))
        .service(resource("/feeds/decisions.atom", "GET").route(web::get().to(feeds::atom)))
        .service(resource("/feeds/decisions.json", "GET").route(web::get().to(feeds::json)))
        .service(resource("/feeds/search.atom", "GET").route(web::get().to(feeds::search_atom)))
        .service(resource("/feeds/search.json", "GET").route(web::get().to(feeds::search_json)))
        .service(resource("/assets/site.css", "GET").route(web::get().to(stylesheet)))
        .service(resource("/assets/verify.js", "GET").route(web::get().to(script)));
}
