//! The REST API over real HTTP on 127.0.0.1: v1 routes, batch, the v3 layout, errors, and
//! the OpenAPI document.

use reqwest::StatusCode;
use serde_json::{Value, json};

/// Malicious in the IPsum fixture.
const LISTED_IP: &str = "198.51.100.10";
/// On the Tranco fixture list.
const BENIGN_DOMAIN: &str = "www.example.org";
/// A SHA-256 in the ESET fixture.
const LISTED_HASH: &str = "0a4479f7ab080e8504c4f00b29a67068aa4479f7ab080e8504c4f00b29a67068";
const LISTED_URL: &str = "http://198.51.100.20:50140/bin.sh";

mod support;

use support::TestServer as Server;

async fn start() -> Server {
    support::start(|_| {}).await
}

impl Server {
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        json_of(response).await
    }

    async fn get_with(&self, path: &str, accept_language: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("Accept-Language", accept_language)
            .send()
            .await
            .unwrap();
        json_of(response).await
    }

    async fn post_json(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .unwrap();
        json_of(response).await
    }

    async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(fields).unwrap())
            .send()
            .await
            .unwrap();
        json_of(response).await
    }

    /// Calls an MCP tool through a fresh session and returns its `structuredContent`.
    async fn mcp_tool(&self, tool: &str, arguments: Value) -> Value {
        let url = format!("{}/mcp", self.base);
        let send = |body: Value, session: Option<String>| {
            let mut request = self
                .client
                .post(&url)
                .header("Accept", "application/json, text/event-stream")
                .json(&body);
            if let Some(session) = session {
                request = request.header("Mcp-Session-Id", session);
            }
            request.send()
        };
        let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "tiq-rest-test", "version": "1"}}});
        let response = send(init, None).await.unwrap();
        let session = response
            .headers()
            .get("mcp-session-id")
            .map(|v| v.to_str().unwrap().to_string());
        response.text().await.unwrap();
        let ack = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        send(ack, session.clone()).await.unwrap();
        let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": tool, "arguments": arguments}});
        let body = send(call, session).await.unwrap().text().await.unwrap();
        let message = std::iter::once(body.as_str())
            .chain(body.lines().filter_map(|line| line.strip_prefix("data:")))
            .filter_map(|text| serde_json::from_str::<Value>(text.trim()).ok())
            .find(|message| message["id"] == 2)
            .unwrap_or_else(|| panic!("no tools/call answer in {body}"));
        message["result"]["structuredContent"].clone()
    }
}

async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "HTTP {status} with Content-Type {content_type:?}: {text}"
    );
    (status, serde_json::from_str(&text).unwrap())
}

fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str, names: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["error"], code, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains(names), "{message}");
}

// --- v1 analysis routes ------------------------------------------------------

#[tokio::test]
async fn ip_route_reports() {
    let server = start().await;
    let (status, report) = server.get("/api/v1/ip/198.51.100[.]10").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["verdict"], "malicious");
    assert_eq!(report["indicator"]["value"], LISTED_IP);
    assert_eq!(report["input"], "198.51.100[.]10");
    assert_eq!(report["lang"], "en");
}

#[tokio::test]
async fn ip_route_rejects_bad_address() {
    let server = start().await;
    let (status, body) = server.get("/api/v1/ip/300.1.1.1").await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "invalid_indicator",
        "300.1.1.1",
    );
    assert!(
        body["message"].as_str().unwrap().contains("over 255"),
        "{body}"
    );
}

#[tokio::test]
async fn ipv6_in_path() {
    let server = start().await;
    let (status, report) = server.get("/api/v1/ip/2001:db8::1").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["indicator"]["value"], "2001:db8::1");
}

#[tokio::test]
async fn domain_route_reports() {
    let server = start().await;
    let (status, report) = server.get(&format!("/api/v1/domain/{BENIGN_DOMAIN}")).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["verdict"], "benign");

    let (status, body) = server.get("/api/v1/domain/-bad-.example").await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "invalid_indicator",
        "-bad-.example",
    );
}

#[tokio::test]
async fn url_route_reports() {
    let server = start().await;
    let encoded = serde_urlencoded::to_string([("url", LISTED_URL)]).unwrap();
    let (status, report) = server.get(&format!("/api/v1/url?{encoded}")).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["indicator"]["type"], "url");
    assert_eq!(report["verdict"], "malicious");

    let (status, body) = server
        .get("/api/v1/url?url=ftp%3A%2F%2Fexample.com%2Fa")
        .await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "invalid_indicator",
        "ftp",
    );

    let (status, body) = server.get("/api/v1/url").await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "missing_parameter",
        "url",
    );
}

