//! Threat knowledge: MITRE ATT&CK and the MISP galaxies merged into one index of actors,
//! malware families, campaigns, techniques and tactics, with their aliases and links.
//!
//! Names are matched by [`normalize`], so `cobaltstrike`, `Cobalt Strike` and Malpedia's
//! `win.cobalt_strike` are one key. Entries of the same kind from different sources merge when
//! they share an ATT&CK id or a Malpedia id, and actors and families also when they share a
//! normalised name. No entry carries two different ATT&CK ids or two different Malpedia ids.
//! An alias alone never merges two entries, because aliases collide (a family and an actor,
//! or two vendors' names), but it finds them.

mod build;
mod cache;
mod describe;
mod families;
#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use tiq_feeds::Format;
use tiq_model::ThreatKind;
use tiq_store::SourceRow;

pub(crate) use describe::describe;
pub use describe::{DescribeError, MAX_NAME_CHARS};
pub(crate) use families::FamilyIndex;

/// One actor, family, campaign, technique or tactic after merging its sources.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Entity {
    pub kind: ThreatKind,
    pub name: String,
    /// ATT&CK id, or the Malpedia id when ATT&CK does not describe it.
    pub id: Option<String>,
    /// Malpedia id (`win.cobalt_strike`), also when `id` is the ATT&CK id.
    pub malpedia_id: Option<String>,
    /// Other names, without the canonical name.
    pub aliases: Vec<String>,
    pub description: String,
    /// Suspected country of origin of an actor (ISO 3166 code).
    pub country: Option<String>,
    /// Tactic names of a technique.
    pub tactics: Vec<String>,
    pub references: Vec<String>,
    /// Store sources that describe it.
    pub sources: Vec<String>,
    /// Indices of linked entities (uses, used by, attributed to, sub-technique of).
    pub links: Vec<usize>,
}

impl Entity {
    pub fn reference(&self) -> tiq_model::KnowledgeRef {
        tiq_model::KnowledgeRef {
            id: self.id.clone(),
            name: self.name.clone(),
        }
    }

    /// Returns the entry as one of a query's other matches.
    pub fn as_match(&self) -> tiq_model::KnowledgeMatch {
        tiq_model::KnowledgeMatch {
            kind: self.kind,
            id: self.id.clone(),
            name: self.name.clone(),
        }
    }
}

/// The knowledge index. Empty when no knowledge source was imported.
#[derive(Debug, Default)]
pub struct Knowledge {
    entities: Vec<Entity>,
    /// Normalised names, aliases and ids, to the entities that carry them.
    by_key: HashMap<String, Vec<usize>>,
    /// ATT&CK and Malpedia ids in lower case, to the entities that carry them.
    by_id: HashMap<String, Vec<usize>>,
    /// Maltrail's other names of a family, by normalised family name, tried when a name is
    /// not found directly.
    maltrail: HashMap<String, Vec<String>>,
}

/// Source formats whose kept files the index reads.
const KNOWLEDGE_FORMATS: [Format; 3] = [
    Format::StixBundle,
    Format::MispGalaxyCluster,
    Format::MaltrailAliases,
];

/// Returns whether the index reads kept files of this source format.
pub fn is_knowledge_format(format: &str) -> bool {
    KNOWLEDGE_FORMATS.iter().any(|known| known.name() == format)
}

