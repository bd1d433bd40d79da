//! One module per feed format. Each has the same three parts:
//! - `matches`: recognises the format from a file's content (JSON formats are recognised in
//!   [`crate::detect`] from the document's top level);
//! - `source`: derives the [`SourceInfo`] from the content and, where the content cannot tell,
//!   the path;
//! - `parse`: streams the file and hands each record to the sink through an [`Emitter`].

pub(crate) mod asn_csv;
pub(crate) mod eset_tsv;
pub(crate) mod feodo;
pub(crate) mod hash_list;
pub(crate) mod ip_list;
pub(crate) mod ipsum;
pub(crate) mod maltrail;
pub(crate) mod maxmind;
pub(crate) mod misp_event;
pub(crate) mod misp_warninglist;
pub(crate) mod phishtank;
pub(crate) mod spamhaus_drop;
pub(crate) mod threatfox;
pub(crate) mod urlhaus_adblock;
pub(crate) mod urlhaus_csv;
pub(crate) mod urlhaus_domains;

use std::path::Path;

use crate::error::{FeedError, UnsupportedReason};
use crate::input::Head;
use crate::json_shape::JsonShape;
use crate::sink::Emitter;
use crate::source::{FeedFile, Format, SourceInfo};

/// Derives the source of a file of a detected format.
pub(crate) fn source(
    format: Format,
    path: &Path,
    head: &Head,
    json: Option<&JsonShape>,
) -> Result<SourceInfo, UnsupportedReason> {
    let source = match format {
        Format::Ipsum => ipsum::source(),
        Format::IpList => ip_list::source(path, head),
        Format::SpamhausDrop => spamhaus_drop::source(head),
        Format::FeodoCsv => feodo::source(),
        Format::Maltrail => maltrail::source(path),
        Format::UrlhausCsv => urlhaus_csv::source(),
        Format::UrlhausDomains => urlhaus_domains::source(head),
        Format::UrlhausAdblock => urlhaus_adblock::source(head),
        Format::PhishtankCsv => phishtank::source(),
        Format::HashList => hash_list::source(path),
        Format::EsetTsv => eset_tsv::source(),
        Format::ThreatfoxMd5 => threatfox::source(),
        Format::MispWarninglist => misp_warninglist::source(path, json)?,
        Format::MispEvent => misp_event::source(path)?,
        Format::MaxMindDb => maxmind::source(path),
        Format::AsnCsv => asn_csv::source(head),
    };
    Ok(source)
}

/// Streams a file through the parser of its format.
pub(crate) fn parse(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    match file.format {
        Format::Ipsum => ipsum::parse(file, out),
        Format::IpList => ip_list::parse(file, out),
        Format::SpamhausDrop => spamhaus_drop::parse(file, out),
        Format::FeodoCsv => feodo::parse(file, out),
        Format::Maltrail => maltrail::parse(file, out),
        Format::UrlhausCsv => urlhaus_csv::parse(file, out),
        Format::UrlhausDomains => urlhaus_domains::parse(file, out),
        Format::UrlhausAdblock => urlhaus_adblock::parse(file, out),
        Format::PhishtankCsv => phishtank::parse(file, out),
        Format::HashList => hash_list::parse(file, out),
        Format::EsetTsv => eset_tsv::parse(file, out),
        Format::ThreatfoxMd5 => threatfox::parse(file, out),
        Format::MispWarninglist => misp_warninglist::parse(file, out),
        Format::MispEvent => misp_event::parse(file, out),
        Format::MaxMindDb => Err(FeedError::NotStreamable {
            path: file.path.clone(),
            format: "MaxMind DB",
        }),
        Format::AsnCsv => asn_csv::parse(file, out),
    }
}

/// Returns the value of `Key:` in a comment header whose lines look like `<prefix> Key: value`,
/// searching the first 30 lines.
pub(crate) fn header_value<'a>(head: &'a Head, prefix: &str, key: &str) -> Option<&'a str> {
    head.lines().take(30).find_map(|line| {
        let rest = line.strip_prefix(prefix)?.trim_start();
        let value = rest.strip_prefix(key)?.strip_prefix(':')?;
        Some(value.trim())
    })
}

/// Returns the file name's stem, or an empty string.
pub(crate) fn file_stem(path: &Path) -> &str {
    path.file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or("")
}

/// Returns the name of the folder that contains the file, or an empty string.
pub(crate) fn parent_name(path: &Path) -> &str {
    path.parent()
        .and_then(Path::file_name)
        .and_then(|name| name.to_str())
        .unwrap_or("")
}

/// Returns the lower-case names of the folders above the file, nearest first.
pub(crate) fn folder_names(path: &Path) -> Vec<String> {
    path.ancestors()
        .skip(1)
        .filter_map(Path::file_name)
        .filter_map(|name| name.to_str())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Finds the position of each named column in a CSV header row, ignoring case and surrounding
/// spaces. Returns the first missing name as the error.
pub(crate) fn column_positions<const N: usize>(
    header: &[&str],
    names: [&'static str; N],
) -> Result<[usize; N], &'static str> {
    let mut positions = [0; N];
    for (slot, name) in positions.iter_mut().zip(names) {
        *slot = header
            .iter()
            .position(|column| {
                column
                    .trim()
                    .trim_start_matches("# ")
                    .eq_ignore_ascii_case(name)
            })
            .ok_or(name)?;
    }
    Ok(positions)
}

/// Returns the field at `position`, or an error naming the field count of a short record.
pub(crate) fn field<'a>(
    fields: &[&'a str],
    position: usize,
    expected: usize,
) -> Result<&'a str, crate::values::ValueError> {
    fields
        .get(position)
        .map(|value| value.trim())
        .ok_or(crate::values::ValueError::FieldCount {
            expected,
            found: fields.len(),
        })
}
