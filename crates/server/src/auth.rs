//! Access control in front of every surface. One middleware gives each request an id, caps
//! its headers, finds the API key and authenticates it. The key is read from
//! `Authorization: Bearer`, from `X-API-Key`, or from `?key=` on `/mcp`, `/sse` and
//! `/messages`, and the v3 handler reads `c_appkey` from its body itself.
//! Handlers then admit each call against the key's scopes and limits
//! through the [`Admission`] in the request's extensions, and the middleware writes the
//! audit entry of every REST and v3 call from the [`AuditNote`] the handler leaves on the
//! response. MCP tool calls are audited by the MCP handler.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tiq_access::{Access, AuditEntry, Caller, Denial, Scope, Surface};
use tiq_model::Lang;
use tracing::Instrument;

/// Default maximum total size of a request's headers, in bytes.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;
/// Default maximum time a request may take before the server responds with 503.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Header that carries the request id, in both directions.
pub const REQUEST_ID: &str = "x-request-id";

/// Access state of one request: the caller, the access control that admits its calls,
/// and the request details that its audit entries record.
#[derive(Clone)]
pub struct Admission {
    access: Option<Arc<Access>>,
    /// `None` while the key is still to be read from a v3 body or an SSE session.
    caller: Option<Caller>,
    pub request_id: Arc<str>,
    pub surface: Surface,
    client: Option<IpAddr>,
    started: Instant,
}

impl Admission {
    /// Creates an admission for an anonymous caller that may call every tool, for stdio and
    /// for servers built without access control. Calls are still audited when `access` is set.
    pub fn open(access: Option<Arc<Access>>, surface: Surface) -> Admission {
        Admission {
            access,
            caller: Some(Caller::anonymous(None)),
            request_id: new_request_id().into(),
            surface,
            client: None,
            started: Instant::now(),
        }
    }

    pub fn caller(&self) -> Option<&Caller> {
        self.caller.as_ref()
    }

    /// Returns whether the key is still to be read from the body or the session.
    pub fn is_pending(&self) -> bool {
        self.caller.is_none()
    }

    /// Authenticates a key found after the middleware ran (a v3 body's `c_appkey`).
    pub fn authenticate(&mut self, presented: Option<&str>) -> Result<(), Denial> {
        if self.caller.is_some() {
            return Ok(());
        }
        let Some(access) = &self.access else {
            self.caller = Some(Caller::anonymous(self.client));
            return Ok(());
        };
        self.caller = Some(access.authenticate(presented, self.client)?);
        Ok(())
    }

    /// Takes the caller of the SSE session a message belongs to, once its key is checked
    /// again: a key revoked, expired or rotated since the stream opened is refused.
    pub fn bind(&mut self, caller: Caller) -> Result<(), Denial> {
        if let Some(access) = &self.access {
            access.recheck(&caller)?;
        }
        self.caller = Some(caller);
        Ok(())
    }

    /// Admits a call needing `scope` that counts `cost` requests.
    pub fn admit(&self, scope: Scope, cost: u32) -> Result<(), Denial> {
        match (&self.access, &self.caller) {
            (None, _) => Ok(()),
            (Some(_), None) => Err(Denial::MissingKey),
            (Some(access), Some(caller)) => access.admit(caller, scope, cost),
        }
    }

    /// Writes an audit entry for a call that took from `started` until now.
    pub fn record(&self, note: &AuditNote, status: u16, started: Instant) {
        let Some(access) = &self.access else {
            return;
        };
        access.record(AuditEntry {
            time: access.clock().now_utc(),
            request_id: self.request_id.to_string(),
            key_id: note.key_id.clone().or_else(|| {
                self.caller
                    .as_ref()
                    .and_then(Caller::key_id)
                    .map(str::to_string)
            }),
            client: Some(
                self.client
                    .map_or_else(|| "local".to_string(), |ip| ip.to_string()),
            ),
            surface: self.surface,
            tool: note.tool.clone(),
            query: note.query.as_deref().map(redact_keys),
            verdict: note.verdict.clone(),
            status,
            latency: started.elapsed(),
        });
    }

    /// When the request reached the server.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Copies the admission for one message of an SSE session, with its own request id and
    /// start time.
    pub fn for_message(&self, request_id: Arc<str>, client: Option<IpAddr>) -> Admission {
        Admission {
            request_id,
            client: client.or(self.client),
            started: Instant::now(),
            ..self.clone()
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Admission {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Admission, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Admission>()
            .cloned()
            .unwrap_or_else(|| Admission::open(None, surface_of(parts.uri.path()))))
    }
}

/// Audit details of a call, which a handler leaves on its response for the middleware.
#[derive(Debug, Clone)]
pub struct AuditNote {
    pub tool: String,
    pub query: Option<String>,
    pub verdict: Option<String>,
    /// The key a refusal names (revoked or expired), when no caller was admitted.
    pub key_id: Option<String>,
}

impl AuditNote {
    pub fn new(tool: &str, query: Option<String>) -> AuditNote {
        AuditNote {
            tool: tool.to_string(),
            query,
            verdict: None,
            key_id: None,
        }
    }

