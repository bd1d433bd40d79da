//! `describe_threat`: one knowledge entry with its links and the stored indicators that carry
//! it, explained in English or Chinese.

use std::collections::BTreeMap;

use tiq_model::{IndicatorCount, KnowledgeRef, Lang, ThreatDescription, ThreatKind};
use tiq_store::StoreError;

use super::{Entity, FamilyIndex, Knowledge};

/// Maximum length of a name to describe, in characters after trimming.
pub const MAX_NAME_CHARS: usize = 200;

/// A `describe_threat` request that cannot run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DescribeError {
    #[error(
        "name is empty: pass an actor, family, campaign or technique name, an alias or an ATT&CK id such as G0007"
    )]
    Empty,
    #[error(
        "name is {chars} characters long, over the maximum of {MAX_NAME_CHARS}: pass one actor, family, campaign or technique name, alias or ATT&CK id"
    )]
    TooLong { chars: usize },
    #[error("store lookup failed: {0}")]
    Store(#[from] StoreError),
}

impl DescribeError {
    /// Rejects an empty name and one over [`MAX_NAME_CHARS`] characters.
    pub(crate) fn check(name: &str) -> Result<(), DescribeError> {
        let chars = name.trim().chars().count();
        if chars == 0 {
            return Err(DescribeError::Empty);
        }
        if chars > MAX_NAME_CHARS {
            return Err(DescribeError::TooLong { chars });
        }
        Ok(())
    }

    /// Renders the error in the requested language.
    pub fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::En => self.to_string(),
            Lang::ZhCn => match self {
                DescribeError::Empty => {
                    "名称为空：请传入组织、家族、攻击活动或技术的名称、别名，或 ATT&CK 编号（如 G0007）"
                        .to_string()
                }
                DescribeError::TooLong { chars } => format!(
                    "名称长 {chars} 个字符，超过上限 {MAX_NAME_CHARS}：请只传入一个组织、家族、攻击活动或技术的名称、别名或 ATT&CK 编号"
                ),
                DescribeError::Store(error) => format!("本地数据库查询失败：{error}"),
            },
        }
    }

    /// Returns whether the caller can fix the request (as opposed to a store failure).
    pub fn is_invalid_request(&self) -> bool {
        !matches!(self, DescribeError::Store(_))
    }
}

/// Most entries listed per linked kind; the rest are counted in `left_out`.
const MAX_LINKED: usize = 25;
/// Most aliases listed.
const MAX_ALIASES: usize = 40;

/// Describes the actor, family, campaign, technique or tactic that `query` names (a name, an
/// alias or an ATT&CK id). `families` adds the stored indicators that carry it.
pub(crate) fn describe(
    knowledge: &Knowledge,
    families: Option<&FamilyIndex>,
    query: &str,
    lang: Lang,
) -> ThreatDescription {
    let found = knowledge.find(query, &[]);
    let Some(&best) = found.first() else {
        return not_found(knowledge, families, query, lang);
    };
    let entity = knowledge.entity(best);
    let mut left_out = BTreeMap::new();
    let mut linked = |kind: ThreatKind, list: &str| {
        let entries: Vec<&Entity> =
            if entity.kind == ThreatKind::Tactic && kind == ThreatKind::Technique {
                techniques_of_tactic(knowledge, &entity.name)
            } else {
                knowledge.linked(entity, kind)
            };
        capped(entries, MAX_LINKED, list, &mut left_out)
    };
    let techniques = linked(ThreatKind::Technique, "techniques");
    let actors = linked(ThreatKind::Actor, "actors");
    let families_linked = linked(ThreatKind::Family, "families");
    let campaigns = linked(ThreatKind::Campaign, "campaigns");
    let mut aliases = entity.aliases.clone();
    if aliases.len() > MAX_ALIASES {
        left_out.insert("aliases".to_string(), (aliases.len() - MAX_ALIASES) as u64);
        aliases.truncate(MAX_ALIASES);
    }
    let indicators = families
        .and_then(|index| index.of_entity(best))
        .map(|carriers| carriers.count())
        .unwrap_or_default();

    let mut description = ThreatDescription {
        query: query.to_string(),
        found: true,
        kind: Some(entity.kind),
        entry: Some(entity.reference()),
        aliases,
        description: entity.description.clone(),
        country: entity.country.clone(),
        tactics: entity.tactics.clone(),
        techniques,
        actors,
        families: families_linked,
        campaigns,
        indicators,
        other_matches: found[1..]
            .iter()
            .take(MAX_LINKED)
            .map(|&index| knowledge.entity(index).as_match())
            .collect(),
        sources: entity.sources.clone(),
        references: entity.references.clone(),
        left_out,
        summary: String::new(),
        lang,
    };
    description.summary = summary(&description, lang);
    description
}

fn not_found(
    knowledge: &Knowledge,
    families: Option<&FamilyIndex>,
    query: &str,
    lang: Lang,
) -> ThreatDescription {
    let indicators = families
        .and_then(|index| index.of_name(query))
        .map(|carriers| carriers.count())
        .unwrap_or_default();
    let mut summary = if knowledge.is_empty() {
        lang.pick(
            "No threat knowledge is loaded, so names cannot be looked up. Run `tiq sync mitre-attack misp-galaxy` (or import those files) and ask again.",
            "尚未加载威胁知识库，无法查询名称。请运行 `tiq sync mitre-attack misp-galaxy`（或导入这些文件）后再查询。",
        )
        .to_string()
    } else {
        match lang {
            Lang::En => format!(
                "No knowledge source (MITRE ATT&CK, MISP galaxies) describes \"{query}\". Check the spelling, or try another alias or an ATT&CK id such as G0007 or T1059."
            ),
            Lang::ZhCn => format!(
                "知识库（MITRE ATT&CK、MISP galaxy）中没有“{query}”的描述。请检查拼写，或改用其他别名或 ATT&CK 编号（如 G0007、T1059）。"
            ),
        }
    };
    summary.push_str(&indicators_sentence(&indicators, lang));
    ThreatDescription {
        query: query.to_string(),
        found: false,
        kind: None,
        entry: None,
        aliases: Vec::new(),
        description: String::new(),
        country: None,
        tactics: Vec::new(),
        techniques: Vec::new(),
        actors: Vec::new(),
        families: Vec::new(),
        campaigns: Vec::new(),
        indicators,
        other_matches: Vec::new(),
        sources: Vec::new(),
        references: Vec::new(),
        left_out: BTreeMap::new(),
        summary,
        lang,
    }
}

