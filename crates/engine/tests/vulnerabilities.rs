//! Vulnerability search end to end on small CVE JSON 5, KEV, EPSS, Exploit-DB, alias and
//! ThreatFox fixtures: ids, aliases, product versions at range boundaries, keywords, filters,
//! paging and bad input.

use std::path::Path;

use tiq_engine::vuln::{SearchError, VulnQuery, VulnSort};
use tiq_engine::{Engine, FileStatus, ImportOptions, import};
use tiq_model::vuln::VulnQueryKind;
use tiq_model::{Lang, VulnSearch};

fn imported() -> (tempfile::TempDir, Engine) {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vulnerabilities");
    let dir = tempfile::tempdir().unwrap();
    let summary = import::import(dir.path(), &[fixtures], &ImportOptions::default()).unwrap();
    for file in &summary.files {
        assert_eq!(file.status, FileStatus::Imported, "{}", file.path.display());
    }
    let engine = Engine::open(dir.path()).unwrap();
    (dir, engine)
}

fn query(text: &str) -> VulnQuery {
    VulnQuery {
        query: text.to_string(),
        ..VulnQuery::default()
    }
}

fn search(engine: &Engine, request: &VulnQuery) -> VulnSearch {
    engine
        .search_vulnerabilities(request, Lang::En)
        .unwrap_or_else(|e| panic!("{}: {e}", request.query))
}

fn ids(search: &VulnSearch) -> Vec<&str> {
    search.results.iter().map(|v| v.id.as_str()).collect()
}

#[test]
fn id_in_any_case_has_every_part() {
    let (_dir, engine) = imported();
    let found = search(&engine, &query("cve-2024-0101"));
    assert_eq!(found.query_kind, VulnQueryKind::Id);
    assert_eq!(ids(&found), ["CVE-2024-0101"]);
    let vuln = &found.results[0];
    assert_eq!(vuln.aliases, ["CNVD-2024-00101"]);
    assert_eq!(
        vuln.title,
        "Example Server remote code execution in the admin console"
    );
    let cvss = vuln.cvss.as_ref().unwrap();
    assert_eq!(cvss.score, 9.8);
    assert_eq!(cvss.severity, "critical");
    assert_eq!(vuln.cwes, ["CWE-78"]);
    assert_eq!(vuln.affected[0].product, "Example Server");
    assert_eq!(vuln.affected[0].versions, [">= 9.0.0, < 9.0.90: affected"]);

    let exploitation = &vuln.exploitation;
    assert!(exploitation.in_kev);
    let kev = exploitation.kev.as_ref().unwrap();
    assert_eq!(kev.due_date, "2024-02-26");
    assert_eq!(kev.ransomware_use, "Known");
    assert_eq!(exploitation.ssvc_exploitation.as_deref(), Some("active"));
    assert_eq!(exploitation.epss, Some(0.95102));
    assert!(exploitation.known_exploited);
    assert_eq!(
        exploitation.public_exploits,
        ["https://www.exploit-db.com/exploits/90001"]
    );

    assert_eq!(vuln.fix.first_fixed.as_deref(), Some("9.0.90"));
    assert_eq!(
        vuln.fix.advice.as_deref(),
        Some("Upgrade Example Server to 9.0.90 or later.")
    );
    assert_eq!(vuln.fix.patches, ["https://example.com/patches/0101.diff"]);
    assert!(
        vuln.fix
            .advisories
            .contains(&"https://example.com/security/advisory-0101".to_string())
    );
    assert!(
        vuln.fix.mitigations.len() >= 2,
        "{:?}",
        vuln.fix.mitigations
    );
    assert_eq!(vuln.related.indicators, ["198.51.100.101"]);
    assert!(found.summary.contains("CVE-2024-0101"), "{}", found.summary);
}

#[test]
fn alias_finds_its_cve() {
    let (_dir, engine) = imported();
    let found = search(&engine, &query("cnvd-2024-00101"));
    assert_eq!(found.query_kind, VulnQueryKind::Alias);
    assert_eq!(ids(&found), ["CVE-2024-0101"]);
    let unknown = search(&engine, &query("CNVD-2024-99999"));
    assert_eq!(unknown.total, 0);
}

#[test]
fn product_version_boundaries() {
    let (_dir, engine) = imported();
    let cases: &[(&str, &[&str])] = &[
        ("Example Server 8.9.9", &[]),
        ("Example Server 9.0.0", &["CVE-2024-0101"]),
        ("Example Server 9.0.89", &["CVE-2024-0101"]),
        ("Example Server 9.0.90", &[]),
        ("Example Server 9.0.91", &[]),
        ("Example Server 8.5.99", &["CVE-2024-0102"]),
        ("Example Server 8.5.100", &[]),
        ("example server v9.0.30", &["CVE-2024-0101"]),
        ("Sample Crypto Library 1.1.1l", &["CVE-2024-0103"]),
        ("Sample Crypto Library 1.1.1m", &[]),
        ("Sample Gateway 2.0", &["CVE-2024-0104"]),
        ("Sample Gateway 2.1", &[]),
    ];
    for (text, expected) in cases {
        let found = search(&engine, &query(text));
        assert_eq!(found.query_kind, VulnQueryKind::Product, "{text}");
        assert_eq!(ids(&found), *expected, "{text}");
        for vuln in &found.results {
            assert_eq!(vuln.version_status.as_deref(), Some("affected"), "{text}");
        }
    }
}

