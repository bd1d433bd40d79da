//! Scoring: from findings to verdict, threat level and confidence.
//!
//! The model is written out, with worked examples, in `docs/scoring.md`; the constants here
//! are the ones that page quotes. Scoring is a pure function of the findings and the date,
//! so the same data gives the same report.

use std::collections::{BTreeMap, BTreeSet};

use tiq_model::indicator::UrlHost;
use tiq_model::{
    AllowCategory, BenignMatch, ClaimKind, Evidence, Indicator, IndicatorKind, IndicatorRef, Lang,
    Profile, Related, Report, Tag, ThreatLevel, ThreatType, Verdict,
};

use crate::knowledge::Knowledge;
use crate::lookup::{AllowHit, Findings, SightingMatch, Via};
use crate::scope::AddressScope;
use crate::text;

/// Threat score at or above which malicious evidence makes the verdict malicious.
pub const MALICIOUS_THRESHOLD: f64 = 0.6;
/// Share of its weight a suspicious claim adds to the threat score.
pub const SUSPICIOUS_SHARE: f64 = 0.5;
/// Confidence factor when the indicator sits on shared infrastructure (cloud, CDN, shared zones).
pub const SHARED_INFRASTRUCTURE_FACTOR: f64 = 0.8;
/// Smallest factor ageing can bring a claim down to.
pub const AGE_FLOOR: f64 = 0.25;
/// Smallest benign-guard strength that makes an otherwise unlisted indicator benign.
/// Weaker matches (a parent domain on a top-site list) leave it unknown.
pub const BENIGN_MIN_GUARD: f64 = 0.5;

/// Factor by which a record counts, by how it reached the indicator.
pub fn via_factor(via: Via) -> f64 {
    match via {
        Via::Exact => 1.0,
        Via::Network => 0.8,
        Via::ParentDomain => 0.7,
        Via::UrlHost => 0.6,
        Via::SuffixParent => 0.3,
        Via::SiteUrl => 0.8,
    }
}

/// Half-life of claims in days, by indicator type; `None` means claims of that type do not
/// fade. The defaults: an IP listing fades within weeks, a domain or URL within months, a
/// file-hash verdict not at all.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ageing {
    pub ip: Option<f64>,
    pub domain: Option<f64>,
    pub url: Option<f64>,
    pub hash: Option<f64>,
}

impl Default for Ageing {
    fn default() -> Ageing {
        Ageing {
            ip: Some(60.0),
            domain: Some(180.0),
            url: Some(180.0),
            hash: None,
        }
    }
}

impl Ageing {
    /// Returns the half-life in days of claims about an indicator of `kind`.
    pub fn half_life_days(&self, kind: IndicatorKind) -> Option<f64> {
        match kind {
            IndicatorKind::Ip => self.ip,
            IndicatorKind::Domain => self.domain,
            IndicatorKind::Url => self.url,
            IndicatorKind::Hash => self.hash,
            IndicatorKind::Cve => None,
        }
    }
}

/// Returns how strongly a known-benign list speaks for an indicator, 0 to 1. Zero means the
/// list only describes the indicator (shared cloud space, reserved ranges) and proves nothing.
pub fn allow_strength(category: AllowCategory) -> f64 {
    match category {
        AllowCategory::PublicResolver | AllowCategory::KnownFile => 0.95,
        AllowCategory::Sinkhole => 0.9,
        AllowCategory::Crawler | AllowCategory::ResearchScanner => 0.85,
        AllowCategory::TopSite => 0.8,
        AllowCategory::Cdn => 0.6,
        AllowCategory::UrlShortener | AllowCategory::Other => 0.5,
        AllowCategory::Cloud | AllowCategory::SharedNamespace | AllowCategory::Reserved => 0.0,
    }
}

