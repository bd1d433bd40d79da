//! Files that fail, and bad entries inside good files: incomplete Spamhaus DROP files and KEV
//! catalogs, malformed headers and documents, rejected rows of the abuse.ch exports and of the
//! kept vulnerability and knowledge files, and sink errors.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use tiq_feeds::{FeedError, ParseStats, Sink, SinkError, inspect, parse, validate};
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

/// Parses a file written from `content` and returns the stats and the rejections.
fn parse_content(name: &str, content: &str) -> (ParseStats, RecordingSink) {
    let (_folder, path) = write_temp(name, content);
    let feed = inspect(&path).unwrap_or_else(|error| panic!("{name}: {error}"));
    let mut sink = RecordingSink::default();
    let stats = parse(&feed, &mut sink).unwrap_or_else(|error| panic!("{name}: {error}"));
    (stats, sink)
}

/// Validates a kept file written from `content` and returns the stats and the rejections.
fn validate_content(
    name: &str,
    content: &str,
) -> Result<(ParseStats, Vec<(u64, String)>), FeedError> {
    let (_folder, path) = write_temp(name, content);
    let feed = inspect(&path).unwrap_or_else(|error| panic!("{name}: {error}"));
    assert!(feed.format.is_kept_file(), "{name}: {}", feed.format);
    let mut rejections = Vec::new();
    let stats = validate(&feed, &mut |line, reason| rejections.push((line, reason)))?;
    Ok((stats, rejections))
}

fn rejected_lines(rejections: &[(u64, String)]) -> Vec<u64> {
    rejections.iter().map(|(line, _)| *line).collect()
}

/// Asserts that the rejection of `line` mentions `part`.
fn assert_reason(rejections: &[(u64, String)], line: u64, part: &str) {
    let (_, reason) = rejections
        .iter()
        .find(|(number, _)| *number == line)
        .unwrap_or_else(|| panic!("line {line} was not rejected: {rejections:?}"));
    assert!(reason.contains(part), "line {line}: {reason}");
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

const THREATFOX_COLUMNS: &str = "# \"first_seen_utc\",\"ioc_id\",\"ioc_value\",\"ioc_type\",\
     \"threat_type\",\"fk_malware\",\"malware_alias\",\"malware_printable\",\"last_seen_utc\",\
     \"confidence_level\",\"reference\",\"tags\",\"anonymous\",\"reporter\"";

#[test]
fn threatfox_csv_rejects_bad_rows_by_line() {
    let rows = [
        // 2: valid
        r#""2024-05-01 10:00:00", "1", "192.0.2.7:8080", "ip:port", "botnet_cc", "win.x", "", "X", "", "100", "", "", "0", "r""#,
        // 3: a confidence that is not a number
        r#""2024-05-01 10:00:00", "2", "192.0.2.8:8080", "ip:port", "botnet_cc", "win.x", "", "X", "", "high", "", "", "0", "r""#,
        // 4: invalid address
        r#""2024-05-01 10:00:00", "3", "192.0.2.300:80", "ip:port", "botnet_cc", "win.x", "", "X", "", "50", "", "", "0", "r""#,
        // 5: an IOC type tiq does not look up
        r#""2024-05-01 10:00:00", "4", "a@example.com", "envelope_from", "payload", "win.x", "", "X", "", "50", "", "", "0", "r""#,
        // 6: unclosed quote
        r#""2024-05-01 10:00:00", "5", "192.0.2.9:80"#,
        // 7: too few fields
        r#""2024-05-01 10:00:00", "6""#,
    ];
    let content = format!("{THREATFOX_COLUMNS}\n{}\n", rows.join("\n"));
    let (stats, sink) = parse_content("recent.csv", &content);
    assert_eq!(stats.records, 1);
    assert_eq!(stats.skipped, 1);
    assert_eq!(sink.rejected_lines(), [3, 4, 6, 7]);
    assert_reason(&sink.rejections, 3, "confidence_level");
    assert_reason(&sink.rejections, 4, "192.0.2.300");
    assert_reason(&sink.rejections, 6, "not closed");
    assert_reason(&sink.rejections, 7, "expected 14 fields");
}

#[test]
fn threatfox_csv_missing_columns_is_malformed() {
    let content = "# \"first_seen_utc\",\"ioc_id\",\"ioc_value\",\"ioc_type\"\n\
                   \"2024-05-01 10:00:00\", \"1\", \"192.0.2.7:8080\", \"ip:port\"\n";
    let (_folder, path) = write_temp("recent.csv", content);
    let error = parse_path(&path).unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(error, FeedError::Malformed { line: Some(1), .. }),
        "{text}"
    );
    assert!(text.contains("no \"threat_type\" column"), "{text}");
}

