//! What each parser produces: each format's fixtures under `tests/fixtures/<format>/` are
//! inspected and parsed (or validated, for kept files), and the tests check the detected format,
//! the source, the record count, the rejected line numbers and the field values. The checks
//! every format passes alike (line endings, gzip, cut files, duplicates, long lines) are in
//! `harness.rs`.

mod support;

use std::fs;

use tiq_feeds::{Format, inspect, parse, validate};
use tiq_model::{AllowCategory, AllowMatch, ClaimKind, HashKind, Subject, ThreatType};

use support::{RecordingSink, fixture, inspect_and_parse};

/// One fixture and what parsing it must give.
struct Case {
    fixture: &'static str,
    format: Format,
    source: &'static str,
    provider: &'static str,
    records: u64,
    rejected_lines: &'static [u64],
    /// Entries left out because tiq cannot store their kind.
    skipped: u64,
    check: fn(&RecordingSink),
}

/// Runs the harness on one case.
fn run(case: &Case) {
    let path = fixture(case.fixture);
    let (feed, stats, sink) = inspect_and_parse(&path);
    let name = case.fixture;

    assert_eq!(feed.format, case.format, "{name}: format");
    assert_eq!(feed.source.name, case.source, "{name}: source name");
    assert_eq!(feed.source.provider, case.provider, "{name}: provider");
    assert!(!feed.source.title.is_empty(), "{name}: title");

    assert_eq!(stats.records, case.records, "{name}: records in the stats");
    assert_eq!(
        sink.record_count(),
        case.records,
        "{name}: records in the sink"
    );
    assert_eq!(
        sink.rejected_lines(),
        case.rejected_lines,
        "{name}: rejected lines {:#?}",
        sink.rejections
    );
    assert_eq!(
        stats.rejected,
        case.rejected_lines.len() as u64,
        "{name}: rejected count"
    );
    assert_eq!(stats.skipped, case.skipped, "{name}: skipped entries");
    assert!(
        stats.lines >= stats.records,
        "{name}: {} lines",
        stats.lines
    );
    for (line, reason) in &sink.rejections {
        assert!(
            !reason.trim().is_empty(),
            "{name}:{line}: empty rejection reason"
        );
    }
    (case.check)(&sink);
}

fn ip(text: &str) -> Subject {
    Subject::Ip(text.parse().unwrap())
}

fn net(text: &str) -> Subject {
    Subject::Network(text.parse().unwrap())
}

fn close(actual: f32, expected: f32) -> bool {
    (actual - expected).abs() < 0.005
}

#[test]
fn ipsum_fixture() {
    run(&Case {
        fixture: "ipsum/ipsum.txt",
        format: Format::Ipsum,
        source: "ipsum",
        provider: "ipsum",
        records: 3,
        rejected_lines: &[10, 12],
        skipped: 0,
        check: |sink| {
            let eight = sink.sighting("192.0.2.10");
            assert_eq!(eight.claim, ClaimKind::Malicious);
            assert_eq!(eight.threat, ThreatType::Abuse);
            assert_eq!(eight.labels, ["blocklists:8"]);
            assert!(close(eight.weight, 0.896), "{}", eight.weight);
            let one = sink.sighting("2001:db8::5");
            assert!(close(one.weight, 0.30), "{}", one.weight);
            assert!(sink.rejections[0].1.contains("203.0.113.300"));
        },
    });
}

#[test]
fn ip_list_tor_fixture() {
    run(&Case {
        fixture: "ip-list/tor/tor-exit-nodes.lst",
        format: Format::IpList,
        source: "tor-exits",
        provider: "tor-project",
        records: 9,
        rejected_lines: &[8],
        skipped: 0,
        check: |sink| {
            let exit = sink.sighting("2001:db8::30");
            assert_eq!(exit.claim, ClaimKind::Context);
            assert_eq!(exit.threat, ThreatType::Anonymizer);
        },
    });
}

#[test]
fn ip_list_c2_tracker_fixture() {
    run(&Case {
        fixture: "ip-list/c2-tracker/Cobalt_Strike_C2_IPs.txt",
        format: Format::IpList,
        source: "c2-tracker/cobalt-strike-c2",
        provider: "c2-tracker",
        records: 9,
        rejected_lines: &[8],
        skipped: 0,
        check: |sink| {
            let server = sink.sighting("192.0.2.20");
            assert_eq!(server.claim, ClaimKind::Malicious);
            assert_eq!(server.threat, ThreatType::C2);
            assert_eq!(server.family.as_deref(), Some("Cobalt Strike"));
        },
    });
}

