//! `tiq-conformance`: tiq's MCP routes (the same session manager, Host and Origin checks and
//! limits as `tiq serve`) serving tiq's tools, prompts and resources plus the fixtures the
//! MCP conformance suite expects, over an empty data directory. `tests/conformance/run.sh`
//! starts it and runs the suite against it; it has no other use.
//!
//! Usage: `tiq-conformance [ADDRESS]` (default 127.0.0.1:0, a free port). The first line on
//! standard output is the MCP URL; logs go to standard error.

mod handler;
mod tools;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tiq_engine::Engine;
use tiq_server::{ServerConfig, TiqTools};
use tokio_util::sync::CancellationToken;

use handler::Fixtures;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TIQ_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let address: SocketAddr = match std::env::args().nth(1) {
        Some(value) => value
            .parse()
            .with_context(|| format!("invalid listen address {value:?}: use IP:PORT"))?,
        None => SocketAddr::from(([127, 0, 0, 1], 0)),
    };

    let data = tempfile::tempdir().context("cannot create a temporary data directory")?;
    let engine = Arc::new(Engine::open(data.path()).context("cannot open the engine")?);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    let local = listener.local_addr()?;

    let shutdown = CancellationToken::new();
    let config = ServerConfig::new(local);
    let routes = tiq_server::mcp_routes(
        move || Fixtures::new(TiqTools::new(engine.clone())),
        &config,
        shutdown.clone(),
    );
    println!("http://{local}/mcp");

    let trigger = shutdown.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        trigger.cancel();
    });
    axum::serve(listener, routes)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await?;
    Ok(())
}
