//! The result of `describe_threat`: what tiq's knowledge sources say about an actor, malware
//! family, campaign, technique or tactic, and how many stored indicators carry it.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::lang::Lang;
use crate::report::KnowledgeRef;

/// Kind of thing a knowledge entry describes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ThreatKind {
    /// A threat actor or intrusion set (ATT&CK group, MISP threat-actor cluster).
    Actor,
    /// A malware family or attacker tool (ATT&CK software, Malpedia and other MISP galaxies).
    Family,
    /// An ATT&CK campaign.
    Campaign,
    /// An ATT&CK technique or sub-technique.
    Technique,
    /// An ATT&CK tactic.
    Tactic,
}

impl ThreatKind {
    pub fn name(self) -> &'static str {
        match self {
            ThreatKind::Actor => "actor",
            ThreatKind::Family => "family",
            ThreatKind::Campaign => "campaign",
            ThreatKind::Technique => "technique",
            ThreatKind::Tactic => "tactic",
        }
    }

    pub fn localized(self, lang: Lang) -> &'static str {
        match self {
            ThreatKind::Actor => lang.pick("threat actor", "威胁组织"),
            ThreatKind::Family => lang.pick("malware family or tool", "恶意软件家族或工具"),
            ThreatKind::Campaign => lang.pick("campaign", "攻击活动"),
            ThreatKind::Technique => lang.pick("ATT&CK technique", "ATT&CK 技术"),
            ThreatKind::Tactic => lang.pick("ATT&CK tactic", "ATT&CK 战术"),
        }
    }
}

/// Another knowledge entry that a query also names, with its kind because one name can name
/// an actor and a family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct KnowledgeMatch {
    pub kind: ThreatKind,
    /// ATT&CK id or Malpedia id, where the entry has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
}

impl KnowledgeMatch {
    /// `G0007 APT28`, or the name alone.
    pub fn label(&self) -> String {
        match &self.id {
            Some(id) => format!("{id} {}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Stored indicators that carry a family or actor name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IndicatorCount {
    pub total: u64,
    /// Count per indicator type (`ip`, `domain`, `url`, `md5`, …).
    pub by_type: BTreeMap<String, u64>,
    /// A few of them, command-and-control servers and the most recently seen first.
    pub examples: Vec<String>,
}

/// Knowledge about one actor, family, campaign, technique or tactic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ThreatDescription {
    /// The name, alias or id as the caller typed it.
    pub query: String,
    /// Whether any knowledge source describes it. When false, only `summary`,
    /// `indicators` and `lang` carry information.
    pub found: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<ThreatKind>,
    /// Canonical name and id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<KnowledgeRef>,
    pub aliases: Vec<String>,
    /// Description as the knowledge source wrote it (English), citations removed.
    pub description: String,
    /// Suspected country of origin of an actor (ISO 3166 code), where a source states one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Tactics of a technique.
    pub tactics: Vec<String>,
    pub techniques: Vec<KnowledgeRef>,
    pub actors: Vec<KnowledgeRef>,
    pub families: Vec<KnowledgeRef>,
    pub campaigns: Vec<KnowledgeRef>,
    pub indicators: IndicatorCount,
    /// Other entries the query also names (an alias shared by a family and an actor).
    pub other_matches: Vec<KnowledgeMatch>,
    /// Knowledge sources that describe it (`mitre-attack/enterprise`, `misp-galaxy/malpedia`).
    pub sources: Vec<String>,
    pub references: Vec<String>,
    /// Entries cut from a capped list, by list name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub left_out: BTreeMap<String, u64>,
    /// One short paragraph in the requested language.
    pub summary: String,
    pub lang: Lang,
}
