//! MISP galaxies: cluster files and galaxy definitions, kept whole.
//!
//! Feed: <https://github.com/MISP/misp-galaxy> (dual-licensed CC0-1.0 or BSD-2-Clause). Two kinds of JSON document, both read whole:
//! - a cluster file `clusters/<type>.json`: `{"name", "type", "uuid", "authors", "category",
//!   "source", "version", "values": [{"value", "uuid", "description", "meta": {"synonyms",
//!   "refs", …}}]}`, the actors, malware families or tools of one galaxy. Source
//!   `misp-galaxy/<type>`.
//! - a galaxy definition `galaxies/<type>.json`: `{"name", "namespace", "type", "uuid",
//!   "description", "version"}`, which names and describes one galaxy. Source
//!   `misp-galaxy-definition/<type>`.
//!
//! Both have provider `misp-galaxy`. The files are kept for actor and malware knowledge.
//! [`validate_cluster`] counts the cluster values and rejects one without a `value` name or a
//! `uuid`, reporting it at the line of its uuid or name. [`validate_definition`] checks the
//! definition's fields and counts it as one record.

use serde::Deserialize;
use serde_json::Value;

use crate::error::FeedError;
use crate::formats::json_error;
use crate::input::{LineLocator, count_lines, read_all};
use crate::json_shape::JsonShape;
use crate::sink::Emitter;
use crate::source::{FeedFile, SourceInfo};
use crate::values::{ValueError, slug};

const PROVIDER: &str = "misp-galaxy";
const HOMEPAGE: &str = "https://github.com/MISP/misp-galaxy";

fn galaxy_type(json: Option<&JsonShape>) -> &str {
    json.and_then(|shape| shape.string("type"))
        .unwrap_or("unknown")
}

pub(crate) fn cluster_source(json: Option<&JsonShape>) -> SourceInfo {
    let kind = galaxy_type(json);
    let name = json.and_then(|shape| shape.string("name")).unwrap_or(kind);
    SourceInfo::new(
        format!("misp-galaxy/{}", slug(kind)),
        PROVIDER,
        format!("MISP galaxy clusters: {name}"),
        Some(HOMEPAGE),
    )
}

pub(crate) fn definition_source(json: Option<&JsonShape>) -> SourceInfo {
    let kind = galaxy_type(json);
    let name = json.and_then(|shape| shape.string("name")).unwrap_or(kind);
    SourceInfo::new(
        format!("misp-galaxy-definition/{}", slug(kind)),
        PROVIDER,
        format!("MISP galaxy definition: {name}"),
        Some(HOMEPAGE),
    )
}

/// The parts of a cluster file that are checked; each value is kept as a JSON value so that
/// one bad value is rejected alone.
#[derive(Deserialize)]
struct ClusterFile {
    #[serde(rename = "type")]
    kind: String,
    values: Vec<Value>,
}

pub(crate) fn validate_cluster(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    let content = read_all(&file.path).map_err(FeedError::io(&file.path))?;
    out.set_lines(count_lines(&content));
    let text = String::from_utf8_lossy(&content);
    let cluster: ClusterFile =
        serde_json::from_str(&text).map_err(|error| json_error(&file.path, error))?;
    if cluster.kind.trim().is_empty() {
        let reason = "the cluster file has an empty \"type\": it must name the galaxy";
        return Err(FeedError::malformed(&file.path, None, reason));
    }

    let mut locator = LineLocator::new(&text);
    let mut line = 1;
    for (index, value) in cluster.values.iter().enumerate() {
        let text_of = |key| value.get(key).and_then(Value::as_str).unwrap_or("");
        let name = text_of("value");
        let uuid = text_of("uuid");
        let needle = if uuid.is_empty() { name } else { uuid };
        line = locator.find(&format!("\"{needle}\"")).unwrap_or(line);
        match check_value(name, uuid) {
            Ok(()) => out.count_record(),
            Err(error) => out.reject(line, format!("cluster value {}: {error}", index + 1)),
        }
    }
    Ok(())
}

fn check_value(name: &str, uuid: &str) -> Result<(), ValueError> {
    if name.trim().is_empty() {
        return Err(ValueError::field(
            "value",
            name,
            "the name of the actor, family or tool",
        ));
    }
    if uuid.trim().is_empty() {
        return Err(ValueError::field("uuid", uuid, "the cluster's UUID"));
    }
    Ok(())
}

/// The fields a galaxy definition must have.
#[derive(Deserialize)]
struct Definition {
    name: String,
    namespace: String,
    #[serde(rename = "type")]
    kind: String,
    uuid: String,
}

pub(crate) fn validate_definition(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    let content = read_all(&file.path).map_err(FeedError::io(&file.path))?;
    out.set_lines(count_lines(&content));
    let definition: Definition =
        serde_json::from_slice(&content).map_err(|error| json_error(&file.path, error))?;
    let fields = [
        ("name", &definition.name),
        ("namespace", &definition.namespace),
        ("type", &definition.kind),
        ("uuid", &definition.uuid),
    ];
    if let Some((field, _)) = fields.iter().find(|(_, value)| value.trim().is_empty()) {
        let reason = format!("the galaxy definition has an empty {field:?}");
        return Err(FeedError::malformed(&file.path, None, reason));
    }
    out.count_record();
    Ok(())
}
