//! One ThreatFox IOC, whether it comes from the CSV or the JSON export, and the sighting it
//! becomes.
//!
//! Feed: abuse.ch ThreatFox <https://threatfox.abuse.ch/> (abuse.ch terms of use), the exports
//! under `/export/csv/` and `/export/json/`.
//!
//! | field | becomes |
//! |---|---|
//! | `ioc_value` by `ioc_type` | `ip:port`: the address with a `port:N` label; `domain`; `url`; `md5_hash`, `sha1_hash`, `sha256_hash`: the hash. Other types are skipped. |
//! | `threat_type` | `botnet_cc`: C2; `payload_delivery`: malware download; `payload` and any other: malware |
//! | `malware_printable` | family, unless `Unknown malware` |
//! | `fk_malware` / `malware` | the Malpedia id (`win.cobalt_strike`) as a label, unless `unknown` |
//! | `malware_alias`, `tags` | one label per comma-separated name |
//! | `first_seen_utc`, `last_seen_utc` | first and last seen |
//! | `confidence_level` (0 to 100) | weight `0.5 + 0.4 × confidence / 100`: 0.9 at 100, 0.8 at 75, 0.7 at 50 |
//! | `ioc_id` | reference `https://threatfox.abuse.ch/ioc/<id>/` |
//!
//! Every IOC is a malicious claim. Source `threatfox` for both exports, provider `abuse.ch`.

use tiq_model::indicator::parse_domain;
use tiq_model::{ClaimKind, Sighting, Subject, ThreatType};

use crate::formats::abuse_csv::known;
use crate::source::SourceInfo;
use crate::values::{ValueError, hash_subject, optional_date, parse_host, url_subject};

const HOMEPAGE: &str = "https://threatfox.abuse.ch/";

/// The fields of one IOC that tiq reads, borrowed from a CSV record or a JSON entry.
#[derive(Debug, Default)]
pub(crate) struct Ioc<'a> {
    pub id: &'a str,
    pub value: &'a str,
    pub ioc_type: &'a str,
    pub threat_type: &'a str,
    pub malpedia_id: &'a str,
    pub aliases: &'a str,
    pub printable: &'a str,
    pub first_seen: &'a str,
    pub last_seen: &'a str,
    pub confidence: &'a str,
    pub tags: &'a str,
}

pub(crate) fn source() -> SourceInfo {
    SourceInfo::new("threatfox", "abuse.ch", "ThreatFox IOCs", Some(HOMEPAGE))
}

/// Returns the sighting of an IOC, or `None` for an IOC type tiq cannot look up.
pub(crate) fn sighting(ioc: &Ioc) -> Result<Option<Sighting>, ValueError> {
    let Some((subject, port)) = subject(ioc.ioc_type, ioc.value)? else {
        return Ok(None);
    };
    let mut sighting = Sighting::new(
        subject,
        ClaimKind::Malicious,
        threat(ioc.threat_type),
        weight(ioc.confidence)?,
    );
    sighting
        .labels
        .extend(port.map(|port| format!("port:{port}")));
    sighting.family = known(ioc.printable)
        .filter(|name| !name.eq_ignore_ascii_case("unknown malware"))
        .map(str::to_string);
    let malpedia_id = known(ioc.malpedia_id).filter(|id| !id.eq_ignore_ascii_case("unknown"));
    sighting.labels.extend(malpedia_id.map(str::to_string));
    sighting.labels.extend(names(ioc.aliases));
    sighting.labels.extend(names(ioc.tags));
    sighting.first_seen = optional_date("first_seen_utc", ioc.first_seen)?;
    sighting.last_seen = optional_date("last_seen_utc", ioc.last_seen)?;
    sighting.reference = known(ioc.id).map(|id| format!("{HOMEPAGE}ioc/{id}/"));
    Ok(Some(sighting))
}

/// Returns the subject and port of a value, or `None` for a type tiq cannot look up.
fn subject(ioc_type: &str, value: &str) -> Result<Option<(Subject, Option<u16>)>, ValueError> {
    let subject = match ioc_type.trim().to_ascii_lowercase().as_str() {
        "ip:port" => {
            let host = parse_host(value)?;
            return Ok(Some((host.subject, host.port)));
        }
        "domain" => Subject::Domain(parse_domain(value)?.name),
        "url" => url_subject(value)?,
        "md5_hash" | "sha1_hash" | "sha256_hash" => hash_subject(value)?,
        _ => return Ok(None),
    };
    Ok(Some((subject, None)))
}

fn threat(threat_type: &str) -> ThreatType {
    match threat_type.trim().to_ascii_lowercase().as_str() {
        "botnet_cc" => ThreatType::C2,
        "payload_delivery" => ThreatType::MalwareDownload,
        _ => ThreatType::Malware,
    }
}

fn weight(confidence: &str) -> Result<f32, ValueError> {
    let invalid = || ValueError::field("confidence_level", confidence, "a number from 0 to 100");
    let level: f32 = confidence.trim().parse().map_err(|_| invalid())?;
    if !(0.0..=100.0).contains(&level) {
        return Err(invalid());
    }
    Ok(0.5 + 0.4 * level / 100.0)
}

/// Splits a comma-separated list of names, leaving out empty entries and placeholders.
fn names(list: &str) -> impl Iterator<Item = String> + '_ {
    list.split(',').filter_map(known).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_follows_confidence() {
        assert!((weight("100").unwrap() - 0.9).abs() < 1e-6);
        assert!((weight("75").unwrap() - 0.8).abs() < 1e-6);
        assert!((weight("0").unwrap() - 0.5).abs() < 1e-6);
        assert!(weight("150").is_err());
        assert!(weight("high").is_err());
    }

    #[test]
    fn threat_types() {
        assert_eq!(threat("botnet_cc"), ThreatType::C2);
        assert_eq!(threat("payload_delivery"), ThreatType::MalwareDownload);
        assert_eq!(threat("payload"), ThreatType::Malware);
        assert_eq!(threat("cc_skimming"), ThreatType::Malware);
    }
}
