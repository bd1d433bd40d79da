//! Spamhaus DROP ("Don't Route Or Peer") in its JSON Lines form.
//!
//! Feed: <https://www.spamhaus.org/drop/> (free to use under the Spamhaus DROP terms): networks
//! hijacked or run by criminals. Format: one
//! `{"cidr":…,"sblid":…,"rir":…}` object per line, closed by a
//! `{"type":"metadata",…,"records":N}` line. A file without that line, or whose count differs
//! from the entry lines read, is incomplete and fails with [`FeedError::Incomplete`].
//!
//! Each entry becomes a malicious [`ThreatType::HijackedNetwork`] sighting of the network with
//! weight 0.9, the SBL id and `rir:<registry>` as labels, and the SBL record page as reference.

use serde::Deserialize;
use tiq_model::{ClaimKind, Sighting, ThreatType};

use crate::error::FeedError;
use crate::input::{Head, for_each_line};
use crate::sink::Emitter;
use crate::source::{FeedFile, SourceInfo};
use crate::values::{network_subject, parse_network};

pub(crate) const WEIGHT: f32 = 0.9;
const HOMEPAGE: &str = "https://www.spamhaus.org/drop/";

/// One line of the file: a listed network or the closing metadata.
#[derive(Deserialize)]
#[serde(untagged)]
enum DropLine {
    Entry {
        cidr: String,
        sblid: Option<String>,
        rir: Option<String>,
    },
    Metadata {
        #[serde(rename = "type")]
        kind: String,
        records: u64,
    },
}

/// Returns the source of a DROP list. The IPv6 list is a separate source so that importing one
/// does not replace the other.
pub(crate) fn source_for(ipv6: bool) -> SourceInfo {
    match ipv6 {
        false => SourceInfo::new("spamhaus-drop", "spamhaus", "Spamhaus DROP", Some(HOMEPAGE)),
        true => SourceInfo::new(
            "spamhaus-drop-v6",
            "spamhaus",
            "Spamhaus DROP (IPv6)",
            Some(HOMEPAGE),
        ),
    }
}

pub(crate) fn source(head: &Head) -> SourceInfo {
    let first = head.data_lines(&[]).next().unwrap_or("");
    let ipv6 = match serde_json::from_str::<DropLine>(first) {
        Ok(DropLine::Entry { cidr, .. }) => cidr.contains(':'),
        _ => false,
    };
    source_for(ipv6)
}

/// Returns the SBL id at the start of a comment such as `SBL123456`.
pub(crate) fn sbl_id(comment: &str) -> Option<&str> {
    let id = comment.split_whitespace().next()?;
    let digits = id.strip_prefix("SBL")?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(id)
}

/// Entry lines read and the metadata line, while the file is parsed.
#[derive(Default)]
struct Progress {
    entries: u64,
    metadata: Option<(u64, u64)>,
}

pub(crate) fn parse(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    let mut progress = Progress::default();
    for_each_line(file, out, |number, line, out| {
        let line = line.trim();
        if line.is_empty() {
            return Ok(());
        }
        if let Some((metadata_line, _)) = progress.metadata {
            let reason = format!("data after the metadata line {metadata_line}");
            return Err(FeedError::malformed(&file.path, Some(number), reason));
        }
        match serde_json::from_str::<DropLine>(line) {
            Ok(DropLine::Metadata { kind, records }) if kind == "metadata" => {
                progress.metadata = Some((number, records));
                Ok(())
            }
            Ok(DropLine::Entry { cidr, sblid, rir }) => {
                progress.entries += 1;
                emit_entry(out, number, &cidr, sblid, rir)
            }
            Ok(DropLine::Metadata { kind, .. }) => {
                progress.entries += 1;
                out.reject(number, format!("unknown line type {kind:?}"));
                Ok(())
            }
            Err(error) => {
                progress.entries += 1;
                out.reject(number, format!("invalid DROP entry: {error}"));
                Ok(())
            }
        }
    })?;
    check_complete(file, &progress)
}

fn emit_entry(
    out: &mut Emitter,
    number: u64,
    cidr: &str,
    sblid: Option<String>,
    rir: Option<String>,
) -> Result<(), FeedError> {
    let net = match parse_network(cidr) {
        Ok(net) => net,
        Err(error) => {
            out.reject(number, error);
            return Ok(());
        }
    };
    let mut sighting = Sighting::new(
        network_subject(net),
        ClaimKind::Malicious,
        ThreatType::HijackedNetwork,
        WEIGHT,
    );
    if let Some(id) = sblid.filter(|id| !id.is_empty()) {
        sighting.reference = Some(format!("https://www.spamhaus.org/sbl/query/{id}"));
        sighting.labels.push(id);
    }
    if let Some(registry) = rir.filter(|r| !r.is_empty()) {
        sighting.labels.push(format!("rir:{registry}"));
    }
    out.sighting(number, sighting)
}

fn check_complete(file: &FeedFile, progress: &Progress) -> Result<(), FeedError> {
    let incomplete = |reason: String| FeedError::Incomplete {
        path: file.path.clone(),
        reason,
    };
    let Some((line, records)) = progress.metadata else {
        return Err(incomplete(format!(
            "the closing metadata line is missing after {} entries, so the file may be cut short",
            progress.entries
        )));
    };
    if records != progress.entries {
        return Err(incomplete(format!(
            "the metadata line {line} announces {records} records, but {} entry lines were read",
            progress.entries
        )));
    }
    Ok(())
}
