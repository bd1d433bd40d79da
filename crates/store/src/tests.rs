use std::net::IpAddr;

use tiq_model::{
    AllowCategory, AllowEntry, AllowMatch, AsnRange, ClaimKind, HashKind, Sighting, Subject,
    ThreatType,
};

use super::*;
use crate::scan::{
    AddressMatch, AddressVisitor, AllowView, AsnView, ScanScope, ScannedSource, SightingView,
};

fn meta(name: &str) -> SourceMeta {
    SourceMeta {
        name: name.to_string(),
        provider: "test".to_string(),
        title: "Test feed".to_string(),
        format: "ip-list".to_string(),
        reference: None,
        origin: format!("/feeds/{name}.txt"),
        file: None,
        feed: None,
    }
}

fn ip_sighting(ip: &str) -> Sighting {
    Sighting::new(
        Subject::Ip(ip.parse().unwrap()),
        ClaimKind::Malicious,
        ThreatType::Abuse,
        0.5,
    )
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn open_creates_current_schema() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert!(dir.path().join(DB_FILE).exists());
    drop(store);
    let again = Store::open_read_only(dir.path()).unwrap();
    assert_eq!(again.schema_version().unwrap(), SCHEMA_VERSION);
}

#[test]
fn open_rejects_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    let error = Store::open(dir.path())
        .err()
        .expect("newer schema must be rejected");
    assert!(matches!(error, StoreError::TooNew { .. }), "{error}");
    assert!(error.to_string().contains("upgrade tiq"), "{error}");
}

#[test]
fn read_only_open_missing_store() {
    let dir = tempfile::tempdir().unwrap();
    let error = Store::open_read_only(dir.path()).err().unwrap();
    assert!(error.to_string().contains("tiq import"), "{error}");
}

#[test]
fn replace_source_has_no_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    for _ in 0..2 {
        let mut writer = store.begin_replace(&meta("feed")).unwrap();
        writer.sighting(&ip_sighting("192.0.2.1")).unwrap();
        writer.sighting(&ip_sighting("192.0.2.2")).unwrap();
        writer.commit(0).unwrap();
    }
    let found = store
        .sightings_by_values(&["192.0.2.1".to_string()])
        .unwrap();
    assert_eq!(found.len(), 1);
    let sources = store.sources().unwrap();
    assert_eq!(sources.len(), 1);
    assert_eq!(sources[0].records, 2);
}

#[test]
fn uncommitted_replace_keeps_earlier_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut writer = store.begin_replace(&meta("feed")).unwrap();
    writer.sighting(&ip_sighting("192.0.2.1")).unwrap();
    writer.commit(0).unwrap();

    let mut writer = store.begin_replace(&meta("feed")).unwrap();
    assert_eq!(writer.previous_records(), Some(1));
    writer.sighting(&ip_sighting("198.51.100.9")).unwrap();
    drop(writer);

    assert_eq!(
        store
            .sightings_by_values(&["192.0.2.1".to_string()])
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .sightings_by_values(&["198.51.100.9".to_string()])
            .unwrap()
            .is_empty()
    );
}

#[test]
fn address_scan_reads_candidate_networks() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut writer = store.begin_replace(&meta("drop")).unwrap();
    for net in ["192.0.2.0/24", "198.51.100.128/25", "2001:db8:1::/48"] {
        let subject = Subject::Network(net.parse().unwrap());
        writer
            .sighting(&Sighting::new(
                subject,
                ClaimKind::Malicious,
                ThreatType::HijackedNetwork,
                0.9,
            ))
            .unwrap();
    }
    writer.commit(0).unwrap();

    let networks = |address: &str| scanned(&store, address).network_sightings;
    assert_eq!(networks("192.0.2.200"), ["192.0.2.0/24"]);
    assert_eq!(networks("198.51.100.200"), ["198.51.100.128/25"]);
    assert!(networks("198.51.100.1").is_empty());
    assert_eq!(networks("2001:db8:1:ffff::1"), ["2001:db8:1::/48"]);
    assert!(networks("2001:db8:2::1").is_empty());
    let all = scan(&store, ScanScope::All).network_sightings;
    assert_eq!(all.len(), 3);
}

