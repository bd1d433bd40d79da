//! A top-level JSON object read with its entries in file order.
//!
//! Documents keyed by id (the ThreatFox JSON export, the CVE to Exploit-DB map) are checked
//! entry by entry, and a bad entry is reported at the line of its key. The entries keep file
//! order so that [`LineLocator`](crate::input::LineLocator) finds each key by searching forward,
//! in one pass over the text. A sorted map would send it back to the start for most keys.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// The entries of a JSON object, in file order.
pub(crate) struct OrderedObject(pub Vec<(String, Value)>);

impl<'de> Deserialize<'de> for OrderedObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<OrderedObject, D::Error> {
        deserializer.deserialize_map(EntriesVisitor)
    }
}

struct EntriesVisitor;

impl<'de> Visitor<'de> for EntriesVisitor {
    type Value = OrderedObject;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedObject, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(entry) = map.next_entry::<String, Value>()? {
            entries.push(entry);
        }
        Ok(OrderedObject(entries))
    }
}

/// Returns a scalar member of a JSON object as text: a string as it is, a number or boolean
/// written out, an array of strings joined with commas, and anything else (null, missing) empty.
pub(crate) fn member_text(object: &Value, key: &str) -> String {
    match object.get(key) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(number)) => number.to_string(),
        Some(Value::Bool(flag)) => flag.to_string(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(","),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_keep_file_order() {
        let text = r#"{"b": 1, "a": [2], "c": {"d": null}}"#;
        let object: OrderedObject = serde_json::from_str(text).unwrap();
        let keys: Vec<&str> = object.0.iter().map(|(key, _)| key.as_str()).collect();
        assert_eq!(keys, ["b", "a", "c"]);
    }

    #[test]
    fn member_text_of_each_kind() {
        let object: Value =
            serde_json::from_str(r#"{"s": "x", "n": 75, "a": ["p", "q"], "z": null}"#).unwrap();
        assert_eq!(member_text(&object, "s"), "x");
        assert_eq!(member_text(&object, "n"), "75");
        assert_eq!(member_text(&object, "a"), "p,q");
        assert_eq!(member_text(&object, "z"), "");
        assert_eq!(member_text(&object, "missing"), "");
    }
}
