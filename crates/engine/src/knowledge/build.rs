//! Building the knowledge index: one record per source entry, merged by kind and shared
//! ATT&CK id, Malpedia id or normalised name (never two different ids), then linked.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use regex::Regex;
use tiq_feeds::knowledge::{GalaxyClusters, MaltrailAliases, StixObject};
use tiq_model::ThreatKind;

use super::{Entity, Knowledge, is_attack_id, is_malpedia_id, normalize};

/// References kept per entry.
const MAX_REFERENCES: usize = 5;

/// One entry as one source describes it.
struct Record {
    kind: ThreatKind,
    name: String,
    /// The ATT&CK id of an ATT&CK object.
    attack_id: Option<String>,
    /// The Malpedia id of a Malpedia cluster (its own page is its first reference).
    malpedia_id: Option<String>,
    /// ATT&CK and Malpedia ids of the pages a galaxy cluster cites, which may be its own or
    /// those of related entries.
    cited_ids: Vec<String>,
    aliases: Vec<String>,
    description: String,
    country: Option<String>,
    /// Kill-chain phase names of a technique (tactic short names).
    phases: Vec<String>,
    references: Vec<String>,
    source: String,
    from_attack: bool,
    /// STIX id or galaxy UUID that links name.
    handle: String,
}

#[derive(Default)]
pub(super) struct Builder {
    records: Vec<Record>,
    /// Links between handles, in either direction.
    links: Vec<(String, String)>,
    /// Tactic names by their short name (`command-and-control`).
    tactics: HashMap<String, String>,
    maltrail: Vec<MaltrailAliases>,
}

impl Builder {
    pub(super) fn add_attack(&mut self, source: &str, objects: Vec<StixObject>) {
        for object in objects {
            if object.is_withdrawn() {
                continue;
            }
            let kind = match object.kind.as_str() {
                "intrusion-set" => ThreatKind::Actor,
                "malware" | "tool" => ThreatKind::Family,
                "campaign" => ThreatKind::Campaign,
                "attack-pattern" => ThreatKind::Technique,
                "x-mitre-tactic" => {
                    self.tactics
                        .insert(object.x_shortname.clone(), object.name.clone());
                    ThreatKind::Tactic
                }
                "relationship" => {
                    if matches!(
                        object.relationship_type.as_str(),
                        "uses" | "attributed-to" | "subtechnique-of"
                    ) {
                        self.links.push((object.source_ref, object.target_ref));
                    }
                    continue;
                }
                _ => continue,
            };
            if object.name.trim().is_empty() {
                continue;
            }
            let phases = object
                .kill_chain_phases
                .iter()
                .filter(|phase| phase.kill_chain_name == "mitre-attack")
                .map(|phase| phase.phase_name.clone())
                .collect();
            self.records.push(Record {
                kind,
                attack_id: object.attack_id().map(str::to_string),
                malpedia_id: None,
                cited_ids: Vec::new(),
                aliases: object
                    .aliases
                    .iter()
                    .chain(&object.x_mitre_aliases)
                    .cloned()
                    .collect(),
                description: clean_description(&object.description),
                country: None,
                phases,
                references: object
                    .attack_url()
                    .map(str::to_string)
                    .into_iter()
                    .collect(),
                source: source.to_string(),
                from_attack: true,
                handle: object.id,
                name: object.name,
            });
        }
    }

