//! The shared harness every format passes.
//!
//! [`CASES`] lists one small fixture per [`Format`] in which every entry is valid (two for the
//! CVE JSON 5 layouts), and each test below runs one check on every case: the fixture as it is,
//! with CRLF line endings, gzip-compressed, cut in half, cut-short gzip, with a record written
//! twice, with a 10 MB line, and replaced by an empty file, random bytes or an HTML error page.
//! Streamed formats are read with `parse` and kept files with `validate`. Variants are written
//! to a temporary folder at the fixture's relative path, because some sources are named after
//! folders. The field values each parser produces are checked in `formats.rs`.

mod support;

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use flate2::Compression;
use flate2::write::GzEncoder;
use tiq_feeds::{
    FeedError, FeedFile, Format, ParseStats, UnsupportedReason, inspect, parse, validate,
};

use support::{RecordingSink, fixture};

/// How a format lays out its entries, which decides the checks that apply.
#[derive(Clone, Copy, PartialEq)]
enum Layout {
    /// One entry per line (CSV, TSV, plain lists, JSON Lines).
    Lines,
    /// One JSON document read whole, or streamed without line boundaries.
    Document,
    /// A binary file.
    Binary,
}

/// A data line of a fixture and the records it gives.
struct Entry {
    /// 1-based line number.
    line: usize,
    records: u64,
}

/// One fixture and what reading it must give.
struct Case {
    format: Format,
    fixture: &'static str,
    source: &'static str,
    records: u64,
    layout: Layout,
    /// A data line to copy, or `None` where a copied line is not one more record.
    duplicate: Option<Entry>,
    /// Whether the first half of the file must fail. Line formats may instead load the lines
    /// before the cut.
    cut_fails: bool,
}

const fn lines(
    format: Format,
    fixture: &'static str,
    source: &'static str,
    records: u64,
    duplicate: Entry,
) -> Case {
    Case {
        format,
        fixture,
        source,
        records,
        layout: Layout::Lines,
        duplicate: Some(duplicate),
        cut_fails: false,
    }
}

const fn document(
    format: Format,
    fixture: &'static str,
    source: &'static str,
    records: u64,
) -> Case {
    Case {
        format,
        fixture,
        source,
        records,
        layout: Layout::Document,
        duplicate: None,
        cut_fails: true,
    }
}

const fn entry(line: usize, records: u64) -> Entry {
    Entry { line, records }
}

