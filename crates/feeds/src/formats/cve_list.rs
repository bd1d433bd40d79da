//! Plain lists of CVE ids, kept whole.
//!
//! Format: one CVE id (`CVE-2024-3400`) per line; blank lines and lines starting with `#` are
//! skipped. Such lists name a subset of vulnerabilities, such as the KEV CVEs present in a
//! snapshot of CVE records. The file is kept for vulnerability search; [`validate`] counts the
//! ids and rejects any other line. Source `cve-list/<file name>`, with the file name as
//! provider because the list does not name its origin.

use std::path::Path;

use tiq_model::indicator::parse_cve;

use crate::error::FeedError;
use crate::formats::base_name;
use crate::input::{Head, for_each_line};
use crate::sink::Emitter;
use crate::source::{FeedFile, SourceInfo};
use crate::values::slug;

/// Returns whether every one of the first 50 entries is a CVE id.
pub(crate) fn matches(head: &Head) -> bool {
    let mut ids = head.data_lines(&['#']).take(50).peekable();
    ids.peek().is_some() && ids.all(is_cve_id)
}

/// Returns whether `text` is a CVE id in its canonical spelling, `CVE-YYYY-NNNN` with four or
/// more digits at the end. Detection is strict; validation accepts any case.
pub(crate) fn is_cve_id(text: &str) -> bool {
    let Some(rest) = text.trim().strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, number)) = rest.split_once('-') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    year.len() == 4 && digits(year) && number.len() >= 4 && digits(number)
}

pub(crate) fn source(path: &Path) -> SourceInfo {
    let name = format!("cve-list/{}", slug(base_name(path)));
    let title = format!("CVE id list {}", base_name(path));
    SourceInfo::new(name.clone(), name, title, None)
}

pub(crate) fn validate(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    for_each_line(file, out, |number, line, out| {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return Ok(());
        }
        match parse_cve(line) {
            Ok(_) => out.count_record(),
            Err(error) => out.reject(number, error),
        }
        Ok(())
    })
}
