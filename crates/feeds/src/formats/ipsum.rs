//! IPsum, a daily aggregate of public IP blocklists.
//!
//! Feed: <https://github.com/stamparm/ipsum> (Unlicense), rebuilt daily from more than 30
//! blocklists (blocklist.de, CINS, DShield, GreenSnow, …). Format: a `#` comment header that
//! starts with `# IPsum Threat Intelligence Feed`, then one `address<TAB>count` line per address,
//! where count is the number of blocklists that name the address.
//!
//! Each line becomes a malicious [`ThreatType::Abuse`] sighting with the label `blocklists:N`.
//! The weight grows with N as `0.95 - 0.65 * 0.7^(N-1)`: 0.30 for one list, 0.63 for three,
//! 0.79 for five, 0.90 for eight, approaching 0.95. The levels files of the same repository
//! (`levels/N.txt`) are plain address lists, parsed by [`super::ip_list`] with this weight.

use tiq_model::indicator::parse_ip;
use tiq_model::{ClaimKind, Sighting, Subject, ThreatType};

use crate::error::FeedError;
use crate::input::{Head, for_each_line};
use crate::sink::Emitter;
use crate::source::{FeedFile, SourceInfo};
use crate::values::ValueError;

pub(crate) const PROVIDER: &str = "ipsum";
pub(crate) const HOMEPAGE: &str = "https://github.com/stamparm/ipsum";

pub(crate) fn matches(head: &Head) -> bool {
    head.first_line()
        .starts_with("# IPsum Threat Intelligence Feed")
}

pub(crate) fn source() -> SourceInfo {
    SourceInfo::new(
        "ipsum",
        PROVIDER,
        "IPsum aggregated IP blocklist",
        Some(HOMEPAGE),
    )
}

/// Returns the weight of an address that `lists` blocklists name.
pub(crate) fn weight(lists: u32) -> f32 {
    let exponent = lists.max(1).saturating_sub(1).min(64) as i32;
    0.95 - 0.65 * 0.7f32.powi(exponent)
}

pub(crate) fn parse(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    for_each_line(file, out, |number, line, out| {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return Ok(());
        }
        match parse_entry(line) {
            Ok(sighting) => out.sighting(number, sighting),
            Err(error) => {
                out.reject(number, error);
                Ok(())
            }
        }
    })
}

fn parse_entry(line: &str) -> Result<Sighting, ValueError> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [address, count] = fields[..] else {
        return Err(ValueError::FieldCount {
            expected: 2,
            found: fields.len(),
        });
    };
    let ip = parse_ip(address)?;
    let lists: u32 = match count.parse() {
        Ok(lists) if lists > 0 => lists,
        _ => {
            return Err(ValueError::field(
                "blocklist count",
                count,
                "a positive integer",
            ));
        }
    };
    let mut sighting = Sighting::new(
        Subject::Ip(ip),
        ClaimKind::Malicious,
        ThreatType::Abuse,
        weight(lists),
    );
    sighting.labels.push(format!("blocklists:{lists}"));
    Ok(sighting)
}

#[cfg(test)]
mod tests {
    use super::weight;

    #[test]
    fn weight_grows_with_lists() {
        let expected = [(1, 0.30), (3, 0.63), (5, 0.79), (8, 0.90)];
        for (lists, value) in expected {
            assert!(
                (weight(lists) - value).abs() < 0.01,
                "{lists} lists: {}",
                weight(lists)
            );
        }
        assert!(weight(100) <= 0.95);
    }
}
