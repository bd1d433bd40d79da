//! Scanning logs over the fixture feeds: ranking, totals, what the log shows becoming
//! evidence, limits, and the block rules written from a scan.

use std::path::Path;

use tiq_engine::blocklist::{self, BlockFormat};
use tiq_engine::scan::ScanLimits;
use tiq_engine::{Engine, ImportOptions, import};
use tiq_model::scan::{FoundKind, ScanReport};
use tiq_model::{Lang, Verdict};

/// Imports the fixture feeds into a temporary data directory and opens it.
fn imported() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/feeds");
    import::import(dir.path(), &[fixtures], &ImportOptions::default()).unwrap();
    let engine = Engine::open(dir.path()).unwrap();
    assert!(engine.wait_for_ip_index());
    (dir, engine)
}

/// Returns a log with a listed address, an unlisted one guessing SSH passwords, an internal
/// one guessing too, a benign domain, a CVE id and a range.
fn mixed_log() -> String {
    let mut log = String::new();
    for second in 0..6 {
        log.push_str(&format!(
            "Dec  5 10:00:{second:02} gw sshd[7]: Failed password for root from 192.0.2.200 port 4{second}000 ssh2\n"
        ));
        log.push_str(&format!(
            "Dec  5 10:01:{second:02} gw sshd[7]: Failed password for admin from 10.9.8.7 port 5{second}000 ssh2\n"
        ));
    }
    log.push_str(
        "198.51.100.10 - - [05/Dec/2026:10:02:00 +0000] \"GET /shell.php HTTP/1.1\" 404 0 \"https://www.example.org/\" \"curl/8\"\n",
    );
    log.push_str("Advisory: CVE-2021-44228; block 203.0.113.0/24.\n");
    log
}

fn scan(engine: &Engine, text: &str, lang: Lang) -> ScanReport {
    engine.scan_text(text, ScanLimits::default(), lang)
}

#[test]
fn ranks_malicious_first_with_totals() {
    let (_dir, engine) = imported();
    let report = scan(&engine, &mixed_log(), Lang::En);
    let order: Vec<(&str, Option<Verdict>)> = report
        .indicators
        .iter()
        .map(|item| (item.value.as_str(), item.verdict))
        .collect();
    assert_eq!(order[0], ("198.51.100.10", Some(Verdict::Malicious)));
    assert_eq!(
        &order[1..3],
        [
            ("192.0.2.200", Some(Verdict::Suspicious)),
            ("10.9.8.7", Some(Verdict::Suspicious)),
        ]
    );
    let benign = order
        .iter()
        .position(|(value, _)| *value == "www.example.org")
        .unwrap();
    assert_eq!(order[benign].1, Some(Verdict::Benign));
    assert_eq!(order.last().unwrap().1, None);

    let totals = report.totals;
    assert_eq!(totals.indicators as usize, report.indicators.len());
    assert_eq!(
        (totals.malicious, totals.suspicious, totals.benign),
        (1, 2, 1)
    );
    assert_eq!(totals.not_analyzed, 2, "the CVE id and the range");
    assert_eq!(report.lines, 14);
    assert_eq!(report.formats.get("syslog"), Some(&12));
    assert_eq!(report.formats.get("access_log"), Some(&1));
    assert!(
        report.summary.contains("198.51.100.10 (malicious"),
        "{}",
        report.summary
    );
}

#[test]
fn password_guessing_becomes_evidence() {
    let (_dir, engine) = imported();
    let report = scan(&engine, &mixed_log(), Lang::En);
    let guesser = report
        .indicators
        .iter()
        .find(|item| item.value == "192.0.2.200")
        .unwrap();
    let compact = guesser.report.as_ref().unwrap();
    assert_eq!(compact.verdict, Verdict::Suspicious);
    assert_eq!(compact.threat_level.level, 3);
    assert!(compact.top_sources.contains(&"log".to_string()));
    assert!(
        compact
            .summary
            .contains("6 failed logins within 10 minutes"),
        "{}",
        compact.summary
    );
    assert!(!guesser.block, "suspicious is not blocked");

    let activity = guesser.activity.as_ref().unwrap();
    assert_eq!(activity.failed_logins, 6);

    let zh = scan(&engine, &mixed_log(), Lang::ZhCn);
    let guesser = zh
        .indicators
        .iter()
        .find(|item| item.value == "192.0.2.200")
        .unwrap();
    let summary = &guesser.report.as_ref().unwrap().summary;
    assert!(summary.contains("登录失败 6 次"), "{summary}");
    assert!(zh.summary.contains("恶意 1"), "{}", zh.summary);
}

