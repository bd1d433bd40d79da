//! Country, region and city from MaxMind DB files kept in the data directory.
//!
//! Both record layouts in use are read: GeoLite2 (`country.iso_code`, `subdivisions`,
//! `city.names`) and ip-location-db (`country_code`, `state1`, `city`).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

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
    pub source: String,
}

/// The MaxMind DB files of the data directory, opened in source-name order.
pub struct GeoDatabases {
    readers: Vec<(String, Reader<Vec<u8>>)>,
}

#[derive(Deserialize)]
struct Record {
    country_code: Option<String>,
    country: Option<GeoLiteCountry>,
    subdivisions: Option<Vec<GeoLiteNamed>>,
    state1: Option<String>,
    city: Option<CityField>,
}

#[derive(Deserialize)]
struct GeoLiteCountry {
    iso_code: Option<String>,
}

#[derive(Deserialize)]
struct GeoLiteNamed {
    names: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CityField {
    Plain(String),
    GeoLite(GeoLiteNamed),
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
            readers.push((source.name.clone(), reader));
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
                country: Some(country),
                region,
                city,
                source: name.clone(),
            })
        })
    }
}

fn english_name(named: GeoLiteNamed) -> Option<String> {
    named.names.and_then(|mut names| names.remove("en"))
}
