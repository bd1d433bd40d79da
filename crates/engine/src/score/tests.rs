use tiq_model::{AllowCategory, ClaimKind, Indicator, KnowledgeRef, Lang, ThreatType, Verdict};
use tiq_store::{StoredAllow, StoredSighting};

use super::*;
use crate::lookup::{AllowHit, Findings, SightingMatch, Via};

fn today() -> time::Date {
    time::macros::date!(2026 - 06 - 01)
}

fn sighting(
    source: &str,
    provider: &str,
    claim: ClaimKind,
    threat: ThreatType,
    weight: f64,
) -> StoredSighting {
    StoredSighting {
        source: source.to_string(),
        provider: provider.to_string(),
        source_reference: None,
        imported_at: "2026-05-30T00:00:00Z".to_string(),
        kind: "ip".to_string(),
        value: "198.51.100.7".to_string(),
        claim,
        threat,
        labels: Vec::new(),
        family: None,
        first_seen: None,
        last_seen: None,
        weight,
        reference: None,
    }
}

fn allow(list: &str, category: AllowCategory) -> AllowHit {
    AllowHit {
        entry: StoredAllow {
            source: format!("misp-warninglist/{list}"),
            match_kind: "exact".to_string(),
            value: "198.51.100.7".to_string(),
            category,
            rank: None,
        },
        via: Via::Exact,
    }
}

fn exact(sighting: StoredSighting) -> SightingMatch {
    SightingMatch {
        sighting,
        via: Via::Exact,
    }
}

fn report(
    indicator: &str,
    sightings: Vec<SightingMatch>,
    allows: Vec<AllowHit>,
) -> tiq_model::Report {
    let indicator = Indicator::parse_any(indicator).unwrap();
    let findings = Findings {
        sightings,
        allows,
        sources_total: 3,
        ..Findings::default()
    };
    build_report(
        "input",
        &indicator,
        findings,
        Lang::En,
        &Ageing::default(),
        today(),
        &Knowledge::default(),
    )
}

#[test]
fn no_evidence_is_unknown_not_benign() {
    let r = report("198.51.100.7", vec![], vec![]);
    assert_eq!(r.verdict, Verdict::Unknown);
    assert_eq!(r.threat_level.level, 0);
    assert_eq!(r.confidence, 0.0);
    assert!(
        r.summary.contains("Unknown does not mean safe"),
        "{}",
        r.summary
    );
}

#[test]
fn strong_c2_listing_is_critical() {
    let s = sighting(
        "feodotracker",
        "abuse.ch",
        ClaimKind::Malicious,
        ThreatType::C2,
        0.9,
    );
    let r = report("198.51.100.7", vec![exact(s)], vec![]);
    assert_eq!(r.verdict, Verdict::Malicious);
    assert_eq!(r.threat_level.level, 5);
    assert_eq!(r.threat_level.name, "critical");
    assert_eq!(r.confidence, 0.9);
    assert!(r.summary.contains("feodotracker"), "{}", r.summary);
}

#[test]
fn independent_sources_reinforce() {
    let a = sighting(
        "ipsum",
        "ipsum",
        ClaimKind::Malicious,
        ThreatType::Abuse,
        0.5,
    );
    let b = sighting(
        "blocklist",
        "other",
        ClaimKind::Malicious,
        ThreatType::BruteForce,
        0.5,
    );
    let r = report("198.51.100.7", vec![exact(a), exact(b)], vec![]);
    assert_eq!(r.verdict, Verdict::Malicious);
    assert_eq!(r.confidence, 0.75);
}

#[test]
fn mirrors_of_one_provider_do_not_reinforce() {
    let a = sighting(
        "eset",
        "eset",
        ClaimKind::Malicious,
        ThreatType::Malware,
        0.5,
    );
    let b = sighting(
        "eset/turla",
        "eset",
        ClaimKind::Malicious,
        ThreatType::Malware,
        0.5,
    );
    let r = report("198.51.100.7", vec![exact(a), exact(b)], vec![]);
    assert_eq!(r.verdict, Verdict::Suspicious);
    assert_eq!(r.confidence, 0.5);
}