/// Builds the report for `indicator` from its findings, ageing claims relative to `today`.
pub fn build_report(
    input: &str,
    indicator: &Indicator,
    mut findings: Findings,
    lang: Lang,
    ageing: &Ageing,
    today: time::Date,
    knowledge: &Knowledge,
) -> Report {
    let kind = indicator.kind();
    let half_life = ageing.half_life_days(kind);
    let weighed = weigh_sightings(half_life, std::mem::take(&mut findings.sightings), today);
    let url_listed = url_listed(indicator, &weighed);
    let guard = guard_strength(&findings.allows, url_listed);
    let threat = threat_score(&weighed);
    let shared = findings
        .allows
        .iter()
        .any(|hit| is_shared(hit.entry.category));
    let internal = findings.scope.is_some_and(AddressScope::is_internal);

    let outcome = decide(&weighed, threat, guard, shared, internal);
    let mut profile = profile(indicator, &findings, &weighed);
    add_location_and_asn(&mut profile, &mut findings);
    let mut links = knowledge.report_links(&family_names(&weighed));
    if findings.related_left_out > 0 {
        links
            .left_out
            .insert("related".to_string(), findings.related_left_out);
    }
    let (first_seen, last_seen) = seen_range(&weighed);
    let tags = tags(&weighed);
    let data_as_of = data_as_of(&weighed, &findings);
    let benign_matches = benign_matches(&findings.allows);
    let related = std::mem::take(&mut findings.related);
    let evidence = evidence_list(weighed, findings.allows, &outcome, url_listed, lang);

    let mut report = Report {
        input: input.to_string(),
        indicator: IndicatorRef {
            value: indicator.value(),
            kind,
        },
        verdict: outcome.verdict,
        threat_level: ThreatLevel::new(outcome.level),
        confidence: round2(outcome.confidence),
        tags,
        families: links.families,
        actors: links.actors,
        campaigns: links.campaigns,
        techniques: links.techniques,
        related: related_by_relevance(&related),
        left_out: links.left_out,
        profile,
        benign_matches,
        evidence,
        first_seen,
        last_seen,
        data_as_of,
        summary: String::new(),
        recommendation: Vec::new(),
        lang,
    };
    report.summary = text::summary(&report, findings.scope, &outcome, lang);
    report.recommendation = text::recommendation(&report, findings.scope, lang);
    report
}

/// A matched sighting with its weight after discounts.
#[derive(Debug, Clone)]
pub struct Weighed {
    pub matched: SightingMatch,
    pub weight: f64,
    pub age_factor: f64,
}

/// The verdict and the numbers behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub verdict: Verdict,
    pub level: u8,
    pub confidence: f64,
    /// Threat score from malicious and suspicious claims.
    pub threat: f64,
    /// Strength of the strongest known-benign match.
    pub guard: f64,
    /// A known-benign match outweighed malicious or suspicious claims.
    pub outweighed: bool,
}

fn weigh_sightings(
    half_life: Option<f64>,
    sightings: Vec<SightingMatch>,
    today: time::Date,
) -> Vec<Weighed> {
    let mut weighed: Vec<Weighed> = sightings
        .into_iter()
        .map(|matched| {
            let seen = matched
                .sighting
                .last_seen
                .as_deref()
                .or(matched.sighting.first_seen.as_deref());
            let age_factor = age_factor(half_life, seen, today);
            let weight = matched.sighting.weight * via_factor(matched.via) * age_factor;
            Weighed {
                matched,
                weight,
                age_factor,
            }
        })
        .collect();
    weighed.sort_by(|a, b| {
        b.weight
            .total_cmp(&a.weight)
            .then_with(|| a.matched.sighting.source.cmp(&b.matched.sighting.source))
            .then_with(|| a.matched.sighting.value.cmp(&b.matched.sighting.value))
    });
    weighed
}

/// Ageing factor of a claim last seen on `seen` (an ISO 8601 date or date-time), with a
/// half-life in days. Claims without a date, or without a half-life, are not aged.
pub fn age_factor(half_life: Option<f64>, seen: Option<&str>, today: time::Date) -> f64 {
    let (Some(half_life), Some(seen)) = (half_life, seen.and_then(parse_date)) else {
        return 1.0;
    };
    let days = (today - seen).whole_days().max(0) as f64;
    0.5f64.powf(days / half_life).max(AGE_FLOOR)
}

fn parse_date(text: &str) -> Option<time::Date> {
    let date = text.get(..10)?;
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(date, &format).ok()
}