const CASES: &[Case] = &[
    lines(Format::Ipsum, "ipsum/valid.txt", "ipsum", 3, entry(6, 1)),
    lines(
        Format::IpList,
        "ip-list/levels/5.txt",
        "ipsum-level-5",
        3,
        entry(1, 1),
    ),
    // The closing metadata line counts the entries, so a copied entry or a cut makes the
    // file incomplete.
    Case {
        duplicate: None,
        cut_fails: true,
        ..lines(
            Format::SpamhausDrop,
            "spamhaus-drop-json/drop_v6.json",
            "spamhaus-drop-v6",
            2,
            entry(1, 1),
        )
    },
    lines(
        Format::FeodoCsv,
        "feodo-csv/valid.csv",
        "feodo-tracker",
        3,
        entry(5, 1),
    ),
    lines(
        Format::SslblCsv,
        "sslbl-csv/sslipblacklist.csv",
        "sslbl",
        3,
        entry(9, 1),
    ),
    lines(
        Format::Maltrail,
        "maltrail/malicious/example_c2.txt",
        "maltrail/example_c2",
        3,
        entry(6, 1),
    ),
    lines(
        Format::UrlhausCsv,
        "urlhaus-csv/valid.csv",
        "urlhaus",
        3,
        entry(2, 1),
    ),
    lines(
        Format::UrlhausDomains,
        "urlhaus-domains/valid.txt",
        "urlhaus-domains",
        3,
        entry(5, 1),
    ),
    lines(
        Format::UrlhausAdblock,
        "urlhaus-adblock/valid.txt",
        "urlhaus-online",
        4,
        entry(5, 1),
    ),
    lines(
        Format::PhishtankCsv,
        "phishtank-csv/valid.csv",
        "phishtank",
        2,
        entry(2, 1),
    ),
    lines(
        Format::UrlList,
        "url-list/openphish/feed.txt",
        "openphish",
        3,
        entry(1, 1),
    ),
    lines(
        Format::HashList,
        "hash-list/malware-ioc/examplefamily/variant/samples.md5",
        "eset/examplefamily",
        2,
        entry(1, 1),
    ),
    lines(
        Format::EsetTsv,
        "eset-tsv/valid.tsv",
        "eset",
        3,
        entry(2, 1),
    ),
    lines(
        Format::ThreatfoxMd5,
        "threatfox-md5/valid.tsv",
        "threatfox-md5",
        2,
        entry(2, 1),
    ),
    lines(
        Format::ThreatfoxCsv,
        "threatfox-csv/recent.csv",
        "threatfox",
        6,
        entry(9, 1),
    ),
    document(
        Format::ThreatfoxJson,
        "threatfox-json/recent.json",
        "threatfox",
        3,
    ),
    // Each row gives the sample's SHA-256, MD5 and SHA-1.
    lines(
        Format::MalwareBazaarCsv,
        "malwarebazaar-csv/recent.csv",
        "malwarebazaar",
        6,
        entry(9, 3),
    ),
    document(
        Format::MispWarninglist,
        "misp-warninglist/example-cidr/list.json",
        "misp-warninglist/example-cidr",
        3,
    ),
    document(
        Format::MispEvent,
        "misp-event/plain-event.json",
        "misp-event/00000000-0000-4000-8000-000000000002",
        3,
    ),
    // A MaxMind DB is checked through its metadata; its records are not counted.
    Case {
        layout: Layout::Binary,
        ..document(Format::MaxMindDb, "maxmind-db/tiny.mmdb", "geo/tiny", 0)
    },
    lines(
        Format::AsnCsv,
        "asn-csv/asn-ipv6.csv",
        "asn-ipv6",
        1,
        entry(1, 1),
    ),
    document(
        Format::CisaKevJson,
        "cisa-kev-json/known_exploited_vulnerabilities.json",
        "cisa-kev",
        2,
    ),
    lines(
        Format::CisaKevCsv,
        "cisa-kev-csv/known_exploited_vulnerabilities.csv",
        "cisa-kev",
        2,
        entry(2, 1),
    ),
    document(
        Format::CveJson5,
        "cve-json5/records/2024/0xxx/CVE-2024-0001.json",
        "cve-json5/records",
        1,
    ),
    lines(
        Format::CveJson5,
        "cve-json5/cve-records.jsonl",
        "cve-json5/cve-records",
        3,
        entry(1, 1),
    ),
    lines(
        Format::CveList,
        "cve-list/cve-ids.txt",
        "cve-list/cve-ids",
        3,
        entry(1, 1),
    ),
    lines(
        Format::VulnerabilityAliases,
        "vulnerability-aliases/cnvd-cve.csv",
        "vulnerability-aliases/cnvd-cve",
        2,
        entry(2, 1),
    ),
    lines(
        Format::EpssCsv,
        "epss-csv/epss_scores-current.csv",
        "epss",
        3,
        entry(3, 1),
    ),
    lines(
        Format::ExploitDbCsv,
        "exploitdb-csv/files_exploits.csv",
        "exploitdb",
        3,
        entry(2, 1),
    ),
    document(
        Format::ExploitDbCveMap,
        "exploitdb-cve-map/exploitdb_mapping_cve.json",
        "exploitdb-cve-map",
        2,
    ),
    document(
        Format::StixBundle,
        "stix-bundle/enterprise-attack.json",
        "mitre-attack/enterprise",
        4,
    ),
    document(
        Format::MispGalaxyCluster,
        "misp-galaxy-cluster/clusters/tool.json",
        "misp-galaxy/tool",
        2,
    ),
    document(
        Format::MispGalaxyDefinition,
        "misp-galaxy-definition/galaxies/tool.json",
        "misp-galaxy-definition/tool",
        1,
    ),
    lines(
        Format::MaltrailAliases,
        "maltrail-aliases/aliases.tsv",
        "maltrail/aliases",
        2,
        entry(2, 1),
    ),
];

