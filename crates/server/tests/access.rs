//! Access control over real HTTP on 127.0.0.1, on every surface: REST, v3, MCP over
//! streamable HTTP and over SSE. The tests cover keys that are missing, wrong, revoked,
//! expired or without the scope, and keys in each accepted place. They also cover rate
//! limits and quotas on a manual clock, the lockout after failed attempts, request caps,
//! and the audit entries that the calls leave.

mod support;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use support::{EventStream, TestServer, initialize_params, message_from, start_in};
use time::OffsetDateTime;
use time::macros::datetime;
use tiq_access::audit::{AuditFilter, AuditLog, AuditRecord};
use tiq_access::{Access, AccessSettings, Clock, Keys, NewKey, ScopeSet};

const LISTED: &str = "198.51.100.10";

/// Keys made for one test: every scope, IP only, revoked, and one that expires in a minute.
struct TestKeys {
    full: String,
    ip_only: String,
    revoked: String,
    expiring: String,
}

fn new_key(name: &str, scopes: &str) -> NewKey {
    NewKey {
        name: name.to_string(),
        scopes: ScopeSet::parse(scopes).unwrap(),
        rate_per_minute: None,
        daily_quota: None,
        expires: None,
    }
}

fn make_keys(data: &Path, now: OffsetDateTime) -> TestKeys {
    let mut keys = Keys::open(data).unwrap();
    let (_, full) = keys.create(&new_key("full", "all"), now).unwrap();
    let (_, ip_only) = keys.create(&new_key("ip-only", "ip"), now).unwrap();
    let (_, revoked) = keys.create(&new_key("revoked", "all"), now).unwrap();
    keys.revoke("revoked", now).unwrap();
    let mut expiring = new_key("expiring", "all");
    expiring.expires = Some(now + Duration::from_secs(60));
    let (_, expiring) = keys.create(&expiring, now).unwrap();
    TestKeys {
        full,
        ip_only,
        revoked,
        expiring,
    }
}

/// Keys and access control created inside the server set-up, passed back to the test.
type SetUpResult = (TestKeys, Arc<Access>);

struct Protected {
    server: TestServer,
    keys: TestKeys,
    access: Arc<Access>,
    clock: Clock,
}

/// Starts a server with keys and access control on a manual clock.
async fn protected(settings: AccessSettings) -> Protected {
    capture_logs();
    let clock = Clock::manual(datetime!(2026-05-01 12:00 UTC));
    let slot: Arc<Mutex<Option<SetUpResult>>> = Arc::default();
    let fill = slot.clone();
    let made_clock = clock.clone();
    let server = start_in(tempfile::tempdir().unwrap(), move |config, data| {
        let keys = make_keys(data, made_clock.now_utc());
        let access = Arc::new(Access::open_with_clock(data, settings, made_clock).unwrap());
        config.access = Some(access.clone());
        *fill.lock().unwrap() = Some((keys, access));
    })
    .await;
    let (keys, access) = slot.lock().unwrap().take().unwrap();
    Protected {
        server,
        keys,
        access,
        clock,
    }
}

impl Protected {
    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let request = self
            .server
            .client
            .get(format!("{}{path}", self.server.base));
        send(request, headers).await
    }

    async fn post(&self, path: &str, headers: &[(&str, &str)], body: &Value) -> reqwest::Response {
        let request = self
            .server
            .client
            .post(format!("{}{path}", self.server.base))
            .json(body);
        send(request, headers).await
    }

    async fn v3(&self, body: Value, headers: &[(&str, &str)]) -> reqwest::Response {
        self.post("/api/v3/ti", headers, &body).await
    }

    /// Posts a v3 request and returns the HTTP status, the v3 `return_code` and the body.
    async fn v3_return_code(
        &self,
        body: Value,
        headers: &[(&str, &str)],
    ) -> (u16, Option<i64>, Value) {
        let (status, _, body) = json_of(self.v3(body, headers).await).await;
        (status, body["return_code"].as_i64(), body)
    }

    async fn mcp(&self, path: &str, headers: &[(&str, &str)], body: Value) -> reqwest::Response {
        let mut all_headers = vec![("Accept", "application/json, text/event-stream")];
        all_headers.extend_from_slice(headers);
        self.post(path, &all_headers, &body).await
    }

    /// Sends a `tools/call` request over streamable HTTP and returns the JSON-RPC response
    /// with the request's id.
    async fn call_tool(&self, path: &str, headers: &[(&str, &str)], call: Value) -> Value {
        let id = call["id"].as_u64().unwrap();
        let response = self.mcp(path, headers, call).await;
        message_from(&response.text().await.unwrap(), id)
    }

    fn audit(&self) -> Vec<AuditRecord> {
        self.access.flush();
        let log = AuditLog::open(self.server.data_path()).unwrap();
        assert_eq!(log.verify().unwrap().first_break, None);
        log.entries(&AuditFilter::default()).unwrap()
    }
}