#[tokio::test]
async fn hash_route_reports() {
    let server = start().await;
    let upper = LISTED_HASH.to_ascii_uppercase();
    let (status, report) = server.get(&format!("/api/v1/hash/{upper}")).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["verdict"], "malicious");
    assert_eq!(report["indicator"]["value"], LISTED_HASH);

    let (status, body) = server.get("/api/v1/hash/abc123").await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "invalid_indicator",
        "abc123",
    );
}

#[tokio::test]
async fn vul_route_searches() {
    let server = start().await;
    let (status, search) = server
        .get("/api/v1/vul?q=CVE-2021-44228&kev_only=true&sort=priority&page_size=5")
        .await;
    assert_eq!(status, StatusCode::OK, "{search}");
    assert_eq!(search["query_kind"], "id");
    assert!(search["results"].is_array(), "{search}");

    let (status, body) = server.get("/api/v1/vul").await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "missing_parameter",
        "q",
    );

    let (status, body) = server.get("/api/v1/vul?q=openssl&sort=newest").await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        "newest",
    );

    let (status, body) = server.get("/api/v1/vul?q=openssl&page_size=99").await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        "99",
    );

    let (status, body) = server.get("/api/v1/vul?q=openssl&kev_only=maybe").await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        "kev_only",
    );
}

#[tokio::test]
async fn describe_route() {
    let server = start().await;
    let (status, description) = server.get("/api/v1/describe/Example%20Strike").await;
    assert_eq!(status, StatusCode::OK, "{description}");
    assert_eq!(description["found"], false);
    assert_eq!(description["query"], "Example Strike");

    let long = "x".repeat(201);
    let (status, body) = server.get(&format!("/api/v1/describe/{long}")).await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        "201",
    );
}

#[tokio::test]
async fn ping_and_status() {
    let server = start().await;
    let (status, body) = server.get("/api/v1/ping").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "ok"}));
    let (status, body) = server.get("/api/v1/status").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

// --- Languages ---------------------------------------------------------------

#[tokio::test]
async fn chinese_by_parameter_and_header() {
    let server = start().await;
    let (_, report) = server
        .get(&format!("/api/v1/domain/{BENIGN_DOMAIN}?lang=zh-CN"))
        .await;
    assert_eq!(report["lang"], "zh-CN");
    assert!(
        report["summary"].as_str().unwrap().contains("良性"),
        "{report}"
    );

    let (_, report) = server
        .get_with(
            &format!("/api/v1/domain/{BENIGN_DOMAIN}"),
            "zh-CN,zh;q=0.9,en;q=0.8",
        )
        .await;
    assert_eq!(report["lang"], "zh-CN");

    let (_, report) = server
        .get_with(&format!("/api/v1/domain/{BENIGN_DOMAIN}?lang=en"), "zh-CN")
        .await;
    assert_eq!(report["lang"], "en");
}

#[tokio::test]
async fn chinese_error_messages() {
    let server = start().await;
    let (status, body) = server.get("/api/v1/ip/300.1.1.1?lang=zh-CN").await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "invalid_indicator",
        "300.1.1.1",
    );
    assert!(body["message"].as_str().unwrap().contains("无效"), "{body}");

    let (status, body) = server.get_with("/api/v1/nothing", "zh-CN").await;
    assert_error(
        status,
        &body,
        StatusCode::NOT_FOUND,
        "not_found",
        "/api/v1/nothing",
    );
    assert!(body["message"].as_str().unwrap().contains("接口"), "{body}");
}

#[tokio::test]
async fn unsupported_language_rejected() {
    let server = start().await;
    let (status, body) = server.get("/api/v1/ip/198.51.100.10?lang=fr").await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "invalid_language",
        "fr",
    );
}

// --- HTTP errors ---------------------------------------------------------------

#[tokio::test]
async fn unknown_route_is_json_404() {
    let server = start().await;
    let (status, body) = server.get("/api/v1/nothing/here").await;
    assert_error(
        status,
        &body,
        StatusCode::NOT_FOUND,
        "not_found",
        "/api/v1/nothing/here",
    );
}

