//! Detection from content: gzip, unsupported and unknown files, and walking folders.

mod support;

use std::fs;
use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use tiq_feeds::{FeedError, Format, UnsupportedReason, inspect, walk};

use support::{fixture, inspect_and_parse};

fn gzip(source: &Path, target: &Path) {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(&fs::read(source).unwrap()).unwrap();
    fs::write(target, encoder.finish().unwrap()).unwrap();
}

#[test]
fn gzip_files_are_read_transparently() {
    let folder = tempfile::tempdir().unwrap();
    for (relative, format, records) in [
        ("asn-csv/asn-ipv4.csv", Format::AsnCsv, 3),
        ("ipsum/ipsum.txt", Format::Ipsum, 3),
        (
            "misp-warninglist/public-dns-v4/list.json",
            Format::MispWarninglist,
            3,
        ),
    ] {
        let compressed = folder.path().join("data.txt");
        gzip(&fixture(relative), &compressed);
        let (feed, stats, _) = inspect_and_parse(&compressed);
        assert_eq!(feed.format, format, "{relative} compressed");
        assert_eq!(stats.records, records, "{relative} compressed");
    }
}

#[test]
fn gzip_asn_keeps_its_source() {
    let folder = tempfile::tempdir().unwrap();
    let compressed = folder.path().join("asn-ipv6.csv.gz");
    gzip(&fixture("asn-csv/asn-ipv6.csv"), &compressed);
    assert_eq!(inspect(&compressed).unwrap().source.name, "asn-ipv6");
}

/// Asserts that a file is unsupported and that the reason's text contains `expected`.
fn assert_unsupported(path: &Path, expected: &str) {
    match inspect(path) {
        Ok(feed) => panic!("{} was detected as {}", path.display(), feed.format),
        Err(unsupported) => {
            let text = unsupported.to_string();
            assert!(text.contains(expected), "{}: {text}", path.display());
            assert!(text.contains(&path.display().to_string()), "{text}");
        }
    }
}

#[test]
fn recognised_formats_not_imported() {
    let cases = [
        (
            "kev.json",
            "CISA KEV catalog: recognised, but vulnerability data is not imported yet",
        ),
        ("kev.csv", "CISA KEV catalog: recognised"),
        ("attack.json", "STIX 2 bundle"),
        (
            "galaxy-cluster.json",
            "MISP galaxy cluster file: recognised",
        ),
        ("cve-record.json", "CVE JSON 5 record: recognised"),
        ("exploitdb-map.json", "CVE to Exploit-DB id map"),
        ("epss.csv", "EPSS scores CSV"),
        ("cve-ids.txt", "list of CVE ids"),
        ("aliases.tsv", "maltrail aliases table"),
    ];
    for (name, expected) in cases {
        assert_unsupported(&fixture(&format!("unsupported/{name}")), expected);
    }
}

#[test]
fn documentation_is_unsupported() {
    for name in ["README.md", "LICENSE"] {
        assert_unsupported(
            &fixture(&format!("unsupported/{name}")),
            "documentation or licence text",
        );
    }
}

#[test]
fn unknown_content_is_unsupported() {
    assert_unsupported(
        &fixture("unsupported/unknown.json"),
        "JSON document of unknown shape",
    );
    assert_unsupported(
        &fixture("unsupported/unknown.txt"),
        "first line: \"alpha;beta;gamma\"",
    );
}

