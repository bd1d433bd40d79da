//! Turning a stored vulnerability into the `Vulnerability` of a search result, in the
//! requested language.

use std::collections::HashMap;

use tiq_model::vuln::{AffectedProduct, Cvss, Exploitation, Fix, RelatedIntel};
use tiq_model::{KnowledgeRef, Lang, Vulnerability};

use super::index::StoredVuln;
use super::version::{self, Affected, Status, VersionEntry};

/// Most references listed as advisories.
const MAX_ADVISORIES: usize = 10;
/// Most related indicators listed.
const MAX_INDICATORS: usize = 10;

/// Mentions of CVEs in other data: indicators whose labels name one, and actors and families
/// whose descriptions name one.
#[derive(Debug, Default)]
pub struct CveMentions {
    pub indicators: HashMap<String, Vec<String>>,
    pub actors: HashMap<String, Vec<KnowledgeRef>>,
    pub families: HashMap<String, Vec<KnowledgeRef>>,
}

impl CveMentions {
    /// Scans the stored sightings for labels that name a CVE, and the knowledge descriptions
    /// for CVE ids.
    pub fn build(
        store: &tiq_store::Store,
        knowledge: &crate::knowledge::Knowledge,
    ) -> Result<CveMentions, tiq_store::StoreError> {
        let started = std::time::Instant::now();
        let mut mentions = CveMentions::default();
        store.for_each_cve_label(|value, labels| {
            for cve in cve_ids(labels) {
                let list = mentions.indicators.entry(cve).or_default();
                if !list.iter().any(|known| known == value) {
                    list.push(value.to_string());
                }
            }
        })?;
        for entity in knowledge.entities() {
            let list = match entity.kind {
                tiq_model::ThreatKind::Actor => &mut mentions.actors,
                tiq_model::ThreatKind::Family => &mut mentions.families,
                _ => continue,
            };
            for cve in cve_ids(&entity.description) {
                let refs = list.entry(cve).or_default();
                if !refs.contains(&entity.reference()) {
                    refs.push(entity.reference());
                }
            }
        }
        tracing::info!(
            cves = mentions.indicators.len() + mentions.actors.len() + mentions.families.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "indexed mentions of CVEs"
        );
        Ok(mentions)
    }
}

/// Returns the CVE ids in a text, in upper case.
fn cve_ids(text: &str) -> Vec<String> {
    static CVE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)\bcve-\d{4}-\d{4,}\b").expect("valid pattern")
    });
    let mut ids: Vec<String> = CVE
        .find_iter(text)
        .map(|m| m.as_str().to_ascii_uppercase())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// The version of a product query, the affected entry that matched it, and the fix of the
/// version's release branch when the product has entries for several branches.
pub(super) struct VersionMatch<'a> {
    pub version: &'a str,
    pub affected: &'a Affected,
    pub branch_fix: Option<&'a str>,
}

pub(super) fn vulnerability(
    stored: &StoredVuln,
    aliases: Vec<String>,
    matched: Option<VersionMatch<'_>>,
    mentions: &CveMentions,
    lang: Lang,
) -> Vulnerability {
    let cvss = stored.cvss.as_ref().map(|c| Cvss {
        version: c.version.clone(),
        score: c.score,
        vector: c.vector.clone(),
        severity: c.severity.clone(),
        severity_label: severity_label(&c.severity, lang).to_string(),
    });
    let title = if stored.title.is_empty() {
        first_sentence(&stored.description)
    } else {
        stored.title.clone()
    };
    let version_status = matched.as_ref().map(|m| {
        let status = version::status_of(m.affected, m.version);
        status_name(status).to_string()
    });
    Vulnerability {
        id: stored.id.clone(),
        aliases,
        title,
        description: stored.description.clone(),
        published: stored.published.clone(),
        updated: stored.updated.clone(),
        state: stored.state.clone(),
        cvss,
        cwes: stored.cwes.clone(),
        affected: stored.affected.iter().map(affected_product).collect(),
        version_status,
        exploitation: Exploitation {
            in_kev: stored.kev.is_some(),
            kev: stored.kev.clone(),
            ssvc_exploitation: stored.ssvc_exploitation.clone(),
            ssvc_automatable: stored.ssvc_automatable.clone(),
            epss: stored.epss,
            epss_percentile: stored.epss_percentile,
            known_exploited: stored.known_exploited(),
            public_exploits: stored.public_exploits(),
        },
        fix: fix(stored, matched.as_ref(), lang),
        related: RelatedIntel {
            indicators: mentions
                .indicators
                .get(&stored.id)
                .map(|list| list.iter().take(MAX_INDICATORS).cloned().collect())
                .unwrap_or_default(),
            actors: mentions.actors.get(&stored.id).cloned().unwrap_or_default(),
            families: mentions
                .families
                .get(&stored.id)
                .cloned()
                .unwrap_or_default(),
        },
        sources: stored.sources.clone(),
    }
}

pub(super) fn severity_label(severity: &str, lang: Lang) -> &'static str {
    match severity {
        "critical" => lang.pick("critical", "危急"),
        "high" => lang.pick("high", "高危"),
        "medium" => lang.pick("medium", "中危"),
        "low" => lang.pick("low", "低危"),
        _ => lang.pick("none", "无"),
    }
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Affected => "affected",
        Status::Unaffected => "unaffected",
        Status::Unknown => "unknown",
    }
}

fn first_sentence(text: &str) -> String {
    let sentence = text.split(". ").next().unwrap_or(text).trim();
    sentence.chars().take(160).collect()
}