#[tokio::test]
async fn wrong_method_is_json_405() {
    let server = start().await;
    let (status, body) = server
        .post_json("/api/v1/ip/198.51.100.10", &json!({}))
        .await;
    assert_error(
        status,
        &body,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "POST",
    );
    let response = server
        .client
        .get(format!("{}/api/v1/batch", server.base))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_error(
        status,
        &body,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "GET",
    );
}

#[tokio::test]
async fn oversized_body_is_413() {
    let server = start().await;
    let filler = "a".repeat(5 * 1024 * 1024);
    let (status, body) = server
        .post_json("/api/v1/batch", &json!({"items": [filler]}))
        .await;
    assert_error(
        status,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "4194304",
    );
}

#[tokio::test]
async fn batch_needs_json_content_type() {
    let server = start().await;
    let response = server
        .client
        .post(format!("{}/api/v1/batch", server.base))
        .body(r#"{"items": ["198.51.100.10"]}"#)
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_error(
        status,
        &body,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "application/json",
    );

    let (status, body) = server
        .post_json("/api/v1/batch", &json!({"items": "x"}))
        .await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "invalid_body",
        "items",
    );
}

#[tokio::test]
async fn foreign_host_rejected() {
    let server = start().await;
    let response = server
        .client
        .get(format!("{}/api/v1/ping", server.base))
        .header("Host", "evil.example.com")
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "host_not_allowed",
        "--allowed-host",
    );
}

// --- Batch ---------------------------------------------------------------------

#[tokio::test]
async fn batch_mixed_types() {
    let server = start().await;
    let request = json!({"items": [
        "198.51.100[.]10",
        {"type": "domain", "value": BENIGN_DOMAIN},
        LISTED_URL,
        LISTED_HASH,
        "300.1.1.1",
        "198.51.100.0/24",
        "CVE-2021-44228",
        {"type": "email", "value": "a@example.com"},
        42,
        "198.51.100.10",
    ]});
    let (status, batch) = server.post_json("/api/v1/batch", &request).await;
    assert_eq!(status, StatusCode::OK, "{batch}");
    assert_eq!(batch["total"], 10);
    assert_eq!(
        batch["analyzed"], 4,
        "the repeated IP is analysed once: {batch}"
    );
    assert_eq!(batch["errors"], 5);
    assert_eq!(batch["verdicts"]["malicious"], 4, "{batch}");
    assert_eq!(batch["verdicts"]["benign"], 1, "{batch}");
    assert_eq!(batch["detail"], "compact");

    let results = batch["results"].as_array().unwrap();
    for (index, result) in results.iter().enumerate() {
        assert_eq!(result["index"], index, "{result}");
    }
    let types: Vec<&Value> = results[..4].iter().map(|r| &r["type"]).collect();
    assert_eq!(
        types,
        [
            &json!("ip"),
            &json!("domain"),
            &json!("url"),
            &json!("hash")
        ]
    );
    assert_eq!(results[0]["report"]["verdict"], "malicious");
    assert!(
        results[0]["report"]["top_sources"].is_array(),
        "{}",
        results[0]
    );
    assert!(
        results[0]["report"].get("evidence").is_none(),
        "compact by default"
    );
    assert_eq!(results[9]["report"]["indicator"]["value"], LISTED_IP);
    assert_eq!(results[9]["input"], "198.51.100.10");

    let expected_errors = [
        (4, "invalid_indicator", "300.1.1.1"),
        (5, "unsupported_type", "198.51.100.0/24"),
        (6, "unsupported_type", "CVE-2021-44228"),
        (7, "unsupported_type", "email"),
        (8, "invalid_item", "42"),
    ];
    for (index, code, names) in expected_errors {
        let error = &results[index]["error"];
        assert_eq!(error["code"], code, "{}", results[index]);
        assert!(
            error["message"].as_str().unwrap().contains(names),
            "{error}"
        );
        assert!(results[index].get("report").is_none());
    }
}

#[tokio::test]
async fn batch_full_detail_and_chinese() {
    let server = start().await;
    let request = json!({"items": [LISTED_IP, "300.1.1.1"], "detail": "full", "lang": "zh-CN"});
    let (status, batch) = server.post_json("/api/v1/batch", &request).await;
    assert_eq!(status, StatusCode::OK, "{batch}");
    assert_eq!(batch["lang"], "zh-CN");
    let first = &batch["results"][0];
    assert_eq!(first["detail"], "full");
    assert!(first["report"]["evidence"].is_array(), "{first}");
    assert!(
        first["report"]["summary"]
            .as_str()
            .unwrap()
            .contains("恶意"),
        "{first}"
    );
    let message = batch["results"][1]["error"]["message"].as_str().unwrap();
    assert!(message.contains("无效"), "{message}");
    assert!(batch.get("note").is_none());
}

