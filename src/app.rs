//! Builds the HTTP server from a [`ServeConfig`]: connects the store, binds the listener and
//! mounts the API, the documentation UI and the fallbacks.
//!
//! Binding happens in [`App::build`], so a caller (a test) that asks for port 0 learns the real
//! port before the server runs. The build also loads (or, on the embedded default, creates) the
//! signing key, pins it as the log's identity, signs a first checkpoint, and starts the task that
//! signs a new checkpoint whenever the tree has grown.

use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App as ActixApp, HttpResponse, HttpServer, web};
use tracing_actix_web::TracingLogger;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::api::{self, AppState};
use crate::base_url::BaseUrl;
use crate::config::ServeConfig;
use crate::store::{Clock, Store, system_clock};
use crate::telemetry::RequestSpan;

/// A bound, ready-to-run server.
pub struct App {
    port: u16,
    server: Server,
    checkpointer: tokio::task::JoinHandle<()>,
    vkey: String,
    created_key: bool,
    first_admin: Option<String>,
}

impl App {
    /// Connects to the database (applying migrations) and binds the listener.
    pub async fn build(config: &ServeConfig) -> anyhow::Result<App> {
        App::build_with_clock(config, system_clock()).await
    }

    /// [`App::build`] with an injected clock.
    pub async fn build_with_clock(config: &ServeConfig, clock: Clock) -> anyhow::Result<App> {
        let store = Store::connect(&config.database.database_url, config.max_connections).await?;
        let (signer, created_key) = crate::keys::load_or_create(
            config.signing_key.as_deref(),
            &config.database.database_url,
            config.origin.as_deref(),
        )?;
        let vkey = signer.verifier().to_vkey();
        store.pin_identity(signer.name(), &vkey, clock()).await?;
        let signer = Arc::new(signer);
        store.sign_checkpoint(&signer, clock()).await?;
        let checkpointer = tokio::spawn(sign_checkpoints(
            store.clone(),
            signer.clone(),
            clock.clone(),
            Duration::from_millis(config.checkpoint_interval_ms.max(10)),
        ));
        let first_admin = if config.first_run_admin {
            first_run_admin(&store, clock()).await?
        } else {
            None
        };
        let listener = bind(&config.bind, config.http_backlog)?;
        let listen = listener.local_addr()?;
        let port = listen.port();
        let state = web::Data::new(AppState {
            store,
            clock,
            signer,
            vkey: vkey.clone(),
            anonymous_read: config.anonymous_read,
            site_name: config.site_name.clone(),
            base_url: BaseUrl::new(
                config.public_url.clone(),
                config.trusted_proxies.clone(),
                listen,
            ),
            body_read_timeout: Duration::from_millis(config.body_read_timeout_ms),
        });
        let mut server = HttpServer::new(move || {
            ActixApp::new()
                .wrap(TracingLogger::<RequestSpan>::new())
                .wrap(actix_web::middleware::from_fn(crate::response_headers::set))
                .app_data(state.clone())
                .configure(api::configure)
                .configure(crate::feed::configure)
                .service(api::resource("/api/docs", "GET").route(web::get().to(docs_redirect)))
                .service(SwaggerUi::new("/api/docs/{_:.*}").config(
                    // No validator badge: it would load an image from validator.swagger.io,
                    // telling it where this API lives.
                    SwaggerConfig::from("/api/v1/openapi.json").validator_url("none"),
                ))
                .default_service(web::to(crate::feed::not_found))
        })
        // Slow clients are cut off and connections are bounded, so the memory that requests in
        // flight hold is bounded too (see `ServeConfig::http_max_connections`).
        .client_request_timeout(Duration::from_millis(config.client_request_timeout_ms))
        .client_disconnect_timeout(Duration::from_millis(config.client_disconnect_timeout_ms))
        .max_connections(config.http_max_connections)
        .listen(listener)?;
        if let Some(workers) = config.workers {
            server = server.workers(workers);
        }
        Ok(App {
            port,
            server: server.run(),
            checkpointer,
            vkey,
            created_key,
            first_admin,
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

    /// The log's verifier key (C2SP vkey).
    pub fn vkey(&self) -> &str {
        &self.vkey
    }

    /// Whether this start created the signing key (first start of the embedded default).
    pub fn created_key(&self) -> bool {
        self.created_key
    }

    /// The secret of the admin token created on a database that had no tokens, if this start
    /// created one.
    pub fn first_admin_token(&self) -> Option<&str> {
        self.first_admin.as_deref()
    }

    /// Serves until the process is asked to stop (SIGINT/SIGTERM), finishing requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.checkpointer.abort();
        result
    }
}

/// Binds `address` with a listen backlog of `backlog` connections. The listener is bound before
/// the server is built, so that the links' fallback base and a test asking for port 0 know the
/// real address.
fn bind(address: &str, backlog: u32) -> anyhow::Result<std::net::TcpListener> {
    use std::net::ToSocketAddrs;
    let addr = address
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| anyhow::anyhow!("{address} resolves to no address"))?;
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
    Ok(socket.into())
}

/// Creates the admin token `admin` when the database has no token at all, and returns its secret.
async fn first_run_admin(
    store: &Store,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Option<String>> {
    if store.has_tokens().await? {
        return Ok(None);
    }
    let admin = crate::store::NewToken {
        name: "admin".into(),
        role: crate::store::Role::Admin,
        bodies: Vec::new(),
        powers: Vec::new(),
        expires_at: None,
    };
    match store.create_token(&admin, None, now).await {
        Ok((_, secret)) => Ok(Some(secret)),
        // Another instance starting on the same database got there first.
        Err(crate::store::StoreError::Duplicate(_)) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("Location", "/api/docs/"))
        .finish()
}

/// Signs a checkpoint for the current tree every `interval` when it has grown, and now and then
/// forgets expired idempotency keys. A failure is logged and retried on the next tick: readers
/// keep the last checkpoint meanwhile.
async fn sign_checkpoints(
    store: Store,
    signer: Arc<ledger::note::Signer>,
    clock: Clock,
    interval: Duration,
) {
    const PURGE_EVERY: u64 = 7_200;
    let mut tick_count: u64 = 0;
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(error) = store.sign_checkpoint(&signer, clock()).await {
            tracing::error!(%error, "could not sign a checkpoint");
        }
        // Idempotency keys are kept 24 hours at least; the purge is cheap and indexed.
        if tick_count.is_multiple_of(PURGE_EVERY) {
            match store.purge_idempotency_keys(clock()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(keys = n, "forgot expired idempotency keys"),
                Err(error) => tracing::error!(%error, "could not purge idempotency keys"),
            }
        }
        tick_count = tick_count.wrapping_add(1);
    }
}