#[test]
fn ip_list_c2_tracker_tool_fixture() {
    run(&Case {
        fixture: "ip-list/c2-tracker/GoPhish_IPs.txt",
        format: Format::IpList,
        source: "c2-tracker/gophish",
        provider: "c2-tracker",
        records: 2,
        rejected_lines: &[],
        skipped: 0,
        check: |sink| {
            let tool = sink.sighting("192.0.2.21");
            assert_eq!(tool.claim, ClaimKind::Suspicious);
            assert_eq!(tool.threat, ThreatType::OffensiveTool);
            assert_eq!(tool.family.as_deref(), Some("GoPhish"));
        },
    });
}

#[test]
fn ip_list_c2_tracker_union_fixture() {
    run(&Case {
        fixture: "ip-list/c2-tracker/all.txt",
        format: Format::IpList,
        source: "c2-tracker/all",
        provider: "c2-tracker",
        records: 3,
        rejected_lines: &[],
        skipped: 0,
        check: |sink| {
            let any = sink.sighting("192.0.2.21");
            assert_eq!(any.claim, ClaimKind::Suspicious);
            assert_eq!(any.family, None);
        },
    });
}

#[test]
fn ip_list_spamhaus_fixture() {
    run(&Case {
        fixture: "ip-list/spamhaus/drop.txt",
        format: Format::IpList,
        source: "spamhaus-drop",
        provider: "spamhaus",
        records: 9,
        rejected_lines: &[12],
        skipped: 0,
        check: |sink| {
            let first = &sink.sightings[0];
            assert_eq!(first.subject, net("192.0.2.0/25"));
            assert_eq!(first.threat, ThreatType::HijackedNetwork);
            assert_eq!(first.labels, ["SBL000001"]);
            assert!(close(first.weight, 0.9));
        },
    });
}

#[test]
fn ip_list_ipsum_level_fixture() {
    run(&Case {
        fixture: "ip-list/levels/5.txt",
        format: Format::IpList,
        source: "ipsum-level-5",
        provider: "ipsum",
        records: 3,
        rejected_lines: &[],
        skipped: 0,
        check: |sink| {
            let listed = sink.sighting("198.51.100.40");
            assert_eq!(listed.threat, ThreatType::Abuse);
            assert_eq!(listed.labels, ["blocklists:>=5"]);
            assert!(close(listed.weight, 0.79), "{}", listed.weight);
        },
    });
}

#[test]
fn ip_list_generic_fixture() {
    run(&Case {
        fixture: "ip-list/blocklist.txt",
        format: Format::IpList,
        source: "ip-list/blocklist",
        provider: "ip-list/blocklist",
        records: 9,
        rejected_lines: &[12],
        skipped: 0,
        check: |sink| {
            assert_eq!(sink.sightings[0].subject, ip("192.0.2.50"));
            assert_eq!(sink.sightings[8].subject, net("203.0.113.0/24"));
            assert!(close(sink.sightings[0].weight, 0.5));
        },
    });
}

#[test]
fn spamhaus_drop_json_fixture() {
    run(&Case {
        fixture: "spamhaus-drop-json/drop_v4.json",
        format: Format::SpamhausDrop,
        source: "spamhaus-drop",
        provider: "spamhaus",
        records: 3,
        rejected_lines: &[3],
        skipped: 0,
        check: |sink| {
            let first = sink.sighting("192.0.2.0/24");
            assert_eq!(first.claim, ClaimKind::Malicious);
            assert_eq!(first.threat, ThreatType::HijackedNetwork);
            assert_eq!(first.labels, ["SBL000001", "rir:arin"]);
            assert_eq!(
                first.reference.as_deref(),
                Some("https://www.spamhaus.org/sbl/query/SBL000001")
            );
            assert!(sink.rejections[0].1.contains("/33"));
        },
    });
}

#[test]
fn feodo_fixture() {
    run(&Case {
        fixture: "feodo-csv/ipblocklist.csv",
        format: Format::FeodoCsv,
        source: "feodo-tracker",
        provider: "abuse.ch",
        records: 3,
        rejected_lines: &[12],
        skipped: 0,
        check: |sink| {
            let online = sink.sighting("192.0.2.60");
            assert_eq!(online.threat, ThreatType::C2);
            assert_eq!(online.family.as_deref(), Some("ExampleBot"));
            assert_eq!(online.labels, ["port:443", "status:online"]);
            assert_eq!(online.first_seen.as_deref(), Some("2023-12-01T10:11:12Z"));
            assert_eq!(online.last_seen.as_deref(), Some("2024-01-02"));
            assert!(close(online.weight, 0.9));
            let bare = sink.sighting("203.0.113.60");
            assert_eq!(bare.labels, ["status:offline"]);
            assert_eq!(bare.last_seen, None);
            assert!(close(bare.weight, 0.8));
        },
    });
}

