//! The HTTP side of tiq: MCP over streamable HTTP at `/mcp` and over HTTP+SSE at `/sse`,
//! the REST API under `/api` with its OpenAPI document, `GET /api/v1/status` and
//! `GET /healthz`, on axum.
//!
//! Handlers hold an `Arc<Engine>` and run each analysis on the blocking pool, so every
//! surface returns the engine's report unchanged. This crate owns transport concerns only:
//! routing, tool descriptions and schemas, error mapping, and graceful shutdown.

pub mod auth;
mod guard;
mod health;
mod mcp;
mod prompts;
mod resources;
mod rest;
mod sessions;
mod sse;
mod status;
mod stdio;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::serve::ListenerExt;
use rmcp::ServerHandler;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tiq_engine::Engine;
use tokio_util::sync::CancellationToken;

pub use auth::{DEFAULT_MAX_HEADER_BYTES, DEFAULT_REQUEST_TIMEOUT};
pub use mcp::{DEFAULT_MAX_TEXT_BYTES, TiqTools};
pub use rest::openapi_document;
pub use sessions::{BoundedSessions, DEFAULT_MAX_SESSIONS, SessionSlots};
pub use sse::KEEP_ALIVE_INTERVAL;
pub use stdio::serve_stdio;

/// Address `tiq serve` listens on when none is given.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8737";

/// Browser origins accepted by default: pages served from this machine. Requests without
/// an Origin header (every non-browser client) are not affected.
pub const LOOPBACK_ORIGINS: [&str; 6] = [
    "http://localhost:*",
    "https://localhost:*",
    "http://127.0.0.1:*",
    "https://127.0.0.1:*",
    "http://[::1]:*",
    "https://[::1]:*",
];

/// Settings of the HTTP server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// `Host` header values accepted on `/mcp`, as host names or `host:port`. Requests with
    /// another Host are rejected with 403, which defeats DNS rebinding.
    pub allowed_hosts: Vec<String>,
    /// Browser origins accepted on `/mcp` (`scheme://host:port`, `:*` for any port). A
    /// request with another Origin header is rejected with 403; one without is accepted.
    pub allowed_origins: Vec<String>,
    /// MCP sessions open at once; a new session beyond it is refused until one closes.
    pub max_sessions: usize,
    /// Feed settings for `/api/v1/status`; the catalog defaults when `None`.
    pub sync: Option<Arc<tiq_sync::SyncSettings>>,
    /// API keys, limits and the audit log; every request is served without them when `None`.
    pub access: Option<Arc<tiq_access::Access>>,
    /// Largest total size of a request's headers, in bytes (431 beyond it).
    pub max_header_bytes: usize,
    /// Largest request body, in bytes (413 beyond it); at most 4 MiB, rmcp's own limit.
    pub max_body_bytes: usize,
    /// Maximum time a request may take before it gets a 503.
    pub request_timeout: std::time::Duration,
    /// Largest text `analyze_text` and `POST /api/v1/scan` read, in bytes (413 beyond it).
    pub max_text_bytes: usize,
}

