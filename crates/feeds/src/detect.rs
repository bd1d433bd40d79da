//! Format detection from a file's content: the gzip-decompressed head for text formats, the top
//! level of the document for JSON, the metadata marker for MaxMind DB. File names play no part.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::UnsupportedReason;
use crate::formats::{
    asn_csv, cisa_kev, cve_list, epss, eset_tsv, exploitdb, feodo, hash_list, ip_list, ipsum,
    maltrail, maltrail_aliases, malwarebazaar, maxmind, phishtank, sslbl, stix, threatfox,
    threatfox_csv, threatfox_json, url_list, urlhaus_adblock, urlhaus_csv, urlhaus_domains,
    vulnerability_aliases,
};
use crate::input::{self, Head};
use crate::json_shape::JsonShape;
use crate::source::Format;

/// A detected format, with the JSON top level when detection read it.
pub(crate) struct Detected {
    pub format: Format,
    pub json: Option<JsonShape>,
}

impl Detected {
    fn plain(format: Format) -> Detected {
        Detected { format, json: None }
    }
}

/// A content test and the format it recognises.
type Recogniser = (fn(&Head) -> bool, Format);

/// Text formats recognised by a header or a column line, tried in this order.
const HEADER_FORMATS: &[Recogniser] = &[
    (ipsum::matches, Format::Ipsum),
    (maltrail::matches, Format::Maltrail),
    (feodo::matches, Format::FeodoCsv),
    (sslbl::matches, Format::SslblCsv),
    (urlhaus_csv::matches, Format::UrlhausCsv),
    (phishtank::matches, Format::PhishtankCsv),
    (urlhaus_domains::matches, Format::UrlhausDomains),
    (urlhaus_adblock::matches, Format::UrlhausAdblock),
    (threatfox::matches, Format::ThreatfoxMd5),
    (threatfox_csv::matches, Format::ThreatfoxCsv),
    (malwarebazaar::matches, Format::MalwareBazaarCsv),
    (eset_tsv::matches, Format::EsetTsv),
    (maltrail_aliases::matches, Format::MaltrailAliases),
    (cisa_kev::matches_csv, Format::CisaKevCsv),
    (epss::matches, Format::EpssCsv),
    (exploitdb::matches_csv, Format::ExploitDbCsv),
    (cve_list::matches, Format::CveList),
    (vulnerability_aliases::matches, Format::VulnerabilityAliases),
];

/// Text formats recognised by the shape of their lines alone, tried after the header formats.
const SHAPE_FORMATS: &[Recogniser] = &[
    (asn_csv::matches, Format::AsnCsv),
    (hash_list::matches, Format::HashList),
    (ip_list::matches, Format::IpList),
    (url_list::matches, Format::UrlList),
];

/// The first bytes of a zip archive (a local file header).
const ZIP_MAGIC: [u8; 4] = *b"PK\x03\x04";

pub(crate) fn detect(path: &Path, head: &Head) -> Result<Detected, UnsupportedReason> {
    if head.is_blank() {
        return Err(UnsupportedReason::Empty);
    }
    let Some(text) = head.text() else {
        return detect_binary(path);
    };
    if is_html(head) {
        return Err(UnsupportedReason::HtmlPage);
    }
    if text.trim_start().starts_with(['{', '[']) {
        return detect_json(path, head);
    }
    detect_text(head).map(Detected::plain)
}

fn detect_binary(path: &Path) -> Result<Detected, UnsupportedReason> {
    let mut start = [0; 4];
    let read = File::open(path)
        .and_then(|mut file| file.read(&mut start))
        .map_err(UnsupportedReason::Unreadable)?;
    if read == start.len() && start == ZIP_MAGIC {
        return Err(UnsupportedReason::ZipArchive);
    }
    let is_mmdb = maxmind::has_metadata_marker(path).map_err(UnsupportedReason::Unreadable)?;
    match is_mmdb {
        true => Ok(Detected::plain(Format::MaxMindDb)),
        false => Err(UnsupportedReason::Binary),
    }
}