#[test]
fn maltrail_malware_fixture() {
    run(&Case {
        fixture: "maltrail/malware/apt_example.txt",
        format: Format::Maltrail,
        source: "maltrail/apt_example",
        provider: "maltrail",
        records: 6,
        rejected_lines: &[16],
        skipped: 1,
        check: |sink| {
            let domain = sink.sighting("bad.example.com");
            assert_eq!(domain.threat, ThreatType::Apt);
            assert_eq!(domain.family.as_deref(), Some("example"));
            assert_eq!(domain.labels, ["example bear", "sample group"]);
            assert_eq!(
                domain.reference.as_deref(),
                Some("https://example.com/report-1")
            );

            let with_port = sink.sighting("192.0.2.44");
            assert!(with_port.labels.contains(&"port:8443".to_string()));
            let url = sink.sighting("http://example.net/wp-content/gate.php");
            assert!(matches!(url.subject, Subject::Url(_)));
            let range = sink.sighting("198.51.100.0/24");
            assert!(range.labels.contains(&"hosting range".to_string()));

            let later = sink.sighting("c2.example.org");
            assert_eq!(
                later.reference.as_deref(),
                Some("https://example.org/report-2")
            );
            assert_eq!(sink.sighting("203.0.113.46").subject, ip("203.0.113.46"));
        },
    });
}

#[test]
fn maltrail_mass_scanner_fixture() {
    run(&Case {
        fixture: "maltrail/mass_scanner.txt",
        format: Format::Maltrail,
        source: "maltrail/mass_scanner",
        provider: "maltrail",
        records: 3,
        rejected_lines: &[7],
        skipped: 0,
        check: |sink| {
            let scanner = sink.sighting("192.0.2.70");
            assert_eq!(scanner.claim, ClaimKind::Context);
            assert_eq!(scanner.threat, ThreatType::Scanner);
            assert_eq!(scanner.labels, ["scanner.example.net"]);
        },
    });
}

#[test]
fn maltrail_suspicious_fixture() {
    run(&Case {
        fixture: "maltrail/suspicious/crypto_mining.txt",
        format: Format::Maltrail,
        source: "maltrail/crypto_mining",
        provider: "maltrail",
        records: 2,
        rejected_lines: &[6],
        skipped: 0,
        check: |sink| {
            let pool = sink.sighting("pool.example.net");
            assert_eq!(pool.claim, ClaimKind::Suspicious);
            assert_eq!(pool.threat, ThreatType::Miner);
            assert_eq!(pool.labels, ["crypto_mining", "port:3333"]);
        },
    });
}

#[test]
fn urlhaus_csv_fixture() {
    run(&Case {
        fixture: "urlhaus-csv/urlhaus_recent.csv",
        format: Format::UrlhausCsv,
        source: "urlhaus",
        provider: "abuse.ch",
        records: 4,
        rejected_lines: &[7],
        skipped: 1,
        check: |sink| {
            let offline = sink.sighting("http://192.0.2.80:50140/bin.sh");
            assert_eq!(offline.threat, ThreatType::MalwareDownload);
            assert_eq!(offline.labels, ["32-bit", "elf", "mips", "Mozi"]);
            assert_eq!(offline.family.as_deref(), Some("Mozi"));
            assert!(close(offline.weight, 0.7));
            let online = sink.sighting("https://files.example.com/invoice.exe");
            assert_eq!(online.family.as_deref(), Some("AgentTesla"));
            assert!(close(online.weight, 0.9));
            let untagged = sink.sighting("http://example.net/payload.bin");
            assert!(untagged.labels.is_empty());
            assert_eq!(untagged.family, None);
        },
    });
}

#[test]
fn urlhaus_csv_dump_fixture() {
    run(&Case {
        fixture: "urlhaus-csv/csv.txt",
        format: Format::UrlhausCsv,
        source: "urlhaus",
        provider: "abuse.ch",
        records: 2,
        rejected_lines: &[12],
        skipped: 0,
        check: |sink| {
            let url = sink.sighting("http://192.0.2.81/arm7");
            assert_eq!(url.family.as_deref(), Some("mirai"));
            assert_eq!(url.first_seen.as_deref(), Some("2024-01-02T01:02:03Z"));
            assert_eq!(url.last_seen.as_deref(), Some("2024-01-02T02:00:00Z"));
            assert_eq!(
                url.reference.as_deref(),
                Some("https://urlhaus.abuse.ch/url/1000001/")
            );
            assert!(close(url.weight, 0.9));
        },
    });
}

#[test]
fn urlhaus_domains_fixture() {
    run(&Case {
        fixture: "urlhaus-domains/urlhaus-filter-domains.txt",
        format: Format::UrlhausDomains,
        source: "urlhaus-domains",
        provider: "abuse.ch",
        records: 3,
        rejected_lines: &[9],
        skipped: 0,
        check: |sink| {
            let domain = sink.sighting("drop.example.com");
            assert_eq!(domain.subject, Subject::Domain("drop.example.com".into()));
            assert_eq!(domain.threat, ThreatType::MalwareDownload);
            assert_eq!(sink.sighting("192.0.2.90").subject, ip("192.0.2.90"));
        },
    });
}

