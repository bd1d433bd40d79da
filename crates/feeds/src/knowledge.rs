//! Readers for the knowledge files that are kept whole: MITRE ATT&CK STIX bundles, MISP
//! galaxy cluster files and Maltrail's family aliases.
//!
//! Import only validates these files ([`validate`](crate::validate)); the engine reads them
//! with the functions here when it builds its knowledge index. Each reader returns the parts
//! the index uses and skips fields it does not know.

use std::io::BufRead;
use std::path::Path;

use serde::Deserialize;

use crate::error::FeedError;
use crate::formats::json_error;
use crate::input::{open, read_all};

/// One STIX object of an ATT&CK bundle. Relationship fields are empty on other objects.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StixObject {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    pub name: String,
    pub description: String,
    /// Group and campaign aliases (`intrusion-set`, `campaign`).
    pub aliases: Vec<String>,
    /// Software aliases (`malware`, `tool`).
    pub x_mitre_aliases: Vec<String>,
    pub external_references: Vec<ExternalReference>,
    pub kill_chain_phases: Vec<KillChainPhase>,
    /// Tactic short name (`x-mitre-tactic`), which techniques name in their kill-chain phases.
    pub x_shortname: String,
    pub revoked: bool,
    pub x_mitre_deprecated: bool,
    pub relationship_type: String,
    pub source_ref: String,
    pub target_ref: String,
}

impl StixObject {
    /// Returns the ATT&CK id (`T1059.001`, `G0096`, `S0154`, `TA0002`, `C0010`) from the
    /// `mitre-attack` external reference.
    pub fn attack_id(&self) -> Option<&str> {
        self.attack_reference()
            .map(|r| r.external_id.as_str())
            .filter(|id| !id.is_empty())
    }

    /// Returns the ATT&CK page of the object.
    pub fn attack_url(&self) -> Option<&str> {
        self.attack_reference()
            .map(|r| r.url.as_str())
            .filter(|url| !url.is_empty())
    }

    fn attack_reference(&self) -> Option<&ExternalReference> {
        self.external_references
            .iter()
            .find(|r| r.source_name == "mitre-attack")
    }

    /// Returns whether ATT&CK withdrew the object (revoked or deprecated).
    pub fn is_withdrawn(&self) -> bool {
        self.revoked || self.x_mitre_deprecated
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ExternalReference {
    pub source_name: String,
    pub external_id: String,
    pub url: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct KillChainPhase {
    pub kill_chain_name: String,
    pub phase_name: String,
}

#[derive(Deserialize)]
struct Bundle {
    #[serde(default)]
    objects: Vec<StixObject>,
}

/// Reads every object of a STIX bundle (plain or gzip-compressed JSON).
pub fn read_stix_bundle(path: &Path) -> Result<Vec<StixObject>, FeedError> {
    let reader = open(path).map_err(FeedError::io(path))?;
    let bundle: Bundle = read_json(path, reader)?;
    Ok(bundle.objects)
}

/// One MISP galaxy cluster file: the actors, families or tools of one galaxy.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GalaxyClusters {
    /// Galaxy type (`threat-actor`, `malpedia`, `ransomware`, `tool`, …).
    #[serde(rename = "type")]
    pub kind: String,
    pub values: Vec<GalaxyCluster>,
}

/// One cluster: an actor, family or tool with its other names.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GalaxyCluster {
    pub value: String,
    pub uuid: String,
    pub description: String,
    pub meta: GalaxyMeta,
    pub related: Vec<GalaxyRelation>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GalaxyMeta {
    #[serde(deserialize_with = "strings")]
    pub synonyms: Vec<String>,
    #[serde(deserialize_with = "strings")]
    pub refs: Vec<String>,
    /// Two-letter country code of a threat actor.
    #[serde(deserialize_with = "string")]
    pub country: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GalaxyRelation {
    #[serde(rename = "dest-uuid")]
    pub dest_uuid: String,
    /// `similar`, `uses`, `used-by`, `attributed-to`, `targets`, …
    #[serde(rename = "type")]
    pub kind: String,
}

/// Reads a MISP galaxy cluster file.
pub fn read_galaxy_clusters(path: &Path) -> Result<GalaxyClusters, FeedError> {
    let content = read_all(path).map_err(FeedError::io(path))?;
    serde_json::from_slice(&content).map_err(|error| json_error(path, error))
}

/// One row of Maltrail's alias table: a trail's family name and its other names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaltrailAliases {
    pub family: String,
    pub aliases: Vec<String>,
}

/// Reads Maltrail's tab-separated alias table (`info<TAB>category<TAB>aliases`). Rows that
/// validation would reject are skipped.
pub fn read_maltrail_aliases(path: &Path) -> Result<Vec<MaltrailAliases>, FeedError> {
    let reader = open(path).map_err(FeedError::io(path))?;
    let mut rows = Vec::new();
    for line in reader.lines() {
        let line = line.map_err(FeedError::io(path))?;
        if line.starts_with('#') || line.starts_with("info\t") {
            continue;
        }
        let mut fields = line.split('\t');
        let (Some(family), Some(_category), Some(aliases)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if family.trim().is_empty() {
            continue;
        }
        rows.push(MaltrailAliases {
            family: family.trim().to_string(),
            aliases: aliases
                .split(", ")
                .map(|alias| strip_comment(alias).trim().to_string())
                .filter(|alias| !alias.is_empty())
                .collect(),
        });
    }
    Ok(rows)
}

/// Drops a `(# note)` that some alias lists append to a name.
fn strip_comment(alias: &str) -> &str {
    alias.split_once("(#").map_or(alias, |(name, _)| name)
}

fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    reader: Box<dyn BufRead>,
) -> Result<T, FeedError> {
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let value = T::deserialize(&mut deserializer).map_err(|error| json_error(path, error))?;
    deserializer
        .end()
        .map_err(|error| json_error(path, error))?;
    Ok(value)
}

/// Accepts a list of strings, a single string, or null, because galaxies write these fields
/// in each of those shapes.
fn strings<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Array(values) => values
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        serde_json::Value::String(value) => vec![value],
        _ => Vec::new(),
    })
}

