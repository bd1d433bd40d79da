//! Feodo Tracker botnet C2 IP blocklist (CSV).
//!
//! Feed: <https://feodotracker.abuse.ch/blocklist/> (abuse.ch terms): command-and-control servers
//! of Emotet, QakBot, Pikabot and related botnets.
//! Format: a `#` comment block, the header
//! `"first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"`, then one quoted
//! row per server and a closing `# END` comment.
//!
//! Each row becomes a malicious [`ThreatType::C2`] sighting of the address with the malware as
//! family, `port:N` and `status:<c2_status>` labels, first and last seen, and the Feodo Tracker
//! host page as reference. The weight is 0.9 for a server online at the last check, else 0.8.

use tiq_model::indicator::parse_ip;
use tiq_model::{ClaimKind, Sighting, Subject, ThreatType};

use crate::error::FeedError;
use crate::formats::{column_positions, field};
use crate::input::{Head, for_each_csv_record};
use crate::sink::Emitter;
use crate::source::{FeedFile, SourceInfo};
use crate::values::{ValueError, optional_date};

const COLUMNS: [&str; 6] = [
    "first_seen_utc",
    "dst_ip",
    "dst_port",
    "c2_status",
    "last_online",
    "malware",
];

pub(crate) fn matches(head: &Head) -> bool {
    let header = head.data_lines(&['#']).next().unwrap_or("");
    head.has_line_starting(5, "# abuse.ch Feodo Tracker")
        || header.replace('"', "").starts_with("first_seen_utc,dst_ip")
}

pub(crate) fn source() -> SourceInfo {
    SourceInfo::new(
        "feodo-tracker",
        "abuse.ch",
        "Feodo Tracker botnet C2 IP blocklist",
        Some("https://feodotracker.abuse.ch/"),
    )
}

pub(crate) fn parse(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    let mut columns: Option<[usize; 6]> = None;
    for_each_csv_record(file, out, true, |line, fields, out| {
        let Some(positions) = columns else {
            let found = column_positions(fields, COLUMNS).map_err(|missing| {
                FeedError::malformed(
                    &file.path,
                    Some(line),
                    format!("the header has no {missing:?} column"),
                )
            })?;
            columns = Some(found);
            return Ok(());
        };
        match parse_row(fields, positions) {
            Ok(sighting) => out.sighting(line, sighting),
            Err(error) => {
                out.reject(line, error);
                Ok(())
            }
        }
    })
}

fn parse_row(fields: &[&str], positions: [usize; 6]) -> Result<Sighting, ValueError> {
    let [first_seen, address, port, status, last_online, malware] =
        positions.map(|position| field(fields, position, COLUMNS.len()));
    let ip = parse_ip(address?)?;
    let status = status?;
    let weight = if status.eq_ignore_ascii_case("online") {
        0.9
    } else {
        0.8
    };

    let mut sighting = Sighting::new(
        Subject::Ip(ip),
        ClaimKind::Malicious,
        ThreatType::C2,
        weight,
    );
    let port = port?;
    if !port.is_empty() {
        let number: u16 = port
            .parse()
            .map_err(|_| ValueError::field("dst_port", port, "a port number"))?;
        sighting.labels.push(format!("port:{number}"));
    }
    if !status.is_empty() {
        sighting
            .labels
            .push(format!("status:{}", status.to_ascii_lowercase()));
    }
    sighting.family = Some(malware?)
        .filter(|name| !name.is_empty())
        .map(str::to_string);
    sighting.first_seen = optional_date("first_seen_utc", first_seen?)?;
    sighting.last_seen = optional_date("last_online", last_online?)?;
    sighting.reference = Some(format!("https://feodotracker.abuse.ch/browse/host/{ip}/"));
    Ok(sighting)
}