    /// Creates the note of a refused authentication.
    pub fn rejected(denial: &Denial) -> AuditNote {
        AuditNote {
            key_id: denial.key_id().map(str::to_string),
            ..AuditNote::new("auth", None)
        }
    }
}

/// Settings of the access middleware.
#[derive(Clone)]
pub struct AuthState {
    pub access: Option<Arc<Access>>,
    pub max_header_bytes: usize,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
}

/// Returns the surface that serves `path`.
pub fn surface_of(path: &str) -> Surface {
    if path == "/mcp" || path.starts_with("/mcp/") {
        Surface::Mcp
    } else if path == "/sse" || path == "/messages" {
        Surface::Sse
    } else if path.starts_with("/api/v3/") {
        Surface::V3
    } else {
        Surface::Rest
    }
}

/// Paths served to anyone: liveness and the API description.
fn is_public(path: &str) -> bool {
    matches!(path, "/healthz" | "/openapi.json")
}

/// Finds the key in the headers, or in the `key` query parameter on the MCP paths.
fn presented_key<'a>(
    headers: &'a HeaderMap,
    query: Option<&'a str>,
    surface: Surface,
) -> Option<String> {
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
    {
        let (scheme, token) = value.trim().split_once(' ').unwrap_or((value, ""));
        if scheme.eq_ignore_ascii_case("bearer") {
            return Some(token.trim().to_string());
        }
    }
    if let Some(value) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(value.trim().to_string());
    }
    if matches!(surface, Surface::Mcp | Surface::Sse) {
        return query.and_then(|query| {
            form_urlencoded_pairs(query)
                .find(|(name, _)| name == "key")
                .map(|(_, value)| value)
        });
    }
    None
}

fn form_urlencoded_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap_or_default()
        .into_iter()
}

/// Returns the request's path and query for logs, with the value of any `key` parameter
/// replaced.
pub fn redacted_uri(uri: &axum::http::Uri) -> String {
    let path = redact_keys(uri.path());
    let Some(query) = uri.query() else {
        return path;
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| {
            // Names are compared decoded (`%6bey` is `key`); session ids act as the key
            // that opened the stream, so they are hidden too.
            let (name, _) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded = percent_decoded(name);
            let secret = decoded.eq_ignore_ascii_case("key")
                || decoded.eq_ignore_ascii_case("sessionid")
                || percent_decoded(pair).contains(tiq_access::key::PREFIX);
            if secret {
                format!("{}=REDACTED", redact_keys(name))
            } else {
                pair.to_string()
            }
        })
        .collect();
    format!("{path}?{}", parts.join("&"))
}

fn percent_decoded(text: &str) -> String {
    serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("x={text}"))
        .ok()
        .and_then(|mut pairs| pairs.pop())
        .map_or_else(|| text.to_string(), |(_, value)| value)
}

/// Replaces every key-shaped run of text (`tiq_<id>_<secret>`) with `REDACTED`, so a key
/// pasted where an indicator belongs reaches neither the log nor the audit log.
pub fn redact_keys(text: &str) -> String {
    let prefix = tiq_access::key::PREFIX;
    if !text.contains(prefix) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        out.push_str(&rest[..at]);
        let candidate = &rest[at..];
        let end = candidate
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(candidate.len());
        if tiq_access::key::id_of(&candidate[..end]).is_some() {
            out.push_str("REDACTED");
        } else {
            out.push_str(&candidate[..end]);
        }
        rest = &candidate[end..];
    }
    out.push_str(rest);
    out
}

static REQUEST_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Creates a request id that is unique within this process run. It joins a prefix, derived
/// once from the start time and the process id, with a counter.
fn new_request_id() -> String {
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let prefix = PREFIX.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        format!(
            "{:08x}",
            (nanos as u64 ^ u64::from(std::process::id()).rotate_left(32)) as u32
        )
    });
    let n = REQUEST_COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{n:08x}")
}

/// Takes a proxy's request id when it is short and plain, so logs on both sides match.
fn incoming_request_id(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(REQUEST_ID)?.to_str().ok()?.trim();
    let plain = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    plain.then(|| value.to_string())
}