/// Combines claims into the threat score. Within one provider only the strongest claim
/// counts, because mirrors and slices of one feed do not reinforce each other. Across
/// providers the claims combine as independent signals, `1 - Π(1 - w)`.
fn threat_score(weighed: &[Weighed]) -> f64 {
    let mut by_provider: BTreeMap<&str, f64> = BTreeMap::new();
    for item in weighed {
        let share = match item.matched.sighting.claim {
            ClaimKind::Malicious => 1.0,
            ClaimKind::Suspicious => SUSPICIOUS_SHARE,
            ClaimKind::Benign | ClaimKind::Context => continue,
        };
        let entry = by_provider
            .entry(item.matched.sighting.provider.as_str())
            .or_default();
        *entry = entry.max(item.weight * share);
    }
    1.0 - by_provider
        .values()
        .fold(1.0, |rest, w| rest * (1.0 - w.clamp(0.0, 1.0)))
}

/// Strength of the strongest known-benign match. For a URL, lists that match only its host
/// count for less, because a listed URL on a popular host is still a listed URL.
fn guard_strength(allows: &[AllowHit], url_listed: bool) -> f64 {
    allows
        .iter()
        .map(|hit| allow_weight(hit, url_listed))
        .fold(0.0, f64::max)
}

/// Weight a benign-list match carries for this indicator.
fn allow_weight(hit: &AllowHit, url_listed: bool) -> f64 {
    allow_strength(hit.entry.category) * guard_via_factor(hit.via, url_listed)
}

/// Checks whether a feed lists the URL itself (not only its host) as malicious or suspicious.
fn url_listed(indicator: &Indicator, weighed: &[Weighed]) -> bool {
    matches!(indicator, Indicator::Url(_))
        && weighed.iter().any(|w| {
            w.matched.via == Via::Exact
                && matches!(
                    w.matched.sighting.claim,
                    ClaimKind::Malicious | ClaimKind::Suspicious
                )
        })
}

/// Share of a benign list's strength that reaches the indicator, by how the list matched.
///
/// A listed parent domain vouches for its names at half strength, and a parent that is a
/// public suffix (`duckdns.org`, `github.io`) vouches for nothing, because unrelated owners
/// share it. For a URL that a feed lists itself, lists that match only its host do not
/// count: a listed URL on a popular host is still a listed URL.
pub fn guard_via_factor(via: Via, url_listed: bool) -> f64 {
    match via {
        Via::Exact | Via::Network => 1.0,
        Via::ParentDomain => 0.5,
        Via::SuffixParent => 0.0,
        Via::UrlHost if url_listed => 0.0,
        Via::UrlHost => 0.5,
        Via::SiteUrl => 1.0,
    }
}

fn is_shared(category: AllowCategory) -> bool {
    matches!(
        category,
        AllowCategory::Cloud | AllowCategory::Cdn | AllowCategory::SharedNamespace
    )
}

fn decide(weighed: &[Weighed], threat: f64, guard: f64, shared: bool, internal: bool) -> Outcome {
    let unknown = Outcome {
        verdict: Verdict::Unknown,
        level: 0,
        confidence: 0.0,
        threat,
        guard,
        outweighed: false,
    };
    if internal {
        return unknown;
    }
    let shared_factor = if shared {
        SHARED_INFRASTRUCTURE_FACTOR
    } else {
        1.0
    };
    let has_malicious = weighed
        .iter()
        .any(|w| w.matched.sighting.claim == ClaimKind::Malicious);

    if threat > 0.0 {
        if guard >= threat && guard >= BENIGN_MIN_GUARD {
            let confidence = guard * (1.0 - threat / 2.0);
            return Outcome {
                verdict: Verdict::Benign,
                level: 1,
                confidence,
                threat,
                guard,
                outweighed: true,
            };
        }
        let context = strongest_context(weighed);
        let confidence = threat.max(context) * (1.0 - guard / 2.0) * shared_factor;
        let severity = max_severity(weighed);
        if has_malicious && threat >= MALICIOUS_THRESHOLD {
            let level = if threat < 0.8 {
                severity.clamp(3, 4)
            } else {
                severity.max(3)
            };
            return Outcome {
                verdict: Verdict::Malicious,
                level,
                confidence,
                threat,
                guard,
                outweighed: false,
            };
        }
        let level = if threat >= 0.4 && severity >= 4 { 3 } else { 2 };
        return Outcome {
            verdict: Verdict::Suspicious,
            level,
            confidence,
            threat,
            guard,
            outweighed: false,
        };
    }
    if guard >= BENIGN_MIN_GUARD {
        return Outcome {
            verdict: Verdict::Benign,
            level: 1,
            confidence: guard,
            threat,
            guard,
            outweighed: false,
        };
    }
    let context = strongest_context(weighed);
    if context > 0.0 {
        let confidence = context * shared_factor;
        return Outcome {
            verdict: Verdict::Suspicious,
            level: 2,
            confidence,
            threat,
            guard,
            outweighed: false,
        };
    }
    unknown
}