impl Knowledge {
    /// Builds the index over `entities` and Maltrail's other names of families (by normalised
    /// family name).
    fn from_parts(entities: Vec<Entity>, maltrail: HashMap<String, Vec<String>>) -> Knowledge {
        let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_id: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, entity) in entities.iter().enumerate() {
            let ids = entity.id.iter().chain(&entity.malpedia_id);
            for id in ids.clone() {
                add_entry(&mut by_id, id.to_lowercase(), index);
            }
            let names = std::iter::once(&entity.name)
                .chain(&entity.aliases)
                .chain(ids);
            for name in names {
                let key = normalize(name);
                if !key.is_empty() {
                    add_entry(&mut by_key, key, index);
                }
            }
        }
        Knowledge {
            entities,
            by_key,
            by_id,
            maltrail,
        }
    }

    /// Reads the kept knowledge files of `sources` from `data_dir`. A file that cannot be read
    /// is logged and left out, so analyses go on with the rest.
    pub fn load(data_dir: &Path, sources: &[SourceRow]) -> Knowledge {
        let started = std::time::Instant::now();
        let mut builder = build::Builder::default();
        for source in sources {
            let Some(folder) = &source.file else { continue };
            let Some(&format) = KNOWLEDGE_FORMATS
                .iter()
                .find(|known| known.name() == source.format)
            else {
                continue;
            };
            for path in files_in(&data_dir.join(folder)) {
                let result = match format {
                    Format::StixBundle => tiq_feeds::knowledge::read_stix_bundle(&path)
                        .map(|objects| builder.add_attack(&source.name, objects)),
                    Format::MispGalaxyCluster => tiq_feeds::knowledge::read_galaxy_clusters(&path)
                        .map(|clusters| builder.add_galaxy(&source.name, clusters)),
                    _ => tiq_feeds::knowledge::read_maltrail_aliases(&path)
                        .map(|rows| builder.add_maltrail(rows)),
                };
                if let Err(error) = result {
                    tracing::warn!(source = %source.name, %error, "skipped a knowledge file");
                }
            }
        }
        let knowledge = builder.finish();
        tracing::info!(
            entries = knowledge.entities.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "loaded threat knowledge"
        );
        knowledge
    }

    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entities.len()
    }

    pub fn entities(&self) -> &[Entity] {
        &self.entities
    }

    pub fn entity(&self, index: usize) -> &Entity {
        &self.entities[index]
    }

    /// Returns the entries a name, alias or id names, the best match first. The order is: an
    /// exact ATT&CK or Malpedia id, a canonical name before an alias, the preferred kinds,
    /// entries with an ATT&CK id, and then entries described by more sources.
    pub fn find(&self, query: &str, prefer: &[ThreatKind]) -> Vec<usize> {
        let key = normalize(query);
        if key.is_empty() {
            return Vec::new();
        }
        let exact_id = self
            .by_id
            .get(&query.trim().to_lowercase())
            .map(Vec::as_slice)
            .unwrap_or_default();

        let (mut found, matched_key) = self.find_key(&key);
        for &index in exact_id {
            if !found.contains(&index) {
                found.push(index);
            }
        }

        let is_canonical = |index: usize| normalize(&self.entities[index].name) == matched_key;
        // Feeds and vendors name folders and tags after groups, and software entries list the
        // group that uses them as an alias (ESET's `sednit`, an alias of both APT28 and its
        // JHUHUGIT downloader). So when only aliases match, an actor outranks other kinds.
        let kinds: BTreeSet<ThreatKind> = found.iter().map(|&i| self.entities[i].kind).collect();
        let actor_first = kinds.len() > 1
            && kinds.contains(&ThreatKind::Actor)
            && !found.iter().any(|&index| is_canonical(index));
        let kind_rank = |kind: ThreatKind| {
            if actor_first && kind == ThreatKind::Actor {
                return 0;
            }
            1 + prefer
                .iter()
                .position(|&preferred| preferred == kind)
                .unwrap_or(prefer.len())
        };

        found.sort_by_key(|&index| {
            let entity = &self.entities[index];
            (
                !exact_id.contains(&index),
                !is_canonical(index),
                kind_rank(entity.kind),
                !entity.id.as_deref().is_some_and(is_attack_id),
                usize::MAX - entity.sources.len(),
                index,
            )
        });
        found
    }

    /// Returns the entries whose name, alias or id has the normalised `key`, else those of a
    /// family-word variant of it, else those of Maltrail's other names for it, with the key
    /// that matched.
    fn find_key(&self, key: &str) -> (Vec<usize>, String) {
        if let Some(entries) = self.by_key.get(key) {
            return (entries.clone(), key.to_string());
        }
        // Feeds shorten family names: `lummac2` for "LummaC2 Stealer", `remcos` for
        // "Remcos RAT". On keys under 4 characters the rule matches too much (`x` finds xRAT).
        if key.chars().count() >= MIN_FAMILY_WORD_KEY {
            for suffix in FAMILY_SUFFIXES {
                let variant = match key.strip_suffix(suffix) {
                    Some(stem) if !stem.is_empty() => stem.to_string(),
                    _ => format!("{key}{suffix}"),
                };
                if let Some(entries) = self.by_key.get(&variant) {
                    return (entries.clone(), variant);
                }
            }
        }
        // Maltrail lists other names of some families.
        for alias in self.maltrail.get(key).into_iter().flatten() {
            if let Some(entries) = self.by_key.get(alias) {
                return (entries.clone(), alias.clone());
            }
        }
        (Vec::new(), key.to_string())
    }

    /// Returns the index of the best actor or family entry for a family name as a feed
    /// wrote it.
    pub fn resolve(&self, name: &str, prefer: ThreatKind) -> Option<usize> {
        let other = match prefer {
            ThreatKind::Actor => ThreatKind::Family,
            _ => ThreatKind::Actor,
        };
        self.find(name, &[prefer, other])
            .into_iter()
            .find(|&index| {
                matches!(
                    self.entities[index].kind,
                    ThreatKind::Actor | ThreatKind::Family
                )
            })
    }

    /// Returns the linked entries of one kind, sorted by id and name.
    pub fn linked(&self, entity: &Entity, kind: ThreatKind) -> Vec<&Entity> {
        let mut linked: Vec<&Entity> = entity
            .links
            .iter()
            .map(|&index| &self.entities[index])
            .filter(|other| other.kind == kind)
            .collect();
        linked.sort_by(|a, b| {
            (a.id.is_none(), &a.id, &a.name).cmp(&(b.id.is_none(), &b.id, &b.name))
        });
        linked
    }
}

