//! Feed files of tiq: finding them, recognising their format from their content, and parsing
//! them into the records of `tiq-model`.
//!
//! [`walk`] expands paths into files, [`inspect`] detects each file's [`Format`] and derives its
//! [`SourceInfo`], and [`parse`] streams the file line by line through the parser of its format,
//! handing [`Sighting`](tiq_model::Sighting)s, [`AllowEntry`](tiq_model::AllowEntry)s and
//! [`AsnRange`](tiq_model::AsnRange)s to a [`Sink`]. The crate does no database work: the
//! importer implements the sink. Gzip files are read transparently. Every value goes through the
//! canonical parsers of `tiq_model::indicator`, and a line they reject is reported through
//! [`Sink::reject`] with its number while the rest of the file loads. Well-formed entries of a
//! kind tiq cannot store (maltrail URL-path trails, SHA-512 hashes and single-label names in
//! warninglists, ThreatFox IOCs of other types) are counted in [`ParseStats::skipped`] instead.
//!
//! Kept files ([`Format::is_kept_file`]: vulnerability and knowledge files, MaxMind DB files) are
//! not turned into records: the importer checks them with [`validate`] and copies them whole.
//!
//! | format | source name | provider | records |
//! |---|---|---|---|
//! | [`Format::Ipsum`] | `ipsum` | ipsum | malicious abuse, label `blocklists:N`, weight 0.30 (1 list) to 0.95 |
//! | [`Format::IpList`] | by path: `spamhaus-drop`, `c2-tracker/<file>`, `blocklist.de/<list>`, `ipsum-level-N`, `tor-exits`, `ip-list/<file>` | spamhaus, c2-tracker, blocklist.de, ipsum, tor-project, the file | see the `ip_list` rules below |
//! | [`Format::SpamhausDrop`] | `spamhaus-drop` (`-v6`) | spamhaus | malicious hijacked network, SBL id label, 0.9 |
//! | [`Format::FeodoCsv`] | `feodo-tracker` | abuse.ch | malicious C2 with family and port, 0.9 online, 0.8 offline |
//! | [`Format::SslblCsv`] | `sslbl` (`sslbl-aggressive`) | abuse.ch | malicious C2 with port and first seen, 0.85 (0.6) |
//! | [`Format::Maltrail`] | `maltrail/<file>` | maltrail | by folder: malware 0.8, malicious 0.75, suspicious 0.4, mass scanners context 0.8 |
//! | [`Format::UrlhausCsv`] | `urlhaus` | abuse.ch | malicious malware-download URL, tags as labels, 0.9 online, 0.7 offline |
//! | [`Format::UrlhausDomains`] | `urlhaus-domains` | abuse.ch | malicious malware-download domain or address, 0.75 |
//! | [`Format::UrlhausAdblock`] | `urlhaus-online` | abuse.ch | malicious malware-download URL, domain or address, 0.85 |
//! | [`Format::PhishtankCsv`] | `phishtank` | phishtank | malicious phishing URL, 0.85 |
//! | [`Format::UrlList`] | by path: `openphish`, `url-list/<file>` | openphish, the file | malicious phishing URL 0.8, or malicious abuse 0.5 |
//! | [`Format::HashList`] | `eset/<family>` | eset | malicious malware hash, 0.95 (0.7 outside an ESET tree) |
//! | [`Format::EsetTsv`] | `eset` | eset | malicious malware hash, 0.95 |
//! | [`Format::ThreatfoxMd5`] | `threatfox-md5` | abuse.ch | malicious malware hash with Malpedia labels, 0.85 |
//! | [`Format::ThreatfoxCsv`], [`Format::ThreatfoxJson`] | `threatfox` | abuse.ch | malicious C2, malware download or malware by threat type, 0.5 to 0.9 by confidence |
//! | [`Format::MalwareBazaarCsv`] | `malwarebazaar` | abuse.ch | malicious malware SHA-256, MD5 and SHA-1 with the signature as family, 0.9 |
//! | [`Format::MispWarninglist`] | `misp-warninglist/<list>` | misp-warninglists | allow-list entries with a category from the list name |
//! | [`Format::MispEvent`] | `misp-event/<uuid>` | the creating organisation | malicious malware or APT indicators, 0.8 (`to_ids`) or 0.7 |
//! | [`Format::AsnCsv`] | `asn-ipv4`, `asn-ipv6` | ip-location-db | ASN ranges |
//! | [`Format::MaxMindDb`] | `geo/<file>` | the file | kept; [`mmdb_info`] reads its metadata |
//! | [`Format::CisaKevJson`], [`Format::CisaKevCsv`] | `cisa-kev` | cisa | kept; vulnerabilities counted |
//! | [`Format::CveJson5`] | `cve-json5/<folder or file>` | cve-program | kept; CVE records counted |
//! | [`Format::CveList`] | `cve-list/<file>` | the file | kept; CVE ids counted |
//! | [`Format::VulnerabilityAliases`] | `vulnerability-aliases/<file>` | user | kept; CNVD and CNNVD to CVE mappings counted |
//! | [`Format::EpssCsv`] | `epss`, `epss-kev` | first | kept; score rows counted |
//! | [`Format::ExploitDbCsv`], [`Format::ExploitDbCveMap`] | `exploitdb`, `exploitdb-cve-map` | exploit-db | kept; exploits or CVEs counted |
//! | [`Format::StixBundle`] | `mitre-attack/<domain>` or `stix/<file>` | mitre, the file | kept; STIX objects counted |
//! | [`Format::MispGalaxyCluster`], [`Format::MispGalaxyDefinition`] | `misp-galaxy/<type>`, `misp-galaxy-definition/<type>` | misp-galaxy | kept; cluster values counted |
//! | [`Format::MaltrailAliases`] | `maltrail/aliases` | maltrail | kept; alias rows counted |
//!
//! The module of each format documents the feed, its layout and the exact rules. The
//! `ip_list` rules, in order:
//! - a Spamhaus header, folder or `drop*.txt` name gives malicious hijacked networks (0.9);
//! - C2-Tracker files give malicious C2 with the family from the file name (0.8), or
//!   suspicious offensive tooling for the dual-use red-team tools (0.5);
//! - blocklist.de lists give malicious brute force, spam, botnet or abuse by list name (0.6);
//! - IPsum level files give malicious abuse with the IPsum weight of their level;
//! - a name with `tor` or `exit` gives Tor exits (context, anonymizer, 0.9);
//! - any other list gives malicious abuse (0.5).