async fn send(mut request: reqwest::RequestBuilder, headers: &[(&str, &str)]) -> reqwest::Response {
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

/// Returns `key` with its last character changed, to a letter it cannot already be.
fn altered(key: &str) -> String {
    let (front, last) = key.split_at(key.len() - 1);
    format!("{front}{}", if last == "x" { "y" } else { "x" })
}

fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

async fn json_of(response: reqwest::Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json::<Value>().await.unwrap();
    (status, headers, body)
}

fn tool_call(id: u64, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": arguments}})
}

#[tokio::test]
async fn rest_rejects_bad_keys_accepts_both_headers() {
    let p = protected(AccessSettings::default()).await;
    let ip = format!("/api/v1/ip/{LISTED}");
    let (status, headers, body) = json_of(p.get(&ip, &[]).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("missing_key")),
        "{body}"
    );
    assert_eq!(headers["www-authenticate"], "Bearer realm=\"tiq\"");
    assert!(headers.contains_key("x-request-id"));
    assert!(
        body["message"].as_str().unwrap().contains("tiq key create"),
        "{body}"
    );

    let wrong = altered(&p.keys.full);
    for (key, code) in [
        (wrong.as_str(), "invalid_key"),
        ("not-a-key", "invalid_key"),
        (p.keys.revoked.as_str(), "revoked_key"),
    ] {
        let (status, _, body) = json_of(p.get(&ip, &[("Authorization", &bearer(key))]).await).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some(code)),
            "{body}"
        );
    }
    // The key parameter is for the MCP URLs only.
    let (status, _, _) = json_of(p.get(&format!("{ip}?key={}", p.keys.full), &[]).await).await;
    assert_eq!(status, 401);

    let (status, _, body) = json_of(
        p.get(&ip, &[("Authorization", &bearer(&p.keys.full))])
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["indicator"]["value"], LISTED);
    let ip_only = [("X-API-Key", p.keys.ip_only.as_str())];
    let (status, _, _) = json_of(p.get(&ip, &ip_only).await).await;
    assert_eq!(status, 200);

    let (status, _, body) = json_of(p.get("/api/v1/domain/example.com", &ip_only).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("missing_scope")),
        "{body}"
    );
    assert!(
        body["message"].as_str().unwrap().contains("`domain`"),
        "{body}"
    );
    let zh_cn = "/api/v1/domain/example.com?lang=zh-CN";
    let (status, _, body) = json_of(p.get(zh_cn, &ip_only).await).await;
    assert_eq!(status, 403);
    assert!(
        body["message"].as_str().unwrap().contains("权限范围"),
        "{body}"
    );

    let (status, _, _) = json_of(p.get(&ip, &[("X-API-Key", &p.keys.expiring)]).await).await;
    assert_eq!(status, 200);
    p.clock.advance(Duration::from_secs(61));
    let (status, _, body) = json_of(p.get(&ip, &[("X-API-Key", &p.keys.expiring)]).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("expired_key")),
        "{body}"
    );

    // Liveness and the API description need no key.
    assert_eq!(p.get("/healthz", &[]).await.status(), 200);
    assert_eq!(p.get("/openapi.json", &[]).await.status(), 200);
}

