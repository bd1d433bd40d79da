//! `GET /api/v1/status`: every catalog feed's records, last sync, last error and data age,
//! and the sources imported by hand.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tiq_engine::Engine;
use tiq_sync::SyncSettings;

#[derive(Clone)]
pub(crate) struct StatusState {
    engine: Arc<Engine>,
    settings: Arc<SyncSettings>,
}

pub fn router(engine: Arc<Engine>, settings: Arc<SyncSettings>) -> Router {
    Router::new()
        .route("/api/v1/status", get(status))
        .with_state(StatusState { engine, settings })
}

#[utoipa::path(
    get,
    path = "/api/v1/status",
    tag = "service",
    summary = "Feed status: records, last sync, last error and data age per feed",
    responses(
        (status = 200, description = "Status of every catalog feed and imported source", body = ref("#/components/schemas/FeedStatus")),
        (status = 401, description = "No valid API key (once keys exist)", body = ref("#/components/schemas/ErrorBody")),
        (status = 403, description = "The Host header is not an allowed host", body = ref("#/components/schemas/ErrorBody")),
        (status = 429, description = "Too many failed authentications from this address", body = ref("#/components/schemas/ErrorBody")),
        (status = 503, description = "The local database cannot be read", body = ref("#/components/schemas/ErrorBody"))
    )
)]
pub(crate) async fn status(State(state): State<StatusState>) -> Response {
    match read(state.engine, state.settings).await {
        Ok(status) => Json(status).into_response(),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "error": "store_unavailable", "message": error })),
        )
            .into_response(),
    }
}

/// Reads the status of every feed now, on the blocking pool. The error, already logged, is
/// the message to show.
pub(crate) async fn read(
    engine: Arc<Engine>,
    settings: Arc<SyncSettings>,
) -> Result<tiq_sync::Status, String> {
    let result = tokio::task::spawn_blocking(move || {
        let store = tiq_store::Store::open(engine.data_dir())?;
        tiq_sync::status(&store, &settings, time::OffsetDateTime::now_utc())
    })
    .await;
    let error = match result {
        Ok(Ok(status)) => return Ok(status),
        Ok(Err(error)) => error.to_string(),
        Err(error) => error.to_string(),
    };
    tracing::error!(%error, "status cannot read the store");
    Err(error)
}
