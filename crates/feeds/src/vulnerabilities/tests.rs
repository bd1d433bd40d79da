use std::path::PathBuf;

use super::*;

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

fn records(path: &Path) -> Vec<CveRecord> {
    let mut records = Vec::new();
    read_cve_records(path, &mut |record| records.push(record)).unwrap();
    records
}

#[test]
fn cve_record_file() {
    let records = records(&fixture("cve-json5/records/2024/0xxx/CVE-2024-0001.json"));
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(record.id, "CVE-2024-0001");
    assert_eq!(record.state, "PUBLISHED");
    assert_eq!(
        record.published.as_deref(),
        Some("2024-01-10T00:00:00.000Z")
    );
    assert_eq!(record.description, "Command injection in Example Server.");
    assert_eq!(record.affected.len(), 1);
    assert_eq!(record.references[0].0, "https://example.com/advisory");
    assert_eq!(record.ssvc_exploitation.as_deref(), Some("active"));
}

#[test]
fn cve_json_lines() {
    let records = records(&fixture("cve-json5/cve-records.jsonl"));
    assert_eq!(records.len(), 3);
    assert_eq!(records[1].id, "CVE-2024-1001");
}

#[test]
fn cve_metrics_from_cna_and_adp() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("CVE-2024-2000.json");
    std::fs::write(
        &path,
        r#"{"dataType":"CVE_RECORD","cveMetadata":{"cveId":"cve-2024-2000","state":"PUBLISHED"},
        "containers":{"cna":{"title":"Example flaw","descriptions":[{"lang":"de","value":"Fehler"},{"lang":"en","value":"Flaw"}],
          "problemTypes":[{"descriptions":[{"cweId":"CWE-79"}]}],
          "solutions":[{"lang":"en","value":"Upgrade to 2.0."}],
          "workarounds":[{"lang":"en","value":"Disable the module."}]},
        "adp":[{"metrics":[{"cvssV3_1":{"version":"3.1","baseScore":7.5,"vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}},
          {"other":{"type":"ssvc","content":{"options":[{"Exploitation":"PoC"},{"Automatable":"Yes"}]}}},
          {"other":{"type":"kev","content":{"dateAdded":"2024-05-01"}}}],
          "problemTypes":[{"descriptions":[{"cweId":"CWE-79"},{"cweId":"CWE-20"}]}]}]}}"#,
    )
    .unwrap();
    let record = &records(&path)[0];
    assert_eq!(record.id, "CVE-2024-2000");
    assert_eq!(record.title.as_deref(), Some("Example flaw"));
    assert_eq!(record.description, "Flaw");
    let cvss = record.cvss.as_ref().unwrap();
    assert_eq!(cvss.score, 7.5);
    assert_eq!(cvss.severity, "high", "derived from the score");
    assert_eq!(record.cwes, ["CWE-79", "CWE-20"]);
    assert_eq!(record.solutions, ["Upgrade to 2.0."]);
    assert_eq!(record.workarounds, ["Disable the module."]);
    assert_eq!(record.ssvc_exploitation.as_deref(), Some("poc"));
    assert_eq!(record.ssvc_automatable.as_deref(), Some("yes"));
    assert_eq!(record.kev_date_added.as_deref(), Some("2024-05-01"));
}

#[test]
fn kev_json_and_csv_agree() {
    let json = read_kev(&fixture(
        "cisa-kev-json/known_exploited_vulnerabilities.json",
    ))
    .unwrap();
    let csv = read_kev(&fixture("cisa-kev-csv/known_exploited_vulnerabilities.csv")).unwrap();
    assert_eq!(json.len(), 2);
    let ids = |entries: &[KevEntry]| entries.iter().map(|e| e.cve.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&json), ids(&csv));
    assert!(!json[0].required_action.is_empty());
    assert!(!csv[0].date_added.is_empty());
}

#[test]
fn epss_both_layouts() {
    let daily = read_epss(&fixture("epss-csv/epss_scores-current.csv")).unwrap();
    assert_eq!(daily.len(), 3);
    assert_eq!(daily[1].cve, "CVE-2024-0001");
    assert_eq!(daily[1].epss, 0.97412);
    let kev = read_epss(&fixture("epss-csv/epss_kev_nvd.csv")).unwrap();
    assert_eq!(kev[0].cvss, Some(9.8));
    assert_eq!(kev[0].product.as_deref(), Some("Example Server"));
    assert_eq!(kev[1].cvss, None);
}

