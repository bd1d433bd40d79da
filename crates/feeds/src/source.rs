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
    /// One MD5, SHA-1 or SHA-256 per line (ESET malware-ioc sample lists).
    HashList,
    /// ESET hashes flattened to `hash<TAB>hash_type<TAB>family_or_campaign`.
    EsetTsv,
    /// ThreatFox MD5 export reduced to `md5<TAB>malpedia id<TAB>name<TAB>alias<TAB>first seen`.
    ThreatfoxMd5,
    /// MISP warninglist JSON (known-benign values).
    MispWarninglist,
    /// MISP event JSON.
    MispEvent,
    /// MaxMind DB (binary, copied rather than streamed).
    MaxMindDb,
    /// IP-to-ASN ranges CSV: `start,end,asn,organization`.
    AsnCsv,
}

impl Format {
    /// Returns the short kebab-case name, also used as the fixture folder name in the tests.
    pub fn name(&self) -> &'static str {
        match self {
            Format::Ipsum => "ipsum",
            Format::IpList => "ip-list",
            Format::SpamhausDrop => "spamhaus-drop-json",
            Format::FeodoCsv => "feodo-csv",
            Format::Maltrail => "maltrail",
            Format::UrlhausCsv => "urlhaus-csv",
            Format::UrlhausDomains => "urlhaus-domains",
            Format::UrlhausAdblock => "urlhaus-adblock",
            Format::PhishtankCsv => "phishtank-csv",
            Format::HashList => "hash-list",
            Format::EsetTsv => "eset-tsv",
            Format::ThreatfoxMd5 => "threatfox-md5",
            Format::MispWarninglist => "misp-warninglist",
            Format::MispEvent => "misp-event",
            Format::MaxMindDb => "maxmind-db",
            Format::AsnCsv => "asn-csv",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
