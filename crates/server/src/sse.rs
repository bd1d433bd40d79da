//! MCP over the HTTP+SSE transport of protocol version 2024-11-05, for clients that predate
//! streamable HTTP: `GET /sse` opens a server-sent-event stream, and the client posts its
//! JSON-RPC messages to the endpoint named by the stream's first event,
//! `POST /messages?sessionId=ID`.
//!
//! rmcp no longer ships this transport, so each stream is one rmcp session served over a
//! pair of channels: client messages go from the POST handler into the session, and the
//! session's messages come out as `message` events. A session ends when its stream closes,
//! when its service stops, or when the server shuts down.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{OriginalUri, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt, stream};
use rmcp::model::{ClientJsonRpcMessage, GetExtensions, ServerJsonRpcMessage};
use rmcp::{ServerHandler, ServiceExt};
use serde::Deserialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::auth::Admission;
use crate::sessions::{SessionSlot, SessionSlots};
use axum::extract::Request;
use tiq_access::Caller;

/// Time between two keep-alive comments on an idle stream, so proxies do not close it.
pub const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(15);

/// Messages buffered in each direction of one session before the sender waits.
const CHANNEL_CAPACITY: usize = 64;

/// Header a reverse proxy sets to the path prefix it strips, such as `/tiq`.
const FORWARDED_PREFIX: &str = "x-forwarded-prefix";

/// One open session: where its messages go, and the caller who opened it.
#[derive(Clone)]
struct Session {
    sender: mpsc::Sender<ClientJsonRpcMessage>,
    caller: Option<Caller>,
}

type Sessions = Mutex<HashMap<String, Session>>;

struct SseState<S> {
    new_service: Box<dyn Fn() -> S + Send + Sync>,
    sessions: Arc<Sessions>,
    slots: Arc<SessionSlots>,
    shutdown: CancellationToken,
}

/// Builds the routes `GET /sse` and `POST /messages`. Each stream serves one service made by
/// `new_service`, takes one of `slots` while open, and ends when `shutdown` is cancelled.
pub fn router<S>(
    new_service: impl Fn() -> S + Send + Sync + 'static,
    slots: Arc<SessionSlots>,
    shutdown: CancellationToken,
) -> Router
where
    S: ServerHandler + Send + 'static,
{
    let state = Arc::new(SseState {
        new_service: Box::new(new_service),
        sessions: Arc::new(Mutex::new(HashMap::new())),
        slots,
        shutdown,
    });
    Router::new()
        .route("/sse", get(open_stream::<S>))
        .route("/messages", post(accept_message::<S>))
        .with_state(state)
}

/// Removes a session from the table, stops its service and gives its slot back when its
/// stream is dropped: on client disconnect, service stop or shutdown.
struct SessionGuard {
    id: String,
    sessions: Arc<Sessions>,
    stop: CancellationToken,
    _slot: SessionSlot,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.stop.cancel();
        lock(&self.sessions).remove(&self.id);
        tracing::debug!(session = short(&self.id), "SSE session closed");
    }
}

async fn open_stream<S>(
    State(state): State<Arc<SseState<S>>>,
    admission: Admission,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response
where
    S: ServerHandler + Send + 'static,
{
    let Some(slot) = state.slots.acquire() else {
        let message = format!(
            "too many open MCP sessions ({}): close idle sessions or raise --max-sessions",
            state.slots.max()
        );
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_sessions",
            message,
        );
    };
    let id = rmcp::transport::common::server_side_http::session_id().to_string();
    let (to_service, from_client) = mpsc::channel::<ClientJsonRpcMessage>(CHANNEL_CAPACITY);
    let (to_client, from_service) = mpsc::channel::<ServerJsonRpcMessage>(CHANNEL_CAPACITY);
    lock(&state.sessions).insert(
        id.clone(),
        Session {
            sender: to_service,
            caller: admission.caller().cloned(),
        },
    );

    let stop = state.shutdown.child_token();
    let service = (state.new_service)();
    tokio::spawn(run_session(
        service,
        (to_client, from_client),
        stop.clone(),
        id.clone(),
    ));
    tracing::debug!(session = short(&id), "SSE session opened");

    let endpoint = format!(
        "{}/messages?sessionId={id}",
        path_prefix(uri.path(), &headers)
    );
    let guard = SessionGuard {
        id,
        sessions: state.sessions.clone(),
        stop: stop.clone(),
        _slot: slot,
    };
    let first = Event::default().event("endpoint").data(endpoint);
    let messages = from_service.map(|message| Event::default().event("message").json_data(message));
    let events = stream::once(async move { Ok::<Event, axum::Error>(first) })
        .chain(messages)
        .take_until(stop.cancelled_owned())
        .map(move |event| {
            let _open = &guard;
            event
        });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE_INTERVAL))
        .into_response()
}

/// Serves one session until its client disconnects, the service stops or `stop` is cancelled,
/// then cancels `stop` so the stream ends too.
async fn run_session<S>(
    service: S,
    transport: (
        mpsc::Sender<ServerJsonRpcMessage>,
        mpsc::Receiver<ClientJsonRpcMessage>,
    ),
    stop: CancellationToken,
    id: String,
) where
    S: ServerHandler + Send + 'static,
{
    match service.serve_with_ct(transport, stop.clone()).await {
        Ok(running) => {
            if let Err(error) = running.waiting().await {
                tracing::warn!(session = short(&id), %error, "SSE session task failed");
            }
        }
        Err(error) => {
            tracing::debug!(session = short(&id), %error, "SSE session ended before initialization")
        }
    }
    stop.cancel();
}