/// Returns whether the head is an HTML page: a doctype or `<html>` tag within its first lines,
/// after an optional XML declaration.
fn is_html(head: &Head) -> bool {
    head.data_lines(&[]).take(3).any(|line| {
        let start: String = line.chars().take(14).collect();
        let start = start.to_ascii_lowercase();
        start.starts_with("<!doctype html") || start.starts_with("<html")
    })
}

fn detect_text(head: &Head) -> Result<Format, UnsupportedReason> {
    if let Some((_, format)) = HEADER_FORMATS.iter().find(|(matches, _)| matches(head)) {
        return Ok(*format);
    }
    if let Some((_, format)) = SHAPE_FORMATS.iter().find(|(matches, _)| matches(head)) {
        return Ok(*format);
    }
    if is_prose(head) {
        return Err(UnsupportedReason::Documentation);
    }
    Err(UnsupportedReason::UnknownText {
        first_line: head.first_line().chars().take(80).collect(),
    })
}

/// Returns whether the text reads as prose: at least 40 % of its first 50 non-blank lines have
/// four or more words. Feeds have one value or one record per line.
fn is_prose(head: &Head) -> bool {
    let lines: Vec<&str> = head.data_lines(&[]).take(50).collect();
    let wordy = lines
        .iter()
        .filter(|line| line.split_whitespace().count() >= 4)
        .count();
    !lines.is_empty() && wordy * 10 >= lines.len() * 4
}

fn detect_json(path: &Path, head: &Head) -> Result<Detected, UnsupportedReason> {
    let text = head.text().unwrap_or("");
    if stix::matches(text) {
        return Ok(Detected::plain(Format::StixBundle));
    }
    let first_line = head.data_lines(&[]).next().unwrap_or("");
    if let Ok(shape) = serde_json::from_str::<JsonShape>(first_line)
        && shape.has("cidr")
        && shape.has("sblid")
    {
        return Ok(Detected::plain(Format::SpamhausDrop));
    }
    let reader = input::open(path).map_err(UnsupportedReason::Unreadable)?;
    let shape = JsonShape::read(reader).map_err(invalid_json)?;
    let format = classify_json(&shape, text)?;
    Ok(Detected {
        format,
        json: Some(shape),
    })
}

/// Reports a JSON document that cannot be read, separating a gzip stream cut short from text
/// that is not JSON.
fn invalid_json(error: serde_json::Error) -> UnsupportedReason {
    match error.io_error_kind() {
        Some(std::io::ErrorKind::UnexpectedEof) => UnsupportedReason::Truncated(error.into()),
        _ => UnsupportedReason::InvalidJson(error.to_string()),
    }
}

fn classify_json(shape: &JsonShape, head: &str) -> Result<Format, UnsupportedReason> {
    if shape.has("Event") || (shape.has("response") && head.contains("\"Event\"")) {
        return Ok(Format::MispEvent);
    }
    if shape.has("list")
        && shape.has("type")
        && (shape.has("matching_attributes") || shape.has("name"))
    {
        return Ok(Format::MispWarninglist);
    }

    if shape.string("dataType") == Some("CVE_RECORD") {
        return Ok(Format::CveJson5);
    }
    if shape.has("catalogVersion") && shape.has("vulnerabilities") {
        return Ok(Format::CisaKevJson);
    }
    if shape.has("$schema") {
        return Err(UnsupportedReason::Schema);
    }

    if shape.has("values") && shape.has("uuid") && (shape.has("authors") || shape.has("category")) {
        return Ok(Format::MispGalaxyCluster);
    }
    if shape.has("namespace") && shape.has("uuid") && shape.has("type") {
        return Ok(Format::MispGalaxyDefinition);
    }

    if threatfox_json::matches(shape, head) {
        return Ok(Format::ThreatfoxJson);
    }
    if exploitdb::matches_map(shape) {
        return Ok(Format::ExploitDbCveMap);
    }
    Err(UnsupportedReason::UnknownJson {
        keys: shape.keys_summary(),
    })
}
