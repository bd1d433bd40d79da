//! ESET malware-ioc hashes flattened into one table.
//!
//! Feed: derived from <https://github.com/eset/malware-ioc> (BSD-2-Clause): the `samples.*`
//! lists of every family folder in one file. Format: tab-separated
//! `hash<TAB>hash_type<TAB>family_or_campaign`, with that header line.
//!
//! Each row becomes a malicious [`ThreatType::Malware`] sighting of the hash with the folder name
//! as family and weight 0.95. Source `eset`, provider `eset`: the same provider as the per-folder
//! lists, so the two copies do not reinforce each other. A row whose `hash_type` disagrees with
//! the length of the hash is rejected.

use tiq_model::{ClaimKind, Sighting, Subject, ThreatType};

use crate::error::FeedError;
use crate::formats::hash_list::{ESET_HOMEPAGE, ESET_WEIGHT};
use crate::input::{Head, for_each_line};
use crate::sink::Emitter;
use crate::source::{FeedFile, SourceInfo};
use crate::values::{ValueError, hash_subject, is_hash_line};

const HEADER: &str = "hash\thash_type\tfamily_or_campaign";

pub(crate) fn matches(head: &Head) -> bool {
    let first = head.first_line();
    if first == HEADER {
        return true;
    }
    let fields: Vec<&str> = first.split('\t').collect();
    fields.len() == 3
        && is_hash_line(fields[0])
        && ["md5", "sha1", "sha256"].contains(&fields[1].to_ascii_lowercase().as_str())
}

pub(crate) fn source() -> SourceInfo {
    SourceInfo::new(
        "eset",
        "eset",
        "ESET malware-ioc hashes",
        Some(ESET_HOMEPAGE),
    )
}

pub(crate) fn parse(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    for_each_line(file, out, |number, line, out| {
        if line.trim().is_empty() || (number == 1 && line == HEADER) {
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
    let [hash, hash_type, family] = fields[..] else {
        return Err(ValueError::FieldCount {
            expected: 3,
            found: fields.len(),
        });
    };
    let subject = hash_subject(hash)?;
    if let Subject::Hash(kind, _) = &subject
        && !kind.name().eq_ignore_ascii_case(hash_type)
    {
        return Err(ValueError::field(
            "hash_type",
            hash_type,
            "the type that matches the hash length (md5, sha1 or sha256)",
        ));
    }
    let mut sighting = Sighting::new(
        subject,
        ClaimKind::Malicious,
        ThreatType::Malware,
        ESET_WEIGHT,
    );
    sighting.family = (!family.is_empty()).then(|| family.to_string());
    Ok(sighting)
}
