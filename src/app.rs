//! Builds the HTTP server from a [`ServeConfig`]: connects the store, binds the listener and
//! mounts the API, the documentation UI and the fallbacks.
//!
//! Binding happens in [`App::build`], so a caller (a test) that asks for port 0 learns the real
//! port before the server runs.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{App as ActixApp, HttpResponse, HttpServer, web};
use tracing_actix_web::TracingLogger;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::api::{self, AppState};
use crate::config::ServeConfig;
use crate::store::{Clock, Store, system_clock};

/// A bound, ready-to-run server.
pub struct App {
    port: u16,
    server: Server,
}

impl App {
    /// Connects to the database (applying migrations) and binds the listener.
    pub async fn build(config: &ServeConfig) -> anyhow::Result<App> {
        App::build_with_clock(config, system_clock()).await
    }

    /// [`App::build`] with an injected clock.
    pub async fn build_with_clock(config: &ServeConfig, clock: Clock) -> anyhow::Result<App> {
        let store = Store::connect(&config.database.database_url, config.max_connections).await?;
        let listener = TcpListener::bind(&config.bind)?;
        let port = listener.local_addr()?.port();
        let state = web::Data::new(AppState { store, clock });
        let mut server = HttpServer::new(move || {
            ActixApp::new()
                .wrap(TracingLogger::default())
                .app_data(state.clone())
                .configure(api::configure)
                .service(api::resource("/api/docs", "GET").route(web::get().to(docs_redirect)))
                .service(
                    SwaggerUi::new("/api/docs/{_:.*}")
                        .config(SwaggerConfig::from("/api/v1/openapi.json")),
                )
                .default_service(web::to(api::error::not_found))
        })
        .listen(listener)?;
        if let Some(workers) = config.workers {
            server = server.workers(workers);
        }
        Ok(App {
            port,
            server: server.run(),
        })
    }

    /// A handle that stops the server.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the process is asked to stop (SIGINT/SIGTERM), finishing requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("Location", "/api/docs/"))
        .finish()
}