mod detect;
mod error;
mod formats;
mod input;
mod json_shape;
pub mod knowledge;
mod sink;
mod source;
mod values;
pub mod vulnerabilities;
mod walk;

use std::io;
use std::path::Path;

pub use error::{FeedError, Unsupported, UnsupportedReason};
pub use formats::maxmind::{MmdbInfo, mmdb_info};
pub use sink::{ParseStats, Sink, SinkError};
pub use source::{FeedFile, Format, SourceInfo};
pub use walk::{walk, walk_each};

/// Detects the format from the file's content (not its name) and derives the source.
///
/// Text formats are recognised from the first 64 KiB of decompressed content. A JSON document
/// is read through once, without keeping its values, to see its top-level keys; a STIX bundle
/// is recognised from its first bytes alone.
pub fn inspect(path: &Path) -> Result<FeedFile, Unsupported> {
    let unsupported = |reason| Unsupported {
        path: path.to_path_buf(),
        reason,
    };
    let head = input::Head::read(path).map_err(|error| unsupported(unreadable(error)))?;
    let detected = detect::detect(path, &head).map_err(unsupported)?;
    let source = formats::source(detected.format, path, &head, detected.json.as_ref())
        .map_err(unsupported)?;
    Ok(FeedFile {
        path: path.to_path_buf(),
        format: detected.format,
        source,
    })
}

/// Streams the file through the parser for its format.
///
/// Memory stays bounded by the longest line, except for the JSON formats (MISP warninglists and
/// events, the ThreatFox JSON export), which are read whole. On an error the sink may already
/// hold part of the file's records. Kept files ([`Format::is_kept_file`]) fail with
/// [`FeedError::NotStreamable`].
pub fn parse(file: &FeedFile, sink: &mut dyn Sink) -> Result<ParseStats, FeedError> {
    let mut out = sink::Emitter::new(sink, &file.path);
    formats::parse(file, &mut out).map_err(cut_short)?;
    Ok(out.finish())
}

/// Reads a file through and checks every entry without storing anything.
///
/// For a kept file ([`Format::is_kept_file`]) this is the check the importer runs before it
/// copies the file. [`ParseStats::records`] then counts the entries checked: KEV
/// vulnerabilities, CVE records, EPSS rows, Exploit-DB rows and map entries, STIX objects,
/// galaxy cluster values or alias rows, and one for a galaxy definition. A MaxMind DB is checked
/// by reading its metadata, and its records are not counted. Any other format is parsed and its
/// records dropped.
///
/// A malformed entry is passed to `reject` with its 1-based line, or for a JSON document the
/// line where the entry was found, and the rest of the file is read. A file that cannot be read
/// through (invalid JSON, a document of the wrong shape, a cut-short gzip stream) fails. JSON
/// Lines and CSV files are streamed; JSON documents other than STIX bundles are read whole.
pub fn validate(
    file: &FeedFile,
    reject: &mut dyn FnMut(u64, String),
) -> Result<ParseStats, FeedError> {
    let mut sink = sink::RejectionSink { reject };
    let mut out = sink::Emitter::new(&mut sink, &file.path);
    formats::validate(file, &mut out).map_err(cut_short)?;
    Ok(out.finish())
}

/// Turns the end-of-file error of a gzip stream that stops early into
/// [`FeedError::Incomplete`]. Reading a plain file never reports an unexpected end.
fn cut_short(error: FeedError) -> FeedError {
    match error {
        FeedError::Io { path, source } if source.kind() == io::ErrorKind::UnexpectedEof => {
            FeedError::Incomplete {
                path,
                reason: format!("the compressed data ends early ({source})"),
            }
        }
        other => other,
    }
}

fn unreadable(error: io::Error) -> UnsupportedReason {
    match error.kind() {
        io::ErrorKind::UnexpectedEof => UnsupportedReason::Truncated(error),
        _ => UnsupportedReason::Unreadable(error),
    }
}
