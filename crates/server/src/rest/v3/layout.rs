//! The response layout of `POST /api/v3/ti`, and the mapping of tiq's report and vulnerability
//! search onto it. docs/api.md lists where each field comes from.

use schemars::JsonSchema;
use serde::Serialize;
use tiq_model::{
    BenignMatch, ClaimKind, Evidence, IndicatorKind, KnowledgeRef, Lang, Profile, Related, Report,
    Verdict, VulnQueryKind, VulnSearch, Vulnerability,
};

/// Layout version this server reports in `ver`: tiq's own version.
const VER: &str = env!("CARGO_PKG_VERSION");

/// `return_code` values.
pub mod code {
    /// The request succeeded.
    pub const OK: i32 = 0;
    /// The body cannot be read, a required field is missing, or a field has an invalid value.
    pub const BAD_REQUEST: i32 = 1001;
    /// `key` is not a valid indicator for the action, or not a valid vulnerability query.
    pub const INVALID_KEY: i32 = 1002;
    /// `c_action` names no supported action.
    pub const UNSUPPORTED_ACTION: i32 = 1003;
    /// No API key (`c_appkey` or a header), or one that is invalid, revoked or expired
    /// (HTTP 401).
    pub const UNAUTHORIZED: i32 = 1004;
    /// The API key lacks the scope of the action (HTTP 403).
    pub const FORBIDDEN: i32 = 1005;
    /// The key's rate or daily quota is used up, or the address failed to authenticate too
    /// often (HTTP 429 with Retry-After).
    pub const LIMITED: i32 = 1006;
    /// The server failed (the local database cannot be read); the request can be retried.
    pub const INTERNAL_ERROR: i32 = 5000;
}

/// Any response of `POST /api/v3/ti`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum V3Response {
    Indicator(Box<IndicatorAnswer>),
    Vulnerabilities(Box<VulAnswer>),
    Error(ErrorAnswer),
}

impl V3Response {
    /// Returns the conclusion of the response for the audit log: the result word, or the result count.
    pub fn verdict(&self) -> Option<String> {
        match self {
            V3Response::Indicator(answer) => serde_json::to_value(answer.result)
                .ok()
                .and_then(|value| value.as_str().map(str::to_string)),
            V3Response::Vulnerabilities(answer) => Some(format!("{} results", answer.total)),
            V3Response::Error(_) => None,
        }
    }
}

/// A failed request: only the code, the message and the version.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ErrorAnswer {
    /// 1001 bad request, 1002 invalid key, 1003 unsupported action, 1004 no valid API key,
    /// 1005 missing scope, 1006 rate or quota limit, 5000 internal error.
    pub return_code: i32,
    /// Description of the failure, naming the value and the fix, in the request language.
    pub return_msg: String,
    pub ver: String,
}

impl ErrorAnswer {
    pub fn new(return_code: i32, return_msg: String) -> ErrorAnswer {
        ErrorAnswer {
            return_code,
            return_msg,
            ver: VER.to_string(),
        }
    }
}

/// Verdict in the service's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum V3Result {
    /// malicious
    Black,
    /// benign
    White,
    /// suspicious
    Grey,
    /// unknown: no source lists it, which never means safe
    Unknown,
}

impl From<Verdict> for V3Result {
    fn from(verdict: Verdict) -> V3Result {
        match verdict {
            Verdict::Malicious => V3Result::Black,
            Verdict::Benign => V3Result::White,
            Verdict::Suspicious => V3Result::Grey,
            Verdict::Unknown => V3Result::Unknown,
        }
    }
}

impl From<ClaimKind> for V3Result {
    fn from(claim: ClaimKind) -> V3Result {
        match claim {
            ClaimKind::Malicious => V3Result::Black,
            ClaimKind::Benign => V3Result::White,
            ClaimKind::Suspicious => V3Result::Grey,
            ClaimKind::Context => V3Result::Unknown,
        }
    }
}

