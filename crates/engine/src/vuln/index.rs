//! Building the vulnerability index from the kept files. CVE JSON 5 records give the text,
//! CVSS, CWE, affected products and references. KEV, EPSS and Exploit-DB add exploitation,
//! and alias tables add CNVD and CNNVD ids. The index is rebuilt whole, in one transaction,
//! when any of those sources changed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tiq_feeds::Format;
use tiq_feeds::vulnerabilities::{self as files, CveRecord, EpssEntry, KevEntry};
use tiq_model::vuln::KevDetails;
use tiq_store::{SourceRow, Store, StoreError, VulnRow};

use super::version::Affected;

/// Changes when the stored JSON changes shape, so an upgrade rebuilds the index.
const INDEX_FORMAT: &str = "3";

/// Source formats the index reads.
const VULN_FORMATS: [Format; 7] = [
    Format::CveJson5,
    Format::CisaKevJson,
    Format::CisaKevCsv,
    Format::EpssCsv,
    Format::ExploitDbCsv,
    Format::ExploitDbCveMap,
    Format::VulnerabilityAliases,
];

/// One CVE as the index stores it (the `data` column).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(super) struct StoredVuln {
    pub id: String,
    pub title: String,
    pub description: String,
    pub published: Option<String>,
    pub updated: Option<String>,
    pub state: Option<String>,
    pub cvss: Option<StoredCvss>,
    pub cwes: Vec<String>,
    pub affected: Vec<Affected>,
    pub references: Vec<(String, Vec<String>)>,
    pub solutions: Vec<String>,
    pub workarounds: Vec<String>,
    pub kev: Option<KevDetails>,
    pub ssvc_exploitation: Option<String>,
    pub ssvc_automatable: Option<String>,
    pub epss: Option<f64>,
    pub epss_percentile: Option<f64>,
    /// Exploit-DB ids.
    pub exploits: Vec<String>,
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct StoredCvss {
    pub version: String,
    pub score: f64,
    pub vector: String,
    pub severity: String,
}

impl StoredVuln {
    pub fn known_exploited(&self) -> bool {
        self.kev.is_some() || self.ssvc_exploitation.as_deref() == Some("active")
    }

    /// Exploit-DB pages and references tagged `exploit`.
    pub fn public_exploits(&self) -> Vec<String> {
        let mut exploits: Vec<String> = self
            .exploits
            .iter()
            .map(|id| format!("https://www.exploit-db.com/exploits/{id}"))
            .collect();
        for (url, tags) in &self.references {
            if tags.iter().any(|t| t == "exploit") && !exploits.contains(url) {
                exploits.push(url.clone());
            }
        }
        exploits
    }
}

