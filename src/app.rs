//! Builds the HTTP server from a [`ServeConfig`]: binds the listener, connects the store and
//! mounts the API, the documentation UI and the fallbacks.
//!
//! Binding happens in [`App::build`], so a caller (a test) that asks for port 0 learns the real
//! port before the server runs. The build also loads (or, on the embedded default, creates) the
//! signing key, pins it as the log's identity, signs a first checkpoint, and starts the task that
//! signs a new checkpoint whenever the tree has grown.
//!
//! The binary serves with [`App::run_until_signalled`]: SIGINT and SIGTERM both drain (requests
//! in flight finish, new connections are refused) for up to `--shutdown-timeout-secs`.
//!
//! The listener is bound first, before anything that cannot be undone: a port already taken then
//! fails the start before a key file or an admin token exists. What a start does create, and
//! nobody could read afterwards (the verifier key of a new key, the secret of the first admin
//! token), is handed to the caller as soon as it exists ([`Created`]), so that a later failure
//! does not swallow it.

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
    /// On PostgreSQL, the listener for other instances' new heads.
    follower: tokio::task::JoinHandle<()>,
    shutdown_timeout: u64,
    vkey: String,
}

/// Something a start created that is shown nowhere else, handed to the caller of
/// [`App::build_announcing`] the moment it exists.
#[derive(Debug, Clone, Copy)]
pub enum Created<'a> {
    /// The log's signing key, just written to `path` (the embedded default's first start).
    SigningKey {
        /// The key file.
        path: &'a std::path::Path,
        /// Its verifier key, for auditors.
        vkey: &'a str,
    },
    /// The admin token `admin`, created on a database with no token; its secret is not stored.
    FirstAdmin {
        /// The token's secret.
        secret: &'a str,
    },
}

impl App {
    /// Binds the listener and connects to the database (applying migrations).
    pub async fn build(config: &ServeConfig) -> anyhow::Result<App> {
        App::build_with_clock(config, system_clock()).await
    }

    /// [`App::build`] with an injected clock.
    pub async fn build_with_clock(config: &ServeConfig, clock: Clock) -> anyhow::Result<App> {
        App::build_announcing(config, clock, &mut |_| {}).await
    }

