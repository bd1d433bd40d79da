//! MISP events exported as JSON.
//!
//! Feed: any MISP instance or a vendor's published events (ESET's malware-ioc repository ships
//! some, BSD-2-Clause). Format: `{"Event": {...}}` or the API form
//! `{"response": [{"Event": {...}}]}`, with the event's `Attribute` list, its `Object` list (each
//! with its own `Attribute` list), `Galaxy` clusters and `Tag`s. The file is read whole.
//!
//! Attributes of the types `ip-src`, `ip-dst`, `domain`, `hostname`, `url`, `md5`, `sha1`,
//! `sha256`, and the composites `ip-dst|port`, `ip-src|port`, `hostname|port`, `domain|ip` and
//! `filename|<hash>`, become malicious sightings. Other types (text, filename, link, …) are
//! skipped without a rejection, and so are attributes in the "External analysis" category,
//! because they point at reports rather than at threats. The threat is APT when the event carries a
//! threat-actor galaxy or tag, else malware. The family is the first malware or tool cluster,
//! else the first actor, else the event's `info`. Cluster values and the attribute comment are
//! labels. First seen is the event date. The weight is 0.8 for attributes flagged `to_ids` and
//! 0.7 for the others. A rejected attribute is reported at the line of its `uuid`.
//!
//! Source `misp-event/<event uuid>` (or `/<file stem>` for a file with several events or no
//! uuid). The provider is the creating organisation's name in lower case, so ESET's events and
//! ESET's hash lists do not reinforce each other.

use std::path::Path;

use serde::Deserialize;
use tiq_model::indicator::{parse_domain, parse_ip};
use tiq_model::{ClaimKind, Sighting, Subject, ThreatType};

use crate::error::{FeedError, UnsupportedReason};
use crate::formats::file_stem;
use crate::input::{LineLocator, count_lines, read_all};
use crate::sink::Emitter;
use crate::source::{FeedFile, SourceInfo};
use crate::values::{ValueError, hash_subject, iso_date, parse_ip_or_network, slug, url_subject};

/// Galaxy types whose clusters name an actor.
const ACTOR_GALAXIES: [&str; 3] = [
    "threat-actor",
    "mitre-intrusion-set",
    "microsoft-activity-group",
];

/// Galaxy types whose clusters name malware or a tool.
const MALWARE_GALAXIES: [&str; 13] = [
    "malpedia",
    "tool",
    "ransomware",
    "rat",
    "backdoor",
    "botnet",
    "stealer",
    "banker",
    "android",
    "mitre-malware",
    "mitre-tool",
    "mitre-enterprise-attack-malware",
    "mitre-enterprise-attack-tool",
];

/// Maximum length of an attribute comment kept as a label, in characters.
const MAX_COMMENT_LABEL: usize = 100;

#[derive(Deserialize)]
struct EventFile {
    #[serde(rename = "Event")]
    event: Option<Event>,
    #[serde(default)]
    response: Vec<WrappedEvent>,
}

#[derive(Deserialize)]
struct WrappedEvent {
    #[serde(rename = "Event")]
    event: Event,
}

#[derive(Deserialize)]
struct Event {
    uuid: Option<String>,
    info: Option<String>,
    date: Option<String>,
    #[serde(rename = "Orgc")]
    creator: Option<Organisation>,
    #[serde(rename = "Attribute", default)]
    attributes: Vec<Attribute>,
    #[serde(rename = "Object", default)]
    objects: Vec<MispObject>,
    #[serde(rename = "Galaxy", default)]
    galaxies: Vec<Galaxy>,
    #[serde(rename = "Tag", default)]
    tags: Vec<Tag>,
}

#[derive(Deserialize)]
struct Organisation {
    name: Option<String>,
}

#[derive(Deserialize)]
struct MispObject {
    #[serde(rename = "Attribute", default)]
    attributes: Vec<Attribute>,
}

#[derive(Deserialize)]
struct Attribute {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    value: String,
    uuid: Option<String>,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    to_ids: serde_json::Value,
    #[serde(default)]
    deleted: serde_json::Value,
}

