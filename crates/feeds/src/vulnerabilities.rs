//! Readers for the vulnerability files that are kept whole: CVE JSON 5 records, the CISA KEV
//! catalog, EPSS scores, Exploit-DB's CVE references and CNVD or CNNVD to CVE alias tables.
//!
//! Import only validates these files ([`validate`](crate::validate)); the engine reads them
//! with the functions here when it builds its vulnerability index. Entries that validation
//! would reject are skipped.

use std::collections::BTreeMap;
use std::io::{BufRead, Read};
use std::path::Path;

use serde_json::Value;
use tiq_model::indicator::parse_cve;

use crate::error::FeedError;
use crate::formats::json_error;
use crate::input::{open, read_all, split_csv_line};

/// The parts of a CVE JSON 5 record the vulnerability search uses, from the CNA container and
/// every ADP container (CISA's vulnrichment adds CVSS, CWE, SSVC and KEV there).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CveRecord {
    /// Upper-case CVE id.
    pub id: String,
    /// `PUBLISHED` or `REJECTED`.
    pub state: String,
    pub published: Option<String>,
    pub updated: Option<String>,
    pub title: Option<String>,
    /// The English description, or the first one.
    pub description: String,
    /// CVSS v3.x of the CNA, else of an ADP container.
    pub cvss: Option<Cvss>,
    pub cwes: Vec<String>,
    /// `affected` entries of the CNA and the ADP containers, as written.
    pub affected: Vec<Value>,
    /// `(url, tags)` of each reference.
    pub references: Vec<(String, Vec<String>)>,
    /// The English texts of `solutions`.
    pub solutions: Vec<String>,
    /// The English texts of `workarounds`.
    pub workarounds: Vec<String>,
    /// SSVC decision points of an ADP container: `Exploitation` (none, poc, active) and
    /// `Automatable` (yes, no), in lower case.
    pub ssvc_exploitation: Option<String>,
    pub ssvc_automatable: Option<String>,
    /// The date CISA added the CVE to KEV, as an ADP container states it.
    pub kev_date_added: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cvss {
    pub version: String,
    pub score: f64,
    pub vector: String,
    /// Lower case: `critical`, `high`, `medium`, `low` or `none`.
    pub severity: String,
}

/// Calls `visit` with every record of a CVE JSON 5 file: one record, or JSON Lines of records
/// (plain or gzip). JSON Lines are streamed, so a large collection is not held in memory.
pub fn read_cve_records(path: &Path, visit: &mut dyn FnMut(CveRecord)) -> Result<(), FeedError> {
    let mut reader = open(path).map_err(FeedError::io(path))?;
    let mut first = String::new();
    while first.trim().is_empty() {
        first.clear();
        if reader.read_line(&mut first).map_err(FeedError::io(path))? == 0 {
            return Ok(());
        }
    }
    // A record on one line starts JSON Lines; a pretty-printed record spans many lines.
    if let Ok(value) = serde_json::from_str::<Value>(&first) {
        if let Some(record) = cve_record(&value) {
            visit(record);
        }
        for line in reader.lines() {
            let line = line.map_err(FeedError::io(path))?;
            if let Some(record) = serde_json::from_str::<Value>(&line)
                .ok()
                .as_ref()
                .and_then(cve_record)
            {
                visit(record);
            }
        }
        return Ok(());
    }
    let mut text = first;
    reader
        .read_to_string(&mut text)
        .map_err(FeedError::io(path))?;
    let value: Value = serde_json::from_str(&text).map_err(|error| json_error(path, error))?;
    if let Some(record) = cve_record(&value) {
        visit(record);
    }
    Ok(())
}

