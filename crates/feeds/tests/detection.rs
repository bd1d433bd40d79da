//! Detection from content: gzip, unsupported and unknown files, and walking folders.

mod support;

use std::fs;
use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use tiq_feeds::{FeedError, Format, UnsupportedReason, inspect, walk};
use tiq_model::ThreatType;

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
fn schema_is_unsupported() {
    assert_unsupported(
        &fixture("unsupported/schema.json"),
        "JSON schema, not a feed",
    );
}

#[test]
fn zip_archive_is_unsupported() {
    let folder = tempfile::tempdir().unwrap();
    let archive = folder.path().join("full.csv.zip");
    let mut bytes = b"PK\x03\x04\x14\x00\x00\x00\x08\x00".to_vec();
    bytes.extend_from_slice(&[0; 64]);
    fs::write(&archive, bytes).unwrap();
    assert_unsupported(&archive, "zip archive: extract the feed file");
}

#[test]
fn xhtml_page_is_unsupported() {
    let folder = tempfile::tempdir().unwrap();
    let page = folder.path().join("feed.txt");
    let content = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                   <!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\">\n\
                   <html><body>Not found</body></html>\n";
    fs::write(&page, content).unwrap();
    assert_unsupported(&page, "HTML page");
}

#[test]
fn truncated_gzip_names_the_fix() {
    let folder = tempfile::tempdir().unwrap();
    let compressed = folder.path().join("ipsum.txt.gz");
    gzip(&fixture("ipsum/ipsum.txt"), &compressed);
    let bytes = fs::read(&compressed).unwrap();
    fs::write(&compressed, &bytes[..bytes.len() / 2]).unwrap();
    assert_unsupported(&compressed, "cut short: fetch it again");
}

#[test]
fn blocklist_de_lists_by_name() {
    let folder = tempfile::tempdir().unwrap();
    let lists = folder.path().join("blocklist.de");
    fs::create_dir(&lists).unwrap();
    let cases = [
        ("ssh.txt", "blocklist.de/ssh", "blocklist.de: SSH attackers"),
        (
            "mail.txt",
            "blocklist.de/mail",
            "blocklist.de: mail server attackers",
        ),
        (
            "all.txt",
            "blocklist.de/all",
            "blocklist.de: all reported attackers",
        ),
        (
            "newlist.txt",
            "blocklist.de/newlist",
            "blocklist.de: reported attackers",
        ),
    ];
    for (name, source, title) in cases {
        let path = lists.join(name);
        fs::write(&path, "192.0.2.1\n198.51.100.2\n").unwrap();
        let file = inspect(&path).unwrap();
        assert_eq!(file.source.name, source, "{name}");
        assert_eq!(file.source.provider, "blocklist.de", "{name}");
        assert_eq!(file.source.title, title, "{name}");
    }
}

#[test]
fn blocklist_de_threat_follows_the_list() {
    let folder = tempfile::tempdir().unwrap();
    let lists = folder.path().join("blocklist-de");
    fs::create_dir(&lists).unwrap();
    let cases = [
        ("ssh.txt", ThreatType::BruteForce),
        ("mail.txt", ThreatType::Spam),
        ("ircbot.txt", ThreatType::Botnet),
        ("apache.txt", ThreatType::Abuse),
    ];
    for (name, threat) in cases {
        let path = lists.join(name);
        fs::write(&path, "192.0.2.1\n").unwrap();
        let (_, _, sink) = inspect_and_parse(&path);
        assert_eq!(sink.sightings[0].threat, threat, "{name}");
    }
}

#[test]
fn url_list_names_by_path() {
    let folder = tempfile::tempdir().unwrap();
    fs::create_dir(folder.path().join("OpenPhish")).unwrap();
    let cases = [
        ("OpenPhish/feed.txt", "openphish"),
        ("openphish_feed.txt", "openphish"),
        ("feed.txt", "url-list/feed"),
        ("phish_urls.txt", "url-list/phish-urls"),
    ];
    for (name, source) in cases {
        let path = folder.path().join(name);
        fs::write(
            &path,
            "https://login.example.com/verify\nhttp://192.0.2.95/a\n",
        )
        .unwrap();
        let file = inspect(&path).unwrap();
        assert_eq!(file.format, Format::UrlList, "{name}");
        assert_eq!(file.source.name, source, "{name}");
    }
}

#[test]
fn sslbl_aggressive_list_separate_source() {
    let folder = tempfile::tempdir().unwrap();
    let content = "# Firstseen,DstIP,DstPort\n2024-05-01 10:00:00,192.0.2.10,443\n";
    let path = folder.path().join("sslipblacklist_aggressive.csv");
    fs::write(&path, content).unwrap();
    let (file, _, sink) = inspect_and_parse(&path);
    assert_eq!(file.source.name, "sslbl-aggressive");
    assert!((sink.sightings[0].weight - 0.6).abs() < 1e-6);

    let titled = folder.path().join("list.csv");
    fs::write(
        &titled,
        format!("# abuse.ch SSLBL Botnet C2 IP Blacklist (CSV) - aggressive\n{content}"),
    )
    .unwrap();
    assert_eq!(inspect(&titled).unwrap().source.name, "sslbl-aggressive");
}

#[test]
fn plain_stix_bundle_is_generic() {
    let file = inspect(&fixture("stix-bundle/example-bundle.json")).unwrap();
    assert_eq!(file.format, Format::StixBundle);
    assert_eq!(file.source.name, "stix/example-bundle");
}

#[test]
fn attack_domain_from_file_name() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("mobile-attack-v15.json");
    let content = r#"{"type": "bundle", "id": "bundle--1", "objects": [{"type": "x-mitre-matrix", "id": "x-mitre-matrix--1", "x_mitre_version": "1.0"}]}"#;
    fs::write(&path, content).unwrap();
    assert_eq!(inspect(&path).unwrap().source.name, "mitre-attack/mobile");
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

#[test]
fn ip_list_with_bad_lines_is_detected() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("all.txt");
    let mut text = String::new();
    for i in 1..=70 {
        text.push_str(&format!("192.0.2.{i}\n"));
    }
    for i in 1..=30 {
        text.push_str(&format!("not-an-address-{i}\n"));
    }
    fs::write(&path, text).unwrap();
    let (feed, stats, sink) = inspect_and_parse(&path);
    assert_eq!(feed.format, Format::IpList);
    assert_eq!(stats.records, 70);
    assert_eq!(sink.rejections.len(), 30);
    assert_eq!(sink.rejections[0].0, 71);
}