fn techniques_of_tactic<'a>(knowledge: &'a Knowledge, tactic: &str) -> Vec<&'a Entity> {
    let mut techniques: Vec<&Entity> = knowledge
        .entities
        .iter()
        .filter(|e| e.kind == ThreatKind::Technique && e.tactics.iter().any(|t| t == tactic))
        .collect();
    techniques.sort_by(|a, b| (&a.id, &a.name).cmp(&(&b.id, &b.name)));
    techniques
}

fn capped(
    entries: Vec<&Entity>,
    max: usize,
    list: &str,
    left_out: &mut BTreeMap<String, u64>,
) -> Vec<KnowledgeRef> {
    if entries.len() > max {
        left_out.insert(list.to_string(), (entries.len() - max) as u64);
    }
    entries.iter().take(max).map(|e| e.reference()).collect()
}

fn summary(description: &ThreatDescription, lang: Lang) -> String {
    let Some(entry) = &description.entry else {
        return String::new();
    };
    let kind = description.kind.map_or("", |k| k.localized(lang));
    let name = entry.label();
    let mut text = match lang {
        Lang::En if kind.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']) => {
            format!("{name} is an {kind}.")
        }
        Lang::En => format!("{name} is a {kind}."),
        Lang::ZhCn => format!("{name} 是{kind}。"),
    };
    let aliases: Vec<&str> = description
        .aliases
        .iter()
        .take(5)
        .map(String::as_str)
        .collect();
    if !aliases.is_empty() {
        text.push_str(&match lang {
            Lang::En => format!(" Also known as {}.", aliases.join(", ")),
            Lang::ZhCn => format!("别名：{}。", aliases.join("、")),
        });
    }
    if let Some(country) = &description.country {
        text.push_str(&match lang {
            Lang::En => format!(" Suspected origin: {country}."),
            Lang::ZhCn => format!("疑似来源国家：{country}。"),
        });
    }
    let count = |list: &[KnowledgeRef], name: &str| {
        list.len() as u64 + description.left_out.get(name).copied().unwrap_or(0)
    };
    let links = [
        (
            count(&description.actors, "actors"),
            "actor",
            "actors",
            "个组织",
        ),
        (
            count(&description.families, "families"),
            "family or tool",
            "families or tools",
            "个家族或工具",
        ),
        (
            count(&description.techniques, "techniques"),
            "technique",
            "techniques",
            "项技术",
        ),
        (
            count(&description.campaigns, "campaigns"),
            "campaign",
            "campaigns",
            "次攻击活动",
        ),
    ];
    let parts: Vec<String> = links
        .iter()
        .filter(|(n, ..)| *n > 0)
        .map(|(n, one, many, zh)| match lang {
            Lang::En if *n == 1 => format!("1 {one}"),
            Lang::En => format!("{n} {many}"),
            Lang::ZhCn => format!("{n} {zh}"),
        })
        .collect();
    if !parts.is_empty() {
        text.push_str(&match lang {
            Lang::En => format!(" Linked to {}.", parts.join(", ")),
            Lang::ZhCn => format!("关联 {}。", parts.join("、")),
        });
    }
    if matches!(
        description.kind,
        Some(ThreatKind::Actor | ThreatKind::Family)
    ) {
        text.push_str(&indicators_sentence(&description.indicators, lang));
    }
    text
}

fn indicators_sentence(indicators: &IndicatorCount, lang: Lang) -> String {
    if indicators.total == 0 {
        return lang
            .pick(
                " No stored indicator carries this name.",
                "本地数据中没有带此名称的指标。",
            )
            .to_string();
    }
    let parts: Vec<String> = indicators
        .by_type
        .iter()
        .map(|(kind, n)| match lang {
            Lang::En => format!("{n} {kind}"),
            Lang::ZhCn => {
                let name = chinese_type_name(kind);
                // Chinese text puts a space between Chinese characters and Latin letters.
                let space = if name.starts_with(|c: char| c.is_ascii()) {
                    " "
                } else {
                    ""
                };
                format!("{n} 个{space}{name}")
            }
        })
        .collect();
    match lang {
        Lang::En if indicators.total == 1 => {
            format!(" 1 stored indicator carries it ({}).", parts.join(", "))
        }
        Lang::En => format!(
            " {} stored indicators carry it ({}).",
            indicators.total,
            parts.join(", ")
        ),
        Lang::ZhCn => format!(
            "本地数据中有 {} 个指标带此名称（{}）。",
            indicators.total,
            parts.join("、")
        ),
    }
}

/// Returns the Chinese name of a stored indicator type (`ip`, `domain`, `url`, `md5`, `sha1`,
/// `sha256`, `network`), or the type itself when it has none.
fn chinese_type_name(kind: &str) -> &str {
    match kind {
        "ip" => "IP 地址",
        "domain" => "域名",
        "url" => "网址",
        "md5" => "MD5",
        "sha1" => "SHA-1",
        "sha256" => "SHA-256",
        "network" => "网段",
        other => other,
    }
}
