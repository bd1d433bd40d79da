//! ThreatFox IOCs as JSON.
//!
//! Feed: abuse.ch ThreatFox <https://threatfox.abuse.ch/> (abuse.ch terms of use), the JSON
//! export `/export/json/recent/`. Format: one object keyed by IOC id, whose value is an array
//! with one IOC object:
//! `{"1234567": [{"ioc_value": …, "ioc_type": …, "threat_type": …, "malware": "win.x",
//! "malware_printable": …, "malware_alias": …, "first_seen_utc": …, "last_seen_utc": null,
//! "confidence_level": 75, "reference": …, "tags": "a,b", "anonymous": "0", "reporter": …}]}`.
//! The document is read whole.
//!
//! Each IOC object becomes the sighting described in [`threatfox_ioc`](super::threatfox_ioc),
//! with `malware` as the Malpedia id. A rejected entry is reported at the line of its id, and an
//! IOC of a type tiq cannot look up is counted as skipped.

use serde_json::Value;

use crate::error::FeedError;
use crate::formats::json_error;
use crate::formats::json_object::{OrderedObject, member_text};
use crate::formats::threatfox_ioc::{self, Ioc};
use crate::input::{LineLocator, count_lines, read_all};
use crate::json_shape::JsonShape;
use crate::sink::Emitter;
use crate::source::FeedFile;

/// Returns whether a JSON document is the export: ids as keys and IOC objects in the head.
pub(crate) fn matches(shape: &JsonShape, head: &str) -> bool {
    let is_id = |key: &String| !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit());
    !shape.keys.is_empty()
        && shape.keys.iter().take(50).all(is_id)
        && head.contains("\"ioc_value\"")
        && head.contains("\"ioc_type\"")
}

pub(crate) fn parse(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    let content = read_all(&file.path).map_err(FeedError::io(&file.path))?;
    out.set_lines(count_lines(&content));
    let text = String::from_utf8_lossy(&content);
    let entries: OrderedObject =
        serde_json::from_str(&text).map_err(|error| json_error(&file.path, error))?;
    let mut locator = LineLocator::new(&text);
    let mut line = 1;
    for (id, value) in &entries.0 {
        line = locator.find(&format!("\"{id}\"")).unwrap_or(line);
        let Some(iocs) = value.as_array().filter(|iocs| !iocs.is_empty()) else {
            let reason = format!("entry {id:?} is not an array of IOC objects");
            out.reject(line, reason);
            continue;
        };
        for ioc in iocs {
            emit_ioc(out, line, id, ioc)?;
        }
    }
    Ok(())
}

fn emit_ioc(out: &mut Emitter, line: u64, id: &str, ioc: &Value) -> Result<(), FeedError> {
    if !ioc.is_object() {
        out.reject(
            line,
            format!("entry {id:?} holds a value that is not an IOC object"),
        );
        return Ok(());
    }

    let text = |key| member_text(ioc, key);
    let value = text("ioc_value");
    let ioc_type = text("ioc_type");
    let threat_type = text("threat_type");
    let malpedia_id = text("malware");
    let aliases = text("malware_alias");
    let printable = text("malware_printable");
    let first_seen = text("first_seen_utc");
    let last_seen = text("last_seen_utc");
    let confidence = text("confidence_level");
    let tags = text("tags");
    let fields = Ioc {
        id,
        value: &value,
        ioc_type: &ioc_type,
        threat_type: &threat_type,
        malpedia_id: &malpedia_id,
        aliases: &aliases,
        printable: &printable,
        first_seen: &first_seen,
        last_seen: &last_seen,
        confidence: &confidence,
        tags: &tags,
    };

    match threatfox_ioc::sighting(&fields) {
        Ok(Some(sighting)) => out.sighting(line, sighting),
        Ok(None) => {
            out.skip();
            Ok(())
        }
        Err(error) => {
            out.reject(line, format!("IOC {id}: {error}"));
            Ok(())
        }
    }
}
