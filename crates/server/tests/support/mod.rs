//! A tiq server on a free loopback port over the fixture feeds, shared by the test files.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};
use tiq_engine::{Engine, ImportOptions, import};
use tiq_server::ServerConfig;
use tokio_util::sync::CancellationToken;

/// A running server; it shuts down when dropped.
pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    pub shutdown: CancellationToken,
    _data: tempfile::TempDir,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Imports the engine's fixture feeds and serves them with the configuration `adjust` leaves.
pub async fn start(adjust: impl FnOnce(&mut ServerConfig)) -> TestServer {
    let data = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/tests/fixtures/feeds");
    import::import(data.path(), &[fixtures], &ImportOptions::default()).unwrap();
    let engine = Arc::new(Engine::open(data.path()).unwrap());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let mut config = ServerConfig::new(address);
    adjust(&mut config);
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
        _data: data,
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
