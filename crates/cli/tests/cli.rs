//! The `tiq` binary end to end: import the fixture feeds, then query them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/tests/fixtures/feeds")
}

fn tiq(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tiq"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("LANG", "C.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .output()
        .expect("tiq runs")
}

fn imported() -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    let output = tiq(data.path(), &["import", fixtures().to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    data
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn import_prints_table() {
    let data = tempfile::tempdir().unwrap();
    let output = tiq(data.path(), &["import", fixtures().to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let table = stdout(&output);
    assert!(table.contains("FORMAT"), "{table}");
    assert!(table.contains("ipsum"), "{table}");
    assert!(table.contains("10 files: 10 imported"), "{table}");
}

#[test]
fn json_report_for_listed_ip() {
    let data = imported();
    let output = tiq(data.path(), &["ip", "198.51.100[.]10", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["verdict"], "malicious");
    assert_eq!(report["indicator"]["value"], "198.51.100.10");
}

#[test]
fn readable_report_in_chinese() {
    let data = imported();
    let output = tiq(
        data.path(),
        &["domain", "www.example.org", "--lang", "zh-CN"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("良性"), "{}", stdout(&output));
}

#[test]
fn invalid_indicator_exits_2() {
    let data = imported();
    let output = tiq(data.path(), &["ip", "300.1.1.1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("\"300.1.1.1\""),
        "{}",
        stderr(&output)
    );

    let output = tiq(data.path(), &["hash", "xyz", "--json"]);
    assert_eq!(output.status.code(), Some(2));
    let error: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(error["error"], "invalid_indicator");
    assert_eq!(error["input"], "xyz");
}

#[test]
fn query_without_import_names_the_fix() {
    let data = tempfile::tempdir().unwrap();
    let output = tiq(data.path(), &["ip", "192.0.2.1"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("tiq import"),
        "{}",
        stderr(&output)
    );
    assert!(!data.path().join("tiq.db").exists());
}

#[test]
fn help_follows_the_locale() {
    let output = Command::new(env!("CARGO_BIN_EXE_tiq"))
        .arg("--help")
        .env("LANG", "zh_CN.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .output()
        .unwrap();
    assert!(
        stdout(&output).contains("分析 IP 地址"),
        "{}",
        stdout(&output)
    );
    assert!(stdout(&output).contains("命令"), "{}", stdout(&output));
    assert!(
        !stdout(&output).contains("Commands:"),
        "{}",
        stdout(&output)
    );
    assert!(
        !stdout(&output).contains("Print help"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn bad_listen_address_is_explained() {
    let data = tempfile::tempdir().unwrap();
    let output = tiq(
        data.path(),
        &["serve", "--no-sync", "--listen", "localhost"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("127.0.0.1:8737"),
        "{}",
        stderr(&output)
    );
}

/// Creates a mirror folder laid out as `<feed>/<file>`, with one IPsum file.
fn mirror() -> tempfile::TempDir {
    let mirror = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(mirror.path().join("ipsum")).unwrap();
    std::fs::write(
        mirror.path().join("ipsum/ipsum.txt"),
        "# IPsum Threat Intelligence Feed\n192.0.2.1\t3\n192.0.2.2\t5\n198.51.100.7\t1\n",
    )
    .unwrap();
    mirror
}

fn tiq_env(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tiq"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("LANG", "C.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .envs(env.iter().copied())
        .output()
        .expect("tiq runs")
}

#[test]
fn sync_from_a_mirror_then_status() {
    let mirror = mirror();
    let data = tempfile::tempdir().unwrap();
    let env = [("TIQ_SYNC_MIRROR", mirror.path().to_str().unwrap())];

    let output = tiq_env(data.path(), &["sync", "ipsum"], &env);
    assert!(output.status.success(), "{}", stderr(&output));
    let table = stdout(&output);
    assert!(
        table.contains("ipsum") && table.contains("updated"),
        "{table}"
    );
    assert!(
        stderr(&output).contains("ipsum: updated: 3 records"),
        "{}",
        stderr(&output)
    );

    let output = tiq_env(data.path(), &["sync", "ipsum", "--json"], &env);
    let outcomes: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(outcomes[0]["status"], "unchanged", "{outcomes}");

    let output = tiq_env(data.path(), &["status", "--json"], &env);
    assert!(output.status.success(), "{}", stderr(&output));
    let status: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let ipsum = status["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "ipsum")
        .unwrap();
    assert_eq!(ipsum["state"], "ok");
    assert_eq!(ipsum["records"], 3);
    assert_eq!(ipsum["stale"], false);

    let output = tiq_env(data.path(), &["--lang", "zh-CN", "status"], &env);
    assert!(stdout(&output).contains("正常"), "{}", stdout(&output));

    let output = tiq_env(data.path(), &["ip", "192.0.2.2", "--json"], &env);
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_ne!(report["verdict"], "unknown", "{report}");

    // A weight changed in the configuration counts from the next sync, with no download;
    // a query run with another configuration changes nothing.
    let ignored = [env[0], ("TIQ_SOURCE_IPSUM_WEIGHT", "0")];
    let output = tiq_env(data.path(), &["ip", "192.0.2.2", "--json"], &ignored);
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_ne!(report["verdict"], "unknown", "{report}");
    let output = tiq_env(data.path(), &["sync", "ipsum", "--json"], &ignored);
    let outcomes: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(outcomes[0]["status"], "unchanged", "{outcomes}");
    let output = tiq_env(data.path(), &["ip", "192.0.2.2", "--json"], &env);
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["verdict"], "unknown", "{report}");
}

#[test]
fn failed_sync_exits_1_with_cause() {
    let mirror = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let env = [("TIQ_SYNC_MIRROR", mirror.path().to_str().unwrap())];
    let output = tiq_env(data.path(), &["sync", "tor-exits"], &env);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("tor-exit-nodes.lst"),
        "{}",
        stdout(&output)
    );
    let output = tiq_env(data.path(), &["status", "--json"], &env);
    let status: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let tor = status["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "tor-exits")
        .unwrap();
    assert_eq!(tor["state"], "failing");
}

#[test]
fn sync_of_an_unknown_source_lists_the_names() {
    let data = tempfile::tempdir().unwrap();
    let output = tiq(data.path(), &["sync", "ipsun"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("\"ipsun\"") && message.contains("ipsum"),
        "{message}"
    );
}

#[test]
fn config_check_reports_every_problem() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("tiq.toml"),
        "listen = \"nowhere\"\n[sync]\nretries = -1\n[sources.ipsum]\nweight = 2\ncolour = 1\n",
    )
    .unwrap();
    let output = tiq(data.path(), &["config", "check"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    for key in [
        "listen",
        "sync.retries",
        "sources.ipsum.weight",
        "sources.ipsum.colour",
    ] {
        assert!(message.contains(key), "{key} missing: {message}");
    }
    assert!(message.contains("4 problem"), "{message}");

    let output = tiq(data.path(), &["--lang", "zh-CN", "config", "check"]);
    assert!(
        stderr(&output).contains("配置有 4 个问题"),
        "{}",
        stderr(&output)
    );

    // Any other command refuses to run on a broken configuration.
    let output = tiq(data.path(), &["sources"]);
    assert_eq!(output.status.code(), Some(2));

    std::fs::write(
        data.path().join("tiq.toml"),
        "[sources.ipsum]\nweight = 0.5\n",
    )
    .unwrap();
    let output = tiq(data.path(), &["config", "check"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("configuration is valid"));
}

#[test]
fn catalog_lists_every_feed_with_its_settings() {
    let data = tempfile::tempdir().unwrap();
    let output = tiq_env(
        data.path(),
        &["catalog", "--json"],
        &[("TIQ_SOURCE_IPSUM_ENABLED", "false")],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let feeds: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let feeds = feeds.as_array().unwrap();
    assert!(feeds.len() >= 25, "{}", feeds.len());
    for feed in feeds {
        for key in [
            "name",
            "category",
            "enabled",
            "cadence",
            "weight",
            "licence",
            "locations",
        ] {
            assert!(!feed[key].is_null(), "{key} missing in {feed}");
        }
    }
    let ipsum = feeds.iter().find(|f| f["name"] == "ipsum").unwrap();
    assert_eq!(ipsum["enabled"], false);
}

/// GET over plain HTTP/1.1 on loopback; returns the body.
fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_string())
}

#[test]
fn serve_fills_a_fresh_data_directory_by_itself() {
    let mirror = mirror();
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_tiq"))
        .arg("--data-dir")
        .arg(data.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("TIQ_SYNC_MIRROR", mirror.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut synced = None;
    while std::time::Instant::now() < deadline {
        if let Some(body) = http_get(port, "/api/v1/status") {
            let status: serde_json::Value = serde_json::from_str(&body).unwrap();
            let ipsum = status["feeds"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["name"] == "ipsum")
                .cloned()
                .unwrap();
            if ipsum["state"] == "ok" {
                synced = Some(ipsum);
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let _ = server.kill();
    let _ = server.wait();
    let ipsum = synced.expect("the background sync did not bring ipsum in time");
    assert_eq!(ipsum["records"], 3);
    // The data landed in the directory the server uses.
    let output = tiq(data.path(), &["ip", "192.0.2.2", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_ne!(report["verdict"], "unknown", "{report}");
}

#[test]
fn describe_prints_family_in_both_languages() {
    let data = tempfile::tempdir().unwrap();
    let knowledge =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/tests/fixtures/knowledge");
    let output = tiq(data.path(), &["import", knowledge.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));

    let output = tiq(data.path(), &["describe", "win.example_strike"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("S9001 Example Strike"), "{text}");
    assert!(text.contains("G9001 Example Bear"), "{text}");
    assert!(
        text.contains("Also matches: Example Strike (threat actor)"),
        "{text}"
    );

    let output = tiq(
        data.path(),
        &["--lang", "zh-CN", "describe", "examplestrike", "--json"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let description: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(description["entry"]["id"], "S9001");
    assert!(
        description["summary"]
            .as_str()
            .unwrap()
            .contains("恶意软件家族"),
        "{description}"
    );
}

#[test]
fn describe_rejects_empty_name() {
    let data = tempfile::tempdir().unwrap();
    let knowledge =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/tests/fixtures/knowledge");
    let output = tiq(data.path(), &["import", knowledge.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));

    let output = tiq(data.path(), &["describe", " "]);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("name is empty"),
        "{}",
        stderr(&output)
    );

    let output = tiq(data.path(), &["--lang", "zh-CN", "describe", ""]);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    assert!(stderr(&output).contains("名称为空"), "{}", stderr(&output));

    let long = "a".repeat(201);
    let output = tiq(data.path(), &["describe", &long, "--json"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let body: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(body["error"], "invalid_name", "{body}");
}

#[test]
fn vul_searches_and_rejects_bad_ids() {
    let data = tempfile::tempdir().unwrap();
    let vulnerabilities =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/tests/fixtures/vulnerabilities");
    let output = tiq(data.path(), &["import", vulnerabilities.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));

    let output = tiq(data.path(), &["vul", "cve-2024-0101"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("CVE-2024-0101"), "{text}");
    assert!(text.contains("KEV"), "{text}");

    let output = tiq(
        data.path(),
        &["vul", "server", "--page-size", "1", "--json"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let page: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(page["total"], 2);
    assert!(page["next_cursor"].is_string(), "{page}");

    let output = tiq(data.path(), &["vul", "CVE-2024-1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("CVE-2024-1"),
        "{}",
        stderr(&output)
    );
}

/// Reads JSON lines from `reader` until the message with `id` arrives.
fn read_answer(reader: &mut impl std::io::BufRead, id: u64) -> serde_json::Value {
    let mut line = String::new();
    loop {
        line.clear();
        let read = reader.read_line(&mut line).expect("stdout is readable");
        assert!(
            read > 0,
            "tiq mcp closed stdout before answering request {id}"
        );
        let message: serde_json::Value = serde_json::from_str(line.trim())
            .unwrap_or_else(|error| panic!("stdout line is not JSON ({error}): {line}"));
        if message["id"] == id {
            return message;
        }
    }
}

#[test]
fn mcp_serves_tools_on_stdio() {
    use std::io::{BufReader, Write};
    use std::process::Stdio;

    let data = imported();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tiq"))
        .arg("--data-dir")
        .arg(data.path())
        .arg("mcp")
        .env("LANG", "C.UTF-8")
        .env("TIQ_LOG", "info")
        .env_remove("LC_ALL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tiq mcp starts");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());

    let initialize = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "tiq-test", "version": "1"}
    }});
    writeln!(stdin, "{initialize}").unwrap();
    let init = read_answer(&mut stdout, 1);
    assert_eq!(init["result"]["serverInfo"]["name"], "tiq", "{init}");
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18", "{init}");

    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#
    )
    .unwrap();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":2,"method":"tools/list"}}"#).unwrap();
    let listed = read_answer(&mut stdout, 2);
    let names: Vec<&str> = listed["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("no tools in {listed}"))
        .iter()
        .filter_map(|tool| tool["name"].as_str())
        .collect();
    assert!(names.contains(&"analyze_ip"), "{names:?}");

    let call = serde_json::json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
        "name": "analyze_ip",
        "arguments": {"ip": "198.51.100[.]10"}
    }});
    writeln!(stdin, "{call}").unwrap();
    let called = read_answer(&mut stdout, 3);
    assert_eq!(
        called["result"]["structuredContent"]["verdict"], "malicious",
        "{called}"
    );

    drop(stdin);
    let status = child.wait().unwrap();
    let mut logs = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut logs).unwrap();
    assert!(status.success(), "exit {status}: {logs}");
    assert!(
        logs.contains("standard input and output"),
        "logs go to stderr: {logs}"
    );
}

#[test]
fn mcp_without_database_names_the_fix() {
    let data = tempfile::tempdir().unwrap();
    let output = tiq(data.path(), &["mcp"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("tiq import"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
}

#[test]
fn keys_are_created_listed_rotated_and_revoked() {
    let data = imported();
    let output = tiq(
        data.path(),
        &[
            "key",
            "create",
            "--name",
            "soc",
            "--scopes",
            "ip,domain",
            "--rate",
            "60/min",
            "--daily-quota",
            "1000",
            "--expires",
            "90d",
            "--json",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let created: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let secret = created["key"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(secret.starts_with(&format!("tiq_{id}_")), "{created}");
    assert_eq!(created["scopes"], serde_json::json!(["ip", "domain"]));
    assert_eq!(created["rate_per_minute"], 60);

    let output = tiq(data.path(), &["key", "list"]);
    let table = stdout(&output);
    assert!(
        table.contains(&id) && table.contains("ip,domain") && table.contains("active"),
        "{table}"
    );
    assert!(
        !table.contains(&secret[secret.len() - 20..]),
        "list shows no secret: {table}"
    );

    let output = tiq(data.path(), &["key", "rotate", "soc"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let rotated = text.lines().last().unwrap();
    assert!(
        rotated.starts_with(&format!("tiq_{id}_")) && rotated != secret,
        "{text}"
    );

    let output = tiq(data.path(), &["key", "revoke", &id]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = tiq(data.path(), &["key", "list", "--json"]);
    let keys: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(keys[0]["state"], "revoked", "{keys}");

    // Bad input names the value and the fix, in the user's language.
    let output = tiq(data.path(), &["key", "create", "--name", "soc"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("\"soc\" already exists"),
        "{}",
        stderr(&output)
    );
    let output = tiq(
        data.path(),
        &["key", "create", "--name", "x", "--scopes", "ip,dns"],
    );
    assert!(stderr(&output).contains("\"dns\""), "{}", stderr(&output));
    let output = tiq(
        data.path(),
        &["key", "create", "--name", "x", "--rate", "5/h"],
    );
    assert!(stderr(&output).contains("60/min"), "{}", stderr(&output));
    let output = tiq(data.path(), &["--lang", "zh-CN", "key", "revoke", "nobody"]);
    assert!(
        stderr(&output).contains("tiq key list"),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("没有"), "{}", stderr(&output));
}

#[test]
fn lookups_are_audited_and_the_chain_verifies() {
    let data = imported();
    assert!(tiq(data.path(), &["ip", "198.51.100.10"]).status.success());
    assert_eq!(
        tiq(data.path(), &["ip", "not-an-ip"]).status.code(),
        Some(2)
    );
    assert!(
        tiq(data.path(), &["domain", "example.com", "--json"])
            .status
            .success()
    );

    let output = tiq(data.path(), &["audit", "--format", "jsonl"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let entries: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert_eq!(entries[0]["surface"], "cli");
    assert_eq!(entries[0]["tool"], "analyze_ip");
    assert_eq!(entries[0]["verdict"], "malicious");
    assert_eq!(entries[1]["status"], 400);
    assert_eq!(entries[2]["prev"], entries[1]["hash"]);

    let output = tiq(
        data.path(),
        &["audit", "--tool", "analyze_domain", "--format", "csv"],
    );
    let csv = stdout(&output);
    assert!(csv.starts_with("seq,time,request_id"), "{csv}");
    assert_eq!(csv.lines().count(), 2, "{csv}");
    let output = tiq(data.path(), &["audit", "--since", "1h"]);
    assert!(
        stdout(&output).contains("analyze_ip"),
        "{}",
        stdout(&output)
    );
    let output = tiq(data.path(), &["audit", "--since", "tomorrow"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("\"tomorrow\""),
        "{}",
        stderr(&output)
    );

    let output = tiq(data.path(), &["audit", "verify"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("3 entries"), "{}", stdout(&output));

    // Someone removes the middle entry, with the trigger out of the way.
    let conn = rusqlite::Connection::open(data.path().join("access.db")).unwrap();
    conn.execute_batch("DROP TRIGGER audit_append_only; DELETE FROM audit WHERE seq = 2;")
        .unwrap();
    drop(conn);
    let output = tiq(data.path(), &["audit", "verify"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("entries 2 to 2 are missing"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn serve_refuses_other_addresses_without_a_key() {
    let data = imported();
    let output = tiq(
        data.path(),
        &["serve", "--no-sync", "--listen", "0.0.0.0:0"],
    );
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("tiq key create") && message.contains("--allow-anonymous"),
        "{message}"
    );
}

/// Runs tiq on `data` with `input` on standard input and the extra environment `env`.
fn tiq_stdin(data: &Path, args: &[&str], input: &str, env: &[(&str, &str)]) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tiq"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("LANG", "C.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("tiq runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// An unlisted address guessing SSH passwords, an internal one, a listed one, a benign
/// domain and a defanged URL.
const SCAN_LOG: &str =
    "Dec  5 10:00:00 gw sshd[7]: Failed password for root from 192.0.2.200 port 40000 ssh2
Dec  5 10:00:01 gw sshd[7]: Failed password for root from 192.0.2.200 port 40001 ssh2
Dec  5 10:00:02 gw sshd[7]: Failed password for root from 192.0.2.200 port 40002 ssh2
Dec  5 10:00:03 gw sshd[7]: Failed password for root from 192.0.2.200 port 40003 ssh2
Dec  5 10:00:04 gw sshd[7]: Failed password for root from 192.0.2.200 port 40004 ssh2
198.51.100.10 - - [05/Dec/2026:10:02:00 +0000] \"GET /x HTTP/1.1\" 404 0 \"-\" \"curl/8\"
Beacon to hxxp://login.example[.]net/p from 10.1.2.3, see www.example.org
";

#[test]
fn scan_ranks_log_in_each_format() {
    let data = imported();
    let file = data.path().join("auth.log");
    std::fs::write(&file, SCAN_LOG).unwrap();
    let output = tiq(data.path(), &["scan", file.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let first_row = text.lines().nth(3).unwrap_or_default();
    assert!(first_row.starts_with("malicious"), "{text}");
    assert!(first_row.contains("198.51.100.10"), "{text}");
    assert!(
        text.contains("192.0.2.200: 5 failed logins within 10 minutes"),
        "{text}"
    );
    assert!(text.contains("Next steps:"), "{text}");

    let json = tiq_stdin(
        data.path(),
        &["scan", "-", "--format", "json"],
        SCAN_LOG,
        &[],
    );
    assert!(json.status.success(), "{}", stderr(&json));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["totals"]["malicious"], 1, "{report}");
    assert_eq!(report["indicators"][0]["block"], true);

    let chinese = tiq_stdin(
        data.path(),
        &["scan", "-"],
        SCAN_LOG,
        &[("LANG", "zh_CN.UTF-8")],
    );
    let text = stdout(&chinese);
    assert!(text.contains("恶意 1"), "{text}");
    assert!(text.contains("下一步"), "{text}");

    let csv = tiq(
        data.path(),
        &["scan", file.to_str().unwrap(), "--format", "csv"],
    );
    let text = stdout(&csv);
    assert!(text.starts_with("kind,value,verdict,"), "{text}");
    assert!(text.contains("\nipv4,192.0.2.200,suspicious,3,"), "{text}");

    // CLI scans are audited like lookups.
    let audit = tiq(data.path(), &["audit", "--format", "jsonl"]);
    assert!(
        stdout(&audit).contains("\"tool\":\"analyze_text\""),
        "{}",
        stdout(&audit)
    );
}

#[test]
fn scan_exports_only_blockable_indicators() {
    let data = imported();
    let file = data.path().join("auth.log");
    std::fs::write(&file, SCAN_LOG).unwrap();
    let rules = data.path().join("block.nft");
    let output = tiq(
        data.path(),
        &[
            "scan",
            file.to_str().unwrap(),
            "--export",
            "nftables",
            "-o",
            rules.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("1 malicious public"),
        "{}",
        stderr(&output)
    );
    let text = std::fs::read_to_string(&rules).unwrap();
    assert!(text.contains("elements = { 198.51.100.10 }"), "{text}");
    for never in ["10.1.2.3", "192.0.2.200", "www.example.org"] {
        assert!(!text.contains(never), "{never} in {text}");
    }

    for format in ["iptables", "ipset", "nginx", "csv"] {
        let output = tiq(
            data.path(),
            &["scan", file.to_str().unwrap(), "--export", format],
        );
        assert!(output.status.success(), "{format}: {}", stderr(&output));
        assert!(stdout(&output).contains("198.51.100.10"), "{format}");
        assert!(!stdout(&output).contains("10.1.2.3"), "{format}");
    }
}

#[test]
fn scan_and_extract_reject_bad_input() {
    let data = imported();
    let output = tiq(data.path(), &["scan", "-", "--export", "pf"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("\"pf\""), "{message}");
    assert!(message.contains("nftables, iptables"), "{message}");

    let missing = data.path().join("nope.log");
    let output = tiq(data.path(), &["scan", missing.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("nope.log"), "{}", stderr(&output));

    let output = tiq(data.path(), &["extract", data.path().to_str().unwrap()]);
    assert!(
        stderr(&output).contains("is a directory"),
        "{}",
        stderr(&output)
    );

    let output = tiq(
        data.path(),
        &["--lang", "zh-CN", "scan", "-", "--limit", "0"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--limit 0"), "{}", stderr(&output));

    let empty = tempfile::tempdir().unwrap();
    let output = tiq_stdin(empty.path(), &["scan", "-"], SCAN_LOG, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("tiq import"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn extract_prints_formats_without_data() {
    let empty = tempfile::tempdir().unwrap();
    let jsonl = tiq_stdin(
        empty.path(),
        &["extract", "-", "--format", "jsonl"],
        SCAN_LOG,
        &[],
    );
    assert!(jsonl.status.success(), "{}", stderr(&jsonl));
    let items: Vec<serde_json::Value> = stdout(&jsonl)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let values: Vec<&str> = items.iter().map(|i| i["value"].as_str().unwrap()).collect();
    assert_eq!(
        values,
        [
            "192.0.2.200",
            "198.51.100.10",
            "http://login.example.net/p",
            "login.example.net",
            "10.1.2.3",
            "www.example.org"
        ]
    );
    assert_eq!(items[0]["count"], 5);

    let table = tiq_stdin(empty.path(), &["extract", "-"], SCAN_LOG, &[]);
    assert!(
        stdout(&table).contains("6 distinct indicators in 7 lines"),
        "{}",
        stdout(&table)
    );

    let csv = tiq_stdin(
        empty.path(),
        &["extract", "-", "--format", "csv"],
        SCAN_LOG,
        &[],
    );
    assert!(
        stdout(&csv).starts_with("kind,value,count,first_line"),
        "{}",
        stdout(&csv)
    );
}

#[test]
fn extract_warns_when_the_cap_drops_indicators() {
    let empty = tempfile::tempdir().unwrap();
    // One name more than the 100,000 distinct indicators an extraction keeps.
    let text: String = (0..100_001)
        .map(|n| format!("d{n}.example.com\n"))
        .collect();
    let jsonl = tiq_stdin(
        empty.path(),
        &["extract", "-", "--format", "jsonl"],
        &text,
        &[],
    );
    assert!(jsonl.status.success(), "{}", stderr(&jsonl));
    assert_eq!(stdout(&jsonl).lines().count(), 100_000);
    assert!(
        stderr(&jsonl).contains("warning: 1 occurrences of further indicators were not kept"),
        "{}",
        stderr(&jsonl)
    );

    let table = tiq_stdin(empty.path(), &["extract", "-"], &text, &[]);
    assert!(
        stdout(&table).contains("were not kept"),
        "{}",
        stderr(&table)
    );
    assert!(!stderr(&table).contains("warning"), "{}", stderr(&table));
}
