//! URLhaus malicious domain list, as built by malware-filter's urlhaus-filter.
//!
//! Feed: <https://gitlab.com/malware-filter/urlhaus-filter> (CC0 and MIT, from URLhaus data
//! under CC0), rebuilt twice a day from the hosts of URLhaus URLs that are active or were added
//! in the last 90 days, with popular domains removed. Format: a `# Title:` comment header that
//! names URLhaus as its source, then one domain or address per line.
//!
//! Each line becomes a malicious [`ThreatType::MalwareDownload`] sighting of the domain or
//! address with weight 0.75: the host served malware, but other URLs on it may be clean.

use tiq_model::{ClaimKind, Sighting, ThreatType};

use crate::error::FeedError;
use crate::formats::header_value;
use crate::input::{Head, for_each_line};
use crate::sink::Emitter;
use crate::source::{FeedFile, SourceInfo};
use crate::values::parse_host;

const WEIGHT: f32 = 0.75;

pub(crate) fn matches(head: &Head) -> bool {
    head.first_line().starts_with("# Title:") && names_urlhaus(head, "#")
}

/// Returns whether the comment header names URLhaus in its title, homepage or source.
pub(crate) fn names_urlhaus(head: &Head, comment: &str) -> bool {
    ["Title", "Homepage", "Source"].iter().any(|key| {
        header_value(head, comment, key)
            .is_some_and(|value| value.to_ascii_lowercase().contains("urlhaus"))
    })
}

pub(crate) fn source(head: &Head) -> SourceInfo {
    let title = header_value(head, "#", "Title").unwrap_or("URLhaus malicious domains");
    let homepage = header_value(head, "#", "Homepage");
    SourceInfo::new("urlhaus-domains", "abuse.ch", title, homepage)
}

pub(crate) fn parse(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    for_each_line(file, out, |number, line, out| {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return Ok(());
        }
        match parse_host(line) {
            Ok(host) => {
                let sighting = Sighting::new(
                    host.subject,
                    ClaimKind::Malicious,
                    ThreatType::MalwareDownload,
                    WEIGHT,
                );
                out.sighting(number, sighting)
            }
            Err(error) => {
                out.reject(number, error);
                Ok(())
            }
        }
    })
}
