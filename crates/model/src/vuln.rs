//! The result of `search_vul`: vulnerabilities with their severity, exploitation, fix and
//! related intelligence.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::lang::Lang;
use crate::report::KnowledgeRef;

/// Query type, as the search read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VulnQueryKind {
    /// A CVE id.
    Id,
    /// A CNVD or CNNVD id, through the alias table.
    Alias,
    /// A product name followed by a version.
    Product,
    /// Words matched against title, description, vendor and product.
    Keyword,
}

/// One page of a vulnerability search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VulnSearch {
    /// The query as the caller typed it.
    pub query: String,
    pub query_kind: VulnQueryKind,
    /// Product and version of a product query.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Matches over all pages. A keyword query counts at most 5,000 (the results paging can
    /// reach); `total_capped` is then true and more may match.
    pub total: u64,
    #[serde(default)]
    pub total_capped: bool,
    pub results: Vec<Vulnerability>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// One short paragraph in the requested language.
    pub summary: String,
    /// A broader query to try when nothing matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    pub lang: Lang,
}

/// One vulnerability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Vulnerability {
    /// CVE id.
    pub id: String,
    /// CNVD and CNNVD ids from the alias table.
    pub aliases: Vec<String>,
    pub title: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    /// `PUBLISHED` or `REJECTED`, where a CVE record is loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvss: Option<Cvss>,
    pub cwes: Vec<String>,
    pub affected: Vec<AffectedProduct>,
    /// For a product query: whether the queried version is affected (`affected`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_status: Option<String>,
    pub exploitation: Exploitation,
    pub fix: Fix,
    pub related: RelatedIntel,
    /// Sources that describe it (`cve-json5/…`, `cisa-kev`, `epss`, `exploitdb…`).
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Cvss {
    /// `3.1`, `3.0` or `4.0` as the record states it (CVSS v3 is preferred when a record has
    /// both), or `3.x` when an EPSS table gives only a CVSS v3 score.
    pub version: String,
    pub score: f64,
    pub vector: String,
    /// `critical`, `high`, `medium`, `low` or `none`.
    pub severity: String,
    /// The severity in the requested language (危急, 高危, 中危, 低危).
    pub severity_label: String,
}

/// A product the record names, with its version ranges in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AffectedProduct {
    pub vendor: String,
    pub product: String,
    /// Each version entry as `>= 9.0.0, < 9.0.90: affected`.
    pub versions: Vec<String>,
    /// Status of versions no entry names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_status: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Exploitation {
    /// Listed in CISA's Known Exploited Vulnerabilities catalog.
    pub in_kev: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kev: Option<KevDetails>,
    /// CISA SSVC `Exploitation`: `none`, `poc` or `active`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssvc_exploitation: Option<String>,
    /// CISA SSVC `Automatable`: `yes` or `no`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssvc_automatable: Option<String>,
    /// Probability of exploitation in the next 30 days (FIRST EPSS), 0 to 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epss: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epss_percentile: Option<f64>,
    /// In KEV or SSVC exploitation `active`.
    pub known_exploited: bool,
    /// Public exploit code: Exploit-DB entries and references tagged `exploit`.
    pub public_exploits: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KevDetails {
    pub date_added: String,
    pub due_date: String,
    pub required_action: String,
    /// `Known` or `Unknown`.
    pub ransomware_use: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Fix {
    /// The first version that is no longer affected, where the ranges name one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_fixed: Option<String>,
    /// Every fixed release the ranges name, one per release branch, lowest first.
    pub fixed_versions: Vec<String>,
    /// The upgrade advice in the requested language ("upgrade to 9.0.90 or later").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advice: Option<String>,
    /// References tagged `patch`.
    pub patches: Vec<String>,
    /// References tagged as advisories, and the other references.
    pub advisories: Vec<String>,
    /// Solution and workaround texts of the record, and KEV's required action.
    pub mitigations: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RelatedIntel {
    /// Stored indicators whose labels name the CVE.
    pub indicators: Vec<String>,
    /// Actors and families whose descriptions name the CVE.
    pub actors: Vec<KnowledgeRef>,
    pub families: Vec<KnowledgeRef>,
}