fn affected_product(affected: &Affected) -> AffectedProduct {
    AffectedProduct {
        vendor: affected.vendor.clone().unwrap_or_default(),
        product: affected.product.clone().unwrap_or_default(),
        versions: affected.versions.iter().map(describe_entry).collect(),
        default_status: affected.default_status.clone(),
    }
}

/// `>= 9.0.0, < 9.0.90: affected`, `= 1.0: affected`, `< 23.9.8: affected (unaffected from
/// 23.9.8)`.
fn describe_entry(entry: &VersionEntry) -> String {
    let open_lower = matches!(entry.version.as_str(), "0" | "*" | "");
    let mut bounds = Vec::new();
    match (&entry.less_than, &entry.less_than_or_equal) {
        (None, None) => bounds.push(format!("= {}", entry.version)),
        (less_than, less_or_equal) => {
            if !open_lower {
                bounds.push(format!(">= {}", entry.version));
            }
            if let Some(bound) = less_than.as_ref().filter(|b| b.as_str() != "*") {
                bounds.push(format!("< {bound}"));
            }
            if let Some(bound) = less_or_equal.as_ref().filter(|b| b.as_str() != "*") {
                bounds.push(format!("<= {bound}"));
            }
            if bounds.is_empty() {
                bounds.push("all versions".to_string());
            }
        }
    }
    let mut text = format!("{}: {}", bounds.join(", "), entry.status);
    for change in &entry.changes {
        text.push_str(&format!(" ({} from {})", change.status, change.at));
    }
    text
}

fn fix(stored: &StoredVuln, matched: Option<&VersionMatch<'_>>, lang: Lang) -> Fix {
    // Fixed releases of the first product that names any, over all of its entries (a
    // product may have one entry per release branch).
    let product = stored
        .affected
        .iter()
        .find(|a| !fix_points(a).is_empty())
        .and_then(|a| a.product.clone())
        .unwrap_or_default();
    let mut fixed_versions: Vec<String> = stored
        .affected
        .iter()
        .filter(|a| a.product.as_deref() == Some(product.as_str()))
        .flat_map(fix_points)
        .collect();
    fixed_versions.sort_by(|a, b| version::compare_versions(a, b));
    fixed_versions.dedup();
    let (first_fixed, advice) = match matched {
        Some(m) => {
            let fixed = m
                .branch_fix
                .map(str::to_string)
                .or_else(|| version::first_fixed(m.affected, Some(m.version)));
            let product = m.affected.product.clone().unwrap_or_default();
            let advice = fixed
                .as_ref()
                .map(|v| upgrade_advice(&product, std::slice::from_ref(v), lang));
            (fixed, advice)
        }
        None => (
            fixed_versions.first().cloned(),
            (!fixed_versions.is_empty()).then(|| upgrade_advice(&product, &fixed_versions, lang)),
        ),
    };
    let tagged = |wanted: &[&str]| -> Vec<String> {
        stored
            .references
            .iter()
            .filter(|(_, tags)| tags.iter().any(|t| wanted.contains(&t.as_str())))
            .map(|(url, _)| url.clone())
            .collect()
    };
    let patches = tagged(&["patch"]);
    let mut advisories = tagged(&[
        "vendor-advisory",
        "third-party-advisory",
        "x_refsource_CONFIRM",
    ]);
    for (url, tags) in &stored.references {
        let other = !tags.iter().any(|t| t == "patch" || t == "exploit");
        if other && !advisories.contains(url) {
            advisories.push(url.clone());
        }
    }
    advisories.truncate(MAX_ADVISORIES);
    let mut mitigations: Vec<String> = stored
        .solutions
        .iter()
        .chain(&stored.workarounds)
        .cloned()
        .collect();
    if let Some(kev) = &stored.kev
        && !kev.required_action.is_empty()
    {
        mitigations.push(kev.required_action.clone());
    }
    Fix {
        first_fixed,
        fixed_versions,
        advice,
        patches,
        advisories,
        mitigations,
    }
}

/// Returns the releases an entry names as fixed: `lessThan` bounds of affected ranges and changes to
/// unaffected, sorted, without `*` bounds.
fn fix_points(affected: &Affected) -> Vec<String> {
    let mut fixes: Vec<String> = Vec::new();
    for entry in affected.versions.iter().filter(|e| e.status == "affected") {
        if let Some(bound) = entry.less_than.as_ref().filter(|b| !b.contains('*')) {
            fixes.push(bound.clone());
        }
        for change in entry.changes.iter().filter(|c| c.status == "unaffected") {
            fixes.push(change.at.clone());
        }
    }
    fixes.sort_by(|a, b| version::compare_versions(a, b));
    fixes.dedup();
    fixes
}

/// "Upgrade PAN-OS to 10.2.9-h1 or later.", or with several branches "Upgrade PAN-OS to the
/// fixed release of its branch: 10.2.9-h1, 11.0.4-h1 or 11.1.2-h3, or later."
fn upgrade_advice(product: &str, fixes: &[String], lang: Lang) -> String {
    match (lang, fixes) {
        (Lang::En, [one]) => format!("Upgrade {product} to {one} or later."),
        (Lang::ZhCn, [one]) => format!("将 {product} 升级到 {one} 或更高版本。"),
        (Lang::En, [rest @ .., last]) => format!(
            "Upgrade {product} to the fixed release of its branch: {} or {last}, or later.",
            rest.join(", ")
        ),
        (Lang::ZhCn, many) => format!(
            "将 {product} 升级到所在分支的修复版本（{}）或更高版本。",
            many.join("、")
        ),
        (Lang::En, []) => String::new(),
    }
}
