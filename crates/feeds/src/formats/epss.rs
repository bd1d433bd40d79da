//! EPSS exploit-prediction scores, kept whole.
//!
//! Feed: FIRST's Exploit Prediction Scoring System <https://www.first.org/epss/> (free to use,
//! citing FIRST), in two layouts:
//! - FIRST's daily file `epss_scores-current.csv` (often gzip-compressed): a first line such as
//!   `#model_version:v2023.03.01,score_date:2024-05-01T00:00:00+0000`, the header
//!   `cve,epss,percentile`, then one row per CVE. Source `epss`, provider `first`.
//! - The table of KEV CVEs from <https://github.com/jgamblin/KEV_EPSS> (Apache-2.0):
//!   `CVE,CVSS3,EPSS,EPSS Percentile,Description,Vendor,Product`, which adds the NVD CVSS 3 base
//!   score. Source `epss-kev`, provider `first` because the scores are FIRST's.
//!
//! Both are streamed, and the file is kept for vulnerability search. [`validate`] counts the
//! rows. It rejects a row whose CVE id is invalid, whose EPSS score or percentile is not a
//! number from 0 to 1, whose CVSS score is not from 0 to 10, or whose field count differs from
//! the header's.

use tiq_model::indicator::parse_cve;

use crate::error::FeedError;
use crate::input::{Head, for_each_csv_record};
use crate::sink::Emitter;
use crate::source::{FeedFile, SourceInfo};
use crate::values::ValueError;

const HOMEPAGE: &str = "https://www.first.org/epss/";
const KEV_EPSS_HOMEPAGE: &str = "https://github.com/jgamblin/KEV_EPSS";

const FIRST_HEADER: &str = "cve,epss,percentile";
const KEV_HEADER: &str = "CVE,CVSS3,EPSS,EPSS Percentile";

pub(crate) fn matches(head: &Head) -> bool {
    let header = head.data_lines(&['#']).next().unwrap_or("");
    header.starts_with(FIRST_HEADER) || header.starts_with(KEV_HEADER)
}

pub(crate) fn source(head: &Head) -> SourceInfo {
    let header = head.data_lines(&['#']).next().unwrap_or("");
    match header.starts_with(KEV_HEADER) {
        true => SourceInfo::new(
            "epss-kev",
            "first",
            "EPSS and CVSS scores of KEV vulnerabilities",
            Some(KEV_EPSS_HOMEPAGE),
        ),
        false => SourceInfo::new("epss", "first", "FIRST EPSS scores", Some(HOMEPAGE)),
    }
}

/// Positions of the columns checked, found in the header.
#[derive(Clone, Copy)]
struct Columns {
    count: usize,
    cve: usize,
    epss: usize,
    percentile: usize,
    cvss: Option<usize>,
}

impl Columns {
    fn from_header(fields: &[&str]) -> Option<Columns> {
        let find = |names: &[&str]| {
            fields.iter().position(|field| {
                names
                    .iter()
                    .any(|name| field.trim().eq_ignore_ascii_case(name))
            })
        };
        Some(Columns {
            count: fields.len(),
            cve: find(&["cve"])?,
            epss: find(&["epss"])?,
            percentile: find(&["percentile", "EPSS Percentile"])?,
            cvss: find(&["CVSS3"]),
        })
    }
}

pub(crate) fn validate(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    let mut columns: Option<Columns> = None;
    for_each_csv_record(file, out, true, |number, fields, out| {
        let Some(positions) = columns else {
            let header = Columns::from_header(fields).ok_or_else(|| {
                let reason = "the header needs cve, epss and percentile columns";
                FeedError::malformed(&file.path, Some(number), reason)
            })?;
            columns = Some(header);
            return Ok(());
        };
        match check_row(fields, positions) {
            Ok(()) => out.count_record(),
            Err(error) => out.reject(number, error),
        }
        Ok(())
    })
}

fn check_row(fields: &[&str], columns: Columns) -> Result<(), ValueError> {
    if fields.len() != columns.count {
        return Err(ValueError::FieldCount {
            expected: columns.count,
            found: fields.len(),
        });
    }
    parse_cve(fields[columns.cve])?;
    check_score("epss", fields[columns.epss], 1.0, "a number from 0 to 1")?;
    check_score(
        "percentile",
        fields[columns.percentile],
        1.0,
        "a number from 0 to 1",
    )?;
    if let Some(cvss) = columns.cvss.map(|position| fields[position].trim())
        && !cvss.is_empty()
    {
        check_score("CVSS3", cvss, 10.0, "a number from 0 to 10")?;
    }
    Ok(())
}

fn check_score(
    field: &'static str,
    value: &str,
    max: f64,
    expected: &'static str,
) -> Result<(), ValueError> {
    match value.trim().parse::<f64>() {
        Ok(score) if (0.0..=max).contains(&score) => Ok(()),
        _ => Err(ValueError::field(field, value, expected)),
    }
}