/// Weight of the strongest context claim (a Tor exit, a mass scanner), or 0.
fn strongest_context(weighed: &[Weighed]) -> f64 {
    weighed
        .iter()
        .filter(|w| w.matched.sighting.claim == ClaimKind::Context)
        .map(|w| w.weight)
        .fold(0.0, f64::max)
}

/// Highest severity among claims that carry real weight.
fn max_severity(weighed: &[Weighed]) -> u8 {
    weighed
        .iter()
        .filter(|w| {
            matches!(
                w.matched.sighting.claim,
                ClaimKind::Malicious | ClaimKind::Suspicious
            )
        })
        .filter(|w| w.weight >= 0.3)
        .map(|w| w.matched.sighting.threat.severity())
        .max()
        .unwrap_or(2)
}

/// Turns the weighed sightings and the allow-list matches into evidence, each source,
/// value and threat type once. An allow-list entry counts as threat type `suspicious`, so
/// a suspicious sighting of the same value from the same source hides it.
fn evidence_list(
    weighed: Vec<Weighed>,
    allows: Vec<AllowHit>,
    outcome: &Outcome,
    url_listed: bool,
    lang: Lang,
) -> Vec<Evidence> {
    let (keep_sightings, keep_allows) = first_of_each_key(&weighed, &allows);
    let mut evidence = Vec::with_capacity(weighed.len() + allows.len());
    for (item, keep) in weighed.into_iter().zip(keep_sightings) {
        if !keep {
            continue;
        }
        let note = sighting_note(&item, outcome, lang);
        let weight = round2(item.weight);
        let s = item.matched.sighting;
        evidence.push(Evidence {
            source: s.source,
            claim: s.claim,
            threat_type: Some(s.threat),
            matched: s.value,
            labels: s.labels,
            family: s.family,
            first_seen: s.first_seen,
            last_seen: s.last_seen,
            weight,
            reference: s.reference.or(s.source_reference),
            note,
        });
    }
    for (hit, keep) in allows.into_iter().zip(keep_allows) {
        if !keep {
            continue;
        }
        let weight = allow_weight(&hit, url_listed);
        let note = allow_note(&hit, weight, lang);
        evidence.push(Evidence {
            source: hit.entry.source,
            claim: ClaimKind::Benign,
            threat_type: None,
            matched: hit.entry.value,
            labels: vec![hit.entry.category.name().to_string()],
            family: None,
            first_seen: None,
            last_seen: None,
            weight: round2(weight),
            reference: None,
            note,
        });
    }
    evidence
}

/// Marks the first sighting and allow-list match of each source, value and threat type,
/// sightings first.
fn first_of_each_key(weighed: &[Weighed], allows: &[AllowHit]) -> (Vec<bool>, Vec<bool>) {
    let mut seen = BTreeSet::new();
    let sightings = weighed
        .iter()
        .map(|item| {
            let s = &item.matched.sighting;
            seen.insert((s.source.as_str(), s.value.as_str(), s.threat))
        })
        .collect();
    let allows = allows
        .iter()
        .map(|hit| {
            let entry = &hit.entry;
            seen.insert((
                entry.source.as_str(),
                entry.value.as_str(),
                ThreatType::Suspicious,
            ))
        })
        .collect();
    (sightings, allows)
}

