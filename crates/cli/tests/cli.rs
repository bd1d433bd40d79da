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
    let output = tiq(data.path(), &["serve", "--listen", "localhost"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("127.0.0.1:8737"),
        "{}",
        stderr(&output)
    );
}