    pub(super) fn add_galaxy(&mut self, source: &str, clusters: GalaxyClusters) {
        let Some(kind) = galaxy_kind(&clusters.kind) else {
            return;
        };
        for cluster in clusters.values {
            if cluster.value.trim().is_empty() {
                continue;
            }
            for relation in &cluster.related {
                if matches!(relation.kind.as_str(), "uses" | "used-by" | "attributed-to") {
                    self.links
                        .push((cluster.uuid.clone(), relation.dest_uuid.clone()));
                }
            }
            let refs = &cluster.meta.refs;
            let country = Some(cluster.meta.country.trim().to_ascii_uppercase())
                .filter(|c| c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()));
            self.records.push(Record {
                kind,
                attack_id: None,
                malpedia_id: (clusters.kind == "malpedia")
                    .then(|| refs.first().and_then(|r| malpedia_id_in(r)))
                    .flatten(),
                cited_ids: refs
                    .iter()
                    .filter_map(|r| attack_id_in(r).or_else(|| malpedia_id_in(r)))
                    .collect(),
                aliases: cluster.meta.synonyms.clone(),
                description: clean_description(&cluster.description),
                country,
                phases: Vec::new(),
                references: refs.iter().take(MAX_REFERENCES).cloned().collect(),
                source: source.to_string(),
                from_attack: false,
                handle: cluster.uuid,
                name: cluster.value,
            });
        }
    }

    pub(super) fn add_maltrail(&mut self, rows: Vec<MaltrailAliases>) {
        self.maltrail.extend(rows);
    }

    pub(super) fn finish(self) -> Knowledge {
        let groups = self.merge();
        let mut entities = Vec::with_capacity(groups.len());
        let mut entity_of_record = vec![0; self.records.len()];
        for (index, members) in groups.iter().enumerate() {
            for &member in members {
                entity_of_record[member] = index;
            }
            entities.push(self.entity(members));
        }

        let mut by_handle: HashMap<&str, usize> = HashMap::new();
        for (record, &entity) in self.records.iter().zip(&entity_of_record) {
            by_handle.insert(record.handle.as_str(), entity);
        }
        let mut links: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); entities.len()];
        for (from, to) in &self.links {
            let (Some(&a), Some(&b)) = (by_handle.get(from.as_str()), by_handle.get(to.as_str()))
            else {
                continue;
            };
            if a != b {
                links[a].insert(b);
                links[b].insert(a);
            }
        }
        for (entity, linked) in entities.iter_mut().zip(links) {
            entity.links = linked.into_iter().collect();
        }
        name_sub_techniques(&mut entities);

        let maltrail = self
            .maltrail
            .iter()
            .map(|row| {
                let family = row.family.strip_prefix("apt_").unwrap_or(&row.family);
                (
                    normalize(family),
                    row.aliases.iter().map(|alias| normalize(alias)).collect(),
                )
            })
            .collect();
        Knowledge::from_parts(entities, maltrail)
    }

    /// Groups records of one kind in three passes. The first joins records that carry the same
    /// own ATT&CK or Malpedia id, and the second actors and families that share a normalised
    /// name. The third joins a record that cites another's ATT&CK or Malpedia page when the
    /// two share a name or alias. A citation alone does not merge, because clusters also cite
    /// the pages of tools they load or resemble. [`Groups`] keeps different ids apart.
    fn merge(&self) -> Vec<Vec<usize>> {
        let mut groups = Groups::new(&self.records);
        let mut owner_of: HashMap<(ThreatKind, &str), usize> = HashMap::new();
        for (index, record) in self.records.iter().enumerate() {
            for id in record.attack_id.iter().chain(&record.malpedia_id) {
                match owner_of.get(&(record.kind, id.as_str())) {
                    Some(&owner) => {
                        groups.union(index, owner);
                    }
                    None => {
                        owner_of.insert((record.kind, id.as_str()), index);
                    }
                }
            }
        }

        // Techniques, tactics and campaigns come from ATT&CK alone, where two objects of the
        // same name are different objects (the sub-techniques T1071.004 and T1590.002 are
        // both named "DNS").
        let mut first_named: HashMap<(ThreatKind, String), usize> = HashMap::new();
        for (index, record) in self.records.iter().enumerate() {
            if !matches!(record.kind, ThreatKind::Actor | ThreatKind::Family) {
                continue;
            }
            match first_named.get(&(record.kind, normalize(&record.name))) {
                Some(&other) => groups.union(index, other),
                None => {
                    first_named.insert((record.kind, normalize(&record.name)), index);
                }
            }
        }

        let names = |record: &Record| -> BTreeSet<String> {
            std::iter::once(&record.name)
                .chain(&record.aliases)
                .map(|name| normalize(name))
                .filter(|key| !key.is_empty())
                .collect()
        };
        for (index, record) in self.records.iter().enumerate() {
            for id in &record.cited_ids {
                let Some(&owner) = owner_of.get(&(record.kind, id.as_str())) else {
                    continue;
                };
                if !names(record).is_disjoint(&names(&self.records[owner])) {
                    groups.union(index, owner);
                }
            }
        }
        groups.into_groups()
    }

    /// Builds one entity from a group: ATT&CK's name and description where ATT&CK describes
    /// it, otherwise those of the first source, in source-name order, that has them.
    fn entity(&self, members: &[usize]) -> Entity {
        let mut ordered: Vec<&Record> = members.iter().map(|&i| &self.records[i]).collect();
        ordered.sort_by_key(|record| (!record.from_attack, record.source.clone()));
        let primary = ordered[0];
        let name = primary.name.trim().to_string();
        let name_key = normalize(&name);

        let mut aliases: Vec<String> = Vec::new();
        let mut alias_keys = BTreeSet::from([name_key]);
        for record in &ordered {
            for alias in std::iter::once(&record.name).chain(&record.aliases) {
                let alias = alias.trim();
                // Ids are not names: ATT&CK lists TA505's own G0092 among its aliases.
                if alias.is_empty() || is_id_alias(alias) {
                    continue;
                }
                if alias_keys.insert(normalize(alias)) {
                    aliases.push(alias.to_string());
                }
            }
        }
        aliases.sort_by_key(|alias| alias.to_lowercase());

        // The merge keeps at most one ATT&CK id and one Malpedia id per group.
        let attack_id = ordered.iter().find_map(|r| r.attack_id.clone());
        let malpedia_id = ordered.iter().find_map(|r| r.malpedia_id.clone());
        let description = ordered
            .iter()
            .map(|r| r.description.as_str())
            .find(|d| !d.is_empty())
            .unwrap_or_default()
            .to_string();
        let tactics = primary
            .phases
            .iter()
            .map(|phase| self.tactics.get(phase).cloned().unwrap_or(phase.clone()))
            .collect();
        let mut references: Vec<String> = Vec::new();
        for reference in ordered.iter().flat_map(|r| &r.references) {
            let page = reference.trim_end_matches('/');
            let known = references.iter().any(|r| r.trim_end_matches('/') == page);
            if !known && references.len() < MAX_REFERENCES {
                references.push(reference.clone());
            }
        }
        let mut sources: Vec<String> = ordered.iter().map(|r| r.source.clone()).collect();
        sources.sort();
        sources.dedup();
        Entity {
            kind: primary.kind,
            name,
            id: attack_id.or(malpedia_id.clone()),
            malpedia_id,
            aliases,
            description,
            country: ordered.iter().find_map(|r| r.country.clone()),
            tactics,
            references,
            sources,
            links: Vec::new(),
        }
    }
}