/// The key names are matched by: lower case, Malpedia's platform prefix (`win.`, `elf.`,
/// `apk.`, …) removed, and only letters and digits kept.
pub fn normalize(name: &str) -> String {
    let lower = name.trim().to_lowercase();
    let stripped = match lower.split_once('.') {
        Some((platform, rest))
            if MALPEDIA_PLATFORMS.contains(&platform)
                && !rest.is_empty()
                && !lower.contains(' ') =>
        {
            rest
        }
        _ => lower.as_str(),
    };
    stripped.chars().filter(|c| c.is_alphanumeric()).collect()
}

/// Minimum length, in characters, of a key that [`FAMILY_SUFFIXES`] are tried on.
const MIN_FAMILY_WORD_KEY: usize = 4;

/// Words that feeds drop from or add to family names, tried in this order when a name is not
/// found as written.
const FAMILY_SUFFIXES: &[&str] = &[
    "stealer",
    "rat",
    "loader",
    "ransomware",
    "botnet",
    "bot",
    "backdoor",
];

/// Returns whether `id` has the form of an ATT&CK id (`G0007`, `S0154`, `T1059.001`, `TA0011`).
fn is_attack_id(id: &str) -> bool {
    let digits = id
        .strip_prefix("TA")
        .or_else(|| id.strip_prefix(['G', 'S', 'C', 'T', 'M']));
    digits.is_some_and(|rest| {
        let (main, sub) = rest.split_once('.').unwrap_or((rest, "000"));
        main.len() == 4
            && sub.len() == 3
            && main.bytes().chain(sub.bytes()).all(|b| b.is_ascii_digit())
    })
}

/// Returns whether `id` has the form of a Malpedia family id: a platform prefix, a dot and a lower-case
/// name (`win.cobalt_strike`).
fn is_malpedia_id(id: &str) -> bool {
    id.split_once('.').is_some_and(|(platform, name)| {
        MALPEDIA_PLATFORMS.contains(&platform)
            && !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-.".contains(c))
    })
}

/// Platform prefixes of Malpedia family ids.
const MALPEDIA_PLATFORMS: &[&str] = &[
    "win", "elf", "osx", "apk", "ios", "jar", "js", "ps1", "py", "vbs", "php", "asp", "aix", "fas",
    "symbian",
];

fn add_entry(index: &mut HashMap<String, Vec<usize>>, key: String, entity: usize) {
    let entries = index.entry(key).or_default();
    if !entries.contains(&entity) {
        entries.push(entity);
    }
}