/// Accepts a string, or anything else as empty.
fn string<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(value.as_str().unwrap_or_default().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::File::create(&path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        path
    }

    #[test]
    fn stix_bundle_objects_and_ids() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "bundle.json",
            r#"{"type":"bundle","id":"bundle--1","objects":[
              {"type":"intrusion-set","id":"intrusion-set--1","name":"Example Group",
               "aliases":["Example Group","Sample Team"],
               "external_references":[{"source_name":"mitre-attack","external_id":"G9001","url":"https://attack.mitre.org/groups/G9001"}]},
              {"type":"relationship","id":"relationship--1","relationship_type":"uses",
               "source_ref":"intrusion-set--1","target_ref":"malware--1","extra":{"nested":[1,2]}},
              {"type":"malware","id":"malware--2","name":"Old","revoked":true}
            ]}"#,
        );
        let objects = read_stix_bundle(&path).unwrap();
        assert_eq!(objects.len(), 3);
        assert_eq!(objects[0].attack_id(), Some("G9001"));
        assert_eq!(objects[0].aliases, ["Example Group", "Sample Team"]);
        assert_eq!(objects[1].relationship_type, "uses");
        assert!(objects[2].is_withdrawn());
        assert_eq!(objects[2].attack_id(), None);
    }

    #[test]
    fn stix_bundle_error_names_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "bad.json", r#"{"type":"bundle","objects":[{"#);
        let error = read_stix_bundle(&path).unwrap_err().to_string();
        assert!(error.contains("bad.json"), "{error}");
    }

    #[test]
    fn galaxy_meta_accepts_loose_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "tool.json",
            r#"{"type":"tool","values":[
              {"value":"Example RAT","uuid":"u1","meta":{"synonyms":"ExRAT","country":null},
               "related":[{"dest-uuid":"u2","type":"similar"}]},
              {"value":"Sample Loader","uuid":"u2","meta":{"synonyms":["SL",3],"refs":["https://example.com/a"]}}
            ]}"#,
        );
        let clusters = read_galaxy_clusters(&path).unwrap();
        assert_eq!(clusters.kind, "tool");
        assert_eq!(clusters.values[0].meta.synonyms, ["ExRAT"]);
        assert_eq!(clusters.values[0].meta.country, "");
        assert_eq!(clusters.values[0].related[0].kind, "similar");
        assert_eq!(clusters.values[1].meta.synonyms, ["SL"]);
    }

    #[test]
    fn maltrail_aliases_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "aliases.tsv",
            "info\tcategory\taliases\nexamplerat\tmalware\tex rat, sample (# https://example.com/x), \nbroken\n",
        );
        let rows = read_maltrail_aliases(&path).unwrap();
        assert_eq!(
            rows,
            [MaltrailAliases {
                family: "examplerat".into(),
                aliases: vec!["ex rat".into(), "sample".into()],
            }]
        );
    }
}
