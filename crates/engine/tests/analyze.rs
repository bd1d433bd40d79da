//! Import the fixture feeds into a temporary store and check the reports end to end.

use std::path::{Path, PathBuf};

use tiq_engine::{AnalyzeError, Engine, FileStatus, ImportOptions, IpIndexing, import};
use tiq_model::{AllowCategory, Indicator, IndicatorKind, Lang, Report, Verdict};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/feeds")
}

fn imported() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let summary = import::import(dir.path(), &[fixtures()], &ImportOptions::default()).unwrap();
    for file in &summary.files {
        assert_eq!(file.status, FileStatus::Imported, "{}", file.path.display());
    }
    let engine = Engine::open(dir.path()).unwrap();
    assert!(engine.wait_for_ip_index());
    (dir, engine)
}

fn analyze(engine: &Engine, kind: IndicatorKind, value: &str) -> Report {
    engine
        .analyze(kind, value, Lang::En)
        .unwrap_or_else(|e| panic!("{value}: {e}"))
}

fn sources(report: &Report) -> Vec<&str> {
    report.evidence.iter().map(|e| e.source.as_str()).collect()
}

#[test]
fn import_reads_every_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let summary = import::import(dir.path(), &[fixtures()], &ImportOptions::default()).unwrap();
    assert_eq!(summary.files.len(), 10);
    assert!(summary.files.iter().all(|f| f.format.is_some()));
    assert_eq!(summary.records(), 19);
}

#[test]
fn heavily_listed_ip_is_malicious() {
    let (_dir, engine) = imported();
    let report = analyze(&engine, IndicatorKind::Ip, "198.51.100.10");
    assert_eq!(report.verdict, Verdict::Malicious);
    assert!(
        sources(&report).contains(&"ipsum"),
        "{:?}",
        sources(&report)
    );
    assert_eq!(report.profile.asn, Some(64501));
    assert_eq!(report.profile.as_name.as_deref(), Some("Documentation Net"));
    assert_eq!(report.profile.network.as_deref(), Some("198.51.100.0/24"));
}

#[test]
fn resolver_outweighs_weak_listing() {
    let (_dir, engine) = imported();
    let report = analyze(&engine, IndicatorKind::Ip, "203.0.113.53");
    assert_eq!(report.verdict, Verdict::Benign, "{}", report.summary);
    let resolver = report
        .benign_matches
        .iter()
        .find(|m| m.category == AllowCategory::PublicResolver);
    assert_eq!(resolver.map(|m| m.list.as_str()), Some("public-dns-v4"));
    assert!(
        report.summary.contains("public-dns-v4"),
        "{}",
        report.summary
    );
}

#[test]
fn listed_network_contains_address() {
    let (_dir, engine) = imported();
    let report = analyze(&engine, IndicatorKind::Ip, "192.0.2.77");
    assert_eq!(report.verdict, Verdict::Malicious);
    assert_eq!(
        report.evidence.len(),
        1,
        "the plain and JSON copies are one record"
    );
    assert_eq!(report.evidence[0].matched, "192.0.2.0/25");
    assert!(
        report.evidence[0].labels.contains(&"SBL000001".to_string()),
        "{:?}",
        report.evidence[0].labels
    );
    let outside = analyze(&engine, IndicatorKind::Ip, "192.0.2.200");
    assert_eq!(outside.verdict, Verdict::Unknown);
}

#[test]
fn cloud_range_lowers_confidence() {
    let (_dir, engine) = imported();
    let report = analyze(&engine, IndicatorKind::Ip, "203.0.113.80");
    assert_eq!(report.verdict, Verdict::Malicious);
    assert!(
        report.profile.flags.contains(&"cloud".to_string()),
        "{:?}",
        report.profile.flags
    );
    let weight = report
        .evidence
        .iter()
        .find(|e| e.source == "ipsum")
        .unwrap()
        .weight;
    assert!(
        report.confidence < weight,
        "{} vs {weight}",
        report.confidence
    );
}