#[tokio::test]
async fn v3_reads_key_from_body_or_header() {
    let p = protected(AccessSettings::default()).await;
    let request_body = |appkey: Option<&str>, action: &str| {
        let mut body = json!({"c_action": action, "key": LISTED});
        if let Some(appkey) = appkey {
            body["c_appkey"] = json!(appkey);
        }
        body
    };
    for appkey in [None, Some("tiq_wrong"), Some(p.keys.revoked.as_str())] {
        let body = request_body(appkey, "IPAnalysis");
        let (status, code, body) = p.v3_return_code(body, &[]).await;
        assert_eq!((status, code), (401, Some(1004)), "{body}");
    }

    let body = request_body(Some(&p.keys.full), "IPAnalysis");
    let (status, code, body) = p.v3_return_code(body, &[]).await;
    assert_eq!((status, code), (200, Some(0)), "{body}");
    let body = request_body(None, "IPAnalysis");
    let bearer_ip_only = bearer(&p.keys.ip_only);
    let (status, code, body) = p
        .v3_return_code(body, &[("Authorization", &bearer_ip_only)])
        .await;
    assert_eq!((status, code), (200, Some(0)), "{body}");
    let body = request_body(Some(&p.keys.ip_only), "DomainInfo");
    let (status, code, body) = p.v3_return_code(body, &[]).await;
    assert_eq!((status, code), (403, Some(1005)), "{body}");

    // A form body carries the key the same way.
    let form = p
        .server
        .client
        .post(format!("{}/api/v3/ti", p.server.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "c_action=IPAnalysis&key={LISTED}&c_appkey={}",
            p.keys.full
        ))
        .send()
        .await
        .unwrap();
    let (status, _, body) = json_of(form).await;
    assert_eq!(
        (status, body["return_code"].as_i64()),
        (200, Some(0)),
        "{body}"
    );

    let entries = p.audit();
    let v3: Vec<&AuditRecord> = entries.iter().filter(|e| e.surface == "v3").collect();
    assert_eq!(v3.len(), 7, "{entries:#?}");
    assert_eq!(v3[0].tool, "auth");
    assert_eq!(v3[0].status, 401);
    let ok = v3.iter().find(|e| e.status == 200).unwrap();
    assert_eq!(ok.tool, "analyze_ip");
    assert_eq!(ok.query.as_deref(), Some(LISTED));
    assert!(ok.key_id.is_some(), "{ok:?}");
    assert!(ok.verdict.is_some(), "{ok:?}");
}

