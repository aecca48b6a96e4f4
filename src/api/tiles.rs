//! `/tlog/`: the log as C2SP tlog-tiles, so that transparency-log clients, mirrors and monitors
//! that know nothing of this service can fetch, check and mirror it.
//!
//! Every tile is immutable once it exists (a partial tile of width W never changes either: a
//! wider one has another URL), so tiles carry year-long, immutable cache lifetimes and can sit
//! behind any CDN or static mirror. Only the checkpoint changes.
//!
//! A deployment closed to anonymous readers closes the tiles too: they carry the hashed entries.
//!
//! Spec: <https://c2sp.org/tlog-tiles>.

use actix_web::{HttpResponse, web};
use ledger::tile::{TileId, TileKind};

use super::auth::Caller;
use super::error::Problem;
use super::{ApiError, AppState};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// A tile's bytes, as the OpenAPI document declares them: binary, not JSON.
pub struct TileBytes;

impl utoipa::PartialSchema for TileBytes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("The tile's bytes"))
            .into()
    }
}

impl utoipa::ToSchema for TileBytes {}

/// The latest signed checkpoint (as `GET /api/v1/log/checkpoint`).
#[utoipa::path(
    get, path = "/tlog/checkpoint", tag = "tlog-tiles", operation_id = "getTlogCheckpoint",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The signed checkpoint note", content_type = "text/plain; charset=utf-8", body = String),
        (status = 503, description = "No checkpoint yet, or the database is unavailable", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A bearer token was given but is not valid, or this deployment does not allow anonymous reading", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_checkpoint(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    super::log::get_checkpoint(state, caller).await
}

/// A hash tile or an entry bundle.
///
/// `tile/<L>/<N>[.p/<W>]`: the Merkle tree hashes at tree level 8·L, indexes 256·N to 256·N+W;
/// `tile/entries/<N>[.p/<W>]`: the canonical entries 256·N to 256·N+W, each prefixed by its
/// length as a big-endian uint16. `<N>` is written in 3-digit groups (`x001/x234/067`).
#[utoipa::path(
    get, path = "/tlog/tile/{tile}", tag = "tlog-tiles", operation_id = "getTile",
    params(("tile" = String, Path, description = "`<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`, e.g. `0/x001/234` or `entries/000.p/17`")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The tile's bytes: 32 bytes per hash, or the entry bundle", content_type = "application/octet-stream", body = TileBytes),
        (status = 404, description = "No such tile: a malformed path, or a tile the tree does not hold (yet)", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "An unexpected server error; the cause is logged, not sent", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable or the log inconsistent", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A bearer token was given but is not valid, or this deployment does not allow anonymous reading", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_tile(
    state: web::Data<AppState>,
    _caller: Caller,
    tile: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::NotFound(format!("no tile {tile}"));
    let id = TileId::parse(&tile).ok_or_else(not_found)?;
    let body = match id.kind {
        TileKind::Hashes { level } => state
            .store
            .hash_tile(level, id.index, id.width)
            .await?
            .ok_or_else(not_found)?
            .iter()
            .flat_map(|h| h.0)
            .collect::<Vec<u8>>(),
        TileKind::Entries => {
            let entries = state
                .store
                .entry_bundle(id.index, id.width)
                .await?
                .ok_or_else(not_found)?;
            ledger::tile::entry_bundle(entries.iter().map(Vec::as_slice)).ok_or_else(|| {
                ApiError::LogInconsistent("an entry is too long for a bundle".into())
            })?
        }
    };
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header(("Cache-Control", IMMUTABLE))
        .body(body))
}