fn sighting_note(item: &Weighed, outcome: &Outcome, lang: Lang) -> Option<String> {
    let value = &item.matched.sighting.value;
    let mut notes = Vec::new();
    match (item.matched.via, lang) {
        (Via::Exact, _) => {}
        (Via::Network, Lang::En) => {
            notes.push(format!("listed network {value} contains the address"))
        }
        (Via::Network, Lang::ZhCn) => notes.push(format!("被列入的网段 {value} 包含该地址")),
        (Via::ParentDomain, Lang::En) => notes.push(format!("listed parent domain {value}")),
        (Via::ParentDomain, Lang::ZhCn) => notes.push(format!("被列入的是上级域名 {value}")),
        (Via::SuffixParent, Lang::En) => {
            notes.push(format!("listed zone {value} is shared by unrelated owners"))
        }
        (Via::SuffixParent, Lang::ZhCn) => {
            notes.push(format!("被列入的 {value} 是多方共用的域名空间"))
        }
        (Via::UrlHost, Lang::En) => {
            notes.push(format!("applies to the URL's host through {value}"))
        }
        (Via::UrlHost, Lang::ZhCn) => notes.push(format!("通过 {value} 作用于网址的主机")),
        (Via::SiteUrl, Lang::En) => {
            notes.push(format!("listed URL {value} is the site's home page"))
        }
        (Via::SiteUrl, Lang::ZhCn) => notes.push(format!("被列入的网址 {value} 是该站点首页")),
    }
    if item.age_factor < 1.0 {
        notes.push(match lang {
            Lang::En => format!("aged to {:.2} of its weight", item.age_factor),
            Lang::ZhCn => format!("因时间久远，权重降为原来的 {:.2}", item.age_factor),
        });
    }
    let listing = matches!(
        item.matched.sighting.claim,
        ClaimKind::Malicious | ClaimKind::Suspicious
    );
    if outcome.outweighed && listing {
        notes.push(
            lang.pick("outweighed by a known-benign list", "被已知良性名单抵消")
                .to_string(),
        );
    }
    (!notes.is_empty()).then(|| notes.join(lang.pick("; ", "；")))
}

fn allow_note(hit: &AllowHit, weight: f64, lang: Lang) -> Option<String> {
    let value = &hit.entry.value;
    if weight == 0.0 {
        return Some(
            lang.pick(
                "describes the indicator; does not prove it benign",
                "仅描述该指标的属性，不能证明其良性",
            )
            .to_string(),
        );
    }
    match (hit.via, lang) {
        (Via::ParentDomain | Via::SuffixParent, Lang::En) => {
            Some(format!("parent domain {value} is listed"))
        }
        (Via::ParentDomain | Via::SuffixParent, Lang::ZhCn) => {
            Some(format!("上级域名 {value} 在名单中"))
        }
        (Via::UrlHost, Lang::En) => Some(format!("the URL's host matches {value}")),
        (Via::UrlHost, Lang::ZhCn) => Some(format!("网址的主机匹配 {value}")),
        (Via::Network, Lang::En) => Some(format!("network {value} contains the address")),
        (Via::Network, Lang::ZhCn) => Some(format!("网段 {value} 包含该地址")),
        (Via::Exact | Via::SiteUrl, _) => None,
    }
}

fn tags(weighed: &[Weighed]) -> Vec<Tag> {
    let mut by_type: BTreeMap<ThreatType, BTreeSet<String>> = BTreeMap::new();
    for item in weighed
        .iter()
        .filter(|w| w.matched.sighting.claim != ClaimKind::Benign)
    {
        let labels = by_type.entry(item.matched.sighting.threat).or_default();
        labels.extend(item.matched.sighting.labels.iter().take(10).cloned());
    }
    let mut tags: Vec<Tag> = by_type
        .into_iter()
        .map(|(threat_type, labels)| Tag {
            threat_type,
            labels: labels.into_iter().collect(),
        })
        .collect();
    tags.sort_by(|a, b| {
        b.threat_type
            .severity()
            .cmp(&a.threat_type.severity())
            .then(a.threat_type.name().cmp(b.threat_type.name()))
    });
    tags
}