#[tokio::test]
async fn batch_over_limit_rejected() {
    let server = start().await;
    let items: Vec<String> = (0..1001).map(|i| format!("192.0.2.{}", i % 256)).collect();
    let (status, body) = server
        .post_json("/api/v1/batch", &json!({"items": items}))
        .await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "too_many_items",
        "1001",
    );
    assert!(body["message"].as_str().unwrap().contains("1000"), "{body}");
}

#[tokio::test]
async fn batch_full_reports_capped() {
    let server = start().await;
    // URLs of about 7,000 characters make full reports of over 14 KB each, so 200 of them
    // pass the 2 MiB cap.
    let items: Vec<String> = (0..200)
        .map(|i| format!("http://example.com/{i}/{}", "a".repeat(7000)))
        .collect();
    let (status, batch) = server
        .post_json("/api/v1/batch", &json!({"items": items, "detail": "full"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let cut = batch["left_out"]["full_reports"].as_u64().unwrap();
    assert!(cut > 0, "{}", batch["left_out"]);
    assert!(cut < 200, "{}", batch["left_out"]);
    assert!(
        batch["note"].as_str().unwrap().contains("2 MiB"),
        "{}",
        batch["note"]
    );
    let results = batch["results"].as_array().unwrap();
    let full = results.iter().filter(|r| r["detail"] == "full").count();
    assert_eq!(full as u64 + cut, 200);
    assert_eq!(results[0]["detail"], "full");
    assert_eq!(results[199]["detail"], "compact");
    assert!(results[199]["report"]["top_sources"].is_array());
}

// --- v3 -------------------------------------------------------------------------

#[tokio::test]
async fn v3_each_action_json() {
    let server = start().await;
    let cases = [
        ("IPAnalysis", LISTED_IP, "black", "ip"),
        ("DomainInfo", BENIGN_DOMAIN, "white", "domain"),
        (
            "domainanalysis",
            "unlisted.example.net",
            "unknown",
            "domain",
        ),
        ("UrlInfo", LISTED_URL, "black", "url"),
        ("URLAnalysis", LISTED_URL, "black", "url"),
        ("FileInfo", LISTED_HASH, "black", "hash"),
        ("FILEANALYSIS", LISTED_HASH, "black", "hash"),
    ];
    for (action, key, result, kind) in cases {
        let body =
            json!({"c_version": "3.0", "c_action": action, "key": key, "c_appkey": "secret-key"});
        let (status, answer) = server.post_json("/api/v3/ti", &body).await;
        assert_eq!(status, StatusCode::OK, "{action}: {answer}");
        assert_eq!(answer["return_code"], 0, "{action}: {answer}");
        assert_eq!(answer["result"], result, "{action}: {answer}");
        assert_eq!(answer["type"], kind, "{action}");
        for field in [
            "threat_level",
            "confidence",
            "tags",
            "family",
            "campaign",
            "intelligences",
            "ttps",
            "basic",
            "profile",
            "context",
            "ver",
        ] {
            assert!(
                answer.get(field).is_some(),
                "{action}: no {field} in {answer}"
            );
        }
    }
}

#[tokio::test]
async fn v3_maps_report_fields() {
    let server = start().await;
    let (_, report) = server.get(&format!("/api/v1/ip/{LISTED_IP}")).await;
    let body = json!({"c_action": "IPAnalysis", "key": LISTED_IP});
    let (_, answer) = server.post_json("/api/v3/ti", &body).await;
    assert_eq!(answer["threat_level"], report["threat_level"]["level"]);
    let confidence = (report["confidence"].as_f64().unwrap() * 100.0).round();
    assert_eq!(answer["confidence"].as_f64().unwrap(), confidence);
    assert_eq!(
        answer["intelligences"].as_array().unwrap().len(),
        report["evidence"].as_array().unwrap().len()
    );
    assert_eq!(
        answer["intelligences"][0]["source"],
        report["evidence"][0]["source"]
    );
    assert_eq!(answer["context"]["summary"], report["summary"]);
    assert_eq!(
        answer["tags"][0]["threat_type"],
        report["tags"][0]["threat_type"]
    );
}

#[tokio::test]
async fn v3_form_body_and_chinese() {
    let server = start().await;
    let fields = [
        ("c_action", "IPAnalysis"),
        ("key", LISTED_IP),
        ("c_lang", "zh"),
        ("c_appkey", "k"),
    ];
    let (status, answer) = server.post_form("/api/v3/ti", &fields).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["return_code"], 0);
    assert_eq!(answer["result"], "black");
    assert_eq!(answer["return_msg"], "成功");
    assert_eq!(answer["context"]["lang"], "zh-CN");
}

#[tokio::test]
async fn v3_vul_search() {
    let server = start().await;
    let fields = [
        ("c_action", "VulSearch"),
        ("key", "CVE-2021-44228"),
        ("kev_only", "1"),
    ];
    let (status, answer) = server.post_form("/api/v3/ti", &fields).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["return_code"], 0, "{answer}");
    assert_eq!(answer["query_kind"], "id");
    assert!(answer["items"].is_array());

    let body = json!({"c_action": "VulSearch", "key": "openssl", "page_size": 500});
    let (_, answer) = server.post_json("/api/v3/ti", &body).await;
    assert_eq!(answer["return_code"], 1002, "{answer}");
    assert!(
        answer["return_msg"].as_str().unwrap().contains("500"),
        "{answer}"
    );
}

#[tokio::test]
async fn v3_errors() {
    let server = start().await;
    let cases = [
        (
            json!({"c_action": "MailAnalysis", "key": "x"}),
            1003,
            "MailAnalysis",
        ),
        (json!({"key": LISTED_IP}), 1001, "c_action"),
        (json!({"c_action": "IPAnalysis"}), 1001, "key"),
        (
            json!({"c_action": "IPAnalysis", "key": "300.1.1.1"}),
            1002,
            "300.1.1.1",
        ),
        (
            json!({"c_action": "IPAnalysis", "key": LISTED_IP, "c_lang": "fr"}),
            1001,
            "fr",
        ),
        (json!(["IPAnalysis"]), 1001, "object"),
        (
            json!({"c_action": ["IPAnalysis"], "key": "x"}),
            1001,
            "c_action",
        ),
    ];
    for (body, code, names) in cases {
        let (status, answer) = server.post_json("/api/v3/ti", &body).await;
        assert_eq!(status, StatusCode::OK, "{body}: {answer}");
        assert_eq!(answer["return_code"], code, "{body}: {answer}");
        let message = answer["return_msg"].as_str().unwrap();
        assert!(message.contains(names), "{body}: {message}");
        assert!(answer.get("result").is_none(), "{answer}");
    }

    let response = server
        .client
        .post(format!("{}/api/v3/ti", server.base))
        .header("Content-Type", "text/plain")
        .body("c_action=IPAnalysis")
        .send()
        .await
        .unwrap();
    let (status, answer) = json_of(response).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(answer["return_code"], 1001);
}

// --- One verdict on every surface ------------------------------------------------

#[tokio::test]
async fn same_verdict_on_every_surface() {
    let server = start().await;
    let cases = [
        ("ip", "analyze_ip", "IPAnalysis", LISTED_IP),
        ("domain", "analyze_domain", "DomainInfo", BENIGN_DOMAIN),
        ("hash", "analyze_file_hash", "FileInfo", LISTED_HASH),
    ];
    for (route, tool, action, value) in cases {
        let (_, rest) = server.get(&format!("/api/v1/{route}/{value}")).await;
        let argument = if route == "hash" { "hash" } else { route };
        let mcp = server.mcp_tool(tool, json!({argument: value})).await;
        let (_, v3) = server
            .post_json("/api/v3/ti", &json!({"c_action": action, "key": value}))
            .await;
        let (_, batch) = server
            .post_json("/api/v1/batch", &json!({"items": [value]}))
            .await;

        assert_eq!(mcp, rest, "{value}: MCP and REST reports differ");
        assert_eq!(v3["context"]["verdict"], rest["verdict"], "{value}");
        assert_eq!(
            batch["results"][0]["report"]["verdict"], rest["verdict"],
            "{value}"
        );
    }
}

#[tokio::test]
async fn mcp_batch_tool() {
    let server = start().await;
    let result = server
        .mcp_tool("analyze_batch", json!({"items": [LISTED_IP, "300.1.1.1"]}))
        .await;
    assert_eq!(result["total"], 2, "{result}");
    assert_eq!(result["verdicts"]["malicious"], 1);
    assert_eq!(result["results"][1]["error"]["code"], "invalid_indicator");
}

// --- OpenAPI --------------------------------------------------------------------

#[tokio::test]
async fn openapi_lists_every_route() {
    let server = start().await;
    let (status, document) = server.get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(document["openapi"], "3.1.0");
    for path in [
        "/api/v1/ping",
        "/api/v1/ip/{ip}",
        "/api/v1/domain/{domain}",
        "/api/v1/url",
        "/api/v1/hash/{hash}",
        "/api/v1/vul",
        "/api/v1/describe/{name}",
        "/api/v1/batch",
        "/api/v1/scan",
        "/api/v1/status",
        "/api/v3/ti",
        "/healthz",
        "/openapi.json",
    ] {
        assert!(document["paths"][path].is_object(), "{path} missing");
    }
    let schemas = &document["components"]["schemas"];
    for name in [
        "Report",
        "BatchReport",
        "BatchRequest",
        "ScanReport",
        "ScanRequest",
        "VulnSearch",
        "ThreatDescription",
        "ErrorBody",
        "V3Response",
        "V3Request",
    ] {
        assert!(schemas[name].is_object(), "schema {name} missing");
    }
    let text = document.to_string();
    for reference in text.split("\"$ref\":\"").skip(1) {
        let target = reference.split('"').next().unwrap();
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{target}"));
        assert!(schemas[name].is_object(), "dangling $ref {target}");
    }
}

/// Returns a short sshd log of an unlisted address guessing passwords, then a listed
/// address and a benign domain.
fn guessing_log() -> String {
    let mut log = String::new();
    for second in 0..5 {
        log.push_str(&format!(
            "Dec  5 10:00:0{second} gw sshd[7]: Failed password for root from 192.0.2.200 port 4000{second} ssh2\n"
        ));
    }
    log.push_str(&format!("Outbound to {LISTED_IP} and www.example.org.\n"));
    log
}

#[tokio::test]
async fn scan_matches_analyze_text() {
    let server = start().await;
    let (status, rest) = server
        .post_json("/api/v1/scan", &json!({"text": guessing_log()}))
        .await;
    assert_eq!(status, StatusCode::OK, "{rest}");
    assert_eq!(rest["totals"]["indicators"], 3, "{rest}");
    assert_eq!(rest["indicators"][0]["value"], LISTED_IP);
    assert_eq!(rest["indicators"][0]["block"], true);
    assert_eq!(rest["indicators"][1]["value"], "192.0.2.200");
    assert_eq!(rest["indicators"][1]["verdict"], "suspicious");
    assert_eq!(
        rest["indicators"][1]["activity"]["behaviours"][0]["kind"],
        "failed_logins"
    );

    let mcp = server
        .mcp_tool("analyze_text", json!({"text": guessing_log()}))
        .await;
    assert_eq!(mcp, rest);

    let response = server
        .client
        .post(format!("{}/api/v1/scan?lang=zh-CN&limit=1", server.base))
        .header("Content-Type", "text/plain; charset=utf-8")
        .body(guessing_log())
        .send()
        .await
        .unwrap();
    let (status, plain) = json_of(response).await;
    assert_eq!(status, StatusCode::OK, "{plain}");
    assert_eq!(plain["indicators"].as_array().unwrap().len(), 1);
    assert_eq!(plain["left_out"]["indicators"], 2);
    assert!(
        plain["summary"].as_str().unwrap().contains("恶意 1"),
        "{plain}"
    );
}

#[tokio::test]
async fn scan_rejects_bad_requests() {
    let server = support::start(|config| config.max_text_bytes = 1024).await;
    let (status, body) = server
        .post_json("/api/v1/scan", &json!({"text": "x".repeat(2048)}))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"], "text_too_large");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("2 KiB"), "{message}");
    assert!(message.contains("max_text_kb"), "{message}");

    let (status, body) = server
        .post_json("/api/v1/scan", &json!({"text": "192.0.2.1", "limit": 0}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("limit 0"),
        "{body}"
    );

    let (status, body) = server
        .post_json("/api/v1/scan", &json!({"lines": ["192.0.2.1"]}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("text"), "{body}");

    let response = server
        .client
        .post(format!("{}/api/v1/scan", server.base))
        .header("Content-Type", "application/xml")
        .body("<text/>")
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
}
