//! abuse.ch SSLBL botnet C2 IP blacklist (CSV).
//!
//! Feed: <https://sslbl.abuse.ch/blacklist/> (abuse.ch terms of use): servers that SSLBL saw
//! acting as botnet command-and-control, found through their TLS certificates and
//! fingerprints. Format (`sslipblacklist.csv`): a `#` comment block, the column line
//! `Firstseen,DstIP,DstPort` (commented or not), then one unquoted row per server, such as
//! `2024-05-01 10:00:00,192.0.2.10,443`.
//!
//! Each row becomes a malicious [`ThreatType::C2`] sighting of the address with a `port:N`
//! label, the first-seen time, and weight 0.85. The aggressive variant
//! (`sslipblacklist_aggressive.csv`) is the broader of the two lists and keeps addresses
//! longer, so it is a separate source, `sslbl-aggressive`, with weight 0.6. A file is read as
//! that variant when its name or a header comment says "aggressive".

use std::path::Path;

use tiq_model::indicator::parse_ip;
use tiq_model::{ClaimKind, Sighting, Subject, ThreatType};

use crate::error::FeedError;
use crate::formats::file_stem;
use crate::input::{Head, for_each_line};
use crate::sink::Emitter;
use crate::source::{FeedFile, SourceInfo};
use crate::values::{ValueError, optional_date};

const HOMEPAGE: &str = "https://sslbl.abuse.ch/blacklist/";
const WEIGHT: f32 = 0.85;
const AGGRESSIVE_WEIGHT: f32 = 0.6;

const COLUMN_LINE: &str = "firstseen,dstip,dstport";
const TITLE: &str = "abuse.ch SSLBL Botnet C2 IP Blacklist";

pub(crate) fn matches(head: &Head) -> bool {
    head.lines().take(30).any(|line| {
        let text = line.trim_start_matches(['#', ' ']).trim_end();
        text.eq_ignore_ascii_case(COLUMN_LINE) || text.starts_with(TITLE)
    })
}

fn is_aggressive(path: &Path, head: &Head) -> bool {
    let named = file_stem(path).to_ascii_lowercase().contains("aggressive");
    let titled = head
        .lines()
        .take(30)
        .any(|line| line.starts_with('#') && line.to_ascii_lowercase().contains("aggressive"));
    named || titled
}

pub(crate) fn source(path: &Path, head: &Head) -> SourceInfo {
    match is_aggressive(path, head) {
        false => SourceInfo::new(
            "sslbl",
            "abuse.ch",
            "SSLBL botnet C2 IP blacklist",
            Some(HOMEPAGE),
        ),
        true => SourceInfo::new(
            "sslbl-aggressive",
            "abuse.ch",
            "SSLBL botnet C2 IP blacklist (aggressive)",
            Some(HOMEPAGE),
        ),
    }
}

pub(crate) fn parse(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    let head = Head::read(&file.path).map_err(FeedError::io(&file.path))?;
    let weight = match is_aggressive(&file.path, &head) {
        true => AGGRESSIVE_WEIGHT,
        false => WEIGHT,
    };
    for_each_line(file, out, |number, line, out| {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.eq_ignore_ascii_case(COLUMN_LINE) {
            return Ok(());
        }
        match parse_row(line, weight) {
            Ok(sighting) => out.sighting(number, sighting),
            Err(error) => {
                out.reject(number, error);
                Ok(())
            }
        }
    })
}

fn parse_row(line: &str, weight: f32) -> Result<Sighting, ValueError> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    let [first_seen, address, port] = fields[..] else {
        return Err(ValueError::FieldCount {
            expected: 3,
            found: fields.len(),
        });
    };
    let ip = parse_ip(address)?;
    let port: u16 = port
        .parse()
        .ok()
        .filter(|port| *port > 0)
        .ok_or_else(|| ValueError::field("DstPort", port, "a port number from 1 to 65535"))?;
    let mut sighting = Sighting::new(
        Subject::Ip(ip),
        ClaimKind::Malicious,
        ThreatType::C2,
        weight,
    );
    sighting.labels.push(format!("port:{port}"));
    sighting.first_seen = optional_date("Firstseen", first_seen)?;
    Ok(sighting)
}
