//! Files that fail: incomplete Spamhaus DROP files, malformed headers and sink errors.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use tiq_feeds::{FeedError, Sink, SinkError, inspect, parse};
use tiq_model::{AllowEntry, AsnRange, Sighting};

use support::{RecordingSink, fixture};

/// Writes `content` to a file named `name` in a new temporary folder.
fn write_temp(name: &str, content: &str) -> (tempfile::TempDir, PathBuf) {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join(name);
    fs::write(&path, content).unwrap();
    (folder, path)
}

fn parse_path(path: &Path) -> Result<tiq_feeds::ParseStats, FeedError> {
    let feed = inspect(path).unwrap_or_else(|error| panic!("{error}"));
    parse(&feed, &mut RecordingSink::default())
}

fn drop_fixture() -> String {
    fs::read_to_string(fixture("spamhaus-drop-json/drop_v4.json")).unwrap()
}

#[test]
fn spamhaus_without_metadata_is_incomplete() {
    let content: String = drop_fixture()
        .lines()
        .filter(|line| !line.contains("metadata"))
        .map(|line| format!("{line}\n"))
        .collect();
    let (_folder, path) = write_temp("drop_v4.json", &content);
    let error = parse_path(&path).unwrap_err();
    assert!(matches!(error, FeedError::Incomplete { .. }), "{error}");
    assert!(
        error.to_string().contains("metadata line is missing"),
        "{error}"
    );
}

#[test]
fn spamhaus_with_wrong_count_is_incomplete() {
    let content = drop_fixture().replace("\"records\":4", "\"records\":5");
    let (_folder, path) = write_temp("drop_v4.json", &content);
    let error = parse_path(&path).unwrap_err();
    assert!(matches!(error, FeedError::Incomplete { .. }), "{error}");
    assert!(
        error.to_string().contains("announces 5 records, but 4"),
        "{error}"
    );
    assert!(error.to_string().contains("drop_v4.json"), "{error}");
}

#[test]
fn spamhaus_with_data_after_metadata_is_malformed() {
    let content =
        drop_fixture() + "{\"cidr\":\"192.0.2.128/25\",\"sblid\":\"SBL000009\",\"rir\":\"arin\"}\n";
    let (_folder, path) = write_temp("drop_v4.json", &content);
    let error = parse_path(&path).unwrap_err();
    assert!(
        matches!(error, FeedError::Malformed { line: Some(6), .. }),
        "{error}"
    );
}

#[test]
fn feodo_without_malware_column_is_malformed() {
    let content = "# abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)\n\
                   \"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\"\n\
                   \"2024-01-01 00:00:00\",\"192.0.2.1\",\"443\",\"online\",\"2024-01-01\"\n";
    let (_folder, path) = write_temp("feodo.csv", content);
    let error = parse_path(&path).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("feodo.csv:2"), "{text}");
    assert!(text.contains("\"malware\""), "{text}");
}

#[test]
fn warninglist_of_unknown_type_is_malformed() {
    let content = r#"{"name": "x", "type": "glob", "list": ["*.example.com"], "matching_attributes": ["domain"]}"#;
    let (_folder, path) = write_temp("list.json", content);
    let error = parse_path(&path).unwrap_err();
    assert!(
        error.to_string().contains("unknown list type \"glob\""),
        "{error}"
    );
}

/// A sink that fails on its second sighting.
#[derive(Default)]
struct FailingSink {
    sightings: usize,
}

impl Sink for FailingSink {
    fn sighting(&mut self, _: Sighting) -> Result<(), SinkError> {
        self.sightings += 1;
        if self.sightings == 2 {
            return Err("disk full".into());
        }
        Ok(())
    }

    fn allow(&mut self, _: AllowEntry) -> Result<(), SinkError> {
        Ok(())
    }

    fn asn_range(&mut self, _: AsnRange) -> Result<(), SinkError> {
        Ok(())
    }

    fn reject(&mut self, _: u64, _: String) {}
}

#[test]
fn sink_error_stops_the_parse_at_its_line() {
    let feed = inspect(&fixture("ipsum/ipsum.txt")).unwrap();
    let error = parse(&feed, &mut FailingSink::default()).unwrap_err();
    assert!(matches!(error, FeedError::Sink { line: 9, .. }), "{error}");
    let text = error.to_string();
    assert!(text.contains("ipsum.txt:9"), "{text}");
    assert!(text.contains("disk full"), "{text}");
}