/// Orders related indicators malicious first, then suspicious, unrated and benign, and within
/// a verdict by how directly they are linked. The lookup order stays within a link type.
fn related_by_relevance(related: &[Related]) -> Vec<Related> {
    let verdict_rank = |verdict: Option<Verdict>| match verdict {
        Some(Verdict::Malicious) => 0,
        Some(Verdict::Suspicious) => 1,
        None | Some(Verdict::Unknown) => 2,
        Some(Verdict::Benign) => 3,
    };
    let relation_rank = |relation: &str| {
        [
            "host",
            "hosted_on",
            "reported_together",
            "family_c2",
            "subdomain",
            "parent_domain",
            "sibling_domain",
        ]
        .iter()
        .position(|known| *known == relation)
        .unwrap_or(usize::MAX)
    };
    let mut sorted = related.to_vec();
    sorted.sort_by_key(|r| (verdict_rank(r.verdict), relation_rank(&r.relation)));
    // An indicator linked twice (a URL on the host and in the same MISP event) is listed
    // once, under its most direct link.
    let mut listed = BTreeSet::new();
    sorted.retain(|r| listed.insert((r.kind.clone(), r.value.clone())));
    sorted
}

/// Family and actor names of the malicious and suspicious evidence, each with whether its
/// source calls it an actor, in evidence order.
fn family_names(weighed: &[Weighed]) -> Vec<(String, bool)> {
    let mut names: Vec<(String, bool)> = Vec::new();
    for item in weighed {
        let s = &item.matched.sighting;
        let Some(name) = &s.family else { continue };
        if !matches!(s.claim, ClaimKind::Malicious | ClaimKind::Suspicious) {
            continue;
        }
        let is_actor = s.threat == ThreatType::Apt;
        if !names
            .iter()
            .any(|(known, actor)| *actor == is_actor && known.eq_ignore_ascii_case(name))
        {
            names.push((name.clone(), is_actor));
        }
    }
    names
}

fn seen_range(weighed: &[Weighed]) -> (Option<String>, Option<String>) {
    let first = weighed
        .iter()
        .filter_map(|w| w.matched.sighting.first_seen.as_ref())
        .min();
    let last = weighed
        .iter()
        .filter_map(|w| {
            let sighting = &w.matched.sighting;
            sighting.last_seen.as_ref().or(sighting.first_seen.as_ref())
        })
        .max();
    (first.cloned(), last.cloned())
}

fn data_as_of(weighed: &[Weighed], findings: &Findings) -> Option<String> {
    weighed
        .iter()
        .map(|w| w.matched.sighting.imported_at.as_str())
        .min()
        .or(findings.latest_import.as_deref())
        .map(str::to_string)
}

fn benign_matches(allows: &[AllowHit]) -> Vec<BenignMatch> {
    let mut seen = BTreeSet::new();
    allows
        .iter()
        .filter(|hit| seen.insert((hit.entry.source.as_str(), hit.entry.value.as_str())))
        .map(|hit| BenignMatch {
            list: hit
                .entry
                .source
                .strip_prefix("misp-warninglist/")
                .unwrap_or(&hit.entry.source)
                .to_string(),
            category: hit.entry.category,
            matched: hit.entry.value.clone(),
            rank: hit.entry.rank,
        })
        .collect()
}

