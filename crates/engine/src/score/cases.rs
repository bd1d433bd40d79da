//! Scoring cases kept as data: each file under `tests/scoring-cases/` gives the evidence the
//! lookups found for one indicator and the verdict, level and confidence range expected.
//! The format is described in `tests/scoring-cases/README.md`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use tiq_model::{AllowCategory, ClaimKind, Indicator, Lang, ThreatType, Verdict};
use tiq_store::{StoredAllow, StoredSighting};

use super::{Ageing, build_report};
use crate::lookup::{AllowHit, Findings, SightingMatch, Via};
use crate::scope::address_scope;

/// Minimum number of cases the folder must hold.
const MIN_CASES: usize = 40;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    indicator: String,
    /// Date the claims are aged to, 2026-06-01 when absent.
    today: Option<String>,
    #[serde(default, rename = "sighting")]
    sightings: Vec<CaseSighting>,
    #[serde(default, rename = "allow")]
    allows: Vec<CaseAllow>,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseSighting {
    source: String,
    /// The source's name when absent.
    provider: Option<String>,
    claim: ClaimKind,
    threat: ThreatType,
    weight: f64,
    #[serde(default)]
    via: Via,
    /// The value the record names; the indicator itself when absent.
    value: Option<String>,
    family: Option<String>,
    first_seen: Option<String>,
    last_seen: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseAllow {
    list: String,
    category: AllowCategory,
    #[serde(default)]
    via: Via,
    /// The list entry; the indicator itself when absent.
    value: Option<String>,
    rank: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    verdict: Verdict,
    /// Lowest and highest threat level accepted, 0 to 5.
    level: [u8; 2],
    /// Lowest and highest confidence accepted, 0 to 1.
    confidence: [f64; 2],
}

fn case_files() -> Vec<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scoring-cases");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

fn findings(case: &Case, indicator: &Indicator) -> Findings {
    let kind = indicator.kind().name().to_string();
    let sightings = case
        .sightings
        .iter()
        .map(|s| SightingMatch {
            sighting: StoredSighting {
                source: s.source.clone(),
                provider: s.provider.clone().unwrap_or_else(|| s.source.clone()),
                source_reference: None,
                imported_at: "2026-05-31T00:00:00Z".to_string(),
                kind: kind.clone(),
                value: s.value.clone().unwrap_or_else(|| indicator.value()),
                claim: s.claim,
                threat: s.threat,
                labels: Vec::new(),
                family: s.family.clone(),
                first_seen: s.first_seen.clone(),
                last_seen: s.last_seen.clone(),
                weight: s.weight,
                reference: None,
            },
            via: s.via,
        })
        .collect();
    let allows = case
        .allows
        .iter()
        .map(|a| AllowHit {
            entry: StoredAllow {
                source: format!("misp-warninglist/{}", a.list),
                match_kind: "exact".to_string(),
                value: a.value.clone().unwrap_or_else(|| indicator.value()),
                category: a.category,
                rank: a.rank,
            },
            via: a.via,
        })
        .collect();
    let scope = match indicator {
        Indicator::Ip(ip) => Some(address_scope(*ip)),
        _ => None,
    };
    Findings {
        scope,
        sightings,
        allows,
        sources_total: 10,
        ..Findings::default()
    }
}

/// Runs one case and returns what differs from its expectation.
fn check(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let case: Case = toml::from_str(&text).map_err(|e| e.to_string())?;
    let indicator = Indicator::parse_any(&case.indicator).map_err(|e| e.to_string())?;
    let today = match &case.today {
        Some(day) => time::Date::parse(day, &time::format_description::well_known::Iso8601::DATE)
            .map_err(|e| format!("today {day:?}: {e}"))?,
        None => time::macros::date!(2026 - 06 - 01),
    };
    let findings = findings(&case, &indicator);
    let report = build_report(
        &case.indicator,
        &indicator,
        findings,
        Lang::En,
        &Ageing::default(),
        today,
        &crate::knowledge::Knowledge::default(),
    );

    let expect = &case.expect;
    let mut problems = Vec::new();
    if report.verdict != expect.verdict {
        problems.push(format!(
            "verdict {:?}, expected {:?}",
            report.verdict, expect.verdict
        ));
    }
    let level = report.threat_level.level;
    if level < expect.level[0] || level > expect.level[1] {
        problems.push(format!("level {level}, expected {:?}", expect.level));
    }
    let confidence = report.confidence;
    if confidence < expect.confidence[0] || confidence > expect.confidence[1] {
        problems.push(format!(
            "confidence {confidence}, expected {:?}",
            expect.confidence
        ));
    }
    if report.summary.is_empty() {
        problems.push("empty summary".to_string());
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(format!("{} ({})", problems.join("; "), report.summary)),
    }
}

#[test]
fn every_scoring_case_holds() {
    let files = case_files();
    assert!(
        files.len() >= MIN_CASES,
        "{} cases, expected at least {MIN_CASES}",
        files.len()
    );
    let failures: Vec<String> = files
        .iter()
        .filter_map(|path| {
            check(path).err().map(|problem| {
                format!("{}: {problem}", path.file_name().unwrap().to_string_lossy())
            })
        })
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn scoring_case_format_rejects_unknown_keys() {
    let text = "indicator = \"192.0.2.1\"\ncolour = 1\n[expect]\nverdict = \"unknown\"\nlevel = [0, 0]\nconfidence = [0.0, 0.0]\n";
    assert!(toml::from_str::<Case>(text).is_err());
}
