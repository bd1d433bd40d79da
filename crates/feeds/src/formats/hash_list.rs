//! Lists of file hashes, one per line, as in ESET's malware-ioc repository.
//!
//! Feed: <https://github.com/eset/malware-ioc> (BSD-2-Clause), the indicators of ESET's research
//! publications. Format: one MD5, SHA-1 or SHA-256 digest per line (`samples.md5`,
//! `samples.sha1`, `samples.sha256`), in folders named after the family or campaign.
//!
//! Each line becomes a malicious [`ThreatType::Malware`] sighting of the hash. The family is the
//! folder directly under the repository folder (a folder whose name contains `malware-ioc`), so
//! `stantinko/cryptominer/samples.sha1` belongs to `stantinko`. Such files are source
//! `eset/<family>`, provider `eset`, weight 0.95. A hash list elsewhere is source
//! `hash-list/<folder>` with the folder as family and weight 0.7, because its origin is unknown.

use std::path::Path;

use tiq_model::{ClaimKind, Sighting, ThreatType};

use crate::error::FeedError;
use crate::formats::{folder_names, parent_name};
use crate::input::{Head, for_each_line};
use crate::sink::Emitter;
use crate::source::{FeedFile, SourceInfo};
use crate::values::{hash_subject, is_hash_line, slug};

pub(crate) const ESET_WEIGHT: f32 = 0.95;
pub(crate) const ESET_HOMEPAGE: &str = "https://github.com/eset/malware-ioc";
const OTHER_WEIGHT: f32 = 0.7;

/// Publisher and family of a hash list, read from its folders.
struct Origin {
    eset: bool,
    family: String,
}

impl Origin {
    fn of(path: &Path) -> Origin {
        let folders = folder_names(path);
        let root = folders.iter().position(|name| name.contains("malware-ioc"));
        match root {
            Some(index) if index > 0 => Origin {
                eset: true,
                family: original_folder_name(path, index - 1),
            },
            _ => Origin {
                eset: false,
                family: parent_name(path).to_string(),
            },
        }
    }
}

/// Returns the name of the `depth`-th folder above the file, as written on disk.
fn original_folder_name(path: &Path, depth: usize) -> String {
    path.ancestors()
        .nth(depth + 1)
        .and_then(Path::file_name)
        .and_then(|name| name.to_str())
        .unwrap_or("")
        .to_string()
}

pub(crate) fn matches(head: &Head) -> bool {
    let lines: Vec<&str> = head.data_lines(&['#']).take(200).collect();
    let hashes = lines.iter().filter(|line| is_hash_line(line)).count();
    !lines.is_empty() && hashes * 10 >= lines.len() * 9
}

pub(crate) fn source(path: &Path) -> SourceInfo {
    let origin = Origin::of(path);
    if origin.eset {
        let title = format!("ESET malware-ioc: {}", origin.family);
        let name = format!("eset/{}", origin.family);
        return SourceInfo::new(name, "eset", title, Some(ESET_HOMEPAGE));
    }
    let name = format!("hash-list/{}", slug(&origin.family));
    let title = format!("Hash list {}", origin.family);
    SourceInfo::new(name.clone(), name, title, None)
}

pub(crate) fn parse(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    let origin = Origin::of(&file.path);
    let weight = if origin.eset {
        ESET_WEIGHT
    } else {
        OTHER_WEIGHT
    };
    let family = Some(origin.family).filter(|family| !family.is_empty());
    for_each_line(file, out, |number, line, out| {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return Ok(());
        }
        match hash_subject(line) {
            Ok(subject) => {
                let mut sighting =
                    Sighting::new(subject, ClaimKind::Malicious, ThreatType::Malware, weight);
                sighting.family = family.clone();
                out.sighting(number, sighting)
            }
            Err(error) => {
                out.reject(number, error);
                Ok(())
            }
        }
    })
}