#[test]
fn allow_entries_match_by_network_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut writer = store.begin_replace(&meta("misp-warninglist/test")).unwrap();
    let entries = [
        AllowMatch::Network("203.0.113.0/28".parse().unwrap()),
        AllowMatch::Hostname("example.org".into()),
        AllowMatch::Exact("d41d8cd98f00b204e9800998ecf8427e".into()),
        AllowMatch::Substring("cdn".into()),
    ];
    for matcher in entries {
        writer
            .allow(&AllowEntry {
                matcher,
                category: AllowCategory::Cdn,
                rank: None,
            })
            .unwrap();
    }
    writer.commit(0).unwrap();

    assert_eq!(
        scanned(&store, "203.0.113.5").allow_networks,
        ["203.0.113.0/28"]
    );
    // A scan reads every network whose first address is the address masked to some prefix
    // length; the reader checks the prefix length.
    assert_eq!(
        scanned(&store, "203.0.113.16").allow_networks,
        ["203.0.113.0/28"]
    );
    assert!(scanned(&store, "203.0.114.1").allow_networks.is_empty());
    let found = store.allow_by_values(&["example.org".to_string()]).unwrap();
    assert_eq!(found[0].match_kind, "hostname");
    assert_eq!(found[0].category, AllowCategory::Cdn);
    assert_eq!(store.allow_patterns().unwrap().len(), 1);
}

#[test]
fn address_scan_reads_nearest_asn_range() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut writer = store.begin_replace(&meta("asn-ipv4")).unwrap();
    let range = AsnRange {
        start: ip("192.0.2.0"),
        end: ip("192.0.2.127"),
        asn: 64500,
        organization: "Example Net".into(),
    };
    writer.asn_range(&range).unwrap();
    let range = AsnRange {
        start: ip("2001:db8::"),
        end: ip("2001:db8::ffff"),
        asn: 64501,
        organization: "Example Six".into(),
    };
    writer.asn_range(&range).unwrap();
    writer.commit(0).unwrap();

    // An address scan reads the range that starts last at or before the address; the
    // reader checks whether it also ends after it.
    let asn = |address: &str| scanned(&store, address).asn_ranges;
    assert_eq!(asn("192.0.2.100"), [64500]);
    assert_eq!(asn("192.0.2.128"), [64500]);
    assert!(asn("192.0.1.255").is_empty());
    assert_eq!(asn("2001:db8::1"), [64501]);
    assert_eq!(scan(&store, ScanScope::All).asn_ranges, [64500, 64501]);
}

#[test]
fn url_sightings_link_to_host_and_registered_domain() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut writer = store.begin_replace(&meta("urls")).unwrap();
    for url in [
        "http://192.0.2.8:8080/bin.sh",
        "https://files.example.net/a.exe",
    ] {
        let subject = Subject::Url(url.to_string());
        writer
            .sighting(&Sighting::new(
                subject,
                ClaimKind::Malicious,
                ThreatType::MalwareDownload,
                0.8,
            ))
            .unwrap();
    }
    let subject = Subject::Hash(HashKind::Md5, "0".repeat(32));
    writer
        .sighting(&Sighting::new(
            subject,
            ClaimKind::Malicious,
            ThreatType::Malware,
            0.9,
        ))
        .unwrap();
    writer.commit(0).unwrap();

    let on_ip = store
        .sightings_by_url_host(&["192.0.2.8".to_string()], 10)
        .unwrap();
    assert_eq!(on_ip.len(), 1);
    assert_eq!(on_ip[0].value, "http://192.0.2.8:8080/bin.sh");
    let under = store
        .sightings_by_registered_domain("example.net", 10)
        .unwrap();
    assert_eq!(under.len(), 1);
    assert_eq!(store.sightings_by_source("urls", 10).unwrap().len(), 3);
}

