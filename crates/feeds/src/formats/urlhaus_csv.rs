//! URLhaus malware URLs as CSV.
//!
//! Feed: <https://urlhaus.abuse.ch/> (abuse.ch, data under CC0), the `csv_recent` export. Two
//! layouts are read:
//! - the database dump: a `#` comment block whose last line is
//!   `# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter`, then quoted rows;
//! - a reduced copy with the header `tags,url,url_status`.
//!
//! Columns are found by header name, or by the documented order for a dump whose header is a
//! comment. Each row becomes a malicious [`ThreatType::MalwareDownload`] sighting of the URL with
//! its tags as labels and weight 0.9 while the URL is online, 0.7 otherwise. The full layout
//! adds first seen (`dateadded`), last seen (`last_online`) and the URLhaus entry page as
//! reference. The family is the first tag found in [`FAMILY_TAGS`], a list of well-known malware
//! names: URLhaus tags mix families with file types, architectures and campaign names, and only
//! a known name is safe to read as a family.

use tiq_model::{ClaimKind, Sighting, ThreatType};

use crate::error::FeedError;
use crate::formats::field;
use crate::input::{Head, for_each_csv_record};
use crate::sink::Emitter;
use crate::source::{FeedFile, SourceInfo};
use crate::values::{ValueError, optional_date, url_subject};

/// Lower-case URLhaus tags that name a malware family.
const FAMILY_TAGS: &[&str] = &[
    "agenttesla",
    "amadey",
    "asyncrat",
    "bashlite",
    "billgates",
    "bumblebee",
    "cobaltstrike",
    "darkgate",
    "dcrat",
    "dridex",
    "emotet",
    "formbook",
    "gafgyt",
    "guloader",
    "hajime",
    "icedid",
    "latrodectus",
    "lokibot",
    "lumma",
    "lummastealer",
    "mirai",
    "mozi",
    "nanocore",
    "netsupport",
    "njrat",
    "p2pinfect",
    "phantomstealer",
    "pikabot",
    "purelogsstealer",
    "qakbot",
    "qbot",
    "quasarrat",
    "raccoon",
    "redlinestealer",
    "remcos",
    "remcosrat",
    "remusstealer",
    "smokeloader",
    "snakekeylogger",
    "stealc",
    "trickbot",
    "tsunami",
    "valleyrat",
    "vidar",
    "vipkeylogger",
    "xworm",
    "zloader",
];

/// Column order of the database dump, whose header line is a comment.
const DUMP_COLUMNS: [&str; 9] = [
    "id",
    "dateadded",
    "url",
    "url_status",
    "last_online",
    "threat",
    "tags",
    "urlhaus_link",
    "reporter",
];

pub(crate) fn matches(head: &Head) -> bool {
    let header = head
        .data_lines(&['#'])
        .next()
        .unwrap_or("")
        .replace('"', "");
    header == "tags,url,url_status"
        || head.lines().take(20).any(|line| {
            line.trim_start_matches(['#', ' '])
                .starts_with("id,dateadded,url,url_status")
        })
}

pub(crate) fn source() -> SourceInfo {
    SourceInfo::new(
        "urlhaus",
        "abuse.ch",
        "URLhaus malware URLs",
        Some("https://urlhaus.abuse.ch/"),
    )
}

/// Positions of the columns this parser reads.
#[derive(Clone, Copy)]
struct Columns {
    count: usize,
    url: usize,
    tags: Option<usize>,
    status: Option<usize>,
    date_added: Option<usize>,
    last_online: Option<usize>,
    link: Option<usize>,
}

impl Columns {
    /// Reads a header row; `None` when the row is data.
    fn from_header(fields: &[&str]) -> Option<Columns> {
        let find = |name: &str| {
            fields
                .iter()
                .position(|f| f.trim().eq_ignore_ascii_case(name))
        };
        Some(Columns {
            count: fields.len(),
            url: find("url")?,
            tags: find("tags"),
            status: find("url_status"),
            date_added: find("dateadded"),
            last_online: find("last_online"),
            link: find("urlhaus_link"),
        })
    }

    fn dump() -> Columns {
        Columns::from_header(&DUMP_COLUMNS).expect("the dump columns include url")
    }
}

pub(crate) fn parse(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    let mut columns: Option<Columns> = None;
    for_each_csv_record(file, out, true, |line, fields, out| {
        let positions = match columns {
            Some(positions) => positions,
            None => {
                let header = Columns::from_header(fields);
                columns = Some(header.unwrap_or_else(Columns::dump));
                if header.is_some() {
                    return Ok(());
                }
                Columns::dump()
            }
        };
        if fields
            .get(positions.url)
            .is_some_and(|url| is_other_scheme(url))
        {
            // URLhaus also lists ftp:// and tftp:// payload locations, which tiq has no
            // lookup for: they are well formed, so they are skipped rather than rejected.
            out.skip();
            return Ok(());
        }
        match parse_row(fields, positions) {
            Ok(sighting) => out.sighting(line, sighting),
            Err(error) => {
                out.reject(line, error);
                Ok(())
            }
        }
    })
}

/// Returns whether `url` names a scheme other than http or https.
fn is_other_scheme(url: &str) -> bool {
    let Some((scheme, _)) = url.trim().split_once("://") else {
        return false;
    };
    let is_scheme = scheme
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    is_scheme && !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https")
}

fn parse_row(fields: &[&str], columns: Columns) -> Result<Sighting, ValueError> {
    let optional = |position: Option<usize>| -> Result<&str, ValueError> {
        position.map_or(Ok(""), |p| field(fields, p, columns.count))
    };
    let subject = url_subject(field(fields, columns.url, columns.count)?)?;
    let online = optional(columns.status)?.eq_ignore_ascii_case("online");
    let weight = if online { 0.9 } else { 0.7 };

    let mut sighting = Sighting::new(
        subject,
        ClaimKind::Malicious,
        ThreatType::MalwareDownload,
        weight,
    );
    let tags = optional(columns.tags)?;
    sighting.labels = tags
        .split(',')
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
        .map(str::to_string)
        .collect();
    sighting.family = family_tag(&sighting.labels);
    sighting.first_seen = optional_date("dateadded", optional(columns.date_added)?)?;
    sighting.last_seen = optional_date("last_online", optional(columns.last_online)?)?;
    let link = optional(columns.link)?;
    sighting.reference = (!link.is_empty()).then(|| link.to_string());
    Ok(sighting)
}

/// Returns the first tag that is a known malware family, as the feed spells it.
pub(crate) fn family_tag(tags: &[String]) -> Option<String> {
    tags.iter()
        .find(|tag| FAMILY_TAGS.contains(&tag.to_ascii_lowercase().as_str()))
        .cloned()
}