#[test]
fn product_miss_suggests_broader_query() {
    let (_dir, engine) = imported();
    let found = search(&engine, &query("Example Server 9.0.90"));
    assert_eq!(found.total, 0);
    assert_eq!(found.suggestion.as_deref(), Some("Example Server"));
    assert!(
        found.summary.contains("Example Server"),
        "{}",
        found.summary
    );
}

#[test]
fn keywords_rank_title_matches_first() {
    let (_dir, engine) = imported();
    let found = search(&engine, &query("remote code execution"));
    assert_eq!(found.query_kind, VulnQueryKind::Keyword);
    assert_eq!(ids(&found).first(), Some(&"CVE-2024-0101"));
    let found = search(&engine, &query("path traversal"));
    assert_eq!(ids(&found), ["CVE-2024-0104"]);
    let found = search(&engine, &query("Example"));
    assert_eq!(found.total, 5, "vendor and product words match");
}

#[test]
fn filters_and_orders() {
    let (_dir, engine) = imported();
    let all = VulnQuery {
        query: "Example Gateway".to_string(),
        ..VulnQuery::default()
    };
    assert_eq!(search(&engine, &all).total, 0, "every word must match");

    let server = |edit: &dyn Fn(&mut VulnQuery)| {
        let mut request = query("server");
        edit(&mut request);
        search(&engine, &request)
    };
    assert_eq!(ids(&server(&|r| r.kev_only = true)), ["CVE-2024-0101"]);
    assert_eq!(
        ids(&server(&|r| r.exploited_only = true)),
        ["CVE-2024-0101"]
    );
    assert_eq!(
        ids(&server(&|r| r.with_exploit_only = true)),
        ["CVE-2024-0101"]
    );
    assert_eq!(
        ids(&server(&|r| r.min_severity = Some("critical".into()))),
        ["CVE-2024-0101"]
    );
    assert_eq!(
        ids(&server(&|r| r.since = Some("2024-01-01".into()))),
        ["CVE-2024-0101"]
    );
    assert_eq!(
        ids(&server(&|r| r.sort = VulnSort::Date)),
        ["CVE-2024-0101", "CVE-2024-0102"]
    );
    assert_eq!(
        ids(&server(&|r| r.sort = VulnSort::Priority)),
        ["CVE-2024-0101", "CVE-2024-0102"]
    );
}

#[test]
fn paging_with_cursor() {
    let (_dir, engine) = imported();
    let mut request = VulnQuery {
        query: "sample".to_string(),
        page_size: Some(1),
        sort: VulnSort::Date,
        ..VulnQuery::default()
    };
    let first = search(&engine, &request);
    assert_eq!(first.total, 3);
    assert_eq!(ids(&first), ["CVE-2024-0106"]);
    let cursor = first.next_cursor.clone().expect("a second page");

    request.cursor = Some(cursor.clone());
    let second = search(&engine, &request);
    assert_eq!(ids(&second), ["CVE-2024-0104"]);
    request.cursor = second.next_cursor.clone();
    let third = search(&engine, &request);
    assert_eq!(ids(&third), ["CVE-2024-0103"]);
    assert_eq!(third.next_cursor, None);
    request.cursor = first.next_cursor.clone();

    let again = search(&engine, &request);
    assert_eq!(ids(&again), ids(&second), "a cursor is stable");

    let mut other = query("server");
    other.page_size = Some(1);
    other.cursor = Some(cursor);
    let error = engine.search_vulnerabilities(&other, Lang::En).unwrap_err();
    assert!(matches!(error, SearchError::StaleCursor), "{error}");
}

#[test]
fn bad_input_names_the_value() {
    let (_dir, engine) = imported();
    let error_of = |request: VulnQuery| {
        engine
            .search_vulnerabilities(&request, Lang::En)
            .unwrap_err()
    };
    assert!(matches!(error_of(query("   ")), SearchError::Empty));
    let error = error_of(query("CVE-2024-1"));
    assert!(error.to_string().contains("\"CVE-2024-1\""), "{error}");
    let error = error_of(query("CNVD-24-1"));
    assert!(error.to_string().contains("CNVD-24-1"), "{error}");
    let mut request = query("server");
    request.cursor = Some("page-2".to_string());
    assert!(matches!(
        error_of(request),
        SearchError::InvalidCursor { .. }
    ));
    for size in [0, 51] {
        let mut request = query("server");
        request.page_size = Some(size);
        assert!(matches!(
            error_of(request),
            SearchError::InvalidPageSize { .. }
        ));
    }
    let mut request = query("server");
    request.min_severity = Some("severe".to_string());
    assert!(error_of(request).to_string().contains("severe"));
    let mut request = query("server");
    request.since = Some("last week".to_string());
    assert!(error_of(request).to_string().contains("last week"));
    assert!(matches!(
        error_of(query(&"x".repeat(201))),
        SearchError::TooLong
    ));
}