/// Statistics and rejections of reading a file through.
struct Outcome {
    stats: ParseStats,
    rejections: Vec<(u64, String)>,
}

/// Parses a streamed file or validates a kept one.
fn read_through(file: &FeedFile) -> Result<Outcome, FeedError> {
    if file.format.is_kept_file() {
        let mut rejections = Vec::new();
        let stats = validate(file, &mut |line, reason| rejections.push((line, reason)))?;
        return Ok(Outcome { stats, rejections });
    }
    let mut sink = RecordingSink::default();
    let stats = parse(file, &mut sink)?;
    Ok(Outcome {
        stats,
        rejections: sink.rejections,
    })
}

/// Writes `content` at the fixture's relative path in a new temporary folder.
fn write_variant(case: &Case, content: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join(case.fixture);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, content).unwrap();
    (folder, path)
}

fn fixture_bytes(case: &Case) -> Vec<u8> {
    fs::read(fixture(case.fixture)).unwrap()
}

fn text_cases() -> impl Iterator<Item = &'static Case> {
    CASES.iter().filter(|case| case.layout != Layout::Binary)
}

fn gzip(content: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(content).unwrap();
    encoder.finish().unwrap()
}

/// Inserts `line` after the 1-based line `after` of `content`.
fn insert_line(content: &[u8], after: usize, line: &[u8]) -> Vec<u8> {
    let mut result = Vec::with_capacity(content.len() + line.len() + 1);
    let mut lines = content.split_inclusive(|&byte| byte == b'\n');
    for _ in 0..after {
        result.extend_from_slice(lines.next().expect("the fixture has that line"));
    }
    result.extend_from_slice(line);
    result.push(b'\n');
    for rest in lines {
        result.extend_from_slice(rest);
    }
    result
}

/// Reads the fixture's line `number` without its line ending.
fn fixture_line(case: &Case, number: usize) -> Vec<u8> {
    let content = fixture_bytes(case);
    let line = content
        .split(|&byte| byte == b'\n')
        .nth(number - 1)
        .expect("the fixture has that line");
    line.strip_suffix(b"\r").unwrap_or(line).to_vec()
}

/// Asserts that a variant reads like the fixture: same format and source, same record count,
/// no rejections.
fn assert_reads_like_fixture(case: &Case, variant: &str, path: &std::path::Path) {
    let name = format!("{} {variant}", case.fixture);
    let file = inspect(path).unwrap_or_else(|error| panic!("{name}: {error}"));
    assert_eq!(file.format, case.format, "{name}: format");
    assert_eq!(file.source.name, case.source, "{name}: source");
    let outcome = read_through(&file).unwrap_or_else(|error| panic!("{name}: {error}"));
    assert_eq!(outcome.stats.records, case.records, "{name}: records");
    assert_eq!(outcome.rejections, [], "{name}: rejections");
}

#[test]
fn cases_cover_every_format() {
    for format in Format::ALL {
        let cases = CASES.iter().filter(|case| case.format == format).count();
        assert!(cases >= 1, "no harness case for {format}");
    }
}

#[test]
fn fixture_reads_without_rejections() {
    for case in CASES {
        let path = fixture(case.fixture);
        let name = case.fixture;
        let file = inspect(&path).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(file.format, case.format, "{name}: format");
        assert_eq!(file.source.name, case.source, "{name}: source");
        assert!(!file.source.provider.is_empty(), "{name}: provider");
        assert!(!file.source.title.is_empty(), "{name}: title");

        let outcome = read_through(&file).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(outcome.stats.records, case.records, "{name}: records");
        assert_eq!(outcome.stats.rejected, 0, "{name}: rejected count");
        assert_eq!(outcome.rejections, [], "{name}: rejections");
    }
}

#[test]
fn kept_files_are_validated_not_parsed() {
    for case in CASES.iter().filter(|case| case.format.is_kept_file()) {
        let file = inspect(&fixture(case.fixture)).unwrap();
        let error = parse(&file, &mut RecordingSink::default()).unwrap_err();
        assert!(
            matches!(error, FeedError::NotStreamable { .. }),
            "{}: {error}",
            case.fixture
        );
        assert!(error.to_string().contains("validate"), "{error}");
    }
}