#[test]
fn only_malicious_public_indicators_are_blocked() {
    let (_dir, engine) = imported();
    let report = scan(&engine, &mixed_log(), Lang::En);
    let blocked: Vec<&str> = report
        .indicators
        .iter()
        .filter(|item| item.block)
        .map(|item| item.value.as_str())
        .collect();
    assert_eq!(blocked, ["198.51.100.10"]);
    assert!(
        report
            .recommendation
            .iter()
            .any(|step| step.contains("internal addresses")),
        "{:?}",
        report.recommendation
    );

    let nft = blocklist::render(
        &report,
        BlockFormat::Nftables,
        "2026-12-05T10:00:00Z",
        "t.log",
    );
    assert!(nft.contains("elements = { 198.51.100.10 }"), "{nft}");
    for absent in ["10.9.8.7", "192.0.2.200", "www.example.org", "203.0.113.0"] {
        assert!(!nft.contains(absent), "{absent} in {nft}");
    }

    let iptables = blocklist::render(&report, BlockFormat::Iptables, "now", "t.log");
    assert!(
        iptables.contains(
            "iptables -I INPUT -s 198.51.100.10 -m comment --comment tiq-malicious -j DROP"
        )
    );
    let ipset = blocklist::render(&report, BlockFormat::Ipset, "now", "t.log");
    assert!(
        ipset.contains("create tiq-block-v4 hash:ip family inet\nadd tiq-block-v4 198.51.100.10\n")
    );
    let nginx = blocklist::render(&report, BlockFormat::Nginx, "now", "t.log");
    assert!(nginx.contains("\ndeny 198.51.100.10;\n"), "{nginx}");
    let csv = blocklist::render(&report, BlockFormat::Csv, "now", "t.log");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(
        lines[1].starts_with("ipv4,198.51.100.10,malicious,"),
        "{csv}"
    );
}

#[test]
fn empty_block_list_is_valid() {
    let (_dir, engine) = imported();
    let report = scan(&engine, "nothing to see at www.example.org", Lang::En);
    let nft = blocklist::render(
        &report,
        BlockFormat::Nftables,
        "now",
        "a\nflush ruleset\n.log",
    );
    assert!(!nft.contains("elements"), "{nft}");
    assert!(nft.contains("from a?flush ruleset?.log"), "{nft}");
    assert!(nft.contains("0 addresses, 0 domains"), "{nft}");
    assert!(report.recommendation[0].contains("Nothing here calls for blocking"));
}

#[test]
fn limits_cut_list_and_analyses() {
    let (_dir, engine) = imported();
    let text = "192.0.2.201 192.0.2.202 192.0.2.203 198.51.100.10";
    let listed = engine.scan_text(
        text,
        ScanLimits {
            max_listed: 2,
            ..ScanLimits::default()
        },
        Lang::En,
    );
    assert_eq!(listed.indicators.len(), 2);
    assert_eq!(listed.totals.indicators, 4);
    assert_eq!(listed.indicators[0].value, "198.51.100.10");
    assert_eq!(listed.left_out.get("indicators"), Some(&2));
    assert!(listed.note.as_deref().unwrap().contains("2 lower-ranked"));

    let analysed = engine.scan_text(
        text,
        ScanLimits {
            max_analyzed: 1,
            ..ScanLimits::default()
        },
        Lang::En,
    );
    assert_eq!(analysed.totals.not_analyzed, 3);
    assert_eq!(analysed.left_out.get("analysis"), Some(&3));
    let skipped = &analysed.indicators[3];
    assert_eq!(skipped.kind, FoundKind::Ipv4);
    assert!(skipped.note.as_deref().unwrap().contains("analysis limit"));
}

#[test]
fn scan_reports_equal_single_analyses() {
    let (_dir, engine) = imported();
    let report = scan(
        &engine,
        "seen: login.example.net and 203.0.113.53",
        Lang::En,
    );
    for item in &report.indicators {
        let kind = tiq_engine::scan::lookup_kind(item.kind).unwrap();
        let single = engine.analyze(kind, &item.value, Lang::En).unwrap();
        let compact = item.report.as_ref().unwrap();
        assert_eq!(compact.verdict, single.verdict, "{}", item.value);
        assert_eq!(compact.threat_level, single.threat_level, "{}", item.value);
        assert_eq!(compact.summary, single.summary, "{}", item.value);
    }
}
