//! Country, region and city from MaxMind DB files kept in the data directory.
//!
//! Both record layouts in use are read: GeoLite2 (`country.iso_code`, `subdivisions`,
//! `city.names`) and ip-location-db (`country_code`, `state1`, `city`).

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use maxminddb::Reader;
use serde::Deserialize;
use tiq_store::SourceRow;

use crate::OpenError;

/// Geolocation of one address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    /// Source of the location.
    pub source: Arc<str>,
}

/// The MaxMind DB files of the data directory, opened in source-name order.
pub struct GeoDatabases {
    readers: Vec<(Arc<str>, Reader<Vec<u8>>)>,
}

/// The fields read from a record, borrowed from the database file: only the English name
/// of each named place is decoded.
#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow)]
    country_code: Option<&'a str>,
    #[serde(borrow)]
    country: Option<GeoLiteCountry<'a>>,
    #[serde(borrow)]
    subdivisions: Option<Vec<GeoLiteNamed<'a>>>,
    #[serde(borrow)]
    state1: Option<&'a str>,
    #[serde(borrow)]
    city: Option<CityField<'a>>,
}

#[derive(Deserialize)]
struct GeoLiteCountry<'a> {
    #[serde(borrow)]
    iso_code: Option<&'a str>,
}

#[derive(Deserialize)]
struct GeoLiteNamed<'a> {
    #[serde(borrow)]
    names: Option<EnglishName<'a>>,
}

/// The `en` entry of a GeoLite2 `names` map; the other languages are skipped.
#[derive(Deserialize)]
struct EnglishName<'a> {
    #[serde(borrow)]
    en: Option<&'a str>,
}

/// A city as ip-location-db writes it (a plain name) or as GeoLite2 does (a map of names).
enum CityField<'a> {
    Plain(&'a str),
    GeoLite(GeoLiteNamed<'a>),
}

impl<'de: 'a, 'a> Deserialize<'de> for CityField<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CityVisitor)
    }
}

/// Reads either form of [`CityField`] without buffering the value first, as
/// `#[serde(untagged)]` would.
struct CityVisitor;

impl<'de> serde::de::Visitor<'de> for CityVisitor {
    type Value = CityField<'de>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a city name or a map of city names")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, name: &'de str) -> Result<Self::Value, E> {
        Ok(CityField::Plain(name))
    }

    fn visit_map<M: serde::de::MapAccess<'de>>(self, map: M) -> Result<Self::Value, M::Error> {
        let named = GeoLiteNamed::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        Ok(CityField::GeoLite(named))
    }
}

impl GeoDatabases {
    /// Opens every MaxMind DB file the sources kept in the data directory.
    pub fn load(data_dir: &Path, sources: &[SourceRow]) -> Result<GeoDatabases, OpenError> {
        let mut readers = Vec::new();
        for source in sources {
            let Some(file) = &source.file else { continue };
            if source.format != tiq_feeds::Format::MaxMindDb.name() {
                continue;
            }
            let path = data_dir.join(file);
            let reader = Reader::open_readfile(&path).map_err(|error| OpenError::Geo {
                path: path.clone(),
                reason: error.to_string(),
            })?;
            readers.push((source.name.as_str().into(), reader));
        }
        Ok(GeoDatabases { readers })
    }

    pub fn len(&self) -> usize {
        self.readers.len()
    }

    /// Returns the location from the first database that has a country for the address.
    pub fn locate(&self, ip: IpAddr) -> Option<Location> {
        self.readers.iter().find_map(|(name, reader)| {
            let found = reader.lookup(ip).ok()?;
            let record: Record = found.decode().ok()??;
            let country = record
                .country_code
                .or(record.country.and_then(|c| c.iso_code))?;
            let region = record.state1.or_else(|| {
                record
                    .subdivisions
                    .and_then(|list| list.into_iter().next())
                    .and_then(english_name)
            });
            let city = match record.city {
                Some(CityField::Plain(name)) => Some(name),
                Some(CityField::GeoLite(named)) => english_name(named),
                None => None,
            };
            Some(Location {
                country: Some(country.to_string()),
                region: region.map(str::to_string),
                city: city.map(str::to_string),
                source: name.clone(),
            })
        })
    }
}

