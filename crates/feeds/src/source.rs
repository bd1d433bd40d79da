//! The result of [`inspect`](crate::inspect): a file's [`Format`] and the [`SourceInfo`] derived
//! from its content and path.

use std::path::PathBuf;

/// A feed file ready to parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedFile {
    pub path: PathBuf,
    pub format: Format,
    pub source: SourceInfo,
}

/// The logical source a file belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    /// Stable id, unique per logical source (`ipsum`, `maltrail/emotet`, `eset/turla`). Two files
    /// with one name are copies or slices of one source, so importing the second replaces the first.
    pub name: String,
    /// Producer of the data. Sources with one provider are mirrors or slices of one feed and must
    /// not reinforce each other in a verdict.
    pub provider: String,
    /// Human-readable name.
    pub title: String,
    /// Homepage of the feed.
    pub reference: Option<String>,
}

impl SourceInfo {
    pub(crate) fn new(
        name: impl Into<String>,
        provider: impl Into<String>,
        title: impl Into<String>,
        reference: Option<&str>,
    ) -> SourceInfo {
        SourceInfo {
            name: name.into(),
            provider: provider.into(),
            title: title.into(),
            reference: reference.map(str::to_string),
        }
    }
}

/// A feed format, detected from a file's content.
///
/// Most formats are streamed into records by [`parse`](crate::parse). Kept files
/// ([`Format::is_kept_file`]) are checked by [`validate`](crate::validate) and copied whole by
/// the importer, because tiq reads them at lookup time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// IPsum: `address<TAB>number of blocklists`.
    Ipsum,
    /// One address or network per line, whose publisher the path decides.
    IpList,
    /// Spamhaus DROP as JSON Lines with a closing metadata line.
    SpamhausDrop,
    /// Feodo Tracker botnet C2 CSV.
    FeodoCsv,
    /// abuse.ch SSLBL botnet C2 IP blacklist CSV: `Firstseen,DstIP,DstPort`.
    SslblCsv,
    /// Maltrail static trail file.
    Maltrail,
    /// URLhaus URL CSV, in the reduced `tags,url,url_status` or the full database-dump layout.
    UrlhausCsv,
    /// URLhaus malicious domain list with a `# Title:` header.
    UrlhausDomains,
    /// URLhaus online URL list in adblock syntax with a `! Title:` header.
    UrlhausAdblock,
    /// PhishTank CSV.
    PhishtankCsv,
    /// One `http://` or `https://` URL per line (OpenPhish `feed.txt`), whose publisher the path
    /// decides.
    UrlList,
    /// One MD5, SHA-1 or SHA-256 per line (ESET malware-ioc sample lists).
    HashList,
    /// ESET hashes flattened to `hash<TAB>hash_type<TAB>family_or_campaign`.
    EsetTsv,
    /// ThreatFox MD5 export reduced to `md5<TAB>malpedia id<TAB>name<TAB>alias<TAB>first seen`.
    ThreatfoxMd5,
    /// ThreatFox CSV export: quoted fields separated by `, `, with the column line commented.
    ThreatfoxCsv,
    /// ThreatFox JSON export: an object keyed by IOC id.
    ThreatfoxJson,
    /// MalwareBazaar CSV export: quoted fields separated by `, `, with the column line commented.
    MalwareBazaarCsv,
    /// MISP warninglist JSON (known-benign values).
    MispWarninglist,
    /// MISP event JSON.
    MispEvent,
    /// MaxMind DB (binary, kept whole).
    MaxMindDb,
    /// IP-to-ASN ranges CSV: `start,end,asn,organization`.
    AsnCsv,
    /// CISA Known Exploited Vulnerabilities catalog as JSON (kept whole).
    CisaKevJson,
    /// CISA Known Exploited Vulnerabilities catalog as CSV (kept whole).
    CisaKevCsv,
    /// CVE JSON 5 records: one record per file, or JSON Lines of records (kept whole).
    CveJson5,
    /// One CVE id per line (kept whole).
    CveList,
    /// EPSS scores CSV: FIRST's daily `cve,epss,percentile` file or the
    /// `CVE,CVSS3,EPSS,EPSS Percentile,…` table of KEV CVEs (kept whole).
    EpssCsv,
    /// Exploit-DB `files_exploits.csv` (kept whole).
    ExploitDbCsv,
    /// JSON map from CVE id to Exploit-DB ids (kept whole).
    ExploitDbCveMap,
    /// STIX 2.0 or 2.1 bundle, such as MITRE ATT&CK (kept whole).
    StixBundle,
    /// MISP galaxy cluster file: the values of one galaxy (kept whole).
    MispGalaxyCluster,
    /// MISP galaxy definition: the name and namespace of one galaxy (kept whole).
    MispGalaxyDefinition,
    /// Maltrail family aliases table `info<TAB>category<TAB>aliases` (kept whole).
    MaltrailAliases,
    /// Two-column CSV mapping CNVD or CNNVD ids to CVE ids (kept whole).
    VulnerabilityAliases,
}