#[derive(Deserialize)]
struct Galaxy {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(rename = "GalaxyCluster", default)]
    clusters: Vec<Cluster>,
}

#[derive(Deserialize)]
struct Cluster {
    value: String,
}

#[derive(Deserialize)]
struct Tag {
    name: String,
}

/// Reads a MISP flag that may be a boolean, a number or a string such as `"1"`.
fn is_true(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Bool(flag) => *flag,
        serde_json::Value::Number(number) => number.as_u64() == Some(1),
        serde_json::Value::String(text) => text == "1" || text.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn load(path: &Path) -> Result<(Vec<u8>, Vec<Event>), FeedError> {
    let content = read_all(path).map_err(FeedError::io(path))?;
    let file: EventFile = serde_json::from_slice(&content)
        .map_err(|error| FeedError::malformed(path, Some(error.line() as u64), error))?;
    let events: Vec<Event> = file
        .event
        .into_iter()
        .chain(file.response.into_iter().map(|wrapped| wrapped.event))
        .collect();
    if events.is_empty() {
        return Err(FeedError::malformed(
            path,
            None,
            "the file holds no MISP Event object",
        ));
    }
    Ok((content, events))
}

pub(crate) fn source(path: &Path) -> Result<SourceInfo, UnsupportedReason> {
    let (_, events) = load(path).map_err(|error| match error {
        FeedError::Io { source, .. } if source.kind() == std::io::ErrorKind::UnexpectedEof => {
            UnsupportedReason::Truncated(source)
        }
        other => UnsupportedReason::InvalidJson(other.to_string()),
    })?;
    let first = &events[0];
    let name = match (&first.uuid, events.len()) {
        (Some(uuid), 1) if !uuid.is_empty() => format!("misp-event/{uuid}"),
        _ => format!("misp-event/{}", file_stem(path)),
    };
    let creator = first.creator.as_ref().and_then(|org| org.name.as_deref());
    let provider = creator
        .map(slug)
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| name.clone());
    let title = first
        .info
        .clone()
        .unwrap_or_else(|| file_stem(path).to_string());
    Ok(SourceInfo::new(
        name,
        provider,
        format!("MISP event: {title}"),
        None,
    ))
}

/// Values that every sighting of one event shares.
struct EventContext {
    threat: ThreatType,
    family: Option<String>,
    labels: Vec<String>,
    first_seen: Option<String>,
}

impl EventContext {
    fn of(event: &Event) -> EventContext {
        let actors = cluster_values(event, &ACTOR_GALAXIES);
        let malware = cluster_values(event, &MALWARE_GALAXIES);
        let family = malware
            .first()
            .or(actors.first())
            .cloned()
            .or_else(|| event.info.clone().filter(|info| !info.is_empty()));
        EventContext {
            threat: if actors.is_empty() {
                ThreatType::Malware
            } else {
                ThreatType::Apt
            },
            family,
            labels: actors.into_iter().chain(malware).collect(),
            first_seen: event.date.as_deref().and_then(iso_date),
        }
    }
}

/// Returns the values of the event's galaxy clusters and `misp-galaxy:<type>="<value>"` tags of
/// the given galaxy types, without repeats.
fn cluster_values(event: &Event, galaxy_types: &[&str]) -> Vec<String> {
    let from_galaxies = event
        .galaxies
        .iter()
        .filter(|galaxy| galaxy_types.contains(&galaxy.kind.as_str()))
        .flat_map(|galaxy| galaxy.clusters.iter().map(|cluster| cluster.value.clone()));
    let from_tags = event.tags.iter().filter_map(|tag| {
        let rest = tag.name.strip_prefix("misp-galaxy:")?;
        let (galaxy, value) = rest.split_once('=')?;
        galaxy_types
            .contains(&galaxy)
            .then(|| value.trim_matches('"').to_string())
    });
    let mut values: Vec<String> = Vec::new();
    for value in from_galaxies.chain(from_tags) {
        if !value.is_empty() && !values.contains(&value) {
            values.push(value);
        }
    }
    values
}