#[test]
fn urlhaus_adblock_fixture() {
    run(&Case {
        fixture: "urlhaus-adblock/urlhaus-filter-online.txt",
        format: Format::UrlhausAdblock,
        source: "urlhaus-online",
        provider: "abuse.ch",
        records: 4,
        rejected_lines: &[11],
        skipped: 0,
        check: |sink| {
            assert_eq!(sink.sighting("192.0.2.91").subject, ip("192.0.2.91"));
            let url = sink.sighting("http://example.org/files/a.zip");
            assert_eq!(url.threat, ThreatType::MalwareDownload);
            sink.sighting("http://example.net/dl/setup.exe");
            assert!(
                sink.sightings
                    .iter()
                    .all(|s| s.subject.value() != "allowed.example.com")
            );
        },
    });
}

#[test]
fn phishtank_fixture() {
    run(&Case {
        fixture: "phishtank-csv/verified_online.csv",
        format: Format::PhishtankCsv,
        source: "phishtank",
        provider: "phishtank",
        records: 2,
        rejected_lines: &[4, 5],
        skipped: 0,
        check: |sink| {
            let phish = sink.sighting("https://login.example.com/verify");
            assert_eq!(phish.threat, ThreatType::Phishing);
            assert_eq!(
                phish.first_seen.as_deref(),
                Some("2024-01-02T03:04:05+00:00")
            );
            let detail = "https://phishtank.example.org/phish_detail.php?phish_id=9000001";
            assert_eq!(phish.reference.as_deref(), Some(detail));
            assert!(sink.rejections[1].1.contains("submission_time"));
        },
    });
}

#[test]
fn hash_list_fixture() {
    run(&Case {
        fixture: "hash-list/malware-ioc/examplefamily/samples.sha256",
        format: Format::HashList,
        source: "eset/examplefamily",
        provider: "eset",
        records: 9,
        rejected_lines: &[3],
        skipped: 0,
        check: |sink| {
            let first = &sink.sightings[0];
            assert!(
                matches!(&first.subject, Subject::Hash(HashKind::Sha256, hex) if hex.ends_with("abcdef"))
            );
            assert_eq!(first.threat, ThreatType::Malware);
            assert_eq!(first.family.as_deref(), Some("examplefamily"));
            assert!(close(first.weight, 0.95));
        },
    });
}

#[test]
fn hash_list_nested_folder_fixture() {
    run(&Case {
        fixture: "hash-list/malware-ioc/examplefamily/variant/samples.md5",
        format: Format::HashList,
        source: "eset/examplefamily",
        provider: "eset",
        records: 2,
        rejected_lines: &[],
        skipped: 0,
        check: |sink| {
            let second = sink.sighting(&"b".repeat(32));
            assert_eq!(second.family.as_deref(), Some("examplefamily"));
        },
    });
}

#[test]
fn eset_tsv_fixture() {
    run(&Case {
        fixture: "eset-tsv/eset_hashes.tsv",
        format: Format::EsetTsv,
        source: "eset",
        provider: "eset",
        records: 3,
        rejected_lines: &[5, 6],
        skipped: 0,
        check: |sink| {
            let other = sink.sighting(&"3".repeat(64));
            assert_eq!(other.family.as_deref(), Some("othercampaign"));
            assert!(sink.rejections[0].1.contains("hash_type"));
        },
    });
}

#[test]
fn threatfox_fixture() {
    run(&Case {
        fixture: "threatfox-md5/threatfox_md5_family.tsv",
        format: Format::ThreatfoxMd5,
        source: "threatfox-md5",
        provider: "abuse.ch",
        records: 2,
        rejected_lines: &[4, 5],
        skipped: 0,
        check: |sink| {
            let stealer = sink.sighting("6666666666666666666666666666666a");
            assert_eq!(stealer.family.as_deref(), Some("Example Stealer"));
            assert_eq!(stealer.labels, ["win.example_stealer"]);
            assert_eq!(stealer.first_seen.as_deref(), Some("2024-01-01"));
            let rat = sink.sighting("7777777777777777777777777777777b");
            assert_eq!(rat.labels, ["win.example_rat", "ExRAT"]);
        },
    });
}

#[test]
fn misp_warninglist_cidr_fixture() {
    run(&Case {
        fixture: "misp-warninglist/public-dns-v4/list.json",
        format: Format::MispWarninglist,
        source: "misp-warninglist/public-dns-v4",
        provider: "misp-warninglists",
        records: 3,
        rejected_lines: &[6],
        skipped: 0,
        check: |sink| {
            let host = &sink.allows[0];
            assert_eq!(
                host.matcher,
                AllowMatch::Network("192.0.2.53/32".parse().unwrap())
            );
            assert_eq!(host.category, AllowCategory::PublicResolver);
            assert_eq!(host.rank, None);
            let mapped = &sink.allows[2];
            assert_eq!(
                mapped.matcher,
                AllowMatch::Network("203.0.113.53/32".parse().unwrap())
            );
        },
    });
}