impl Format {
    /// Every format, in declaration order. The test harness runs one fixture per entry, so a new
    /// variant belongs here too.
    pub const ALL: [Format; 33] = [
        Format::Ipsum,
        Format::IpList,
        Format::SpamhausDrop,
        Format::FeodoCsv,
        Format::SslblCsv,
        Format::Maltrail,
        Format::UrlhausCsv,
        Format::UrlhausDomains,
        Format::UrlhausAdblock,
        Format::PhishtankCsv,
        Format::UrlList,
        Format::HashList,
        Format::EsetTsv,
        Format::ThreatfoxMd5,
        Format::ThreatfoxCsv,
        Format::ThreatfoxJson,
        Format::MalwareBazaarCsv,
        Format::MispWarninglist,
        Format::MispEvent,
        Format::MaxMindDb,
        Format::AsnCsv,
        Format::CisaKevJson,
        Format::CisaKevCsv,
        Format::CveJson5,
        Format::CveList,
        Format::EpssCsv,
        Format::ExploitDbCsv,
        Format::ExploitDbCveMap,
        Format::StixBundle,
        Format::MispGalaxyCluster,
        Format::MispGalaxyDefinition,
        Format::MaltrailAliases,
        Format::VulnerabilityAliases,
    ];

    /// Returns the short kebab-case name, also used as the fixture folder name in the tests.
    pub fn name(&self) -> &'static str {
        match self {
            Format::Ipsum => "ipsum",
            Format::IpList => "ip-list",
            Format::SpamhausDrop => "spamhaus-drop-json",
            Format::FeodoCsv => "feodo-csv",
            Format::SslblCsv => "sslbl-csv",
            Format::Maltrail => "maltrail",
            Format::UrlhausCsv => "urlhaus-csv",
            Format::UrlhausDomains => "urlhaus-domains",
            Format::UrlhausAdblock => "urlhaus-adblock",
            Format::PhishtankCsv => "phishtank-csv",
            Format::UrlList => "url-list",
            Format::HashList => "hash-list",
            Format::EsetTsv => "eset-tsv",
            Format::ThreatfoxMd5 => "threatfox-md5",
            Format::ThreatfoxCsv => "threatfox-csv",
            Format::ThreatfoxJson => "threatfox-json",
            Format::MalwareBazaarCsv => "malwarebazaar-csv",
            Format::MispWarninglist => "misp-warninglist",
            Format::MispEvent => "misp-event",
            Format::MaxMindDb => "maxmind-db",
            Format::AsnCsv => "asn-csv",
            Format::CisaKevJson => "cisa-kev-json",
            Format::CisaKevCsv => "cisa-kev-csv",
            Format::CveJson5 => "cve-json5",
            Format::CveList => "cve-list",
            Format::EpssCsv => "epss-csv",
            Format::ExploitDbCsv => "exploitdb-csv",
            Format::ExploitDbCveMap => "exploitdb-cve-map",
            Format::StixBundle => "stix-bundle",
            Format::MispGalaxyCluster => "misp-galaxy-cluster",
            Format::MispGalaxyDefinition => "misp-galaxy-definition",
            Format::MaltrailAliases => "maltrail-aliases",
            Format::VulnerabilityAliases => "vulnerability-aliases",
        }
    }

    /// Returns whether files of this format are kept whole: the importer checks them with
    /// [`validate`](crate::validate) and copies them into the data directory, and
    /// [`parse`](crate::parse) fails with [`FeedError::NotStreamable`](crate::FeedError).
    pub fn is_kept_file(&self) -> bool {
        match self {
            Format::MaxMindDb
            | Format::CisaKevJson
            | Format::CisaKevCsv
            | Format::CveJson5
            | Format::CveList
            | Format::EpssCsv
            | Format::ExploitDbCsv
            | Format::ExploitDbCveMap
            | Format::StixBundle
            | Format::MispGalaxyCluster
            | Format::MispGalaxyDefinition
            | Format::MaltrailAliases
            | Format::VulnerabilityAliases => true,
            Format::Ipsum
            | Format::IpList
            | Format::SpamhausDrop
            | Format::FeodoCsv
            | Format::SslblCsv
            | Format::Maltrail
            | Format::UrlhausCsv
            | Format::UrlhausDomains
            | Format::UrlhausAdblock
            | Format::PhishtankCsv
            | Format::UrlList
            | Format::HashList
            | Format::EsetTsv
            | Format::ThreatfoxMd5
            | Format::ThreatfoxCsv
            | Format::ThreatfoxJson
            | Format::MalwareBazaarCsv
            | Format::MispWarninglist
            | Format::MispEvent
            | Format::AsnCsv => false,
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_formats_in_declaration_order() {
        // A variant declared between two others and left out of `ALL` shifts the positions.
        for (position, format) in Format::ALL.iter().enumerate() {
            assert_eq!(*format as usize, position, "{format}");
        }
    }

    #[test]
    fn format_names_are_unique() {
        let mut names: Vec<&str> = Format::ALL.iter().map(Format::name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Format::ALL.len());
    }
}
