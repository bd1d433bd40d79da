//! ThreatFox IOCs as CSV.
//!
//! Feed: abuse.ch ThreatFox <https://threatfox.abuse.ch/> (abuse.ch terms of use), the CSV
//! exports `/export/csv/recent/` and `/export/csv/full/` (a download served as a zip archive
//! must be extracted first). Format: a `#` comment block whose last line is the
//! quoted column list
//! `# "first_seen_utc","ioc_id","ioc_value","ioc_type","threat_type","fk_malware","malware_alias","malware_printable","last_seen_utc","confidence_level","reference","tags","anonymous","reporter"`,
//! then one row per IOC with every field quoted and the fields separated by `, `.
//!
//! Columns are found by name in the column line, or taken in that order without one. Each row
//! becomes the sighting described in [`threatfox_ioc`](super::threatfox_ioc); a row of an IOC
//! type tiq cannot look up is counted as skipped.

use crate::error::FeedError;
use crate::formats::abuse_csv::{column_line, for_each_record};
use crate::formats::threatfox_ioc::{self, Ioc};
use crate::input::Head;
use crate::sink::Emitter;
use crate::source::FeedFile;

/// Columns of the export, in the documented order.
const LAYOUT: [&str; 14] = [
    "first_seen_utc",
    "ioc_id",
    "ioc_value",
    "ioc_type",
    "threat_type",
    "fk_malware",
    "malware_alias",
    "malware_printable",
    "last_seen_utc",
    "confidence_level",
    "reference",
    "tags",
    "anonymous",
    "reporter",
];

/// Columns the parser reads.
const READ: [&str; 11] = [
    "ioc_id",
    "ioc_value",
    "ioc_type",
    "threat_type",
    "fk_malware",
    "malware_alias",
    "malware_printable",
    "first_seen_utc",
    "last_seen_utc",
    "confidence_level",
    "tags",
];

pub(crate) fn matches(head: &Head) -> bool {
    head.lines().take(30).any(|line| {
        column_line(line, LAYOUT[0])
            .is_some_and(|columns| columns.iter().any(|column| column == "ioc_value"))
    })
}

pub(crate) fn parse(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    for_each_record(file, out, &LAYOUT, READ, |number, values, out| {
        let [
            id,
            value,
            ioc_type,
            threat_type,
            malpedia_id,
            aliases,
            printable,
            first_seen,
            last_seen,
            confidence,
            tags,
        ] = values;
        let ioc = Ioc {
            id,
            value,
            ioc_type,
            threat_type,
            malpedia_id,
            aliases,
            printable,
            first_seen,
            last_seen,
            confidence,
            tags,
        };
        match threatfox_ioc::sighting(&ioc) {
            Ok(Some(sighting)) => out.sighting(number, sighting),
            Ok(None) => {
                out.skip();
                Ok(())
            }
            Err(error) => {
                out.reject(number, error);
                Ok(())
            }
        }
    })
}