#[tokio::test]
async fn mcp_over_streamable_http_checks_keys_and_scopes() {
    let p = protected(AccessSettings::default()).await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": initialize_params("2025-06-18")});
    let (status, _, body) = json_of(p.mcp("/mcp", &[], init.clone()).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("missing_key")),
        "{body}"
    );
    let revoked = bearer(&p.keys.revoked);
    let (status, _, _) = json_of(
        p.mcp("/mcp", &[("Authorization", &revoked)], init.clone())
            .await,
    )
    .await;
    assert_eq!(status, 401);

    // A session opened with the key in the URL, as clients that take only a URL do.
    let url = format!("/mcp?key={}", p.keys.ip_only);
    let response = p.mcp(&url, &[], init).await;
    assert_eq!(response.status(), 200);
    let session = response.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_string();
    let headers = [("Mcp-Session-Id", session.as_str())];
    let ack = p
        .mcp(
            &url,
            &headers,
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        )
        .await;
    assert!(ack.status().is_success());
    let call = tool_call(2, "analyze_ip", json!({"ip": LISTED}));
    let answer = p.call_tool(&url, &headers, call).await;
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    let call = tool_call(3, "analyze_domain", json!({"domain": "example.com"}));
    let answer = p.call_tool(&url, &headers, call).await;
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    assert_eq!(
        answer["result"]["structuredContent"]["error"], "missing_scope",
        "{answer}"
    );

    // A batch reports items outside the key's scopes as errors, and the rest normally.
    let call = tool_call(
        4,
        "analyze_batch",
        json!({"items": [LISTED, "example.com"]}),
    );
    let answer = p.call_tool(&url, &headers, call).await;
    assert_eq!(
        answer["result"]["isError"], true,
        "the ip-only key lacks batch: {answer}"
    );

    // Stateless calls carry the key on each request.
    let full = [("X-API-Key", p.keys.full.as_str())];
    let call = tool_call(
        5,
        "analyze_batch",
        json!({"items": [LISTED, "example.com"]}),
    );
    let answer = p.call_tool("/mcp", &full, call).await;
    assert_eq!(
        answer["result"]["structuredContent"]["errors"], 0,
        "{answer}"
    );

    let entries = p.audit();
    let mcp: Vec<&AuditRecord> = entries.iter().filter(|e| e.surface == "mcp").collect();
    let tools: Vec<(&str, u16)> = mcp.iter().map(|e| (e.tool.as_str(), e.status)).collect();
    assert_eq!(
        tools,
        [
            ("auth", 401),
            ("auth", 401),
            ("analyze_ip", 200),
            ("analyze_domain", 403),
            ("analyze_batch", 403),
            ("analyze_batch", 200)
        ],
        "{mcp:#?}"
    );
    assert_eq!(mcp[5].query.as_deref(), Some("2 items"));
    assert!(
        mcp[5].verdict.as_deref().unwrap().contains("errors=0"),
        "{:?}",
        mcp[5]
    );
}

#[tokio::test]
async fn batches_withhold_items_outside_the_scopes() {
    let p = protected(AccessSettings::default()).await;
    let mut keys = Keys::open(p.server.data_path()).unwrap();
    let (_, key) = keys
        .create(&new_key("batch-ip", "batch,ip"), p.clock.now_utc())
        .unwrap();
    p.access.reload_keys();
    let items = json!({"items": [LISTED, "example.com", "https://example.com/a"]});
    let response = p
        .post("/api/v1/batch", &[("X-API-Key", key.as_str())], &items)
        .await;
    let (status, _, body) = json_of(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["errors"], 2, "{body}");
    assert!(body["results"][0]["report"].is_object(), "{body}");
    assert_eq!(
        body["results"][1]["error"]["code"], "missing_scope",
        "{body}"
    );
    assert!(
        body["results"][2]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`url`")
    );
}

#[tokio::test]
async fn sse_sessions_belong_to_opening_key() {
    let p = protected(AccessSettings::default()).await;
    let rejected = p.get("/sse", &[("Accept", "text/event-stream")]).await;
    assert_eq!(rejected.status(), 401);

    let path = format!("/sse?key={}", p.keys.ip_only);
    let mut events = EventStream::open_at(&p.server, &path, &[]).await;
    let endpoint = events.endpoint().await;
    assert!(
        !endpoint.contains("key="),
        "the endpoint must not repeat the key: {endpoint}"
    );
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": initialize_params("2024-11-05")});
    assert_eq!(p.post(&endpoint, &[], &init).await.status(), 202);
    events.answer(1).await;
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(p.post(&endpoint, &[], &initialized).await.status(), 202);

    let call = tool_call(2, "analyze_ip", json!({"ip": LISTED}));
    assert_eq!(p.post(&endpoint, &[], &call).await.status(), 202);
    let answer = events.answer(2).await;
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    let call = tool_call(3, "search_vul", json!({"query": "CVE-2024-3400"}));
    assert_eq!(p.post(&endpoint, &[], &call).await.status(), 202);
    let answer = events.answer(3).await;
    assert_eq!(
        answer["result"]["structuredContent"]["error"], "missing_scope",
        "{answer}"
    );

    // Another valid key cannot post into this session, and a wrong key is rejected outright.
    let other = [("X-API-Key", p.keys.full.as_str())];
    let call = tool_call(4, "analyze_ip", json!({"ip": LISTED}));
    assert_eq!(p.post(&endpoint, &other, &call).await.status(), 403);
    let wrong = [("X-API-Key", "tiq_wrong")];
    let call = tool_call(5, "analyze_ip", json!({"ip": LISTED}));
    assert_eq!(p.post(&endpoint, &wrong, &call).await.status(), 401);

    // Revoking the key that opened the stream ends what its session may do.
    let mut keys = Keys::open(p.server.data_path()).unwrap();
    keys.revoke("ip-only", p.clock.now_utc()).unwrap();
    p.access.reload_keys();
    let call = tool_call(6, "analyze_ip", json!({"ip": LISTED}));
    let response = p.post(&endpoint, &[], &call).await;
    let (status, _, body) = json_of(response).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("revoked_key")),
        "{body}"
    );

    let entries = p.audit();
    let sse: Vec<(&str, u16)> = entries
        .iter()
        .filter(|e| e.surface == "sse")
        .map(|e| (e.tool.as_str(), e.status))
        .collect();
    assert_eq!(
        sse,
        [
            ("auth", 401),
            ("analyze_ip", 200),
            ("search_vul", 403),
            ("auth", 401),
            ("auth", 401)
        ]
    );
}

