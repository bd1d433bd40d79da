//! Protocol versions, prompts, resources and completion over streamable HTTP on 127.0.0.1.

mod support;

use serde_json::json;
use support::{McpSession, start};

#[tokio::test]
async fn each_protocol_version_is_echoed() {
    let server = start(|_| {}).await;
    for version in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
        let (session, init) = McpSession::open(&server, version).await;
        assert_eq!(init["result"]["protocolVersion"], version, "{init}");
        let listed = session.call(2, "tools/list", json!({})).await;
        assert!(listed["result"]["tools"].is_array(), "{version}: {listed}");
    }
}

#[tokio::test]
async fn other_versions_get_2025_11_25() {
    let server = start(|_| {}).await;
    // 2026-07-28 has no initialize handshake, so no initialize response can name it.
    for version in ["2023-01-01", "2026-07-28"] {
        let (_, init) = McpSession::open(&server, version).await;
        assert_eq!(init["result"]["protocolVersion"], "2025-11-25", "{init}");
    }
}

#[tokio::test]
async fn capabilities_name_prompts_and_resources() {
    let server = start(|_| {}).await;
    let (_, init) = McpSession::open(&server, "2025-11-25").await;
    let capabilities = &init["result"]["capabilities"];
    for name in ["tools", "prompts", "resources", "completions"] {
        assert!(capabilities[name].is_object(), "{name}: {capabilities}");
    }
}

#[tokio::test]
async fn prompts_are_listed_with_arguments() {
    let server = start(|_| {}).await;
    let (session, _) = McpSession::open(&server, "2025-11-25").await;
    let listed = session.call(2, "prompts/list", json!({})).await;
    let prompts = listed["result"]["prompts"].as_array().unwrap();
    let expected = [
        ("investigate_alert", "alert"),
        ("triage_ip", "ip"),
        ("triage_indicator", "indicator"),
        ("assess_cve_for_stack", "vulnerabilities"),
    ];
    for (name, argument) in expected {
        let prompt = prompts
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no prompt {name} in {listed}"));
        assert!(
            prompt["description"].as_str().unwrap().len() > 40,
            "{prompt}"
        );
        let arguments = prompt["arguments"].as_array().unwrap();
        let required = arguments.iter().find(|a| a["name"] == argument).unwrap();
        assert_eq!(required["required"], true, "{prompt}");
        let lang = arguments.iter().find(|a| a["name"] == "lang").unwrap();
        assert_eq!(lang["required"], false, "{prompt}");
    }
}