/// One threat type of the indicator.
#[derive(Debug, Serialize, JsonSchema)]
pub struct V3Tag {
    /// tiq's threat type: `c2`, `botnet`, `phishing`, `scanner`, …
    pub threat_type: String,
    /// The threat type's name in the request language.
    pub stamp: String,
}

/// One evidence source's statement.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Intelligence {
    pub source: String,
    /// The source's own claim: black, grey, white, or unknown for context without a judgement.
    pub result: V3Result,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threat_type: Option<String>,
    /// The value the source listed: the indicator, a network containing it, a parent domain.
    pub matched: String,
    pub labels: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    /// Share of the verdict this statement carries, 0 to 1.
    pub weight: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl From<&Evidence> for Intelligence {
    fn from(evidence: &Evidence) -> Intelligence {
        Intelligence {
            source: evidence.source.clone(),
            result: evidence.claim.into(),
            threat_type: evidence.threat_type.map(|t| t.name().to_string()),
            matched: evidence.matched.clone(),
            labels: evidence.labels.clone(),
            family: evidence.family.clone(),
            first_seen: evidence.first_seen.clone(),
            last_seen: evidence.last_seen.clone(),
            weight: evidence.weight,
            reference: evidence.reference.clone(),
        }
    }
}

/// Location and network owner, where the geolocation and ASN data know them.
#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct Basic {
    /// ISO 3166 country code.
    pub country: Option<String>,
    /// Province, state or region.
    pub province: Option<String>,
    pub city: Option<String>,
    /// Name of the autonomous system.
    pub isp: Option<String>,
    pub asn: Option<u32>,
    /// The cloud or CDN provider whose published ranges contain the address, else the
    /// autonomous system's name.
    pub owner: Option<String>,
}

impl From<&Profile> for Basic {
    fn from(profile: &Profile) -> Basic {
        Basic {
            country: profile.country.clone(),
            province: profile.region.clone(),
            city: profile.city.clone(),
            isp: profile.as_name.clone(),
            asn: profile.asn,
            owner: profile
                .hosting
                .first()
                .cloned()
                .or_else(|| profile.as_name.clone()),
        }
    }
}

/// Fields tiq adds beyond the service's own.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Context {
    /// tiq's verdict: malicious, suspicious, benign or unknown.
    pub verdict: Verdict,
    pub summary: String,
    pub recommendation: Vec<String>,
    pub actors: Vec<KnowledgeRef>,
    pub related: Vec<Related>,
    pub benign_matches: Vec<BenignMatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_as_of: Option<String>,
    pub lang: Lang,
}

/// The response to IPAnalysis, DomainInfo, UrlInfo and FileInfo.
#[derive(Debug, Serialize, JsonSchema)]
pub struct IndicatorAnswer {
    /// Always 0.
    pub return_code: i32,
    pub return_msg: String,
    /// The indicator in canonical form.
    pub key: String,
    #[serde(rename = "type")]
    pub kind: IndicatorKind,
    pub result: V3Result,
    /// 0 unknown, 1 safe, 2 low, 3 medium, 4 high, 5 critical.
    pub threat_level: u8,
    /// Certainty of the result, 0 to 100.
    pub confidence: u8,
    pub tags: Vec<V3Tag>,
    /// Malware families by canonical name.
    pub family: Vec<String>,
    pub campaign: Vec<String>,
    /// One entry per evidence source.
    pub intelligences: Vec<Intelligence>,
    /// ATT&CK techniques.
    pub ttps: Vec<KnowledgeRef>,
    pub basic: Basic,
    pub profile: Profile,
    pub context: Context,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    pub ver: String,
}