pub(crate) fn parse(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    let (content, events) = load(&file.path)?;
    out.set_lines(count_lines(&content));
    let text = String::from_utf8_lossy(&content);
    let mut locator = LineLocator::new(&text);
    for event in &events {
        let context = EventContext::of(event);
        let object_attributes = event.objects.iter().flat_map(|object| &object.attributes);
        for attribute in event.attributes.iter().chain(object_attributes) {
            let line = attribute
                .uuid
                .as_deref()
                .and_then(|uuid| locator.find(&format!("\"{uuid}\"")))
                .unwrap_or(1);
            emit_attribute(out, line, attribute, &context)?;
        }
    }
    Ok(())
}

fn emit_attribute(
    out: &mut Emitter,
    line: u64,
    attribute: &Attribute,
    context: &EventContext,
) -> Result<(), FeedError> {
    if is_true(&attribute.deleted) || attribute.category == "External analysis" {
        return Ok(());
    }
    let subjects = match attribute_subjects(&attribute.kind, &attribute.value) {
        None => return Ok(()),
        Some(Ok(subjects)) => subjects,
        Some(Err(error)) => {
            out.reject(line, format!("{} attribute: {error}", attribute.kind));
            return Ok(());
        }
    };
    let weight = if is_true(&attribute.to_ids) { 0.8 } else { 0.7 };
    for (subject, port) in subjects {
        let mut sighting = Sighting::new(subject, ClaimKind::Malicious, context.threat, weight);
        sighting.family = context.family.clone();
        sighting.first_seen = context.first_seen.clone();
        sighting.labels = context.labels.clone();
        sighting
            .labels
            .extend(port.map(|port| format!("port:{port}")));
        let comment = attribute.comment.trim();
        if !comment.is_empty() && comment.chars().count() <= MAX_COMMENT_LABEL {
            sighting.labels.push(comment.to_string());
        }
        out.sighting(line, sighting)?;
    }
    Ok(())
}

type Subjects = Vec<(Subject, Option<u16>)>;

/// Returns the subjects of an attribute with the port it names; `None` for a type tiq does not
/// look up.
fn attribute_subjects(kind: &str, value: &str) -> Option<Result<Subjects, ValueError>> {
    let value = value.trim();
    let result = match kind {
        "ip-src" | "ip-dst" => parse_ip_or_network(value).map(|subject| vec![(subject, None)]),
        "ip-src|port" | "ip-dst|port" => address_with_port(value),
        "domain" | "hostname" => domain(value).map(|subject| vec![(subject, None)]),
        "hostname|port" => domain_with_port(value),
        "domain|ip" => domain_and_address(value),
        "url" => url_subject(value).map(|subject| vec![(subject, None)]),
        "md5" | "sha1" | "sha256" => hash_subject(value).map(|subject| vec![(subject, None)]),
        "filename|md5" | "filename|sha1" | "filename|sha256" => {
            let hash = value.rsplit('|').next().unwrap_or("");
            hash_subject(hash).map(|subject| vec![(subject, None)])
        }
        _ => return None,
    };
    Some(result)
}

fn domain(value: &str) -> Result<Subject, ValueError> {
    Ok(Subject::Domain(parse_domain(value)?.name))
}

fn split_pair(value: &str) -> Result<(&str, &str), ValueError> {
    value
        .split_once('|')
        .ok_or_else(|| ValueError::field("composite value", value, "two parts separated by |"))
}

fn port_number(value: &str) -> Result<u16, ValueError> {
    value
        .trim()
        .parse()
        .map_err(|_| ValueError::field("port", value, "a port number"))
}

fn address_with_port(value: &str) -> Result<Subjects, ValueError> {
    let (address, port) = split_pair(value)?;
    Ok(vec![(
        Subject::Ip(parse_ip(address)?),
        Some(port_number(port)?),
    )])
}

fn domain_with_port(value: &str) -> Result<Subjects, ValueError> {
    let (host, port) = split_pair(value)?;
    Ok(vec![(domain(host)?, Some(port_number(port)?))])
}

fn domain_and_address(value: &str) -> Result<Subjects, ValueError> {
    let (host, address) = split_pair(value)?;
    Ok(vec![
        (domain(host)?, None),
        (Subject::Ip(parse_ip(address)?), None),
    ])
}
