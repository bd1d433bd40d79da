//! Format detection from a file's content: the gzip-decompressed head for text formats, the top
//! level of the document for JSON, the metadata marker for MaxMind DB. File names play no part.

use std::path::Path;

use crate::error::UnsupportedReason;
use crate::formats::{
    asn_csv, eset_tsv, feodo, hash_list, ip_list, ipsum, maltrail, maxmind, phishtank, threatfox,
    urlhaus_adblock, urlhaus_csv, urlhaus_domains,
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
    (urlhaus_csv::matches, Format::UrlhausCsv),
    (phishtank::matches, Format::PhishtankCsv),
    (urlhaus_domains::matches, Format::UrlhausDomains),
    (urlhaus_adblock::matches, Format::UrlhausAdblock),
    (threatfox::matches, Format::ThreatfoxMd5),
    (eset_tsv::matches, Format::EsetTsv),
];

/// Text formats recognised by the shape of their lines alone, tried after the header formats.
const SHAPE_FORMATS: &[Recogniser] = &[
    (asn_csv::matches, Format::AsnCsv),
    (hash_list::matches, Format::HashList),
    (ip_list::matches, Format::IpList),
];

pub(crate) fn detect(path: &Path, head: &Head) -> Result<Detected, UnsupportedReason> {
    if head.is_blank() {
        return Err(UnsupportedReason::Empty);
    }
    let Some(text) = head.text() else {
        let is_mmdb = maxmind::has_metadata_marker(path).map_err(UnsupportedReason::Unreadable)?;
        return match is_mmdb {
            true => Ok(Detected::plain(Format::MaxMindDb)),
            false => Err(UnsupportedReason::Binary),
        };
    };
    if text.trim_start().starts_with(['{', '[']) {
        return detect_json(path, head);
    }
    detect_text(head).map(Detected::plain)
}

fn detect_text(head: &Head) -> Result<Format, UnsupportedReason> {
    if let Some((_, format)) = HEADER_FORMATS.iter().find(|(matches, _)| matches(head)) {
        return Ok(*format);
    }
    if let Some(reason) = recognised_text(head) {
        return Err(reason);
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

const VULNERABILITY_DATA: &str = "vulnerability data";

/// Text formats that are known but not imported.
fn recognised_text(head: &Head) -> Option<UnsupportedReason> {
    let header = head.data_lines(&['#']).next().unwrap_or("");
    let not_imported = |format, data| Some(UnsupportedReason::NotImported { format, data });
    if header == "info\tcategory\taliases" {
        return not_imported("maltrail aliases table", "family alias data");
    }
    if header.starts_with("cveID,vendorProject,product") {
        return not_imported("CISA KEV catalog", VULNERABILITY_DATA);
    }
    if header.starts_with("CVE,CVSS3,EPSS") || header.starts_with("cve,epss,percentile") {
        return not_imported("EPSS scores CSV", VULNERABILITY_DATA);
    }
    if header.starts_with("id,file,description,date_published") {
        return not_imported("Exploit-DB exploit index", VULNERABILITY_DATA);
    }
    let mut ids = head.data_lines(&['#']).take(50).peekable();
    if ids.peek().is_some() && ids.all(is_cve_id) {
        return not_imported("list of CVE ids", VULNERABILITY_DATA);
    }
    None
}

fn is_cve_id(text: &str) -> bool {
    let Some(rest) = text.trim().strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, number)) = rest.split_once('-') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    year.len() == 4 && digits(year) && number.len() >= 4 && digits(number)
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
    if is_stix_bundle(text) {
        return Err(UnsupportedReason::NotImported {
            format: "STIX 2 bundle (MITRE ATT&CK)",
            data: "ATT&CK and other STIX knowledge",
        });
    }
    let first_line = head.data_lines(&[]).next().unwrap_or("");
    if let Ok(shape) = serde_json::from_str::<JsonShape>(first_line)
        && shape.has("cidr")
        && shape.has("sblid")
    {
        return Ok(Detected::plain(Format::SpamhausDrop));
    }
    let reader = input::open(path).map_err(UnsupportedReason::Unreadable)?;
    let shape = JsonShape::read(reader)
        .map_err(|error| UnsupportedReason::InvalidJson(error.to_string()))?;
    let format = classify_json(&shape, text)?;
    Ok(Detected {
        format,
        json: Some(shape),
    })
}

/// Recognises a STIX bundle from its head, so the bundle (tens of megabytes for ATT&CK) is not
/// read through.
fn is_stix_bundle(text: &str) -> bool {
    let start: String = text
        .chars()
        .take(400)
        .filter(|c| !c.is_whitespace())
        .collect();
    start.contains("\"type\":\"bundle\"") && text.contains("\"objects\"")
}

fn classify_json(shape: &JsonShape, head: &str) -> Result<Format, UnsupportedReason> {
    let not_imported = |format, data| Err(UnsupportedReason::NotImported { format, data });
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
        return not_imported("CVE JSON 5 record", VULNERABILITY_DATA);
    }
    if shape.has("catalogVersion") && shape.has("vulnerabilities") {
        return not_imported("CISA KEV catalog", VULNERABILITY_DATA);
    }
    if shape.has("$schema") {
        return Err(UnsupportedReason::Schema);
    }

    let knowledge = "actor and malware knowledge";
    if shape.has("values") && shape.has("uuid") && (shape.has("authors") || shape.has("category")) {
        return not_imported("MISP galaxy cluster file", knowledge);
    }
    if shape.has("namespace") && shape.has("uuid") && shape.has("type") {
        return not_imported("MISP galaxy definition", knowledge);
    }

    if !shape.keys.is_empty() && shape.keys.iter().take(50).all(|key| is_cve_id(key)) {
        return not_imported("CVE to Exploit-DB id map", VULNERABILITY_DATA);
    }
    Err(UnsupportedReason::UnknownJson {
        keys: shape.keys_summary(),
    })
}