/// Union-find over records that keeps the own ATT&CK id and Malpedia id of each group, and
/// rejects a union that would put two different ids of one scheme into one group.
struct Groups<'a> {
    parent: Vec<usize>,
    /// By root: the ATT&CK id and the Malpedia id of the group's records, at most one each.
    attack_id: Vec<Option<&'a str>>,
    malpedia_id: Vec<Option<&'a str>>,
}

impl<'a> Groups<'a> {
    fn new(records: &'a [Record]) -> Groups<'a> {
        Groups {
            parent: (0..records.len()).collect(),
            attack_id: records.iter().map(|r| r.attack_id.as_deref()).collect(),
            malpedia_id: records.iter().map(|r| r.malpedia_id.as_deref()).collect(),
        }
    }

    fn root(&mut self, mut index: usize) -> usize {
        while self.parent[index] != index {
            self.parent[index] = self.parent[self.parent[index]];
            index = self.parent[index];
        }
        index
    }

    /// Joins the groups of `a` and `b` unless they carry different ids of one scheme.
    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.root(a), self.root(b));
        if a == b
            || conflict(self.attack_id[a], self.attack_id[b])
            || conflict(self.malpedia_id[a], self.malpedia_id[b])
        {
            return;
        }
        let (kept, joined) = (a.min(b), a.max(b));
        self.parent[joined] = kept;
        self.attack_id[kept] = self.attack_id[kept].or(self.attack_id[joined]);
        self.malpedia_id[kept] = self.malpedia_id[kept].or(self.malpedia_id[joined]);
    }

    /// Returns the groups as sorted record indices, in order of their first record.
    fn into_groups(mut self) -> Vec<Vec<usize>> {
        let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
        for index in 0..self.parent.len() {
            groups.entry(self.root(index)).or_default().push(index);
        }
        let mut groups: Vec<Vec<usize>> = groups.into_values().collect();
        groups.sort();
        groups
    }
}

/// Returns whether two groups carry different ids of one scheme.
fn conflict(a: Option<&str>, b: Option<&str>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a != b)
}