fn cve_record(value: &Value) -> Option<CveRecord> {
    if value.get("dataType")?.as_str()? != "CVE_RECORD" {
        return None;
    }
    let metadata = value.get("cveMetadata")?;
    let id = parse_cve(metadata.get("cveId")?.as_str()?).ok()?;
    let text =
        |value: &Value, key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
    let cna = value
        .pointer("/containers/cna")
        .cloned()
        .unwrap_or(Value::Null);
    let adps: Vec<&Value> = value
        .pointer("/containers/adp")
        .and_then(Value::as_array)
        .map(|list| list.iter().collect())
        .unwrap_or_default();
    let containers: Vec<&Value> = std::iter::once(&cna).chain(adps.iter().copied()).collect();

    let mut record = CveRecord {
        id,
        state: text(metadata, "state").unwrap_or_default(),
        published: text(metadata, "datePublished"),
        updated: text(metadata, "dateUpdated"),
        title: text(&cna, "title").filter(|t| !t.trim().is_empty()),
        description: english_texts(cna.get("descriptions"))
            .into_iter()
            .next()
            .or_else(|| english_texts(cna.get("rejectedReasons")).into_iter().next())
            .unwrap_or_default(),
        cvss: containers
            .iter()
            .find_map(|c| cvss_of(c, &["cvssV3_1", "cvssV3_0"]))
            .or_else(|| containers.iter().find_map(|c| cvss_of(c, &["cvssV4_0"]))),
        solutions: english_texts(cna.get("solutions")),
        workarounds: english_texts(cna.get("workarounds")),
        ..CveRecord::default()
    };
    // The CNA's affected entries are the vendor's own. CISA's ADP container often adds
    // entries with a bare `*` version, which would mark every release as affected, so ADP
    // entries are read only when the CNA gives none, and bare `*` entries never.
    let cna_affected: Vec<Value> = array(cna.get("affected")).cloned().collect();
    record.affected = if cna_affected.is_empty() {
        adps.iter()
            .flat_map(|adp| array(adp.get("affected")))
            .filter(|entry| !only_any_version(entry))
            .cloned()
            .collect()
    } else {
        cna_affected
    };
    for container in &containers {
        for problem in array(container.get("problemTypes")) {
            for description in array(problem.get("descriptions")) {
                if let Some(cwe) = description.get("cweId").and_then(Value::as_str)
                    && !record.cwes.iter().any(|known| known == cwe)
                {
                    record.cwes.push(cwe.to_string());
                }
            }
        }
        for reference in array(container.get("references")) {
            let Some(url) = reference.get("url").and_then(Value::as_str) else {
                continue;
            };
            if record.references.iter().any(|(known, _)| known == url) {
                continue;
            }
            let tags = array(reference.get("tags"))
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect();
            record.references.push((url.to_string(), tags));
        }
        for metric in array(container.get("metrics")) {
            let Some(other) = metric.get("other") else {
                continue;
            };
            match other.get("type").and_then(Value::as_str) {
                Some("ssvc") => {
                    for option in array(other.pointer("/content/options")) {
                        if let Some(value) = option.get("Exploitation").and_then(Value::as_str) {
                            record.ssvc_exploitation = Some(value.to_ascii_lowercase());
                        }
                        if let Some(value) = option.get("Automatable").and_then(Value::as_str) {
                            record.ssvc_automatable = Some(value.to_ascii_lowercase());
                        }
                    }
                }
                Some("kev") => {
                    record.kev_date_added = other
                        .pointer("/content/dateAdded")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                }
                _ => {}
            }
        }
    }
    Some(record)
}

/// Whether every version entry of an affected entry is a bare `*` with no bounds.
fn only_any_version(entry: &Value) -> bool {
    let versions: Vec<&Value> = array(entry.get("versions")).collect();
    !versions.is_empty()
        && versions.iter().all(|v| {
            v.get("version").and_then(Value::as_str) == Some("*")
                && v.get("lessThan").is_none()
                && v.get("lessThanOrEqual").is_none()
        })
}

fn array(value: Option<&Value>) -> impl Iterator<Item = &Value> {
    value.and_then(Value::as_array).into_iter().flatten()
}

/// Returns the `value` texts of a list of `{lang, value}` entries, English ones first.
fn english_texts(list: Option<&Value>) -> Vec<String> {
    let mut texts: Vec<(bool, String)> = array(list)
        .filter_map(|entry| {
            let value = entry.get("value")?.as_str()?.trim();
            let lang = entry.get("lang").and_then(Value::as_str).unwrap_or("en");
            (!value.is_empty()).then(|| (!lang.starts_with("en"), value.to_string()))
        })
        .collect();
    texts.sort_by_key(|(other, _)| *other);
    texts.into_iter().map(|(_, value)| value).collect()
}

/// Returns the first CVSS metric of a container under one of `keys`, in key order.
fn cvss_of(container: &Value, keys: &[&str]) -> Option<Cvss> {
    array(container.get("metrics")).find_map(|metric| {
        let data = keys.iter().find_map(|key| metric.get(*key))?;
        let score = data.get("baseScore")?.as_f64()?;
        Some(Cvss {
            version: data
                .get("version")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            score,
            vector: data
                .get("vectorString")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            severity: data
                .get("baseSeverity")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase)
                .unwrap_or_else(|| severity_of(score).to_string()),
        })
    })
}