#[test]
fn public_resolver_outweighs_one_weak_listing() {
    let s = sighting(
        "ipsum",
        "ipsum",
        ClaimKind::Malicious,
        ThreatType::Abuse,
        0.3,
    );
    let r = report(
        "198.51.100.7",
        vec![exact(s)],
        vec![allow("public-dns-v4", AllowCategory::PublicResolver)],
    );
    assert_eq!(r.verdict, Verdict::Benign);
    assert_eq!(r.threat_level.level, 1);
    assert!(r.summary.contains("public-dns-v4"), "{}", r.summary);
    assert!(
        r.evidence
            .iter()
            .any(|e| e.note.as_deref().is_some_and(|n| n.contains("outweighed")))
    );
}

#[test]
fn strong_listings_beat_a_top_site_entry() {
    let a = sighting(
        "feodotracker",
        "abuse.ch",
        ClaimKind::Malicious,
        ThreatType::C2,
        0.9,
    );
    let b = sighting(
        "c2-tracker/x",
        "c2-tracker",
        ClaimKind::Malicious,
        ThreatType::C2,
        0.8,
    );
    let r = report(
        "198.51.100.7",
        vec![exact(a), exact(b)],
        vec![allow("tranco10k", AllowCategory::TopSite)],
    );
    assert_eq!(r.verdict, Verdict::Malicious);
    assert!(
        r.confidence < 0.98,
        "a benign match lowers confidence: {}",
        r.confidence
    );
}

#[test]
fn cloud_range_lowers_confidence_without_clearing() {
    let s = sighting(
        "feodotracker",
        "abuse.ch",
        ClaimKind::Malicious,
        ThreatType::C2,
        0.9,
    );
    let r = report(
        "198.51.100.7",
        vec![exact(s)],
        vec![allow("amazon-aws", AllowCategory::Cloud)],
    );
    assert_eq!(r.verdict, Verdict::Malicious);
    assert_eq!(r.confidence, 0.72);
    assert!(r.profile.flags.contains(&"cloud".to_string()));
    assert_eq!(r.profile.hosting, ["amazon-aws"]);
}

#[test]
fn old_ip_listing_fades() {
    let mut s = sighting(
        "feodotracker",
        "abuse.ch",
        ClaimKind::Malicious,
        ThreatType::C2,
        0.9,
    );
    s.last_seen = Some("2024-06-01".to_string());
    let r = report("198.51.100.7", vec![exact(s.clone())], vec![]);
    assert_eq!(r.verdict, Verdict::Suspicious);
    assert!(r.evidence[0].note.as_deref().unwrap_or("").contains("aged"));

    // With IP claims set not to fade, the same listing stays malicious.
    let indicator = Indicator::parse_any("198.51.100.7").unwrap();
    let findings = Findings {
        sightings: vec![exact(s)],
        sources_total: 3,
        ..Findings::default()
    };
    let ageing = Ageing {
        ip: None,
        ..Ageing::default()
    };
    let r = build_report(
        "input",
        &indicator,
        findings,
        Lang::En,
        &ageing,
        today(),
        &Knowledge::default(),
    );
    assert_eq!(r.verdict, Verdict::Malicious);
}

#[test]
fn hash_claims_do_not_fade() {
    assert_eq!(
        age_factor(
            Ageing::default().half_life_days(IndicatorKind::Hash),
            Some("2015-01-01"),
            today()
        ),
        1.0
    );
    assert_eq!(
        age_factor(
            Ageing::default().half_life_days(IndicatorKind::Ip),
            Some("2026-06-01"),
            today()
        ),
        1.0
    );
    assert_eq!(
        age_factor(
            Ageing::default().half_life_days(IndicatorKind::Ip),
            Some("2026-04-02T10:00:00Z"),
            today()
        ),
        0.5
    );
    assert_eq!(
        age_factor(
            Ageing::default().half_life_days(IndicatorKind::Ip),
            Some("2020-01-01"),
            today()
        ),
        AGE_FLOOR
    );
    assert_eq!(
        age_factor(
            Ageing::default().half_life_days(IndicatorKind::Ip),
            None,
            today()
        ),
        1.0
    );
}