#[test]
fn threatfox_json_rejects_entries_by_id() {
    let content = r#"{
    "11": [{"ioc_value": "192.0.2.7:8080", "ioc_type": "ip:port", "threat_type": "botnet_cc", "confidence_level": 75}],
    "12": "not an array",
    "13": [{"ioc_value": "not a host!", "ioc_type": "domain", "threat_type": "botnet_cc", "confidence_level": 75}]
}
"#;
    let (stats, sink) = parse_content("recent.json", content);
    assert_eq!(stats.records, 1);
    assert_eq!(sink.rejected_lines(), [3, 4]);
    assert_reason(&sink.rejections, 3, "not an array of IOC objects");
    assert_reason(&sink.rejections, 4, "IOC 13");
}

#[test]
fn malwarebazaar_rejects_hash_of_wrong_algorithm() {
    let columns = "# \"first_seen_utc\",\"sha256_hash\",\"md5_hash\",\"sha1_hash\",\"reporter\",\
                   \"file_name\",\"file_type_guess\",\"mime_type\",\"signature\",\"clamav\",\
                   \"vtpercent\",\"imphash\",\"ssdeep\",\"tlsh\"";
    let sha256 = "1f3a5c7e9b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a";
    let sha1 = "00112233445566778899aabbccddeeff00112233";
    let row = |md5: &str| {
        format!(
            r#""2024-05-01 10:00:00", "{sha256}", "{md5}", "{sha1}", "r", "a.exe", "exe", "x", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a""#
        )
    };
    let content = format!("{columns}\n{}\n{}\n", row("n/a"), row(sha1));
    let (stats, sink) = parse_content("recent.csv", &content);
    // The first row has no MD5, so it gives the SHA-256 and the SHA-1.
    assert_eq!(stats.records, 2);
    assert_eq!(sink.rejected_lines(), [3]);
    assert_reason(&sink.rejections, 3, "md5_hash");
}

#[test]
fn sslbl_rejects_bad_port_and_address() {
    let content = "# Firstseen,DstIP,DstPort\n\
                   2024-05-01 10:00:00,192.0.2.10,443\n\
                   2024-05-01 10:00:00,192.0.2.11,0\n\
                   2024-05-01 10:00:00,192.0.2.999,443\n\
                   01/05/2024,192.0.2.12,443\n";
    let (stats, sink) = parse_content("sslipblacklist.csv", content);
    assert_eq!(stats.records, 1);
    assert_eq!(sink.rejected_lines(), [3, 4, 5]);
    assert_reason(&sink.rejections, 3, "DstPort");
    assert_reason(&sink.rejections, 5, "Firstseen");
}

#[test]
fn kev_json_with_wrong_count_is_incomplete() {
    let content = fs::read_to_string(fixture(
        "cisa-kev-json/known_exploited_vulnerabilities.json",
    ))
    .unwrap()
    .replace("\"count\": 2", "\"count\": 3");
    let error = validate_content("kev.json", &content).unwrap_err();
    assert!(matches!(error, FeedError::Incomplete { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains("announces 3 vulnerabilities, but 2"),
        "{error}"
    );
}

#[test]
fn kev_json_rejects_entry_by_line() {
    let content = r#"{"catalogVersion": "1", "count": 2, "vulnerabilities": [
  {"cveID": "CVE-2024-0001", "dateAdded": "2024-01-01"},
  {"cveID": "CVE-24-1", "dateAdded": "2024-01-01"}
]}
"#;
    let (stats, rejections) = validate_content("kev.json", content).unwrap();
    assert_eq!(stats.records, 1);
    assert_eq!(rejected_lines(&rejections), [3]);
    assert_reason(&rejections, 3, "vulnerability 2");
}

#[test]
fn kev_json_of_wrong_shape_is_malformed() {
    let content = r#"{"catalogVersion": "1", "vulnerabilities": {"cveID": "CVE-2024-0001"}}"#;
    let error = validate_content("kev.json", content).unwrap_err();
    assert!(matches!(error, FeedError::Malformed { .. }), "{error}");
}

#[test]
fn kev_csv_rejects_rows_by_line() {
    let content = "cveID,vendorProject,product,vulnerabilityName,dateAdded,shortDescription\n\
                   CVE-2024-0001,Example,Server,Flaw,2024-01-01,\"A flaw, with a comma.\"\n\
                   CVE-2024-0002,Example,Server,Flaw,2024-01-01,A flaw, with a comma.\n\
                   CVE-2024-0003,Example,Server,Flaw,yesterday,A flaw.\n\
                   CVE-XXXX-0004,Example,Server,Flaw,2024-01-01,A flaw.\n";
    let (stats, rejections) = validate_content("kev.csv", content).unwrap();
    assert_eq!(stats.records, 1);
    assert_eq!(rejected_lines(&rejections), [3, 4, 5]);
    assert_reason(&rejections, 3, "expected 6 fields, found 7");
    assert_reason(&rejections, 4, "dateAdded");
    assert_reason(&rejections, 5, "CVE-XXXX-0004");
}