/// Regular files directly in `folder`, sorted by name.
fn files_in(folder: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = match std::fs::read_dir(folder) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.is_file())
            .collect(),
        Err(error) => {
            tracing::warn!(folder = %folder.display(), %error, "cannot read a knowledge folder");
            Vec::new()
        }
    };
    files.sort();
    files
}

/// Most techniques and campaigns listed in a report; the rest are counted in `left_out`.
const REPORT_TECHNIQUES: usize = 10;
const REPORT_CAMPAIGNS: usize = 5;

/// The knowledge part of a report.
#[derive(Debug, Default, PartialEq)]
pub struct ReportLinks {
    pub families: Vec<tiq_model::KnowledgeRef>,
    pub actors: Vec<tiq_model::KnowledgeRef>,
    pub campaigns: Vec<tiq_model::KnowledgeRef>,
    pub techniques: Vec<tiq_model::KnowledgeRef>,
    pub left_out: std::collections::BTreeMap<String, u64>,
}

impl Knowledge {
    /// Turns the family and actor names the evidence carries into canonical entries, with the
    /// ATT&CK techniques of the families (of the actors when no family is known) and the
    /// campaigns of the actors and of families linked to at most one actor. `names` pairs each name with whether its source calls it an actor.
    /// A name no source describes stays as the feed wrote it.
    pub fn report_links(&self, names: &[(String, bool)]) -> ReportLinks {
        let mut links = ReportLinks::default();
        let mut family_entries = Vec::new();
        let mut actor_entries = Vec::new();
        for (name, is_actor) in names {
            let prefer = if *is_actor {
                ThreatKind::Actor
            } else {
                ThreatKind::Family
            };
            match self.resolve(name, prefer) {
                Some(index) => {
                    let entity = &self.entities[index];
                    let (list, entries) = match entity.kind {
                        ThreatKind::Actor => (&mut links.actors, &mut actor_entries),
                        _ => (&mut links.families, &mut family_entries),
                    };
                    if !entries.contains(&index) {
                        entries.push(index);
                        list.push(entity.reference());
                    }
                }
                None => {
                    let list = if *is_actor {
                        &mut links.actors
                    } else {
                        &mut links.families
                    };
                    let key = normalize(name);
                    if !list.iter().any(|known| normalize(&known.name) == key) {
                        list.push(tiq_model::KnowledgeRef::named(name.clone()));
                    }
                }
            }
        }

        let technique_owners = if family_entries.is_empty() {
            &actor_entries
        } else {
            &family_entries
        };
        let mut techniques = std::collections::BTreeSet::new();
        for &owner in technique_owners {
            for technique in self.linked(&self.entities[owner], ThreatKind::Technique) {
                techniques.insert(technique.reference());
            }
        }
        // A family that many groups use (Cobalt Strike) would tie every C2 server of it to
        // every campaign that used it, so only a family with at most one known user adds its
        // campaigns.
        let campaign_owners = family_entries
            .iter()
            .filter(|&&family| self.linked(&self.entities[family], ThreatKind::Actor).len() <= 1)
            .chain(&actor_entries);
        let mut campaigns = std::collections::BTreeSet::new();
        for &owner in campaign_owners {
            for campaign in self.linked(&self.entities[owner], ThreatKind::Campaign) {
                campaigns.insert(campaign.reference());
            }
        }
        links.techniques = cap(
            techniques,
            REPORT_TECHNIQUES,
            "techniques",
            &mut links.left_out,
        );
        links.campaigns = cap(
            campaigns,
            REPORT_CAMPAIGNS,
            "campaigns",
            &mut links.left_out,
        );
        links
    }
}

fn cap(
    entries: std::collections::BTreeSet<tiq_model::KnowledgeRef>,
    max: usize,
    list: &str,
    left_out: &mut std::collections::BTreeMap<String, u64>,
) -> Vec<tiq_model::KnowledgeRef> {
    if entries.len() > max {
        left_out.insert(list.to_string(), (entries.len() - max) as u64);
    }
    entries.into_iter().take(max).collect()
}
