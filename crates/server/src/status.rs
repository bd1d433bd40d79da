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
        (status = 403, description = "The Host header is not an allowed host", body = ref("#/components/schemas/ErrorBody")),
        (status = 503, description = "The local database cannot be read", body = ref("#/components/schemas/ErrorBody"))
    )
)]
pub(crate) async fn status(State(state): State<StatusState>) -> Response {
    let result = tokio::task::spawn_blocking(move || {
        let store = tiq_store::Store::open(state.engine.data_dir())?;
        tiq_sync::status(&store, &state.settings, time::OffsetDateTime::now_utc())
    })
    .await;
    match result {
        Ok(Ok(status)) => Json(status).into_response(),
        Ok(Err(error)) => unavailable(error.to_string()),
        Err(error) => unavailable(error.to_string()),
    }
}

fn unavailable(error: String) -> Response {
    tracing::error!(%error, "status cannot read the store");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(serde_json::json!({ "error": "store_unavailable", "message": error })),
    )
        .into_response()
}
