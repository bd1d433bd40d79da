//! STIX 2 bundles such as MITRE ATT&CK, kept whole.
//!
//! Feed: any STIX 2.0 or 2.1 bundle; MITRE ATT&CK <https://attack.mitre.org/> publishes its
//! Enterprise, Mobile and ICS matrices as bundles (`mitre/cti` and `mitre-attack/attack-stix-data`
//! repositories, under the ATT&CK terms of use), often gzip-compressed. Format:
//! `{"type": "bundle", "id": "bundle--…", "spec_version": …, "objects": [{"type": …, "id":
//! "<type>--<uuid>", …}]}`, tens of megabytes for ATT&CK Enterprise.
//!
//! A bundle is recognised from its first bytes, without reading it through. A bundle that names
//! ATT&CK (`"mitre-attack"` references or `x_mitre_` properties in its head) is source
//! `mitre-attack/<domain>` with provider `mitre`. The domain is `enterprise`, `mobile` or `ics`,
//! found in the head or else in the file name. Any other bundle is source `stix/<file name>`,
//! with the file name as provider.
//!
//! The file is kept for knowledge search. [`validate`] streams the bundle, holding one object at
//! a time, counts its objects, and rejects an object without a `type` or whose `id` is not
//! `<type>--<id>`. A rejected object is reported at the line where it ends, which is line 1 in a
//! minified bundle.

use std::cell::Cell;
use std::fmt;
use std::io::{self, Read};
use std::path::Path;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::error::FeedError;
use crate::formats::{base_name, json_error};
use crate::input::{Head, open};
use crate::sink::Emitter;
use crate::source::{FeedFile, SourceInfo};
use crate::values::slug;

const ATTACK_HOMEPAGE: &str = "https://attack.mitre.org/";

/// ATT&CK domains, as the bundles spell them, and the source-name segment of each.
const ATTACK_DOMAINS: [(&str, &str); 3] = [
    ("enterprise-attack", "enterprise"),
    ("mobile-attack", "mobile"),
    ("ics-attack", "ics"),
];

/// Characters at the start of the text searched for the bundle type.
const TYPE_SEARCH_CHARS: usize = 400;

/// Recognises a bundle from the start of its text, so a bundle of tens of megabytes is not read
/// through during detection.
pub(crate) fn matches(text: &str) -> bool {
    let start: String = text
        .chars()
        .take(TYPE_SEARCH_CHARS)
        .filter(|c| !c.is_whitespace())
        .collect();
    start.contains("\"type\":\"bundle\"") && text.contains("\"objects\"")
}

pub(crate) fn source(path: &Path, head: &Head) -> SourceInfo {
    let text = head.text().unwrap_or("");
    let base = base_name(path);
    if !(text.contains("\"mitre-attack\"") || text.contains("\"x_mitre_")) {
        let name = format!("stix/{}", slug(base));
        return SourceInfo::new(name.clone(), name, format!("STIX bundle {base}"), None);
    }
    let quoted = |domain: &str| text.contains(&format!("\"{domain}\""));
    let domain = ATTACK_DOMAINS
        .iter()
        .find(|(domain, _)| quoted(domain))
        .or_else(|| {
            ATTACK_DOMAINS
                .iter()
                .find(|(domain, _)| base.contains(domain))
        })
        .map(|(_, segment)| segment.to_string())
        .unwrap_or_else(|| slug(base));
    SourceInfo::new(
        format!("mitre-attack/{domain}"),
        "mitre",
        format!("MITRE ATT&CK {domain}"),
        Some(ATTACK_HOMEPAGE),
    )
}

pub(crate) fn validate(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    let reader = open(&file.path).map_err(FeedError::io(&file.path))?;
    let newlines = Cell::new(0);
    let last_byte = Cell::new(b'\n');
    let counting = CountingReader {
        inner: reader,
        newlines: &newlines,
        last_byte: &last_byte,
    };
    let mut deserializer = serde_json::Deserializer::from_reader(counting);
    let seed = BundleSeed {
        out: &mut *out,
        newlines: &newlines,
    };
    let bundle = seed
        .deserialize(&mut deserializer)
        .and_then(|bundle| deserializer.end().map(|()| bundle))
        .map_err(|error| json_error(&file.path, error))?;

    let unfinished_line = u64::from(last_byte.get() != b'\n');
    out.set_lines(newlines.get() + unfinished_line);
    check_bundle(file, &bundle)
}