#[tokio::test]
async fn rate_limits_and_quotas_follow_the_clock() {
    let p = protected(AccessSettings::default()).await;
    let mut keys = Keys::open(p.server.data_path()).unwrap();
    let mut limited = new_key("limited", "all");
    limited.rate_per_minute = Some(3);
    limited.daily_quota = Some(6);
    let (_, key) = keys.create(&limited, p.clock.now_utc()).unwrap();
    p.access.reload_keys();
    let ip = format!("/api/v1/ip/{LISTED}");
    let auth = [("X-API-Key", key.as_str())];
    for _ in 0..3 {
        assert_eq!(p.get(&ip, &auth).await.status(), 200);
    }
    let (status, headers, body) = json_of(p.get(&ip, &auth).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("rate_limited")),
        "{body}"
    );
    assert_eq!(body["limit"], "rate");
    assert_eq!(body["retry_after_seconds"], 20);
    assert_eq!(headers["retry-after"], "20");

    // Over MCP the same limit is a tool error carrying the wait.
    let call = tool_call(1, "analyze_ip", json!({"ip": LISTED}));
    let answer = p.call_tool("/mcp", &auth, call).await;
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    assert_eq!(
        answer["result"]["structuredContent"]["retry_after_seconds"], 20,
        "{answer}"
    );

    p.clock.advance(Duration::from_secs(20));
    assert_eq!(p.get(&ip, &auth).await.status(), 200);
    p.clock.advance(Duration::from_secs(60));
    // A batch counts each item: two items, then the quota of six is reached.
    let items = json!({"items": [LISTED, "198.51.100.11"]});
    let batch = p.post("/api/v1/batch", &auth, &items).await;
    assert_eq!(batch.status(), 200);
    let (status, headers, body) = json_of(p.get(&ip, &auth).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("quota_exhausted")),
        "{body}"
    );
    assert_eq!(body["limit"], "daily_quota");
    assert_eq!(body["resets_at"], "2026-05-02T00:00:00.000000Z");
    let wait = headers["retry-after"]
        .to_str()
        .unwrap()
        .parse::<u64>()
        .unwrap();
    assert!((11 * 3600..=12 * 3600).contains(&wait), "{wait}");

    p.clock.advance(Duration::from_secs(12 * 3600));
    assert_eq!(p.get(&ip, &auth).await.status(), 200);
}

#[tokio::test]
async fn repeated_failures_lock_the_address_out() {
    let settings = AccessSettings {
        failed_auth_per_minute: 3,
        ..AccessSettings::default()
    };
    let p = protected(settings).await;
    let ip = format!("/api/v1/ip/{LISTED}");
    for _ in 0..3 {
        assert_eq!(
            p.get(&ip, &[("X-API-Key", "tiq_guess")]).await.status(),
            401
        );
    }
    let (status, headers, body) = json_of(p.get(&ip, &[("X-API-Key", "tiq_guess")]).await).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("too_many_failed_attempts")),
        "{body}"
    );
    assert!(headers.contains_key("retry-after"));
    let (status, _, _) = json_of(p.get(&ip, &[("X-API-Key", &p.keys.full)]).await).await;
    assert_eq!(
        status, 429,
        "a right key waits too, so guessing gains nothing"
    );
    p.clock.advance(Duration::from_secs(60));
    assert_eq!(
        p.get(&ip, &[("X-API-Key", &p.keys.full)]).await.status(),
        200
    );
}

