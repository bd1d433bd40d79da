//! Request checks that rmcp leaves to the application: a JSON-RPC parse error for a body
//! that is not JSON, and the Host and Origin checks on routes outside `/mcp`.

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

/// Rejects a request whose Origin header is present but not one of the allowed origins,
/// with HTTP 403. An empty list accepts every origin. The matching is rmcp's on `/mcp`:
/// scheme and host must be equal, and an entry's port must be equal, `*`, or absent (any
/// port).
pub async fn allowed_origin(
    State(allowed): State<Vec<String>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(origin) = request.headers().get(header::ORIGIN) else {
        return next.run(request).await;
    };
    let accepted = allowed.is_empty()
        || origin
            .to_str()
            .ok()
            .and_then(Origin::parse)
            .is_some_and(|origin| allowed.iter().any(|entry| origin.matches_entry(entry)));
    if accepted {
        next.run(request).await
    } else {
        tracing::warn!(
            ?origin,
            "rejected a request from a browser origin that is not allowed"
        );
        (
            StatusCode::FORBIDDEN,
            "Origin header is not allowed: pass --allowed-origin",
        )
            .into_response()
    }
}

/// A browser origin: `null`, or scheme, host and port (`None` when the value omits it).
#[derive(Debug, PartialEq, Eq)]
enum Origin {
    Null,
    Tuple {
        scheme: String,
        host: String,
        port: Option<u16>,
    },
}

impl Origin {
    fn parse(value: &str) -> Option<Origin> {
        let value = value.trim();
        if value.eq_ignore_ascii_case("null") {
            return Some(Origin::Null);
        }
        let uri: axum::http::Uri = value.parse().ok()?;
        let authority = uri.authority()?;
        Some(Origin::Tuple {
            scheme: uri.scheme_str()?.to_ascii_lowercase(),
            host: authority
                .host()
                .trim_matches(['[', ']'])
                .to_ascii_lowercase(),
            port: authority.port_u16(),
        })
    }

    /// Checks this origin against one allowed entry: `null`, `scheme://host`,
    /// `scheme://host:port` or `scheme://host:*`.
    fn matches_entry(&self, entry: &str) -> bool {
        let entry = entry.trim();
        let (entry, any_port) = match entry.strip_suffix(":*") {
            Some(base) => (base, true),
            None => (entry, false),
        };
        match (Origin::parse(entry), self) {
            (Some(Origin::Null), Origin::Null) => !any_port,
            (
                Some(Origin::Tuple {
                    scheme,
                    host,
                    port: allowed_port,
                }),
                Origin::Tuple {
                    scheme: own_scheme,
                    host: own_host,
                    port: own_port,
                },
            ) => {
                let port_matches = match allowed_port {
                    None => true,
                    Some(_) if any_port => false,
                    Some(port) => own_port.or_else(|| default_port(own_scheme)) == Some(port),
                };
                scheme == *own_scheme && host == *own_host && port_matches
            }
            _ => false,
        }
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_matching() {
        let origin = |value: &str| Origin::parse(value).unwrap();
        let local = origin("http://localhost:5173");
        assert!(local.matches_entry("http://localhost:*"));
        assert!(local.matches_entry("http://localhost:5173"));
        assert!(local.matches_entry("http://localhost"));
        assert!(!local.matches_entry("https://localhost:*"));
        assert!(!local.matches_entry("http://localhost:8080"));
        assert!(!local.matches_entry("http://localhost:5173:*"));

        let chat = origin("https://chat.example.com");
        assert!(chat.matches_entry("https://chat.example.com:443"));
        assert!(!chat.matches_entry("https://evil.example.com"));
        assert!(origin("http://[::1]:3000").matches_entry("http://[::1]:*"));
        assert!(origin("null").matches_entry("null"));
        assert!(!origin("null").matches_entry("http://localhost:*"));
        assert!(Origin::parse("not an origin").is_none());
    }

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