#[tokio::test]
async fn triage_ip_prompt_names_the_tools() {
    let server = start(|_| {}).await;
    let (session, _) = McpSession::open(&server, "2025-11-25").await;
    let params = json!({"name": "triage_ip", "arguments": {"ip": "203.0.113.7"}});
    let got = session.call(2, "prompts/get", params).await;
    let messages = got["result"]["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "user", "{got}");
    let text = messages[0]["content"]["text"].as_str().unwrap();
    assert!(text.contains("analyze_ip"), "{text}");
    assert!(text.contains("203.0.113.7"), "{text}");
    assert!(text.contains("Unknown is never safe"), "{text}");
    assert!(text.contains("Next steps"), "{text}");
}

#[tokio::test]
async fn prompts_follow_lang() {
    let server = start(|_| {}).await;
    let (session, _) = McpSession::open(&server, "2025-11-25").await;
    let cases = [
        (
            "investigate_alert",
            json!({"alert": "beacon to 198.51.100[.]10", "lang": "zh-CN"}),
        ),
        ("triage_ip", json!({"ip": "203.0.113.7", "lang": "zh-CN"})),
        (
            "triage_indicator",
            json!({"indicator": "example.com", "lang": "zh-CN"}),
        ),
        (
            "assess_cve_for_stack",
            json!({"vulnerabilities": "CVE-2021-44228", "stack": "Tomcat 9 on Debian", "lang": "zh-CN"}),
        ),
    ];
    for (id, (name, arguments)) in (2..).zip(cases) {
        let params = json!({"name": name, "arguments": arguments});
        let got = session.call(id, "prompts/get", params).await;
        let text = got["result"]["messages"][0]["content"]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: {got}"));
        assert!(
            text.contains("未知绝不等于安全") || text.contains("而不是无害"),
            "{name}: {text}"
        );
        assert!(text.contains("lang=\"zh-CN\""), "{name}: {text}");
    }
}

#[tokio::test]
async fn prompt_without_required_argument_is_invalid_params() {
    let server = start(|_| {}).await;
    let (session, _) = McpSession::open(&server, "2025-11-25").await;
    let got = session
        .call(2, "prompts/get", json!({"name": "triage_ip"}))
        .await;
    assert_eq!(got["error"]["code"], -32602, "{got}");
    assert!(
        got["error"]["message"].as_str().unwrap().contains("\"ip\""),
        "{got}"
    );

    let params = json!({"name": "assess_cve_for_stack", "arguments": {"vulnerabilities": "CVE-2021-44228", "stack": " ", "lang": "zh-CN"}});
    let got = session.call(3, "prompts/get", params).await;
    assert_eq!(got["error"]["code"], -32602, "{got}");
    assert!(
        got["error"]["message"]
            .as_str()
            .unwrap()
            .contains("缺少必需参数"),
        "{got}"
    );

    let params = json!({"name": "triage_ip", "arguments": {"ip": "203.0.113.7", "lang": "fr"}});
    let got = session.call(4, "prompts/get", params).await;
    assert_eq!(got["error"]["code"], -32602, "{got}");

    let params = json!({"name": "no_such_prompt"});
    let got = session.call(5, "prompts/get", params).await;
    assert_eq!(got["error"]["code"], -32602, "{got}");
}

#[tokio::test]
async fn status_resource_matches_the_rest_document() {
    let server = start(|_| {}).await;
    let (session, _) = McpSession::open(&server, "2025-11-25").await;
    let listed = session.call(2, "resources/list", json!({})).await;
    let resources = listed["result"]["resources"].as_array().unwrap();
    let status = resources
        .iter()
        .find(|r| r["uri"] == "tiq://status")
        .unwrap();
    assert_eq!(status["mimeType"], "application/json");

    let read = session
        .call(3, "resources/read", json!({"uri": "tiq://status"}))
        .await;
    let contents = &read["result"]["contents"][0];
    assert_eq!(contents["uri"], "tiq://status", "{read}");
    assert_eq!(contents["mimeType"], "application/json", "{read}");
    let document: serde_json::Value =
        serde_json::from_str(contents["text"].as_str().unwrap()).unwrap();
    let rest: serde_json::Value = server
        .client
        .get(format!("{}/api/v1/status", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(document["feeds"], rest["feeds"]);
    assert_eq!(document["imported"], rest["imported"]);
}

#[tokio::test]
async fn feed_template_reads_one_feed() {
    let server = start(|_| {}).await;
    let (session, _) = McpSession::open(&server, "2025-11-25").await;
    let templates = session.call(2, "resources/templates/list", json!({})).await;
    let template = &templates["result"]["resourceTemplates"][0];
    assert_eq!(template["uriTemplate"], "tiq://feeds/{name}", "{templates}");
    assert_eq!(template["mimeType"], "application/json", "{templates}");

    let read = session
        .call(3, "resources/read", json!({"uri": "tiq://feeds/ipsum"}))
        .await;
    let text = read["result"]["contents"][0]["text"].as_str().unwrap();
    let feed: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(feed["name"], "ipsum", "{feed}");
    assert_eq!(feed["state"], "never_synced", "{feed}");

    let missing = session
        .call(
            4,
            "resources/read",
            json!({"uri": "tiq://feeds/no-such-feed"}),
        )
        .await;
    assert_eq!(missing["error"]["code"], -32002, "{missing}");
    let names = missing["error"]["data"]["feeds"].as_array().unwrap();
    assert!(names.iter().any(|name| name == "ipsum"), "{missing}");

    let other = session
        .call(5, "resources/read", json!({"uri": "file:///etc/passwd"}))
        .await;
    assert_eq!(other["error"]["code"], -32002, "{other}");
}

#[tokio::test]
async fn completion_offers_feed_names_and_languages() {
    let server = start(|_| {}).await;
    let (session, _) = McpSession::open(&server, "2025-11-25").await;
    let params = json!({
        "ref": {"type": "ref/resource", "uri": "tiq://feeds/{name}"},
        "argument": {"name": "name", "value": "ips"}
    });
    let completed = session.call(2, "completion/complete", params).await;
    let values = completed["result"]["completion"]["values"]
        .as_array()
        .unwrap();
    assert!(values.iter().any(|v| v == "ipsum"), "{completed}");
    assert!(
        values
            .iter()
            .all(|v| v.as_str().unwrap().starts_with("ips")),
        "{completed}"
    );

    let params = json!({
        "ref": {"type": "ref/prompt", "name": "triage_ip"},
        "argument": {"name": "lang", "value": "zh"}
    });
    let completed = session.call(3, "completion/complete", params).await;
    assert_eq!(
        completed["result"]["completion"]["values"],
        json!(["zh-CN"]),
        "{completed}"
    );
}
