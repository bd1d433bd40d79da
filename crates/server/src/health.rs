//! `GET /healthz`: whether the server can read its store, and how fresh the data is.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use tiq_engine::Engine;

#[derive(Serialize)]
pub(crate) struct Health {
    status: &'static str,
    version: &'static str,
    sources: usize,
    records: u64,
    latest_import: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub fn router(engine: Arc<Engine>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .with_state(engine)
}

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "service",
    summary = "Whether the server can read its store, and how fresh the data is",
    responses(
        (status = 200, description = "The store can be read", body = ref("#/components/schemas/Health")),
        (status = 403, description = "The Host header is not an allowed host", body = ref("#/components/schemas/ErrorBody")),
        (status = 503, description = "The store cannot be read", body = ref("#/components/schemas/Health"))
    )
)]
pub(crate) async fn healthz(State(engine): State<Arc<Engine>>) -> (StatusCode, Json<Health>) {
    let sources = tokio::task::spawn_blocking(move || engine.sources()).await;
    let version = env!("CARGO_PKG_VERSION");
    match sources {
        Ok(Ok(sources)) => {
            let health = Health {
                status: "ok",
                version,
                sources: sources.len(),
                records: sources.iter().map(|s| s.records).sum(),
                latest_import: sources.iter().map(|s| s.imported_at.clone()).max(),
                error: None,
            };
            (StatusCode::OK, Json(health))
        }
        Ok(Err(error)) => unavailable(version, error.to_string()),
        Err(error) => unavailable(version, error.to_string()),
    }
}

fn unavailable(version: &'static str, error: String) -> (StatusCode, Json<Health>) {
    tracing::error!(%error, "health check cannot read the store");
    let health = Health {
        status: "unavailable",
        version,
        sources: 0,
        records: 0,
        latest_import: None,
        error: Some(error),
    };
    (StatusCode::SERVICE_UNAVAILABLE, Json(health))
}
