//! The HTTP+SSE transport over real HTTP on 127.0.0.1: the endpoint event, responses on the
//! stream, and the errors of `POST /messages`.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{EVENT_TIMEOUT, EventStream, TestServer, initialize_params, start};

async fn post(server: &TestServer, endpoint: &str, body: &Value) -> reqwest::Response {
    server
        .client
        .post(format!("{}{endpoint}", server.base))
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Opens a stream and completes the handshake on it; returns the stream and its endpoint.
async fn initialized(server: &TestServer) -> (EventStream, String) {
    let mut events = EventStream::open(server).await;
    let endpoint = events.endpoint().await;
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": initialize_params("2024-11-05")});
    let accepted = post(server, &endpoint, &initialize).await;
    assert_eq!(accepted.status(), 202);
    let init = events.answer(1).await;
    assert_eq!(init["result"]["serverInfo"]["name"], "tiq", "{init}");
    assert_eq!(init["result"]["protocolVersion"], "2024-11-05", "{init}");
    let notification = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(post(server, &endpoint, &notification).await.status(), 202);
    (events, endpoint)
}

#[tokio::test]
async fn endpoint_event_comes_first() {
    let server = start(|_| {}).await;
    let mut events = EventStream::open(&server).await;
    let endpoint = events.endpoint().await;
    let id = endpoint
        .strip_prefix("/messages?sessionId=")
        .unwrap_or_else(|| panic!("{endpoint}"));
    assert!(!id.is_empty());
    assert!(id.bytes().all(|b| (0x21..=0x7e).contains(&b)), "{id}");
}

#[tokio::test]
async fn handshake_tools_list_and_call() {
    let server = start(|_| {}).await;
    let (mut events, endpoint) = initialized(&server).await;

    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    assert_eq!(post(&server, &endpoint, &list).await.status(), 202);
    let listed = events.answer(2).await;
    let names: Vec<&str> = listed["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|tool| tool["name"].as_str())
        .collect();
    assert!(names.contains(&"analyze_ip"), "{names:?}");
    assert!(names.contains(&"search_vul"), "{names:?}");

    let call = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
        "name": "analyze_ip", "arguments": {"ip": "198.51.100[.]10"}
    }});
    assert_eq!(post(&server, &endpoint, &call).await.status(), 202);
    let called = events.answer(3).await;
    assert_eq!(
        called["result"]["structuredContent"]["verdict"], "malicious",
        "{called}"
    );
}

#[tokio::test]
async fn unknown_session_is_404() {
    let server = start(|_| {}).await;
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    let response = post(&server, "/messages?sessionId=no-such-session", &ping).await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "session_not_found", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("GET /sse"),
        "{body}"
    );

    let response = post(&server, "/messages", &ping).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "missing_session_id", "{body}");
}

#[tokio::test]
async fn closed_stream_ends_its_session() {
    let server = start(|_| {}).await;
    let (events, endpoint) = initialized(&server).await;
    drop(events);
    let ping = json!({"jsonrpc": "2.0", "id": 2, "method": "ping"});
    let mut status = 0;
    // The server notices the closed connection on its next write or poll.
    for _ in 0..50 {
        status = post(&server, &endpoint, &ping).await.status().as_u16();
        if status == 404 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 404);
}

#[tokio::test]
async fn bad_json_is_a_parse_error() {
    let server = start(|_| {}).await;
    let mut events = EventStream::open(&server).await;
    let endpoint = events.endpoint().await;
    let response = server
        .client
        .post(format!("{}{endpoint}", server.base))
        .header("Content-Type", "application/json")
        .body("{\"jsonrpc\":")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32700, "{body}");

    let not_a_message = json!({"hello": "world"});
    let response = post(&server, &endpoint, &not_a_message).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32600, "{body}");
}

#[tokio::test]
async fn foreign_host_and_origin_are_rejected() {
    let server = start(|_| {}).await;
    let url = format!("{}/sse", server.base);
    let foreign_host = server
        .client
        .get(&url)
        .header("Host", "attacker.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign_host.status(), 403);

    let foreign_origin = server
        .client
        .get(&url)
        .header("Origin", "https://attacker.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign_origin.status(), 403);

    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    let foreign_post = server
        .client
        .post(format!("{}/messages?sessionId=x", server.base))
        .header("Host", "attacker.example.com")
        .json(&ping)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign_post.status(), 403);

    let local_page = server
        .client
        .get(&url)
        .header("Origin", "http://localhost:5173")
        .send()
        .await
        .unwrap();
    assert_eq!(local_page.status(), 200);
}

#[tokio::test]
async fn configured_host_and_origin_are_accepted() {
    let server = start(|config| {
        config.allowed_hosts.push("tiq.example.com".to_string());
        config
            .allowed_origins
            .push("https://chat.example.com".to_string());
    })
    .await;
    let response = server
        .client
        .get(format!("{}/sse", server.base))
        .header("Host", "tiq.example.com:8737")
        .header("Origin", "https://chat.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn session_cap_counts_both_transports() {
    let server = start(|config| config.max_sessions = 2).await;
    let (_streamable, _) = support::McpSession::open(&server, "2025-06-18").await;
    let mut first = EventStream::open(&server).await;
    first.endpoint().await;

    let refused = server
        .client
        .get(format!("{}/sse", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "too_many_sessions", "{body}");

    drop(first);
    let mut reopened = None;
    for _ in 0..50 {
        let response = server
            .client
            .get(format!("{}/sse", server.base))
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            reopened = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reopened.is_some(), "a closed stream gives its slot back");
}

#[tokio::test]
async fn proxy_prefix_is_kept_in_the_endpoint() {
    let server = start(|_| {}).await;
    let mut events = EventStream::open_at(&server, "/sse", &[("X-Forwarded-Prefix", "/tiq")]).await;
    let endpoint = events.endpoint().await;
    assert!(
        endpoint.starts_with("/tiq/messages?sessionId="),
        "{endpoint}"
    );
}

#[tokio::test]
async fn shutdown_ends_open_streams() {
    let server = start(|_| {}).await;
    let (mut events, _) = initialized(&server).await;
    server.shutdown.cancel();
    let next = tokio::time::timeout(EVENT_TIMEOUT, events.next()).await;
    assert!(
        matches!(next, Ok(None)),
        "the stream ends at shutdown: {next:?}"
    );
}
