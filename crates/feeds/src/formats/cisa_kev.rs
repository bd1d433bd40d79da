//! CISA Known Exploited Vulnerabilities catalog, kept whole.
//!
//! Feed: <https://www.cisa.gov/known-exploited-vulnerabilities-catalog> (CC0, published in the
//! `cisagov/kev-data` repository), in two layouts of the same fields:
//! - JSON: `{"title", "catalogVersion", "dateReleased", "count", "vulnerabilities": [{"cveID",
//!   "vendorProject", "product", "vulnerabilityName", "dateAdded", "shortDescription",
//!   "requiredAction", "dueDate", "knownRansomwareCampaignUse", "notes", "cwes"}]}`, read whole;
//! - CSV: the header `cveID,vendorProject,product,vulnerabilityName,dateAdded,…` and one row per
//!   vulnerability, streamed.
//!
//! The file is kept for vulnerability search. [`validate_json`] and [`validate_csv`] count the
//! vulnerabilities and reject an entry whose `cveID` is not a CVE id or whose `dateAdded` is not
//! a date, and a CSV row with another field count than the header. A JSON catalog whose
//! `count` differs from its entries is incomplete. Both layouts are source `cisa-kev`, provider
//! `cisa`: they are two copies of one catalog.

use serde::Deserialize;
use serde_json::Value;
use tiq_model::indicator::parse_cve;

use crate::error::FeedError;
use crate::formats::{column_positions, json_error};
use crate::input::{Head, LineLocator, count_lines, for_each_csv_record, read_all};
use crate::sink::Emitter;
use crate::source::{FeedFile, SourceInfo};
use crate::values::{ValueError, iso_date};

const HOMEPAGE: &str = "https://www.cisa.gov/known-exploited-vulnerabilities-catalog";

pub(crate) fn matches_csv(head: &Head) -> bool {
    let header = head.data_lines(&[]).next().unwrap_or("");
    header.starts_with("cveID,vendorProject,product")
}

pub(crate) fn source() -> SourceInfo {
    SourceInfo::new(
        "cisa-kev",
        "cisa",
        "CISA Known Exploited Vulnerabilities",
        Some(HOMEPAGE),
    )
}

/// The parts of the JSON catalog that are checked; each entry is kept as a value so that one
/// bad entry is rejected alone.
#[derive(Deserialize)]
struct Catalog {
    count: Option<u64>,
    vulnerabilities: Vec<Value>,
}

pub(crate) fn validate_json(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    let content = read_all(&file.path).map_err(FeedError::io(&file.path))?;
    out.set_lines(count_lines(&content));
    let text = String::from_utf8_lossy(&content);
    let catalog: Catalog =
        serde_json::from_str(&text).map_err(|error| json_error(&file.path, error))?;

    let mut locator = LineLocator::new(&text);
    let mut line = 1;
    for (index, entry) in catalog.vulnerabilities.iter().enumerate() {
        let cve_id = entry.get("cveID").and_then(Value::as_str).unwrap_or("");
        line = locator.find(&format!("\"{cve_id}\"")).unwrap_or(line);
        let date_added = entry.get("dateAdded").and_then(Value::as_str).unwrap_or("");
        match check_entry(cve_id, date_added) {
            Ok(()) => out.count_record(),
            Err(error) => out.reject(line, format!("vulnerability {}: {error}", index + 1)),
        }
    }

    let entries = catalog.vulnerabilities.len() as u64;
    match catalog.count {
        Some(count) if count != entries => Err(FeedError::Incomplete {
            path: file.path.clone(),
            reason: format!(
                "the catalog announces {count} vulnerabilities, but {entries} were read"
            ),
        }),
        _ => Ok(()),
    }
}

pub(crate) fn validate_csv(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    let mut columns: Option<(usize, [usize; 2])> = None;
    for_each_csv_record(file, out, false, |number, fields, out| {
        let Some((count, [cve_id, date_added])) = columns else {
            let positions =
                column_positions(fields, ["cveID", "dateAdded"]).map_err(|missing| {
                    let reason = format!("the header has no {missing:?} column");
                    FeedError::malformed(&file.path, Some(number), reason)
                })?;
            columns = Some((fields.len(), positions));
            return Ok(());
        };
        if fields.len() != count {
            let error = ValueError::FieldCount {
                expected: count,
                found: fields.len(),
            };
            out.reject(number, error);
            return Ok(());
        }
        match check_entry(fields[cve_id], fields[date_added]) {
            Ok(()) => out.count_record(),
            Err(error) => out.reject(number, error),
        }
        Ok(())
    })
}

fn check_entry(cve_id: &str, date_added: &str) -> Result<(), ValueError> {
    parse_cve(cve_id)?;
    if iso_date(date_added).is_none() {
        return Err(ValueError::field(
            "dateAdded",
            date_added,
            "a date such as 2024-01-31",
        ));
    }
    Ok(())
}
