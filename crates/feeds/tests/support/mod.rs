//! Shared helpers of the integration tests: fixture paths, a sink that records everything, and
//! a writer for the tiny MaxMind DB fixture.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use tiq_feeds::{FeedFile, ParseStats, Sink, SinkError, inspect, parse};
use tiq_model::{AllowEntry, AsnRange, Sighting};

/// Returns the path of a file under `tests/fixtures`.
pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative)
}

/// Keeps every record and rejection it receives, in order.
#[derive(Debug, Default)]
pub struct RecordingSink {
    pub sightings: Vec<Sighting>,
    pub allows: Vec<AllowEntry>,
    pub ranges: Vec<AsnRange>,
    pub rejections: Vec<(u64, String)>,
}

impl RecordingSink {
    pub fn record_count(&self) -> u64 {
        (self.sightings.len() + self.allows.len() + self.ranges.len()) as u64
    }

    pub fn rejected_lines(&self) -> Vec<u64> {
        self.rejections.iter().map(|(line, _)| *line).collect()
    }

    /// Returns the sighting whose subject has this canonical value.
    pub fn sighting(&self, value: &str) -> &Sighting {
        self.sightings
            .iter()
            .find(|sighting| sighting.subject.value() == value)
            .unwrap_or_else(|| panic!("no sighting of {value}; got {:#?}", self.sightings))
    }
}

impl Sink for RecordingSink {
    fn sighting(&mut self, sighting: Sighting) -> Result<(), SinkError> {
        self.sightings.push(sighting);
        Ok(())
    }

    fn allow(&mut self, entry: AllowEntry) -> Result<(), SinkError> {
        self.allows.push(entry);
        Ok(())
    }

    fn asn_range(&mut self, range: AsnRange) -> Result<(), SinkError> {
        self.ranges.push(range);
        Ok(())
    }

    fn reject(&mut self, line: u64, reason: String) {
        self.rejections.push((line, reason));
    }
}

/// Inspects and parses a file, panicking with the path on any failure.
pub fn inspect_and_parse(path: &Path) -> (FeedFile, ParseStats, RecordingSink) {
    let feed = inspect(path).unwrap_or_else(|error| panic!("{error}"));
    let mut sink = RecordingSink::default();
    let stats = parse(&feed, &mut sink).unwrap_or_else(|error| panic!("{error}"));
    (feed, stats, sink)
}

/// Builds a MaxMind DB with one search-tree node, one data record `{"country_code": "ZZ"}` for
/// the lower half of the IPv4 space, and this metadata.
pub fn tiny_mmdb(database_type: &str, build_epoch: u64) -> Vec<u8> {
    const NODE_COUNT: u32 = 1;
    // A record value above the node count points into the data section, which starts 16 bytes
    // past the end of the tree. A value equal to the node count means "no data".
    let with_data = NODE_COUNT + 16;
    let mut file = Vec::new();
    file.extend_from_slice(&with_data.to_be_bytes()[1..]);
    file.extend_from_slice(&NODE_COUNT.to_be_bytes()[1..]);
    file.extend_from_slice(&[0; 16]);
    file.extend(map(&[("country_code", string("ZZ"))]));
    file.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    file.extend(map(&[
        ("binary_format_major_version", unsigned(5, 2)),
        ("binary_format_minor_version", unsigned(5, 0)),
        ("build_epoch", unsigned(9, build_epoch)),
        ("database_type", string(database_type)),
        ("description", map(&[("en", string("tiq test database"))])),
        ("ip_version", unsigned(5, 4)),
        ("languages", array(&[string("en")])),
        ("node_count", unsigned(6, u64::from(NODE_COUNT))),
        ("record_size", unsigned(5, 24)),
    ]));
    file
}

/// Encodes the control byte of a field of `kind` (MaxMind DB data types: 2 string,
/// 5 uint16, 6 uint32, 7 map, 9 uint64, 11 array) with a size below 29.
fn control(kind: u8, size: usize) -> Vec<u8> {
    assert!(size < 29, "sizes of 29 and more need extra size bytes");
    let size = size as u8;
    if kind <= 7 {
        vec![(kind << 5) | size]
    } else {
        vec![size, kind - 7]
    }
}

fn string(text: &str) -> Vec<u8> {
    let mut field = control(2, text.len());
    field.extend_from_slice(text.as_bytes());
    field
}

fn unsigned(kind: u8, value: u64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let significant: Vec<u8> = bytes.iter().copied().skip_while(|&b| b == 0).collect();
    let mut field = control(kind, significant.len());
    field.extend(significant);
    field
}

fn map(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut field = control(7, entries.len());
    for (key, value) in entries {
        field.extend(string(key));
        field.extend_from_slice(value);
    }
    field
}

fn array(items: &[Vec<u8>]) -> Vec<u8> {
    let mut field = control(11, items.len());
    for item in items {
        field.extend_from_slice(item);
    }
    field
}