#[test]
fn cve_json_lines_reject_bad_lines() {
    let record = |id: &str| {
        format!(
            r#"{{"dataType":"CVE_RECORD","cveMetadata":{{"cveId":"{id}","state":"PUBLISHED"}}}}"#
        )
    };
    let content = [
        record("CVE-2024-1000"),
        r#"{"dataType":"CVE_RECORD","cveMetadata":{"cveId":"CVE-2024-1001""#.to_string(),
        r#"{"dataType":"OTHER","cveMetadata":{"cveId":"CVE-2024-1002","state":"PUBLISHED"}}"#
            .to_string(),
        record("not-a-cve"),
        r#"{"dataType":"CVE_RECORD"}"#.to_string(),
        record("CVE-2024-1005"),
    ]
    .join("\n");
    let (stats, rejections) = validate_content("records.jsonl", &content).unwrap();
    assert_eq!(stats.records, 2);
    assert_eq!(rejected_lines(&rejections), [2, 3, 4, 5]);
    assert_reason(&rejections, 2, "invalid CVE JSON 5 record");
    assert_reason(&rejections, 3, "dataType");
    assert_reason(&rejections, 4, "not-a-cve");
    assert_reason(&rejections, 5, "cveMetadata");
}

#[test]
fn cve_record_file_checks_shape_and_syntax() {
    let content = "{\n  \"dataType\": \"CVE_RECORD\",\n  \"cveMetadata\": {\"cveId\": \"CVE-2024-0001\"}\n}\n";
    let (_folder, path) = write_temp("CVE-2024-0001.json", content);
    let feed = inspect(&path).unwrap();
    // The state is missing, so the only record is rejected at the line where it starts.
    let mut rejections = Vec::new();
    let stats = validate(&feed, &mut |line, reason| rejections.push((line, reason))).unwrap();
    assert_eq!(stats.records, 0);
    assert_eq!(rejected_lines(&rejections), [1]);

    fs::write(&path, content.replace("}\n}", "} oops }")).unwrap();
    let error = validate(&feed, &mut |_, _| {}).unwrap_err();
    assert!(
        matches!(error, FeedError::Malformed { line: Some(3), .. }),
        "{error}"
    );
}

#[test]
fn epss_rejects_scores_out_of_range() {
    let content = "#model_version:v2023.03.01,score_date:2024-05-01T00:00:00+0000\n\
                   cve,epss,percentile\n\
                   CVE-2024-0001,0.5,0.9\n\
                   CVE-2024-0002,1.5,0.9\n\
                   CVE-2024-0003,0.5\n\
                   CVE-2024-0004,0.5,none\n";
    let (stats, rejections) = validate_content("epss.csv", content).unwrap();
    assert_eq!(stats.records, 1);
    assert_eq!(rejected_lines(&rejections), [4, 5, 6]);
    assert_reason(&rejections, 4, "invalid epss \"1.5\"");
    assert_reason(&rejections, 5, "expected 3 fields");
    assert_reason(&rejections, 6, "percentile");
}

#[test]
fn exploitdb_csv_rejects_bad_rows() {
    let header = "id,file,description,date_published,author,type,platform,port,date_added,\
                  date_updated,verified,codes,tags,aliases,screenshot_url,application_url,source_url";
    let content = format!(
        "{header}\n\
         1,exploits/a.py,\"A, B\",2024-01-01,x,remote,linux,80,2024-01-01,2024-01-01,1,CVE-2024-0001;OSVDB-1,,,,,\n\
         x2,exploits/b.py,B,2024-01-01,x,remote,linux,80,2024-01-01,2024-01-01,1,,,,,,\n\
         3,exploits/c.py,C,2024-01-01,x,remote,linux,80,2024-01-01,2024-01-01,1,CVE-24-1,,,,,\n\
         4,exploits/d.py,D,01/01/2024,x,remote,linux,80,2024-01-01,2024-01-01,1,,,,,,\n"
    );
    let (stats, rejections) = validate_content("files_exploits.csv", &content).unwrap();
    assert_eq!(stats.records, 1);
    assert_eq!(rejected_lines(&rejections), [3, 4, 5]);
    assert_reason(&rejections, 3, "numeric Exploit-DB id");
    assert_reason(&rejections, 4, "CVE-24-1");
    assert_reason(&rejections, 5, "date_published");
}

