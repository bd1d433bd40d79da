//! The REST API: `/api/v1/…` routes that return exactly what the MCP tools return,
//! `POST /api/v3/ti` in the layout of a commercial cloud threat-intelligence service, and
//! `GET /openapi.json` describing both.
//!
//! Every error is JSON (`{"error": code, "message": text}`) in the request language; unknown
//! paths get a JSON 404 and wrong methods a JSON 405. Bodies over 4 MiB get a 413.

mod error;
mod lang;
mod openapi;
mod v1;
mod v3;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tiq_engine::Engine;

pub use error::method_not_allowed;
use error::not_found;
pub use lang::from_accept_language as lang_of;
pub use openapi::document as openapi_document;
pub(crate) use v1::{batch_verdicts, scan_cost, withhold_unscoped};
pub use v3::denial_body as v3_denial_body;

/// Builds the REST routes, with the JSON 404 as the fallback of the whole application.
pub fn router(engine: Arc<Engine>, max_text_bytes: usize) -> Router {
    Router::new()
        .route("/api/v1/ping", get(v1::ping))
        .route("/api/v1/ip/{ip}", get(v1::ip))
        .route("/api/v1/domain/{domain}", get(v1::domain))
        .route("/api/v1/url", get(v1::url))
        .route("/api/v1/hash/{hash}", get(v1::hash))
        .route("/api/v1/vul", get(v1::vul))
        .route("/api/v1/describe/{name}", get(v1::describe))
        .route("/api/v1/batch", post(v1::batch))
        .route("/api/v1/scan", post(v1::scan))
        .route("/api/v3/ti", post(v3::ti))
        .route("/openapi.json", get(openapi::openapi_json))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(error::MAX_BODY_BYTES))
        .layer(axum::Extension(v1::MaxText(max_text_bytes)))
        .with_state(engine)
}
