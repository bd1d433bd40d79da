//! Request checks that rmcp leaves to the application: a JSON-RPC parse error for a body
//! that is not JSON, and the Host check on routes outside `/mcp`.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Largest request body accepted on `/mcp`, in bytes (rmcp's own limit is the same, 4 MiB).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Rejects a POST whose body is not JSON with HTTP 400 and the JSON-RPC parse error
/// (code -32700), as JSON-RPC 2.0 specifies, instead of rmcp's HTTP 415.
pub async fn json_body(request: Request, next: Next) -> Response {
    if request.method() != axum::http::Method::POST {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let message = format!("request body is over the limit of {MAX_BODY_BYTES} bytes");
            return (StatusCode::PAYLOAD_TOO_LARGE, message).into_response();
        }
    };
    if let Err(error) = serde_json::from_slice::<serde_json::Value>(&bytes) {
        tracing::debug!(%error, "rejected an MCP request body that is not JSON");
        let body = json!({
            "jsonrpc": "2.0",
            "id": null,
            "error": {"code": -32700, "message": format!("parse error: the body is not valid JSON ({error})")},
        });
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Rejects a request whose Host header is not one of the allowed hosts, with HTTP 403.
pub async fn allowed_host(
    State(allowed): State<Vec<String>>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok());
    match host {
        Some(host) if host_allowed(host, &allowed) => next.run(request).await,
        _ => {
            let lang = crate::rest::lang_of(request.headers());
            let message = lang.pick(
                "Host header is not allowed: pass --allowed-host",
                "Host 请求头不在允许列表中：请用 --allowed-host 添加",
            );
            let body = json!({"error": "host_not_allowed", "message": message});
            (StatusCode::FORBIDDEN, axum::Json(body)).into_response()
        }
    }
}

/// Checks `host` (`name` or `name:port`) against entries that are either a name, which
/// matches any port, or `name:port`.
fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let host = host.to_ascii_lowercase();
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !name.ends_with(':') => {
            name
        }
        _ => host.as_str(),
    };
    allowed.iter().any(|entry| {
        let entry = entry.to_ascii_lowercase();
        entry == host
            || entry == name
            || entry.trim_matches(['[', ']']) == name.trim_matches(['[', ']'])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_matching() {
        let allowed = ["localhost", "127.0.0.1", "::1", "tiq.example.com:8737"]
            .map(String::from)
            .to_vec();
        assert!(host_allowed("localhost:8737", &allowed));
        assert!(host_allowed("127.0.0.1", &allowed));
        assert!(host_allowed("[::1]:8737", &allowed));
        assert!(host_allowed("tiq.example.com:8737", &allowed));
        assert!(!host_allowed("tiq.example.com:9000", &allowed));
        assert!(!host_allowed("evil.example.com", &allowed));
        assert!(!host_allowed("localhost.evil.example.com", &allowed));
    }
}
