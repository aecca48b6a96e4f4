//! decision-log: a tamper-evident, append-only log of organisational decisions.
//!
//! Secretariats record decisions over HTTP; each becomes an entry in a hash-chained log whose
//! canonical bytes are the source of truth. Staff read views derived from the log, on the
//! intranet pages and feeds or through the API; auditors re-verify it with `decision-log verify`,
//! which runs the same `ledger` code as the server.
//!
//! # Layout
//! Dependencies point inward: `cli`/`feed`/`api` → `store` → `lineage` → `record` → `text`,
//! `ledger`
//! (`feed` renders decisions with the API's DTOs, so a page shows what the API would).
//! - `ledger` (the `decision-log-ledger` crate): canonical JSON, hashes, entries, commitments,
//!   chain verification. No I/O.
//! - [`text`]: the text every request may carry: NFC, no controls, no invisible characters.
//! - [`record`]: the decision record, its validation, its limits, and which values it commits.
//! - [`request`]: a write request's JSON object read into its type, every bad member named.
//! - [`lineage`]: what may happen to a decision after it is recorded, checked against its state.
//! - [`receipt`]: offline receipts (JSON and C2SP tlog-proof) and their verification.
//! - [`store`]: sea-orm persistence; the one append transaction; read views, search index and
//!   statistics; tokens, bodies and idempotency keys.
//! - [`api`]: actix-web handlers, DTOs, problem+json errors, the OpenAPI document.
//! - [`feed`]: the intranet pages (askama templates), Atom and JSON feeds, search, statistics.
//! - [`app`]: builds and binds the HTTP server.
//! - [`base_url`]: the base URL of absolute links: the configured public URL, or a checked
//!   `Host`, with forwarded headers from trusted proxies only.
//! - [`response_headers`]: caching by who is asking, `nosniff`, no framing and a default CSP, on
//!   every response.
//! - [`telemetry`]: the server log (text or JSON), every field escaped, each request's span and
//!   access line without its query or headers; request ids.
//! - [`metrics`]: the Prometheus metrics registry behind `/metrics`: bounded labels, O(1)
//!   scrapes.
//! - [`cli`]: the subcommands other than `serve`.
//! - [`config`]: the typed command line and environment.
//! - [`keys`]: the log's signing key: loading, creating, and where the embedded default keeps it.
//! - `migrations/` (the `decision-log-migrations` crate): the schema, applied at start-up.

pub mod api;
pub mod app;
pub mod base_url;
pub mod cli;
pub mod config;
pub mod feed;
pub mod keys;
pub mod lineage;
pub mod metrics;
pub mod receipt;
pub mod record;
pub mod request;
pub mod response_headers;
pub mod store;
pub mod telemetry;
pub mod text;