fn profile(indicator: &Indicator, findings: &Findings, weighed: &[Weighed]) -> Profile {
    let mut profile = Profile {
        flags: flags(findings, weighed),
        hosting: hosting(findings),
        ..Profile::default()
    };
    if let Some(scope) = findings.scope {
        profile.scope = Some(scope.name().to_string());
    }
    match indicator {
        Indicator::Domain(domain) => {
            profile.registered_domain = domain.registered.clone();
            profile.tld = domain.name.rsplit('.').next().map(str::to_string);
            profile.public_suffix = Some(domain.suffix.clone());
            profile.popularity_rank = top_site_rank(findings);
        }
        Indicator::Url(url) => {
            let parsed = url::Url::parse(&url.url).ok();
            profile.scheme = parsed.as_ref().map(|u| u.scheme().to_string());
            profile.port = parsed.as_ref().and_then(|u| u.port_or_known_default());
            profile.path = parsed.as_ref().map(|u| u.path().to_string());
            profile.url_shortener = Some(profile.flags.iter().any(|f| f == "url_shortener"));
            match &url.host {
                UrlHost::Ip(ip) => profile.host = Some(ip.to_string()),
                UrlHost::Domain(domain) => {
                    profile.host = Some(domain.name.clone());
                    profile.registered_domain = domain.registered.clone();
                    profile.tld = domain.name.rsplit('.').next().map(str::to_string);
                    profile.public_suffix = Some(domain.suffix.clone());
                }
            }
        }
        Indicator::Hash { kind, .. } => profile.hash_type = Some(kind.name().to_string()),
        Indicator::Ip(_) | Indicator::Cve(_) => {}
    }
    profile
}

/// Moves the location and the ASN range out of the findings into the profile.
fn add_location_and_asn(profile: &mut Profile, findings: &mut Findings) {
    if let Some(location) = findings.location.take() {
        profile.country = location.country;
        profile.region = location.region;
        profile.city = location.city;
    }
    if let Some(asn) = findings.asn.take() {
        profile.asn = Some(asn.asn);
        profile.as_name = Some(asn.organization);
        profile.network = Some(range_text(asn.start, asn.end));
    }
}

fn flags(findings: &Findings, weighed: &[Weighed]) -> Vec<String> {
    let mut flags: Vec<&str> = Vec::new();
    if let Some(scope) = findings.scope.filter(|s| *s != AddressScope::Public) {
        flags.push(scope.name());
    }
    for hit in &findings.allows {
        flags.push(hit.entry.category.name());
    }
    for item in weighed {
        let s = &item.matched.sighting;
        match s.threat {
            ThreatType::Anonymizer if s.source.contains("tor") => flags.push("tor_exit"),
            ThreatType::Anonymizer => flags.push("anonymizer"),
            ThreatType::Scanner => flags.push("scanner"),
            _ => {}
        }
    }
    sorted_unique(flags)
}

/// Sorts the names and keeps one copy of each, as a `BTreeSet` would.
fn sorted_unique(mut names: Vec<&str>) -> Vec<String> {
    names.sort_unstable();
    names.dedup();
    names.into_iter().map(str::to_string).collect()
}

/// Names the cloud, CDN and hosting lists that match, by the list's name.
fn hosting(findings: &Findings) -> Vec<String> {
    let names: Vec<&str> = findings
        .allows
        .iter()
        .filter(|hit| {
            matches!(
                hit.entry.category,
                AllowCategory::Cloud | AllowCategory::Cdn
            )
        })
        .map(|hit| {
            let source = &hit.entry.source;
            source
                .rsplit_once('/')
                .map_or(source.as_str(), |(_, name)| name)
        })
        .collect();
    sorted_unique(names)
}

fn top_site_rank(findings: &Findings) -> Option<u32> {
    findings
        .allows
        .iter()
        .filter(|hit| hit.entry.category == AllowCategory::TopSite)
        .filter_map(|hit| hit.entry.rank)
        .min()
}

fn range_text(start: std::net::IpAddr, end: std::net::IpAddr) -> String {
    let as_u128 = |ip: std::net::IpAddr| match ip {
        std::net::IpAddr::V4(v4) => u128::from(u32::from(v4)),
        std::net::IpAddr::V6(v6) => u128::from(v6),
    };
    let size = as_u128(end).wrapping_sub(as_u128(start)).wrapping_add(1);
    let bits = if start.is_ipv4() { 32 } else { 128 };
    if size.is_power_of_two() && as_u128(start) % size == 0 {
        let prefix = bits - size.trailing_zeros();
        return format!("{start}/{prefix}");
    }
    format!("{start} - {end}")
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[cfg(test)]
mod cases;
#[cfg(test)]
mod tests;
