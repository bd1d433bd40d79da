//! The top level of a JSON document, read without keeping large values, for detection.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Implements the visitor methods for booleans, numbers and null, which all give `$value`.
macro_rules! skip_scalars {
    ($type:ty, $value:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<$type, E> {
            Ok($value)
        }

        fn visit_i64<E: de::Error>(self, _: i64) -> Result<$type, E> {
            Ok($value)
        }

        fn visit_u64<E: de::Error>(self, _: u64) -> Result<$type, E> {
            Ok($value)
        }

        fn visit_f64<E: de::Error>(self, _: f64) -> Result<$type, E> {
            Ok($value)
        }

        fn visit_unit<E: de::Error>(self) -> Result<$type, E> {
            Ok($value)
        }
    };
}

/// Maximum length of a top-level string value kept, in characters.
const MAX_KEPT_STRING: usize = 200;

/// Maximum number of items kept from a top-level array of strings.
const MAX_KEPT_ITEMS: usize = 32;

/// Top-level keys of a JSON object, with its short string values and the first strings of its
/// arrays. A document that is not an object has no keys.
#[derive(Debug, Default)]
pub(crate) struct JsonShape {
    pub keys: Vec<String>,
    pub strings: BTreeMap<String, String>,
    pub string_lists: BTreeMap<String, Vec<String>>,
}

impl JsonShape {
    /// Reads the first JSON value of `reader`; later values of a JSON Lines file stay unread.
    pub(crate) fn read(reader: impl Read) -> Result<JsonShape, serde_json::Error> {
        let mut values = serde_json::Deserializer::from_reader(reader).into_iter::<JsonShape>();
        match values.next() {
            Some(shape) => shape,
            None => Err(de::Error::custom("the document is empty")),
        }
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.keys.iter().any(|k| k == key)
    }

    pub(crate) fn string(&self, key: &str) -> Option<&str> {
        self.strings.get(key).map(String::as_str)
    }

    pub(crate) fn list(&self, key: &str) -> &[String] {
        self.string_lists.get(key).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn keys_summary(&self) -> String {
        if self.keys.is_empty() {
            return "none".to_string();
        }
        let shown: Vec<&str> = self.keys.iter().take(12).map(String::as_str).collect();
        let more = if self.keys.len() > 12 { ", …" } else { "" };
        format!("{}{more}", shown.join(", "))
    }
}

impl<'de> Deserialize<'de> for JsonShape {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<JsonShape, D::Error> {
        deserializer.deserialize_any(ShapeVisitor)
    }
}

struct ShapeVisitor;

impl<'de> Visitor<'de> for ShapeVisitor {
    type Value = JsonShape;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonShape, A::Error> {
        let mut shape = JsonShape::default();
        while let Some(key) = map.next_key::<String>()? {
            match map.next_value::<TopValue>()? {
                TopValue::String(value) => {
                    shape.strings.insert(key.clone(), value);
                }
                TopValue::Strings(items) => {
                    shape.string_lists.insert(key.clone(), items);
                }
                TopValue::Other => {}
            }
            shape.keys.push(key);
        }
        Ok(shape)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonShape, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(JsonShape::default())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<JsonShape, E> {
        Ok(JsonShape::default())
    }

    skip_scalars!(JsonShape, JsonShape::default());
}

/// A top-level value as far as detection needs it.
enum TopValue {
    String(String),
    Strings(Vec<String>),
    Other,
}

impl<'de> Deserialize<'de> for TopValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TopValue, D::Error> {
        deserializer.deserialize_any(TopValueVisitor)
    }
}

struct TopValueVisitor;

impl<'de> Visitor<'de> for TopValueVisitor {
    type Value = TopValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<TopValue, E> {
        Ok(TopValue::String(
            value.chars().take(MAX_KEPT_STRING).collect(),
        ))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TopValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<ListItem>()? {
            if let (ListItem::String(text), true) = (item, items.len() < MAX_KEPT_ITEMS) {
                items.push(text);
            }
        }
        Ok(TopValue::Strings(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopValue, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(TopValue::Other)
    }

    skip_scalars!(TopValue, TopValue::Other);
}

/// An item of a top-level array: a string is kept, anything else is skipped.
enum ListItem {
    String(String),
    Other,
}

impl<'de> Deserialize<'de> for ListItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ListItem, D::Error> {
        struct ItemVisitor;

        impl<'de> Visitor<'de> for ItemVisitor {
            type Value = ListItem;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<ListItem, E> {
                Ok(ListItem::String(
                    value.chars().take(MAX_KEPT_STRING).collect(),
                ))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ListItem, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(ListItem::Other)
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ListItem, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(ListItem::Other)
            }

            skip_scalars!(ListItem, ListItem::Other);
        }

        deserializer.deserialize_any(ItemVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_keeps_keys_and_short_values() {
        let text = r#"{"name":"x","list":["a","b",{"c":1}],"n":3,"nested":{"k":"v"}}"#;
        let shape = JsonShape::read(text.as_bytes()).unwrap();
        assert_eq!(shape.keys, ["name", "list", "n", "nested"]);
        assert_eq!(shape.string("name"), Some("x"));
        assert_eq!(shape.list("list"), ["a", "b"]);
        assert!(shape.string("nested").is_none());
    }

    #[test]
    fn shape_reads_first_json_line_only() {
        let text = "{\"cidr\":\"192.0.2.0/24\"}\n{\"cidr\":\"198.51.100.0/24\"}\n";
        let shape = JsonShape::read(text.as_bytes()).unwrap();
        assert_eq!(shape.keys, ["cidr"]);
    }
}