#[tokio::test]
async fn without_keys_loopback_is_served_and_audited() {
    let data = tempfile::tempdir().unwrap();
    let slot: Arc<Mutex<Option<Arc<Access>>>> = Arc::default();
    let fill = slot.clone();
    let server = start_in(data, move |config, data| {
        let access = Arc::new(Access::open(data, AccessSettings::default()).unwrap());
        config.access = Some(access.clone());
        *fill.lock().unwrap() = Some(access);
    })
    .await;
    let access = slot.lock().unwrap().take().unwrap();

    let response = server
        .client
        .get(format!("{}/api/v1/ip/{LISTED}", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    access.flush();
    let entries = AuditLog::open(server.data_path())
        .unwrap()
        .entries(&AuditFilter::default())
        .unwrap();
    assert_eq!(entries.len(), 1, "{entries:#?}");
    let entry = &entries[0];
    assert_eq!(
        (entry.surface.as_str(), entry.tool.as_str(), entry.status),
        ("rest", "analyze_ip", 200)
    );
    assert_eq!(entry.key_id, None);
    assert_eq!(entry.client.as_deref(), Some("127.0.0.1"));
    assert_eq!(entry.query.as_deref(), Some(LISTED));
}

#[tokio::test]
async fn request_caps_are_enforced() {
    let data = tempfile::tempdir().unwrap();
    let server = start_in(data, |config, _| {
        config.max_header_bytes = 2048;
        config.max_body_bytes = 1024;
    })
    .await;
    let response = server
        .client
        .get(format!("{}/api/v1/ping", server.base))
        .header("X-Padding", "a".repeat(4096))
        .send()
        .await
        .unwrap();
    let (status, _, body) = json_of(response).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (431, Some("headers_too_large")),
        "{body}"
    );

    let items: Vec<String> = (0..200).map(|n| format!("192.0.2.{}", n % 250)).collect();
    let response = server
        .client
        .post(format!("{}/api/v1/batch", server.base))
        .json(&json!({"items": items}))
        .send()
        .await
        .unwrap();
    let (status, _, body) = json_of(response).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (413, Some("payload_too_large")),
        "{body}"
    );

    let slow = start_in(tempfile::tempdir().unwrap(), |config, _| {
        config.request_timeout = Duration::from_nanos(1);
    })
    .await;
    // A thousand domains take far longer than the timer's one-millisecond resolution.
    let domains: Vec<String> = (0..1000).map(|n| format!("host{n}.example.com")).collect();
    let response = slow
        .client
        .post(format!("{}/api/v1/batch", slow.base))
        .json(&json!({"items": domains}))
        .send()
        .await
        .unwrap();
    let (status, _, body) = json_of(response).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("timeout")),
        "{body}"
    );
    assert!(
        body["request_id"].is_string(),
        "a 5xx names its request: {body}"
    );
}

/// Collects what the server logs, to check that no key reaches a log line.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line of this test binary, at debug level. One global subscriber, because a
/// per-test one misses events whose call sites another test registered first.
static LOGS: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();

fn capture_logs() -> Captured {
    LOGS.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        captured
    })
    .clone()
}