#[test]
fn out_of_scope_warninglist_is_unsupported() {
    let path = fixture("misp-warninglist/phone_numbers/list.json");
    let error = inspect(&path).unwrap_err();
    assert!(
        matches!(
            error.reason,
            UnsupportedReason::WarninglistOutOfScope { .. }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("phone-number"), "{error}");
}

#[test]
fn empty_and_binary_files_are_unsupported() {
    let folder = tempfile::tempdir().unwrap();
    let empty = folder.path().join("empty.txt");
    fs::write(&empty, b"").unwrap();
    assert_unsupported(&empty, "empty");

    let blank = folder.path().join("blank.txt");
    fs::write(&blank, b"\n  \n\t\n").unwrap();
    assert_unsupported(&blank, "empty");

    let garbage = folder.path().join("garbage.bin");
    let bytes: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    fs::write(&garbage, bytes).unwrap();
    assert_unsupported(&garbage, "binary data");

    let broken_gzip = folder.path().join("broken.gz");
    fs::write(&broken_gzip, b"\x1f\x8b\x08\x00not really gzip").unwrap();
    assert_unsupported(&broken_gzip, "cannot be read");

    let invalid_json = folder.path().join("broken.json");
    fs::write(&invalid_json, b"{\"list\": [\"192.0.2.1\",").unwrap();
    assert_unsupported(&invalid_json, "invalid JSON");
}

#[test]
fn missing_file_is_unsupported() {
    let folder = tempfile::tempdir().unwrap();
    assert_unsupported(&folder.path().join("absent.txt"), "cannot be read");
}

#[test]
fn walk_sorts_and_skips_dot_files() {
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path();
    fs::create_dir_all(root.join("b/nested")).unwrap();
    fs::create_dir_all(root.join(".git")).unwrap();
    for file in [
        "b/nested/z.txt",
        "b/a.txt",
        "c.txt",
        ".hidden",
        ".git/config",
        "b/.cache",
    ] {
        fs::write(root.join(file), "192.0.2.1\n").unwrap();
    }
    let files = walk(&[root.join("c.txt"), root.to_path_buf()]).unwrap();
    let relative: Vec<String> = files
        .iter()
        .map(|path| {
            path.strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(relative, ["b/a.txt", "b/nested/z.txt", "c.txt"]);
}

#[test]
fn walk_keeps_a_dot_file_named_directly() {
    let folder = tempfile::tempdir().unwrap();
    let hidden = folder.path().join(".feed.txt");
    fs::write(&hidden, "192.0.2.1\n").unwrap();
    assert_eq!(walk(std::slice::from_ref(&hidden)).unwrap(), [hidden]);
}

#[test]
fn walk_names_a_missing_path() {
    let folder = tempfile::tempdir().unwrap();
    let missing = folder.path().join("missing");
    let error = walk(std::slice::from_ref(&missing)).unwrap_err();
    assert!(matches!(error, FeedError::Io { .. }), "{error}");
    assert!(error.to_string().contains("missing"), "{error}");
}

#[cfg(unix)]
#[test]
fn walk_survives_a_link_loop() {
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path();
    fs::create_dir(root.join("feeds")).unwrap();
    fs::write(root.join("feeds/list.txt"), "192.0.2.1\n").unwrap();
    std::os::unix::fs::symlink(root.join("feeds"), root.join("feeds/again")).unwrap();
    let files = walk(&[root.join("feeds")]).unwrap();
    assert_eq!(files, [root.join("feeds/list.txt")]);
}

#[cfg(unix)]
#[test]
fn walk_each_goes_past_bad_links() {
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path();
    fs::write(root.join("list.txt"), "192.0.2.1\n").unwrap();
    std::os::unix::fs::symlink(root.join("nowhere"), root.join("dangling")).unwrap();
    std::os::unix::fs::symlink(root.join("self"), root.join("self")).unwrap();
    let (files, errors) = tiq_feeds::walk_each(&[root.to_path_buf()]);
    assert_eq!(files, [root.join("list.txt")]);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(walk(&[root.to_path_buf()]).is_err());
}

#[test]
fn walk_lists_a_file_named_twice_once() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("list.txt");
    fs::write(&file, "192.0.2.1\n").unwrap();
    let files = walk(&[file.clone(), folder.path().to_path_buf()]).unwrap();
    assert_eq!(files, [file]);
}

#[test]
fn plain_list_names_outside_c2_tracker() {
    let folder = tempfile::tempdir().unwrap();
    let cases = [
        ("bad_ips.txt", "ip-list/bad-ips"),
        ("our_office_IPs.txt", "ip-list/our-office-ips"),
        ("tor_ips.txt", "tor-exits"),
        ("Quasar_RAT_IPs.txt", "c2-tracker/quasar-rat"),
        ("Sliver_C2_IPs.txt", "c2-tracker/sliver-c2"),
    ];
    for (name, source) in cases {
        let path = folder.path().join(name);
        fs::write(&path, "192.0.2.1\n198.51.100.2\n").unwrap();
        let file = tiq_feeds::inspect(&path).unwrap();
        assert_eq!(file.source.name, source, "{name}");
    }
}