#[test]
fn validate_counts_streamed_records_like_parse() {
    for case in CASES.iter().filter(|case| !case.format.is_kept_file()) {
        let file = inspect(&fixture(case.fixture)).unwrap();
        let mut rejections = 0;
        let stats = validate(&file, &mut |_, _| rejections += 1).unwrap();
        assert_eq!(stats.records, case.records, "{}", case.fixture);
        assert_eq!(rejections, 0, "{}", case.fixture);
    }
}

#[test]
fn detection_ignores_file_name() {
    for case in CASES {
        let folder = tempfile::tempdir().unwrap();
        let neutral = folder.path().join("data.txt");
        fs::copy(fixture(case.fixture), &neutral).unwrap();
        let file = inspect(&neutral).unwrap_or_else(|error| panic!("{}: {error}", case.fixture));
        assert_eq!(file.format, case.format, "{} as data.txt", case.fixture);
        let outcome = read_through(&file).unwrap();
        assert_eq!(
            outcome.stats.records, case.records,
            "{} as data.txt",
            case.fixture
        );
    }
}

#[test]
fn crlf_line_endings_read_the_same() {
    for case in text_cases() {
        let content = String::from_utf8(fixture_bytes(case)).unwrap();
        let crlf = content.replace("\r\n", "\n").replace('\n', "\r\n");
        let (_folder, path) = write_variant(case, crlf.as_bytes());
        assert_reads_like_fixture(case, "with CRLF", &path);
    }
}

#[test]
fn gzip_copy_reads_the_same() {
    for case in text_cases() {
        let (_folder, path) = write_variant(case, &gzip(&fixture_bytes(case)));
        assert_reads_like_fixture(case, "gzip-compressed", &path);
    }
}

#[test]
fn file_cut_in_half_fails_cleanly() {
    for case in CASES {
        let content = fixture_bytes(case);
        let (_folder, path) = write_variant(case, &content[..content.len() / 2]);
        let name = format!("{} cut in half", case.fixture);
        let file = match inspect(&path) {
            Ok(file) => file,
            Err(unsupported) => {
                assert!(!unsupported.reason.to_string().is_empty(), "{name}");
                continue;
            }
        };
        match read_through(&file) {
            Err(error) => {
                let text = error.to_string();
                assert!(text.contains(&path.display().to_string()), "{name}: {text}");
            }
            Ok(outcome) => {
                assert!(!case.cut_fails, "{name}: read without an error");
                assert!(outcome.stats.records <= case.records, "{name}: records");
                for (line, reason) in &outcome.rejections {
                    let valid_line = (1..=outcome.stats.lines).contains(line);
                    assert!(valid_line, "{name}: rejected line {line}: {reason}");
                }
            }
        }
    }
}

#[test]
fn gzip_cut_midway_is_truncated() {
    for case in CASES {
        let compressed = gzip(&fixture_bytes(case));
        let (_folder, path) = write_variant(case, &compressed[..compressed.len() / 2]);
        let name = format!("{} as cut gzip", case.fixture);
        // The fixtures are smaller than the 64 KiB head, so detection reads to the cut.
        match inspect(&path) {
            Err(unsupported) => {
                let truncated = matches!(unsupported.reason, UnsupportedReason::Truncated(_));
                assert!(truncated, "{name}: {unsupported}");
                assert!(unsupported.to_string().contains("fetch it again"), "{name}");
            }
            Ok(file) => panic!("{name}: detected as {}", file.format),
        }
    }
}

#[test]
fn gzip_cut_after_head_is_incomplete() {
    for case in text_cases() {
        // Blank lines after the data push the cut past the 64 KiB that detection reads, and
        // every text format skips them.
        let mut content = fixture_bytes(case);
        content.extend(std::iter::repeat_n(b'\n', 100 * 1024));
        let compressed = gzip(&content);
        let trailer = 8;
        let (_folder, path) = write_variant(case, &compressed[..compressed.len() - trailer]);
        let name = format!("{} as gzip without its trailer", case.fixture);

        // Formats that take the source from the whole document (MISP events) meet the cut
        // during detection already.
        let file = match inspect(&path) {
            Ok(file) => file,
            Err(unsupported) => {
                let truncated = matches!(unsupported.reason, UnsupportedReason::Truncated(_));
                assert!(truncated, "{name}: {unsupported}");
                continue;
            }
        };
        assert_eq!(file.format, case.format, "{name}");
        let error = read_through(&file)
            .err()
            .unwrap_or_else(|| panic!("{name}: read without an error"));
        assert!(
            matches!(error, FeedError::Incomplete { .. }),
            "{name}: {error}"
        );
        assert!(
            error.to_string().contains("fetch the file again"),
            "{error}"
        );
    }
}