#[test]
fn misp_warninglist_hostname_fixture() {
    run(&Case {
        fixture: "misp-warninglist/tranco10k/list.json",
        format: Format::MispWarninglist,
        source: "misp-warninglist/tranco10k",
        provider: "misp-warninglists",
        records: 3,
        rejected_lines: &[8],
        skipped: 1,
        check: |sink| {
            assert_eq!(
                sink.allows[1].matcher,
                AllowMatch::Hostname("example.net".into())
            );
            assert_eq!(sink.allows[1].category, AllowCategory::TopSite);
        },
    });
}

#[test]
fn misp_warninglist_string_fixture() {
    run(&Case {
        fixture: "misp-warninglist/empty-hashes/list.json",
        format: Format::MispWarninglist,
        source: "misp-warninglist/empty-hashes",
        provider: "misp-warninglists",
        records: 2,
        rejected_lines: &[7],
        skipped: 1,
        check: |sink| {
            let md5 = "0a1b2c3d4e5f60718293a4b5c6d7e8f9".to_string();
            assert_eq!(sink.allows[0].matcher, AllowMatch::Exact(md5));
            assert_eq!(sink.allows[0].category, AllowCategory::KnownFile);
        },
    });
}

#[test]
fn misp_warninglist_regex_fixture() {
    run(&Case {
        fixture: "misp-warninglist/example-regex/list.json",
        format: Format::MispWarninglist,
        source: "misp-warninglist/example-regex",
        provider: "misp-warninglists",
        records: 2,
        rejected_lines: &[5],
        skipped: 0,
        check: |sink| {
            let AllowMatch::Regex(pattern) = &sink.allows[0].matcher else {
                panic!("{:?}", sink.allows[0]);
            };
            assert!(pattern.starts_with("(?i)^https?:"), "{pattern}");
            let regex = regex::Regex::new(pattern).unwrap();
            assert!(regex.is_match("HTTPS://www.example.com/a"));
            assert_eq!(sink.allows[1].category, AllowCategory::Other);
        },
    });
}

#[test]
fn misp_event_fixture() {
    run(&Case {
        fixture: "misp-event/event.json",
        format: Format::MispEvent,
        source: "misp-event/00000000-0000-4000-8000-000000000001",
        provider: "example-cert",
        records: 4,
        rejected_lines: &[35, 80],
        skipped: 0,
        check: |sink| {
            let server = sink.sighting("192.0.2.100");
            assert_eq!(server.threat, ThreatType::Apt);
            assert_eq!(server.family.as_deref(), Some("ExampleLoader"));
            assert_eq!(
                server.labels,
                ["Example Actor", "ExampleLoader", "C&C server"]
            );
            assert_eq!(server.first_seen.as_deref(), Some("2024-01-05"));
            assert_eq!(server.reference, None);
            assert!(close(server.weight, 0.8));
            assert!(close(sink.sighting("c2.example.com").weight, 0.7));
            let hash = "abcdef".repeat(10) + "abcd";
            assert!(matches!(
                sink.sighting(&hash).subject,
                Subject::Hash(HashKind::Sha256, _)
            ));
            let with_port = sink.sighting("203.0.113.100");
            assert!(with_port.labels.contains(&"port:8443".to_string()));
            assert!(
                sink.sightings
                    .iter()
                    .all(|s| !s.subject.value().contains("example.org"))
            );
        },
    });
}

#[test]
fn misp_event_plain_fixture() {
    run(&Case {
        fixture: "misp-event/plain-event.json",
        format: Format::MispEvent,
        source: "misp-event/00000000-0000-4000-8000-000000000002",
        provider: "misp-event/00000000-0000-4000-8000-000000000002",
        records: 3,
        rejected_lines: &[],
        skipped: 0,
        check: |sink| {
            let hash = sink.sighting("0123456789abcdef0123456789abcdef");
            assert_eq!(hash.threat, ThreatType::Malware);
            assert_eq!(hash.family.as_deref(), Some("ExampleStealer samples"));
            assert!(close(hash.weight, 0.8));
            assert_eq!(
                sink.sighting("drop.example.org").subject,
                Subject::Domain("drop.example.org".into())
            );
            assert!(close(sink.sighting("198.51.100.101").weight, 0.7));
        },
    });
}

#[test]
fn asn_csv_fixture() {
    run(&Case {
        fixture: "asn-csv/asn-ipv4.csv",
        format: Format::AsnCsv,
        source: "asn-ipv4",
        provider: "ip-location-db",
        records: 3,
        rejected_lines: &[3, 5],
        skipped: 0,
        check: |sink| {
            let quoted = &sink.ranges[1];
            assert_eq!(quoted.organization, "Example Hosting, Inc.");
            assert_eq!(quoted.asn, 64497);
            assert_eq!(
                quoted.end,
                "198.51.100.127".parse::<std::net::IpAddr>().unwrap()
            );
            assert_eq!(sink.ranges[2].asn, u32::MAX);
        },
    });
}