#[test]
fn eset_hash_is_malicious_with_family() {
    let (_dir, engine) = imported();
    let hash = "0A4479F7AB080E8504C4F00B29A67068AA4479F7AB080E8504C4F00B29A67068";
    let report = analyze(&engine, IndicatorKind::Hash, hash);
    assert_eq!(report.verdict, Verdict::Malicious);
    assert_eq!(report.indicator.value, hash.to_ascii_lowercase());
    let names = [report.families.clone(), report.actors.clone()].concat();
    assert!(
        names.iter().any(|f| f.name.eq_ignore_ascii_case("turla")),
        "{names:?}"
    );
    assert_eq!(report.profile.hash_type.as_deref(), Some("sha256"));
}

#[test]
fn urlhaus_url_is_malicious() {
    let (_dir, engine) = imported();
    let report = analyze(
        &engine,
        IndicatorKind::Url,
        "hxxp://198.51.100[.]20:50140/bin.sh",
    );
    assert_eq!(report.verdict, Verdict::Malicious);
    assert_eq!(report.profile.port, Some(50140));
    let host = analyze(&engine, IndicatorKind::Ip, "198.51.100.20");
    assert!(
        host.related
            .iter()
            .any(|r| r.value == "http://198.51.100.20:50140/bin.sh"),
        "{:?}",
        host.related
    );
}

#[test]
fn top_site_subdomain_is_benign() {
    let (_dir, engine) = imported();
    let report = analyze(&engine, IndicatorKind::Domain, "WWW.Example.ORG.");
    assert_eq!(report.verdict, Verdict::Benign);
    assert_eq!(
        report.profile.registered_domain.as_deref(),
        Some("example.org")
    );
}

#[test]
fn other_subdomain_of_top_site_is_unknown() {
    let (_dir, engine) = imported();
    let report = analyze(&engine, IndicatorKind::Domain, "anything.example.org");
    assert_eq!(report.verdict, Verdict::Unknown, "{}", report.summary);
    assert!(report.summary.contains("tranco10k"), "{}", report.summary);
}

#[test]
fn url_listing_beats_host_top_site() {
    let (_dir, engine) = imported();
    let report = analyze(
        &engine,
        IndicatorKind::Url,
        "https://www.example.com/phish/login.php",
    );
    assert_eq!(report.verdict, Verdict::Suspicious, "{}", report.summary);
    // A popular host does not vouch for every page on it.
    let unlisted = analyze(
        &engine,
        IndicatorKind::Url,
        "https://www.example.com/index.html",
    );
    assert_eq!(unlisted.verdict, Verdict::Unknown, "{}", unlisted.summary);
}

#[test]
fn listed_home_page_counts_for_domain() {
    let (_dir, engine) = imported();
    let report = analyze(&engine, IndicatorKind::Domain, "login.example.net");
    assert_eq!(report.verdict, Verdict::Suspicious, "{}", report.summary);
    let note = report.evidence[0].note.clone().unwrap_or_default();
    assert!(note.contains("home page"), "{note}");
}

#[test]
fn unlisted_domain_is_unknown_not_benign() {
    let (_dir, engine) = imported();
    let report = analyze(&engine, IndicatorKind::Domain, "unlisted.example.net");
    assert_eq!(report.verdict, Verdict::Unknown);
    assert_eq!(report.threat_level.level, 0);
    assert!(
        report.summary.contains("does not mean safe"),
        "{}",
        report.summary
    );
}

#[test]
fn private_address_is_not_looked_up() {
    let (_dir, engine) = imported();
    let report = analyze(&engine, IndicatorKind::Ip, "10.1.2.3");
    assert_eq!(report.profile.scope.as_deref(), Some("private"));
    assert_eq!(report.verdict, Verdict::Unknown);
    assert!(report.evidence.is_empty());
    let zh = engine
        .analyze(IndicatorKind::Ip, "10.1.2.3", Lang::ZhCn)
        .unwrap();
    assert!(zh.summary.contains("私有"), "{}", zh.summary);
}