#[test]
fn tor_exit_alone_is_low_suspicion() {
    let s = sighting(
        "tor-exits",
        "tor-project",
        ClaimKind::Context,
        ThreatType::Anonymizer,
        0.3,
    );
    let r = report("198.51.100.7", vec![exact(s)], vec![]);
    assert_eq!(r.verdict, Verdict::Suspicious);
    assert_eq!(r.threat_level.level, 2);
    assert!(r.profile.flags.contains(&"tor_exit".to_string()));
}

#[test]
fn private_address_is_reported_as_such() {
    let indicator = Indicator::parse_any("10.1.2.3").unwrap();
    let findings = Findings {
        scope: Some(crate::scope::AddressScope::Private),
        ..Findings::default()
    };
    let r = build_report(
        "10.1.2.3",
        &indicator,
        findings,
        Lang::ZhCn,
        &Ageing::default(),
        today(),
        &Knowledge::default(),
    );
    assert_eq!(r.verdict, Verdict::Unknown);
    assert_eq!(r.profile.scope.as_deref(), Some("private"));
    assert!(r.summary.contains("私有"), "{}", r.summary);
}

#[test]
fn families_and_actors_are_split() {
    let mut a = sighting(
        "maltrail/emotet",
        "maltrail",
        ClaimKind::Malicious,
        ThreatType::Malware,
        0.8,
    );
    a.family = Some("Emotet".to_string());
    let mut b = sighting(
        "maltrail/apt_sofacy",
        "maltrail",
        ClaimKind::Malicious,
        ThreatType::Apt,
        0.8,
    );
    b.family = Some("APT28".to_string());
    let r = report("198.51.100.7", vec![exact(a), exact(b)], vec![]);
    assert_eq!(r.families, [KnowledgeRef::named("Emotet")]);
    assert_eq!(r.actors, [KnowledgeRef::named("APT28")]);
}

#[test]
fn same_findings_give_same_report() {
    let make = || {
        let a = sighting(
            "ipsum",
            "ipsum",
            ClaimKind::Malicious,
            ThreatType::Abuse,
            0.55,
        );
        let b = sighting(
            "tor-exits",
            "tor-project",
            ClaimKind::Context,
            ThreatType::Anonymizer,
            0.3,
        );
        report("198.51.100.7", vec![exact(b), exact(a)], vec![])
    };
    assert_eq!(make(), make());
}

#[test]
fn chinese_summary_for_malicious() {
    let indicator = Indicator::parse_any("198.51.100.7").unwrap();
    let s = sighting(
        "feodotracker",
        "abuse.ch",
        ClaimKind::Malicious,
        ThreatType::C2,
        0.9,
    );
    let findings = Findings {
        sightings: vec![exact(s)],
        ..Findings::default()
    };
    let r = build_report(
        "198.51.100.7",
        &indicator,
        findings,
        Lang::ZhCn,
        &Ageing::default(),
        today(),
        &Knowledge::default(),
    );
    assert!(r.summary.contains("恶意"), "{}", r.summary);
    assert!(r.recommendation.iter().any(|step| step.contains("防火墙")));
}

#[test]
fn weak_parent_guard_never_makes_benign() {
    let listing = sighting(
        "maltrail/free_web_hosting",
        "maltrail",
        ClaimKind::Suspicious,
        ThreatType::Suspicious,
        0.4,
    );
    let mut parent = allow("tranco10k", AllowCategory::TopSite);
    parent.via = Via::ParentDomain;
    let r = report("x.example.org", vec![exact(listing)], vec![parent.clone()]);
    assert_eq!(r.verdict, Verdict::Suspicious, "{}", r.summary);
    let r = report("y.example.org", vec![], vec![parent]);
    assert_eq!(r.verdict, Verdict::Unknown, "{}", r.summary);
    assert!(r.summary.contains("tranco10k"), "{}", r.summary);
}

#[test]
fn url_listing_ignores_host_guard() {
    let mut listing = sighting(
        "phishtank",
        "phishtank",
        ClaimKind::Malicious,
        ThreatType::Phishing,
        0.85,
    );
    listing.kind = "url".to_string();
    let mut host = allow("tranco10k", AllowCategory::TopSite);
    host.via = Via::UrlHost;
    let r = report(
        "https://docs.example.com/p",
        vec![exact(listing)],
        vec![host],
    );
    assert_eq!(r.verdict, Verdict::Malicious, "{}", r.summary);
}