/// Runs the access middleware, as the module documentation describes.
pub async fn check(State(state): State<AuthState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id: Arc<str> = incoming_request_id(request.headers())
        .unwrap_or_else(new_request_id)
        .into();
    let path = request.uri().path().to_string();
    let surface = surface_of(&path);
    let lang = request
        .uri()
        .query()
        .and_then(|query| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(query)
                .ok()?
                .into_iter()
                .find(|(name, _)| name == "lang")
                .and_then(|(_, value)| value.parse::<Lang>().ok())
        })
        .unwrap_or_else(|| crate::rest::lang_of(request.headers()));
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip());
    let span = tracing::debug_span!(
        "request",
        request_id = %request_id,
        method = %request.method(),
        uri = %redacted_uri(request.uri()),
    );

    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if header_bytes > state.max_header_bytes {
        let message = match lang {
            Lang::En => format!(
                "request headers are {header_bytes} bytes, over the limit of {}: send fewer or shorter headers",
                state.max_header_bytes
            ),
            Lang::ZhCn => format!(
                "请求头共 {header_bytes} 字节，超过 {} 字节的上限：请减少或缩短请求头",
                state.max_header_bytes
            ),
        };
        let response = error_response(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            message,
        );
        return with_request_id(response, &request_id);
    }

    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared.is_some_and(|length| length > state.max_body_bytes) {
        let message = match lang {
            Lang::En => format!(
                "request body is over the limit of {} bytes: send less per request",
                state.max_body_bytes
            ),
            Lang::ZhCn => format!(
                "请求体超过 {} 字节的上限：请减少每次请求的内容",
                state.max_body_bytes
            ),
        };
        let response = error_response(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message);
        return with_request_id(response, &request_id);
    }

    let admission = match &state.access {
        Some(access) if !is_public(&path) => {
            let presented = presented_key(request.headers(), request.uri().query(), surface);
            let mut admission = Admission {
                access: Some(access.clone()),
                caller: None,
                request_id: request_id.clone(),
                surface,
                client,
                started,
            };
            // A v3 body's c_appkey, or an SSE message's session, names the caller later.
            let deferred = presented.is_none()
                && !access.anonymous_allowed()
                && (path == "/api/v3/ti" || path == "/messages");
            if !deferred && let Err(denial) = admission.authenticate(presented.as_deref()) {
                admission.record(&AuditNote::rejected(&denial), denial.status(), started);
                let _entered = span.enter();
                tracing::info!(code = denial.code(), client = ?client, "rejected a request");
                return with_request_id(denial_response(&denial, surface, lang), &request_id);
            }
            admission
        }
        // Without access control, and on public paths, the caller is anonymous and is not
        // audited.
        _ => Admission {
            access: None,
            caller: Some(Caller::anonymous(client)),
            request_id: request_id.clone(),
            surface,
            client,
            started,
        },
    };
    request.extensions_mut().insert(admission.clone());
    let (parts, body) = request.into_parts();
    let request = Request::from_parts(
        parts,
        Body::new(http_body_util::Limited::new(body, state.max_body_bytes)),
    );
    let run = next.run(request).instrument(span.clone());
    let mut response = match tokio::time::timeout(state.request_timeout, run).await {
        Ok(response) => response,
        Err(_) => {
            let seconds = state.request_timeout.as_secs();
            let message = match lang {
                Lang::En => format!(
                    "the request took longer than {seconds} s and was stopped: retry, or send less per request"
                ),
                Lang::ZhCn => {
                    format!("请求耗时超过 {seconds} 秒，已被中止：请重试，或减少每次请求的内容")
                }
            };
            error_response(StatusCode::SERVICE_UNAVAILABLE, "timeout", message)
        }
    };

    let status = response.status();
    if let Some(note) = response.extensions_mut().remove::<AuditNote>() {
        let mut admission = admission;
        if let Some(resolved) = response.extensions_mut().remove::<ResolvedCaller>() {
            admission.caller = Some(resolved.0);
        }
        admission.record(&note, status.as_u16(), started);
    }
    if status.is_server_error() {
        let _entered = span.enter();
        tracing::error!(status = status.as_u16(), "request failed");
        response = add_request_id_to_body(response, &request_id).await;
    }
    with_request_id(response, &request_id)
}

/// The caller a handler authenticated itself (from a v3 body), for the audit entry.
#[derive(Clone)]
pub struct ResolvedCaller(pub Caller);

/// Builds a JSON error response with `code` in `error` and the localized `message`.
fn error_response(status: StatusCode, code: &str, message: String) -> Response {
    let body = json!({"error": code, "message": message});
    (status, axum::Json(body)).into_response()
}