#[tokio::test]
async fn keys_never_reach_logs_or_audit_log() {
    let captured = capture_logs();
    let p = protected(AccessSettings::default()).await;
    let url = format!("/mcp?key={}", p.keys.full);
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": initialize_params("2025-06-18")});
    assert_eq!(p.mcp(&url, &[], init).await.status(), 200);
    let wrong = format!("/mcp?key={}", p.keys.revoked);
    assert_eq!(
        p.mcp(
            &wrong,
            &[],
            tool_call(2, "analyze_ip", json!({"ip": LISTED}))
        )
        .await
        .status(),
        401
    );
    let mut events =
        EventStream::open_at(&p.server, &format!("/sse?key={}&lang=en", p.keys.full), &[]).await;
    events.endpoint().await;
    let body = json!({"c_action": "IPAnalysis", "key": LISTED, "c_appkey": p.keys.full});
    assert_eq!(p.v3(body, &[]).await.status(), 200);
    p.access.flush();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("key=REDACTED"),
        "the request URL is logged, redacted: {logs}"
    );
    for key in [&p.keys.full, &p.keys.revoked] {
        let secret = &key[key.len() - 20..];
        assert!(!logs.contains(secret), "a key reached the log:\n{logs}");
        let database = std::fs::read(p.server.data_path().join(tiq_access::DB_FILE)).unwrap();
        let wal = std::fs::read(p.server.data_path().join("access.db-wal")).unwrap_or_default();
        for bytes in [database, wal] {
            assert!(
                !bytes
                    .windows(secret.len())
                    .any(|window| window == secret.as_bytes()),
                "a key reached the access database"
            );
        }
    }
}

/// How a request presents its key.
#[derive(Clone, Copy, Debug)]
enum Place {
    Bearer,
    Header,
    Query,
    Body,
}

