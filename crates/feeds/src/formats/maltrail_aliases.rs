//! Maltrail's family aliases, kept whole.
//!
//! Feed: derived from the `# Aliases:` headers of the Maltrail static trails
//! (<https://github.com/stamparm/maltrail>, MIT). Format: tab-separated
//! `info<TAB>category<TAB>aliases` with that header line, one row per trail file: the family,
//! its Maltrail category, and its other names separated by `, `.
//!
//! The file is kept for family knowledge; [`validate`] counts the rows and rejects a row without
//! three fields or without a family. Source `maltrail/aliases`, provider `maltrail`, the same
//! provider as the trails it describes.

use crate::error::FeedError;
use crate::input::{Head, for_each_line};
use crate::sink::Emitter;
use crate::source::{FeedFile, SourceInfo};
use crate::values::ValueError;

const HEADER: &str = "info\tcategory\taliases";

pub(crate) fn matches(head: &Head) -> bool {
    head.data_lines(&['#']).next() == Some(HEADER)
}

pub(crate) fn source() -> SourceInfo {
    SourceInfo::new(
        "maltrail/aliases",
        "maltrail",
        "Maltrail family aliases",
        Some("https://github.com/stamparm/maltrail"),
    )
}

pub(crate) fn validate(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    for_each_line(file, out, |number, line, out| {
        if line.trim().is_empty() || line.starts_with('#') || line.trim() == HEADER {
            return Ok(());
        }
        match check_row(line) {
            Ok(()) => out.count_record(),
            Err(error) => out.reject(number, error),
        }
        Ok(())
    })
}

fn check_row(line: &str) -> Result<(), ValueError> {
    let fields: Vec<&str> = line.split('\t').collect();
    let [family, _category, _aliases] = fields[..] else {
        return Err(ValueError::FieldCount {
            expected: 3,
            found: fields.len(),
        });
    };
    if family.trim().is_empty() {
        return Err(ValueError::field("info", family, "a family name"));
    }
    Ok(())
}
