//! One module per feed format. Each has the same three parts:
//! - `matches`: recognises the format from a file's content (JSON formats are recognised in
//!   [`crate::detect`] from the document's top level);
//! - `source`: derives the [`SourceInfo`] from the content and, where the content cannot tell,
//!   the path;
//! - `parse`: streams the file and hands each record to the sink through an [`Emitter`], or for
//!   a kept file, `validate`: reads the file through and counts the entries that pass its checks.
//!
//! A module that reads two layouts of one feed (KEV as JSON and CSV, ThreatFox as CSV and JSON)
//! has these parts once per layout. Helpers shared by several formats live in `abuse_csv`
//! (abuse.ch's quoted CSV exports), `json_object` (top-level JSON objects read in file order)
//! and `threatfox_ioc` (one ThreatFox IOC, whatever the layout).

pub(crate) mod abuse_csv;
pub(crate) mod asn_csv;
pub(crate) mod cisa_kev;
pub(crate) mod cve_json5;
pub(crate) mod cve_list;
pub(crate) mod epss;
pub(crate) mod eset_tsv;
pub(crate) mod exploitdb;
pub(crate) mod feodo;
pub(crate) mod hash_list;
pub(crate) mod ip_list;
pub(crate) mod ipsum;
pub(crate) mod json_object;
pub(crate) mod maltrail;
pub(crate) mod maltrail_aliases;
pub(crate) mod malwarebazaar;
pub(crate) mod maxmind;
pub(crate) mod misp_event;
pub(crate) mod misp_galaxy;
pub(crate) mod misp_warninglist;
pub(crate) mod phishtank;
pub(crate) mod spamhaus_drop;
pub(crate) mod sslbl;
pub(crate) mod stix;
pub(crate) mod threatfox;
pub(crate) mod threatfox_csv;
pub(crate) mod threatfox_ioc;
pub(crate) mod threatfox_json;
pub(crate) mod url_list;
pub(crate) mod urlhaus_adblock;
pub(crate) mod urlhaus_csv;
pub(crate) mod urlhaus_domains;
pub(crate) mod vulnerability_aliases;

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
        Format::SslblCsv => sslbl::source(path, head),
        Format::Maltrail => maltrail::source(path),
        Format::UrlhausCsv => urlhaus_csv::source(),
        Format::UrlhausDomains => urlhaus_domains::source(head),
        Format::UrlhausAdblock => urlhaus_adblock::source(head),
        Format::PhishtankCsv => phishtank::source(),
        Format::UrlList => url_list::source(path),
        Format::HashList => hash_list::source(path),
        Format::EsetTsv => eset_tsv::source(),
        Format::ThreatfoxMd5 => threatfox::source(),
        Format::ThreatfoxCsv | Format::ThreatfoxJson => threatfox_ioc::source(),
        Format::MalwareBazaarCsv => malwarebazaar::source(),
        Format::MispWarninglist => misp_warninglist::source(path, json)?,
        Format::MispEvent => misp_event::source(path)?,
        Format::MaxMindDb => maxmind::source(path),
        Format::AsnCsv => asn_csv::source(head),
        Format::CisaKevJson | Format::CisaKevCsv => cisa_kev::source(),
        Format::CveJson5 => cve_json5::source(path),
        Format::CveList => cve_list::source(path),
        Format::VulnerabilityAliases => vulnerability_aliases::source(path),
        Format::EpssCsv => epss::source(head),
        Format::ExploitDbCsv => exploitdb::csv_source(),
        Format::ExploitDbCveMap => exploitdb::map_source(),
        Format::StixBundle => stix::source(path, head),
        Format::MispGalaxyCluster => misp_galaxy::cluster_source(json),
        Format::MispGalaxyDefinition => misp_galaxy::definition_source(json),
        Format::MaltrailAliases => maltrail_aliases::source(),
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
        Format::SslblCsv => sslbl::parse(file, out),
        Format::Maltrail => maltrail::parse(file, out),
        Format::UrlhausCsv => urlhaus_csv::parse(file, out),
        Format::UrlhausDomains => urlhaus_domains::parse(file, out),
        Format::UrlhausAdblock => urlhaus_adblock::parse(file, out),
        Format::PhishtankCsv => phishtank::parse(file, out),
        Format::UrlList => url_list::parse(file, out),
        Format::HashList => hash_list::parse(file, out),
        Format::EsetTsv => eset_tsv::parse(file, out),
        Format::ThreatfoxMd5 => threatfox::parse(file, out),
        Format::ThreatfoxCsv => threatfox_csv::parse(file, out),
        Format::ThreatfoxJson => threatfox_json::parse(file, out),
        Format::MalwareBazaarCsv => malwarebazaar::parse(file, out),
        Format::MispWarninglist => misp_warninglist::parse(file, out),
        Format::MispEvent => misp_event::parse(file, out),
        Format::AsnCsv => asn_csv::parse(file, out),
        kept => Err(FeedError::NotStreamable {
            path: file.path.clone(),
            format: kept.name(),
        }),
    }
}

/// Checks a kept file entry by entry, or parses a streamed one without keeping its records.
pub(crate) fn validate(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    match file.format {
        Format::MaxMindDb => maxmind::mmdb_info(&file.path).map(|_| ()),
        Format::CisaKevJson => cisa_kev::validate_json(file, out),
        Format::CisaKevCsv => cisa_kev::validate_csv(file, out),
        Format::CveJson5 => cve_json5::validate(file, out),
        Format::CveList => cve_list::validate(file, out),
        Format::VulnerabilityAliases => vulnerability_aliases::validate(file, out),
        Format::EpssCsv => epss::validate(file, out),
        Format::ExploitDbCsv => exploitdb::validate_csv(file, out),
        Format::ExploitDbCveMap => exploitdb::validate_map(file, out),
        Format::StixBundle => stix::validate(file, out),
        Format::MispGalaxyCluster => misp_galaxy::validate_cluster(file, out),
        Format::MispGalaxyDefinition => misp_galaxy::validate_definition(file, out),
        Format::MaltrailAliases => maltrail_aliases::validate(file, out),
        _ => parse(file, out),
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

/// Returns the file name without `.gz` and without one data extension (`.json`, `.jsonl`,
/// `.csv`, `.tsv`, `.txt`), so `vulnrichment-2024.jsonl.gz` gives `vulnrichment-2024`.
pub(crate) fn base_name(path: &Path) -> &str {
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("");
    let name = name.strip_suffix(".gz").unwrap_or(name);
    [".jsonl", ".json", ".csv", ".tsv", ".txt"]
        .iter()
        .find_map(|extension| name.strip_suffix(extension))
        .unwrap_or(name)
}

/// Turns a JSON error into a [`FeedError`]: a document that ends early (a cut-short download or
/// gzip stream) is incomplete, any other error makes it malformed at the error's line.
pub(crate) fn json_error(path: &Path, error: serde_json::Error) -> FeedError {
    let cut_short = error.io_error_kind() == Some(std::io::ErrorKind::UnexpectedEof);
    if error.is_eof() || cut_short {
        return FeedError::Incomplete {
            path: path.to_path_buf(),
            reason: format!("the JSON document ends early ({error})"),
        };
    }
    let line = Some(error.line() as u64).filter(|line| *line > 0);
    FeedError::malformed(path, line, format!("invalid JSON: {error}"))
}