#[test]
fn exploitdb_map_and_csv() {
    let map = read_exploitdb(&fixture("exploitdb-cve-map/exploitdb_mapping_cve.json")).unwrap();
    assert_eq!(map["CVE-2024-10002"], ["2", "4"]);
    let csv = read_exploitdb(&fixture("exploitdb-csv/files_exploits.csv")).unwrap();
    assert_eq!(csv["CVE-2024-0001"], ["1"]);
    assert_eq!(csv.len(), 2);
}

#[test]
fn aliases_in_either_order() {
    let pairs = read_vulnerability_aliases(&fixture("vulnerability-aliases/cnvd-cve.csv")).unwrap();
    assert_eq!(
        pairs,
        [
            ("CNVD-2024-00001".to_string(), "CVE-2024-0001".to_string()),
            (
                "CNNVD-202401-0002".to_string(),
                "CVE-2024-10002".to_string()
            ),
        ]
    );
    assert!(is_alias_id("CNVD-2024-1"));
    assert!(!is_alias_id("CNVD-24-1"));
    assert!(!is_alias_id("CNNVD-2024-1"));
    assert!(!is_alias_id("CVE-2024-1234"));
}

#[test]
fn severity_bands() {
    assert_eq!(severity_of(9.0), "critical");
    assert_eq!(severity_of(8.9), "high");
    assert_eq!(severity_of(4.0), "medium");
    assert_eq!(severity_of(0.1), "low");
    assert_eq!(severity_of(0.0), "none");
}

#[test]
fn adp_affected_only_without_cna_entries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.jsonl");
    let cna = r#"{"dataType":"CVE_RECORD","cveMetadata":{"cveId":"CVE-2024-3001","state":"PUBLISHED"},
      "containers":{"cna":{"affected":[{"vendor":"Example","product":"Example Server","versions":[{"version":"1.0","status":"affected"}]}]},
      "adp":[{"affected":[{"vendor":"example","product":"example_server","versions":[{"version":"*","status":"affected"}]}]}]}}"#;
    let adp = r#"{"dataType":"CVE_RECORD","cveMetadata":{"cveId":"CVE-2024-3002","state":"PUBLISHED"},
      "containers":{"cna":{"affected":[]},
      "adp":[{"affected":[{"vendor":"example","product":"any","versions":[{"version":"*","status":"affected"}]},
        {"vendor":"example","product":"ranged","versions":[{"version":"0","lessThan":"2.0","status":"affected"}]}]}]}}"#;
    let v4 = r#"{"dataType":"CVE_RECORD","cveMetadata":{"cveId":"CVE-2024-3003","state":"PUBLISHED"},
      "containers":{"cna":{"metrics":[{"cvssV4_0":{"version":"4.0","baseScore":9.3,"baseSeverity":"CRITICAL","vectorString":"CVSS:4.0/AV:N"}}]}}}"#;
    let lines = [cna, adp, v4].map(|r| r.replace('\n', ""));
    std::fs::write(&path, lines.join("\n")).unwrap();
    let records = records(&path);
    assert_eq!(records[0].affected.len(), 1, "the CNA's entries only");
    assert_eq!(records[0].affected[0]["product"], "Example Server");
    assert_eq!(records[1].affected.len(), 1, "bare * entries dropped");
    assert_eq!(records[1].affected[0]["product"], "ranged");
    let cvss = records[2].cvss.as_ref().unwrap();
    assert_eq!((cvss.version.as_str(), cvss.score), ("4.0", 9.3));
    assert_eq!(cvss.severity, "critical");
}

#[test]
fn aliases_with_bom_and_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aliases.csv");
    std::fs::write(
        &path,
        "\u{feff}CNVD-2024-10008,CVE-2024-3400\nCNVD-2024-10010,CVE-2024-3400\nCNVD-2024-10010,CVE-2024-1709\n",
    )
    .unwrap();
    let pairs = read_vulnerability_aliases(&path).unwrap();
    assert_eq!(pairs.len(), 3);
    assert_eq!(pairs[0].0, "CNVD-2024-10008");
}