fn with_request_id(mut response: Response, request_id: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// Puts `request_id` into a JSON error body, so the caller can quote it to the operator.
async fn add_request_id_to_body(response: Response, request_id: &str) -> Response {
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, 64 * 1024).await else {
        return Response::from_parts(parts, Body::empty());
    };
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(mut object)) => {
            object.insert(
                "request_id".to_string(),
                Value::String(request_id.to_string()),
            );
            let mut parts = parts;
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(Value::Object(object).to_string()))
        }
        _ => Response::from_parts(parts, Body::from(bytes)),
    }
}

/// Builds the response to a denial. The JSON body contains the code and the message, and
/// for a limit also its name and the time to retry. A 401 adds `WWW-Authenticate`, and a
/// 429 adds `Retry-After`.
pub fn denial_response(denial: &Denial, surface: Surface, lang: Lang) -> Response {
    let status = StatusCode::from_u16(denial.status()).unwrap_or(StatusCode::FORBIDDEN);
    let body = if surface == Surface::V3 {
        crate::rest::v3_denial_body(denial, lang)
    } else {
        denial_body(denial, lang)
    };
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"tiq\""),
        );
    }
    if let Some(seconds) = denial.retry_after() {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// Builds the JSON body of a denial on REST, `/mcp` and `/sse`.
pub fn denial_body(denial: &Denial, lang: Lang) -> Value {
    let mut body = json!({"error": denial.code(), "message": denial.message(lang)});
    if let Some(limit) = denial.limit() {
        body["limit"] = json!(limit);
    }
    if let Some(seconds) = denial.retry_after() {
        body["retry_after_seconds"] = json!(seconds);
    }
    if let Some(resets) = denial.resets_at() {
        body["resets_at"] = json!(resets);
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_in_every_accepted_place() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            presented_key(&headers, Some("key=tiq_a"), Surface::Rest),
            None
        );
        assert_eq!(
            presented_key(&headers, Some("x=1&key=tiq_a%2Bb"), Surface::Mcp).as_deref(),
            Some("tiq_a+b")
        );
        headers.insert("x-api-key", "tiq_b".parse().unwrap());
        assert_eq!(
            presented_key(&headers, None, Surface::Rest).as_deref(),
            Some("tiq_b")
        );
        headers.insert(header::AUTHORIZATION, "bearer tiq_c".parse().unwrap());
        assert_eq!(
            presented_key(&headers, None, Surface::Rest).as_deref(),
            Some("tiq_c")
        );
    }

    #[test]
    fn keys_in_urls_are_redacted() {
        let uri: axum::http::Uri = "/sse?key=tiq_secret&lang=zh-CN".parse().unwrap();
        assert_eq!(redacted_uri(&uri), "/sse?key=REDACTED&lang=zh-CN");
        let uri: axum::http::Uri = "/mcp?KEY=tiq_secret".parse().unwrap();
        assert_eq!(redacted_uri(&uri), "/mcp?KEY=REDACTED");
        let uri: axum::http::Uri = "/api/v1/ip/192.0.2.1".parse().unwrap();
        assert_eq!(redacted_uri(&uri), "/api/v1/ip/192.0.2.1");
        let uri: axum::http::Uri = "/mcp?%6bey=tiq_secret".parse().unwrap();
        assert_eq!(redacted_uri(&uri), "/mcp?%6bey=REDACTED");
        let uri: axum::http::Uri = "/messages?sessionId=abc123".parse().unwrap();
        assert_eq!(redacted_uri(&uri), "/messages?sessionId=REDACTED");
    }

    #[test]
    fn key_shaped_text_is_redacted_anywhere() {
        let key = format!("tiq_0123456789_{}", "A".repeat(40));
        let uri: axum::http::Uri = format!("/mcp?key%3D{key}").parse().unwrap();
        assert!(!redacted_uri(&uri).contains(&key), "{}", redacted_uri(&uri));
        let uri: axum::http::Uri = format!("/api/v1/domain/{key}").parse().unwrap();
        assert_eq!(redacted_uri(&uri), "/api/v1/domain/REDACTED");
        assert_eq!(redact_keys(&format!("a {key} b")), "a REDACTED b");
        assert_eq!(redact_keys("tiq_short"), "tiq_short");
    }

    #[test]
    fn request_ids_are_unique() {
        assert_ne!(new_request_id(), new_request_id());
    }

    #[test]
    fn proxy_request_ids_are_checked() {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID, "abc-123".parse().unwrap());
        assert_eq!(incoming_request_id(&headers).as_deref(), Some("abc-123"));
        headers.insert(REQUEST_ID, "a b\"c".parse().unwrap());
        assert_eq!(incoming_request_id(&headers), None);
    }
}