#[derive(Debug, Deserialize)]
struct MessageQuery {
    #[serde(rename = "sessionId")]
    session_id: Option<String>,
}

/// Hands one JSON-RPC message to its session and returns 202 Accepted, because the response
/// comes on the session's stream. Bodies that are not JSON are rejected before this by
/// [`crate::guard::json_body`].
async fn accept_message<S>(
    State(state): State<Arc<SseState<S>>>,
    Query(query): Query<MessageQuery>,
    mut admission: Admission,
    request: Request,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, crate::guard::MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(_) => {
            return error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "request body is over the limit: send less per message".to_string(),
            );
        }
    };
    let Some(id) = query.session_id.filter(|id| !id.is_empty()) else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "missing_session_id",
            "missing sessionId query parameter: post to the endpoint sent in the stream's first event".to_string(),
        );
    };
    let mut message = match serde_json::from_slice::<ClientJsonRpcMessage>(&body) {
        Ok(message) => message,
        Err(error) => {
            let body = json!({
                "jsonrpc": "2.0",
                "id": null,
                "error": {"code": -32600, "message": format!("invalid request: not a JSON-RPC request, notification or response ({error})")},
            });
            return (StatusCode::BAD_REQUEST, Json(body)).into_response();
        }
    };
    let session = lock(&state.sessions).get(&id).cloned();
    if let Some(session) = &session {
        // A message belongs to the caller who opened the stream: without a key of its own
        // it acts as that caller, and with another caller's key it is refused.
        let owner = session.caller.as_ref().and_then(Caller::key_id);
        match admission.caller() {
            None => {
                if let Some(caller) = session.caller.clone()
                    && let Err(denial) = admission.bind(caller)
                {
                    let lang = crate::rest::lang_of(&parts.headers);
                    let mut response =
                        crate::auth::denial_response(&denial, tiq_access::Surface::Sse, lang);
                    response
                        .extensions_mut()
                        .insert(crate::auth::AuditNote::rejected(&denial));
                    return response;
                }
            }
            Some(caller) if caller.key_id() != owner => {
                return error_response(
                    StatusCode::FORBIDDEN,
                    "session_of_another_key",
                    format!(
                        "SSE session {id:?} was opened with another API key: post with the key that opened it"
                    ),
                );
            }
            Some(_) => {}
        }
        parts.extensions.insert(admission);
        if let ClientJsonRpcMessage::Request(request) = &mut message {
            request.request.extensions_mut().insert(parts);
        }
    }
    let delivered = match session {
        Some(mut session) => session.sender.send(message).await.is_ok(),
        None => false,
    };
    if delivered {
        StatusCode::ACCEPTED.into_response()
    } else {
        error_response(
            StatusCode::NOT_FOUND,
            "session_not_found",
            format!(
                "no open SSE session {id:?}: it has closed or never existed; open a new one with GET /sse"
            ),
        )
    }
}

/// Returns the path prefix to put before `/messages`: the proxy's `X-Forwarded-Prefix`,
/// then the part of the request path before `/sse` (non-empty when the router is nested).
fn path_prefix(request_path: &str, headers: &HeaderMap) -> String {
    let forwarded = headers
        .get(FORWARDED_PREFIX)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.trim_end_matches('/'))
        .filter(|value| is_safe_path(value))
        .unwrap_or_default();
    let nested = request_path
        .strip_suffix("/sse")
        .filter(|value| is_safe_path(value))
        .unwrap_or_default();
    format!("{forwarded}{nested}")
}

/// Checks that `path` is empty or an absolute path of unreserved characters, so a header
/// value cannot point the client at another host or break the event's framing.
fn is_safe_path(path: &str) -> bool {
    path.is_empty()
        || (path.starts_with('/')
            && !path.starts_with("//")
            && path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/-._~%".contains(&b)))
}

/// Returns the first characters of a session id, for logs. The whole id lets its holder post
/// as the key that opened the stream.
fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

fn error_response(status: StatusCode, error: &str, message: String) -> Response {
    (status, Json(json!({"error": error, "message": message}))).into_response()
}

fn lock(sessions: &Sessions) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
    // A panic while the table is locked leaves it consistent (single inserts and removals).
    sessions
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_from_proxy_and_nesting() {
        let mut headers = HeaderMap::new();
        assert_eq!(path_prefix("/sse", &headers), "");
        assert_eq!(path_prefix("/tiq/sse", &headers), "/tiq");
        headers.insert(FORWARDED_PREFIX, "/proxy/".parse().unwrap());
        assert_eq!(path_prefix("/sse", &headers), "/proxy");
        headers.insert(
            FORWARDED_PREFIX,
            "https://evil.example.com".parse().unwrap(),
        );
        assert_eq!(path_prefix("/sse", &headers), "");
        headers.insert(FORWARDED_PREFIX, "//evil.example.com".parse().unwrap());
        assert_eq!(path_prefix("/sse", &headers), "");
    }
}