#[test]
fn asn_csv_ipv6_fixture() {
    run(&Case {
        fixture: "asn-csv/asn-ipv6.csv",
        format: Format::AsnCsv,
        source: "asn-ipv6",
        provider: "ip-location-db",
        records: 1,
        rejected_lines: &[],
        skipped: 0,
        check: |sink| assert_eq!(sink.ranges[0].asn, 64500),
    });
}

#[test]
fn maxmind_db_fixture() {
    let path = fixture("maxmind-db/tiny.mmdb");
    let fixture_bytes = fs::read(&path).unwrap();
    assert_eq!(
        fixture_bytes,
        support::tiny_mmdb("tiq-test-country", 1_704_067_200),
        "tiny.mmdb differs from what support::tiny_mmdb writes"
    );

    let feed = inspect(&path).unwrap();
    assert_eq!(feed.format, Format::MaxMindDb);
    assert_eq!(feed.source.name, "geo/tiny");

    let info = tiq_feeds::mmdb_info(&path).unwrap();
    assert_eq!(info.database_type, "tiq-test-country");
    assert_eq!(info.ip_version, 4);
    assert_eq!(info.node_count, 1);
    assert_eq!(info.build_epoch, 1_704_067_200);

    let error = parse(&feed, &mut RecordingSink::default()).unwrap_err();
    assert!(
        matches!(error, tiq_feeds::FeedError::NotStreamable { .. }),
        "{error}"
    );

    let folder = tempfile::tempdir().unwrap();
    let neutral = folder.path().join("data.txt");
    fs::copy(&path, &neutral).unwrap();
    assert_eq!(inspect(&neutral).unwrap().format, Format::MaxMindDb);
}

#[test]
fn spamhaus_drop_v6_fixture() {
    run(&Case {
        fixture: "spamhaus-drop-json/drop_v6.json",
        format: Format::SpamhausDrop,
        source: "spamhaus-drop-v6",
        provider: "spamhaus",
        records: 2,
        rejected_lines: &[],
        skipped: 0,
        check: |sink| {
            let network = &sink.sightings[0];
            assert_eq!(network.subject, net("2001:db8::/32"));
            assert_eq!(network.threat, ThreatType::HijackedNetwork);
            assert_eq!(network.labels, ["SBL000011", "rir:ripencc"]);
        },
    });
}

#[test]
fn ip_list_blocklist_de_fixture() {
    run(&Case {
        fixture: "ip-list/blocklist-de/ssh.txt",
        format: Format::IpList,
        source: "blocklist.de/ssh",
        provider: "blocklist.de",
        records: 3,
        rejected_lines: &[],
        skipped: 0,
        check: |sink| {
            let attacker = sink.sighting("2001:db8::110");
            assert_eq!(attacker.claim, ClaimKind::Malicious);
            assert_eq!(attacker.threat, ThreatType::BruteForce);
            assert!(close(attacker.weight, 0.6), "{}", attacker.weight);
        },
    });
}

#[test]
fn sslbl_fixture() {
    run(&Case {
        fixture: "sslbl-csv/sslipblacklist.csv",
        format: Format::SslblCsv,
        source: "sslbl",
        provider: "abuse.ch",
        records: 3,
        rejected_lines: &[],
        skipped: 0,
        check: |sink| {
            let server = sink.sighting("198.51.100.10");
            assert_eq!(server.claim, ClaimKind::Malicious);
            assert_eq!(server.threat, ThreatType::C2);
            assert_eq!(server.labels, ["port:8443"]);
            assert_eq!(server.first_seen.as_deref(), Some("2024-05-02T11:30:00Z"));
            assert!(close(server.weight, 0.85), "{}", server.weight);
        },
    });
}

#[test]
fn url_list_openphish_fixture() {
    run(&Case {
        fixture: "url-list/openphish/feed.txt",
        format: Format::UrlList,
        source: "openphish",
        provider: "openphish",
        records: 3,
        rejected_lines: &[],
        skipped: 0,
        check: |sink| {
            let page = sink.sighting("http://192.0.2.95/bank/");
            assert_eq!(page.claim, ClaimKind::Malicious);
            assert_eq!(page.threat, ThreatType::Phishing);
            assert!(close(page.weight, 0.8), "{}", page.weight);
        },
    });
}

#[test]
fn url_list_generic_fixture() {
    run(&Case {
        fixture: "url-list/suspicious_urls.txt",
        format: Format::UrlList,
        source: "url-list/suspicious-urls",
        provider: "url-list/suspicious-urls",
        records: 2,
        rejected_lines: &[],
        skipped: 0,
        check: |sink| {
            let page = sink.sighting("https://login.example.org/verify");
            assert_eq!(page.threat, ThreatType::Abuse);
            assert!(close(page.weight, 0.5), "{}", page.weight);
        },
    });
}

