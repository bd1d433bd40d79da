//! MCP over real HTTP on 127.0.0.1: the handshake, tools/list and tools/call.

use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};
use tiq_engine::{Engine, ImportOptions, import};
use tiq_server::ServerConfig;
use tokio_util::sync::CancellationToken;

struct Server {
    base: String,
    client: reqwest::Client,
    session: Option<String>,
    shutdown: CancellationToken,
    _data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn start() -> Server {
    start_with(|_| {}).await
}

async fn start_with(adjust: impl FnOnce(&mut ServerConfig)) -> Server {
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

    Server {
        base: format!("http://{address}"),
        client: reqwest::Client::new(),
        session: None,
        shutdown,
        _data: data,
    }
}

impl Server {
    async fn post(&self, body: Value) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}/mcp", self.base))
            .header("Accept", "application/json, text/event-stream")
            .json(&body);
        if let Some(session) = &self.session {
            request = request.header("Mcp-Session-Id", session);
        }
        request.send().await.unwrap()
    }

    /// Sends a request and returns the JSON-RPC response to it.
    async fn call(&self, id: u64, method: &str, params: Value) -> Value {
        let response = self
            .post(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        assert!(
            response.status().is_success(),
            "{method}: HTTP {}",
            response.status()
        );
        message_from(&response.text().await.unwrap(), id)
    }

    async fn initialize(&mut self) {
        let params = json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "tiq-test", "version": "1"}
        });
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params});
        let response = self.post(body).await;
        assert!(
            response.status().is_success(),
            "initialize: HTTP {}",
            response.status()
        );
        self.session = response
            .headers()
            .get("mcp-session-id")
            .map(|v| v.to_str().unwrap().to_string());
        let init = message_from(&response.text().await.unwrap(), 1);
        assert_eq!(init["result"]["serverInfo"]["name"], "tiq");
        let ack = self
            .post(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        assert!(
            ack.status().is_success(),
            "initialized: HTTP {}",
            ack.status()
        );
    }
}

/// Finds the JSON-RPC message with `id` in a JSON or server-sent-events body.
fn message_from(body: &str, id: u64) -> Value {
    let candidates =
        std::iter::once(body).chain(body.lines().filter_map(|line| line.strip_prefix("data:")));
    candidates
        .filter_map(|text| serde_json::from_str::<Value>(text.trim()).ok())
        .find(|message| message["id"] == id)
        .unwrap_or_else(|| panic!("no message with id {id} in {body}"))
}

#[tokio::test]
async fn tools_list_has_schemas() {
    let mut server = start().await;
    server.initialize().await;
    let listed = server.call(2, "tools/list", json!({})).await;
    let tools = listed["result"]["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    for name in [
        "analyze_ip",
        "analyze_domain",
        "analyze_url",
        "analyze_file_hash",
        "analyze_batch",
        "analyze_text",
        "describe_threat",
        "search_vul",
    ] {
        assert!(names.contains(&name), "{names:?}");
    }
    for tool in tools {
        assert_eq!(tool["inputSchema"]["type"], "object", "{}", tool["name"]);
        let key_field = match tool["name"].as_str() {
            Some("describe_threat") => "found",
            Some("search_vul") | Some("analyze_batch") => "results",
            Some("analyze_text") => "indicators",
            _ => "verdict",
        };
        assert!(
            tool["outputSchema"]["properties"][key_field].is_object(),
            "{}",
            tool["name"]
        );
        assert_eq!(
            tool["annotations"]["readOnlyHint"], true,
            "{}",
            tool["name"]
        );
        assert!(
            tool["description"].as_str().unwrap().len() > 100,
            "{}",
            tool["name"]
        );
    }
}

#[tokio::test]
async fn analyze_ip_returns_structured_report() {
    let mut server = start().await;
    server.initialize().await;
    let params = json!({"name": "analyze_ip", "arguments": {"ip": "198.51.100[.]10"}});
    let result = &server.call(3, "tools/call", params).await["result"];
    assert_ne!(result["isError"], true, "{result}");
    assert_eq!(result["structuredContent"]["verdict"], "malicious");
    assert_eq!(
        result["structuredContent"]["indicator"]["value"],
        "198.51.100.10"
    );
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("malicious"), "{text}");
}

#[tokio::test]
async fn chinese_summary_on_request() {
    let mut server = start().await;
    server.initialize().await;
    let params = json!({"name": "analyze_domain", "arguments": {"domain": "www.example.org", "lang": "zh-CN"}});
    let result = &server.call(4, "tools/call", params).await["result"];
    assert_eq!(result["structuredContent"]["verdict"], "benign");
    assert!(
        result["structuredContent"]["summary"]
            .as_str()
            .unwrap()
            .contains("良性"),
        "{result}"
    );
}