/// Returns the CVSS v3 qualitative rating of a base score.
pub fn severity_of(score: f64) -> &'static str {
    match score {
        s if s >= 9.0 => "critical",
        s if s >= 7.0 => "high",
        s if s >= 4.0 => "medium",
        s if s > 0.0 => "low",
        _ => "none",
    }
}

/// One entry of the CISA KEV catalog.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KevEntry {
    pub cve: String,
    pub vendor: String,
    pub product: String,
    pub name: String,
    pub description: String,
    pub date_added: String,
    pub due_date: String,
    pub required_action: String,
    /// `Known` or `Unknown`, as CISA writes it.
    pub ransomware_use: String,
    pub notes: String,
    pub cwes: Vec<String>,
}

/// Reads the CISA KEV catalog, as JSON or as CSV.
pub fn read_kev(path: &Path) -> Result<Vec<KevEntry>, FeedError> {
    let content = read_all(path).map_err(FeedError::io(path))?;
    let first = content.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        let catalog: Value =
            serde_json::from_slice(&content).map_err(|error| json_error(path, error))?;
        let text = |entry: &Value, key: &str| {
            entry
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim()
                .to_string()
        };
        return Ok(array(catalog.get("vulnerabilities"))
            .filter_map(|entry| {
                Some(KevEntry {
                    cve: parse_cve(entry.get("cveID")?.as_str()?).ok()?,
                    vendor: text(entry, "vendorProject"),
                    product: text(entry, "product"),
                    name: text(entry, "vulnerabilityName"),
                    description: text(entry, "shortDescription"),
                    date_added: text(entry, "dateAdded"),
                    due_date: text(entry, "dueDate"),
                    required_action: text(entry, "requiredAction"),
                    ransomware_use: text(entry, "knownRansomwareCampaignUse"),
                    notes: text(entry, "notes"),
                    cwes: array(entry.get("cwes"))
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect(),
                })
            })
            .collect());
    }
    let rows = csv_rows(path)?;
    let Some((header, rows)) = rows.split_first() else {
        return Ok(Vec::new());
    };
    let column = |name: &str| header.iter().position(|h| h == name);
    let columns = [
        "cveID",
        "vendorProject",
        "product",
        "vulnerabilityName",
        "dateAdded",
        "shortDescription",
        "requiredAction",
        "dueDate",
        "knownRansomwareCampaignUse",
        "notes",
        "cwes",
    ]
    .map(column);
    let field = |row: &[String], index: usize| {
        columns[index]
            .and_then(|at| row.get(at))
            .map(|value| value.trim().to_string())
            .unwrap_or_default()
    };
    Ok(rows
        .iter()
        .filter_map(|row| {
            Some(KevEntry {
                cve: parse_cve(&field(row, 0)).ok()?,
                vendor: field(row, 1),
                product: field(row, 2),
                name: field(row, 3),
                date_added: field(row, 4),
                description: field(row, 5),
                required_action: field(row, 6),
                due_date: field(row, 7),
                ransomware_use: field(row, 8),
                notes: field(row, 9),
                cwes: field(row, 10)
                    .split(',')
                    .map(str::trim)
                    .filter(|cwe| !cwe.is_empty())
                    .map(str::to_string)
                    .collect(),
            })
        })
        .collect())
}

/// One row of an EPSS file, with the CVSS score, description, vendor and product that some
/// redistributions add.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EpssEntry {
    pub cve: String,
    pub epss: f64,
    pub percentile: f64,
    pub cvss: Option<f64>,
    pub description: Option<String>,
    pub vendor: Option<String>,
    pub product: Option<String>,
}

/// Reads an EPSS CSV: FIRST's daily file (`cve,epss,percentile` after a `#model_version`
/// comment) or a redistribution with `CVE,CVSS3,EPSS,EPSS Percentile,…` columns.
pub fn read_epss(path: &Path) -> Result<Vec<EpssEntry>, FeedError> {
    let rows = csv_rows(path)?;
    let Some((header, rows)) = rows.split_first() else {
        return Ok(Vec::new());
    };
    let lower: Vec<String> = header.iter().map(|h| h.to_ascii_lowercase()).collect();
    let column = |names: &[&str]| lower.iter().position(|h| names.contains(&h.as_str()));
    let (Some(cve), Some(epss), Some(percentile)) = (
        column(&["cve"]),
        column(&["epss"]),
        column(&["percentile", "epss percentile"]),
    ) else {
        return Ok(Vec::new());
    };
    let cvss = column(&["cvss3", "cvss"]);
    let description = column(&["description"]);
    let vendor = column(&["vendor"]);
    let product = column(&["product"]);
    let text = |row: &[String], at: Option<usize>| {
        at.and_then(|at| row.get(at))
            .map(|value| value.trim().to_string())
            .filter(|value| !value.is_empty())
    };
    Ok(rows
        .iter()
        .filter_map(|row| {
            Some(EpssEntry {
                cve: parse_cve(row.get(cve)?).ok()?,
                epss: row.get(epss)?.trim().parse().ok()?,
                percentile: row.get(percentile)?.trim().parse().ok()?,
                cvss: text(row, cvss).and_then(|v| v.parse().ok()),
                description: text(row, description),
                vendor: text(row, vendor),
                product: text(row, product),
            })
        })
        .collect())
}

