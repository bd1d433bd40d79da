//! ThreatFox MD5 hashes with their Malpedia family.
//!
//! Feed: abuse.ch ThreatFox <https://threatfox.abuse.ch/> (abuse.ch terms), the "recent MD5"
//! export, reduced by a mirror to one table. Format: tab-separated
//! `md5<TAB>malware_malpedia_id<TAB>malware_printable<TAB>malware_alias<TAB>first_seen_in_mirror`
//! with that header line; `None` marks a missing alias.
//!
//! Each row becomes a malicious [`ThreatType::Malware`] sighting of the hash with the printable
//! name as family, the Malpedia id and the alias as labels, the date as first seen, and weight
//! 0.85.
//!
//! NOTE: the date column is when the mirror first held the hash, which can be later than
//! ThreatFox's own first sighting.

use tiq_model::{ClaimKind, Sighting, ThreatType};

use crate::error::FeedError;
use crate::input::{Head, for_each_line};
use crate::sink::Emitter;
use crate::source::{FeedFile, SourceInfo};
use crate::values::{ValueError, hash_subject, optional_date};

const WEIGHT: f32 = 0.85;

pub(crate) fn matches(head: &Head) -> bool {
    head.first_line()
        .starts_with("md5\tmalware_malpedia_id\tmalware_printable")
}

pub(crate) fn source() -> SourceInfo {
    SourceInfo::new(
        "threatfox-md5",
        "abuse.ch",
        "ThreatFox MD5 hashes",
        Some("https://threatfox.abuse.ch/"),
    )
}

pub(crate) fn parse(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    for_each_line(file, out, |number, line, out| {
        if line.trim().is_empty() || (number == 1 && line.starts_with("md5\t")) {
            return Ok(());
        }
        match parse_row(line) {
            Ok(sighting) => out.sighting(number, sighting),
            Err(error) => {
                out.reject(number, error);
                Ok(())
            }
        }
    })
}

fn parse_row(line: &str) -> Result<Sighting, ValueError> {
    let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
    let [md5, malpedia_id, printable, alias, first_seen] = fields[..] else {
        return Err(ValueError::FieldCount {
            expected: 5,
            found: fields.len(),
        });
    };
    let mut sighting = Sighting::new(
        hash_subject(md5)?,
        ClaimKind::Malicious,
        ThreatType::Malware,
        WEIGHT,
    );
    sighting.family = known(printable).map(str::to_string);
    sighting
        .labels
        .extend(known(malpedia_id).map(str::to_string));
    sighting.labels.extend(known(alias).map(str::to_string));
    sighting.first_seen = optional_date("first_seen_in_mirror", first_seen)?;
    Ok(sighting)
}

/// Returns the value unless it is empty or the feed's `None`.
fn known(value: &str) -> Option<&str> {
    (!value.is_empty() && value != "None").then_some(value)
}
