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
//! warninglists) are counted in [`ParseStats::skipped`] instead.
//!
//! | format | source name | provider | records |
//! |---|---|---|---|
//! | [`Format::Ipsum`] | `ipsum` | ipsum | malicious abuse, label `blocklists:N`, weight 0.30 (1 list) to 0.95 |
//! | [`Format::IpList`] | by path: `spamhaus-drop`, `c2-tracker/<file>`, `ipsum-level-N`, `tor-exits`, `ip-list/<file>` | spamhaus, c2-tracker, ipsum, tor-project, the file | see the `ip_list` rules below |
//! | [`Format::SpamhausDrop`] | `spamhaus-drop` (`-v6`) | spamhaus | malicious hijacked network, SBL id label, 0.9 |
//! | [`Format::FeodoCsv`] | `feodo-tracker` | abuse.ch | malicious C2 with family and port, 0.9 online, 0.8 offline |
//! | [`Format::Maltrail`] | `maltrail/<file>` | maltrail | by folder: malware 0.8, malicious 0.75, suspicious 0.4, mass scanners context 0.8 |
//! | [`Format::UrlhausCsv`] | `urlhaus` | abuse.ch | malicious malware-download URL, tags as labels, 0.9 online, 0.7 offline |
//! | [`Format::UrlhausDomains`] | `urlhaus-domains` | abuse.ch | malicious malware-download domain or address, 0.75 |
//! | [`Format::UrlhausAdblock`] | `urlhaus-online` | abuse.ch | malicious malware-download URL, domain or address, 0.85 |
//! | [`Format::PhishtankCsv`] | `phishtank` | phishtank | malicious phishing URL, 0.85 |
//! | [`Format::HashList`] | `eset/<family>` | eset | malicious malware hash, 0.95 (0.7 outside an ESET tree) |
//! | [`Format::EsetTsv`] | `eset` | eset | malicious malware hash, 0.95 |
//! | [`Format::ThreatfoxMd5`] | `threatfox-md5` | abuse.ch | malicious malware hash with Malpedia labels, 0.85 |
//! | [`Format::MispWarninglist`] | `misp-warninglist/<list>` | misp-warninglists | allow-list entries with a category from the list name |
//! | [`Format::MispEvent`] | `misp-event/<uuid>` | the creating organisation | malicious malware or APT indicators, 0.8 (`to_ids`) or 0.7 |
//! | [`Format::MaxMindDb`] | `geo/<file>` | the file | none: the importer copies the file, [`mmdb_info`] reads its metadata |
//! | [`Format::AsnCsv`] | `asn-ipv4`, `asn-ipv6` | ip-location-db | ASN ranges |
//!
//! The module of each format documents the feed, its layout and the exact rules. The
//! `ip_list` rules, in order:
//! - a Spamhaus header, folder or `drop*.txt` name gives malicious hijacked networks (0.9);
//! - C2-Tracker files give malicious C2 with the family from the file name (0.8), or
//!   suspicious offensive tooling for the dual-use red-team tools (0.5);
//! - IPsum level files give malicious abuse with the IPsum weight of their level;
//! - a name with `tor` or `exit` gives Tor exits (context, anonymizer, 0.9);
//! - any other list gives malicious abuse (0.5).

mod detect;
mod error;
mod formats;
mod input;
mod json_shape;
mod sink;
mod source;
mod values;
mod walk;

use std::path::Path;

pub use error::{FeedError, Unsupported, UnsupportedReason};
pub use formats::maxmind::{MmdbInfo, mmdb_info};
pub use sink::{ParseStats, Sink, SinkError};
pub use source::{FeedFile, Format, SourceInfo};
pub use walk::{walk, walk_each};

/// Detects the format from the file's content (not its name) and derives the source.
///
/// Text formats are recognised from the first 64 KiB of decompressed content. A JSON document
/// is read through once, without keeping its values, to see its top-level keys.
pub fn inspect(path: &Path) -> Result<FeedFile, Unsupported> {
    let unsupported = |reason| Unsupported {
        path: path.to_path_buf(),
        reason,
    };
    let head = input::Head::read(path)
        .map_err(|error| unsupported(UnsupportedReason::Unreadable(error)))?;
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
/// events), which are read whole. On an error the sink may already hold part of the file's
/// records. [`Format::MaxMindDb`] fails with [`FeedError::NotStreamable`].
pub fn parse(file: &FeedFile, sink: &mut dyn Sink) -> Result<ParseStats, FeedError> {
    let mut out = sink::Emitter::new(sink, &file.path);
    formats::parse(file, &mut out)?;
    Ok(out.finish())
}
