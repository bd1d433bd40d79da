//! PhishTank verified phishing URLs (CSV).
//!
//! Feed: <https://phishtank.org/> (PhishTank terms of use), the
//! `verified_online.csv` export. Format: the header
//! `phish_id,url,phish_detail_url,submission_time[,verified,verification_time,online,target]`,
//! then one row per URL. Columns are found by header name, so the full export and copies
//! reduced to the first four columns both parse.
//!
//! Each row becomes a malicious [`ThreatType::Phishing`] sighting of the URL with weight 0.85,
//! the submission time as first seen, the PhishTank detail page as reference, and the targeted
//! brand as a `target:` label when the row names one.

use tiq_model::{ClaimKind, Sighting, ThreatType};

use crate::error::FeedError;
use crate::formats::field;
use crate::input::{Head, for_each_csv_record};
use crate::sink::Emitter;
use crate::source::{FeedFile, SourceInfo};
use crate::values::{ValueError, optional_date, url_subject};

const WEIGHT: f32 = 0.85;

pub(crate) fn matches(head: &Head) -> bool {
    let header = head.data_lines(&[]).next().unwrap_or("").replace('"', "");
    header.starts_with("phish_id,url,phish_detail_url")
}

pub(crate) fn source() -> SourceInfo {
    SourceInfo::new(
        "phishtank",
        "phishtank",
        "PhishTank verified phishing URLs",
        Some("https://phishtank.org/"),
    )
}

/// Positions of the columns this parser reads.
#[derive(Clone, Copy)]
struct Columns {
    count: usize,
    url: usize,
    detail: Option<usize>,
    submitted: Option<usize>,
    target: Option<usize>,
}

impl Columns {
    fn from_header(fields: &[&str]) -> Option<Columns> {
        let find = |name: &str| {
            fields
                .iter()
                .position(|f| f.trim().eq_ignore_ascii_case(name))
        };
        Some(Columns {
            count: fields.len(),
            url: find("url")?,
            detail: find("phish_detail_url"),
            submitted: find("submission_time"),
            target: find("target"),
        })
    }
}

pub(crate) fn parse(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    let mut columns: Option<Columns> = None;
    for_each_csv_record(file, out, false, |line, fields, out| {
        let Some(positions) = columns else {
            let header = Columns::from_header(fields).ok_or_else(|| {
                FeedError::malformed(&file.path, Some(line), "the header has no \"url\" column")
            })?;
            columns = Some(header);
            return Ok(());
        };
        match parse_row(fields, positions) {
            Ok(sighting) => out.sighting(line, sighting),
            Err(error) => {
                out.reject(line, error);
                Ok(())
            }
        }
    })
}

fn parse_row(fields: &[&str], columns: Columns) -> Result<Sighting, ValueError> {
    let optional = |position: Option<usize>| -> Result<&str, ValueError> {
        position.map_or(Ok(""), |p| field(fields, p, columns.count))
    };
    let subject = url_subject(field(fields, columns.url, columns.count)?)?;
    let mut sighting = Sighting::new(subject, ClaimKind::Malicious, ThreatType::Phishing, WEIGHT);
    sighting.first_seen = optional_date("submission_time", optional(columns.submitted)?)?;
    let detail = optional(columns.detail)?;
    sighting.reference = (!detail.is_empty()).then(|| detail.to_string());
    let target = optional(columns.target)?;
    if !target.is_empty() && !target.eq_ignore_ascii_case("other") {
        sighting.labels.push(format!("target:{target}"));
    }
    Ok(sighting)
}