#[test]
fn duplicate_records_are_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut writer = store.begin_replace(&meta("feed")).unwrap();
    writer.sighting(&ip_sighting("192.0.2.1")).unwrap();
    writer.sighting(&ip_sighting("192.0.2.1")).unwrap();
    let entry = AllowEntry {
        matcher: AllowMatch::Hostname("example.org".into()),
        category: AllowCategory::TopSite,
        rank: None,
    };
    writer.allow(&entry).unwrap();
    writer.allow(&entry).unwrap();
    assert_eq!(writer.records(), 2);
    writer.commit(0).unwrap();
    assert_eq!(
        store
            .sightings_by_values(&["192.0.2.1".to_string()])
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.sources().unwrap()[0].records, 2);
}

fn vuln_row(number: usize, title: &str, description: &str) -> VulnRow {
    VulnRow {
        cve: format!("CVE-2024-{number:05}"),
        severity: 2,
        data: format!("{{\"id\":\"CVE-2024-{number:05}\"}}"),
        title: title.to_string(),
        description: description.to_string(),
        ..VulnRow::default()
    }
}

#[test]
fn vuln_relevance_ranks_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let total = RANK_WINDOW + 5;
    // Rows are in priority order; the last one, outside the window, has the best title.
    let rows: Vec<VulnRow> = (0..total)
        .map(|n| match n {
            3 => vuln_row(n, "alpha gateway", "alpha"),
            n if n == total - 1 => vuln_row(n, "alpha alpha", "alpha"),
            n => vuln_row(n, "other", "alpha appears in the text"),
        })
        .collect();
    store.replace_vulns("v1", &rows, &[]).unwrap();
    assert_eq!(store.vuln_index_version().unwrap().as_deref(), Some("v1"));
    let filter = VulnFilter::default();

    let (count, page) = store
        .search_vulns("\"alpha\"", &filter, VulnOrder::Relevance, 0, 2)
        .unwrap();
    assert_eq!(count, total as u64);
    assert_eq!(
        page[0], "{\"id\":\"CVE-2024-00003\"}",
        "best title in the window"
    );
    assert_eq!(
        page[1], "{\"id\":\"CVE-2024-00000\"}",
        "then priority order"
    );

    let (_, rest) = store
        .search_vulns(
            "\"alpha\"",
            &filter,
            VulnOrder::Relevance,
            RANK_WINDOW - 1,
            3,
        )
        .unwrap();
    assert_eq!(rest.len(), 3);
    assert_eq!(
        rest[1],
        format!("{{\"id\":\"CVE-2024-{RANK_WINDOW:05}\"}}"),
        "after the window, priority order"
    );

    let (_, priority) = store
        .search_vulns("\"alpha\"", &filter, VulnOrder::Priority, 0, 1)
        .unwrap();
    assert_eq!(priority, ["{\"id\":\"CVE-2024-00000\"}"]);
}

#[test]
fn vuln_filters_and_aliases() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut kev = vuln_row(1, "gateway flaw", "text");
    kev.in_kev = true;
    kev.severity = 4;
    kev.published = Some("2024-05-01".to_string());
    let plain = vuln_row(2, "gateway bug", "text");
    let aliases = [("CNVD-2024-00001".to_string(), kev.cve.clone())];
    store.replace_vulns("v1", &[kev, plain], &aliases).unwrap();

    let only_kev = VulnFilter {
        kev_only: true,
        ..VulnFilter::default()
    };
    let (count, _) = store
        .search_vulns("\"gateway\"", &only_kev, VulnOrder::Relevance, 0, 10)
        .unwrap();
    assert_eq!(count, 1);
    let critical = VulnFilter {
        min_severity: 4,
        since: Some("2024-01-01".to_string()),
        ..VulnFilter::default()
    };
    let (count, _) = store
        .search_vulns("\"gateway\"", &critical, VulnOrder::Date, 0, 10)
        .unwrap();
    assert_eq!(count, 1);
    assert_eq!(
        store.vuln_alias("CNVD-2024-00001").unwrap(),
        ["CVE-2024-00001"]
    );
    assert_eq!(
        store.vuln_aliases_of("CVE-2024-00001").unwrap(),
        ["CNVD-2024-00001"]
    );
    assert_eq!(store.vuln_count().unwrap(), 2);

    store.replace_vulns("v2", &[], &[]).unwrap();
    assert_eq!(
        store.vuln_count().unwrap(),
        0,
        "a rebuild replaces everything"
    );
    assert_eq!(store.vuln_alias_count().unwrap(), 0);
}