/// Checks the sightings of the ThreatFox IOCs both export fixtures share.
fn check_threatfox_iocs(sink: &RecordingSink) {
    let c2 = sink.sighting("192.0.2.7");
    assert_eq!(c2.claim, ClaimKind::Malicious);
    assert_eq!(c2.threat, ThreatType::C2);
    assert_eq!(c2.family.as_deref(), Some("Cobalt Strike"));
    assert_eq!(
        c2.labels,
        [
            "port:8080",
            "win.cobalt_strike",
            "CobaltStrike",
            "cobeacon",
            "c2"
        ]
    );
    assert_eq!(c2.first_seen.as_deref(), Some("2024-05-01T10:00:00Z"));
    assert_eq!(c2.last_seen, None);
    assert!(close(c2.weight, 0.9), "{}", c2.weight);
    assert_eq!(
        c2.reference.as_deref(),
        Some("https://threatfox.abuse.ch/ioc/1234567/")
    );

    let domain = sink.sighting("update.example.com");
    assert_eq!(domain.threat, ThreatType::C2);
    assert_eq!(domain.labels, ["win.example_rat", "rat", "example"]);
    assert_eq!(domain.last_seen.as_deref(), Some("2024-05-03T08:00:00Z"));
    assert!(close(domain.weight, 0.8), "{}", domain.weight);

    let url = sink.sighting("http://files.example.net/load.exe");
    assert_eq!(url.threat, ThreatType::MalwareDownload);
    assert_eq!(url.family.as_deref(), Some("Example Loader"));
    assert!(close(url.weight, 0.7), "{}", url.weight);
}

#[test]
fn threatfox_csv_fixture() {
    run(&Case {
        fixture: "threatfox-csv/recent.csv",
        format: Format::ThreatfoxCsv,
        source: "threatfox",
        provider: "abuse.ch",
        records: 6,
        rejected_lines: &[],
        skipped: 0,
        check: |sink| {
            check_threatfox_iocs(sink);
            let unknown = sink.sighting("0123456789abcdef0123456789abcdef01234567");
            assert_eq!(unknown.threat, ThreatType::Malware);
            assert_eq!(unknown.family, None);
            assert!(unknown.labels.is_empty(), "{:?}", unknown.labels);
            assert!(close(unknown.weight, 0.6), "{}", unknown.weight);
            let sha256 = "a6e4f1c0b2d3e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c";
            assert!(matches!(
                sink.sighting(sha256).subject,
                Subject::Hash(HashKind::Sha256, _)
            ));
        },
    });
}

#[test]
fn threatfox_json_fixture() {
    run(&Case {
        fixture: "threatfox-json/recent.json",
        format: Format::ThreatfoxJson,
        source: "threatfox",
        provider: "abuse.ch",
        records: 3,
        rejected_lines: &[],
        skipped: 0,
        check: check_threatfox_iocs,
    });
}

#[test]
fn malwarebazaar_fixture() {
    run(&Case {
        fixture: "malwarebazaar-csv/recent.csv",
        format: Format::MalwareBazaarCsv,
        source: "malwarebazaar",
        provider: "abuse.ch",
        records: 6,
        rejected_lines: &[],
        skipped: 0,
        check: |sink| {
            let sha256 = "1f3a5c7e9b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a";
            let md5 = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
            let sha1 = "00112233445566778899aabbccddeeff00112233";
            for hash in [sha256, md5, sha1] {
                let sample = sink.sighting(hash);
                assert_eq!(sample.claim, ClaimKind::Malicious, "{hash}");
                assert_eq!(sample.threat, ThreatType::Malware, "{hash}");
                assert_eq!(sample.family.as_deref(), Some("AgentTesla"), "{hash}");
                assert_eq!(
                    sample.labels,
                    ["file_name:invoice, May.exe", "file_type:exe"],
                    "{hash}"
                );
                assert_eq!(
                    sample.first_seen.as_deref(),
                    Some("2024-05-01T10:00:00Z"),
                    "{hash}"
                );
                let page = format!("https://bazaar.abuse.ch/sample/{sha256}/");
                assert_eq!(sample.reference.as_deref(), Some(page.as_str()), "{hash}");
            }
            let unsigned = sink.sighting("1a2b3c4d5e6f708192a3b4c5d6e7f8a9");
            assert_eq!(unsigned.family, None);
            assert!(matches!(unsigned.subject, Subject::Hash(HashKind::Md5, _)));
        },
    });
}

/// A kept file and what validating it must give.
struct KeptCase {
    fixture: &'static str,
    format: Format,
    source: &'static str,
    provider: &'static str,
    records: u64,
}