fn english_name(named: GeoLiteNamed<'_>) -> Option<&str> {
    named.names.and_then(|names| names.en)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes a MaxMind DB field of `kind` (2 string, 5 uint16, 6 uint32, 7 map, 9 uint64,
    /// 11 array)
    /// whose size is below 29.
    fn field(kind: u8, size: usize, body: &[u8]) -> Vec<u8> {
        let size = u8::try_from(size).ok().filter(|s| *s < 29).unwrap();
        let mut out = if kind <= 7 {
            vec![(kind << 5) | size]
        } else {
            vec![size, kind - 7]
        };
        out.extend_from_slice(body);
        out
    }

    fn string(text: &str) -> Vec<u8> {
        field(2, text.len(), text.as_bytes())
    }

    fn map(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let body: Vec<u8> = entries
            .iter()
            .flat_map(|(key, value)| [string(key), value.clone()].concat())
            .collect();
        field(7, entries.len(), &body)
    }

    fn array(items: &[Vec<u8>]) -> Vec<u8> {
        field(11, items.len(), &items.concat())
    }

    /// Writes a database of one search-tree node: `0.0.0.0/1` has an ip-location-db record
    /// and `128.0.0.0/1` a GeoLite2 one.
    fn two_layouts() -> Vec<u8> {
        let plain = map(&[
            ("country_code", string("ZZ")),
            ("state1", string("Plain Region")),
            ("city", string("Plain Town")),
        ]);
        let names = |en: &str, other: &str| map(&[("de", string(other)), ("en", string(en))]);
        let geolite = map(&[
            ("country", map(&[("iso_code", string("YY"))])),
            (
                "subdivisions",
                array(&[map(&[("names", names("Lite Region", "Region"))])]),
            ),
            ("city", map(&[("names", names("Lite Town", "Stadt"))])),
        ]);

        let node_count: u32 = 1;
        let left = node_count + 16;
        let right = left + plain.len() as u32;
        let mut file = Vec::new();
        file.extend_from_slice(&left.to_be_bytes()[1..]);
        file.extend_from_slice(&right.to_be_bytes()[1..]);
        file.extend_from_slice(&[0; 16]);
        file.extend(plain);
        file.extend(geolite);

        file.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
        file.extend(map(&[
            ("binary_format_major_version", field(5, 1, &[2])),
            ("binary_format_minor_version", field(5, 0, &[])),
            ("build_epoch", field(9, 1, &[1])),
            ("database_type", string("tiq-test-city")),
            ("description", map(&[("en", string("tiq test database"))])),
            ("ip_version", field(5, 1, &[4])),
            ("languages", array(&[string("en")])),
            ("node_count", field(6, 1, &[1])),
            ("record_size", field(5, 1, &[24])),
        ]));
        file
    }

    #[test]
    fn both_record_layouts_are_read() {
        let reader = Reader::from_source(two_layouts()).unwrap();
        let databases = GeoDatabases {
            readers: vec![("geo/test".into(), reader)],
        };
        let plain = databases.locate("1.2.3.4".parse().unwrap()).unwrap();
        assert_eq!(plain.country.as_deref(), Some("ZZ"));
        assert_eq!(plain.region.as_deref(), Some("Plain Region"));
        assert_eq!(plain.city.as_deref(), Some("Plain Town"));
        assert_eq!(&*plain.source, "geo/test");
        let lite = databases.locate("200.1.2.3".parse().unwrap()).unwrap();
        assert_eq!(lite.country.as_deref(), Some("YY"));
        assert_eq!(lite.region.as_deref(), Some("Lite Region"));
        assert_eq!(lite.city.as_deref(), Some("Lite Town"));
    }
}
