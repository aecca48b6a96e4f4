//! The baseline of `benches/appends.sh`: what someone would build instead of a transparency log.
//! A minimal actix-web app that stores each posted JSON body with one plain `INSERT`, with the
//! durability the service ships with (SQLite in WAL mode with `synchronous=FULL`; PostgreSQL's
//! defaults) and the same pool size. No validation, no chain, no tree, no views.
//!
//!   cargo run --release --example plain_insert -- DATABASE_URL BIND_ADDRESS
//!
//! `POST /decisions` with any JSON body answers 201 with the row's id once it is committed.

use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};

async fn insert(
    db: web::Data<DatabaseConnection>,
    body: web::Json<serde_json::Value>,
) -> HttpResponse {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "INSERT INTO plain_decisions (body) VALUES ($1) RETURNING id",
        _ => "INSERT INTO plain_decisions (body) VALUES (?) RETURNING id",
    };
    let statement = Statement::from_sql_and_values(backend, sql, [body.to_string().into()]);
    match db.query_one_raw(statement).await {
        Ok(Some(row)) => match row.try_get::<i64>("", "id") {
            Ok(id) => HttpResponse::Created().json(serde_json::json!({ "id": id })),
            Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
        },
        Ok(None) => HttpResponse::InternalServerError().body("no id returned"),
        Err(e) => HttpResponse::ServiceUnavailable().body(e.to_string()),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(bind)) = (args.next(), args.next()) else {
        eprintln!("usage: plain_insert DATABASE_URL BIND_ADDRESS");
        std::process::exit(2);
    };
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(10)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(30))
        });
    let db = Database::connect(options)
        .await
        .map_err(std::io::Error::other)?;
    let create = match db.get_database_backend() {
        DbBackend::Postgres => {
            "CREATE TABLE IF NOT EXISTS plain_decisions (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL)"
        }
        _ => {
            "CREATE TABLE IF NOT EXISTS plain_decisions (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"
        }
    };
    db.execute_unprepared(create)
        .await
        .map_err(std::io::Error::other)?;
    let db = web::Data::new(db);
    eprintln!("plain_insert listening on http://{bind}");
    HttpServer::new(move || {
        App::new()
            .app_data(db.clone())
            .app_data(web::JsonConfig::default().limit(256 * 1024))
            .route("/decisions", web::post().to(insert))
    })
    .bind(bind)?
    .run()
    .await
}