/// Returns the kind of a MISP galaxy's clusters. Galaxies of other things (countries,
/// sectors) are not read.
fn galaxy_kind(galaxy: &str) -> Option<ThreatKind> {
    match galaxy {
        "threat-actor" | "microsoft-activity-group" => Some(ThreatKind::Actor),
        "malpedia" | "ransomware" | "rat" | "botnet" | "backdoor" | "stealer" | "banker"
        | "tool" | "rmm-tool" | "cryptominers" | "exploit-kit" | "tds" | "android"
        | "mitre-malware" | "mitre-tool" => Some(ThreatKind::Family),
        _ => None,
    }
}

/// Returns the ATT&CK id in a link to an ATT&CK group, software or campaign page.
fn attack_id_in(reference: &str) -> Option<String> {
    static PAGE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^https?://attack\.mitre\.org/(?:groups|software|campaigns)/([GSC]\d{4})/?$")
            .expect("valid pattern")
    });
    PAGE.captures(reference.trim()).map(|c| c[1].to_string())
}

/// Returns the Malpedia id in a link to a Malpedia family page (`win.cobalt_strike`).
fn malpedia_id_in(reference: &str) -> Option<String> {
    let id = reference
        .trim()
        .strip_prefix("https://malpedia.caad.fkie.fraunhofer.de/details/")?
        .trim_end_matches('/');
    (!id.is_empty() && !id.contains('/')).then(|| id.to_string())
}

/// Returns whether an alias has the form of an ATT&CK group, software, campaign or technique
/// id (`G0092`) or of a Malpedia id (`win.lockbit`). The tactic form (`TA0011`) is left as a
/// name, because Proofpoint names actors that way (TA2541).
fn is_id_alias(alias: &str) -> bool {
    let upper = alias.to_ascii_uppercase();
    (is_attack_id(&upper) && !upper.starts_with("TA")) || is_malpedia_id(alias)
}

/// Removes ATT&CK's `(Citation: …)` markers and `<code>` tags, and turns its Markdown links
/// into their text.
fn clean_description(text: &str) -> String {
    static CITATION: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\s*\(Citation: [^)]*\)").expect("valid pattern"));
    static LINK: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\[([^\]]+)\]\([^)]*\)").expect("valid pattern"));
    let text = CITATION.replace_all(text, "");
    let text = LINK.replace_all(&text, "$1");
    text.replace("<code>", "")
        .replace("</code>", "")
        .replace("\r\n", "\n")
        .trim()
        .to_string()
}

/// Names a sub-technique as ATT&CK shows it: `Command and Scripting Interpreter: PowerShell`.
fn name_sub_techniques(entities: &mut [Entity]) {
    let parents: HashMap<String, String> = entities
        .iter()
        .filter(|e| e.kind == ThreatKind::Technique)
        .filter_map(|e| Some((e.id.clone()?, e.name.clone())))
        .collect();
    for entity in entities
        .iter_mut()
        .filter(|e| e.kind == ThreatKind::Technique)
    {
        let Some((parent_id, _)) = entity.id.as_deref().and_then(|id| id.split_once('.')) else {
            continue;
        };
        if let Some(parent) = parents.get(parent_id) {
            let short = std::mem::take(&mut entity.name);
            entity.aliases.push(short.clone());
            entity.name = format!("{parent}: {short}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_references() {
        assert_eq!(
            attack_id_in("https://attack.mitre.org/software/S0154/").as_deref(),
            Some("S0154")
        );
        assert_eq!(
            attack_id_in("https://attack.mitre.org/techniques/T1059"),
            None
        );
        assert_eq!(
            malpedia_id_in("https://malpedia.caad.fkie.fraunhofer.de/details/win.cobalt_strike")
                .as_deref(),
            Some("win.cobalt_strike")
        );
        assert_eq!(malpedia_id_in("https://example.com/details/win.x"), None);
    }

    #[test]
    fn descriptions_lose_code_tags() {
        assert_eq!(
            clean_description("Runs <code>cmd.exe /c</code> and <code>whoami</code>."),
            "Runs cmd.exe /c and whoami."
        );
    }

    #[test]
    fn descriptions_lose_citations_and_links() {
        assert_eq!(
            clean_description(
                "[Example](https://attack.mitre.org/software/S9999) is a tool.(Citation: Vendor 2020) It runs.\r\n"
            ),
            "Example is a tool. It runs."
        );
    }
}
