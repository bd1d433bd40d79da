//! URLhaus online URL list in adblock syntax, as built by malware-filter's urlhaus-filter.
//!
//! Feed: <https://gitlab.com/malware-filter/urlhaus-filter> (CC0 and MIT, from URLhaus data
//! under CC0), rebuilt twice a day from the URLs that URLhaus lists as online. Format: a `! Title:`
//! comment header that names URLhaus as its source, then one rule per line: a host or a
//! `host/path`, optionally written `||host/path^$options`. Exception rules (`@@`) are skipped.
//!
//! Each rule becomes a malicious [`ThreatType::MalwareDownload`] sighting with weight 0.85: a
//! `host/path` rule an `http://` URL, a bare host a domain or an address.

use tiq_model::{ClaimKind, Sighting, ThreatType};

use crate::error::FeedError;
use crate::formats::header_value;
use crate::formats::urlhaus_domains::names_urlhaus;
use crate::input::{Head, for_each_line};
use crate::sink::Emitter;
use crate::source::{FeedFile, SourceInfo};
use crate::values::parse_trail;

const WEIGHT: f32 = 0.85;

pub(crate) fn matches(head: &Head) -> bool {
    head.first_line().starts_with("! Title:") && names_urlhaus(head, "!")
}

pub(crate) fn source(head: &Head) -> SourceInfo {
    let title = header_value(head, "!", "Title").unwrap_or("URLhaus online malicious URLs");
    let homepage = header_value(head, "!", "Homepage");
    SourceInfo::new("urlhaus-online", "abuse.ch", title, homepage)
}

pub(crate) fn parse(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    for_each_line(file, out, |number, line, out| {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['!', '[']) || line.starts_with("@@") {
            return Ok(());
        }
        match parse_trail(rule_target(line)) {
            Ok(trail) => {
                let sighting = Sighting::new(
                    trail.subject,
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

/// Strips the adblock anchors and options: `||host/path^$all` becomes `host/path`.
fn rule_target(rule: &str) -> &str {
    let rule = rule.trim_start_matches('|');
    let rule = rule.split('$').next().unwrap_or(rule);
    rule.trim_end_matches(['^', '|'])
}

#[cfg(test)]
mod tests {
    use super::rule_target;

    #[test]
    fn rule_target_strips_syntax() {
        assert_eq!(rule_target("||example.com/a.zip^$all"), "example.com/a.zip");
        assert_eq!(rule_target("example.net"), "example.net");
        assert_eq!(rule_target("|example.org/x|"), "example.org/x");
    }
}
