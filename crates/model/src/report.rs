//! The common report every analysis tool returns, on every surface.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::indicator::IndicatorKind;
use crate::lang::Lang;
use crate::record::{AllowCategory, ClaimKind, ThreatType};

/// Overall judgement. `Unknown` means no source lists the indicator; it never means safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Malicious,
    Suspicious,
    Benign,
    Unknown,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Malicious => "malicious",
            Verdict::Suspicious => "suspicious",
            Verdict::Benign => "benign",
            Verdict::Unknown => "unknown",
        }
    }

    pub fn localized(self, lang: Lang) -> &'static str {
        match self {
            Verdict::Malicious => lang.pick("malicious", "恶意"),
            Verdict::Suspicious => lang.pick("suspicious", "可疑"),
            Verdict::Benign => lang.pick("benign", "良性"),
            Verdict::Unknown => lang.pick("unknown", "未知"),
        }
    }
}

/// Threat level from 0 (unknown) to 5 (critical), with its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ThreatLevel {
    /// 0 unknown, 1 safe, 2 low, 3 medium, 4 high, 5 critical.
    pub level: u8,
    /// English name of the level: unknown, safe, low, medium, high or critical.
    pub name: String,
}

impl ThreatLevel {
    pub fn new(level: u8) -> ThreatLevel {
        let level = level.min(5);
        ThreatLevel {
            level,
            name: ThreatLevel::name_of(level, Lang::En).to_string(),
        }
    }

    pub fn name_of(level: u8, lang: Lang) -> &'static str {
        match level {
            0 => lang.pick("unknown", "未知"),
            1 => lang.pick("safe", "安全"),
            2 => lang.pick("low", "低危"),
            3 => lang.pick("medium", "中危"),
            4 => lang.pick("high", "高危"),
            _ => lang.pick("critical", "严重"),
        }
    }
}

/// The indicator a report is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IndicatorRef {
    /// Canonical value (lower-case domain in punycode, compressed IPv6, lower-case hash).
    pub value: String,
    #[serde(rename = "type")]
    pub kind: IndicatorKind,
}

/// A threat type with the labels sources attached to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Tag {
    pub threat_type: ThreatType,
    pub labels: Vec<String>,
}

/// An actor, family, campaign or technique: its canonical name and, where one exists, its
/// MITRE ATT&CK id (`S0154`, `G0007`, `C0010`, `T1059.001`) or Malpedia id (`win.emotet`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct KnowledgeRef {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
}

impl KnowledgeRef {
    /// Returns a reference to a name no knowledge source describes.
    pub fn named(name: impl Into<String>) -> KnowledgeRef {
        KnowledgeRef {
            id: None,
            name: name.into(),
        }
    }

    /// `S0154 Cobalt Strike`, or the name alone.
    pub fn label(&self) -> String {
        match &self.id {
            Some(id) => format!("{id} {}", self.name),
            None => self.name.clone(),
        }
    }
}

/// An indicator linked to the one in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Related {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
    /// Link type: `host` (the URL's host), `hosted_on` (a URL on this host),
    /// `reported_together` (in the same MISP event), `family_c2` (a C2 server of the hash's
    /// family), `subdomain`, `parent_domain` or `sibling_domain`.
    pub relation: String,
    /// Claim of the source that lists the related indicator (malicious, suspicious or
    /// benign). It is not a weighed verdict, so analyse the indicator for its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
}

/// A known-benign list that matched the indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BenignMatch {
    /// Name of the list, for example `public-dns-v4` or `tranco10k`.
    pub list: String,
    pub category: AllowCategory,
    /// Entry of the list that matched (a network, a parent domain, a value).
    pub matched: String,
    /// Popularity rank for top-site lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<u32>,
}

/// One source's statement about the indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    pub source: String,
    pub claim: ClaimKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threat_type: Option<ThreatType>,
    /// The value the source listed: the indicator itself, a network containing it, a parent domain.
    pub matched: String,
    pub labels: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    /// Share of the verdict this statement carries, 0 to 1, after ageing and discounts.
    pub weight: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Reason the weight differs from the source's own, when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Context about the indicator that is not a judgement. Fields depend on the type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Profile {
    /// `public`, `private`, `loopback`, `link_local`, `multicast`, `reserved`, `documentation`, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// ISO 3166 country code from the geolocation databases.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Province, state or region, where the geolocation database has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_name: Option<String>,
    /// Address range the ASN data gives for the IP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// Flags such as `cloud`, `cdn`, `tor_exit`, `public_resolver`, `crawler`, `research_scanner`, `private`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    /// Known-benign lists of cloud, CDN and hosting ranges that contain the address, which
    /// name the provider (`amazon-aws`, `cloudflare`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosting: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registered_domain: Option<String>,
    /// Top-level domain: the last label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tld: Option<String>,
    /// Public suffix from the public suffix list (`co.uk`, `duckdns.org`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_suffix: Option<String>,
    /// Best popularity rank any top-site list gives the domain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub popularity_rank: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_shortener: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_type: Option<String>,
}

/// The common report of every analysis tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// The value as the caller typed it.
    pub input: String,
    pub indicator: IndicatorRef,
    pub verdict: Verdict,
    pub threat_level: ThreatLevel,
    /// Certainty of the verdict, 0 to 1.
    pub confidence: f64,
    pub tags: Vec<Tag>,
    /// Malware families and tools named by the evidence, under their canonical names.
    pub families: Vec<KnowledgeRef>,
    /// Threat actors named by the evidence.
    pub actors: Vec<KnowledgeRef>,
    /// ATT&CK campaigns of those actors, and of those families that at most one actor uses.
    pub campaigns: Vec<KnowledgeRef>,
    /// ATT&CK techniques of those families, or of the actors when no family is known.
    pub techniques: Vec<KnowledgeRef>,
    pub related: Vec<Related>,
    /// Entries cut from a capped list, by list name (`related`, `techniques`, `campaigns`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub left_out: BTreeMap<String, u64>,
    pub profile: Profile,
    pub benign_matches: Vec<BenignMatch>,
    pub evidence: Vec<Evidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    /// Import time (RFC 3339) of the oldest source that matched, or of the latest import when
    /// none matched. The feeds' own snapshot dates are not tracked yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_as_of: Option<String>,
    /// One short paragraph in the requested language.
    pub summary: String,
    /// Concrete next steps in the requested language.
    pub recommendation: Vec<String>,
    pub lang: Lang,
}