#[test]
fn invalid_input_names_the_value() {
    let (_dir, engine) = imported();
    let error = engine
        .analyze(IndicatorKind::Ip, "300.1.1.1", Lang::En)
        .unwrap_err();
    assert!(matches!(error, AnalyzeError::Invalid(_)));
    assert!(error.to_string().contains("300.1.1.1"), "{error}");
}

#[test]
fn reimport_leaves_no_duplicates() {
    let (dir, engine) = imported();
    let before = analyze(&engine, IndicatorKind::Ip, "198.51.100.10")
        .evidence
        .len();
    let sources_before = engine.sources().unwrap().len();
    import::import(dir.path(), &[fixtures()], &ImportOptions::default()).unwrap();
    engine.reload().unwrap();
    assert_eq!(
        analyze(&engine, IndicatorKind::Ip, "198.51.100.10")
            .evidence
            .len(),
        before
    );
    assert_eq!(engine.sources().unwrap().len(), sources_before);
}

fn write_ipsum(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("ipsum.txt");
    let header = "# IPsum Threat Intelligence Feed\n# (https://github.com/stamparm/ipsum)\n#\n# IP\tnumber of (black)lists\n#\n";
    std::fs::write(&path, format!("{header}{body}")).unwrap();
    path
}

#[test]
fn broken_file_keeps_earlier_records() {
    let (dir, engine) = imported();
    let update = tempfile::tempdir().unwrap();
    let path = write_ipsum(
        update.path(),
        "198.51.100.99\t3\nnot-an-ip\t2\n999.1.1.1\t4\nalso bad\n",
    );
    let summary = import::import(dir.path(), &[path], &ImportOptions::default()).unwrap();
    assert!(
        matches!(summary.files[0].status, FileStatus::Kept(_)),
        "{:?}",
        summary.files[0].status
    );
    let lines: Vec<u64> = summary.files[0]
        .rejected_lines
        .iter()
        .map(|(line, _)| *line)
        .collect();
    assert_eq!(lines, [7, 8, 9]);
    engine.reload().unwrap();
    assert_eq!(
        analyze(&engine, IndicatorKind::Ip, "198.51.100.10").verdict,
        Verdict::Malicious
    );
    assert_eq!(
        analyze(&engine, IndicatorKind::Ip, "198.51.100.99").verdict,
        Verdict::Unknown
    );
}

#[test]
fn large_shrink_needs_consent() {
    let (dir, engine) = imported();
    let update = tempfile::tempdir().unwrap();
    let body: String = (1..=40).map(|i| format!("198.51.100.{i}\t2\n")).collect();
    import::import(
        dir.path(),
        &[write_ipsum(update.path(), &body)],
        &ImportOptions::default(),
    )
    .unwrap();
    assert!(engine.reload_if_changed().unwrap());

    let small = write_ipsum(update.path(), "198.51.100.200\t3\n");
    let kept = import::import(
        dir.path(),
        std::slice::from_ref(&small),
        &ImportOptions::default(),
    )
    .unwrap();
    assert!(
        matches!(&kept.files[0].status, FileStatus::Kept(reason) if reason.contains("--accept-shrink"))
    );
    engine.reload().unwrap();
    assert_eq!(
        analyze(&engine, IndicatorKind::Ip, "198.51.100.7").verdict,
        Verdict::Suspicious
    );

    let accepted = import::import(
        dir.path(),
        &[small],
        &ImportOptions {
            accept_shrink: true,
            ..ImportOptions::default()
        },
    )
    .unwrap();
    assert_eq!(accepted.files[0].status, FileStatus::Imported);
    assert!(engine.reload_if_changed().unwrap());
    assert_eq!(
        analyze(&engine, IndicatorKind::Ip, "198.51.100.7").verdict,
        Verdict::Unknown
    );
}