#[test]
fn duplicated_record_counts_twice() {
    // Parsers hand every line to the sink, and the store keeps one copy of a record that a
    // source lists twice. So the duplicate is counted here and removed there.
    for case in CASES {
        let Some(duplicate) = &case.duplicate else {
            continue;
        };
        let line = fixture_line(case, duplicate.line);
        let content = insert_line(&fixture_bytes(case), duplicate.line, &line);
        let (_folder, path) = write_variant(case, &content);
        let name = format!("{} with line {} twice", case.fixture, duplicate.line);

        let file = inspect(&path).unwrap();
        let outcome = read_through(&file).unwrap_or_else(|error| panic!("{name}: {error}"));
        let expected = case.records + duplicate.records;
        assert_eq!(outcome.stats.records, expected, "{name}: records");
        assert_eq!(outcome.rejections, [], "{name}: rejections");
    }
}

#[test]
fn empty_file_is_unsupported() {
    for case in CASES {
        let (_folder, path) = write_variant(case, b"");
        let error = inspect(&path).unwrap_err();
        assert!(
            matches!(error.reason, UnsupportedReason::Empty),
            "{}: {error}",
            case.fixture
        );
    }
}

#[test]
fn random_bytes_are_unsupported() {
    // A fixed xorshift sequence, so a failure can be reproduced.
    let mut state: u32 = 0x9e37_79b9;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 24) as u8
        })
        .collect();
    for case in CASES {
        let (_folder, path) = write_variant(case, &bytes);
        let error = inspect(&path).unwrap_err();
        assert!(
            matches!(error.reason, UnsupportedReason::Binary),
            "{}: {error}",
            case.fixture
        );
        assert!(error.to_string().contains("binary data"), "{error}");
    }
}

#[test]
fn html_error_page_is_unsupported() {
    let page = "<!DOCTYPE html>\n<html>\n<head><title>503 Service Unavailable</title></head>\n\
                <body><h1>Service Unavailable</h1><p>Try again later.</p></body>\n</html>\n";
    for case in CASES {
        let (_folder, path) = write_variant(case, page.as_bytes());
        let error = inspect(&path).unwrap_err();
        assert!(
            matches!(error.reason, UnsupportedReason::HtmlPage),
            "{}: {error}",
            case.fixture
        );
        assert!(error.to_string().contains("HTML page"), "{error}");
    }
}

/// Size of the over-long line, far over the 1 MiB line limit of the reader.
const LONG_LINE_BYTES: usize = 10 * 1024 * 1024;

/// Returns each line case with a 10 MB line inserted after its duplicate line, and the number
/// of that long line.
fn with_long_line() -> impl Iterator<Item = (&'static Case, Vec<u8>, u64)> {
    let long_line = vec![b'A'; LONG_LINE_BYTES];
    CASES.iter().filter_map(move |case| {
        let after = case.duplicate.as_ref()?.line;
        let content = insert_line(&fixture_bytes(case), after, &long_line);
        Some((case, content, after as u64 + 1))
    })
}

#[test]
fn long_line_rejected_rest_reads() {
    for (case, content, long_line) in with_long_line() {
        let (_folder, path) = write_variant(case, &content);
        let name = format!("{} with a 10 MB line {long_line}", case.fixture);
        let file = inspect(&path).unwrap();
        let outcome = read_through(&file).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(outcome.stats.records, case.records, "{name}: records");
        let lines: Vec<u64> = outcome.rejections.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [long_line], "{name}");
        let reason = &outcome.rejections[0].1;
        assert!(reason.len() < 1_000, "{name}: {} bytes", reason.len());
    }
}