/// Severity rank stored for filtering: 0 none or unknown, 1 low, 2 medium, 3 high, 4 critical.
pub(super) fn severity_rank(severity: &str) -> u8 {
    match severity {
        "critical" => 4,
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

/// Rebuilds the vulnerability index when the vulnerability sources changed since it was
/// built. Returns whether it rebuilt. A file that cannot be read is logged and left out.
pub fn ensure_index(store: &mut Store, data_dir: &Path) -> Result<bool, StoreError> {
    let sources: Vec<SourceRow> = store
        .sources()?
        .into_iter()
        .filter(|s| VULN_FORMATS.iter().any(|f| f.name() == s.format))
        .collect();
    let version = std::iter::once(INDEX_FORMAT.to_string())
        .chain(
            sources
                .iter()
                .map(|s| format!("{}@{}#{}", s.name, s.imported_at, s.records)),
        )
        .collect::<Vec<_>>()
        .join("|");
    if store.vuln_index_version()?.as_deref() == Some(version.as_str()) {
        return Ok(false);
    }
    let started = std::time::Instant::now();
    let (vulns, aliases) = read_sources(data_dir, &sources);
    let mut rows: Vec<VulnRow> = vulns.values().map(row_of).collect();
    // Priority order: known exploited first, then EPSS, then CVSS, then the newest id.
    rows.sort_by(|a, b| {
        let key = |r: &VulnRow| (r.exploited, r.epss.unwrap_or(-1.0), r.cvss.unwrap_or(-1.0));
        let (ka, kb) = (key(a), key(b));
        kb.0.cmp(&ka.0)
            .then(kb.1.total_cmp(&ka.1))
            .then(kb.2.total_cmp(&ka.2))
            .then(b.cve.cmp(&a.cve))
    });
    store.replace_vulns(&version, &rows, &aliases)?;
    tracing::info!(
        vulnerabilities = rows.len(),
        aliases = aliases.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "rebuilt the vulnerability index"
    );
    Ok(true)
}

type Aliases = Vec<(String, String)>;

fn read_sources(data_dir: &Path, sources: &[SourceRow]) -> (BTreeMap<String, StoredVuln>, Aliases) {
    let mut records: Vec<(String, CveRecord)> = Vec::new();
    let mut kev: Vec<(String, KevEntry)> = Vec::new();
    let mut epss: Vec<(String, EpssEntry)> = Vec::new();
    let mut exploits: Vec<(String, BTreeMap<String, Vec<String>>)> = Vec::new();
    let mut aliases = Vec::new();
    for source in sources {
        let Some(folder) = &source.file else { continue };
        for path in files_under(&data_dir.join(folder)) {
            let name = source.name.clone();
            let result = match source.format.as_str() {
                f if f == Format::CveJson5.name() => files::read_cve_records(&path, &mut |r| {
                    records.push((name.clone(), r));
                }),
                f if f == Format::CisaKevJson.name() || f == Format::CisaKevCsv.name() => {
                    files::read_kev(&path)
                        .map(|entries| kev.extend(entries.into_iter().map(|e| (name.clone(), e))))
                }
                f if f == Format::EpssCsv.name() => files::read_epss(&path)
                    .map(|entries| epss.extend(entries.into_iter().map(|e| (name.clone(), e)))),
                f if f == Format::VulnerabilityAliases.name() => {
                    files::read_vulnerability_aliases(&path).map(|pairs| aliases.extend(pairs))
                }
                _ => files::read_exploitdb(&path).map(|map| exploits.push((name.clone(), map))),
            };
            if let Err(error) = result {
                tracing::warn!(source = %source.name, %error, "skipped a vulnerability file");
            }
        }
    }

    let mut vulns: BTreeMap<String, StoredVuln> = BTreeMap::new();
    for (source, record) in records {
        let vuln = vulns.entry(record.id.clone()).or_default();
        merge_record(vuln, record);
        add_source(vuln, &source);
    }
    for (source, entry) in kev {
        let vuln = vulns.entry(entry.cve.clone()).or_default();
        merge_kev(vuln, entry);
        add_source(vuln, &source);
    }
    for (source, entry) in epss {
        let vuln = vulns.entry(entry.cve.clone()).or_default();
        merge_epss(vuln, entry);
        add_source(vuln, &source);
    }
    for (source, map) in exploits {
        for (cve, ids) in map {
            let vuln = vulns.entry(cve.clone()).or_default();
            vuln.id = cve;
            for id in ids {
                if !vuln.exploits.contains(&id) {
                    vuln.exploits.push(id);
                }
            }
            add_source(vuln, &source);
        }
    }
    (vulns, aliases)
}

fn add_source(vuln: &mut StoredVuln, source: &str) {
    if !vuln.sources.iter().any(|s| s == source) {
        vuln.sources.push(source.to_string());
    }
}

fn merge_record(vuln: &mut StoredVuln, record: CveRecord) {
    // Two collections may hold one CVE; the most recently updated record wins.
    if vuln.state.is_some() && vuln.updated >= record.updated {
        return;
    }
    vuln.id = record.id;
    vuln.state = Some(record.state);
    vuln.published = record.published;
    vuln.updated = record.updated;
    if let Some(title) = record.title {
        vuln.title = title;
    }
    vuln.description = record.description;
    vuln.cvss = record.cvss.map(|c| StoredCvss {
        version: c.version,
        score: c.score,
        vector: c.vector,
        severity: c.severity,
    });
    for cwe in record.cwes {
        if !vuln.cwes.contains(&cwe) {
            vuln.cwes.push(cwe);
        }
    }
    vuln.affected = record
        .affected
        .into_iter()
        .filter_map(|entry| serde_json::from_value(entry).ok())
        .collect();
    vuln.references = record.references;
    vuln.solutions = record.solutions;
    vuln.workarounds = record.workarounds;
    vuln.ssvc_exploitation = record.ssvc_exploitation;
    vuln.ssvc_automatable = record.ssvc_automatable;
    if vuln.kev.is_none()
        && let Some(date_added) = record.kev_date_added
    {
        vuln.kev = Some(KevDetails {
            date_added,
            due_date: String::new(),
            required_action: String::new(),
            ransomware_use: String::new(),
        });
    }
}

fn merge_kev(vuln: &mut StoredVuln, entry: KevEntry) {
    vuln.id = entry.cve.clone();
    if vuln.title.is_empty() {
        vuln.title = entry.name.clone();
    }
    if vuln.description.is_empty() {
        vuln.description = entry.description.clone();
    }
    if vuln.published.is_none() {
        vuln.published = Some(entry.date_added.clone());
    }
    if vuln.affected.is_empty() && !entry.product.is_empty() {
        vuln.affected.push(Affected {
            vendor: Some(entry.vendor.clone()),
            product: Some(entry.product.clone()),
            ..Affected::default()
        });
    }
    for cwe in &entry.cwes {
        if !vuln.cwes.contains(cwe) {
            vuln.cwes.push(cwe.clone());
        }
    }
    vuln.kev = Some(KevDetails {
        date_added: entry.date_added,
        due_date: entry.due_date,
        required_action: entry.required_action,
        ransomware_use: entry.ransomware_use,
    });
}

fn merge_epss(vuln: &mut StoredVuln, entry: EpssEntry) {
    vuln.id = entry.cve.clone();
    vuln.epss = Some(entry.epss);
    vuln.epss_percentile = Some(entry.percentile);
    if vuln.description.is_empty()
        && let Some(description) = entry.description
    {
        vuln.description = description;
    }
    if vuln.affected.is_empty()
        && let Some(product) = entry.product
    {
        vuln.affected.push(Affected {
            vendor: entry.vendor,
            product: Some(product),
            ..Affected::default()
        });
    }
    if vuln.cvss.is_none()
        && let Some(score) = entry.cvss
    {
        vuln.cvss = Some(StoredCvss {
            version: "3.x".to_string(),
            score,
            vector: String::new(),
            severity: tiq_feeds::vulnerabilities::severity_of(score).to_string(),
        });
    }
}

fn row_of(vuln: &StoredVuln) -> VulnRow {
    let names = |pick: fn(&Affected) -> Option<&String>| {
        let mut names: Vec<&str> = vuln
            .affected
            .iter()
            .filter_map(|a| pick(a).map(String::as_str))
            .collect();
        names.sort();
        names.dedup();
        names.join(" ")
    };
    VulnRow {
        cve: vuln.id.clone(),
        published: vuln.published.clone(),
        cvss: vuln.cvss.as_ref().map(|c| c.score),
        severity: vuln.cvss.as_ref().map_or(0, |c| severity_rank(&c.severity)),
        in_kev: vuln.kev.is_some(),
        exploited: vuln.known_exploited(),
        has_exploit: !vuln.public_exploits().is_empty(),
        epss: vuln.epss,
        data: serde_json::to_string(vuln).expect("a stored vulnerability always serialises"),
        title: vuln.title.clone(),
        description: vuln.description.clone(),
        vendors: names(|a| a.vendor.as_ref()),
        products: names(|a| a.product.as_ref()),
        products_affected: vuln
            .affected
            .iter()
            .map(|a| {
                let name = format!(
                    "{} {}",
                    a.vendor.as_deref().unwrap_or_default(),
                    a.product.as_deref().unwrap_or_default()
                );
                let json = serde_json::to_string(a).expect("an affected entry always serialises");
                (name, json)
            })
            .collect(),
    }
}

/// Files below `folder`, recursively, sorted by path.
fn files_under(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            tracing::warn!(folder = %dir.display(), "cannot read a vulnerability folder");
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}