#[tokio::test]
async fn invalid_indicator_is_a_tool_error() {
    let mut server = start().await;
    server.initialize().await;
    let params = json!({"name": "analyze_ip", "arguments": {"ip": "300.1.1.1"}});
    let message = server.call(5, "tools/call", params).await;
    assert!(message.get("error").is_none(), "protocol error: {message}");
    assert_eq!(message["result"]["isError"], true);
    let text = message["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("300.1.1.1"), "{text}");

    let params = json!({"name": "analyze_file_hash", "arguments": {"hash": "abc", "lang": "fr"}});
    let message = server.call(6, "tools/call", params).await;
    assert_eq!(message["result"]["isError"], true, "{message}");
    assert!(
        message["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("\"fr\"")
    );
}

#[tokio::test]
async fn describe_threat_answers_unknown_and_empty_names() {
    let mut server = start().await;
    server.initialize().await;
    let params = json!({"name": "describe_threat", "arguments": {"name": "Example Strike"}});
    let result = &server.call(7, "tools/call", params).await["result"];
    assert_ne!(result["isError"], true, "{result}");
    assert_eq!(result["structuredContent"]["found"], false, "{result}");
    assert_eq!(result["structuredContent"]["query"], "Example Strike");

    let params = json!({"name": "describe_threat", "arguments": {"name": "  "}});
    let message = server.call(8, "tools/call", params).await;
    assert!(message.get("error").is_none(), "protocol error: {message}");
    assert_eq!(message["result"]["isError"], true, "{message}");
    let text = message["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("name is empty"), "{text}");

    let long = "a".repeat(201);
    let params = json!({"name": "describe_threat", "arguments": {"name": long, "lang": "zh-CN"}});
    let message = server.call(12, "tools/call", params).await;
    assert!(message.get("error").is_none(), "protocol error: {message}");
    assert_eq!(message["result"]["isError"], true, "{message}");
    let text = message["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("200"), "{text}");
}

#[tokio::test]
async fn search_vul_errors_are_tool_errors() {
    let mut server = start().await;
    server.initialize().await;
    let params = json!({"name": "search_vul", "arguments": {"query": "CVE-2024-1"}});
    let message = server.call(9, "tools/call", params).await;
    assert!(message.get("error").is_none(), "protocol error: {message}");
    assert_eq!(message["result"]["isError"], true, "{message}");
    let text = message["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("CVE-2024-1"), "{text}");

    let params = json!({"name": "search_vul", "arguments": {"query": "log4j", "sort": "random"}});
    let message = server.call(10, "tools/call", params).await;
    assert_eq!(message["result"]["isError"], true, "{message}");

    let params = json!({"name": "search_vul", "arguments": {"query": "log4j", "lang": "zh-CN"}});
    let result = &server.call(11, "tools/call", params).await["result"];
    assert_ne!(result["isError"], true, "{result}");
    assert_eq!(result["structuredContent"]["total"], 0);
    assert!(
        result["structuredContent"]["summary"]
            .as_str()
            .unwrap()
            .contains("log4j"),
        "{result}"
    );
}

#[tokio::test]
async fn foreign_host_header_is_rejected() {
    let server = start().await;
    let response = server
        .client
        .post(format!("{}/mcp", server.base))
        .header("Host", "attacker.example.com")
        .header("Accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn healthz_reports_sources() {
    let server = start().await;
    let response = server
        .client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let health: Value = response.json().await.unwrap();
    assert_eq!(health["status"], "ok");
    assert!(health["sources"].as_u64().unwrap() >= 5, "{health}");
}

#[tokio::test]
async fn status_lists_feeds_and_hand_imported_sources() {
    let server = start().await;
    let response = server
        .client
        .get(format!("{}/api/v1/status", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let status: Value = response.json().await.unwrap();
    let feeds = status["feeds"].as_array().unwrap();
    let ipsum = feeds.iter().find(|f| f["name"] == "ipsum").unwrap();
    assert_eq!(ipsum["state"], "never_synced", "{ipsum}");
    assert_eq!(ipsum["records"], 0);
    let imported = status["imported"].as_array().unwrap();
    assert!(
        imported
            .iter()
            .any(|s| s["name"] == "ipsum" && s["records"].as_u64() > Some(0)),
        "{status}"
    );

    let foreign = server
        .client
        .get(format!("{}/api/v1/status", server.base))
        .header("Host", "attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
}

#[tokio::test]
async fn session_limit_refuses_extra_sessions() {
    let mut server = start_with(|config| config.max_sessions = 2).await;
    server.initialize().await;
    let mut second = start_clone(&server);
    second.initialize().await;

    let params = json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}});
    let third = server
        .post_fresh(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}))
        .await;
    assert!(
        !third.status().is_success(),
        "third session: HTTP {}",
        third.status()
    );
    let body = third.text().await.unwrap();
    assert!(body.contains("too many open MCP sessions"), "{body}");

    let listed = server.call(2, "tools/list", json!({})).await;
    assert!(
        listed["result"]["tools"].is_array(),
        "open sessions keep working"
    );

    let closed = second
        .client
        .delete(format!("{}/mcp", second.base))
        .header("Mcp-Session-Id", second.session.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        closed.status().is_success(),
        "DELETE: HTTP {}",
        closed.status()
    );
    let mut fourth = start_clone(&server);
    fourth.initialize().await;
}

/// Creates a second client of the same server, sharing nothing but the address.
fn start_clone(server: &Server) -> Server {
    Server {
        base: server.base.clone(),
        client: reqwest::Client::new(),
        session: None,
        shutdown: CancellationToken::new(),
        _data: tempfile::tempdir().unwrap(),
    }
}

impl Server {
    /// Posts without a session id.
    async fn post_fresh(&self, body: Value) -> reqwest::Response {
        self.client
            .post(format!("{}/mcp", self.base))
            .header("Accept", "application/json, text/event-stream")
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn malformed_json_gets_parse_error() {
    let server = start().await;
    let response = server
        .client
        .post(format!("{}/mcp", server.base))
        .header("Accept", "application/json, text/event-stream")
        .header("Content-Type", "application/json")
        .body("{\"jsonrpc\":")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32700);
}

#[tokio::test]
async fn healthz_checks_host() {
    let server = start().await;
    let response = server
        .client
        .get(format!("{}/healthz", server.base))
        .header("Host", "attacker.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn tools_call_without_a_session_is_answered_statelessly() {
    let server = start().await;
    let params = json!({"name": "analyze_ip", "arguments": {"ip": "198.51.100.10"}});
    let response = server
        .post(json!({"jsonrpc": "2.0", "id": 21, "method": "tools/call", "params": params}))
        .await;
    assert!(response.status().is_success(), "HTTP {}", response.status());
    assert!(
        response.headers().get("mcp-session-id").is_none(),
        "a stateless answer opens no session"
    );
    let message = message_from(&response.text().await.unwrap(), 21);
    assert_eq!(
        message["result"]["structuredContent"]["verdict"], "malicious",
        "{message}"
    );

    let listed = server
        .post(json!({"jsonrpc": "2.0", "id": 22, "method": "tools/list"}))
        .await;
    let message = message_from(&listed.text().await.unwrap(), 22);
    assert!(
        message["result"]["tools"].as_array().unwrap().len() >= 6,
        "{message}"
    );
}

#[tokio::test]
async fn unknown_session_is_not_found_rather_than_stateless() {
    let mut server = start().await;
    server.session = Some("no-such-session".to_string());
    let response = server
        .post(json!({"jsonrpc": "2.0", "id": 23, "method": "tools/list"}))
        .await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn analyze_text_errors_and_result_text() {
    let mut server = start_with(|config| config.max_text_bytes = 1024).await;
    server.initialize().await;
    let params = json!({"name": "analyze_text", "arguments": {"text": "192.0.2.1 ".repeat(300)}});
    let message = server.call(7, "tools/call", params).await;
    assert!(message.get("error").is_none(), "protocol error: {message}");
    assert_eq!(message["result"]["isError"], true, "{message}");
    let text = message["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("3 KiB"), "{text}");
    assert!(text.contains("1 KiB"), "{text}");
    assert!(text.contains("tiq scan FILE"), "{text}");

    let params = json!({"name": "analyze_text", "arguments": {"text": "192.0.2.1", "limit": 5000, "lang": "zh-CN"}});
    let message = server.call(8, "tools/call", params).await;
    assert_eq!(message["result"]["isError"], true, "{message}");
    let text = message["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("limit 5000"), "{text}");
    assert!(text.contains("超出范围"), "{text}");

    let params = json!({"name": "analyze_text", "arguments": {"text": "hxxp://198.51.100[.]10/a and nothing else"}});
    let message = server.call(9, "tools/call", params).await;
    let result = &message["result"];
    assert_ne!(result["isError"], true, "{message}");
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("198.51.100.10 [ipv4]: malicious"), "{text}");
    let totals = &result["structuredContent"]["totals"];
    assert_eq!(
        (totals["malicious"].as_u64(), totals["suspicious"].as_u64()),
        (Some(1), Some(1)),
        "{message}"
    );
}