#[test]
fn ip_lookups_see_an_import_after_reload() {
    let (dir, engine) = imported();
    assert_eq!(
        analyze(&engine, IndicatorKind::Ip, "198.51.100.77").verdict,
        Verdict::Unknown
    );
    let update = tempfile::tempdir().unwrap();
    let body: String = (1..=40)
        .map(|i| format!("198.51.100.{}\t3\n", i + 50))
        .collect();
    import::import(
        dir.path(),
        &[write_ipsum(update.path(), &body)],
        &ImportOptions::default(),
    )
    .unwrap();

    // The index is a snapshot: it changes with a reload, not with the store.
    assert_eq!(
        analyze(&engine, IndicatorKind::Ip, "198.51.100.77").verdict,
        Verdict::Unknown
    );
    assert!(engine.reload_if_changed().unwrap());
    let listed = analyze(&engine, IndicatorKind::Ip, "198.51.100.77");
    assert_eq!(sources(&listed), ["ipsum"]);
    assert_eq!(listed.verdict, Verdict::Malicious);
    // The new ipsum file replaced the old one, which listed 198.51.100.10.
    let replaced = analyze(&engine, IndicatorKind::Ip, "198.51.100.10");
    assert!(
        !sources(&replaced).contains(&"ipsum"),
        "{:?}",
        sources(&replaced)
    );
}

/// Addresses covering every kind of fixture match: listed addresses, listed and nested
/// networks, allow-list addresses and networks, ASN range bounds, IPv6, private and
/// unlisted addresses.
const FIXTURE_ADDRESSES: &[&str] = &[
    "198.51.100.10",
    "198.51.100.20",
    "198.51.100.0",
    "198.51.100.255",
    "198.51.101.0",
    "192.0.2.0",
    "192.0.2.77",
    "192.0.2.127",
    "192.0.2.128",
    "192.0.2.200",
    "203.0.113.53",
    "203.0.113.80",
    "203.0.113.1",
    "8.8.4.4",
    "2001:db8::1",
    "2001:db8:ffff::1",
    "10.1.2.3",
    "fd00::1",
    "1.1.1.1",
];

#[test]
fn address_scan_matches_whole_index() {
    let (dir, indexed) = imported();
    let scanned = Engine::open_with(dir.path(), IpIndexing::Off).unwrap();
    assert!(!scanned.wait_for_ip_index());
    for address in FIXTURE_ADDRESSES {
        for lang in [Lang::En, Lang::ZhCn] {
            let whole = indexed.analyze(IndicatorKind::Ip, address, lang).unwrap();
            let scan = scanned.analyze(IndicatorKind::Ip, address, lang).unwrap();
            assert_eq!(whole, scan, "{address}");
        }
        let host = match address.contains(':') {
            true => format!("[{address}]"),
            false => address.to_string(),
        };
        let url = format!("http://{host}:50140/bin.sh");
        if let (Ok(whole), Ok(scan)) = (
            indexed.analyze(IndicatorKind::Url, &url, Lang::En),
            scanned.analyze(IndicatorKind::Url, &url, Lang::En),
        ) {
            assert_eq!(whole, scan, "{url}");
        }
    }
}

#[test]
fn missing_path_is_reported_and_import_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let paths = [
        PathBuf::from("/nonexistent/tiq-feed"),
        fixtures().join("ipsum"),
    ];
    let summary = import::import(dir.path(), &paths, &ImportOptions::default()).unwrap();
    assert!(
        summary
            .files
            .iter()
            .any(|f| matches!(f.status, FileStatus::Failed(_)))
    );
    assert!(
        summary
            .files
            .iter()
            .any(|f| f.status == FileStatus::Imported)
    );
}