/// Values of the rows a scan passed to its visitor, by kind of match.
#[derive(Default)]
struct Scanned {
    exact_sightings: Vec<String>,
    network_sightings: Vec<String>,
    hosted_urls: Vec<String>,
    exact_allows: Vec<String>,
    allow_networks: Vec<String>,
    asn_ranges: Vec<u32>,
}

impl AddressVisitor for Scanned {
    fn sources(&mut self, _: Vec<ScannedSource>) -> Result<(), StoreError> {
        Ok(())
    }

    fn sighting(&mut self, sighting: SightingView<'_>) -> Result<(), StoreError> {
        let list = match sighting.matched {
            AddressMatch::Exact(_) => &mut self.exact_sightings,
            AddressMatch::Network { .. } => &mut self.network_sightings,
            AddressMatch::UrlHost(_) => &mut self.hosted_urls,
        };
        list.push(sighting.value.to_string());
        Ok(())
    }

    fn allow(&mut self, entry: AllowView<'_>) -> Result<(), StoreError> {
        let list = match entry.matched {
            AddressMatch::Network { .. } => &mut self.allow_networks,
            _ => &mut self.exact_allows,
        };
        list.push(entry.value.to_string());
        Ok(())
    }

    fn asn_range(&mut self, range: AsnView<'_>) -> Result<(), StoreError> {
        self.asn_ranges.push(range.asn);
        Ok(())
    }
}

fn scan(store: &Store, scope: ScanScope) -> Scanned {
    let mut scanned = Scanned::default();
    store.scan_addresses(scope, &mut scanned).unwrap();
    scanned
}

fn scanned(store: &Store, address: &str) -> Scanned {
    scan(store, ScanScope::Address(ip(address)))
}

#[test]
fn scan_reads_values_in_canonical_text_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut writer = store.begin_replace(&meta("mixed")).unwrap();
    let subjects = [
        Subject::Ip(ip("192.0.2.1")),
        Subject::Ip(ip("2001:db8::1")),
        Subject::Domain("192.0.2.1.example.com".into()),
        Subject::Url("http://192.0.2.1:8080/a".into()),
        Subject::Url("http://[2001:db8::1]/b".into()),
        Subject::Url("https://example.com/c".into()),
    ];
    for subject in subjects {
        let sighting = Sighting::new(subject, ClaimKind::Malicious, ThreatType::Malware, 0.5);
        writer.sighting(&sighting).unwrap();
    }
    let entries = [
        AllowMatch::Exact("192.0.2.9".into()),
        AllowMatch::Exact("d41d8cd98f00b204e9800998ecf8427e".into()),
        AllowMatch::Hostname("example.org".into()),
    ];
    for matcher in entries {
        let entry = AllowEntry {
            matcher,
            category: AllowCategory::Other,
            rank: None,
        };
        writer.allow(&entry).unwrap();
    }
    writer.commit(0).unwrap();

    let all = scan(&store, ScanScope::All);
    assert_eq!(all.exact_sightings, ["192.0.2.1", "2001:db8::1"]);
    assert_eq!(
        all.hosted_urls,
        ["http://192.0.2.1:8080/a", "http://[2001:db8::1]/b"]
    );
    assert_eq!(all.exact_allows, ["192.0.2.9"]);
    let one = scanned(&store, "192.0.2.1");
    assert_eq!(one.exact_sightings, ["192.0.2.1"]);
    assert_eq!(one.hosted_urls, ["http://192.0.2.1:8080/a"]);
    assert!(one.exact_allows.is_empty());
}