fn check_bundle(file: &FeedFile, bundle: &Bundle) -> Result<(), FeedError> {
    let fail = |reason: String| Err(FeedError::malformed(&file.path, None, reason));
    match bundle.kind.as_deref() {
        Some("bundle") => {}
        Some(other) => {
            return fail(format!(
                "the top-level \"type\" is {other:?}, not \"bundle\""
            ));
        }
        None => return fail("the document has no top-level \"type\": \"bundle\"".to_string()),
    }
    if !bundle.has_objects {
        return fail("the bundle has no \"objects\" array".to_string());
    }
    Ok(())
}

/// A reader that counts the newlines passing through it, so the objects of a streamed bundle
/// can be given a line.
struct CountingReader<'a, R> {
    inner: R,
    newlines: &'a Cell<u64>,
    last_byte: &'a Cell<u8>,
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        let bytes = &buffer[..read];
        let count = bytes.iter().filter(|&&byte| byte == b'\n').count() as u64;
        self.newlines.set(self.newlines.get() + count);
        if let Some(&last) = bytes.last() {
            self.last_byte.set(last);
        }
        Ok(read)
    }
}

/// Top-level members of the document that are checked after it is read.
#[derive(Default)]
struct Bundle {
    kind: Option<String>,
    has_objects: bool,
}

/// Reads the top level of the bundle and hands the `objects` array to [`ObjectsSeed`].
struct BundleSeed<'a, 'b> {
    out: &'a mut Emitter<'b>,
    newlines: &'a Cell<u64>,
}

impl<'de> DeserializeSeed<'de> for BundleSeed<'_, '_> {
    type Value = Bundle;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Bundle, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BundleSeed<'_, '_> {
    type Value = Bundle;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a STIX bundle object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Bundle, A::Error> {
        let mut bundle = Bundle::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "type" => bundle.kind = map.next_value::<Option<String>>()?,
                "objects" => {
                    map.next_value_seed(ObjectsSeed {
                        out: &mut *self.out,
                        newlines: self.newlines,
                    })?;
                    bundle.has_objects = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(bundle)
    }
}

/// Checks each object of the `objects` array as it is read.
struct ObjectsSeed<'a, 'b> {
    out: &'a mut Emitter<'b>,
    newlines: &'a Cell<u64>,
}

impl<'de> DeserializeSeed<'de> for ObjectsSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ObjectsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of STIX objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        while let Some(object) = seq.next_element::<ObjectHead>()? {
            index += 1;
            let line = self.newlines.get() + 1;
            match object.problem() {
                None => self.out.count_record(),
                Some(problem) => self
                    .out
                    .reject(line, format!("STIX object {index}: {problem}")),
            }
        }
        Ok(())
    }
}

/// The `type` and `id` of one STIX object; its other properties are skipped unread.
#[derive(Default)]
struct ObjectHead {
    is_object: bool,
    kind: Option<String>,
    id: Option<String>,
}

impl ObjectHead {
    /// Returns what is wrong with the object, or `None`.
    fn problem(&self) -> Option<String> {
        if !self.is_object {
            return Some("not a JSON object".to_string());
        }
        let Some(kind) = self.kind.as_deref().filter(|kind| !kind.is_empty()) else {
            return Some("missing \"type\"".to_string());
        };
        let id = self.id.as_deref().unwrap_or("");
        let suffix = id
            .strip_prefix(kind)
            .and_then(|rest| rest.strip_prefix("--"));
        match suffix {
            Some(rest) if !rest.is_empty() => None,
            _ => Some(format!(
                "invalid \"id\" {id:?}: expected \"{kind}--<identifier>\" for a {kind:?} object"
            )),
        }
    }
}

impl<'de> de::Deserialize<'de> for ObjectHead {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ObjectHead, D::Error> {
        deserializer.deserialize_any(ObjectHeadVisitor)
    }
}

/// Returns a string value; a value of another type counts as missing, so the object is
/// rejected rather than the whole bundle failing.
fn string_value(value: serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(text) => Some(text),
        _ => None,
    }
}

struct ObjectHeadVisitor;

impl<'de> Visitor<'de> for ObjectHeadVisitor {
    type Value = ObjectHead;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a STIX object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ObjectHead, A::Error> {
        let mut head = ObjectHead {
            is_object: true,
            ..ObjectHead::default()
        };
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "type" => head.kind = string_value(map.next_value()?),
                "id" => head.id = string_value(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(head)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ObjectHead, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(ObjectHead::default())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<ObjectHead, E> {
        Ok(ObjectHead::default())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<ObjectHead, E> {
        Ok(ObjectHead::default())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<ObjectHead, E> {
        Ok(ObjectHead::default())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<ObjectHead, E> {
        Ok(ObjectHead::default())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<ObjectHead, E> {
        Ok(ObjectHead::default())
    }

    fn visit_unit<E: de::Error>(self) -> Result<ObjectHead, E> {
        Ok(ObjectHead::default())
    }
}