#[test]
fn kept_file_fixtures() {
    let cases = [
        KeptCase {
            fixture: "cisa-kev-json/known_exploited_vulnerabilities.json",
            format: Format::CisaKevJson,
            source: "cisa-kev",
            provider: "cisa",
            records: 2,
        },
        KeptCase {
            fixture: "cisa-kev-csv/known_exploited_vulnerabilities.csv",
            format: Format::CisaKevCsv,
            source: "cisa-kev",
            provider: "cisa",
            records: 2,
        },
        KeptCase {
            fixture: "cve-json5/records/2024/0xxx/CVE-2024-0001.json",
            format: Format::CveJson5,
            source: "cve-json5/records",
            provider: "cve-program",
            records: 1,
        },
        KeptCase {
            fixture: "cve-json5/cve-records.jsonl",
            format: Format::CveJson5,
            source: "cve-json5/cve-records",
            provider: "cve-program",
            records: 3,
        },
        KeptCase {
            fixture: "cve-list/cve-ids.txt",
            format: Format::CveList,
            source: "cve-list/cve-ids",
            provider: "cve-list/cve-ids",
            records: 3,
        },
        KeptCase {
            fixture: "vulnerability-aliases/cnvd-cve.csv",
            format: Format::VulnerabilityAliases,
            source: "vulnerability-aliases/cnvd-cve",
            provider: "user",
            records: 2,
        },
        KeptCase {
            fixture: "epss-csv/epss_scores-current.csv",
            format: Format::EpssCsv,
            source: "epss",
            provider: "first",
            records: 3,
        },
        KeptCase {
            fixture: "epss-csv/epss_kev_nvd.csv",
            format: Format::EpssCsv,
            source: "epss-kev",
            provider: "first",
            records: 2,
        },
        KeptCase {
            fixture: "exploitdb-csv/files_exploits.csv",
            format: Format::ExploitDbCsv,
            source: "exploitdb",
            provider: "exploit-db",
            records: 3,
        },
        KeptCase {
            fixture: "exploitdb-cve-map/exploitdb_mapping_cve.json",
            format: Format::ExploitDbCveMap,
            source: "exploitdb-cve-map",
            provider: "exploit-db",
            records: 2,
        },
        KeptCase {
            fixture: "stix-bundle/enterprise-attack.json",
            format: Format::StixBundle,
            source: "mitre-attack/enterprise",
            provider: "mitre",
            records: 4,
        },
        KeptCase {
            fixture: "stix-bundle/example-bundle.json",
            format: Format::StixBundle,
            source: "stix/example-bundle",
            provider: "stix/example-bundle",
            records: 1,
        },
        KeptCase {
            fixture: "misp-galaxy-cluster/clusters/tool.json",
            format: Format::MispGalaxyCluster,
            source: "misp-galaxy/tool",
            provider: "misp-galaxy",
            records: 2,
        },
        KeptCase {
            fixture: "misp-galaxy-definition/galaxies/tool.json",
            format: Format::MispGalaxyDefinition,
            source: "misp-galaxy-definition/tool",
            provider: "misp-galaxy",
            records: 1,
        },
        KeptCase {
            fixture: "maltrail-aliases/aliases.tsv",
            format: Format::MaltrailAliases,
            source: "maltrail/aliases",
            provider: "maltrail",
            records: 2,
        },
    ];
    for case in cases {
        let name = case.fixture;
        let file = inspect(&fixture(name)).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(file.format, case.format, "{name}: format");
        assert!(file.format.is_kept_file(), "{name}: kept");
        assert_eq!(file.source.name, case.source, "{name}: source");
        assert_eq!(file.source.provider, case.provider, "{name}: provider");

        let mut rejections = Vec::new();
        let stats = validate(&file, &mut |line, reason| rejections.push((line, reason)))
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(stats.records, case.records, "{name}: records");
        assert_eq!(rejections, [], "{name}: rejections");
        assert!(
            stats.lines >= stats.records,
            "{name}: {} lines",
            stats.lines
        );
    }
}

#[test]
fn every_format_has_a_fixture_folder() {
    for format in Format::ALL {
        let folder = fixture(format.name());
        assert!(folder.is_dir(), "no fixture folder {}", folder.display());
    }
}

#[test]
fn alias_table_with_a_bad_line_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cnvd.csv");
    let mut text = String::from("\u{feff}cnvd,cve\n");
    for n in 1..=10 {
        text.push_str(&format!("CNVD-2024-{n:05},CVE-2024-{:04}\n", 1000 + n));
    }
    text.push_str("CNVD-BAD,CVE-2024-3400\n");
    std::fs::write(&path, text).unwrap();
    let file = tiq_feeds::inspect(&path).expect("detected");
    assert_eq!(file.format, tiq_feeds::Format::VulnerabilityAliases);
    let mut rejected = Vec::new();
    let stats =
        tiq_feeds::validate(&file, &mut |line, reason| rejected.push((line, reason))).unwrap();
    assert_eq!(stats.records, 10);
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].0, 12);
}