    /// [`App::build_with_clock`], calling `announce` with each thing the start creates as soon
    /// as it exists: the caller MUST show it then, because the start may still fail after it.
    pub async fn build_announcing(
        config: &ServeConfig,
        clock: Clock,
        announce: &mut dyn FnMut(Created<'_>),
    ) -> anyhow::Result<App> {
        let listener = bind(&config.bind, config.http_backlog)?;
        let store = Store::connect(&config.database.database_url, config.max_connections)
            .await?
            .with_batching(crate::store::Batching {
                max_entries: usize::from(config.append_batch_max),
                max_delay: Duration::from_micros(u64::from(config.append_batch_delay_us)),
            });
        let pinned = store.identity().await?;
        let (signer, created_key) = crate::keys::load_or_create(
            config.signing_key.as_deref(),
            &config.database.database_url,
            config.origin.as_deref(),
            pinned.as_ref().map(|(origin, _)| origin.as_str()),
        )?;
        let vkey = signer.verifier().to_vkey();
        if let Some(path) = &created_key {
            announce(Created::SigningKey { path, vkey: &vkey });
        }
        store.pin_identity(signer.name(), &vkey, clock()).await?;
        let signer = Arc::new(signer);
        store.sign_checkpoint(&signer, clock()).await?;
        let checkpointer = tokio::spawn(sign_checkpoints(
            store.clone(),
            signer.clone(),
            clock.clone(),
            Duration::from_millis(config.checkpoint_interval_ms.max(10)),
        ));
        let follower = tokio::spawn(store.clone().follow_heads());
        if config.first_run_admin
            && let Some(secret) = first_run_admin(&store, clock()).await?
        {
            announce(Created::FirstAdmin { secret: &secret });
        }
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
        let cors_origins = config.cors_allowed_origins.clone();
        let http_metrics = web::Data::new(crate::metrics::HttpMetrics::default());
        let mut server = HttpServer::new(move || {
            ActixApp::new()
                .wrap(TracingLogger::<RequestSpan>::new())
                .wrap(actix_web::middleware::Condition::new(
                    !cors_origins.is_empty(),
                    cors(&cors_origins),
                ))
                .wrap(actix_web::middleware::from_fn(crate::response_headers::set))
                .wrap(actix_web::middleware::from_fn(api::head_as_get))
                .wrap(actix_web::middleware::Compress::default())
                // Outermost: names, counts and logs every response, whichever layer made it.
                .wrap(actix_web::middleware::from_fn(crate::telemetry::observe))
                .app_data(state.clone())
                .app_data(http_metrics.clone())
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
        // Signals are handled by `run_until_signalled`, so that SIGINT drains as SIGTERM does
        // (actix's own handling stops at once on SIGINT).
        .disable_signals()
        .shutdown_timeout(config.shutdown_timeout_secs)
        .listen(listener)?;
        if let Some(workers) = config.workers {
            server = server.workers(workers);
        }
        Ok(App {
            port,
            server: server.run(),
            checkpointer,
            follower,
            shutdown_timeout: config.shutdown_timeout_secs,
            vkey,
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

    /// Serves until stopped through [`App::handle`].
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.checkpointer.abort();
        self.follower.abort();
        result
    }

    /// Serves until the process gets SIGINT or SIGTERM, then drains: stops accepting
    /// connections, lets requests in flight finish for up to `--shutdown-timeout-secs`, and
    /// returns. Either signal drains alike; the drain's start and end are logged.
    pub async fn run_until_signalled(self) -> std::io::Result<()> {
        // Installed before serving, so that a signal arriving at any point is seen.
        let signalled = stop_signal()?;
        let handle = self.server.handle();
        let timeout = self.shutdown_timeout;
        let drain_started = Arc::new(std::sync::OnceLock::new());
        let started = drain_started.clone();
        let drain = tokio::spawn(async move {
            let signal = signalled.await;
            started.get_or_init(std::time::Instant::now);
            tracing::info!(
                signal,
                timeout_secs = timeout,
                "draining: no new connections; requests in flight may finish"
            );
            handle.stop(true).await;
        });
        let result = self.run_until_stopped().await;
        drain.abort();
        if let Some(started) = drain_started.get() {
            tracing::info!(
                drain_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                "drained: stopped"
            );
        }
        result
    }
}

/// A future that resolves to the name of the first of SIGINT and SIGTERM the process gets.
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = &'static str>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        })
    }
}

/// Binds `address` with a listen backlog of `backlog` connections. The listener is bound before
/// the server is built, so that the links' fallback base and a test asking for port 0 know the
/// real address. A failure is one line naming the address and what to do.
fn bind(address: &str, backlog: u32) -> anyhow::Result<std::net::TcpListener> {
    use std::io::ErrorKind;
    use std::net::ToSocketAddrs;
    const CHOOSE: &str = "choose another with --bind (DECISION_LOG_BIND)";
    let addr = match address.to_socket_addrs().map(|mut a| a.next()) {
        Ok(Some(addr)) => addr,
        Ok(None) => anyhow::bail!("cannot listen on {address}: it names no address; {CHOOSE}"),
        Err(error) => anyhow::bail!(
            "cannot listen on {address}: {error}; give --bind (DECISION_LOG_BIND) as HOST:PORT, \
             e.g. 127.0.0.1:8080"
        ),
    };
    let listen = || -> std::io::Result<std::net::TcpListener> {
        let socket = socket2::Socket::new(
            socket2::Domain::for_address(addr),
            socket2::Type::STREAM,
            Some(socket2::Protocol::TCP),
        )?;
        socket.set_reuse_address(true)?;
        socket.bind(&addr.into())?;
        socket.listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
        Ok(socket.into())
    };
    listen().map_err(|error| match error.kind() {
        ErrorKind::AddrInUse => anyhow::anyhow!(
            "cannot listen on {addr}: the address is already in use; stop what is using it or \
             {CHOOSE}"
        ),
        ErrorKind::AddrNotAvailable => {
            anyhow::anyhow!("cannot listen on {addr}: this machine has no such address; {CHOOSE}")
        }
        ErrorKind::PermissionDenied => anyhow::anyhow!(
            "cannot listen on {addr}: permission denied (ports below 1024 need privileges); \
             {CHOOSE}"
        ),
        _ => anyhow::anyhow!("cannot listen on {addr}: {error}; {CHOOSE}"),
    })
}

/// The CORS policy for `origins`: pages there may read (`GET`, `HEAD`) without credentials, and
/// read the headers a reader of pages and proofs needs. A request from any other origin gets no
/// CORS headers (the browser then keeps the answer from the page) but is otherwise served as
/// usual, so the deployment's own pages and non-browser clients are unaffected.
fn cors(origins: &[crate::base_url::PublicUrl]) -> actix_cors::Cors {
    use actix_web::http::header;
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "HEAD"])
        .allowed_headers([
            header::ACCEPT,
            header::IF_NONE_MATCH,
            header::IF_MODIFIED_SINCE,
        ])
        .expose_headers([
            header::LINK,
            header::ETAG,
            header::LAST_MODIFIED,
            header::RETRY_AFTER,
            header::HeaderName::from_static("x-request-id"),
        ])
        .max_age(3600)
        .block_on_origin_mismatch(false);
    for origin in origins {
        cors = cors.allowed_origin(&origin.to_string());
    }
    cors
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

/// Signs a checkpoint as soon as the tree has grown, at most one per `interval`, and now and then
/// forgets expired idempotency keys. The store says when the head has moved
/// ([`Store::head_moved`]: this process's appends, and on PostgreSQL every instance's); a timer
/// looks anyway, for appends nobody was told of: every [`CHECKPOINT_FALLBACK`] on PostgreSQL (a
/// listener reconnecting), every `interval` on SQLite (another process writing the file). A
/// failure is logged and retried on the next wake: readers keep the last checkpoint meanwhile.
async fn sign_checkpoints(
    store: Store,
    signer: Arc<ledger::note::Signer>,
    clock: Clock,
    interval: Duration,
) {
    const PURGE_EVERY: Duration = Duration::from_secs(3_600);
    let mut purged: Option<tokio::time::Instant> = None;
    // On SQLite another process's appends are seen only by looking (a read of the local file).
    let fallback = match store.backend() {
        sea_orm::DbBackend::Postgres => CHECKPOINT_FALLBACK,
        _ => interval,
    };
    // `serve` signed one just before.
    let mut signed = tokio::time::Instant::now();
    loop {
        // What moves meanwhile is signed once this has passed.
        tokio::time::sleep_until(signed + interval).await;
        tokio::select! {
            () = store.head_moved() => {}
            () = tokio::time::sleep(fallback) => {}
        }
        signed = tokio::time::Instant::now();
        if let Err(error) = store.sign_checkpoint(&signer, clock()).await {
            tracing::error!(%error, "could not sign a checkpoint");
        }
        // Idempotency keys are kept 24 hours at least; the purge is cheap and indexed.
        if purged.is_none_or(|at| at.elapsed() >= PURGE_EVERY) {
            match store.purge_idempotency_keys(clock()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(keys = n, "forgot expired idempotency keys"),
                Err(error) => tracing::error!(%error, "could not purge idempotency keys"),
            }
            purged = Some(tokio::time::Instant::now());
        }
    }
}

/// How long the checkpoint signer of a PostgreSQL log waits for news of a new head before it
/// looks anyway.
const CHECKPOINT_FALLBACK: Duration = Duration::from_secs(10);
