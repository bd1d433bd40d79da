//! A tiq server on a free loopback port over the fixture feeds, shared by the test files.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tiq_engine::{Engine, ImportOptions, import};
use tiq_server::ServerConfig;
use tokio_util::sync::CancellationToken;

/// A running server; it shuts down when dropped.
pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    pub shutdown: CancellationToken,
    data: tempfile::TempDir,
}

impl TestServer {
    /// Returns the data directory the server reads.
    pub fn data_path(&self) -> &Path {
        self.data.path()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Imports the engine's fixture feeds and serves them with the configuration `adjust` leaves.
pub async fn start(adjust: impl FnOnce(&mut ServerConfig)) -> TestServer {
    start_in(tempfile::tempdir().unwrap(), |config, _| adjust(config)).await
}

/// Starts a server like [`start`] in `data`, which `adjust` also receives (to create keys there).
pub async fn start_in(
    data: tempfile::TempDir,
    adjust: impl FnOnce(&mut ServerConfig, &Path),
) -> TestServer {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/tests/fixtures/feeds");
    import::import(data.path(), &[fixtures], &ImportOptions::default()).unwrap();
    let engine = Arc::new(Engine::open(data.path()).unwrap());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let mut config = ServerConfig::new(address);
    adjust(&mut config, data.path());
    tokio::spawn(tiq_server::serve_on(
        listener,
        engine,
        config,
        shutdown.clone(),
    ));
    TestServer {
        base: format!("http://{address}"),
        client: reqwest::Client::new(),
        shutdown,
        data,
    }
}

/// Returns the `initialize` parameters of a test client that requests `version`.
pub fn initialize_params(version: &str) -> Value {
    json!({
        "protocolVersion": version,
        "capabilities": {},
        "clientInfo": {"name": "tiq-test", "version": "1"}
    })
}

/// Finds the JSON-RPC message with `id` in a JSON or server-sent-events body.
pub fn message_from(body: &str, id: u64) -> Value {
    let candidates =
        std::iter::once(body).chain(body.lines().filter_map(|line| line.strip_prefix("data:")));
    candidates
        .filter_map(|text| serde_json::from_str::<Value>(text.trim()).ok())
        .find(|message| message["id"] == id)
        .unwrap_or_else(|| panic!("no message with id {id} in {body}"))
}

/// A streamable HTTP client session on `/mcp`.
pub struct McpSession<'a> {
    pub server: &'a TestServer,
    pub id: Option<String>,
}

impl<'a> McpSession<'a> {
    /// Initializes a session that requests `version`, and returns it with the `initialize`
    /// response.
    pub async fn open(server: &'a TestServer, version: &str) -> (McpSession<'a>, Value) {
        let mut session = McpSession { server, id: None };
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": initialize_params(version)});
        let response = session.post(&body).await;
        assert!(
            response.status().is_success(),
            "initialize: HTTP {}",
            response.status()
        );
        session.id = response
            .headers()
            .get("mcp-session-id")
            .map(|v| v.to_str().unwrap().to_string());
        let answer = message_from(&response.text().await.unwrap(), 1);
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let ack = session.post(&initialized).await;
        assert!(
            ack.status().is_success(),
            "initialized: HTTP {}",
            ack.status()
        );
        (session, answer)
    }

    pub async fn post(&self, body: &Value) -> reqwest::Response {
        let mut request = self
            .server
            .client
            .post(format!("{}/mcp", self.server.base))
            .header("Accept", "application/json, text/event-stream")
            .json(body);
        if let Some(id) = &self.id {
            request = request.header("Mcp-Session-Id", id);
        }
        request.send().await.unwrap()
    }

    /// Sends a request and returns the JSON-RPC response to it.
    pub async fn call(&self, id: u64, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let response = self.post(&body).await;
        assert!(
            response.status().is_success(),
            "{method}: HTTP {}",
            response.status()
        );
        message_from(&response.text().await.unwrap(), id)
    }
}

/// Time allowed for one event to arrive.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(20);

/// One open `GET /sse` stream, read event by event.
pub struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

/// One server-sent event: its `event` field and its joined `data` lines.
#[derive(Debug)]
pub struct SseEvent {
    pub name: String,
    pub data: String,
}

impl EventStream {
    pub async fn open(server: &TestServer) -> EventStream {
        EventStream::open_at(server, "/sse", &[]).await
    }

    /// Opens `path` (with its query) with extra request headers.
    pub async fn open_at(server: &TestServer, path: &str, headers: &[(&str, &str)]) -> EventStream {
        let mut request = server.client.get(format!("{}{path}", server.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request
            .header("Accept", "text/event-stream")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "GET /sse");
        let content_type = response.headers()["content-type"].to_str().unwrap();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        EventStream {
            response,
            buffer: String::new(),
        }
    }

    /// Returns the next event that has data, skipping keep-alive comments; `None` when the
    /// stream ends.
    pub async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(event) = parse_event(&block) {
                    return Some(event);
                }
                continue;
            }
            let chunk = tokio::time::timeout(EVENT_TIMEOUT, self.response.chunk())
                .await
                .expect("an event arrives in time")
                .unwrap()?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// Returns the path and query of the `endpoint` event, which must come first.
    pub async fn endpoint(&mut self) -> String {
        let event = self.next().await.expect("an endpoint event");
        assert_eq!(event.name, "endpoint", "{event:?}");
        event.data
    }

    /// Returns the JSON-RPC message with `id` from the next `message` events.
    pub async fn answer(&mut self, id: u64) -> Value {
        loop {
            let event = self.next().await.expect("the stream stays open");
            assert_eq!(event.name, "message", "{event:?}");
            let message: Value = serde_json::from_str(&event.data).unwrap();
            if message["id"] == id {
                return message;
            }
        }
    }
}

fn parse_event(block: &str) -> Option<SseEvent> {
    let mut name = String::from("message");
    let mut data = Vec::new();
    for line in block.lines() {
        if let Some(value) = line.strip_prefix("event:") {
            name = value.trim().to_string();
        } else if let Some(value) = line.strip_prefix("data:") {
            data.push(value.strip_prefix(' ').unwrap_or(value));
        }
    }
    (!data.is_empty()).then(|| SseEvent {
        name,
        data: data.join("\n"),
    })
}