/// Sends one analysis of `LISTED` (or of a domain when `domain` is set) on `surface` with
/// `key` in `place`, and returns the HTTP status and the error code found, if any.
async fn attempt(
    p: &Protected,
    surface: &str,
    key: Option<&str>,
    place: Place,
    domain: bool,
) -> (u16, Option<String>) {
    let auth = key.map(bearer);
    let mut headers: Vec<(&str, &str)> = Vec::new();
    let mut query = String::new();
    match (key, place) {
        (Some(_), Place::Bearer) => headers.push(("Authorization", auth.as_deref().unwrap())),
        (Some(key), Place::Header) => headers.push(("X-API-Key", key)),
        (Some(key), Place::Query) => query = format!("?key={key}"),
        _ => {}
    }
    match surface {
        "rest" => {
            let path = if domain {
                format!("/api/v1/domain/example.com{query}")
            } else {
                format!("/api/v1/ip/{LISTED}{query}")
            };
            let (status, _, body) = json_of(p.get(&path, &headers).await).await;
            (status, body["error"].as_str().map(str::to_string))
        }
        "v3" => {
            let action = if domain { "DomainInfo" } else { "IPAnalysis" };
            let target = if domain { "example.com" } else { LISTED };
            let mut body = json!({"c_action": action, "key": target});
            if let (Some(key), Place::Body) = (key, place) {
                body["c_appkey"] = json!(key);
            }
            let (status, _, body) = json_of(p.v3(body, &headers).await).await;
            (
                status,
                body["return_code"].as_i64().map(|code| code.to_string()),
            )
        }
        "mcp" => {
            let call = if domain {
                tool_call(9, "analyze_domain", json!({"domain": "example.com"}))
            } else {
                tool_call(9, "analyze_ip", json!({"ip": LISTED}))
            };
            let response = p.mcp(&format!("/mcp{query}"), &headers, call).await;
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            if status != 200 {
                let body: Value = serde_json::from_str(&text).unwrap();
                return (status, body["error"].as_str().map(str::to_string));
            }
            let answer = message_from(&text, 9);
            let code = answer["result"]["structuredContent"]["error"].as_str();
            (status, code.map(str::to_string))
        }
        _ => {
            let mut request = p
                .server
                .client
                .get(format!("{}/sse{query}", p.server.base))
                .header("Accept", "text/event-stream");
            for (name, value) in &headers {
                request = request.header(*name, *value);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            if status == 200 {
                return (status, None);
            }
            let body: Value = response.json().await.unwrap();
            (status, body["error"].as_str().map(str::to_string))
        }
    }
}

#[tokio::test]
async fn every_surface_answers_every_key_case_alike() {
    // Sixteen refusals come from one address; the lockout is tested on its own.
    let settings = AccessSettings {
        failed_auth_per_minute: 1000,
        ..AccessSettings::default()
    };
    let p = protected(settings).await;
    p.clock.advance(Duration::from_secs(61));
    let wrong = altered(&p.keys.full);
    let bad = [
        (None, "missing_key"),
        (Some(wrong.as_str()), "invalid_key"),
        (Some(p.keys.revoked.as_str()), "revoked_key"),
        (Some(p.keys.expiring.as_str()), "expired_key"),
    ];
    for surface in ["rest", "v3", "mcp", "sse"] {
        let place = if surface == "v3" {
            Place::Body
        } else {
            Place::Header
        };
        for (key, code) in bad {
            let (status, found) = attempt(&p, surface, key, place, false).await;
            let expected = if surface == "v3" { "1004" } else { code };
            assert_eq!(
                (status, found.as_deref()),
                (401, Some(expected)),
                "{surface} with {code}"
            );
        }
        let mut places = vec![Place::Bearer, Place::Header];
        match surface {
            "v3" => places.push(Place::Body),
            "mcp" | "sse" => places.push(Place::Query),
            _ => {}
        }
        for place in places {
            let (status, found) = attempt(&p, surface, Some(&p.keys.full), place, false).await;
            let ok = if surface == "v3" { Some("0") } else { None };
            assert_eq!(
                (status, found.as_deref()),
                (200, ok),
                "{surface} with the key in {place:?}"
            );
        }
        if surface != "sse" {
            let place = if surface == "v3" {
                Place::Body
            } else {
                Place::Header
            };
            let (status, found) = attempt(&p, surface, Some(&p.keys.ip_only), place, true).await;
            let expected = match surface {
                "rest" => (403, Some("missing_scope")),
                "v3" => (403, Some("1005")),
                _ => (200, Some("missing_scope")),
            };
            assert_eq!(
                (status, found.as_deref()),
                expected,
                "{surface} without the scope"
            );
        }
    }
}

#[tokio::test]
async fn scan_needs_text_scope_and_counts_lookups() {
    let p = protected(AccessSettings::default()).await;
    let log = format!("{LISTED} 192.0.2.201 www.example.org CVE-2021-44228");
    let text = json!({"text": log});
    let ip_only = bearer(&p.keys.ip_only);
    let (status, _, body) = json_of(
        p.post(
            "/api/v1/scan",
            &[("Authorization", ip_only.as_str())],
            &text,
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("missing_scope")),
        "{body}"
    );
    assert!(body["message"].as_str().unwrap().contains("text"), "{body}");

    let mut keys = Keys::open(p.server.data_path()).unwrap();
    let mut limited = new_key("scanner", "text");
    limited.daily_quota = Some(5);
    let (_, key) = keys.create(&limited, p.clock.now_utc()).unwrap();
    p.access.reload_keys();
    let auth = [("X-API-Key", key.as_str())];
    // The text costs three of the five daily lookups, because the CVE id is not looked up.
    // A second scan passes the first request, the scope check, and is refused the rest.
    let (status, _, body) = json_of(p.post("/api/v1/scan", &auth, &text).await).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = json_of(p.post("/api/v1/scan", &auth, &text).await).await;
    assert_eq!(
        (status, body["limit"].as_str()),
        (429, Some("daily_quota")),
        "{body}"
    );

    let call = tool_call(1, "analyze_text", json!({"text": "192.0.2.9"}));
    let answer = p.call_tool("/mcp", &auth, call).await;
    assert_ne!(
        answer["result"]["isError"], true,
        "one lookup is left: {answer}"
    );
    let entries = p.audit();
    let scans: Vec<_> = entries
        .iter()
        .filter(|e| e.tool == "analyze_text")
        .collect();
    assert_eq!(scans.len(), 4, "{scans:?}");
    let size = format!("{} bytes", log.len());
    assert_eq!(scans[1].query.as_deref(), Some(size.as_str()));
}