#[test]
fn alias_without_table_says_how_to_load_one() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).unwrap();
    let error = engine
        .search_vulnerabilities(&query("CNVD-2024-00101"), Lang::En)
        .unwrap_err();
    assert!(matches!(error, SearchError::NoAliasTable { .. }), "{error}");
    assert!(error.message(Lang::ZhCn).contains("对照表"));
}

#[test]
fn chinese_summary_and_severity() {
    let (_dir, engine) = imported();
    let found = engine
        .search_vulnerabilities(&query("CVE-2024-0101"), Lang::ZhCn)
        .unwrap();
    assert_eq!(
        found.results[0].cvss.as_ref().unwrap().severity_label,
        "危急"
    );
    assert!(found.summary.contains("危急"), "{}", found.summary);
    assert_eq!(
        found.results[0].fix.advice.as_deref(),
        Some("将 Example Server 升级到 9.0.90 或更高版本。")
    );
}

#[test]
fn unknown_id_says_what_to_sync() {
    let (_dir, engine) = imported();
    let found = search(&engine, &query("CVE-2020-99999"));
    assert_eq!(found.total, 0);
    assert!(found.summary.contains("tiq sync"), "{}", found.summary);
}

#[test]
fn release_branches_decide() {
    let (_dir, engine) = imported();
    let cases: &[(&str, &[&str])] = &[
        ("Example Browser ESR 115.13", &["CVE-2024-0105"]),
        ("Example Browser ESR 115.16.1", &[]),
        ("Example Browser ESR 128.2", &["CVE-2024-0105"]),
        ("Example Browser ESR 128.3.1", &[]),
    ];
    for (text, expected) in cases {
        assert_eq!(ids(&search(&engine, &query(text))), *expected, "{text}");
    }
    let found = search(&engine, &query("Example Browser ESR 115.13"));
    assert_eq!(
        found.results[0].fix.first_fixed.as_deref(),
        Some("115.16.1")
    );

    let by_id = search(&engine, &query("CVE-2024-0105"));
    let fix = &by_id.results[0].fix;
    assert_eq!(fix.fixed_versions, ["115.16.1", "128.3.1"]);
    assert!(
        fix.advice
            .as_deref()
            .unwrap()
            .contains("115.16.1 or 128.3.1"),
        "{:?}",
        fix.advice
    );
}

#[test]
fn product_words_must_name_the_product() {
    let (_dir, engine) = imported();
    let found = search(&engine, &query("Example CMS 6.4"));
    assert_eq!(
        ids(&found),
        ["CVE-2024-0107"],
        "not the plugin for Example CMS"
    );
    let found = search(&engine, &query("Contact Form for Example CMS 6.4"));
    assert_eq!(ids(&found), ["CVE-2024-0106"]);
}

#[test]
fn cvss4_only_record_has_severity() {
    let (_dir, engine) = imported();
    let found = search(&engine, &query("CVE-2024-0105"));
    let cvss = found.results[0].cvss.as_ref().unwrap();
    assert_eq!(cvss.version, "4.0");
    assert_eq!(cvss.severity, "high");
    let mut request = query("Example Browser ESR 115.13");
    request.min_severity = Some("HIGH".to_string());
    assert_eq!(ids(&search(&engine, &request)), ["CVE-2024-0105"]);
}

#[test]
fn alias_with_two_cves_and_pasted_dashes() {
    let (_dir, engine) = imported();
    let found = search(&engine, &query("CNVD-2024-00200"));
    assert_eq!(ids(&found), ["CVE-2024-0102", "CVE-2024-0103"]);
    let found = search(&engine, &query("cnvd_2024_00101"));
    assert_eq!(ids(&found), ["CVE-2024-0101"]);
    let found = search(&engine, &query("CVE\u{2011}2024\u{2011}0101"));
    assert_eq!(ids(&found), ["CVE-2024-0101"]);
    let missing = search(&engine, &query("CNVD-2024-99999"));
    assert!(
        missing.summary.contains("alias table"),
        "{}",
        missing.summary
    );
}

#[test]
fn unknown_cve_named_by_indicators() {
    let (_dir, engine) = imported();
    let found = search(&engine, &query("CVE-2024-0999"));
    assert_eq!(found.total, 0);
    assert!(found.summary.contains("203.0.113.99"), "{}", found.summary);
}

#[test]
fn patterns_and_symbols_are_rejected() {
    let (_dir, engine) = imported();
    let error = engine
        .search_vulnerabilities(&query("Example Server 9.0.x"), Lang::En)
        .unwrap_err();
    assert!(
        matches!(error, SearchError::VersionPattern { .. }),
        "{error}"
    );
    let error = engine
        .search_vulnerabilities(&query("*"), Lang::En)
        .unwrap_err();
    assert!(matches!(error, SearchError::NoWords { .. }), "{error}");
    let short = search(&engine, &query("Example Server 9.0"));
    assert!(short.summary.contains("9.0"), "{}", short.summary);
}