#[test]
fn exploitdb_map_rejects_entries_by_line() {
    let content = "{\n  \"CVE-2024-0001\": [\"1\"],\n  \"CVE-2024-0002\": [\"two\"],\n  \"CVE-2024-0003\": \"3\"\n}\n";
    let (stats, rejections) = validate_content("map.json", content).unwrap();
    assert_eq!(stats.records, 1);
    assert_eq!(rejected_lines(&rejections), [3, 4]);
    assert_reason(&rejections, 3, "\"two\"");
    assert_reason(&rejections, 4, "list of numeric Exploit-DB ids");
}

#[test]
fn stix_rejects_objects_with_bad_ids() {
    let content = r#"{"type": "bundle", "id": "bundle--1", "objects": [
  {"type": "malware", "id": "malware--00000000-0000-4000-8000-000000000001"},
  {"type": "malware", "id": "tool--00000000-0000-4000-8000-000000000002"},
  {"id": "identity--00000000-0000-4000-8000-000000000003"},
  "not an object"
]}
"#;
    let (stats, rejections) = validate_content("bundle.json", content).unwrap();
    assert_eq!(stats.records, 1);
    assert_eq!(rejected_lines(&rejections), [3, 4, 5]);
    assert_reason(&rejections, 3, "expected \"malware--<identifier>\"");
    assert_reason(&rejections, 4, "missing \"type\"");
    assert_reason(&rejections, 5, "not a JSON object");
}

#[test]
fn stix_bundle_without_objects_is_malformed() {
    // The head mentions "objects", so the file is recognised as a bundle and then checked.
    let content = r#"{"type": "bundle", "id": "bundle--1", "notes": ["objects"]}"#;
    let error = validate_content("bundle.json", content).unwrap_err();
    assert!(matches!(error, FeedError::Malformed { .. }), "{error}");
    assert!(
        error.to_string().contains("no \"objects\" array"),
        "{error}"
    );
}

#[test]
fn galaxy_cluster_rejects_values_without_uuid() {
    let content = r#"{
  "authors": ["a"], "category": "tool", "name": "Tool", "type": "tool",
  "uuid": "00000000-0000-4000-8000-000000000005",
  "values": [
    {"value": "Good", "uuid": "00000000-0000-4000-8000-000000000006"},
    {"value": "No UUID"},
    {"uuid": "00000000-0000-4000-8000-000000000008"}
  ]
}
"#;
    let (stats, rejections) = validate_content("tool.json", content).unwrap();
    assert_eq!(stats.records, 1);
    assert_eq!(rejected_lines(&rejections), [6, 7]);
    assert_reason(&rejections, 6, "cluster value 2: invalid uuid");
    assert_reason(&rejections, 7, "cluster value 3: invalid value");
}

#[test]
fn galaxy_definition_without_namespace_is_malformed() {
    let content = r#"{"name": "Tool", "namespace": "", "type": "tool", "uuid": "00000000-0000-4000-8000-000000000008"}"#;
    let error = validate_content("tool.json", content).unwrap_err();
    assert!(error.to_string().contains("empty \"namespace\""), "{error}");
}

#[test]
fn maltrail_aliases_reject_short_rows() {
    let content =
        "info\tcategory\taliases\nfamily\tmalware\tone, two\nbroken\tmalware\n\tmalware\tx\n";
    let (stats, rejections) = validate_content("aliases.tsv", content).unwrap();
    assert_eq!(stats.records, 1);
    assert_eq!(rejected_lines(&rejections), [3, 4]);
    assert_reason(&rejections, 3, "expected 3 fields, found 2");
    assert_reason(&rejections, 4, "family name");
}

#[test]
fn cve_list_rejects_other_lines() {
    let content = "CVE-2024-0001\nCVE-2024-0002\nCVE-2024-0003\nnot a cve\n";
    // Detection needs every entry of the head to be a CVE id, so the stray line is added after
    // detection to reach the check in validate.
    let (_folder, path) = write_temp("ids.txt", "CVE-2024-0001\n");
    let feed = inspect(&path).unwrap();
    fs::write(&path, content).unwrap();
    let mut rejections = Vec::new();
    let stats = validate(&feed, &mut |line, reason| rejections.push((line, reason))).unwrap();
    assert_eq!(stats.records, 3);
    assert_eq!(rejected_lines(&rejections), [4]);
}

#[test]
fn gzip_cut_kept_file_is_incomplete() {
    let mut content = fs::read(fixture("cve-json5/cve-records.jsonl")).unwrap();
    content.extend(std::iter::repeat_n(b'\n', 100 * 1024));
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut encoder, &content).unwrap();
    let compressed = encoder.finish().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("records.jsonl.gz");
    fs::write(&path, &compressed[..compressed.len() - 8]).unwrap();

    let feed = inspect(&path).unwrap();
    let error = validate(&feed, &mut |_, _| {}).unwrap_err();
    assert!(matches!(error, FeedError::Incomplete { .. }), "{error}");
    assert!(error.to_string().contains("ends early"), "{error}");
}