#[test]
fn same_input_gives_same_report() {
    let (_dir, engine) = imported();
    let first = analyze(&engine, IndicatorKind::Ip, "198.51.100.10");
    let second = analyze(&engine, IndicatorKind::Ip, "198.51.100.10");
    assert_eq!(first, second);
}

#[test]
fn two_maxmind_files_with_one_name_are_reported() {
    let tiny = Path::new(env!("CARGO_MANIFEST_DIR")).join("../feeds/tests/fixtures/maxmind-db");
    let tiny = std::fs::read_dir(&tiny)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let folder = tempfile::tempdir().unwrap();
    for sub in ["a", "b"] {
        std::fs::create_dir(folder.path().join(sub)).unwrap();
        std::fs::copy(&tiny, folder.path().join(sub).join("geo.mmdb")).unwrap();
    }
    let data = tempfile::tempdir().unwrap();
    let summary = import::import(
        data.path(),
        &[folder.path().to_path_buf()],
        &ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(summary.files.len(), 2);
    assert_eq!(summary.count(|s| *s == FileStatus::Imported), 1);
    assert!(
        summary
            .files
            .iter()
            .any(|f| matches!(&f.status, FileStatus::Failed(r) if r.contains("rename")))
    );
}

#[test]
fn kept_vulnerability_files_do_not_count_as_geolocation() {
    let feeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../feeds/tests/fixtures");
    let data = tempfile::tempdir().unwrap();
    let paths = [feeds.join("cisa-kev-json"), feeds.join("maxmind-db")];
    let summary = import::import(data.path(), &paths, &ImportOptions::default()).unwrap();
    assert!(summary.files.len() >= 2);
    for file in &summary.files {
        assert_eq!(file.status, FileStatus::Imported, "{}", file.path.display());
    }
    let engine = Engine::open(data.path()).unwrap();
    assert_eq!(engine.sources().unwrap().len(), summary.files.len());
}

#[test]
fn progress_counts_every_stored_record() {
    let data = tempfile::tempdir().unwrap();
    let seen = std::sync::Mutex::new(Vec::new());
    let progress = |records| seen.lock().unwrap().push(records);
    let options = ImportOptions {
        progress: Some(&progress),
        ..ImportOptions::default()
    };
    let summary = import::import(data.path(), &[fixtures()], &options).unwrap();
    let seen = seen.into_inner().unwrap();
    assert!(!seen.is_empty());
    assert!(seen.windows(2).all(|pair| pair[0] <= pair[1]), "{seen:?}");
    assert_eq!(seen.last().copied(), Some(summary.records()));
}

#[test]
fn kev_as_json_and_csv_counts_once() {
    let feeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../feeds/tests/fixtures");
    let data = tempfile::tempdir().unwrap();
    let paths = [feeds.join("cisa-kev-json"), feeds.join("cisa-kev-csv")];
    let summary = import::import(data.path(), &paths, &ImportOptions::default()).unwrap();
    let per_file: Vec<u64> = summary.files.iter().map(|f| f.records).collect();
    assert_eq!(per_file.len(), 2);
    let engine = Engine::open(data.path()).unwrap();
    let sources = engine.sources().unwrap();
    assert_eq!(sources.len(), 1);
    assert_eq!(sources[0].records, *per_file.iter().max().unwrap());
}

#[test]
fn reload_if_changed_sees_another_import() {
    let data = tempfile::tempdir().unwrap();
    import::import(
        data.path(),
        &[fixtures().join("ipsum")],
        &ImportOptions::default(),
    )
    .unwrap();
    let engine = Engine::open(data.path()).unwrap();
    assert!(!engine.reload_if_changed().unwrap(), "nothing changed yet");

    let feeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../feeds/tests/fixtures");
    import::import(
        data.path(),
        &[feeds.join("maxmind-db")],
        &ImportOptions::default(),
    )
    .unwrap();
    assert!(engine.reload_if_changed().unwrap(), "a source was added");
    assert!(!engine.reload_if_changed().unwrap(), "already reloaded");
}

#[test]
fn evaluation_samples_feeds_and_benign_lists_repeatably() {
    let (_dir, engine) = imported();
    let options = tiq_engine::evaluate::EvaluateOptions {
        sample: 100,
        seed: 7,
        hold_out: Some("ipsum".to_string()),
    };
    let first = engine.evaluate(&options).unwrap();
    assert!(first.recall.sampled > 0);
    assert!(first.recall.flagged <= first.recall.sampled);
    assert_eq!(
        first.recall.sampled - first.recall.flagged,
        first.recall.misses.len()
    );
    let benign: usize = first.benign.iter().map(|set| set.sampled).sum();
    assert!(benign > 0, "the fixtures hold known-benign lists");
    let hold_out = first.hold_out.as_ref().unwrap();
    assert!(hold_out.sampled > 0);
    assert!(hold_out.known_elsewhere <= hold_out.sampled);

    let second = engine.evaluate(&options).unwrap();
    assert_eq!(
        serde_json::to_string(&first).unwrap(),
        serde_json::to_string(&second).unwrap(),
        "the same seed samples the same indicators"
    );
}

#[test]
fn memo_matches_fresh_analysis() {
    let (_dir, engine) = imported();
    let cases = [
        (IndicatorKind::Ip, "198.51.100.10"),
        (IndicatorKind::Ip, "198.51.100[.]10"),
        (IndicatorKind::Domain, "WWW.Example.ORG."),
        (IndicatorKind::Url, "http://198.51.100.10/x"),
    ];
    for (kind, input) in cases {
        for lang in [Lang::En, Lang::ZhCn] {
            let first = engine.analyze(kind, input, lang).unwrap();
            // The memo keeps a report the second time it is requested.
            engine.analyze(kind, input, lang).unwrap();
            let repeated = engine.analyze(kind, input, lang).unwrap();
            let indicator = Indicator::parse_as(kind, input).unwrap();
            let fresh = engine.analyze_indicator(input, &indicator, lang).unwrap();
            assert_eq!(repeated, first, "{input} {lang:?}");
            assert_eq!(repeated, fresh, "{input} {lang:?}");
            assert_eq!(repeated.input, input);
        }
    }
}

#[test]
fn memo_keeps_languages_apart() {
    let (_dir, engine) = imported();
    let english = analyze(&engine, IndicatorKind::Ip, "198.51.100.10");
    let chinese = engine
        .analyze(IndicatorKind::Ip, "198.51.100.10", Lang::ZhCn)
        .unwrap();
    assert_eq!(chinese.lang, Lang::ZhCn);
    assert_ne!(chinese.summary, english.summary);
}

#[test]
fn repeated_reports_change_at_reload() {
    let (dir, engine) = imported();
    let before = analyze(&engine, IndicatorKind::Domain, "listed.example.net");
    assert_eq!(before.verdict, Verdict::Unknown);
    analyze(&engine, IndicatorKind::Domain, "listed.example.net");
    let update = tempfile::tempdir().unwrap();
    let trails = update.path().join("maltrail/malware");
    std::fs::create_dir_all(&trails).unwrap();
    std::fs::write(
        trails.join("example_loader.txt"),
        "# Copyright (c) Maltrail developers, trail format; test fixture\n\nlisted.example.net\n",
    )
    .unwrap();
    let summary = import::import(
        dir.path(),
        &[update.path().join("maltrail")],
        &ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(summary.files[0].status, FileStatus::Imported, "{summary:?}");
    // Until the reload, the memo repeats the report it kept.
    let repeated = analyze(&engine, IndicatorKind::Domain, "listed.example.net");
    assert_eq!(repeated.verdict, Verdict::Unknown);
    assert!(engine.reload_if_changed().unwrap());
    let after = analyze(&engine, IndicatorKind::Domain, "listed.example.net");
    assert_ne!(after.verdict, Verdict::Unknown, "{after:?}");
}