impl ServerConfig {
    /// Creates a configuration that accepts the loopback names and the listen address itself
    /// as Host, and pages served from this machine as Origin.
    pub fn new(listen: SocketAddr) -> ServerConfig {
        let mut allowed_hosts: Vec<String> = ["localhost", "127.0.0.1", "::1", "[::1]"]
            .map(String::from)
            .to_vec();
        let own = listen.ip().to_string();
        if !listen.ip().is_unspecified() && !allowed_hosts.contains(&own) {
            allowed_hosts.push(own);
        }
        ServerConfig {
            listen,
            allowed_hosts,
            allowed_origins: LOOPBACK_ORIGINS.map(String::from).to_vec(),
            max_sessions: DEFAULT_MAX_SESSIONS,
            sync: None,
            access: None,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            max_body_bytes: guard::MAX_BODY_BYTES,
            max_text_bytes: DEFAULT_MAX_TEXT_BYTES,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

/// Errors of the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    #[error("cannot listen on {address}")]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("MCP session on standard input and output failed to start: {0}")]
    StdioStart(Box<rmcp::service::ServerInitializeError>),
    #[error("MCP session on standard input and output failed: {0}")]
    StdioTask(#[from] tokio::task::JoinError),
}

/// Builds the application: `/mcp`, `/sse`, `/messages`, the REST API, `/api/v1/status`
/// and `/healthz`.
pub fn app(engine: Arc<Engine>, config: &ServerConfig, shutdown: CancellationToken) -> Router {
    let settings = config
        .sync
        .clone()
        .unwrap_or_else(|| Arc::new(tiq_sync::SyncSettings::resolve(None, |_| None)));
    let tools_engine = engine.clone();
    let tools_settings = settings.clone();
    let tools_access = config.access.clone();
    let max_text = config.max_text_bytes;
    let mcp = mcp_routes(
        move || {
            TiqTools::new(tools_engine.clone())
                .with_sync_settings(tools_settings.clone())
                .with_access(tools_access.clone())
                .with_max_text(max_text)
        },
        config,
        shutdown,
    );
    let plain = health::router(engine.clone())
        .merge(status::router(engine.clone(), settings))
        .merge(rest::router(engine, config.max_text_bytes))
        .method_not_allowed_fallback(rest::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            config.allowed_hosts.clone(),
            guard::allowed_host,
        ));
    let auth = auth::AuthState {
        access: config.access.clone(),
        max_header_bytes: config.max_header_bytes,
        max_body_bytes: config.max_body_bytes.min(guard::MAX_BODY_BYTES),
        request_timeout: config.request_timeout,
    };
    mcp.merge(plain)
        .layer(axum::middleware::from_fn_with_state(auth, auth::check))
}

/// Builds the MCP routes with their request checks: streamable HTTP at `/mcp`, and HTTP+SSE
/// at `GET /sse` and `POST /messages`. Every session is served by a new service from
/// `new_service`, and both transports count their sessions against `config.max_sessions`.
pub fn mcp_routes<S>(
    new_service: impl Fn() -> S + Clone + Send + Sync + 'static,
    config: &ServerConfig,
    shutdown: CancellationToken,
) -> Router
where
    S: ServerHandler + Send + 'static,
{
    let slots = Arc::new(SessionSlots::new(config.max_sessions));
    let mut mcp_config = StreamableHttpServerConfig::default();
    mcp_config.allowed_hosts = config.allowed_hosts.clone();
    mcp_config.allowed_origins = config.allowed_origins.clone();
    mcp_config.cancellation_token = shutdown.clone();
    let stateless_config = mcp_config
        .clone()
        .with_legacy_session_mode(false)
        .with_json_response(true);
    let streamable_service = new_service.clone();
    let streamable = StreamableHttpService::new(
        move || Ok(streamable_service()),
        Arc::new(BoundedSessions::sharing(slots.clone())),
        mcp_config,
    );
    let stateless_service = new_service.clone();
    let stateless = StreamableHttpService::new(
        move || Ok(stateless_service()),
        Arc::new(LocalSessionManager::default()),
        stateless_config,
    );
    // rmcp checks Host and Origin on /mcp itself; the SSE routes get the same checks here.
    let sse = sse::router(new_service, slots, shutdown)
        .layer(axum::middleware::from_fn(guard::json_body))
        .layer(axum::middleware::from_fn_with_state(
            config.allowed_origins.clone(),
            guard::allowed_origin,
        ))
        .layer(axum::middleware::from_fn_with_state(
            config.allowed_hosts.clone(),
            guard::allowed_host,
        ));
    Router::new()
        .nest_service("/mcp", streamable)
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(stateless),
            guard::stateless_or_session::<S>,
        ))
        .layer(axum::middleware::from_fn(guard::json_body))
        .merge(sse)
}

/// Binds `config.listen` and serves until `shutdown` is cancelled, then lets open requests finish.
pub async fn serve(
    engine: Arc<Engine>,
    config: ServerConfig,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Bind {
            address: config.listen,
            source,
        })?;
    serve_on(listener, engine, config, shutdown).await
}

/// Serves on an already bound listener until `shutdown` is cancelled.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    engine: Arc<Engine>,
    config: ServerConfig,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let local = listener.local_addr()?;
    tracing::info!(
        address = %local,
        mcp = %format!("http://{local}/mcp"),
        sse = %format!("http://{local}/sse"),
        "tiq is listening"
    );
    let app = app(engine, &config, shutdown.clone());
    // Small responses (SSE events, JSON-RPC results) go out at once instead of waiting for
    // the client's delayed acknowledgement, which cost 40 ms per request in benches/http.sh.
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY on a connection");
        }
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { shutdown.cancelled().await })
    .await?;
    tracing::info!("tiq stopped");
    Ok(())
}