impl IndicatorAnswer {
    pub fn from_report(report: Report) -> IndicatorAnswer {
        let lang = report.lang;
        let tags = report
            .tags
            .iter()
            .map(|tag| V3Tag {
                threat_type: tag.threat_type.name().to_string(),
                stamp: lang
                    .pick(tag.threat_type.name_en(), tag.threat_type.name_zh())
                    .to_string(),
            })
            .collect();
        IndicatorAnswer {
            return_code: code::OK,
            return_msg: lang.pick("ok", "成功").to_string(),
            key: report.indicator.value.clone(),
            kind: report.indicator.kind,
            result: report.verdict.into(),
            threat_level: report.threat_level.level,
            confidence: (report.confidence.clamp(0.0, 1.0) * 100.0).round() as u8,
            tags,
            family: names(&report.families),
            campaign: names(&report.campaigns),
            intelligences: report.evidence.iter().map(Intelligence::from).collect(),
            ttps: report.techniques,
            basic: Basic::from(&report.profile),
            profile: report.profile,
            context: Context {
                verdict: report.verdict,
                summary: report.summary,
                recommendation: report.recommendation,
                actors: report.actors,
                related: report.related,
                benign_matches: report.benign_matches,
                data_as_of: report.data_as_of,
                lang,
            },
            first_seen: report.first_seen,
            last_seen: report.last_seen,
            ver: VER.to_string(),
        }
    }
}

fn names(refs: &[KnowledgeRef]) -> Vec<String> {
    refs.iter().map(|r| r.name.clone()).collect()
}

/// One vulnerability in the VulSearch response.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VulItem {
    /// CVE id.
    pub id: String,
    /// CNVD and CNNVD ids.
    pub aliases: Vec<String>,
    pub title: String,
    pub description: String,
    /// `critical`, `high`, `medium`, `low` or `none`.
    pub severity: Option<String>,
    pub cvss_score: Option<f64>,
    pub cvss_vector: Option<String>,
    pub published: Option<String>,
    pub updated: Option<String>,
    pub cwes: Vec<String>,
    /// Listed in CISA's Known Exploited Vulnerabilities catalog.
    pub in_kev: bool,
    pub known_exploited: bool,
    /// Probability of exploitation in the next 30 days (FIRST EPSS), 0 to 1.
    pub epss: Option<f64>,
    /// Public exploit code.
    pub exploits: Vec<String>,
    pub first_fixed: Option<String>,
    /// Upgrade advice in the request language.
    pub fix_advice: Option<String>,
    pub patches: Vec<String>,
    pub advisories: Vec<String>,
}

impl From<Vulnerability> for VulItem {
    fn from(vuln: Vulnerability) -> VulItem {
        let (severity, cvss_score, cvss_vector) = match vuln.cvss {
            Some(cvss) => (Some(cvss.severity), Some(cvss.score), Some(cvss.vector)),
            None => (None, None, None),
        };
        VulItem {
            id: vuln.id,
            aliases: vuln.aliases,
            title: vuln.title,
            description: vuln.description,
            severity,
            cvss_score,
            cvss_vector,
            published: vuln.published,
            updated: vuln.updated,
            cwes: vuln.cwes,
            in_kev: vuln.exploitation.in_kev,
            known_exploited: vuln.exploitation.known_exploited,
            epss: vuln.exploitation.epss,
            exploits: vuln.exploitation.public_exploits,
            first_fixed: vuln.fix.first_fixed,
            fix_advice: vuln.fix.advice,
            patches: vuln.fix.patches,
            advisories: vuln.fix.advisories,
        }
    }
}

/// The response to VulSearch.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VulAnswer {
    /// Always 0.
    pub return_code: i32,
    pub return_msg: String,
    /// The query as given.
    pub key: String,
    pub query_kind: VulnQueryKind,
    /// Matches over all pages.
    pub total: u64,
    /// True when `total` stopped counting at 5,000.
    pub total_capped: bool,
    pub items: Vec<VulItem>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    pub ver: String,
}

impl VulAnswer {
    pub fn from_search(search: VulnSearch) -> VulAnswer {
        VulAnswer {
            return_code: code::OK,
            return_msg: search.lang.pick("ok", "成功").to_string(),
            key: search.query,
            query_kind: search.query_kind,
            total: search.total,
            total_capped: search.total_capped,
            items: search.results.into_iter().map(VulItem::from).collect(),
            next_cursor: search.next_cursor,
            summary: search.summary,
            suggestion: search.suggestion,
            ver: VER.to_string(),
        }
    }
}
