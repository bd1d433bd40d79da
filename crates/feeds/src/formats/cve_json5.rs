//! CVE JSON 5 records, kept whole.
//!
//! Feed: CVE records in the CVE JSON 5 format of the CVE Program <https://www.cve.org/>, as
//! published in the `CVEProject/cvelistV5` repository and, with CISA's ADP enrichment (SSVC,
//! KEV, CVSS, CWE), in `cisagov/vulnrichment` (both CC0). Two layouts:
//! - one pretty-printed record per file, `<year>/<N>xxx/CVE-<year>-<number>.json`, read whole;
//! - JSON Lines of minified records, often gzip-compressed, streamed line by line.
//!
//! A record is `{"dataType": "CVE_RECORD", "dataVersion": …, "cveMetadata": {"cveId", "state",
//! …}, "containers": {"cna": …, "adp": […]}}`. The file is kept for vulnerability search.
//! [`validate`] counts the records and rejects one that is not valid JSON (JSON Lines only),
//! whose `dataType` is not `CVE_RECORD`, whose `cveMetadata.cveId` is not a CVE id, or whose
//! `cveMetadata.state` is missing.
//!
//! Source `cve-json5/<collection>`, provider `cve-program`. The collection of a JSON Lines file
//! is its name without extensions. The collection of a single record is the folder that contains
//! the year folders (`records` for `records/2024/3xxx/CVE-2024-3400.json`), or the record's own
//! folder outside that layout, so a tree of records is one source.

use std::path::Path;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use tiq_model::indicator::parse_cve;

use crate::error::FeedError;
use crate::formats::{base_name, json_error};
use crate::input::{Head, count_lines, for_each_line, read_all};
use crate::sink::Emitter;
use crate::source::{FeedFile, SourceInfo};
use crate::values::{ValueError, slug};

const HOMEPAGE: &str = "https://www.cve.org/";

pub(crate) fn source(path: &Path) -> SourceInfo {
    let collection = collection(path);
    SourceInfo::new(
        format!("cve-json5/{}", slug(&collection)),
        "cve-program",
        format!("CVE JSON 5 records: {collection}"),
        Some(HOMEPAGE),
    )
}

/// Returns the collection a file belongs to, as described in the module documentation.
fn collection(path: &Path) -> String {
    let base = base_name(path);
    if parse_cve(base).is_err() {
        return base.to_string();
    }
    let folders: Vec<&str> = path
        .ancestors()
        .skip(1)
        .filter_map(Path::file_name)
        .filter_map(|name| name.to_str())
        .collect();
    let is_block = |name: &str| name.to_ascii_lowercase().ends_with("xxx");
    let is_year = |name: &str| name.len() == 4 && name.bytes().all(|b| b.is_ascii_digit());
    match folders.as_slice() {
        [block, year, root, ..] if is_block(block) && is_year(year) => root.to_string(),
        [folder, ..] => folder.to_string(),
        [] => base.to_string(),
    }
}

/// The parts of a record that are checked; the containers are skipped unread.
#[derive(Deserialize)]
struct RecordHead {
    #[serde(rename = "dataType")]
    data_type: String,
    #[serde(rename = "cveMetadata")]
    metadata: Metadata,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(rename = "cveId")]
    cve_id: String,
    state: Option<String>,
}

pub(crate) fn validate(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    let head = Head::read(&file.path).map_err(FeedError::io(&file.path))?;
    let first_line = head.data_lines(&[]).next().unwrap_or("");
    // Only a JSON Lines file has a whole record on its first line. A first line longer than the
    // head also fails this test, so such a file is read as a stream of documents: every record
    // is still checked, but a line that is not JSON fails the file instead of being rejected.
    match serde_json::from_str::<IgnoredAny>(first_line) {
        Ok(_) => validate_lines(file, out),
        Err(_) => validate_document(file, out),
    }
}

fn validate_lines(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    for_each_line(file, out, |number, line, out| {
        if line.trim().is_empty() {
            return Ok(());
        }
        let checked = serde_json::from_str::<RecordHead>(line)
            .map_err(RecordError::Json)
            .and_then(|record| check_record(&record).map_err(RecordError::Value));
        match checked {
            Ok(()) => out.count_record(),
            Err(error) => out.reject(number, error),
        }
        Ok(())
    })
}

/// Reads one or more records from a document read whole, giving each rejected record the line
/// where it starts.
fn validate_document(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    let content = read_all(&file.path).map_err(FeedError::io(&file.path))?;
    out.set_lines(count_lines(&content));
    let mut values = serde_json::Deserializer::from_slice(&content).into_iter::<Value>();
    let mut line = 1;
    let mut counted_to = 0;
    loop {
        let before = values.byte_offset();
        let Some(value) = values.next() else {
            break;
        };
        let value = value.map_err(|error| json_error(&file.path, error))?;
        let start = before + leading_whitespace(&content[before..]);
        line += newlines(&content[counted_to..start]);
        counted_to = start;
        let checked = RecordHead::deserialize(&value)
            .map_err(RecordError::Json)
            .and_then(|record| check_record(&record).map_err(RecordError::Value));
        match checked {
            Ok(()) => out.count_record(),
            Err(error) => out.reject(line, error),
        }
    }
    Ok(())
}

fn leading_whitespace(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take_while(|byte| byte.is_ascii_whitespace())
        .count()
}

fn newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&byte| byte == b'\n').count() as u64
}

fn check_record(record: &RecordHead) -> Result<(), ValueError> {
    if record.data_type != "CVE_RECORD" {
        return Err(ValueError::field(
            "dataType",
            &record.data_type,
            "\"CVE_RECORD\"",
        ));
    }
    parse_cve(&record.metadata.cve_id)?;
    let state = record.metadata.state.as_deref().unwrap_or("");
    if state.trim().is_empty() {
        return Err(ValueError::field(
            "cveMetadata.state",
            state,
            "a record state such as PUBLISHED or REJECTED",
        ));
    }
    Ok(())
}

/// Reason a record is rejected.
#[derive(Debug, thiserror::Error)]
enum RecordError {
    #[error("invalid CVE JSON 5 record: {0}")]
    Json(serde_json::Error),
    #[error(transparent)]
    Value(ValueError),
}