/// Reads Exploit-DB references by CVE: the `{"CVE-…": ["<id>", …]}` map, or Exploit-DB's
/// `files_exploits.csv` with its `id` and `codes` columns.
pub fn read_exploitdb(path: &Path) -> Result<BTreeMap<String, Vec<String>>, FeedError> {
    let content = read_all(path).map_err(FeedError::io(path))?;
    let mut exploits: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let first = content.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        let map: BTreeMap<String, Value> =
            serde_json::from_slice(&content).map_err(|error| json_error(path, error))?;
        for (cve, ids) in map {
            let Ok(cve) = parse_cve(&cve) else { continue };
            let ids = array(Some(&ids)).filter_map(|id| match id {
                Value::String(text) => Some(text.trim().to_string()),
                Value::Number(number) => Some(number.to_string()),
                _ => None,
            });
            exploits.entry(cve).or_default().extend(ids);
        }
        return Ok(exploits);
    }
    let rows = csv_rows(path)?;
    let Some((header, rows)) = rows.split_first() else {
        return Ok(exploits);
    };
    let (Some(id), Some(codes)) = (
        header.iter().position(|h| h == "id"),
        header.iter().position(|h| h == "codes"),
    ) else {
        return Ok(exploits);
    };
    for row in rows {
        let (Some(exploit), Some(codes)) = (row.get(id), row.get(codes)) else {
            continue;
        };
        for code in codes.split(';') {
            if let Ok(cve) = parse_cve(code.trim()) {
                exploits
                    .entry(cve)
                    .or_default()
                    .push(exploit.trim().to_string());
            }
        }
    }
    Ok(exploits)
}

/// Reads a two-column CSV that maps CNVD or CNNVD ids to CVE ids, in either column order and
/// with or without a header. Returns `(alias, cve)` pairs with upper-case ids.
pub fn read_vulnerability_aliases(path: &Path) -> Result<Vec<(String, String)>, FeedError> {
    let mut pairs = Vec::new();
    for row in csv_rows(path)? {
        let ids: Vec<String> = row
            .iter()
            .map(|f| f.trim_start_matches('\u{feff}').trim().to_ascii_uppercase())
            .collect();
        let alias = ids.iter().find(|id| is_alias_id(id));
        let cve = ids.iter().find_map(|id| parse_cve(id).ok());
        if let (Some(alias), Some(cve)) = (alias, cve) {
            pairs.push((alias.clone(), cve));
        }
    }
    Ok(pairs)
}

/// Returns whether `id` is a CNVD (`CNVD-2024-12345`) or CNNVD (`CNNVD-202404-1234`) id, in upper case.
pub fn is_alias_id(id: &str) -> bool {
    let Some((prefix, rest)) = id.split_once('-') else {
        return false;
    };
    let Some((period, number)) = rest.split_once('-') else {
        return false;
    };
    let digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    match prefix {
        "CNVD" => period.len() == 4 && digits(period) && digits(number),
        "CNNVD" => period.len() == 6 && digits(period) && digits(number),
        _ => false,
    }
}

/// Returns the fields of every line of a CSV file, without comment lines (`#`).
fn csv_rows(path: &Path) -> Result<Vec<Vec<String>>, FeedError> {
    let reader = open(path).map_err(FeedError::io(path))?;
    let mut rows = Vec::new();
    let mut pending = String::new();
    for line in reader.lines() {
        let line = line.map_err(FeedError::io(path))?;
        if pending.is_empty() && (line.starts_with('#') || line.trim().is_empty()) {
            continue;
        }
        if !pending.is_empty() {
            pending.push('\n');
        }
        pending.push_str(line.trim_end_matches('\r'));
        match split_csv_line(&pending) {
            Ok(fields) => {
                rows.push(fields.into_iter().map(|f| f.into_owned()).collect());
                pending.clear();
            }
            // A quoted field continues on the next line.
            Err(_) => continue,
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests;
